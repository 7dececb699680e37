//! Attaching to a container or exec session through conmon's attach socket.

use std::convert::Infallible;
use std::fmt;
use std::path::{Path, PathBuf};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::conmon::{AttachPipe, AttachSocket, STDIN_PACKET_LIMIT, parse_output_packet, resize_terminal};
use crate::detach::{DetachKeys, copy_detachable};
use crate::error::AttachError;
use crate::terminal::WindowSize;

/// A stdin source for [`attach`].
pub type InputStream<'a> = Box<dyn AsyncRead + Send + Unpin + 'a>;
/// An output sink for [`attach`].
pub type OutputStream<'a> = Box<dyn AsyncWrite + Send + Unpin + 'a>;

/// The local ends of an attach: which of stdin, stdout and stderr to
/// connect, and to what. At least one must be set.
#[derive(Default)]
pub struct AttachStreams<'a> {
    pub stdin: Option<InputStream<'a>>,
    pub stdout: Option<OutputStream<'a>>,
    pub stderr: Option<OutputStream<'a>>,
}

impl<'a> AttachStreams<'a> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn stdin(mut self, reader: impl AsyncRead + Send + Unpin + 'a) -> Self {
        self.stdin = Some(Box::new(reader));
        self
    }

    pub fn stdout(mut self, writer: impl AsyncWrite + Send + Unpin + 'a) -> Self {
        self.stdout = Some(Box::new(writer));
        self
    }

    pub fn stderr(mut self, writer: impl AsyncWrite + Send + Unpin + 'a) -> Self {
        self.stderr = Some(Box::new(writer));
        self
    }
}

impl fmt::Debug for AttachStreams<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttachStreams")
            .field("stdin", &self.stdin.is_some())
            .field("stdout", &self.stdout.is_some())
            .field("stderr", &self.stderr.is_some())
            .finish()
    }
}

/// How an attach behaves, podman's `AttachOptions` minus the streams.
#[derive(Debug, Default)]
pub struct AttachOptions {
    /// The sequence that detaches; [`DetachKeys::default`] is podman's
    /// `ctrl-p,ctrl-q`, [`DetachKeys::disabled`] never detaches.
    pub detach_keys: DetachKeys,
    /// The container has a terminal: all output is one stream, written to
    /// `stdout`.
    pub tty: bool,
    /// conmon's `ctl` FIFO, needed for `initial_size` and `resizes`.
    pub ctl_path: Option<PathBuf>,
    /// Resize the container's terminal to this before streaming.
    pub initial_size: Option<WindowSize>,
    /// Sizes to forward to the container's terminal while attached, e.g.
    /// from [`crate::terminal::watch_resizes`] or a REST resize endpoint.
    pub resizes: Option<mpsc::Receiver<WindowSize>>,
}

/// How an attach ended, when it ended without error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachEnd {
    /// conmon closed the socket: the container (or exec session) output
    /// ended, normally because its process exited.
    OutputEnded,
    /// The user typed the detach keys; the container keeps running.
    Detached,
    /// Local stdin reached its end and no output stream was attached.
    /// (With an output stream attached, the end of stdin half-closes the
    /// socket and the attach goes on until the output ends.)
    StdinClosed,
}

/// Connects to the attach socket at `socket_path` and streams until the
/// output ends, the user detaches or (with no output attached) stdin ends.
/// See [`attach_connected`].
pub async fn attach(
    socket_path: &Path,
    streams: AttachStreams<'_>,
    options: AttachOptions,
) -> Result<AttachEnd, AttachError> {
    check(&streams, &options)?;
    let socket = AttachSocket::connect(socket_path)?;
    attach_connected(&socket, streams, options).await
}

