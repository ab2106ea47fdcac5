//! The layout judged by the emulator's SCP evaluator (`emulator::evaluate_levels`), which shares
//! no code with it.

use crate::model::{OuId, RootId};
use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::*;
use crate::emulator::{Decision, ScpDocument, evaluate_levels};
use crate::model::{FeatureSet, OrgAccount, OrgId, OrgUnit, ParentId};

const FULL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

fn acct(n: usize) -> AccountId {
    format!("{:012}", 100_000_000_000 + n).parse().unwrap()
}

fn ou(n: usize) -> OuId {
    format!("ou-ab12-{n:08}").parse().unwrap()
}

fn root() -> RootId {
    "r-ab12".parse().unwrap()
}

/// An organization: `ous[i]` is the parent of OU i (None: the root, Some(j): OU j < i);
/// `accounts[i]` the parent of account i and whether it is active. Account 0 is the management
/// account.
fn org(ous: &[Option<usize>], accounts: &[(Option<usize>, bool)]) -> Organization {
    let parent = |p: Option<usize>| match p {
        None => ParentId::Root(root()),
        Some(j) => ParentId::Ou(ou(j)),
    };
    Organization {
        id: "o-exampleorg1".parse::<OrgId>().unwrap(),
        management_account: acct(0),
        feature_set: FeatureSet::All,
        root: root(),
        ous: ous
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let unit = OrgUnit {
                    id: ou(i),
                    name: format!("ou{i}"),
                    parent: parent(*p),
                };
                (ou(i), unit)
            })
            .collect(),
        accounts: accounts
            .iter()
            .enumerate()
            .map(|(i, (p, active))| {
                let a = OrgAccount {
                    id: acct(i),
                    name: format!("a{i}"),
                    state: if *active {
                        AccountState::Active
                    } else {
                        AccountState::Suspended
                    },
                    parent: parent(*p),
                };
                (acct(i), a)
            })
            .collect(),
    }
}

fn model(key: &str, ids: &[&str], entitled: &[usize]) -> ModelGuard {
    ModelGuard {
        key: key.to_owned(),
        model_ids: ids.iter().map(|s| (*s).to_owned()).collect(),
        entitled: entitled.iter().map(|i| acct(*i)).collect(),
        marketplace_product_id: Some(format!("prod-{key}")),
    }
}

fn input(org: &Organization, models: Vec<ModelGuard>) -> LayoutInput<'_> {
    LayoutInput {
        organization: org,
        grantor: acct(0),
        policy_name_prefix: "bedrock-guard".to_owned(),
        models,
        deny_marketplace_subscribe: false,
        foreign_attachments: BTreeMap::new(),
        foreign_policies: 1,
    }
}

fn targets(l: &Layout, name: &str) -> Vec<String> {
    let p = l.policies.iter().find(|p| p.name == name).expect(name);
    p.targets.iter().map(|t| t.id().to_owned()).collect()
}

/// The path of an account from the root down.
fn path(org: &Organization, a: &AccountId) -> Vec<Target> {
    let mut chain = vec![Target::Account(a.clone())];
    let mut cur = org.accounts[a].parent.clone();
    while let ParentId::Ou(o) = cur {
        chain.push(Target::Ou(o.clone()));
        cur = org.ous[&o].parent.clone();
    }
    chain.push(Target::Root(org.root.clone()));
    chain.reverse();
    chain
}

/// What the emulator's evaluator says about `resource` for `a` under `l` (foreign SCPs are
/// allow-all documents, as FullAWSAccess is); `docs` holds each policy parsed once.
fn decide(
    inp: &LayoutInput<'_>,
    l: &Layout,
    docs: &BTreeMap<String, ScpDocument>,
    a: &AccountId,
    resource: &str,
) -> Decision {
    let full = ScpDocument::from_json(FULL).unwrap();
    let levels: Vec<Vec<ScpDocument>> = path(inp.organization, a)
        .iter()
        .map(|t| {
            let mut level: Vec<ScpDocument> =
                (0..inp.foreign_at(t)).map(|_| full.clone()).collect();
            level.extend(
                l.policies
                    .iter()
                    .filter(|p| p.targets.contains(t))
                    .map(|p| docs[&p.name].clone()),
            );
            level
        })
        .collect();
    evaluate_levels(&levels, "bedrock:InvokeModel", resource)
}

