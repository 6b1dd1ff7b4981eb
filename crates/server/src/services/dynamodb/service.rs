//! The DynamoDB API as a [`Service`]: routing data around [`call`]. A module of its own so
//! `dynamodb.rs` stays the operation table.

use std::sync::Arc;

use bytes::Bytes;
use rheo_dynamodb::DynamoDb;
use rheo_protocol::dynamodb::{DynamoDbOperation, SIGNING_NAME};
use rheo_protocol::{WireError, WireFormat};

use crate::auth::Caller;
use crate::errors::dynamodb_front_door_error;
use crate::metrics::MetricsOutput;
use crate::router::{JsonVersion, Protocol, Service, ServiceFuture, ServiceResponse};
use crate::services::json_answer;
use crate::state::AppState;

use super::{call, refusal, unserved_feature, UNSERVED_OPERATIONS};

/// The `X-Amz-Target` prefix of DynamoDB (`rheo_protocol::dynamodb::TARGET_PREFIX` without
/// its `.`; a test keeps the two equal).
const DYNAMODB_TARGET_PREFIX: &str = "DynamoDB_20120810";
/// The prefix of DynamoDB Streams, answered only to refuse its operations by name (else
/// its clients would get a bare UnknownOperationException).
const DYNAMODB_STREAMS_TARGET_PREFIX: &str = "DynamoDBStreams_20120810";

/// The DynamoDB service over one [`DynamoDb`].
pub struct DynamoDbService {
    dynamodb: Arc<DynamoDb>,
}

impl DynamoDbService {
    /// Serves `dynamodb`.
    pub fn new(dynamodb: Arc<DynamoDb>) -> Self {
        DynamoDbService { dynamodb }
    }
}

/// AWS's order of checks ([`Precedence::AWS`], the trait's default), JSON 1.0 only as the
/// model says; the front door's own errors in DynamoDB's namespaces.
///
/// [`Precedence::AWS`]: crate::router::Precedence::AWS
impl Service for DynamoDbService {
    fn target_prefixes(&self) -> &'static [&'static str] {
        &[DYNAMODB_TARGET_PREFIX, DYNAMODB_STREAMS_TARGET_PREFIX]
    }

    fn protocol(&self) -> Protocol {
        Protocol { json: JsonVersion::V1_0, cbor: false }
    }

    fn signing_name(&self) -> &'static str {
        SIGNING_NAME
    }

    /// The served operations, and the unserved ones too, so that those reach [`call`]'s
    /// refusal (after the front door's body and authentication checks, like any call)
    /// instead of a bare UnknownOperationException.
    fn operation(&self, name: &str) -> Option<&'static str> {
        DynamoDbOperation::from_name(name)
            .map(DynamoDbOperation::name)
            .or_else(|| UNSERVED_OPERATIONS.iter().find(|(unserved, _)| *unserved == name).map(|(name, _)| *name))
    }

    fn front_door_error(&self, error: WireError) -> WireError {
        dynamodb_front_door_error(error)
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
            match DynamoDbOperation::from_name(operation) {
                Some(operation) => {
                    let authorize = |request: &_| {
                        let needs = crate::authz::dynamodb::needs(state.engine.account(), operation.name(), request);
                        let allowed = state.authorizer.authorize_call(state, caller, &needs);
                        allowed.map_err(|denied| crate::errors::dynamodb_access_denied(&denied))
                    };
                    json_answer(call(&self.dynamodb, operation, &body, authorize).await)
                }
                None => ServiceResponse::Error(match unserved_feature(operation) {
                    Some(feature) => refusal(operation, feature),
                    // `operation` is a name `DynamoDbService::operation` returned, so one
                    // of the two lists has it.
                    None => dynamodb_front_door_error(rheo_protocol::ErrorType::UnknownOperation.without_message()),
                }),
            }
        })
    }

    fn render_metrics(&self, _state: &AppState, out: &mut MetricsOutput) {
        self.dynamodb.render_metrics(&mut out.text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefix_is_the_protocol_crates_target_prefix() {
        assert_eq!(format!("{DYNAMODB_TARGET_PREFIX}."), rheo_protocol::dynamodb::TARGET_PREFIX);
        for operation in DynamoDbOperation::ALL {
            assert_eq!(DynamoDbOperation::from_name(operation.name()), Some(*operation));
        }
    }

    #[test]
    fn no_operation_is_both_served_and_refused() {
        for (name, _) in UNSERVED_OPERATIONS {
            assert_eq!(DynamoDbOperation::from_name(name), None, "{name}");
        }
    }
}
