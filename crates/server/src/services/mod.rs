//! The AWS services Rheo serves, one [`crate::router::Service`] each. Kinesis is always
//! registered (the server is built around its engine); Firehose and Analytics when the
//! binary runs them.

pub mod analytics;
pub mod firehose;
pub mod kinesis;

pub use analytics::AnalyticsService;
pub use firehose::FirehoseService;
pub use kinesis::KinesisService;
