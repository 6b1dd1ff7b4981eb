/* A block comment
   over several lines */
CREATE OR REPLACE STREAM "OUT_STREAM" (ref VARCHAR(32)); -- a line comment
CREATE OR REPLACE PUMP "P" /* inline */ AS INSERT INTO "OUT_STREAM"
  -- SELECT STREAM "page" FROM "SOURCE_SQL_STREAM_001";
  SELECT STREAM "referrer" FROM "SOURCE_SQL_STREAM_001";
