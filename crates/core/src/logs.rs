//! Reading a container's log in the k8s-file format conmon writes:
//! `<RFC 3339 time> stdout|stderr F|P <text>`, `P` marking a line continued in the next.

use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::error::{CoreError, Result};

/// Which stream a log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogStream {
    Stdout,
    Stderr,
}

/// One whole line of output (partial records joined).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub time: DateTime<Utc>,
    pub stream: LogStream,
    pub text: String,
}

impl LogLine {
    /// The line as `podman logs` prints it, with the time first when `timestamps`.
    pub fn display(&self, timestamps: bool) -> String {
        if timestamps {
            format!(
                "{} {}",
                self.time.to_rfc3339_opts(SecondsFormat::Nanos, false),
                self.text
            )
        } else {
            self.text.clone()
        }
    }
}

/// Which lines [`read_log`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogOptions {
    /// Only the last N lines (after `since`/`until` are applied).
    pub tail: Option<usize>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// Parses one record: time, stream, whether it is partial, text.
fn parse_record(line: &str) -> Option<(DateTime<Utc>, LogStream, bool, &str)> {
    let mut parts = line.splitn(4, ' ');
    let time = DateTime::parse_from_rfc3339(parts.next()?).ok()?.with_timezone(&Utc);
    let stream = match parts.next()? {
        "stdout" => LogStream::Stdout,
        "stderr" => LogStream::Stderr,
        _ => return None,
    };
    let partial = match parts.next()? {
        "P" => true,
        "F" => false,
        _ => return None,
    };
    Some((time, stream, partial, parts.next().unwrap_or("")))
}

/// Parses a whole k8s-file log; records that do not parse are skipped.
pub fn parse_log(text: &str, options: &LogOptions) -> Vec<LogLine> {
    let mut lines: Vec<LogLine> = Vec::new();
    let mut pending: Option<LogLine> = None;
    for raw in text.lines() {
        let Some((time, stream, partial, body)) = parse_record(raw) else {
            continue;
        };
        let line = match pending.take() {
            Some(mut p) => {
                p.text.push_str(body);
                p
            }
            None => LogLine {
                time,
                stream,
                text: body.to_string(),
            },
        };
        if partial {
            pending = Some(line);
        } else {
            lines.push(line);
        }
    }
    lines.extend(pending);
    lines.retain(|l| options.since.is_none_or(|s| l.time >= s) && options.until.is_none_or(|u| l.time <= u));
    if let Some(n) = options.tail {
        let skip = lines.len().saturating_sub(n);
        lines.drain(..skip);
    }
    lines
}

/// Reads the log at `path`; a log not written yet is empty.
pub fn read_log(path: &Path, options: &LogOptions) -> Result<Vec<LogLine>> {
    let text = match std::fs::read(path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(CoreError::io("reading container log", path, e)),
    };
    Ok(parse_log(&text, options))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const LOG: &str = "2026-01-01T00:00:01.000000001+00:00 stdout F one\n\
2026-01-01T00:00:02.5+00:00 stderr P tw\n\
2026-01-01T00:00:02.6+00:00 stderr F o\n\
garbage line\n\
2026-01-01T00:00:03Z stdout F three with  spaces\n";

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn joins_partials_and_filters() {
        let all = parse_log(LOG, &LogOptions::default());
        let texts: Vec<&str> = all.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["one", "two", "three with  spaces"]);
        assert_eq!(all[1].stream, LogStream::Stderr);
        assert_eq!(all[0].display(true), "2026-01-01T00:00:01.000000001+00:00 one");
        let tail = parse_log(
            LOG,
            &LogOptions {
                tail: Some(1),
                ..Default::default()
            },
        );
        assert_eq!(tail[0].text, "three with  spaces");
        let since = parse_log(
            LOG,
            &LogOptions {
                since: Some(t("2026-01-01T00:00:02Z")),
                until: Some(t("2026-01-01T00:00:02.9Z")),
                ..Default::default()
            },
        );
        assert_eq!(since.len(), 1);
        assert_eq!(since[0].text, "two");
        assert!(
            parse_log(
                "",
                &LogOptions {
                    tail: Some(0),
                    ..Default::default()
                }
            )
            .is_empty()
        );
    }

    proptest! {
        /// Any text split into partial records reads back as the one line.
        #[test]
        fn partials_rejoin(text in "[a-z ]{0,40}", cuts in proptest::collection::vec(0usize..40, 0..4)) {
            let mut points: Vec<usize> = cuts.into_iter().filter(|c| *c < text.len()).collect();
            points.sort();
            points.dedup();
            let mut log = String::new();
            let mut last = 0;
            for p in points {
                log.push_str(&format!("2026-01-01T00:00:00Z stdout P {}\n", &text[last..p]));
                last = p;
            }
            log.push_str(&format!("2026-01-01T00:00:00Z stdout F {}\n", &text[last..]));
            let lines = parse_log(&log, &LogOptions::default());
            prop_assert_eq!(lines.len(), 1);
            prop_assert_eq!(&lines[0].text, &text);
        }
    }
}
