//! Detach keys: podman's key-sequence syntax and a stdin filter that watches
//! for the sequence.

use std::fmt;
use std::str::FromStr;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::error::AttachError;

/// podman's default detach sequence.
pub const DEFAULT_DETACH_KEYS: &str = "ctrl-p,ctrl-q";

/// The `ctrl-` names podman accepts, indexed by the byte they stand for
/// (0x00 = `ctrl-@` ... 0x1f = `ctrl-_`).
const CTRL_NAMES: [&str; 32] = [
    "ctrl-@", "ctrl-a", "ctrl-b", "ctrl-c", "ctrl-d", "ctrl-e", "ctrl-f", "ctrl-g", "ctrl-h", "ctrl-i", "ctrl-j",
    "ctrl-k", "ctrl-l", "ctrl-m", "ctrl-n", "ctrl-o", "ctrl-p", "ctrl-q", "ctrl-r", "ctrl-s", "ctrl-t", "ctrl-u",
    "ctrl-v", "ctrl-w", "ctrl-x", "ctrl-y", "ctrl-z", "ctrl-[", "ctrl-\\", "ctrl-]", "ctrl-^", "ctrl-_",
];

/// A parsed detach-key sequence. Empty means detaching is disabled.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DetachKeys {
    bytes: Vec<u8>,
}

impl DetachKeys {
    /// Parses podman's syntax: comma-separated keys, each a single
    /// character, a `ctrl-<c>` name or `DEL`. The empty string disables
    /// detaching.
    pub fn parse(spec: &str) -> Result<Self, AttachError> {
        if spec.is_empty() {
            return Ok(Self::disabled());
        }
        let bytes = spec
            .split(',')
            .map(parse_key)
            .collect::<Result<Vec<u8>, AttachError>>()?;
        Ok(Self { bytes })
    }

    /// A sequence that never matches: every byte is passed through.
    pub fn disabled() -> Self {
        Self { bytes: Vec::new() }
    }

    /// The raw bytes the user types to detach.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn is_disabled(&self) -> bool {
        self.bytes.is_empty()
    }
}

impl Default for DetachKeys {
    /// `ctrl-p,ctrl-q`.
    fn default() -> Self {
        Self {
            bytes: vec![0x10, 0x11],
        }
    }
}

impl FromStr for DetachKeys {
    type Err = AttachError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        Self::parse(spec)
    }
}

impl fmt::Display for DetachKeys {
    /// The spec in podman's syntax, which parses back to the same keys.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, byte) in self.bytes.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match CTRL_NAMES.get(usize::from(*byte)) {
                Some(name) => f.write_str(name)?,
                None if *byte == 0x7f => f.write_str("DEL")?,
                None => write!(f, "{}", char::from(*byte))?,
            }
        }
        Ok(())
    }
}

fn parse_key(key: &str) -> Result<u8, AttachError> {
    // podman compares byte lengths: one byte is taken literally, anything
    // longer must be a known name.
    if let [byte] = key.as_bytes() {
        return Ok(*byte);
    }
    if let Some((code, _)) = (0u8..).zip(CTRL_NAMES).find(|(_, name)| *name == key) {
        return Ok(code);
    }
    if key == "DEL" {
        return Ok(0x7f);
    }
    Err(AttachError::InvalidDetachKeys { key: key.to_string() })
}

/// What [`DetachFilter::filter`] saw in its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterStatus {
    /// Keep going: the output holds what may be forwarded.
    Forward,
    /// The whole sequence was typed; input after it was dropped.
    Detached,
}

/// Watches a byte stream for the detach sequence.
///
/// Bytes that might start the sequence are held back; when the next byte
/// breaks the match they are released, so the container sees exactly what
/// was typed unless the full sequence was. The match works across any
/// chunking of the input.
#[derive(Debug, Clone)]
pub struct DetachFilter {
    keys: DetachKeys,
    /// How many leading bytes of the sequence the held-back input matches.
    matched: usize,
}

impl DetachFilter {
    pub fn new(keys: DetachKeys) -> Self {
        Self { keys, matched: 0 }
    }

