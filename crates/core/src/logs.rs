//! Reading a container's log in the k8s-file format conmon writes:
//! `<RFC 3339 time> stdout|stderr F|P <text>`, `P` marking a line continued in the next.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

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

/// Reads a growing k8s-file log piece by piece: each call returns the whole lines
/// written since the last, holding back a line whose last record is still partial.
#[derive(Debug)]
pub(crate) struct LogTail {
    path: PathBuf,
    offset: u64,
    unread: Vec<u8>,
    options: LogOptions,
}

impl LogTail {
    /// `options.tail` applies to the first read only.
    pub(crate) fn new(path: PathBuf, options: LogOptions) -> LogTail {
        LogTail {
            path,
            offset: 0,
            unread: Vec::new(),
            options,
        }
    }

    pub(crate) fn read_new(&mut self) -> Result<Vec<LogLine>> {
        let mut file = match std::fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(CoreError::io("opening container log", &self.path, e)),
        };
        let len = file
            .metadata()
            .map_err(|e| CoreError::io("reading metadata of container log", &self.path, e))?
            .len();
        if len < self.offset {
            // conmon truncated the log at its size limit: start over.
            self.offset = 0;
            self.unread.clear();
        }
        file.seek(SeekFrom::Start(self.offset))
            .map_err(|e| CoreError::io("seeking in container log", &self.path, e))?;
        let read = file
            .read_to_end(&mut self.unread)
            .map_err(|e| CoreError::io("reading container log", &self.path, e))?;
        self.offset += read as u64;
        let complete = complete_prefix(&self.unread);
        let text = String::from_utf8_lossy(&self.unread[..complete]).into_owned();
        self.unread.drain(..complete);
        let lines = parse_log(&text, &self.options);
        self.options.tail = None;
        Ok(lines)
    }
}

/// How many bytes of `log` end with a finished line: up to the last newline that
/// closes a record not marked partial.
fn complete_prefix(log: &[u8]) -> usize {
    let mut complete = 0;
    let mut start = 0;
    while let Some(nl) = log[start..].iter().position(|&b| b == b'\n') {
        let end = start + nl + 1;
        let record = String::from_utf8_lossy(&log[start..end - 1]);
        if !matches!(parse_record(&record), Some((_, _, true, _))) {
            complete = end;
        }
        start = end;
    }
    complete
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

    #[test]
    fn tail_reads_whole_lines_as_they_grow() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ctr.log");
        let mut tail = LogTail::new(
            path.clone(),
            LogOptions {
                tail: Some(1),
                ..Default::default()
            },
        );
        assert!(tail.read_new().unwrap().is_empty());
        std::fs::write(
            &path,
            "2026-01-01T00:00:00Z stdout F a\n2026-01-01T00:00:00Z stdout F b\n",
        )
        .unwrap();
        let texts = |lines: Vec<LogLine>| lines.into_iter().map(|l| l.text).collect::<Vec<_>>();
        assert_eq!(texts(tail.read_new().unwrap()), ["b"]);
        let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
        use std::io::Write;
        f.write_all(b"2026-01-01T00:00:01Z stderr P pa").unwrap();
        assert!(tail.read_new().unwrap().is_empty());
        f.write_all(b"rt\n2026-01-01T00:00:01Z stderr F ial\n2026-01-01T00:00:02Z stdout F c\n2026-01-0")
            .unwrap();
        assert_eq!(texts(tail.read_new().unwrap()), ["partial", "c"]);
        f.write_all(b"1T00:00:03Z stdout F d\n").unwrap();
        assert_eq!(texts(tail.read_new().unwrap()), ["d"]);
        std::fs::write(&path, "2026-01-01T00:00:04Z stdout F new\n").unwrap();
        assert_eq!(texts(tail.read_new().unwrap()), ["new"]);
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
