//! SKELETON(producer): `rheo put STREAM`: one record per line of stdin through the producer.

/// SKELETON(producer) `rheo put`.
#[derive(clap::Args, Debug)]
pub struct PutArgs {
    #[command(flatten)]
    pub connection: super::Connection,
    /// The stream.
    pub stream: String,
}

/// SKELETON(producer): runs `rheo put`.
pub fn run(_args: PutArgs) -> anyhow::Result<()> {
    anyhow::bail!("SKELETON(producer)")
}
