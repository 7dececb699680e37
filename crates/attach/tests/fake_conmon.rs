//! `attach` against a fake conmon: a SOCK_SEQPACKET listener bound the way
//! conmon binds it, sending output packets and echoing stdin back.

#![allow(clippy::unwrap_used, clippy::expect_used)] // helpers outside #[test] fns are test code too

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::mpsc as std_mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use corral_attach::conmon::{ATTACH_SOCKET_NAME, CTL_FIFO_NAME};
use corral_attach::{
    AttachEnd, AttachError, AttachOptions, AttachPipe, AttachSocket, AttachStreams, DetachKeys, WindowSize, attach,
};
use rustix::fs::{Mode, OFlags};
use rustix::net::{AddressFamily, RecvFlags, SendFlags, SocketAddrUnix, SocketFlags, SocketType};
use tokio::io::AsyncWriteExt;

/// What the fake conmon does once a client connects.
#[derive(Clone, Copy)]
enum Script {
    /// Send "out" on stdout and "err" on stderr, echo every stdin packet
    /// back on stdout, and at end of stdin send "bye" and close.
    Echo,
    /// Send "out" and close at once.
    OutputOnly,
    /// Send a packet with an unknown pipe byte.
    BadPipe,
    /// Wait for stdin to arrive, leave it unread, send "a" and "b", close.
    CloseWithStdinUnread,
}

/// A fake conmon listening in `dir`; the thread reports the stdin it got.
struct FakeConmon {
    socket_path: PathBuf,
    thread: Option<JoinHandle<Vec<u8>>>,
}

impl FakeConmon {
    fn start(dir: &Path, script: Script) -> Self {
        let socket_path = dir.join(ATTACH_SOCKET_NAME);
        // Bind through /proc/self/fd like conmon, so the path may be long.
        let dir_fd = rustix::fs::open(dir, OFlags::PATH | OFlags::CLOEXEC, Mode::empty()).unwrap();
        let addr = SocketAddrUnix::new(format!("/proc/self/fd/{}/{ATTACH_SOCKET_NAME}", dir_fd.as_raw_fd())).unwrap();
        let listener =
            rustix::net::socket_with(AddressFamily::UNIX, SocketType::SEQPACKET, SocketFlags::CLOEXEC, None).unwrap();
        rustix::net::bind(&listener, &addr).unwrap();
        rustix::net::listen(&listener, 10).unwrap();
        let thread = std::thread::spawn(move || serve(listener, script));
        Self {
            socket_path,
            thread: Some(thread),
        }
    }

    fn stdin_received(mut self) -> Vec<u8> {
        self.thread.take().unwrap().join().unwrap()
    }
}

/// Sends a packet; like conmon, a client that went away is not an error.
fn send(fd: &OwnedFd, packet: &[u8]) {
    let _ = rustix::net::send(fd, packet, SendFlags::NOSIGNAL);
}

fn serve(listener: OwnedFd, script: Script) -> Vec<u8> {
    let conn = rustix::net::accept_with(&listener, SocketFlags::CLOEXEC).unwrap();
    let mut received = Vec::new();
    match script {
        Script::Echo => {
            send(&conn, b"\x02out");
            send(&conn, b"\x03err");
            let mut buf = vec![0u8; 32768];
            let mut errors = 0;
            loop {
                // Like conmon, read on after an error: a client that closes
                // with output unread makes the first recv report ECONNRESET
                // ahead of the stdin still queued.
                let n = match rustix::net::recv(&conn, &mut buf[..], RecvFlags::empty()) {
                    Ok((n, _)) => n,
                    Err(_) if errors < 3 => {
                        errors += 1;
                        continue;
                    }
                    Err(_) => 0,
                };
                if n == 0 {
                    break;
                }
                assert!(n <= 8192, "stdin packet of {n} bytes");
                received.extend_from_slice(&buf[..n]);
                let mut echo = vec![2u8];
                echo.extend_from_slice(&buf[..n]);
                send(&conn, &echo);
            }
            send(&conn, b"\x02bye");
        }
        Script::OutputOnly => send(&conn, b"\x02out"),
        Script::CloseWithStdinUnread => {
            let mut buf = [0u8; 16];
            rustix::net::recv(&conn, &mut buf[..], RecvFlags::PEEK).unwrap();
            send(&conn, b"\x02a");
            send(&conn, b"\x02b");
        }
        Script::BadPipe => {
            send(&conn, b"\x07what");
            // Hold the connection until the client gives up on it.
            let mut buf = [0u8; 16];
            while rustix::net::recv(&conn, &mut buf[..], RecvFlags::empty()).is_ok_and(|(n, _)| n > 0) {}
        }
    }
    received
}

fn deep_dir(root: &Path) -> PathBuf {
    let dir = root.join("a".repeat(60)).join("b".repeat(60));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn with_timeout<T>(fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), fut)
        .await
        .expect("attach hung")
}

