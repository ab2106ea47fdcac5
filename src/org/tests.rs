//! Data-driven tests of target resolution: each case is a small model file in a one-line-per-model
//! notation, resolved against one fixed organization, and the expected principals or diagnostics.
//!
//! Notation, one model per line, tokens separated by spaces (a diagnostic's column is the
//! token's index, its line the model's): `key=K`, `sku=S`, `name=N`, `arn=A`, `org`, `ou=ID|PATH`,
//! `acct=ID|NAME`, `except=ID|NAME`, `disabled`.

use std::collections::{BTreeMap, BTreeSet};

use super::{ResolveOptions, covered_accounts, resolve};
use crate::config::{
    AccountRef, Config, DesiredStatus, GrantTo, LicenseSelector, ModelKey, ModelSpec, OuRef,
    Settings,
};
use crate::model::{
    AccountId, AccountState, Diagnostic, FeatureSet, License, Live, OrgAccount, OrgUnit,
    Organization, OuId, ParentId, Principal, Severity, Span, Spanned,
};

pub(crate) const MGMT: &str = "111111111111";

pub(crate) fn license_arn(id: &str) -> String {
    format!("arn:aws:license-manager::294406891311:license:l-{id}")
}

fn license(id: &str, sku: &str, name: &str, status: &str, can_grant: bool) -> License {
    let mut ops: Vec<String> = crate::model::DEFAULT_OPERATIONS
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    if can_grant {
        ops.push("CreateGrant".to_owned());
    }
    License {
        arn: license_arn(id).parse().unwrap(),
        name: format!("{name} license"),
        product_name: name.to_owned(),
        product_sku: sku.to_owned(),
        issuer: "AWS/Marketplace".to_owned(),
        status: status.to_owned(),
        home_region: "us-east-1".to_owned(),
        received_operations: ops,
        validity_begin: None,
        validity_end: None,
        beneficiary: Some("arn:aws:iam::111122223333:root".to_owned()),
    }
}

/// ```text
/// Root
/// ├── management 111111111111
/// ├── dup 777777777777
/// ├── Workloads ou-root-workload
/// │   ├── shared 888888888888
/// │   ├── ML ou-root-mlmlmlml: ml-dev 222222222222, ml-prod 333333333333
/// │   └── Web ou-root-webwebwe: web 444444444444
/// └── Sandbox ou-root-sandbox1: sandbox 555555555555 (SUSPENDED), dup 666666666666
///     ├── Twin ou-root-twintwi1
///     └── Twin ou-root-twintwi2
/// ```
pub(crate) fn fixture_org() -> Organization {
    let root = || ParentId::Root("r-root".parse().unwrap());
    let ou = |id: &str| ParentId::Ou(id.parse().unwrap());
    let ous = [
        ("ou-root-workload", "Workloads", root()),
        ("ou-root-mlmlmlml", "ML", ou("ou-root-workload")),
        ("ou-root-webwebwe", "Web", ou("ou-root-workload")),
        ("ou-root-sandbox1", "Sandbox", root()),
        ("ou-root-twintwi1", "Twin", ou("ou-root-sandbox1")),
        ("ou-root-twintwi2", "Twin", ou("ou-root-sandbox1")),
    ];
    let accounts = [
        (MGMT, "management", root(), AccountState::Active),
        ("777777777777", "dup", root(), AccountState::Active),
        (
            "888888888888",
            "shared",
            ou("ou-root-workload"),
            AccountState::Active,
        ),
        (
            "222222222222",
            "ml-dev",
            ou("ou-root-mlmlmlml"),
            AccountState::Active,
        ),
        (
            "333333333333",
            "ml-prod",
            ou("ou-root-mlmlmlml"),
            AccountState::Active,
        ),
        (
            "444444444444",
            "web",
            ou("ou-root-webwebwe"),
            AccountState::Active,
        ),
        (
            "555555555555",
            "sandbox",
            ou("ou-root-sandbox1"),
            AccountState::Suspended,
        ),
        (
            "666666666666",
            "dup",
            ou("ou-root-sandbox1"),
            AccountState::Active,
        ),
    ];
    Organization {
        id: "o-aaaaaaaaaa".parse().unwrap(),
        management_account: MGMT.parse().unwrap(),
        feature_set: FeatureSet::All,
        root: "r-root".parse().unwrap(),
        ous: ous
            .into_iter()
            .map(|(id, name, parent)| {
                let id: OuId = id.parse().unwrap();
                let unit = OrgUnit {
                    id: id.clone(),
                    name: name.to_owned(),
                    parent,
                };
                (id, unit)
            })
            .collect(),
        accounts: accounts
            .into_iter()
            .map(|(id, name, parent, state)| {
                let id: AccountId = id.parse().unwrap();
                let account = OrgAccount {
                    id: id.clone(),
                    name: name.to_owned(),
                    state,
                    parent,
                };
                (id, account)
            })
            .collect(),
    }
}

