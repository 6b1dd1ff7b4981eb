//! Destinations: object storage, HTTP endpoints and PostgreSQL.
//!
//! Each submodule delivers one finished, already compressed batch; buffering, retries
//! against S3 and error-prefix backups belong to the delivery task that calls them.

pub mod http;
pub mod redshift;
pub mod s3;

pub use http::{HttpClient, HttpDelivery, HttpEndpoint};
pub use redshift::{copy_object, parse_jdbc_url, CopyTarget};
pub use s3::{ObjectStoreConfig, ObjectStores};

/// Why a delivery to a destination failed.
#[derive(Debug, thiserror::Error)]
pub enum DestError {
    /// The destination's configuration cannot work (bad bucket name, JDBC URL, ...).
    #[error("invalid destination configuration: {0}")]
    Config(String),
    /// Object storage refused or failed the request.
    #[error("object storage: {0}")]
    ObjectStore(#[from] object_store::Error),
    /// The HTTP client could not be built.
    #[error("http client: {0}")]
    Http(String),
    /// The Redshift `CopyOptions` ask for something this loader does not do.
    #[error("unsupported COPY options: {0}")]
    CopyOptions(String),
    /// The object to load does not parse in the format the `CopyOptions` name.
    #[error("cannot read the object to load: {0}")]
    Data(String),
    /// The database refused the connection or a statement.
    #[error("database: {0}")]
    Database(String),
}

impl From<tokio_postgres::Error> for DestError {
    fn from(e: tokio_postgres::Error) -> Self {
        // The plain Display of a server error is only "db error"; the server's message,
        // detail and SQLSTATE are what an operator needs to fix the table or the options.
        match e.as_db_error() {
            Some(db) => {
                let mut text = format!("{}: {}", db.code().code(), db.message());
                if let Some(detail) = db.detail() {
                    text.push_str(" (");
                    text.push_str(detail);
                    text.push(')');
                }
                DestError::Database(text)
            }
            None => DestError::Database(e.to_string()),
        }
    }
}
