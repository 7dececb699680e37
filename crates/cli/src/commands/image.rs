//! `corral image ...`: the image commands under one group (most also exist at the top
//! level: `images`, `load`, `save`, `import`, `rmi`, `tag`, `untag`, `history`), with
//! `exists`, `tag` and `untag` here, and what the image commands share: which
//! containers use which image, and sizes written as Go's `units` package writes them.

use std::io::Write;

use clap::{Args, Subcommand};
use corral_core::Runtime;
use corral_storage::{ImageStore, StorageError};

use crate::cli::GlobalOptions;
use crate::commands::{image_info, image_io, image_rm, images};
use crate::engine;
use crate::error::CliError;

#[derive(Debug, Args)]
pub struct ImageArgs {
    #[command(subcommand)]
    pub command: ImageCommand,
}

/// The subcommands of `corral image`.
#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Check if an image exists in local storage
    #[command(override_usage = "corral image exists IMAGE")]
    Exists(ExistsArgs),

    /// Show history of a specified image
    #[command(override_usage = "corral image history [options] IMAGE")]
    History(image_info::HistoryArgs),

    /// Import a tarball to create a filesystem image
    #[command(override_usage = "corral image import [options] PATH [REFERENCE]")]
    Import(image_io::ImportArgs),

    /// Display the configuration of an image
    #[command(override_usage = "corral image inspect [options] IMAGE [IMAGE...]")]
    Inspect(image_info::InspectArgs),

    /// List images in local storage
    #[command(visible_alias = "ls", override_usage = "corral image list [options] [IMAGE]")]
    List(images::ImagesArgs),

    /// Load image(s) from a tar archive
    #[command(override_usage = "corral image load [options]")]
    Load(image_io::LoadArgs),

    /// Remove unused images
    #[command(override_usage = "corral image prune [options]")]
    Prune(image_rm::PruneArgs),

    /// Remove one or more images from local storage
    #[command(override_usage = "corral image rm [options] IMAGE [IMAGE...]")]
    Rm(image_rm::RmiArgs),

    /// Save image(s) to an archive
    #[command(override_usage = "corral image save [options] IMAGE [IMAGE...]")]
    Save(image_io::SaveArgs),

    /// Add an additional name to a local image
    #[command(override_usage = "corral image tag IMAGE TARGET_NAME [TARGET_NAME...]")]
    Tag(TagArgs),

    /// Prints layer hierarchy of an image in a tree format
    #[command(override_usage = "corral image tree [options] IMAGE")]
    Tree(image_info::TreeArgs),

    /// Remove a name from a local image
    #[command(override_usage = "corral image untag IMAGE [IMAGE...]")]
    Untag(UntagArgs),
}

pub fn run(args: ImageArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    match args.command {
        ImageCommand::Exists(args) => exists(&args, global, out),
        ImageCommand::History(args) => image_info::history(&args, global, out),
        ImageCommand::Import(args) => image_io::import(&args, global, out),
        ImageCommand::Inspect(args) => image_info::inspect(&args, global, out),
        ImageCommand::List(args) => images::run(&args, global, out),
        ImageCommand::Load(args) => image_io::load(&args, global, out),
        ImageCommand::Prune(args) => image_rm::prune(&args, global, out),
        ImageCommand::Rm(args) => image_rm::rmi(&args, global, out),
        ImageCommand::Save(args) => image_io::save(&args, global, out),
        ImageCommand::Tag(args) => tag(&args, global, out),
        ImageCommand::Tree(args) => image_info::tree(&args, global, out),
        ImageCommand::Untag(args) => untag(&args, global, out),
    }
}

#[derive(Debug, Clone, Args)]
pub struct ExistsArgs {
    #[arg(value_name = "IMAGE", required = true)]
    pub image: String,
}

#[derive(Debug, Clone, Args)]
pub struct TagArgs {
    #[arg(value_name = "IMAGE", required = true)]
    pub image: String,