/// Streams over an already connected socket. Exec needs this split: connect
/// first, then tell conmon to start the process, then stream, so no output
/// is lost.
///
/// - Output packets go to `stdout` or `stderr` by their pipe byte (to
///   `stdout` only with `tty`); output for a stream not attached is read
///   and dropped, so conmon never blocks on a full socket.
/// - Stdin goes through the detach-key filter to the socket. When it ends,
///   the socket's write side is shut down so the container sees end of
///   input. Without stdin the write side stays open.
/// - Resize events are forwarded to the `ctl` FIFO; a failed resize is
///   logged and the attach goes on, as in podman.
///
/// When the output ends first, an unfinished read of stdin is dropped.
pub async fn attach_connected(
    socket: &AttachSocket,
    streams: AttachStreams<'_>,
    options: AttachOptions,
) -> Result<AttachEnd, AttachError> {
    check(&streams, &options)?;
    let AttachOptions {
        detach_keys,
        tty,
        ctl_path,
        initial_size,
        resizes,
    } = options;
    if let (Some(size), Some(ctl)) = (initial_size, &ctl_path) {
        resize_terminal(ctl, size)?;
    }
    let AttachStreams { stdin, stdout, stderr } = streams;
    let has_output = stdout.is_some() || stderr.is_some();

    let output = copy_output(socket, stdout, stderr, tty);
    let input = async {
        match stdin {
            Some(mut reader) => {
                let mut writer = socket.stdin_writer();
                copy_detachable(&mut reader, &mut writer, &detach_keys, STDIN_PACKET_LIMIT).await
            }
            None => std::future::pending().await,
        }
    };
    let resizing = forward_resizes(ctl_path.as_deref(), resizes);
    tokio::pin!(output, input, resizing);

    tokio::select! {
        ended = &mut output => {
            // Best effort, as podman: the peer is already gone.
            let _ = socket.shutdown_write();
            ended.map(|()| AttachEnd::OutputEnded)
        }
        copied = &mut input => match copied {
            Err(AttachError::Detached) => {
                let _ = socket.shutdown_write();
                Ok(AttachEnd::Detached)
            }
            Err(e) => Err(e),
            Ok(_) => {
                socket.shutdown_write()?;
                if !has_output {
                    return Ok(AttachEnd::StdinClosed);
                }
                tokio::select! {
                    ended = &mut output => ended.map(|()| AttachEnd::OutputEnded),
                    never = &mut resizing => match never {},
                }
            }
        },
        never = &mut resizing => match never {},
    }
}

fn check(streams: &AttachStreams<'_>, options: &AttachOptions) -> Result<(), AttachError> {
    if streams.stdin.is_none() && streams.stdout.is_none() && streams.stderr.is_none() {
        return Err(AttachError::InvalidArg(
            "must provide at least one stream to attach to".into(),
        ));
    }
    if options.ctl_path.is_none() && (options.initial_size.is_some() || options.resizes.is_some()) {
        return Err(AttachError::InvalidArg(
            "resizing the terminal needs the path of conmon's control FIFO".into(),
        ));
    }
    Ok(())
}

async fn copy_output(
    socket: &AttachSocket,
    mut stdout: Option<OutputStream<'_>>,
    mut stderr: Option<OutputStream<'_>>,
    tty: bool,
) -> Result<(), AttachError> {
    let mut buf = Vec::new();
    loop {
        let n = socket.recv_output_into(&mut buf).await?;
        if n == 0 {
            break;
        }
        let (pipe, data) = parse_output_packet(&buf[..n])?;
        let sink = match pipe {
            AttachPipe::Stdout => stdout.as_mut(),
            AttachPipe::Stderr if tty => stdout.as_mut(),
            AttachPipe::Stderr => stderr.as_mut(),
            AttachPipe::Stdin => return Err(AttachError::UnexpectedAttachType(AttachPipe::Stdin as u8)),
        };
        if let Some(sink) = sink {
            sink.write_all(data)
                .await
                .map_err(|e| AttachError::stream("writing container output", e))?;
            // Interactive output must show up now, not when a buffer fills.
            sink.flush()
                .await
                .map_err(|e| AttachError::stream("writing container output", e))?;
        }
    }
    for sink in [stdout.as_mut(), stderr.as_mut()].into_iter().flatten() {
        sink.flush()
            .await
            .map_err(|e| AttachError::stream("writing container output", e))?;
    }
    Ok(())
}

/// conmon (2.1.6) applies only the first of two resize lines it reads at once:
/// after each resize, give it this long to read the line before the next.
const RESIZE_GAP: std::time::Duration = std::time::Duration::from_millis(20);

/// Forwards resize events until the sender goes away, then waits forever:
/// it never ends an attach by itself.
async fn forward_resizes(ctl_path: Option<&Path>, resizes: Option<mpsc::Receiver<WindowSize>>) -> Infallible {
    if let (Some(ctl), Some(mut resizes)) = (ctl_path, resizes) {
        // The initial size may just have been written.
        tokio::time::sleep(RESIZE_GAP).await;
        while let Some(mut size) = resizes.recv().await {
            // Only the newest size matters.
            while let Ok(newer) = resizes.try_recv() {
                size = newer;
            }
            if let Err(e) = resize_terminal(ctl, size) {
                tracing::warn!("failed to resize the container terminal: {e}");
            }
            tokio::time::sleep(RESIZE_GAP).await;
        }
    }
    std::future::pending().await
}
