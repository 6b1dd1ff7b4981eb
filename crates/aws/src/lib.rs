//! AWS wire pieces that both Rheo's server and the code running outside it (the client
//! library, the agent, `rheo bench`) need, kept here so that a client can depend on them
//! without pulling in the server, its storage or an async runtime:
//!
//! - [`sigv4`]: AWS Signature Version 4. One canonical-request / string-to-sign /
//!   signing-key implementation, used to sign (clients) and to verify (the server).
//! - [`credentials_file`]: the AWS shared-credentials file (`[name]` sections of key pairs).
//! - [`event_stream`]: the `application/vnd.amazon.eventstream` framing of
//!   SubscribeToShard responses, one encoder and one decoder.
//! - [`kpl`]: the Kinesis Producer Library's aggregated-record format, both directions.
//! - [`arn`]: the partition rule every service's ARNs follow.
//!
//! Every size this crate accepts from the wire is bounded by a constant in [`limits`].

#![deny(missing_docs)]

pub mod arn;
pub mod credentials_file;
pub mod event_stream;
pub mod kpl;
pub mod limits;
pub mod sigv4;
