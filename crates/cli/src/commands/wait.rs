//! `corral wait`: until containers exit (printing each one's exit code) or reach
//! one of the `--condition` statuses (printing -1).

use std::io::Write;
use std::time::Duration;

use clap::Args;
use corral_core::{Container, parse_go_duration, parse_status_name};
use corral_define::{ContainerStatus, ErrorKind, HasKind};

use crate::cli::GlobalOptions;
use crate::commands::targets::{Report, select};
use crate::engine;
use crate::error::CliError;

#[derive(Debug, Clone, Args)]
pub struct WaitArgs {
    /// Condition to wait on
    #[arg(long, value_name = "strings", value_delimiter = ',')]
    pub condition: Vec<String>,

    /// Time Interval to wait before polling for completion
    #[arg(short = 'i', long, value_name = "string", default_value = "250ms")]
    pub interval: String,

    /// Act on the latest container podman is aware of
    #[arg(short = 'l', long)]
    pub latest: bool,

    /// Ignore if a container does not exist
    #[arg(long)]
    pub ignore: bool,

    #[arg(value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

/// `--interval` as podman reads it: a Go duration, or a number of milliseconds.
fn parse_interval(text: &str) -> anyhow::Result<Duration> {
    let nanos = parse_go_duration(text)
        .or_else(|| parse_go_duration(&format!("{text}ms")))
        .ok_or_else(|| CliError::Usage(format!("time: invalid duration {text:?}")))?;
    Ok(Duration::from_nanos(u64::try_from(nanos).unwrap_or(0)))
}

/// `--condition`s as statuses; none means "exited", as podman.
fn parse_conditions(names: &[String]) -> anyhow::Result<Vec<ContainerStatus>> {
    if names.is_empty() {
        return Ok(vec![ContainerStatus::Stopped, ContainerStatus::Exited]);
    }
    names
        .iter()
        .map(|name| match name.as_str() {
            "healthy" | "unhealthy" => Err(CliError::Usage(format!(
                "cannot wait for condition {name}: containers have no health checks in corral"
            ))
            .into()),
            _ => Ok(parse_status_name(name)?),
        })
        .collect()
}

pub fn run(args: &WaitArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let interval = parse_interval(&args.interval)?;
    let conditions = parse_conditions(&args.condition)?;
    let runtime = engine::runtime(global)?;
    // None: a missing container `--ignore` let pass; podman prints -1 for it.
    let mut targets: Vec<Option<Container>> = Vec::new();
    if args.latest || args.containers.is_empty() {
        targets.extend(
            select(&runtime, &args.containers, false, args.latest)?
                .into_iter()
                .map(|(_, c)| Some(c)),
        );
    } else {
        for name in &args.containers {
            match runtime.lookup_container(name) {
                Ok(container) => targets.push(Some(container)),
                Err(err) if args.ignore && err.kind() == ErrorKind::NoSuchContainer => targets.push(None),
                Err(err) => return Err(err.into()),
            }
        }
    }
    let mut report = Report::new();
    engine::block_on(async {
        for target in &targets {
            let Some(container) = target else {
                writeln!(out, "-1")?;
                continue;
            };
            match container.wait_for_condition(&conditions, interval).await {
                Ok(code) => writeln!(out, "{code}")?,
                Err(err) => report.fail(err.into()),
            }
        }
        anyhow::Ok(())
    })??;
    report.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_as_podman_reads_them() {
        assert_eq!(parse_interval("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_interval("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_interval("10").unwrap(), Duration::from_millis(10));
        let err = parse_interval("bogus").unwrap_err().to_string();
        assert_eq!(err, "time: invalid duration \"bogus\"");
    }

    #[test]
    fn conditions_as_statuses() {
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            parse_conditions(&[]).unwrap(),
            [ContainerStatus::Stopped, ContainerStatus::Exited]
        );
        assert_eq!(
            parse_conditions(&names(&["running", "created"])).unwrap(),
            [ContainerStatus::Running, ContainerStatus::Configured]
        );
        let err = parse_conditions(&names(&["bogus"])).unwrap_err();
        assert!(format!("{err:#}").contains("unknown container state: bogus"), "{err:#}");
        assert!(parse_conditions(&names(&["healthy"])).is_err());
    }
}
