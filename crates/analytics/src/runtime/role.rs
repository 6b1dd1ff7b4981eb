//! The role an application's input or output acts as (its `RoleARN`): checked through the
//! engine's role seam before every read and every write, so a policy that denies it stops
//! the data (nothing read is lost: a refused read leaves the position where it was, a
//! refused write keeps its records queued) and allowing it again resumes.

use std::sync::Arc;

use rheo_engine::{Engine, RoleDenied};

use crate::config::RoleAccess;

/// What the role of an input reading a Kinesis stream must be allowed (AWS's documented
/// permissions of an Analytics application's input role).
pub(super) const KINESIS_INPUT_ACTIONS: &[&str] =
    &["kinesis:DescribeStream", "kinesis:GetShardIterator", "kinesis:GetRecords"];
/// The same for a Firehose delivery stream input.
pub(super) const FIREHOSE_INPUT_ACTIONS: &[&str] = &["firehose:DescribeDeliveryStream"];
/// What the role of an output writing to a Kinesis stream must be allowed.
pub(super) const KINESIS_OUTPUT_ACTIONS: &[&str] = &["kinesis:DescribeStream", "kinesis:PutRecords"];
/// The same for a Firehose delivery stream output.
pub(super) const FIREHOSE_OUTPUT_ACTIONS: &[&str] = &["firehose:DescribeDeliveryStream", "firehose:PutRecordBatch"];

/// One input's or output's role check.
pub(super) struct RoleCheck {
    engine: Arc<Engine>,
    access: RoleAccess,
    actions: &'static [&'static str],
}

impl RoleCheck {
    pub(super) fn new(engine: Arc<Engine>, access: RoleAccess, actions: &'static [&'static str]) -> RoleCheck {
        RoleCheck { engine, access, actions }
    }

    /// Whether the role may act now.
    pub(super) fn check(&self) -> Result<(), RoleDenied> {
        self.engine.check_role(&self.access.role_arn, self.actions, &self.access.resource_arn)
    }
}
