//! `cargo xtask bench storage`: the image store's costs, and podman's on the same archive
//! when `podman` is on PATH.
//!
//! - load and save of a ~100 MB, 4-layer docker-archive (MB/s of archive), and a second
//!   load of the same archive into the same store (layers already there);
//! - listing 1,000 images (`images --format json` rows);
//! - overlay mount + unmount of a container's root filesystem (as root, overlay only).
//!
//! corral is timed in-process; podman as a command, so its figures include starting the
//! process (tens of milliseconds), which dominates the listing.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use corral_storage::archive::{
    Compression, ExportImage, ImageBuilder, LayerBuilder, MemoryBlobs, write_docker_archive,
};
use corral_storage::spec::{ContainerSettings, ImageConfig, host_architecture};
use corral_storage::{ArchiveFormat, ContainerFsStore, Driver, ImageStore, Store, StoreOptions, UnpackOptions};

use crate::stats::median;

const RUNS: usize = 3;
const LIST_IMAGES: usize = 1_000;
const LIST_RUNS: usize = 7;
/// `podman images` with 1,000 images takes seconds a run here.
const PODMAN_LIST_RUNS: usize = 3;
const MOUNT_CYCLES: usize = 50;
const LAYERS: u64 = 4;
const FILES_PER_LAYER: u64 = 100;
const FILE_SIZE: usize = 256 * 1024;
const BIG_NAME: &str = "localhost/bench:latest";

