//! Who is calling: the front door turns each request's signature into a [`Caller`], and
//! every service's `call` receives it to authorize the operation.
//!
//! SKELETON: the signature verification (`--auth sigv4`, `--credentials`, `--policies`,
//! SIGHUP reload) is filled in by the authentication piece of issue 17; the types below
//! are the interface the authorization piece codes against.

use std::net::IpAddr;
use std::sync::Arc;

/// How requests are authenticated (`rheo serve --auth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMode {
    /// Only the presence and shape of a signature are checked (kinesalite's and
    /// kinesis-mock's behaviour, the laptop default); nothing is authorized.
    #[default]
    None,
    /// Every request's SigV4 signature is verified against the credentials file, and
    /// every call is authorized by identity and resource policies.
    SigV4,
}

/// A principal whose signature was verified.
#[derive(Debug)]
pub struct Principal {
    /// Its name: the section of the credentials file.
    pub name: String,
    /// Its ARN, `arn:aws:iam::ACCOUNT:user/NAME`.
    pub arn: String,
    /// Its identity policy (`--policies DIR/NAME.json`), or `None`: it may do everything.
    pub policy: Option<Arc<rheo_iam::Policy>>,
}

/// The caller of one request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The verified principal, or `None` under [`AuthMode::None`], where calls are not
    /// authorized.
    pub principal: Option<Arc<Principal>>,
    /// The client's address (`aws:SourceIp`), when the request came over a connection.
    pub source_ip: Option<IpAddr>,
    /// Whether the request came over TLS (`aws:SecureTransport`).
    pub secure_transport: bool,
}

impl Caller {
    /// A caller that is not authorized: [`AuthMode::None`], or a request built in a test.
    pub fn unauthenticated() -> Caller {
        Caller { principal: None, source_ip: None, secure_transport: false }
    }
}
