//! `corral logs`: a container's output from its k8s-file log.

use std::io::Write;

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use clap::Args;
use corral_core::{Container, LogOptions, LogStream};

use crate::cli::GlobalOptions;
use crate::commands::targets::select;
use crate::engine;
use crate::error::CliError;

#[derive(Debug, Clone, Args)]
pub struct LogsArgs {
    /// Keep the output open and follow new lines until the container exits
    #[arg(short = 'f', long)]
    pub follow: bool,

    /// Act on the latest container podman is aware of
    #[arg(short = 'l', long)]
    pub latest: bool,

    /// Show logs since TIMESTAMP
    #[arg(long, value_name = "string")]
    pub since: Option<String>,

    /// Show logs until TIMESTAMP
    #[arg(long, value_name = "string")]
    pub until: Option<String>,

    /// Output the specified number of LINES at the end of the logs.  Defaults to -1, which prints all lines
    #[arg(long, value_name = "int", default_value_t = -1, allow_negative_numbers = true)]
    pub tail: i64,

    /// Output the timestamps in the log
    #[arg(short = 't', long)]
    pub timestamps: bool,

    #[arg(value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

/// podman's time arguments: an RFC 3339 time, a date, Unix seconds, or a
/// duration (`10m`, `1h30m`) before `now`.
pub fn parse_time(text: &str, now: DateTime<Utc>) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        && let Some(midnight) = date.and_hms_opt(0, 0, 0)
    {
        return Ok(midnight.and_utc());
    }
    if let Ok(seconds) = text.parse::<f64>() {
        let whole = seconds.trunc() as i64;
        let nanos = (seconds.fract() * 1e9) as u32;
        if let Some(time) = DateTime::from_timestamp(whole, nanos) {
            return Ok(time);
        }
    }
    if let Some(ago) = parse_duration(text) {
        return Ok(now - ago);
    }
    Err(CliError::Usage(format!(
        "invalid time {text:?}: expected a timestamp, a date or a duration"
    ))
    .into())
}

/// Go's `time.ParseDuration` for the units podman users write (`h`, `m`, `s`, `ms`).
fn parse_duration(text: &str) -> Option<chrono::Duration> {
    let mut total = 0f64;
    let mut rest = text;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let value: f64 = rest[..end].parse().ok()?;
        rest = &rest[end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_end] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            _ => return None,
        };
        total += value * scale;
        rest = &rest[unit_end..];
    }
    Some(chrono::Duration::milliseconds((total * 1000.0) as i64))
}

/// Writes lines, stdout's to `out`, stderr's to our stderr, as podman does.
fn print_lines(lines: &[corral_core::LogLine], timestamps: bool, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut stderr = std::io::stderr();
    for line in lines {
        let text = line.display(timestamps);
        match line.stream {
            LogStream::Stdout => writeln!(out, "{text}").context("writing logs")?,
            LogStream::Stderr => writeln!(stderr, "{text}").context("writing logs")?,
        }
    }
    out.flush().context("writing logs")
}

/// Prints the log as it grows until the container stops running.
async fn follow(
    container: &Container,
    options: LogOptions,
    timestamps: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let mut failed = None;
    container
        .follow_logs(&options, |line| {
            if failed.is_none()
                && let Err(err) = print_lines(std::slice::from_ref(&line), timestamps, out)
            {
                failed = Some(err);
            }
            Ok(())
        })
        .await?;
    failed.map_or(Ok(()), Err)
}

pub fn run(args: &LogsArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let now = Utc::now();
    let options = LogOptions {
        tail: usize::try_from(args.tail).ok(),
        since: args.since.as_deref().map(|t| parse_time(t, now)).transpose()?,
        until: args.until.as_deref().map(|t| parse_time(t, now)).transpose()?,
    };
    let runtime = engine::runtime(global)?;
    let targets = select(&runtime, &args.containers, false, args.latest)?;
    for (_, container) in &targets {
        if args.follow {
            engine::block_on(follow(container, options, args.timestamps, out))??;
        } else {
            print_lines(&container.logs(&options)?, args.timestamps, out)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_as_podman_takes_them() {
        let now = DateTime::parse_from_rfc3339("2026-01-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let at = |t: &str| parse_time(t, now).unwrap().to_rfc3339();
        assert_eq!(at("2026-01-01T11:00:00Z"), "2026-01-01T11:00:00+00:00");
        assert_eq!(at("10m"), "2026-01-01T11:50:00+00:00");
        assert_eq!(at("1h30m"), "2026-01-01T10:30:00+00:00");
        assert_eq!(at("1767268800"), "2026-01-01T12:00:00+00:00");
        assert_eq!(at("2025-12-31"), "2025-12-31T00:00:00+00:00");
        assert!(parse_time("yesterday", now).is_err());
        assert!(parse_time("", now).is_err());
    }
}
