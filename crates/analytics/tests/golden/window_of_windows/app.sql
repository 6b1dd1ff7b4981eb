-- A 2-second count per referrer feeds a 10-second sum. A 2-second window's rows carry its
-- end as ROWTIME, so the one ending at 10 s falls in the next 10-second window; at a tie
-- the upstream window closes first, so its rows are in before the downstream one closes.
CREATE OR REPLACE STREAM "SHORT_STREAM" (ref VARCHAR(32), n BIGINT);
CREATE OR REPLACE STREAM "LONG_STREAM" (ref VARCHAR(32), windows BIGINT, total BIGINT);
CREATE OR REPLACE PUMP "SHORT_PUMP" AS INSERT INTO "SHORT_STREAM"
  SELECT STREAM "referrer", COUNT(*) FROM "SOURCE_SQL_STREAM_001"
  GROUP BY "referrer", STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '2' SECOND);
CREATE OR REPLACE PUMP "LONG_PUMP" AS INSERT INTO "LONG_STREAM"
  SELECT STREAM ref, COUNT(*), SUM(n) FROM "SHORT_STREAM"
  GROUP BY ref, STEP("SHORT_STREAM".ROWTIME BY INTERVAL '10' SECOND);
