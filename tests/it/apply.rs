//! The executor through the real SDK against the emulator: convergence, activation, foreign
//! grants, faults (throttles, server errors, lost responses), concurrent applies, crashes at
//! seeded points, and acceptance in recipient accounts.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bedrock_entitlements::apply::{
    self, AdaptiveLimits, ApplyOptions, ApplyReport, NoProgress, NoRecipients, Outcome, PollPolicy,
    RoleRecipients, Waiting,
};
use bedrock_entitlements::aws::{
    AwsError, GrantChange, GrantRef, LicenseManagerApi, NewGrant, ServiceSettings,
};
use bedrock_entitlements::cli::{Context, GlobalArgs, LogFormat};
use bedrock_entitlements::config;
use bedrock_entitlements::emulator::{
    EmulatorHandle, EmulatorOptions, FaultRates, FeatureSetSeed, GrantSeed, GrantView, Seed,
};
use bedrock_entitlements::model::{Grant, GrantArn, License, LicenseArn, Principal, Share};
use bedrock_entitlements::plan::{ActionKind, Cover, Plan};
use tokio::sync::Notify;

use crate::support::*;

const PREFIX: &str = "bedrock-entitlements";

fn context() -> Context {
    Context::new(GlobalArgs {
        config: PathBuf::from("entitlements.yaml"),
        profile: None,
        role_arn: None,
        sandbox: None,
        no_color: true,
        log_format: LogFormat::Text,
    })
}

fn options(limits: &Arc<AdaptiveLimits>) -> ApplyOptions {
    ApplyOptions {
        parallelism: 8,
        poll: PollPolicy {
            initial: Duration::from_millis(5),
            max: Duration::from_millis(50),
        },
        limits: limits.clone(),
        ..ApplyOptions::default()
    }
}

/// Plans `yaml` against the emulator's live state.
async fn plan(emu: &EmulatorHandle, yaml: &str) -> Plan {
    let config = config::parse(yaml).unwrap_or_else(|d| panic!("invalid test config: {d:?}"));
    let limits = Arc::new(AdaptiveLimits::new());
    let s = session(emu, &limits).await;
    match context().plan(&s, &config, None).await {
        Ok(planned) => planned.plan,
        Err(e) => panic!("plan failed: {e}"),
    }
}

async fn execute(emu: &EmulatorHandle, plan: &Plan) -> ApplyReport {
    let limits = Arc::new(AdaptiveLimits::new());
    let s = session(emu, &limits).await;
    apply::execute(
        s.lm.clone(),
        None::<&NoRecipients>,
        plan,
        &options(&limits),
        &NoProgress,
    )
    .await
}

/// Plans and applies until the plan is empty; returns the number of applies it took.
async fn converge(emu: &EmulatorHandle, yaml: &str, max_runs: usize) -> usize {
    for run in 0..max_runs {
        let p = plan(emu, yaml).await;
        assert_single_live_grant_per_pair(emu);
        if p.is_empty() {
            return run;
        }
        execute(emu, &p).await;
        assert_single_live_grant_per_pair(emu);
    }
    let left = plan(emu, yaml).await;
    panic!(
        "not converged after {max_runs} applies: {:?}",
        left.summary()
    );
}

fn live(g: &GrantView) -> bool {
    !matches!(g.status.as_str(), "DELETED" | "REJECTED")
}

fn assert_single_live_grant_per_pair(emu: &EmulatorHandle) {
    let mut pairs: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for g in emu.state().grants().iter().filter(|g| live(g)) {
        pairs
            .entry((g.license_arn.clone(), g.principal.clone()))
            .or_default()
            .push(format!("{} {}", g.arn, g.status));
    }
    let duplicates: Vec<_> = pairs.iter().filter(|(_, v)| v.len() > 1).collect();
    assert!(
        duplicates.is_empty(),
        "more than one live grant on a pair: {duplicates:?}"
    );
}

/// Reads every grant twice, as two `plan`s would: the emulator settles a workflow on the read
/// after the first (`workflow_reads: 1`).
async fn settle(emu: &EmulatorHandle) {
    let limits = Arc::new(AdaptiveLimits::new());
    let s = session(emu, &limits).await;
    let arns: Vec<GrantArn> = emu
        .state()
        .grants()
        .iter()
        .map(|g| g.arn.parse().expect("a grant ARN"))
        .collect();
    for _ in 0..2 {
        s.lm.get_grants(&arns).await.expect("reads");
    }
}

