//! Content-addressed blobs: `<dir>/<hex>` for each `sha256:<hex>`, verified on the way in.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::digest::{Digest, HashingWriter, is_sha256_hex};
use crate::error::{Result, StorageError};
use crate::fsutil::{self, unique_name};

/// Where blobs live, and a scratch directory on the same filesystem for writing them.
#[derive(Debug, Clone)]
pub struct BlobStore {
    dir: PathBuf,
    tmp: PathBuf,
}

impl BlobStore {
    /// A blob store in `dir`, writing temporary files in `tmp` (both created if missing).
    pub fn open(dir: &Path, tmp: &Path) -> Result<Self> {
        fsutil::create_dir_all(dir)?;
        fsutil::create_dir_all(tmp)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            tmp: tmp.to_path_buf(),
        })
    }

    /// The file that holds (or would hold) `digest`.
    pub fn path(&self, digest: &Digest) -> PathBuf {
        self.dir.join(digest.hex())
    }

    pub fn contains(&self, digest: &Digest) -> bool {
        self.path(digest).is_file()
    }

    pub fn open_blob(&self, digest: &Digest) -> Result<File> {
        let p = self.path(digest);
        File::open(&p).map_err(|e| StorageError::io("opening blob", &p, e))
    }

    /// Reads a small blob (a manifest or config) whole.
    pub fn read(&self, digest: &Digest, limit: u64) -> Result<Vec<u8>> {
        fsutil::read_limited(&self.path(digest), limit, digest.as_str())
    }

    pub fn size(&self, digest: &Digest) -> Result<u64> {
        let p = self.path(digest);
        fs::metadata(&p)
            .map(|m| m.len())
            .map_err(|e| StorageError::io("inspecting blob", &p, e))
    }

    /// Stores `bytes`, returning their digest.
    pub fn put_bytes(&self, bytes: &[u8]) -> Result<Digest> {
        let (digest, _, _) = self.put_reader(bytes, None)?;
        Ok(digest)
    }

    /// Streams `reader` into a temp file, hashes it, checks it against `expected` and renames
    /// it into place. Returns the digest, the size, and whether the blob is new.
    pub fn put_reader(&self, mut reader: impl Read, expected: Option<&Digest>) -> Result<(Digest, u64, bool)> {
        let tmp = self.tmp.join(unique_name("blob"));
        let result = (|| {
            let file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)
                .map_err(|e| StorageError::io("creating", &tmp, e))?;
            let mut w = HashingWriter::new(io::BufWriter::with_capacity(256 * 1024, file));
            io::copy(&mut reader, &mut w).map_err(|e| StorageError::io("writing blob", &tmp, e))?;
            let (digest, size, buf) = w.finish();
            buf.into_inner()
                .map_err(|e| StorageError::io("writing blob", &tmp, e.into_error()))?;
            if let Some(expected) = expected
                && *expected != digest
            {
                return Err(StorageError::DigestMismatch {
                    what: "blob".into(),
                    expected: expected.to_string(),
                    actual: digest.to_string(),
                });
            }
            let added = self.adopt(&tmp, &digest)?;
            Ok((digest, size, added))
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }

    /// Moves an already verified file into place as `digest`, or drops it when the blob
    /// exists. Returns whether the blob is new.
    pub(crate) fn adopt(&self, verified: &Path, digest: &Digest) -> Result<bool> {
        let dest = self.path(digest);
        if dest.is_file() {
            fs::remove_file(verified).map_err(|e| StorageError::io("removing", verified, e))?;
            return Ok(false);
        }
        fs::rename(verified, &dest).map_err(|e| StorageError::io("renaming blob into place", &dest, e))?;
        Ok(true)
    }

    pub fn remove(&self, digest: &Digest) -> Result<()> {
        fsutil::remove_path(&self.path(digest))
    }

    /// Every blob present.
    pub fn list(&self) -> Result<Vec<Digest>> {
        let rd = fs::read_dir(&self.dir).map_err(|e| StorageError::io("listing blobs", &self.dir, e))?;
        let mut out = Vec::new();
        for entry in rd {
            let entry = entry.map_err(|e| StorageError::io("listing blobs", &self.dir, e))?;
            if let Some(name) = entry.file_name().to_str()
                && is_sha256_hex(name)
            {
                out.push(Digest::from_hex(name)?);
            }
        }
        out.sort();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_verifies_and_dedups() {
        let t = tempfile::tempdir().unwrap();
        let store = BlobStore::open(&t.path().join("b"), &t.path().join("tmp")).unwrap();
        let d = store.put_bytes(b"abc").unwrap();
        assert_eq!(store.read(&d, 100).unwrap(), b"abc");
        let (_, size, added) = store.put_reader(&b"abc"[..], Some(&d)).unwrap();
        assert_eq!((size, added), (3, false));

        let wrong = Digest::of_bytes(b"xyz");
        let err = store.put_reader(&b"abd"[..], Some(&wrong)).unwrap_err();
        assert!(matches!(err, StorageError::DigestMismatch { .. }), "{err}");
        assert_eq!(store.list().unwrap(), vec![d.clone()]);
        assert_eq!(
            fs::read_dir(t.path().join("tmp")).unwrap().count(),
            0,
            "temp file left behind"
        );
        assert!(store.read(&d, 2).is_err(), "limit not enforced");
        store.remove(&d).unwrap();
        assert!(!store.contains(&d));
    }
}
