//! Subscribe from the file (issue 16), through the binary against the emulator: `plan` shows
//! the subscription (exit 2), `apply --auto-approve --wait 5m` subscribes with the private
//! offer, waits for the license, grants and activates in the same run, and `plan` is empty
//! afterwards; a seller outside `settings.allowed_sellers` is refused with a clear error and
//! nothing is created; an expired private offer is reported and not accepted. The emulator's
//! agreement delay is set to 300 ms (emulator time), so nothing waits minutes and no test sleeps.

use bedrock_entitlements::emulator::{EmulatorHandle, EmulatorOptions};

use crate::cli_support::Cli;
use crate::support::*;

const SONNET45: &str = "anthropic.claude-sonnet-4-5-20250929-v1:0";

fn file(offer: &str, sellers: &str) -> String {
    format!(
        "version: 1
settings:
  allowed_sellers: [{sellers}]
models:
  claude-sonnet-45:
    product_sku: prod-cl4ud3s0nn45
    bedrock_model_ids: [\"{SONNET45}\"]
    subscribe:
{offer}
    grant_to:
      organizational_units: [ou-ab12-mlplatfm]
"
    )
}

const PRIVATE: &str = "      offer: private\n      offer_id: offer-s0nn45priv01";
const EXPIRED: &str = "      offer: private\n      offer_id: offer-s0nn45old001";

async fn setup(text: &str) -> (EmulatorHandle, Cli) {
    setup_with(text, 300).await
}

/// The emulator with an agreement's license appearing after `agreement_license_ms`.
async fn setup_with(text: &str, agreement_license_ms: u64) -> (EmulatorHandle, Cli) {
    let opts = EmulatorOptions {
        agreement_license_ms,
        ..EmulatorOptions::default()
    };
    let emu = start_emulator(sandbox_seed(), opts).await;
    let cli = Cli::new(emu.endpoint_url());
    cli.write("entitlements.yaml", text);
    (emu, cli)
}

/// `apply --auto-approve --wait 5m` of the file, then any `extra` arguments; exits `code`.
async fn apply_waiting(cli: &Cli, extra: &[&str], code: i32) -> crate::cli_support::Run {
    let mut args = vec![
        "apply",
        "--auto-approve",
        "--wait",
        "5m",
        "-c",
        "entitlements.yaml",
    ];
    args.extend_from_slice(extra);
    cli.run(&args).await.expect(code)
}

/// How many agreements the emulator holds for Claude Sonnet 4.5.
fn sonnet_agreements(emu: &EmulatorHandle) -> usize {
    emu.state()
        .agreements()
        .iter()
        .filter(|a| a.1 == SONNET45)
        .count()
}

fn sonnet_grants(emu: &EmulatorHandle) -> Vec<(String, String)> {
    emu.state()
        .grants()
        .into_iter()
        .filter(|g| g.name.starts_with("bedrock-entitlements-claude-sonnet-45"))
        .map(|g| (g.principal, g.status))
        .collect()
}

#[tokio::test]
async fn plan_subscribes_apply_subscribes_waits_grants_and_activates() {
    let (emu, cli) = setup(&file(PRIVATE, "Anthropic, \"AWS/Marketplace\"")).await;
    let plan = cli
        .run(&[
            "plan",
            "--detailed-exitcode",
            "--format",
            "json",
            "-c",
            "entitlements.yaml",
        ])
        .await
        .expect(2);
    let doc = plan.json();
    assert_eq!(doc["summary"]["subscribe"], 1, "{doc}");
    let sub = &doc["subscription_actions"][0];
    assert_eq!(sub["action"], "subscribe");
    assert_eq!(sub["model"], "claude-sonnet-45");
    assert_eq!(sub["model_id"], SONNET45);
    assert_eq!(sub["offer_id"], "offer-s0nn45priv01");
    assert_eq!(sub["offer_type"], "private");
    assert_eq!(sub["seller"], "Anthropic");
    assert_eq!(sub["terms"]["rate_card"][0]["price"], "0.0024");
    assert!(
        !plan.stdout.contains("tok-sonnet45"),
        "offer tokens never appear in plans"
    );
    assert!(
        plan.stderr
            .contains("no received license has product SKU prod-cl4ud3s0nn45 yet")
    );
    assert_eq!(sonnet_agreements(&emu), 0);

    let applied = apply_waiting(&cli, &[], 0).await;
    assert!(
        applied.stdout.contains("subscribed claude-sonnet-45"),
        "{}",
        applied.stdout
    );
    assert_eq!(sonnet_agreements(&emu), 1);
    let grants = sonnet_grants(&emu);
    assert_eq!(
        grants.len(),
        1,
        "one OU grant, made in the same run: {grants:?}\n{}\n{}",
        applied.stdout,
        applied.stderr
    );
    assert_eq!(grants[0].0, ou_principal(OU_ML));
    cli.run(&["plan", "--detailed-exitcode", "-c", "entitlements.yaml"])
        .await
        .expect(0);
    assert_eq!(
        sonnet_grants(&emu)[0].1,
        "WORKFLOW_COMPLETED",
        "the OU grant is activated (its workflow completed)"
    );
}

#[tokio::test]
async fn a_seller_outside_the_allow_list_is_refused_and_nothing_is_created() {
    let (emu, cli) = setup(&file(
        "      offer: private\n      offer_id: offer-s0nn45priv01",
        "Cohere",
    ))
    .await;
    let plan = cli
        .run(&["plan", "--detailed-exitcode", "-c", "entitlements.yaml"])
        .await
        .expect(0);
    assert!(
        plan.stdout.contains("is sold by \"Anthropic\", which is not in settings.allowed_sellers (Cohere): not accepted"),
        "{}",
        plan.stdout
    );
    let applied = apply_waiting(&cli, &[], 1).await;
    assert!(
        applied
            .stderr
            .contains("from a seller outside settings.allowed_sellers; nothing was changed"),
        "{}",
        applied.stderr
    );
    assert_eq!(sonnet_agreements(&emu), 0);
    assert_eq!(emu.state().call_count("CreateFoundationModelAgreement"), 0);
    assert!(sonnet_grants(&emu).is_empty());
    // `validate` catches a named seller outside the list without AWS.
    cli.write(
        "named.yaml",
        &file("      offer: private\n      seller: Anthropic", "Cohere"),
    );
    let v = cli.run(&["validate", "-c", "named.yaml"]).await.expect(1);
    assert!(
        v.stderr.contains(
            "seller `Anthropic` of model `claude-sonnet-45` is not in `settings.allowed_sellers`"
        ),
        "{}",
        v.stderr
    );
}

#[tokio::test]
async fn an_expired_private_offer_is_reported_not_accepted() {
    let (emu, cli) = setup(&file(EXPIRED, "Anthropic")).await;
    let applied = apply_waiting(&cli, &[], 1).await;
    assert!(
        applied.stdout.contains(
            "offer-s0nn45old001 was not accepted: The offer offer-s0nn45old001 has expired"
        ),
        "{}\n{}",
        applied.stdout,
        applied.stderr
    );
    assert_eq!(sonnet_agreements(&emu), 0);
    assert!(sonnet_grants(&emu).is_empty());
}

/// A saved plan whose subscription facts moved is refused: the plan subscribes, another run
/// makes the agreement meanwhile (its license still pending), and `apply PLAN` then refuses
/// with the stale-plan error, exit 1, creating no second agreement and no grant.
#[tokio::test]
async fn a_saved_plan_whose_subscription_moved_is_refused() {
    // The license takes ten minutes of emulator time: the agreement stays PENDING.
    let (emu, cli) = setup_with(&file(PRIVATE, "Anthropic"), 600_000).await;
    cli.run(&[
        "plan",
        "--detailed-exitcode",
        "--out",
        "plan.json",
        "-c",
        "entitlements.yaml",
    ])
    .await
    .expect(2);
    // Another run subscribes first (without --wait: it does not wait for the license).
    let other = cli
        .run(&["apply", "--auto-approve", "-c", "entitlements.yaml"])
        .await
        .expect(0);
    assert!(
        other.stdout.contains("has not appeared yet"),
        "{}",
        other.stdout
    );
    assert_eq!(emu.state().call_count("CreateFoundationModelAgreement"), 1);

    let stale = cli
        .run(&[
            "apply",
            "plan.json",
            "--auto-approve",
            "-c",
            "entitlements.yaml",
        ])
        .await
        .expect(1);
    assert!(
        stale.stderr.contains(
            "error: the saved plan is stale: the subscriptions it was planned from changed since it was made (Bedrock's agreements, availability or offers, or the file's subscribe sections); nothing was changed; run plan again"
        ),
        "{}",
        stale.stderr
    );
    assert_eq!(emu.state().call_count("CreateFoundationModelAgreement"), 1);
    assert_eq!(sonnet_agreements(&emu), 1);
    assert!(sonnet_grants(&emu).is_empty());
}

/// `apply --format json` and `--format markdown` list each subscription with its outcome: the
/// private offer subscribed (the license appeared), an expired private offer refused with
/// AWS's message; the JSON matches the apply schema.
#[tokio::test]
async fn apply_reports_show_each_subscription() {
    let (_emu, cli) = setup(&file(PRIVATE, "Anthropic")).await;
    let applied = apply_waiting(&cli, &["--format", "json"], 0).await;
    crate::schemas::check("apply", &applied.stdout);
    let doc = applied.json();
    assert_eq!(doc["success"], true, "{doc}");
    assert_eq!(
        doc["subscriptions"],
        serde_json::json!([{
            "model": "claude-sonnet-45",
            "model_id": SONNET45,
            "offer_id": "offer-s0nn45priv01",
            "offer_type": "private",
            "seller": "Anthropic",
            "outcome": "subscribed",
            "already": false,
        }])
    );
    assert_eq!(doc["subscription_summary"]["subscribed"], 1);
    assert_eq!(doc["actions"][0]["action"], "create", "{doc}");
    assert!(
        applied
            .stderr
            .contains("subscribe: subscribed claude-sonnet-45")
    );

    let (_emu, cli) = setup(&file(EXPIRED, "Anthropic")).await;
    let refused = apply_waiting(&cli, &["--format", "json"], 1).await;
    crate::schemas::check("apply", &refused.stdout);
    let doc = refused.json();
    assert_eq!(doc["success"], false, "{doc}");
    let sub = &doc["subscriptions"][0];
    assert_eq!(sub["outcome"], "refused", "{doc}");
    assert_eq!(sub["offer_id"], "offer-s0nn45old001");
    assert!(
        sub["message"]
            .as_str()
            .is_some_and(|m| m.contains("The offer offer-s0nn45old001 has expired")),
        "{doc}"
    );
    assert!(sub.get("already").is_none(), "{doc}");
    let md = apply_waiting(&cli, &["--format", "markdown"], 1).await;
    assert!(
        md.stdout.contains(
            "### Subscriptions\n\n| outcome | model | model id | offer | detail |\n|---|---|---|---|---|\n| refused | claude-sonnet-45 |"
        ),
        "{}",
        md.stdout
    );
    assert!(md.stdout.contains("has expired"), "{}", md.stdout);
}
