CREATE OR REPLACE STREAM "OUT_STREAM" (ref VARCHAR(32), n BIGINT);
-- Windows with no rows, and windows whose rows were all filtered out, emit nothing.
CREATE OR REPLACE PUMP "P" AS INSERT INTO "OUT_STREAM"
  SELECT STREAM "referrer", COUNT(*)
  FROM "SOURCE_SQL_STREAM_001"
  WHERE "ms" > 0
  GROUP BY "referrer", STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '1' SECOND);
