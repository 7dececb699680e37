//! `cargo xtask`: the project's own tasks — setting up the machine, the CI
//! run, the demo, test images and benchmarks.

mod ci;
mod setup;

use anyhow::{Result, bail};

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  setup        install the Debian packages corral and its tests need (idempotent)
  ci           setup, then fmt check, clippy -D warnings, docs, and the whole test suite
";

fn main() {
    if let Err(err) = run(std::env::args().skip(1).collect()) {
        eprintln!("Error: {err:#}");
        std::process::exit(1);
    }
}

fn run(args: Vec<String>) -> Result<()> {
    let task = args.first().map(String::as_str).unwrap_or("");
    match task {
        "setup" => setup::run(),
        "ci" => ci::run(),
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
