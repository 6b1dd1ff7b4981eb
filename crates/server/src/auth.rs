//! Who is calling: the front door turns each request's signature into a [`Caller`], and
//! every service's `call` receives it to authorize the operation.
//!
//! Under [`AuthMode::None`] only the presence of a signature is checked (the front door's
//! presence checks); under [`AuthMode::SigV4`] the [`Authenticator`] verifies it against
//! the principals of the credentials file ([`identities`]) with [`verify`], and the
//! snapshot of principals and policies is swapped whole on reload ([`crate::reload`]).

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, RwLock};

use rheo_storage::Clock;

pub mod identities;
pub mod verify;

pub use identities::{AuthFiles, AuthLoadError, AuthReloader, Identities};
pub use verify::{AuthFailure, SignedRequest, CLOCK_SKEW_SECS, PRESIGNED_EXPIRES_SECS_MAX, SIGNING_KEYS_CACHED_MAX};

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

/// What the server knows of the connection a request came over; the connection loop puts
/// it into each request's extensions, and the front door reads it into the [`Caller`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionInfo {
    /// The client's address.
    pub peer: SocketAddr,
    /// Whether the connection is TLS.
    pub secure: bool,
}

/// Verifies signatures under the server's mode, region and clock, against the current
/// snapshot of principals.
pub struct Authenticator {
    mode: AuthMode,
    region: String,
    clock: Arc<dyn Clock>,
    identities: RwLock<Arc<Identities>>,
}

impl Default for Authenticator {
    fn default() -> Self {
        Authenticator::none()
    }
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator").field("mode", &self.mode).field("region", &self.region).finish_non_exhaustive()
    }
}

impl Authenticator {
    /// [`AuthMode::None`]: presence checks only.
    pub fn none() -> Authenticator {
        Authenticator {
            mode: AuthMode::None,
            region: String::new(),
            clock: Arc::new(rheo_storage::SystemClock),
            identities: RwLock::new(Arc::new(Identities::default())),
        }
    }

    /// [`AuthMode::SigV4`] for requests scoped to `region`, with time from `clock`.
    pub fn sigv4(region: &str, clock: Arc<dyn Clock>, identities: Identities) -> Authenticator {
        Authenticator {
            mode: AuthMode::SigV4,
            region: region.to_owned(),
            clock,
            identities: RwLock::new(Arc::new(identities)),
        }
    }

    /// The mode.
    pub fn mode(&self) -> AuthMode {
        self.mode
    }

    /// The principals and policies in force now. Authorization reads the role policies
    /// (Firehose's and Analytics' `RoleARN`s) from here.
    pub fn snapshot(&self) -> Arc<Identities> {
        match self.identities.read() {
            Ok(guard) => guard.clone(),
            // A panic while swapping cannot leave a half-written Arc behind.
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Puts `identities` in force for the requests that start from now on.
    pub fn replace(&self, identities: Identities) {
        let identities = Arc::new(identities);
        match self.identities.write() {
            Ok(mut guard) => *guard = identities,
            Err(poisoned) => *poisoned.into_inner() = identities,
        }
    }

    /// The verified principal of `request` for the service whose signing name is
    /// `signing_name`; `None` under [`AuthMode::None`].
    pub fn authenticate(
        &self,
        request: &SignedRequest<'_>,
        signing_name: &str,
    ) -> Result<Option<Arc<Principal>>, AuthFailure> {
        match self.mode {
            AuthMode::None => Ok(None),
            AuthMode::SigV4 => {
                let now_secs = self.clock.now_ms() / 1000;
                verify::verify(&self.snapshot(), &self.region, signing_name, request, now_secs).map(Some)
            }
        }
    }
}
