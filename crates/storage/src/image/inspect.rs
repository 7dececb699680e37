//! The documents podman prints for images: `image inspect`, `images --format json`,
//! `image history`, `image tree`.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::ImageRecord;
use crate::digest::Digest;
use crate::reference::repo_of;
use crate::spec::{ContainerSettings, History, ImageConfig};

/// podman's `image inspect` object (field names and order as podman prints them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageInspect {
    pub id: String,
    pub digest: String,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    pub parent: String,
    pub comment: String,
    pub created: String,
    pub config: ContainerSettings,
    pub version: String,
    pub author: String,
    pub architecture: String,
    pub os: String,
    pub size: u64,
    pub virtual_size: u64,
    pub graph_driver: GraphDriver,
    #[serde(rename = "RootFS")]
    pub root_fs: RootFsInfo,
    pub labels: Option<BTreeMap<String, String>>,
    pub annotations: BTreeMap<String, String>,
    pub manifest_type: String,
    pub user: String,
    pub history: Vec<InspectHistory>,
    pub names_history: Vec<String>,
}

/// A history entry as inspect prints it (the config's own shape).
pub type InspectHistory = History;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GraphDriver {
    pub name: String,
    pub data: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootFsInfo {
    #[serde(rename = "Type")]
    pub fs_type: String,
    #[serde(rename = "Layers")]
    pub layers: Vec<String>,
}

/// podman's `images --format json` row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageSummary {
    pub id: String,
    pub parent_id: String,
    /// podman 4.3 prints null here (the tags are in `Names`).
    pub repo_tags: Option<Vec<String>>,
    pub repo_digests: Vec<String>,
    pub size: u64,
    pub shared_size: u64,
    pub virtual_size: u64,
    pub labels: Option<BTreeMap<String, String>>,
    pub containers: usize,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
    pub digest: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<String>,
    pub created: i64,
    pub created_at: String,
}

/// One row of `image history` (podman's JSON names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The image ID for the newest entry, `<missing>` for the others.
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(rename = "CreatedBy", default, skip_serializing_if = "String::is_empty")]
    pub created_by: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    pub size: u64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub comment: String,
}

/// `image tree`: the image and its layers, bottom first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageTree {
    pub id: String,
    pub names: Vec<String>,
    pub size: u64,
    pub layers: Vec<TreeLayer>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeLayer {
    /// Chain ID.
    pub id: Digest,
    pub size: u64,
    /// Names (or IDs, for unnamed images) of the images whose top layer this is.
    pub top_layer_of: Vec<String>,
}

/// Go's RFC 3339 form of a config timestamp, in UTC (`1970-01-01T00:00:00Z`).
fn go_time(created: Option<&str>) -> (String, i64) {
    match created.and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok()) {
        Some(t) => {
            let utc = t.with_timezone(&chrono::Utc);
            (
                utc.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                utc.timestamp(),
            )
        }
        None => ("0001-01-01T00:00:00Z".to_string(), -62135596800),
    }
}

fn repo_digests(rec: &ImageRecord) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in &rec.names {
        let d = format!("{}@{}", repo_of(n), rec.digest);
        if !out.contains(&d) {
            out.push(d);
        }
    }
    out
}

fn labels_or_null(rec: &ImageRecord) -> Option<BTreeMap<String, String>> {
    if rec.labels.is_empty() {
        None
    } else {
        Some(rec.labels.clone())
    }
}