pub(crate) fn fixture_live() -> Live {
    Live {
        organization: fixture_org(),
        caller: MGMT.parse().unwrap(),
        licenses: vec![
            license("aaaa", "prod-a", "ClaudeSonnet", "AVAILABLE", true),
            license("bbbb", "prod-b", "Llama", "AVAILABLE", true),
            license("cccc", "prod-c", "OldModel", "EXPIRED", true),
            license("dd01", "prod-d", "Twins", "AVAILABLE", true),
            license("dd02", "prod-d", "Twins", "AVAILABLE", true),
            license("eeee", "prod-e", "Received", "AVAILABLE", false),
        ],
        grants: Vec::new(),
        shares: Vec::new(),
        read_at: 0,
        guardrails: None,
    }
}

/// Parses the one-line-per-model notation into a config.
fn parse_config(input: &str, settings: Settings) -> Config {
    let mut models = Vec::new();
    for (line, text) in input
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let span = |column: usize| Span {
            offset: 0,
            line: line as u32 + 1,
            column: column as u32 + 1,
        };
        // Keys and licenses not written in the line sit at column 0.
        let unwritten = Span {
            offset: 0,
            line: line as u32 + 1,
            column: 0,
        };
        let mut key = Spanned::new(ModelKey::parse("m").unwrap(), unwritten);
        let mut license = None;
        let mut grant_to = GrantTo::default();
        let mut except_accounts = Vec::new();
        let mut status = DesiredStatus::Active;
        let account = |v: &str| match v.parse() {
            Ok(id) => AccountRef::Id(id),
            Err(_) => AccountRef::Name(v.to_owned()),
        };
        for (column, token) in text.split_whitespace().enumerate() {
            let (name, value) = token.split_once('=').unwrap_or((token, ""));
            let at = span(column);
            match name {
                "key" => key = Spanned::new(ModelKey::parse(value).unwrap(), at),
                "sku" => {
                    license = Some(Spanned::new(LicenseSelector::ProductSku(value.into()), at))
                }
                "name" => {
                    license = Some(Spanned::new(LicenseSelector::ProductName(value.into()), at))
                }
                "arn" => {
                    let arn = value.parse().unwrap();
                    license = Some(Spanned::new(LicenseSelector::LicenseArn(arn), at));
                }
                "org" => grant_to.organization = Some(at),
                "ou" => {
                    let ou = match value.parse() {
                        Ok(id) => OuRef::Id(id),
                        Err(_) => OuRef::Path(value.to_owned()),
                    };
                    grant_to.organizational_units.push(Spanned::new(ou, at));
                }
                "acct" => grant_to.accounts.push(Spanned::new(account(value), at)),
                "except" => except_accounts.push(Spanned::new(account(value), at)),
                "disabled" => status = DesiredStatus::Disabled,
                other => panic!("unknown token {other} in test input"),
            }
        }
        let license = license.unwrap_or_else(|| {
            Spanned::new(LicenseSelector::ProductSku("prod-a".into()), unwritten)
        });
        models.push(ModelSpec {
            key,
            license,
            grant_to,
            except_accounts,
            status,
            bedrock_model_ids: Vec::new(),
            marketplace_product_id: None,
            subscribe: None,
        });
    }
    models.sort_by(|a, b| a.key.value.cmp(&b.key.value));
    Config {
        version: 1,
        settings,
        models,
    }
}