fn parsed(l: &Layout) -> BTreeMap<String, ScpDocument> {
    l.policies
        .iter()
        .map(|p| (p.name.clone(), ScpDocument::from_json(&p.document).unwrap()))
        .collect()
}

/// A concrete model id matching a pattern.
fn concrete(pattern: &str) -> String {
    pattern.replace('*', "x1").replace('?', "y")
}

/// Every AWS quota holds, and every active member account is denied each model exactly when it
/// is not entitled to it, through the foundation model and the inference profile alike.
fn assert_sound(inp: &LayoutInput<'_>, l: &Layout) {
    assert_sound_sampled(inp, l, 1);
}

/// [`assert_sound`] on every `stride`-th account.
fn assert_sound_sampled(inp: &LayoutInput<'_>, l: &Layout, stride: usize) {
    let mut per_target: BTreeMap<&Target, u32> = BTreeMap::new();
    for p in &l.policies {
        assert!(p.document.chars().count() <= SCP_MAX_CHARS, "{}", p.name);
        assert!(p.name.chars().count() <= POLICY_NAME_MAX);
        assert!(p.description.chars().count() <= POLICY_DESCRIPTION_MAX);
        assert!(!p.targets.is_empty(), "{} attached nowhere", p.name);
        for t in &p.targets {
            *per_target.entry(t).or_default() += 1;
        }
    }
    for (t, n) in per_target {
        assert!(n + inp.foreign_at(t) <= SCPS_PER_TARGET, "{t} holds {n}");
    }
    let org = inp.organization;
    let docs = parsed(l);
    for m in &inp.models {
        for a in org.accounts.values().step_by(stride) {
            if a.id == org.management_account || a.state != AccountState::Active {
                continue;
            }
            let entitled = m.entitled.contains(&a.id) || a.id == inp.grantor;
            let expect = if entitled {
                Decision::Allow
            } else {
                Decision::Deny
            };
            for id in &m.model_ids {
                let c = concrete(id);
                let fm = format!("arn:aws:bedrock:eu-west-1::foundation-model/{c}");
                let ip = format!(
                    "arn:aws:bedrock:us-east-1:{}:inference-profile/us.{c}",
                    a.id
                );
                assert_eq!(decide(inp, l, &docs, &a.id, &fm), expect, "{} {fm}", a.id);
                assert_eq!(decide(inp, l, &docs, &a.id, &ip), expect, "{} {ip}", a.id);
            }
            assert_eq!(l.denied[&m.key].contains(&a.id), !entitled);
        }
    }
}

#[test]
fn an_ou_whose_accounts_are_all_denied_gets_one_attachment() {
    // OU 0 (accounts 1, 2), OU 1 under OU 0 (account 3), OU 2 (accounts 4, 5).
    let o = org(
        &[None, Some(0), None],
        &[
            (None, true),
            (Some(0), true),
            (Some(0), true),
            (Some(1), true),
            (Some(2), true),
            (Some(2), true),
        ],
    );
    let inp = input(
        &o,
        vec![model("claude", &["anthropic.claude-sonnet-4-5-*"], &[4])],
    );
    let l = layout(&inp).unwrap();
    assert_eq!(l.policies.len(), 1);
    // OU 0 is denied whole; OU 2 holds entitled account 4, so only account 5.
    assert_eq!(
        targets(&l, "bedrock-guard-claude"),
        [ou(0).to_string(), acct(5).to_string()]
    );
    assert_sound(&inp, &l);
}

#[test]
fn the_management_account_is_neither_denied_nor_protected() {
    let o = org(&[None], &[(None, true), (Some(0), true), (None, true)]);
    let inp = input(&o, vec![model("claude", &["anthropic.claude-*"], &[])]);
    let l = layout(&inp).unwrap();
    assert_eq!(targets(&l, "bedrock-guard-claude"), [root().to_string()]);
    assert!(!l.denied["claude"].contains(&acct(0)));
    assert_sound(&inp, &l);
    // A grantor that is a member account is protected: the root is no longer clean.
    let mut inp = input(&o, vec![model("claude", &["anthropic.claude-*"], &[])]);
    inp.grantor = acct(2);
    let l = layout(&inp).unwrap();
    assert_eq!(targets(&l, "bedrock-guard-claude"), [ou(0).to_string()]);
    assert_sound(&inp, &l);
}

