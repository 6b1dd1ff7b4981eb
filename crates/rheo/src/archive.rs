//! `rheo serve`'s archive flags: tiering the Kinesis streams log's sealed segments to a
//! folder or an S3 bucket, and how much of it stays on the local disk.

use std::path::Path;

use anyhow::Context as _;
use rheo_archive::ArchiveUrl;
use rheo_storage::limits::{
    ARCHIVE_BLOCK_BYTES, ARCHIVE_CACHE_BYTES_DEFAULT, ARCHIVE_HARD_LIMIT_FACTOR_DEFAULT,
    ARCHIVE_READ_AHEAD_BLOCKS_DEFAULT,
};
use rheo_storage::ArchiveConfig;

/// Name of the archived log in the object layout.
const STREAMS_LOG_NAME: &str = "streams";

const MS_PER_HOUR: u64 = 3_600_000;

/// The local hard limit holds at least this many segments: the active one and a sealed
/// one on its way to the archive.
const HARD_LIMIT_MIN_SEGMENTS: u64 = 2;

/// The smallest read cache that does its job: the block a reader is on, the one before
/// it, and the blocks read ahead. Smaller, fetched blocks would be evicted before use.
const ARCHIVE_CACHE_BYTES_MIN: u64 = (ARCHIVE_READ_AHEAD_BLOCKS_DEFAULT as u64 + 2) * ARCHIVE_BLOCK_BYTES;

#[derive(clap::Args)]
pub struct ArchiveArgs {
    /// Tier the Kinesis streams' sealed log segments to an archive: s3://BUCKET[/PREFIX]
    /// (at --s3-endpoint if given, else AWS; credentials from the AWS environment
    /// variables, region --region) or file:///ABSOLUTE/PATH (a folder, e.g. a NAS mount).
    /// Reads of removed segments fetch them from it.
    #[arg(long, env = "RHEO_ARCHIVE", value_parser = ArchiveUrl::parse)]
    pub archive: Option<ArchiveUrl>,
    /// With --archive: archived segments are removed from the local disk, oldest first,
    /// while the local segment files take more than this many bytes.
    #[arg(long, env = "RHEO_LOCAL_RETENTION_BYTES")]
    pub local_retention_bytes: Option<u64>,
    /// With --archive: archived segments whose newest record is older than this many
    /// hours are removed from the local disk (0: as soon as they are archived).
    #[arg(long, env = "RHEO_LOCAL_RETENTION_HOURS")]
    pub local_retention_hours: Option<u64>,
    /// With --archive: once segments not yet archived take this many bytes locally (the
    /// archive is down or slow), writes are refused until uploads catch up. At least 2 x
    /// --segment-bytes. Default: 4 x --local-retention-bytes (at least 2 x --segment-bytes)
    /// when that is given, else no limit but the disk.
    #[arg(long, env = "RHEO_LOCAL_HARD_LIMIT_BYTES")]
    pub local_hard_limit_bytes: Option<u64>,
    /// With --archive: bytes of archived segment data kept in memory for readers (at
    /// least 16 MiB: the block being read and the blocks read ahead).
    #[arg(long, env = "RHEO_ARCHIVE_CACHE_BYTES")]
    pub archive_cache_bytes: Option<u64>,
}

/// The local hard limit: the active segment and one sealed segment waiting for its upload
/// must fit under it, else appends are refused as soon as the active segment grows.
fn hard_limit(args: &ArchiveArgs, segment_bytes: u64) -> anyhow::Result<Option<u64>> {
    let smallest = segment_bytes.saturating_mul(HARD_LIMIT_MIN_SEGMENTS);
    match (args.local_hard_limit_bytes, args.local_retention_bytes) {
        (Some(hard), Some(budget)) if hard < budget => anyhow::bail!(
            "--local-hard-limit-bytes ({hard}) is below --local-retention-bytes ({budget}): writes would be \
             refused before archived segments are even removed"
        ),
        (Some(hard), _) if hard < smallest => anyhow::bail!(
            "--local-hard-limit-bytes ({hard}) is below {HARD_LIMIT_MIN_SEGMENTS} x --segment-bytes ({smallest}): \
             writes would be refused as soon as the active segment fills while the one before is uploaded"
        ),
        (Some(hard), _) => Ok(Some(hard)),
        (None, Some(budget)) => Ok(Some(budget.saturating_mul(ARCHIVE_HARD_LIMIT_FACTOR_DEFAULT).max(smallest))),
        (None, None) => Ok(None),
    }
}

