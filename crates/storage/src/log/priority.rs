//! Background threads yield the CPU to the request path.

use crate::limits::BACKGROUND_THREAD_NICE;

/// Lowers the calling thread's CPU priority to [`BACKGROUND_THREAD_NICE`] (a thread already
/// at or below that priority, say in a process started with `nice`, is left as it is). On
/// Linux a nice value belongs to one thread (given its id), so the writer and request
/// threads of the process keep theirs. A failure only costs speed, so it is logged, not
/// returned; elsewhere this does nothing.
pub(super) fn lower_this_thread() {
    #[cfg(target_os = "linux")]
    {
        let thread = rustix::thread::gettid();
        let lowered = match rustix::process::getpriority_process(Some(thread)) {
            Ok(nice) if nice >= BACKGROUND_THREAD_NICE => Ok(()),
            _ => rustix::process::setpriority_process(Some(thread), BACKGROUND_THREAD_NICE),
        };
        if let Err(error) = lowered {
            tracing::warn!(
                message = "Could not lower a background thread's priority; it competes with requests.",
                thread = std::thread::current().name().unwrap_or("?"),
                %error
            );
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn only_the_calling_thread_is_lowered() {
        let own = || rustix::process::getpriority_process(Some(rustix::thread::gettid()));
        let before = own().expect("own priority");
        let lowered = std::thread::spawn(move || {
            lower_this_thread();
            own().expect("own priority")
        })
        .join()
        .expect("thread");
        // A process started at a lower priority keeps it.
        assert_eq!(lowered, BACKGROUND_THREAD_NICE.max(before));
        assert_eq!(own().expect("own priority"), before, "the caller's priority changed");
    }
}
