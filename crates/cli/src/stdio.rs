//! Our own stdio as the local end of an attach, shared by every attaching
//! command (`run`, `start -a`, `attach`, `exec`) so they treat the user's
//! terminal alike: raw while it feeds the process, its size given at once
//! and followed on every SIGWINCH.

use corral_attach::{AttachOptions, AttachStreams, DetachKeys, RawTerminal};

/// The streams and options to attach with, and the terminal mode to keep
/// until the attach ends.
pub struct StdioAttach {
    /// Puts the terminal back when dropped: hold it until the attach ends.
    pub raw_mode: Option<RawTerminal>,
    pub streams: AttachStreams<'static>,
    pub options: AttachOptions,
}

impl StdioAttach {
    /// Attaches stdout and stderr, and stdin when `with_stdin`. When the
    /// process has a `terminal` and our stdin is one too, stdin goes raw (if
    /// attached) and the process's terminal takes our window size now and
    /// after each change. Must be called within a tokio runtime.
    pub fn new(terminal: bool, with_stdin: bool, detach_keys: DetachKeys) -> anyhow::Result<StdioAttach> {
        let stdin = std::io::stdin();
        let tty = terminal && corral_attach::is_terminal(&stdin);
        let raw_mode = if tty && with_stdin {
            Some(RawTerminal::enable(&stdin)?)
        } else {
            None
        };
        let mut streams = AttachStreams::new()
            .stdout(tokio::io::stdout())
            .stderr(tokio::io::stderr());
        if with_stdin {
            streams = streams.stdin(tokio::io::stdin());
        }
        let mut options = AttachOptions {
            detach_keys,
            tty: terminal,
            ..AttachOptions::default()
        };
        if tty {
            options.initial_size = corral_attach::window_size(&stdin).ok();
            options.resizes = corral_attach::watch_resizes(&stdin).ok();
        }
        Ok(StdioAttach {
            raw_mode,
            streams,
            options,
        })
    }
}
