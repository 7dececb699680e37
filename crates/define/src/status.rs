//! Statuses of containers, pods and exec sessions, and the moves between them.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::error::{DefineError, ErrorKind};

/// Where a container is in its life, with podman's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ContainerStatus {
    #[default]
    Unknown,
    /// Exists in the store; no runtime container yet.
    Configured,
    /// The OCI runtime created it; the process has not started.
    Created,
    Running,
    /// The process stopped; the runtime still holds the container.
    Stopped,
    Paused,
    /// The process exited and the runtime container was cleaned up.
    Exited,
    Removing,
    Stopping,
}

impl ContainerStatus {
    pub const ALL: [ContainerStatus; 9] = [
        ContainerStatus::Unknown,
        ContainerStatus::Configured,
        ContainerStatus::Created,
        ContainerStatus::Running,
        ContainerStatus::Stopped,
        ContainerStatus::Paused,
        ContainerStatus::Exited,
        ContainerStatus::Removing,
        ContainerStatus::Stopping,
    ];

    /// podman's lowercase name for users (`running`, `exited`, ...): as in podman,
    /// `Configured` is shown as `created` (docker's word for it) and `Created` as
    /// `initialized`. The stored (serde) names are the variants' own.
    pub fn as_str(self) -> &'static str {
        match self {
            ContainerStatus::Unknown => "unknown",
            ContainerStatus::Configured => "created",
            ContainerStatus::Created => "initialized",
            ContainerStatus::Running => "running",
            ContainerStatus::Stopped => "stopped",
            ContainerStatus::Paused => "paused",
            ContainerStatus::Exited => "exited",
            ContainerStatus::Removing => "removing",
            ContainerStatus::Stopping => "stopping",
        }
    }

    /// True when a move from `self` to `to` is one the lifecycle allows.
    ///
    /// The moves: Init (configured/stopped/exited -> created), Start
    /// (created -> running), Pause and Unpause, Stop (running/paused ->
    /// stopping -> stopped/exited, or back to running when stopping fails),
    /// the process exiting (running -> stopped/exited), Cleanup (created ->
    /// configured, stopped -> exited), and removal from any status.
    pub fn can_transition_to(self, to: ContainerStatus) -> bool {
        use ContainerStatus::*;
        if to == Removing {
            return self != Removing;
        }
        matches!(
            (self, to),
            (Configured, Created)
                | (Created, Running)
                | (Created, Configured)
                | (Created, Stopped)
                | (Created, Exited)
                | (Running, Paused)
                | (Running, Stopping)
                | (Running, Stopped)
                | (Running, Exited)
                | (Paused, Running)
                | (Paused, Stopping)
                | (Paused, Stopped)
                | (Paused, Exited)
                | (Stopping, Stopped)
                | (Stopping, Exited)
                | (Stopping, Running)
                | (Stopped, Exited)
                | (Stopped, Created)
                | (Stopped, Configured)
                | (Exited, Created)
                | (Exited, Configured)
        )
    }

    /// Checks a move, giving podman's "container state improper" error otherwise.
    pub fn check_transition(self, to: ContainerStatus) -> Result<(), DefineError> {
        if self.can_transition_to(to) {
            Ok(())
        } else {
            Err(DefineError::with_context(
                ErrorKind::InvalidState,
                format!("container is {self}, cannot move to {to}"),
            ))
        }
    }

    /// The container has a process under conmon (created in the runtime, running,
    /// paused or stopping), which may have exited since the store last looked.
    pub fn may_have_exited(self) -> bool {
        matches!(
            self,
            ContainerStatus::Created | ContainerStatus::Running | ContainerStatus::Paused | ContainerStatus::Stopping
        )
    }

    /// The process is alive in the runtime (running or paused).
    pub fn is_active(self) -> bool {
        matches!(
            self,
            ContainerStatus::Running | ContainerStatus::Paused | ContainerStatus::Stopping
        )
    }
}

impl fmt::Display for ContainerStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ContainerStatus {
    type Err = DefineError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ContainerStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| DefineError::with_context(ErrorKind::InvalidArg, format!("unknown container status {s:?}")))
    }
}

/// A pod's status, derived from its members' statuses; podman capitalises these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum PodStatus {
    #[default]
    Created,
    Running,
    Stopped,
    Paused,
    Exited,
    /// Some members run and some don't.
    Degraded,
    Error,
}

