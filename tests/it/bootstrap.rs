//! `bootstrap` through the real binary against the emulator, starting from an organization with
//! nothing set up; the emulator's prerequisite operations through the real SDK clients.

use bedrock_entitlements::emulator::{EmulatorHandle, EmulatorOptions, Seed};
use serde_json::Value;

use crate::cli_support::Cli;
use crate::support::{self, start_emulator};

/// An all-features organization where nothing is set up: no trusted access for either
/// principal, no service-linked role, License Manager not linked, SCPs not enabled, no
/// delegated administrator.
pub(crate) const BARE_SEED: &str = r#"
organization:
  id: o-bootstrap001
  management_account: "111111111111"
  root: r-bs01
  trusted_access: false
  enabled_services: []
  service_linked_role: false
  marketplace_service_linked_role: false
  enable_integration: false
  cross_account_discovery: false
  organizational_units:
    - { id: ou-bs01-workload, name: Workloads, parent: r-bs01 }
  accounts:
    - { id: "111111111111", name: management }
    - { id: "222222222222", name: licensing, parent: ou-bs01-workload }
    - { id: "333333333333", name: ml-dev, parent: ou-bs01-workload }
licenses:
  - arn: arn:aws:license-manager::294406891311:license:l-00000000000000000000000000000001
    product_name: Claude 3.5 Sonnet (Amazon Bedrock Edition)
    product_sku: prod-claude0001
"#;

/// Guardrails on (the SCP type is a prerequisite), a delegated administrator named, an
/// Anthropic model (its use-case form is a prerequisite) and the form filled in.
pub(crate) const FILE: &str = r#"version: 1
settings:
  guardrails:
    mode: report
  bootstrap:
    delegated_administrator: "222222222222"
    anthropic_use_case:
      company_name: Example Corp
      company_website: https://example.com
      intended_users: "0"
      industry_option: Technology
      use_cases: Internal coding assistant
models:
  claude:
    product_sku: prod-claude0001
    bedrock_model_ids: ["anthropic.claude-3-5-sonnet-*"]
    grant_to:
      organizational_units: [ou-bs01-workload]
"#;

/// The commands `bootstrap` prints for the bare organization, one per missing prerequisite.
const FIXES: [&str; 9] = [
    "aws organizations enable-aws-service-access --service-principal license-manager.amazonaws.com",
    "aws organizations enable-aws-service-access --service-principal license-management.marketplace.amazonaws.com",
    "aws iam create-service-linked-role --aws-service-name license-manager.amazonaws.com",
    "aws iam create-service-linked-role --aws-service-name license-management.marketplace.amazonaws.com",
    "aws license-manager update-service-settings --organization-configuration EnableIntegration=true --enable-cross-accounts-discovery --region us-east-1",
    "aws license-manager update-service-settings --organization-configuration EnableIntegration=true --enable-cross-accounts-discovery --region us-east-1",
    "aws organizations enable-policy-type --root-id r-bs01 --policy-type SERVICE_CONTROL_POLICY",
    "aws organizations register-delegated-administrator --account-id 222222222222 --service-principal license-manager.amazonaws.com",
    "bootstrap --apply submits settings.bootstrap.anthropic_use_case (aws bedrock put-use-case-for-model-access --form-data fileb://FORM.json)",
];

/// The form `FILE` fills in, as PutUseCaseForModelAccess receives it.
const FORM: &str = r#"{"companyName":"Example Corp","companyWebsite":"https://example.com","industryOption":"Technology","intendedUsers":"0","otherIndustryOption":"","useCases":"Internal coding assistant"}"#;

/// The operations that change a prerequisite.
const WRITES: [&str; 6] = [
    "PutUseCaseForModelAccess",
    "EnableAWSServiceAccess",
    "CreateServiceLinkedRole",
    "UpdateServiceSettings",
    "EnablePolicyType",
    "RegisterDelegatedAdministrator",
];

fn bare_seed() -> Seed {
    Seed::from_yaml(BARE_SEED).expect("the bare seed is valid")
}

fn writes(emu: &EmulatorHandle) -> u64 {
    let counts = emu.state().call_counts();
    WRITES
        .iter()
        .map(|op| counts.get(*op).copied().unwrap_or(0))
        .sum()
}