#[tokio::test]
async fn splits_output_echoes_stdin_and_half_closes_at_eof() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = deep_dir(tmp.path());
    let conmon = FakeConmon::start(&dir, Script::Echo);
    assert!(
        conmon.socket_path.as_os_str().len() > 108,
        "the path must not fit sun_path"
    );

    // Printable bytes only: the default detach keys must not occur.
    let big: Vec<u8> = (0..20_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let mut input = b"hello ".to_vec();
    input.extend_from_slice(&big);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let streams = AttachStreams::new().stdin(&input[..]).stdout(&mut out).stderr(&mut err);
    let end = with_timeout(attach(&conmon.socket_path, streams, AttachOptions::default()))
        .await
        .unwrap();

    assert_eq!(end, AttachEnd::OutputEnded);
    let mut expected_out = b"out".to_vec();
    expected_out.extend_from_slice(&input);
    expected_out.extend_from_slice(b"bye");
    assert_eq!(out, expected_out);
    assert_eq!(err, b"err");
    assert_eq!(conmon.stdin_received(), input);
}

#[tokio::test]
async fn tty_puts_all_output_on_stdout() {
    let tmp = tempfile::tempdir().unwrap();
    let conmon = FakeConmon::start(tmp.path(), Script::Echo);
    let mut out = Vec::new();
    let options = AttachOptions {
        tty: true,
        ..AttachOptions::default()
    };
    let streams = AttachStreams::new().stdin(&b"x"[..]).stdout(&mut out);
    let end = with_timeout(attach(&conmon.socket_path, streams, options))
        .await
        .unwrap();
    assert_eq!(end, AttachEnd::OutputEnded);
    assert_eq!(out, b"outerrxbye");
    assert_eq!(conmon.stdin_received(), b"x");
}

#[tokio::test]
async fn detach_keys_end_the_attach_and_are_not_forwarded() {
    let tmp = tempfile::tempdir().unwrap();
    let conmon = FakeConmon::start(tmp.path(), Script::Echo);
    let mut out = Vec::new();
    // ctrl-p alone, broken by 'a', is forwarded; ctrl-p ctrl-q detaches.
    let input = b"ls\x10a\x10\x11rm -rf /".to_vec();
    let streams = AttachStreams::new().stdin(&input[..]).stdout(&mut out);
    let end = with_timeout(attach(&conmon.socket_path, streams, AttachOptions::default()))
        .await
        .unwrap();
    assert_eq!(end, AttachEnd::Detached);
    assert_eq!(conmon.stdin_received(), b"ls\x10a");
}

#[tokio::test]
async fn custom_and_disabled_detach_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let conmon = FakeConmon::start(tmp.path(), Script::Echo);
    let options = AttachOptions {
        detach_keys: DetachKeys::parse("ctrl-x,q").unwrap(),
        ..AttachOptions::default()
    };
    let streams = AttachStreams::new()
        .stdin(&b"a\x10\x11b\x18q"[..])
        .stdout(tokio::io::sink());
    let end = with_timeout(attach(&conmon.socket_path, streams, options))
        .await
        .unwrap();
    assert_eq!(end, AttachEnd::Detached);
    assert_eq!(conmon.stdin_received(), b"a\x10\x11b");

    let conmon = FakeConmon::start(&deep_dir(tmp.path()), Script::Echo);
    let options = AttachOptions {
        detach_keys: DetachKeys::disabled(),
        ..AttachOptions::default()
    };
    let streams = AttachStreams::new().stdin(&b"\x10\x11"[..]).stdout(tokio::io::sink());
    let end = with_timeout(attach(&conmon.socket_path, streams, options))
        .await
        .unwrap();
    assert_eq!(end, AttachEnd::OutputEnded);
    assert_eq!(conmon.stdin_received(), b"\x10\x11");
}

#[tokio::test]
async fn stdin_only_attach_ends_when_stdin_closes() {
    let tmp = tempfile::tempdir().unwrap();
    let conmon = FakeConmon::start(tmp.path(), Script::Echo);
    let streams = AttachStreams::new().stdin(&b"data"[..]);
    let end = with_timeout(attach(&conmon.socket_path, streams, AttachOptions::default()))
        .await
        .unwrap();
    assert_eq!(end, AttachEnd::StdinClosed);
    assert_eq!(conmon.stdin_received(), b"data");
}

#[tokio::test]
async fn output_end_wins_over_open_stdin() {
    let tmp = tempfile::tempdir().unwrap();
    let conmon = FakeConmon::start(tmp.path(), Script::OutputOnly);
    // A stdin that never ends: the attach must end with the output.
    let (_keep_open, stdin) = tokio::io::duplex(64);
    let mut out = Vec::new();
    let streams = AttachStreams::new().stdin(stdin).stdout(&mut out);
    let end = with_timeout(attach(&conmon.socket_path, streams, AttachOptions::default()))
        .await
        .unwrap();
    assert_eq!(end, AttachEnd::OutputEnded);
    assert_eq!(out, b"out");
    conmon.stdin_received();
}

