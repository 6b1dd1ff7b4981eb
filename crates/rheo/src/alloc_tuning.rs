//! glibc malloc settings for the server.
//!
//! A GetRecords answer of 10,000 records is a 13–14 MB buffer, and the log read behind it
//! another 10 MB. With glibc's defaults such buffers are `mmap`ed and returned to the
//! kernel when freed, so every answer faults in and zeroes thousands of fresh pages:
//! about a fifth of the server's CPU time in the read benchmark. Serving them from the
//! heap and keeping a bounded amount of freed memory lets the next answer reuse pages.

/// Allocations up to this size come from the heap instead of their own mapping (glibc's
/// ceiling for this setting on 64-bit targets).
const MMAP_THRESHOLD_BYTES: i32 = 32 * 1024 * 1024;
/// Free memory at the top of a heap kept for reuse before it is returned to the kernel:
/// the bound on what this tuning can add to the resident set after a burst.
const TRIM_THRESHOLD_BYTES: i32 = 256 * 1024 * 1024;

/// How often freed memory is handed back to the kernel. glibc returns freed memory only
/// from the top of each heap, and keeps up to [`TRIM_THRESHOLD_BYTES`] even there, in each
/// of its per-thread arenas: after 200 SubscribeToShard subscribers disconnected a probe
/// saw 795 MiB of 994 MiB still resident, all of it free. `malloc_trim` releases every free
/// page of every arena; once every 10 s costs the read path one round of page faults per
/// interval, not per answer.
const TRIM_INTERVAL: std::time::Duration = std::time::Duration::from_secs(10);

/// Starts a thread that hands freed memory back to the kernel every [`TRIM_INTERVAL`].
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn spawn_trimmer() {
    let started = std::thread::Builder::new().name("rheo-malloc-trim".into()).spawn(|| loop {
        std::thread::sleep(TRIM_INTERVAL);
        // SAFETY: malloc_trim takes glibc's arena locks itself and only releases pages
        // that hold no allocation; it is safe to call from any thread at any time.
        unsafe {
            libc::malloc_trim(0);
        }
    });
    if let Err(error) = started {
        tracing::warn!(message = "Could not start the memory trimmer; freed memory stays resident.", %error);
    }
}

/// Other allocators return memory on their own.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn spawn_trimmer() {}

/// Applies the settings. Call first thing in `main`, before any thread starts.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn tune() {
    // SAFETY: mallopt only changes allocator parameters; it is called before any other
    // thread exists, with parameters and values glibc documents. A refused setting
    // (return value 0) leaves glibc's default in place, which is correct, only slower.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES);
        libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES);
    }
}

/// Other allocators keep their defaults.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn tune() {}
