//! Where requests go and who signs them: the endpoint, the region and the credentials,
//! found the way the AWS SDKs and CLI find them.
//!
//! Credentials: `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (/ `AWS_SESSION_TOKEN`), else
//! the profile (`--profile`, else `AWS_PROFILE`, else `default`) of the shared credentials
//! file (`AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`). Region: `AWS_REGION`,
//! else `AWS_DEFAULT_REGION`, else the profile's `region` in the config file
//! (`AWS_CONFIG_FILE`, else `~/.aws/config`), else the region in an AWS endpoint's host
//! name (`firehose.eu-west-1.amazonaws.com`). Rheo accepts any key unless it runs with
//! `--auth sigv4`, so against a non-AWS endpoint a missing key is replaced by a
//! placeholder; against AWS (no endpoint, or an AWS host name) it is an error.
//!
//! An endpoint without a scheme (`kinesis.us-east-1.amazonaws.com`, as AWS documents them)
//! means `https://`.

use std::path::PathBuf;
use std::time::Duration;

use rheo_aws::credentials_file::CredentialsFile;
pub use rheo_aws::sigv4::Credentials;

use crate::error::{ClientError, Result};

/// The endpoint a client uses when none is given: a Rheo on this machine.
pub const LOCAL_ENDPOINT: &str = "http://127.0.0.1:4567";

/// The region used when none is configured and the endpoint is not AWS.
pub const DEFAULT_REGION: &str = "us-east-1";

/// How long one request may take before it counts as failed.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The key pair used against a non-AWS endpoint when none is configured.
const PLACEHOLDER_KEY: &str = "rheo";

/// Host name endings of AWS's own endpoints: `<service>.<region>.<ending>`.
const AWS_HOST_ENDINGS: [&str; 3] = [".amazonaws.com", ".amazonaws.com.cn", ".api.aws"];

/// Largest config or credentials file read.
const AWS_FILE_BYTES_MAX: u64 = 1 << 20;

/// The three services a client talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Service {
    /// Kinesis Data Streams (JSON 1.1 or CBOR 1.1).
    Kinesis,
    /// Kinesis Data Firehose (JSON 1.1).
    Firehose,
    /// DynamoDB (JSON 1.0).
    DynamoDb,
}

impl Service {
    /// The name in error messages.
    pub fn name(self) -> &'static str {
        match self {
            Service::Kinesis => "Kinesis",
            Service::Firehose => "Firehose",
            Service::DynamoDb => "DynamoDB",
        }
    }

    /// The SigV4 signing name, which is also AWS's endpoint prefix.
    pub fn signing_name(self) -> &'static str {
        match self {
            Service::Kinesis => "kinesis",
            Service::Firehose => "firehose",
            Service::DynamoDb => "dynamodb",
        }
    }

    /// The `X-Amz-Target` prefix, dot included.
    pub fn target_prefix(self) -> &'static str {
        match self {
            Service::Kinesis => "Kinesis_20131202.",
            Service::Firehose => rheo_protocol::firehose::TARGET_PREFIX,
            Service::DynamoDb => rheo_protocol::dynamodb::TARGET_PREFIX,
        }
    }

    /// The JSON content type the service speaks.
    pub fn json_content_type(self) -> &'static str {
        match self {
            Service::Kinesis | Service::Firehose => "application/x-amz-json-1.1",
            Service::DynamoDb => "application/x-amz-json-1.0",
        }
    }
}

/// Everything a service client needs to reach its endpoint.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// `http(s)://host[:port]` (a bare `host[:port]` means `https://`); `None` means AWS's
    /// endpoint for the service and region.
    pub endpoint: Option<String>,
    /// The SigV4 region.
    pub region: String,
    /// The signing keys.
    pub credentials: Credentials,
    /// How long one request may take.
    pub timeout: Duration,
}

