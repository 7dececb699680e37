//! `corral port`: the published ports of running containers, as
//! `CONTAINER_PORT/PROTOCOL -> HOST_IP:HOST_PORT` lines.

use std::io::Write;

use anyhow::{Context, bail};
use clap::Args;
use corral_define::{ContainerStatus, PortMapping};

use crate::cli::GlobalOptions;
use crate::commands::targets::select;
use crate::engine;
use crate::error::CliError;

#[derive(Debug, Clone, Args)]
pub struct PortArgs {
    /// Display port information for all containers
    #[arg(short = 'a', long)]
    pub all: bool,

    /// Act on the latest container podman is aware of
    #[arg(short = 'l', long)]
    pub latest: bool,

    /// The container (unless `--all` or `--latest`), then `PORT[/PROTOCOL]`.
    #[arg(value_name = "CONTAINER")]
    pub args: Vec<String>,
}

/// `PORT[/PROTOCOL]` as a port and protocol (`tcp` by default).
fn parse_port(text: &str) -> anyhow::Result<(u16, &str)> {
    let (port, protocol) = text.split_once('/').unwrap_or((text, "tcp"));
    let port = port
        .parse()
        .map_err(|_| CliError::Usage(format!("invalid port {text:?}: must be a number from 1 to 65535")))?;
    Ok((port, protocol))
}

/// Every published port of `mappings`, one line each, with `prefix` before it.
fn all_lines(mappings: &[PortMapping], prefix: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for mapping in mappings {
        let host_ip = if mapping.host_ip.is_empty() {
            "0.0.0.0"
        } else {
            &mapping.host_ip
        };
        for protocol in mapping.protocol.split(',') {
            for offset in 0..mapping.range.max(1) {
                lines.push(format!(
                    "{prefix}{}/{protocol} -> {host_ip}:{}",
                    mapping.container_port.saturating_add(offset),
                    mapping.host_port.saturating_add(offset)
                ));
            }
        }
    }
    lines
}

/// The host address `port`/`protocol` is published on, if it is.
fn published(mappings: &[PortMapping], port: u16, protocol: &str) -> Option<String> {
    mappings.iter().find_map(|mapping| {
        let range = mapping.range.max(1);
        let covers = mapping.protocol.split(',').any(|p| p == protocol)
            && mapping.container_port <= port
            && u32::from(port) < u32::from(mapping.container_port) + u32::from(range);
        let host_ip = if mapping.host_ip.is_empty() {
            "0.0.0.0"
        } else {
            &mapping.host_ip
        };
        covers.then(|| format!("{host_ip}:{}", mapping.host_port + (port - mapping.container_port)))
    })
}

pub fn run(args: &PortArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let (names, wanted) = match (args.all || args.latest, args.args.as_slice()) {
        (true, []) => (&[][..], None),
        (true, [port]) => (&[][..], Some(parse_port(port)?)),
        (false, [name]) => (std::slice::from_ref(name), None),
        (false, [name, port]) => (std::slice::from_ref(name), Some(parse_port(port)?)),
        (false, []) => bail!(CliError::Usage("you must supply a running container name or id".into())),
        _ => bail!(CliError::Usage("too many arguments".into())),
    };
    let runtime = engine::runtime(global)?;
    let targets = select(&runtime, names, args.all, args.latest)?;
    let running = engine::block_on(async {
        let mut running = Vec::new();
        for (_, container) in targets {
            if container.status().await? == ContainerStatus::Running {
                running.push(container);
            }
        }
        anyhow::Ok(running)
    })??;
    for container in running {
        let mappings = &container.config().network.port_mappings;
        let prefix = if args.all {
            format!("{}\t", &container.id()[..12])
        } else {
            String::new()
        };
        match wanted {
            None => {
                for line in all_lines(mappings, &prefix) {
                    writeln!(out, "{line}").context("writing the ports")?;
                }
            }
            Some((port, protocol)) => match published(mappings, port, protocol) {
                Some(address) => writeln!(out, "{prefix}{address}").context("writing the ports")?,
                None => bail!("failed to find published port \"{port}/{protocol}\""),
            },
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(container_port: u16, host_port: u16, range: u16) -> PortMapping {
        PortMapping {
            container_port,
            host_port,
            range,
            protocol: "tcp".into(),
            ..PortMapping::default()
        }
    }

    #[test]
    fn ranges_expand_and_lookups_find_the_host_port() {
        let mappings = [mapping(80, 8080, 0), mapping(1000, 2000, 2)];
        assert_eq!(
            all_lines(&mappings, ""),
            [
                "80/tcp -> 0.0.0.0:8080",
                "1000/tcp -> 0.0.0.0:2000",
                "1001/tcp -> 0.0.0.0:2001"
            ]
        );
        assert_eq!(published(&mappings, 1001, "tcp").as_deref(), Some("0.0.0.0:2001"));
        assert_eq!(published(&mappings, 1002, "tcp"), None);
        assert_eq!(published(&mappings, 80, "udp"), None);
        assert_eq!(parse_port("53/udp").unwrap(), (53, "udp"));
        assert_eq!(parse_port("80").unwrap(), (80, "tcp"));
        assert!(parse_port("x").is_err());
    }
}
