//! Image names: validation and normalization the way podman shows them.
//!
//! A name the user types without a registry (`busybox`) is stored as
//! `localhost/busybox:latest`, as podman does for images it did not pull; a
//! qualified name (`docker.io/library/x`, `quay.io/a/b:1`) stays as written
//! with `:latest` added when it has no tag. Names read from a docker archive
//! follow docker's convention instead (`busybox` is `docker.io/library/busybox`).

use crate::error::{Result, StorageError};

pub const DEFAULT_TAG: &str = "latest";
pub const LOCAL_REGISTRY: &str = "localhost";
pub const DOCKER_REGISTRY: &str = "docker.io";

/// A parsed image name: repository (with registry), and a tag or a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageName {
    /// `registry/path`, e.g. `localhost/busybox`.
    pub repo: String,
    pub tag: Option<String>,
    /// `sha256:...` when the name was `repo@sha256:...`.
    pub digest: Option<String>,
}

impl ImageName {
    /// The name as stored and shown: `repo:tag` or `repo@digest`.
    pub fn full(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => format!("{}@{d}", self.repo),
            (None, Some(t)) => format!("{}:{t}", self.repo),
            (None, None) => format!("{}:{DEFAULT_TAG}", self.repo),
        }
    }
}

fn invalid(name: &str, reason: &str) -> StorageError {
    StorageError::InvalidName {
        name: name.to_string(),
        reason: reason.to_string(),
    }
}

