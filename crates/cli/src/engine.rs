//! The one place the global options become an engine: `--root`, `--runroot`,
//! `--runtime`, `--storage-driver`, `--cgroup-manager` and `--tmpdir` turned
//! into [`RuntimeOptions`], and a tokio runtime to drive its async operations.

use std::future::Future;
use std::time::Duration;

use anyhow::Context;
use corral_core::{Runtime, RuntimeOptions};

use crate::cli::GlobalOptions;

/// How long a finished command waits for blocking work still running (a
/// read of stdin nobody needs any more) before it exits anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(100);

/// The engine's options for these global options; unset ones keep the engine's defaults.
pub fn runtime_options(global: &GlobalOptions) -> anyhow::Result<RuntimeOptions> {
    let mut options = RuntimeOptions::default();
    if let Some(root) = &global.root {
        options.root = root.clone();
    }
    if let Some(runroot) = &global.runroot {
        options.runroot = runroot.clone();
    }
    if let Some(runtime) = &global.runtime {
        options.oci_runtime = runtime.clone();
    }
    if let Some(driver) = &global.storage_driver {
        options.storage_driver = Some(driver.parse()?);
    }
    if let Some(manager) = &global.cgroup_manager {
        options.cgroup_manager = manager.parse()?;
    }
    if let Some(tmpdir) = &global.tmpdir {
        options.tmp_dir = Some(tmpdir.clone());
    }
    if let Some(backend) = &global.events_backend {
        options.events_logger = backend.parse()?;
    }
    if !global.hooks_dir.is_empty() {
        options.hooks_dirs = global.hooks_dir.clone();
    }
    if let Some(file) = &global.default_mounts_file {
        options.default_mounts_file = Some(file.clone());
    }
    // conmon runs `corral ... container cleanup ID` when a container exits.
    options.exit_command_binary = std::env::current_exe().ok();
    Ok(options)
}

/// Opens the engine the global options describe.
pub fn runtime(global: &GlobalOptions) -> anyhow::Result<Runtime> {
    Ok(Runtime::new(runtime_options(global)?)?)
}

/// Runs `future` to its end on a tokio runtime of its own.
pub fn block_on<F: Future>(future: F) -> anyhow::Result<F::Output> {
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let output = tokio.block_on(future);
    tokio.shutdown_timeout(SHUTDOWN_GRACE);
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn globals_reach_the_engine_options() {
        let global = GlobalOptions {
            root: Some("/r".into()),
            runroot: Some("/rr".into()),
            runtime: Some("runc".into()),
            storage_driver: Some("vfs".into()),
            cgroup_manager: Some("disabled".into()),
            events_backend: Some("none".into()),
            tmpdir: Some("/t".into()),
            hooks_dir: vec!["/h1".into(), "/h2".into()],
            default_mounts_file: Some("/m.conf".into()),
            ..GlobalOptions::default()
        };
        let options = runtime_options(&global).unwrap();
        assert_eq!(options.root, PathBuf::from("/r"));
        assert_eq!(options.runroot, PathBuf::from("/rr"));
        assert_eq!(options.oci_runtime, "runc");
        assert_eq!(options.storage_driver, Some(corral_storage::Driver::Vfs));
        assert_eq!(options.cgroup_manager, corral_core::CgroupManager::Disabled);
        assert_eq!(options.tmp_dir, Some(PathBuf::from("/t")));
        assert_eq!(options.events_logger, corral_core::EventsLogger::None);
        assert_eq!(options.hooks_dirs, [PathBuf::from("/h1"), PathBuf::from("/h2")]);
        assert_eq!(options.default_mounts_file, Some(PathBuf::from("/m.conf")));
        assert!(options.exit_command_binary.is_some());

        let defaults = runtime_options(&GlobalOptions::default()).unwrap();
        assert_eq!(defaults.root, PathBuf::from("/var/lib/corral"));
        assert_eq!(defaults.oci_runtime, "crun");

        let bad = GlobalOptions {
            cgroup_manager: Some("bogus".into()),
            ..GlobalOptions::default()
        };
        assert!(runtime_options(&bad).is_err());
    }
}
