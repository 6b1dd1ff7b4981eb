//! A jq worker process for the firehose crate's tests; the server runs `rheo jq-worker`,
//! which is the same loop (see `rheo_firehose::jq`).

fn main() -> Result<(), rheo_firehose::jq::WorkerError> {
    rheo_firehose::jq::run_worker()
}
