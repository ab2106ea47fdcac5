//! Property tests of target resolution and the pure planner, on random organizations and live
//! grants drawn from small pools of ids so that principals, licenses and pairs collide.

use std::collections::{BTreeMap, BTreeSet};

use bedrock_entitlements::config::{
    AccountRef, Config, DesiredStatus, GrantTo, LicenseSelector, ModelKey, ModelSpec, OuRef,
    Settings,
};
use bedrock_entitlements::model::{
    AccountId, AccountState, FeatureSet, Grant, GrantArn, GrantStatus, License, LicenseArn, Live,
    OrgAccount, OrgUnit, Organization, OuId, ParentId, Principal, Span, Spanned,
};
use bedrock_entitlements::org::{
    self, Desired, DesiredModel, ResolveOptions, covered_accounts, grant_name,
};
use bedrock_entitlements::plan::{self, ActionKind, Plan};
use proptest::prelude::*;
use proptest::sample::Index;

const PREFIX: &str = "bedrock-entitlements";
const LICENSES: usize = 3;

fn license_arn(i: usize) -> LicenseArn {
    format!("arn:aws:license-manager::294406891311:license:l-{i:04}")
        .parse()
        .unwrap()
}

fn model_key(license: usize) -> ModelKey {
    ModelKey::parse(&format!("m{license}")).unwrap()
}

fn account_id(i: usize) -> AccountId {
    format!("{:012}", 100_000_000_000u64 + i as u64)
        .parse()
        .unwrap()
}

fn ou_id(i: usize) -> OuId {
    format!("ou-root-{i:08}").parse().unwrap()
}

fn operations() -> BTreeSet<String> {
    bedrock_entitlements::model::DEFAULT_OPERATIONS
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
}

/// The shape of a random organization: each OU hangs under the root or an earlier OU; each
/// account under any node. Account 0 is the management account.
#[derive(Debug, Clone)]
struct OrgShape {
    ou_parents: Vec<Index>,
    accounts: Vec<(Index, u8)>,
    caller: Index,
    all_features: bool,
}

fn org_shape() -> impl Strategy<Value = OrgShape> {
    (
        prop::collection::vec(any::<Index>(), 0..7),
        prop::collection::vec((any::<Index>(), 0u8..12), 1..11),
        any::<Index>(),
        prop::bool::weighted(0.85),
    )
        .prop_map(|(ou_parents, accounts, caller, all_features)| OrgShape {
            ou_parents,
            accounts,
            caller,
            all_features,
        })
}

fn build_org(shape: &OrgShape) -> (Organization, AccountId) {
    let root = ParentId::Root("r-root".parse().unwrap());
    let parent = |pick: &Index, ous: usize| -> ParentId {
        match pick.index(ous + 1) {
            0 => root.clone(),
            j => ParentId::Ou(ou_id(j - 1)),
        }
    };
    let mut ous = BTreeMap::new();
    for (i, pick) in shape.ou_parents.iter().enumerate() {
        let unit = OrgUnit {
            id: ou_id(i),
            name: format!("unit{i}"),
            parent: parent(pick, i),
        };
        ous.insert(unit.id.clone(), unit);
    }
    let mut accounts = BTreeMap::new();
    for (i, (pick, state)) in shape.accounts.iter().enumerate() {
        let state = match state {
            0 => AccountState::Suspended,
            1 => AccountState::Closed,
            2 => AccountState::PendingActivation,
            _ => AccountState::Active,
        };
        let account = OrgAccount {
            id: account_id(i),
            name: format!("acct{i}"),
            // The management and delegated-admin accounts are active.
            state: if i == 0 { AccountState::Active } else { state },
            parent: parent(pick, shape.ou_parents.len()),
        };
        accounts.insert(account.id.clone(), account);
    }
    let caller = account_id(shape.caller.index(shape.accounts.len()));
    if let Some(a) = accounts.get_mut(&caller) {
        a.state = AccountState::Active;
    }
    let org = Organization {
        id: "o-aaaaaaaaaa".parse().unwrap(),
        management_account: account_id(0),
        feature_set: if shape.all_features {
            FeatureSet::All
        } else {
            FeatureSet::ConsolidatedBilling
        },
        root: "r-root".parse().unwrap(),
        ous,
        accounts,
    };
    (org, caller)
}

