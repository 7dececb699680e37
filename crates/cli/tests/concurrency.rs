//! Thirty `corral` processes at once against one store: each worker drives a
//! container of its own through its whole life while listing and inspecting
//! a shared one, several race to remove one shared container, and several race
//! to create the same name. Every process must end cleanly, and the store must
//! hold exactly what should remain, with no conmon left and no mount leaked.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use common::{Env, TestImage};
use corral_test_support::{conmons_serving, mounts_below};

const OWN_WORKERS: usize = 18;
const RM_RACERS: usize = 6;
const CREATE_RACERS: usize = 6;

/// One finished `corral` process: its arguments, exit code, stdout and stderr.
type Outcome = (Vec<String>, i32, String, String);

fn run(env: &Env, args: &[&str]) -> Outcome {
    let (code, out, err) = env.run(args);
    (args.iter().map(|a| a.to_string()).collect(), code, out, err)
}

fn assert_ok(outcome: &Outcome) {
    let (args, code, _, err) = outcome;
    assert_eq!(*code, 0, "corral {args:?} failed: {err}");
    assert_eq!(err, "", "corral {args:?} wrote to stderr");
}

/// Waits up to 10 s (conmon exits just after running the exit command) for
/// `root`'s conmon processes to number `count`; returns their command lines.
fn settle_conmons(root: &Path, count: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found = conmons_serving(root);
        if found.len() == count || Instant::now() > deadline {
            return found;
        }
        thread::sleep(Duration::from_millis(100));
    }
}

/// A container's life in one worker, with listings and inspects of the
/// shared container in between; every step must succeed.
fn own_container(env: &Env, n: usize) -> Vec<Outcome> {
    let name = format!("own-{n}");
    let word = format!("hello-{n}");
    let mut done = vec![run(env, &["create", "--name", &name, "busybox", "sleep", "1000"])];
    done.push(run(env, &["start", &name]));
    done.push(run(env, &["ps", "-a"]));
    let exec = run(env, &["exec", &name, "echo", &word]);
    assert_eq!(exec.2, format!("{word}\n"), "{exec:?}");
    done.push(exec);
    let inspect = run(env, &["inspect", "--format", "{{.State.Status}}", "shared"]);
    assert_eq!(inspect.2, "running\n", "{inspect:?}");
    done.push(inspect);
    done.push(run(env, &["stop", "-t", "0", &name]));
    let state = run(env, &["inspect", "--format", "{{.State.Status}}", &name]);
    assert_eq!(state.2, "exited\n", "{state:?}");
    done.push(state);
    done.push(run(env, &["ps", "-a", "--format", "{{.Names}}"]));
    done.push(run(env, &["rm", &name]));
    done
}

#[test]
fn thirty_processes_share_one_store() {
    let env = Arc::new(Env::new(TestImage::Plain));
    env.ok(&["run", "-d", "--name", "shared", "busybox", "sleep", "1000"]);
    env.ok(&["run", "-d", "--name", "doomed", "busybox", "sleep", "1000"]);

    let workers = OWN_WORKERS + RM_RACERS + CREATE_RACERS;
    let barrier = Arc::new(Barrier::new(workers));
    let mut handles = Vec::new();
    for n in 0..workers {
        let (env, barrier) = (Arc::clone(&env), Arc::clone(&barrier));
        handles.push(thread::spawn(move || {
            barrier.wait();
            if n < OWN_WORKERS {
                own_container(&env, n)
            } else if n < OWN_WORKERS + RM_RACERS {
                vec![run(&env, &["rm", "-f", "-t", "0", "doomed"])]
            } else {
                vec![run(&env, &["create", "--name", "same", "busybox", "true"])]
            }
        }));
    }
    let results: Vec<Vec<Outcome>> = handles.into_iter().map(|h| h.join().unwrap()).collect();

    for outcomes in &results[..OWN_WORKERS] {
        outcomes.iter().for_each(assert_ok);
    }
    // Forced removal: one racer removes it and says so; the others find it gone,
    // which `rm -f` does not report (podman's way).
    let removals = &results[OWN_WORKERS..OWN_WORKERS + RM_RACERS];
    for outcome in removals.iter().flatten() {
        assert_ok(outcome);
    }
    let winners = removals.iter().flatten().filter(|o| o.2 == "doomed\n").count();
    let silent = removals.iter().flatten().filter(|o| o.2.is_empty()).count();
    assert_eq!((winners, silent), (1, RM_RACERS - 1), "{removals:?}");

    // One create of the name wins; the others get podman's name-in-use error.
    let creates: Vec<&Outcome> = results[OWN_WORKERS + RM_RACERS..].iter().flatten().collect();
    let made: Vec<&&Outcome> = creates.iter().filter(|o| o.1 == 0).collect();
    assert_eq!(made.len(), 1, "{creates:?}");
    let winner = made[0].2.trim();
    assert_eq!(winner.len(), 64, "{winner}");
    let taken = format!(
        "Error: creating container storage: the container name \"same\" is already in use by {winner}. \
         You have to remove that container to be able to reuse that name: that name is already in use\n"
    );
    for loser in creates.iter().filter(|o| o.1 != 0) {
        assert_eq!((loser.1, loser.2.as_str(), &loser.3), (125, "", &taken), "{loser:?}");
    }

    let mut left: Vec<String> = env
        .ok(&["ps", "-a", "--format", "{{.Names}} {{.State}}"])
        .lines()
        .map(str::to_owned)
        .collect();
    left.sort();
    assert_eq!(left, ["same created", "shared running"]);
    let root = env.dir.path();
    let conmons = settle_conmons(root, 1);
    assert_eq!(conmons.len(), 1, "only the shared container's conmon: {conmons:?}");

    assert_eq!(env.ok(&["rm", "-af", "-t", "0"]).lines().count(), 2);
    assert_eq!(env.ok(&["ps", "-a", "-q"]), "");
    assert_eq!(settle_conmons(root, 0), Vec::<String>::new());
    assert_eq!(mounts_below(root), Vec::<PathBuf>::new());
    let leftovers = std::fs::read_dir(env.runroot.join("containers"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(leftovers, 0, "bundle directories left in the run root");
}
