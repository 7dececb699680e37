//! OCI hooks (oci-hooks(5), schema 1.0.0): JSON files in the hooks directories say
//! which program the runtime runs at which stage, and for which containers.
//!
//! As podman: only `*.json` files count; a file masks a same-named one of an earlier
//! directory; a hook whose program is missing is skipped (masking nothing); matching
//! hooks are injected in the order of their lower-cased file names. Differences:
//! `poststop` hooks are put in the spec (the runtime runs them when the container is
//! deleted) rather than run by the engine, `precreate` hooks (which rewrite the spec)
//! are not run, and only schema 1.0.0 is read (not the legacy 0.1.0).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use regex::Regex;
use serde::Deserialize;
use serde_json::{Value, json};

use super::go_io_text;
use crate::error::{CoreError, Result};

/// The hook schema version read.
const VERSION: &str = "1.0.0";

/// The OCI runtime spec's hook stages, written into the spec.
const SPEC_STAGES: &[&str] = &[
    "prestart",
    "createRuntime",
    "createContainer",
    "startContainer",
    "poststart",
    "poststop",
];

/// podman's extension stage, valid in a file but not run here.
const PRECREATE: &str = "precreate";

/// What the runtime runs (the OCI spec's hook entry).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct HookCommand {
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub env: Vec<String>,
    #[serde(default)]
    pub timeout: Option<i64>,
}

impl HookCommand {
    fn to_spec(&self) -> Value {
        let mut v = json!({"path": self.path});
        if !self.args.is_empty() {
            v["args"] = json!(self.args);
        }
        if !self.env.is_empty() {
            v["env"] = json!(self.env);
        }
        if let Some(t) = self.timeout {
            v["timeout"] = json!(t);
        }
        v
    }
}

/// The conditions under which a hook is injected; every one given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub(crate) struct When {
    pub always: Option<bool>,
    /// Key regex to value regex; podman's own reader spells it `annotation`.
    #[serde(alias = "annotation")]
    pub annotations: BTreeMap<String, String>,
    /// Regexes matched against `process.args[0]`.
    pub commands: Vec<String>,
    #[serde(rename = "hasBindMounts")]
    pub has_bind_mounts: Option<bool>,
}

/// One hook file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct Hook {
    pub version: String,
    pub hook: HookCommand,
    #[serde(default)]
    pub when: When,
    pub stages: Option<Vec<String>>,
}

/// podman's message for a broken hook file.
fn refused(what: impl std::fmt::Display) -> CoreError {
    CoreError::Rejected(format!("setting up OCI Hooks: {what}"))
}

/// Reads and checks one file; None when its program does not exist (podman skips it).
fn read_hook(path: &Path) -> Result<Option<Hook>> {
    let text = std::fs::read(path).map_err(|e| CoreError::io("reading hook", path, e))?;
    let version: Value = serde_json::from_slice(&text).map_err(|e| {
        refused(format!(
            "parsing hook {:?}: version check: {e}",
            path.display().to_string()
        ))
    })?;
    let found = version.get("version").and_then(Value::as_str).unwrap_or_default();
    if found != VERSION {
        return Err(refused(format!(
            "parsing hook {:?}: unrecognized hook version: {found:?}",
            path.display().to_string()
        )));
    }
    let hook: Hook = serde_json::from_value(version)
        .map_err(|e| refused(format!("parsing hook {:?}: {VERSION}: {e}", path.display().to_string())))?;
    if hook.hook.path.is_empty() {
        return Err(refused("missing required property: hook.path"));
    }
    if let Err(e) = std::fs::metadata(&hook.hook.path) {
        if e.kind() == std::io::ErrorKind::NotFound {
            tracing::debug!("skipping hook {}: {} does not exist", path.display(), hook.hook.path);
            return Ok(None);
        }
        return Err(refused(format!("stat {}: {}", hook.hook.path, go_io_text(&e))));
    }
    for (key, value) in &hook.when.annotations {
        Regex::new(key).map_err(|e| refused(format!("invalid annotation key {key:?}: {e}")))?;
        Regex::new(value).map_err(|e| refused(format!("invalid annotation value {value:?}: {e}")))?;
    }
    for command in &hook.when.commands {
        Regex::new(command).map_err(|e| refused(format!("invalid command {command:?}: {e}")))?;
    }
    let Some(stages) = &hook.stages else {
        return Err(refused("missing required property: stages"));
    };
    if let Some(bad) = stages
        .iter()
        .find(|s| !SPEC_STAGES.contains(&s.as_str()) && *s != PRECREATE)
    {
        return Err(refused(format!("unknown stage {bad:?}")));
    }
    Ok(Some(hook))
}

