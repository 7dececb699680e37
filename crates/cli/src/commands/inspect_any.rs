//! `corral inspect`: any object by name or ID, looked up as a container, then
//! an image, then a volume (`--type` picks one kind), printed as JSON or
//! through a Go template.

use std::io::Write;

use anyhow::Context;
use clap::{Args, ValueEnum};
use corral_core::Runtime;
use corral_define::{ErrorKind, HasKind};
use corral_storage::ImageStore;

use crate::cli::GlobalOptions;
use crate::commands::inspect::render;
use crate::engine;
use crate::error::CliError;

/// The kinds of object `--type` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ObjectType {
    All,
    Container,
    Image,
    Volume,
}

#[derive(Debug, Clone, Args)]
pub struct InspectArgs {
    /// Format the output to a Go template or json
    #[arg(short = 'f', long, value_name = "string")]
    pub format: Option<String>,

    /// Act on the latest container podman is aware of
    #[arg(short = 'l', long)]
    pub latest: bool,

    /// Display total file size
    #[arg(short = 's', long)]
    pub size: bool,

    /// Specify inspect-object type
    #[arg(
        short = 't',
        long = "type",
        value_enum,
        default_value = "all",
        hide_possible_values = true
    )]
    pub object_type: ObjectType,

    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
}

/// `Ok(None)` when `lookup` failed because the object does not exist.
fn found<T, E: HasKind + Into<anyhow::Error>>(lookup: Result<T, E>) -> anyhow::Result<Option<T>> {
    match lookup {
        Ok(value) => Ok(Some(value)),
        Err(err)
            if matches!(
                err.kind(),
                ErrorKind::NoSuchContainer | ErrorKind::NoSuchImage | ErrorKind::NoSuchVolume
            ) =>
        {
            Ok(None)
        }
        Err(err) => Err(err.into()),
    }
}

/// The inspect document of `name` as a container, an image or a volume, as
/// `kind` allows; None when there is no such object.
async fn inspect_one(runtime: &Runtime, name: &str, kind: ObjectType) -> anyhow::Result<Option<serde_json::Value>> {
    if matches!(kind, ObjectType::All | ObjectType::Container)
        && let Some(container) = found(runtime.lookup_container(name))?
    {
        return Ok(Some(container.inspect().await?));
    }
    if matches!(kind, ObjectType::All | ObjectType::Image)
        && let Some(image) = found(runtime.storage()?.inspect(name))?
    {
        return Ok(Some(serde_json::to_value(image)?));
    }
    if matches!(kind, ObjectType::All | ObjectType::Volume)
        && let Some(volume) = found(runtime.lookup_volume(name))?
    {
        return Ok(Some(serde_json::to_value(volume.inspect())?));
    }
    Ok(None)
}

/// What podman says of a name it found nothing for.
fn missing(name: &str, kind: ObjectType) -> String {
    match kind {
        ObjectType::All => format!("no such object: \"{name}\""),
        ObjectType::Container => format!("no such container {name}"),
        ObjectType::Image => format!("no such image {name}"),
        ObjectType::Volume => format!("no such volume {name}"),
    }
}

/// Go templates see podman's `ID` field where the JSON says `Id`.
fn with_go_id(mut value: serde_json::Value) -> serde_json::Value {
    if let Some(fields) = value.as_object_mut()
        && let Some(id) = fields.get("Id").cloned()
    {
        fields.entry("ID").or_insert(id);
    }
    value
}

pub fn run(args: &InspectArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    if args.latest && !args.names.is_empty() {
        return Err(CliError::Usage("--latest and arguments cannot be used together".into()).into());
    }
    if !args.latest && args.names.is_empty() {
        return Err(CliError::Usage("no names or ids specified".into()).into());
    }
    let runtime = engine::runtime(global)?;
    let mut docs = Vec::new();
    let mut errors = Vec::new();
    engine::block_on(async {
        if args.latest {
            docs.push(runtime.latest()?.inspect().await?);
        }
        for name in &args.names {
            match inspect_one(&runtime, name, args.object_type).await? {
                Some(doc) => docs.push(doc),
                None => errors.push(missing(name, args.object_type)),
            }
        }
        anyhow::Ok(())
    })??;
    let templated = args.format.as_deref().is_some_and(|f| !crate::format::is_json(f));
    if templated {
        docs = docs.into_iter().map(with_go_id).collect();
    }
    let text = render(&docs, args.format.as_deref())?;
    out.write_all(text.as_bytes()).context("writing the inspect output")?;
    let mut errors = errors.into_iter();
    let Some(first) = errors.next() else {
        return Ok(());
    };
    for other in errors {
        eprintln!("error inspecting object: {other}");
    }
    Err(anyhow::anyhow!("inspecting object: {first}"))
}
