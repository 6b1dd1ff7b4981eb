CREATE OR REPLACE STREAM "OUT_STREAM" (ms INTEGER, quotient INTEGER, doubled INTEGER, negative_division INTEGER);
-- A row that overflows or divides by zero goes to error_stream, naming the pump; the
-- application goes on with the next row.
CREATE OR REPLACE PUMP "DIVIDE_PUMP" AS INSERT INTO "OUT_STREAM"
  SELECT STREAM "ms", 1000 / "ms", "ms" * 2, -7 / "ms" FROM "SOURCE_SQL_STREAM_001";