/// Splits `name` into path, tag and digest and validates each part, without qualifying it.
pub fn parse_name(name: &str) -> Result<ImageName> {
    if name.is_empty() || name.len() > 4096 {
        return Err(invalid(name, "empty or too long"));
    }
    let (rest, digest) = match name.split_once('@') {
        Some((r, d)) => {
            crate::digest::Digest::parse(d)?;
            (r, Some(d.to_string()))
        }
        None => (name, None),
    };
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (repo, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    if let Some(tag) = tag {
        let ok = !tag.is_empty()
            && tag.len() <= 128
            && !tag.starts_with(['.', '-'])
            && tag
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        if !ok {
            return Err(invalid(name, "invalid tag"));
        }
    }
    let mut components = repo.split('/');
    let first = components.next().unwrap_or("");
    let has_domain = repo.contains('/') && is_domain(first);
    let path_components: Vec<&str> = if has_domain {
        components.collect()
    } else {
        repo.split('/').collect()
    };
    if path_components.is_empty() || !path_components.iter().all(|c| is_path_component(c)) {
        return Err(invalid(
            name,
            "repository name must be lowercase letters, digits and separators",
        ));
    }
    Ok(ImageName {
        repo: repo.to_string(),
        tag: tag.map(str::to_string),
        digest,
    })
}

fn is_domain(s: &str) -> bool {
    (s.contains('.') || s.contains(':') || s == LOCAL_REGISTRY)
        && !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'))
}

fn is_path_component(c: &str) -> bool {
    let bytes = c.as_bytes();
    !c.is_empty()
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'))
}

fn has_registry(repo: &str) -> bool {
    repo.split_once('/').is_some_and(|(first, _)| is_domain(first))
}

/// podman's form for a locally named image: `busybox` -> `localhost/busybox:latest`.
pub fn normalize_name(name: &str) -> Result<String> {
    let mut parsed = parse_name(name)?;
    if !has_registry(&parsed.repo) {
        parsed.repo = format!("{LOCAL_REGISTRY}/{}", parsed.repo);
    } else if let Some(rest) = parsed.repo.strip_prefix("docker.io/")
        && !rest.contains('/')
    {
        parsed.repo = format!("{DOCKER_REGISTRY}/library/{rest}");
    }
    Ok(parsed.full())
}

/// docker's form: `busybox` -> `docker.io/library/busybox:latest` (names in docker archives).
pub fn normalize_docker_name(name: &str) -> Result<String> {
    let mut parsed = parse_name(name)?;
    if !has_registry(&parsed.repo) {
        parsed.repo = if parsed.repo.contains('/') {
            format!("{DOCKER_REGISTRY}/{}", parsed.repo)
        } else {
            format!("{DOCKER_REGISTRY}/library/{}", parsed.repo)
        };
    }
    normalize_name(&parsed.full())
}

/// The repository part of a stored name (`localhost/busybox:latest` -> `localhost/busybox`).
pub fn repo_of(name: &str) -> &str {
    if let Some((repo, _)) = name.split_once('@') {
        return repo;
    }
    let last_slash = name.rfind('/').map_or(0, |i| i + 1);
    match name[last_slash..].rfind(':') {
        Some(i) => &name[..last_slash + i],
        None => name,
    }
}

/// The tag of a stored name, if it has one.
pub fn tag_of(name: &str) -> Option<&str> {
    if name.contains('@') {
        return None;
    }
    let last_slash = name.rfind('/').map_or(0, |i| i + 1);
    name[last_slash..].rfind(':').map(|i| &name[last_slash + i + 1..])
}

/// True when the stored (fully qualified) `stored` matches what the user typed as a short
/// name: `busybox` or `library/busybox:1` match `docker.io/library/busybox:1` by path suffix.
pub fn short_name_matches(stored: &str, typed: &ImageName) -> bool {
    if has_registry(&typed.repo) {
        return false;
    }
    let want_tag = typed.tag.as_deref().unwrap_or(DEFAULT_TAG);
    if typed.digest.is_some() || tag_of(stored) != Some(want_tag) {
        return false;
    }
    let repo = repo_of(stored);
    repo.strip_suffix(typed.repo.as_str())
        .is_some_and(|head| head.ends_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_and_qualified_names() {
        assert_eq!(normalize_name("busybox").unwrap(), "localhost/busybox:latest");
        assert_eq!(normalize_name("busybox:1.36").unwrap(), "localhost/busybox:1.36");
        assert_eq!(normalize_name("a/b").unwrap(), "localhost/a/b:latest");
        assert_eq!(
            normalize_name("docker.io/library/x").unwrap(),
            "docker.io/library/x:latest"
        );
        assert_eq!(normalize_name("docker.io/x").unwrap(), "docker.io/library/x:latest");
        assert_eq!(normalize_name("quay.io/a/b:v1").unwrap(), "quay.io/a/b:v1");
        assert_eq!(normalize_name("localhost:5000/a:v1").unwrap(), "localhost:5000/a:v1");
        assert_eq!(normalize_name("localhost/busybox").unwrap(), "localhost/busybox:latest");
    }

    #[test]
    fn docker_names() {
        assert_eq!(
            normalize_docker_name("busybox").unwrap(),
            "docker.io/library/busybox:latest"
        );
        assert_eq!(normalize_docker_name("me/app:1").unwrap(), "docker.io/me/app:1");
        assert_eq!(
            normalize_docker_name("localhost/busybox:latest").unwrap(),
            "localhost/busybox:latest"
        );
    }

    #[test]
    fn invalid_names() {
        for bad in ["", "Busybox", "a//b", "a:", "a:-x", "/a", "a/", "a@sha256:12", "a b"] {
            assert!(normalize_name(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn parts_and_short_names() {
        assert_eq!(repo_of("localhost:5000/a:v1"), "localhost:5000/a");
        assert_eq!(tag_of("localhost:5000/a:v1"), Some("v1"));
        assert_eq!(tag_of("localhost:5000/a"), None);
        let typed = parse_name("busybox").unwrap();
        assert!(short_name_matches("docker.io/library/busybox:latest", &typed));
        assert!(short_name_matches("localhost/busybox:latest", &typed));
        assert!(!short_name_matches("localhost/notbusybox:latest", &typed));
        assert!(!short_name_matches("localhost/busybox:1", &typed));
    }
}
