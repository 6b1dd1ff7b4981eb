//! `rheo-agent` against a real server: the flow options end to end (END_OF_FILE start,
//! multi-line records, truncation with the terminator, header lines, CSVTOJSON then
//! ADDMETADATA), a clean stop that sends what is buffered, and a restart that resumes from
//! the checkpoint without sending anything again.

mod common;

use common::streams::{create_active, read_shard};

use std::time::Duration;

use common::Server;
use rheo_agent::config::AgentConfig;
use rheo_agent::Agent;
use rheo_client::{ClientConfig, Kinesis};

const EVENTUALLY: Duration = Duration::from_secs(30);

async fn read_all(kinesis: &Kinesis, stream: &str) -> Vec<String> {
    let records = read_shard(kinesis, stream, "shardId-000000000000").await;
    records.iter().map(|r| String::from_utf8_lossy(&r.data).into_owned()).collect()
}

async fn wait_for(kinesis: &Kinesis, stream: &str, count: usize) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + EVENTUALLY;
    loop {
        let records = read_all(kinesis, stream).await;
        if records.len() >= count || tokio::time::Instant::now() > deadline {
            return records;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn append(path: &std::path::Path, text: &str) {
    use std::io::Write as _;
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).expect("open");
    f.write_all(text.as_bytes()).expect("write");
}

async fn run_agent(
    config: &AgentConfig,
    endpoint: &str,
) -> (tokio::sync::watch::Sender<bool>, tokio::task::JoinHandle<()>) {
    let agent = Agent::new(config, ClientConfig::local(endpoint)).await.expect("agent");
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let (_abort_tx, abort) = tokio::sync::watch::channel(false);
    let handle = tokio::spawn(async move {
        let _keep_abort_open = _abort_tx;
        agent.run(stop, abort).await.expect("agent run");
    });
    (stop_tx, handle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flow_options_clean_stop_and_resume_from_the_checkpoint() {
    let server = Server::start(&[]);
    let kinesis = Kinesis::new(&ClientConfig::local(&server.endpoint)).expect("client");
    create_active(&kinesis, "logs", 1).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).expect("mkdir");
    let app = logs.join("app.log");
    append(&app, "[0] written before the agent started\n");
    let config_text = serde_json::json!({
        "kinesis.endpoint": server.endpoint,
        "checkpointFile": dir.path().join("checkpoints"),
        "flows": [
            {"filePattern": format!("{}/app.log", logs.display()), "kinesisStream": "logs",
             "multiLineStartPattern": "^\\[", "maxRecordSizeBytes": 32, "truncatedRecordTerminator": "~\n",
             "maxBufferAgeMillis": 1000},
            {"filePattern": format!("{}/*.csv", logs.display()), "kinesisStream": "logs",
             "initialPosition": "START_OF_FILE", "skipHeaderLines": 1, "maxBufferAgeMillis": 1000,
             "dataProcessingOptions": [
                {"optionName": "CSVTOJSON", "customFieldNames": ["id", "name"]},
                {"optionName": "ADDMETADATA", "metadata": {"source": "test"}}]}
        ]
    })
    .to_string();
    let config = AgentConfig::parse(&config_text, "test").expect("config");

    let (stop, handle) = run_agent(&config, &server.endpoint).await;
    // Agent::new has looked at app.log: END_OF_FILE is its end then, so [0] is not sent.
    append(&logs.join("people.csv"), "id,name\n7,\"Doe, Jane\"\n");
    let first = wait_for(&kinesis, "logs", 1).await;
    assert_eq!(first, vec!["{\"metadata\":{\"source\":\"test\"},\"data\":{\"id\":\"7\",\"name\":\"Doe, Jane\"}}\n"]);
    append(&app, "[1] boom\n  at frame one\n[2] ");
    append(&app, &format!("{}\n[3] the last one\n", "x".repeat(60)));
    let records = wait_for(&kinesis, "logs", 4).await;
    assert_eq!(
        &records[1..],
        &[
            "[1] boom\n  at frame one\n".to_owned(),
            format!("[2] {}~\n", "x".repeat(26)),
            "[3] the last one\n".to_owned()
        ],
        "multi-line record, truncated record, and the last record once its file went quiet"
    );

    // A stop while lines are being written, then a restart: every record exactly once.
    // ([4] is still open at the stop, as a multi-line record ends only when the next
    // complete start line is read; it is re-read after the restart.)
    append(&app, "[4] just before the stop\n[5] ");
    append(&logs.join("people.csv"), "8,Smith\n");
    stop.send(true).expect("stop");
    tokio::time::timeout(EVENTUALLY, handle).await.expect("stops").expect("task");
    append(&app, "five\n[6] six\n");
    let (stop, handle) = run_agent(&config, &server.endpoint).await;
    let records = wait_for(&kinesis, "logs", 8).await;
    stop.send(true).expect("stop");
    tokio::time::timeout(EVENTUALLY, handle).await.expect("stops").expect("task");
    let records_after = read_all(&kinesis, "logs").await;
    assert_eq!(records_after.len(), 8, "nothing lost or sent twice: {records_after:?}");
    let app_records: Vec<&String> = records.iter().filter(|r| r.starts_with('[')).collect();
    assert_eq!(
        app_records[3..],
        [&"[4] just before the stop\n".to_owned(), &"[5] five\n".to_owned(), &"[6] six\n".to_owned()]
    );
    assert!(records.iter().any(|r| r.contains("\"id\":\"8\"")));
    assert!(!records.iter().any(|r| r.contains("[0]")), "END_OF_FILE skips what was there");
}

/// With AWS's per-shard limits enforced, a burst is throttled: refused records are sent
/// again with back-off until every line is in, and the throttles are counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_records_are_retried_until_all_are_in() {
    const LINES: usize = 2_000;
    let server = Server::start(&["--enforce-limits"]);
    let kinesis = Kinesis::new(&ClientConfig::local(&server.endpoint)).expect("client");
    create_active(&kinesis, "throttled", 1).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let pad = "y".repeat(1_000);
    let text: String = (0..LINES).map(|n| format!("{n:06} {pad}\n")).collect();
    std::fs::write(dir.path().join("burst.log"), text).expect("write");
    let config_text = serde_json::json!({
        "kinesis.endpoint": server.endpoint,
        "checkpointFile": dir.path().join("checkpoints"),
        "flows": [{"filePattern": format!("{}/burst.log", dir.path().display()), "kinesisStream": "throttled",
                   "initialPosition": "START_OF_FILE", "maxBufferAgeMillis": 1000}]
    })
    .to_string();
    let config = AgentConfig::parse(&config_text, "test").expect("config");
    let agent = Agent::new(&config, ClientConfig::local(&server.endpoint)).await.expect("agent");
    let metrics = agent.metrics()[0].1.clone();
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let (_abort_tx, abort) = tokio::sync::watch::channel(false);
    let handle = tokio::spawn(agent.run(stop, abort));
    let deadline = tokio::time::Instant::now() + EVENTUALLY;
    while rheo_agent::metrics::FlowMetrics::get(&metrics.records_sent) < LINES as u64 {
        assert!(tokio::time::Instant::now() < deadline, "the agent did not send every line");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let records = read_all(&kinesis, "throttled").await;
    stop_tx.send(true).expect("stop");
    tokio::time::timeout(EVENTUALLY, handle).await.expect("stops").expect("task").expect("run");
    let numbers: std::collections::BTreeSet<usize> =
        records.iter().map(|r| r[..6].parse().expect("numbered line")).collect();
    assert_eq!(numbers.len(), LINES, "every line arrived");
    assert_eq!(records.len(), LINES, "refused records are not duplicates");
    let throttles = rheo_agent::metrics::FlowMetrics::get(&metrics.throttles);
    assert!(throttles > 0, "a 2 MB burst into one shard is throttled");
    assert!(rheo_agent::metrics::FlowMetrics::get(&metrics.records_retried) >= throttles);
}

/// A request the service refuses as a whole (here: one record over the 1 MiB limit) is
/// sent in halves until the offending record is alone; it is reported and dropped, and
/// every other record arrives, in order, instead of the batch being retried for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_refused_as_invalid_is_split_and_only_the_bad_record_is_dropped() {
    use rheo_agent::config::PartitionKeyOption;
    use rheo_agent::metrics::FlowMetrics;
    use rheo_agent::send::{Destination, Outgoing};

    let server = Server::start(&[]);
    let kinesis = Kinesis::new(&ClientConfig::local(&server.endpoint)).expect("client");
    create_active(&kinesis, "invalid", 1).await;
    let destination = Destination::Kinesis {
        client: std::sync::Arc::new(Kinesis::new_cbor(&ClientConfig::local(&server.endpoint)).expect("client")),
        stream: "invalid".into(),
        partition_key: PartitionKeyOption::Deterministic,
    };
    let record = |data: Vec<u8>| Outgoing { data: data.into(), partition_key: Some("k".into()) };
    let mut records: Vec<Outgoing> = (0..5).map(|n| record(format!("line {n}\n").into_bytes())).collect();
    records.insert(3, record(vec![b'x'; 1024 * 1024 + 100]));
    let metrics = FlowMetrics::default();
    let retry =
        rheo_agent::config::RetryBackoff { initial: Duration::from_millis(10), max: Duration::from_millis(100) };
    let (_stop_tx, mut stop) = tokio::sync::watch::channel(false);
    tokio::time::timeout(EVENTUALLY, destination.send_all(&records, &retry, &metrics, &mut stop))
        .await
        .expect("the batch ends instead of being retried for ever")
        .expect("not stopped");
    assert_eq!(FlowMetrics::get(&metrics.records_refused), 1);
    assert_eq!(FlowMetrics::get(&metrics.records_sent), 5);
    let arrived = read_all(&kinesis, "invalid").await;
    assert_eq!(arrived, (0..5).map(|n| format!("line {n}\n")).collect::<Vec<_>>());
}

/// A file far behind does not keep the next file waiting: each file gets a bounded share
/// of a pass, so the second file's line is sent before the first file is finished.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_file_does_not_starve_the_next_one() {
    const LINE_BYTES: usize = 64 * 1024;
    let lines = (rheo_agent::flow::MAX_READ_BYTES_PER_PASS as usize / LINE_BYTES) + 16;
    let server = Server::start(&[]);
    let kinesis = Kinesis::new(&ClientConfig::local(&server.endpoint)).expect("client");
    create_active(&kinesis, "busy", 1).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let pad = "b".repeat(LINE_BYTES - 8);
    let text: String = (0..lines).map(|n| format!("{n:06} {pad}\n")).collect();
    std::fs::write(dir.path().join("a-busy.log"), text).expect("write");
    std::fs::write(dir.path().join("b-quiet.log"), "quiet\n").expect("write");
    let config_text = serde_json::json!({
        "kinesis.endpoint": server.endpoint,
        "checkpointFile": dir.path().join("checkpoints"),
        "flows": [{"filePattern": format!("{}/*.log", dir.path().display()), "kinesisStream": "busy",
                   "initialPosition": "START_OF_FILE", "maxBufferAgeMillis": 1000}]
    })
    .to_string();
    let config = AgentConfig::parse(&config_text, "test").expect("config");
    let (stop, handle) = run_agent(&config, &server.endpoint).await;
    let records = wait_for(&kinesis, "busy", lines + 1).await;
    stop.send(true).expect("stop");
    tokio::time::timeout(EVENTUALLY, handle).await.expect("stops").expect("task");
    assert_eq!(records.len(), lines + 1);
    let quiet = records.iter().position(|r| r == "quiet\n").expect("the quiet file's line");
    assert!(quiet < lines, "the quiet file waited for the whole busy file (at {quiet} of {})", lines + 1);
}

