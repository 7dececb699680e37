//! The `corral` binary as a user runs it: output, stderr and exit codes
//! of the commands that need no engine, and podman's wording of mistakes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use assert_cmd::Command;
use predicates::prelude::*;

fn corral() -> Command {
    Command::cargo_bin("corral").expect("the corral binary is built for integration tests")
}

#[test]
fn version_prints_podmans_client_block() {
    let output = corral().arg("version").assert().success().get_output().stdout.clone();
    let text = String::from_utf8(output).unwrap();
    let labels: Vec<&str> = text.lines().map(|line| line.split(':').next().unwrap()).collect();
    assert_eq!(
        labels,
        ["Client", "Version", "API Version", "Rust Version", "Built", "OS/Arch"]
    );
    let expected_version = format!("Version:       {}", env!("CARGO_PKG_VERSION"));
    assert!(text.contains(&expected_version), "{text}");
    assert!(text.starts_with("Client:        Corral Engine\n"), "{text}");
}

#[test]
fn version_format_template() {
    corral()
        .args(["version", "--format", "{{.Client.Version}}"])
        .assert()
        .success()
        .stdout(format!("{}\n", env!("CARGO_PKG_VERSION")));
    corral()
        .args(["version", "-f", "{{.Client.Os}}/{{.Client.APIVersion}}"])
        .assert()
        .success()
        .stdout(format!("linux/{}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn version_format_json_is_one_line() {
    let output = corral()
        .args(["version", "--format", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(output).unwrap();
    assert_eq!(text.lines().count(), 1);
    let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(parsed["Client"]["Version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(parsed["Client"]["Os"], "linux");
    assert!(parsed.get("Server").is_none());
}

#[test]
fn version_flag() {
    corral()
        .arg("--version")
        .assert()
        .success()
        .stdout(format!("corral version {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn unknown_command_is_125() {
    corral()
        .arg("bogus")
        .assert()
        .code(125)
        .stdout("")
        .stderr(predicate::str::starts_with(
            "Error: unrecognized command `corral bogus`",
        ));
}

#[test]
fn unknown_flag_is_125() {
    corral()
        .args(["version", "--bogus"])
        .assert()
        .code(125)
        .stderr("Error: unknown flag: --bogus\nSee 'corral version --help'\n");
}

#[test]
fn missing_argument_is_125() {
    corral()
        .arg("completion")
        .assert()
        .code(125)
        .stderr("Error: accepts 1 arg(s), received 0\n");
}

#[test]
fn template_errors_are_125() {
    corral()
        .args(["version", "--format", "{{bogus}}"])
        .assert()
        .code(125)
        .stderr("Error: template: version:1: function \"bogus\" not defined\n");
}

#[test]
fn bad_log_level_is_podmans_message_and_exit_1() {
    corral()
        .args(["--log-level", "bogus", "version"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(
            "Log Level \"bogus\" is not supported, choose from: trace, debug, info, warn, warning, error, fatal, panic\n",
        );
}

#[test]
fn debug_log_level_logs_to_stderr_only() {
    corral()
        .args(["version", "--log-level", "debug", "--format", "{{.Client.Os}}"])
        .assert()
        .success()
        .stdout("linux\n")
        .stderr(predicate::str::contains(
            "level=debug msg=\"Called version.PersistentPreRunE(",
        ));
    corral()
        .args(["version", "--format", "{{.Client.Os}}"])
        .assert()
        .success()
        .stderr("");
}

#[test]
fn no_command_prints_help_and_fails() {
    corral()
        .assert()
        .code(125)
        .stdout(predicate::str::starts_with("Manage pods, containers and images\n"))
        .stderr("Error: missing command 'corral COMMAND'\n");
}

#[test]
fn help_command_and_flag_agree() {
    let by_flag = corral()
        .args(["version", "--help"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let by_command = corral()
        .args(["help", "version"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(by_flag, by_command);
    let text = String::from_utf8(by_flag).unwrap();
    assert!(text.contains("Usage:\n  corral version [options]\n"), "{text}");
    corral()
        .arg("help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Available Commands:"));
}

#[test]
fn completion_scripts() {
    corral()
        .args(["completion", "bash"])
        .assert()
        .success()
        .stdout(predicate::str::contains("_corral()").and(predicate::str::contains("complete -F")));
    corral()
        .args(["completion", "zsh"])
        .assert()
        .success()
        .stdout(predicate::str::contains("#compdef corral"));
    corral()
        .args(["completion", "tcsh"])
        .assert()
        .code(125)
        .stderr("Error: invalid argument \"tcsh\" for \"corral completion\"\n");
}

#[test]
fn completion_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corral.fish");
    corral()
        .args(["completion", "fish", "--file"])
        .arg(&path)
        .assert()
        .success()
        .stdout("");
    let script = std::fs::read_to_string(&path).unwrap();
    assert!(script.contains("complete -c corral"));
}
