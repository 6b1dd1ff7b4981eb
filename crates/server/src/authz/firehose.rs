//! Firehose's authorization table: `firehose:` and the operation's name, on the delivery
//! stream `arn:aws:firehose:REGION:ACCOUNT:deliverystream/NAME`, or `*` for
//! ListDeliveryStreams (an action on no resource in the Service Authorization Reference).
//! The calls that set a role also need `iam:PassRole` on it.
//! The match is exhaustive: a new operation does not compile until it has its row.

use rheo_engine::ids::Account;
use rheo_protocol::firehose::FirehoseRequest as Rq;

use super::pass_role::with_passed_roles;
use super::{Check, Needs, ANY_RESOURCE};

/// The service prefix of Firehose's IAM actions.
pub const SERVICE: &str = "firehose";

/// `arn:aws:firehose:REGION:ACCOUNT:deliverystream/NAME`.
pub fn delivery_stream_arn(account: &Account, name: &str) -> String {
    format!("arn:{}:firehose:{}:{}:deliverystream/{name}", account.partition(), account.region, account.account_id)
}

/// What `request` needs.
pub fn needs(account: &Account, operation: &str, request: &Rq) -> Needs {
    let on = |name: &str| Needs::one(Check::new(SERVICE, operation, delivery_stream_arn(account, name)));
    match request {
        Rq::CreateDeliveryStream(r) => passing_roles(on(&r.delivery_stream_name), request),
        Rq::DeleteDeliveryStream(r) => on(&r.delivery_stream_name),
        Rq::DescribeDeliveryStream(r) => on(&r.delivery_stream_name),
        Rq::UpdateDestination(r) => passing_roles(on(&r.delivery_stream_name), request),
        Rq::PutRecord(r) => on(&r.delivery_stream_name),
        Rq::PutRecordBatch(r) => on(&r.delivery_stream_name),
        Rq::StartDeliveryStreamEncryption(r) => on(&r.delivery_stream_name),
        Rq::StopDeliveryStreamEncryption(r) => on(&r.delivery_stream_name),
        Rq::TagDeliveryStream(r) => on(&r.delivery_stream_name),
        Rq::UntagDeliveryStream(r) => on(&r.delivery_stream_name),
        Rq::ListTagsForDeliveryStream(r) => on(&r.delivery_stream_name),
        Rq::ListDeliveryStreams(_) => Needs::one(Check::new(SERVICE, operation, ANY_RESOURCE)),
    }
}

/// `needs` plus `iam:PassRole` on the roles (source and destinations) `request` hands over.
fn passing_roles(needs: Needs, request: &Rq) -> Needs {
    with_passed_roles(needs, &rheo_protocol::firehose::encode_request(request))
}
