//! Destinations: object storage, HTTP endpoints and PostgreSQL-wire databases. Each
//! is I/O at the edge of the delivery task; retries and error outputs are decided by
//! [`crate::deliver`], except the HTTP protocol's own retry loop.

pub mod http;
pub mod redshift;
pub mod s3;

/// A destination write failed.
#[derive(Debug, thiserror::Error)]
pub enum DestError {
    /// The object store refused or failed.
    #[error("object store: {0}")]
    ObjectStore(#[from] object_store::Error),
    /// The object store configuration is unusable.
    #[error("object store configuration: {0}")]
    Config(String),
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    Http(String),
    /// The database refused or failed.
    #[error("database: {0}")]
    Database(String),
}
