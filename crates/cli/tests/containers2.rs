//! More container commands end to end (exec, attach, rename, top, prune,
//! inspect, diff, export, commit, mount): the `corral` binary with real conmon
//! and crun on the busybox test image, each test in its own root and runroot.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{Env, IMAGE, TestImage};

/// A name no other test uses.
fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", std::process::id())
}

/// Starts a `sleep` container called `name`; returns its full ID.
fn sleeper(env: &Env, name: &str) -> String {
    env.ok(&["run", "-d", "--name", name, "busybox", "sleep", "1000"])
        .trim()
        .to_owned()
}

#[test]
fn exec_runs_in_the_container_with_podmans_exit_codes() {
    let env = Env::new(TestImage::Plain);
    let name = unique("exec");
    sleeper(&env, &name);
    let (code, stdout, stderr) = env.run(&["exec", &name, "sh", "-c", "echo out; echo err >&2; exit 3"]);
    assert_eq!((code, stdout.as_str(), stderr.as_str()), (3, "out\n", "err\n"));

    let env_file = env.dir.path().join("env");
    std::fs::write(&env_file, "# comment\nFROM_FILE=f\n").unwrap();
    let printed = env.ok(&[
        "exec",
        "-e",
        "A=1",
        "--env-file",
        env_file.to_str().unwrap(),
        "-w",
        "/tmp",
        "-u",
        "0:0",
        &name,
        "sh",
        "-c",
        "echo $A $FROM_FILE $(pwd) $(id -u)",
    ]);
    assert_eq!(printed, "1 f /tmp 0\n");

    let output = env
        .corral()
        .args(["exec", "-i", &name, "cat"])
        .write_stdin("piped\n")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout), "piped\n");

    let (code, _, stderr) = env.run(&["exec", &name, "/nonexistent"]);
    assert_eq!(code, 127, "{stderr}");
    assert!(stderr.starts_with("Error: "), "{stderr}");

    let (code, _, stderr) = env.run(&["exec", &name, "/etc"]);
    assert_eq!(code, 126, "{stderr}");
    let tty = env.ok(&["exec", "-t", &name, "tty"]);
    assert!(tty.starts_with("/dev/pts/"), "{tty}");

    // --privileged widens the session's capabilities beyond the container's defaults.
    let caps = |extra: &[&str]| {
        let args = [&["exec"][..], extra, &[&name, "grep", "CapEff", "/proc/self/status"]].concat();
        let line = env.ok(&args);
        let hex = line.split_whitespace().nth(1).unwrap_or_default().to_string();
        u64::from_str_radix(&hex, 16).unwrap()
    };
    let (plain, privileged) = (caps(&[]), caps(&["--privileged"]));
    assert_eq!(plain & privileged, plain, "{plain:x} {privileged:x}");
    assert!(privileged.count_ones() > plain.count_ones(), "{plain:x} {privileged:x}");

    let session = env.ok(&["exec", "-d", &name, "sh", "-c", "echo detached > /tmp/d"]);
    assert_eq!(session.trim().len(), 64, "{session}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while env.run(&["exec", &name, "cat", "/tmp/d"]).1 != "detached\n" {
        assert!(Instant::now() < deadline, "the detached exec never ran");
        std::thread::sleep(Duration::from_millis(100));
    }

    env.ok(&["stop", "-t", "0", &name]);
    let (code, stdout, stderr) = env.run(&["exec", &name, "true"]);
    // podman 4.3.1 exits 255 here (no exec session could be made).
    assert_eq!((code, stdout.as_str()), (255, ""));
    assert_eq!(
        stderr,
        "Error: can only create exec sessions on running containers: container state improper\n"
    );
    let (code, _, stderr) = env.run(&["exec", "nosuch", "true"]);
    assert_eq!(code, 125);
    assert_eq!(
        stderr,
        "Error: no container with name or ID \"nosuch\" found: no such container\n"
    );
}

#[test]
fn attach_streams_until_the_container_exits_with_its_code() {
    let env = Env::new(TestImage::Plain);
    let name = unique("attach");
    env.ok(&[
        "run",
        "-d",
        "-i",
        "--name",
        &name,
        "busybox",
        "sh",
        "-c",
        "sleep 1; echo late; read line; echo got $line; exit 4",
    ]);
    let output = env
        .corral()
        .args(["attach", &name])
        .write_stdin("hello\n")
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout), "late\ngot hello\n");

    let (code, _, stderr) = env.run(&["attach", &name]);
    assert_eq!(code, 125);
    assert_eq!(stderr, "Error: you can only attach to running containers\n");

    let quiet_name = unique("nostdin");
    env.ok(&[
        "run",
        "-d",
        "-i",
        "--name",
        &quiet_name,
        "busybox",
        "sh",
        "-c",
        "sleep 1; echo done",
    ]);
    let output = env
        .corral()
        .args(["attach", "--no-stdin", &quiet_name])
        .write_stdin("ignored\n")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "done\n");
}

