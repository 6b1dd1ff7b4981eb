//! What the AWS SDK for Rust suites share: a real `rheo serve` process on a free port with
//! a temporary data folder, a client pointed at it, and waiting for a stream to be ACTIVE.

#![allow(dead_code)] // each suite uses its own subset

pub mod streams;

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_kinesis::config::retry::RetryConfig;
use aws_sdk_kinesis::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_kinesis::types::StreamStatus;
use aws_sdk_kinesis::Client;

pub const REGION: &str = "us-east-1";

/// The server under test; killed (and its log printed if the test failed) on drop.
pub struct Server {
    child: Child,
    pub endpoint: String,
    log: PathBuf,
    _root: Option<tempfile::TempDir>,
}

impl Server {
    /// Starts `rheo serve` with short lifecycle delays and `extra` flags.
    pub fn start(extra: &[&str]) -> Server {
        let root = tempfile::Builder::new().prefix("rheo-e2e-rust-").tempdir().expect("temp dir");
        let data = root.path().join("data");
        let log = root.path().join("server.log");
        Self::spawn(&data, &log, extra, Some(root)).unwrap_or_else(|failure| panic!("{failure}"))
    }

    /// Starts `rheo serve` on the data folder `data` (which outlives the server, for
    /// restart tests), its output appended to `log`.
    pub fn start_in(data: &Path, log: &Path, extra: &[&str]) -> Server {
        Self::spawn(data, log, extra, None).unwrap_or_else(|failure| panic!("{failure}"))
    }

    /// Like [`Server::start_in`], but a server that exits instead of listening is an
    /// answer, not a failure: its log is returned.
    pub fn try_start_in(data: &Path, log: &Path, extra: &[&str]) -> Result<Server, String> {
        Self::spawn(data, log, extra, None)
    }

    fn spawn(data: &Path, log: &Path, extra: &[&str], root: Option<tempfile::TempDir>) -> Result<Server, String> {
        let bin = env!("CARGO_BIN_EXE_rheo");
        let mut failure = String::new();
        // A port found free can be taken before the server binds it; try again then.
        'attempts: for _attempt in 0..3 {
            let port = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
            let out = File::options().create(true).append(true).open(log).expect("log file");
            let written_before = out.metadata().expect("log file").len();
            let mut child = Command::new(bin)
                .arg("serve")
                .args(["--listen", &format!("127.0.0.1:{port}")])
                .arg("--data-dir")
                .arg(data)
                .args(["--create-stream-ms", "50", "--delete-stream-ms", "50", "--update-stream-ms", "50"])
                .args(extra)
                .env("NO_COLOR", "1")
                // A start-up error reads as its message, not a backtrace.
                .env("RUST_BACKTRACE", "0")
                .stdin(Stdio::null())
                .stdout(out.try_clone().expect("log file"))
                .stderr(out)
                .spawn()
                .expect("spawn rheo");
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if let Ok(Some(status)) = child.try_wait() {
                    // This attempt's own output: the log file may hold earlier servers' too.
                    let output = std::fs::read(log).unwrap_or_default();
                    let output = String::from_utf8_lossy(output.get(written_before as usize..).unwrap_or_default());
                    failure = format!("rheo serve exited with {status}; its output:\n{output}");
                    // Another process took the port between our probe and its bind: try another.
                    if output.contains("Address already in use") {
                        continue 'attempts;
                    }
                    return Err(failure);
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Ok(Server {
                        child,
                        endpoint: format!("http://127.0.0.1:{port}"),
                        log: log.to_path_buf(),
                        _root: root,
                    });
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    failure = "rheo serve did not accept connections within 30 s".to_owned();
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Err(format!("{failure}; log:\n{}", tail(log)))
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the server with SIGKILL, as a crash or `kill -9` would, and waits for it.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The server's output so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A client with dummy credentials, plain HTTP and no retries (so errors surface).
    pub fn client(&self) -> Client {
        let conf = aws_sdk_kinesis::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .endpoint_url(&self.endpoint)
            .credentials_provider(Credentials::new("AKIDLOCAL", "local-secret", None, None, "static"))
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .retry_config(RetryConfig::disabled())
            .build();
        Client::from_conf(conf)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("---- rheo server log ({}) ----\n{}", self.log.display(), tail(&self.log));
        }
    }
}

pub fn tail(path: &Path) -> String {
    let Ok(file) = File::open(path) else { return "(no log)".to_owned() };
    let lines: Vec<String> = BufReader::new(file).lines().map_while(Result::ok).collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// Polls DescribeStreamSummary (the SDK's waiter waits at least 10 s).
pub async fn wait_active(kin: &Client, stream: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let out = kin.describe_stream_summary().stream_name(stream).send().await.expect("DescribeStreamSummary");
        if out.stream_description_summary().expect("summary").stream_status() == &StreamStatus::Active {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{stream} did not become ACTIVE");
}
