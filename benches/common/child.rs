#![allow(dead_code)] // each benchmark uses a part

//! The emulator in a child process, so that the benchmark's own peak memory is the tool's alone.
//! The child is the benchmark binary itself, started with `--serve-emulator SEED_FILE`; it prints
//! `ready URL` and then answers one line per command read on stdin:
//! `options JSON` (replace the knobs), `reset` (zero the call counts), `counts` (a JSON line
//! `{"calls": {...}, "errors": {...}}`), `quit`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use bedrock_entitlements::aws::{self, ConnectOptions};
use bedrock_entitlements::cli::Session;
use bedrock_entitlements::emulator::{self, EmulatorOptions, Seed};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

pub const FLAG: &str = "--serve-emulator";

/// The parent's side.
pub struct ChildEmulator {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    pub url: String,
}

/// Calls and error answers per operation, as the emulator counted them.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Counts {
    pub calls: BTreeMap<String, u64>,
    pub errors: BTreeMap<String, BTreeMap<String, u64>>,
}

impl ChildEmulator {
    /// A session against this emulator, signing as the benchmark's caller.
    pub async fn session(&self) -> Session {
        let clients = aws::connect(ConnectOptions {
            home_region: "us-east-1".to_owned(),
            endpoint_url: Some(self.url.clone()),
            static_credentials: Some(("AKIDBENCH".to_owned(), "bench".to_owned())),
            ..ConnectOptions::default()
        })
        .await;
        Session::from_clients(clients)
    }

    pub fn spawn(seed: &Path) -> ChildEmulator {
        let mut child = Command::new(std::env::current_exe().expect("the benchmark's path"))
            .arg(FLAG)
            .arg(seed)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the emulator child starts");
        let stdin = child.stdin.take().expect("piped");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("the child answers");
        let url = line
            .trim()
            .strip_prefix("ready ")
            .unwrap_or_else(|| panic!("the child said {line:?}"))
            .to_owned();
        ChildEmulator {
            child,
            stdin,
            stdout,
            url,
        }
    }

    fn command(&mut self, line: &str) -> String {
        writeln!(self.stdin, "{line}").expect("the child reads");
        self.stdin.flush().expect("the child reads");
        let mut answer = String::new();
        self.stdout
            .read_line(&mut answer)
            .expect("the child answers");
        answer
    }

    pub fn set_options(&mut self, opts: &EmulatorOptions) {
        let json = serde_json::to_string(opts).expect("options serialize");
        assert_eq!(self.command(&format!("options {json}")).trim(), "ok");
    }

    pub fn reset_counts(&mut self) {
        assert_eq!(self.command("reset").trim(), "ok");
    }

    pub fn counts(&mut self) -> Counts {
        serde_json::from_str(&self.command("counts")).expect("counts parse")
    }

    pub fn pid(&self) -> String {
        self.child.id().to_string()
    }
}

impl Drop for ChildEmulator {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.stdin.flush();
        let _ = self.child.wait();
    }
}

/// The child's side: serves the seed until `quit` or the end of stdin.
pub async fn serve(seed_path: &str) {
    let text = std::fs::read_to_string(seed_path).expect("seed file");
    let seed = Seed::from_yaml(&text).expect("seed");
    drop(text);
    let emu = emulator::start(
        seed,
        EmulatorOptions::default(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .expect("emulator");
    let state = emu.state();
    let mut out = tokio::io::stdout();
    let say = |s: String| format!("{s}\n").into_bytes();
    out.write_all(&say(format!("ready {}", emu.endpoint_url())))
        .await
        .unwrap();
    out.flush().await.unwrap();
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let (cmd, rest) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        let answer = match cmd {
            "options" => {
                state.set_options(serde_json::from_str(rest).expect("options parse"));
                "ok".to_owned()
            }
            "reset" => {
                state.reset_counts();
                "ok".to_owned()
            }
            "counts" => serde_json::json!({
                "calls": state.call_counts(),
                "errors": state.error_counts(),
            })
            .to_string(),
            _ => break,
        };
        out.write_all(&say(answer)).await.unwrap();
        out.flush().await.unwrap();
    }
    emu.shutdown().await;
}
