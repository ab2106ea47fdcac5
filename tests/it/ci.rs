//! What a platform team's CI meets (issue 15): the examples install a pinned release, never the
//! unpublished registry crate; the install script verifies checksums; a run without credentials
//! prints one error; a 5,000-action plan fits one PR comment; the workflows' `gh` steps keep one
//! sticky comment and one drift issue; `--version`, `completions` and `man`; the HTML access
//! report in a real browser; and the static release binary alone in an empty root.
//!
//! Tests that need something this machine may lack (Chromium, glibc's static libraries, root
//! for `chroot`) print `skipped: REASON` on stderr and return; never silently.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use bedrock_entitlements::emulator::EmulatorOptions;

use crate::cli_support::Cli;
use crate::support::{sandbox_seed, start_emulator};

const BIN: &str = env!("CARGO_BIN_EXE_bedrock-entitlements");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn skip(test: &str, reason: &str) {
    eprintln!("skipped: {test}: {reason}");
}

/// Runs the binary with only `env` in its environment.
fn run_bin(args: &[&str], env: &[(&str, &str)], dir: &Path) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// `cargo install` lines that install `bedrock-entitlements` from the registry (not `--git`,
/// not `--path`).
fn registry_installs(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| {
            l.contains("cargo install")
                && l.contains("bedrock-entitlements")
                && !l.contains("--git")
                && !l.contains("--path")
        })
        .map(|l| l.trim().to_owned())
        .collect()
}

#[test]
fn examples_and_installers_never_cargo_install_the_unpublished_crate() {
    assert_eq!(
        registry_installs("    - cargo install bedrock-entitlements --locked"),
        ["- cargo install bedrock-entitlements --locked"],
        "the check finds a registry install"
    );
    assert!(
        registry_installs("cargo install --locked --git https://x/bedrock-entitlements").is_empty()
    );
    let mut files = Vec::new();
    files_under(&root().join("examples"), &mut files);
    // What users copy and what installs: the examples, the action, the image and the scripts
    // (the docs say in prose that the registry install does not work).
    files_under(&root().join("scripts"), &mut files);
    files.extend(["action.yml", "Dockerfile"].map(|f| root().join(f)));
    files.sort();
    assert!(
        files.iter().any(|f| f.ends_with(".gitlab-ci.yml")),
        "{files:?}"
    );
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let found = registry_installs(&text);
        assert!(found.is_empty(), "{}: {found:?}", file.display());
    }
}

#[test]
fn version_names_the_git_revision_and_completions_and_man_are_generated() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, _) = run_bin(&["--version"], &[], dir.path());
    assert_eq!(code, 0);
    let rev = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let version = env!("CARGO_PKG_VERSION");
    match rev {
        Some(rev) => assert_eq!(
            stdout,
            format!("bedrock-entitlements {version} (git {rev})\n")
        ),
        None => assert_eq!(
            stdout,
            format!("bedrock-entitlements {version} (git unknown)\n")
        ),
    }
    for (shell, needle) in [
        ("bash", "complete -F _bedrock__entitlements"),
        ("zsh", "#compdef bedrock-entitlements"),
        ("fish", "complete -c bedrock-entitlements"),
    ] {
        let (code, out, err) = run_bin(&["completions", shell], &[], dir.path());
        assert_eq!(code, 0, "{err}");
        assert!(out.contains(needle), "{shell}: {out}");
        assert!(out.contains("drift") && out.contains("access"), "{shell}");
    }
    let (code, man, err) = run_bin(&["man"], &[], dir.path());
    assert_eq!(code, 0, "{err}");
    assert!(man.contains(".TH bedrock-entitlements 1"), "{man}");
    assert!(man.contains("\\-\\-config"), "{man}");
    // A malformed command line is an error like any other: exit 1 (2 means changes).
    let (code, _, err) = run_bin(&["completions", "tcsh"], &[], dir.path());
    assert_eq!(code, 1, "{err}");
}

