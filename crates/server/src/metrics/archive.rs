//! The archive tier's figures on `/metrics`: one series per [`ArchiveStats`] field,
//! `rheo_archive_<field>{log="..."}`, for the logs that tier to an archive.

use std::fmt::Write as _;

use rheo_storage::stats::{ArchiveStats, UPLOAD_BUCKET_BOUNDS_MS};
use rheo_storage::LogStats;

/// A figure of the archive tier: name without the `rheo_archive_` prefix, help text, how
/// to read it.
type ArchiveMetric = (&'static str, &'static str, fn(&ArchiveStats) -> u64);

const COUNTERS: [ArchiveMetric; 14] = [
    ("uploaded_segments_total", "Segments uploaded to the archive since start.", |a| a.uploaded_segments_total),
    ("uploaded_bytes_total", "Bytes uploaded (segment and index files) since start.", |a| a.uploaded_bytes_total),
    ("upload_failures_total", "Calls to the archive on the upload path that failed (each is retried).", |a| {
        a.upload_failures_total
    }),
    (
        "local_failures_total",
        "Local steps of the archiver that failed: a read of a segment or index, a record or folder sync (retried).",
        |a| a.local_failures_total,
    ),
    (
        "missing_manifests_total",
        "Segments recorded as archived whose manifest the archive lacked at eviction (kept locally).",
        |a| a.missing_manifests_total,
    ),
    ("evicted_segments_total", "Archived segments removed from the local disk by the local budget.", |a| {
        a.evicted_segments_total
    }),
    ("deleted_segments_total", "Segments whose objects retention deleted from the archive.", |a| {
        a.deleted_segments_total
    }),
    ("delete_failures_total", "Deletions from the archive that failed (retried at the next pass).", |a| {
        a.delete_failures_total
    }),
    ("reconciled_objects_total", "Leaked objects found and deleted by reconciliation.", |a| a.reconciled_objects_total),
    ("cache_hits_total", "Reads of archived data served from the read cache.", |a| a.cache_hits_total),
    ("fetches_total", "Reads of archived data fetched from the archive.", |a| a.fetches_total),
    ("fetched_bytes_total", "Bytes fetched from the archive.", |a| a.fetched_bytes_total),
    ("fetch_failures_total", "Fetches from the archive that failed.", |a| a.fetch_failures_total),
    ("refused_appends_total", "Appends refused at the local hard limit since start.", |a| a.refused_appends_total),
];

const GAUGES: [ArchiveMetric; 10] = [
    ("enabled", "1 when the log tiers sealed segments to an archive.", |a| u64::from(a.enabled)),
    ("backlog_segments", "Sealed segments not yet archived (the upload backlog).", |a| a.backlog_segments),
    ("backlog_bytes", "Bytes of sealed segments not yet archived.", |a| a.backlog_bytes),
    ("local_segments", "Segment files on the local disk.", |a| a.local_segments),
    ("local_bytes", "Bytes of segment files on the local disk.", |a| a.local_bytes),
    ("remote_only_segments", "Segments held only by the archive.", |a| a.remote_only_segments),
    ("remote_only_bytes", "Bytes of segments held only by the archive.", |a| a.remote_only_bytes),
    ("cache_bytes", "Bytes of archived data the read cache holds.", |a| a.cache_bytes),
    ("refused", "1 while archiving is off: the layout marker is of another version or missing; alert on it.", |a| {
        u64::from(a.refused)
    }),
    ("writes_refused", "1 while appends are refused at the local hard limit; alert on it.", |a| {
        u64::from(a.writes_refused)
    }),
];

