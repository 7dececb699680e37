//! Which OCI runtime a container uses: the one named in its config, for its whole
//! life, whatever the engine's default is now. Each runtime is looked up (its
//! executable and conmon found) once per process.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use corral_oci::{MissingRuntime, OciRuntime};

use crate::error::{CoreError, Result};
use crate::runtime::Runtime;

/// The runtimes other than the default that this process has looked up, by name.
#[derive(Default)]
pub(crate) struct OciRuntimeCache(Mutex<BTreeMap<String, Arc<dyn OciRuntime>>>);

impl std::fmt::Debug for OciRuntimeCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OciRuntimeCache").finish_non_exhaustive()
    }
}

impl Runtime {
    /// The runtime called `name` (empty: the default): looked up the first time, then
    /// the same one; a [`MissingRuntime`] when it is not installed.
    pub(crate) fn cached_oci(&self, name: &str) -> Arc<dyn OciRuntime> {
        let inner = &self.inner;
        if name.is_empty() || name == inner.oci.name() {
            return inner.oci.clone();
        }
        // A panic elsewhere cannot leave the map half-written: insertions are whole.
        let mut cache = inner
            .oci_cache
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        cache
            .entry(name.to_string())
            .or_insert_with(|| inner.oci_config.runtime(name))
            .clone()
    }

    /// The runtime a new container gets: `requested`, or the default; refused with
    /// podman's messages when it is not installed.
    pub(crate) fn oci_for_new_container(&self, requested: Option<&str>) -> Result<Arc<dyn OciRuntime>> {
        let (name, oci) = match requested {
            Some(name) if !name.is_empty() => (name.to_string(), self.cached_oci(name)),
            _ => (self.inner.options.oci_runtime.clone(), self.inner.oci.clone()),
        };
        if oci.name() != MissingRuntime::new(&name, &self.inner.oci_config).name() {
            return Ok(oci);
        }
        Err(CoreError::InvalidArg(match requested {
            Some(name) if !name.is_empty() => format!("requested OCI runtime {name} is not available"),
            _ => format!("default OCI runtime {name:?} not found"),
        }))
    }
}

#[cfg(test)]
mod tests {
    use crate::container_spec::ContainerSpec;
    use crate::testing::FakeEnv;
    use std::sync::Arc;

    #[test]
    fn runtimes_are_looked_up_once_and_missing_ones_refused() {
        let env = FakeEnv::new();
        let a = env.rt.cached_oci("surely-no-such-runtime");
        let b = env.rt.cached_oci("surely-no-such-runtime");
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(a.name(), "surely-no-such-runtime (missing/not available)");
        assert_eq!(env.rt.cached_oci("").name(), "fake");
        assert_eq!(env.rt.cached_oci("fake").name(), "fake");

        assert_eq!(env.rt.oci_for_new_container(None).unwrap().name(), "fake");
        let err = env
            .rt
            .oci_for_new_container(Some("surely-no-such-runtime"))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "requested OCI runtime surely-no-such-runtime is not available: invalid argument"
        );
        let mut spec = ContainerSpec::new("busybox");
        spec.oci_runtime = Some("surely-no-such-runtime".into());
        assert!(env.rt.new_container(spec).is_err());
    }
}
