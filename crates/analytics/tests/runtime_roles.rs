#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The roles an application's inputs and outputs act as: a denied role reads or writes
//! nothing, loses nothing, and resumes when allowed.

mod engines;
mod runtime_common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use rheo_analytics::runtime::{RunMetrics, StartPosition};
use rheo_engine::{RoleAccess, RoleDenied};
use runtime_common::*;

/// Denies one action while switched on; records every question.
struct Switch {
    action: &'static str,
    deny: AtomicBool,
    asked: Mutex<Vec<(String, String)>>,
}

impl RoleAccess for Switch {
    fn check(&self, role_arn: &str, action: &str, _resource: &str) -> Result<(), RoleDenied> {
        self.asked.lock().push((role_arn.to_owned(), action.to_owned()));
        if self.deny.load(Ordering::SeqCst) && action == self.action {
            return Err(RoleDenied { message: format!("{role_arn} may not {action}") });
        }
        Ok(())
    }
}

fn install(h: &Harness, action: &'static str) -> Arc<Switch> {
    let switch = Arc::new(Switch { action, deny: AtomicBool::new(true), asked: Mutex::new(Vec::new()) });
    assert!(h.engine.install_role_access(switch.clone()));
    switch
}

/// How many times the application's role was asked for `action`.
fn asked(switch: &Switch, action: &str) -> usize {
    switch.asked.lock().iter().filter(|(role, asked)| asked == action && role.ends_with(":role/analytics")).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_input_role_reads_nothing_until_allowed() {
    let h = Harness::new();
    h.create_stream("in", 1).await;
    h.create_stream("out", 1).await;
    let switch = install(&h, "kinesis:GetRecords");
    let spec =
        spec("app", projection_plan(1), input(kinesis_in("in"), 1), output(kinesis_out("out")), StartPosition::Now);
    let handle = h.start(spec).await;
    h.put_referrers("in", &["a", "b"]).await;
    // Asked again after each retry, and refused each time: nothing is read.
    eventually_advancing(&h, 100, "the input's role asked thrice", || asked(&switch, "kinesis:GetRecords") >= 3).await;
    assert_eq!(RunMetrics::get(&handle.metrics().records_in), 0);

    switch.deny.store(false, Ordering::SeqCst);
    let metrics = handle.metrics();
    eventually_advancing(&h, 100, "records read once allowed", || RunMetrics::get(&metrics.records_in) >= 2).await;
    assert_eq!(read_kinesis(&h.engine, "out", 2).await, vec![projected("a", 1), projected("b", 1)]);
    handle.stop(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_output_role_keeps_its_records_until_allowed() {
    let h = Harness::new();
    h.create_stream("in", 1).await;
    h.create_stream("out", 1).await;
    let switch = install(&h, "kinesis:PutRecords");
    let spec =
        spec("app", projection_plan(1), input(kinesis_in("in"), 1), output(kinesis_out("out")), StartPosition::Now);
    let handle = h.start(spec).await;
    h.put_referrers("in", &["a", "b"]).await;
    records_in(&handle, 2).await;
    let metrics = handle.metrics();
    eventually("a refused write", || RunMetrics::get(&metrics.output_failures) >= 1).await;
    assert_eq!(RunMetrics::get(&metrics.rows_out), 0);

    switch.deny.store(false, Ordering::SeqCst);
    eventually_advancing(&h, 1_000, "rows written once allowed", || RunMetrics::get(&metrics.rows_out) >= 2).await;
    assert_eq!(read_kinesis(&h.engine, "out", 2).await, vec![projected("a", 1), projected("b", 1)]);
    handle.stop(true).await;
}
