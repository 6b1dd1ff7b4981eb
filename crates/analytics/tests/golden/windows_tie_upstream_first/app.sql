-- Counts per ROWTIME (a group closes once time passes its key) summed per 10 seconds, the
-- downstream pump written first. The group of ROWTIME 9.999 s and the 10-second window
-- [0 s, 10 s) both close at 10 s: the upstream one closes first, so its row is counted in
-- the window instead of reopening it after it closed.
CREATE OR REPLACE STREAM "PER_MS_STREAM" (ref VARCHAR(32), n BIGINT);
CREATE OR REPLACE STREAM "LONG_STREAM" (ref VARCHAR(32), groups BIGINT, total BIGINT);
CREATE OR REPLACE PUMP "LONG_PUMP" AS INSERT INTO "LONG_STREAM"
  SELECT STREAM ref, COUNT(*), SUM(n) FROM "PER_MS_STREAM"
  GROUP BY ref, STEP("PER_MS_STREAM".ROWTIME BY INTERVAL '10' SECOND);
CREATE OR REPLACE PUMP "PER_MS_PUMP" AS INSERT INTO "PER_MS_STREAM"
  SELECT STREAM "referrer", COUNT(*) FROM "SOURCE_SQL_STREAM_001"
  GROUP BY "referrer", "SOURCE_SQL_STREAM_001".ROWTIME;
