CREATE OR REPLACE STREAM "OUT_STREAM" (ref VARCHAR(32), is_dot_com BOOLEAN, similar_ab BOOLEAN, in_list BOOLEAN, between_ms BOOLEAN, escaped BOOLEAN);
CREATE OR REPLACE PUMP "P" AS INSERT INTO "OUT_STREAM"
  SELECT STREAM "referrer",
    "referrer" LIKE '%.com',
    "referrer" SIMILAR TO '(a|b)%',
    "referrer" IN ('a.com', 'c.org'),
    "ms" BETWEEN 10 AND 20,
    "page" LIKE '%!_%' ESCAPE '!'
  FROM "SOURCE_SQL_STREAM_001";
