//! Identifiers as AWS spells them: shard ids and stream and consumer ARNs.

/// Largest shard index AWS accepts when parsing a shard id.
const SHARD_INDEX_MAX: u64 = 2_147_483_647;

/// A shard's id: `shardId-` and its storage index in 12 digits. Engine results carry it
/// typed; it is spelled out once, where the server writes the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ShardId(u32);

impl ShardId {
    /// The id of the shard with this storage index.
    pub fn new(index: u32) -> Self {
        ShardId(index)
    }

    /// The storage index.
    pub fn index(self) -> u32 {
        self.0
    }

    /// Parses a shard id the lenient way AWS does: only the part after the first `-`
    /// matters (or the whole text if there is none), and it must be a decimal of at most
    /// 2^31 - 1. `2147483647`, `foo-2147483647` and `-00002147483647` all name shard
    /// 2147483647.
    pub fn parse(text: &str) -> Option<Self> {
        let digits = match text.split_once('-') {
            Some((_, rest)) => rest.split('-').next().unwrap_or(rest),
            None => text,
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        // Leading zeros may make the text long; strip them before parsing.
        let significant = digits.trim_start_matches('0');
        if significant.len() > 10 {
            return None;
        }
        let value: u64 = if significant.is_empty() { 0 } else { significant.parse().ok()? };
        (value <= SHARD_INDEX_MAX).then_some(ShardId(value as u32))
    }
}

impl std::fmt::Display for ShardId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "shardId-{:012}", self.0)
    }
}

/// The shard index a sequence number encodes, which may be one no shard has: AWS reads a
/// version-2 number's index as a signed 32-bit integer. Printed like a [`ShardId`] with
/// Java's `%012d`, so -2147483648 is `shardId--02147483648` (issue 14, item 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodedShardId(i64);

impl EncodedShardId {
    /// The encoded index.
    pub fn new(index: i64) -> Self {
        EncodedShardId(index)
    }

    /// The encoded index.
    pub fn index(self) -> i64 {
        self.0
    }
}

impl std::fmt::Display for EncodedShardId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Rust's `{:012}` pads after the sign, as Java's `%012d` does.
        write!(f, "shardId-{:012}", self.0)
    }
}

/// A shard id equals its spelling, so callers can compare with what a client sent.
impl PartialEq<str> for ShardId {
    fn eq(&self, other: &str) -> bool {
        other.strip_prefix("shardId-").is_some_and(|digits| {
            digits.len() == 12 && digits.bytes().all(|b| b.is_ascii_digit()) && digits.parse() == Ok(self.0)
        })
    }
}

impl PartialEq<&str> for ShardId {
    fn eq(&self, other: &&str) -> bool {
        self == *other
    }
}

impl PartialEq<String> for ShardId {
    fn eq(&self, other: &String) -> bool {
        self == other.as_str()
    }
}

/// A stream ARN this server issued: `arn:{partition}:kinesis:{region}:{account}:stream/{name}`.
/// Only [`Account::stream_arn`] makes one, so it is always well formed and of this
/// account; ARNs that clients send stay text until [`Account::parse_arn`] checks them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StreamArn(String);

/// A consumer ARN this server issued: `{streamArn}/consumer/{name}:{creationEpochSeconds}`.
/// Only [`Account::consumer_arn`] makes one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConsumerArn(String);

macro_rules! arn_text {
    ($arn:ty) => {
        impl $arn {
            /// The ARN's text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Gives back the ARN's text.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::fmt::Display for $arn {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $arn {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $arn {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $arn {
            fn eq(&self, other: &String) -> bool {
                self.0 == *other
            }
        }
    };
}

/// A queue ARN this server issued: `arn:{partition}:kinesis:{region}:{account}:queue/{id}`,
/// where `id` is generated at creation (AWS: not derived from the name). Only
/// [`Account::queue_arn`] makes one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QueueArn(String);

arn_text!(StreamArn);
arn_text!(ConsumerArn);
arn_text!(QueueArn);

/// Where this server lives, for ARNs and messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The region, e.g. `us-east-1`.
    pub region: String,
    /// The 12-digit account id.
    pub account_id: String,
}

