//! Access continuity through the real binary against an emulator whose workflows take time
//! (issue 11). A sampler reads the emulator's own entitlement oracle (`EmulatorState::entitlements`:
//! who holds an ACTIVE account grant or an ACTIVE share of an organization or OU grant, per
//! product) every 20 ms while `apply` runs, and fails on any moment an account that had the model
//! before and is meant to keep it has none:
//! - accounts → their OU; accounts → the organization; an exception added to an organization
//!   grant; a renewal to a new license of the same product: no gap, and at most 3 runs end in the
//!   new grants alone;
//! - an OU taking over where one account holds a foreign active grant for the product: the
//!   foreign grant is never disabled, nobody loses the model, and the plan says which managed
//!   grants stay and why;
//! - the apply process SIGKILLed at 20 or more points of the move into the OU and of the renewal,
//!   each followed by re-runs: no gap, no duplicate grant;
//! - lists lagging seconds behind CreateGrant, the emulator accepting a second grant for a pair,
//!   and an apply killed right after its first CreateGrant and re-run at once: no duplicate (the
//!   re-run must send the plan's client token, not one made per process).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bedrock_entitlements::emulator::{
    EmulatorHandle, EmulatorOptions, EmulatorState, GrantSeed, GrantView, Seed,
};

use crate::cli_support::Cli;
use crate::support::{DEFAULT_OPS, start_emulator};

const SKU: &str = "prod-claude0001";
const L1: &str = "arn:aws:license-manager::294406891311:license:l-c0000000000000000000000000000001";
const L2: &str = "arn:aws:license-manager::294406891311:license:l-c0000000000000000000000000000002";
const MGMT: &str = "100000000001";
const DEV: &str = "200000000001";
const TEST: &str = "200000000002";
const LAB: &str = "200000000003";
const OPS: &str = "200000000004";
const SHARED: &str = "200000000005";
const ANALYTICS: &str = "200000000006";
const TEAMS: &str = "ou-ct01-teamsaaa";
const ORG: &str = "o-contin00001";
/// How long an organization or OU workflow takes in the emulator.
const ORG_WORKFLOW_MS: u64 = 1_200;
/// How long an account grant's first distribution takes.
const ACCOUNT_WORKFLOW_MS: u64 = 300;

fn account(id: &str) -> String {
    format!("arn:aws:iam::{id}:root")
}

fn ou(id: &str) -> String {
    format!("arn:aws:organizations::{MGMT}:ou/{ORG}/{id}")
}

fn organization() -> String {
    format!("arn:aws:organizations::{MGMT}:organization/{ORG}")
}

fn base_seed() -> Seed {
    Seed::from_yaml(include_str!("../data/continuity.yaml")).expect("the continuity seed is valid")
}

fn grant(name: &str, license: &str, principal: String, status: &str) -> GrantSeed {
    GrantSeed {
        arn: None,
        name: name.to_owned(),
        license_arn: license.to_owned(),
        principal,
        grantor: None,
        status: status.to_owned(),
        status_reason: None,
        version: 2,
        operations: DEFAULT_OPS.iter().map(|s| (*s).to_owned()).collect(),
    }
}

fn managed(license: &str, principal: String, short: &str, status: &str) -> GrantSeed {
    grant(
        &format!("bedrock-entitlements-claude-{short}"),
        license,
        principal,
        status,
    )
}

/// dev and test each hold a managed, active account grant on L1.
fn accounts_seed() -> Seed {
    let mut seed = base_seed();
    seed.grants = vec![
        managed(L1, account(DEV), DEV, "ACTIVE"),
        managed(L1, account(TEST), TEST, "ACTIVE"),
    ];
    seed
}

/// A renewal of L1: the same product, valid for longer.
fn with_renewal(mut seed: Seed) -> Seed {
    let mut renewal = seed.licenses[0].clone();
    renewal.arn = L2.to_owned();
    renewal.validity_begin = "2026-11-01T00:00:00Z".to_owned();
    renewal.validity_end = Some("2027-11-01T00:00:00Z".to_owned());
    seed.licenses.push(renewal);
    seed
}

fn options() -> EmulatorOptions {
    EmulatorOptions {
        workflow_ms: ORG_WORKFLOW_MS,
        account_workflow_ms: ACCOUNT_WORKFLOW_MS,
        ..EmulatorOptions::default()
    }
}

fn file(grant_to: &str, extra: &str) -> String {
    format!(
        "version: 1\nmodels:\n  claude:\n    product_sku: {SKU}\n    grant_to:\n{grant_to}{extra}"
    )
}