fn render_diag(d: &Diagnostic) -> String {
    let severity = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut out = format!(
        "{severity} {}:{}: {}\n",
        d.span.line, d.span.column, d.message
    );
    if let Some(hint) = &d.hint {
        out.push_str(&format!("  hint: {hint}\n"));
    }
    out
}

/// Resolves and renders: `key: principal short ids` per model, then diagnostics.
fn run(input: &str, live: &Live, settings: Settings, targets: Option<&[&str]>) -> String {
    let config = parse_config(input, settings);
    let opts = ResolveOptions {
        targets: targets.map(|t| t.iter().map(|k| ModelKey::parse(k).unwrap()).collect()),
        now: 0,
    };
    match resolve(&config, live, &opts) {
        Ok(desired) => {
            let mut out = String::new();
            for model in desired.models.values() {
                let ids: Vec<&str> = model.principals.iter().map(Principal::short_id).collect();
                out.push_str(&format!("{}: {}\n", model.key, ids.join(" ")));
            }
            for w in &desired.warnings {
                out.push_str(&render_diag(w));
            }
            out
        }
        Err(diags) => diags.iter().map(render_diag).collect(),
    }
}

#[track_caller]
fn check(input: &str, expect: &str) {
    check_with(&fixture_live(), None, input, expect);
}

#[track_caller]
fn check_with(live: &Live, targets: Option<&[&str]>, input: &str, expect: &str) {
    let got = run(input, live, Settings::default(), targets);
    let expect: String = expect
        .lines()
        .map(|l| format!("{}\n", l.trim()))
        .filter(|l| l != "\n")
        .collect();
    let got_trimmed: String = got.lines().map(|l| format!("{}\n", l.trim())).collect();
    assert_eq!(got_trimmed, expect, "input:\n{input}\ngot:\n{got}");
}

#[test]
fn targets_resolve_to_principals() {
    check("org", "m: o-aaaaaaaaaa");
    check("ou=ou-root-mlmlmlml", "m: ou-root-mlmlmlml");
    check("ou=Root/Workloads/ML", "m: ou-root-mlmlmlml");
    check("acct=222222222222 acct=web", "m: 222222222222 444444444444");
    check(
        "key=a sku=prod-a org
         key=b sku=prod-b ou=Root/Sandbox disabled",
        "a: o-aaaaaaaaaa
         b: ou-root-sandbox1",
    );
}

#[test]
fn exclusions_expand_only_along_the_path() {
    // Root → Workloads → ML is expanded; Web, Sandbox and the direct accounts stay whole;
    // the management account (the grantor) gets no account principal.
    check(
        "org except=ml-prod",
        "m: ou-root-sandbox1 ou-root-webwebwe 222222222222 777777777777 888888888888",
    );
    check(
        "ou=ou-root-workload except=333333333333 except=444444444444",
        "m: 222222222222 888888888888",
    );
    // Excluding every account of an OU leaves its (empty) child OUs, which accounts joining later inherit.
    check(
        "ou=Root/Sandbox except=666666666666",
        "m: ou-root-twintwi1 ou-root-twintwi2",
    );
}

