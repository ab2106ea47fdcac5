//! The worlds the renderer tests share, made by the code paths the commands use: an emulator
//! seed and a desired-state file from `tests/data/render/`; the emulator serves the seed, the
//! real SDK reads it (`live::read`, every license, the SCPs when guardrails are on), the file is
//! parsed (`config::parse`), resolved (`org::resolve`) and planned (`plan::plan`, then
//! `plan::subscriptions::add` on Bedrock's state read with `live::read_subscriptions`), at a
//! fixed clock ([`READ_AT`]). Drift, access and licenses come from `audit::classify`,
//! `audit::Access` and `render::licenses::product_choices` on the same world.
//!
//! Each world is built once per test binary (the emulator runs on a thread of its own, so a
//! `#[tokio::test]` may ask for one too).

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::apply::{
    self, ApplyOptions, ApplyReport, NoProgress, NoRecipients, PolicyClient, PollPolicy,
    RoleRecipients,
};

use crate::audit::{self, Access, AccessMatrix, DriftInput, DriftReport};
use crate::aws::{self, Clients, ConnectOptions};
use crate::config::{self, Config, GuardrailMode, ModelKey};
use crate::emulator::{
    self, AccountSeed, EmulatorHandle, EmulatorOptions, GrantSeed, OuSeed, Seed,
};
use crate::live::{self, LicenseScope};
use crate::model::{License, Live};
use crate::org::{self, Desired, ResolveOptions};
use crate::plan::{self, Plan};
use crate::render::licenses::ProductChoice;

/// The fixtures' clock: 2026-06-01T00:00:00Z (license validity and expiry are judged at it).
pub const READ_AT: i64 = 1_780_272_000;

/// One world: what was read, what the file asks for, and the plan between them.
pub struct World {
    pub config: Config,
    pub live: Live,
    pub desired: Desired,
    pub plan: Plan,
}

/// The worlds of `tests/data/render/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Case {
    /// One account granted, its grant in place: nothing to do.
    Empty,
    /// Every action kind, note kind and reason the planner produces from live state.
    Mixed,
    /// `guardrails.mode: enforce`: the SCP layer of a plan.
    Guardrails,
    /// `subscribe` sections: a subscription and the notes of the ones that cannot be made.
    Subscriptions,
    /// Five models of 1,000 accounts each and 300 foreign grants (size and truncation).
    Huge,
}

impl Case {
    pub const ALL: [Case; 5] = [
        Case::Empty,
        Case::Mixed,
        Case::Guardrails,
        Case::Subscriptions,
        Case::Huge,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Case::Empty => "empty",
            Case::Mixed => "mixed",
            Case::Guardrails => "guardrails",
            Case::Subscriptions => "subscriptions",
            Case::Huge => "huge",
        }
    }

    /// The seed and the desired-state file.
    fn inputs(self) -> (Seed, String) {
        let seed = |text: &str| Seed::from_yaml(text).expect("a valid fixture seed");
        match self {
            Case::Empty => (
                seed(include_str!("../../tests/data/render/empty.seed.yaml")),
                include_str!("../../tests/data/render/empty.entitlements.yaml").to_owned(),
            ),
            Case::Mixed => (
                seed(include_str!("../../tests/data/render/mixed.seed.yaml")),
                include_str!("../../tests/data/render/mixed.entitlements.yaml").to_owned(),
            ),
            Case::Guardrails => (
                seed(include_str!("../../tests/data/render/guardrails.seed.yaml")),
                include_str!("../../tests/data/render/guardrails.entitlements.yaml").to_owned(),
            ),
            Case::Subscriptions => (
                seed(include_str!(
                    "../../tests/data/render/subscriptions.seed.yaml"
                )),
                include_str!("../../tests/data/render/subscriptions.entitlements.yaml").to_owned(),
            ),
            Case::Huge => huge_inputs(),
        }
    }
}

