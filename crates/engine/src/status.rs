//! Lifecycle states of streams and consumers, as AWS spells them. A leaf module, so both
//! the domain model and the errors can name them.

use std::fmt;

/// Lifecycle state of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamStatus {
    /// Just created; not yet usable.
    Creating,
    /// Usable.
    Active,
    /// Usable; a change (resharding, mode, encryption) is being applied.
    Updating,
    /// Being deleted.
    Deleting,
}

impl StreamStatus {
    /// The AWS spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamStatus::Creating => "CREATING",
            StreamStatus::Active => "ACTIVE",
            StreamStatus::Updating => "UPDATING",
            StreamStatus::Deleting => "DELETING",
        }
    }

    /// Whether records may be written and read.
    pub fn serves_data(self) -> bool {
        matches!(self, StreamStatus::Active | StreamStatus::Updating)
    }
}

impl fmt::Display for StreamStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Lifecycle state of an enhanced fan-out consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsumerStatus {
    /// Registering.
    Creating,
    /// Registered.
    Active,
    /// Deregistering.
    Deleting,
}

impl ConsumerStatus {
    /// The AWS spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsumerStatus::Creating => "CREATING",
            ConsumerStatus::Active => "ACTIVE",
            ConsumerStatus::Deleting => "DELETING",
        }
    }
}
