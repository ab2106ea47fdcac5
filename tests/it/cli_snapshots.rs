//! Whole-run CLI snapshots (after uv's `uv_snapshot!`): each test runs the real binary and
//! snapshots its exit code, stdout and stderr together, so a change to any of the three shows in
//! review. Filters make a run repeatable: the scratch directory is `[TEMP]`, the repository
//! `[REPO]`, an endpoint's port `127.0.0.1:[PORT]`, and day counts that move with the clock
//! (`(277 days ago)`, `"days_left": -277`) `[N]`.
//!
//! New snapshots come as `.snap.new` (`cargo insta` is not installed): review, then rename them,
//! or run once with `INSTA_UPDATE=always`.

use crate::cli_support::{Cli, Run};

/// Snapshots a whole run: `cli_snapshot!(name, &cli, run)`, `run` from `cli.run(..)`.
macro_rules! cli_snapshot {
    ($name:expr, $cli:expr, $run:expr) => {
        insta::assert_snapshot!($name, whole_run($cli, &$run))
    };
}

fn repo() -> &'static str {
    env!("CARGO_MANIFEST_DIR")
}

fn file(path: &str) -> String {
    format!("{}/{path}", repo())
}

fn cli() -> Cli {
    // No emulator: these commands need no AWS or start the sandbox (`--sandbox`) themselves.
    Cli::new("http://127.0.0.1:9".to_owned())
}

/// Exit code, stdout and stderr of one run, filtered.
fn whole_run(cli: &Cli, run: &Run) -> String {
    let text = format!(
        "exit: {}\n----- stdout -----\n{}----- stderr -----\n{}",
        run.code, run.stdout, run.stderr
    );
    filter(&text, &cli.dir.path().display().to_string())
}

/// The filters of the module doc.
fn filter(text: &str, temp: &str) -> String {
    let text = text.replace(temp, "[TEMP]").replace(repo(), "[REPO]");
    let text = mask_digits_after(&text, "127.0.0.1:", "[PORT]");
    let text = mask_digits_after(&text, "\"days_left\": ", "[N]");
    let text = mask_digits_before(&text, " days ago)", "[N]");
    mask_digits_before(&text, " days left", "[N]")
}

