//! `logs -f`: the container's log, then its new lines until it exits.

use std::time::Duration;

use super::Container;
use crate::error::Result;
use crate::logs::{LogLine, LogOptions, LogTail};

/// How often a followed log is looked at for new lines.
const FOLLOW_POLL: Duration = Duration::from_millis(100);

impl Container {
    /// Gives `sink` the log's lines chosen by `options`, then every new line as
    /// conmon writes it, until the container is no longer running (or being
    /// started); returns once the last line is given. An error of `sink` stops it.
    pub async fn follow_logs(&self, options: &LogOptions, mut sink: impl FnMut(LogLine) -> Result<()>) -> Result<()> {
        let mut tail = LogTail::new(self.log_path(), *options);
        loop {
            // Looked at before reading, so lines written before the exit are read.
            let running = self.status().await?.may_have_exited();
            for line in tail.read_new()? {
                sink(line)?;
            }
            if !running {
                return Ok(());
            }
            tokio::time::sleep(FOLLOW_POLL).await;
        }
    }
}