/// The hooks of `dirs`, by file name; a later directory's file masks an earlier one's.
/// A directory that does not exist has no hooks.
pub(crate) fn load(dirs: &[PathBuf]) -> Result<BTreeMap<String, Hook>> {
    let mut hooks = BTreeMap::new();
    for dir in dirs {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(CoreError::io("reading hooks directory", dir, e)),
        };
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| CoreError::io("reading hooks directory", dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".json") {
                files.push((name, entry.path()));
            }
        }
        files.sort();
        for (name, path) in files {
            if let Some(hook) = read_hook(&path)? {
                hooks.insert(name, hook);
            }
        }
    }
    Ok(hooks)
}

/// True when every condition the hook gives matches the container.
fn matches(when: &When, args0: &str, annotations: &BTreeMap<String, String>, has_bind_mounts: bool) -> Result<bool> {
    let mut matched = 0;
    if let Some(always) = when.always {
        if !always {
            return Ok(false);
        }
        matched += 1;
    }
    if let Some(wanted) = when.has_bind_mounts {
        if !(wanted && has_bind_mounts) {
            return Ok(false);
        }
        matched += 1;
    }
    let regex = |pattern: &str| Regex::new(pattern).map_err(|e| refused(format!("matching hook: {e}")));
    for (key_pattern, value_pattern) in &when.annotations {
        let (key_re, value_re) = (regex(key_pattern)?, regex(value_pattern)?);
        if !annotations
            .iter()
            .any(|(k, v)| key_re.is_match(k) && value_re.is_match(v))
        {
            return Ok(false);
        }
        matched += 1;
    }
    if !when.commands.is_empty() {
        for pattern in &when.commands {
            if regex(pattern)?.is_match(args0) {
                return Ok(true);
            }
        }
        return Ok(false);
    }
    Ok(matched > 0)
}