#[test]
fn rename_top_and_prune() {
    let env = Env::new(TestImage::Plain);
    let old = unique("old");
    let new = unique("new");
    let id = sleeper(&env, &old);
    assert_eq!(env.ok(&["rename", &old, &new]), "");
    assert_eq!(env.ok(&["inspect", "--format", "{{.Name}}", &id]), format!("{new}\n"));
    assert_eq!(env.run(&["container", "exists", &old]).0, 1);

    let top = env.ok(&["top", &new]);
    let mut lines = top.lines();
    let header = lines.next().unwrap();
    assert!(header.contains("PID") && header.contains("COMMAND"), "{top}");
    assert!(lines.any(|l| l.contains("sleep 1000")), "{top}");
    let custom = env.ok(&["container", "top", &new, "-o", "pid,comm"]);
    assert!(custom.starts_with("PID") && custom.contains("sleep"), "{custom}");

    let done = env.ok(&["run", "-d", "busybox", "true"]).trim().to_owned();
    env.ok(&["wait", &done]);
    let created = env.ok(&["create", "busybox", "true"]).trim().to_owned();
    let (code, _, stderr) = env.run(&["top", &created]);
    assert_eq!(code, 125);
    assert_eq!(
        stderr,
        "Error: top can only be used on running containers: container state improper\n"
    );
    let pruned = env.ok(&["container", "prune", "-f"]);
    let mut pruned: Vec<&str> = pruned.lines().collect();
    pruned.sort_unstable();
    let mut expected = vec![done.as_str(), created.as_str()];
    expected.sort_unstable();
    assert_eq!(pruned, expected);
    assert_eq!(env.ok(&["ps", "-a", "-q", "--no-trunc"]), format!("{id}\n"));
    let declined = env
        .corral()
        .args(["container", "prune"])
        .write_stdin("n\n")
        .output()
        .unwrap();
    assert_eq!(declined.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&declined.stderr).contains("Are you sure you want to continue? [y/N]"));
}

#[test]
fn inspect_finds_containers_images_and_volumes() {
    let env = Env::new(TestImage::Plain);
    let name = unique("insp");
    let id = env
        .ok(&["create", "--name", &name, "busybox", "true"])
        .trim()
        .to_owned();
    env.ok(&["volume", "create", "vol1"]);
    let docs: serde_json::Value = serde_json::from_str(&env.ok(&["inspect", &name, IMAGE, "vol1"])).unwrap();
    assert_eq!(docs[0]["Id"], id.as_str());
    assert_eq!(docs[1]["RepoTags"][0], IMAGE);
    assert_eq!(docs[2]["Name"], "vol1");
    assert_eq!(env.ok(&["inspect", "--format", "{{.ID}}", &name]), format!("{id}\n"));
    assert_eq!(env.ok(&["inspect", "--format", "{{.Id}}", &name]), format!("{id}\n"));
    assert_eq!(
        env.ok(&["inspect", "--type", "volume", "-f", "{{.Name}}", "vol1"]),
        "vol1\n"
    );

    let (code, stdout, stderr) = env.run(&["inspect", "nosuch"]);
    assert_eq!((code, stdout.as_str()), (125, "[]\n"));
    assert_eq!(stderr, "Error: inspecting object: no such object: \"nosuch\"\n");
    let (code, _, stderr) = env.run(&["inspect", "--type", "container", "vol1"]);
    assert_eq!(code, 125);
    assert_eq!(stderr, "Error: inspecting object: no such container vol1\n");
}

