//! The folder archive (`file:///PATH`): objects as files under a root folder, reached
//! through the [`FileSystem`] seam.
//!
//! Meant for a NAS mount or a test folder, so it is as durable as the log itself: a put
//! writes a temporary file beside its target, syncs it, renames it over the target and
//! syncs the folder, so after a machine crash an object is either whole or absent (the
//! previous version when it replaced one), never torn. Temporary files end in
//! [`TEMP_SUFFIX`]; listings skip them and [`FsArchive::open`] removes the ones a crash
//! left behind.
//!
//! Keys are `/`-separated relative paths; one that could leave the root (`..`, an
//! absolute path) or name something odd (empty or `.` components, NUL, the temporary
//! suffix) is refused rather than normalised, so two keys never alias one file.

use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;

use super::{ArchiveError, ListPage, ObjectArchive, ObjectInfo, Pager};
use crate::fs::{FileSystem, ReadFile};
use crate::limits::ARCHIVE_PART_BYTES;

/// Suffix of a put's temporary file.
pub const TEMP_SUFFIX: &str = ".rheo-tmp";

/// Longest key accepted, in bytes (a path component of a filesystem is at most 255).
pub const FS_ARCHIVE_KEY_MAX_BYTES: usize = 1024;

/// An archive in a folder.
pub struct FsArchive {
    fs: Arc<dyn FileSystem>,
    root: PathBuf,
    /// Makes temporary names unique among concurrent puts of one process.
    next_temp: AtomicU64,
}

impl std::fmt::Debug for FsArchive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FsArchive").field("root", &self.root).finish_non_exhaustive()
    }
}

impl FsArchive {
    /// The archive rooted at `root`, which must exist; removes temporary files an
    /// interrupted put left behind. A missing root is refused rather than created: it is
    /// most likely a network share that is not mounted, and creating it would archive
    /// onto the local disk, out of sight of the real archive.
    pub fn open(fs: Arc<dyn FileSystem>, root: impl Into<PathBuf>) -> Result<Self, ArchiveError> {
        let root = root.into();
        if !fs.exists(&root) {
            return Err(ArchiveError::Refused {
                detail: format!(
                    "the archive folder {} does not exist: create it, or mount the share it lives on",
                    root.display()
                ),
            });
        }
        let archive = FsArchive { fs, root, next_temp: AtomicU64::new(0) };
        archive.remove_leftovers(&archive.root.clone())?;
        Ok(archive)
    }

