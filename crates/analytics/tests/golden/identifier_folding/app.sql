-- Unquoted names fold to upper case: out_stream is OUT_STREAM; quoted names keep their case.
create or replace stream out_stream (Ref varchar(32), "lower" integer);
create or replace pump p as insert into OUT_STREAM
  select stream "referrer", "ms" from source_sql_stream_001;
