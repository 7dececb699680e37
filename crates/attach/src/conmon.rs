//! conmon's side of attaching: the `attach` socket and the `ctl` FIFO it
//! creates for every container and exec session.
//!
//! The attach socket is a `SOCK_SEQPACKET` unix socket. Every packet conmon
//! sends is one read of the container's output: a first byte naming the
//! pipe ([`AttachPipe::Stdout`] = 2, [`AttachPipe::Stderr`] = 3; with a
//! terminal everything is stdout) and up to [`STDIO_BUF_SIZE`] bytes of
//! data. What the client sends is raw stdin, one packet per write; a
//! half-close of the write side makes conmon close the container's stdin.
//!
//! Both live in the directory given to conmon as `--bundle` (the exec
//! session's directory for an exec) when conmon runs with `--full-attach`;
//! without it conmon puts the socket under `--socket-dir-path/<cuuid>/`.
//! Either way [`AttachSocket::connect`] takes the full path, of any length.
//!
//! The `ctl` FIFO takes lines of three integers, `<type> <height> <width>`:
//! type 1 resizes the terminal, type 2 makes conmon reopen its log files.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use rustix::net::{AddressFamily, RecvFlags, SendFlags, Shutdown, SocketAddrUnix, SocketFlags, SocketType};
use tokio::io::AsyncWrite;
use tokio::io::unix::AsyncFd;

use crate::error::AttachError;
use crate::terminal::WindowSize;

/// Name of the attach socket in the bundle (or exec session) directory.
pub const ATTACH_SOCKET_NAME: &str = "attach";
/// Name of the control FIFO in the bundle (or exec session) directory.
pub const CTL_FIFO_NAME: &str = "ctl";
/// Most output bytes conmon puts in one packet (its `STDIO_BUF_SIZE`).
pub const STDIO_BUF_SIZE: usize = 8192;
/// Largest stdin packet sent: conmon reads at most 32767 bytes of a packet
/// and the kernel drops the rest, so stay well under that.
pub const STDIN_PACKET_LIMIT: usize = 8192;
/// Receive buffer: a whole output packet with room to spare, so a packet is
/// never truncated.
const RECV_BUF_LEN: usize = 32 * 1024;

/// The pipe an attach-socket packet belongs to (conmon's `stdpipe_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum AttachPipe {
    Stdin = 1,
    Stdout = 2,
    Stderr = 3,
}

impl AttachPipe {
    pub fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            1 => Some(AttachPipe::Stdin),
            2 => Some(AttachPipe::Stdout),
            3 => Some(AttachPipe::Stderr),
            _ => None,
        }
    }
}

/// Splits an output packet into its pipe and its data.
pub fn parse_output_packet(packet: &[u8]) -> Result<(AttachPipe, &[u8]), AttachError> {
    let (&first, data) = packet
        .split_first()
        .ok_or_else(|| AttachError::InvalidFrame("empty attach packet".into()))?;
    let pipe = AttachPipe::from_byte(first).ok_or(AttachError::UnexpectedAttachType(first))?;
    Ok((pipe, data))
}

/// A connection to conmon's attach socket, for use inside a tokio runtime.
#[derive(Debug)]
pub struct AttachSocket {
    fd: AsyncFd<OwnedFd>,
    path: PathBuf,
}

