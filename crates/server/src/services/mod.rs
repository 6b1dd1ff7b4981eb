//! The AWS services Rheo serves, one [`crate::router::Service`] each. Kinesis is always
//! registered (the server is built around its engine); Firehose when the binary runs it.

pub mod firehose;
pub mod kinesis;

pub use firehose::FirehoseService;
pub use kinesis::KinesisService;