fn to_teams() -> String {
    file(&format!("      organizational_units: [{TEAMS}]\n"), "")
}

/// The (product, account) pairs entitled right now, by the emulator's own reckoning.
fn entitled(state: &EmulatorState) -> BTreeSet<(String, String)> {
    state
        .entitlements()
        .into_iter()
        .map(|e| (e.product_sku, e.account))
        .collect()
}

fn keep(accounts: &[&str]) -> BTreeSet<(String, String)> {
    accounts
        .iter()
        .map(|a| (SKU.to_owned(), (*a).to_owned()))
        .collect()
}

/// Reads the emulator's entitlements every 20 ms until stopped; records every moment an account
/// of `keep` has none, and every moment a grant of `untouchable` is not ACTIVE.
struct Sampler {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<(usize, Vec<String>)>,
}

impl Sampler {
    fn start(
        state: EmulatorState,
        keep: BTreeSet<(String, String)>,
        untouchable: Vec<String>,
    ) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let task = tokio::spawn(async move {
            let started = Instant::now();
            let mut samples = 0;
            let mut gaps = Vec::new();
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            while !flag.load(Ordering::SeqCst) {
                tick.tick().await;
                samples += 1;
                let now = entitled(&state);
                for missing in keep.difference(&now) {
                    gaps.push(format!(
                        "{} ms: account {} had no entitlement to {}",
                        started.elapsed().as_millis(),
                        missing.1,
                        missing.0
                    ));
                }
                for arn in &untouchable {
                    let status = state.grant(arn).map(|g| g.status);
                    if status.as_deref() != Some("ACTIVE") {
                        gaps.push(format!(
                            "{} ms: foreign grant {arn} is {status:?}",
                            started.elapsed().as_millis()
                        ));
                    }
                }
            }
            (samples, gaps)
        });
        Sampler { stop, task }
    }

    /// Stops sampling; panics with the first moments of every gap seen.
    async fn finish(self, what: &str) {
        self.stop.store(true, Ordering::SeqCst);
        let (samples, gaps) = self.task.await.expect("the sampler runs");
        assert!(samples > 0, "{what}: the sampler never ran");
        assert!(
            gaps.is_empty(),
            "{what}: {} moments without access, e.g.:\n{}",
            gaps.len(),
            gaps.iter().take(10).cloned().collect::<Vec<_>>().join("\n")
        );
    }
}

fn is_live(g: &GrantView) -> bool {
    !matches!(
        g.status.as_str(),
        "DELETED" | "REJECTED" | "FAILED_WORKFLOW" | "PENDING_DELETE"
    )
}

/// No (license, principal) holds two live grants.
fn assert_no_duplicates(state: &EmulatorState, what: &str) {
    let mut pairs: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for g in state.grants().into_iter().filter(is_live) {
        pairs
            .entry((g.license_arn.clone(), g.principal.clone()))
            .or_default()
            .push(g.arn);
    }
    let dups: Vec<_> = pairs.iter().filter(|(_, g)| g.len() > 1).collect();
    assert!(dups.is_empty(), "{what}: duplicate grants {dups:?}");
}

/// The live managed grants, as (license, principal).
fn managed_grants(state: &EmulatorState) -> BTreeSet<(String, String)> {
    state
        .grants()
        .into_iter()
        .filter(|g| is_live(g) && g.name.starts_with("bedrock-entitlements"))
        .map(|g| (g.license_arn, g.principal))
        .collect()
}

fn pairs(license: &str, principals: &[String]) -> BTreeSet<(String, String)> {
    principals
        .iter()
        .map(|p| (license.to_owned(), p.clone()))
        .collect()
}

/// Runs `apply --wait` until `plan --detailed-exitcode` says there is nothing left, at most
/// `max_runs` times; returns the number of runs.
async fn converge(cli: &Cli, max_runs: usize, what: &str) -> usize {
    for run in 1..=max_runs {
        let applied = cli.run(&APPLY_WAITING).await;
        assert_eq!(
            applied.code, 0,
            "{what}: apply run {run}\n--- stdout\n{}\n--- stderr\n{}",
            applied.stdout, applied.stderr
        );
        let plan = cli
            .run(&["plan", "--detailed-exitcode", "-c", "entitlements.yaml"])
            .await;
        match plan.code {
            0 => return run,
            2 => continue,
            _ => panic!("{what}: plan failed\n{}", plan.stderr),
        }
    }
    panic!("{what}: not converged after {max_runs} runs of apply");
}

struct Case {
    name: &'static str,
    seed: Seed,
    file: String,
    keep: BTreeSet<(String, String)>,
    end: BTreeSet<(String, String)>,
    untouchable: Vec<String>,
}

