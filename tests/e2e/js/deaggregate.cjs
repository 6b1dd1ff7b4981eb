// De-aggregates Kinesis records with npm aws-kinesis-agg (deaggregateSync, checksums on),
// for tests/e2e/test_producer.py: reads a JSON array of {partitionKey, sequenceNumber,
// data (base64)} on stdin, writes the user records as a JSON array on stdout.
"use strict";
const { deaggregateSync } = require("aws-kinesis-agg");

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const users = [];
  for (const record of JSON.parse(input)) {
    deaggregateSync(record, true, (err, userRecords) => {
      if (err) {
        throw err;
      }
      for (const user of userRecords) {
        users.push({
          partitionKey: user.partitionKey,
          sequenceNumber: user.sequenceNumber,
          subSequenceNumber: user.subSequenceNumber,
          data: user.data,
        });
      }
    });
  }
  process.stdout.write(JSON.stringify(users));
});
