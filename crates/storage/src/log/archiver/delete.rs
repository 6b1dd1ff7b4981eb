//! Deleting the objects of archived segments retention expired: manifest first (the
//! segment stops being archived), then the segment file and index, then the durable
//! record, then the local index the record needed. A crash anywhere in between leaves
//! the record, so the next start restores the segment, retention expires it again and
//! the deletion is redone.

use std::sync::atomic::Ordering;

use super::super::files::{index_name, segment_name};
use super::error::ArchiverError;
use super::Ctx;
use crate::archive::ArchiveError;
use crate::fs::join;

/// Deletes every expired archived segment's objects and record; a failure is counted
/// and the rest waits for the next pass.
pub(super) fn delete_expired(ctx: &Ctx<'_>) {
    let expired: Vec<u64> = ctx.tier.archived.lock().expired.keys().copied().collect();
    for id in expired {
        if ctx.stopping() {
            return;
        }
        match delete_archived(ctx, id) {
            Ok(()) => {
                ctx.shared.counters.archive.deleted_segments_total.fetch_add(1, Ordering::Relaxed);
                tracing::info!(message = "Expired segment deleted from the archive.", segment_id = id);
            }
            Err(error) => {
                let counters = &ctx.shared.counters.archive;
                match &error {
                    ArchiverError::Archive(_) => &counters.delete_failures_total,
                    ArchiverError::Local { .. } => &counters.local_failures_total,
                }
                .fetch_add(1, Ordering::Relaxed);
                tracing::warn!(message = "Deleting an expired segment from the archive failed.", segment_id = id, side = error.side(), %error);
                ctx.reconcile_due.set(true);
                return;
            }
        }
    }
}

/// Deletes segment `id`'s objects, manifest first.
pub(super) fn delete_objects(ctx: &Ctx<'_>, id: u64) -> Result<(), ArchiveError> {
    let layout = &ctx.tier.layout;
    for key in [layout.manifest_key(id), layout.segment_key(id), layout.index_key(id)] {
        ctx.tier.config.store.delete(&key)?;
    }
    Ok(())
}

fn delete_archived(ctx: &Ctx<'_>, id: u64) -> Result<(), ArchiverError> {
    delete_objects(ctx, id)?;
    let local = |what: &'static str, e: &dyn std::fmt::Display| ArchiverError::local(what, e);
    ctx.tier.meta_store.remove_archived(id).map_err(|e| local("removing the archived record failed", &e))?;
    ctx.tier.archived.lock().expired.remove(&id);
    ctx.tier.reader.forget_segment(id);
    let fs = &*ctx.shared.fs;
    for name in [segment_name(id), index_name(id)] {
        let path = join(ctx.log_dir, &name);
        match fs.remove_file(&path) {
            // Already gone (retention unlinks the segment file on the writer thread).
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                return Err(local("removing a local file failed", &error));
            }
            _ => {}
        }
    }
    fs.sync_dir(ctx.log_dir).map_err(|e| local("syncing the log folder failed", &e))
}
