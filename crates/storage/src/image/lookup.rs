//! Finding an image the way podman resolves what the user typed.

use corral_define::is_id_prefix;

use super::ImageRecord;
use crate::digest::is_sha256_hex;
use crate::error::{Result, StorageError};
use crate::reference::{normalize_docker_name, normalize_name, parse_name, repo_of, short_name_matches};

/// How a reference matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchedBy {
    /// The full ID or a unique prefix of it.
    Id,
    /// One of the image's names (the stored, normalized one).
    Name(String),
    /// `repo@sha256:...`: the manifest digest.
    Digest,
}

/// The position of the image found in the list, and how it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    pub index: usize,
    pub by: MatchedBy,
}

fn not_found(reference: &str) -> StorageError {
    StorageError::NoSuchImage {
        reference: reference.to_string(),
    }
}

fn unique(reference: &str, hits: Vec<(usize, MatchedBy)>, images: &[ImageRecord]) -> Result<Option<Match>> {
    let mut ids: Vec<usize> = hits.iter().map(|(i, _)| *i).collect();
    ids.sort_unstable();
    ids.dedup();
    match ids.len() {
        0 => Ok(None),
        1 => {
            let (index, by) = hits.into_iter().next().unwrap_or((ids[0], MatchedBy::Id));
            Ok(Some(Match { index, by }))
        }
        _ => Err(StorageError::AmbiguousImage {
            reference: reference.to_string(),
            candidates: ids.iter().map(|&i| images[i].id.clone()).collect(),
        }),
    }
}

/// Resolves `reference`: full ID (with or without `sha256:`), exact name, the name
/// normalized (`busybox` -> `localhost/busybox:latest`, then `docker.io/library/busybox:latest`),
/// `name@digest`, a short name matching one image's repository by suffix, then a unique ID
/// prefix. Several images matching a short name or prefix is an error, as in podman.
pub fn lookup(images: &[ImageRecord], reference: &str) -> Result<Match> {
    let bare = reference.strip_prefix("sha256:").unwrap_or(reference);
    if is_sha256_hex(bare)
        && let Some(index) = images.iter().position(|i| i.id == bare)
    {
        return Ok(Match {
            index,
            by: MatchedBy::Id,
        });
    }
    let by_name = |name: &str| {
        images
            .iter()
            .position(|i| i.names.iter().any(|n| n == name))
            .map(|index| Match {
                index,
                by: MatchedBy::Name(name.to_string()),
            })
    };
    if let Some(m) = by_name(reference) {
        return Ok(m);
    }
    if let Ok(parsed) = parse_name(reference) {
        if let Some(digest) = &parsed.digest {
            let repos: Vec<String> = [normalize_name(&parsed.repo), normalize_docker_name(&parsed.repo)]
                .into_iter()
                .flatten()
                .map(|n| repo_of(&n).to_string())
                .collect();
            let hits = images
                .iter()
                .enumerate()
                .filter(|(_, i)| {
                    i.digest.as_str() == digest && i.names.iter().any(|n| repos.iter().any(|r| repo_of(n) == r))
                })
                .map(|(idx, _)| (idx, MatchedBy::Digest))
                .collect();
            return unique(reference, hits, images)?.ok_or_else(|| not_found(reference));
        }
        for candidate in [normalize_name(reference), normalize_docker_name(reference)]
            .into_iter()
            .flatten()
        {
            if let Some(m) = by_name(&candidate) {
                return Ok(m);
            }
        }
        let hits = images
            .iter()
            .enumerate()
            .flat_map(|(idx, i)| {
                i.names
                    .iter()
                    .filter(|n| short_name_matches(n, &parsed))
                    .map(move |n| (idx, MatchedBy::Name(n.clone())))
            })
            .collect();
        if let Some(m) = unique(reference, hits, images)? {
            return Ok(m);
        }
    }
    if is_id_prefix(bare) {
        let hits = images
            .iter()
            .enumerate()
            .filter(|(_, i)| i.id.starts_with(bare))
            .map(|(idx, _)| (idx, MatchedBy::Id))
            .collect();
        if let Some(m) = unique(reference, hits, images)? {
            return Ok(m);
        }
    }
    Err(not_found(reference))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Digest;
    use std::collections::BTreeMap;

    fn rec(id_seed: &str, names: &[&str]) -> ImageRecord {
        let d = Digest::of_bytes(id_seed.as_bytes());
        ImageRecord {
            id: d.hex().to_string(),
            names: names.iter().map(|s| s.to_string()).collect(),
            names_history: Vec::new(),
            digest: Digest::of_bytes(format!("m{id_seed}").as_bytes()),
            manifest_media_type: String::new(),
            config_digest: d,
            created: None,
            loaded: String::new(),
            size: 0,
            labels: BTreeMap::new(),
            layers: Vec::new(),
        }
    }

    #[test]
    fn resolution_order() {
        let images = vec![
            rec("a", &["localhost/busybox:latest"]),
            rec("b", &["docker.io/library/alpine:3", "quay.io/x/busybox:1"]),
            rec("c", &["quay.io/y/busybox:1"]),
        ];
        let m = |r: &str| lookup(&images, r).map(|m| m.index);
        assert_eq!(m("busybox").unwrap(), 0);
        assert_eq!(m("localhost/busybox").unwrap(), 0);
        assert_eq!(m("alpine:3").unwrap(), 1);
        assert_eq!(m("x/busybox:1").unwrap(), 1);
        assert!(matches!(
            lookup(&images, "busybox:1"),
            Err(StorageError::AmbiguousImage { .. })
        ));
        assert_eq!(m(&images[2].id).unwrap(), 2);
        assert_eq!(m(&format!("sha256:{}", images[2].id)).unwrap(), 2);
        assert_eq!(m(&images[1].id[..10]).unwrap(), 1);
        let digest_ref = format!("busybox@{}", images[0].digest);
        assert_eq!(lookup(&images, &digest_ref).unwrap().by, MatchedBy::Digest);
        assert!(matches!(
            lookup(&images, "nothere"),
            Err(StorageError::NoSuchImage { .. })
        ));
        assert_eq!(
            lookup(&images, "busybox").unwrap().by,
            MatchedBy::Name("localhost/busybox:latest".into())
        );
    }
}
