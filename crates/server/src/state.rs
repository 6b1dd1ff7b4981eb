//! What every request handler, service and subscription task shares.

use std::sync::Arc;

use rheo_engine::Engine;

use crate::conn::ConnectionLimits;
use crate::metrics::Metrics;
use crate::subscribe::SubscriptionConfig;

/// The server's shared resources. The services themselves are not here but in the
/// [`crate::router::Router`], which hands this state to each call.
pub struct AppState {
    /// The Kinesis engine. The server itself needs it, not only the Kinesis service: the
    /// reaper finishes its deletions and SubscribeToShard's pump tasks read from it.
    pub engine: Arc<Engine>,
    /// Kinesis channels (delivery of streams to object storage), which the Kinesis
    /// service reaches through here; `None` in servers built without them.
    pub channels: Option<Arc<rheo_firehose::channel::Channels>>,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
    /// How SubscribeToShard subscriptions behave.
    pub subscriptions: SubscriptionConfig,
    /// Set to `true` when the server shuts down: open subscriptions end their streams.
    pub shutdown: tokio::sync::watch::Sender<bool>,
    /// Connection timeouts and limit; the front door applies the body-read timeout.
    pub limits: ConnectionLimits,
    /// Authorizes the calls of signed-in callers (every service's `call`).
    pub authorizer: Arc<crate::authz::Authorizer>,
}
