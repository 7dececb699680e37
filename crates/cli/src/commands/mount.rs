//! `corral mount` (a container's root filesystem mounted on the host, its
//! path printed; without a container, the mounted ones listed) and
//! `corral unmount`.

use std::io::Write;

use anyhow::Context;
use clap::Args;
use corral_storage::ContainerFsStore;

use crate::cli::GlobalOptions;
use crate::commands::targets::{Report, select};
use crate::engine;

#[derive(Debug, Clone, Args)]
pub struct MountArgs {
    /// Do not truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,

    #[arg(value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct UnmountArgs {
    /// Unmount all of the currently mounted containers
    #[arg(short = 'a', long)]
    pub all: bool,

    /// Force the complete unmount of the specified mounted containers
    #[arg(short = 'f', long)]
    pub force: bool,

    /// Act on the latest container podman is aware of
    #[arg(short = 'l', long)]
    pub latest: bool,

    #[arg(value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

pub fn mount(args: &MountArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let runtime = engine::runtime(global)?;
    if args.containers.is_empty() {
        for container in runtime.get_containers()? {
            let storage = runtime.storage()?;
            if ContainerFsStore::mount_count(storage, container.id())? == 0 {
                continue;
            }
            let path = ContainerFsStore::mount_path(storage, container.id())?;
            let id = if args.no_trunc {
                container.id()
            } else {
                &container.id()[..12]
            };
            writeln!(out, "{id}  {}", path.display()).context("writing the mounts")?;
        }
        return Ok(());
    }
    let targets = select(&runtime, &args.containers, false, false)?;
    let mut report = Report::new();
    engine::block_on(async {
        for (_, container) in &targets {
            match container.mount().await {
                Ok(path) => writeln!(out, "{}", path.display()).context("writing the mount point")?,
                Err(err) => report.fail(err.into()),
            }
        }
        anyhow::Ok(())
    })??;
    report.finish()
}

pub fn unmount(args: &UnmountArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let runtime = engine::runtime(global)?;
    let mut targets = select(&runtime, &args.containers, args.all, args.latest)?;
    if args.all {
        let storage = runtime.storage()?;
        targets.retain(|(_, c)| ContainerFsStore::mount_count(storage, c.id()).is_ok_and(|n| n > 0));
    }
    let mut report = Report::new();
    engine::block_on(async {
        for (name, container) in &targets {
            let result = container.unmount(args.force).await.map_err(anyhow::Error::from);
            report.record(out, name, result)?;
        }
        anyhow::Ok(())
    })??;
    report.finish()
}
