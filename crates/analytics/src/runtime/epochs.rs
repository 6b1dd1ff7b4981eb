//! Which input positions are safe to save (plan §3.6).
//!
//! Reads are numbered by epoch (a new epoch at most every `EPOCH_MS`), every row carries
//! the epoch of the records it derives from, and the executor and the outputs say the
//! oldest epoch they still hold. The position saved is the one recorded at the end of the
//! last epoch before that one: every record before it has had all its rows written out,
//! so a restart from it loses nothing (and re-reads at most what was still held).

use std::collections::{BTreeMap, VecDeque};

use super::InputPosition;
use crate::limits::{EPOCHS_HELD_MAX, EPOCH_MS};

/// Positions of every input, by input id.
pub(super) type Positions = BTreeMap<String, InputPosition>;

pub(super) struct Epochs {
    current: u32,
    current_started_ms: i64,
    /// Positions after the current epoch's last batch; `None` before its first.
    current_end: Option<Positions>,
    length_ms: i64,
    /// Ended epochs with the positions after their last batch, oldest first.
    ended: VecDeque<(u32, Positions)>,
    /// Every record before these positions has left the application.
    released: Positions,
}

impl Epochs {
    /// Tracking that starts at `start` (the positions the inputs opened at).
    pub fn new(start: Positions, now_ms: i64) -> Self {
        Epochs {
            current: 0,
            current_started_ms: now_ms,
            current_end: None,
            length_ms: EPOCH_MS,
            ended: VecDeque::new(),
            released: start,
        }
    }

    /// The epoch of a batch read at `now_ms`.
    pub fn epoch_at(&mut self, now_ms: i64) -> u32 {
        if now_ms - self.current_started_ms >= self.length_ms {
            if self.ended.len() >= EPOCHS_HELD_MAX {
                // Coarser epochs keep the bound; the current one just grows.
                self.length_ms = self.length_ms.saturating_mul(2);
            } else if let Some(end) = self.current_end.take() {
                self.ended.push_back((self.current, end));
                self.current = self.current.wrapping_add(1);
                self.current_started_ms = now_ms;
            }
        }
        self.current
    }

    /// Records where the inputs stand after a batch of the current epoch.
    pub fn after_batch(&mut self, positions: Positions) {
        self.current_end = Some(positions);
    }

    /// The positions safe to save when `held` is the oldest epoch still held (by open
    /// windows, undrained rows or unacknowledged output records), `now` being where the
    /// inputs stand.
    pub fn durable(&mut self, held: Option<u32>, now: Positions) -> &Positions {
        match held {
            None => {
                self.ended.clear();
                self.current_end = None;
                self.released = now;
            }
            Some(held) => {
                while let Some((epoch, _)) = self.ended.front() {
                    if *epoch >= held {
                        break;
                    }
                    if let Some((_, positions)) = self.ended.pop_front() {
                        self.released = positions;
                    }
                }
                if held > self.current {
                    if let Some(end) = self.current_end.take() {
                        self.released = end;
                    }
                }
            }
        }
        &self.released
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(next_lsn: u64) -> Positions {
        [("1.1".to_owned(), InputPosition::Firehose { stream_uid: 7, next_lsn })].into()
    }

    #[test]
    fn the_saved_position_is_the_end_of_the_epoch_before_the_oldest_held() {
        let mut epochs = Epochs::new(at(0), 0);
        assert_eq!(epochs.epoch_at(10), 0);
        epochs.after_batch(at(5));
        assert_eq!(epochs.epoch_at(EPOCH_MS), 1);
        epochs.after_batch(at(9));
        assert_eq!(epochs.epoch_at(2 * EPOCH_MS), 2);
        epochs.after_batch(at(12));
        // Epoch 0's rows are still in a window: nothing read is released.
        assert_eq!(epochs.durable(Some(0), at(12)), &at(0));
        // Epoch 1 is the oldest held: epoch 0's end is safe.
        assert_eq!(epochs.durable(Some(1), at(12)), &at(5));
        assert_eq!(epochs.durable(Some(2), at(12)), &at(9));
        // Nothing held: everything read is safe.
        assert_eq!(epochs.durable(None, at(12)), &at(12));
        // The position never goes back once released.
        assert_eq!(epochs.durable(Some(2), at(12)), &at(12));
    }

    #[test]
    fn epochs_only_advance_after_a_batch_and_stay_bounded() {
        let mut epochs = Epochs::new(at(0), 0);
        // An idle epoch (no batch) does not end.
        assert_eq!(epochs.epoch_at(5 * EPOCH_MS), 0);
        let mut now = 5 * EPOCH_MS;
        for n in 0..(EPOCHS_HELD_MAX as u64 + 10) {
            epochs.epoch_at(now);
            epochs.after_batch(at(n));
            now += EPOCH_MS;
        }
        assert!(epochs.ended.len() <= EPOCHS_HELD_MAX);
        assert!(epochs.length_ms > EPOCH_MS);
        assert_eq!(epochs.durable(Some(0), at(0)), &at(0));
    }
}
