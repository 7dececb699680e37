//! After a reboot (the runroot's `alive` marker and locks are gone) opening the runtime
//! resets running containers and gives every container its lock again.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestEnv;
use corral_core::{ALIVE_FILE, RemoveOptions, Runtime};
use corral_define::ContainerStatus;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reboot_resets_state_and_restores_locks() {
    let env = TestEnv::new();
    let a = env.create(&["true"], |s| s.name = Some("a".into()));
    let b = env.create(&["true"], |s| s.name = Some("b".into()));
    // Pretend `a` was running when the machine went down.
    let mut rec = a.record().unwrap();
    rec.state.state = ContainerStatus::Running;
    rec.state.pid = 4242;
    env.rt.state().save_container(&rec).unwrap();

    let runroot = env.rt.options().runroot.clone();
    std::fs::remove_file(runroot.join(ALIVE_FILE)).unwrap();
    std::fs::remove_dir_all(runroot.join("locks")).unwrap();

    let rt = Runtime::new(env.rt.options().clone()).unwrap();
    assert!(runroot.join(ALIVE_FILE).exists());
    let a2 = rt.lookup_container("a").unwrap();
    let st = a2.record().unwrap().state;
    assert_eq!((st.state, st.pid), (ContainerStatus::Exited, 0));
    assert_eq!(rt.lookup_container("b").unwrap().config().lock_id, b.config().lock_id);
    assert!(runroot.join("locks").join(b.config().lock_id.to_string()).exists());
    for c in [a2, rt.lookup_container("b").unwrap()] {
        c.remove(RemoveOptions::default()).await.unwrap();
    }
}