fn licenses() -> Vec<License> {
    (0..LICENSES)
        .map(|i| License {
            arn: license_arn(i),
            name: format!("license {i}"),
            product_name: format!("Model {i}"),
            product_sku: format!("prod-{i}"),
            issuer: "AWS/Marketplace".to_owned(),
            status: "AVAILABLE".to_owned(),
            home_region: "us-east-1".to_owned(),
            received_operations: std::iter::once("CreateGrant")
                .chain(
                    bedrock_entitlements::model::DEFAULT_OPERATIONS
                        .iter()
                        .copied(),
                )
                .map(str::to_owned)
                .collect(),
            validity_begin: None,
            validity_end: None,
            beneficiary: None,
        })
        .collect()
}

/// Every principal a grant may name: the organization, each OU, each account and one account
/// outside the organization.
fn principal_pool(org: &Organization) -> Vec<Principal> {
    let management = org.management_account.clone();
    let mut pool = vec![Principal::Organization {
        management: management.clone(),
        org: org.id.clone(),
    }];
    pool.extend(org.ous.keys().map(|ou| Principal::Ou {
        management: management.clone(),
        org: org.id.clone(),
        ou: ou.clone(),
    }));
    pool.extend(org.accounts.keys().cloned().map(Principal::Account));
    pool.push(Principal::Account("999999999999".parse().unwrap()));
    pool
}

const STATUSES: [&str; 10] = [
    "PENDING_WORKFLOW",
    "PENDING_ACCEPT",
    "REJECTED",
    "ACTIVE",
    "FAILED_WORKFLOW",
    "DELETED",
    "PENDING_DELETE",
    "DISABLED",
    "WORKFLOW_COMPLETED",
    "SOMETHING_NEW",
];

/// One random live grant: license, principal, ownership (0 managed with the expected name,
/// 1 managed with another name, 2 foreign), status, whether its operations are the default
/// ones, its version, and whether the principal is drawn from the desired ones of its license
/// (so that live and desired pairs meet often).
type GrantSeed = (usize, Index, u8, usize, bool, u8, bool);

#[derive(Debug, Clone)]
struct Scenario {
    desired: Desired,
    live: Live,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    let model = (
        0..LICENSES,
        prop::collection::vec(any::<Index>(), 0..6),
        any::<bool>(),
    );
    let grant = (
        0..LICENSES,
        any::<Index>(),
        0u8..3,
        0..STATUSES.len(),
        prop::bool::weighted(0.8),
        1u8..6,
        any::<bool>(),
    );
    (
        org_shape(),
        prop::collection::vec(model, 0..3),
        prop::collection::vec(grant, 0..14),
        any::<bool>(),
        prop::bool::weighted(0.2),
    )
        .prop_map(|(shape, models, grants, role, targeted_only)| {
            build_scenario(&shape, &models, &grants, role, targeted_only)
        })
}