/// Every live managed grant is effective (ACTIVE, or WORKFLOW_COMPLETED for an org/OU grant),
/// once workflows had the reads they need.
async fn assert_managed_grants_active(emu: &EmulatorHandle) {
    settle(emu).await;
    for g in emu
        .state()
        .grants()
        .iter()
        .filter(|g| live(g) && g.name.starts_with(PREFIX))
    {
        assert!(
            matches!(g.status.as_str(), "ACTIVE" | "WORKFLOW_COMPLETED"),
            "managed grant {} {} is {}",
            g.name,
            g.principal,
            g.status
        );
    }
}

fn by_arn(emu: &EmulatorHandle, arn: &str) -> GrantView {
    emu.state()
        .grant(arn)
        .unwrap_or_else(|| panic!("grant {arn} exists"))
}

fn managed_grant(
    license: &str,
    principal: &str,
    status: &str,
    model: &str,
    short: &str,
) -> GrantSeed {
    let text = format!(
        "name: {PREFIX}-{model}-{short}\nlicense_arn: {license}\nprincipal: {principal}\nstatus: {status}\nversion: 2\n"
    );
    serde_yaml::from_str(&text).expect("a valid grant seed")
}

const MIXED: &str = r#"
version: 1
models:
  claude-sonnet:
    product_sku: prod-cl4ud3s0nn3t1
    grant_to:
      organization: true
    except_accounts: ["555566667777"]
  cohere-command:
    product_sku: prod-c0h3r3cmdr01
    grant_to:
      organizational_units: [ou-ab12-mlplatfm]
  stability-sdxl:
    product_sku: prod-stab1l1tysdx
    grant_to:
      accounts: ["333344445555", "555566667777", "444455556666"]
"#;

#[tokio::test]
async fn apply_then_plan_is_empty_and_foreign_grants_are_untouched() {
    let emu = start_emulator(sandbox_seed(), EmulatorOptions::default()).await;
    let foreign_before: Vec<GrantView> = emu.state().grants();
    assert!(
        !foreign_before.is_empty(),
        "the sandbox has a hand-made grant"
    );

    let p = plan(&emu, MIXED).await;
    assert!(!p.is_empty());
    let report = execute(&emu, &p).await;
    assert!(report.is_success(), "{report:?}");
    assert_eq!(report.counts().done, p.actions.len());

    let again = plan(&emu, MIXED).await;
    assert!(again.is_empty(), "second plan: {:?}", again.actions);
    assert_single_live_grant_per_pair(&emu);
    assert_managed_grants_active(&emu).await;
    for before in &foreign_before {
        assert_eq!(&by_arn(&emu, &before.arn), before, "foreign grant changed");
    }
}

#[tokio::test]
async fn disabled_grants_are_activated_and_renamed_in_one_version() {
    let emu = start_emulator(sandbox_seed(), EmulatorOptions::default()).await;
    let state = emu.state();
    let disabled = state
        .add_grant(managed_grant(
            COHERE_LICENSE,
            &ou_principal(OU_ML),
            "DISABLED",
            "cohere-command",
            OU_ML,
        ))
        .expect("seeded");
    let mut wrong_name = managed_grant(
        CLAUDE_LICENSE,
        &account_principal(ML_DEV),
        "DISABLED",
        "claude-sonnet",
        ML_DEV,
    );
    wrong_name.name = format!("{PREFIX}-old-name");
    let renamed = state.add_grant(wrong_name).expect("seeded");
    let yaml = format!(
        "version: 1\nmodels:\n  cohere-command:\n    product_sku: prod-c0h3r3cmdr01\n    grant_to:\n      organizational_units: [{OU_ML}]\n  claude-sonnet:\n    product_sku: prod-cl4ud3s0nn3t1\n    grant_to:\n      accounts: [\"{ML_DEV}\"]\n"
    );
    let p = plan(&emu, &yaml).await;
    let kinds: Vec<ActionKind> = p.actions.iter().map(|a| a.kind()).collect();
    assert_eq!(
        kinds,
        [ActionKind::Activate, ActionKind::Activate],
        "{:?}",
        p.actions
    );
    state.reset_counts();
    let report = execute(&emu, &p).await;
    assert!(report.is_success(), "{report:?}");
    // One CreateGrantVersion per grant: the plan's version was current.
    assert_eq!(state.call_count("CreateGrantVersion"), 2);
    assert_eq!(state.call_count("GetGrant"), 0);
    let g = by_arn(&emu, &renamed.arn);
    assert_eq!(
        (g.status.as_str(), g.name.as_str()),
        (
            "ACTIVE",
            format!("{PREFIX}-claude-sonnet-{ML_DEV}").as_str()
        )
    );
    let g = by_arn(&emu, &disabled.arn);
    assert!(
        matches!(g.status.as_str(), "PENDING_WORKFLOW" | "WORKFLOW_COMPLETED"),
        "{}",
        g.status
    );
    assert!(plan(&emu, &yaml).await.is_empty());
}

