//! `corral cp`: copy files between a container and the host (`CTR:/path` on
//! one side), or a tar archive from stdin into a container and out of one to
//! stdout (`-`).
//!
//! Paths in the container are resolved as the container sees them: a symlink
//! is followed inside the container's root filesystem (an absolute target
//! starts again at that root, `..` never climbs above it), so a link to
//! `/etc` means the container's `/etc`, never the host's. Archives written
//! into the container are unpacked by storage's layer unpacker, which refuses
//! to write through a symlink.

use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use corral_core::Container;
use corral_define::{DefineError, ErrorKind, HasKind};
use corral_storage::UnpackOptions;
use corral_storage::archive::unpack_layer;

use crate::cli::GlobalOptions;
use crate::engine;
use crate::error::CliError;

/// Symlinks followed in one path before giving up, as the kernel's ELOOP.
const MAX_SYMLINKS: usize = 40;

#[derive(Debug, Clone, Args)]
pub struct CpArgs {
    /// Follow symbolic links in the source path on the host
    #[arg(short = 'L', long = "follow-link")]
    pub follow_link: bool,

    #[arg(value_name = "SRC_PATH", required = true, allow_hyphen_values = true)]
    pub source: String,

    #[arg(value_name = "DEST_PATH", required = true, allow_hyphen_values = true)]
    pub destination: String,
}

/// One side of the copy: a path in a container, on the host, or `-` (stdio).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Location {
    container: Option<String>,
    path: String,
}

/// podman's reading of `CONTAINER:PATH`: a path starting with `/` or `.` is the
/// host's whatever colons it holds.
fn parse_location(text: &str) -> Location {
    if !text.starts_with('/')
        && !text.starts_with('.')
        && let Some((container, path)) = text.split_once(':')
    {
        return Location {
            container: Some(container.to_owned()),
            path: path.to_owned(),
        };
    }
    Location {
        container: None,
        path: text.to_owned(),
    }
}

/// The path's parts, `..` kept, `/` and `.` dropped.
fn parts(path: &Path) -> VecDeque<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(name) => Some(name.to_owned()),
            Component::ParentDir => Some(OsString::from("..")),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
        })
        .collect()
}

/// Where `path` (taken from the container's `/`) is under `root`, its symlinks
/// resolved inside `root`; the last one only with `follow_last`. Names that do
/// not exist are kept as they are.
pub fn resolve_in_root(root: &Path, path: &str, follow_last: bool) -> anyhow::Result<PathBuf> {
    let mut resolved: Vec<OsString> = Vec::new();
    let mut pending = parts(Path::new(path));
    let mut hops = 0;
    while let Some(part) = pending.pop_front() {
        if part == ".." {
            resolved.pop();
            continue;
        }
        let mut candidate = root.to_path_buf();
        candidate.extend(&resolved);
        candidate.push(&part);
        let is_link = std::fs::symlink_metadata(&candidate).is_ok_and(|m| m.file_type().is_symlink());
        if !is_link || (pending.is_empty() && !follow_last) {
            resolved.push(part);
            continue;
        }
        hops += 1;
        if hops > MAX_SYMLINKS {
            bail!("resolving {path}: too many levels of symbolic links");
        }
        let target =
            std::fs::read_link(&candidate).with_context(|| format!("reading the symlink {}", candidate.display()))?;
        if target.is_absolute() {
            resolved.clear();
        }
        let mut next = parts(&target);
        next.extend(pending);
        pending = next;
    }
    let mut full = root.to_path_buf();
    full.extend(&resolved);
    Ok(full)
}

/// What goes into the archive: the source under one name, or (`dir/.`, `/`) its contents.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Content {
    Named(OsString),
    Contents,
}

/// How a source path asks to be copied.
fn content_of(path: &str) -> Content {
    if path.ends_with("/.") || path == "." {
        return Content::Contents;
    }
    match Path::new(path).file_name() {
        Some(name) => Content::Named(name.to_owned()),
        None => Content::Contents,
    }
}

