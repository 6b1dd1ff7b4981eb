//! `rheo agent --config FILE`: runs the log shipper of `rheo-agent` until SIGTERM or
//! SIGINT, then sends what is buffered, checkpoints and exits 0.

use std::path::PathBuf;

use anyhow::Context as _;
use rheo_agent::config::AgentConfig;
use rheo_agent::Agent;
use rheo_client::{ClientConfig, SystemEnvironment};

/// `rheo agent` flags.
#[derive(clap::Args, Debug)]
pub struct AgentArgs {
    /// The configuration, in the Kinesis Agent's JSON format (agent.json).
    #[arg(long)]
    pub config: PathBuf,
    /// The profile of the AWS shared credentials and config files.
    #[arg(long)]
    pub profile: Option<String>,
}

/// Runs `rheo agent`.
pub fn run(args: AgentArgs) -> anyhow::Result<()> {
    let config = AgentConfig::load(&args.config)?;
    for note in config.notes.iter().chain(config.flows.iter().flat_map(|flow| &flow.notes)) {
        tracing::warn!("{note}");
    }
    let endpoint = config.kinesis_endpoint.clone().or_else(|| config.firehose_endpoint.clone());
    let base = ClientConfig::resolve(endpoint.as_deref(), args.profile.as_deref(), &SystemEnvironment)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let agent = Agent::new(&config, base).await?;
        let (stop_tx, stop) = tokio::sync::watch::channel(false);
        let (abort_tx, abort) = tokio::sync::watch::channel(false);
        let shutdown_timeout = config.shutdown_timeout;
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("stopping: flushing buffered records");
            let _ = stop_tx.send(true);
            tokio::time::sleep(shutdown_timeout).await;
            tracing::warn!(
                timeout_ms = shutdown_timeout.as_millis() as u64,
                "stop took longer than shutdownTimeoutMillis; giving up on unsent records"
            );
            let _ = abort_tx.send(true);
        });
        agent.run(stop, abort).await.context("rheo agent")
    })
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(error) => {
            tracing::warn!(%error, "cannot watch SIGTERM; only SIGINT stops the agent");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