#[test]
fn redundant_targets_are_dropped_with_a_warning() {
    check(
        "org ou=ou-root-mlmlmlml acct=444444444444",
        "m: o-aaaaaaaaaa
         warning 1:2: model m: OU ou-root-mlmlmlml (Root/Workloads/ML) is already covered by the organization
         warning 1:3: model m: account 444444444444 (web) is already covered by the organization",
    );
    check(
        "ou=ou-root-mlmlmlml ou=Root/Workloads ou=ou-root-workload",
        "m: ou-root-workload
         warning 1:1: model m: OU ou-root-mlmlmlml (Root/Workloads/ML) is already covered by OU ou-root-workload (Root/Workloads)
         warning 1:3: model m: OU ou-root-workload (Root/Workloads) is listed twice",
    );
    // An account inside an expanded OU is still covered, by a sibling principal or its own.
    check(
        "ou=ou-root-workload except=ml-prod acct=ml-dev acct=web acct=web",
        "m: ou-root-webwebwe 222222222222 888888888888
         warning 1:3: model m: account 222222222222 (ml-dev) is already covered by OU ou-root-workload (Root/Workloads)
         warning 1:4: model m: account 444444444444 (web) is already covered by OU ou-root-workload (Root/Workloads)
         warning 1:5: model m: account 444444444444 (web) is listed twice",
    );
}

#[test]
fn the_grantor_needs_no_grant() {
    check(
        "acct=111111111111 acct=222222222222",
        "m: 222222222222
         warning 1:1: model m: account 111111111111 (management) is the grantor, which holds the subscription and needs no grant",
    );
    check(
        "org except=management",
        "m: o-aaaaaaaaaa
         warning 1:2: model m: account 111111111111 (management) is the grantor, which holds the subscription itself; excluding it changes nothing",
    );
    check(
        "acct=management",
        "m:
         warning 1:0: model m grants access to no account: its managed grants will be deleted
         warning 1:1: model m: account 111111111111 (management) is the grantor, which holds the subscription and needs no grant",
    );
}

#[test]
fn delegated_administrator_is_the_grantor() {
    let mut live = fixture_live();
    live.caller = "888888888888".parse().unwrap();
    // The management account is an ordinary member now; the delegated admin is skipped.
    check_with(
        &live,
        None,
        "org except=ml-dev acct=888888888888",
        "m: ou-root-sandbox1 ou-root-webwebwe 111111111111 333333333333 777777777777
         warning 1:3: model m: account 888888888888 (shared) is the grantor, which holds the subscription and needs no grant",
    );
}

#[test]
fn exclusions_that_exclude_nothing_warn() {
    check(
        "ou=Root/Sandbox except=web except=666666666666 except=666666666666",
        "m: ou-root-twintwi1 ou-root-twintwi2
         warning 1:2: model m: account 444444444444 (web) is in no targeted OU or organization, so there is nothing to exclude it from
         warning 1:4: model m: account 666666666666 (dup) is excluded twice",
    );
}

#[test]
fn bad_accounts_are_positioned_errors() {
    check(
        "acct=999999999999",
        "error 1:1: model m: account 999999999999 is not a member of organization o-aaaaaaaaaa
           hint: grants reach only accounts of the organization; `aws organizations list-accounts` lists them",
    );
    check(
        "acct=555555555555",
        "error 1:1: model m: account 555555555555 (sandbox) is SUSPENDED and cannot receive a grant
           hint: remove it from the file",
    );
    check(
        "org except=nobody",
        r#"error 1:2: model m: no account is named "nobody"
             hint: write the 12-digit account id, or an account name exactly as Organizations shows it"#,
    );
    check(
        "acct=ML-DEV",
        r#"error 1:1: model m: no account is named "ML-DEV"
             hint: names are case-sensitive: did you mean ml-dev (222222222222)"#,
    );
    check(
        "acct=dup",
        r#"error 1:1: model m: account name "dup" is ambiguous: 666666666666, 777777777777
             hint: name the account by its id"#,
    );
    check(
        "org acct=222222222222 except=222222222222",
        "error 1:2: model m: account 222222222222 (ml-dev) is both granted and in except_accounts",
    );
}