#[tokio::test]
async fn a_foreign_grant_on_a_wanted_pair_is_neither_duplicated_nor_touched() {
    let emu = start_emulator(sandbox_seed(), EmulatorOptions::default()).await;
    let foreign: GrantSeed = serde_yaml::from_str(&format!(
        "name: hand-made\nlicense_arn: {CLAUDE_LICENSE}\nprincipal: {}\nstatus: DISABLED\n",
        account_principal(DATA_PROD)
    ))
    .expect("seed");
    let foreign = emu.state().add_grant(foreign).expect("seeded");
    let yaml = format!(
        "version: 1\nmodels:\n  claude-sonnet:\n    product_sku: prod-cl4ud3s0nn3t1\n    grant_to:\n      accounts: [\"{DATA_PROD}\", \"{ML_PROD}\"]\n"
    );
    assert_eq!(converge(&emu, &yaml, 3).await, 1);
    assert_eq!(by_arn(&emu, &foreign.arn), foreign);
}

#[tokio::test]
async fn waiting_on_an_organization_workflow_is_bounded_and_reported() {
    // Workflows that never settle within the bound: creates are reported pending, not failed.
    let opts = EmulatorOptions {
        workflow_reads: 1_000_000,
        ..EmulatorOptions::default()
    };
    let emu = start_emulator(sandbox_seed(), opts).await;
    let yaml = format!(
        "version: 1\nmodels:\n  cohere-command:\n    product_sku: prod-c0h3r3cmdr01\n    grant_to:\n      organizational_units: [{OU_ML}]\n"
    );
    let p = plan(&emu, &yaml).await;
    let limits = Arc::new(AdaptiveLimits::new());
    let s = session(&emu, &limits).await;
    let opts = ApplyOptions {
        wait: Some(Duration::from_millis(300)),
        ..options(&limits)
    };
    let report = apply::execute(s.lm.clone(), None::<&NoRecipients>, &p, &opts, &NoProgress).await;
    assert!(report.is_success(), "pending is not a failure: {report:?}");
    match &report.actions[0].outcome {
        Outcome::Pending {
            status, waiting_on, ..
        } => {
            assert_eq!(status.as_str(), "PENDING_WORKFLOW");
            assert_eq!(*waiting_on, Waiting::Workflow);
        }
        other => panic!("{other:?}"),
    }
}

/// Bulk accounts granted one model each, plus an OU and the organization: a large apply.
fn bulk_yaml(accounts: usize) -> String {
    let ids: Vec<String> = (0..accounts)
        .map(|i| format!("\"{}\"", bulk_account(i)))
        .collect();
    format!(
        "version: 1\nmodels:\n  claude-sonnet:\n    product_sku: prod-cl4ud3s0nn3t1\n    grant_to:\n      accounts: [{}]\n  cohere-command:\n    product_sku: prod-c0h3r3cmdr01\n    grant_to:\n      organizational_units: [{OU_ML}, {OU_SANDBOX}]\n  ai21-jamba:\n    product_sku: prod-a121jamba001\n    grant_to:\n      organization: true\n",
        ids.join(", ")
    )
}

#[tokio::test]
async fn with_throttles_server_errors_and_lost_responses_apply_converges_without_duplicates() {
    for fault_seed in [7, 8, 9] {
        let opts = EmulatorOptions {
            faults: FaultRates {
                throttle: 0.2,
                server_error: 0.1,
                lost_response: 0.1,
                ..FaultRates::default()
            },
            fault_seed,
            ..EmulatorOptions::default()
        };
        let emu = start_emulator(seed_with_accounts(30), opts).await;
        let yaml = bulk_yaml(30);
        let runs = converge(&emu, &yaml, 4).await;
        assert!(runs >= 1, "seed {fault_seed}");
        let lost = emu.state().lost_counts();
        assert!(
            lost.values().sum::<u64>() > 0,
            "seed {fault_seed}: faults were injected: {lost:?}"
        );
        emu.state()
            .update_options(|o| o.faults = FaultRates::default());
        assert_managed_grants_active(&emu).await;
    }
}

