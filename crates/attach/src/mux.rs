//! The multiplexed stream format of the Docker/podman HTTP API, used for
//! attach and exec without a terminal: each frame is an 8-byte header
//! (stream id, three zero bytes, big-endian u32 payload length) and the
//! payload.
//!
//! [`FrameDecoder`] is the sans-IO core that any reader can feed in chunks of
//! any size; [`demux`] and [`demux_async`] split a whole stream into stdout
//! and stderr writers; [`MuxWriter`] and [`AsyncMuxWriter`] produce frames.

use std::io::{self, Read, Write};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::error::AttachError;

/// Length of a frame header.
pub const HEADER_LEN: usize = 8;

/// Which stream a frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum StreamType {
    Stdin = 0,
    Stdout = 1,
    Stderr = 2,
}

impl StreamType {
    pub fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            0 => Some(StreamType::Stdin),
            1 => Some(StreamType::Stdout),
            2 => Some(StreamType::Stderr),
            _ => None,
        }
    }
}

/// The header of a frame carrying `len` bytes of `stream`.
pub fn encode_header(stream: StreamType, len: u32) -> [u8; HEADER_LEN] {
    let [a, b, c, d] = len.to_be_bytes();
    [stream as u8, 0, 0, 0, a, b, c, d]
}

/// Parses a frame header: the stream and the payload length.
pub fn decode_header(header: &[u8; HEADER_LEN]) -> Result<(StreamType, u32), AttachError> {
    let stream = StreamType::from_byte(header[0])
        .ok_or_else(|| AttachError::InvalidFrame(format!("unknown stream id {}", header[0])))?;
    let len = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
    Ok((stream, len))
}

/// Part of a frame's payload, as [`FrameDecoder::decode`] finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece<'a> {
    pub stream: StreamType,
    /// Payload bytes; a frame's payload may arrive in several pieces.
    pub data: &'a [u8],
    /// Whether this piece ends its frame.
    pub frame_end: bool,
}

/// Decodes a multiplexed stream fed in chunks of any size.
#[derive(Debug, Clone, Default)]
pub struct FrameDecoder {
    header: [u8; HEADER_LEN],
    header_len: usize,
    /// The stream and the payload bytes still due for the current frame.
    current: Option<(StreamType, usize)>,
}

impl FrameDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Consumes a prefix of `input` and returns how many bytes it took and
    /// the payload piece found, if any. Call again with the rest of the
    /// input until it is used up; a zero-length frame comes out as an empty
    /// piece with `frame_end` set.
    pub fn decode<'a>(&mut self, input: &'a [u8]) -> Result<(usize, Option<Piece<'a>>), AttachError> {
        if let Some((stream, due)) = self.current {
            let take = due.min(input.len());
            let left = due - take;
            self.current = if left == 0 { None } else { Some((stream, left)) };
            let piece = Piece {
                stream,
                data: &input[..take],
                frame_end: left == 0,
            };
            return Ok((take, Some(piece)));
        }
        let take = (HEADER_LEN - self.header_len).min(input.len());
        self.header[self.header_len..self.header_len + take].copy_from_slice(&input[..take]);
        self.header_len += take;
        if self.header_len < HEADER_LEN {
            return Ok((take, None));
        }
        self.header_len = 0;
        let (stream, len) = decode_header(&self.header)?;
        let len = usize::try_from(len).map_err(|_| AttachError::InvalidFrame(format!("frame of {len} bytes")))?;
        if len == 0 {
            let piece = Piece {
                stream,
                data: &[],
                frame_end: true,
            };
            return Ok((take, Some(piece)));
        }
        self.current = Some((stream, len));
        Ok((take, None))
    }

    /// Whether the input so far ended on a frame boundary.
    pub fn is_at_boundary(&self) -> bool {
        self.header_len == 0 && self.current.is_none()
    }

    /// Errors when the stream ended inside a frame.
    pub fn finish(&self) -> Result<(), AttachError> {
        if self.is_at_boundary() {
            Ok(())
        } else {
            Err(AttachError::InvalidFrame("stream ended inside a frame".into()))
        }
    }
}

