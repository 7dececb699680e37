//! `cargo xtask`: the project's own tasks — setting up the machine, the CI
//! run, the demo, test images and benchmarks.

mod bench_cli;
mod bench_lock;
mod bench_oci;
mod bench_state;
mod bench_storage;
mod ci;
mod demo;
mod setup;
mod stats;
mod test_image;

use anyhow::{Result, bail};
use std::path::PathBuf;

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  demo         setup, build corral and the test image, run real containers with it
  setup        install the Debian packages corral and its tests need (idempotent)
  ci           setup, then fmt check, clippy -D warnings, docs, and the whole test suite
  test-image [DIR]
               build the busybox test image as oci-archive and docker-archive
               (default DIR: target/test-image)
  bench WHAT   measure and print medians; WHAT is one of: cli (the default:
               corral against podman), lock, state, storage, oci
";

fn main() {
    if let Err(err) = run(std::env::args().skip(1).collect()) {
        eprintln!("Error: {err:#}");
        std::process::exit(1);
    }
}

fn run(args: Vec<String>) -> Result<()> {
    let task = args.first().map(String::as_str).unwrap_or("");
    if task == bench_state::CHILD_ARG {
        return bench_state::child_main(&args[1..]);
    }
    match task {
        "setup" => setup::run(),
        "demo" => demo::run(),
        "ci" => ci::run(),
        "test-image" => {
            let dir = args
                .get(1)
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("target/test-image"));
            let built = test_image::build(&dir)?;
            println!("{} (image ID {})", built.name, built.image_id);
            println!("  {}", built.oci_archive.display());
            println!("  {}", built.docker_archive.display());
            Ok(())
        }
        "bench" => bench(args.get(1).map(String::as_str).unwrap_or("")),
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(())
        }
        other => {
            eprint!("{USAGE}");
            bail!("unknown task {other:?}")
        }
    }
}

fn bench(what: &str) -> Result<()> {
    let times_own_code = !matches!(what, "cli" | "");
    if times_own_code && cfg!(debug_assertions) {
        // These benchmarks time the crates linked into this executable: an
        // unoptimized build would measure the compiler's debug output.
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = std::process::Command::new(cargo)
            .args(["run", "--quiet", "--release", "--package", "xtask", "--", "bench", what])
            .status()?;
        if !status.success() {
            bail!("the release build of `bench {what}` failed: {status}");
        }
        return Ok(());
    }
    match what {
        "cli" | "" => bench_cli::run(),
        "lock" => bench_lock::run(),
        "state" => bench_state::run(),
        "storage" => bench_storage::run(),
        "oci" => bench_oci::run(),
        other => bail!("unknown benchmark {other:?}; see `cargo xtask help`"),
    }
}
