//! Running the real `bedrock-entitlements` binary against an emulator started in the test
//! process: a hermetic environment (no profile, no metadata service, the emulator's endpoint),
//! and the exit code, stdout and stderr of each run.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Stdio;

/// The access key every run signs with unless a test says otherwise: the emulator maps keys it
/// did not mint to the seed's default caller.
pub const ACCESS_KEY: &str = "AKIDGITOPSTEST";

/// One finished run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Panics with the whole run when the exit code is not `code`.
    pub fn expect(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "exit code {} (wanted {code})\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// A scratch directory with empty AWS config files, and the endpoint to call.
pub struct Cli {
    pub dir: tempfile::TempDir,
    pub endpoint: String,
    /// Extra environment for every run (set before the command's own `env`).
    pub env: Vec<(String, String)>,
}

impl Cli {
    pub fn new(endpoint: String) -> Cli {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(dir.path().join("aws-config"), "").expect("write an empty AWS config");
        std::fs::write(dir.path().join("aws-credentials"), "")
            .expect("write empty AWS credentials");
        Cli {
            dir,
            endpoint,
            env: Vec::new(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a file in the scratch directory and returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).expect("write a test file");
        path
    }

    /// Runs the binary with `args` (stdin closed).
    pub async fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, &[]).await
    }

    /// `plan` of the example file (`examples/entitlements.yaml`) in the example sandbox
    /// (`examples/sandbox.yaml`), with `extra` arguments after them.
    pub async fn sandbox_plan(&self, extra: &[&str]) -> Run {
        let mut args = vec![
            "plan",
            "--sandbox",
            concat!(env!("CARGO_MANIFEST_DIR"), "/examples/sandbox.yaml"),
            "-c",
            concat!(env!("CARGO_MANIFEST_DIR"), "/examples/entitlements.yaml"),
        ];
        args.extend_from_slice(extra);
        self.run(&args).await
    }

    /// The binary with `args`, in the scratch directory, with only the test environment (the
    /// endpoint, test credentials, empty AWS files, no colour) and `self.env`.
    pub fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_bedrock-entitlements"));
        cmd.args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", "gitops-test-secret")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", self.path("aws-config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", self.path("aws-credentials"))
            .env("NO_COLOR", "1");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Starts the binary with `args` and no stdio, killed when the handle is dropped: for tests
    /// that kill it mid-run.
    pub fn spawn(&self, args: &[&str]) -> tokio::process::Child {
        self.command(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("the binary starts")
    }

    pub async fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = self.command(args);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().await.expect("the binary runs");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// The Unix permission bits of a file.
#[cfg(unix)]
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("the file exists")
        .permissions()
        .mode()
        & 0o777
}

/// A JSON plan document's actions, each as "ACTION PRINCIPAL".
pub fn plan_actions(doc: &serde_json::Value) -> std::collections::BTreeSet<String> {
    doc["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            format!(
                "{} {}",
                a["action"].as_str().unwrap(),
                a["principal"].as_str().unwrap()
            )
        })
        .collect()
}