impl Account {
    /// The partition of the region, as ARNs spell it.
    pub fn partition(&self) -> &'static str {
        rheo_aws::arn::partition_of(&self.region)
    }

    /// `arn:aws:kinesis:{region}:{account}:stream/{name}`.
    pub fn stream_arn(&self, name: &str) -> StreamArn {
        StreamArn(format!("arn:{}:kinesis:{}:{}:stream/{name}", self.partition(), self.region, self.account_id))
    }

    /// `{streamArn}/consumer/{name}:{creationEpochSeconds}`.
    pub fn consumer_arn(&self, stream: &str, consumer: &str, created_ms: u64) -> ConsumerArn {
        ConsumerArn(format!("{}/consumer/{consumer}:{}", self.stream_arn(stream), created_ms / 1000))
    }

    /// `arn:aws:kinesis:{region}:{account}:queue/{resource_id}`.
    pub fn queue_arn(&self, resource_id: &str) -> QueueArn {
        QueueArn(format!("arn:{}:kinesis:{}:{}:queue/{resource_id}", self.partition(), self.region, self.account_id))
    }

    /// The resource id of a queue ARN of this account and region.
    pub fn queue_resource_id<'a>(&self, arn: &'a str) -> Option<&'a str> {
        self.own_resource(arn)?.strip_prefix("queue/").filter(|id| !id.is_empty())
    }

    /// Splits `arn:{partition}:kinesis:{region}:{account}:{resource}` and returns the
    /// resource part if the ARN belongs to this partition, region and account. The
    /// partition counts too: authorization matches policies against the ARN as sent, so
    /// an `arn:aws-cn:` spelling of one of our streams must not reach it.
    fn own_resource<'a>(&self, arn: &'a str) -> Option<&'a str> {
        let mut parts = arn.splitn(6, ':');
        let (Some("arn"), Some(partition), Some("kinesis"), Some(region), Some(account), Some(resource)) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        (partition == self.partition() && region == self.region && account == self.account_id).then_some(resource)
    }

    /// What an ARN names, if it is a stream or consumer ARN of this account and region.
    pub fn parse_arn(&self, arn: &str) -> Option<ResourceName> {
        let resource = self.own_resource(arn)?;
        let rest = resource.strip_prefix("stream/")?;
        match rest.split_once("/consumer/") {
            None => (!rest.is_empty() && !rest.contains('/')).then(|| ResourceName::Stream(rest.to_owned())),
            Some((stream, consumer)) => {
                let (name, secs) = consumer.rsplit_once(':')?;
                let created_secs = secs.parse().ok()?;
                (!stream.is_empty() && !name.is_empty()).then(|| ResourceName::Consumer {
                    stream: stream.to_owned(),
                    consumer: name.to_owned(),
                    created_secs,
                })
            }
        }
    }

    /// The stream name an ARN refers to, for "not found" messages even when the ARN is
    /// foreign: everything after `stream/` up to the next `/`.
    pub fn stream_name_in_arn(arn: &str) -> &str {
        arn.split_once(":stream/").map(|(_, rest)| rest.split('/').next().unwrap_or(rest)).unwrap_or(arn)
    }
}

/// A resource an ARN names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceName {
    /// A stream.
    Stream(String),
    /// An enhanced fan-out consumer of a stream.
    Consumer {
        /// The stream's name.
        stream: String,
        /// The consumer's name.
        consumer: String,
        /// The creation time the ARN embeds, epoch seconds.
        created_secs: u64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_ids_parse_as_leniently_as_aws() {
        let parse = |text: &str| ShardId::parse(text).map(ShardId::index);
        assert_eq!(ShardId::new(7).to_string(), "shardId-000000000007");
        assert_eq!(ShardId::new(7), "shardId-000000000007");
        assert_ne!(ShardId::new(7), "7");
        assert_eq!(parse("shardId-000000000007"), Some(7));
        assert_eq!(parse("2147483647"), Some(2_147_483_647));
        assert_eq!(parse("foo-2147483647"), Some(2_147_483_647));
        assert_eq!(parse("a-00002147483647"), Some(2_147_483_647));
        assert_eq!(parse("-00002147483647"), Some(2_147_483_647));
        assert_eq!(parse("shardId-2147483648"), None);
        assert_eq!(parse("shardId-abc"), None);
        assert_eq!(parse("shardId-"), None);
        assert_eq!(parse("shardId-99999999999999999999999"), None);
    }

    #[test]
    fn arns_round_trip() {
        let account = Account { region: "us-east-1".into(), account_id: "000000000000".into() };
        let arn = account.stream_arn("orders");
        assert_eq!(arn, "arn:aws:kinesis:us-east-1:000000000000:stream/orders");
        assert_eq!(account.parse_arn(arn.as_str()), Some(ResourceName::Stream("orders".into())));
        let consumer = account.consumer_arn("orders", "app", 1_700_000_000_123);
        assert_eq!(consumer, "arn:aws:kinesis:us-east-1:000000000000:stream/orders/consumer/app:1700000000");
        assert_eq!(
            account.parse_arn(consumer.as_str()),
            Some(ResourceName::Consumer {
                stream: "orders".into(),
                consumer: "app".into(),
                created_secs: 1_700_000_000
            })
        );
        assert_eq!(account.parse_arn("arn:aws:kinesis:eu-west-1:000000000000:stream/orders"), None);
        // Another partition's spelling of the same stream is not ours either.
        assert_eq!(account.parse_arn(&arn.as_str().replacen("arn:aws:", "arn:aws-cn:", 1)), None);
        assert_eq!(Account::stream_name_in_arn("arn:aws:kinesis:eu-west-1:1:stream/x/consumer/y:1"), "x");
    }
}