    /// Appends to `out` the part of `input` that may be forwarded now.
    pub fn filter(&mut self, input: &[u8], out: &mut Vec<u8>) -> FilterStatus {
        let keys = self.keys.as_bytes();
        if keys.is_empty() {
            out.extend_from_slice(input);
            return FilterStatus::Forward;
        }
        for &byte in input {
            if byte == keys[self.matched] {
                self.matched += 1;
                if self.matched == keys.len() {
                    self.matched = 0;
                    return FilterStatus::Detached;
                }
                continue;
            }
            // The held-back bytes plus this one no longer match the whole
            // prefix; keep the longest tail of them that still starts the
            // sequence and release the rest.
            let mut pending = keys[..self.matched].to_vec();
            pending.push(byte);
            let keep = (1..pending.len())
                .rev()
                .find(|&k| pending.ends_with(&keys[..k]))
                .unwrap_or(0);
            out.extend_from_slice(&pending[..pending.len() - keep]);
            self.matched = keep;
        }
        FilterStatus::Forward
    }

    /// Releases the held-back bytes: call at end of input.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.keys.as_bytes()[..self.matched]);
        self.matched = 0;
    }
}

/// Copies `reader` to `writer` through a [`DetachFilter`] until the reader
/// ends (returns the number of bytes forwarded) or the detach sequence is
/// typed (returns [`AttachError::Detached`]). The writer is flushed but not
/// shut down: the caller decides how to close it.
///
/// Each chunk given to the writer is at most `chunk_limit` bytes, so a
/// packet socket never truncates a write.
pub async fn copy_detachable<R, W>(
    reader: &mut R,
    writer: &mut W,
    keys: &DetachKeys,
    chunk_limit: usize,
) -> Result<u64, AttachError>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let chunk_limit = chunk_limit.max(1);
    let mut filter = DetachFilter::new(keys.clone());
    let mut buf = vec![0u8; 32 * 1024];
    let mut out = Vec::with_capacity(buf.len());
    let mut forwarded = 0u64;
    loop {
        let n = reader
            .read(&mut buf)
            .await
            .map_err(|e| AttachError::stream("reading stdin", e))?;
        out.clear();
        let status = if n == 0 {
            filter.finish(&mut out);
            FilterStatus::Forward
        } else {
            filter.filter(&buf[..n], &mut out)
        };
        for chunk in out.chunks(chunk_limit) {
            writer
                .write_all(chunk)
                .await
                .map_err(|e| AttachError::stream("forwarding stdin", e))?;
            forwarded += chunk.len() as u64;
        }
        writer
            .flush()
            .await
            .map_err(|e| AttachError::stream("forwarding stdin", e))?;
        if status == FilterStatus::Detached {
            return Err(AttachError::Detached);
        }
        if n == 0 {
            return Ok(forwarded);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_podman_syntax() {
        assert_eq!(DetachKeys::parse(DEFAULT_DETACH_KEYS).unwrap(), DetachKeys::default());
        assert_eq!(DetachKeys::parse("ctrl-a").unwrap().as_bytes(), &[1]);
        assert_eq!(DetachKeys::parse("ctrl-@,ctrl-z").unwrap().as_bytes(), &[0, 26]);
        assert_eq!(
            DetachKeys::parse("ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_")
                .unwrap()
                .as_bytes(),
            &[27, 28, 29, 30, 31]
        );
        assert_eq!(DetachKeys::parse("a,b,DEL").unwrap().as_bytes(), b"ab\x7f");
        assert_eq!(
            DetachKeys::parse(",").unwrap_err().to_string(),
            "invalid detach keys: Unknown character: ''"
        );
        assert!(DetachKeys::parse("").unwrap().is_disabled());
    }

    #[test]
    fn rejects_unknown_keys_with_podmans_error() {
        for bad in ["ctrl-1", "ctrl-P", "ab", "ctrl-a,,b", "é", "alt-x"] {
            let err = DetachKeys::parse(bad).unwrap_err();
            assert!(matches!(err, AttachError::InvalidDetachKeys { .. }), "{bad}");
            assert!(
                err.to_string().starts_with("invalid detach keys: Unknown character: '"),
                "{err}"
            );
        }
        assert_eq!(
            DetachKeys::parse("ctrl-p,xy").unwrap_err().to_string(),
            "invalid detach keys: Unknown character: 'xy'"
        );
    }

    #[test]
    fn display_round_trips() {
        for spec in ["ctrl-p,ctrl-q", "ctrl-\\", "a,DEL,ctrl-@", "x"] {
            let keys = DetachKeys::parse(spec).unwrap();
            assert_eq!(keys.to_string(), spec);
        }
    }

    #[test]
    fn filter_detaches_across_chunks_and_flushes_broken_matches() {
        let mut f = DetachFilter::new(DetachKeys::default());
        let mut out = Vec::new();
        assert_eq!(f.filter(b"ab\x10", &mut out), FilterStatus::Forward);
        assert_eq!(out, b"ab");
        assert_eq!(f.filter(b"c\x10", &mut out), FilterStatus::Forward);
        assert_eq!(out, b"ab\x10c");
        assert_eq!(f.filter(b"\x11zzz", &mut out), FilterStatus::Detached);
        assert_eq!(out, b"ab\x10c");
    }

    #[test]
    fn filter_keeps_overlapping_prefixes() {
        let mut f = DetachFilter::new(DetachKeys::parse("a,a,b").unwrap());
        let mut out = Vec::new();
        assert_eq!(f.filter(b"xaaa", &mut out), FilterStatus::Forward);
        assert_eq!(out, b"xa");
        assert_eq!(f.filter(b"b", &mut out), FilterStatus::Detached);
        assert_eq!(out, b"xa");
    }

    #[test]
    fn disabled_filter_passes_everything() {
        let mut f = DetachFilter::new(DetachKeys::disabled());
        let mut out = Vec::new();
        assert_eq!(f.filter(b"\x10\x11", &mut out), FilterStatus::Forward);
        f.finish(&mut out);
        assert_eq!(out, b"\x10\x11");
    }

    #[tokio::test]
    async fn copy_detachable_stops_at_the_sequence() {
        let mut input: &[u8] = b"hello\x10\x11ignored";
        let mut output = Vec::new();
        let err = copy_detachable(&mut input, &mut output, &DetachKeys::default(), 2)
            .await
            .unwrap_err();
        assert!(err.is_detached());
        assert_eq!(output, b"hello");

        let mut input: &[u8] = b"no keys\x10";
        let mut output = Vec::new();
        let n = copy_detachable(&mut input, &mut output, &DetachKeys::default(), 3)
            .await
            .unwrap();
        assert_eq!(n, 8);
        assert_eq!(output, b"no keys\x10");
    }

    fn chunked(data: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
        cuts.sort_unstable();
        let mut chunks = Vec::new();
        let mut start = 0;
        for cut in cuts.into_iter().chain([data.len()]) {
            chunks.push(data[start..cut].to_vec());
            start = cut;
        }
        chunks
    }

    proptest! {
        /// Against a reference model: the output is the input up to the
        /// first full occurrence of the sequence, however it is chunked.
        #[test]
        fn filter_matches_model(
            keys in proptest::collection::vec(0u8..4, 0..4),
            input in proptest::collection::vec(0u8..4, 0..64),
            cuts in proptest::collection::vec(0usize..65, 0..8),
        ) {
            let position = if keys.is_empty() {
                None
            } else {
                input.windows(keys.len()).position(|w| w == keys.as_slice())
            };
            let mut filter = DetachFilter::new(DetachKeys { bytes: keys.clone() });
            let mut out = Vec::new();
            let mut detached = false;
            for chunk in chunked(&input, &cuts) {
                if filter.filter(&chunk, &mut out) == FilterStatus::Detached {
                    detached = true;
                    break;
                }
            }
            if !detached {
                filter.finish(&mut out);
            }
            match position {
                Some(p) => {
                    prop_assert!(detached);
                    prop_assert_eq!(&out[..], &input[..p]);
                }
                None => {
                    prop_assert!(!detached);
                    prop_assert_eq!(&out[..], &input[..]);
                }
            }
        }

        #[test]
        fn display_parses_back(keys in proptest::collection::vec(any::<u8>().prop_filter("ascii", |b| b.is_ascii() && *b != b','), 1..5)) {
            let keys = DetachKeys { bytes: keys };
            prop_assert_eq!(DetachKeys::parse(&keys.to_string()).unwrap(), keys);
        }
    }
}
