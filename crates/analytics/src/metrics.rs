//! The control plane's gauges in Prometheus's text format (`rheo_analytics_*`). The
//! runs' own counters (records read, rows written, errors) are the runtime's.

use std::fmt::Write as _;

use crate::lifecycle::Status;

const STATUSES: [Status; 6] =
    [Status::Ready, Status::Starting, Status::Running, Status::Stopping, Status::Updating, Status::Deleting];

/// Renders how many applications are in each status.
pub fn render(out: &mut String, statuses: &[Status]) {
    out.push_str("# HELP rheo_analytics_applications Analytics applications by status.\n");
    out.push_str("# TYPE rheo_analytics_applications gauge\n");
    for status in STATUSES {
        let count = statuses.iter().filter(|s| **s == status).count();
        let _ = writeln!(out, "rheo_analytics_applications{{status=\"{}\"}} {count}", status.name());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_is_counted_even_at_zero() {
        let mut out = String::new();
        render(&mut out, &[Status::Running, Status::Ready, Status::Running]);
        assert!(out.contains("rheo_analytics_applications{status=\"RUNNING\"} 2\n"), "{out}");
        assert!(out.contains("rheo_analytics_applications{status=\"READY\"} 1\n"), "{out}");
        assert!(out.contains("rheo_analytics_applications{status=\"DELETING\"} 0\n"), "{out}");
    }
}
