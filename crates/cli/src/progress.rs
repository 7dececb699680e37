//! Byte counts on stderr while `load` and `save` run, as podman shows its
//! copy progress: only when stderr is a terminal, so scripts and logs see none.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress line for one archive; does nothing when stderr is not a terminal.
#[derive(Debug)]
pub struct ByteProgress {
    bar: Option<ProgressBar>,
}

impl ByteProgress {
    /// `total` is the archive's size when known (a load), None for a save.
    pub fn new(message: &str, total: Option<u64>) -> ByteProgress {
        if !std::io::stderr().is_terminal() {
            return ByteProgress { bar: None };
        }
        let (bar, template) = match total {
            Some(len) => (
                ProgressBar::new(len),
                "{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec})",
            ),
            None => (ProgressBar::no_length(), "{msg} {spinner} {bytes} ({bytes_per_sec})"),
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_draw_target(ProgressDrawTarget::stderr());
        bar.set_message(message.to_string());
        ByteProgress { bar: Some(bar) }
    }

    /// Bytes done so far.
    pub fn update(&self, bytes: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(bytes);
        }
    }
}

impl Drop for ByteProgress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
