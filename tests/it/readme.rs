//! README's commands work as written: the session against the emulator is extracted from
//! README.md and run with bash, with only the binary's path and the port replaced.

use std::process::Command;

fn readme_block(heading: &str) -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme
        .split(heading)
        .nth(1)
        .unwrap_or_else(|| panic!("README.md has no section {heading:?}"));
    let start = section.find("```sh\n").expect("a sh block") + "```sh\n".len();
    let end = section[start..].find("```").expect("the block's end") + start;
    section[start..end].to_owned()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn the_readme_session_against_the_emulator_runs() {
    let block = readme_block("## A whole session against the emulator");
    let port = free_port().to_string();
    let script = block
        .replace("cargo build --locked", "true")
        .replace("./target/debug/bedrock-entitlements", "\"$BIN\"")
        .replace("4566", &port);
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(
        concat!(env!("CARGO_MANIFEST_DIR"), "/examples"),
        dir.path().join("examples"),
    )
    .unwrap();
    let out = Command::new("bash")
        .arg("-c")
        // A failed step must not leave the backgrounded emulator holding the output pipes.
        .arg(format!(
            "set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n{script}"
        ))
        .current_dir(dir.path())
        .env("BIN", env!("CARGO_BIN_EXE_bedrock-entitlements"))
        .env("AWS_CONFIG_FILE", dir.path().join("no-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.path().join("no-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "README session failed\n--- script\n{script}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    assert!(stdout.contains("Apply: "), "{stdout}");
    assert!(
        stdout
            .trim_end()
            .ends_with("No changes. Live grants match entitlements.yaml."),
        "{stdout}"
    );
    assert!(dir.path().join("imported.yaml").exists());
}

#[test]
fn the_readme_test_command_is_what_ci_runs() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let ci = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/run")).unwrap();
    assert!(
        readme.contains("```sh\ncargo test --locked\n```"),
        "README's test command moved"
    );
    assert!(
        ci.lines().any(|l| l.trim() == "cargo test --locked"),
        ".ci/run must run README's test command"
    );
}
