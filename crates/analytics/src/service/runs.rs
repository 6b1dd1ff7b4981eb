//! Runs of applications: starting one (StartApplication), stopping one
//! (StopApplication, DeleteApplication), running one again with a changed configuration
//! or after a restart, and saving a run's positions ([`CheckpointSink`]).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

use parking_lot::RwLock;
use rheo_storage::ShardLog;

use super::{Analytics, Entry};
use crate::config::SourceRef;
use crate::error::{AnalyticsError, Result};
use crate::lifecycle::{self, Action, Status};
use crate::runtime::{CheckpointStore, InputPosition, RunHandle, RunSpec, StartPosition};
use crate::state::{self, StartingPosition, StoredApplication};

/// Saves a run's positions into its application's state. A checkpoint of an older run
/// (another generation) or of a deleted application is dropped: the positions belong to
/// the run that is current. It sees the applications weakly: runs hold it, the
/// applications hold their runs, and a dropped service must end its runs.
pub(crate) struct CheckpointSink {
    pub(crate) log: Arc<ShardLog>,
    pub(crate) apps: Weak<RwLock<BTreeMap<String, Arc<Entry>>>>,
}

impl CheckpointStore for CheckpointSink {
    fn save<'a>(
        &'a self,
        application: &'a str,
        generation: u64,
        positions: BTreeMap<String, InputPosition>,
    ) -> Pin<Box<dyn Future<Output = Result<(), AnalyticsError>> + Send + 'a>> {
        Box::pin(async move {
            let apps = self.apps.upgrade();
            let Some(stream_id) = apps.and_then(|apps| apps.read().get(application).map(|entry| entry.stream_id))
            else {
                return Ok(());
            };
            self.log
                .update_stream(stream_id, move |txn| {
                    state::edit(txn, |s| {
                        if s.generation == generation {
                            s.positions = positions;
                        }
                    })
                    .map(drop)
                })
                .await?;
            Ok(())
        })
    }
}

/// What a start commits: RUNNING, a new generation, each input's starting position; an
/// input started at NOW or TRIM_HORIZON forgets the position an older run saved, so a
/// relaunch before the new run's first save starts where this start said.
fn begin_run(s: &mut StoredApplication, named: &BTreeMap<String, StartingPosition>) {
    s.status = Status::Running;
    s.generation += 1;
    for input in &mut s.inputs {
        input.starting_position = named.get(&input.id).copied();
        if matches!(input.starting_position, Some(StartingPosition::Now | StartingPosition::TrimHorizon)) {
            s.positions.remove(&input.id);
        }
    }
}

/// Where each input of a run starts: the position a start named, or the stored one.
fn starts(state: &StoredApplication, named: &BTreeMap<String, StartingPosition>) -> BTreeMap<String, StartPosition> {
    state
        .inputs
        .iter()
        .map(|input| {
            let stored = state.positions.get(&input.id).cloned();
            let start = match (named.get(&input.id), stored) {
                (Some(StartingPosition::TrimHorizon), _) => StartPosition::TrimHorizon,
                (Some(StartingPosition::Now), _) => StartPosition::Now,
                // LAST_STOPPED_POINT, or a run resumed after a change or a restart.
                (_, Some(position)) => StartPosition::At(position),
                // No position saved yet (a run relaunched before its first save, or a
                // LAST_STOPPED_POINT of an input never stopped): where the last start said
                // to begin; LAST_STOPPED_POINT with nothing to resume is NOW [DECISION,
                // plan §3.2].
                (_, None) => match input.starting_position {
                    Some(StartingPosition::TrimHorizon) => StartPosition::TrimHorizon,
                    Some(StartingPosition::Now | StartingPosition::LastStoppedPoint) | None => StartPosition::Now,
                },
            };
            (input.id.clone(), start)
        })
        .collect()
}