#[test]
fn bad_ous_are_positioned_errors() {
    let ous = "Root/Sandbox (ou-root-sandbox1), Root/Sandbox/Twin (ou-root-twintwi1), \
               Root/Sandbox/Twin (ou-root-twintwi2), Root/Workloads (ou-root-workload), \
               Root/Workloads/ML (ou-root-mlmlmlml), Root/Workloads/Web (ou-root-webwebwe)";
    check(
        "ou=ou-root-nothere1",
        &format!(
            "error 1:1: model m: unknown OU ou-root-nothere1
               hint: OUs of organization o-aaaaaaaaaa: {ous}"
        ),
    );
    check(
        "ou=Root/Workloads/Data",
        &format!(
            "error 1:1: model m: no OU has path Root/Workloads/Data
               hint: OUs: {ous}"
        ),
    );
    check(
        "ou=Root/workloads",
        "error 1:1: model m: no OU has path Root/workloads
           hint: did you mean Root/Workloads (ou-root-workload), Root/Workloads/ML (ou-root-mlmlmlml), Root/Workloads/Web (ou-root-webwebwe)",
    );
    check(
        "ou=Workloads/ML",
        "error 1:1: model m: no OU has path Workloads/ML
           hint: OU paths start at the root, like Root/Workloads/ML",
    );
    check(
        "ou=Root",
        "error 1:1: model m: no OU has path Root
           hint: the root is the whole organization: write `organization: true`",
    );
    check(
        "ou=Root/Sandbox/Twin",
        "error 1:1: model m: OU path Root/Sandbox/Twin is ambiguous: ou-root-twintwi1, ou-root-twintwi2
           hint: name the OU by its id",
    );
}

#[test]
fn licenses_resolve_to_exactly_one() {
    check("sku=prod-b org", "m: o-aaaaaaaaaa");
    check("name=Llama org", "m: o-aaaaaaaaaa");
    check(
        &format!("arn={} org", license_arn("dd02")),
        "m: o-aaaaaaaaaa",
    );
    check(
        "key=claude-sonnet sku=prod-x org",
        "error 1:2: model claude-sonnet: no received license has product SKU prod-x
           hint: received licenses: prod-a (ClaudeSonnet), prod-b (Llama), prod-d (Twins), prod-d (Twins), prod-e (Received)",
    );
    check(
        "name=Claude org",
        r#"error 1:1: model m: no received license has product name "Claude"
             hint: received licenses: prod-a (ClaudeSonnet), prod-b (Llama), prod-d (Twins), prod-d (Twins), prod-e (Received)"#,
    );
    check(
        "sku=prod-c org",
        "error 1:1: model m: the received license with product SKU prod-c is not AVAILABLE: arn:aws:license-manager::294406891311:license:l-cccc (EXPIRED)
           hint: renew or re-subscribe to the model, or point the model at another license",
    );
    // Two licenses of one product with the same validity: the smaller ARN (the renewal rule).
    check("sku=prod-d org", "m: o-aaaaaaaaaa");
    check(
        "sku=prod-e org",
        "error 1:1: model m: license arn:aws:license-manager::294406891311:license:l-eeee does not allow this account to create grants
           hint: only the account that subscribed to the model (the management account or the delegated administrator) can distribute its license",
    );
    check(
        &format!("arn={} org", license_arn("ffff")),
        "error 1:1: model m: no received license has ARN arn:aws:license-manager::294406891311:license:l-ffff
           hint: received licenses: prod-a (ClaudeSonnet), prod-b (Llama), prod-d (Twins), prod-d (Twins), prod-e (Received)",
    );
    check(
        "key=a sku=prod-a org
         key=b name=ClaudeSonnet org",
        "error 2:2: model b: license arn:aws:license-manager::294406891311:license:l-aaaa is already the license of model a
           hint: each model needs its own license: one grant per account and license",
    );
    let mut live = fixture_live();
    live.licenses.clear();
    check_with(
        &live,
        None,
        "sku=prod-a org",
        "error 1:1: model m: no received license has product SKU prod-a
           hint: this account has received no usable license: subscribe to the model first, then check again after a few minutes",
    );
}