impl AttachSocket {
    /// Connects to the attach socket at `path`, however long the path: the
    /// socket is reached through `/proc/self/fd/<n>` of an `O_PATH` handle,
    /// as podman does, because `sun_path` holds only 108 bytes.
    ///
    /// Must be called within a tokio runtime. The connect itself does not
    /// wait unless conmon's listen backlog is full.
    pub fn connect(path: &Path) -> Result<Self, AttachError> {
        let connect_err = |e: Errno| AttachError::Connect {
            path: path.to_path_buf(),
            source: e.into(),
        };
        let target = rustix::fs::open(path, OFlags::PATH | OFlags::CLOEXEC, Mode::empty()).map_err(connect_err)?;
        let addr = SocketAddrUnix::new(format!("/proc/self/fd/{}", target.as_raw_fd())).map_err(connect_err)?;
        let socket = rustix::net::socket_with(AddressFamily::UNIX, SocketType::SEQPACKET, SocketFlags::CLOEXEC, None)
            .map_err(connect_err)?;
        rustix::net::connect(&socket, &addr).map_err(connect_err)?;
        rustix::io::ioctl_fionbio(&socket, true).map_err(connect_err)?;
        // Registering panics outside a runtime: report that as an error.
        tokio::runtime::Handle::try_current().map_err(|e| AttachError::Connect {
            path: path.to_path_buf(),
            source: io::Error::other(e),
        })?;
        // SAFETY: registers the fd with the reactor (epoll_ctl); the OwnedFd
        // moves into the AsyncFd, so it stays open and the same for its life.
        let fd = unsafe { AsyncFd::register(socket) }.map_err(|e| AttachError::Connect {
            path: path.to_path_buf(),
            source: io::Error::from(e),
        })?;
        Ok(Self {
            fd,
            path: path.to_path_buf(),
        })
    }

    /// The path this socket was connected to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Receives one packet into `buf`; 0 means conmon closed its side.
    ///
    /// When conmon closes with stdin unread, the kernel reports
    /// ECONNRESET once, ahead of the output packets still queued here;
    /// those are read before the end is reported (podman stops at the
    /// reset and loses them).
    pub async fn recv_packet(&self, buf: &mut [u8]) -> io::Result<usize> {
        let mut reset_seen = false;
        loop {
            let mut guard = self.fd.readable().await?;
            let received = guard.try_io(|fd| {
                rustix::net::recv(fd.get_ref(), &mut *buf, RecvFlags::empty())
                    .map(|(n, _)| n)
                    .map_err(io::Error::from)
            });
            match received {
                Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionReset => {
                    if reset_seen {
                        return Ok(0);
                    }
                    reset_seen = true;
                }
                Ok(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
                Ok(result) => return result,
                Err(_would_block) => continue,
            }
        }
    }

    /// Receives the next output packet: `None` when the output has ended.
    pub async fn recv_output(&self) -> Result<Option<OutputPacket>, AttachError> {
        let mut buf = vec![0u8; RECV_BUF_LEN];
        let n = self.recv_output_into(&mut buf).await?;
        if n == 0 {
            return Ok(None);
        }
        let (pipe, _) = parse_output_packet(&buf[..n])?;
        buf.truncate(n);
        Ok(Some(OutputPacket { pipe, packet: buf }))
    }

    /// Receives the next output packet into `buf` (resized to hold any
    /// packet) and returns its length, 0 when the output has ended; split
    /// it with [`parse_output_packet`]. Reuses the caller's buffer.
    pub async fn recv_output_into(&self, buf: &mut Vec<u8>) -> Result<usize, AttachError> {
        buf.resize(RECV_BUF_LEN, 0);
        self.recv_packet(buf)
            .await
            .map_err(|e| AttachError::stream("reading from the attach socket", e))
    }

    /// Sends stdin bytes, split into packets of at most
    /// [`STDIN_PACKET_LIMIT`] bytes.
    pub async fn send_stdin(&self, data: &[u8]) -> io::Result<()> {
        tokio::io::AsyncWriteExt::write_all(&mut self.stdin_writer(), data).await
    }

    /// Closes the sending side: conmon sees end of input and closes the
    /// container's stdin (unless it was told to leave it open).
    pub fn shutdown_write(&self) -> Result<(), AttachError> {
        rustix::net::shutdown(self.fd.get_ref(), Shutdown::Write)
            .map_err(|e| AttachError::stream("closing stdin on the attach socket", e.into()))
    }

    /// The sending side as an [`AsyncWrite`]: each write is one packet of at
    /// most [`STDIN_PACKET_LIMIT`] bytes; shutting it down half-closes the
    /// socket.
    pub fn stdin_writer(&self) -> StdinWriter<'_> {
        StdinWriter { socket: self }
    }
}

