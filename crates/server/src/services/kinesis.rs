//! Kinesis Data Streams (`Kinesis_20131202.*`, JSON 1.1 and CBOR 1.1): decoding by
//! rheo-protocol, the operation by `dispatch.rs`, and SubscribeToShard's answer as
//! an event stream.

use std::sync::Arc;

use bytes::Bytes;
use rheo_protocol::{decode_request_shared, encode_response, ErrorType, Operation, WireFormat, TARGET_PREFIX};

use crate::auth::Caller;
use crate::dispatch::{dispatch, Outcome};
use crate::errors::wire_error;
use crate::metrics::MetricsOutput;
use crate::router::{Protocol, Service, ServiceFuture, ServiceResponse};
use crate::state::AppState;

/// The Kinesis service. It holds nothing: the engine is the server's ([`AppState::engine`]),
/// because the reaper and the subscription tasks run on it too, and the channels beside
/// it ([`AppState::channels`]).
#[derive(Debug, Default, Clone, Copy)]
pub struct KinesisService;

impl Service for KinesisService {
    fn target_prefixes(&self) -> &'static [&'static str] {
        &[TARGET_PREFIX]
    }

    fn protocol(&self) -> Protocol {
        Protocol::JSON_1_1_AND_CBOR
    }

    fn signing_name(&self) -> &'static str {
        "kinesis"
    }

    fn operation(&self, name: &str) -> Option<&'static str> {
        Operation::from_name(name).map(Operation::name)
    }

    fn call<'a>(
        &'a self,
        state: &'a Arc<AppState>,
        format: WireFormat,
        operation: &'static str,
        body: Bytes,
        caller: &'a Caller,
    ) -> ServiceFuture<'a, ServiceResponse> {
        Box::pin(call(state, format, operation, body, caller))
    }

    fn render_metrics(&self, state: &AppState, out: &mut MetricsOutput) {
        out.logs.push(("streams", state.engine.log().stats()));
        out.logs.push(("queues", state.engine.queue_log_stats()));
        if let Some(channels) = &state.channels {
            channels.render_metrics(&mut out.text);
            out.logs.push(("channels", channels.log_stats()));
        }
    }
}

/// Decodes, runs and encodes one Kinesis operation.
async fn call(
    state: &Arc<AppState>,
    format: WireFormat,
    operation: &'static str,
    body: Bytes,
    caller: &Caller,
) -> ServiceResponse {
    // `operation` is a name `KinesisService::operation` returned, so this always finds it.
    let Some(operation) = Operation::from_name(operation) else {
        return ServiceResponse::Error(ErrorType::UnknownOperation.without_message());
    };
    let request = match decode_request_shared(operation, format, &body) {
        Ok(request) => request,
        Err(error) => return ServiceResponse::Error(error.to_wire_error()),
    };
    // CBOR record data shares the body's allocation; anything else of it goes now.
    drop(body);
    if caller.principal.is_some() {
        let needs = crate::authz::kinesis::needs(&state.engine, &request);
        let region = &state.engine.account().region;
        if let Err(denied) = state.authorizer.authorize(caller, region, &needs, state.engine.as_ref()) {
            return ServiceResponse::Error(crate::errors::access_denied(&denied));
        }
    }
    match dispatch(&state.engine, state.channels.as_deref(), &state.metrics, request).await {
        Outcome::Done(response) => ServiceResponse::Body(Bytes::from(encode_response(&response, format))),
        Outcome::Failed(error) => {
            let wire = wire_error(&error);
            // A full disk (or archive backlog) is logged by the storage engine, once per
            // interval, and a failed archive fetch by the archive's cache: not per request.
            let logged_by_storage = matches!(
                error,
                rheo_engine::EngineError::Storage(
                    rheo_storage::StorageError::DiskFull { .. }
                        | rheo_storage::StorageError::ArchiveBacklogFull { .. }
                        | rheo_storage::StorageError::ArchiveUnavailable { .. }
                )
            );
            if wire.http_status >= 500 && !logged_by_storage {
                tracing::error!(message = "Request failed.", operation = operation.name(), %error);
            } else {
                tracing::debug!(message = "Request rejected.", operation = operation.name(), error_type = %wire.error_type);
            }
            ServiceResponse::Error(wire)
        }
        Outcome::ChannelFailed(error) => {
            let wire = crate::errors::channel_wire_error(&error);
            if wire.http_status >= 500 {
                tracing::error!(message = "Request failed.", operation = operation.name(), %error);
            } else {
                tracing::debug!(message = "Request rejected.", operation = operation.name(), error_type = %wire.error_type);
            }
            ServiceResponse::Error(wire)
        }
        Outcome::Subscribed(subscription) => {
            ServiceResponse::Events(crate::subscribe::start(state, *subscription, format))
        }
        Outcome::DryRun => ServiceResponse::Error(
            ErrorType::DryRunOperation.with_message("Request would have succeeded, but DryRun flag is set."),
        ),
    }
}
