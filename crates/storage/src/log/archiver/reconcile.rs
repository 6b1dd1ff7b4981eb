//! First contact with the archive: the layout marker, then reconciliation, which deletes
//! the objects a crash leaked (an upload whose segment retention took meanwhile, a
//! retention delete cut short after the record went).

use std::ops::ControlFlow;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::super::files::segment_name;
use super::Ctx;
use crate::archive::{ArchiveError, LAYOUT_MARKER_KEY, LAYOUT_VERSION};
use crate::fs::join;

/// The layout marker's content.
#[derive(Serialize, Deserialize)]
struct LayoutMarker {
    format: String,
    version: u32,
}

const MARKER_FORMAT: &str = "rheo-archive";

/// Checks the layout marker, writing it if missing and no segment is recorded as
/// archived. `Ok(false)`: the archive holds another layout, or lacks the marker although
/// records say it holds segments, so this process must not write to it (logged and
/// counted).
pub(super) fn first_contact(ctx: &Ctx<'_>) -> Result<bool, ArchiveError> {
    let store = &*ctx.tier.config.store;
    let found = match store.get(LAYOUT_MARKER_KEY) {
        Ok(bytes) => bytes,
        Err(ArchiveError::NotFound { .. }) => {
            let recorded = {
                let archived = ctx.tier.archived.lock();
                archived.live.len() + archived.expired.len()
            };
            if recorded > 0 {
                // Records say this archive holds segments, yet it has no marker: it was
                // wiped (a lifecycle rule) or is not the one they were written to. Writing
                // a marker and going on would let eviction drop local copies it lacks.
                ctx.shared.counters.archive.refused.store(true, Ordering::Relaxed);
                tracing::error!(
                    message = "The archive has no layout marker but archived records exist: it was emptied or is not the archive they were written to; archiving is off until restart (appends go on until the local hard limit).",
                    archive = %store.describe(),
                    archived_records = recorded,
                );
                return Ok(false);
            }
            let marker = LayoutMarker { format: MARKER_FORMAT.into(), version: LAYOUT_VERSION };
            let json = serde_json::to_vec(&marker)
                .map_err(|e| ArchiveError::Refused { detail: format!("encoding the layout marker failed: {e}") })?;
            store.put_bytes(LAYOUT_MARKER_KEY, Bytes::from(json))?;
            tracing::info!(message = "Archive layout marker written.", archive = %store.describe());
            return Ok(true);
        }
        Err(other) => return Err(other),
    };
    match serde_json::from_slice::<LayoutMarker>(&found) {
        Ok(marker) if marker.format == MARKER_FORMAT && marker.version == LAYOUT_VERSION => Ok(true),
        other => {
            let found = other.map(|m| format!("{} version {}", m.format, m.version)).unwrap_or_else(|e| e.to_string());
            ctx.shared.counters.archive.refused.store(true, Ordering::Relaxed);
            tracing::error!(
                message = "The archive holds another layout; archiving is off until restart (appends go on until the local hard limit).",
                archive = %store.describe(),
                expected_version = LAYOUT_VERSION,
                %found,
            );
            Ok(false)
        }
    }
}

/// Deletes every object of this log's layout whose segment has neither a record nor a
/// local segment file; counts them. Page by page: each page's leaks are deleted before
/// the next page is read, so memory stays bounded whatever the archive holds.
pub(super) fn reconcile(ctx: &Ctx<'_>) -> Result<(), ArchiveError> {
    let store = &*ctx.tier.config.store;
    store.list_pages(ctx.tier.layout.segments_prefix(), &mut |objects| {
        for object in objects {
            if ctx.stopping() {
                return Ok(ControlFlow::Break(()));
            }
            let Some(id) = ctx.tier.layout.segment_of(&object.key) else {
                continue;
            };
            // Asked per object, not from a snapshot taken before the listing: the
            // records only grow on this thread, and retention moves a record from live
            // to expired, which both count.
            let recorded = {
                let archived = ctx.tier.archived.lock();
                archived.live.contains_key(&id) || archived.expired.contains_key(&id)
            };
            if recorded || ctx.shared.fs.exists(&join(ctx.log_dir, &segment_name(id))) {
                continue;
            }
            store.delete(&object.key)?;
            ctx.shared.counters.archive.reconciled_objects_total.fetch_add(1, Ordering::Relaxed);
            tracing::info!(message = "Leaked archive object deleted.", key = %object.key, segment_id = id);
        }
        Ok(ControlFlow::Continue(()))
    })
}
