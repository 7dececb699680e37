//! `--change` instructions of `podman commit` and `podman import`: the Dockerfile
//! instructions that only set config (CMD, ENTRYPOINT, ENV, LABEL, EXPOSE, WORKDIR, USER,
//! VOLUME, STOPSIGNAL), in Dockerfile syntax with the JSON-array form where Dockerfiles
//! take it. Error texts are podman's.

use std::collections::BTreeMap;

use crate::error::{Result, StorageError};
use crate::spec::ContainerSettings;

fn invalid(change: &str, reason: impl Into<String>) -> StorageError {
    StorageError::InvalidChange {
        change: change.to_string(),
        reason: reason.into(),
    }
}

/// Splits on unquoted whitespace, removing quotes and backslash escapes (Dockerfile words).
fn words(value: &str, change: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"') | None, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                in_word = true;
            }
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err(invalid(change, "unterminated quote"));
    }
    if in_word {
        out.push(cur);
    }
    Ok(out)
}

/// The JSON-array form, when `value` is one.
fn json_array(value: &str) -> Option<Vec<String>> {
    if value.starts_with('[') {
        serde_json::from_str(value).ok()
    } else {
        None
    }
}

/// `KEY=VALUE ...` pairs, or the legacy single `KEY VALUE` form.
fn pairs(value: &str, change: &str, what: &str) -> Result<Vec<(String, String)>> {
    let first = value.split_whitespace().next().unwrap_or("");
    if !first.contains('=') {
        let (key, rest) = value.split_once(char::is_whitespace).unwrap_or((value, ""));
        let rest = rest.trim();
        if rest.is_empty() {
            return Err(invalid(change, format!("{what} must be formatted as KEY=VALUE")));
        }
        return Ok(vec![(key.to_string(), words(rest, change)?.join(" "))]);
    }
    words(value, change)?
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => Err(invalid(change, format!("{what} must be formatted as KEY=VALUE"))),
        })
        .collect()
}

fn set_env(env: &mut Vec<String>, key: &str, value: &str) {
    env.retain(|e| e.split_once('=').map_or(e.as_str(), |(k, _)| k) != key);
    env.push(format!("{key}={value}"));
}

fn port(spec: &str, change: &str) -> Result<String> {
    let (num, proto) = match spec.split('/').collect::<Vec<_>>().as_slice() {
        [n] => (*n, "tcp".to_string()),
        [n, p] => (*n, p.to_ascii_lowercase()),
        _ => return Err(invalid(change, "EXPOSE port must be formatted as PORT[/PROTO]")),
    };
    let n: u32 = num
        .parse()
        .map_err(|_| invalid(change, format!("EXPOSE port must be an integer: {num:?} is not")))?;
    if n == 0 || n > 65535 {
        return Err(invalid(change, "EXPOSE port must be a valid port number"));
    }
    if proto != "tcp" && proto != "udp" && proto != "sctp" {
        return Err(invalid(change, "EXPOSE protocol must be TCP, UDP or SCTP"));
    }
    Ok(format!("{n}/{proto}"))
}