    /// The root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn remove_leftovers(&self, dir: &Path) -> Result<(), ArchiveError> {
        for entry in self.entries(dir)? {
            match entry {
                Entry::Dir(path) => self.remove_leftovers(&path)?,
                Entry::File(path, name) if name.ends_with(TEMP_SUFFIX) => {
                    tracing::info!(message = "Removing an interrupted upload's temporary file.", path = %path.display());
                    match self.fs.remove_file(&path) {
                        Ok(()) => {}
                        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                        Err(e) => return Err(io_error(&path.display().to_string(), &e)),
                    }
                }
                Entry::File(..) => {}
            }
        }
        Ok(())
    }

    /// The entries of a folder, told apart into files and sub-folders.
    fn entries(&self, dir: &Path) -> Result<Vec<Entry>, ArchiveError> {
        let names = match self.fs.list_dir(dir) {
            Ok(names) => names,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_error(&dir.display().to_string(), &e)),
        };
        let mut entries = Vec::with_capacity(names.len());
        for name in names {
            let path = dir.join(&name);
            // The seam has no stat: listing a file fails (ENOTDIR on a real disk), which
            // is how a file is told from a folder.
            match self.fs.list_dir(&path) {
                Ok(_) => entries.push(Entry::Dir(path)),
                Err(e) if matches!(e.kind(), io::ErrorKind::NotADirectory | io::ErrorKind::NotFound) => {
                    entries.push(Entry::File(path, name))
                }
                Err(e) => return Err(io_error(&path.display().to_string(), &e)),
            }
        }
        Ok(entries)
    }

    fn path_of(&self, key: &str) -> Result<PathBuf, ArchiveError> {
        validate_key(key)?;
        Ok(self.root.join(key))
    }

    /// Writes `len` bytes produced by `fill` (called with an offset and a buffer to fill)
    /// to `key`, durably and atomically.
    fn put_with(
        &self,
        key: &str,
        len: u64,
        mut fill: impl FnMut(u64, &mut [u8]) -> Result<(), ArchiveError>,
    ) -> Result<(), ArchiveError> {
        let target = self.path_of(key)?;
        let parent = target.parent().unwrap_or(&self.root).to_path_buf();
        self.refuse_folder_file_clash(key, &target)?;
        self.ensure_dir(&parent)?;
        let name = target.file_name().and_then(|n| n.to_str()).unwrap_or("object");
        let serial = self.next_temp.fetch_add(1, Ordering::Relaxed);
        let temp = parent.join(format!("{name}.{}-{serial}{TEMP_SUFFIX}", std::process::id()));
        let written = self.write_temp(&temp, len, &mut fill);
        if let Err(error) = written {
            // Best effort: a leftover is removed at the next open anyway.
            let _ = self.fs.remove_file(&temp);
            return Err(error);
        }
        self.fs.rename(&temp, &target).map_err(|e| io_error(key, &e))?;
        self.fs.sync_dir(&parent).map_err(|e| io_error(key, &e))?;
        Ok(())
    }

    fn write_temp(
        &self,
        temp: &Path,
        len: u64,
        fill: &mut impl FnMut(u64, &mut [u8]) -> Result<(), ArchiveError>,
    ) -> Result<(), ArchiveError> {
        let what = temp.display().to_string();
        let mut file = self.fs.open_write(temp).map_err(|e| io_error(&what, &e))?;
        file.set_len(0).map_err(|e| io_error(&what, &e))?;
        let mut buf = vec![0u8; len.min(ARCHIVE_PART_BYTES) as usize];
        let mut offset = 0u64;
        while offset < len {
            let piece = (len - offset).min(ARCHIVE_PART_BYTES) as usize;
            fill(offset, &mut buf[..piece])?;
            file.write_all_at(&buf[..piece], offset).map_err(|e| io_error(&what, &e))?;
            offset += piece as u64;
        }
        file.sync_data().map_err(|e| io_error(&what, &e))
    }

    /// A key cannot name a folder of other keys (`a` beside `a/b`), nor sit under a key
    /// (`a/b` beside `a`): a filesystem holds a file or a folder at one path, not both.
    fn refuse_folder_file_clash(&self, key: &str, target: &Path) -> Result<(), ArchiveError> {
        let is_folder = |path: &Path| self.fs.list_dir(path).is_ok();
        if self.fs.exists(target) && is_folder(target) {
            return Err(ArchiveError::Refused { detail: format!("key {key:?} names a folder of other keys") });
        }
        let mut ancestor = target.parent();
        while let Some(path) = ancestor.filter(|p| p.starts_with(&self.root) && *p != self.root) {
            if self.fs.exists(path) && !is_folder(path) {
                return Err(ArchiveError::Refused {
                    detail: format!("key {key:?} lies under {}, which is an object", path.display()),
                });
            }
            ancestor = path.parent();
        }
        Ok(())
    }

    /// Creates `dir` and makes its entry durable in each parent it had to create.
    fn ensure_dir(&self, dir: &Path) -> Result<(), ArchiveError> {
        crate::fs::create_dir_durably(&*self.fs, dir).map_err(|e| io_error(&dir.display().to_string(), &e))
    }

    fn open_object(&self, key: &str) -> Result<Arc<dyn ReadFile>, ArchiveError> {
        let path = self.path_of(key)?;
        self.fs.open_read(&path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => ArchiveError::NotFound { key: key.to_owned() },
            _ => io_error(key, &e),
        })
    }

    /// Lists the objects under `dir` (whose key is `dir_key`) starting with `prefix` into
    /// `pager`, in name order within the folder, sub-folders depth first. `Ok(false)`:
    /// the caller broke off.
    fn walk(&self, dir: &Path, dir_key: &str, prefix: &str, pager: &mut Pager<'_, '_>) -> Result<bool, ArchiveError> {
        let mut entries = self.entries(dir)?;
        entries.sort_by(|a, b| a.name().cmp(b.name()));
        for entry in entries {
            match entry {
                Entry::Dir(path) => {
                    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                    let key = format!("{dir_key}{name}/");
                    // Only folders that can hold a key with the prefix.
                    if (key.starts_with(prefix) || prefix.starts_with(&key))
                        && !self.walk(&path, &key, prefix, pager)?
                    {
                        return Ok(false);
                    }
                }
                Entry::File(path, name) => {
                    let key = format!("{dir_key}{name}");
                    if name.ends_with(TEMP_SUFFIX) || !key.starts_with(prefix) {
                        continue;
                    }
                    match self.fs.open_read(&path).and_then(|file| file.len()) {
                        Ok(size) => {
                            if !pager.push(ObjectInfo { key, size })? {
                                return Ok(false);
                            }
                        }
                        // Deleted while listing.
                        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                        Err(e) => return Err(io_error(&key, &e)),
                    }
                }
            }
        }
        Ok(true)
    }
}

