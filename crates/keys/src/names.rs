//! The names a client may give a KMS key, as Kinesis and Firehose accept them: a key id
//! (UUID), a key ARN, an alias name (`alias/...`) or an alias ARN. An ARN of another
//! region or account names no key of this server.

use std::fmt;

use uuid::Uuid;

use crate::error::KeyError;

/// KMS's limit on an alias name, `alias/` included.
pub const ALIAS_BYTES_MAX: usize = 256;
const ALIAS_PREFIX: &str = "alias/";
/// Aliases under this prefix belong to AWS managed keys; clients cannot create them.
const AWS_ALIAS_PREFIX: &str = "alias/aws/";

/// The region and account whose keys this store holds; they appear in every ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub region: String,
    pub account: String,
}

impl Scope {
    /// `arn:PARTITION:kms:REGION:ACCOUNT:key/ID`.
    pub fn key_arn(&self, id: &Uuid) -> String {
        format!("{}:key/{id}", self.arn_prefix())
    }

    /// `arn:PARTITION:kms:REGION:ACCOUNT:alias/NAME`.
    pub fn alias_arn(&self, alias: &AliasName) -> String {
        format!("{}:{}", self.arn_prefix(), alias.as_str())
    }

    /// The partition of this scope's region.
    pub fn partition(&self) -> &'static str {
        rheo_aws::arn::partition_of(&self.region)
    }

    /// `arn:PARTITION:kms:REGION:ACCOUNT`.
    fn arn_prefix(&self) -> String {
        format!("arn:{}:kms:{}:{}", self.partition(), self.region, self.account)
    }
}

/// A valid alias name, `alias/` included.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AliasName(String);

