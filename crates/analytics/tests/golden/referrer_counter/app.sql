-- The seed's referrer counter: page views per referrer per 10-second tumbling window.
-- Input columns are declared lower case, so SQL quotes them.
CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (referrer VARCHAR(32), page_views BIGINT);
CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
  SELECT STREAM "referrer", COUNT(*) AS page_views
  FROM "SOURCE_SQL_STREAM_001"
  GROUP BY "referrer", STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '10' SECOND);