impl Analytics {
    /// The run of an application's committed configuration from `starts`.
    fn run_spec(
        &self,
        entry: &Entry,
        state: &StoredApplication,
        starts: BTreeMap<String, StartPosition>,
    ) -> Result<RunSpec> {
        let config = crate::convert::app_config(&entry.name, state, &self.owner)?;
        let plan = crate::convert::compile(&config)?;
        Ok(RunSpec {
            application: entry.name.clone(),
            generation: state.generation,
            config: Arc::new(config),
            plan: Arc::new(plan),
            starts,
        })
    }

    /// The rules a start checks beyond the status, in AWS's terms: something to read,
    /// code that compiles with its outputs, every input named once, no Lambda processor
    /// and no TRIM_HORIZON on a delivery stream.
    pub(super) fn check_start(
        &self,
        entry: &Entry,
        state: &StoredApplication,
        named: &BTreeMap<String, StartingPosition>,
    ) -> Result<()> {
        Self::check_runnable(&entry.name, state)?;
        for input in &state.inputs {
            let Some(position) = named.get(&input.id) else {
                return Err(AnalyticsError::InvalidArgument(format!(
                    "InputConfigurations must name input {}.",
                    input.id
                )));
            };
            let source = self.owner.source(&input.source)?;
            if *position == StartingPosition::TrimHorizon && matches!(source, SourceRef::Firehose { .. }) {
                return Err(AnalyticsError::InvalidArgument(format!(
                    "Input {}: TRIM_HORIZON is not supported for a Firehose delivery stream input.",
                    input.id
                )));
            }
        }
        let config = crate::convert::app_config(&entry.name, state, &self.owner)?;
        crate::convert::compile(&config).map_err(|error| match error {
            AnalyticsError::CodeValidation(code) => {
                AnalyticsError::InvalidConfiguration(format!("The application code does not compile: {code}."))
            }
            AnalyticsError::OutputNotCreated { output } => AnalyticsError::InvalidConfiguration(format!(
                "Output {output} names a stream the application code does not create."
            )),
            other => other,
        })?;
        Ok(())
    }

    /// What a configuration needs to run (InvalidApplicationConfiguration): an input,
    /// code, and no Lambda preprocessor. A start checks it, and so does a change to a
    /// RUNNING application, which runs again with the changed configuration.
    pub(super) fn check_runnable(name: &str, state: &StoredApplication) -> Result<()> {
        if state.inputs.is_empty() {
            return Err(AnalyticsError::InvalidConfiguration(format!(
                "Application {name} has no input to start reading."
            )));
        }
        if state.code.trim().is_empty() {
            return Err(AnalyticsError::InvalidConfiguration(format!("Application {name} has no code.")));
        }
        // Issue 15: "Lambda processors and Lambda outputs are refused with an error
        // saying so". An input processor is stored and described as AWS does (so a
        // configuration moved from AWS reads back unchanged), but Rheo runs no Lambda
        // functions, and reading the records unprocessed would silently change what the
        // code sees: running is refused instead.
        if let Some(input) = state.inputs.iter().find(|input| input.lambda_processor.is_some()) {
            return Err(AnalyticsError::InvalidConfiguration(format!(
                "Input {} has an InputLambdaProcessor; Rheo does not run Lambda preprocessors.",
                input.id
            )));
        }
        Ok(())
    }