/// Replaces the number (digits, an optional leading `-`) right after each `marker`.
fn mask_digits_after(text: &str, marker: &str, mask: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(marker) {
        let (head, tail) = rest.split_at(i + marker.len());
        out.push_str(head);
        let tail = tail.strip_prefix('-').unwrap_or(tail);
        let digits = tail.len() - tail.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 {
            out.push_str(mask);
            rest = &tail[digits..];
        } else {
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

/// Replaces the number right before each `marker`.
fn mask_digits_before(text: &str, marker: &str, mask: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(marker) {
        let head = &rest[..i];
        let number = head.trim_end_matches(|c: char| c.is_ascii_digit());
        let number = if number.len() < head.len() {
            number.strip_suffix('-').unwrap_or(number)
        } else {
            number
        };
        out.push_str(number);
        if number.len() < head.len() {
            out.push_str(mask);
        }
        out.push_str(marker);
        rest = &rest[i + marker.len()..];
    }
    out.push_str(rest);
    out
}

#[test]
fn the_filters_mask_what_moves_and_nothing_else() {
    assert_eq!(
        filter(
            "/tmp/x/a.yaml http://127.0.0.1:4566/ (277 days ago) \"days_left\": -3, 12 days left 127.0.0.1:x",
            "/tmp/x"
        ),
        "[TEMP]/a.yaml http://127.0.0.1:[PORT]/ ([N] days ago) \"days_left\": [N], [N] days left 127.0.0.1:x"
    );
    assert_eq!(
        filter("account 111122223333", "/tmp/x"),
        "account 111122223333"
    );
}

/// `plan`-like commands against the built-in sandbox seed and the example file.
async fn sandbox(c: &Cli, args: &[&str]) -> Run {
    let seed = file("examples/sandbox.yaml");
    let config = file("examples/entitlements.yaml");
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--sandbox", &seed, "-c", &config]);
    c.run(&all).await
}

#[tokio::test]
async fn validate_ok() {
    let c = cli();
    let run = c
        .run(&["validate", "-c", &file("examples/entitlements.yaml")])
        .await;
    cli_snapshot!("validate_ok", &c, run);
}

#[tokio::test]
async fn validate_bad() {
    let c = cli();
    let path = c.write(
        "broken.yaml",
        "version: 1\nmodels:\n  Bad_Key:\n    product_sku: prod-x\n    grant_to:\n      accounts: [012345678901]\n    typo: 1\n",
    );
    let run = c.run(&["validate", "-c", path.to_str().unwrap()]).await;
    cli_snapshot!("validate_bad", &c, run);
}

#[tokio::test]
async fn validate_missing_file() {
    let c = cli();
    let run = c.run(&["validate", "-c", "no-such-file.yaml"]).await;
    cli_snapshot!("validate_missing_file", &c, run);
}

#[tokio::test]
async fn schema_head() {
    let c = cli();
    let mut run = c.run(&["schema"]).await;
    run.stdout = run
        .stdout
        .lines()
        .take(12)
        .map(|l| format!("{l}\n"))
        .collect();
    cli_snapshot!("schema_head", &c, run);
}

#[tokio::test]
async fn plan_text() {
    let c = cli();
    let run = sandbox(&c, &["plan", "--detailed-exitcode"]).await;
    cli_snapshot!("plan_text", &c, run);
}

#[tokio::test]
async fn plan_json() {
    let c = cli();
    let run = sandbox(&c, &["plan", "--format", "json"]).await;
    cli_snapshot!("plan_json", &c, run);
}

#[tokio::test]
async fn plan_markdown() {
    let c = cli();
    let run = sandbox(&c, &["plan", "--format", "markdown"]).await;
    cli_snapshot!("plan_markdown", &c, run);
}

#[tokio::test]
async fn drift_text() {
    let c = cli();
    let run = sandbox(&c, &["drift"]).await;
    cli_snapshot!("drift_text", &c, run);
}

#[tokio::test]
async fn licenses_text() {
    let c = cli();
    let run = sandbox(&c, &["licenses"]).await;
    cli_snapshot!("licenses_text", &c, run);
}

#[tokio::test]
async fn apply_refuses_without_a_terminal() {
    let c = cli();
    let run = sandbox(&c, &["apply"]).await;
    cli_snapshot!("apply_refuses_without_a_terminal", &c, run);
}

// The first stage of the command line: clap's value parsers refuse a malformed value before any
// file is read or AWS called (exit 1, as every error: 2 means changes).

#[tokio::test]
async fn apply_wait_is_a_duration() {
    let c = cli();
    let run = sandbox(&c, &["apply", "--wait", "ten"]).await;
    cli_snapshot!("apply_wait_is_a_duration", &c, run);
}

#[tokio::test]
async fn apply_parallelism_is_at_least_one() {
    let c = cli();
    let run = sandbox(&c, &["apply", "--parallelism", "0"]).await;
    cli_snapshot!("apply_parallelism_is_at_least_one", &c, run);
}

#[tokio::test]
async fn apply_max_deletes_is_a_count() {
    let c = cli();
    let run = sandbox(&c, &["apply", "--max-deletes", "many"]).await;
    cli_snapshot!("apply_max_deletes_is_a_count", &c, run);
}

#[tokio::test]
async fn plan_target_is_a_model_key() {
    let c = cli();
    let run = sandbox(&c, &["plan", "--target", "Claude_Sonnet"]).await;
    cli_snapshot!("plan_target_is_a_model_key", &c, run);
}

/// A well-formed `--target` the file does not name: refused once, by `org::check_targets`,
/// before the sandbox is even started.
#[tokio::test]
async fn plan_target_names_a_model_of_the_file() {
    let c = cli();
    let run = sandbox(
        &c,
        &[
            "plan",
            "--target",
            "claude-sonnet",
            "--target",
            "no-such-model",
        ],
    )
    .await;
    cli_snapshot!("plan_target_names_a_model_of_the_file", &c, run);
}