async fn run_case(case: Case) -> (EmulatorHandle, Cli) {
    let emu = start_emulator(case.seed, options()).await;
    let cli = Cli::new(emu.endpoint_url());
    cli.write("entitlements.yaml", &case.file);
    let before = entitled(&emu.state());
    assert!(
        case.keep.is_subset(&before),
        "{}: the seed does not entitle {:?}",
        case.name,
        case.keep.difference(&before).collect::<Vec<_>>()
    );
    let sampler = Sampler::start(emu.state(), case.keep.clone(), case.untouchable.clone());
    converge(&cli, 3, case.name).await;
    sampler.finish(case.name).await;
    assert_no_duplicates(&emu.state(), case.name);
    assert_eq!(
        managed_grants(&emu.state()),
        case.end,
        "{}: end state",
        case.name
    );
    (emu, cli)
}

#[tokio::test]
async fn accounts_move_into_their_ou_without_a_gap() {
    run_case(Case {
        name: "accounts → OU",
        seed: accounts_seed(),
        file: to_teams(),
        keep: keep(&[DEV, TEST]),
        end: pairs(L1, &[ou(TEAMS)]),
        untouchable: Vec::new(),
    })
    .await;
}

#[tokio::test]
async fn accounts_move_into_the_organization_without_a_gap() {
    run_case(Case {
        name: "accounts → organization",
        seed: accounts_seed(),
        file: file("      organization: true\n", ""),
        keep: keep(&[DEV, TEST]),
        end: pairs(L1, &[organization()]),
        untouchable: Vec::new(),
    })
    .await;
}

#[tokio::test]
async fn an_exception_added_to_an_organization_grant_keeps_everyone_else() {
    let mut seed = base_seed();
    seed.grants = vec![managed(L1, organization(), ORG, "WORKFLOW_COMPLETED")];
    // dev is excepted: the organization grant becomes Platform, Labs, test and analytics.
    run_case(Case {
        name: "exception added",
        seed,
        file: file(
            "      organization: true\n",
            &format!("    except_accounts: [\"{DEV}\"]\n"),
        ),
        keep: keep(&[TEST, LAB, OPS, SHARED, ANALYTICS]),
        end: pairs(
            L1,
            &[
                ou("ou-ct01-platform"),
                ou("ou-ct01-labslabs"),
                account(TEST),
                account(ANALYTICS),
            ],
        ),
        untouchable: Vec::new(),
    })
    .await;
}

/// The OU holds its grant on L1; a renewal L2 of the same product arrives.
fn renewal_seed() -> Seed {
    let mut seed = with_renewal(base_seed());
    seed.grants = vec![managed(L1, ou(TEAMS), TEAMS, "WORKFLOW_COMPLETED")];
    seed
}

#[tokio::test]
async fn a_renewal_moves_grants_to_the_new_license_without_a_gap() {
    run_case(Case {
        name: "renewal",
        seed: renewal_seed(),
        file: to_teams(),
        keep: keep(&[DEV, TEST, LAB]),
        end: pairs(L2, &[ou(TEAMS)]),
        untouchable: Vec::new(),
    })
    .await;
}

#[tokio::test]
async fn an_ou_taking_over_never_disables_a_foreign_grant_and_says_what_stays() {
    let mut seed = accounts_seed();
    let foreign_arn =
        "arn:aws:license-manager::100000000001:grant:g-f0000000000000000000000000000001";
    let mut foreign = grant("console-claude-lab", L1, account(LAB), "ACTIVE");
    foreign.arn = Some(foreign_arn.to_owned());
    seed.grants.push(foreign);
    let (emu, cli) = run_case(Case {
        name: "foreign grant in the OU",
        seed,
        file: to_teams(),
        keep: keep(&[DEV, TEST, LAB]),
        // dev and test keep their account grants: the OU grant cannot replace them without
        // disabling lab's foreign grant, so it is activated without the override.
        end: pairs(L1, &[ou(TEAMS), account(DEV), account(TEST)]),
        untouchable: vec![foreign_arn.to_owned()],
    })
    .await;
    let plan = cli
        .run(&["plan", "--format", "json", "-c", "entitlements.yaml"])
        .await
        .expect(0);
    let text = plan.stdout;
    for name in [
        "bedrock-entitlements-claude-200000000001",
        "bedrock-entitlements-claude-200000000002",
    ] {
        assert!(
            text.contains(name),
            "the plan does not say that {name} stays:\n{text}"
        );
    }
    assert_eq!(
        emu.state().grant(foreign_arn).map(|g| g.status).as_deref(),
        Some("ACTIVE")
    );
}

