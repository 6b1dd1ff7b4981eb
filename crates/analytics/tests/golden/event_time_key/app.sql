-- Two windows: ROWTIME's 10-second STEP closes the window; the event-time minute is an
-- ordinary group key within it.
CREATE OR REPLACE STREAM "OUT_STREAM" (event_minute TIMESTAMP, ref VARCHAR(32), n BIGINT);
CREATE OR REPLACE PUMP "P" AS INSERT INTO "OUT_STREAM"
  SELECT STREAM FLOOR("event_ts" TO MINUTE), "referrer", COUNT(*)
  FROM "SOURCE_SQL_STREAM_001"
  GROUP BY "referrer", FLOOR("event_ts" TO MINUTE), STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '10' SECOND);
