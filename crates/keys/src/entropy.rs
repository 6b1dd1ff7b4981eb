//! Where key material and key ids come from: a seam, so tests can make them
//! deterministic, and the OS CSPRNG everywhere else.

use std::fmt::Debug;

use rand::RngCore as _;

use crate::error::KeyError;

/// A source of random bytes for key material and key ids.
pub trait Entropy: Send + Sync + Debug {
    /// Fills `bytes` with random bytes, or fails (never returns predictable bytes).
    fn fill(&self, bytes: &mut [u8]) -> Result<(), KeyError>;
}

/// The operating system's CSPRNG (`getrandom`).
#[derive(Debug, Default, Clone, Copy)]
pub struct OsEntropy;

impl Entropy for OsEntropy {
    fn fill(&self, bytes: &mut [u8]) -> Result<(), KeyError> {
        rand::rngs::OsRng.try_fill_bytes(bytes).map_err(|error| KeyError::Entropy(error.to_string()))
    }
}
