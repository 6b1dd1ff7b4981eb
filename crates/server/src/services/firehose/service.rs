//! The Firehose API as a [`Service`]: routing data and precedence around [`call`]. A
//! module of its own so `firehose.rs` stays the operation table.

use bytes::Bytes;
use rheo_firehose::Firehose;
use rheo_protocol::firehose::FirehoseOperation;
use rheo_protocol::{ErrorType, WireFormat};
use serde_json::Value;

use crate::auth::Caller;
use crate::metrics::MetricsOutput;
use crate::router::{
    ContentTypeCheck, EmptyBody, JsonVersion, ParseCheck, Precedence, Protocol, RejectionLabel, Service, ServiceFuture,
    ServiceResponse,
};
use crate::state::AppState;

use super::call;
use crate::services::json_answer;

/// The `X-Amz-Target` prefix of Firehose (`rheo_protocol::firehose::TARGET_PREFIX` without
/// its `.`; a test keeps the two equal).
const FIREHOSE_TARGET_PREFIX: &str = "Firehose_20150804";

/// The Firehose service over one [`Firehose`].
pub struct FirehoseService {
    firehose: std::sync::Arc<Firehose>,
}

impl FirehoseService {
    /// Serves `firehose`.
    pub fn new(firehose: std::sync::Arc<Firehose>) -> Self {
        FirehoseService { firehose }
    }
}

impl Service for FirehoseService {
    fn target_prefixes(&self) -> &'static [&'static str] {
        &[FIREHOSE_TARGET_PREFIX]
    }

    fn protocol(&self) -> Protocol {
        Protocol { json: JsonVersion::V1_1, cbor: false }
    }

    fn signing_name(&self) -> &'static str {
        "firehose"
    }

    /// Rheo's Firehose has always looked at the body first: it answers JSON whatever the
    /// content type, and a body that is empty or not JSON wins over an unknown operation
    /// and over authentication, counted under the operation's name.
    fn precedence(&self) -> Precedence {
        Precedence {
            content_type: ContentTypeCheck::Ignored,
            empty_body: EmptyBody::Unparseable,
            parse_check: ParseCheck::Upfront,
            rejections_counted_as: RejectionLabel::Operation,
        }
    }

    fn operation(&self, name: &str) -> Option<&'static str> {
        FirehoseOperation::from_name(name).map(FirehoseOperation::name)
    }

    fn body_parses(&self, _format: WireFormat, body: &[u8]) -> bool {
        serde_json::from_slice::<Value>(body).is_ok()
    }

    fn call<'a>(
        &'a self,
        state: &'a std::sync::Arc<AppState>,
        _format: WireFormat,
        operation: &'static str,
        body: Bytes,
        caller: &'a Caller,
    ) -> ServiceFuture<'a, ServiceResponse> {
        Box::pin(async move {
            // `operation` is a name `FirehoseService::operation` returned, so this always finds it.
            let Some(operation) = FirehoseOperation::from_name(operation) else {
                return ServiceResponse::Error(ErrorType::UnknownOperation.without_message());
            };
            let authorize = |request: &_| {
                let needs = crate::authz::firehose::needs(state.engine.account(), operation.name(), request);
                state
                    .authorizer
                    .authorize_call(state, caller, &needs)
                    .map_err(|denied| crate::errors::access_denied(&denied))
            };
            json_answer(call(&self.firehose, operation, &body, authorize).await)
        })
    }

    fn render_metrics(&self, _state: &AppState, out: &mut MetricsOutput) {
        self.firehose.render_metrics(&mut out.text);
        out.logs.push(("firehose", self.firehose.log_stats()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefix_is_the_protocol_crates_target_prefix() {
        assert_eq!(format!("{FIREHOSE_TARGET_PREFIX}."), rheo_protocol::firehose::TARGET_PREFIX);
        for operation in FirehoseOperation::ALL {
            assert_eq!(FirehoseOperation::from_name(operation.name()), Some(*operation));
        }
    }
}