/// Builds the inspect document. `layer_dirs` are the image's layer directories, top first.
pub fn inspect_image(
    rec: &ImageRecord,
    config: &ImageConfig,
    annotations: BTreeMap<String, String>,
    layer_dirs: &[PathBuf],
) -> ImageInspect {
    let settings = config.config.clone().unwrap_or_default();
    let mut data = BTreeMap::new();
    if let Some((top, lower)) = layer_dirs.split_first() {
        data.insert("UpperDir".to_string(), top.display().to_string());
        if let Some(layer_root) = top.parent() {
            data.insert("WorkDir".to_string(), layer_root.join("work").display().to_string());
        }
        if !lower.is_empty() {
            let joined: Vec<String> = lower.iter().map(|p| p.display().to_string()).collect();
            data.insert("LowerDir".to_string(), joined.join(":"));
        }
    }
    ImageInspect {
        id: rec.id.clone(),
        digest: rec.digest.to_string(),
        repo_tags: rec.names.clone(),
        repo_digests: repo_digests(rec),
        parent: String::new(),
        comment: config.comment.clone().unwrap_or_default(),
        created: go_time(rec.created.as_deref()).0,
        user: settings.user.clone().unwrap_or_default(),
        config: settings,
        version: config.docker_version.clone().unwrap_or_default(),
        author: config.author.clone().unwrap_or_default(),
        architecture: config.architecture.clone(),
        os: config.os.clone(),
        size: rec.size,
        virtual_size: rec.size,
        graph_driver: GraphDriver {
            name: "overlay".into(),
            data,
        },
        root_fs: RootFsInfo {
            fs_type: "layers".into(),
            layers: rec.layers.iter().map(|l| l.diff_id.to_string()).collect(),
        },
        labels: labels_or_null(rec),
        annotations,
        manifest_type: rec.manifest_media_type.clone(),
        history: config.history.clone(),
        names_history: rec.names_history.clone(),
    }
}

/// Builds the `images` row; `containers` is how many containers use the image.
pub fn summarize_image(rec: &ImageRecord, containers: usize) -> ImageSummary {
    let (created_at, created) = go_time(rec.created.as_deref());
    ImageSummary {
        id: rec.id.clone(),
        parent_id: String::new(),
        repo_tags: None,
        repo_digests: repo_digests(rec),
        size: rec.size,
        shared_size: 0,
        virtual_size: rec.size,
        labels: labels_or_null(rec),
        containers,
        names: rec.names.clone(),
        digest: rec.digest.to_string(),
        history: rec.names_history.clone(),
        created,
        created_at,
    }
}

/// `image history`, newest first: the config's history entries, the ones that made a layer
/// matched to the layers from the top down. `layer_sizes` maps chain IDs to sizes.
pub fn history_entries(
    rec: &ImageRecord,
    config: &ImageConfig,
    layer_sizes: &HashMap<Digest, u64>,
) -> Vec<HistoryEntry> {
    let mut layers = rec.layers.iter().rev();
    let mut out = Vec::new();
    let history: Vec<History> = if config.history.is_empty() {
        rec.layers.iter().map(|_| History::default()).collect()
    } else {
        config.history.clone()
    };
    for h in history.iter().rev() {
        let size = if h.empty_layer {
            0
        } else {
            layers
                .next()
                .and_then(|l| layer_sizes.get(&l.chain_id))
                .copied()
                .unwrap_or(0)
        };
        out.push(HistoryEntry {
            id: if out.is_empty() {
                rec.id.clone()
            } else {
                "<missing>".to_string()
            },
            created: h.created.clone(),
            created_by: h.created_by.clone().unwrap_or_default(),
            tags: if out.is_empty() { rec.names.clone() } else { Vec::new() },
            size,
            comment: h.comment.clone().unwrap_or_default(),
        });
    }
    out
}

/// `image tree` of `rec`, given every image (to say which image tops each layer).
pub fn tree_of(rec: &ImageRecord, all: &[ImageRecord], layer_sizes: &HashMap<Digest, u64>) -> ImageTree {
    let layers = rec
        .layers
        .iter()
        .map(|l| TreeLayer {
            id: l.chain_id.clone(),
            size: layer_sizes.get(&l.chain_id).copied().unwrap_or(0),
            top_layer_of: all
                .iter()
                .filter(|i| i.top_layer() == Some(&l.chain_id))
                .flat_map(|i| {
                    if i.names.is_empty() {
                        vec![corral_define::short_id(&i.id).to_string()]
                    } else {
                        i.names.clone()
                    }
                })
                .collect(),
        })
        .collect();
    ImageTree {
        id: rec.id.clone(),
        names: rec.names.clone(),
        size: rec.size,
        layers,
    }
}
