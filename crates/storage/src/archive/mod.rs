//! Archives in and out: layer tars (safe unpacking with whiteouts), OCI layouts,
//! oci-archives and docker-archives.

mod build;
mod export;
mod import;
mod unpack;

use std::io::{self, Cursor, Read};

pub use build::{ImageBuilder, LayerBuilder, MemoryBlobs, compress_layer};
pub use export::{BlobSource, ExportImage, ExportLayer, write_docker_archive, write_oci_archive, write_oci_dir};
pub(crate) use import::{ImportPlan, PlannedImage, PlannedLayer, plan_import};
pub use unpack::{UnpackOptions, UnpackStats, is_opaque_dir, is_whiteout, unpack_layer};

use crate::error::{Result, StorageError};

/// The on-disk formats an image can be loaded from and saved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveFormat {
    /// A directory holding an OCI image layout (`oci-layout`, `index.json`, `blobs/`).
    OciDir,
    /// A tar of an OCI image layout.
    OciArchive,
    /// A tar as `docker save` / `podman save` write it (`manifest.json`, configs, layer tars).
    DockerArchive,
}

/// How a layer blob is compressed, told by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// Recognizes gzip and zstd by magic number; bzip2 and xz are refused; anything else is
    /// taken as a plain tar (which the tar reader then checks).
    pub fn detect(head: &[u8]) -> Result<Compression> {
        if head.starts_with(&[0x1f, 0x8b]) {
            Ok(Compression::Gzip)
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Ok(Compression::Zstd)
        } else if head.starts_with(b"BZh") || head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
            Err(StorageError::Unsupported {
                what: "layer compression".into(),
                value: if head[0] == b'B' { "bzip2" } else { "xz" }.into(),
            })
        } else {
            Ok(Compression::None)
        }
    }
}

/// Peeks at the first bytes of `reader`, and returns a reader of the decompressed stream.
pub fn decompress<'a>(mut reader: impl Read + 'a) -> Result<(Compression, Box<dyn Read + 'a>)> {
    let mut head = [0u8; 6];
    let mut filled = 0;
    while filled < head.len() {
        match reader.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(StorageError::corrupt("layer", e)),
        }
    }
    let compression = Compression::detect(&head[..filled])?;
    let whole = Cursor::new(head[..filled].to_vec()).chain(reader);
    let out: Box<dyn Read + 'a> = match compression {
        Compression::None => Box::new(whole),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(whole)),
        Compression::Zstd => {
            Box::new(zstd::stream::read::Decoder::new(whole).map_err(|e| StorageError::corrupt("zstd layer", e))?)
        }
    };
    Ok((compression, out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn detects_and_decompresses() {
        let plain = b"just some bytes that are not compressed".to_vec();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&plain).unwrap();
        let gz = gz.finish().unwrap();
        let zst = zstd::encode_all(&plain[..], 1).unwrap();
        for (bytes, want) in [
            (plain.clone(), Compression::None),
            (gz, Compression::Gzip),
            (zst, Compression::Zstd),
        ] {
            let (c, mut r) = decompress(&bytes[..]).unwrap();
            assert_eq!(c, want);
            let mut out = Vec::new();
            r.read_to_end(&mut out).unwrap();
            assert_eq!(out, plain);
        }
        assert!(decompress(&b"BZh91AY"[..]).is_err());
        let (c, mut r) = decompress(&b"ab"[..]).unwrap();
        assert_eq!(c, Compression::None);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"ab");
    }
}
