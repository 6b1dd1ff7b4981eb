//! The crate's error type.

/// Why a benchmark could not run or finish.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A command-line value makes no sense.
    #[error("invalid arguments: {0}")]
    Args(String),
    /// The endpoint URL could not be used.
    #[error("invalid endpoint {url:?}: {reason}")]
    Endpoint {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Connecting to the endpoint failed.
    #[error("cannot connect to {address}: {source}")]
    Connect {
        /// host:port.
        address: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP exchange failed (connection reset, protocol error).
    #[error("HTTP error: {0}")]
    Http(#[from] hyper::Error),
    /// TLS setup or handshake failed.
    #[error("TLS error: {0}")]
    Tls(String),
    /// The service answered an operation with an error.
    #[error("{operation} failed with HTTP {status}: {error_type}: {message}")]
    Api {
        /// The operation, e.g. `CreateStream`.
        operation: &'static str,
        /// HTTP status.
        status: u16,
        /// `__type` without its namespace, or `HTTP_<status>`.
        error_type: String,
        /// The service's message.
        message: String,
    },
    /// A response could not be understood.
    #[error("unexpected response to {operation}: {detail}")]
    BadResponse {
        /// The operation.
        operation: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// Something did not happen in time.
    #[error("timed out: {0}")]
    Timeout(String),
    /// Local I/O (spawning a server, writing the output file).
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

impl BenchError {
    /// The AWS error type if this is an API error.
    pub fn error_type(&self) -> Option<&str> {
        match self {
            BenchError::Api { error_type, .. } => Some(error_type),
            _ => None,
        }
    }

    /// A short key for counting this error by kind.
    pub fn kind(&self) -> String {
        match self {
            BenchError::Api { error_type, .. } => error_type.clone(),
            BenchError::Http(_) => "HttpError".into(),
            BenchError::Connect { .. } => "ConnectError".into(),
            BenchError::Tls(_) => "TlsError".into(),
            BenchError::BadResponse { .. } => "BadResponse".into(),
            BenchError::Timeout(_) => "Timeout".into(),
            BenchError::Io(_) => "IoError".into(),
            BenchError::Args(_) | BenchError::Endpoint { .. } => "ClientError".into(),
        }
    }
}

/// Shorthand.
pub type Result<T, E = BenchError> = std::result::Result<T, E>;