#[tokio::test]
async fn stdin_typed_later_is_forwarded() {
    let tmp = tempfile::tempdir().unwrap();
    let conmon = FakeConmon::start(tmp.path(), Script::Echo);
    let (mut typing, stdin) = tokio::io::duplex(64);
    let typist = tokio::spawn(async move {
        for chunk in [&b"ec"[..], b"ho\x10", b"!\n", b"\x10"] {
            typing.write_all(chunk).await.unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        typing.write_all(b"\x11").await.unwrap();
        typing
    });
    let mut out = Vec::new();
    let streams = AttachStreams::new().stdin(stdin).stdout(&mut out);
    let end = with_timeout(attach(&conmon.socket_path, streams, AttachOptions::default()))
        .await
        .unwrap();
    assert_eq!(end, AttachEnd::Detached);
    drop(typist.await.unwrap());
    assert_eq!(conmon.stdin_received(), b"echo\x10!\n");
}

#[tokio::test]
async fn unknown_pipe_byte_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let conmon = FakeConmon::start(tmp.path(), Script::BadPipe);
    let streams = AttachStreams::new().stdout(tokio::io::sink());
    let err = with_timeout(attach(&conmon.socket_path, streams, AttachOptions::default()))
        .await
        .unwrap_err();
    assert!(matches!(err, AttachError::UnexpectedAttachType(7)), "{err}");
    conmon.stdin_received();
}

#[tokio::test]
async fn missing_socket_and_no_streams_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join(ATTACH_SOCKET_NAME);
    let err = attach(
        &path,
        AttachStreams::new().stdout(tokio::io::sink()),
        AttachOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, AttachError::Connect { .. }));
    assert!(err.to_string().contains(&*path.to_string_lossy()), "{err}");

    let err = attach(&path, AttachStreams::new(), AttachOptions::default())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "must provide at least one stream to attach to: invalid argument"
    );
}

#[tokio::test]
async fn resizes_are_written_to_the_ctl_fifo() {
    let tmp = tempfile::tempdir().unwrap();
    let ctl = tmp.path().join(CTL_FIFO_NAME);
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &ctl,
        rustix::fs::FileType::Fifo,
        Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    // The reader conmon would hold open; collect what arrives.
    let reader = rustix::fs::open(&ctl, OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC, Mode::empty()).unwrap();
    let conmon = FakeConmon::start(tmp.path(), Script::Echo);

    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let (mut typing, stdin) = tokio::io::duplex(64);
    let (lines_tx, lines_rx) = std_mpsc::channel();
    let options = AttachOptions {
        ctl_path: Some(ctl.clone()),
        initial_size: Some(WindowSize { rows: 24, cols: 80 }),
        resizes: Some(rx),
        ..AttachOptions::default()
    };
    let driver = tokio::spawn(async move {
        tx.send(WindowSize { rows: 50, cols: 132 }).await.unwrap();
        // Wait until both messages are in the FIFO, then end stdin.
        let mut got = Vec::new();
        for _ in 0..200 {
            let mut buf = [0u8; 256];
            if let Ok(n) = rustix::io::read(&reader, &mut buf) {
                got.extend_from_slice(&buf[..n]);
            }
            if got.iter().filter(|&&b| b == b'\n').count() == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        lines_tx.send(got).unwrap();
        typing.shutdown().await.unwrap();
    });
    let streams = AttachStreams::new().stdin(stdin).stdout(tokio::io::sink());
    let end = with_timeout(attach(&conmon.socket_path, streams, options))
        .await
        .unwrap();
    driver.await.unwrap();
    assert_eq!(end, AttachEnd::OutputEnded);
    assert_eq!(lines_rx.recv().unwrap(), b"1 24 80\n1 50 132\n");
    conmon.stdin_received();
}

#[tokio::test]
async fn output_queued_behind_a_reset_is_still_read() {
    let tmp = tempfile::tempdir().unwrap();
    let conmon = FakeConmon::start(tmp.path(), Script::CloseWithStdinUnread);
    let socket = AttachSocket::connect(&conmon.socket_path).unwrap();
    assert_eq!(socket.path(), conmon.socket_path);
    socket.send_stdin(b"x").await.unwrap();
    // Once the fake has closed, our stdin sits unread in its queue.
    assert!(conmon.stdin_received().is_empty());

    let mut got = Vec::new();
    while let Some(packet) = with_timeout(socket.recv_output()).await.unwrap() {
        assert_eq!(packet.pipe(), AttachPipe::Stdout);
        got.extend_from_slice(packet.data());
    }
    assert_eq!(got, b"ab");
}

#[tokio::test]
async fn empty_writes_send_no_packet() {
    use tokio::io::AsyncWriteExt as _;
    let tmp = tempfile::tempdir().unwrap();
    let conmon = FakeConmon::start(tmp.path(), Script::Echo);
    let socket = AttachSocket::connect(&conmon.socket_path).unwrap();
    // A zero-length packet would read as end of input to conmon.
    assert_eq!(socket.stdin_writer().write(b"").await.unwrap(), 0);
    socket.send_stdin(b"x").await.unwrap();
    socket.shutdown_write().unwrap();
    let mut got = Vec::new();
    while let Some(packet) = with_timeout(socket.recv_output()).await.unwrap() {
        got.extend_from_slice(packet.data());
    }
    assert_eq!(got, b"outerrxbye");
    assert_eq!(conmon.stdin_received(), b"x");
}