/// `path` with symbolic links and `..` resolved; a folder that does not exist (yet) keeps
/// its absolute spelling.
fn resolved(path: &Path) -> std::path::PathBuf {
    std::fs::canonicalize(path).or_else(|_| std::path::absolute(path)).unwrap_or_else(|_| path.to_path_buf())
}

/// The archive configuration of the streams log, `None` without --archive. Refuses flag
/// combinations that would silently do nothing or contradict each other.
pub fn config(
    args: &ArchiveArgs,
    data_dir: &Path,
    segment_bytes: u64,
    in_memory: bool,
    s3_endpoint: Option<&str>,
    region: &str,
) -> anyhow::Result<Option<ArchiveConfig>> {
    let Some(url) = &args.archive else {
        let given = [
            ("--local-retention-bytes", args.local_retention_bytes.is_some()),
            ("--local-retention-hours", args.local_retention_hours.is_some()),
            ("--local-hard-limit-bytes", args.local_hard_limit_bytes.is_some()),
            ("--archive-cache-bytes", args.archive_cache_bytes.is_some()),
        ];
        if let Some((flag, _)) = given.iter().find(|(_, given)| *given) {
            anyhow::bail!("{flag} needs --archive URL: without an archive every segment stays on the local disk");
        }
        return Ok(None);
    };
    if in_memory {
        anyhow::bail!("--archive cannot be used with --in-memory: an in-memory log keeps nothing across restarts, so there is nothing to tier");
    }
    if let ArchiveUrl::File { path } = url {
        // The log's recovery and the archive's clean-up would each take the other's files
        // for their own.
        // Compared resolved (symbolic links, `..`), so no other spelling of one folder
        // slips through; the data folder is created here if needed to resolve it.
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating the data folder {}", data_dir.display()))?;
        let data_dir = resolved(data_dir);
        let path = &resolved(path);
        if path.starts_with(&data_dir) || data_dir.starts_with(path) {
            anyhow::bail!(
                "--archive {url} overlaps the data folder {}: the archive must be a folder of its own",
                data_dir.display()
            );
        }
    }
    let local_hard_limit_bytes = hard_limit(args, segment_bytes)?;
    let cache_bytes = args.archive_cache_bytes.unwrap_or(ARCHIVE_CACHE_BYTES_DEFAULT);
    if cache_bytes < ARCHIVE_CACHE_BYTES_MIN {
        anyhow::bail!(
            "--archive-cache-bytes ({cache_bytes}) is below {ARCHIVE_CACHE_BYTES_MIN}: the cache must hold the \
             block being read and the blocks read ahead ({} blocks of {ARCHIVE_BLOCK_BYTES} bytes)",
            ARCHIVE_READ_AHEAD_BLOCKS_DEFAULT as u64 + 2
        );
    }
    let store =
        rheo_archive::open_archive(url, s3_endpoint, region).with_context(|| format!("opening the archive {url}"))?;
    tracing::info!(
        message = "Archiving the streams log.",
        archive = %url,
        local_retention_bytes = ?args.local_retention_bytes,
        local_retention_hours = ?args.local_retention_hours,
        local_hard_limit_bytes = ?local_hard_limit_bytes,
    );
    Ok(Some(ArchiveConfig {
        store,
        log_name: STREAMS_LOG_NAME.to_owned(),
        local_retention_bytes: args.local_retention_bytes,
        local_retention_ms: args.local_retention_hours.map(|hours| hours.saturating_mul(MS_PER_HOUR)),
        local_hard_limit_bytes,
        cache_bytes,
        read_ahead_blocks: ARCHIVE_READ_AHEAD_BLOCKS_DEFAULT,
    }))
}
