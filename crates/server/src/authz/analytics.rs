//! Kinesis Analytics (v1, SQL applications)' authorization table: `kinesisanalytics:`
//! and the operation's name, on the application
//! `arn:aws:kinesisanalytics:REGION:ACCOUNT:application/NAME` (the `ResourceARN` of the tag
//! operations), or `*` for ListApplications and DiscoverInputSchema, which the Service
//! Authorization Reference lists without a resource. DiscoverInputSchema also needs the
//! caller's own read permissions on the input it samples. The calls that set a role
//! also need `iam:PassRole` on it. The match is exhaustive.

use rheo_engine::ids::Account;
use rheo_protocol::analytics::AnalyticsRequest as Rq;

use super::pass_role::with_passed_roles;
use super::{Check, Needs, ANY_RESOURCE};

/// The service prefix of Kinesis Analytics' IAM actions.
pub const SERVICE: &str = "kinesisanalytics";

/// `arn:aws:kinesisanalytics:REGION:ACCOUNT:application/NAME`.
pub fn application_arn(account: &Account, name: &str) -> String {
    format!("arn:{}:kinesisanalytics:{}:{}:application/{name}", account.partition(), account.region, account.account_id)
}

/// What `request` needs.
pub fn needs(account: &Account, operation: &str, request: &Rq) -> Needs {
    let needs = own_needs(account, operation, request);
    match request {
        // The calls that hand the application (or DiscoverInputSchema) a role.
        Rq::AddApplicationCloudWatchLoggingOption(_)
        | Rq::AddApplicationInput(_)
        | Rq::AddApplicationInputProcessingConfiguration(_)
        | Rq::AddApplicationOutput(_)
        | Rq::AddApplicationReferenceDataSource(_)
        | Rq::CreateApplication(_)
        | Rq::DiscoverInputSchema(_)
        | Rq::UpdateApplication(_) => with_passed_roles(needs, &rheo_protocol::analytics::encode_request(request)),
        _ => needs,
    }
}

/// What `request` needs of Analytics' own actions.
fn own_needs(account: &Account, operation: &str, request: &Rq) -> Needs {
    let check = |resource: String| Needs::one(Check::new(SERVICE, operation, resource));
    let on = |name: &str| check(application_arn(account, name));
    match request {
        Rq::AddApplicationCloudWatchLoggingOption(r) => on(&r.application_name),
        Rq::AddApplicationInput(r) => on(&r.application_name),
        Rq::AddApplicationInputProcessingConfiguration(r) => on(&r.application_name),
        Rq::AddApplicationOutput(r) => on(&r.application_name),
        Rq::AddApplicationReferenceDataSource(r) => on(&r.application_name),
        Rq::CreateApplication(r) => on(&r.application_name),
        Rq::DeleteApplication(r) => on(&r.application_name),
        Rq::DeleteApplicationCloudWatchLoggingOption(r) => on(&r.application_name),
        Rq::DeleteApplicationInputProcessingConfiguration(r) => on(&r.application_name),
        Rq::DeleteApplicationOutput(r) => on(&r.application_name),
        Rq::DeleteApplicationReferenceDataSource(r) => on(&r.application_name),
        Rq::DescribeApplication(r) => on(&r.application_name),
        Rq::StartApplication(r) => on(&r.application_name),
        Rq::StopApplication(r) => on(&r.application_name),
        Rq::UpdateApplication(r) => on(&r.application_name),
        Rq::ListTagsForResource(r) => check(r.resource_arn.clone()),
        Rq::TagResource(r) => check(r.resource_arn.clone()),
        Rq::UntagResource(r) => check(r.resource_arn.clone()),
        Rq::ListApplications(_) => check(ANY_RESOURCE.to_owned()),
        Rq::DiscoverInputSchema(r) => {
            let mut needs = check(ANY_RESOURCE.to_owned());
            if let Some(input) = &r.resource_arn {
                needs.checks.extend(input_reads(input));
            }
            needs
        }
    }
}

/// What reading the input `arn` needs from the caller: DiscoverInputSchema answers with
/// the input's records, so its caller must be allowed to read them itself (else
/// `kinesisanalytics:DiscoverInputSchema` alone would read any stream).
fn input_reads(arn: &str) -> Vec<Check> {
    let on = |service: &str, action: &str| Check::new(service, action, arn.to_owned());
    // An ARN of any other service is refused by the call itself; Kinesis's reads are
    // asked of it meanwhile, so an unparsable input never needs less.
    if arn.split(':').nth(2) == Some("firehose") {
        vec![on("firehose", "DescribeDeliveryStream")]
    } else {
        vec![on("kinesis", "DescribeStream"), on("kinesis", "GetShardIterator"), on("kinesis", "GetRecords")]
    }
}