/// The world of `case`, built on first use.
pub fn world(case: Case) -> &'static World {
    static WORLDS: [OnceLock<World>; 5] = [const { OnceLock::new() }; 5];
    let index = Case::ALL.iter().position(|c| *c == case).expect("listed");
    WORLDS[index].get_or_init(|| {
        std::thread::spawn(move || build(case))
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// A runtime of its own for one fixture's emulator and SDK calls.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

/// The emulator serving `seed`, and the SDK clients that talk to it.
async fn serve(seed: Seed, opts: EmulatorOptions, region: &str) -> (EmulatorHandle, Clients) {
    let emu = emulator::start(seed, opts, "127.0.0.1:0".parse().expect("an address"))
        .await
        .expect("the emulator starts");
    let clients = aws::connect(ConnectOptions {
        home_region: region.to_owned(),
        endpoint_url: Some(emu.endpoint_url()),
        static_credentials: Some(("AKIAFIXTURES".to_owned(), "fixtures".to_owned())),
        ..ConnectOptions::default()
    })
    .await;
    (emu, clients)
}

/// Serves the seed, reads it, resolves the file and plans, as `plan` does.
fn build(case: Case) -> World {
    let (seed, text) = case.inputs();
    let config = config::parse(&text).unwrap_or_else(|d| panic!("{}: {d:?}", case.name()));
    runtime().block_on(async {
        // Workflows stay where the seed put them while the fixture reads them.
        let opts = EmulatorOptions {
            workflow_reads: u32::MAX,
            ..EmulatorOptions::default()
        };
        let (emu, clients) = serve(seed, opts, &config.settings.home_region).await;
        let lm = Arc::new(clients.license_manager.clone());
        let orgs = Arc::new(clients.organizations.clone());
        let guardrails = &config.settings.guardrails;
        let prefix = (guardrails.mode != GuardrailMode::Off)
            .then_some(guardrails.policy_name_prefix.as_str());
        let mut live = live::read(&lm, &orgs, &LicenseScope::All, prefix)
            .await
            .expect("the fixture's live state reads");
        live.read_at = READ_AT;
        let opts = ResolveOptions {
            targets: None,
            now: READ_AT,
        };
        let desired = org::resolve(&config, &live, &opts)
            .unwrap_or_else(|d| panic!("{}: {d:?}", case.name()));
        let mut plan = plan::plan(&desired, &live);
        let ids = plan::subscription_model_ids(&config);
        if !ids.is_empty() {
            let states = live::read_subscriptions(&clients.bedrock, &ids)
                .await
                .into_iter()
                .map(|(id, r)| (id, r.map_err(|e| e.to_string())))
                .collect();
            plan::subscriptions::add(&config, &desired, &states, &mut plan);
        }
        emu.shutdown().await;
        World {
            config,
            live,
            desired,
            plan,
        }
    })
}

/// The report of `apply` carrying out the world's plan on a fresh emulator of the same seed
/// (workflows settle on the next read, as by default), with the recipient role when the file
/// names one and the SCP client when it enforces guardrails; no wait for workflows; one call
/// at a time.
pub fn apply_report(case: Case) -> ApplyReport {
    let w = world(case);
    let (seed, _) = case.inputs();
    std::thread::spawn(move || {
        runtime().block_on(async {
            let region = &w.config.settings.home_region;
            let (emu, clients) = serve(seed, EmulatorOptions::default(), region).await;
            let enforce = w.config.settings.guardrails.mode == GuardrailMode::Enforce;
            // One call at a time: the emulator numbers new grants in the order of the calls.
            let opts = ApplyOptions {
                parallelism: 1,
                home_region: region.clone(),
                poll: PollPolicy {
                    initial: Duration::from_millis(5),
                    max: Duration::from_millis(20),
                },
                guardrails: enforce
                    .then(|| PolicyClient::new(Arc::new(clients.organizations.clone()))),
                ..ApplyOptions::default()
            };
            let lm = Arc::new(clients.license_manager.clone());
            // `apply`'s first phase, as the command runs it: the plan's subscriptions (no wait,
            // so a license still on its way is reported pending).
            let licensed = |_: &ModelKey, _: &[License]| false;
            let subscriptions = apply::subscribe(
                &clients.bedrock,
                lm.as_ref(),
                &w.plan.subscriptions,
                &licensed,
                None,
            )
            .await;
            let mut report = match &w.config.settings.recipient_role {
                Some(role) => {
                    let recipients = RoleRecipients::new(clients.clone(), role.clone());
                    apply::execute(lm, Some(&recipients), &w.plan, &opts, &NoProgress).await
                }
                None => {
                    apply::execute(lm, None::<&NoRecipients>, &w.plan, &opts, &NoProgress).await
                }
            };
            report.subscriptions = w
                .plan
                .subscriptions
                .iter()
                .zip(subscriptions)
                .map(|(action, outcome)| apply::SubscriptionReport {
                    action: action.clone(),
                    outcome,
                })
                .collect();
            emu.shutdown().await;
            report
        })
    })
    .join()
    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// A plan with no action and no note: the live grant is what the file asks for.
pub fn empty() -> Plan {
    world(Case::Empty).plan.clone()
}

/// Every action kind, note kind and reason (see `tests/data/render/mixed.seed.yaml`).
pub fn mixed() -> Plan {
    world(Case::Mixed).plan.clone()
}

/// 5,000 actions over five models and 300 foreign grants.
pub fn huge() -> Plan {
    world(Case::Huge).plan.clone()
}

/// The drift report of a world, as `drift` makes it (no baseline, the fixtures' clock).
pub fn drift(case: Case) -> DriftReport {
    let w = world(case);
    audit::classify(&DriftInput {
        config: &w.config,
        desired: &w.desired,
        live: &w.live,
        plan: &w.plan,
        baseline: None,
        now: Some(READ_AT as u64),
    })
}

/// The access matrix of a world with every row held, as `access` makes it for text, Markdown
/// and HTML.
pub fn access(case: Case) -> AccessMatrix<'static> {
    access_rows(case).into_matrix()
}

/// The access matrix of a world with its rows made as they are read, as `access` makes it for
/// CSV and JSON.
pub fn access_rows(case: Case) -> Access<'static> {
    let w = world(case);
    Access::new(
        &w.live,
        Some(&w.desired),
        &w.config.settings.grant_name_prefix,
    )
}

/// The received licenses of a world and the product choices `licenses` shows for them.
pub fn licenses(case: Case) -> (Vec<License>, Vec<ProductChoice>) {
    let w = world(case);
    let models: Vec<_> = w
        .config
        .models
        .iter()
        .map(|m| (m.key.value.clone(), m.license.value.clone()))
        .collect();
    let choices = crate::render::licenses::product_choices(&w.live.licenses, &models, READ_AT);
    (w.live.licenses.clone(), choices)
}

pub fn key(s: &str) -> ModelKey {
    ModelKey::parse(s).unwrap()
}

/// Accounts per model in the huge world.
const HUGE_ACCOUNTS: usize = 1000;
const HUGE_MODELS: usize = 5;
const HUGE_FOREIGN: usize = 300;
const HUGE_PREFIX: &str = "bedrock-entitlements";

fn huge_account(model: usize, i: usize) -> String {
    format!("{:012}", 100_000_000_000 + model * 10_000 + i)
}

fn huge_license(model: usize) -> String {
    format!(
        "arn:aws:license-manager::294406891311:license:l-{model}{:031}",
        0
    )
}

fn huge_grant(seq: usize) -> String {
    format!("arn:aws:license-manager::999900001111:grant:g-{seq:032}")
}

/// `tests/data/render/huge.seed.yaml` (the organization, five OUs and five licenses) with a
/// thousand accounts per model, one OU per model, and their grants: per ten accounts six have
/// none (create), one is DISABLED (activate), one lacks an operation (update) and two are no
/// longer in the file (delete); then 300 foreign grants on the first license.
fn huge_inputs() -> (Seed, String) {
    let mut seed: Seed = Seed::from_yaml(include_str!("../../tests/data/render/huge.seed.yaml"))
        .expect("a valid fixture seed");
    let mut file =
        String::from("# Generated by src/render/fixtures.rs (huge_inputs).\nversion: 1\nmodels:\n");
    let mut seq = 0;
    let mut grant = |license: String, account: &str, name: String, status: &str, ops: bool| {
        seq += 1;
        let mut operations: Vec<String> = crate::model::DEFAULT_OPERATIONS
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        if !ops {
            operations.retain(|o| o != "CreateToken");
        }
        GrantSeed {
            arn: Some(huge_grant(seq)),
            name,
            license_arn: license,
            principal: format!("arn:aws:iam::{account}:root"),
            grantor: None,
            status: status.to_owned(),
            status_reason: None,
            version: 1,
            operations,
        }
    };
    for m in 0..HUGE_MODELS {
        let ou = format!("ou-hu9e-model{m:03}");
        seed.organization.organizational_units.push(OuSeed {
            id: ou.clone(),
            name: format!("Model {m}"),
            parent: seed.organization.root.clone(),
        });
        let model = format!("model-{m}");
        file.push_str(&format!(
            "  {model}:\n    product_sku: prod-huge0000{m}\n    grant_to:\n      accounts:\n"
        ));
        for i in 0..HUGE_ACCOUNTS {
            let id = huge_account(m, i);
            seed.organization.accounts.push(account_seed(&id, &ou));
            let name = format!("{HUGE_PREFIX}-{model}-{id}");
            let license = huge_license(m);
            match i % 10 {
                0..=5 => {}
                6 => seed
                    .grants
                    .push(grant(license, &id, name, "DISABLED", true)),
                7 => seed.grants.push(grant(license, &id, name, "ACTIVE", false)),
                _ => {
                    seed.grants.push(grant(license, &id, name, "ACTIVE", true));
                    continue;
                }
            }
            file.push_str(&format!("        - \"{id}\"\n"));
        }
    }
    for i in 0..HUGE_FOREIGN {
        let id = format!("{:012}", 200_000_000_000u64 + i as u64);
        seed.organization
            .accounts
            .push(account_seed(&id, &seed.organization.root.clone()));
        let name = format!("hand-made-grant-{i}");
        seed.grants
            .push(grant(huge_license(0), &id, name, "ACTIVE", true));
    }
    // The emulator checks the whole seed when it starts.
    (seed, file)
}

fn account_seed(id: &str, parent: &str) -> AccountSeed {
    let yaml = format!("{{ id: \"{id}\", name: acct-{id}, parent: {parent} }}");
    serde_yaml::from_str(&yaml).expect("an account seed")
}

/// The reason and note words of a plan, for the tests that list what a world reaches.
pub fn decisions(plan: &Plan) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for a in &plan.actions {
        out.insert(format!("{} {}", a.kind().as_str(), reason_name(&a.reason)));
    }
    for n in &plan.notes {
        let detail = format!("{:?}", n.detail);
        let variant = detail.split([' ', '{', '(']).next().unwrap_or_default();
        out.insert(format!("note {:?} {variant}", n.detail.kind()));
    }
    out
}

