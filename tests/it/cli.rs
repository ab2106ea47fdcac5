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
    let run = c.sandbox_plan(&[]).await.expect(0);
    assert!(run.stdout.contains("to create"), "{}", run.stdout);
    c.sandbox_plan(&["--detailed-exitcode"]).await.expect(2);

    let doc = c.sandbox_plan(&["--format", "json"]).await.expect(0).json();
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
        .sandbox_plan(&["--format", "markdown"])
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
        .sandbox_plan(&["--target", "no-such-model"])
        .await
        .expect(1);
    assert!(run.stderr.contains("no-such-model"), "{}", run.stderr);
    assert!(run.stdout.is_empty());
}

/// What a caller of CreateGrant or an account's owner can put in a name: a formula, a table
/// pipe, a code fence, emphasis, a link, HTML, and a newline that would start a heading.
const HOSTILE: &str = "=HYPERLINK(\"x\")|a`b*c[l](https://e.test)<img src=x>\n# owned";

/// The sandbox with an account name, a foreign grant's name, a managed grant's name and a
/// product name set to [`HOSTILE`].
fn hostile_seed(c: &Cli) -> String {
    let seed = std::fs::read_to_string(repo("examples/sandbox.yaml")).expect("the sandbox seed");
    let quoted = serde_json::to_string(HOSTILE).expect("a JSON string is a YAML string");
    let managed = serde_json::to_string(&format!("bedrock-entitlements-{HOSTILE}")).expect("str");
    let mut seed = seed
        .replace("name: ml-prod,", &format!("name: {quoted},"))
        .replace(
            "name: ml-research-claude-manual",
            &format!("name: {quoted}"),
        )
        .replace(
            "product_name: Stable Diffusion XL 1.0 (Amazon Bedrock Edition)",
            &format!("product_name: {quoted}"),
        );
    seed.push_str(&format!(
        "  - name: {managed}\n    license_arn: arn:aws:license-manager::294406891311:license:l-0c1a0de35a7d4f3e9b21c4d5e6f70811\n    principal: arn:aws:iam::999900001111:root\n    status: ACTIVE\n"
    ));
    c.write("hostile-seed.yaml", &seed).display().to_string()
}

/// `|` not preceded by a backslash (an escaped backslash before it does not count).
fn unescaped(line: &str, wanted: char) -> usize {
    let mut n = 0;
    let mut escaped = false;
    for ch in line.chars() {
        if escaped {
            escaped = false;
        } else if ch == '\\' {
            escaped = true;
        } else if ch == wanted {
            n += 1;
        }
    }
    n
}

/// Markdown where the hostile strings are inert: every table row has its header's cells, no
/// unescaped `[`, `<` other than the tool's own tags, an even number of unescaped backticks
/// per line, and the text after the newline never starts a line.
fn assert_inert_markdown(what: &str, md: &str) {
    let mut header_cells: Option<usize> = None;
    let mut fenced = false;
    for line in md.lines() {
        let context = format!("{what}: {line}\n--- whole output\n{md}");
        if line.trim_start().starts_with("```") {
            // Only the tool opens (```diff, ```sh) and closes (```) fences.
            assert!(
                matches!(line.trim_start(), "```" | "```diff" | "```sh"),
                "{context}"
            );
            fenced = !fenced;
            continue;
        }
        if fenced {
            assert!(
                !line.trim_start().starts_with("```"),
                "a closed fence in {context}"
            );
            continue;
        }
        if line.starts_with('|') {
            let cells = unescaped(line, '|');
            let want = *header_cells.get_or_insert(cells);
            assert_eq!(
                cells, want,
                "a table row with another cell count in {context}"
            );
        } else {
            header_cells = None;
        }
        assert!(
            !line.trim_start_matches(['>', ' ']).starts_with("# owned"),
            "{context}"
        );
        assert_eq!(
            unescaped(line, '[') + unescaped(line, ']'),
            0,
            "a link in {context}"
        );
        assert_eq!(
            unescaped(line, '`') % 2,
            0,
            "an open code span in {context}"
        );
        let tags = [
            "<!--",
            "<details>",
            "</details>",
            "<summary>",
            "</summary>",
            "<sub>",
            "</sub>",
        ];
        let mut rest = line.to_owned();
        for tag in tags {
            rest = rest.replace(tag, "");
        }
        assert_eq!(unescaped(&rest, '<'), 0, "HTML in {context}");
    }
}

/// RFC 4180 records of a CSV document (quoted fields may hold commas, quotes and newlines).
fn csv_records(text: &str) -> Vec<Vec<String>> {
    let (mut records, mut record, mut field) = (Vec::new(), Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(ch) = chars.next() {
        match (quoted, ch) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, _) => field.push(ch),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, _) => field.push(ch),
        }
    }
    assert!(
        !quoted && field.is_empty() && record.is_empty(),
        "CSV ends mid-record:\n{text}"
    );
    records
}

#[tokio::test]
async fn hostile_names_come_out_inert_in_every_markdown_and_csv_output() {
    let c = cli();
    let seed = hostile_seed(&c);
    let file = repo("examples/entitlements.yaml");
    let base = ["--sandbox", seed.as_str(), "-c", file.as_str()];
    let with_base = |args: &[&'static str]| -> Vec<String> {
        base.iter().chain(args).map(|s| (*s).to_owned()).collect()
    };
    let mut outputs = Vec::new();
    for (what, args) in [
        ("plan", vec!["plan", "--format", "markdown"]),
        ("drift", vec!["drift", "--format", "markdown"]),
        ("access", vec!["access", "--format", "markdown"]),
        ("licenses", vec!["licenses", "--format", "markdown"]),
        (
            "apply",
            vec!["apply", "--auto-approve", "--format", "markdown"],
        ),
    ] {
        let args = with_base(&args);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = c.run(&args).await;
        assert!(out.code == 0 || out.code == 2, "{what}: {out:?}");
        assert_inert_markdown(what, &out.stdout);
        outputs.push((what, out.stdout));
    }
    // Not vacuous: the hostile text reaches each report that lists names.
    for (what, out) in &outputs {
        if *what != "apply" {
            assert!(out.contains("owned"), "{what} lost the name:\n{out}");
        }
    }

    let args = with_base(&["access", "--format", "csv"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let csv = c.run(&args).await.expect(0).stdout;
    let records = csv_records(&csv);
    let width = records[0].len();
    let mut seen = 0;
    for record in &records {
        assert_eq!(record.len(), width, "{record:?}\n--- whole output\n{csv}");
        for field in record {
            assert!(
                !field.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{field:?}"
            );
            seen += usize::from(field.contains("# owned"));
        }
    }
    assert!(
        seen > 0,
        "the hostile account name is not in the CSV:\n{csv}"
    );
}
