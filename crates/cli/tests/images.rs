//! The image commands end to end: the `corral` binary on a reduced busybox test image
//! (written as docker-archive and oci-archive), each test in its own root and runroot.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use corral_storage::archive::{
    Compression, ExportImage, ImageBuilder, LayerBuilder, MemoryBlobs, write_docker_archive, write_oci_archive,
};
use corral_storage::spec::{ContainerSettings, History, ImageConfig, host_architecture};

const BUSYBOX: &str = "/usr/bin/busybox";
const CREATED: &str = "2026-01-01T00:00:00Z";

fn base_layer() -> Vec<u8> {
    let mut layer = LayerBuilder::new();
    for (dir, mode) in [("bin", 0o755), ("etc", 0o755), ("tmp", 0o1777), ("root", 0o700)] {
        layer.dir(dir, mode);
    }
    layer
        .file(
            "bin/busybox",
            0o755,
            std::fs::read(BUSYBOX).expect("busybox-static is installed"),
        )
        .symlink("bin/sh", "/bin/busybox")
        .symlink("bin/ls", "/bin/busybox")
        .file("etc/passwd", 0o644, "root:x:0:0:root:/root:/bin/sh\n")
        .file("etc/group", 0o644, "root:x:0:\n");
    layer.to_tar().unwrap()
}

