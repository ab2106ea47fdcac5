//! The JSON Schemas of every JSON output (`docs/schemas/<noun>.schema.json`): the committed files
//! are the generated ones, and real outputs of the binary (against the embedded sandbox, with
//! guardrails off, in report and in enforce mode) validate against them. The validator below
//! knows the subset of draft-07 the schemas use (type, const, enum, properties, required,
//! additionalProperties, items, anyOf, minimum).

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

fn type_matches(t: &str, v: &Value) -> bool {
    match t {
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "boolean" => v.is_boolean(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        "null" => v.is_null(),
        other => panic!("the validator does not know type {other}"),
    }
}

/// The errors of `v` against `schema`, each with its path.
fn validate(schema: &Value, v: &Value, path: &str, errors: &mut Vec<String>) {
    let mut fail = |what: String| errors.push(format!("{path}: {what}"));
    if let Some(t) = schema.get("type").and_then(Value::as_str)
        && !type_matches(t, v)
    {
        return fail(format!("expected {t}, found {v}"));
    }
    if let Some(c) = schema.get("const")
        && c != v
    {
        return fail(format!("expected {c}, found {v}"));
    }
    if let Some(names) = schema.get("enum").and_then(Value::as_array)
        && !names.contains(v)
    {
        return fail(format!("{v} is not one of {names:?}"));
    }
    if let Some(min) = schema.get("minimum").and_then(Value::as_i64)
        && v.as_i64().is_some_and(|n| n < min)
    {
        return fail(format!("{v} < {min}"));
    }
    if let Some(any) = schema.get("anyOf").and_then(Value::as_array) {
        let ok = any.iter().any(|s| {
            let mut e = Vec::new();
            validate(s, v, path, &mut e);
            e.is_empty()
        });
        if !ok {
            return fail(format!("{v} matches none of anyOf"));
        }
    }
    if let (Some(items), Some(list)) = (schema.get("items"), v.as_array()) {
        for (i, item) in list.iter().enumerate() {
            validate(items, item, &format!("{path}[{i}]"), errors);
        }
    }
    let Some(obj) = v.as_object() else { return };
    let props = schema.get("properties").and_then(Value::as_object);
    for name in schema["required"].as_array().into_iter().flatten() {
        let name = name.as_str().unwrap();
        if !obj.contains_key(name) {
            errors.push(format!("{path}: missing {name}"));
        }
    }
    for (k, member) in obj {
        let at = format!("{path}.{k}");
        match (
            props.and_then(|p| p.get(k)),
            schema.get("additionalProperties"),
        ) {
            (Some(s), _) => validate(s, member, &at, errors),
            (None, Some(Value::Bool(false))) => errors.push(format!("{at}: not in the schema")),
            (None, Some(s)) if s.is_object() => validate(s, member, &at, errors),
            (None, _) => {}
        }
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
    let mut errors = Vec::new();
    validate(&schema, &value, noun, &mut errors);
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