/// Appends the archive figures of the logs that have an archive; nothing when none has.
pub fn render_archive(out: &mut String, logs: &[(&str, LogStats)]) {
    let archived: Vec<(&str, &ArchiveStats)> =
        logs.iter().filter(|(_, stats)| stats.archive.enabled).map(|(log, stats)| (*log, &stats.archive)).collect();
    if archived.is_empty() {
        return;
    }
    let families = COUNTERS.iter().map(|m| (m, "counter")).chain(GAUGES.iter().map(|m| (m, "gauge")));
    for ((field, help, value), kind) in families {
        let _ = writeln!(out, "# HELP rheo_archive_{field} {help}\n# TYPE rheo_archive_{field} {kind}");
        for (log, stats) in &archived {
            let _ = writeln!(out, "rheo_archive_{field}{{log=\"{log}\"}} {}", value(stats));
        }
    }
    let name = "rheo_archive_upload_seconds";
    let _ =
        writeln!(out, "# HELP {name} Time to upload one sealed segment (all its objects).\n# TYPE {name} histogram");
    for (log, stats) in &archived {
        let mut cumulative = 0;
        for (bound, count) in UPLOAD_BUCKET_BOUNDS_MS.iter().zip(&stats.upload_buckets) {
            cumulative += count;
            let le = *bound as f64 / 1e3;
            let _ = writeln!(out, "{name}_bucket{{log=\"{log}\",le=\"{le}\"}} {cumulative}");
        }
        let count: u64 = stats.upload_buckets.iter().sum();
        let _ = writeln!(out, "{name}_bucket{{log=\"{log}\",le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "{name}_sum{{log=\"{log}\"}} {}", stats.upload_ms_sum as f64 / 1e3);
        let _ = writeln!(out, "{name}_count{{log=\"{log}\"}} {count}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_figures_render_only_for_archived_logs_with_a_cumulative_histogram() {
        let mut archive = ArchiveStats {
            enabled: true,
            backlog_segments: 3,
            remote_only_bytes: 4096,
            uploaded_segments_total: 9,
            fetch_failures_total: 2,
            writes_refused: true,
            local_failures_total: 5,
            refused: true,
            upload_ms_sum: 1_250,
            ..ArchiveStats::default()
        };
        archive.upload_buckets[0] = 4; // <= 50 ms
        archive.upload_buckets[4] = 1; // (500 ms, 1 s]
        archive.upload_buckets[rheo_storage::stats::UPLOAD_BUCKETS - 1] = 2; // beyond every bound
        let streams = LogStats { archive, ..LogStats::default() };
        let mut out = String::new();
        render_archive(&mut out, &[("streams", streams), ("firehose", LogStats::default())]);
        assert!(!out.contains("firehose"), "{out}");
        for line in [
            "# TYPE rheo_archive_uploaded_segments_total counter\n",
            "rheo_archive_uploaded_segments_total{log=\"streams\"} 9\n",
            "rheo_archive_fetch_failures_total{log=\"streams\"} 2\n",
            "# TYPE rheo_archive_backlog_segments gauge\n",
            "rheo_archive_backlog_segments{log=\"streams\"} 3\n",
            "rheo_archive_remote_only_bytes{log=\"streams\"} 4096\n",
            "rheo_archive_writes_refused{log=\"streams\"} 1\n",
            "rheo_archive_local_failures_total{log=\"streams\"} 5\n",
            "rheo_archive_missing_manifests_total{log=\"streams\"} 0\n",
            "# TYPE rheo_archive_refused gauge\n",
            "rheo_archive_refused{log=\"streams\"} 1\n",
            "# TYPE rheo_archive_enabled gauge\n",
            "rheo_archive_enabled{log=\"streams\"} 1\n",
            "rheo_archive_evicted_segments_total{log=\"streams\"} 0\n",
            "# TYPE rheo_archive_upload_seconds histogram\n",
            "rheo_archive_upload_seconds_bucket{log=\"streams\",le=\"0.05\"} 4\n",
            "rheo_archive_upload_seconds_bucket{log=\"streams\",le=\"0.5\"} 4\n",
            "rheo_archive_upload_seconds_bucket{log=\"streams\",le=\"1\"} 5\n",
            "rheo_archive_upload_seconds_bucket{log=\"streams\",le=\"60\"} 5\n",
            "rheo_archive_upload_seconds_bucket{log=\"streams\",le=\"+Inf\"} 7\n",
            "rheo_archive_upload_seconds_sum{log=\"streams\"} 1.25\n",
            "rheo_archive_upload_seconds_count{log=\"streams\"} 7\n",
        ] {
            assert!(out.contains(line), "missing {line:?} in\n{out}");
        }
        // Every field of ArchiveStats has its series (the histogram counts as two fields).
        let series = out.lines().filter(|l| l.starts_with("rheo_archive_") && !l.contains("upload_seconds")).count();
        assert_eq!(series, COUNTERS.len() + GAUGES.len());
        assert_eq!(COUNTERS.len() + GAUGES.len() + 2, archive_stats_fields());
    }

    #[test]
    fn nothing_renders_without_an_archive() {
        let mut out = String::new();
        render_archive(&mut out, &[("streams", LogStats::default())]);
        assert!(out.is_empty());
    }

    /// Counts the fields of ArchiveStats through its Debug form, so a field added later
    /// without a series fails the test above.
    fn archive_stats_fields() -> usize {
        let debug = format!("{:?}", ArchiveStats::default());
        debug.matches(": ").count()
    }
}
