//! Crash test: a child process writes to a real on-disk store from several tasks and
//! prints every acknowledged write; the parent kills it with SIGKILL at varying moments,
//! reopens the store and checks that every acknowledged write is there. Repeated
//! `RHEO_DYNAMODB_CRASH_KILLS` times (20 by default) on the same folder, so each run also
//! recovers what the previous kill left.
//!
//! Each task puts fresh items and also advances a counter item of its own with a
//! conditional job (the counter must hold the value the task last wrote), so a lost or
//! doubled write shows as a counter behind its acknowledged value or a failed condition.
//!
//! The child is this same test binary, re-executed with `RHEO_DYNAMODB_CRASH_CHILD_DIR` set.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod store_common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use rheo_dynamodb::store::Store;
use rheo_dynamodb::table::TableDef;
use rheo_dynamodb::value::{AttrValue, Item};
use store_common::*;

const CHILD_ENV: &str = "RHEO_DYNAMODB_CRASH_CHILD_DIR";
const RUN_ENV: &str = "RHEO_DYNAMODB_CRASH_RUN";
const TASKS: usize = 4;

fn crash_table() -> TableDef {
    table(1, "crash", None)
}

fn counter_key(task: usize) -> String {
    format!("counter-{task}")
}

fn counter_value(item: Option<&Item>) -> u64 {
    match item.and_then(|item| item.get("payload")) {
        Some(AttrValue::S(value)) => value.parse().unwrap(),
        None => 0,
        other => panic!("counter holds {other:?}"),
    }
}

async fn child_tasks(store: Arc<Store>, run: u32) {
    let table = crash_table();
    let t = table.clone();
    write(&store, move |txn| txn.put_table(&t)).await;
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let (store, table) = (store.clone(), table.clone());
            tokio::spawn(async move {
                let mut counter =
                    counter_value(store.read().unwrap().get(&table, &key_s(&counter_key(task))).unwrap().as_ref());
                for seq in 0u64.. {
                    let key = format!("{run}:{task}:{seq}");
                    let t = table.clone();
                    let padding = "x".repeat((seq as usize * 131) % 2000);
                    let stored = key.clone();
                    let expected = counter;
                    let next = counter + 1;
                    let outcome = store
                        .write(move |txn| {
                            let current = counter_value(
                                txn.get(&t, &key_s(&counter_key(task))).map_err(|e| e.to_string())?.as_ref(),
                            );
                            if current != expected {
                                return Err(format!("counter {task} is {current}, expected {expected}"));
                            }
                            let counter_item =
                                item(&[("pk", s(&counter_key(task))), ("payload", s(&next.to_string()))]);
                            txn.put(&t, &key_s(&counter_key(task)), counter_item).map_err(|e| e.to_string())?;
                            let record = item(&[("pk", s(&stored)), ("payload", s(&padding))]);
                            txn.put(&t, &key_s(&stored), record).map_err(|e| e.to_string())
                        })
                        .await;
                    if let Err(error) = outcome.map_err(|e| e.to_string()).and_then(|answer| answer) {
                        writeln!(std::io::stdout().lock(), "error {error}").unwrap();
                        std::process::exit(1);
                    }
                    counter = next;
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "ack {key} {task} {next}").unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
}

fn child(dir: &Path, run: u32) -> ! {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(child_tasks(Arc::new(on_disk(dir)), run));
    unreachable!("the child writes until it is killed");
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        let run = std::env::var(RUN_ENV).ok().and_then(|r| r.parse().ok()).unwrap_or(0);
        child(Path::new(&dir), run);
    }
    let kills: u32 = std::env::var("RHEO_DYNAMODB_CRASH_KILLS").ok().and_then(|k| k.parse().ok()).unwrap_or(20);
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut acked: Vec<String> = Vec::new();
    // The highest acknowledged counter value of each task.
    let mut counters: HashMap<usize, u64> = HashMap::new();
    let table = crash_table();

    for run in 0..kills {
        let mut child = Command::new(&exe)
            .args(["acknowledged_writes_survive_sigkill", "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, dir.path())
            .env(RUN_ENV, run.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader =
            std::thread::spawn(move || BufReader::new(stdout).lines().map_while(Result::ok).collect::<Vec<String>>());
        // Varying moments: while the database is created or recovered, and while writing.
        let delay = if run % 4 == 0 { 2 + run % 30 } else { 40 + run * 53 % 260 };
        std::thread::sleep(Duration::from_millis(u64::from(delay)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        for line in reader.join().unwrap() {
            assert!(!line.starts_with("error "), "run {run}: the child failed: {line}");
            let parts: Vec<&str> = line.split(' ').collect();
            // A line cut by the kill is not an acknowledgement the test may rely on.
            let [ack, key, task, value] = parts[..] else { continue };
            let (Ok(task), Ok(value)) = (task.parse::<usize>(), value.parse::<u64>()) else { continue };
            if ack != "ack" {
                continue;
            }
            acked.push(key.to_string());
            let highest = counters.entry(task).or_default();
            *highest = (*highest).max(value);
        }

        let store = on_disk(dir.path());
        let read = store.read().unwrap();
        for key in &acked {
            assert!(read.get(&table, &key_s(key)).unwrap().is_some(), "run {run}: acknowledged item {key} lost");
        }
        for (task, highest) in &counters {
            let stored = counter_value(read.get(&table, &key_s(&counter_key(*task))).unwrap().as_ref());
            // A write may be durable and unacknowledged (killed before the answer), never
            // the other way round.
            assert!(stored >= *highest, "run {run}: counter {task} is {stored}, acknowledged {highest}");
        }
        drop(read);
        drop(store);
    }
    assert!(!acked.is_empty(), "the child never acknowledged anything");
    eprintln!("{kills} kills, {} acknowledged writes verified", acked.len());
}
