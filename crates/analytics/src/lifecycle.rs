//! Application statuses and which operation each allows.
//!
//! An application's durable state holds its *settled* status (READY or RUNNING: where it
//! ends up) and, while a change is in progress, a [`Transition`] with the status shown
//! meanwhile (STARTING, STOPPING, UPDATING) and when it ends at the earliest. A transition
//! also lasts while the work behind it (opening readers, draining outputs) runs, which
//! only the live service knows; after a restart that work is over, so the settled status
//! is what counts: an application that was STARTING or RUNNING runs again, one that was
//! STOPPING is READY, one that was UPDATING is back in its previous status (plan §4.2).
//! DELETING is not stored: the application's storage stream is gone when it is deleted.

use serde::{Deserialize, Serialize};

/// `ApplicationStatus` of the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Ready,
    Starting,
    Running,
    Stopping,
    Updating,
    Deleting,
}

impl Status {
    /// The status as AWS spells it.
    pub fn name(self) -> &'static str {
        match self {
            Status::Ready => "READY",
            Status::Starting => "STARTING",
            Status::Running => "RUNNING",
            Status::Stopping => "STOPPING",
            Status::Updating => "UPDATING",
            Status::Deleting => "DELETING",
        }
    }
}

/// A change in progress: the status shown until `until_ms` (and while its work runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    pub shown: Status,
    pub until_ms: u64,
}

/// What a request wants to do, for the status check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// UpdateApplication and every Add*/Delete* operation.
    Configure,
    Start,
    Stop,
    Delete,
}

impl Action {
    /// The operation's name in the error (`InUse`).
    pub fn operation(self) -> &'static str {
        match self {
            Action::Configure => "a configuration change",
            Action::Start => "StartApplication",
            Action::Stop => "StopApplication",
            Action::Delete => "DeleteApplication",
        }
    }
}

/// The status an application shows now.
pub fn shown(settled: Status, transition: Option<Transition>, now_ms: u64, working: bool) -> Status {
    match transition {
        Some(t) if working || now_ms < t.until_ms => t.shown,
        _ => settled,
    }
}

/// Whether an application in `status` accepts `action` (AWS: configuration changes in
/// READY or RUNNING, Start from READY, Stop from RUNNING; Delete in any status but
/// DELETING, a running application being stopped without draining).
pub fn allows(status: Status, action: Action) -> bool {
    match action {
        Action::Configure => matches!(status, Status::Ready | Status::Running),
        Action::Start => status == Status::Ready,
        Action::Stop => status == Status::Running,
        Action::Delete => status != Status::Deleting,
    }
}

/// The transition a change begins, from the settled status before it.
pub fn transition_of(action: Action, now_ms: u64, transition_ms: u64) -> Option<Transition> {
    let shown = match action {
        Action::Configure => Status::Updating,
        Action::Start => Status::Starting,
        Action::Stop => Status::Stopping,
        Action::Delete => Status::Deleting,
    };
    Some(Transition { shown, until_ms: now_ms.saturating_add(transition_ms) })
}

/// The settled status after `action` from `settled`.
pub fn settled_after(action: Action, settled: Status) -> Status {
    match action {
        Action::Configure => settled,
        Action::Start => Status::Running,
        Action::Stop => Status::Ready,
        Action::Delete => Status::Deleting,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Status; 6] =
        [Status::Ready, Status::Starting, Status::Running, Status::Stopping, Status::Updating, Status::Deleting];

    #[test]
    fn each_action_is_allowed_exactly_in_the_statuses_aws_names() {
        let allowed = |action| ALL.into_iter().filter(|s| allows(*s, action)).collect::<Vec<_>>();
        assert_eq!(allowed(Action::Configure), [Status::Ready, Status::Running]);
        assert_eq!(allowed(Action::Start), [Status::Ready]);
        assert_eq!(allowed(Action::Stop), [Status::Running]);
        assert_eq!(
            allowed(Action::Delete),
            [Status::Ready, Status::Starting, Status::Running, Status::Stopping, Status::Updating]
        );
    }

    #[test]
    fn a_transition_shows_until_its_end_and_while_its_work_runs() {
        let t = transition_of(Action::Start, 1_000, 500);
        let settled = settled_after(Action::Start, Status::Ready);
        assert_eq!(shown(settled, t, 1_000, false), Status::Starting);
        assert_eq!(shown(settled, t, 1_499, false), Status::Starting);
        assert_eq!(shown(settled, t, 1_500, false), Status::Running);
        assert_eq!(shown(settled, t, 9_999, true), Status::Starting, "readers not open yet");
        assert_eq!(shown(Status::Ready, None, 0, true), Status::Ready);
    }

    #[test]
    fn an_update_keeps_the_settled_status() {
        for settled in [Status::Ready, Status::Running] {
            assert_eq!(settled_after(Action::Configure, settled), settled);
            assert_eq!(shown(settled, transition_of(Action::Configure, 0, 10), 5, false), Status::Updating);
        }
        assert_eq!(settled_after(Action::Stop, Status::Running), Status::Ready);
    }

    #[test]
    fn statuses_are_stored_as_aws_spells_them() {
        for status in ALL {
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.name()));
            assert_eq!(serde_json::from_str::<Status>(&json).unwrap(), status);
        }
    }
}