#[tokio::test]
async fn two_concurrent_applies_of_one_plan_end_in_one_state_without_duplicates() {
    let emu = start_emulator(seed_with_accounts(20), EmulatorOptions::default()).await;
    let yaml = bulk_yaml(20);
    let p = plan(&emu, &yaml).await;
    let (a, b) = tokio::join!(execute(&emu, &p), execute(&emu, &p));
    assert!(a.is_success(), "{a:?}");
    assert!(b.is_success(), "{b:?}");
    assert_single_live_grant_per_pair(&emu);
    // Both report the same grant for every create.
    for (x, y) in a.actions.iter().zip(&b.actions) {
        assert_eq!(x.outcome.grant(), y.outcome.grant(), "{:?}", x.action);
    }
    assert!(plan(&emu, &yaml).await.is_empty());
    assert_managed_grants_active(&emu).await;
}

/// A License Manager client that hands every call to `inner`, first showing each mutating call
/// (its operation's name) to `before_mutation`, and passing what the batched status reads
/// (`get_grants`) return through `status_read`.
struct Intercepting<L> {
    inner: L,
    before_mutation: Box<dyn Fn(&'static str) + Send + Sync>,
    status_read: Box<dyn Fn(Vec<Grant>) -> Vec<Grant> + Send + Sync>,
}

impl<L> Intercepting<L> {
    /// Every call passed on unchanged, until a test sets a hook.
    fn new(inner: L) -> Self {
        Intercepting {
            inner,
            before_mutation: Box::new(|_| {}),
            status_read: Box::new(|read| read),
        }
    }
}

impl<L: LicenseManagerApi> LicenseManagerApi for Intercepting<L> {
    async fn list_received_licenses(&self) -> Result<Vec<License>, AwsError> {
        self.inner.list_received_licenses().await
    }
    async fn list_distributed_grants(&self, license: &LicenseArn) -> Result<Vec<Grant>, AwsError> {
        self.inner.list_distributed_grants(license).await
    }
    async fn get_grant(&self, grant: &GrantArn) -> Result<Grant, AwsError> {
        self.inner.get_grant(grant).await
    }
    async fn get_grants(&self, grants: &[GrantArn]) -> Result<Vec<Grant>, AwsError> {
        Ok((self.status_read)(self.inner.get_grants(grants).await?))
    }
    async fn create_grant(&self, req: &NewGrant) -> Result<GrantRef, AwsError> {
        (self.before_mutation)("CreateGrant");
        self.inner.create_grant(req).await
    }
    async fn create_grant_version(
        &self,
        grant: &GrantArn,
        change: &GrantChange,
    ) -> Result<GrantRef, AwsError> {
        (self.before_mutation)("CreateGrantVersion");
        self.inner.create_grant_version(grant, change).await
    }
    async fn delete_grant(&self, grant: &GrantArn, version: &str) -> Result<GrantRef, AwsError> {
        (self.before_mutation)("DeleteGrant");
        self.inner.delete_grant(grant, version).await
    }
    async fn accept_grant(&self, grant: &GrantArn) -> Result<GrantRef, AwsError> {
        (self.before_mutation)("AcceptGrant");
        self.inner.accept_grant(grant).await
    }
    async fn list_received_grants(
        &self,
        license: Option<&LicenseArn>,
    ) -> Result<Vec<Grant>, AwsError> {
        self.inner.list_received_grants(license).await
    }
    async fn get_service_settings(&self) -> Result<ServiceSettings, AwsError> {
        self.inner.get_service_settings().await
    }
    async fn list_received_grants_for_organization(
        &self,
        license: &LicenseArn,
        parent: Option<&GrantArn>,
    ) -> Result<Vec<Share>, AwsError> {
        self.inner
            .list_received_grants_for_organization(license, parent)
            .await
    }
}

/// A License Manager client that "crashes" the apply using it: at its `kill_at`-th mutating
/// call it signals `kill`, and the test drops the executor's future (calls in flight may or may
/// not reach the emulator, as with SIGKILL).
fn crashing<L>(inner: L, kill_at: usize, kill: Arc<Notify>) -> Intercepting<L> {
    let mutations = AtomicUsize::new(0);
    Intercepting {
        before_mutation: Box::new(move |_| {
            if mutations.fetch_add(1, Ordering::SeqCst) + 1 == kill_at {
                kill.notify_one();
            }
        }),
        ..Intercepting::new(inner)
    }
}

/// A small deterministic generator for kill points (xorshift).
fn kill_points(seed: u64, n: usize, below: usize) -> Vec<usize> {
    let mut x = seed.max(1);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            1 + (x as usize) % below
        })
        .collect()
}

