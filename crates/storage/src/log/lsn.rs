//! The log sequence number counter and its durable reservation.
//!
//! Records and shards' creation and closing LSNs all come from this one counter, owned
//! by the writer thread. Stream ids and shard uids do not: they are identities, which
//! the metadata store allocates (`MetaStore::allocate_ids`). Before any LSN reaches the disk (in a frame or in
//! metadata) the reservation file (`reserve.rs`) is made to cover it, a block at a time,
//! so a restart continues above every LSN ever handed out even if the records holding
//! the highest ones were cut (torn tail, repair).
//!
//! Invariants: `next` only grows; every LSN below `reserved` is covered on disk; no LSN
//! is above [`LSN_MAX`].

use std::path::PathBuf;

use super::poison::WriteFailure;
use super::state::Shared;
use crate::error::StorageError;
use crate::limits::LSN_MAX;
use crate::reserve;

/// The writer's LSN counter.
pub(super) struct LsnCounter {
    /// The next LSN to hand out.
    next: u64,
    /// Every LSN below this is covered by the durable reservation.
    reserved: u64,
    /// The folder holding the reservation file.
    meta_dir: PathBuf,
}

impl LsnCounter {
    /// Continues at `next`, with the reservation on disk covering LSNs below `reserved`.
    pub(super) fn new(next: u64, reserved: u64, meta_dir: PathBuf) -> Self {
        LsnCounter { next, reserved, meta_dir }
    }

    /// The next LSN to hand out.
    pub(super) fn next(&self) -> u64 {
        self.next
    }

    /// The counter itself, for a metadata transaction that takes shards' creation and
    /// closing LSNs from it.
    pub(super) fn counter(&mut self) -> &mut u64 {
        &mut self.next
    }

    /// Hands out the next LSN for a record.
    pub(super) fn take(&mut self) -> u64 {
        let lsn = self.next;
        // 2^63 LSNs at ten million records a second last 29,000 years.
        assert!(lsn <= LSN_MAX, "LSN space exhausted");
        self.next += 1;
        lsn
    }

    /// Makes the durable reservation cover every LSN handed out so far, before any of
    /// them reaches the disk in a frame or in metadata.
    pub(super) fn reserve(&mut self, shared: &Shared) -> Result<(), WriteFailure> {
        if self.next <= self.reserved {
            return Ok(());
        }
        let until = self.next.saturating_add(reserve::LSN_RESERVE_BLOCK).min(LSN_MAX + 1);
        match reserve::store(&*shared.fs, &self.meta_dir, until) {
            Ok(()) => {
                self.reserved = until;
                Ok(())
            }
            Err(error) if error.raw_os_error() == Some(libc::ENOSPC) => {
                Err(WriteFailure::DiskFull { path: reserve::path(&self.meta_dir) })
            }
            Err(error) => {
                let cause = StorageError::io("reserve LSNs", reserve::path(&self.meta_dir), error);
                Err(shared.poison.trip("reserve LSNs", cause).into())
            }
        }
    }
}
