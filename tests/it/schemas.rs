//! The JSON Schemas of every JSON output (`docs/schemas/<noun>.schema.json`): the committed files
//! are the generated ones, and real outputs of the binary (against the embedded sandbox, with
//! guardrails off, in report and in enforce mode) validate against them
//! (`render::schema::validate`, which the renderer snapshots use too).

use serde_json::Value;

use crate::cli_support::Cli;

fn repo(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

#[test]
fn committed_schemas_equal_the_generated_ones() {
    for (noun, schema) in bedrock_entitlements::render::schema::all() {
        let path = repo(&format!("docs/schemas/{noun}.schema.json"));
        let generated = serde_json::to_string_pretty(&schema).unwrap() + "\n";
        // UPDATE_SCHEMA=1 cargo test --test it schema  rewrites the committed files.
        if std::env::var_os("UPDATE_SCHEMA").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{} is stale; regenerate it with `UPDATE_SCHEMA=1 cargo test --test it schema`",
            path.display()
        );
    }
}

/// Asserts that `output` is JSON matching `docs/schemas/<noun>.schema.json`.
pub(crate) fn check(noun: &str, output: &str) {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(repo(&format!("docs/schemas/{noun}.schema.json"))).unwrap(),
    )
    .unwrap();
    let value: Value = serde_json::from_str(output)
        .unwrap_or_else(|e| panic!("{noun}: not JSON ({e}):\n{output}"));
    let errors = bedrock_entitlements::render::schema::validate(&schema, &value);
    assert!(
        errors.is_empty(),
        "{noun} does not match its schema:\n{}",
        errors.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_json_output_matches_its_schema() {
    let cli = Cli::new("http://127.0.0.1:9".to_owned());
    let example = std::fs::read_to_string(repo("examples/entitlements.yaml")).unwrap();
    let sandbox = repo("examples/sandbox.yaml");
    let sandbox = sandbox.to_str().unwrap();
    for mode in ["off", "report", "enforce"] {
        let file = example.replace("mode: off", &format!("mode: {mode}"));
        let config = cli.write(&format!("{mode}.yaml"), &file);
        let config = config.to_str().unwrap();
        let run = |args: &[&str]| {
            let mut all = vec!["--sandbox", sandbox, "-c", config];
            all.extend_from_slice(args);
            let all: Vec<String> = all.into_iter().map(str::to_owned).collect();
            let cli = &cli;
            async move {
                let args: Vec<&str> = all.iter().map(String::as_str).collect();
                cli.run(&args).await
            }
        };
        let out = |r: crate::cli_support::Run| {
            assert!(r.code == 0 || r.code == 2, "{}\n{}", r.stdout, r.stderr);
            r.stdout
        };
        check("plan", &out(run(&["plan", "--format", "json"]).await));
        check("drift", &out(run(&["drift", "--format", "json"]).await));
        check("access", &out(run(&["access", "--format", "json"]).await));
        check(
            "licenses",
            &out(run(&["licenses", "--format", "json"]).await),
        );
        if mode == "off" {
            // The sandbox has SCPs disabled: with guardrails on, apply's preflight refuses.
            let apply = run(&["apply", "--auto-approve", "--format", "json"]).await;
            check("apply", &out(apply));
        }
        let export = run(&["guardrail", "export", "--format", "json"]).await;
        check("guardrail-export", &out(export));
    }
}
