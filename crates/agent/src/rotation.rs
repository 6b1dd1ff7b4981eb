//! Which file is which after a look at the folder: the pure decision at the heart of
//! tailing through rotation, separate from the file system so tests can drive it.
//!
//! A file is identified by (device, inode) plus a fingerprint of its first bytes:
//! - same identity, fingerprint still matching, not shorter than what was read: the same
//!   file, perhaps renamed (rotation by rename keeps the inode);
//! - same identity but shorter than what was read, or other first bytes: truncated in place
//!   (copytruncate) or the inode was reused: read it again from the start;
//! - a new identity whose first bytes match a tracked file's fingerprint: a copy of it
//!   (copytruncate's copy): the tracked lineage continues in the copy from where it was,
//!   so the lines between the last read and the truncation are not lost, and the original
//!   continues past the copy's length (or from 0 once truncated);
//! - a new identity whose bytes so far are a prefix of a tracked file that is still there
//!   and not truncated, and that is shorter than it or than what was read of it: a copy
//!   still being written (logrotate writes the copy in place, so it can be seen empty or
//!   half done): no decision yet, it is looked at again next time. Deciding "new file"
//!   there would send the whole lineage again from offset 0;
//! - a new identity otherwise: a new file;
//! - a tracked identity no longer listed: gone (deleted, or renamed out of the pattern);
//!   its open descriptor is read to the end before it is dropped.

/// Bytes at the start of a file its fingerprint covers.
pub const FINGERPRINT_BYTES: usize = 1024;

/// (device, inode).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct FileId {
    /// Device number.
    pub dev: u64,
    /// Inode number.
    pub ino: u64,
}

/// CRC-32C of a file's first `len` bytes (`len` ≤ [`FINGERPRINT_BYTES`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Fingerprint {
    /// How many bytes it covers.
    pub len: u32,
    /// Their CRC-32C.
    pub crc: u32,
}

impl Fingerprint {
    /// The fingerprint of a file whose first bytes are `prefix`; `None` for an empty file.
    pub fn of(prefix: &[u8]) -> Option<Fingerprint> {
        let prefix = &prefix[..prefix.len().min(FINGERPRINT_BYTES)];
        (!prefix.is_empty()).then(|| Fingerprint { len: prefix.len() as u32, crc: crc32c::crc32c(prefix) })
    }

    /// Whether a file beginning with `prefix` begins with the bytes this covers.
    pub fn matches(&self, prefix: &[u8]) -> bool {
        let len = self.len as usize;
        prefix.len() >= len && crc32c::crc32c(&prefix[..len]) == self.crc
    }
}

/// What is known of a tracked file.
#[derive(Clone, Copy, Debug)]
pub struct TrackedView<'a> {
    /// Its identity.
    pub id: FileId,
    /// Its fingerprint when last seen (`None`: it was empty).
    pub fingerprint: Option<Fingerprint>,
    /// Its first bytes when last seen (up to [`FINGERPRINT_BYTES`]); empty when only the
    /// fingerprint is known (restored from a checkpoint and not seen since).
    pub head: &'a [u8],
    /// Bytes consumed so far.
    pub read_offset: u64,
}

/// A file matching the pattern, as listed now.
#[derive(Clone, Debug)]
pub struct ListedView<'a> {
    /// Its identity.
    pub id: FileId,
    /// Its size.
    pub size: u64,
    /// Its first bytes (up to [`FINGERPRINT_BYTES`]).
    pub prefix: &'a [u8],
}

/// What to do with a tracked or listed file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The tracked file is the listed one (maybe renamed); refresh its fingerprint.
    Continue {
        /// Index in the tracked list.
        tracked: usize,
        /// Index in the listing.
        listed: usize,
        /// The fingerprint, perhaps longer now.
        fingerprint: Option<Fingerprint>,
    },
    /// The tracked file was truncated or replaced in place: a new lineage from offset 0.
    Restart {
        /// Index in the tracked list (its lineage ends).
        tracked: usize,
        /// Index in the listing.
        listed: usize,
    },
    /// The tracked lineage continues in a copy; the original (if still listed) goes on as
    /// a new lineage from `original_offset`, read after the copy.
    MovedToCopy {
        /// Index in the tracked list.
        tracked: usize,
        /// The copy's index in the listing.
        copy: usize,
        /// The original's index in the listing, if it is still there.
        original: Option<usize>,
        /// Where the original's new lineage starts.
        original_offset: u64,
    },
    /// A file that may be a copy still being written: no decision until it is complete.
    Wait {
        /// Index in the listing.
        listed: usize,
    },
    /// A file not seen before.
    New {
        /// Index in the listing.
        listed: usize,
    },
    /// A tracked file no longer listed.
    Gone {
        /// Index in the tracked list.
        tracked: usize,
    },
}

