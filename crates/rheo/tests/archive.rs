//! `rheo serve --archive`: the binary opens a folder archive for the streams log, shows
//! the archive's series on `/metrics`, and refuses archive flags that would do nothing
//! or contradict each other, with a message naming the flag.

mod common;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use aws_sdk_kinesis::primitives::Blob;
use common::{wait_active, Server};

fn metrics(server: &Server) -> String {
    let address = server.endpoint.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    write!(stream, "GET /metrics HTTP/1.1\r\nHost: rheo\r\nConnection: close\r\n\r\n").expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_archive_serves_and_shows_its_series_on_metrics() {
    let root = tempfile::Builder::new().prefix("rheo-archive-").tempdir().expect("temp dir");
    let archive = root.path().join("archive");
    let url = format!("file://{}", archive.display());
    std::fs::create_dir(&archive).expect("archive folder");
    let server = Server::start(&["--archive", &url, "--segment-bytes", "4096", "--local-retention-bytes", "1048576"]);

    let kin = server.client();
    kin.create_stream().stream_name("tiered").shard_count(1).send().await.expect("CreateStream");
    wait_active(&kin, "tiered").await;
    for i in 0..20 {
        let data = Blob::new(format!("record {i} {}", "x".repeat(500)));
        kin.put_record().stream_name("tiered").partition_key("k").data(data).send().await.expect("PutRecord");
    }

    let text = metrics(&server);
    for line in [
        "# TYPE rheo_archive_uploaded_segments_total counter",
        "rheo_archive_enabled{log=\"streams\"} 1",
        "rheo_archive_writes_refused{log=\"streams\"} 0",
        "# TYPE rheo_archive_upload_seconds histogram",
        "rheo_archive_upload_seconds_bucket{log=\"streams\",le=\"+Inf\"}",
        "rheo_archive_backlog_bytes{log=\"streams\"}",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    // Only the streams log is archived.
    let other_logs = text.lines().filter(|l| l.starts_with("rheo_archive_") && !l.contains("log=\"streams\""));
    assert_eq!(other_logs.count(), 0, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zero_local_retention_budget_still_accepts_writes() {
    // The default hard limit is 4 x the budget, but never below two segments: with a
    // budget of 0 it must not refuse every append.
    let root = tempfile::Builder::new().prefix("rheo-archive-zero-").tempdir().expect("temp dir");
    let archive = root.path().join("archive");
    std::fs::create_dir(&archive).expect("archive folder");
    let url = format!("file://{}", archive.display());
    let server = Server::start(&["--archive", &url, "--segment-bytes", "4096", "--local-retention-bytes", "0"]);
    let kin = server.client();
    kin.create_stream().stream_name("budgetless").shard_count(1).send().await.expect("CreateStream");
    wait_active(&kin, "budgetless").await;
    for i in 0..4 {
        let data = Blob::new(format!("record {i} {}", "x".repeat(100)));
        kin.put_record().stream_name("budgetless").partition_key("k").data(data).send().await.expect("PutRecord");
    }
}

#[test]
fn without_archive_metrics_show_no_archive_series() {
    let server = Server::start(&[]);
    let text = metrics(&server);
    assert!(text.contains("rheo_log_commits_total"), "{text}");
    assert!(!text.contains("rheo_archive_"), "{text}");
}

#[test]
fn contradicting_or_useless_archive_flags_are_refused() {
    let root = tempfile::Builder::new().prefix("rheo-archive-flags-").tempdir().expect("temp dir");
    let data = root.path().join("data");
    let folder = format!("file://{}", root.path().join("archive").display());
    let inside = format!("file://{}", data.join("archive").display());
    // A folder of the data folder spelled through a symbolic link (the URL parser already
    // refuses `..`).
    std::fs::create_dir_all(data.join("archive")).expect("folder inside the data folder");
    std::os::unix::fs::symlink(&data, root.path().join("link")).expect("symlink");
    let via_link = format!("file://{}", root.path().join("link").join("archive").display());
    let missing = format!("file://{}", root.path().join("unmounted").display());
    let cases: [(&[&str], &str); 11] = [
        (&["--archive", &via_link], "overlaps the data folder"),
        (&["--archive", &missing], "unmounted does not exist: create it, or mount the share it lives on"),
        (&["--archive", &inside], "overlaps the data folder"),
        (&["--local-retention-bytes", "1000"], "--local-retention-bytes needs --archive"),
        (&["--archive-cache-bytes", "1000"], "--archive-cache-bytes needs --archive"),
        (&["--archive", &folder, "--in-memory"], "--archive cannot be used with --in-memory"),
        (
            &["--archive", &folder, "--local-retention-bytes", "1000", "--local-hard-limit-bytes", "999"],
            "--local-hard-limit-bytes (999) is below --local-retention-bytes (1000)",
        ),
        (
            &["--archive", &folder, "--segment-bytes", "4096", "--local-hard-limit-bytes", "8191"],
            "--local-hard-limit-bytes (8191) is below 2 x --segment-bytes (8192)",
        ),
        (&["--archive", &folder, "--archive-cache-bytes", "1000"], "--archive-cache-bytes (1000) is below 16777216"),
        (&["--archive", "file://relative/path"], "a file URL needs an absolute path"),
        (&["--archive", "gs://bucket"], "unsupported scheme"),
    ];
    for (flags, message) in cases {
        let output = Command::new(env!("CARGO_BIN_EXE_rheo"))
            .arg("serve")
            .arg("--data-dir")
            .arg(&data)
            .args(["--listen", "127.0.0.1:0"])
            .args(flags)
            .env("RUST_BACKTRACE", "0")
            .output()
            .expect("run rheo serve");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{flags:?} was accepted");
        assert!(stderr.contains(message), "{flags:?}: expected {message:?} in\n{stderr}");
    }
}