/// Applies `changes` in order to `settings`.
pub fn apply_changes(settings: &mut ContainerSettings, changes: &[String]) -> Result<()> {
    for change in changes {
        let trimmed = change.trim();
        let (instruction, value) = match trimmed.split_once(char::is_whitespace) {
            Some((i, v)) if !v.trim().is_empty() => (i.to_ascii_uppercase(), v.trim()),
            _ => return Err(invalid(change, "must be formatted as KEY VALUE")),
        };
        match instruction.as_str() {
            "CMD" | "ENTRYPOINT" => {
                let argv = json_array(value)
                    .unwrap_or_else(|| vec!["/bin/sh".to_string(), "-c".to_string(), value.to_string()]);
                if instruction == "CMD" {
                    settings.cmd = Some(argv);
                } else {
                    settings.entrypoint = Some(argv);
                }
            }
            "ENV" => {
                let env = settings.env.get_or_insert_with(Vec::new);
                for (k, v) in pairs(value, change, "ENV")? {
                    set_env(env, &k, &v);
                }
            }
            "LABEL" => {
                let labels = settings.labels.get_or_insert_with(BTreeMap::new);
                for (k, v) in pairs(value, change, "LABEL")? {
                    labels.insert(k, v);
                }
            }
            "EXPOSE" => {
                let ports = settings.exposed_ports.get_or_insert_with(BTreeMap::new);
                for w in words(value, change)? {
                    ports.insert(port(&w, change)?, serde_json::json!({}));
                }
            }
            "VOLUME" => {
                let list = match json_array(value) {
                    Some(l) => l,
                    None => words(value, change)?,
                };
                let volumes = settings.volumes.get_or_insert_with(BTreeMap::new);
                for v in list {
                    if !v.starts_with('/') {
                        return Err(invalid(change, format!("VOLUME {v} is not an absolute path")));
                    }
                    volumes.insert(v, serde_json::json!({}));
                }
            }
            "WORKDIR" => {
                let dir = words(value, change)?.join(" ");
                let dir = if dir.starts_with('/') {
                    dir
                } else {
                    let base = settings.working_dir.as_deref().unwrap_or("/");
                    format!("{}/{dir}", base.trim_end_matches('/'))
                };
                settings.working_dir = Some(dir);
            }
            "USER" => settings.user = Some(value.to_string()),
            "STOPSIGNAL" => settings.stop_signal = Some(value.to_string()),
            other => return Err(invalid(change, format!("invalid instruction {other}"))),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(changes: &[&str]) -> Result<ContainerSettings> {
        let mut s = ContainerSettings {
            env: Some(vec!["PATH=/bin".into(), "A=old".into()]),
            working_dir: Some("/srv".into()),
            ..Default::default()
        };
        let owned: Vec<String> = changes.iter().map(|c| c.to_string()).collect();
        apply_changes(&mut s, &owned)?;
        Ok(s)
    }

    #[test]
    fn every_instruction() {
        let s = apply(&[
            r#"CMD ["sh", "-c", "echo hi"]"#,
            "ENTRYPOINT /bin/init --flag",
            r#"ENV A=new B="two words""#,
            "ENV LEGACY some value",
            r#"LABEL org.x=1 "quoted key"=v"#,
            "expose 80 53/udp",
            r#"VOLUME ["/data", "/logs"]"#,
            "WORKDIR app",
            "USER 1000:1000",
            "STOPSIGNAL SIGINT",
        ])
        .unwrap();
        assert_eq!(s.cmd.unwrap(), ["sh", "-c", "echo hi"]);
        assert_eq!(s.entrypoint.unwrap(), ["/bin/sh", "-c", "/bin/init --flag"]);
        assert_eq!(
            s.env.unwrap(),
            ["PATH=/bin", "A=new", "B=two words", "LEGACY=some value"]
        );
        let labels = s.labels.unwrap();
        assert_eq!(labels["org.x"], "1");
        assert_eq!(labels["quoted key"], "v");
        assert_eq!(
            s.exposed_ports.unwrap().keys().collect::<Vec<_>>(),
            ["53/udp", "80/tcp"]
        );
        assert_eq!(s.volumes.unwrap().keys().collect::<Vec<_>>(), ["/data", "/logs"]);
        assert_eq!(s.working_dir.unwrap(), "/srv/app");
        assert_eq!(s.user.unwrap(), "1000:1000");
        assert_eq!(s.stop_signal.unwrap(), "SIGINT");
    }

    #[test]
    fn bad_changes_use_podman_texts() {
        let e = apply(&["FROM busybox"]).unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"invalid change "FROM busybox" - invalid instruction FROM"#
        );
        assert_eq!(
            apply(&["CMD"]).unwrap_err().to_string(),
            r#"invalid change "CMD" - must be formatted as KEY VALUE"#
        );
        assert!(apply(&["EXPOSE 70000"]).is_err());
        assert!(apply(&["EXPOSE 80/icmp"]).is_err());
        assert!(apply(&["ENV KEYONLY"]).is_err());
        assert!(apply(&["LABEL a=\"unterminated"]).is_err());
        assert!(apply(&["VOLUME relative"]).is_err());
    }
}