/// Writes `source` as a tar to `out`, symlinks stored as symlinks.
fn write_tar(out: impl Write, source: &Path, content: &Content) -> anyhow::Result<()> {
    let mut builder = tar::Builder::new(out);
    builder.follow_symlinks(false);
    let mut append = |path: &Path, name: &OsStr| -> anyhow::Result<()> {
        let meta = std::fs::symlink_metadata(path).with_context(|| format!("reading {}", path.display()))?;
        if meta.is_dir() {
            builder.append_dir_all(name, path)
        } else {
            builder.append_path_with_name(path, name)
        }
        .with_context(|| format!("archiving {}", path.display()))
    };
    match content {
        Content::Named(name) => append(source, name)?,
        Content::Contents => {
            let entries = std::fs::read_dir(source).with_context(|| format!("reading {}", source.display()))?;
            for entry in entries {
                let entry = entry.with_context(|| format!("reading {}", source.display()))?;
                append(&entry.path(), &entry.file_name())?;
            }
        }
    }
    builder
        .into_inner()
        .context("writing the archive")?
        .flush()
        .context("writing the archive")
}

/// Where an archive of `content` is unpacked for `destination`, and the name
/// its top entry gets there: into an existing directory under its own name,
/// else as `destination` itself.
fn placement(destination: &Path, content: Content) -> anyhow::Result<(PathBuf, Content)> {
    if content == Content::Contents || destination.is_dir() {
        return Ok((destination.to_path_buf(), content));
    }
    let name = destination
        .file_name()
        .with_context(|| format!("{} is not a valid destination", destination.display()))?;
    let parent = destination.parent().unwrap_or(Path::new("/"));
    Ok((parent.to_path_buf(), Content::Named(name.to_owned())))
}

/// Mounts the container's root for `work` and unmounts it afterwards, whatever happened.
fn with_root<T>(container: &Container, work: impl FnOnce(&Path) -> anyhow::Result<T>) -> anyhow::Result<T> {
    let root = engine::block_on(container.mount())??;
    let result = work(&root);
    let unmounted = engine::block_on(container.unmount(false))?;
    let value = result?;
    unmounted?;
    Ok(value)
}

fn not_found(path: &str, container: &str) -> anyhow::Error {
    anyhow::anyhow!("{path:?} could not be found on container {container}: no such file or directory")
}

fn from_container(
    container: &Container,
    name: &str,
    source: &str,
    destination: &str,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let archive = with_root(container, |root| {
        let resolved = resolve_in_root(root, source, true)?;
        if std::fs::symlink_metadata(&resolved).is_err() {
            return Err(not_found(source, name));
        }
        let content = content_of(source);
        if destination == "-" {
            write_tar(&mut *out, &resolved, &content)?;
            return Ok(None);
        }
        let (dir, content) = placement(Path::new(destination), content)?;
        let mut archive = Vec::new();
        write_tar(&mut archive, &resolved, &content)?;
        Ok(Some((dir, archive)))
    })?;
    let Some((dir, archive)) = archive else {
        return Ok(());
    };
    if !dir.is_dir() {
        bail!(
            "{:?} could not be found on the host: no such file or directory",
            dir.display().to_string()
        );
    }
    let mut unpacker = tar::Archive::new(archive.as_slice());
    unpacker.set_preserve_permissions(true);
    unpacker.set_preserve_ownerships(true);
    unpacker.set_overwrite(true);
    unpacker
        .unpack(&dir)
        .with_context(|| format!("copying into {}", dir.display()))
}