/// `apply --auto-approve --wait=60s` of the scratch directory's `entitlements.yaml`: the
/// command line of every apply of these scenarios.
const APPLY_WAITING: [&str; 5] = [
    "apply",
    "--auto-approve",
    "--wait=60s",
    "-c",
    "entitlements.yaml",
];

/// [`APPLY_WAITING`] in `cli`'s directory, as a child process.
fn apply_child(cli: &Cli) -> tokio::process::Child {
    cli.spawn(&APPLY_WAITING)
}

fn calls(state: &EmulatorState, op: Option<&str>) -> u64 {
    match op {
        Some(op) => state.call_count(op),
        None => state.call_counts().values().sum(),
    }
}

/// Runs apply and SIGKILLs it once the emulator has answered `at` calls (of `op`, or of any
/// operation). Returns whether it was killed before it finished.
async fn apply_killed_at(cli: &Cli, state: &EmulatorState, op: Option<&str>, at: u64) -> bool {
    let start = calls(state, op);
    let mut child = apply_child(cli);
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if calls(state, op) - start >= at {
            child.kill().await.expect("SIGKILL the apply process");
            return true;
        }
        assert!(Instant::now() < deadline, "apply did not finish in 120 s");
        tick.tick().await;
    }
}

/// Kills apply at `points` evenly spread over the calls an unkilled apply of `case` makes, then
/// re-runs it to convergence; the sampler watches every run.
async fn killed_and_rerun(
    name: &str,
    seed: fn() -> Seed,
    yaml: String,
    keep: BTreeSet<(String, String)>,
    end: BTreeSet<(String, String)>,
    points: u64,
) {
    let emu = start_emulator(seed(), options()).await;
    let cli = Cli::new(emu.endpoint_url());
    cli.write("entitlements.yaml", &yaml);
    let state = emu.state();
    // One unkilled run tells how many calls a whole apply makes.
    let before = calls(&state, None);
    let whole = cli.run(&APPLY_WAITING).await;
    assert_eq!(
        whole.code, 0,
        "{name}: the unkilled apply\n{}",
        whole.stderr
    );
    let total = calls(&state, None) - before;
    assert!(total > points, "{name}: only {total} calls to kill at");
    let mut killed = 0;
    for i in 0..points {
        state.reset();
        let at = 1 + i * (total - 1) / points;
        let what = format!("{name}, killed at call {at} of {total}");
        let sampler = Sampler::start(state.clone(), keep.clone(), Vec::new());
        if apply_killed_at(&cli, &state, None, at).await {
            killed += 1;
        }
        assert_no_duplicates(&state, &what);
        converge(&cli, 3, &what).await;
        sampler.finish(&what).await;
        assert_no_duplicates(&state, &what);
        assert_eq!(managed_grants(&state), end, "{what}: end state");
    }
    assert!(
        killed >= 20,
        "{name}: only {killed} of {points} runs were killed before they finished"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_anywhere_in_the_move_into_the_ou_no_account_loses_access() {
    killed_and_rerun(
        "accounts → OU",
        accounts_seed,
        to_teams(),
        keep(&[DEV, TEST]),
        pairs(L1, &[ou(TEAMS)]),
        22,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_anywhere_in_a_renewal_no_account_loses_access() {
    killed_and_rerun(
        "renewal",
        renewal_seed,
        to_teams(),
        keep(&[DEV, TEST, LAB]),
        pairs(L2, &[ou(TEAMS)]),
        22,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lagging_lists_and_a_kill_after_the_first_create_make_no_duplicate() {
    let opts = EmulatorOptions {
        list_lag_ms: 4_000,
        allow_duplicate_grants: true,
        ..options()
    };
    let emu = start_emulator(base_seed(), opts).await;
    let cli = Cli::new(emu.endpoint_url());
    cli.write(
        "entitlements.yaml",
        &file(&format!("      accounts: [\"{DEV}\", \"{TEST}\"]\n"), ""),
    );
    let state = emu.state();
    assert!(
        apply_killed_at(&cli, &state, Some("CreateGrant"), 1).await,
        "the apply finished before its first CreateGrant was answered"
    );
    // At once, while the lists still hide the grant the killed run made.
    let rerun = cli
        .run(&["apply", "--auto-approve", "-c", "entitlements.yaml"])
        .await;
    assert_eq!(rerun.code, 0, "{}", rerun.stderr);
    assert_no_duplicates(&state, "re-run while lists lag");
    assert_eq!(
        managed_grants(&state),
        pairs(L1, &[account(DEV), account(TEST)])
    );
}