#[test]
fn every_error_is_reported_not_only_the_first() {
    check(
        "key=a sku=prod-x acct=999999999999 ou=ou-root-nothere1
         key=b sku=prod-b acct=555555555555 acct=ml-dev",
        "error 1:2: model a: no received license has product SKU prod-x
           hint: received licenses: prod-a (ClaudeSonnet), prod-b (Llama), prod-d (Twins), prod-d (Twins), prod-e (Received)
         error 1:3: model a: account 999999999999 is not a member of organization o-aaaaaaaaaa
           hint: grants reach only accounts of the organization; `aws organizations list-accounts` lists them
         error 1:4: model a: unknown OU ou-root-nothere1
           hint: OUs of organization o-aaaaaaaaaa: Root/Sandbox (ou-root-sandbox1), Root/Sandbox/Twin (ou-root-twintwi1), Root/Sandbox/Twin (ou-root-twintwi2), Root/Workloads (ou-root-workload), Root/Workloads/ML (ou-root-mlmlmlml), Root/Workloads/Web (ou-root-webwebwe)
         error 2:3: model b: account 555555555555 (sandbox) is SUSPENDED and cannot receive a grant
           hint: remove it from the file",
    );
}

#[test]
fn targets_limit_the_models() {
    let input = "key=a sku=prod-a org
                 key=b sku=prod-x acct=999999999999";
    // Errors of the model not targeted don't block an urgent change to another.
    check_with(&fixture_live(), Some(&["a"]), input, "a: o-aaaaaaaaaa");
    // A target the file does not name is refused once, by check_targets (before any AWS call);
    // resolve takes the targets as checked and selects nothing for it.
    let config = parse_config(input, Settings::default());
    let key = |k: &str| ModelKey::parse(k).unwrap();
    assert_eq!(
        super::check_targets(&config, &BTreeSet::from([key("a"), key("c")]))
            .unwrap_err()
            .to_string(),
        "--target c: the file has no model c; models in the file: a, b"
    );
    assert!(super::check_targets(&config, &BTreeSet::from([key("b")])).is_ok());
    check_with(&fixture_live(), Some(&["a", "c"]), input, "a: o-aaaaaaaaaa");
    let desired = resolve(
        &parse_config(input, Settings::default()),
        &fixture_live(),
        &ResolveOptions {
            targets: Some(BTreeSet::from([ModelKey::parse("a").unwrap()])),
            now: 0,
        },
    )
    .unwrap();
    assert!(desired.targeted_only);
    // A license shared with a model outside the targets is still an error.
    check_with(
        &fixture_live(),
        Some(&["b"]),
        "key=a sku=prod-a org
         key=b sku=prod-a ou=Root/Sandbox",
        "error 2:2: model b: license arn:aws:license-manager::294406891311:license:l-aaaa is already the license of model a
           hint: each model needs its own license: one grant per account and license",
    );
}

#[test]
fn consolidated_billing_grants_account_by_account() {
    let mut live = fixture_live();
    live.organization.feature_set = FeatureSet::ConsolidatedBilling;
    check_with(
        &live,
        None,
        "ou=ou-root-workload except=web acct=777777777777",
        "m: 222222222222 333333333333 777777777777 888888888888
         warning 1:1: model m: the organization has only consolidated billing, so its organization and OU targets are granted account by account
           hint: accounts that join later need a new plan; enable all features to grant whole OUs",
    );
}