/// Bytes each demux call wrote to stdout and stderr.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DemuxCounts {
    pub stdout: u64,
    pub stderr: u64,
}

impl DemuxCounts {
    fn add(&mut self, stream: StreamType, n: usize) {
        match stream {
            StreamType::Stderr => self.stderr += n as u64,
            StreamType::Stdin | StreamType::Stdout => self.stdout += n as u64,
        }
    }
}

const READ_BUF_LEN: usize = 32 * 1024;

/// Reads a multiplexed stream to its end, writing stdout payloads to
/// `stdout` and stderr payloads to `stderr`. Stdin frames, which a server
/// should not send, go to `stdout` as Docker's own demultiplexer does.
pub fn demux<R: Read, O: Write, E: Write>(
    mut reader: R,
    mut stdout: O,
    mut stderr: E,
) -> Result<DemuxCounts, AttachError> {
    let mut decoder = FrameDecoder::new();
    let mut counts = DemuxCounts::default();
    let mut buf = vec![0u8; READ_BUF_LEN];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(AttachError::stream("reading multiplexed stream", e)),
        };
        let mut rest = &buf[..n];
        while !rest.is_empty() {
            let (used, piece) = decoder.decode(rest)?;
            rest = &rest[used..];
            let Some(piece) = piece else { continue };
            let sink: &mut dyn Write = match piece.stream {
                StreamType::Stderr => &mut stderr,
                StreamType::Stdin | StreamType::Stdout => &mut stdout,
            };
            sink.write_all(piece.data)
                .map_err(|e| AttachError::stream("writing demultiplexed output", e))?;
            counts.add(piece.stream, piece.data.len());
        }
    }
    stdout.flush().map_err(|e| AttachError::stream("flushing stdout", e))?;
    stderr.flush().map_err(|e| AttachError::stream("flushing stderr", e))?;
    decoder.finish()?;
    Ok(counts)
}

/// [`demux`] for tokio readers and writers.
pub async fn demux_async<R, O, E>(reader: &mut R, stdout: &mut O, stderr: &mut E) -> Result<DemuxCounts, AttachError>
where
    R: AsyncRead + Unpin + ?Sized,
    O: AsyncWrite + Unpin + ?Sized,
    E: AsyncWrite + Unpin + ?Sized,
{
    let mut decoder = FrameDecoder::new();
    let mut counts = DemuxCounts::default();
    let mut buf = vec![0u8; READ_BUF_LEN];
    loop {
        let n = reader
            .read(&mut buf)
            .await
            .map_err(|e| AttachError::stream("reading multiplexed stream", e))?;
        if n == 0 {
            break;
        }
        let mut rest = &buf[..n];
        while !rest.is_empty() {
            let (used, piece) = decoder.decode(rest)?;
            rest = &rest[used..];
            let Some(piece) = piece else { continue };
            let written = match piece.stream {
                StreamType::Stderr => stderr.write_all(piece.data).await,
                StreamType::Stdin | StreamType::Stdout => stdout.write_all(piece.data).await,
            };
            written.map_err(|e| AttachError::stream("writing demultiplexed output", e))?;
            counts.add(piece.stream, piece.data.len());
        }
    }
    stdout
        .flush()
        .await
        .map_err(|e| AttachError::stream("flushing stdout", e))?;
    stderr
        .flush()
        .await
        .map_err(|e| AttachError::stream("flushing stderr", e))?;
    decoder.finish()?;
    Ok(counts)
}

/// Splits a payload into pieces whose length fits a header; an empty
/// payload is one empty piece.
fn frame_chunks(payload: &[u8]) -> impl Iterator<Item = (&[u8], u32)> {
    const MAX: usize = u32::MAX as usize;
    let count = payload.len().div_ceil(MAX).max(1);
    (0..count).map(move |i| {
        let chunk = &payload[i * MAX..payload.len().min((i + 1) * MAX)];
        // At most u32::MAX bytes by construction: the cast is exact.
        (chunk, chunk.len() as u32)
    })
}

/// Writes frames to a byte stream.
#[derive(Debug)]
pub struct MuxWriter<W> {
    inner: W,
}

