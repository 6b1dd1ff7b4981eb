-- A DOUBLE stored into INTEGER and DECIMAL columns takes CAST's rule (toward zero for
-- integers, rounded digits for DECIMAL); out of range is an error row. CHAR(n) is padded.
CREATE OR REPLACE STREAM "OUT_STREAM" (p INTEGER, q DECIMAL(8,2), r REAL, c CHAR(4), k INTEGER);
CREATE OR REPLACE PUMP "P" AS INSERT INTO "OUT_STREAM"
  SELECT STREAM "d", "d", "d", "s", "dec" FROM "SOURCE_SQL_STREAM_001";
