//! The server's own account of its disk, when the server is Rheo: the
//! `rheo_log_sync_duration_seconds` histogram on `/metrics`, read before and after a run,
//! tells how many durable syncs the run cost and how slow the slowest was. A latency miss
//! can then be told apart: the disk stalled, or the server did. Other endpoints have no such
//! page and the figures are left out.

use serde_json::{json, Value};

use crate::http::Client;

const FAMILY: &str = "rheo_log_sync_duration_seconds_bucket";

/// Syncs slower than this count as stalls in the report: the put-to-get latency target.
pub const STALL_MS: f64 = 20.0;

/// One reading of the histogram of one log: cumulative counts by upper bound in seconds
/// (`f64::INFINITY` last).
#[derive(Debug, Clone, PartialEq)]
pub struct SyncHistogram {
    buckets: Vec<(f64, u64)>,
}

/// What the syncs between two readings looked like.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncReport {
    /// Syncs made.
    pub syncs: u64,
    /// Of which slower than [`STALL_MS`] (as far as the bucket bounds tell).
    pub stalls: u64,
    /// Upper bound of the slowest sync's bucket in ms; `None` if beyond every bound, or
    /// if there was no sync.
    pub slowest_at_most_ms: Option<f64>,
}

impl SyncReport {
    /// For the JSON line.
    pub fn to_json(&self) -> Value {
        json!({ "count": self.syncs, "over_20ms": self.stalls, "slowest_at_most_ms": self.slowest_at_most_ms })
    }

    /// For the table.
    pub fn row(&self) -> String {
        let slowest = match (self.syncs, self.slowest_at_most_ms) {
            (0, _) => String::new(),
            (_, Some(ms)) => format!(", slowest ≤ {ms} ms"),
            (_, None) => ", slowest beyond the last bucket".into(),
        };
        format!("{} fdatasyncs, {} over {STALL_MS} ms{slowest}", self.syncs, self.stalls)
    }
}

/// Reads the histogram of the `streams` log from Prometheus text, if it is there.
pub fn parse(text: &str) -> Option<SyncHistogram> {
    let mut buckets = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix(FAMILY) else { continue };
        let Some((labels, value)) = rest.rsplit_once(' ') else { continue };
        if !labels.contains("log=\"streams\"") {
            continue;
        }
        let le = labels.split("le=\"").nth(1).and_then(|v| v.split('"').next())?;
        let bound = if le == "+Inf" { f64::INFINITY } else { le.parse().ok()? };
        buckets.push((bound, value.trim().parse().ok()?));
    }
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    (!buckets.is_empty()).then_some(SyncHistogram { buckets })
}

/// Reads the histogram from the endpoint; `None` when it does not serve one.
pub async fn scrape(client: &mut Client) -> Option<SyncHistogram> {
    match client.get("/metrics").await {
        Ok((200, body)) => parse(std::str::from_utf8(&body).ok()?),
        _ => None,
    }
}

impl SyncHistogram {
    /// The syncs made since `before`.
    pub fn since(&self, before: &SyncHistogram) -> SyncReport {
        let count_at = |h: &SyncHistogram, bound: f64| h.buckets.iter().find(|(b, _)| *b == bound).map_or(0, |b| b.1);
        let delta: Vec<(f64, u64)> =
            self.buckets.iter().map(|(bound, n)| (*bound, n.saturating_sub(count_at(before, *bound)))).collect();
        let syncs = delta.last().map_or(0, |b| b.1);
        let within_target =
            delta.iter().filter(|(bound, _)| *bound * 1000.0 <= STALL_MS).map(|b| b.1).max().unwrap_or(0);
        let slowest = delta.iter().find(|(_, n)| *n == syncs).map(|b| b.0);
        SyncReport {
            syncs,
            stalls: syncs.saturating_sub(within_target),
            slowest_at_most_ms: slowest.filter(|b| b.is_finite() && syncs > 0).map(|b| (b * 1e6).round() / 1e3),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(counts: [u64; 4]) -> String {
        format!(
            "# TYPE rheo_log_sync_duration_seconds histogram\n\
             rheo_log_sync_duration_seconds_bucket{{log=\"firehose\",le=\"0.001\"}} 999\n\
             rheo_log_sync_duration_seconds_bucket{{log=\"streams\",le=\"0.001\"}} {}\n\
             rheo_log_sync_duration_seconds_bucket{{log=\"streams\",le=\"0.02\"}} {}\n\
             rheo_log_sync_duration_seconds_bucket{{log=\"streams\",le=\"0.5\"}} {}\n\
             rheo_log_sync_duration_seconds_bucket{{log=\"streams\",le=\"+Inf\"}} {}\n\
             rheo_log_sync_duration_seconds_count{{log=\"streams\"}} {}\n",
            counts[0], counts[1], counts[2], counts[3], counts[3]
        )
    }

    #[test]
    fn the_difference_of_two_readings_counts_stalls_and_bounds_the_slowest() {
        let before = parse(&page([10, 12, 12, 12])).unwrap();
        let quiet = parse(&page([110, 112, 112, 112])).unwrap().since(&before);
        assert_eq!(quiet, SyncReport { syncs: 100, stalls: 0, slowest_at_most_ms: Some(1.0) });
        let stalled = parse(&page([100, 110, 113, 113])).unwrap().since(&before);
        assert_eq!(stalled, SyncReport { syncs: 101, stalls: 3, slowest_at_most_ms: Some(500.0) });
        assert_eq!(stalled.row(), "101 fdatasyncs, 3 over 20 ms, slowest ≤ 500 ms");
        let beyond = parse(&page([10, 12, 12, 13])).unwrap().since(&before);
        assert_eq!(beyond, SyncReport { syncs: 1, stalls: 1, slowest_at_most_ms: None });
        let none = parse(&page([10, 12, 12, 12])).unwrap().since(&before);
        assert_eq!(none.row(), "0 fdatasyncs, 0 over 20 ms");
    }

    #[test]
    fn pages_without_the_family_give_nothing() {
        assert_eq!(parse("rheo_requests_total 3\n"), None);
        assert_eq!(parse("{\"__type\":\"UnknownOperationException\"}"), None);
    }
}
