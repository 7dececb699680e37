//! `corral load`, `save` and `import`: images in and out of archives.

use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use corral_storage::{ArchiveFormat, ImageStore, ImportOptions};

use crate::cli::GlobalOptions;
use crate::engine;
use crate::error::CliError;
use crate::progress::ByteProgress;

/// The formats `save --format` takes, as podman lists them.
const SAVE_FORMATS: [&str; 4] = ["oci-dir", "oci-archive", "docker-dir", "docker-archive"];

#[derive(Debug, Clone, Args)]
pub struct LoadArgs {
    /// Read from specified archive file (default: stdin)
    #[arg(short = 'i', long, value_name = "string")]
    pub input: Option<PathBuf>,

    /// Suppress the output
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Args)]
pub struct SaveArgs {
    /// Compress tarball image layers when saving to a directory using the 'dir' transport
    #[arg(long)]
    pub compress: bool,

    /// Save image to oci-archive, oci-dir (directory with oci manifest type), docker-archive, docker-dir (directory with v2s2 manifest type)
    #[arg(long, value_name = "string", default_value = "docker-archive")]
    pub format: String,

    /// Interpret additional arguments as images not tags and create a multi-image-archive (only for docker-archive)
    #[arg(short = 'm', long = "multi-image-archive")]
    pub multi_image_archive: bool,

    /// Write to a specified file (default: stdout, which must be redirected)
    #[arg(short = 'o', long, value_name = "string")]
    pub output: Option<PathBuf>,

    /// Suppress the output
    #[arg(short = 'q', long)]
    pub quiet: bool,

    #[arg(value_name = "IMAGE", required = true, num_args = 1..)]
    pub images: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// Apply the following possible instructions to the created image (default []): CMD | ENTRYPOINT | ENV | EXPOSE | LABEL | STOPSIGNAL | USER | VOLUME | WORKDIR
    #[arg(short = 'c', long, value_name = "stringArray")]
    pub change: Vec<String>,

    /// Set commit message for imported image
    #[arg(short = 'm', long, value_name = "string")]
    pub message: Option<String>,

    /// Suppress output
    #[arg(short = 'q', long)]
    pub quiet: bool,

    #[arg(value_name = "PATH", required = true)]
    pub path: String,

    #[arg(value_name = "REFERENCE")]
    pub reference: Option<String>,
}

/// A file that is removed when dropped.
struct TempFile {
    path: PathBuf,
}

impl TempFile {
    /// Copies stdin into a new file under the system's temporary directory.
    fn from_stdin(what: &str) -> anyhow::Result<TempFile> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = std::env::temp_dir().join(format!("corral-{what}-{}-{nanos}", std::process::id()));
        let temp = TempFile { path };
        let mut file = File::create(&temp.path).with_context(|| format!("creating file {}", temp.path.display()))?;
        std::io::copy(&mut std::io::stdin().lock(), &mut file)
            .with_context(|| format!("copying file {}", temp.path.display()))?;
        Ok(temp)
    }

    /// A name for a file to be written in `dir`.
    fn new_in(dir: &Path, what: &str) -> TempFile {
        TempFile {
            path: dir.join(format!(".corral-{what}-{}", std::process::id())),
        }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        // Best effort: a leftover file in the temporary directory harms nobody.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Go's `os.Stat` error text for a missing input.
fn require_file(path: &Path) -> anyhow::Result<()> {
    match std::fs::metadata(path) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            Err(anyhow::anyhow!("stat {}: no such file or directory", path.display()))
        }
        Err(err) => Err(anyhow::anyhow!("stat {}: {err}", path.display())),
    }
}

