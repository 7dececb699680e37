//! What the generated OCI spec does to a real container: capabilities, seccomp,
//! no-new-privileges, rlimits, cgroup limits, mounts, networks.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TestEnv, log_text, wait};
use corral_core::{ContainerSpec, MountKind, MountSpec, NetworkMode, Seccomp};
use corral_define::{ErrorKind, HasKind};

/// Runs a shell script in a container made with `tweak` and returns its output.
async fn output(env: &TestEnv, script: &str, tweak: impl FnOnce(&mut ContainerSpec)) -> String {
    let c = env.run(&["sh", "-c", script], tweak).await;
    assert_eq!(wait(&c).await, 0, "script {script:?} failed: {}", log_text(&c));
    log_text(&c)
}

fn status_field(status: &str, field: &str) -> String {
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_default()
        .trim()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capabilities_seccomp_and_privileges() {
    let env = TestEnv::new();
    let status = output(&env, "cat /proc/self/status", |_| {}).await;
    // podman's eleven default capabilities.
    assert_eq!(status_field(&status, "CapEff"), "00000000800405fb");
    assert_eq!(status_field(&status, "CapBnd"), "00000000800405fb");
    assert_eq!(status_field(&status, "Seccomp"), "2");
    assert_eq!(status_field(&status, "NoNewPrivs"), "0");

    let status = output(&env, "cat /proc/self/status", |s| {
        s.cap_add = vec!["net_admin".into()];
        s.cap_drop = vec!["CAP_CHOWN".into()];
        s.seccomp = Seccomp::Unconfined;
        s.no_new_privileges = true;
    })
    .await;
    assert_eq!(status_field(&status, "CapEff"), "00000000800415fa");
    assert_eq!(status_field(&status, "Seccomp"), "0");
    assert_eq!(status_field(&status, "NoNewPrivs"), "1");

    let status = output(&env, "cat /proc/self/status", |s| s.user = Some("corral".into())).await;
    assert_eq!(status_field(&status, "CapEff"), "0000000000000000");

    let status = output(&env, "cat /proc/self/status", |s| s.privileged = true).await;
    assert_eq!(status_field(&status, "Seccomp"), "0");
    let own = std::fs::read_to_string("/proc/self/status").unwrap();
    assert_eq!(status_field(&status, "CapEff"), status_field(&own, "CapBnd"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rlimits_stay_under_the_hard_limit() {
    let env = TestEnv::new();
    let hard = rustix::process::getrlimit(rustix::process::Resource::Nofile)
        .maximum
        .unwrap();
    let out = output(&env, "ulimit -n; ulimit -Hn", |_| {}).await;
    let expected = hard.min(1_048_576);
    assert_eq!(out, format!("{expected}\n{expected}\n"));
    let out = output(&env, "ulimit -n; ulimit -Hn", |s| {
        s.ulimits = vec!["nofile=1024:2048".parse().unwrap()];
    })
    .await;
    assert_eq!(out, "1024\n2048\n");
    let mut spec = ContainerSpec::new("busybox");
    spec.ulimits = vec![format!("nofile={}", hard + 1).parse().unwrap()];
    assert_eq!(env.rt.new_container(spec).unwrap_err().kind(), ErrorKind::InvalidArg);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cgroup_limits() {
    let env = TestEnv::new();
    let v2 = std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    let script = if v2 {
        "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.max"
    } else {
        "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max \
         /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us"
    };
    let out = output(&env, script, |s| {
        s.memory = Some(64 << 20);
        s.pids_limit = Some(50);
        s.cpus = Some(0.5);
    })
    .await;
    let expected = if v2 {
        "67108864\n50\n50000 100000\n"
    } else {
        "67108864\n50\n50000\n100000\n"
    };
    assert_eq!(out, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mounts_and_networks() {
    let env = TestEnv::new();
    let host_dir = env.path().join("shared");
    std::fs::create_dir(&host_dir).unwrap();
    std::fs::write(host_dir.join("in"), "from host\n").unwrap();
    let out = output(
        &env,
        "cat /data/in; echo out > /data/out; grep -c ' /scratch ' /proc/mounts; df -k /dev/shm | tail -1 | awk '{print $2}'; \
         ls /sys/class/net",
        |s| {
            s.mounts = vec![
                MountSpec {
                    kind: MountKind::Bind,
                    source: host_dir.clone(),
                    destination: "/data".into(),
                    options: vec![],
                },
                MountSpec {
                    kind: MountKind::Tmpfs,
                    source: Default::default(),
                    destination: "/scratch".into(),
                    options: vec!["size=1m".into()],
                },
            ];
        },
    )
    .await;
    assert_eq!(out, "from host\n1\n65536\nlo\n");
    assert_eq!(std::fs::read_to_string(host_dir.join("out")).unwrap(), "out\n");

    let out = output(&env, "ls /sys/class/net | grep -c .", |s| s.network = NetworkMode::Host).await;
    let host_ifaces = std::fs::read_dir("/sys/class/net").unwrap().count();
    assert_eq!(out.trim(), host_ifaces.to_string());

    let out = output(&env, "cat /etc/hostname; grep -c named /etc/hosts", |s| {
        s.name = Some("named".into());
    })
    .await;
    let c = env.rt.lookup_container("named").unwrap();
    assert_eq!(out, format!("{}\n1\n", &c.id()[..12]));

    let mut spec = ContainerSpec::new("busybox");
    spec.mounts = vec![MountSpec {
        kind: MountKind::Bind,
        source: env.path().join("missing"),
        destination: "/x".into(),
        options: vec![],
    }];
    let err = env.rt.new_container(spec).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io, "{err}");
    assert!(err.to_string().contains("missing"), "{err}");
}