/// copytruncate as logrotate does it: the copy is written in place under its rotated name,
/// so the agent sees it half written. That copy must not be taken for a new file (which
/// would send the lineage again from 0); once complete and the original truncated, every
/// line has arrived exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copytruncate_copy_seen_half_written_sends_nothing_twice() {
    let server = Server::start(&[]);
    let kinesis = Kinesis::new(&ClientConfig::local(&server.endpoint)).expect("client");
    create_active(&kinesis, "copies", 1).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let app = dir.path().join("app.log");
    let copy = dir.path().join("app.log.1");
    let config_text = serde_json::json!({
        "kinesis.endpoint": server.endpoint,
        "checkpointFile": dir.path().join("checkpoints"),
        "flows": [{"filePattern": format!("{}/app.log*", dir.path().display()), "kinesisStream": "copies",
                   "initialPosition": "START_OF_FILE", "maxBufferAgeMillis": 1000}]
    })
    .to_string();
    let config = AgentConfig::parse(&config_text, "test").expect("config");
    let (stop, handle) = run_agent(&config, &server.endpoint).await;
    append(&app, &(0..100).map(|n| format!("line {n}\n")).collect::<String>());
    assert_eq!(wait_for(&kinesis, "copies", 100).await.len(), 100);

    // The copy, half written: a prefix of app.log, shorter than what was read of it.
    let content = std::fs::read(&app).expect("read");
    std::fs::write(&copy, &content[..content.len() / 2]).expect("half copy");
    // Each marker is appended once the previous one arrived, so the pass that reads the
    // second one began with a look at the folder that saw the half-written copy.
    append(&app, "marker 1\n");
    assert_eq!(wait_for(&kinesis, "copies", 101).await.len(), 101);
    append(&app, "marker 2\n");
    wait_for(&kinesis, "copies", 102).await;

    // The copy completes, then the original is truncated and written again.
    let content = std::fs::read(&app).expect("read");
    std::fs::write(&copy, &content).expect("whole copy");
    std::fs::OpenOptions::new().write(true).open(&app).expect("open").set_len(0).expect("truncate");
    append(&app, "after the rotation\n");
    wait_for(&kinesis, "copies", 103).await;
    stop.send(true).expect("stop");
    tokio::time::timeout(EVENTUALLY, handle).await.expect("stops").expect("task");

    let records = read_all(&kinesis, "copies").await;
    let mut expected: Vec<String> = (0..100).map(|n| format!("line {n}\n")).collect();
    expected.extend(["marker 1\n", "marker 2\n", "after the rotation\n"].map(String::from));
    assert_eq!(records, expected, "every line once, in order");
}