fn build_scenario(
    shape: &OrgShape,
    models: &[(usize, Vec<Index>, bool)],
    grants: &[GrantSeed],
    role: bool,
    targeted_only: bool,
) -> Scenario {
    let (org, caller) = build_org(shape);
    let pool = principal_pool(&org);
    let mut desired_models = BTreeMap::new();
    for (license, picks, active) in models {
        let key = model_key(*license);
        if desired_models.contains_key(&key) {
            continue; // one model per license
        }
        let model = DesiredModel {
            key: key.clone(),
            license: license_arn(*license),
            principals: picks.iter().map(|p| p.get(&pool).clone()).collect(),
            status: if *active {
                DesiredStatus::Active
            } else {
                DesiredStatus::Disabled
            },
            excluded: BTreeSet::new(),
            others: Vec::new(),
        };
        desired_models.insert(key, model);
    }
    let mut live_grants = Vec::new();
    for (i, (license, who, ownership, status, default_ops, version, reuse)) in
        grants.iter().enumerate()
    {
        let wanted: Vec<&Principal> = desired_models
            .get(&model_key(*license))
            .map(|m| m.principals.iter().collect())
            .unwrap_or_default();
        let principal = if *reuse && !wanted.is_empty() {
            (*who.get(&wanted)).clone()
        } else {
            who.get(&pool).clone()
        };
        let name = match ownership {
            0 => grant_name(PREFIX, &model_key(*license), &principal),
            1 => format!("{PREFIX}-stale-{i}"),
            _ => format!("console-grant-{i}"),
        };
        let mut ops = operations();
        if !default_ops {
            ops.insert("CreateGrant".to_owned());
        }
        live_grants.push(Grant {
            arn: format!("arn:aws:license-manager::{caller}:grant:g-{i:04}")
                .parse()
                .unwrap(),
            name,
            license_arn: license_arn(*license),
            principal,
            status: GrantStatus::parse(STATUSES[*status]),
            status_reason: None,
            version: version.to_string(),
            operations: ops,
            parent_arn: String::new(),
            home_region: "us-east-1".to_owned(),
        });
    }
    let desired = Desired {
        models: desired_models,
        grant_name_prefix: PREFIX.to_owned(),
        operations: operations(),
        recipient_role: role.then(|| "EntitlementsAcceptor".to_owned()),
        home_region: "us-east-1".to_owned(),
        activation_override: None,
        expiry_warning_days: 30,
        targeted_only,
        warnings: Vec::new(),
        guardrails: Default::default(),
    };
    let live = Live {
        organization: org,
        caller,
        licenses: licenses(),
        grants: live_grants,
        shares: Vec::new(),
        read_at: 0,
        guardrails: None,
    };
    Scenario { desired, live }
}

fn is_foreign(grant: &Grant) -> bool {
    !grant.name.starts_with(PREFIX)
}