enum Entry {
    Dir(PathBuf),
    File(PathBuf, String),
}

impl Entry {
    fn name(&self) -> &str {
        match self {
            Entry::Dir(path) => path.file_name().and_then(|n| n.to_str()).unwrap_or_default(),
            Entry::File(_, name) => name,
        }
    }
}

impl ObjectArchive for FsArchive {
    fn describe(&self) -> String {
        format!("file://{}", self.root.display())
    }

    fn put_file(&self, key: &str, source: &dyn ReadFile, len: u64) -> Result<(), ArchiveError> {
        self.put_with(key, len, |offset, buf| {
            source.read_exact_at(buf, offset).map_err(|e| ArchiveError::Unavailable {
                detail: format!("reading the local file for {key} failed: {e}"),
            })
        })
    }

    fn put_bytes(&self, key: &str, bytes: Bytes) -> Result<(), ArchiveError> {
        self.put_with(key, bytes.len() as u64, |offset, buf| {
            let start = offset as usize;
            buf.copy_from_slice(&bytes[start..start + buf.len()]);
            Ok(())
        })
    }

    fn get_range(&self, key: &str, range: Range<u64>) -> Result<Bytes, ArchiveError> {
        let file = self.open_object(key)?;
        let size = file.len().map_err(|e| io_error(key, &e))?;
        if range.start > range.end || range.end > size {
            return Err(ArchiveError::Refused { detail: format!("range {range:?} of {key} outside its {size} bytes") });
        }
        let mut buf = vec![0u8; (range.end - range.start) as usize];
        file.read_exact_at(&mut buf, range.start).map_err(|e| io_error(key, &e))?;
        Ok(Bytes::from(buf))
    }

    fn get(&self, key: &str) -> Result<Bytes, ArchiveError> {
        let file = self.open_object(key)?;
        let size = file.len().map_err(|e| io_error(key, &e))?;
        let mut buf = vec![0u8; size as usize];
        file.read_exact_at(&mut buf, 0).map_err(|e| io_error(key, &e))?;
        Ok(Bytes::from(buf))
    }

    fn delete(&self, key: &str) -> Result<(), ArchiveError> {
        let path = self.path_of(key)?;
        match self.fs.remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io_error(key, &e)),
        }
        let parent = path.parent().unwrap_or(&self.root);
        self.fs.sync_dir(parent).map_err(|e| io_error(key, &e))
    }

    /// Holds one folder's names at a time (the filesystem seam lists a folder whole);
    /// the caller gets them in pages.
    fn list_pages(&self, prefix: &str, page: &mut ListPage<'_>) -> Result<(), ArchiveError> {
        let mut pager = Pager::new(page);
        if self.walk(&self.root, "", prefix, &mut pager)? {
            pager.finish()?;
        }
        Ok(())
    }
}

/// Checks that `key` is a plain relative path that stays under the root.
pub fn validate_key(key: &str) -> Result<(), ArchiveError> {
    let refuse = |why: &str| Err(ArchiveError::Refused { detail: format!("key {key:?} {why}") });
    if key.is_empty() {
        return refuse("is empty");
    }
    if key.len() > FS_ARCHIVE_KEY_MAX_BYTES {
        return refuse("is too long");
    }
    if key.contains('\0') {
        return refuse("contains NUL");
    }
    if key.starts_with('/') {
        return refuse("is absolute");
    }
    for component in key.split('/') {
        match component {
            "" => return refuse("has an empty path component"),
            "." | ".." => return refuse("has a . or .. path component"),
            _ if component.ends_with(TEMP_SUFFIX) => return refuse("ends like a temporary file"),
            _ => {}
        }
    }
    Ok(())
}

