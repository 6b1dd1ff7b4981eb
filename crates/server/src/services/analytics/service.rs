//! The Analytics API as a [`Service`]: routing data around [`call`]. A module of its own
//! so `analytics.rs` stays the operation table.

use std::sync::Arc;

use bytes::Bytes;
use rheo_analytics::service::Analytics;
use rheo_protocol::analytics::{AnalyticsOperation, SIGNING_NAME};
use rheo_protocol::{ErrorType, WireFormat};

use crate::auth::Caller;
use crate::metrics::MetricsOutput;
use crate::router::{JsonVersion, Protocol, Service, ServiceFuture, ServiceResponse};
use crate::state::AppState;

use super::call;
use crate::services::json_answer;

/// The `X-Amz-Target` prefix of Analytics (`rheo_protocol::analytics::TARGET_PREFIX`
/// without its `.`; a test keeps the two equal).
const ANALYTICS_TARGET_PREFIX: &str = "KinesisAnalytics_20150814";

/// The Analytics service over one [`Analytics`] control plane.
pub struct AnalyticsService {
    analytics: Arc<Analytics>,
}

impl AnalyticsService {
    /// Serves `analytics`.
    pub fn new(analytics: Arc<Analytics>) -> Self {
        AnalyticsService { analytics }
    }
}

/// A new service with no history of its own: AWS's order of checks ([`Precedence::AWS`],
/// the trait's default), JSON 1.1 only as the model says.
///
/// [`Precedence::AWS`]: crate::router::Precedence::AWS
impl Service for AnalyticsService {
    fn target_prefixes(&self) -> &'static [&'static str] {
        &[ANALYTICS_TARGET_PREFIX]
    }

    fn protocol(&self) -> Protocol {
        Protocol { json: JsonVersion::V1_1, cbor: false }
    }

    fn signing_name(&self) -> &'static str {
        SIGNING_NAME
    }

    fn operation(&self, name: &str) -> Option<&'static str> {
        AnalyticsOperation::from_name(name).map(AnalyticsOperation::name)
    }

    fn call<'a>(
        &'a self,
        state: &'a Arc<AppState>,
        _format: WireFormat,
        operation: &'static str,
        body: Bytes,
        caller: &'a Caller,
    ) -> ServiceFuture<'a, ServiceResponse> {
        Box::pin(async move {
            // `operation` is a name `AnalyticsService::operation` returned, so this always finds it.
            let Some(operation) = AnalyticsOperation::from_name(operation) else {
                return ServiceResponse::Error(ErrorType::UnknownOperation.without_message());
            };
            let authorize = |request: &_| {
                let needs = crate::authz::analytics::needs(state.engine.account(), operation.name(), request);
                state
                    .authorizer
                    .authorize_call(state, caller, &needs)
                    .map_err(|denied| crate::errors::access_denied(&denied))
            };
            json_answer(call(&self.analytics, operation, &body, authorize).await)
        })
    }

    fn render_metrics(&self, _state: &AppState, out: &mut MetricsOutput) {
        self.analytics.render_metrics(&mut out.text);
        out.logs.push(("analytics", self.analytics.log_stats()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefix_is_the_protocol_crates_target_prefix() {
        assert_eq!(format!("{ANALYTICS_TARGET_PREFIX}."), rheo_protocol::analytics::TARGET_PREFIX);
        for operation in AnalyticsOperation::ALL {
            assert_eq!(AnalyticsOperation::from_name(operation.name()), Some(*operation));
        }
    }
}
