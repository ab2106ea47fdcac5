//! Guardrails (issue 13) through the real binary against the embedded sandbox: `guardrail
//! export` lays out exactly the denies `enforce` would write, judged by the emulator's own SCP
//! evaluator (written independently of the layout); the file's guardrail keys are checked with
//! positions; plans without guardrails carry no guardrail keys.

use std::collections::{BTreeMap, BTreeSet};

use bedrock_entitlements::emulator::{Decision, ScpDocument, Seed, evaluate_levels};

use crate::cli_support::Cli;

fn repo(path: &str) -> String {
    format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))
}

fn cli() -> Cli {
    // No emulator: every run starts the sandbox itself.
    Cli::new("http://127.0.0.1:9".to_owned())
}

const FULL_AWS_ACCESS: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// A concrete Bedrock model id of each model of `examples/entitlements.yaml`, matched by its
/// `bedrock_model_ids`.
const INVOKED: &[(&str, &str)] = &[
    ("ai21-jamba", "ai21.jamba-1-5-large-v1:0"),
    ("claude-sonnet", "anthropic.claude-3-5-sonnet-20240620-v1:0"),
    ("cohere-command", "cohere.command-r-plus-v1:0"),
    ("stability-sdxl", "stability.stable-diffusion-xl-v1"),
];

/// Who the example file entitles (read off the file and the sandbox's tree by hand); the
/// management account (the grantor) is allowed everything by SCP rules anyway.
fn entitled(model: &str) -> BTreeSet<&'static str> {
    let ml = ["222233334444", "333344445555", "131313131313"];
    match model {
        "claude-sonnet" => BTreeSet::from([
            "222233334444",
            "333344445555",
            "131313131313",
            "444455556666",
            "777788889999",
            "151515151515",
            "666677778888",
            "888899990000",
            "999900001111",
            "101010101010",
            "121212121212",
        ]),
        "cohere-command" => BTreeSet::from(ml),
        "ai21-jamba" => ml.into_iter().chain(["444455556666"]).collect(),
        "stability-sdxl" => BTreeSet::from(["333344445555", "555566667777"]),
        other => panic!("no model {other}"),
    }
}

/// Per target id, the documents of the exported policies attached to it.
fn attached(export: &serde_json::Value) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in export["policies"].as_array().expect("policies") {
        let content = p["content"].as_str().expect("content").to_owned();
        for t in p["targets"].as_array().expect("targets") {
            let id = t["target_id"].as_str().expect("target id").to_owned();
            out.entry(id).or_default().push(content.clone());
        }
    }
    out
}

/// The levels of `account`'s path (root first), each FullAWSAccess plus the exported policies.
fn levels(seed: &Seed, at: &BTreeMap<String, Vec<String>>, account: &str) -> Vec<Vec<ScpDocument>> {
    let org = &seed.organization;
    let acc = org
        .accounts
        .iter()
        .find(|a| a.id == account)
        .expect("account");
    let mut chain = vec![account.to_owned()];
    let mut parent = acc.parent.clone().unwrap_or_else(|| org.root.clone());
    while let Some(ou) = org.organizational_units.iter().find(|o| o.id == parent) {
        chain.push(ou.id.clone());
        parent = ou.parent.clone();
    }
    chain.push(org.root.clone());
    chain.reverse();
    chain
        .iter()
        .map(|t| {
            std::iter::once(FULL_AWS_ACCESS)
                .chain(at.get(t).into_iter().flatten().map(String::as_str))
                .map(|d| ScpDocument::from_json(d).expect("an SCP document"))
                .collect()
        })
        .collect()
}

async fn export(c: &Cli, config: &str) -> crate::cli_support::Run {
    c.run(&[
        "guardrail",
        "export",
        "--format",
        "json",
        "--sandbox",
        &repo("examples/sandbox.yaml"),
        "-c",
        config,
    ])
    .await
}