#[test]
fn suspended_accounts_are_not_denied_on_their_own() {
    let o = org(
        &[None],
        &[
            (None, true),
            (None, false),
            (Some(0), true),
            (Some(0), false),
        ],
    );
    let inp = input(&o, vec![model("claude", &["anthropic.claude-*"], &[2])]);
    let l = layout(&inp).unwrap();
    assert!(l.policies.is_empty(), "{:?}", l.policies);
    assert!(l.denied["claude"].is_empty());
}

#[test]
fn everyone_entitled_needs_no_policy() {
    let o = org(&[None], &[(None, true), (Some(0), true)]);
    let inp = input(&o, vec![model("claude", &["anthropic.claude-*"], &[1])]);
    assert!(layout(&inp).unwrap().policies.is_empty());
}

#[test]
fn the_document_is_the_aws_example_shape() {
    let o = org(&[], &[(None, true), (None, true)]);
    let mut inp = input(
        &o,
        vec![model("claude", &["anthropic.claude-sonnet-4-5-*"], &[])],
    );
    inp.deny_marketplace_subscribe = true;
    let l = layout(&inp).unwrap();
    assert_eq!(
        l.policies[0].document,
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyBedrockModels","Effect":"Deny","Action":"bedrock:*","Resource":["arn:aws:bedrock:*::foundation-model/anthropic.claude-sonnet-4-5-*","arn:aws:bedrock:*:*:inference-profile/*.anthropic.claude-sonnet-4-5-*"]},{"Sid":"DenyMarketplaceSubscribe","Effect":"Deny","Action":"aws-marketplace:Subscribe","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws-marketplace:ProductId":["prod-claude"]}}}]}"#
    );
    assert_eq!(
        l.policies[0].description,
        "bedrock-entitlements guardrail: denies Bedrock model claude to accounts not entitled to it"
    );
    // The Subscribe deny is conditional: the evaluator cannot decide it statically.
    let sub = decide(&inp, &l, &parsed(&l), &acct(1), "*");
    assert_eq!(sub, Decision::Allow, "InvokeModel on * is not a model ARN");
    assert_sound(&inp, &l);
}

#[test]
fn a_policy_past_5120_characters_is_split_into_parts() {
    let ids: Vec<String> = (0..60)
        .map(|i| format!("vendor.model-with-a-rather-long-name-{i:03}-v1:0"))
        .collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let o = org(&[], &[(None, true), (None, true), (None, true)]);
    let inp = input(&o, vec![model("big", &ids, &[2])]);
    let l = layout(&inp).unwrap();
    let names: Vec<&str> = l.policies.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "bedrock-guard-big",
            "bedrock-guard-big-part2",
            "bedrock-guard-big-part3"
        ]
    );
    assert!(l.policies.iter().all(|p| p.parts == 3));
    // First-fit: the first parts are nearly full.
    assert!(l.policies[0].document.len() > SCP_MAX_CHARS - 200);
    assert_sound(&inp, &l);
}

#[test]
fn a_full_target_shares_one_policy_among_the_models_denied_there() {
    let o = org(&[None], &[(None, true), (Some(0), true), (Some(0), true)]);
    let keys = ["m1", "m2", "m3", "m4", "m5", "m6"];
    let models: Vec<ModelGuard> = keys
        .iter()
        .map(|k| model(k, &[&format!("vendor.{k}-*")], &[2]))
        .collect();
    let inp = input(&o, models);
    let l = layout(&inp).unwrap();
    // Six models denied at account 1: 6 + FullAWSAccess > 5, so one shared policy.
    assert_eq!(l.policies.len(), 1);
    assert_eq!(
        l.policies[0].kind,
        PolicyKind::Set(keys.iter().map(|k| (*k).to_owned()).collect())
    );
    assert!(l.policies[0].name.starts_with("bedrock-guard-set-"));
    assert_eq!(targets(&l, &l.policies[0].name), [acct(1).to_string()]);
    assert_sound(&inp, &l);
    // Four fit one per model.
    let inp4 = input(&o, inp.models[..4].to_vec());
    let l4 = layout(&inp4).unwrap();
    assert_eq!(l4.policies.len(), 4);
    assert_sound(&inp4, &l4);
}

#[test]
fn an_ou_that_cannot_hold_more_passes_its_attachments_down() {
    // OU 0 holds OU 1 (account 2) and account 1; OU 0 already holds 5 SCPs.
    let o = org(
        &[None, Some(0)],
        &[(None, true), (Some(0), true), (Some(1), true)],
    );
    let mut inp = input(&o, vec![model("claude", &["anthropic.claude-*"], &[])]);
    inp.grantor = acct(0);
    inp.foreign_attachments.insert(Target::Root(root()), 5);
    inp.foreign_attachments.insert(Target::Ou(ou(0)), 5);
    let l = layout(&inp).unwrap();
    assert_eq!(
        targets(&l, "bedrock-guard-claude"),
        [ou(1).to_string(), acct(1).to_string()]
    );
    assert_sound(&inp, &l);
    // An account that cannot hold it either: a typed error naming it.
    inp.foreign_attachments.insert(Target::Account(acct(1)), 5);
    assert_eq!(
        layout(&inp),
        Err(LayoutError::TargetFull {
            target: Target::Account(acct(1)),
            needed: 1,
            foreign: 5
        })
    );
}

#[test]
fn too_many_policies_for_the_organization_is_an_error() {
    let o = org(&[], &[(None, true), (None, true)]);
    let mut inp = input(&o, vec![model("claude", &["anthropic.claude-*"], &[])]);
    inp.foreign_policies = SCPS_PER_ORGANIZATION;
    assert_eq!(
        layout(&inp),
        Err(LayoutError::TooManyPolicies {
            needed: 1,
            foreign: SCPS_PER_ORGANIZATION
        })
    );
}

#[test]
fn bad_models_are_typed_errors() {
    let o = org(&[], &[(None, true)]);
    let check = |models: Vec<ModelGuard>, expect: LayoutError| {
        assert_eq!(layout(&input(&o, models)), Err(expect));
    };
    check(
        vec![model("a", &["x"], &[]), model("a", &["y"], &[])],
        LayoutError::DuplicateModel { model: "a".into() },
    );
    check(
        vec![model("a", &[], &[])],
        LayoutError::NoModelIds { model: "a".into() },
    );
    check(
        vec![model("a", &["anthropic claude"], &[])],
        LayoutError::InvalidModelId {
            model: "a".into(),
            id: "anthropic claude".into(),
        },
    );
    let long = "m".repeat(130);
    let o2 = org(&[], &[(None, true), (None, true)]);
    assert_eq!(
        layout(&input(&o2, vec![model(&long, &["x"], &[])])),
        Err(LayoutError::NameTooLong {
            name: format!("bedrock-guard-{long}")
        })
    );
}

#[test]
fn the_layout_is_deterministic() {
    let o = org(
        &[None, Some(0)],
        &[(None, true), (Some(0), true), (Some(1), true), (None, true)],
    );
    let models = vec![
        model("b", &["vendor.b-*"], &[1]),
        model("a", &["vendor.a-*", "vendor.a2-*"], &[3]),
    ];
    let inp = input(&o, models.clone());
    let mut reversed = models;
    reversed.reverse();
    let inp2 = input(&o, reversed);
    assert_eq!(layout(&inp).unwrap(), layout(&inp2).unwrap());
}

#[test]
fn two_thousand_accounts_and_twenty_models_fit_aws_quotas() {
    // 50 OUs (10 top-level, 40 under them), 2,000 accounts spread over them.
    let ous: Vec<Option<usize>> = (0..50).map(|i| (i >= 10).then_some(i % 10)).collect();
    let accounts: Vec<(Option<usize>, bool)> = (0..2_000)
        .map(|i| ((i > 0).then_some(i % 50), i % 97 != 5))
        .collect();
    let o = org(&ous, &accounts);
    let mut seed = 7u64;
    let mut next = move || {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        seed >> 33
    };
    let models: Vec<ModelGuard> = (0..20)
        .map(|m| {
            // Some models go to whole OUs, others to scattered accounts.
            let entitled: Vec<usize> = (0..2_000)
                .filter(|i| match m % 3 {
                    0 => (i % 50) % 7 == m % 7,
                    1 => next() % 5 == 0,
                    _ => false,
                })
                .collect();
            model(
                &format!("model-{m:02}"),
                &[
                    &format!("vendor{m}.model-*"),
                    &format!("vendor{m}.other-v?:0"),
                ],
                &entitled,
            )
        })
        .collect();
    let mut inp = input(&o, models);
    inp.deny_marketplace_subscribe = true;
    let l = layout(&inp).unwrap();
    assert_sound_sampled(&inp, &l, 41);
    assert!(l.policies.len() + inp.foreign_policies <= SCPS_PER_ORGANIZATION);
}

/// A random organization: OU parents, account parents and states, models' entitled sets, and
/// foreign SCPs per target.
#[derive(Debug, Clone)]
struct Case {
    ous: Vec<Option<usize>>,
    accounts: Vec<(Option<usize>, bool)>,
    models: Vec<(usize, Vec<usize>)>,
    foreign: Vec<(usize, u32)>,
    grantor: usize,
    deny_subscribe: bool,
}

fn case() -> impl Strategy<Value = Case> {
    (0usize..7, 1usize..25, 1usize..7).prop_flat_map(|(n_ous, n_acc, n_models)| {
        let ous = (0..n_ous)
            .map(|i| {
                if i == 0 {
                    Just(None).boxed()
                } else {
                    proptest::option::of(0..i).boxed()
                }
            })
            .collect::<Vec<_>>();
        let parent = move || {
            proptest::option::of(0..n_ous.max(1)).prop_map(move |p| p.filter(|_| n_ous > 0))
        };
        let accounts = proptest::collection::vec((parent(), proptest::bool::weighted(0.85)), n_acc);
        let models = proptest::collection::vec(
            (1usize..4, proptest::collection::vec(0..n_acc, 0..n_acc)),
            n_models,
        );
        let n_targets = 1 + n_ous + n_acc;
        let foreign = proptest::collection::vec((0..n_targets, 1u32..4), 0..6);
        (ous, accounts, models, foreign, 0..n_acc, any::<bool>()).prop_map(
            |(ous, accounts, models, foreign, grantor, deny_subscribe)| Case {
                ous,
                accounts,
                models,
                foreign,
                grantor,
                deny_subscribe,
            },
        )
    })
}

fn target_of(n_ous: usize, i: usize) -> Target {
    match i {
        0 => Target::Root(root()),
        i if i <= n_ous => Target::Ou(ou(i - 1)),
        i => Target::Account(acct(i - 1 - n_ous)),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn the_layout_denies_exactly_the_accounts_not_entitled(c in case()) {
        let o = org(&c.ous, &c.accounts);
        let models: Vec<ModelGuard> = c
            .models
            .iter()
            .enumerate()
            .map(|(i, (n_ids, entitled))| {
                let ids: Vec<String> = (0..*n_ids).map(|j| format!("vendor{i}.model{j}-*")).collect();
                let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
                model(&format!("m{i}"), &ids, entitled)
            })
            .collect();
        let mut inp = input(&o, models);
        inp.grantor = acct(c.grantor);
        inp.deny_marketplace_subscribe = c.deny_subscribe;
        for (t, n) in &c.foreign {
            inp.foreign_attachments.insert(target_of(c.ous.len(), *t), *n);
        }
        let l = layout(&inp).unwrap();
        assert_sound(&inp, &l);
        prop_assert_eq!(&layout(&inp).unwrap(), &l);
        let names: BTreeSet<&str> = l.policies.iter().map(|p| p.name.as_str()).collect();
        prop_assert_eq!(names.len(), l.policies.len());
    }
}
