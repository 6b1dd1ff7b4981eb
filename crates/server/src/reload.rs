//! Reloading configuration files while serving: on SIGHUP every registered [`Reload`] (the
//! credentials and policies, the key file, ...) reads its files again. One that fails keeps
//! what it had and logs why, so a typo in a file never locks everyone out.

use std::sync::Arc;

/// Something that can read its files again.
pub trait Reload: Send + Sync {
    /// What it reloads, for the log.
    fn what(&self) -> &'static str;

    /// Reads the files again and puts them in force; on error nothing changes. The `Ok`
    /// text summarizes what is now loaded (never a secret).
    fn reload(&self) -> Result<String, Box<dyn std::error::Error + Send + Sync>>;
}

/// What a SIGHUP reloads, in order.
pub type ReloadHooks = Vec<Arc<dyn Reload>>;

/// Reloads each of `hooks` in order; answers how many failed.
pub fn reload_all(hooks: &[Arc<dyn Reload>]) -> usize {
    let mut failed = 0;
    for hook in hooks {
        match hook.reload() {
            Ok(summary) => tracing::info!(message = "Reloaded.", what = hook.what(), %summary),
            Err(error) => {
                failed += 1;
                tracing::error!(message = "Reload failed; keeping the previous configuration.", what = hook.what(), %error);
            }
        }
    }
    failed
}

/// Reloads `hooks` on every SIGHUP, for as long as the returned future runs (spawn it).
/// Without signals (not Unix) it never resolves.
pub async fn reload_on_sighup(hooks: ReloadHooks) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::hangup()) {
            Ok(mut hangups) => {
                while hangups.recv().await.is_some() {
                    reload_all(&hooks);
                }
            }
            Err(error) => tracing::error!(message = "Cannot listen for SIGHUP; reload is unavailable.", %error),
        }
    }
    let _ = hooks;
    std::future::pending::<()>().await
}