/// The prerequisite facts of the emulator's state, and whether SCPs are enabled on the root.
async fn facts(emu: &EmulatorHandle) -> (Value, bool) {
    let org = emu.state().dump().organization;
    let keys = [
        "trusted_access",
        "enabled_services",
        "service_linked_roles",
        "enable_integration",
        "cross_account_discovery",
        "delegated_administrator",
    ];
    let picked: serde_json::Map<String, Value> = keys
        .iter()
        .map(|k| ((*k).to_owned(), org[*k].clone()))
        .collect();
    let roots = support::clients(emu)
        .await
        .orgs
        .list_roots()
        .send()
        .await
        .expect("ListRoots");
    let scp = roots.roots()[0].policy_types().iter().any(|t| {
        t.r#type().map(|t| t.as_str()) == Some("SERVICE_CONTROL_POLICY")
            && t.status().map(|s| s.as_str()) == Some("ENABLED")
    });
    (Value::Object(picked), scp)
}

/// The use-case form Bedrock holds for the management account, if any.
async fn submitted_form(emu: &EmulatorHandle) -> Option<String> {
    let config = support::clients(emu).await.config;
    let bedrock = aws_sdk_bedrock::Client::new(&config);
    let out = bedrock.get_use_case_for_model_access().send().await.ok()?;
    Some(String::from_utf8_lossy(out.form_data().as_ref()).into_owned())
}

/// Without `settings.bootstrap.anthropic_use_case` the form is missing and its fix says to
/// fill it in: `--apply` makes everything else, submits nothing, and the run still exits 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_use_case_form_is_never_invented() {
    let emu = start_emulator(bare_seed(), EmulatorOptions::default()).await;
    let cli = Cli::new(emu.endpoint_url());
    let start = FILE.find("    anthropic_use_case:").unwrap();
    let end = FILE.find("models:").unwrap();
    cli.write(
        "entitlements.yaml",
        &format!("{}{}", &FILE[..start], &FILE[end..]),
    );
    let run = cli.run(&["bootstrap"]).await.expect(2);
    assert!(
        run.stdout.contains("fix: fill in settings.bootstrap.anthropic_use_case (company_name, company_website, intended_users, industry_option, other_industry_option, use_cases"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("the Anthropic models claude need it"),
        "{}",
        run.stdout
    );
    let applied = cli
        .run(&["bootstrap", "--apply", "--auto-approve"])
        .await
        .expect(2);
    assert!(
        applied.stdout.contains("1 missing, 0 unknown, 10 done."),
        "{}",
        applied.stdout
    );
    assert_eq!(
        emu.state().call_counts().get("PutUseCaseForModelAccess"),
        None
    );
    assert_eq!(submitted_form(&emu).await, None);
}

