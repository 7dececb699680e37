//! `cargo xtask demo`: the README's first command. Sets the machine up, builds
//! the `corral` binary and the busybox test image, and runs real containers
//! with it as a user would type the commands, showing each command and its output.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::test_image;

pub fn run() -> Result<()> {
    crate::setup::run()?;
    let workspace = workspace_root();
    let status = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--package", "corral-cli", "--bin", "corral"])
        .current_dir(&workspace)
        .status()
        .context("running cargo build for corral")?;
    if !status.success() {
        bail!("building corral failed with {status}");
    }
    let corral = target_dir(&workspace).join("debug").join("corral");
    let image = test_image::build(&target_dir(&workspace).join("test-image"))?;

    let scratch = tempfile::Builder::new().prefix("corral-demo-").tempdir()?;
    let demo = Demo {
        corral,
        root: scratch.path().join("root"),
        runroot: scratch.path().join("run"),
    };
    let result = demo.script(&image);
    // Whatever happened, leave no container or volume behind.
    let _ = demo.corral(&["rm", "--all", "--force", "--time", "0"]);
    let _ = demo.corral(&["volume", "rm", "--all", "--force"]);
    result
}

struct Demo {
    corral: PathBuf,
    root: PathBuf,
    runroot: PathBuf,
}

impl Demo {
    fn script(&self, image: &test_image::TestImagePaths) -> Result<()> {
        let archive = image.docker_archive.display().to_string();
        self.show(&["load", "-i", &archive])?;
        self.show(&["images"])?;
        self.show(&["run", "--rm", "busybox", "echo", "hello from a corral container"])?;
        self.show(&["run", "--rm", "--user", "corral", "busybox", "id"])?;
        self.show(&[
            "run",
            "--name",
            "counter",
            "-d",
            "busybox",
            "sh",
            "-c",
            "for i in 1 2 3; do echo tick $i; done; sleep 300",
        ])?;
        self.show(&[
            "run",
            "--name",
            "fails",
            "busybox",
            "sh",
            "-c",
            "echo about to fail >&2; exit 3",
        ])?;
        self.show(&["ps", "--all"])?;
        self.show(&["logs", "counter"])?;
        self.show(&["exec", "counter", "sh", "-c", "echo hello from exec in $(hostname)"])?;
        self.show(&["inspect", "--format", "{{.Name}} is {{.State.Status}}", "counter"])?;
        self.show(&[
            "run",
            "--rm",
            "-v",
            "notes:/data",
            "busybox",
            "sh",
            "-c",
            "echo kept > /data/f",
        ])?;
        self.show(&["run", "--rm", "-v", "notes:/data", "busybox", "cat", "/data/f"])?;
        self.show(&["volume", "ls"])?;
        self.show(&["stop", "--time", "0", "counter"])?;
        self.show(&["ps", "--all", "--format", "{{.Names}} {{.Status}}"])?;
        self.show(&["rm", "counter", "fails"])?;
        self.show(&["volume", "rm", "notes"])?;
        self.show(&["ps", "--all"])?;
        Ok(())
    }

    fn corral(&self, args: &[&str]) -> Result<Output> {
        Command::new(&self.corral)
            .arg("--root")
            .arg(&self.root)
            .arg("--runroot")
            .arg(&self.runroot)
            .args(args)
            .output()
            .with_context(|| format!("running {}", self.corral.display()))
    }

    /// Runs one command, printing it as typed and what it printed. A
    /// container's own non-zero exit is part of the show; an engine error
    /// (125) stops the demo.
    fn show(&self, args: &[&str]) -> Result<()> {
        println!("$ corral {}", shell_words(args));
        let out = self.corral(args)?;
        print!("{}", String::from_utf8_lossy(&out.stdout));
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        match out.status.code() {
            Some(0) => {}
            Some(125) | None => bail!("corral {} failed: {}", args.join(" "), out.status),
            Some(code) => println!("(exit code {code})"),
        }
        println!();
        Ok(())
    }
}

fn shell_words(args: &[&str]) -> String {
    args.iter()
        .map(|a| {
            if a.is_empty() || a.contains(|c: char| c.is_whitespace() || "'\"$;&|<>{}".contains(c)) {
                format!("'{}'", a.replace('\'', r"'\''"))
            } else {
                a.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

pub fn target_dir(workspace: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"))
}