impl ClientConfig {
    /// A configuration for `endpoint` with explicit credentials.
    pub fn new(endpoint: Option<&str>, region: &str, credentials: Credentials) -> Self {
        ClientConfig {
            endpoint: endpoint.map(str::to_owned),
            region: region.to_owned(),
            credentials,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// A configuration for a Rheo at `endpoint` with the placeholder keys it accepts by
    /// default (tests, benchmarks).
    pub fn local(endpoint: &str) -> Self {
        ClientConfig::new(Some(endpoint), DEFAULT_REGION, placeholder_credentials())
    }

    /// Resolves the region and credentials from the environment and the AWS files, the
    /// way the AWS CLI does (see the module documentation).
    pub fn resolve(endpoint: Option<&str>, profile: Option<&str>, env: &dyn Environment) -> Result<Self> {
        let profile_name =
            profile.map(str::to_owned).or_else(|| env.var("AWS_PROFILE")).unwrap_or_else(|| "default".into());
        // As in the AWS CLI: a --profile flag beats the key variables, which beat AWS_PROFILE.
        let credentials = match (env.var("AWS_ACCESS_KEY_ID"), env.var("AWS_SECRET_ACCESS_KEY")) {
            (Some(access_key), Some(secret_key)) if profile.is_none() => {
                Some(Credentials { access_key, secret_key, session_token: env.var("AWS_SESSION_TOKEN") })
            }
            _ => profile_credentials(env, &profile_name)?,
        };
        let credentials = match credentials {
            Some(credentials) => credentials,
            None if endpoint.is_some_and(|e| !is_aws_endpoint(e)) => placeholder_credentials(),
            None => {
                return Err(ClientError::Credentials(format!(
                    "no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add profile {profile_name:?} to the shared credentials file"
                )))
            }
        };
        let region = env
            .var("AWS_REGION")
            .or_else(|| env.var("AWS_DEFAULT_REGION"))
            .or_else(|| profile_region(env, &profile_name))
            .or_else(|| endpoint.and_then(aws_endpoint_region))
            .unwrap_or_else(|| DEFAULT_REGION.to_owned());
        Ok(ClientConfig::new(endpoint, &region, credentials))
    }

    /// The endpoint URL for `service`: the configured one, else AWS's regional one.
    pub fn endpoint_for(&self, service: Service) -> String {
        match &self.endpoint {
            Some(endpoint) if endpoint.contains("://") => endpoint.trim_end_matches('/').to_owned(),
            Some(host) => format!("https://{}", host.trim_end_matches('/')),
            None => format!("https://{}.{}.amazonaws.com", service.signing_name(), self.region),
        }
    }
}

/// The host name of `endpoint` (`scheme://host:port/path`, scheme, port and path optional),
/// lower case.
fn endpoint_host(endpoint: &str) -> String {
    let rest = endpoint.split_once("://").map_or(endpoint, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    // A bracketed IPv6 address keeps its colons; otherwise a colon starts the port.
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.split(':').next().unwrap_or_default(),
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// Whether `endpoint` is one of AWS's own (`kinesis.us-east-1.amazonaws.com`, a VPC
/// endpoint's `…vpce.amazonaws.com`, `….amazonaws.com.cn`, dual-stack `….api.aws`).
pub fn is_aws_endpoint(endpoint: &str) -> bool {
    let host = endpoint_host(endpoint);
    AWS_HOST_ENDINGS.iter().any(|ending| host.ends_with(ending))
}

/// The region in an AWS endpoint's host name: the label just before the AWS ending
/// (`firehose.eu-west-1.amazonaws.com` → `eu-west-1`), `None` for other hosts and for
/// global ones without a region.
pub fn aws_endpoint_region(endpoint: &str) -> Option<String> {
    let host = endpoint_host(endpoint);
    let ending = AWS_HOST_ENDINGS.iter().find(|ending| host.ends_with(*ending))?;
    let prefix = host.strip_suffix(ending)?;
    let mut labels = prefix.rsplit('.');
    // `<service>.<region>`, or a VPC endpoint's `<id>.<service>.<region>.vpce`; the first
    // label alone is the service (global endpoints have no region).
    let region = match labels.next()? {
        "vpce" => labels.next()?,
        region => region,
    };
    // Regions look like `us-east-1`, `cn-north-1`, `us-gov-west-1`: letters, dashes, a number.
    let looks_like_region = region.contains('-')
        && region.ends_with(|c: char| c.is_ascii_digit())
        && region.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    (looks_like_region && labels.next().is_some()).then(|| region.to_owned())
}

/// The keys used against a non-AWS endpoint when none are configured.
pub fn placeholder_credentials() -> Credentials {
    Credentials { access_key: PLACEHOLDER_KEY.into(), secret_key: PLACEHOLDER_KEY.into(), session_token: None }
}

/// Where configuration is read from: the process environment and files, or a test's.
pub trait Environment {
    /// An environment variable, `None` when unset or empty.
    fn var(&self, name: &str) -> Option<String>;
    /// A file's text, `None` when it does not exist.
    fn read(&self, path: &std::path::Path) -> std::io::Result<Option<String>>;
}

/// The real environment and file system.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemEnvironment;

impl Environment for SystemEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }

    fn read(&self, path: &std::path::Path) -> std::io::Result<Option<String>> {
        use std::io::Read;
        match std::fs::File::open(path) {
            Ok(file) => {
                let mut text = String::new();
                file.take(AWS_FILE_BYTES_MAX).read_to_string(&mut text)?;
                Ok(Some(text))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

fn aws_file(env: &dyn Environment, variable: &str, name: &str) -> Option<PathBuf> {
    env.var(variable)
        .map(PathBuf::from)
        .or_else(|| env.var("HOME").map(|home| PathBuf::from(home).join(".aws").join(name)))
}

fn profile_credentials(env: &dyn Environment, profile: &str) -> Result<Option<Credentials>> {
    let Some(path) = aws_file(env, "AWS_SHARED_CREDENTIALS_FILE", "credentials") else { return Ok(None) };
    let text = env.read(&path).map_err(|e| ClientError::Credentials(format!("cannot read {}: {e}", path.display())))?;
    let Some(text) = text else { return Ok(None) };
    let file =
        CredentialsFile::parse(&text).map_err(|e| ClientError::Credentials(format!("{}: {e}", path.display())))?;
    Ok(file.profile(profile).map(|p| p.credentials.clone()))
}

/// The `region` of `[profile NAME]` (or `[default]`) in the config file.
fn profile_region(env: &dyn Environment, profile: &str) -> Option<String> {
    let path = aws_file(env, "AWS_CONFIG_FILE", "config")?;
    let text = env.read(&path).ok()??;
    let wanted = if profile == "default" { "default".to_owned() } else { format!("profile {profile}") };
    let mut in_section = false;
    for line in text.lines() {
        let line = line.trim();
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_section = section.trim() == wanted;
        } else if in_section {
            if let Some((key, value)) = line.split_once('=') {
                if key.trim() == "region" && !value.trim().is_empty() {
                    return Some(value.trim().to_owned());
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[derive(Default)]
    struct FakeEnvironment {
        vars: HashMap<String, String>,
        files: HashMap<PathBuf, String>,
    }

    impl Environment for FakeEnvironment {
        fn var(&self, name: &str) -> Option<String> {
            self.vars.get(name).cloned()
        }
        fn read(&self, path: &std::path::Path) -> std::io::Result<Option<String>> {
            Ok(self.files.get(path).cloned())
        }
    }

    fn env(vars: &[(&str, &str)], files: &[(&str, &str)]) -> FakeEnvironment {
        FakeEnvironment {
            vars: vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            files: files.iter().map(|(k, v)| (PathBuf::from(k), v.to_string())).collect(),
        }
    }

    #[test]
    fn environment_keys_win_and_the_region_comes_from_the_environment() {
        let e = env(&[("AWS_ACCESS_KEY_ID", "AK"), ("AWS_SECRET_ACCESS_KEY", "SK"), ("AWS_REGION", "eu-west-1")], &[]);
        let config = ClientConfig::resolve(None, None, &e).unwrap();
        assert_eq!(config.credentials.access_key, "AK");
        assert_eq!(config.region, "eu-west-1");
        assert_eq!(config.endpoint_for(Service::Kinesis), "https://kinesis.eu-west-1.amazonaws.com");
    }

    #[test]
    fn profiles_come_from_the_shared_files() {
        let credentials = "[default]\naws_access_key_id = D\naws_secret_access_key = DS\n[team]\naws_access_key_id = T\naws_secret_access_key = TS\n";
        let config_file = "[default]\nregion = us-west-2\n[profile team]\nregion = ap-south-1\n";
        let e = env(&[("HOME", "/h")], &[("/h/.aws/credentials", credentials), ("/h/.aws/config", config_file)]);
        let default = ClientConfig::resolve(None, None, &e).unwrap();
        assert_eq!((default.credentials.access_key.as_str(), default.region.as_str()), ("D", "us-west-2"));
        let team = ClientConfig::resolve(None, Some("team"), &e).unwrap();
        assert_eq!((team.credentials.access_key.as_str(), team.region.as_str()), ("T", "ap-south-1"));
    }

    #[test]
    fn a_local_endpoint_needs_no_keys_aws_does() {
        let e = env(&[], &[]);
        let local = ClientConfig::resolve(Some("http://localhost:4567/"), None, &e).unwrap();
        assert_eq!(local.credentials, placeholder_credentials());
        assert_eq!(local.endpoint_for(Service::DynamoDb), "http://localhost:4567");
        assert!(matches!(ClientConfig::resolve(None, None, &e), Err(ClientError::Credentials(_))));
    }

    #[test]
    fn an_endpoint_without_a_scheme_is_https() {
        let config = ClientConfig::local("kinesis.us-east-1.amazonaws.com");
        assert_eq!(config.endpoint_for(Service::Kinesis), "https://kinesis.us-east-1.amazonaws.com");
        let config = ClientConfig::local("localhost:4567/");
        assert_eq!(config.endpoint_for(Service::Kinesis), "https://localhost:4567");
        let config = ClientConfig::local("http://localhost:4567");
        assert_eq!(config.endpoint_for(Service::Kinesis), "http://localhost:4567");
    }

    #[test]
    fn the_region_of_an_aws_endpoint_is_used_when_none_is_configured() {
        let keys = [("AWS_ACCESS_KEY_ID", "AK"), ("AWS_SECRET_ACCESS_KEY", "SK")];
        let resolve = |endpoint: &str, vars: &[(&str, &str)]| {
            ClientConfig::resolve(Some(endpoint), None, &env(vars, &[])).unwrap().region
        };
        assert_eq!(resolve("firehose.eu-west-1.amazonaws.com", &keys), "eu-west-1");
        assert_eq!(resolve("https://kinesis.cn-north-1.amazonaws.com.cn:443/", &keys), "cn-north-1");
        assert_eq!(resolve("https://kinesis-fips.us-gov-west-1.amazonaws.com", &keys), "us-gov-west-1");
        assert_eq!(resolve("https://kinesis.ap-south-1.api.aws", &keys), "ap-south-1");
        assert_eq!(resolve("https://vpce-0a1-b2.kinesis.eu-central-1.vpce.amazonaws.com", &keys), "eu-central-1");
        let configured = [keys[0], keys[1], ("AWS_REGION", "us-west-2")];
        assert_eq!(resolve("firehose.eu-west-1.amazonaws.com", &configured), "us-west-2", "configured wins");
        assert_eq!(resolve("http://localhost:4567", &keys), DEFAULT_REGION);
        assert_eq!(resolve("https://kinesis.amazonaws.com.example.org", &keys), DEFAULT_REGION);
    }

    #[test]
    fn placeholder_keys_are_never_sent_to_an_aws_host() {
        let e = env(&[], &[]);
        for aws in [
            "kinesis.us-east-1.amazonaws.com",
            "https://FIREHOSE.eu-west-1.amazonaws.com./",
            "dynamodb.us-east-1.api.aws",
        ] {
            assert!(matches!(ClientConfig::resolve(Some(aws), None, &e), Err(ClientError::Credentials(_))), "{aws}");
        }
        for local in
            ["http://127.0.0.1:4567", "rheo.internal:4567", "http://[::1]:4567", "https://amazonaws.com.evil.example"]
        {
            let config = ClientConfig::resolve(Some(local), None, &e).unwrap();
            assert_eq!(config.credentials, placeholder_credentials(), "{local}");
        }
    }
}
