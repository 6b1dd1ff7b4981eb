//! Analytics in Prometheus's text format (`rheo_analytics_*`): applications by status,
//! and each run's counters ([`RunMetrics`]) labelled by application.

use std::fmt::Write as _;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use crate::lifecycle::Status;
use crate::runtime::RunMetrics;

const STATUSES: [Status; 6] =
    [Status::Ready, Status::Starting, Status::Running, Status::Stopping, Status::Updating, Status::Deleting];

type Counter = fn(&RunMetrics) -> &AtomicU64;

/// The run counters, with their names and help.
const RUN_COUNTERS: [(&str, &str, Counter); 7] = [
    ("records_in_total", "Records read from the inputs.", |m| &m.records_in),
    ("rows_out_total", "Records the outputs' destinations accepted.", |m| &m.rows_out),
    ("mapping_errors_total", "Input records that could not be mapped.", |m| &m.mapping_errors),
    ("output_failures_total", "Writes to a destination that failed and were retried.", |m| &m.output_failures),
    ("rows_dropped_total", "Output records a destination refused for good, dropped.", |m| &m.rows_dropped),
    ("restarts_total", "Times a run's task failed and was run again.", |m| &m.restarts),
    ("checkpoints_total", "Input positions saved.", |m| &m.checkpoints),
];

fn escape(label: &str) -> String {
    label.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Renders how many applications are in each status, and the counters of each run (the
/// current or last one of each application in this process).
pub fn render(out: &mut String, statuses: &[Status], runs: &[(String, Arc<RunMetrics>)]) {
    out.push_str("# HELP rheo_analytics_applications Analytics applications by status.\n");
    out.push_str("# TYPE rheo_analytics_applications gauge\n");
    for status in STATUSES {
        let count = statuses.iter().filter(|s| **s == status).count();
        let _ = writeln!(out, "rheo_analytics_applications{{status=\"{}\"}} {count}", status.name());
    }
    for (name, help, counter) in RUN_COUNTERS {
        let _ = writeln!(out, "# HELP rheo_analytics_{name} {help}");
        let _ = writeln!(out, "# TYPE rheo_analytics_{name} counter");
        for (application, metrics) in runs {
            let value = RunMetrics::get(counter(metrics));
            let _ = writeln!(out, "rheo_analytics_{name}{{application=\"{}\"}} {value}", escape(application));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_is_counted_even_at_zero() {
        let mut out = String::new();
        let run = Arc::new(RunMetrics::default());
        run.records_in.store(7, std::sync::atomic::Ordering::Relaxed);
        render(&mut out, &[Status::Running, Status::Ready, Status::Running], &[("a\"b".to_owned(), run)]);
        assert!(out.contains("rheo_analytics_records_in_total{application=\"a\\\"b\"} 7\n"), "{out}");
        assert!(out.contains("# TYPE rheo_analytics_rows_out_total counter\n"), "{out}");
        assert!(out.contains("rheo_analytics_applications{status=\"RUNNING\"} 2\n"), "{out}");
        assert!(out.contains("rheo_analytics_applications{status=\"READY\"} 1\n"), "{out}");
        assert!(out.contains("rheo_analytics_applications{status=\"DELETING\"} 0\n"), "{out}");
    }
}
