//! The filesystem seam. The log reaches the disk only through [`FileSystem`], so tests
//! can swap in [`crate::memfs::MemFs`], which loses unsynced data on a simulated crash
//! and injects failed writes, failed syncs and a full disk.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A file opened for positional reads, shared between readers.
pub trait ReadFile: Send + Sync {
    /// Reads up to `buf.len()` bytes at `offset`; returns how many were read (0 at end).
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;

    /// Reads exactly `buf.len()` bytes at `offset`.
    fn read_exact_at(&self, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
        while !buf.is_empty() {
            match self.read_at(buf, offset) {
                Ok(0) => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "short read")),
                Ok(n) => {
                    buf = &mut buf[n..];
                    offset += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Current length in bytes.
    fn len(&self) -> io::Result<u64>;

    /// Whether the file holds no bytes.
    fn is_empty(&self) -> io::Result<bool> {
        Ok(self.len()? == 0)
    }
}

/// A file opened for writing by the log's single writer.
pub trait WriteFile: Send {
    /// Writes all of `buf` at `offset`.
    fn write_all_at(&mut self, buf: &[u8], offset: u64) -> io::Result<()>;
    /// Makes written data durable (fdatasync).
    fn sync_data(&mut self) -> io::Result<()>;
    /// Truncates or extends the file.
    fn set_len(&mut self, len: u64) -> io::Result<()>;
}

/// Directory and file operations the storage engine needs.
pub trait FileSystem: Send + Sync + 'static {
    /// Creates a folder and its parents.
    fn create_dir_all(&self, path: &Path) -> io::Result<()>;
    /// Names (not paths) of the entries of a folder.
    fn list_dir(&self, path: &Path) -> io::Result<Vec<String>>;
    /// Opens an existing file for reading.
    fn open_read(&self, path: &Path) -> io::Result<Arc<dyn ReadFile>>;
    /// Opens a file for writing, creating it if needed, without truncating it.
    fn open_write(&self, path: &Path) -> io::Result<Box<dyn WriteFile>>;
    /// Deletes a file.
    fn remove_file(&self, path: &Path) -> io::Result<()>;
    /// Atomically replaces `to` with `from`.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Makes a folder's entries (creations, renames, deletions) durable.
    fn sync_dir(&self, path: &Path) -> io::Result<()>;
    /// Whether a file exists.
    fn exists(&self, path: &Path) -> bool;
    /// Takes an exclusive lock on `path` (created if missing) for as long as the returned
    /// guard lives, and records this process's id in the file. `Ok(None)` means another
    /// holder has it. On the real filesystem this is `flock`, which the kernel releases
    /// when the process exits in any way, `kill -9` included, so a stale lock cannot
    /// outlive its holder.
    fn try_lock(&self, path: &Path) -> io::Result<Option<LockGuard>>;
}

/// Holds a lock taken with [`FileSystem::try_lock`] until dropped.
pub struct LockGuard(#[allow(dead_code)] Box<dyn Send + Sync>);

impl LockGuard {
    /// Wraps whatever keeps the lock held (an open file, a registry entry).
    pub fn new(holder: impl Send + Sync + 'static) -> Self {
        LockGuard(Box::new(holder))
    }
}

impl std::fmt::Debug for LockGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockGuard").finish_non_exhaustive()
    }
}

/// The real filesystem.
#[derive(Debug, Default, Clone, Copy)]
pub struct StdFs;

struct StdReadFile(std::fs::File);
struct StdWriteFile(std::fs::File);

impl ReadFile for StdReadFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        std::os::unix::fs::FileExt::read_at(&self.0, buf, offset)
    }
    fn len(&self) -> io::Result<u64> {
        Ok(self.0.metadata()?.len())
    }
}

impl WriteFile for StdWriteFile {
    fn write_all_at(&mut self, buf: &[u8], offset: u64) -> io::Result<()> {
        std::os::unix::fs::FileExt::write_all_at(&self.0, buf, offset)
    }
    fn sync_data(&mut self) -> io::Result<()> {
        self.0.sync_data()
    }
    fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.0.set_len(len)
    }
}

impl FileSystem for StdFs {
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        std::fs::create_dir_all(path)
    }
    fn list_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(path)? {
            let entry = entry?;
            if let Some(name) = entry.file_name().to_str() {
                names.push(name.to_owned());
            }
        }
        names.sort();
        Ok(names)
    }
    fn open_read(&self, path: &Path) -> io::Result<Arc<dyn ReadFile>> {
        Ok(Arc::new(StdReadFile(std::fs::File::open(path)?)))
    }
    fn open_write(&self, path: &Path) -> io::Result<Box<dyn WriteFile>> {
        let file = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path)?;
        Ok(Box::new(StdWriteFile(file)))
    }
    fn remove_file(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to)
    }
    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        std::fs::File::open(path)?.sync_all()
    }
    fn exists(&self, path: &Path) -> bool {
        path.exists()
    }
    fn try_lock(&self, path: &Path) -> io::Result<Option<LockGuard>> {
        let mut file = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
            Err(std::fs::TryLockError::Error(error)) => return Err(error),
        }
        // The pid is for the operator's message only; the lock itself is the flock.
        file.set_len(0)?;
        io::Write::write_all(&mut file, format!("{}\n", std::process::id()).as_bytes())?;
        Ok(Some(LockGuard::new(file)))
    }
}

/// Creates `dir` and its missing parents, and makes each created folder's entry durable
/// by syncing the folder that holds it: a crash must not lose a folder together with
/// the durable files later written into it.
pub fn create_dir_durably(fs: &dyn FileSystem, dir: &Path) -> io::Result<()> {
    let mut missing = Vec::new();
    let mut current = Some(dir);
    while let Some(path) = current.filter(|p| !p.as_os_str().is_empty() && !fs.exists(p)) {
        missing.push(path);
        current = path.parent();
    }
    if missing.is_empty() {
        return Ok(());
    }
    fs.create_dir_all(dir)?;
    for created in missing {
        if let Some(parent) = created.parent() {
            fs.sync_dir(folder_or_current(parent))?;
        }
    }
    Ok(())
}

/// Syncs the folder that holds `dir`, making `dir`'s own entry durable (a no-op for a
/// root, which no folder holds).
pub fn sync_parent(fs: &dyn FileSystem, dir: &Path) -> io::Result<()> {
    match dir.parent() {
        Some(parent) => fs.sync_dir(folder_or_current(parent)),
        None => Ok(()),
    }
}

/// A relative path's parent may be empty, which names the current folder.
fn folder_or_current(path: &Path) -> &Path {
    if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    }
}

/// Joins a folder and a file name; a helper so call sites read as intent.
pub(crate) fn join(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}
