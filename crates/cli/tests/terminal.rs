//! `run -it` and `exec -it` as a user at a real terminal: `corral` runs on a
//! pseudo-terminal made by `script`, the test types into it and reads the
//! screen. The container gets a terminal of its own (`/dev/pts/0`) with the
//! user's window size, following it when it changes; typed input is echoed
//! and run; the shell's exit code is the command's.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{Env, IMAGE, TestImage};

/// `corral` (with the env's roots) running on a pseudo-terminal of `rows` x `cols`.
struct Terminal {
    child: Child,
    keyboard: ChildStdin,
    screen: Arc<Mutex<Vec<u8>>>,
    /// The pid of `corral` itself (the shell `script` runs execs it).
    corral_pid: u32,
}

impl Terminal {
    fn open(env: &Env, args: &str, rows: u16, cols: u16) -> Terminal {
        let pid_file = env.dir.path().join(format!("tty-{rows}x{cols}.pid"));
        let _ = std::fs::remove_file(&pid_file);
        let corral = assert_cmd::cargo::cargo_bin("corral");
        let command = format!(
            "stty rows {rows} cols {cols}; echo $$ > {}; exec {} --root {} --runroot {} {args}",
            pid_file.display(),
            corral.display(),
            env.root.display(),
            env.runroot.display()
        );
        let mut child = Command::new("script")
            .args(["-qfec", &command, "/dev/null"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let keyboard = child.stdin.take().unwrap();
        let mut output = child.stdout.take().unwrap();
        let screen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&screen);
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = output.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(10);
        let corral_pid = loop {
            if let Ok(text) = std::fs::read_to_string(&pid_file)
                && let Ok(pid) = text.trim().parse()
            {
                break pid;
            }
            assert!(Instant::now() < deadline, "the shell under script never started");
            thread::sleep(Duration::from_millis(20));
        };
        Terminal {
            child,
            keyboard,
            screen,
            corral_pid,
        }
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.screen.lock().unwrap()).into_owned()
    }

    /// Waits until the screen shows `text` (after what it showed before).
    fn wait_for(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.screen().contains(text) {
            assert!(
                Instant::now() < deadline,
                "{text:?} never appeared: {:?}",
                self.screen()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn type_line(&mut self, line: &str) {
        self.keyboard.write_all(format!("{line}\n").as_bytes()).unwrap();
        self.keyboard.flush().unwrap();
    }

    /// Resizes the terminal `corral` sits on, as a terminal window would.
    fn resize(&self, rows: u16, cols: u16) {
        let tty = std::fs::read_link(format!("/proc/{}/fd/0", self.corral_pid)).unwrap();
        let status = Command::new("stty")
            .arg("-F")
            .arg(&tty)
            .args(["rows", &rows.to_string(), "cols", &cols.to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Resizes the terminal to `rows` x `cols` and waits until `stty size`,
    /// typed into the shell on it, reports the new size.
    fn resize_and_check(&mut self, rows: u16, cols: u16) {
        self.resize(rows, cols);
        let size = format!("{rows} {cols}");
        // The resize reaches conmon asynchronously: ask until it shows.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.screen().contains(&size) {
            assert!(
                Instant::now() < deadline,
                "the resize to {size} never reached the container: {:?}",
                self.screen()
            );
            self.type_line("stty size");
            thread::sleep(Duration::from_millis(300));
        }
    }

    /// Waits for `script` (and so `corral`) to end; returns the exit code.
    fn exit_code(mut self) -> i32 {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("corral did not exit: {:?}", self.screen());
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

#[test]
fn run_it_gives_the_container_a_terminal() {
    let env = Env::new(TestImage::Plain);
    let mut term = Terminal::open(&env, &format!("run -it --rm --name tty-run {IMAGE} sh"), 33, 101);
    term.type_line("tty");
    term.wait_for("/dev/pts/0");
    term.type_line("stty size");
    term.wait_for("33 101");
    term.resize_and_check(40, 120);
    term.type_line("echo typed-$((6*7))");
    term.wait_for("typed-42");
    let screen = term.screen();
    assert!(
        screen.contains("echo typed-$((6*7))"),
        "typed input is echoed: {screen:?}"
    );
    term.type_line("exit 3");
    assert_eq!(term.exit_code(), 3);
    assert_eq!(env.ok(&["ps", "-a", "-q"]), "", "--rm removed the container");
}

#[test]
fn exec_it_gives_the_session_a_terminal() {
    let env = Env::new(TestImage::Plain);
    env.ok(&["run", "-d", "--name", "tty-exec", IMAGE, "sleep", "1000"]);
    let mut term = Terminal::open(&env, "exec -it tty-exec sh", 21, 77);
    term.type_line("tty; stty size");
    term.wait_for("/dev/pts/");
    term.wait_for("21 77");
    term.resize_and_check(45, 130);
    term.type_line("echo typed-$((7*6))");
    term.wait_for("typed-42");
    assert!(term.screen().contains("echo typed-$((7*6))"), "{:?}", term.screen());
    term.type_line("exit 4");
    assert_eq!(term.exit_code(), 4);
    assert_eq!(
        env.ok(&["inspect", "--format", "{{.State.Status}}", "tty-exec"]),
        "running\n",
        "the container outlives its exec session"
    );
}
