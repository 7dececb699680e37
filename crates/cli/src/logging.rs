//! Log output on stderr, filtered by `--log-level` and laid out as podman's
//! logger (logrus) lays it out: `DEBU[0000] message` on a terminal,
//! `time="..." level=debug msg="..."` otherwise.

use std::fmt::{self, Write as _};
use std::io::IsTerminal;
use std::time::Instant;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The most verbose level shown for one of podman's level names; `fatal`
/// and `panic` show errors only.
pub fn level_filter(level: &str) -> LevelFilter {
    match level {
        "trace" => LevelFilter::TRACE,
        "debug" => LevelFilter::DEBUG,
        "info" => LevelFilter::INFO,
        "warn" | "warning" => LevelFilter::WARN,
        _ => LevelFilter::ERROR,
    }
}

/// Sends log events at `level` and above to stderr (once per process).
pub fn init(level: &str) {
    let format = LogrusFormat {
        terminal: std::io::stderr().is_terminal(),
        start: Instant::now(),
    };
    // A second initialization (tests running commands in one process) keeps the first.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level_filter(level))
        .event_format(format)
        .try_init();
}

struct LogrusFormat {
    terminal: bool,
    start: Instant,
}

/// An event's message and its other fields, in order.
#[derive(Default)]
struct Fields {
    message: String,
    others: Vec<(&'static str, String)>,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        } else {
            self.others.push((field.name(), format!("{value:?}")));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_owned();
        } else {
            self.others.push((field.name(), value.to_owned()));
        }
    }
}

/// logrus quotes a value holding anything but letters, digits and `-._/@^+`.
fn logrus_value(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._/@^+".contains(c));
    if plain {
        return value.to_owned();
    }
    let mut quoted = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\t' => quoted.push_str("\\t"),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

impl<S, N> FormatEvent<S, N> for LogrusFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, _ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let level = *event.metadata().level();
        let mut line = String::new();
        if self.terminal {
            let label = match level {
                Level::TRACE => "TRAC",
                Level::DEBUG => "DEBU",
                Level::INFO => "INFO",
                Level::WARN => "WARN",
                Level::ERROR => "ERRO",
            };
            write!(
                line,
                "{label}[{:04}] {}",
                self.start.elapsed().as_secs(),
                fields.message
            )?;
        } else {
            let name = match level {
                Level::TRACE => "trace",
                Level::DEBUG => "debug",
                Level::INFO => "info",
                Level::WARN => "warning",
                Level::ERROR => "error",
            };
            let time = chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            write!(
                line,
                "time=\"{time}\" level={name} msg={}",
                logrus_value(&fields.message)
            )?;
        }
        for (key, value) in &fields.others {
            write!(line, " {key}={}", logrus_value(value))?;
        }
        writeln!(writer, "{line}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_map_to_filters() {
        assert_eq!(level_filter("trace"), LevelFilter::TRACE);
        assert_eq!(level_filter("warning"), LevelFilter::WARN);
        assert_eq!(level_filter("panic"), LevelFilter::ERROR);
    }

    #[test]
    fn values_are_quoted_like_logrus() {
        assert_eq!(logrus_value("plain-value_1.2"), "plain-value_1.2");
        assert_eq!(logrus_value("two words"), "\"two words\"");
        assert_eq!(logrus_value("say \"hi\""), "\"say \\\"hi\\\"\"");
        assert_eq!(logrus_value(""), "\"\"");
    }
}