impl<W: Write> MuxWriter<W> {
    pub fn new(inner: W) -> Self {
        Self { inner }
    }

    /// Writes `payload` as one frame of `stream` (several if it exceeds
    /// 4 GiB). An empty payload gives an empty frame.
    pub fn write_frame(&mut self, stream: StreamType, payload: &[u8]) -> io::Result<()> {
        for (chunk, len) in frame_chunks(payload) {
            self.inner.write_all(&encode_header(stream, len))?;
            self.inner.write_all(chunk)?;
        }
        Ok(())
    }

    /// A writer whose every write becomes a frame of `stream`.
    pub fn stream(&mut self, stream: StreamType) -> FrameWriter<'_, W> {
        FrameWriter { mux: self, stream }
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }

    pub fn into_inner(self) -> W {
        self.inner
    }
}

/// One stream of a [`MuxWriter`], as an [`io::Write`].
#[derive(Debug)]
pub struct FrameWriter<'a, W> {
    mux: &'a mut MuxWriter<W>,
    stream: StreamType,
}

impl<W: Write> Write for FrameWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.mux.write_frame(self.stream, buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.mux.flush()
    }
}

/// Writes frames to a tokio byte stream.
#[derive(Debug)]
pub struct AsyncMuxWriter<W> {
    inner: W,
}

impl<W: AsyncWrite + Unpin> AsyncMuxWriter<W> {
    pub fn new(inner: W) -> Self {
        Self { inner }
    }

    /// Writes `payload` as one frame of `stream` (see [`MuxWriter::write_frame`]).
    pub async fn write_frame(&mut self, stream: StreamType, payload: &[u8]) -> io::Result<()> {
        for (chunk, len) in frame_chunks(payload) {
            self.inner.write_all(&encode_header(stream, len)).await?;
            self.inner.write_all(chunk).await?;
        }
        Ok(())
    }

    pub async fn flush(&mut self) -> io::Result<()> {
        self.inner.flush().await
    }

    /// Flushes and shuts the underlying stream down.
    pub async fn shutdown(&mut self) -> io::Result<()> {
        self.inner.shutdown().await
    }

