//! The local budget: archived segments are removed from the local disk, oldest first,
//! while the local segment files exceed `local_retention_bytes`, and once their newest
//! record is older than `local_retention_ms`. Only archived segments are ever removed
//! here: unarchived data is never dropped to make room, and a segment is removed only
//! after the archive confirms it holds its manifest (a GET of that small object), so an
//! archive emptied behind the log's back never costs the local copy.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;

use super::super::deleter::shrink_gradually;
use super::super::files::segment_name;
use super::Ctx;
use crate::archive::ArchiveError;
use crate::fs::join;

/// Removes archived segments locally while the budget says so, except `unconfirmed`
/// ones (the archive lacked their manifest; this process keeps them local).
pub(super) fn evict(ctx: &Ctx<'_>, unconfirmed: &mut BTreeSet<u64>) {
    let config = &ctx.tier.config;
    if config.local_retention_bytes.is_none() && config.local_retention_ms.is_none() {
        return;
    }
    while !ctx.stopping() {
        let Some((id, len)) = next_victim(ctx, unconfirmed) else {
            return;
        };
        match ctx.tier.config.store.get(&ctx.tier.layout.manifest_key(id)) {
            Ok(_) => {}
            Err(ArchiveError::NotFound { .. }) => {
                unconfirmed.insert(id);
                ctx.shared.counters.archive.missing_manifests_total.fetch_add(1, Ordering::Relaxed);
                tracing::error!(
                    message = "The archive lacks the manifest of a segment recorded as archived; its local copy is kept.",
                    segment_id = id,
                    archive = %ctx.tier.config.store.describe(),
                );
                continue;
            }
            Err(error) => {
                tracing::warn!(message = "Could not confirm an archived segment before removing it locally.", segment_id = id, %error);
                return;
            }
        }
        if let Err(error) = evict_one(ctx, id, len) {
            ctx.shared.counters.archive.local_failures_total.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(message = "Removing an archived segment locally failed.", segment_id = id, %error);
            return;
        }
    }
}

/// The oldest archived local segment the budget wants gone, and its length.
fn next_victim(ctx: &Ctx<'_>, unconfirmed: &BTreeSet<u64>) -> Option<(u64, u64)> {
    let config = &ctx.tier.config;
    let live: Vec<(u64, u64, u64)> =
        ctx.tier.archived.lock().live.values().map(|m| (m.segment_id, m.segment_len, m.last_arrival_ms)).collect();
    let segments = ctx.shared.segments.read();
    let local_bytes: u64 = segments.values().filter(|s| s.local).filter_map(|s| s.file.len().ok()).sum();
    let over_bytes = config.local_retention_bytes.is_some_and(|budget| local_bytes > budget);
    let now = ctx.shared.clock.now_ms();
    live.into_iter()
        .filter(|(id, _, _)| !unconfirmed.contains(id) && segments.get(id).is_some_and(|s| s.local))
        .find(|(_, _, newest_ms)| {
            over_bytes || config.local_retention_ms.is_some_and(|age| newest_ms.saturating_add(age) < now)
        })
        .map(|(id, len, _)| (id, len))
}

/// Points segment `id` at the archive, then unlinks its local file (paced; readers
/// holding the old handle keep reading it). Its index stays: start-up needs it.
fn evict_one(ctx: &Ctx<'_>, id: u64, len: u64) -> std::io::Result<()> {
    {
        let mut segments = ctx.shared.segments.write();
        match segments.get_mut(&id) {
            Some(segment) if segment.local => {
                segment.file = ctx.tier.reader.open_segment(id, len);
                segment.local = false;
            }
            _ => return Ok(()),
        }
    }
    // Damage found in the local copy is not the archive's (its blocks are verified as
    // they are fetched).
    ctx.shared.damage.forget_segments(&[id]);
    let fs = &*ctx.shared.fs;
    let path = join(ctx.log_dir, &segment_name(id));
    let held = fs.open_write(&path).ok();
    fs.remove_file(&path)?;
    // The unlink must be durable before the first shrink: nothing orders the two
    // otherwise, and a crash could bring the file back with its end cut off, which
    // recovery would read as damage in a sealed segment.
    fs.sync_dir(ctx.log_dir)?;
    if let Some(file) = held {
        shrink_gradually(file, len, ctx.stop);
    }
    ctx.shared.counters.archive.evicted_segments_total.fetch_add(1, Ordering::Relaxed);
    tracing::info!(message = "Archived segment removed locally.", segment_id = id, bytes = len);
    Ok(())
}
