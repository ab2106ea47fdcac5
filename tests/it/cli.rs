//! The contract's CLI basics through the real binary: validate, schema, global options,
//! plan against the embedded sandbox, exit codes, stdout/stderr discipline.

use crate::cli_support::Cli;

fn repo(path: &str) -> String {
    format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))
}

fn cli() -> Cli {
    // No emulator: these commands either need no AWS or start the sandbox themselves.
    Cli::new("http://127.0.0.1:9".to_owned())
}

#[tokio::test]
async fn validate_accepts_the_example_with_a_one_line_summary() {
    let run = cli()
        .run(&["validate", "-c", &repo("examples/entitlements.yaml")])
        .await
        .expect(0);
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
    assert!(run.stdout.contains("valid"), "{}", run.stdout);
}

#[tokio::test]
async fn validate_reports_every_problem_on_stderr_and_nothing_on_stdout() {
    let c = cli();
    let file = c.write(
        "broken.yaml",
        "version: 1\nmodels:\n  Bad_Key:\n    product_sku: prod-x\n    grant_to:\n      accounts: [12345]\n    typo: 1\n",
    );
    let run = c
        .run(&["validate", "-c", file.to_str().unwrap()])
        .await
        .expect(1);
    assert!(run.stdout.is_empty(), "stdout: {}", run.stdout);
    let positioned: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with(&format!("{}:", file.display())) && l.contains(": error: "))
        .collect();
    assert!(positioned.len() >= 3, "{}", run.stderr);
    assert!(
        run.stderr.contains(":3:3: error:"),
        "model key position: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains(":6:18: error:"),
        "account id position: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains(":7:5: error:"),
        "unknown key position: {}",
        run.stderr
    );
}

#[tokio::test]
async fn global_options_work_after_the_subcommand_too() {
    let c = cli();
    let before = c
        .run(&["-c", &repo("examples/entitlements.yaml"), "validate"])
        .await
        .expect(0);
    let after = c
        .run(&["validate", "-c", &repo("examples/entitlements.yaml")])
        .await
        .expect(0);
    assert_eq!(before.stdout, after.stdout);
}

#[tokio::test]
async fn a_missing_file_is_one_clear_error() {
    let run = cli()
        .run(&["validate", "-c", "no-such-file.yaml"])
        .await
        .expect(1);
    assert!(run.stdout.is_empty());
    assert!(run.stderr.contains("no-such-file.yaml"), "{}", run.stderr);
    assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
}

#[tokio::test]
async fn schema_prints_the_committed_schema() {
    let run = cli().run(&["schema"]).await.expect(0);
    let committed = std::fs::read_to_string(repo("entitlements.schema.json")).unwrap();
    assert_eq!(run.stdout, committed);
}

#[tokio::test]
async fn sandbox_plan_shows_changes_and_detailed_exitcode_says_so() {
    let c = cli();
    let args = [
        "plan",
        "--sandbox",
        &repo("examples/sandbox.yaml"),
        "-c",
        &repo("examples/entitlements.yaml"),
    ];
    let run = c.run(&args).await.expect(0);
    assert!(run.stdout.contains("to create"), "{}", run.stdout);
    let mut detailed = args.to_vec();
    detailed.push("--detailed-exitcode");
    c.run(&detailed).await.expect(2);

    let mut json = args.to_vec();
    json.extend(["--format", "json"]);
    let doc = c.run(&json).await.expect(0).json();
    assert_eq!(doc["format_version"], 1);
    let actions = doc["actions"].as_array().unwrap();
    assert!(!actions.is_empty());
    for a in actions {
        for key in ["action", "model", "license_arn", "principal"] {
            assert!(a.get(key).is_some(), "{key} missing in {a}");
        }
        assert_eq!(a.get("grant_arn").is_none(), a["action"] == "create", "{a}");
    }
    let total: u64 = doc["summary"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(total as usize, actions.len());
}

#[tokio::test]
async fn markdown_plan_carries_the_sticky_comment_marker() {
    let run = cli()
        .run(&[
            "plan",
            "--sandbox",
            &repo("examples/sandbox.yaml"),
            "-c",
            &repo("examples/entitlements.yaml"),
            "--format",
            "markdown",
        ])
        .await
        .expect(0);
    assert!(
        run.stdout.starts_with("<!-- bedrock-entitlements:plan -->"),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn unknown_target_is_an_error() {
    let run = cli()
        .run(&[
            "plan",
            "--sandbox",
            &repo("examples/sandbox.yaml"),
            "-c",
            &repo("examples/entitlements.yaml"),
            "--target",
            "no-such-model",
        ])
        .await
        .expect(1);
    assert!(run.stderr.contains("no-such-model"), "{}", run.stderr);
    assert!(run.stdout.is_empty());
}
