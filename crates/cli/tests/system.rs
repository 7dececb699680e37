//! Volumes in containers and the system commands end to end: the `corral` binary with
//! real conmon and crun on a busybox image, each test in its own root and runroot.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Env, IMAGE, TestImage};
use corral_cli::cli::GlobalOptions;
use corral_storage::ImageStore;

/// Names of the volumes, sorted.
fn volumes(env: &Env) -> Vec<String> {
    let mut names: Vec<String> = env.ok(&["volume", "ls", "-q"]).lines().map(str::to_owned).collect();
    names.sort();
    names
}

fn is_anonymous_name(name: &str) -> bool {
    name.len() == 64 && name.chars().all(|c| c.is_ascii_hexdigit())
}

#[test]
fn named_and_anonymous_volumes() {
    let env = Env::new(TestImage::WithDataVolume);
    // A named volume is made on first use and outlives the containers.
    env.ok(&[
        "run",
        "--rm",
        "-v",
        "shared:/mnt",
        "busybox",
        "sh",
        "-c",
        "echo hello > /mnt/f",
    ]);
    let out = env.ok(&["run", "--rm", "-v", "shared:/mnt:ro", "busybox", "cat", "/mnt/f"]);
    assert_eq!(out, "hello\n");
    let (code, _, stderr) = env.run(&["run", "--rm", "-v", "shared:/mnt:ro", "busybox", "touch", "/mnt/g"]);
    assert_ne!(code, 0, "a read-only volume refuses writes");
    assert!(stderr.contains("Read-only"), "{stderr}");
    // --rm took the image's anonymous /data volumes with the containers.
    assert_eq!(volumes(&env), ["shared"]);

    // An empty volume gets the image's content at its destination on first use.
    let out = env.ok(&["run", "--rm", "-v", "seeded:/data", "busybox", "cat", "/data/seed"]);
    assert_eq!(out, "seeded\n");
    let out = env.ok(&["run", "--rm", "busybox", "cat", "/data/seed"]);
    assert_eq!(out, "seeded\n", "the anonymous volume is copied up too");

    // `--mount` of each type.
    let host = env.dir.path().join("bound");
    std::fs::create_dir(&host).unwrap();
    let bind = format!("type=bind,src={},dst=/b", host.display());
    let script = "echo b > /b/f; echo v > /m/f; echo t > /t/f; grep ' /t ' /proc/mounts | cut -d' ' -f3";
    let out = env.ok(&[
        "run",
        "--rm",
        "--mount",
        &bind,
        "--mount",
        "type=volume,src=mounted,dst=/m",
        "--mount",
        "type=tmpfs,dst=/t",
        "busybox",
        "sh",
        "-c",
        script,
    ]);
    assert_eq!(out, "tmpfs\n");
    assert_eq!(std::fs::read_to_string(host.join("f")).unwrap(), "b\n");
    assert_eq!(
        env.ok(&["run", "--rm", "-v", "mounted:/x", "busybox", "cat", "/x/f"]),
        "v\n"
    );

    // A created container holds its volumes: a named one cannot be removed (exit 2).
    let id = env.ok(&[
        "create", "--name", "holder", "-v", "keep:/k", "-v", "/anon", "busybox", "true",
    ]);
    let anonymous: Vec<String> = volumes(&env).into_iter().filter(|n| is_anonymous_name(n)).collect();
    assert_eq!(anonymous.len(), 2, "-v /anon and the image's /data: {anonymous:?}");
    let (code, _, stderr) = env.run(&["volume", "rm", "keep"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("volume is being used"), "{stderr}");
    assert_eq!(id.trim().len(), 64, "{id}");

    // While it runs its volumes are mounted once; stopping unmounts them.
    env.ok(&["start", "holder"]);
    env.ok(&["wait", "holder"]);
    // conmon's exit command cleans up (unmounts) a moment after the exit.
    let deadline = Instant::now() + Duration::from_secs(10);
    while env.ok(&["volume", "inspect", "--format", "{{.MountCount}}", "keep"]) != "0\n" {
        assert!(Instant::now() < deadline, "the exit command never unmounted the volume");
        std::thread::sleep(Duration::from_millis(100));
    }
    env.ok(&[
        "run", "-d", "--name", "sleeper", "-v", "keep:/k", "busybox", "sleep", "100",
    ]);
    let count = env.ok(&["volume", "inspect", "--format", "{{.MountCount}}", "keep"]);
    assert_eq!(count, "1\n");
    env.ok(&["stop", "-t", "0", "sleeper"]);
    let count = env.ok(&["volume", "inspect", "--format", "{{.MountCount}}", "keep"]);
    assert_eq!(count, "0\n");
    env.ok(&["rm", "-v", "sleeper"]);

    // `rm -v` removes the anonymous volumes, not the named ones.
    env.ok(&["rm", "-v", "holder"]);
    assert_eq!(volumes(&env), ["keep", "mounted", "seeded", "shared"]);
    env.ok(&["volume", "rm", "keep"]);
}

#[test]
fn info_df_prune_and_reset() {
    let env = Env::new(TestImage::WithDataVolume);
    let graph_root = env.ok(&["info", "--format", "{{.Store.GraphRoot}}"]);
    assert_eq!(graph_root.trim(), env.root.join("storage").to_str().unwrap());

    let stopped = env.ok(&["create", "busybox", "true"]);
    let stopped = stopped.trim();
    env.ok(&["run", "-d", "--name", "sleeper", "busybox", "sleep", "100"]);
    let info: serde_json::Value = serde_json::from_str(&env.ok(&["info", "--format", "json"])).unwrap();
    assert_eq!(info["host"]["ociRuntime"]["name"], "crun");
    assert_eq!(info["host"]["conmon"]["path"], "/usr/bin/conmon");
    assert_eq!(info["host"]["os"], "linux");
    assert_eq!(info["store"]["imageStore"]["number"], 1);
    let store = &info["store"]["containerStore"];
    assert_eq!(
        (&store["number"], &store["running"], &store["stopped"]),
        (&2.into(), &1.into(), &1.into())
    );
    assert_eq!(info["store"]["volumePath"], env.root.join("volumes").to_str().unwrap());
    assert!(env.ok(&["info"]).contains("graphDriverName: "));

    let df = env.ok(&["system", "df"]);
    let lines: Vec<Vec<&str>> = df.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(lines[0], ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]);
    assert_eq!(lines[1][..3], ["Images", "1", "1"]);
    assert_eq!(lines[2][..3], ["Containers", "2", "1"]);
    assert_eq!(lines[3][..4], ["Local", "Volumes", "2", "2"]);
    let types = env.ok(&["system", "df", "--format", "{{.Type}}:{{.Total}}"]);
    assert_eq!(types, "Images:1\nContainers:2\nLocal Volumes:2\n");

    // The sleeper goes without its volume: prune takes the stopped container and both volumes.
    env.ok(&["rm", "-f", "-t", "0", "sleeper"]);
    let out = env.ok(&["system", "prune", "-f", "--volumes"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[..2], ["Deleted Containers", stopped], "{out}");
    assert_eq!(lines[2], "Deleted Volumes", "{out}");
    assert_eq!(lines.len(), 6, "{out}");
    assert!(lines[5].starts_with("Total reclaimed space: "), "{out}");
    assert!(env.ok(&["ps", "-aq"]).is_empty());
    assert!(env.ok(&["volume", "ls", "-q"]).is_empty());
    assert_eq!(
        env.ok(&["images", "-q"]).lines().count(),
        1,
        "the named image stays without -a"
    );

    env.ok(&["run", "-d", "-v", "v1:/v", "busybox", "sleep", "100"]);
    env.ok(&["system", "reset", "-f"]);
    assert!(!env.root.exists(), "reset removes the root");
    assert!(env.ok(&["ps", "-aq"]).is_empty());
    assert!(env.ok(&["images", "-q"]).is_empty());
}

#[test]
fn external_storage_containers() {
    use corral_storage::ContainerFsStore;
    let env = Env::new(TestImage::Plain);
    let known = env.ok(&["create", "--name", "known", "busybox", "true"]);
    let id = "e".repeat(64);
    {
        let global = GlobalOptions {
            root: Some(env.root.clone()),
            runroot: Some(env.runroot.clone()),
            ..GlobalOptions::default()
        };
        let runtime = corral_cli::engine::runtime(&global).unwrap();
        let store = runtime.storage().unwrap();
        let image = ImageStore::lookup(store, IMAGE).unwrap();
        store
            .create_container(&id, &image.id, &["outsider".to_owned()], "")
            .unwrap();
    }
    assert_eq!(
        env.ok(&["ps", "-aq"]),
        format!("{}\n", &known.trim()[..12]),
        "only with --external"
    );
    let out = env.ok(&[
        "ps",
        "-a",
        "--external",
        "--format",
        "{{.ID}} {{.Names}} {{.Status}} {{.Image}}",
    ]);
    let mut lines: Vec<&str> = out.lines().collect();
    lines.sort();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(lines[1], format!("{} outsider Storage {IMAGE}", &id[..12]));
    assert!(lines[0].ends_with(&format!("known Created {IMAGE}")), "{out}");

    // `rm --storage` refuses a container the state knows, removes the outsider.
    let (code, _, stderr) = env.run(&["rm", "--storage", "known"]);
    assert_ne!(code, 0);
    assert!(stderr.contains("exists in libpod as container"), "{stderr}");
    assert_eq!(env.ok(&["rm", "--storage", "outsider"]), "outsider\n");
    assert_eq!(env.ok(&["ps", "-aq", "--external"]).lines().count(), 1);
    let (code, _, _) = env.run(&["rm", "--storage", "outsider"]);
    assert_eq!(code, 1, "no such container");
}
