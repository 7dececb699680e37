//! The attaching side's terminal: raw mode while attached, its window size,
//! and resize events from SIGWINCH.

use std::os::fd::{AsFd, OwnedFd};

use rustix::termios::{OptionalActions, Termios};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use crate::error::AttachError;

/// A terminal's size in character cells.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct WindowSize {
    /// Height.
    pub rows: u16,
    /// Width.
    pub cols: u16,
}

/// Whether `fd` is a terminal.
pub fn is_terminal(fd: impl AsFd) -> bool {
    rustix::termios::isatty(fd)
}

/// The window size of the terminal `fd`.
pub fn window_size(fd: impl AsFd) -> Result<WindowSize, AttachError> {
    let size = rustix::termios::tcgetwinsize(fd).map_err(|e| AttachError::Terminal {
        action: "reading the terminal size",
        source: e.into(),
    })?;
    Ok(WindowSize {
        rows: size.ws_row,
        cols: size.ws_col,
    })
}

/// Keeps a terminal in raw mode (no echo, no line editing, no signals from
/// keys, so every key reaches the container) until dropped, then puts back
/// the settings it found.
#[derive(Debug)]
pub struct RawTerminal {
    fd: OwnedFd,
    original: Termios,
}

impl RawTerminal {
    /// Puts the terminal `fd` (usually stdin) in raw mode.
    pub fn enable(fd: impl AsFd) -> Result<Self, AttachError> {
        let fd = rustix::io::dup(fd).map_err(|e| AttachError::Terminal {
            action: "duplicating the terminal descriptor",
            source: e.into(),
        })?;
        let original = rustix::termios::tcgetattr(&fd).map_err(|e| AttachError::Terminal {
            action: "reading the terminal mode",
            source: e.into(),
        })?;
        let mut raw = original.clone();
        raw.make_raw();
        rustix::termios::tcsetattr(&fd, OptionalActions::Now, &raw).map_err(|e| AttachError::Terminal {
            action: "setting the terminal to raw mode",
            source: e.into(),
        })?;
        Ok(Self { fd, original })
    }

    /// Restores the terminal now, reporting failure (dropping restores too,
    /// but can only log a failure).
    pub fn restore(self) -> Result<(), AttachError> {
        self.apply_original()
    }

    fn apply_original(&self) -> Result<(), AttachError> {
        rustix::termios::tcsetattr(&self.fd, OptionalActions::Now, &self.original).map_err(|e| AttachError::Terminal {
            action: "restoring the terminal mode",
            source: e.into(),
        })
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        if let Err(e) = self.apply_original() {
            tracing::warn!("{e}");
        }
    }
}

/// Watches the terminal `fd` for size changes: the receiver gets the
/// current size at once, then the new size after every SIGWINCH that
/// changed it. Pass it as [`crate::AttachOptions::resizes`]. The watching
/// task ends when the receiver is dropped.
///
/// Must be called within a tokio runtime.
pub fn watch_resizes(fd: impl AsFd) -> Result<mpsc::Receiver<WindowSize>, AttachError> {
    let fd = rustix::io::dup(fd).map_err(|e| AttachError::Terminal {
        action: "duplicating the terminal descriptor",
        source: e.into(),
    })?;
    let mut winch = signal(SignalKind::window_change()).map_err(|source| AttachError::Terminal {
        action: "listening for SIGWINCH",
        source,
    })?;
    let mut last = window_size(&fd)?;
    let (tx, rx) = mpsc::channel(8);
    // The channel is empty and has room: the first size always fits.
    let _ = tx.try_send(last);
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tx.closed() => break,
                received = winch.recv() => {
                    if received.is_none() {
                        break;
                    }
                    match window_size(&fd) {
                        Ok(size) if size != last => {
                            last = size;
                            if tx.send(size).await.is_err() {
                                break;
                            }
                        }
                        Ok(_) => {}
                        Err(e) => tracing::debug!("{e}"),
                    }
                }
            }
        }
    });
    Ok(rx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::fs::{Mode, OFlags};
    use rustix::pty::OpenptFlags;
    use rustix::termios::{LocalModes, Winsize};
    use std::time::Duration;

    /// A fresh pseudo-terminal: (controller, terminal).
    fn pty() -> (OwnedFd, OwnedFd) {
        let controller = rustix::pty::openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC).unwrap();
        rustix::pty::grantpt(&controller).unwrap();
        rustix::pty::unlockpt(&controller).unwrap();
        let name = rustix::pty::ptsname(&controller, Vec::new()).unwrap();
        let terminal = rustix::fs::open(
            name.as_c_str(),
            OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .unwrap();
        (controller, terminal)
    }

    fn set_size(fd: &OwnedFd, rows: u16, cols: u16) {
        rustix::termios::tcsetwinsize(
            fd,
            Winsize {
                ws_row: rows,
                ws_col: cols,
                ws_xpixel: 0,
                ws_ypixel: 0,
            },
        )
        .unwrap();
    }

    #[test]
    fn raw_mode_is_restored_on_drop_and_restore() {
        let (_controller, terminal) = pty();
        assert!(is_terminal(&terminal));
        let lflags = |fd: &OwnedFd| rustix::termios::tcgetattr(fd).unwrap().local_modes;
        assert!(lflags(&terminal).contains(LocalModes::ICANON | LocalModes::ECHO));

        let raw = RawTerminal::enable(&terminal).unwrap();
        assert!(!lflags(&terminal).intersects(LocalModes::ICANON | LocalModes::ECHO | LocalModes::ISIG));
        drop(raw);
        assert!(lflags(&terminal).contains(LocalModes::ICANON | LocalModes::ECHO | LocalModes::ISIG));

        let raw = RawTerminal::enable(&terminal).unwrap();
        raw.restore().unwrap();
        assert!(lflags(&terminal).contains(LocalModes::ICANON));
    }

    #[test]
    fn raw_mode_on_a_non_terminal_fails() {
        let file = tempfile::tempfile().unwrap();
        assert!(!is_terminal(&file));
        let err = RawTerminal::enable(&file).unwrap_err();
        assert!(err.to_string().starts_with("reading the terminal mode: "), "{err}");
    }

    #[tokio::test]
    async fn resizes_follow_sigwinch() {
        let (_controller, terminal) = pty();
        set_size(&terminal, 24, 80);
        assert_eq!(window_size(&terminal).unwrap(), WindowSize { rows: 24, cols: 80 });

        let mut sizes = watch_resizes(&terminal).unwrap();
        assert_eq!(sizes.recv().await, Some(WindowSize { rows: 24, cols: 80 }));

        set_size(&terminal, 50, 132);
        rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::WINCH).unwrap();
        let next = tokio::time::timeout(Duration::from_secs(10), sizes.recv())
            .await
            .unwrap();
        assert_eq!(next, Some(WindowSize { rows: 50, cols: 132 }));
    }
}
