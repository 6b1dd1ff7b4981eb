//! The commands for people: `rheo streams|create|describe|put|tail|delete`, against a
//! local Rheo by default or any Kinesis endpoint (AWS included) with `--endpoint`.
//!
//! Each command builds a single-threaded runtime, makes its calls through `rheo-client`
//! and prints either for a person (aligned tables, colour and progress only on a terminal)
//! or, with `--json`, for a program. A failure is one line on stderr with the AWS error
//! type and message, and exit code 1.

mod output;
pub mod put;
mod streams;
mod tail;

use rheo_client::config::LOCAL_ENDPOINT;
use rheo_client::reader::ReaderError;
use rheo_client::{ClientConfig, ClientError, Kinesis, SystemEnvironment};
use rheo_protocol::Timestamp;

pub use streams::{create, delete, describe, streams, CreateArgs, DeleteArgs, DescribeArgs, StreamsArgs};
pub use tail::{tail, TailArgs};

/// Where the commands connect, shared by every command for people.
#[derive(clap::Args, Clone, Debug)]
pub struct Connection {
    /// The endpoint (Rheo or AWS). Default: the local Rheo, http://127.0.0.1:4567.
    #[arg(long, env = "RHEO_ENDPOINT")]
    pub endpoint: Option<String>,
    /// The profile of the AWS shared credentials and config files.
    #[arg(long)]
    pub profile: Option<String>,
}

impl Connection {
    /// Endpoint, region and credentials: the flags, then the environment and the AWS
    /// files, the way the AWS CLI finds them.
    pub fn client_config(&self) -> anyhow::Result<ClientConfig> {
        let endpoint = self.endpoint.as_deref().unwrap_or(LOCAL_ENDPOINT);
        Ok(ClientConfig::resolve(Some(endpoint), self.profile.as_deref(), &SystemEnvironment)?)
    }

    /// A Kinesis client speaking JSON (control-plane calls).
    fn kinesis(&self) -> anyhow::Result<Kinesis> {
        Ok(Kinesis::new(&self.client_config()?)?)
    }
}

/// A runtime for one command: the commands make a handful of calls at a time.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

/// Ends a command: on failure prints one line (`error: ResourceNotFoundException: Stream
/// x ... not found.`) and exits with code 1.
pub fn finish(result: anyhow::Result<()>) -> anyhow::Result<()> {
    let Err(error) = result else { return Ok(()) };
    // `tail` fails with the reader's error, which wraps the service's.
    let client_error = error.downcast_ref::<ClientError>().or_else(|| match error.downcast_ref::<ReaderError>() {
        Some(ReaderError::Client(e)) => Some(e),
        _ => None,
    });
    let line = match client_error {
        Some(ClientError::Api { error_type, message, .. }) => format!("{error_type}: {message}"),
        _ => format!("{error:#}"),
    };
    let style = output::Style::stderr();
    eprintln!("{} {}", style.paint(output::Paint::Red, "error:"), line.replace(['\n', '\r'], " "));
    std::process::exit(1)
}

/// RFC 3339 in UTC with milliseconds (`2024-05-01T12:00:00.250Z`).
fn rfc3339(at: Timestamp) -> String {
    match u64::try_from(at.epoch_millis()) {
        Ok(millis) => {
            humantime::format_rfc3339_millis(std::time::UNIX_EPOCH + std::time::Duration::from_millis(millis))
                .to_string()
        }
        Err(_) => format!("{}ms", at.epoch_millis()),
    }
}