/// One output packet from conmon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputPacket {
    pipe: AttachPipe,
    packet: Vec<u8>,
}

impl OutputPacket {
    pub fn pipe(&self) -> AttachPipe {
        self.pipe
    }

    /// The output bytes, without the pipe byte.
    pub fn data(&self) -> &[u8] {
        &self.packet[1..]
    }
}

/// See [`AttachSocket::stdin_writer`].
#[derive(Debug)]
pub struct StdinWriter<'a> {
    socket: &'a AttachSocket,
}

impl AsyncWrite for StdinWriter<'_> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        // An empty packet would read as end of input to conmon.
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let packet = &buf[..buf.len().min(STDIN_PACKET_LIMIT)];
        loop {
            let mut guard = ready!(self.socket.fd.poll_write_ready(cx))?;
            let sent = guard
                .try_io(|fd| rustix::net::send(fd.get_ref(), packet, SendFlags::NOSIGNAL).map_err(io::Error::from));
            match sent {
                Ok(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
                Ok(result) => return Poll::Ready(result),
                Err(_would_block) => continue,
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(rustix::net::shutdown(self.socket.fd.get_ref(), Shutdown::Write).map_err(io::Error::from))
    }
}

/// conmon's control message types.
const CTL_RESIZE: u8 = 1;
const CTL_REOPEN_LOGS: u8 = 2;

/// Asks conmon, through the `ctl` FIFO at `ctl_path`, to resize the
/// container's terminal. conmon ignores sizes above 1000 in either
/// direction.
pub fn resize_terminal(ctl_path: &Path, size: WindowSize) -> Result<(), AttachError> {
    write_ctl(ctl_path, &format!("{CTL_RESIZE} {} {}\n", size.rows, size.cols))
}

/// Asks conmon, through the `ctl` FIFO at `ctl_path`, to reopen its log
/// files (after they were rotated).
pub fn reopen_logs(ctl_path: &Path) -> Result<(), AttachError> {
    write_ctl(ctl_path, &format!("{CTL_REOPEN_LOGS} 0 0\n"))
}

fn write_ctl(path: &Path, message: &str) -> Result<(), AttachError> {
    // Non-blocking open: with no reader (conmon gone) it fails at once
    // instead of waiting forever.
    let fd = rustix::fs::open(path, OFlags::WRONLY | OFlags::NONBLOCK | OFlags::CLOEXEC, Mode::empty()).map_err(
        |e| match e {
            Errno::NXIO => AttachError::ControlNotRead {
                path: path.to_path_buf(),
            },
            e => AttachError::Control {
                path: path.to_path_buf(),
                source: e.into(),
            },
        },
    )?;
    // Messages are far below PIPE_BUF, so the write is atomic.
    File::from(fd)
        .write_all(message.as_bytes())
        .map_err(|source| AttachError::Control {
            path: path.to_path_buf(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_packets() {
        assert_eq!(
            parse_output_packet(b"\x02out").unwrap(),
            (AttachPipe::Stdout, &b"out"[..])
        );
        assert_eq!(parse_output_packet(b"\x03").unwrap(), (AttachPipe::Stderr, &b""[..]));
        assert!(matches!(
            parse_output_packet(b"\x09x"),
            Err(AttachError::UnexpectedAttachType(9))
        ));
        assert!(parse_output_packet(b"").is_err());
    }

    #[test]
    fn ctl_without_reader_is_conmon_dead() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CTL_FIFO_NAME);
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &path,
            rustix::fs::FileType::Fifo,
            Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        let err = resize_terminal(&path, WindowSize { rows: 1, cols: 2 }).unwrap_err();
        assert!(matches!(err, AttachError::ControlNotRead { .. }), "{err}");

        let missing = dir.path().join("missing");
        let err = reopen_logs(&missing).unwrap_err();
        assert!(matches!(err, AttachError::Control { .. }), "{err}");
        assert!(err.to_string().contains("missing"));
    }
}