#[test]
fn more_than_2000_grants_for_one_license_is_an_error() {
    let mut live = fixture_live();
    let mut extra = BTreeMap::new();
    for i in 0..2_000u32 {
        let id: AccountId = format!("9{i:011}").parse().unwrap();
        extra.insert(
            id.clone(),
            OrgAccount {
                id,
                name: format!("member-{i}"),
                state: AccountState::Active,
                parent: ParentId::Root("r-root".parse().unwrap()),
            },
        );
    }
    live.organization.accounts.extend(extra);
    // Root → Workloads → ML expanded: Sandbox, Web, 333333333333, 888888888888, 777777777777
    // and the 2,000 new accounts; the grantor gets no principal.
    let got = run("org except=ml-dev", &live, Settings::default(), None);
    assert_eq!(
        got.lines().next().unwrap(),
        "error 1:0: model m needs 2005 grants, more than the 2000 License Manager allows per license"
    );
    let got = run(
        "ou=Root/Workloads except=ml-dev",
        &live,
        Settings::default(),
        None,
    );
    assert!(
        got.starts_with("m: ou-root-webwebwe 333333333333 888888888888"),
        "{got}"
    );
}

#[test]
fn overlong_grant_names_are_an_error() {
    let settings = Settings {
        grant_name_prefix: "p".repeat(200),
        ..Settings::default()
    };
    let got = run(
        &format!("key={} ou=ou-root-mlmlmlml", "k".repeat(60)),
        &fixture_live(),
        settings,
        None,
    );
    assert!(
        got.starts_with(&format!("error 1:1: model {}: grant name ", "k".repeat(60))),
        "{got}"
    );
    assert!(
        got.contains("is 278 characters long, more than 255"),
        "{got}"
    );
}