    #[arg(value_name = "TARGET_NAME", required = true, num_args = 1..)]
    pub names: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct UntagArgs {
    #[arg(value_name = "IMAGE", required = true)]
    pub image: String,

    /// The names to remove; none removes every name.
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
}

/// `image exists`: exit 0 when the image is there, 1 when not, no output.
pub fn exists(args: &ExistsArgs, global: &GlobalOptions, _out: &mut dyn Write) -> anyhow::Result<()> {
    let runtime = engine::runtime(global)?;
    if runtime.storage()?.exists(&args.image)? {
        return Ok(());
    }
    Err(CliError::Exit {
        code: 1,
        message: String::new(),
    }
    .into())
}

/// `tag IMAGE NAME...`: adds names, no output.
pub fn tag(args: &TagArgs, global: &GlobalOptions, _out: &mut dyn Write) -> anyhow::Result<()> {
    let runtime = engine::runtime(global)?;
    let store = runtime.storage()?;
    let image = store.lookup(&args.image)?;
    for name in &args.names {
        store.tag(&image.id, name)?;
        let tagged = corral_storage::reference::normalize_name(name).unwrap_or_else(|_| name.clone());
        runtime.image_event("tag", &image.id, &tagged);
    }
    Ok(())
}

/// `untag IMAGE [NAME...]`: removes the names (all of them when none is given), no output.
pub fn untag(args: &UntagArgs, global: &GlobalOptions, _out: &mut dyn Write) -> anyhow::Result<()> {
    let runtime = engine::runtime(global)?;
    let store = runtime.storage()?;
    let image = store.lookup(&args.image)?;
    let mut removed = Vec::new();
    if args.names.is_empty() {
        removed.extend(store.untag(&image.id, None)?);
    }
    for name in &args.names {
        match store.untag(&image.id, Some(name)) {
            Err(StorageError::TagNotSet { name, .. }) => return Err(anyhow::anyhow!("{name}: tag not known")),
            other => removed.extend(other?),
        };
    }
    for name in &removed {
        runtime.image_event("untag", &image.id, name);
    }
    Ok(())
}

/// Every container of the runtime with the ID of the image it was made from.
pub fn image_users(runtime: &Runtime) -> anyhow::Result<Vec<(String, String)>> {
    Ok(runtime
        .get_containers()?
        .into_iter()
        .map(|c| (c.id().to_owned(), c.config().root_fs.rootfs_image_id.to_string()))
        .collect())
}

/// The image IDs containers use, one entry per container (storage's `in_use`).
pub fn in_use(users: &[(String, String)]) -> Vec<String> {
    users.iter().map(|(_, image)| image.clone()).collect()
}

/// Go's `%.{precision}g`: the shortest of fixed and exponent notation, trailing zeros cut.
fn go_general(value: f64, precision: usize) -> String {
    if value == 0.0 {
        return "0".into();
    }
    let precision = precision.max(1);
    let scientific = format!("{:.*e}", precision - 1, value);
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let trim = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            s.to_owned()
        }
    };
    if exponent < -4 || exponent >= precision as i32 {
        let sign = if exponent < 0 { '-' } else { '+' };
        return format!("{}e{sign}{:02}", trim(mantissa), exponent.abs());
    }
    let decimals = (precision as i32 - 1 - exponent).max(0) as usize;
    trim(&format!("{value:.decimals$}"))
}

/// Go's `units.HumanSizeWithPrecision`: decimal units, `precision` significant digits
/// (`2.14MB`, `703kB`, `0B`).
pub fn human_size(bytes: u64, precision: usize) -> String {
    const UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    let mut size = bytes as f64;
    let mut unit = 0;
    while size >= 1000.0 && unit < UNITS.len() - 1 {
        size /= 1000.0;
        unit += 1;
    }
    format!("{}{}", go_general(size, precision), UNITS[unit])
}

/// `images`' SIZE column: three digits, a space before the unit (`2.14 MB`).
pub fn spaced_size(bytes: u64) -> String {
    let text = human_size(bytes, 3);
    let split = text.rfind(|c: char| c.is_ascii_digit()).map_or(0, |i| i + 1);
    format!("{} {}", &text[..split], &text[split..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_as_go_units() {
        assert_eq!(human_size(2_141_396, 3), "2.14MB");
        assert_eq!(human_size(703_000, 3), "703kB");
        assert_eq!(human_size(0, 3), "0B");
        assert_eq!(human_size(999, 3), "999B");
        assert_eq!(human_size(1000, 3), "1kB");
        assert_eq!(human_size(999_999, 3), "1e+03kB");
        assert_eq!(human_size(2_141_396, 4), "2.141MB");
        assert_eq!(human_size(1_500, 4), "1.5kB");
        assert_eq!(spaced_size(2_141_396), "2.14 MB");
        assert_eq!(spaced_size(703_000), "703 kB");
        assert_eq!(spaced_size(12), "12 B");
    }

    #[test]
    fn general_format() {
        assert_eq!(go_general(0.0001234, 3), "0.000123");
        assert_eq!(go_general(0.00001234, 3), "1.23e-05");
        assert_eq!(go_general(12.0, 3), "12");
        assert_eq!(go_general(12.5, 3), "12.5");
    }
}
