//! Amazon Data Firehose semantics over Rheo's storage.
//!
//! Producers put records into a delivery stream; each accepted record is first made
//! durable in a log of Firehose's own (a one-shard stream of [`rheo_storage::ShardLog`]),
//! then a delivery task per stream reads it back, processes it, buffers by size and
//! time, compresses and delivers to the destination, and only then moves the stream's
//! delivered checkpoint. Nothing here speaks the Firehose wire protocol's HTTP side:
//! the server decodes requests into `rheo_protocol::firehose` types and calls
//! [`Firehose`].

pub mod channel;
pub mod compress;
pub mod config;
pub mod deliver;
pub mod dest;
pub mod error;
pub mod jq;
pub mod limits;
pub mod merge;
pub mod metrics;
pub mod prefix;
pub mod process;
pub mod service;
pub mod source;
pub mod state;
mod stream;
pub mod tap;

pub use error::{FirehoseError, Result};
pub use service::Firehose;
pub use stream::FirehoseConfig;

/// Data several modules' tests share.
#[cfg(test)]
pub(crate) mod test_data {
    use std::collections::BTreeMap;

    /// The partition keys of the developer guide's dynamic-partitioning example (§3.7 of
    /// the reference): what its jq query extracts and what its prefix consumes.
    pub(crate) fn worked_example_keys() -> BTreeMap<String, String> {
        [
            ("customer_id", "1234567890"),
            ("device", "mobile"),
            ("year", "2019"),
            ("month", "08"),
            ("day", "09"),
            ("hour", "20"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }
}
