//! Which connection gives up its slot when every slot is taken and another client
//! connects.
//!
//! Without this, a flood of connections that never finish a request head (slowloris)
//! holds every slot for the header-read timeout, again and again, and new clients wait
//! in the listen backlog behind it. Instead, a connection arriving at a full server
//! closes one that is doing the least for its client:
//!
//! 1. one that has never completed a request head (it is connecting, in its TLS
//!    handshake, or trickling its first head), the longest-waiting first: a real client
//!    sends its head within a round trip of connecting, so it is rarely the oldest, and
//!    an attacker's connections displace each other before they displace it;
//! 2. else an idle kept-alive connection (no request in progress), the longest idle
//!    first: closing it costs its client a new connection, which SDKs open by
//!    themselves (HTTP/2 clients get a GOAWAY first);
//! 3. never a connection with a request in progress: when every connection has one, the
//!    newcomer waits for a slot as before.
//!
//! A per-IP cap was the alternative; it fails clients behind one NAT or proxy, and a
//! flood from many addresses passes it, while the rule above needs no configuration.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::ConnState;

/// The open connections of a server.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    connections: Mutex<HashMap<u64, Arc<ConnState>>>,
    next_id: AtomicU64,
}

/// Keeps a connection in its registry until dropped.
#[derive(Debug)]
pub(crate) struct Registration {
    registry: Arc<Registry>,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.registry.lock().remove(&self.id);
    }
}

/// How much a connection is doing for its client; lower gives up its slot first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Standing {
    /// Has never completed a request head.
    NoRequestYet,
    /// Has served requests and has none in progress.
    Idle,
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<ConnState>>> {
        // A panic while holding this lock cannot leave the map inconsistent.
        self.connections.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a connection until the registration is dropped.
    pub(crate) fn register(self: &Arc<Self>, state: Arc<ConnState>) -> Registration {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(id, state);
        Registration { registry: self.clone(), id }
    }

    /// Asks the connection that least deserves its slot to close (see the module
    /// comment); false when every connection has a request in progress.
    pub(crate) fn evict_one(&self) -> bool {
        let connections = self.lock();
        let victim = connections
            .values()
            .filter_map(|state| {
                let standing = standing(state)?;
                Some(((standing, state.waiting_since()), state))
            })
            .min_by_key(|(key, _)| *key)
            .map(|(_, state)| state.clone());
        drop(connections);
        match victim {
            Some(state) => {
                state.evict();
                true
            }
            None => false,
        }
    }
}

/// `None` for a connection that must keep its slot (or is already leaving).
fn standing(state: &ConnState) -> Option<Standing> {
    if state.is_evicted() || state.is_busy() {
        return None;
    }
    Some(if state.has_served() { Standing::Idle } else { Standing::NoRequestYet })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conn::RequestGuard;

    #[test]
    fn a_connection_without_a_request_goes_before_an_idle_one_and_a_busy_one_never() {
        let registry = Arc::new(Registry::default());
        let busy = Arc::new(ConnState::new());
        let _busy_guard = RequestGuard::start(&busy, http::Version::HTTP_11);
        let idle = Arc::new(ConnState::new());
        drop(RequestGuard::start(&idle, http::Version::HTTP_11));
        let fresh = Arc::new(ConnState::new());
        let _registrations: Vec<_> =
            [&busy, &idle, &fresh].into_iter().map(|state| registry.register(state.clone())).collect();
        assert!(registry.evict_one());
        assert!(fresh.is_evicted() && !idle.is_evicted() && !busy.is_evicted());
        assert!(registry.evict_one());
        assert!(idle.is_evicted() && !busy.is_evicted());
        assert!(!registry.evict_one(), "a busy connection keeps its slot");
    }

    #[test]
    fn the_longest_waiting_goes_first_and_dropped_ones_are_forgotten() {
        let registry = Arc::new(Registry::default());
        let older = Arc::new(ConnState::new());
        std::thread::sleep(std::time::Duration::from_millis(5));
        let newer = Arc::new(ConnState::new());
        let newer_registration = registry.register(newer.clone());
        let _older_registration = registry.register(older.clone());
        assert!(registry.evict_one());
        assert!(older.is_evicted() && !newer.is_evicted());
        drop(newer_registration);
        assert!(!registry.evict_one(), "the only connection left is leaving already");
    }
}
