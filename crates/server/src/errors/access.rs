//! The answer to a denied call: `AccessDeniedException` (HTTP 400, as AWS's JSON services
//! send it) with IAM's message, in each service's error namespace.

use rheo_protocol::{ErrorType, WireError};

use crate::authz::Denied;

/// Kinesis, Firehose and Analytics: `AccessDeniedException`.
pub fn access_denied(denied: &Denied) -> WireError {
    ErrorType::AccessDenied.with_message(denied.message.clone())
}

/// DynamoDB: the same type in the Coral service namespace DynamoDB qualifies it with.
pub fn dynamodb_access_denied(denied: &Denied) -> WireError {
    super::dynamodb_front_door_error(access_denied(denied))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_denial_is_access_denied_with_iams_message_in_each_namespace() {
        let denied = Denied { message: "User: arn:aws:iam::123456789012:user/bob is not authorized".into() };
        let kinesis = access_denied(&denied);
        assert_eq!((kinesis.error_type.as_str(), kinesis.http_status), ("AccessDeniedException", 400));
        assert_eq!(kinesis.message.as_deref(), Some(denied.message.as_str()));
        let dynamodb = dynamodb_access_denied(&denied);
        assert_eq!(dynamodb.error_type, "com.amazon.coral.service#AccessDeniedException");
        assert_eq!(dynamodb.message, kinesis.message);
    }
}