#[tokio::test]
async fn killed_at_any_point_a_rerun_converges_without_duplicates() {
    let emu = start_emulator(seed_with_accounts(40), EmulatorOptions::default()).await;
    let yaml = bulk_yaml(40);
    // Where the plan stands at the start, and how many mutating calls a full apply makes.
    let full = plan(&emu, &yaml).await;
    let mutations = full.actions.len() * 2;
    for (i, kill_at) in kill_points(20_251_126, 24, mutations)
        .into_iter()
        .enumerate()
    {
        emu.state().reset();
        let p = plan(&emu, &yaml).await;
        let limits = Arc::new(AdaptiveLimits::new());
        let s = session(&emu, &limits).await;
        let kill = Arc::new(Notify::new());
        let lm = Arc::new(crashing((*s.lm).clone(), kill_at, kill.clone()));
        let opts = options(&limits);
        let killed = tokio::select! {
            _ = apply::execute(lm, None::<&NoRecipients>, &p, &opts, &NoProgress) => false,
            _ = kill.notified() => true,
        };
        assert!(killed, "kill point {i} ({kill_at}) was reached");
        assert_single_live_grant_per_pair(&emu);
        let runs = converge(&emu, &yaml, 3).await;
        assert!(runs <= 2, "kill point {i}: {runs} re-runs");
        assert_managed_grants_active(&emu).await;
    }
}

fn consolidated_billing_seed() -> Seed {
    let mut seed = sandbox_seed();
    seed.organization.feature_set = FeatureSetSeed::ConsolidatedBilling;
    seed.organization.trusted_access = false;
    seed
}

#[tokio::test]
async fn in_a_consolidated_billing_org_recipients_accept_and_activate_through_their_role() {
    let emu = start_emulator(consolidated_billing_seed(), EmulatorOptions::default()).await;
    let yaml = format!(
        "version: 1\nsettings:\n  recipient_role: OrganizationAccountAccessRole\nmodels:\n  claude-sonnet:\n    product_sku: prod-cl4ud3s0nn3t1\n    grant_to:\n      accounts: [\"{ML_PROD}\", \"{ML_DEV}\", \"{DATA_PROD}\"]\n"
    );
    let p = plan(&emu, &yaml).await;
    assert_eq!(p.actions.len(), 3);
    let limits = Arc::new(AdaptiveLimits::new());
    let s = session(&emu, &limits).await;
    let recipients = RoleRecipients::new(s.clients.clone(), "OrganizationAccountAccessRole");
    emu.state().reset_counts();
    let report = apply::execute(
        s.lm.clone(),
        Some(&recipients),
        &p,
        &options(&limits),
        &NoProgress,
    )
    .await;
    assert!(report.is_success(), "{report:?}");
    assert_eq!(emu.state().call_count("AcceptGrant"), 3);
    assert_eq!(emu.state().call_count("AssumeRole"), 3);
    assert!(plan(&emu, &yaml).await.is_empty());
    assert_managed_grants_active(&emu).await;
}

#[tokio::test]
async fn without_a_recipient_role_grants_waiting_for_acceptance_are_pending() {
    let emu = start_emulator(consolidated_billing_seed(), EmulatorOptions::default()).await;
    let yaml = format!(
        "version: 1\nmodels:\n  claude-sonnet:\n    product_sku: prod-cl4ud3s0nn3t1\n    grant_to:\n      accounts: [\"{ML_PROD}\"]\n"
    );
    let p = plan(&emu, &yaml).await;
    let report = execute(&emu, &p).await;
    assert!(report.is_success(), "{report:?}");
    match &report.actions[0].outcome {
        Outcome::Pending {
            status, waiting_on, ..
        } => {
            assert_eq!(status.as_str(), "PENDING_ACCEPT");
            assert_eq!(*waiting_on, Waiting::Recipient);
        }
        other => panic!("{other:?}"),
    }
    let again = plan(&emu, &yaml).await;
    assert!(again.is_empty(), "{:?}", again.actions);
    assert!(
        again
            .notes
            .iter()
            .map(bedrock_entitlements::plan::words::note)
            .any(|m| m.contains(ML_PROD) && m.contains("accept-grant")),
        "{:?}",
        again.notes
    );
}

