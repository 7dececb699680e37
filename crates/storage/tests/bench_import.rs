//! Import speed on a ~100 MB, 4-layer docker-archive of random files, then a re-import of
//! the same archive (blobs and layers already present). Run with
//! `cargo test -p corral-storage --test bench_import -- --ignored --nocapture`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

mod common;

use std::fs::File;
use std::time::Instant;

use corral_storage::archive::{Compression, ImageBuilder, LayerBuilder, write_docker_archive, write_oci_archive};
use corral_storage::{ImageStore, Store, UnpackOptions};

/// xorshift bytes: incompressible, like already-compressed payloads in real images.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

#[test]
#[ignore = "benchmark: ~100 MB of I/O"]
fn import_speed() {
    let t = tempfile::tempdir().unwrap();
    let mut builder = ImageBuilder::new(common::config("sh", None)).name("bench").unwrap();
    for layer in 0..4u64 {
        let mut l = LayerBuilder::new();
        for f in 0..100u64 {
            // Half random, half text: roughly what binaries and configs compress like.
            let mut data = noise(layer * 1000 + f, 128 * 1024);
            data.extend(std::iter::repeat_n(b"some text line\n".as_slice(), 128 * 1024 / 15).flatten());
            l.file(&format!("layer{layer}/dir{}/file{f}", f % 10), 0o644, data);
        }
        let compression = if layer % 2 == 0 {
            Compression::Gzip
        } else {
            Compression::Zstd
        };
        builder = builder.layer(&l.to_tar().unwrap(), compression).unwrap();
    }
    let (image, blobs) = builder.build().unwrap();
    let uncompressed: u64 = image.layers.iter().map(|l| l.uncompressed_size).sum();
    for (format, path) in [
        ("docker-archive", t.path().join("b.tar")),
        ("oci-archive", t.path().join("o.tar")),
    ] {
        let f = File::create(&path).unwrap();
        if format == "docker-archive" {
            write_docker_archive(f, std::slice::from_ref(&image), &blobs).unwrap();
        } else {
            write_oci_archive(f, std::slice::from_ref(&image), &blobs).unwrap();
        }
        let size = std::fs::metadata(&path).unwrap().len();
        let store = Store::open_with(
            &t.path().join(format!("store-{format}")),
            UnpackOptions::for_current_user(),
        )
        .unwrap();
        let mb = |b: u64| b as f64 / 1e6;
        let start = Instant::now();
        store.load(&path, None).unwrap();
        let first = start.elapsed().as_secs_f64();
        let start = Instant::now();
        store.load(&path, None).unwrap();
        let again = start.elapsed().as_secs_f64();
        println!(
            "{format}: archive {:.1} MB ({:.1} MB uncompressed, 4 layers, 400 files): \
             first load {first:.2} s = {:.1} MB/s of archive; re-load {again:.2} s = {:.1} MB/s",
            mb(size),
            mb(uncompressed),
            mb(size) / first,
            mb(size) / again
        );
        assert!(
            again < first || format == "docker-archive",
            "re-import should skip existing layers"
        );
    }
}
