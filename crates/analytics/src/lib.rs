//! Kinesis Data Analytics for SQL on Rheo.
//!
//! An application is SQL code over in-application streams: its input (a Kinesis stream
//! or a Firehose delivery stream of the same Rheo, read in-process) is mapped from JSON
//! or CSV records into rows of a named in-application stream; pumps select from streams
//! into other streams, filtering, projecting and aggregating over tumbling windows; and
//! outputs write the rows of named streams to Kinesis streams or Firehose delivery
//! streams. The layers, from the leaves up:
//!
//! - [`value`]: SQL types, values and rows (no dependencies);
//! - [`sql`]: the compiler from application code to an [`plan::AppPlan`];
//! - [`functions`]: the scalar functions, CAST and pattern matching;
//! - [`exec`]: the synchronous, clock-free executor of a plan;
//! - [`mapping`]: records to rows (JSON, CSV) and rows to records;
//! - [`runtime`]: one task per running application (readers, executor, sinks, checkpoints);
//! - [`service`]: the 20 operations of the control plane, durable in a log of their own
//!   ([`state`] what is stored, [`lifecycle`] statuses, [`convert`] stored configuration to
//!   the runtime's [`config::AppConfig`], [`metrics`] gauges).
//!
//! Nothing here speaks HTTP or writes an AWS error text: the server decodes requests into
//! `rheo_protocol::analytics` types, calls [`Analytics`], and maps [`AnalyticsError`].

pub mod config;
pub mod convert;
mod discover;
pub mod error;
pub mod exec;
pub mod functions;
pub mod lifecycle;
pub mod limits;
pub mod mapping;
pub mod metrics;
pub mod plan;
pub mod runtime;
pub mod service;
pub mod sql;
pub mod state;
pub mod value;

pub use error::{AnalyticsError, CodeError, CodeErrorKind, Result};
pub use service::{Analytics, AnalyticsConfig};