/// `bedrock-entitlements apply --auto-approve` in `cli`'s scratch directory, with its stderr
/// piped and one INFO line per finished action.
fn apply_command(cli: &crate::cli_support::Cli) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_bedrock-entitlements"));
    cmd.args(["apply", "--auto-approve", "-c", "entitlements.yaml"])
        .current_dir(cli.dir.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", cli.dir.path())
        .env("AWS_ENDPOINT_URL", &cli.endpoint)
        .env("AWS_ACCESS_KEY_ID", crate::cli_support::ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", "apply-test-secret")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", cli.path("aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", cli.path("aws-credentials"))
        .env("RUST_LOG", "bedrock_entitlements::apply=info")
        .env("NO_COLOR", "1");
    cmd
}

/// Runs the apply process and SIGKILLs it when its `kill_after`-th action finishes (0: as soon
/// as it starts applying). Returns whether it was killed (false: it finished first).
async fn apply_killed_after(cli: &crate::cli_support::Cli, kill_after: usize) -> bool {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let mut child = apply_command(cli).spawn().expect("the binary starts");
    let stderr = child.stderr.take().expect("piped stderr");
    let mut lines = BufReader::new(stderr).lines();
    let mut finished = 0;
    let mut killed = false;
    while let Ok(Some(line)) = lines.next_line().await {
        let started = line.contains("applying plan");
        if line.contains("action finished") {
            finished += 1;
        }
        if (started && kill_after == 0) || (kill_after > 0 && finished == kill_after) {
            child.kill().await.expect("SIGKILL the apply process");
            killed = true;
            break;
        }
    }
    let status = child.wait().await.expect("the process ends");
    if killed {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "killed by SIGKILL");
    }
    killed
}

