-- A MONOTONIC key that goes backwards opens a window below the open ones; a larger key
-- closes every window below it, in ascending key order.
CREATE OR REPLACE STREAM "OUT_STREAM" (k INTEGER, n BIGINT);
CREATE OR REPLACE PUMP "P" AS INSERT INTO "OUT_STREAM"
  SELECT STREAM MONOTONIC("ms"), COUNT(*)
  FROM "SOURCE_SQL_STREAM_001"
  GROUP BY MONOTONIC("ms");