/// Adds the hooks that match the container to `spec["hooks"]`, stage by stage, in the
/// order of their lower-cased file names.
pub(crate) fn inject(spec: &mut Value, hooks: &BTreeMap<String, Hook>, has_bind_mounts: bool) -> Result<()> {
    let args0 = spec["process"]["args"][0].as_str().unwrap_or_default().to_string();
    let annotations: BTreeMap<String, String> = spec["annotations"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    let mut ordered: Vec<(&String, &Hook)> = hooks.iter().collect();
    ordered.sort_by_key(|(name, _)| name.to_lowercase());
    for (name, hook) in ordered {
        if !matches(&hook.when, &args0, &annotations, has_bind_mounts)? {
            continue;
        }
        for stage in hook.stages.iter().flatten() {
            if stage == PRECREATE {
                tracing::warn!("hook {name}: precreate hooks are not supported; not run");
                continue;
            }
            if !spec["hooks"].is_object() {
                spec["hooks"] = json!({});
            }
            let list = &mut spec["hooks"][stage.as_str()];
            if !list.is_array() {
                *list = json!([]);
            }
            if let Some(list) = list.as_array_mut() {
                list.push(hook.hook.to_spec());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use corral_define::{ErrorKind, HasKind};

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    fn hook_json(path: &str, when: &str, stages: &str) -> String {
        format!(
            r#"{{"version": "1.0.0", "hook": {{"path": "{path}", "args": ["x", "1"]}}, "when": {when}, "stages": {stages}}}"#
        )
    }

    fn spec(args0: &str) -> Value {
        json!({"process": {"args": [args0]}, "annotations": {"com.example.dept": "fluid-dynamics"}})
    }

    #[test]
    fn later_dirs_mask_earlier_files_and_missing_programs_are_skipped() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        write(
            a.path(),
            "01-a.json",
            &hook_json("/bin/true", r#"{"always": true}"#, r#"["prestart"]"#),
        );
        write(
            a.path(),
            "02-b.json",
            &hook_json("/bin/true", r#"{"always": true}"#, r#"["poststop"]"#),
        );
        write(
            b.path(),
            "01-a.json",
            &hook_json("/bin/false", r#"{"always": true}"#, r#"["poststart"]"#),
        );
        write(
            b.path(),
            "02-b.json",
            &hook_json("/surely/not/here", r#"{"always": true}"#, r#"["prestart"]"#),
        );
        write(b.path(), "notes.txt", "not a hook");
        let hooks = load(&[a.path().into(), b.path().into(), "/surely/not/a/dir".into()]).unwrap();
        assert_eq!(hooks.len(), 2);
        assert_eq!(hooks["01-a.json"].hook.path, "/bin/false");
        assert_eq!(hooks["02-b.json"].hook.path, "/bin/true");
    }

    #[test]
    fn bad_files_get_podmans_messages() {
        let cases = [
            (r#"{"version": "1.0.0", "hook": {"#.to_string(), "version check:"),
            (
                r#"{"version": "2.0.0"}"#.to_string(),
                "unrecognized hook version: \"2.0.0\"",
            ),
            (
                r#"{"version": "1.0.0", "hook": {}, "when": {"always": true}, "stages": ["prestart"]}"#.to_string(),
                "setting up OCI Hooks: missing required property: hook.path",
            ),
            (
                hook_json("/bin/true", r#"{"always": true}"#, "null"),
                "setting up OCI Hooks: missing required property: stages",
            ),
            (
                hook_json("/bin/true", r#"{"always": true}"#, r#"["bogus"]"#),
                "setting up OCI Hooks: unknown stage \"bogus\"",
            ),
            (
                hook_json("/bin/true", r#"{"commands": ["("]}"#, r#"["prestart"]"#),
                "setting up OCI Hooks: invalid command \"(\"",
            ),
        ];
        for (text, wanted) in cases {
            let dir = tempfile::tempdir().unwrap();
            write(dir.path(), "h.json", &text);
            let err = load(&[dir.path().into()]).unwrap_err();
            assert!(err.to_string().contains(wanted), "{err} lacks {wanted}");
            assert_eq!(err.kind(), ErrorKind::InvalidArg);
        }
    }

    fn hook(when: &str, stages: &str) -> Hook {
        serde_json::from_str(&hook_json("/bin/true", when, stages)).unwrap()
    }

    #[test]
    fn conditions_match_as_podmans() {
        let notes = BTreeMap::from([("com.example.dept".to_string(), "fluid-dynamics".to_string())]);
        let m = |when: &str, args0: &str, binds: bool| matches(&hook(when, "[]").when, args0, &notes, binds).unwrap();
        assert!(m(r#"{"always": true}"#, "sh", false));
        assert!(!m(r#"{"always": false}"#, "sh", false));
        assert!(!m("{}", "sh", false));
        assert!(m(r#"{"hasBindMounts": true}"#, "sh", true));
        assert!(!m(r#"{"hasBindMounts": true}"#, "sh", false));
        assert!(m(
            r#"{"annotations": {"^com\\.example\\.dept$": "fluid"}}"#,
            "sh",
            false
        ));
        assert!(m(r#"{"annotation": {"dept": "fluid"}}"#, "sh", false));
        assert!(!m(r#"{"annotations": {"dept": "^solid"}}"#, "sh", false));
        assert!(m(r#"{"commands": [".*/init$", "^sh$"]}"#, "sh", false));
        assert!(!m(r#"{"commands": [".*/init$"]}"#, "sh", false));
        assert!(!m(r#"{"always": true, "commands": [".*/init$"]}"#, "sh", false));
    }

    #[test]
    fn matching_hooks_join_the_spec_in_name_order() {
        let hooks = BTreeMap::from([
            (
                "b.json".to_string(),
                hook(r#"{"always": true}"#, r#"["prestart", "poststop"]"#),
            ),
            (
                "A.json".to_string(),
                hook(r#"{"commands": ["^sh$"]}"#, r#"["prestart", "createRuntime"]"#),
            ),
            (
                "c.json".to_string(),
                hook(r#"{"commands": ["^other$"]}"#, r#"["prestart"]"#),
            ),
            ("d.json".to_string(), hook(r#"{"always": true}"#, r#"["precreate"]"#)),
        ]);
        let mut s = spec("sh");
        inject(&mut s, &hooks, false).unwrap();
        assert_eq!(s["hooks"]["prestart"].as_array().unwrap().len(), 2);
        assert_eq!(
            s["hooks"]["prestart"][0],
            json!({"path": "/bin/true", "args": ["x", "1"]})
        );
        assert_eq!(s["hooks"]["createRuntime"].as_array().unwrap().len(), 1);
        assert_eq!(s["hooks"]["poststop"].as_array().unwrap().len(), 1);
        assert!(s["hooks"].get("precreate").is_none());

        let mut untouched = spec("other-program");
        inject(&mut untouched, &BTreeMap::new(), true).unwrap();
        assert!(untouched.get("hooks").is_none());
    }
}