/// The environment of a CI job whose credentials step was forgotten.
fn no_credentials_env<'a>(endpoint: &'a str, home: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("PATH", "/usr/bin:/bin"),
        ("HOME", home),
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_CONFIG_FILE", ""),
        ("AWS_SHARED_CREDENTIALS_FILE", ""),
        ("NO_COLOR", "1"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_without_credentials_prints_one_error_with_its_fix() {
    let emu = start_emulator(sandbox_seed(), EmulatorOptions::default()).await;
    let endpoint = emu.endpoint_url();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().display().to_string();
    let config = root().join("examples/entitlements.yaml");
    let config = config.to_str().unwrap();
    let env = no_credentials_env(&endpoint, &home);
    let (code, stdout, stderr) = run_bin(&["plan", "-c", config], &env, dir.path());
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(stdout, "");
    let filtered = stderr
        .replace(&endpoint, "[ENDPOINT]")
        .replace(&home, "[TMP]")
        .replace(root().to_str().unwrap(), "[REPO]");
    insta::assert_snapshot!("plan_without_credentials_stderr", filtered);

    // The SDK's lines are there when RUST_LOG names one of its crates (so the filter above is
    // what silences them, not their absence).
    let mut loud = env.clone();
    loud.push(("RUST_LOG", "warn,aws_runtime=warn"));
    let (code, _, stderr) = run_bin(&["plan", "-c", config], &loud, dir.path());
    assert_eq!(code, 1);
    assert!(stderr.contains("WARN aws_runtime"), "{stderr}");
}

/// A seed of `accounts` member accounts under the root and the sandbox's four licenses, and a
/// desired state granting each of the four models to every member account by id: one create
/// per (model, account).
fn bulk_seed_and_file(accounts: usize) -> (String, String) {
    let sandbox = std::fs::read_to_string(root().join("examples/sandbox.yaml")).unwrap();
    let licenses = &sandbox[sandbox.find("licenses:").unwrap()..sandbox.find("grants:").unwrap()];
    let ids: Vec<String> = (0..accounts)
        .map(|i| format!("{:012}", 200_000_000_000u64 + i as u64))
        .collect();
    let mut seed = String::from(
        "region: us-east-1\ndefault_caller: \"111122223333\"\norganization:\n  id: o-exampleorg1\n  \
         feature_set: ALL\n  management_account: \"111122223333\"\n  root: r-ab12\n  trusted_access: true\n  \
         organizational_units: []\n  accounts:\n    - { id: \"111122223333\", name: management, parent: r-ab12 }\n",
    );
    for (i, id) in ids.iter().enumerate() {
        seed.push_str(&format!(
            "    - {{ id: \"{id}\", name: team-{i:05}, parent: r-ab12 }}\n"
        ));
    }
    seed.push_str(licenses);
    seed.push_str("grants: []\n");
    let list = ids
        .iter()
        .map(|id| format!("\"{id}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let mut file = String::from("version: 1\nmodels:\n");
    for (key, sku) in [
        ("claude-sonnet", "prod-cl4ud3s0nn3t1"),
        ("cohere-command", "prod-c0h3r3cmdr01"),
        ("ai21-jamba", "prod-a121jamba001"),
        ("stability-sdxl", "prod-stab1l1tysdx"),
    ] {
        file.push_str(&format!(
            "  {key}:\n    product_sku: {sku}\n    grant_to:\n      accounts: [{list}]\n"
        ));
    }
    (seed, file)
}

#[test]
fn a_5000_action_plan_fits_one_pr_comment_with_counts_first_changes_and_the_artifact_link() {
    let dir = tempfile::tempdir().unwrap();
    let (seed, file) = bulk_seed_and_file(1_250);
    std::fs::write(dir.path().join("seed.yaml"), seed).unwrap();
    std::fs::write(dir.path().join("entitlements.yaml"), file).unwrap();
    let args = ["plan", "--sandbox", "seed.yaml", "-c", "entitlements.yaml"];
    let env = [("PATH", "/usr/bin:/bin"), ("NO_COLOR", "1")];
    let (code, json, err) = run_bin(
        &[&args[..], &["--format", "json"]].concat(),
        &env,
        dir.path(),
    );
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["actions"].as_array().unwrap().len(), 5_000);

    let (code, md, err) = run_bin(
        &[&args[..], &["--format", "markdown"]].concat(),
        &env,
        dir.path(),
    );
    assert_eq!(code, 0, "{err}");
    // Posted as examples/github-actions/plan.yml posts it: its step appends the artifact link.
    let (script, _) = step("plan.yml", "Post the plan as a sticky comment");
    let url = "https://github.com/o/r/actions/runs/1/artifacts/2";
    let vars = [("PR", "9"), ("ARTIFACT_URL", url)];
    let (calls, md) = run_step_on(&script, "", &vars, &md);
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert!(md.contains(url), "the artifact link");
    let chars = md.chars().count();
    assert!(chars < 65_536, "{chars} characters");
    assert!(
        md.starts_with("<!-- bedrock-entitlements:plan -->\n"),
        "the sticky marker first"
    );
    assert!(md.contains("5,000"), "the counts:\n{}", &md[..2000]);
    // The first changes: the first account of the first model (plans are sorted) is shown.
    let first = &json["actions"][0];
    let first_account = first["principal"]
        .as_str()
        .unwrap()
        .trim_start_matches("arn:aws:iam::")
        .trim_end_matches(":root");
    assert!(
        md.contains(first_account),
        "first change {first_account} missing"
    );
    let warning = md
        .lines()
        .find(|l| l.contains("This comment is shortened"))
        .expect("the shortening warning");
    assert!(warning.contains("artifact"), "{warning}");
}

/// The `run` script and `env` keys of the step named `name` in an example workflow.
fn step(workflow: &str, name: &str) -> (String, Vec<String>) {
    let text =
        std::fs::read_to_string(root().join("examples/github-actions").join(workflow)).unwrap();
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let steps = doc["jobs"].as_mapping().unwrap().values().next().unwrap()["steps"]
        .as_sequence()
        .unwrap()
        .clone();
    let step = steps
        .iter()
        .find(|s| s["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("{workflow}: no step {name:?}"));
    let env = step["env"]
        .as_mapping()
        .map(|m| {
            m.keys()
                .filter_map(|k| k.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    (step["run"].as_str().unwrap().to_owned(), env)
}

/// A fake `gh` on PATH: records each call's arguments (one line each) in `calls`, and answers
/// `issue list` / `api .../comments` (GET) with the file `answer`.
const FAKE_GH: &str = r#"#!/bin/sh
printf '%s\n' "$*" >> "$FAKE_DIR/calls"
case "$1 $2" in
  "issue list") cat "$FAKE_DIR/answer" ;;
  "api repos/"*) cat "$FAKE_DIR/answer" ;;
esac
"#;

/// Runs a workflow step's script as GitHub does (`bash -e -o pipefail`) with the fake `gh` and
/// returns the `gh` calls it made.
fn run_step(script: &str, answer: &str, env: &[(&str, &str)]) -> Vec<String> {
    run_step_on(script, answer, env, "<!-- bedrock-entitlements:plan -->\n").0
}

/// [`run_step`] with `plan.md` holding `plan_md`; also returns `plan.md` as the step left it.
fn run_step_on(
    script: &str,
    answer: &str,
    env: &[(&str, &str)],
    plan_md: &str,
) -> (Vec<String>, String) {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::fs::write(bin.join("gh"), FAKE_GH).unwrap();
    std::fs::set_permissions(bin.join("gh"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(dir.path().join("answer"), answer).unwrap();
    std::fs::write(
        dir.path().join("drift.md"),
        "<!-- bedrock-entitlements:drift -->\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("plan.md"), plan_md).unwrap();
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let out = Command::new("bash")
        .args([
            "--noprofile",
            "--norc",
            "-e",
            "-o",
            "pipefail",
            "-c",
            script,
        ])
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", path)
        .env("FAKE_DIR", dir.path())
        .env("GITHUB_REPOSITORY", "acme/platform")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let calls = std::fs::read_to_string(dir.path().join("calls"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect();
    (
        calls,
        std::fs::read_to_string(dir.path().join("plan.md")).unwrap(),
    )
}

#[test]
fn the_drift_workflow_opens_one_issue_updates_it_while_drift_lasts_and_closes_it_after() {
    let (script, env) = step("drift.yml", "Open, update or close the drift issue");
    assert_eq!(env, ["GH_TOKEN", "DRIFT_EXIT", "RUN_URL"]);
    let run = |exit: &str, open: &str| {
        run_step(
            &script,
            open,
            &[("DRIFT_EXIT", exit), ("RUN_URL", "https://ci/run/7")],
        )
    };
    let list = "issue list --state open --label entitlements-drift --limit 1 --json number --jq .[0].number // empty";
    // Drift, no open issue: the label exists, one issue is created.
    let calls = run("2", "");
    assert_eq!(calls[0], list);
    assert!(
        calls[1].starts_with("label create entitlements-drift --force"),
        "{calls:?}"
    );
    assert_eq!(
        calls[2],
        "issue create --title Bedrock entitlements drift --label entitlements-drift --body-file drift.md"
    );
    assert_eq!(calls.len(), 3, "{calls:?}");
    // Drift goes on: the open issue is edited, not a second one created.
    assert_eq!(
        run("2", "42\n"),
        [list, "issue edit 42 --body-file drift.md"]
    );
    // Drift ended: the open issue is closed, with a comment.
    assert_eq!(
        run("0", "42\n"),
        [
            list,
            "issue close 42 --comment Drift ended: live grants match entitlements.yaml again (https://ci/run/7)."
        ]
    );
    // In sync and no issue: nothing but the look-up.
    assert_eq!(run("0", ""), [list]);
}

#[test]
fn the_plan_workflow_updates_its_sticky_comment_in_place() {
    let (script, env) = step("plan.yml", "Post the plan as a sticky comment");
    assert_eq!(env, ["GH_TOKEN", "PR", "ARTIFACT_URL"]);
    let vars = [("PR", "9"), ("ARTIFACT_URL", "https://ci/artifacts/3")];
    let lookup = "api repos/acme/platform/issues/9/comments --paginate --jq .[] | select(.body | startswith(\"<!-- bedrock-entitlements:plan -->\")) | .id";
    assert_eq!(
        run_step(&script, "", &vars),
        [
            lookup,
            "api -X POST repos/acme/platform/issues/9/comments -F body=@plan.md"
        ]
    );
    assert_eq!(
        run_step(&script, "1234\n", &vars),
        [
            lookup,
            "api -X PATCH repos/acme/platform/issues/comments/1234 -F body=@plan.md"
        ]
    );
}

/// A release `v9.9.9` laid out as the release workflow publishes it, under `dir/v9.9.9/`, with
/// the test's binary as the archive's binary. Returns the archive's SHA-256.
fn fake_release(dir: &Path) -> String {
    use sha2::Digest as _;
    let name = "bedrock-entitlements-v9.9.9-x86_64-unknown-linux-musl";
    let stage = dir.join("stage").join(name);
    std::fs::create_dir_all(&stage).unwrap();
    std::fs::copy(BIN, stage.join("bedrock-entitlements")).unwrap();
    let release = dir.join("v9.9.9");
    std::fs::create_dir_all(&release).unwrap();
    let archive = release.join(format!("{name}.tar.gz"));
    let status = Command::new("tar")
        .args([
            "-czf",
            archive.to_str().unwrap(),
            "-C",
            dir.join("stage").to_str().unwrap(),
            name,
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let sum = hex::encode(sha2::Sha256::digest(std::fs::read(&archive).unwrap()));
    let other = "0".repeat(64);
    let sums = format!(
        "{other}  bedrock-entitlements-v9.9.9-aarch64-apple-darwin.tar.gz\n{sum}  {name}.tar.gz\n"
    );
    std::fs::write(release.join("SHA256SUMS"), sums).unwrap();
    sum
}

fn install(dir: &Path, pinned: &str) -> (bool, String) {
    let out = Command::new("bash")
        .arg(root().join("scripts/install.sh"))
        .args(["v9.9.9", dir.join("bin").to_str().unwrap()])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", dir)
        .env(
            "BEDROCK_ENTITLEMENTS_RELEASE_URL",
            format!("file://{}", dir.display()),
        )
        .env("BEDROCK_ENTITLEMENTS_TARGET", "x86_64-unknown-linux-musl")
        .env("BEDROCK_ENTITLEMENTS_SHA256", pinned)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn the_install_script_installs_a_pinned_release_only_when_its_checksum_matches() {
    if Command::new("curl").arg("--version").output().is_err() {
        return skip(
            "install script",
            "curl is not installed (the script downloads with curl)",
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let sum = fake_release(dir.path());
    let (ok, out) = install(dir.path(), "");
    assert!(ok, "{out}");
    assert!(out.contains(&format!("verified (sha256 {sum})")), "{out}");
    assert!(
        out.contains("bedrock-entitlements 0."),
        "the installed binary runs: {out}"
    );
    let (ok, out) = install(dir.path(), &sum);
    assert!(ok, "pinned to the right checksum: {out}");
    let (ok, out) = install(dir.path(), &"a".repeat(64));
    assert!(!ok && out.contains("pinned aaaa"), "{out}");
    // A release whose SHA256SUMS does not match its archive.
    let sums = dir.path().join("v9.9.9/SHA256SUMS");
    let text = std::fs::read_to_string(&sums)
        .unwrap()
        .replace(&sum, &"b".repeat(64));
    std::fs::write(&sums, text).unwrap();
    std::fs::remove_file(dir.path().join("bin/bedrock-entitlements")).unwrap();
    let (ok, out) = install(dir.path(), "");
    assert!(!ok && out.contains("checksum mismatch"), "{out}");
    assert!(
        !dir.path().join("bin/bedrock-entitlements").exists(),
        "nothing installed"
    );
}

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |d| d.join(name)))
        .find(|p| p.is_file())
}

/// Runs headless Chromium on `url` with `extra` (`--dump-dom`, `--screenshot=FILE`), bounded
/// by `timeout` so that a browser that hangs fails the test instead of stalling it.
fn chromium_run(browser: &Path, url: &str, extra: &[&str], out_dir: &Path) -> String {
    let profile = tempfile::tempdir().unwrap();
    let output = Command::new("timeout")
        .arg("120")
        .arg(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1400,1000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .current_dir(out_dir)
        .stdin(Stdio::null())
        .output()
        .expect("chromium runs");
    assert!(
        output.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The opening tags of the account rows of a dumped DOM, with their rows' text.
fn account_rows(dom: &str) -> Vec<&str> {
    dom.split("<tr class=\"account\"")
        .skip(1)
        .map(|r| &r[..r.find("</tr>").unwrap()])
        .collect()
}

/// The sandbox with an account name and a hand-made grant name that try to inject markup.
fn hostile_sandbox() -> String {
    std::fs::read_to_string(root().join("examples/sandbox.yaml"))
        .unwrap()
        .replace(
            "name: legacy-app,",
            "name: \"<img src=x onerror=document.title='pwned'>legacy\",",
        )
        .replace(
            "name: ml-research-claude-manual",
            "name: \"ml-research</td><script>document.title='pwned'</script>\"",
        )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_access_report_renders_in_headless_chromium_with_one_row_per_account() {
    let Some(browser) = chromium() else {
        return skip(
            "HTML report in Chromium",
            "no chromium on PATH (Debian: apt-get install chromium)",
        );
    };
    let seed = bedrock_entitlements::emulator::Seed::from_yaml(&hostile_sandbox()).expect("seed");
    let emu = start_emulator(seed, EmulatorOptions::default()).await;
    let cli = Cli::new(emu.endpoint_url());
    cli.write(
        "entitlements.yaml",
        &std::fs::read_to_string(root().join("examples/entitlements.yaml")).unwrap(),
    );
    cli.run(&["apply", "--auto-approve"]).await.expect(0);
    // After the apply, the file grants one more account: its cell differs from the file.
    let wider = std::fs::read_to_string(cli.path("entitlements.yaml"))
        .unwrap()
        .replace(
            "        - sandbox-alice\n",
            "        - sandbox-alice\n        - sandbox-bob\n",
        );
    cli.write("entitlements.yaml", &wider);
    // Reads move AWS workflows on (PENDING_WORKFLOW settles): compare the page with a JSON
    // view read before and after it, once the two agree.
    let mut settled = None;
    for _ in 0..5 {
        let before = cli
            .run(&["access", "--format", "json"])
            .await
            .expect(0)
            .json();
        let html = cli
            .run(&["access", "--format", "html"])
            .await
            .expect(0)
            .stdout;
        let after = cli
            .run(&["access", "--format", "json"])
            .await
            .expect(0)
            .json();
        if before == after {
            settled = Some((after, html));
            break;
        }
    }
    let (json, html) = settled.expect("access settles within 5 reads");
    assert!(
        !html.contains("<img") && !html.contains("<script>document"),
        "escaped"
    );

    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ci-access-report");
    std::fs::create_dir_all(&out).unwrap();
    let page = out.join("access.html");
    std::fs::write(&page, &html).unwrap();
    let url = format!("file://{}", page.display());
    let dom = chromium_run(&browser, &url, &["--dump-dom"], &out);
    std::fs::write(out.join("dom.html"), &dom).unwrap();
    assert!(dom.contains("data-ready=\"1\""), "the inline script ran");
    assert!(
        !dom.contains("<img") && !dom.contains("pwned</title>"),
        "no injected element"
    );

    let accounts = json["accounts"].as_array().unwrap();
    let rows = account_rows(&dom);
    assert_eq!(rows.len(), accounts.len(), "one row per account");
    let mut granted = 0;
    for account in accounts {
        let id = account["id"].as_str().unwrap();
        let row = rows
            .iter()
            .find(|r| r.contains(&format!("data-account=\"{id}\"")))
            .unwrap_or_else(|| panic!("no row for {id}"));
        for (model, cell) in account["models"].as_object().unwrap() {
            let at = row
                .find(&format!("<td data-model=\"{model}\""))
                .unwrap_or_else(|| panic!("{id} {model}"));
            let td = &row[at..at + row[at..].find("</td>").unwrap()];
            let state = cell["state"].as_str().unwrap();
            assert!(
                td.contains(&format!("data-state=\"{state}\"")),
                "{id} {model}: {td}"
            );
            let diff = cell["differs_from_file"].as_bool().unwrap();
            assert_eq!(td.contains(" diff\""), diff, "{id} {model}: {td}");
            if state == "granted" {
                granted += 1;
                let grant = cell["via"][0]["grant_arn"].as_str().unwrap();
                assert!(
                    td.contains(&format!("data-grant=\"{grant}\"")),
                    "{id} {model}: {td}"
                );
            }
        }
    }
    assert!(granted >= 5, "a sample of granted cells ({granted})");
    let bob = rows
        .iter()
        .find(|r| r.contains("data-account=\"666677778888\""))
        .unwrap();
    assert!(
        bob.contains("<td data-model=\"stability-sdxl\" data-state=\"none\" class=\"none diff\">"),
        "the difference is highlighted: {bob}"
    );

    // The OU filter, from the URL fragment: only the accounts under Root/Workloads/ML stay.
    let filtered = chromium_run(
        &browser,
        &format!("{url}#ou=Root/Workloads/ML"),
        &["--dump-dom"],
        &out,
    );
    let visible: Vec<&str> = account_rows(&filtered)
        .into_iter()
        .filter(|r| !r[..r.find('>').unwrap()].contains("hidden"))
        .collect();
    let under_ml = accounts
        .iter()
        .filter(|a| a["path"].as_str().unwrap().starts_with("Root/Workloads/ML"))
        .count();
    assert_eq!(visible.len(), under_ml, "OU filter");
    assert!(under_ml > 0 && under_ml < accounts.len());

    let shot = out.join("access.png");
    chromium_run(
        &browser,
        &url,
        &[&format!("--screenshot={}", shot.display())],
        &out,
    );
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    eprintln!("HTML report, DOM and screenshot in {}", out.display());
}

/// Why this machine cannot build the static release binary, or `None` when it can.
fn static_build_blocker() -> Option<String> {
    let host = std::env::consts::ARCH;
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    let installed = installed
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    if installed
        .lines()
        .any(|t| t == format!("{host}-unknown-linux-musl"))
    {
        return None;
    }
    let libc = Command::new("cc")
        .args(["-print-file-name=libc.a"])
        .output();
    let libc = libc
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    if libc.starts_with('/') {
        return None;
    }
    Some(format!(
        "the toolchain has no {host}-unknown-linux-musl target (rustup target list --installed: {}) \
         and glibc's static libc.a is missing (cc -print-file-name=libc.a: {libc:?}; Debian: libc6-dev)",
        installed.split_whitespace().collect::<Vec<_>>().join(", ")
    ))
}

/// The ELF program header types of `bytes` (64-bit little-endian).
fn program_header_types(bytes: &[u8]) -> Vec<u32> {
    assert_eq!(&bytes[..4], b"\x7fELF", "an ELF file");
    assert_eq!((bytes[4], bytes[5]), (2, 1), "64-bit little-endian");
    let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(bytes[0x20..0x28].try_into().unwrap()) as usize;
    let (size, count) = (u16_at(0x36), u16_at(0x38));
    (0..count)
        .map(|i| {
            u32::from_le_bytes(
                bytes[phoff + i * size..phoff + i * size + 4]
                    .try_into()
                    .unwrap(),
            )
        })
        .collect()
}

const PT_INTERP: u32 = 3;

/// Builds the static release binary with scripts/build-static.sh (what the release workflow
/// runs); cargo reuses `target/static`, so only the first run of a checkout pays the build.
fn build_static() -> PathBuf {
    let started = std::time::Instant::now();
    let out = Command::new("bash")
        .arg(root().join("scripts/build-static.sh"))
        .current_dir(root())
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(out.status.success(), "scripts/build-static.sh failed");
    let path = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap()
        .to_owned();
    eprintln!(
        "static release build: {:.0} s ({path})",
        started.elapsed().as_secs_f64()
    );
    root().join(path)
}

/// A directory holding what a `FROM scratch` image holds: the binary and CA certificates,
/// plus the two example files under `/work` (the image's working directory, where CI mounts
/// the repository).
fn scratch_root(binary: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(binary, dir.path().join("bedrock-entitlements")).unwrap();
    let certs = dir.path().join("etc/ssl/certs");
    std::fs::create_dir_all(&certs).unwrap();
    let system = Path::new("/etc/ssl/certs/ca-certificates.crt");
    if system.exists() {
        std::fs::copy(system, certs.join("ca-certificates.crt")).unwrap();
    }
    std::fs::create_dir(dir.path().join("work")).unwrap();
    for f in ["sandbox.yaml", "entitlements.yaml"] {
        std::fs::copy(
            root().join("examples").join(f),
            dir.path().join("work").join(f),
        )
        .unwrap();
    }
    dir
}

#[test]
fn the_static_release_binary_runs_alone_in_an_empty_root() {
    if let Some(reason) = static_build_blocker() {
        return skip("static release binary", &reason);
    }
    let binary = build_static();
    let bytes = std::fs::read(&binary).unwrap();
    let types = program_header_types(&bytes);
    assert!(
        !types.contains(&PT_INTERP),
        "the binary names a dynamic loader (PT_INTERP): {types:?}"
    );
    let ldd = Command::new("ldd").arg(&binary).output();
    if let Ok(ldd) = ldd {
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&ldd.stdout),
            String::from_utf8_lossy(&ldd.stderr)
        );
        assert!(
            text.contains("not a dynamic executable") || text.contains("statically linked"),
            "ldd: {text}"
        );
    }
    let dir = scratch_root(&binary);
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    // chroot makes the directory the whole filesystem: no loader, no libc, no /proc, no /etc.
    let run = |args: &[&str]| {
        let mut cmd = if is_root {
            // An absolute path: with the environment cleared, the lookup has no PATH.
            let chroot = ["/usr/sbin/chroot", "/usr/bin/chroot", "/sbin/chroot"]
                .into_iter()
                .find(|p| Path::new(p).exists())
                .expect("chroot (coreutils)");
            let mut c = Command::new(chroot);
            c.arg(dir.path()).arg("/bedrock-entitlements");
            c
        } else {
            Command::new(dir.path().join("bedrock-entitlements"))
        };
        let out = cmd
            .args(args)
            .current_dir(dir.path())
            .env_clear()
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    if !is_root {
        eprintln!(
            "note: not root, so no chroot: the binary runs from the directory with an empty environment"
        );
    }
    let (code, version, err) = run(&["--version"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(version.starts_with("bedrock-entitlements "), "{version}");
    // Relative paths: chroot starts in `/`, the other case in the directory.
    let args = [
        "plan",
        "--sandbox",
        "work/sandbox.yaml",
        "-c",
        "work/entitlements.yaml",
        "--no-color",
    ];
    let (code, plan, err) = run(&args);
    assert_eq!(code, Some(0), "{err}");
    let (code, expected, _) = run_bin(&args, &[], dir.path());
    assert_eq!(code, 0);
    assert_eq!(
        plan, expected,
        "the static binary plans what the test binary plans"
    );
}