    pub fn into_inner(self) -> W {
        self.inner
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn header_layout() {
        assert_eq!(encode_header(StreamType::Stderr, 0x0102_0304), [2, 0, 0, 0, 1, 2, 3, 4]);
        assert_eq!(
            decode_header(&[1, 0, 0, 0, 0, 0, 1, 0]).unwrap(),
            (StreamType::Stdout, 256)
        );
        assert!(matches!(
            decode_header(&[7, 0, 0, 0, 0, 0, 0, 1]),
            Err(AttachError::InvalidFrame(_))
        ));
    }

    #[test]
    fn frame_writer_frames_each_write() {
        let mut mux = MuxWriter::new(Vec::new());
        mux.stream(StreamType::Stdout).write_all(b"hi").unwrap();
        write!(mux.stream(StreamType::Stderr), "x").unwrap();
        assert_eq!(mux.into_inner(), b"\x01\0\0\0\0\0\0\x02hi\x02\0\0\0\0\0\0\x01x");
    }

    #[test]
    fn truncated_stream_is_an_error() {
        let mut bytes = MuxWriter::new(Vec::new());
        bytes.write_frame(StreamType::Stdout, b"hello").unwrap();
        let bytes = bytes.into_inner();
        let err = demux(&bytes[..bytes.len() - 1], Vec::new(), Vec::new()).unwrap_err();
        assert!(matches!(err, AttachError::InvalidFrame(_)));
        let err = demux(&bytes[..3], Vec::new(), Vec::new()).unwrap_err();
        assert!(matches!(err, AttachError::InvalidFrame(_)));
    }

    /// Hands out the data in the given chunk sizes, then EOF.
    struct ChunkedReader {
        data: Vec<u8>,
        pos: usize,
        sizes: Vec<usize>,
        next: usize,
    }

    impl Read for ChunkedReader {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let size = self.sizes.get(self.next).copied().unwrap_or(usize::MAX).max(1);
            self.next += 1;
            let n = size.min(buf.len()).min(self.data.len() - self.pos);
            buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    fn stream_strategy() -> impl Strategy<Value = StreamType> {
        prop_oneof![
            Just(StreamType::Stdin),
            Just(StreamType::Stdout),
            Just(StreamType::Stderr)
        ]
    }

    fn frames_strategy() -> impl Strategy<Value = Vec<(StreamType, Vec<u8>)>> {
        proptest::collection::vec(
            (stream_strategy(), proptest::collection::vec(any::<u8>(), 0..300)),
            0..12,
        )
    }

    proptest! {
        /// Frames written by MuxWriter come back out of the decoder
        /// unchanged, whatever the chunk boundaries of the input.
        #[test]
        fn decoder_round_trip(frames in frames_strategy(), sizes in proptest::collection::vec(1usize..40, 1..200)) {
            let mut mux = MuxWriter::new(Vec::new());
            for (stream, payload) in &frames {
                mux.write_frame(*stream, payload).unwrap();
            }
            let bytes = mux.into_inner();

            let mut decoder = FrameDecoder::new();
            let mut decoded: Vec<(StreamType, Vec<u8>)> = Vec::new();
            let mut open: Option<(StreamType, Vec<u8>)> = None;
            let mut pos = 0;
            let mut sizes = sizes.into_iter().cycle();
            while pos < bytes.len() {
                let end = (pos + sizes.next().unwrap()).min(bytes.len());
                let mut rest = &bytes[pos..end];
                while !rest.is_empty() {
                    let (used, piece) = decoder.decode(rest).unwrap();
                    prop_assert!(used > 0);
                    rest = &rest[used..];
                    if let Some(piece) = piece {
                        let entry = open.get_or_insert_with(|| (piece.stream, Vec::new()));
                        prop_assert_eq!(entry.0, piece.stream);
                        entry.1.extend_from_slice(piece.data);
                        if piece.frame_end {
                            decoded.extend(open.take());
                        }
                    }
                }
                pos = end;
            }
            prop_assert!(decoder.is_at_boundary());
            prop_assert!(open.is_none());
            prop_assert_eq!(decoded, frames);
        }

        /// demux over a reader with short reads splits stdout from stderr.
        #[test]
        fn demux_splits_streams(frames in frames_strategy(), sizes in proptest::collection::vec(1usize..50, 0..100)) {
            let mut mux = MuxWriter::new(Vec::new());
            for (stream, payload) in &frames {
                mux.write_frame(*stream, payload).unwrap();
            }
            let reader = ChunkedReader { data: mux.into_inner(), pos: 0, sizes, next: 0 };
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let counts = demux(reader, &mut out, &mut err).unwrap();
            let want_out: Vec<u8> = frames.iter().filter(|f| f.0 != StreamType::Stderr).flat_map(|f| f.1.clone()).collect();
            let want_err: Vec<u8> = frames.iter().filter(|f| f.0 == StreamType::Stderr).flat_map(|f| f.1.clone()).collect();
            prop_assert_eq!(counts, DemuxCounts { stdout: want_out.len() as u64, stderr: want_err.len() as u64 });
            prop_assert_eq!(out, want_out);
            prop_assert_eq!(err, want_err);
        }
    }

    #[tokio::test]
    async fn async_writer_and_demux_round_trip() {
        let (client, server) = tokio::io::duplex(7);
        let writer = tokio::spawn(async move {
            let mut mux = AsyncMuxWriter::new(client);
            for i in 0..50u8 {
                let stream = if i % 3 == 0 {
                    StreamType::Stderr
                } else {
                    StreamType::Stdout
                };
                mux.write_frame(stream, &[i; 17]).await.unwrap();
            }
            mux.shutdown().await.unwrap();
        });
        let mut server = server;
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let counts = demux_async(&mut server, &mut out, &mut err).await.unwrap();
        writer.await.unwrap();
        assert_eq!(counts.stderr, 17 * 17);
        assert_eq!(counts.stdout, 33 * 17);
        assert_eq!(&err[..17], &[0u8; 17]);
        assert_eq!(&out[..17], &[1u8; 17]);
    }
}