#[test]
fn diff_export_commit_and_mount() {
    let env = Env::new(TestImage::Plain);
    let name = unique("fs");
    env.ok(&[
        "run",
        "--name",
        &name,
        "busybox",
        "sh",
        "-c",
        "mkdir /data && echo x > /data/f && rm /etc/group",
    ]);
    let diff = env.ok(&["diff", &name]);
    for line in ["A /data", "A /data/f", "C /etc", "D /etc/group"] {
        assert!(diff.lines().any(|l| l == line), "{line} missing from {diff}");
    }
    let json: serde_json::Value = serde_json::from_str(&env.ok(&["diff", "--format", "json", &name])).unwrap();
    assert!(
        json["added"].as_array().unwrap().iter().any(|p| p == "/data/f"),
        "{json}"
    );
    assert!(
        json["deleted"].as_array().unwrap().iter().any(|p| p == "/etc/group"),
        "{json}"
    );

    let archive = env.dir.path().join("fs.tar");
    assert_eq!(env.ok(&["export", "-o", archive.to_str().unwrap(), &name]), "");
    let mut entries = tar::Archive::new(std::fs::File::open(&archive).unwrap());
    let paths: Vec<String> = entries
        .entries()
        .unwrap()
        .map(|e| {
            e.unwrap()
                .path()
                .unwrap()
                .to_string_lossy()
                .trim_end_matches('/')
                .to_owned()
        })
        .collect();
    assert!(paths.iter().any(|p| p.ends_with("data/f")), "{paths:?}");
    assert!(paths.iter().any(|p| p.ends_with("bin/busybox")), "{paths:?}");
    assert!(!paths.iter().any(|p| p.ends_with("etc/group")), "{paths:?}");
    let piped = env.corral().args(["export", &name]).output().unwrap();
    assert_eq!(piped.status.code(), Some(0));
    assert_eq!(piped.stdout, std::fs::read(&archive).unwrap());

    let image_id = env.ok(&[
        "commit",
        "-a",
        "me",
        "-m",
        "msg",
        "-c",
        "CMD cat /data/f",
        &name,
        "snap",
    ]);
    let image_id = image_id.trim();
    assert_eq!(image_id.len(), 64, "{image_id}");
    assert_eq!(
        env.ok(&["image", "inspect", "--format", "{{.Author}}", "localhost/snap:latest"]),
        "me\n"
    );
    assert_eq!(env.ok(&["run", "--rm", "snap"]), "x\n");

    let mounted = env.ok(&["mount", &name]);
    let merged = Path::new(mounted.trim());
    assert_eq!(std::fs::read_to_string(merged.join("data/f")).unwrap(), "x\n");
    let listed = env.ok(&["mount", "--no-trunc"]);
    assert!(listed.contains(mounted.trim()), "{listed}");
    assert_eq!(env.ok(&["umount", &name]), format!("{name}\n"));
    assert_eq!(env.ok(&["mount"]), "");

    let running = unique("busy");
    sleeper(&env, &running);
    let paused_commit = env.ok(&["commit", "-q", "-p", &running, "busy-snap"]);
    assert_eq!(paused_commit.trim().len(), 64, "{paused_commit}");
    assert_eq!(
        env.ok(&["inspect", "--format", "{{.State.Status}}", &running]),
        "running\n",
        "unpaused after the commit"
    );
    let (code, _, stderr) = env.run(&["unmount", &running]);
    assert_eq!(code, 125);
    assert!(
        stderr.contains("as it is running or paused: container state improper"),
        "{stderr}"
    );
}

#[test]
fn port_lists_nothing_without_published_ports() {
    let env = Env::new(TestImage::Plain);
    let name = unique("port");
    sleeper(&env, &name);
    assert_eq!(env.ok(&["port", &name]), "");
    assert_eq!(env.ok(&["container", "port", "-a"]), "");
    let (code, _, stderr) = env.run(&["port", &name, "80"]);
    assert_eq!(code, 125);
    assert_eq!(stderr, "Error: failed to find published port \"80/tcp\"\n");
}