fn config(history: &[&str]) -> ImageConfig {
    ImageConfig {
        created: Some(CREATED.into()),
        architecture: host_architecture().into(),
        os: "linux".into(),
        config: Some(ContainerSettings {
            env: Some(vec!["PATH=/usr/sbin:/usr/bin:/sbin:/bin".into()]),
            cmd: Some(vec!["sh".into()]),
            working_dir: Some("/".into()),
            labels: Some([("org.corral.test".to_string(), "1".to_string())].into()),
            ..Default::default()
        }),
        history: history
            .iter()
            .map(|by| History {
                created: Some(CREATED.into()),
                created_by: Some((*by).into()),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

/// `localhost/busybox:latest`: one layer.
fn busybox() -> (ExportImage, MemoryBlobs) {
    ImageBuilder::new(config(&[
        "cargo xtask test-image: busybox-static + applet links + /etc/passwd,group",
    ]))
    .name("localhost/busybox:latest")
    .unwrap()
    .layer(&base_layer(), Compression::Gzip)
    .unwrap()
    .build()
    .unwrap()
}

/// `localhost/app:1`: busybox's layer and one of its own on top.
fn app() -> (ExportImage, MemoryBlobs) {
    let mut top = LayerBuilder::new();
    top.dir("srv", 0o755).file("srv/index.html", 0o644, "hello\n");
    ImageBuilder::new(config(&["busybox layer", "COPY index.html /srv/"]))
        .name("localhost/app:1")
        .unwrap()
        .layer(&base_layer(), Compression::Gzip)
        .unwrap()
        .layer(&top.to_tar().unwrap(), Compression::Gzip)
        .unwrap()
        .build()
        .unwrap()
}

fn write_docker(path: &Path, image: &(ExportImage, MemoryBlobs)) {
    write_docker_archive(
        std::fs::File::create(path).unwrap(),
        std::slice::from_ref(&image.0),
        &image.1,
    )
    .unwrap();
}

fn write_oci(path: &Path, image: &(ExportImage, MemoryBlobs)) {
    write_oci_archive(
        std::fs::File::create(path).unwrap(),
        std::slice::from_ref(&image.0),
        &image.1,
    )
    .unwrap();
}

/// A root and runroot of their own, removed with everything in them.
struct Env {
    root: PathBuf,
    runroot: PathBuf,
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::Builder::new().prefix("corral-img-").tempdir().unwrap();
        Env {
            root: dir.path().join("root"),
            runroot: dir.path().join("run"),
            dir,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn corral(&self) -> Command {
        let mut cmd = Command::cargo_bin("corral").unwrap();
        cmd.arg("--root").arg(&self.root).arg("--runroot").arg(&self.runroot);
        cmd.timeout(Duration::from_secs(60));
        cmd
    }

    /// Runs `args` with stdin empty: exit code, stdout, stderr.
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let output = self.corral().args(args).write_stdin("").output().unwrap();
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    fn ok(&self, args: &[&str]) -> String {
        let (code, stdout, stderr) = self.run(args);
        assert_eq!(code, 0, "corral {args:?} failed: {stderr}");
        stdout
    }

    /// Runs `args`, which must fail with `code`; returns stderr.
    fn fails(&self, args: &[&str], code: i32) -> String {
        let (got, stdout, stderr) = self.run(args);
        assert_eq!(got, code, "corral {args:?}: stdout {stdout:?} stderr {stderr:?}");
        stderr
    }

    /// Loads the busybox image from a docker-archive; returns its ID.
    fn load_busybox(&self) -> String {
        let archive = self.path("busybox-docker.tar");
        write_docker(&archive, &busybox());
        let out = self.ok(&["load", "-i", archive.to_str().unwrap()]);
        assert_eq!(out, "Loaded image: localhost/busybox:latest\n");
        self.ok(&["images", "-q", "--no-trunc"])
            .trim()
            .trim_start_matches("sha256:")
            .to_owned()
    }
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[test]
fn load_both_formats_and_list() {
    let env = Env::new();
    let id = env.load_busybox();
    assert_eq!(id.len(), 64);
    // The same image as an oci-archive is the same image (same config, same ID).
    let oci = env.path("busybox-oci.tar");
    write_oci(&oci, &busybox());
    assert_eq!(
        env.ok(&["image", "load", "-q", "--input", oci.to_str().unwrap()]),
        "Loaded image: localhost/busybox:latest\n"
    );
    assert_eq!(env.ok(&["images", "-q"]), format!("{}\n", &id[..12]));

    let table = env.ok(&["images"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2, "{table}");
    // CREATED's width follows its value ("11 months ago", "1 year ago"), so
    // check the layout up to it and that SIZE lines up with its value.
    assert!(
        lines[0].starts_with("REPOSITORY         TAG         IMAGE ID      CREATED  "),
        "{table}"
    );
    let size_at = lines[0].find("SIZE").expect("SIZE header");
    assert!(lines[0].ends_with("SIZE"), "{table}");
    assert_eq!(&lines[1][size_at - 2..size_at], "  ", "{table}");
    assert_ne!(&lines[1][size_at..size_at + 1], " ", "{table}");
    assert!(
        lines[1].starts_with(&format!("localhost/busybox  latest      {}  ", &id[..12])),
        "{table}"
    );
    assert!(lines[1].contains(" ago "), "{table}");
    assert!(lines[1].ends_with(" MB") || lines[1].ends_with(" kB"), "{table}");
    assert_eq!(env.ok(&["images", "--noheading"]).lines().count(), 1);
    assert_eq!(
        env.ok(&["image", "ls", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"]),
        format!("localhost/busybox:latest {}\n", &id[..12])
    );
    assert_eq!(
        env.ok(&["images", "--format", "table {{.Repository}} {{.Tag}}"]),
        "REPOSITORY         TAG\nlocalhost/busybox  latest\n"
    );

    let list = json(&env.ok(&["images", "--format", "json"]));
    let row = &list[0];
    assert_eq!(row["Id"], id.as_str());
    assert_eq!(row["RepoTags"], serde_json::Value::Null);
    assert_eq!(row["Names"][0], "localhost/busybox:latest");
    assert_eq!(row["Labels"]["org.corral.test"], "1");
    assert_eq!(row["Containers"], 0);
    assert_eq!(row["CreatedAt"], CREATED);
    assert!(row["Size"].as_u64().unwrap() > 100_000);
    assert!(row["Digest"].as_str().unwrap().starts_with("sha256:"));

    // Filters.
    assert_eq!(
        env.ok(&["images", "-q", "--filter", "reference=busybox"])
            .lines()
            .count(),
        1
    );
    assert_eq!(
        env.ok(&["images", "-q", "--filter", "reference=busy*"]).lines().count(),
        1
    );
    assert_eq!(env.ok(&["images", "-q", "--filter", "reference=alpine"]), "");
    assert_eq!(env.ok(&["images", "-q", "--filter", "dangling=true"]), "");
    assert_eq!(
        env.ok(&["images", "-q", "--filter", "label=org.corral.test=1"])
            .lines()
            .count(),
        1
    );
    assert_eq!(env.ok(&["images", "-q", "--filter", "label=other"]), "");
    assert_eq!(env.ok(&["images", "-q", "busybox"]).lines().count(), 1);
    let err = env.fails(&["images", "--filter", "bogus=1"], 125);
    assert!(err.starts_with("Error: unsupported image filter"), "{err}");
}

#[test]
fn inspect_fields_and_formats() {
    let env = Env::new();
    let id = env.load_busybox();
    let doc = json(&env.ok(&["image", "inspect", "busybox"]));
    let image = &doc[0];
    assert_eq!(image["Id"], id.as_str());
    assert_eq!(image["RepoTags"][0], "localhost/busybox:latest");
    assert_eq!(image["Config"]["Cmd"][0], "sh");
    assert_eq!(image["Config"]["WorkingDir"], "/");
    assert_eq!(image["Os"], "linux");
    assert_eq!(image["Created"], CREATED);
    assert_eq!(image["RootFS"]["Type"], "layers");
    assert_eq!(image["RootFS"]["Layers"].as_array().unwrap().len(), 1);
    assert_eq!(image["Labels"]["org.corral.test"], "1");
    let upper = image["GraphDriver"]["Data"]["UpperDir"].as_str().unwrap();
    assert!(Path::new(upper).join("bin/busybox").is_file(), "{upper}");
    assert_eq!(
        env.ok(&["image", "inspect", "--format", "{{.ID}} {{.Os}}", "busybox"]),
        format!("{id} linux\n")
    );
    let (code, stdout, stderr) = env.run(&["image", "inspect", "nothere"]);
    assert_eq!((code, stdout.as_str()), (125, "[]\n"));
    assert_eq!(stderr, "Error: inspecting object: nothere: image not known\n");
}

#[test]
fn tag_untag_exists_and_rm_with_shared_layers() {
    let env = Env::new();
    let busybox_id = env.load_busybox();
    let app_archive = env.path("app.tar");
    write_docker(&app_archive, &app());
    env.ok(&["load", "-i", app_archive.to_str().unwrap()]);
    assert_eq!(env.ok(&["images", "-q"]).lines().count(), 2);

    assert_eq!(env.ok(&["tag", "busybox", "mybox:1", "other/box"]), "");
    env.ok(&["image", "exists", "mybox:1"]);
    env.ok(&["image", "exists", "localhost/other/box:latest"]);
    assert_eq!(
        env.ok(&["images", "-q", "--filter", "reference=busybox"])
            .lines()
            .count(),
        1
    );
    assert_eq!(env.ok(&["images", "--noheading"]).lines().count(), 4, "a row per name");
    assert_eq!(env.ok(&["untag", "busybox", "mybox:1"]), "");
    let (code, stdout, stderr) = env.run(&["image", "exists", "mybox:1"]);
    assert_eq!((code, stdout.as_str(), stderr.as_str()), (1, "", ""));
    let err = env.fails(&["untag", "busybox", "mybox:1"], 125);
    assert_eq!(err, "Error: localhost/mybox:1: tag not known\n");

    // Removing one of several names only untags it.
    assert_eq!(env.ok(&["rmi", "other/box"]), "Untagged: localhost/other/box:latest\n");

    // The app image shares busybox's layer: removing it keeps that layer.
    let out = env.ok(&["image", "rm", "app:1"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "Untagged: localhost/app:1");
    assert!(lines[1].starts_with("Deleted: "), "{out}");
    assert_eq!(lines.len(), 2);
    env.fails(&["image", "exists", "app:1"], 1);
    let doc = json(&env.ok(&["image", "inspect", "busybox"]));
    let upper = doc[0]["GraphDriver"]["Data"]["UpperDir"].as_str().unwrap().to_owned();
    assert!(Path::new(&upper).join("bin/busybox").is_file());

    let err = env.fails(&["rmi", "nothere"], 1);
    assert_eq!(err, "Error: nothere: image not known\n");
    env.ok(&["rmi", "-i", "nothere"]);
    env.fails(&["rmi"], 125);

    assert_eq!(
        env.ok(&["rmi", "busybox"]),
        format!("Untagged: localhost/busybox:latest\nDeleted: {busybox_id}\n")
    );
    assert_eq!(env.ok(&["images", "-q"]), "");
    assert!(!Path::new(&upper).exists(), "the last user's removal removes the layer");
}

#[test]
fn prune_dangling_and_all() {
    let env = Env::new();
    let id = env.load_busybox();
    let app_archive = env.path("app.tar");
    write_docker(&app_archive, &app());
    env.ok(&["load", "-i", app_archive.to_str().unwrap()]);
    // Nothing dangling yet.
    assert_eq!(env.ok(&["image", "prune", "-f"]), "");
    env.ok(&["untag", "busybox"]);
    assert_eq!(
        env.ok(&[
            "images",
            "--noheading",
            "--format",
            "{{.Repository}} {{.Tag}}",
            "--filter",
            "dangling=true"
        ]),
        "<none> <none>\n"
    );
    // Without -f, anything but `y` keeps them.
    let (code, stdout, _) = env.run(&["image", "prune"]);
    assert_eq!(code, 0);
    assert!(
        stdout.starts_with("WARNING! This command removes all dangling images."),
        "{stdout}"
    );
    assert_eq!(env.ok(&["images", "-q"]).lines().count(), 2);
    assert_eq!(env.ok(&["image", "prune", "-f"]), format!("{id}\n"));
    assert_eq!(env.ok(&["images", "-q"]).lines().count(), 1);
    assert_eq!(env.ok(&["image", "prune", "-a", "-f"]).lines().count(), 1);
    assert_eq!(env.ok(&["images", "-q"]), "");
}

#[test]
fn history_and_tree() {
    let env = Env::new();
    let archive = env.path("app.tar");
    write_docker(&archive, &app());
    env.ok(&["load", "-i", archive.to_str().unwrap()]);
    let id = env
        .ok(&["images", "-q", "--no-trunc"])
        .trim()
        .trim_start_matches("sha256:")
        .to_owned();
    let table = env.ok(&["history", "app:1"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(lines[0].starts_with("ID            CREATED"), "{table}");
    assert!(lines[0].contains("CREATED BY"), "{table}");
    assert!(lines[0].ends_with("COMMENT"), "{table}");
    assert!(lines[1].starts_with(&id[..12]), "{table}");
    assert!(lines[1].contains("COPY index.html /srv/"), "{table}");
    assert!(lines[2].starts_with("<missing>"), "{table}");
    assert_eq!(
        env.ok(&["image", "history", "-q", "app:1"]),
        format!("{}\n<missing>\n", &id[..12])
    );
    assert_eq!(
        env.ok(&["history", "--no-trunc", "--format", "{{.ID}}", "app:1"])
            .lines()
            .next(),
        Some(id.as_str())
    );
    let layers = json(&env.ok(&["history", "--format", "json", "app:1"]));
    assert_eq!(layers[0]["id"], id.as_str());
    assert_eq!(layers[0]["CreatedBy"], "COPY index.html /srv/");
    assert_eq!(layers[0]["Created"], CREATED);
    assert_eq!(layers[1]["id"], "<missing>");

    let tree = env.ok(&["image", "tree", "app:1"]);
    let lines: Vec<&str> = tree.lines().collect();
    assert_eq!(lines[0], format!("Image ID: {}", &id[..12]));
    assert_eq!(lines[1], "Tags:     [localhost/app:1]");
    assert!(lines[2].starts_with("Size:     "), "{tree}");
    assert_eq!(lines[3], "Image Layers");
    assert!(lines[4].starts_with("├── ID: "), "{tree}");
    assert!(lines[5].starts_with("└── ID: "), "{tree}");
    assert!(lines[5].ends_with("Top Layer of: [localhost/app:1]"), "{tree}");
}

#[test]
fn save_and_reload_round_trip() {
    let env = Env::new();
    let id = env.load_busybox();
    for format in ["docker-archive", "oci-archive"] {
        let archive = env.path(&format!("saved-{format}.tar"));
        assert_eq!(
            env.ok(&["save", "--format", format, "-o", archive.to_str().unwrap(), "busybox"]),
            ""
        );
        let other = Env::new();
        assert_eq!(
            other.ok(&["load", "-i", archive.to_str().unwrap()]),
            "Loaded image: localhost/busybox:latest\n"
        );
        assert_eq!(other.ok(&["images", "-q", "--no-trunc"]), format!("sha256:{id}\n"));
    }
    // To stdout (a pipe here), and back in through stdin.
    let output = env.corral().args(["image", "save", "busybox"]).output().unwrap();
    assert!(output.status.success());
    assert!(output.stdout.len() > 100_000);
    let other = Env::new();
    let loaded = other.corral().arg("load").write_stdin(output.stdout).output().unwrap();
    assert!(loaded.status.success(), "{}", String::from_utf8_lossy(&loaded.stderr));
    assert_eq!(
        String::from_utf8_lossy(&loaded.stdout),
        "Loaded image: localhost/busybox:latest\n"
    );

    let err = env.fails(&["save", "--format", "bogus", "-o", "/tmp/x.tar", "busybox"], 125);
    assert_eq!(
        err,
        "Error: format value must be one of oci-dir oci-archive docker-dir docker-archive\n"
    );
    let err = env.fails(&["save", "-o", env.path("x.tar").to_str().unwrap(), "nothere"], 125);
    assert_eq!(err, "Error: nothere: image not known\n");
}

/// A layer whose only entry climbs out of the layer with `..`.
fn escaping_layer() -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_old();
    let name = b"../escaped";
    header.as_old_mut().name[..name.len()].copy_from_slice(name);
    header.set_mode(0o644);
    header.set_size(4);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    builder.append(&header, &b"evil"[..]).unwrap();
    builder.into_inner().unwrap()
}

#[test]
fn bad_archives_fail_and_change_nothing() {
    let env = Env::new();
    let id = env.load_busybox();
    let before = env.ok(&["images", "--no-trunc"]);

    let good = env.path("app.tar");
    write_docker(&good, &app());
    let bytes = std::fs::read(&good).unwrap();
    let truncated = env.path("truncated.tar");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let err = env.fails(&["load", "-i", truncated.to_str().unwrap()], 125);
    assert!(err.starts_with("Error: "), "{err}");
    assert_eq!(env.ok(&["images", "--no-trunc"]), before);

    let (image, blobs) = ImageBuilder::new(config(&["escape"]))
        .name("localhost/evil:1")
        .unwrap()
        .layer(&escaping_layer(), Compression::Gzip)
        .unwrap()
        .build()
        .unwrap();
    let evil = env.path("evil.tar");
    write_docker_archive(std::fs::File::create(&evil).unwrap(), &[image], &blobs).unwrap();
    let err = env.fails(&["load", "-i", evil.to_str().unwrap()], 125);
    assert!(err.starts_with("Error: "), "{err}");
    assert!(err.contains("escaped"), "{err}");
    assert_eq!(env.ok(&["images", "--no-trunc"]), before);
    assert!(!env.root.join("storage/layers/escaped").exists());
    assert!(!env.dir.path().join("escaped").exists());

    let err = env.fails(&["load", "-i", env.path("missing.tar").to_str().unwrap()], 125);
    assert_eq!(
        err,
        format!(
            "Error: stat {}: no such file or directory\n",
            env.path("missing.tar").display()
        )
    );
    env.ok(&["image", "exists", &id]);
}

#[test]
fn images_in_use_are_refused_unless_forced() {
    let env = Env::new();
    let id = env.load_busybox();
    let container = env.ok(&["create", "--name", "user", "busybox", "true"]);
    let container = container.trim();
    assert_eq!(container.len(), 64, "{container}");
    let row = json(&env.ok(&["images", "--format", "json"]));
    assert_eq!(row[0]["Containers"], 1);
    assert_eq!(
        env.ok(&["images", "-q", "--filter", "containers=true"]).lines().count(),
        1
    );

    let err = env.fails(&["rmi", "busybox"], 2);
    assert_eq!(
        err,
        format!(
            "Error: image used by {container}: image is in use by a container: consider listing external containers and force-removing image\n"
        )
    );
    // Pruning leaves images containers use.
    assert_eq!(env.ok(&["image", "prune", "-a", "-f"]), "");
    env.ok(&["image", "exists", "busybox"]);

    assert_eq!(
        env.ok(&["rmi", "-f", "busybox"]),
        format!("Untagged: localhost/busybox:latest\nDeleted: {id}\n")
    );
    assert_eq!(env.ok(&["ps", "-a", "-q"]), "", "the container went with the image");
    assert_eq!(env.ok(&["images", "-q"]), "");
}
