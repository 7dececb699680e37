//! Exec sessions: a process started inside a running container.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::status::ExecStatus;

/// What an exec session runs and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ExecConfig {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub environment: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub terminal: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub attach_stdin: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub attach_stdout: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub attach_stderr: bool,
    /// None: the default keys; Some(""): detaching disabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detach_keys: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exit_command: Vec<String>,
    pub preserve_fds: u32,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub privileged: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub user: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub workdir: String,
}

/// One exec session of a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ExecSession {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub container_id: String,
    pub state: ExecStatus,
    pub pid: i32,
    pub exit_code: i32,
    pub config: ExecConfig,
}