/// `load [-i FILE]`: `Loaded image: NAME` for every name of every image loaded.
pub fn load(args: &LoadArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let stdin_copy;
    let input: &Path = match &args.input {
        Some(path) => {
            require_file(path)?;
            path
        }
        None => {
            if std::io::stdin().is_terminal() {
                return Err(anyhow::anyhow!(
                    "cannot read from terminal, use command-line redirection or the --input flag"
                ));
            }
            stdin_copy = TempFile::from_stdin("load")?;
            &stdin_copy.path
        }
    };
    let runtime = engine::runtime(global)?;
    let store = runtime.storage()?;
    let size = std::fs::metadata(input).map(|m| m.len()).ok();
    let progress = ByteProgress::new("Loading image archive", size);
    let ids = store.load_with_progress(input, None, &|n| progress.update(n))?;
    drop(progress);
    runtime.image_event("loadfromarchive", "", &input.display().to_string());
    let mut names = Vec::new();
    for id in &ids {
        let image = store.lookup(id)?;
        if image.names.is_empty() {
            names.push(id.clone());
        }
        for name in image.names {
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    for name in names {
        writeln!(out, "Loaded image: {name}").context("writing the loaded images")?;
    }
    Ok(())
}

/// `save [-o FILE] [--format F] IMAGE...`: to a file, or to stdout when it is not a terminal.
pub fn save(args: &SaveArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    if !SAVE_FORMATS.contains(&args.format.as_str()) {
        return Err(CliError::Usage(format!("format value must be one of {}", SAVE_FORMATS.join(" "))).into());
    }
    if args.compress && args.format != "docker-dir" {
        return Err(anyhow::anyhow!(
            "--compress can only be set when --format is 'docker-dir'"
        ));
    }
    let format = match args.format.as_str() {
        "oci-archive" => ArchiveFormat::OciArchive,
        "oci-dir" => ArchiveFormat::OciDir,
        "docker-archive" => ArchiveFormat::DockerArchive,
        other => {
            return Err(anyhow::anyhow!(
                "saving in the {other} format is not supported by corral"
            ));
        }
    };
    let references: Vec<&str> = args.images.iter().map(String::as_str).collect();
    match &args.output {
        Some(path) => {
            if path.to_string_lossy().contains(':') {
                return Err(anyhow::anyhow!(
                    "invalid filename (should not contain ':') {:?}",
                    path.display().to_string()
                ));
            }
            let runtime = engine::runtime(global)?;
            let progress = ByteProgress::new("Writing image archive", None);
            runtime
                .storage()?
                .save_with_progress(&references, format, path, &|n| progress.update(n))?;
            saved_events(&runtime, &references, path);
        }
        None => {
            if std::io::stdout().is_terminal() {
                return Err(anyhow::anyhow!("refusing to save to terminal. Use -o flag or redirect"));
            }
            if format == ArchiveFormat::OciDir {
                return Err(anyhow::anyhow!("the oci-dir format needs a directory: use -o"));
            }
            let runtime = engine::runtime(global)?;
            let temp = TempFile::new_in(&std::env::temp_dir(), "save");
            let progress = ByteProgress::new("Writing image archive", None);
            runtime
                .storage()?
                .save_with_progress(&references, format, &temp.path, &|n| progress.update(n))?;
            drop(progress);
            saved_events(&runtime, &references, &temp.path);
            let mut file = File::open(&temp.path).with_context(|| format!("opening {}", temp.path.display()))?;
            std::io::copy(&mut file, out).context("writing the archive to stdout")?;
        }
    }
    Ok(())
}

/// A `save` event for each image saved to `path`.
fn saved_events(runtime: &corral_core::Runtime, references: &[&str], path: &Path) {
    let Ok(store) = runtime.storage() else {
        return;
    };
    for reference in references {
        if let Ok(image) = store.lookup(reference) {
            runtime.image_event("save", &image.id, &path.display().to_string());
        }
    }
}

/// `import PATH [REFERENCE]`: a filesystem tarball as a one-layer image; prints its ID.
pub fn import(args: &ImportArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    if args.path.contains("://") {
        return Err(anyhow::anyhow!(
            "importing from a URL is not supported by corral: {}",
            args.path
        ));
    }
    let stdin_copy;
    let source: &Path = if args.path == "-" {
        stdin_copy = TempFile::from_stdin("import")?;
        &stdin_copy.path
    } else {
        let path = Path::new(&args.path);
        require_file(path)?;
        path
    };
    let runtime = engine::runtime(global)?;
    let options = ImportOptions {
        name: args.reference.clone(),
        message: args.message.clone(),
        changes: args.change.clone(),
    };
    let id = runtime.storage()?.import(source, &options)?;
    runtime.image_event("import", &id, args.reference.as_deref().unwrap_or_default());
    writeln!(out, "{id}").context("writing the image ID")?;
    Ok(())
}