impl AliasName {
    /// Checks KMS's rules: `alias/` then 1 or more of `[A-Za-z0-9/_-]`, at most
    /// [`ALIAS_BYTES_MAX`] bytes in all.
    pub fn parse(text: &str) -> Result<AliasName, KeyError> {
        let invalid = |reason| KeyError::InvalidAlias { given: text.to_owned(), reason };
        let Some(rest) = text.strip_prefix(ALIAS_PREFIX) else {
            return Err(invalid("it must begin with alias/"));
        };
        if rest.is_empty() {
            return Err(invalid("the name after alias/ is empty"));
        }
        if text.len() > ALIAS_BYTES_MAX {
            return Err(invalid("it is longer than 256 characters"));
        }
        if !rest.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-')) {
            return Err(invalid("only letters, digits, '/', '_' and '-' may follow alias/"));
        }
        Ok(AliasName(text.to_owned()))
    }

    /// Like [`AliasName::parse`], and refuses the names of AWS managed keys.
    pub fn parse_customer(text: &str) -> Result<AliasName, KeyError> {
        let alias = AliasName::parse(text)?;
        if alias.is_aws_managed() {
            return Err(KeyError::ReservedAlias { given: text.to_owned() });
        }
        Ok(alias)
    }

    /// Whether the alias is one of AWS managed keys (`alias/aws/...`).
    pub fn is_aws_managed(&self) -> bool {
        self.0.starts_with(AWS_ALIAS_PREFIX)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AliasName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a `KeyId` (or Firehose `KeyARN`) names, once checked against the scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyName {
    /// A key by its id (given as the id or as a key ARN).
    Id(Uuid),
    /// A key by one of its aliases (given as the alias or as an alias ARN).
    Alias(AliasName),
}

impl KeyName {
    /// Parses any of the four forms. An ARN of another region or account, or of another
    /// partition, is "not found" with the ARN as given, as KMS reports keys it cannot see.
    pub fn parse(text: &str, scope: &Scope) -> Result<KeyName, KeyError> {
        if let Some(rest) = text.strip_prefix("arn:") {
            return parse_arn(text, rest, scope);
        }
        if text.starts_with(ALIAS_PREFIX) {
            return AliasName::parse(text)
                .map(KeyName::Alias)
                .map_err(|_| KeyError::AliasNotFound { arn: alias_arn_text(scope, text) });
        }
        parse_uuid(text).map(KeyName::Id).ok_or_else(|| KeyError::InvalidKeyId { given: text.to_owned() })
    }
}

fn parse_arn(text: &str, rest: &str, scope: &Scope) -> Result<KeyName, KeyError> {
    // partition:service:region:account:resource
    let mut parts = rest.splitn(5, ':');
    let (Some(partition), Some(service), Some(region), Some(account), Some(resource)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(KeyError::InvalidKeyId { given: text.to_owned() });
    };
    let here = partition == scope.partition() && service == "kms" && region == scope.region && account == scope.account;
    if resource.starts_with(ALIAS_PREFIX) {
        return match AliasName::parse(resource) {
            Ok(alias) if here => Ok(KeyName::Alias(alias)),
            _ => Err(KeyError::AliasNotFound { arn: text.to_owned() }),
        };
    }
    match resource.strip_prefix("key/").and_then(parse_uuid) {
        Some(id) if here => Ok(KeyName::Id(id)),
        Some(_) => Err(KeyError::KeyNotFound { arn: text.to_owned() }),
        None => Err(KeyError::InvalidKeyId { given: text.to_owned() }),
    }
}

/// A key id in KMS's form: a hyphenated UUID (KMS prints lower case and accepts either).
fn parse_uuid(text: &str) -> Option<Uuid> {
    // `Uuid::parse_str` also takes braces, URNs and unhyphenated forms; KMS does not.
    if text.len() != 36 {
        return None;
    }
    Uuid::try_parse(text).ok()
}

fn alias_arn_text(scope: &Scope, alias: &str) -> String {
    format!("{}:{alias}", scope.arn_prefix())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        Scope { region: "us-east-1".into(), account: "123456789012".into() }
    }

    const ID: &str = "12345678-1234-1234-1234-123456789012";

    #[test]
    fn every_form_of_a_key_name_parses() {
        let id = KeyName::Id(Uuid::try_parse(ID).unwrap());
        let alias = KeyName::Alias(AliasName::parse("alias/mine").unwrap());
        assert_eq!(KeyName::parse(ID, &scope()).unwrap(), id);
        assert_eq!(KeyName::parse(&format!("arn:aws:kms:us-east-1:123456789012:key/{ID}"), &scope()).unwrap(), id);
        assert_eq!(KeyName::parse("alias/mine", &scope()).unwrap(), alias);
        assert_eq!(KeyName::parse("arn:aws:kms:us-east-1:123456789012:alias/mine", &scope()).unwrap(), alias);
    }

    #[test]
    fn arns_of_another_region_account_or_service_are_not_found() {
        for arn in [
            format!("arn:aws:kms:eu-west-1:123456789012:key/{ID}"),
            format!("arn:aws:kms:us-east-1:000000000000:key/{ID}"),
            format!("arn:aws-cn:kms:us-east-1:123456789012:key/{ID}"),
            format!("arn:aws:s3:us-east-1:123456789012:key/{ID}"),
        ] {
            let error = KeyName::parse(&arn, &scope()).unwrap_err();
            assert!(matches!(&error, KeyError::KeyNotFound { arn: a } if *a == arn), "{error:?}");
        }
        let error = KeyName::parse("arn:aws:kms:eu-west-1:123456789012:alias/mine", &scope()).unwrap_err();
        assert_eq!(error.to_string(), "Alias arn:aws:kms:eu-west-1:123456789012:alias/mine is not found.");
    }

    #[test]
    fn a_china_region_spells_and_accepts_its_own_partition() {
        let china = Scope { region: "cn-north-1".into(), account: "123456789012".into() };
        let id = Uuid::try_parse(ID).unwrap();
        let arn = china.key_arn(&id);
        assert_eq!(arn, format!("arn:aws-cn:kms:cn-north-1:123456789012:key/{ID}"));
        assert_eq!(KeyName::parse(&arn, &china).unwrap(), KeyName::Id(id));
        let alias = AliasName::parse("alias/mine").unwrap();
        assert_eq!(china.alias_arn(&alias), "arn:aws-cn:kms:cn-north-1:123456789012:alias/mine");
        let other_partition = format!("arn:aws:kms:cn-north-1:123456789012:key/{ID}");
        assert!(matches!(KeyName::parse(&other_partition, &china), Err(KeyError::KeyNotFound { .. })));
        // A malformed alias is reported by the ARN it would have, in this partition.
        let error = KeyName::parse("alias/has space", &china).unwrap_err();
        assert_eq!(error.to_string(), "Alias arn:aws-cn:kms:cn-north-1:123456789012:alias/has space is not found.");
    }

    #[test]
    fn malformed_names_are_refused() {
        for text in ["", "mine", "aws/kinesis", "1234", "arn:aws:kms", "{12345678-1234-1234-1234-123456789012}"] {
            let error = KeyName::parse(text, &scope()).unwrap_err();
            assert!(error.is_not_found(), "{text}: {error:?}");
        }
        assert!(KeyName::parse("alias/", &scope()).unwrap_err().is_not_found());
        assert!(KeyName::parse("alias/has space", &scope()).unwrap_err().is_not_found());
    }

    #[test]
    fn alias_rules() {
        assert!(AliasName::parse("alias/a-b_c/d9").is_ok());
        assert!(AliasName::parse("mine").is_err());
        assert!(AliasName::parse(&format!("alias/{}", "a".repeat(250))).is_ok());
        assert!(AliasName::parse(&format!("alias/{}", "a".repeat(251))).is_err());
        assert!(matches!(AliasName::parse_customer("alias/aws/mine"), Err(KeyError::ReservedAlias { .. })));
        assert!(AliasName::parse("alias/aws/kinesis").unwrap().is_aws_managed());
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_or_is_refused_without_panicking(text in "\\PC{0,80}") {
            let _ = KeyName::parse(&text, &scope());
            let _ = AliasName::parse(&text);
        }

        #[test]
        fn arn_forms_name_what_the_short_forms_name(
            id in proptest::array::uniform16(proptest::num::u8::ANY),
            alias in "alias/[A-Za-z0-9/_-]{1,40}",
        ) {
            let id = uuid::Builder::from_random_bytes(id).into_uuid();
            let scope = scope();
            let by_arn = KeyName::parse(&scope.key_arn(&id), &scope).unwrap();
            proptest::prop_assert_eq!(by_arn, KeyName::parse(&id.to_string(), &scope).unwrap());
            let alias = AliasName::parse(&alias).unwrap();
            let by_arn = KeyName::parse(&scope.alias_arn(&alias), &scope).unwrap();
            proptest::prop_assert_eq!(by_arn, KeyName::parse(alias.as_str(), &scope).unwrap());
        }
    }
}