/// A filesystem error as an archive error: a missing file is `NotFound`, a permission
/// problem will not go away by retrying, anything else (EIO, a full disk, a NAS gone)
/// may.
fn io_error(what: &str, error: &io::Error) -> ArchiveError {
    match error.kind() {
        io::ErrorKind::NotFound => ArchiveError::NotFound { key: what.to_owned() },
        io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => {
            ArchiveError::Refused { detail: format!("{what}: {error}") }
        }
        _ => ArchiveError::Unavailable { detail: format!("{what}: {error}") },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::archive::list_all;
    use crate::memfs::{MemFs, Tear};
    use proptest::prelude::*;

    fn archive(fs: &MemFs) -> FsArchive {
        fs.create_dir_all(Path::new("/archive")).unwrap();
        fs.sync_dir(Path::new("/")).unwrap();
        FsArchive::open(Arc::new(fs.clone()), "/archive").unwrap()
    }

    #[test]
    fn a_missing_root_is_refused_not_created() {
        let fs = MemFs::new();
        let error = FsArchive::open(Arc::new(fs.clone()), "/nas/archive").unwrap_err();
        assert!(matches!(error, ArchiveError::Refused { .. }), "{error:?}");
        assert!(error.to_string().contains("/nas/archive does not exist"), "{error}");
        assert!(!fs.exists(Path::new("/nas/archive")), "nothing is created");
    }

    #[test]
    fn a_folder_longer_than_a_page_is_listed_in_pages() {
        let archive = archive(&MemFs::new());
        let count = crate::archive::ARCHIVE_LIST_PAGE + 5;
        for i in 0..count {
            archive.put_bytes(&format!("s/{i:06}"), Bytes::from_static(b"x")).unwrap();
        }
        let mut sizes = Vec::new();
        archive
            .list_pages("s/", &mut |page| {
                sizes.push(page.len());
                Ok(std::ops::ControlFlow::Continue(()))
            })
            .unwrap();
        assert_eq!(sizes, [crate::archive::ARCHIVE_LIST_PAGE, 5]);
    }

    #[test]
    fn objects_round_trip_and_list_in_key_order() {
        let fs = MemFs::new();
        let archive = archive(&fs);
        archive.put_bytes("v1/s/streams/segments/b.json", Bytes::from_static(b"{}")).unwrap();
        archive.put_bytes("v1/s/streams/segments/a.seg", Bytes::from_static(b"segment")).unwrap();
        archive.put_bytes("rheo-archive.json", Bytes::from_static(b"marker")).unwrap();
        archive.put_bytes("v1/t/x", Bytes::from_static(b"other")).unwrap();

        assert_eq!(archive.get("v1/s/streams/segments/a.seg").unwrap(), Bytes::from_static(b"segment"));
        assert_eq!(archive.get_range("v1/s/streams/segments/a.seg", 2..5).unwrap(), Bytes::from_static(b"gme"));
        assert_eq!(archive.get_range("v1/s/streams/segments/a.seg", 7..7).unwrap(), Bytes::new());
        let keys: Vec<_> = list_all(&archive, "").unwrap().into_iter().map(|o| (o.key, o.size)).collect();
        assert_eq!(
            keys,
            [
                ("rheo-archive.json".to_owned(), 6),
                ("v1/s/streams/segments/a.seg".to_owned(), 7),
                ("v1/s/streams/segments/b.json".to_owned(), 2),
                ("v1/t/x".to_owned(), 5),
            ]
        );
        let under_s: Vec<_> = list_all(&archive, "v1/s/").unwrap().into_iter().map(|o| o.key).collect();
        assert_eq!(under_s, ["v1/s/streams/segments/a.seg", "v1/s/streams/segments/b.json"]);
        // A prefix need not end at a folder boundary.
        let partial: Vec<_> =
            list_all(&archive, "v1/s/streams/segments/a").unwrap().into_iter().map(|o| o.key).collect();
        assert_eq!(partial, ["v1/s/streams/segments/a.seg"]);
        assert!(list_all(&archive, "v2/").unwrap().is_empty());
    }

    #[test]
    fn ranges_past_the_end_and_missing_keys_are_errors_and_deleting_twice_is_not() {
        let fs = MemFs::new();
        let archive = archive(&fs);
        archive.put_bytes("k/o", Bytes::from_static(b"12345")).unwrap();
        assert!(matches!(archive.get_range("k/o", 3..6), Err(ArchiveError::Refused { .. })));
        assert!(matches!(archive.get("k/missing"), Err(ArchiveError::NotFound { .. })));
        assert!(matches!(archive.get_range("nothing/here", 0..1), Err(ArchiveError::NotFound { .. })));
        archive.delete("k/o").unwrap();
        archive.delete("k/o").unwrap();
        assert!(matches!(archive.get("k/o"), Err(ArchiveError::NotFound { .. })));
        assert!(list_all(&archive, "").unwrap().is_empty());
    }

    #[test]
    fn put_file_copies_in_bounded_parts() {
        let fs = MemFs::new();
        let len = ARCHIVE_PART_BYTES as usize * 2 + 12_345;
        let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
        fs.create_dir_all(Path::new("/local")).unwrap();
        fs.write_all(Path::new("/local/seg"), &data);
        let source = fs.open_read(Path::new("/local/seg")).unwrap();
        let archive = archive(&fs);
        archive.put_file("v1/seg", source.as_ref(), len as u64 - 5).unwrap();
        let stored = archive.get("v1/seg").unwrap();
        assert_eq!(stored.len(), len - 5);
        assert!(stored[..] == data[..len - 5]);
    }

    #[test]
    fn a_put_interrupted_by_a_crash_is_gone_or_whole_never_torn() {
        let fs = MemFs::new();
        let archive = archive(&fs);
        archive.put_bytes("v1/kept", Bytes::from_static(b"first version")).unwrap();

        // The sync fails: the put reports it, and after a crash neither key shows a torn object.
        fs.fail_next_syncs(1);
        assert!(archive.put_bytes("v1/kept", Bytes::from_static(b"second version, longer")).is_err());
        fs.fail_next_syncs(1);
        assert!(archive.put_bytes("v1/new", Bytes::from_static(b"never synced")).is_err());
        fs.crash(Tear::Partial { keep: 3, garbage: 7 });

        let archive = FsArchive::open(Arc::new(fs.clone()), "/archive").unwrap();
        assert_eq!(archive.get("v1/kept").unwrap(), Bytes::from_static(b"first version"));
        assert!(matches!(archive.get("v1/new"), Err(ArchiveError::NotFound { .. })));
        let keys: Vec<_> = list_all(&archive, "").unwrap().into_iter().map(|o| o.key).collect();
        assert_eq!(keys, ["v1/kept"]);

        // A put that returned survives the crash whole.
        archive.put_bytes("v1/new", Bytes::from_static(b"synced")).unwrap();
        fs.crash(Tear::Partial { keep: 1, garbage: 9 });
        let archive = FsArchive::open(Arc::new(fs.clone()), "/archive").unwrap();
        assert_eq!(archive.get("v1/new").unwrap(), Bytes::from_static(b"synced"));
    }

    #[test]
    fn temporary_files_left_by_a_crash_are_skipped_and_removed_at_open() {
        let fs = MemFs::new();
        let archive = archive(&fs);
        archive.put_bytes("v1/a", Bytes::from_static(b"a")).unwrap();
        fs.write_all(Path::new("/archive/v1/a.1-0.rheo-tmp"), b"half");
        assert_eq!(list_all(&archive, "").unwrap().len(), 1);
        let _reopened = FsArchive::open(Arc::new(fs.clone()), "/archive").unwrap();
        assert!(!fs.exists(Path::new("/archive/v1/a.1-0.rheo-tmp")));
        assert!(fs.exists(Path::new("/archive/v1/a")));
    }

    #[test]
    fn a_failing_disk_is_unavailable_not_a_panic() {
        let fs = MemFs::new();
        let archive = archive(&fs);
        fs.fail_next_writes(1);
        let error = archive.put_bytes("v1/x", Bytes::from_static(b"x")).unwrap_err();
        assert!(error.is_transient(), "{error}");
        assert!(list_all(&archive, "").unwrap().is_empty());
    }

    #[test]
    fn keys_that_could_leave_the_root_are_refused() {
        let fs = MemFs::new();
        let archive = archive(&fs);
        for key in ["", "/etc/passwd", "../x", "a/../../x", "a//b", "a/", "./a", "a/.", "x.rheo-tmp", "a\0b"] {
            assert!(
                matches!(archive.put_bytes(key, Bytes::from_static(b"x")), Err(ArchiveError::Refused { .. })),
                "{key:?}"
            );
            assert!(matches!(archive.get(key), Err(ArchiveError::Refused { .. })), "{key:?}");
        }
    }

    #[test]
    fn works_on_the_real_filesystem() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("arch")).unwrap();
        let archive = FsArchive::open(Arc::new(crate::fs::StdFs), dir.path().join("arch")).unwrap();
        archive.put_bytes("v1/a/b.seg", Bytes::from_static(b"bytes")).unwrap();
        assert_eq!(archive.get_range("v1/a/b.seg", 1..3).unwrap(), Bytes::from_static(b"yt"));
        let keys: Vec<_> = list_all(&archive, "v1/").unwrap().into_iter().map(|o| (o.key, o.size)).collect();
        assert_eq!(keys, [("v1/a/b.seg".to_owned(), 5)]);
        archive.delete("v1/a/b.seg").unwrap();
        assert!(list_all(&archive, "").unwrap().is_empty());
    }

    #[derive(Debug, Clone)]
    enum Op {
        Put(String, Vec<u8>),
        Delete(String),
        Get(String),
        Range(String, u64, u64),
        List(String),
    }

    fn op() -> impl Strategy<Value = Op> {
        let key =
            proptest::sample::select(vec!["a", "a/b", "a/c.seg", "b/a/x", "ab", "v1/s/1.json"]).prop_map(String::from);
        let prefix = proptest::sample::select(vec!["", "a", "a/", "a/b", "b/", "v1/s/", "zz"]).prop_map(String::from);
        prop_oneof![
            (key.clone(), proptest::collection::vec(any::<u8>(), 0..40)).prop_map(|(k, v)| Op::Put(k, v)),
            key.clone().prop_map(Op::Delete),
            key.clone().prop_map(Op::Get),
            (key, 0..50u64, 0..50u64).prop_map(|(k, a, b)| Op::Range(k, a.min(b), a.max(b))),
            prefix.prop_map(Op::List),
        ]
    }

    /// What an error means to a caller, without its text.
    fn kind<T>(result: &Result<T, ArchiveError>) -> Option<&'static str> {
        match result {
            Ok(_) => None,
            Err(ArchiveError::NotFound { .. }) => Some("not found"),
            Err(ArchiveError::Refused { .. }) => Some("refused"),
            Err(ArchiveError::Unavailable { .. }) => Some("unavailable"),
            Err(ArchiveError::Corrupt { .. }) => Some("corrupt"),
        }
    }

    proptest! {
        /// The folder archive answers every sequence of calls as the in-memory one does.
        /// Keys where one is a folder of another (`a` and `a/b`) cannot both exist on a
        /// filesystem; the model skips puts the folder archive cannot make.
        #[test]
        fn behaves_like_the_memory_archive(ops in proptest::collection::vec(op(), 1..40)) {
            let fs = MemFs::new();
            let folder = archive(&fs);
            let model = crate::archive::MemArchive::new();
            for op in ops {
                match op {
                    Op::Put(key, value) => {
                        let stored = folder.put_bytes(&key, Bytes::from(value.clone()));
                        if stored.is_ok() {
                            model.put_bytes(&key, Bytes::from(value)).unwrap();
                        }
                    }
                    Op::Delete(key) => {
                        prop_assert_eq!(kind(&folder.delete(&key)), kind(&model.delete(&key)));
                    }
                    Op::Get(key) => {
                        let (got, want) = (folder.get(&key), model.get(&key));
                        prop_assert_eq!(kind(&got), kind(&want));
                        prop_assert_eq!(got.ok(), want.ok());
                    }
                    Op::Range(key, start, end) => {
                        let (got, want) = (folder.get_range(&key, start..end), model.get_range(&key, start..end));
                        prop_assert_eq!(kind(&got), kind(&want));
                        prop_assert_eq!(got.ok(), want.ok());
                    }
                    Op::List(prefix) => {
                        prop_assert_eq!(list_all(&folder, &prefix).unwrap(), list_all(&model, &prefix).unwrap());
                    }
                }
            }
        }

        #[test]
        fn accepted_keys_are_plain_relative_paths(
            parts in proptest::collection::vec(prop_oneof![
                Just("".to_owned()), Just(".".to_owned()), Just("..".to_owned()),
                "[a-z0-9._-]{1,8}", Just("x.rheo-tmp".to_owned()),
            ], 1..5),
            leading_slash in any::<bool>(),
        ) {
            let key = format!("{}{}", if leading_slash { "/" } else { "" }, parts.join("/"));
            let plain = !leading_slash
                && parts.iter().all(|p| !p.is_empty() && p != "." && p != ".." && !p.ends_with(TEMP_SUFFIX));
            prop_assert_eq!(validate_key(&key).is_ok(), plain, "{:?}", key);
            if plain {
                let root = Path::new("/root");
                let joined = root.join(&key);
                prop_assert!(joined.starts_with(root));
                prop_assert!(joined.components().all(|c| matches!(c, std::path::Component::Normal(_) | std::path::Component::RootDir)));
            }
        }
    }
}