fn reason_name(r: &plan::Reason) -> String {
    use plan::Reason::*;
    match r {
        Missing { .. } => "Missing".into(),
        StatusDiffers { .. } => "StatusDiffers".into(),
        Changed { .. } => "Changed".into(),
        NotAccepted { .. } => "NotAccepted".into(),
        Failed { .. } => "Failed".into(),
        FailedAndCovered { .. } => "FailedAndCovered".into(),
        Duplicate => "Duplicate".into(),
        NoLongerGranted { .. } => "NoLongerGranted".into(),
        Renewal { .. } => "Renewal".into(),
        LicenseUnused { .. } => "LicenseUnused".into(),
        Deferred { reason, .. } => format!("Deferred({})", reason_name(reason)),
        Recorded(_) => "Recorded".into(),
    }
}

/// The plan as a saved plan reads back: each reason and note as its words
/// (`Reason::Recorded`, `NoteDetail::Recorded`).
pub fn recorded(plan: &Plan) -> Plan {
    let mut plan = plan.clone();
    for a in &mut plan.actions {
        a.reason = plan::Reason::Recorded(plan::words::reason(&a.reason));
    }
    for n in &mut plan.notes {
        let message = plan::words::note(n);
        n.detail = plan::NoteDetail::Recorded {
            kind: n.kind(),
            message,
        };
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The small world reaches every decision the planner makes from live state. Two are not
    /// reachable from any input: `Reason::Recorded` / `NoteDetail::Recorded` come only from a
    /// saved plan, and `NoteDetail::UnknownStatus` needs a grant status outside AWS's enum,
    /// which the emulator (after the API reference) refuses in a seed.
    #[test]
    fn the_small_world_reaches_every_decision() {
        let got: Vec<String> = decisions(&world(Case::Mixed).plan).into_iter().collect();
        let want = [
            "accept NotAccepted",
            "activate StatusDiffers",
            "create Missing",
            "deactivate StatusDiffers",
            "delete Deferred(NoLongerGranted)",
            "delete Duplicate",
            "delete FailedAndCovered",
            "delete LicenseUnused",
            "delete NoLongerGranted",
            "delete Renewal",
            "note AwaitingAcceptance AwaitingAcceptance",
            "note Foreign Foreign",
            "note ForeignConflict ForeignConflict",
            "note InProgress DeletedOnceSettled",
            "note InProgress Deleting",
            "note InProgress Settling",
            "note KeepsOtherGrant KeepsOtherGrant",
            "note KeptForContinuity KeptForContinuity",
            "recreate Failed",
            "update Changed",
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn the_other_worlds_are_what_their_files_say() {
        let empty = &world(Case::Empty).plan;
        assert!(empty.is_empty() && empty.notes.is_empty());
        let g = &world(Case::Guardrails).plan;
        let layer = g.guardrails.as_ref().expect("guardrails are on");
        assert!(!layer.actions.is_empty() && !layer.effects.is_empty());
        let s = &world(Case::Subscriptions).plan;
        assert_eq!(s.subscriptions.len(), 1);
        assert_eq!(s.subscription_notes.len(), 2);
        let huge = &world(Case::Huge).plan;
        assert_eq!(huge.actions.len(), 5_000);
        assert_eq!(huge.notes.len(), 300);
    }
}