    /// StartApplication once checked: commits STARTING (settled RUNNING, a new
    /// generation, the positions named), then starts the run and answers once its inputs
    /// are open; if they cannot be opened the application is READY again and the start
    /// fails.
    pub(super) async fn start_run(&self, entry: &Arc<Entry>, named: BTreeMap<String, StartingPosition>) -> Result<()> {
        if self.closing.load(Ordering::Acquire) {
            // A run started now would not be stopped by the shutdown under way.
            return Err(AnalyticsError::Internal("the service is shutting down".into()));
        }
        let now = self.now_ms();
        let transition = lifecycle::transition_of(Action::Start, now, self.config.transition_ms);
        let positions = named.clone();
        let (state, ()) = self
            .commit(entry, move |s| {
                begin_run(s, &positions);
                s.transition = transition;
            })
            .await?;
        entry.transition_over.store(false, Ordering::Release);
        let mut run_slot = entry.run.lock().await;
        match self.launch(entry, &state, starts(&state, &named)).await {
            Ok(run) => {
                *run_slot = Some(run);
                tracing::info!(message = "Analytics application started.", application = %entry.name);
                Ok(())
            }
            Err(error) => {
                self.settle_ready(entry).await?;
                Err(match error {
                    AnalyticsError::InvalidArgument(_)
                    | AnalyticsError::InvalidConfiguration(_)
                    | AnalyticsError::Storage(_) => error,
                    other => AnalyticsError::InvalidConfiguration(format!("The inputs could not be opened: {other}.")),
                })
            }
        }
    }

    /// Starts a run of the committed `state` and waits until its inputs are open; a run
    /// that cannot open them is ended.
    async fn launch(
        &self,
        entry: &Entry,
        state: &StoredApplication,
        starts: BTreeMap<String, StartPosition>,
    ) -> Result<RunHandle> {
        let spec = self.run_spec(entry, state, starts)?;
        let mut run = self.runtime.start(spec);
        if let Err(error) = run.started().await {
            run.stop(false).await;
            return Err(error);
        }
        *entry.metrics.lock() = Some(run.metrics());
        Ok(run)
    }

    /// Makes an application READY without a transition (a run that could not start).
    async fn settle_ready(&self, entry: &Entry) -> Result<()> {
        self.commit(entry, |s| {
            s.status = Status::Ready;
            s.transition = None;
        })
        .await
        .map(drop)
    }

    /// StopApplication once checked: commits STOPPING (settled READY), then stops the run
    /// in the background, draining its outputs and saving its positions; STOPPING shows
    /// until that is done.
    pub(super) async fn stop_run(&self, entry: &Arc<Entry>) -> Result<()> {
        let transition = lifecycle::transition_of(Action::Stop, self.now_ms(), self.config.transition_ms);
        self.commit(entry, move |s| {
            s.status = Status::Ready;
            s.transition = transition;
        })
        .await?;
        entry.transition_over.store(false, Ordering::Release);
        let stopped = entry.clone();
        self.spawn_work(entry, async move {
            let run = stopped.run.lock().await.take();
            if let Some(run) = run {
                run.stop(true).await;
            }
            tracing::info!(message = "Analytics application stopped.", application = %stopped.name);
        });
        Ok(())
    }

    /// Stops a deleted application's run, if it has one, without draining.
    pub(super) fn abandon_run(&self, entry: &Arc<Entry>) {
        if entry.run.try_lock().is_ok_and(|run| run.is_none()) {
            return;
        }
        let deleted = entry.clone();
        self.spawn_work(entry, async move {
            let run = deleted.run.lock().await.take();
            if let Some(run) = run {
                run.stop(false).await;
            }
        });
    }

    /// Runs a RUNNING application again from its stored positions, in the background:
    /// after a configuration change (the old run stops first, saving its positions) and
    /// after a restart. A run that cannot start leaves the application READY (logged).
    pub(super) fn spawn_relaunch(&self, entry: Arc<Entry>) {
        let Some(this) = self.me.upgrade() else { return };
        let relaunched = entry.clone();
        self.spawn_work(&entry, async move {
            if let Err(error) = this.relaunch(&relaunched).await {
                tracing::error!(message = "Analytics application could not run; it is READY.", application = %relaunched.name, %error);
                if let Err(error) = this.settle_ready(&relaunched).await {
                    tracing::error!(message = "Analytics application status not saved.", application = %relaunched.name, %error);
                }
            }
        });
    }