#[tokio::test]
async fn export_denies_exactly_the_accounts_not_entitled() {
    let c = cli();
    let run = export(&c, &repo("examples/entitlements.yaml"))
        .await
        .expect(0);
    let doc = run.json();
    assert_eq!(doc["format_version"], 1);
    assert_eq!(doc["tags"]["managed-by"], "bedrock-entitlements");
    let policies = doc["policies"].as_array().unwrap();
    assert_eq!(policies.len(), 4, "one policy per model");
    for p in policies {
        assert_eq!(p["type"], "SERVICE_CONTROL_POLICY");
        assert!(
            p["name"]
                .as_str()
                .unwrap()
                .starts_with("bedrock-entitlements-")
        );
        assert!(p["content"].as_str().unwrap().chars().count() <= 5_120);
    }
    let at = attached(&doc);
    for docs in at.values() {
        assert!(
            docs.len() < 5,
            "FullAWSAccess and at most 4 guardrails per target"
        );
    }
    let seed =
        Seed::from_yaml(&std::fs::read_to_string(repo("examples/sandbox.yaml")).unwrap()).unwrap();
    let mgmt = seed.organization.management_account.clone();
    let mut checked = 0;
    for acc in &seed.organization.accounts {
        if acc.state != "ACTIVE" || acc.id == mgmt {
            continue;
        }
        let levels = levels(&seed, &at, &acc.id);
        for (model, id) in INVOKED {
            let want = if entitled(model).contains(acc.id.as_str()) {
                Decision::Allow
            } else {
                Decision::Deny
            };
            let fm = format!("arn:aws:bedrock:eu-west-1::foundation-model/{id}");
            assert_eq!(
                evaluate_levels(&levels, "bedrock:InvokeModel", &fm),
                want,
                "{model} in {}",
                acc.id
            );
            let profile = format!(
                "arn:aws:bedrock:us-east-1:{}:inference-profile/us.{id}",
                acc.id
            );
            assert_eq!(
                evaluate_levels(&levels, "bedrock:InvokeModel", &profile),
                want,
                "{model} through a profile in {}",
                acc.id
            );
            checked += 1;
        }
        // A model the file does not name stays allowed everywhere.
        let other = "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0";
        assert_eq!(
            evaluate_levels(&levels, "bedrock:InvokeModel", other),
            Decision::Allow
        );
    }
    assert_eq!(checked, 12 * INVOKED.len(), "12 active member accounts");
    let denied = doc["denied"]["claude-sonnet"].as_array().unwrap();
    assert_eq!(denied, &[serde_json::json!("555566667777")]);
}

#[tokio::test]
async fn export_is_the_same_in_every_mode_and_skips_models_without_ids() {
    let c = cli();
    let example = std::fs::read_to_string(repo("examples/entitlements.yaml")).unwrap();
    assert!(
        example.contains("    mode: off"),
        "the example shows the mode"
    );
    let off = export(&c, &repo("examples/entitlements.yaml"))
        .await
        .expect(0)
        .json();
    let report = c.write(
        "report.yaml",
        &example.replace("    mode: off", "    mode: report"),
    );
    let report = export(&c, report.to_str().unwrap()).await.expect(0).json();
    assert_eq!(report["mode"], "report");
    assert_eq!(report["policies"], off["policies"]);

    // Mode off, one model without ids: it is left out, with a warning.
    let without = example.replace(
        "    bedrock_model_ids: [\"cohere.command-r-plus-v1:0\"]\n",
        "",
    );
    assert_ne!(without, example);
    let path = c.write("without.yaml", &without);
    let run = export(&c, path.to_str().unwrap()).await.expect(0);
    assert!(
        run.stderr
            .contains("model cohere-command has no bedrock_model_ids"),
        "{}",
        run.stderr
    );
    let doc = run.json();
    assert_eq!(
        doc["models_without_ids"],
        serde_json::json!(["cohere-command"])
    );
    assert_eq!(doc["policies"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn with_guardrails_on_every_active_model_needs_ids_at_its_position() {
    let c = cli();
    let example = std::fs::read_to_string(repo("examples/entitlements.yaml")).unwrap();
    let broken = example
        .replace("    mode: off", "    mode: enforce")
        .replace(
            "    bedrock_model_ids: [\"cohere.command-r-plus-v1:0\"]\n",
            "",
        );
    let line = broken
        .lines()
        .position(|l| l.starts_with("  cohere-command:"))
        .unwrap()
        + 1;
    let path = c.write("broken.yaml", &broken);
    let run = c
        .run(&["validate", "-c", path.to_str().unwrap()])
        .await
        .expect(1);
    let want = format!(
        "{}:{line}:3: error: model `cohere-command` has no `bedrock_model_ids`",
        path.display()
    );
    assert!(run.stderr.contains(&want), "{want}\n{}", run.stderr);
    // Export reads the file too: the same refusal.
    export(&c, path.to_str().unwrap()).await.expect(1);
}

#[tokio::test]
async fn plans_without_guardrails_carry_no_guardrail_keys() {
    let c = cli();
    let run = c.sandbox_plan(&["--format", "json"]).await.expect(0);
    assert!(!run.stdout.contains("guardrail"), "{}", run.stdout);
    let text = c.sandbox_plan(&[]).await.expect(0);
    assert!(!text.stdout.contains("Guardrails"), "{}", text.stdout);
}
