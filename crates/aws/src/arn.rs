//! ARN facts every service of Rheo spells the same way.

/// The partition of `region`, as ARNs spell it: `aws-cn` for the China regions,
/// `aws-us-gov` for GovCloud, `aws` for every other region.
///
/// One rule for every service, so that an ARN Rheo prints and an ARN it is sent compare
/// alike in all of them (a Deny on `arn:aws:...` must not be dodged by another spelling).
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

#[cfg(test)]
mod tests {
    use super::partition_of;

    #[test]
    fn regions_map_to_their_partitions() {
        for (region, partition) in [
            ("us-east-1", "aws"),
            ("eu-central-2", "aws"),
            ("cn-north-1", "aws-cn"),
            ("cn-northwest-1", "aws-cn"),
            ("us-gov-west-1", "aws-us-gov"),
            ("us-gov-east-1", "aws-us-gov"),
        ] {
            assert_eq!(partition_of(region), partition, "{region}");
        }
    }
}