/// A plan with only its first `n` actions, as left by an apply that stopped there.
fn prefix(plan: &Plan, n: usize) -> Plan {
    Plan {
        actions: plan.actions[..n].to_vec(),
        ..plan.clone()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn planning_is_deterministic(s in scenario()) {
        let first = plan::plan(&s.desired, &s.live);
        prop_assert_eq!(&first, &plan::plan(&s.desired, &s.live));
        // The order in which live grants were read changes nothing.
        let mut reversed = s.live.clone();
        reversed.grants.reverse();
        prop_assert_eq!(&first, &plan::plan(&s.desired, &reversed));
        prop_assert_eq!(plan::simulate(&s.live, &first), plan::simulate(&s.live, &first));
    }

    #[test]
    fn planning_on_the_simulated_result_is_empty(s in scenario()) {
        let first = plan::plan(&s.desired, &s.live);
        let after = plan::simulate(&s.live, &first);
        let second = plan::plan(&s.desired, &after);
        prop_assert!(second.actions.is_empty(), "second plan: {:#?}", second.actions);
        // And the access the first plan announced is the access there now is.
        let after_access: BTreeMap<_, _> = second.access.iter().map(|(k, v)| (k.clone(), v.before.clone())).collect();
        let announced: BTreeMap<_, _> = first.access.iter().map(|(k, v)| (k.clone(), v.after.clone())).collect();
        prop_assert_eq!(announced, after_access);
    }

    #[test]
    fn foreign_grants_are_never_acted_on(s in scenario()) {
        let p = plan::plan(&s.desired, &s.live);
        let foreign: BTreeMap<&GrantArn, &Grant> = s.live.grants.iter().filter(|g| is_foreign(g)).map(|g| (&g.arn, g)).collect();
        for action in &p.actions {
            if let Some(arn) = action.grant_arn() {
                prop_assert!(!foreign.contains_key(arn), "action on foreign grant: {:?}", action);
            }
            if matches!(action.kind(), ActionKind::Create | ActionKind::Recreate) {
                let blocked = foreign.values().any(|g| {
                    g.license_arn == action.license_arn
                        && g.principal == action.principal
                        && !g.status.is_terminal()
                        && g.status != GrantStatus::FailedWorkflow
                });
                prop_assert!(!blocked, "duplicate of a foreign grant: {:?}", action);
            }
        }
        let after = plan::simulate(&s.live, &p);
        for grant in foreign.values() {
            prop_assert!(after.grants.contains(grant), "foreign grant changed: {:?}", grant);
        }
    }

    #[test]
    fn every_token_digests_the_action_and_its_pair_history(s in scenario()) {
        let p = plan::plan(&s.desired, &s.live);
        let mut seen = std::collections::BTreeSet::new();
        for action in &p.actions {
            prop_assert_eq!(&action.client_token, &plan::client_token(action, &s.live));
            prop_assert!(seen.insert(action.client_token.clone()), "two actions share a token: {:?}", action);
        }
    }

    #[test]
    fn applying_any_prefix_then_replanning_leaves_exactly_the_rest(s in scenario()) {
        let full = plan::plan(&s.desired, &s.live);
        // Client tokens digest the pair's live history, and reasons describe the pair's state,
        // both of which the prefix may have moved; what each action does must be exactly the rest.
        let without_tokens = |actions: &[plan::Action]| -> Vec<plan::Action> {
            // Covers name the grant a create of the prefix made, once it exists, and an override
            // weighs the grants the prefix activated next to the pair's; a swap in the prefix
            // (ALL_GRANTS_PERMITTED_BY_ISSUER) disables the grants it replaces, moving their version.
            actions.iter().cloned().map(|mut a| {
                if let plan::ActionBody::Delete { grant, .. } = &mut a.body {
                    grant.version.clear();
                }
                a.client_token.clear();
                a.reason = plan::Reason::Recorded(String::new());
                a.waits_for.clear();
                a.activation_override = None;
                a
            }).collect()
        };
        for n in 0..=full.actions.len() {
            let resumed = plan::plan(&s.desired, &plan::simulate(&s.live, &prefix(&full, n)));
            prop_assert_eq!(without_tokens(&resumed.actions), without_tokens(&full.actions[n..]), "after {} actions", n);
        }
    }

    #[test]
    fn converged_pairs_hold_at_most_one_settled_managed_grant(s in scenario()) {
        let after = plan::simulate(&s.live, &plan::plan(&s.desired, &s.live));
        let scope = plan::scope(&s.desired, &s.live);
        let mut per_pair: BTreeMap<(&LicenseArn, &Principal), usize> = BTreeMap::new();
        for g in &after.grants {
            let settled = matches!(
                g.status,
                GrantStatus::Active | GrantStatus::WorkflowCompleted | GrantStatus::Disabled
                    | GrantStatus::PendingAccept | GrantStatus::FailedWorkflow
            );
            if settled && !is_foreign(g) && scope.contains(&g.license_arn) {
                *per_pair.entry((&g.license_arn, &g.principal)).or_default() += 1;
            }
        }
        for (pair, count) in per_pair {
            prop_assert!(count <= 1, "{} managed grants on {:?}", count, pair);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Minimal cover, through `org::resolve` on random organization trees.

#[derive(Debug, Clone)]
struct CoverCase {
    live: Live,
    config: Config,
}

fn cover_case() -> impl Strategy<Value = CoverCase> {
    (
        org_shape(),
        any::<bool>(),
        prop::collection::vec((any::<Index>(), any::<bool>()), 0..4),
        prop::collection::vec((any::<Index>(), any::<bool>()), 0..4),
        prop::collection::vec((any::<Index>(), any::<bool>()), 0..5),
    )
        .prop_map(|(shape, organization, ous, accounts, except)| {
            build_cover_case(&shape, organization, &ous, &accounts, &except)
        })
}

fn build_cover_case(
    shape: &OrgShape,
    organization: bool,
    ous: &[(Index, bool)],
    accounts: &[(Index, bool)],
    except: &[(Index, bool)],
) -> CoverCase {
    let (org, caller) = build_org(shape);
    let at = Span::default();
    let account_ref = |id: &AccountId, by_name: bool| {
        if by_name {
            AccountRef::Name(org.accounts[id].name.clone())
        } else {
            AccountRef::Id(id.clone())
        }
    };
    let all_accounts: Vec<&OrgAccount> = org.accounts.values().collect();
    let excluded: Vec<&AccountId> = except
        .iter()
        .map(|(i, _)| &i.get(&all_accounts).id)
        .collect();
    let mut grant_to = GrantTo {
        organization: organization.then_some(at),
        ..GrantTo::default()
    };
    let ou_ids: Vec<&OuId> = org.ous.keys().collect();
    if !ou_ids.is_empty() {
        for (pick, by_path) in ous {
            let id = *pick.get(&ou_ids);
            let ou = if *by_path {
                OuRef::Path(path(&org, id))
            } else {
                OuRef::Id(id.clone())
            };
            grant_to.organizational_units.push(Spanned::new(ou, at));
        }
    }
    // Explicit accounts: grantable ones that are not excluded (the others are errors, tested
    // in the unit tests).
    let grantable: Vec<&OrgAccount> = all_accounts
        .iter()
        .copied()
        .filter(|a| {
            !matches!(
                a.state,
                AccountState::Suspended | AccountState::Closed | AccountState::PendingClosure
            ) && !excluded.contains(&&a.id)
        })
        .collect();
    if !grantable.is_empty() {
        for (pick, by_name) in accounts {
            let id = &pick.get(&grantable).id;
            grant_to
                .accounts
                .push(Spanned::new(account_ref(id, *by_name), at));
        }
    }
    let except_accounts = except
        .iter()
        .map(|(pick, by_name)| Spanned::new(account_ref(&pick.get(&all_accounts).id, *by_name), at))
        .collect();
    let spec = ModelSpec {
        key: Spanned::new(model_key(0), at),
        license: Spanned::new(LicenseSelector::ProductSku("prod-0".to_owned()), at),
        grant_to,
        except_accounts,
        status: DesiredStatus::Active,
        bedrock_model_ids: Vec::new(),
        marketplace_product_id: None,
        subscribe: None,
    };
    let live = Live {
        organization: org,
        caller,
        licenses: licenses(),
        grants: Vec::new(),
        shares: Vec::new(),
        read_at: 0,
        guardrails: None,
    };
    let config = Config {
        version: 1,
        settings: Settings::default(),
        models: vec![spec],
    };
    CoverCase { live, config }
}

fn path(org: &Organization, ou: &OuId) -> String {
    let mut names = Vec::new();
    let mut current = Some(ou.clone());
    while let Some(id) = current {
        let unit = &org.ous[&id];
        names.push(unit.name.clone());
        current = match &unit.parent {
            ParentId::Ou(p) => Some(p.clone()),
            ParentId::Root(_) => None,
        };
    }
    names.push("Root".to_owned());
    names.reverse();
    names.join("/")
}

/// The principal of the node an OU or account hangs under.
fn parent_principal(org: &Organization, parent: &ParentId) -> Principal {
    match parent {
        ParentId::Root(_) => Principal::Organization {
            management: org.management_account.clone(),
            org: org.id.clone(),
        },
        ParentId::Ou(ou) => Principal::Ou {
            management: org.management_account.clone(),
            org: org.id.clone(),
            ou: ou.clone(),
        },
    }
}

/// `node` and every node above it, up to the organization.
fn ancestors(org: &Organization, node: &Principal) -> Vec<Principal> {
    let mut chain = vec![node.clone()];
    let mut current = node.clone();
    while let Principal::Ou { ou, .. } = &current {
        current = parent_principal(org, &org.ous[ou].parent);
        chain.push(current.clone());
    }
    chain
}

fn grantable(org: &Organization, account: &AccountId) -> bool {
    org.accounts.get(account).is_some_and(|a| {
        !matches!(
            a.state,
            AccountState::Suspended | AccountState::Closed | AccountState::PendingClosure
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn minimal_cover_is_exact(case in cover_case()) {
        let desired = org::resolve(&case.config, &case.live, &ResolveOptions::default());
        let desired = match desired {
            Ok(d) => d,
            Err(diags) => return Err(TestCaseError::fail(format!("unexpected errors: {diags:#?}"))),
        };
        let org = &case.live.organization;
        let caller = &case.live.caller;
        let spec = &case.config.models[0];
        let principals = &desired.models[&spec.key.value].principals;
        let resolve_account = |r: &AccountRef| match r {
            AccountRef::Id(id) => id.clone(),
            AccountRef::Name(n) => org.accounts.values().find(|a| &a.name == n).unwrap().id.clone(),
        };

        // What the file asks for, computed independently of the resolver.
        let mut target_nodes: Vec<Principal> = Vec::new();
        if spec.grant_to.organization.is_some() {
            target_nodes.push(parent_principal(org, &ParentId::Root("r-root".parse().unwrap())));
        }
        for ou in &spec.grant_to.organizational_units {
            let id = match &ou.value {
                OuRef::Id(id) => id.clone(),
                OuRef::Path(p) => org.ous.keys().find(|id| &path(org, id) == p).unwrap().clone(),
            };
            target_nodes.push(parent_principal(org, &ParentId::Ou(id)));
        }
        let under_targets: BTreeSet<AccountId> =
            target_nodes.iter().flat_map(|p| covered_accounts(org, p)).collect();
        let explicit: BTreeSet<AccountId> =
            spec.grant_to.accounts.iter().map(|a| resolve_account(&a.value)).collect();
        let excluded: BTreeSet<AccountId> = spec
            .except_accounts
            .iter()
            .map(|a| resolve_account(&a.value))
            .filter(|a| a != caller)
            .collect();
        let wanted: BTreeSet<AccountId> = under_targets
            .iter()
            .chain(&explicit)
            .filter(|a| !excluded.contains(*a) && *a != caller && grantable(org, a))
            .cloned()
            .collect();

        let mut times: BTreeMap<AccountId, usize> = BTreeMap::new();
        for p in principals {
            for a in covered_accounts(org, p) {
                *times.entry(a).or_default() += 1;
            }
        }
        for a in &wanted {
            prop_assert_eq!(times.get(a).copied(), Some(1), "account {} covered {:?} times", a, times.get(a));
        }
        for a in &excluded {
            prop_assert!(!times.contains_key(a), "excluded account {} covered", a);
        }
        prop_assert!(!principals.contains(&Principal::Account(caller.clone())), "grantor has a grant");

        // Minimal along the exclusion paths: every organization or OU principal is a target or
        // the child of a node holding an excluded account; every account principal is explicit
        // (and not under a target) or the direct child of such a node.
        let holds_excluded = |p: &Principal| !covered_accounts(org, p).is_disjoint(&excluded);
        for p in principals {
            prop_assert!(!holds_excluded(p), "principal {} covers an excluded account", p);
            let parent = match p {
                Principal::Organization { .. } => None,
                Principal::Ou { ou, .. } => Some(parent_principal(org, &org.ous[ou].parent)),
                Principal::Account(a) => Some(parent_principal(org, &org.accounts[a].parent)),
            };
            let is_target = target_nodes.contains(p);
            let from_expansion = parent.as_ref().is_some_and(|parent| {
                holds_excluded(parent)
                    && ancestors(org, parent).iter().any(|a| target_nodes.contains(a))
            });
            let explicit_only = matches!(p, Principal::Account(a) if explicit.contains(a) && !under_targets.contains(a));
            match org.feature_set {
                FeatureSet::All => prop_assert!(
                    is_target || from_expansion || explicit_only,
                    "principal {} is neither a target, nor needed by an exclusion, nor explicit", p
                ),
                FeatureSet::ConsolidatedBilling => prop_assert!(
                    matches!(p, Principal::Account(_)),
                    "consolidated billing allows only account principals, not {}", p
                ),
            }
        }
    }
}
