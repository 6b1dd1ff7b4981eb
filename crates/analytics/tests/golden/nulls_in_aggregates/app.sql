CREATE OR REPLACE STREAM "OUT_STREAM" (ref VARCHAR(32), all_rows BIGINT, ms_count BIGINT, total INTEGER, mean INTEGER, lowest INTEGER, highest INTEGER);
-- NULL arguments are skipped; aggregates of only NULLs are NULL, COUNT of none is 0; NULL
-- referrers make one group.
CREATE OR REPLACE PUMP "P" AS INSERT INTO "OUT_STREAM"
  SELECT STREAM "referrer", COUNT(*), COUNT("ms"), SUM("ms"), AVG("ms"), MIN("ms"), MAX("ms")
  FROM "SOURCE_SQL_STREAM_001"
  GROUP BY "referrer", STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '10' SECOND);