#[tokio::test]
async fn the_apply_process_killed_at_seeded_points_converges_on_rerun() {
    let accounts = 24;
    // Workflows settle on their first read, so that each apply takes about one poll delay.
    let opts = EmulatorOptions {
        workflow_reads: 0,
        ..EmulatorOptions::default()
    };
    let emu = start_emulator(seed_with_accounts(accounts), opts).await;
    let yaml = bulk_yaml(accounts);
    let cli = crate::cli_support::Cli::new(emu.endpoint_url());
    cli.write("entitlements.yaml", &yaml);
    let total = plan(&emu, &yaml).await.actions.len();
    let mut points = kill_points(1_126, 20, total - 1);
    points.push(0);
    for (i, kill_after) in points.into_iter().enumerate() {
        emu.state().reset();
        assert!(
            apply_killed_after(&cli, kill_after).await,
            "kill point {i}: the process was killed after {kill_after} of {total} actions"
        );
        assert_single_live_grant_per_pair(&emu);
        let mut reruns = 0;
        while !plan(&emu, &yaml).await.is_empty() {
            reruns += 1;
            assert!(
                reruns <= 3,
                "kill point {i} ({kill_after}): not converged after 3 re-runs"
            );
            let run = cli.run_with(&["apply", "--auto-approve"], &[]).await;
            assert_eq!(
                run.code, 0,
                "kill point {i} re-run {reruns}: {}",
                run.stderr
            );
            assert_single_live_grant_per_pair(&emu);
        }
        assert_managed_grants_active(&emu).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Access continuity: a revoke runs only once the grant replacing it is in effect for the
// accounts that keep access (the covers are added here by hand, as the planner will write them).

const INTO_THE_OU: &str = r#"
version: 1
models:
  claude:
    product_sku: prod-cl4ud3s0nn3t1
    grant_to:
      organizational_units: [ou-ab12-mlplatfm]
"#;

/// ml-prod and ml-dev hold managed account grants of Claude; the ML OU's managed grant is
/// DISABLED; `workflow_reads` says how long the OU's activation takes.
async fn accounts_then_their_ou(workflow_reads: u32) -> (EmulatorHandle, String) {
    let emu = start_emulator(
        sandbox_seed(),
        EmulatorOptions {
            workflow_reads,
            ..EmulatorOptions::default()
        },
    )
    .await;
    let state = emu.state();
    // Without the sandbox's foreign grant to ml-research (an OU member), the OU grant can replace
    // the account grants: the planner activates it with ALL_GRANTS_PERMITTED_BY_ISSUER and plans
    // the deletes (with the foreign grant it keeps them; tests/it/continuity.rs covers that).
    let foreign = state
        .grants()
        .into_iter()
        .find(|g| g.name == "ml-research-claude-manual")
        .expect("the sandbox's foreign grant");
    state.delete_grant(&foreign.arn).expect("admin delete");
    for account in [ML_PROD, ML_DEV] {
        state
            .add_grant(managed_grant(
                CLAUDE_LICENSE,
                &account_principal(account),
                "ACTIVE",
                "claude",
                account,
            ))
            .expect("seeded");
    }
    let ou = state
        .add_grant(managed_grant(
            CLAUDE_LICENSE,
            &ou_principal(OU_ML),
            "DISABLED",
            "claude",
            OU_ML,
        ))
        .expect("seeded");
    (emu, ou.arn)
}

/// The plan for [`INTO_THE_OU`], each delete waiting for the OU grant to be in effect for its
/// account.
async fn plan_with_covers(emu: &EmulatorHandle, ou_grant: &str) -> Plan {
    let mut p = plan(emu, INTO_THE_OU).await;
    for a in &mut p.actions {
        if let (ActionKind::Delete, Principal::Account(account)) = (a.kind(), &a.principal) {
            a.waits_for = vec![Cover {
                license_arn: CLAUDE_LICENSE.parse().expect("valid"),
                principal: ou_principal(OU_ML).parse().expect("valid"),
                grant_arn: Some(ou_grant.parse().expect("valid")),
                accounts: vec![account.clone()],
            }];
        }
    }
    p
}

fn deletes(p: &Plan) -> usize {
    p.actions
        .iter()
        .filter(|a| a.kind() == ActionKind::Delete)
        .count()
}

#[tokio::test]
async fn a_delete_whose_ou_cover_is_not_in_effect_is_deferred_and_the_next_run_carries_it_out() {
    let (emu, ou_grant) = accounts_then_their_ou(1_000).await;
    let p = plan_with_covers(&emu, &ou_grant).await;
    assert_eq!(deletes(&p), 2, "{:?}", p.summary());
    let report = execute(&emu, &p).await;
    assert!(report.is_success(), "deferred is not a failure: {report:?}");
    assert_eq!(report.counts().deferred, 2, "{report:?}");
    let text = bedrock_entitlements::render::apply::text(&report);
    for account in [ML_PROD, ML_DEV] {
        assert!(
            text.contains(&format!(
                "deferred: waits for OU grant {OU_ML} to be in effect for {account}"
            )),
            "{text}"
        );
    }
    let json: serde_json::Value =
        serde_json::from_str(&bedrock_entitlements::render::apply::json(&report)).expect("json");
    assert_eq!(json["success"], true);
    assert_eq!(json["summary"]["deferred"], 2);
    let deferred: Vec<&serde_json::Value> = json["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter(|a| a["outcome"] == "deferred")
        .collect();
    assert_eq!(deferred[0]["waits_for"][0]["grant_arn"], ou_grant.as_str());
    // Nobody lost the grant they had.
    for g in emu.state().grants() {
        if g.principal == account_principal(ML_PROD) || g.principal == account_principal(ML_DEV) {
            assert_eq!(g.status, "ACTIVE", "{g:?}");
        }
    }

    // The OU's activation finishes; the next run's deletes go ahead.
    emu.state()
        .set_grant_status(&ou_grant, "WORKFLOW_COMPLETED")
        .expect("admin");
    let next = plan_with_covers(&emu, &ou_grant).await;
    assert_eq!(deletes(&next), 2, "{:?}", next.summary());
    let report = execute(&emu, &next).await;
    assert!(report.is_success(), "{report:?}");
    assert_eq!(report.counts().deferred, 0, "{report:?}");
    assert!(plan(&emu, INTO_THE_OU).await.is_empty());
}

/// A License Manager client that checks, at every DeleteGrant, that the grant `cover` is in
/// effect for its accounts in the emulator's own state (WORKFLOW_COMPLETED: its shares ACTIVE),
/// counting in `gaps` the deletes made without it, and that hides every grant from the first
/// `hide` batched status reads (lists lagging behind writes).
fn watching<L>(
    inner: L,
    state: bedrock_entitlements::emulator::EmulatorState,
    cover: Option<String>,
    gaps: Arc<AtomicUsize>,
    hide: usize,
) -> Intercepting<L> {
    let hide = AtomicUsize::new(hide);
    Intercepting {
        before_mutation: Box::new(move |op| {
            if op == "DeleteGrant"
                && let Some(cover) = &cover
                && state.grant(cover).map(|g| g.status) != Some("WORKFLOW_COMPLETED".to_owned())
            {
                gaps.fetch_add(1, Ordering::SeqCst);
            }
        }),
        status_read: Box::new(move |read| {
            let hidden = hide
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if hidden { Vec::new() } else { read }
        }),
        ..Intercepting::new(inner)
    }
}

async fn execute_watching(
    emu: &EmulatorHandle,
    plan: &Plan,
    cover: Option<&str>,
    hide: usize,
    wait: Option<Duration>,
) -> (ApplyReport, usize) {
    let limits = Arc::new(AdaptiveLimits::new());
    let s = session(emu, &limits).await;
    let gaps = Arc::new(AtomicUsize::new(0));
    let lm = Arc::new(watching(
        (*s.lm).clone(),
        emu.state(),
        cover.map(str::to_owned),
        Arc::clone(&gaps),
        hide,
    ));
    let opts = ApplyOptions {
        wait,
        ..options(&limits)
    };
    let report = apply::execute(lm, None::<&NoRecipients>, plan, &opts, &NoProgress).await;
    (report, gaps.load(Ordering::SeqCst))
}

#[tokio::test]
async fn with_wait_the_deletes_run_once_the_ou_grant_is_in_effect_for_their_accounts() {
    let (emu, ou_grant) = accounts_then_their_ou(6).await;
    let mut p = plan_with_covers(&emu, &ou_grant).await;
    // The OU's activation was started elsewhere (another run, the console): the deletes find
    // it in its workflow and wait for its shares.
    p.actions.retain(|a| a.kind() == ActionKind::Delete);
    assert_eq!(p.actions.len(), 2, "{:?}", p.summary());
    let limits = Arc::new(AdaptiveLimits::new());
    let started = session(&emu, &limits)
        .await
        .lm
        .create_grant_version(
            &ou_grant.parse().expect("valid"),
            &GrantChange {
                client_token: "activate-elsewhere".to_owned(),
                source_version: Some(by_arn(&emu, &ou_grant).version.to_string()),
                status: Some(bedrock_entitlements::model::GrantStatus::Active),
                // Replacing the members' account grants (one active grant per product).
                activation_override: Some("ALL_GRANTS_PERMITTED_BY_ISSUER".to_owned()),
                ..GrantChange::default()
            },
        )
        .await
        .expect("activation starts");
    assert_eq!(started.status.as_str(), "PENDING_WORKFLOW");
    let (report, gaps) =
        execute_watching(&emu, &p, Some(&ou_grant), 0, Some(Duration::from_secs(60))).await;
    assert!(report.is_success(), "{report:?}");
    assert_eq!(report.counts().done, 2, "{report:?}");
    assert_eq!(
        gaps, 0,
        "a DeleteGrant was sent before the OU grant was in effect"
    );
    assert!(emu.state().call_count("ListReceivedGrantsForOrganization") >= 1);
}

#[tokio::test]
async fn a_grant_missing_from_batched_status_reads_is_waited_for() {
    let emu = start_emulator(sandbox_seed(), EmulatorOptions::default()).await;
    let yaml = r#"
version: 1
models:
  claude:
    product_sku: prod-cl4ud3s0nn3t1
    grant_to:
      accounts: ["222233334444", "333344445555"]
"#;
    let p = plan(&emu, yaml).await;
    assert_eq!(p.actions.len(), 2, "{:?}", p.summary());
    // The new grants are missing from the first three batched reads.
    let (report, _) = execute_watching(&emu, &p, None, 3, None).await;
    assert!(report.is_success(), "{report:?}");
    assert_eq!(report.counts().done, 2, "{report:?}");
    assert_managed_grants_active(&emu).await;
}