/// Decides, for every tracked and listed file, what it has become.
pub fn reconcile(tracked: &[TrackedView], listed: &[ListedView<'_>]) -> Vec<Decision> {
    let mut decisions = Vec::new();
    let by_id = |id: FileId| listed.iter().position(|l| l.id == id);
    let tracked_ids: Vec<Option<usize>> = tracked.iter().map(|t| by_id(t.id)).collect();
    let mut listed_used = vec![false; listed.len()];
    for slot in tracked_ids.iter().flatten() {
        listed_used[*slot] = true;
    }
    // Copies first: a listed file unknown by identity whose first bytes are a tracked
    // file's takes over that lineage (or waits while it may still be being copied).
    let mut moved = vec![false; tracked.len()];
    for (l, file) in listed.iter().enumerate() {
        if listed_used[l] {
            continue;
        }
        let relation = tracked.iter().enumerate().filter(|(t, _)| !moved[*t]).find_map(|(t, view)| {
            let original = tracked_ids[t].map(|o| &listed[o]);
            match copy_relation(view, file, original) {
                CopyRelation::Unrelated => None,
                relation => Some((t, relation)),
            }
        });
        match relation {
            Some((_, CopyRelation::InProgress)) => {
                listed_used[l] = true;
                decisions.push(Decision::Wait { listed: l });
            }
            Some((t, _)) => {
                let view = &tracked[t];
                moved[t] = true;
                listed_used[l] = true;
                let original = tracked_ids[t];
                let original_offset = match original {
                    Some(o) if is_truncated(view, &listed[o]) => 0,
                    Some(o) => file.size.min(listed[o].size).max(view.read_offset),
                    None => 0,
                };
                decisions.push(Decision::MovedToCopy { tracked: t, copy: l, original, original_offset });
            }
            None => {}
        }
    }
    for (t, view) in tracked.iter().enumerate() {
        if moved[t] {
            continue;
        }
        match tracked_ids[t] {
            None => decisions.push(Decision::Gone { tracked: t }),
            Some(l) if is_truncated(view, &listed[l]) => decisions.push(Decision::Restart { tracked: t, listed: l }),
            Some(l) => {
                let fingerprint = Fingerprint::of(listed[l].prefix).or(view.fingerprint);
                decisions.push(Decision::Continue { tracked: t, listed: l, fingerprint });
            }
        }
    }
    for (l, used) in listed_used.iter().enumerate() {
        if !used {
            decisions.push(Decision::New { listed: l });
        }
    }
    decisions
}

enum CopyRelation {
    Unrelated,
    /// Its bytes so far agree with the tracked file, but it may still be being written.
    InProgress,
    /// A complete copy of the tracked file.
    Copy,
}

/// What the listed `file` (unknown by identity) is to the tracked `view`, whose own file
/// is `original` when still listed.
fn copy_relation(view: &TrackedView<'_>, file: &ListedView<'_>, original: Option<&ListedView<'_>>) -> CopyRelation {
    let Some(fingerprint) = view.fingerprint else { return CopyRelation::Unrelated };
    let complete = if view.head.is_empty() {
        // Only the checksum is known (restored, not looked at yet): a shorter file cannot
        // be compared, so it counts as incomplete; the next look knows the bytes.
        if file.prefix.len() >= fingerprint.len as usize && !fingerprint.matches(file.prefix) {
            return CopyRelation::Unrelated;
        }
        file.prefix.len() >= fingerprint.len as usize
    } else {
        let shared = view.head.len().min(file.prefix.len());
        if view.head[..shared] != file.prefix[..shared] {
            return CopyRelation::Unrelated;
        }
        file.prefix.len() >= view.head.len()
    };
    let original_unchanged = original.is_some_and(|o| !is_truncated(view, o));
    match original {
        // logrotate truncates only once the copy is written, so while the original is
        // intact a copy shorter than it (or than what was read of it) may not be done.
        Some(o) if original_unchanged => {
            if complete && file.size >= view.read_offset && file.size >= o.size {
                CopyRelation::Copy
            } else {
                CopyRelation::InProgress
            }
        }
        _ if complete => CopyRelation::Copy,
        _ => CopyRelation::Unrelated,
    }
}

fn is_truncated(view: &TrackedView<'_>, file: &ListedView<'_>) -> bool {
    file.size < view.read_offset
        || view.fingerprint.is_some_and(|fp| !fp.matches(file.prefix) && file.size >= u64::from(fp.len))
}

/// Whether `name` matches the glob `pattern` (`*` any run, `?` one character).
pub fn glob_matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests;