    async fn relaunch(&self, entry: &Arc<Entry>) -> Result<()> {
        let mut run_slot = entry.run.lock().await;
        if let Some(old) = run_slot.take() {
            old.stop(true).await;
        }
        // A deleted application (no state any more) or a stopped one has nothing to run.
        let running = self.stored(entry).is_ok_and(|state| state.status == Status::Running);
        if !running || self.closing.load(Ordering::Acquire) {
            return Ok(());
        }
        let (state, ()) = self.commit(entry, |s| s.generation += 1).await?;
        *run_slot = Some(self.launch(entry, &state, starts(&state, &BTreeMap::new())).await?);
        tracing::info!(message = "Analytics application running.", application = %entry.name);
        Ok(())
    }

    /// One durable change of an application's state; returns the state committed.
    pub(super) async fn commit<R: Send + 'static>(
        &self,
        entry: &Entry,
        change: impl FnOnce(&mut StoredApplication) -> R + Send + 'static,
    ) -> Result<(StoredApplication, R)> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.log
            .update_stream(entry.stream_id, move |txn| {
                let committed = state::edit(txn, change)?;
                let _ = tx.send(committed);
                Ok(())
            })
            .await?;
        rx.await.map_err(|_| AnalyticsError::Internal("committed state not returned".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app_with_input(position: Option<InputPosition>) -> StoredApplication {
        StoredApplication {
            positions: position.into_iter().map(|p| ("1.1".to_owned(), p)).collect(),
            ..state::sample()
        }
    }

    #[test]
    fn last_stopped_point_resumes_the_stored_position_or_starts_now() {
        let position = InputPosition::Firehose { stream_uid: 1, next_lsn: 9 };
        let named = BTreeMap::from([("1.1".to_owned(), StartingPosition::LastStoppedPoint)]);
        assert_eq!(starts(&app_with_input(Some(position.clone())), &named)["1.1"], StartPosition::At(position));
        assert_eq!(starts(&app_with_input(None), &named)["1.1"], StartPosition::Now);
    }

    #[test]
    fn named_positions_win_and_a_relaunch_resumes() {
        let position = InputPosition::Firehose { stream_uid: 1, next_lsn: 9 };
        let app = app_with_input(Some(position.clone()));
        let named = |p| BTreeMap::from([("1.1".to_owned(), p)]);
        assert_eq!(starts(&app, &named(StartingPosition::Now))["1.1"], StartPosition::Now);
        assert_eq!(starts(&app, &named(StartingPosition::TrimHorizon))["1.1"], StartPosition::TrimHorizon);
        assert_eq!(starts(&app, &BTreeMap::new())["1.1"], StartPosition::At(position));
    }

    #[test]
    fn a_relaunch_before_any_save_starts_where_the_start_said() {
        let mut app = app_with_input(None);
        app.inputs[0].starting_position = Some(StartingPosition::TrimHorizon);
        assert_eq!(starts(&app, &BTreeMap::new())["1.1"], StartPosition::TrimHorizon);
        app.inputs[0].starting_position = Some(StartingPosition::Now);
        assert_eq!(starts(&app, &BTreeMap::new())["1.1"], StartPosition::Now);
    }

    #[test]
    fn a_start_at_now_or_trim_horizon_forgets_older_positions() {
        let position = InputPosition::Firehose { stream_uid: 1, next_lsn: 9 };
        for (named, kept) in [
            (StartingPosition::Now, false),
            (StartingPosition::TrimHorizon, false),
            (StartingPosition::LastStoppedPoint, true),
        ] {
            let mut app = app_with_input(Some(position.clone()));
            let generation = app.generation;
            begin_run(&mut app, &BTreeMap::from([("1.1".to_owned(), named)]));
            assert_eq!(app.positions.contains_key("1.1"), kept, "{named:?}");
            assert_eq!(app.inputs[0].starting_position, Some(named));
            assert_eq!((app.status, app.generation), (Status::Running, generation + 1));
        }
    }
}
