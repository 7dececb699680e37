//! corral's exec/attach stream plumbing: everything between a user's
//! terminal (or an HTTP client) and conmon's attach socket.
//!
//! - [`conmon`]: the `attach` socket ([`AttachSocket`], packets whose first
//!   byte names the pipe) and the `ctl` FIFO ([`resize_terminal`],
//!   [`reopen_logs`]).
//! - [`detach`]: podman's detach-key syntax ([`DetachKeys`]) and the stdin
//!   filter that watches for it ([`DetachFilter`], [`copy_detachable`]).
//! - [`terminal`]: raw mode with restore on drop ([`RawTerminal`]), window
//!   size, SIGWINCH-driven resize events ([`watch_resizes`]).
//! - [`mux`]: the HTTP API's multiplexed stream format (8-byte header:
//!   stream id, three zeros, big-endian length) for non-tty attach and
//!   exec, sync and tokio.
//! - [`attach()`]: the async function that ties these together.
//!
//! Attaching a CLI to a container, as `corral attach` would:
//!
//! ```no_run
//! # async fn run(bundle: &std::path::Path) -> Result<(), corral_attach::AttachError> {
//! use corral_attach::{attach, AttachEnd, AttachOptions, AttachStreams, DetachKeys, RawTerminal};
//!
//! let stdin = std::io::stdin();
//! let _raw = RawTerminal::enable(&stdin)?; // restored when dropped
//! let options = AttachOptions {
//!     detach_keys: DetachKeys::parse("ctrl-p,ctrl-q")?,
//!     tty: true,
//!     ctl_path: Some(bundle.join("ctl")),
//!     resizes: Some(corral_attach::watch_resizes(&stdin)?),
//!     ..AttachOptions::default()
//! };
//! let streams = AttachStreams::new().stdin(tokio::io::stdin()).stdout(tokio::io::stdout());
//! match attach(&bundle.join("attach"), streams, options).await? {
//!     AttachEnd::Detached => { /* podman prints nothing and exits 0 */ }
//!     AttachEnd::OutputEnded | AttachEnd::StdinClosed => { /* read the exit code */ }
//! }
//! # Ok(()) }
//! ```
//!
//! The multiplexed format works alone, e.g. to write a REST response body
//! and split it again on the client:
//!
//! ```
//! use corral_attach::mux::{demux, MuxWriter, StreamType};
//! use std::io::Write;
//!
//! let mut body = MuxWriter::new(Vec::new());
//! body.write_frame(StreamType::Stdout, b"hello\n").unwrap();
//! writeln!(body.stream(StreamType::Stderr), "oops").unwrap();
//! let body = body.into_inner();
//! assert_eq!(&body[..8], &[1, 0, 0, 0, 0, 0, 0, 6]);
//!
//! let (mut out, mut err) = (Vec::new(), Vec::new());
//! let counts = demux(&body[..], &mut out, &mut err).unwrap();
//! assert_eq!((out.as_slice(), err.as_slice()), (&b"hello\n"[..], &b"oops\n"[..]));
//! assert_eq!((counts.stdout, counts.stderr), (6, 5));
//! ```
//!
//! Errors are one enum, [`AttachError`], which implements
//! [`corral_define::HasKind`]; detaching maps to
//! [`corral_define::ErrorKind::Detached`]. Nothing here changes namespaces
//! or thread state, so all of it may run on tokio workers.

mod attach;
pub mod conmon;
pub mod detach;
mod error;
pub mod mux;
pub mod terminal;

pub use attach::{AttachEnd, AttachOptions, AttachStreams, InputStream, OutputStream, attach, attach_connected};
pub use conmon::{AttachPipe, AttachSocket, OutputPacket, parse_output_packet, reopen_logs, resize_terminal};
pub use detach::{DEFAULT_DETACH_KEYS, DetachFilter, DetachKeys, FilterStatus, copy_detachable};
pub use error::AttachError;
pub use terminal::{RawTerminal, WindowSize, is_terminal, watch_resizes, window_size};
