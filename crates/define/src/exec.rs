//! Exec sessions: a process started inside a running container.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::status::ExecStatus;

/// What an exec session runs and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ExecConfig {
    pub command: Vec<String>,
    pub environment: BTreeMap<String, String>,
    pub terminal: bool,
    pub attach_stdin: bool,
    pub attach_stdout: bool,
    pub attach_stderr: bool,
    /// None: the default keys; Some(""): detaching disabled.
    pub detach_keys: Option<String>,
    pub exit_command: Vec<String>,
    pub preserve_fds: u32,
    pub privileged: bool,
    pub user: String,
    pub workdir: String,
}

/// One exec session of a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ExecSession {
    pub id: String,
    pub container_id: String,
    pub state: ExecStatus,
    pub pid: i32,
    pub exit_code: i32,
    pub config: ExecConfig,
}
