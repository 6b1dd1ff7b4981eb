//! SKELETON(cli): `rheo streams|create|describe|put|tail|delete`, the commands for people
//! (issue 19). The `cli` piece owns this module except `put.rs` (the `producer` piece).

pub mod put;

/// Where the commands connect, shared by every command for people.
#[derive(clap::Args, Clone, Debug)]
pub struct Connection {
    /// The endpoint (Rheo or AWS). Default: the local Rheo, http://127.0.0.1:4567.
    #[arg(long, env = "RHEO_ENDPOINT")]
    pub endpoint: Option<String>,
    /// The profile of the AWS shared credentials and config files.
    #[arg(long)]
    pub profile: Option<String>,
}

/// SKELETON(cli) `rheo streams`.
#[derive(clap::Args, Debug)]
pub struct StreamsArgs {
    #[command(flatten)]
    pub connection: Connection,
}

/// SKELETON(cli): runs `rheo streams`.
pub fn streams(_args: StreamsArgs) -> anyhow::Result<()> {
    anyhow::bail!("SKELETON(cli)")
}
