//! The `rheo serve` process itself: it raises its soft open-file limit to the hard limit,
//! logs without ANSI colours when stderr is not a terminal, reports connections in
//! `/metrics`, and documents `RHEO_LOG` and the connection flags in `--help`.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The soft limit the server is started with, below any hard limit worth testing.
const SOFT_LIMIT_AT_START: u64 = 256;

/// `(soft, hard)` of "Max open files" in `/proc/<pid>/limits`.
fn open_file_limits(pid: u32) -> (u64, u64) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).expect("read /proc/<pid>/limits");
    let line = limits.lines().find(|line| line.starts_with("Max open files")).expect("a Max open files line");
    let fields: Vec<&str> = line.split_whitespace().collect();
    // "Max open files  <soft>  <hard>  files"
    let parse = |field: &str| if field == "unlimited" { u64::MAX } else { field.parse().expect("a number") };
    (parse(fields[3]), parse(fields[4]))
}

fn get(port: u16, path: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    write!(stream, "GET {path} HTTP/1.1\r\nHost: rheo\r\nConnection: close\r\n\r\n").expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    answer
}

#[cfg(target_os = "linux")]
#[test]
fn serve_raises_the_open_file_limit_and_logs_plainly_off_a_terminal() {
    let bin = env!("CARGO_BIN_EXE_rheo");
    let root = tempfile::Builder::new().prefix("rheo-process-").tempdir().expect("temp dir");
    let log = root.path().join("server.log");
    let port = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    // Lower the soft limit in a shell, then exec the server in its place (same pid).
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -S -n {SOFT_LIMIT_AT_START} && exec \"$0\" \"$@\""))
        .arg(bin)
        .args(["serve", "--in-memory", "--listen", &format!("127.0.0.1:{port}")])
        .env_remove("NO_COLOR")
        .env("RHEO_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("spawn rheo");
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(child.try_wait().expect("wait").is_none(), "rheo serve exited");
        assert!(Instant::now() < deadline, "rheo serve did not listen within 30 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    let (soft, hard) = open_file_limits(child.id());
    let metrics = get(port, "/metrics");
    let _ = child.kill();
    let _ = child.wait();
    let log = std::fs::read_to_string(&log).expect("read the log");

    assert!(hard <= SOFT_LIMIT_AT_START || soft > SOFT_LIMIT_AT_START, "soft limit not raised: {soft} (hard {hard})");
    if hard != u64::MAX {
        assert_eq!(soft, hard, "the soft limit is raised to the hard limit");
    }
    assert!(log.contains("Raised the open-file limit.") || hard <= SOFT_LIMIT_AT_START, "{log}");
    assert!(log.contains("max_connections="), "{log}");
    assert!(!log.contains('\u{1b}'), "ANSI escapes in a log written to a file:\n{log}");
    // At least the /metrics connection itself (the readiness probes may not be closed yet).
    let open = metrics.lines().find_map(|line| line.strip_prefix("rheo_connections_open ")).map(str::parse::<u64>);
    assert!(matches!(open, Some(Ok(n)) if n >= 1), "{metrics}");
    assert!(metrics.contains("rheo_connections_timed_out_total{timeout=\"header_read\"} 0"), "{metrics}");
}

#[test]
fn serve_help_documents_rheo_log_and_the_connection_flags() {
    let output =
        Command::new(env!("CARGO_BIN_EXE_rheo")).args(["serve", "--help"]).output().expect("run rheo serve --help");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for expected in [
        "RHEO_LOG",
        "--header-read-timeout-ms",
        "RHEO_HEADER_READ_TIMEOUT_MS",
        "--idle-timeout-ms",
        "--body-read-timeout-ms",
        "--max-connections",
        "RHEO_MAX_CONNECTIONS",
    ] {
        assert!(help.contains(expected), "{expected} missing from rheo serve --help:\n{help}");
    }
}