#[test]
fn covered_accounts_include_nested_ous() {
    let org = fixture_org();
    let ids = |p: &Principal| -> Vec<String> {
        covered_accounts(&org, p)
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    let ou = |id: &str| Principal::Ou {
        management: MGMT.parse().unwrap(),
        org: org.id.clone(),
        ou: id.parse().unwrap(),
    };
    assert_eq!(
        ids(&ou("ou-root-workload")),
        [
            "222222222222",
            "333333333333",
            "444444444444",
            "888888888888"
        ]
    );
    assert_eq!(ids(&ou("ou-root-twintwi1")), Vec::<String>::new());
    let whole = Principal::Organization {
        management: MGMT.parse().unwrap(),
        org: org.id.clone(),
    };
    assert_eq!(ids(&whole).len(), 8);
    let other = Principal::Organization {
        management: MGMT.parse().unwrap(),
        org: "o-bbbbbbbbbb".parse().unwrap(),
    };
    assert!(ids(&other).is_empty());
    assert_eq!(
        ids(&Principal::Account("999999999999".parse().unwrap())),
        ["999999999999"]
    );
}

/// The renewal rule, in order: AVAILABLE, CreateGrant, inside its validity at the clock, then the
/// latest end, the latest begin, the smallest ARN; every other license says why it lost.
#[test]
fn renewals_choose_one_license_by_the_written_rule() {
    use super::{LicenseCandidate, LostBecause};
    let mut live = fixture_live();
    let lic = |id: &str, status: &str, grant: bool, begin: Option<&str>, end: Option<&str>| {
        let mut l = license(id, "prod-r", "Renewed", status, grant);
        l.validity_begin = begin.map(str::to_owned);
        l.validity_end = end.map(str::to_owned);
        l
    };
    live.licenses.extend([
        lic(
            "rr01",
            "AVAILABLE",
            true,
            Some("2025-06-01T00:00:00Z"),
            Some("2026-12-01T00:00:00Z"),
        ),
        lic(
            "rr02",
            "AVAILABLE",
            true,
            Some("2026-06-01T00:00:00Z"),
            Some("2027-06-01T00:00:00Z"),
        ),
        lic("rr03", "AVAILABLE", false, None, None),
        lic("rr04", "EXPIRED", true, None, None),
        lic(
            "rr05",
            "AVAILABLE",
            true,
            Some("2027-01-01T00:00:00Z"),
            None,
        ),
        lic(
            "rr06",
            "AVAILABLE",
            true,
            Some("2026-05-01T00:00:00Z"),
            Some("2027-06-01T00:00:00Z"),
        ),
        lic(
            "rr07",
            "AVAILABLE",
            true,
            Some("2025-01-01T00:00:00Z"),
            Some("2026-06-01T00:00:00Z"),
        ),
        lic(
            "rr08",
            "AVAILABLE",
            true,
            Some("2026-06-01T00:00:00Z"),
            Some("2027-06-01T00:00:00Z"),
        ),
    ]);
    let now = crate::model::parse_time("2026-07-01T00:00:00Z").unwrap();
    let config = parse_config("sku=prod-r org", Settings::default());
    let opts = ResolveOptions { targets: None, now };
    let desired = resolve(&config, &live, &opts).unwrap();
    let m = desired.models.values().next().unwrap();
    assert_eq!(m.license.as_str(), license_arn("rr02"));
    let lost = |id: &str, lost| LicenseCandidate {
        arn: license_arn(id).parse().unwrap(),
        lost,
    };
    assert_eq!(
        m.others,
        [
            lost("rr01", LostBecause::EndsEarlier),
            lost("rr03", LostBecause::NoCreateGrant),
            lost("rr04", LostBecause::NotAvailable("EXPIRED".to_owned())),
            lost("rr05", LostBecause::NotYetValid),
            lost("rr06", LostBecause::BeganEarlier),
            lost("rr07", LostBecause::Expired),
            lost("rr08", LostBecause::LargerArn),
        ]
    );
    // The clock comes from the live snapshot when the options give none.
    live.read_at = now;
    let again = resolve(&config, &live, &ResolveOptions::default()).unwrap();
    assert_eq!(again.models, desired.models);
    // A year later every license has ended or not: rr05 (no end, begun) is the one left.
    let later = crate::model::parse_time("2027-07-01T00:00:00Z").unwrap();
    let opts = ResolveOptions {
        targets: None,
        now: later,
    };
    let desired = resolve(&config, &live, &opts).unwrap();
    assert_eq!(
        desired.models.values().next().unwrap().license.as_str(),
        license_arn("rr05")
    );
    // A pin wins over the rule.
    let pinned = parse_config(
        &format!("arn={} org", license_arn("rr01")),
        Settings::default(),
    );
    let desired = resolve(&pinned, &live, &ResolveOptions { targets: None, now }).unwrap();
    let m = desired.models.values().next().unwrap();
    assert_eq!(m.license.as_str(), license_arn("rr01"));
    assert!(m.others.is_empty());
    // Only licenses past their validity: the latest of them is still granted from (the expiry
    // warning says so); none AVAILABLE with CreateGrant is an error listing each.
    live.licenses.retain(|l| {
        ["rr03", "rr07"]
            .iter()
            .any(|id| l.arn.as_str().ends_with(id))
    });
    let desired = resolve(&config, &live, &ResolveOptions { targets: None, now }).unwrap();
    assert_eq!(
        desired.models.values().next().unwrap().license.as_str(),
        license_arn("rr07")
    );
    live.licenses[1].status = "EXPIRED".to_owned();
    let errors = resolve(&config, &live, &ResolveOptions { targets: None, now }).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].message.contains("can be granted from now"),
        "{}",
        errors[0].message
    );
    assert!(
        errors[0].message.contains("l-rr07 (its status is EXPIRED"),
        "{}",
        errors[0].message
    );
}

#[test]
fn operations_the_license_does_not_allow_are_an_error_naming_the_model() {
    let mut live = fixture_live();
    live.licenses[0].received_operations =
        vec!["CreateGrant".to_owned(), "CheckoutLicense".to_owned()];
    let errors = resolve(
        &parse_config("key=claude sku=prod-a org", Settings::default()),
        &live,
        &ResolveOptions::default(),
    )
    .unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].message.starts_with("model claude: license ")
            && errors[0].message.contains("does not allow CheckInLicense, CreateToken, ExtendConsumptionLicense, ListPurchasedLicenses"),
        "{}",
        errors[0].message
    );
}
