//! The CI examples are valid YAML and call the tool only as the CLI defines it: every
//! `bedrock-entitlements` invocation in a workflow's shell steps parses with the real clap
//! definition.

use clap::Parser;

use bedrock_entitlements::cli::Cli;

fn examples() -> Vec<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files = Vec::new();
    for dir in ["github-actions", "gitlab-ci"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Every string under a `run` (GitHub) or `script` / `before_script` (GitLab) key.
fn shell_steps(value: &serde_yaml::Value, under_shell_key: bool, out: &mut Vec<String>) {
    match value {
        serde_yaml::Value::String(s) if under_shell_key => out.push(s.clone()),
        serde_yaml::Value::Sequence(items) => {
            for item in items {
                shell_steps(item, under_shell_key, out);
            }
        }
        serde_yaml::Value::Mapping(map) => {
            for (k, v) in map {
                let shell = matches!(k.as_str(), Some("run" | "script" | "before_script"));
                shell_steps(v, shell, out);
            }
        }
        _ => {}
    }
}

/// The arguments of each `bedrock-entitlements ...` command in a shell snippet, up to the first
/// redirection, pipe or command separator. `cargo install bedrock-entitlements` is not a call.
fn invocations(script: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    for line in script.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        for (i, w) in words.iter().enumerate() {
            if *w != "bedrock-entitlements" || (i > 0 && words[i - 1] == "install") {
                continue;
            }
            let mut args = vec!["bedrock-entitlements".to_owned()];
            for arg in &words[i + 1..] {
                if [">", ">>", "|", "||", "&&", ";", "2>&1"].contains(arg) || arg.starts_with('>') {
                    break;
                }
                args.push(arg.trim_end_matches(';').trim_matches('"').to_owned());
            }
            found.push(args);
        }
    }
    found
}

#[test]
fn every_workflow_is_yaml_and_every_call_parses_with_the_cli_definition() {
    let files = examples();
    assert!(
        files.len() >= 4,
        "expected the GitHub and GitLab examples, found {files:?}"
    );
    let mut calls = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let doc: serde_yaml::Value = serde_yaml::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", file.display()));
        let mut steps = Vec::new();
        shell_steps(&doc, false, &mut steps);
        for step in &steps {
            for args in invocations(step) {
                calls += 1;
                if let Err(e) = Cli::try_parse_from(&args) {
                    panic!(
                        "{}: `{}` does not parse: {e}",
                        file.display(),
                        args.join(" ")
                    );
                }
            }
        }
    }
    assert!(calls >= 8, "found only {calls} invocations");
}

#[test]
fn the_checker_rejects_what_the_cli_rejects() {
    let bad = invocations("bedrock-entitlements plan --no-such-flag > plan.md");
    assert_eq!(bad.len(), 1);
    assert!(Cli::try_parse_from(&bad[0]).is_err());
    let install = invocations("cargo install bedrock-entitlements --locked");
    assert!(install.is_empty());
}