#[test]
fn cp_both_ways_stays_inside_the_container() {
    let env = Env::new(TestImage::Plain);
    let name = unique("cp");
    env.ok(&[
        "run",
        "-d",
        "--name",
        &name,
        "busybox",
        "sh",
        "-c",
        "echo container-secret > /etc/marker && ln -s /etc /etclink && ln -s /etc/marker /markerlink && sleep 1000",
    ]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while env.run(&["exec", &name, "test", "-L", "/markerlink"]).0 != 0 {
        assert!(Instant::now() < deadline, "the links never appeared");
        std::thread::sleep(Duration::from_millis(100));
    }
    let host = env.dir.path().join("host");
    std::fs::create_dir(&host).unwrap();

    // A link to /etc means the container's /etc: its marker, not the host's files.
    let copied = host.join("etc-copy");
    env.ok(&["cp", &format!("{name}:/etclink"), copied.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(copied.join("marker")).unwrap(),
        "container-secret\n"
    );
    assert_eq!(
        std::fs::read_to_string(copied.join("passwd")).unwrap(),
        "root:x:0:0:root:/root:/bin/sh\n"
    );
    env.ok(&["cp", &format!("{name}:/etclink/marker"), host.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(host.join("marker")).unwrap(),
        "container-secret\n"
    );
    env.ok(&[
        "cp",
        &format!("{name}:/markerlink"),
        host.join("via-link").to_str().unwrap(),
    ]);
    assert_eq!(
        std::fs::read_to_string(host.join("via-link")).unwrap(),
        "container-secret\n"
    );

    // Host to container: into a directory, under a new name, through the link.
    let file = host.join("in.txt");
    std::fs::write(&file, "from host\n").unwrap();
    env.ok(&["cp", file.to_str().unwrap(), &format!("{name}:/tmp")]);
    env.ok(&["cp", file.to_str().unwrap(), &format!("{name}:/tmp/renamed")]);
    env.ok(&["cp", file.to_str().unwrap(), &format!("{name}:/etclink/via")]);
    assert_eq!(
        env.ok(&["exec", &name, "cat", "/tmp/in.txt", "/tmp/renamed", "/etc/via"]),
        "from host\n".repeat(3)
    );
    assert!(!Path::new("/etc/via").exists(), "written to the host's /etc");

    // Archives: out to stdout, in from stdin.
    let piped = env
        .corral()
        .args(["cp", &format!("{name}:/etc/marker"), "-"])
        .output()
        .unwrap();
    assert_eq!(piped.status.code(), Some(0));
    let mut archive = tar::Archive::new(piped.stdout.as_slice());
    let mut entry = archive.entries().unwrap().next().unwrap().unwrap();
    assert_eq!(entry.path().unwrap().to_str(), Some("marker"));
    let mut text = String::new();
    std::io::Read::read_to_string(&mut entry, &mut text).unwrap();
    assert_eq!(text, "container-secret\n");

    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(6);
    header.set_mode(0o644);
    header.set_cksum();
    builder
        .append_data(&mut header, "streamed", "tarred".as_bytes())
        .unwrap();
    let tarball = builder.into_inner().unwrap();
    let output = env
        .corral()
        .args(["cp", "-", &format!("{name}:/tmp")])
        .write_stdin(tarball)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(env.ok(&["exec", &name, "cat", "/tmp/streamed"]), "tarred");

    let (code, _, stderr) = env.run(&["cp", &format!("{name}:/nonexistent"), host.to_str().unwrap()]);
    assert_eq!(code, 125);
    assert_eq!(
        stderr,
        format!("Error: \"/nonexistent\" could not be found on container {name}: no such file or directory\n")
    );
    let (code, _, stderr) = env.run(&["cp", "a", "b"]);
    assert_eq!(code, 125);
    assert_eq!(
        stderr,
        "Error: invalid arguments a, b you must use just one container\n"
    );

    // A stopped container's files can be copied too.
    env.ok(&["stop", "-t", "0", &name]);
    let after = host.join("after");
    env.ok(&["cp", &format!("{name}:/tmp/renamed"), after.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&after).unwrap(), "from host\n");
    assert_eq!(env.ok(&["mount"]), "", "cp leaves no mount behind");
}

/// A user at a real terminal: `attach` through a pseudo-terminal (made by
/// `script`), typing a command, then the default detach keys ctrl-p,ctrl-q,
/// which leave the container running.
#[test]
fn attach_through_a_terminal_detaches_with_the_keys() {
    use std::io::Write as _;
    use std::process::Stdio;
    let env = Env::new(TestImage::Plain);
    let name = unique("tty");
    env.ok(&["run", "-d", "-i", "-t", "--name", &name, IMAGE, "sh"]);
    let corral = assert_cmd::cargo::cargo_bin("corral");
    let attach = format!(
        "{} --root {} --runroot {} attach {name}",
        corral.display(),
        env.root.display(),
        env.runroot.display()
    );
    let mut child = std::process::Command::new("script")
        .args(["-qfec", &attach, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    stdin.write_all(b"echo pty-$((40+2))\n").unwrap();
    std::thread::sleep(Duration::from_millis(500));
    stdin.write_all(b"\x10\x11").unwrap();
    stdin.flush().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("attach did not detach");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    let shown = String::from_utf8_lossy(&output.stdout);
    assert!(
        status.success(),
        "{status}: {shown} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(shown.contains("pty-42"), "{shown}");
    assert_eq!(
        env.ok(&["inspect", "--format", "{{.State.Status}}", &name]),
        "running\n"
    );
}