fn into_container(
    container: &Container,
    name: &str,
    source: &str,
    destination: &str,
    follow_link: bool,
) -> anyhow::Result<()> {
    let host = if source == "-" {
        None
    } else {
        let path = Path::new(source);
        let found = if follow_link {
            path.canonicalize()
        } else {
            std::fs::symlink_metadata(path).map(|_| path.to_path_buf())
        };
        Some(
            found
                .map_err(|_| anyhow::anyhow!("{source:?} could not be found on the host: no such file or directory"))?,
        )
    };
    with_root(container, |root| {
        // Every part of `resolved` is a real directory or the last name, so
        // it and its parent lie inside the root.
        let resolved = resolve_in_root(root, destination, true)?;
        let (dir, archive): (PathBuf, Box<dyn Read>) = match &host {
            None => {
                if !resolved.is_dir() {
                    bail!("destination must be a directory when copying from stdin");
                }
                (resolved, Box::new(std::io::stdin().lock()))
            }
            Some(host) => {
                let (dir, content) = placement(&resolved, content_of(source))?;
                let mut archive = Vec::new();
                write_tar(&mut archive, host, &content)?;
                (dir, Box::new(std::io::Cursor::new(archive)))
            }
        };
        if !dir.is_dir() {
            return Err(not_found(destination, name));
        }
        unpack_layer(archive, &dir, &UnpackOptions::for_current_user())
            .with_context(|| format!("copying into {destination} on container {name}"))?;
        Ok(())
    })
}

/// The container `name`, with podman's `cp` wording when there is none.
fn find_container(runtime: &corral_core::Runtime, name: &str) -> anyhow::Result<Container> {
    match runtime.lookup_container(name) {
        Err(err) if err.kind() == ErrorKind::NoSuchContainer => {
            Err(DefineError::new(err.kind(), format!("container {name:?} does not exist")).into())
        }
        other => Ok(other?),
    }
}

pub fn run(args: &CpArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let source = parse_location(&args.source);
    let destination = parse_location(&args.destination);
    let runtime = engine::runtime(global)?;
    match (&source.container, &destination.container) {
        (Some(name), None) => {
            let container = find_container(&runtime, name)?;
            from_container(&container, name, &source.path, &destination.path, out)
        }
        (None, Some(name)) => {
            let container = find_container(&runtime, name)?;
            into_container(&container, name, &source.path, &destination.path, args.follow_link)
        }
        (Some(_), Some(_)) => Err(CliError::Usage("copying between containers is not supported".into()).into()),
        (None, None) => Err(CliError::Usage(format!(
            "invalid arguments {}, {} you must use just one container",
            args.source, args.destination
        ))
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_as_podman_reads_them() {
        let loc = |c: Option<&str>, p: &str| Location {
            container: c.map(str::to_owned),
            path: p.to_owned(),
        };
        assert_eq!(parse_location("web:/etc/hosts"), loc(Some("web"), "/etc/hosts"));
        assert_eq!(parse_location("/tmp/a:b"), loc(None, "/tmp/a:b"));
        assert_eq!(parse_location("./x:y"), loc(None, "./x:y"));
        assert_eq!(parse_location("file"), loc(None, "file"));
        assert_eq!(parse_location("-"), loc(None, "-"));
    }

    #[test]
    fn symlinks_resolve_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("etc/sub")).unwrap();
        std::os::unix::fs::symlink("/etc", root.join("abs")).unwrap();
        std::os::unix::fs::symlink("../../../../etc", root.join("etc/sub/up")).unwrap();
        std::os::unix::fs::symlink("sub", root.join("etc/rel")).unwrap();
        std::os::unix::fs::symlink("loop", root.join("loop")).unwrap();

        assert_eq!(
            resolve_in_root(root, "/abs/passwd", true).unwrap(),
            root.join("etc/passwd")
        );
        assert_eq!(resolve_in_root(root, "/etc/sub/up", true).unwrap(), root.join("etc"));
        assert_eq!(
            resolve_in_root(root, "/../../etc/rel/x", true).unwrap(),
            root.join("etc/sub/x")
        );
        assert_eq!(resolve_in_root(root, "abs", false).unwrap(), root.join("abs"));
        assert_eq!(resolve_in_root(root, "/", true).unwrap(), root.to_path_buf());
        assert!(resolve_in_root(root, "/loop", true).is_err());
    }

    #[test]
    fn contents_or_named() {
        assert_eq!(content_of("/etc/."), Content::Contents);
        assert_eq!(content_of("/"), Content::Contents);
        assert_eq!(content_of("/etc/"), Content::Named("etc".into()));
        assert_eq!(content_of("/etc/hosts"), Content::Named("hosts".into()));
    }
}