impl PodStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PodStatus::Created => "Created",
            PodStatus::Running => "Running",
            PodStatus::Stopped => "Stopped",
            PodStatus::Paused => "Paused",
            PodStatus::Exited => "Exited",
            PodStatus::Degraded => "Degraded",
            PodStatus::Error => "Error",
        }
    }

    /// podman's rule: all members in one status give that status; a mix of
    /// running and not running is degraded; no members is created.
    pub fn from_members(members: &[ContainerStatus]) -> PodStatus {
        use ContainerStatus as C;
        if members.is_empty() {
            return PodStatus::Created;
        }
        let count = |pred: &dyn Fn(C) -> bool| members.iter().filter(|s| pred(**s)).count();
        let running = count(&|s| s == C::Running);
        let paused = count(&|s| s == C::Paused);
        let stopped = count(&|s| matches!(s, C::Stopped | C::Exited));
        let created = count(&|s| matches!(s, C::Created | C::Configured));
        let n = members.len();
        if running == n {
            PodStatus::Running
        } else if running > 0 {
            PodStatus::Degraded
        } else if paused == n {
            PodStatus::Paused
        } else if stopped == n {
            if members.iter().all(|s| *s == C::Exited) {
                PodStatus::Exited
            } else {
                PodStatus::Stopped
            }
        } else if created == n {
            PodStatus::Created
        } else if paused + stopped + created == n {
            PodStatus::Degraded
        } else {
            PodStatus::Error
        }
    }
}

impl fmt::Display for PodStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An exec session's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ExecStatus {
    #[default]
    Unknown,
    Created,
    Running,
    Stopped,
}

impl ExecStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ExecStatus::Unknown => "unknown",
            ExecStatus::Created => "created",
            ExecStatus::Running => "running",
            ExecStatus::Stopped => "stopped",
        }
    }

    /// created -> running -> stopped; created -> stopped when starting fails.
    pub fn can_transition_to(self, to: ExecStatus) -> bool {
        matches!(
            (self, to),
            (ExecStatus::Created, ExecStatus::Running)
                | (ExecStatus::Created, ExecStatus::Stopped)
                | (ExecStatus::Running, ExecStatus::Stopped)
        )
    }
}

impl fmt::Display for ExecStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn statuses_with_a_process_under_conmon() {
        use ContainerStatus::*;
        for status in [Created, Running, Paused, Stopping] {
            assert!(status.may_have_exited(), "{status:?}");
        }
        for status in [Unknown, Configured, Stopped, Exited, Removing] {
            assert!(!status.may_have_exited(), "{status:?}");
        }
    }

    #[test]
    fn lifecycle_path() {
        use ContainerStatus::*;
        let path = [
            Configured, Created, Running, Paused, Running, Stopping, Stopped, Exited, Created, Running, Exited,
            Removing,
        ];
        for w in path.windows(2) {
            assert!(w[0].can_transition_to(w[1]), "{} -> {}", w[0], w[1]);
        }
        assert!(!Configured.can_transition_to(Running));
        assert!(!Exited.can_transition_to(Paused));
        assert!(!Removing.can_transition_to(Removing));
        let err = Exited.check_transition(Paused).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidState);
        assert!(err.to_string().ends_with("container state improper"));
    }

    #[test]
    fn names_round_trip() {
        for st in ContainerStatus::ALL {
            assert_eq!(st.as_str().parse::<ContainerStatus>().unwrap(), st);
        }
        assert_eq!(ContainerStatus::Configured.to_string(), "created");
        assert_eq!(ContainerStatus::Created.to_string(), "initialized");
        assert_eq!(
            serde_json::to_string(&ContainerStatus::Configured).unwrap(),
            "\"configured\""
        );
        assert_eq!(serde_json::to_string(&ContainerStatus::Running).unwrap(), "\"running\"");
        assert!("bogus".parse::<ContainerStatus>().is_err());
    }

    #[test]
    fn pod_status_rules() {
        use ContainerStatus::*;
        assert_eq!(PodStatus::from_members(&[]), PodStatus::Created);
        assert_eq!(PodStatus::from_members(&[Running, Running]), PodStatus::Running);
        assert_eq!(PodStatus::from_members(&[Running, Exited]), PodStatus::Degraded);
        assert_eq!(PodStatus::from_members(&[Exited, Exited]), PodStatus::Exited);
        assert_eq!(PodStatus::from_members(&[Stopped, Exited]), PodStatus::Stopped);
        assert_eq!(PodStatus::from_members(&[Paused]), PodStatus::Paused);
        assert_eq!(PodStatus::from_members(&[Created, Configured]), PodStatus::Created);
    }

    fn any_status() -> impl Strategy<Value = ContainerStatus> {
        proptest::sample::select(ContainerStatus::ALL.to_vec())
    }

    proptest! {
        /// Following only allowed moves, a container always reaches Removing
        /// in one step and never leaves it.
        #[test]
        fn walks_stay_valid(start in any_status(), steps in proptest::collection::vec(any_status(), 0..50)) {
            let mut cur = start;
            for next in steps {
                if cur.can_transition_to(next) {
                    prop_assert!(cur.check_transition(next).is_ok());
                    cur = next;
                } else {
                    prop_assert!(cur.check_transition(next).is_err());
                }
                prop_assert_eq!(cur.can_transition_to(ContainerStatus::Removing), cur != ContainerStatus::Removing);
            }
            if cur == ContainerStatus::Removing {
                for st in ContainerStatus::ALL {
                    prop_assert!(!cur.can_transition_to(st));
                }
            }
        }
    }
}
