--fail=UnknownColumn
CREATE OR REPLACE STREAM "OUT_STREAM" (ref VARCHAR(32));
-- referrer is declared lower case: unquoted, it folds to REFERRER, which does not exist.
CREATE OR REPLACE PUMP "P" AS INSERT INTO "OUT_STREAM"
  SELECT STREAM referrer FROM "SOURCE_SQL_STREAM_001";
