//! Seccomp filters crun compiled before, handed back to it.
//!
//! crun compiles the spec's seccomp profile into BPF on every `create`: for
//! podman's default profile with its `socket` argument filters that is about
//! 13 ms, a third of `crun create` here. crun (1.8 and later) takes a filter
//! compiled before through the `run.oci.seccomp_bpf_data` annotation, and
//! leaves the filter it compiled in its state directory as `seccomp.bpf`. This
//! cache keeps that file, keyed by everything that decides its content (the
//! profile, the crun binary, the kernel), and puts it into the next spec with
//! the same key; later crun versions keep such a cache themselves. The cache
//! directory is the engine's own, under the runroot (root only, and gone at
//! reboot with the kernel it was made for).

use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::OciError;
use crate::files;

/// The annotation crun reads a ready filter from.
const BPF_ANNOTATION: &str = "run.oci.seccomp_bpf_data";
/// An annotation that changes how crun compiles the profile.
const FAIL_UNKNOWN_ANNOTATION: &str = "run.oci.seccomp_fail_unknown_syscall";
/// Filters kept at most: a handful of profiles is the usual case, and a
/// profile per container must not fill the runroot.
const MAX_ENTRIES: usize = 64;
/// The size of one BPF instruction (`struct sock_filter`).
const INSTRUCTION_LEN: usize = 8;

#[derive(Debug)]
pub(crate) struct SeccompCache {
    dir: PathBuf,
}

impl SeccompCache {
    pub(crate) fn new(dir: PathBuf) -> SeccompCache {
        SeccompCache { dir }
    }

    /// The key of the filter crun at `runtime` compiles for `spec`, or None
    /// when the spec has no seccomp profile or brings a filter of its own.
    pub(crate) fn key(runtime: &Path, spec: &Value) -> Option<String> {
        let profile = spec.get("linux")?.get("seccomp")?;
        let annotations = spec.get("annotations");
        if annotations.and_then(|a| a.get(BPF_ANNOTATION)).is_some() {
            return None;
        }
        let binary = std::fs::metadata(runtime).ok()?;
        let kernel = rustix::system::uname();
        let mut hash = Sha256::new();
        for part in [
            runtime.as_os_str().as_encoded_bytes(),
            &binary.dev().to_le_bytes(),
            &binary.ino().to_le_bytes(),
            &binary.size().to_le_bytes(),
            &binary.mtime().to_le_bytes(),
            &binary.mtime_nsec().to_le_bytes(),
            kernel.release().to_bytes(),
            kernel.version().to_bytes(),
            kernel.machine().to_bytes(),
            annotations
                .and_then(|a| a.get(FAIL_UNKNOWN_ANNOTATION))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .as_bytes(),
            // serde_json's maps are ordered, so equal profiles print equal.
            profile.to_string().as_bytes(),
        ] {
            // Lengths first, so that no two different lists of parts hash alike.
            hash.update(part.len().to_le_bytes());
            hash.update(part);
        }
        Some(hash.finalize().iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The filter stored under `key`, if any.
    fn lookup(&self, key: &str) -> Option<Vec<u8>> {
        std::fs::read(self.dir.join(key)).ok().filter(|bpf| is_filter(bpf))
    }

    /// Puts the filter under `key` into `spec`'s annotations; false when none is stored.
    pub(crate) fn apply(&self, key: &str, spec: &mut Value) -> bool {
        let Some(bpf) = self.lookup(key) else {
            return false;
        };
        let encoded = base64::engine::general_purpose::STANDARD.encode(bpf);
        match spec.get_mut("annotations").and_then(Value::as_object_mut) {
            Some(annotations) => {
                annotations.insert(BPF_ANNOTATION.into(), encoded.into());
            }
            None => spec["annotations"] = serde_json::json!({ BPF_ANNOTATION: encoded }),
        }
        true
    }

    /// Keeps the filter crun left at `compiled` under `key`. The cache only
    /// saves time, so what goes wrong here is reported and otherwise ignored.
    pub(crate) fn store(&self, key: &str, compiled: &Path) {
        if let Err(e) = self.try_store(key, compiled) {
            tracing::debug!("keeping the seccomp filter {} in the cache: {e}", compiled.display());
        }
    }

    fn try_store(&self, key: &str, compiled: &Path) -> Result<(), OciError> {
        let bpf = std::fs::read(compiled).map_err(|e| OciError::io("reading", compiled, e))?;
        if !is_filter(&bpf) {
            return Err(OciError::InvalidArg(format!(
                "{} bytes are not a BPF program",
                bpf.len()
            )));
        }
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(|e| OciError::io("creating directory", &self.dir, e))?;
        let entries = std::fs::read_dir(&self.dir).map_err(|e| OciError::io("listing", &self.dir, e))?;
        if entries.count() >= MAX_ENTRIES {
            return Ok(());
        }
        // Written whole under another name and renamed: a reader never sees half a filter.
        files::write_atomic(&self.dir.join(key), &bpf)
    }
}

/// Whether `bytes` can be a BPF program: whole instructions, at least one.
fn is_filter(bytes: &[u8]) -> bool {
    !bytes.is_empty() && bytes.len().is_multiple_of(INSTRUCTION_LEN)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn spec() -> Value {
        json!({"linux": {"seccomp": {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": []}}})
    }

    #[test]
    fn keys_follow_the_profile_and_the_runtime() {
        let runtime = Path::new("/bin/sh");
        let key = SeccompCache::key(runtime, &spec()).unwrap();
        assert_eq!(key.len(), 64);
        assert_eq!(SeccompCache::key(runtime, &spec()).unwrap(), key);
        let mut other = spec();
        other["linux"]["seccomp"]["defaultAction"] = json!("SCMP_ACT_KILL");
        assert_ne!(SeccompCache::key(runtime, &other).unwrap(), key);
        assert_ne!(SeccompCache::key(Path::new("/bin/ls"), &spec()).unwrap(), key);
        let mut strict = spec();
        strict["annotations"] = json!({FAIL_UNKNOWN_ANNOTATION: "1"});
        assert_ne!(SeccompCache::key(runtime, &strict).unwrap(), key);
        let mut own = spec();
        own["annotations"] = json!({BPF_ANNOTATION: "AAAA"});
        assert_eq!(SeccompCache::key(runtime, &own), None);
        assert_eq!(SeccompCache::key(runtime, &json!({"linux": {}})), None);
    }

    #[test]
    fn stored_filters_come_back_as_the_annotation() {
        let dir = tempfile::tempdir().unwrap();
        let cache = SeccompCache::new(dir.path().join("cache"));
        let compiled = dir.path().join("seccomp.bpf");
        let mut spec = spec();
        assert!(!cache.apply("k", &mut spec));

        std::fs::write(&compiled, [6u8, 0, 0, 0, 0, 0, 0xff, 0x7f]).unwrap();
        cache.store("k", &compiled);
        assert!(cache.apply("k", &mut spec));
        assert_eq!(spec["annotations"][BPF_ANNOTATION], json!("BgAAAAAA/38="));

        // Not whole instructions: neither kept nor handed out.
        std::fs::write(&compiled, [1u8, 2, 3]).unwrap();
        cache.store("torn", &compiled);
        assert!(cache.lookup("torn").is_none());
        std::fs::write(dir.path().join("cache").join("bad"), [1u8, 2, 3]).unwrap();
        assert!(cache.lookup("bad").is_none());
    }
}