pub fn run() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let work = tmp.path();
    // Run roots on tmpfs when there is one, as `/run` is in real use.
    let run_base = tempfile::tempdir_in("/dev/shm").or_else(|_| tempfile::tempdir())?;
    let built = Instant::now();
    let big = work.join("big.tar");
    let (image, blobs) = big_image()?;
    write_docker_archive(File::create(&big)?, std::slice::from_ref(&image), &blobs)?;
    let many = work.join("many.tar");
    let (images, blobs) = many_images()?;
    write_docker_archive(File::create(&many)?, &images, &blobs)?;
    let size_mb = std::fs::metadata(&big)?.len() as f64 / 1e6;
    let uncompressed_mb = image.layers.iter().map(|l| l.uncompressed_size).sum::<u64>() as f64 / 1e6;
    println!(
        "archive: {size_mb:.1} MB docker-archive ({LAYERS} layers, {uncompressed_mb:.1} MB of layer tars, \
         {} files); built in {:.1?}",
        LAYERS * FILES_PER_LAYER,
        built.elapsed()
    );
    let podman = podman_available();
    if !podman {
        println!("podman not on PATH: no comparison");
    }

    // Load into a fresh store, then again into the same store; save.
    let (mut load, mut reload, mut save) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..RUNS {
        let dir = work.join(format!("corral-{run}"));
        let store = open(&dir, run_base.path())?;
        load.push(timed(|| store.load(&big, None).map(drop))?);
        reload.push(timed(|| store.load(&big, None).map(drop))?);
        let out = dir.join("saved.tar");
        save.push(timed(|| store.save(&[BIG_NAME], ArchiveFormat::DockerArchive, &out))?);
        std::fs::remove_dir_all(&dir)?;
    }
    let (mut p_load, mut p_reload, mut p_save) = (Vec::new(), Vec::new(), Vec::new());
    if podman {
        for run in 0..RUNS {
            let dir = work.join(format!("podman-{run}"));
            let load_args = ["load", "-q", "-i", path_str(&big)?];
            p_load.push(timed(|| podman_cmd(&dir, &load_args))?);
            p_reload.push(timed(|| podman_cmd(&dir, &load_args))?);
            let out = dir.join("saved.tar");
            let save_args = [
                "save",
                "-q",
                "--format",
                "docker-archive",
                "-o",
                path_str(&out)?,
                BIG_NAME,
            ];
            p_save.push(timed(|| podman_cmd(&dir, &save_args))?);
            podman_cmd(&dir, &["system", "reset", "-f"])?;
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
    report_rate("load", size_mb, &mut load, &mut p_load);
    report_rate("second load (same store)", size_mb, &mut reload, &mut p_reload);
    report_rate("save", size_mb, &mut save, &mut p_save);

    // Listing 1,000 images.
    let dir = work.join("corral-list");
    let store = open(&dir, run_base.path())?;
    let loaded = timed(|| store.load(&many, None).map(drop))?;
    let mut list = Vec::new();
    for _ in 0..LIST_RUNS {
        let start = Instant::now();
        let rows = store.summaries(&[])?;
        list.push(start.elapsed());
        if rows.len() != LIST_IMAGES {
            bail!("expected {LIST_IMAGES} images, listed {}", rows.len());
        }
    }
    let mut p_list = Vec::new();
    if podman {
        let pdir = work.join("podman-list");
        let p_loaded = timed(|| podman_cmd(&pdir, &["load", "-q", "-i", path_str(&many)?]))?;
        println!("(podman loaded the {LIST_IMAGES} images in {p_loaded:.1?})");
        for _ in 0..PODMAN_LIST_RUNS {
            p_list.push(timed(|| podman_cmd(&pdir, &["images", "--format", "json"]))?);
        }
        podman_cmd(&pdir, &["system", "reset", "-f"])?;
    }
    println!("({LIST_IMAGES} images loaded from one archive in {loaded:.1?})");
    report_time(&format!("list {LIST_IMAGES} images"), &mut list, &mut p_list);

    // Overlay mount + unmount.
    if store.driver() == Driver::Overlay {
        let ctr = store.create_container("", "bench-0", &[], "")?;
        let mut cycles = Vec::new();
        for _ in 0..MOUNT_CYCLES {
            let start = Instant::now();
            store.mount(&ctr.id)?;
            store.unmount(&ctr.id, false)?;
            cycles.push(start.elapsed());
        }
        store.remove_container(&ctr.id, true)?;
        println!(
            "{:<28} {:>10.2?}  (median of {MOUNT_CYCLES}, with count file and mount table checks)",
            "overlay mount+unmount",
            median(&mut cycles).unwrap_or_default()
        );
    } else {
        println!("overlay mount+unmount: skipped (needs root and overlayfs)");
    }
    Ok(())
}

/// A store under `dir`, with its run root under `run_base`.
fn open(dir: &Path, run_base: &Path) -> Result<Store> {
    let name = dir.file_name().context("store dir has no name")?;
    Ok(Store::open_with_options(
        &dir.join("root"),
        StoreOptions {
            unpack: UnpackOptions::for_current_user(),
            run_root: run_base.join(name),
            driver: Driver::detect(),
        },
    )?)
}

fn timed<T, E: Into<anyhow::Error>>(f: impl FnOnce() -> Result<T, E>) -> Result<Duration> {
    let start = Instant::now();
    f().map_err(Into::into)?;
    Ok(start.elapsed())
}

fn path_str(p: &Path) -> Result<&str> {
    p.to_str().with_context(|| format!("{} is not UTF-8", p.display()))
}

fn podman_available() -> bool {
    Command::new("podman")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs podman with its own root and run root under `dir`.
fn podman_cmd(dir: &Path, args: &[&str]) -> Result<()> {
    let root: PathBuf = dir.join("root");
    let run_root: PathBuf = dir.join("runroot");
    let out = Command::new("podman")
        .arg("--root")
        .arg(&root)
        .arg("--runroot")
        .arg(&run_root)
        .args(args)
        .output()
        .context("running podman")?;
    if !out.status.success() {
        bail!(
            "podman {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

fn ratio(corral: Duration, podman: Duration) -> String {
    format!("corral/podman time {:.2}", corral.as_secs_f64() / podman.as_secs_f64())
}

fn report_rate(label: &str, mb: f64, corral: &mut [Duration], podman: &mut [Duration]) {
    let c = median(corral).unwrap_or_default();
    let mut line = format!(
        "{label:<28} {:>8.1} MB/s ({c:.2?}, median of {RUNS})",
        mb / c.as_secs_f64()
    );
    if let Some(p) = median(podman) {
        line.push_str(&format!(
            "   podman {:>8.1} MB/s ({p:.2?})   {}",
            mb / p.as_secs_f64(),
            ratio(c, p)
        ));
    }
    println!("{line}");
}

fn report_time(label: &str, corral: &mut [Duration], podman: &mut [Duration]) {
    let c = median(corral).unwrap_or_default();
    let mut line = format!("{label:<28} {c:>10.2?} (median of {})", corral.len());
    if let Some(p) = median(podman) {
        line.push_str(&format!("   podman {p:.2?} (whole command)   {}", ratio(c, p)));
    }
    println!("{line}");
}

fn config(label: &str) -> ImageConfig {
    ImageConfig {
        created: Some("2026-01-01T00:00:00Z".into()),
        architecture: host_architecture().into(),
        os: "linux".into(),
        config: Some(ContainerSettings {
            env: Some(vec!["PATH=/bin".into()]),
            cmd: Some(vec!["sh".into()]),
            labels: Some([("bench".to_string(), label.to_string())].into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// xorshift bytes: incompressible, like the already-compressed payloads of real images.
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

/// ~100 MB uncompressed in 4 gzip layers: each file half random, half text.
fn big_image() -> Result<(ExportImage, MemoryBlobs)> {
    let mut builder = ImageBuilder::new(config("big")).name(BIG_NAME)?;
    for layer in 0..LAYERS {
        let mut l = LayerBuilder::new();
        for f in 0..FILES_PER_LAYER {
            let mut data = noise(layer * 1000 + f, FILE_SIZE / 2);
            data.extend(std::iter::repeat_n(b"some text line\n".as_slice(), FILE_SIZE / 2 / 15).flatten());
            l.file(&format!("layer{layer}/dir{}/file{f}", f % 10), 0o644, data);
        }
        builder = builder.layer(&l.to_tar()?, Compression::Gzip)?;
    }
    Ok(builder.build()?)
}

/// 1,000 small images in one archive: a shared base layer and one small layer each.
fn many_images() -> Result<(Vec<ExportImage>, MemoryBlobs)> {
    let mut base = LayerBuilder::new();
    base.dir("etc", 0o755).file("etc/base", 0o644, "base\n");
    let base = base.to_tar()?;
    let mut images = Vec::with_capacity(LIST_IMAGES);
    let mut all = MemoryBlobs::default();
    for i in 0..LIST_IMAGES {
        let mut own = LayerBuilder::new();
        own.dir("srv", 0o755).file("srv/id", 0o644, i.to_string());
        let (image, blobs) = ImageBuilder::new(config(&i.to_string()))
            .name(&format!("bench-{i}"))?
            .layer(&base, Compression::Gzip)?
            .layer(&own.to_tar()?, Compression::Gzip)?
            .build()?;
        for d in [&image.manifest_digest, &image.config_digest]
            .into_iter()
            .chain(image.layers.iter().map(|l| &l.blob))
        {
            let bytes = blobs.get(d).context("built image lacks a blob")?;
            all.insert(bytes.to_vec());
        }
        images.push(image);
    }
    Ok((images, all))
}