/// A model whose only Anthropic id is the one its `subscribe` section subscribes with needs the
/// use-case form too (its `bedrock_model_ids` name no Anthropic model).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscribed_anthropic_model_needs_the_use_case_form() {
    let emu = start_emulator(bare_seed(), EmulatorOptions::default()).await;
    let cli = Cli::new(emu.endpoint_url());
    cli.write(
        "entitlements.yaml",
        r#"version: 1
models:
  sonnet:
    product_sku: prod-claude0001
    bedrock_model_ids: ["mymodels.sonnet-*"]
    subscribe:
      model_id: anthropic.claude-sonnet-4-5-20250929-v1:0
      offer: public
    grant_to:
      organizational_units: [ou-bs01-workload]
"#,
    );
    let run = cli.run(&["bootstrap"]).await.expect(2);
    assert!(
        run.stdout.contains(
            "Anthropic's use-case form has not been submitted (the Anthropic models sonnet need it)"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(emu.state().call_count("GetUseCaseForModelAccess"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_nothing_bootstrap_lists_every_fix_then_apply_makes_them_once() {
    let emu = start_emulator(bare_seed(), EmulatorOptions::default()).await;
    let cli = Cli::new(emu.endpoint_url());
    cli.write("entitlements.yaml", FILE);
    let before = facts(&emu).await;

    // The check: every missing prerequisite with its command; exit 2; nothing changed.
    let run = cli.run(&["bootstrap"]).await.expect(2);
    for fix in FIXES {
        assert!(
            run.stdout.contains(fix),
            "{fix} missing from\n{}",
            run.stdout
        );
    }
    let json = cli
        .run(&["bootstrap", "--format", "json"])
        .await
        .expect(2)
        .json();
    assert_eq!(json["format_version"], 1);
    assert_eq!(json["summary"]["missing"], 9, "{json:#}");
    let missing: Vec<&Value> = json["prerequisites"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["state"] == "missing")
        .collect();
    let hows: Vec<&str> = missing
        .iter()
        .map(|p| p["fix"]["how"].as_str().unwrap())
        .collect();
    assert_eq!(hows, FIXES);
    let markdown = cli
        .run(&["bootstrap", "--format", "markdown"])
        .await
        .expect(2);
    assert!(
        markdown
            .stdout
            .contains("| trusted-access:license-manager.amazonaws.com | missing |")
    );
    // plan never changes a prerequisite on its own.
    cli.run(&["plan"]).await;
    assert_eq!(writes(&emu), 0, "{:?}", emu.state().call_counts());
    assert_eq!(facts(&emu).await, before);

    // --apply without --auto-approve, stdin not a terminal: refused, nothing changed.
    let refused = cli.run(&["bootstrap", "--apply"]).await.expect(1);
    assert!(
        refused
            .stderr
            .contains("needs --auto-approve when stdin is not a terminal; nothing was changed"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("will make 8 changes"),
        "{}",
        refused.stderr
    );
    assert_eq!(writes(&emu), 0);
    assert_eq!(facts(&emu).await, before);

    // --apply --auto-approve: every change made once, then checked again: all done.
    let applied = cli
        .run(&["bootstrap", "--apply", "--auto-approve", "--format", "json"])
        .await
        .expect(0)
        .json();
    assert_eq!(applied["summary"]["missing"], 0, "{applied:#}");
    let results: Vec<&str> = applied["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["result"].as_str().unwrap())
        .collect();
    assert_eq!(results, ["done"; 8]);
    let counts = emu.state().call_counts();
    for (op, n) in [
        ("EnableAWSServiceAccess", 2),
        ("CreateServiceLinkedRole", 2),
        ("UpdateServiceSettings", 1),
        ("EnablePolicyType", 1),
        ("RegisterDelegatedAdministrator", 1),
        ("PutUseCaseForModelAccess", 1),
    ] {
        assert_eq!(counts.get(op).copied(), Some(n), "{op}: {counts:?}");
    }
    assert_eq!(submitted_form(&emu).await.as_deref(), Some(FORM));
    let (after, scp) = facts(&emu).await;
    assert_eq!(
        after,
        serde_json::json!({
            "trusted_access": true,
            "enabled_services": ["license-management.marketplace.amazonaws.com", "license-manager.amazonaws.com"],
            "service_linked_roles": ["AWSServiceRoleForAWSLicenseManagerRole", "AWSServiceRoleForMarketplaceLicenseManagement"],
            "enable_integration": true,
            "cross_account_discovery": true,
            "delegated_administrator": "222222222222",
        })
    );
    assert!(scp, "SERVICE_CONTROL_POLICY enabled on the root");

    // A second run: nothing to do, exit 0, no write.
    let writes_before = writes(&emu);
    let again = cli.run(&["bootstrap"]).await.expect(0);
    assert!(again.stdout.contains("nothing to do"), "{}", again.stdout);
    cli.run(&["bootstrap", "--apply", "--auto-approve"])
        .await
        .expect(0);
    assert_eq!(writes(&emu), writes_before);
}

/// The writes are idempotent through the real SDK: "already enabled / taken / registered"
/// from AWS is done, so a second call (a re-run, a concurrent run) succeeds.
#[tokio::test]
async fn each_prerequisite_write_succeeds_twice() {
    use bedrock_entitlements::aws::bootstrap::{OrganizationSettings, PrerequisitesApi};
    use bedrock_entitlements::aws::{ConnectOptions, connect};
    let emu = start_emulator(bare_seed(), EmulatorOptions::default()).await;
    let clients = connect(ConnectOptions {
        home_region: "us-east-1".to_owned(),
        endpoint_url: Some(emu.endpoint_url()),
        static_credentials: Some(("AKIDEXAMPLE".to_owned(), "secret".to_owned())),
        ..ConnectOptions::default()
    })
    .await;
    let api = clients.prerequisites();
    let root = "r-bs01".parse().unwrap();
    let admin = "222222222222".parse().unwrap();
    for _ in 0..2 {
        api.enable_service_access("license-manager.amazonaws.com")
            .await
            .unwrap();
        api.create_service_linked_role("license-manager.amazonaws.com")
            .await
            .unwrap();
        let on = OrganizationSettings {
            integration: true,
            cross_account_discovery: true,
        };
        api.update_organization_settings(on).await.unwrap();
        assert_eq!(api.organization_settings().await.unwrap(), on);
        api.enable_scp_policy_type(&root).await.unwrap();
        api.register_delegated_administrator(&admin, "license-manager.amazonaws.com")
            .await
            .unwrap();
    }
    let errors = emu.state().error_counts();
    for (op, code) in [
        ("CreateServiceLinkedRole", "InvalidInput"),
        ("EnablePolicyType", "PolicyTypeAlreadyEnabledException"),
        (
            "RegisterDelegatedAdministrator",
            "AccountAlreadyRegisteredException",
        ),
    ] {
        assert_eq!(errors[op][code], 1, "{op}: {errors:?}");
    }
}

/// The emulator's prerequisite operations answer as AWS documents: management account only,
/// all features needed, trusted access before what depends on it.
#[tokio::test]
async fn prerequisite_operations_refuse_what_aws_refuses() {
    let emu = start_emulator(bare_seed(), EmulatorOptions::default()).await;
    let c = support::clients(&emu).await;
    let member = support::clients_as(&emu, "333333333333").await;
    use aws_sdk_organizations::error::ProvideErrorMetadata as _;

    // Only the management account enables trusted access.
    let e = member
        .orgs
        .enable_aws_service_access()
        .service_principal("license-manager.amazonaws.com")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("AccessDeniedException"));

    // The organization integration needs License Manager's trusted access first.
    let e =
        c.lm.update_service_settings()
            .organization_configuration(
                aws_sdk_licensemanager::types::OrganizationConfiguration::builder()
                    .enable_integration(true)
                    .build(),
            )
            .send()
            .await
            .unwrap_err();
    assert_eq!(e.code(), Some("ValidationException"));
    let m1 = e.message().unwrap_or_default();
    assert!(
        m1.contains("license-manager.amazonaws.com is not enabled"),
        "{m1}"
    );

    // A delegated administrator needs service access first; the management account never is one.
    let e = c
        .orgs
        .register_delegated_administrator()
        .account_id("222222222222")
        .service_principal("license-manager.amazonaws.com")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ConstraintViolationException"));
    assert!(format!("{:?}", e).contains("SERVICE_ACCESS_NOT_ENABLED"));
    c.orgs
        .enable_aws_service_access()
        .service_principal("license-manager.amazonaws.com")
        .send()
        .await
        .unwrap();
    let e = c
        .orgs
        .register_delegated_administrator()
        .account_id("111111111111")
        .service_principal("license-manager.amazonaws.com")
        .send()
        .await
        .unwrap_err();
    assert!(format!("{:?}", e).contains("CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR"));

    // Cross-account discovery needs the integration; with it, both are read back.
    let e =
        c.lm.update_service_settings()
            .enable_cross_accounts_discovery(true)
            .send()
            .await
            .unwrap_err();
    assert_eq!(e.code(), Some("ValidationException"));

    // Disabling is the inverse.
    c.orgs
        .disable_aws_service_access()
        .service_principal("license-manager.amazonaws.com")
        .send()
        .await
        .unwrap();
    let services = c
        .orgs
        .list_aws_service_access_for_organization()
        .send()
        .await
        .unwrap();
    assert!(services.enabled_service_principals().is_empty());

    // A consolidated-billing organization cannot enable trusted access at all.
    let mut seed = bare_seed();
    seed.organization.feature_set =
        bedrock_entitlements::emulator::FeatureSetSeed::ConsolidatedBilling;
    let cb = start_emulator(seed, EmulatorOptions::default()).await;
    let e = support::clients(&cb)
        .await
        .orgs
        .enable_aws_service_access()
        .service_principal("license-management.marketplace.amazonaws.com")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ConstraintViolationException"));
    assert!(format!("{:?}", e).contains("ORGANIZATION_NOT_IN_ALL_FEATURES_MODE"));
}
