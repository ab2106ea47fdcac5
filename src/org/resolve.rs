//! Resolution of the desired-state file against the live organization and received licenses.

use std::collections::{BTreeMap, BTreeSet};

use super::tree::{Node, OrgIndex, ROOT_NAME, is_grantable};
use super::{
    AccountLookupError, Desired, DesiredModel, LicenseCandidate, LostBecause, ResolveOptions,
    grant_name,
};
use crate::config::{AccountRef, Config, LicenseSelector, ModelKey, ModelSpec, OuRef};
use crate::model::{
    AccountId, Diagnostic, FeatureSet, License, LicenseArn, Live, OuId, Principal, Severity, Span,
    Spanned,
};

/// License Manager's quota of grants per license.
pub const MAX_GRANTS_PER_LICENSE: usize = 2_000;

/// The longest grant name the tool will create. The API sets no limit; this keeps names
/// readable in the console and in plans.
pub const MAX_GRANT_NAME_LEN: usize = 255;

/// The `Status` of a received license that can be distributed.
pub const USABLE_LICENSE_STATUS: &str = "AVAILABLE";

/// How many items a hint lists before saying "and N more".
const HINT_ITEMS: usize = 8;

/// Resolves every model of `config` (or those `opts.targets` names) against `live`.
///
/// On success the [`Desired`] carries the warnings. On failure the list holds every error and
/// every warning, sorted by position. `opts.targets` are taken as checked
/// ([`super::check_targets`]): a target the file does not name selects nothing.
pub fn resolve(
    config: &Config,
    live: &Live,
    opts: &ResolveOptions,
) -> Result<Desired, Vec<Diagnostic>> {
    let index = OrgIndex::new(&live.organization);
    let mut diags = Vec::new();

    let selected = |key: &ModelKey| opts.targets.as_ref().is_none_or(|t| t.contains(key));
    let licenses = resolve_licenses(config, live, opts, &mut diags);

    let mut models = BTreeMap::new();
    for spec in config.models.iter().filter(|m| selected(&m.key.value)) {
        let resolver = ModelResolver {
            index: &index,
            live,
            spec,
            prefix: &config.settings.grant_name_prefix,
        };
        let (principals, excluded) = resolver.resolve(&mut diags);
        let Some((license, others)) = licenses.get(&spec.key.value) else {
            continue;
        };
        models.insert(
            spec.key.value.clone(),
            DesiredModel {
                key: spec.key.value.clone(),
                license: license.clone(),
                principals,
                status: spec.status,
                excluded,
                others: others.clone(),
            },
        );
    }

    diags.sort_by(|a, b| (a.span, a.severity, &a.message).cmp(&(b.span, b.severity, &b.message)));
    diags.dedup();
    if diags.iter().any(|d| d.severity == Severity::Error) {
        return Err(diags);
    }
    let settings = &config.settings;
    let guardrails = desired_guardrails(config, &models);
    Ok(Desired {
        models,
        grant_name_prefix: settings.grant_name_prefix.clone(),
        operations: settings.allowed_operations.clone(),
        recipient_role: settings.recipient_role.clone(),
        home_region: settings.home_region.clone(),
        activation_override: settings.activation_override,
        expiry_warning_days: settings.expiry_warning_days,
        targeted_only: opts.targets.is_some(),
        warnings: diags,
        guardrails,
    })
}

/// `settings.guardrails` and the model ids of the resolved models that give them.
fn desired_guardrails(
    config: &Config,
    models: &BTreeMap<ModelKey, DesiredModel>,
) -> super::DesiredGuardrails {
    let models = config
        .models
        .iter()
        .filter(|m| models.contains_key(&m.key.value) && !m.bedrock_model_ids.is_empty())
        .map(|m| {
            let guarded = super::GuardedModel {
                bedrock_model_ids: m
                    .bedrock_model_ids
                    .iter()
                    .map(|i| i.value.clone())
                    .collect(),
                marketplace_product_id: m.marketplace_product_id.as_ref().map(|p| p.value.clone()),
            };
            (m.key.value.clone(), guarded)
        })
        .collect();
    super::DesiredGuardrails {
        settings: config.settings.guardrails.clone(),
        models,
    }
}

type ResolvedLicenses = BTreeMap<ModelKey, (LicenseArn, Vec<LicenseCandidate>)>;

/// Each model's license and the other candidates; a license two models share is an error.
fn resolve_licenses(
    config: &Config,
    live: &Live,
    opts: &ResolveOptions,
    diags: &mut Vec<Diagnostic>,
) -> ResolvedLicenses {
    let selected = |key: &ModelKey| opts.targets.as_ref().is_none_or(|t| t.contains(key));
    // Licenses are resolved for every model, so that two models sharing a license are caught
    // even under --target; errors are reported only for the models being planned.
    let mut licenses: ResolvedLicenses = BTreeMap::new();
    let mut owner: BTreeMap<LicenseArn, &ModelSpec> = BTreeMap::new();
    for spec in &config.models {
        let key = &spec.key.value;
        let mut model_diags = Vec::new();
        let now = if opts.now != 0 {
            opts.now
        } else {
            live.read_at
        };
        let Some((arn, others)) =
            resolve_license(spec, live, now, &config.settings, &mut model_diags)
        else {
            if selected(key) {
                diags.extend(model_diags);
            }
            continue;
        };
        if let Some(first) = owner.get(&arn) {
            if selected(key) || selected(&first.key.value) {
                diags.push(
                    Diagnostic::error(
                        spec.license.span,
                        format!(
                            "model {key}: license {arn} is already the license of model {}",
                            first.key.value
                        ),
                    )
                    .with_hint(
                        "each model needs its own license: one grant per account and license",
                    ),
                );
            }
            continue;
        }
        owner.insert(arn.clone(), spec);
        licenses.insert(key.clone(), (arn, others));
    }
    licenses
}

fn count_errors(diags: &[Diagnostic]) -> usize {
    diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count()
}

/// `a, b, c` or `a, b, c and 4 more`.
fn list(items: &[String]) -> String {
    if items.is_empty() {
        return "none".to_owned();
    }
    let shown = items
        .iter()
        .take(HINT_ITEMS)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > HINT_ITEMS {
        format!("{shown} and {} more", items.len() - HINT_ITEMS)
    } else {
        shown
    }
}

/// The renewal rule: among received licenses of one product, the one to grant from. Eligible:
/// status AVAILABLE, `CreateGrant` among the received operations, and (when `now` is known,
/// not 0, and some such license is) inside its validity at `now`. Among those: the latest end of validity (none = the
/// latest), then the latest begin, then the smallest ARN. Returns the chosen license and every
/// other with why it lost, by ARN; or, when none is eligible, why each failed.
pub fn choose_license<'a>(
    licenses: &[&'a License],
    now: i64,
) -> Result<(&'a License, Vec<LicenseCandidate>), Vec<LicenseCandidate>> {
    let mut lost = Vec::new();
    let mut usable = Vec::new();
    for license in licenses {
        if license.status != USABLE_LICENSE_STATUS {
            lost.push(LicenseCandidate {
                arn: license.arn.clone(),
                lost: LostBecause::NotAvailable(license.status.clone()),
            });
        } else if !license.allows_create_grant() {
            lost.push(LicenseCandidate {
                arn: license.arn.clone(),
                lost: LostBecause::NoCreateGrant,
            });
        } else {
            usable.push(*license);
        }
    }
    // Validity decides only when some license is inside it: an AVAILABLE license past its end
    // is still granted from when it is the only one (and the expiry warning says so).
    let outside = |l: &License| {
        if now != 0 && l.begin_secs().is_some_and(|b| now < b) {
            Some(LostBecause::NotYetValid)
        } else if now != 0 && l.end_secs().is_some_and(|e| e <= now) {
            Some(LostBecause::Expired)
        } else {
            None
        }
    };
    let any_valid = usable.iter().any(|l| outside(l).is_none());
    let mut eligible = Vec::new();
    for license in usable {
        match outside(license).filter(|_| any_valid) {
            Some(why) => lost.push(LicenseCandidate {
                arn: license.arn.clone(),
                lost: why,
            }),
            None => eligible.push(license),
        }
    }
    let rank = |l: &License| {
        (
            std::cmp::Reverse(l.end_secs().unwrap_or(i64::MAX)),
            std::cmp::Reverse(l.begin_secs().unwrap_or(i64::MIN)),
            l.arn.clone(),
        )
    };
    eligible.sort_by_key(|l| rank(l));
    let Some((chosen, rest)) = eligible.split_first() else {
        lost.sort();
        return Err(lost);
    };
    for other in rest {
        let why = if other.end_secs().unwrap_or(i64::MAX) != chosen.end_secs().unwrap_or(i64::MAX) {
            LostBecause::EndsEarlier
        } else if other.begin_secs() != chosen.begin_secs() {
            LostBecause::BeganEarlier
        } else {
            LostBecause::LargerArn
        };
        lost.push(LicenseCandidate {
            arn: other.arn.clone(),
            lost: why,
        });
    }
    lost.sort();
    Ok((chosen, lost))
}

/// The license of one model, and the others of its product that lost; problems go to `diags`.
fn resolve_license(
    spec: &ModelSpec,
    live: &Live,
    now: i64,
    settings: &crate::config::Settings,
    diags: &mut Vec<Diagnostic>,
) -> Option<(LicenseArn, Vec<LicenseCandidate>)> {
    let operations = &settings.allowed_operations;
    let licenses = &live.licenses;
    let key = &spec.key.value;
    let span = spec.license.span;
    let (what, matches): (String, Vec<&License>) = match &spec.license.value {
        LicenseSelector::ProductSku(sku) => (
            format!("product SKU {sku}"),
            licenses.iter().filter(|l| &l.product_sku == sku).collect(),
        ),
        LicenseSelector::ProductName(name) => (
            format!("product name {name:?}"),
            licenses
                .iter()
                .filter(|l| &l.product_name == name)
                .collect(),
        ),
        LicenseSelector::LicenseArn(arn) => (
            format!("ARN {arn}"),
            licenses.iter().filter(|l| &l.arn == arn).collect(),
        ),
    };
    if matches.is_empty() && spec.subscribe.is_some() {
        super::sellers::not_subscribed_yet(key, span, &what, diags);
        return None;
    }
    if matches.is_empty() {
        no_license(key, span, &what, licenses, diags);
        return None;
    }
    let matches = super::sellers::allowed_only(key, span, matches, settings, diags)?;
    // A pinned license is judged by status and CreateGrant only: the file chose it.
    let clock = match spec.license.value {
        LicenseSelector::LicenseArn(_) => 0,
        _ => now,
    };
    let (license, others) = match choose_license(&matches, clock) {
        Ok(choice) => choice,
        Err(lost) => {
            none_eligible(key, span, &what, &lost, diags);
            return None;
        }
    };
    let refused: Vec<&str> = operations
        .iter()
        .filter(|op| !license.allows(op))
        .map(String::as_str)
        .collect();
    if !refused.is_empty() {
        diags.push(
            Diagnostic::error(
                span,
                format!(
                    "model {key}: license {} does not allow {} (settings.allowed_operations), \
                     so no grant of it can carry them",
                    license.arn,
                    refused.join(", ")
                ),
            )
            .with_hint(format!(
                "the license allows: {}; remove the others from settings.allowed_operations",
                license.received_operations.join(", ")
            )),
        );
        return None;
    }
    Some((license.arn.clone(), others))
}

/// No received license matches the model's selector.
fn no_license(
    key: &ModelKey,
    span: crate::model::Span,
    what: &str,
    licenses: &[License],
    diags: &mut Vec<Diagnostic>,
) {
    let available: Vec<String> = licenses
        .iter()
        .filter(|l| l.status == USABLE_LICENSE_STATUS)
        .map(|l| format!("{} ({})", l.product_sku, l.product_name))
        .collect();
    let hint = if available.is_empty() {
        "this account has received no usable license: subscribe to the model first, \
         then check again after a few minutes"
            .to_owned()
    } else {
        format!("received licenses: {}", list(&available))
    };
    diags.push(
        Diagnostic::error(span, format!("model {key}: no received license has {what}"))
            .with_hint(hint),
    );
}

/// Licenses match the model's selector but none can be granted from.
fn none_eligible(
    key: &ModelKey,
    span: crate::model::Span,
    what: &str,
    lost: &[LicenseCandidate],
    diags: &mut Vec<Diagnostic>,
) {
    if let [only] = lost
        && only.lost == LostBecause::NoCreateGrant
    {
        diags.push(
            Diagnostic::error(
                span,
                format!(
                    "model {key}: license {} does not allow this account to create grants",
                    only.arn
                ),
            )
            .with_hint(
                "only the account that subscribed to the model (the management account or \
                 the delegated administrator) can distribute its license",
            ),
        );
        return;
    }
    if lost
        .iter()
        .all(|c| matches!(c.lost, LostBecause::NotAvailable(_)))
    {
        let found: Vec<String> = lost
            .iter()
            .map(|c| match &c.lost {
                LostBecause::NotAvailable(status) => format!("{} ({status})", c.arn),
                _ => c.arn.to_string(),
            })
            .collect();
        diags.push(
            Diagnostic::error(
                span,
                format!(
                    "model {key}: the received license with {what} is not {USABLE_LICENSE_STATUS}: {}",
                    list(&found)
                ),
            )
            .with_hint("renew or re-subscribe to the model, or point the model at another license"),
        );
        return;
    }
    let found: Vec<String> = lost
        .iter()
        .map(|c| format!("{} ({})", c.arn, c.lost.describe()))
        .collect();
    diags.push(
        Diagnostic::error(
            span,
            format!(
                "model {key}: no received license with {what} can be granted from now: {}",
                list(&found)
            ),
        )
        .with_hint("renew or re-subscribe to the model, or point the model at another license"),
    );
}

/// Resolves one model's targets.
struct ModelResolver<'a> {
    index: &'a OrgIndex<'a>,
    live: &'a Live,
    spec: &'a ModelSpec,
    prefix: &'a str,
}

impl ModelResolver<'_> {
    fn key(&self) -> &ModelKey {
        &self.spec.key.value
    }

    fn caller(&self) -> &AccountId {
        &self.live.caller
    }

    /// "OU ou-… (Root/Workloads)" or "the organization".
    fn describe(&self, node: &Node) -> String {
        match node {
            Node::Root => "the organization".to_owned(),
            Node::Ou(ou) => format!("OU {ou} ({})", self.index.path(node)),
        }
    }

    fn describe_account(&self, account: &AccountId) -> String {
        match self.index.org.accounts.get(account) {
            Some(a) if !a.name.is_empty() => format!("account {account} ({})", a.name),
            _ => format!("account {account}"),
        }
    }

    /// The principals and excluded accounts of the model; problems go to `diags`.
    fn resolve(&self, diags: &mut Vec<Diagnostic>) -> (BTreeSet<Principal>, BTreeSet<AccountId>) {
        let errors_before = count_errors(diags);
        let per_account = self.live.organization.feature_set == FeatureSet::ConsolidatedBilling;
        let kept = self.containers(per_account, diags);
        let excluded = self.exclusions(&kept, diags);
        let mut principals = BTreeSet::new();
        for node in &kept {
            self.index
                .cover(node, &excluded, self.caller(), per_account, &mut principals);
        }
        // Explicit accounts, unless already covered.
        let mut listed = BTreeSet::new();
        for entry in &self.spec.grant_to.accounts {
            if let Some(account) =
                self.explicit_account(entry, &kept, &excluded, &mut listed, diags)
            {
                principals.insert(Principal::Account(account));
            }
        }
        let clean = count_errors(diags) == errors_before;
        self.check_limits(&principals, clean, diags);
        (principals, excluded)
    }

    /// Organization and OU targets, minus those inside another target.
    fn containers(&self, per_account: bool, diags: &mut Vec<Diagnostic>) -> Vec<Node> {
        let key = self.key();
        let grant_to = &self.spec.grant_to;
        let mut nodes: Vec<(Node, Span)> = Vec::new();
        if let Some(span) = grant_to.organization {
            nodes.push((Node::Root, span));
        }
        for ou in &grant_to.organizational_units {
            if let Some(id) = self.resolve_ou(&ou.value, ou.span, diags) {
                nodes.push((Node::Ou(id), ou.span));
            }
        }
        let mut kept: Vec<Node> = Vec::new();
        for (i, (node, span)) in nodes.iter().enumerate() {
            let container = nodes.iter().enumerate().find(|(j, (other, _))| {
                (other != node && self.index.is_within(node, other)) || (other == node && *j < i)
            });
            match container {
                Some((_, (other, _))) if other == node => diags.push(Diagnostic::warning(
                    *span,
                    format!("model {key}: {} is listed twice", self.describe(node)),
                )),
                Some((_, (other, _))) => diags.push(Diagnostic::warning(
                    *span,
                    format!(
                        "model {key}: {} is already covered by {}",
                        self.describe(node),
                        self.describe(other)
                    ),
                )),
                None => kept.push(node.clone()),
            }
        }
        if per_account && let Some((_, span)) = nodes.first() {
            diags.push(
                Diagnostic::warning(
                    *span,
                    format!(
                        "model {key}: the organization has only consolidated billing, so its \
                         organization and OU targets are granted account by account"
                    ),
                )
                .with_hint("accounts that join later need a new plan; enable all features to grant whole OUs"),
            );
        }
        kept
    }

    /// Exclusions: the `except_accounts` that resolve, with warnings for those that change nothing.
    fn exclusions(&self, kept: &[Node], diags: &mut Vec<Diagnostic>) -> BTreeSet<AccountId> {
        let key = self.key();
        let mut excluded = BTreeSet::new();
        for except in &self.spec.except_accounts {
            let Some(account) = self.resolve_account(&except.value, except.span, diags) else {
                continue;
            };
            let warn = |diags: &mut Vec<Diagnostic>, message: String| {
                diags.push(Diagnostic::warning(except.span, message));
            };
            if &account == self.caller() {
                warn(
                    diags,
                    format!(
                        "model {key}: {} is the grantor, which holds the subscription itself; \
                         excluding it changes nothing",
                        self.describe_account(&account)
                    ),
                );
                continue;
            }
            let node = self
                .index
                .org
                .accounts
                .get(&account)
                .map(|_| self.account_node(&account));
            let targeted = node.is_some_and(|n| kept.iter().any(|k| self.index.is_within(&n, k)));
            if !targeted {
                warn(
                    diags,
                    format!(
                        "model {key}: {} is in no targeted OU or organization, so there is nothing to exclude it from",
                        self.describe_account(&account)
                    ),
                );
            }
            if !excluded.insert(account.clone()) {
                warn(
                    diags,
                    format!(
                        "model {key}: {} is excluded twice",
                        self.describe_account(&account)
                    ),
                );
            }
        }
        excluded
    }

    /// One explicit account target: the account to grant, or None with a diagnostic saying why not.
    fn explicit_account(
        &self,
        entry: &Spanned<AccountRef>,
        kept: &[Node],
        excluded: &BTreeSet<AccountId>,
        listed: &mut BTreeSet<AccountId>,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<AccountId> {
        let key = self.key();
        let account = self.resolve_account(&entry.value, entry.span, diags)?;
        let state = self.index.org.accounts.get(&account).map(|a| &a.state)?;
        // Worded only for a diagnostic: a file that lists thousands of accounts formats none.
        let described = || self.describe_account(&account);
        let (error, message) = if !is_grantable(state) {
            let described = described();
            let message = format!(
                "model {key}: {described} is {} and cannot receive a grant",
                state.as_str()
            );
            diags.push(Diagnostic::error(entry.span, message).with_hint("remove it from the file"));
            return None;
        } else if &account == self.caller() {
            (
                false,
                format!(
                    "model {key}: {} is the grantor, which holds the subscription and needs no grant",
                    described()
                ),
            )
        } else if excluded.contains(&account) {
            (
                true,
                format!(
                    "model {key}: {} is both granted and in except_accounts",
                    described()
                ),
            )
        } else if !listed.insert(account.clone()) {
            (
                false,
                format!("model {key}: {} is listed twice", described()),
            )
        } else if let Some(container) = self.container_of(&account, kept) {
            (
                false,
                format!(
                    "model {key}: {} is already covered by {}",
                    described(),
                    self.describe(container)
                ),
            )
        } else {
            return Some(account);
        };
        diags.push(if error {
            Diagnostic::error(entry.span, message)
        } else {
            Diagnostic::warning(entry.span, message)
        });
        None
    }

    /// The kept organization or OU target that already covers `account`, if any.
    fn container_of<'k>(&self, account: &AccountId, kept: &'k [Node]) -> Option<&'k Node> {
        if kept.is_empty() {
            return None;
        }
        let node = self.account_node(account);
        kept.iter().find(|k| self.index.is_within(&node, k))
    }

    /// The node an account hangs under.
    fn account_node(&self, account: &AccountId) -> Node {
        match self.index.org.accounts.get(account).map(|a| &a.parent) {
            Some(crate::model::ParentId::Ou(ou)) => Node::Ou(ou.clone()),
            _ => Node::Root,
        }
    }

    /// The grant quota and name length; `clean` when the model's targets resolved without error.
    fn check_limits(
        &self,
        principals: &BTreeSet<Principal>,
        clean: bool,
        diags: &mut Vec<Diagnostic>,
    ) {
        let key = self.key();
        let span = self.spec.key.span;
        let has_targets = self.spec.grant_to.organization.is_some()
            || !self.spec.grant_to.organizational_units.is_empty()
            || !self.spec.grant_to.accounts.is_empty();
        if principals.is_empty() && has_targets && clean {
            diags.push(Diagnostic::warning(
                span,
                format!(
                    "model {key} grants access to no account: its managed grants will be deleted"
                ),
            ));
        }
        if principals.len() > MAX_GRANTS_PER_LICENSE {
            diags.push(
                Diagnostic::error(
                    span,
                    format!(
                        "model {key} needs {} grants, more than the {MAX_GRANTS_PER_LICENSE} License Manager allows per license",
                        principals.len()
                    ),
                )
                .with_hint("grant whole OUs instead of single accounts, or exclude fewer accounts"),
            );
        }
        // Every name is `{prefix}-{key}-{short id}`: the longest short id makes the longest.
        if let Some(longest) = principals
            .iter()
            .max_by_key(|p| p.short_id().len())
            .map(|p| grant_name(self.prefix, key, p))
            && longest.len() > MAX_GRANT_NAME_LEN
        {
            diags.push(
                Diagnostic::error(
                    span,
                    format!(
                        "model {key}: grant name {longest} is {} characters long, more than {MAX_GRANT_NAME_LEN}",
                        longest.len()
                    ),
                )
                .with_hint("use a shorter model key or settings.grant_name_prefix"),
            );
        }
    }

    fn resolve_ou(&self, ou: &OuRef, span: Span, diags: &mut Vec<Diagnostic>) -> Option<OuId> {
        let key = self.key();
        let org = self.index.org;
        let known = || -> Vec<String> {
            let mut paths: Vec<String> = org
                .ous
                .keys()
                .map(|id| format!("{} ({id})", self.index.path(&Node::Ou(id.clone()))))
                .collect();
            paths.sort();
            paths
        };
        match ou {
            OuRef::Id(id) if org.ous.contains_key(id) => Some(id.clone()),
            OuRef::Id(id) => {
                diags.push(
                    Diagnostic::error(span, format!("model {key}: unknown OU {id}")).with_hint(
                        format!("OUs of organization {}: {}", org.id, list(&known())),
                    ),
                );
                None
            }
            OuRef::Path(path) => {
                let found = self.index.find_path(path);
                match found.as_slice() {
                    [id] => Some(id.clone()),
                    [] => {
                        let hint = if path == ROOT_NAME {
                            "the root is the whole organization: write `organization: true`"
                                .to_owned()
                        } else if !path.starts_with(&format!("{ROOT_NAME}/")) {
                            format!("OU paths start at the root, like {ROOT_NAME}/Workloads/ML")
                        } else {
                            let similar: Vec<String> = known()
                                .into_iter()
                                .filter(|p| p.to_lowercase().starts_with(&path.to_lowercase()))
                                .collect();
                            if similar.is_empty() {
                                format!("OUs: {}", list(&known()))
                            } else {
                                format!("did you mean {}", list(&similar))
                            }
                        };
                        diags.push(
                            Diagnostic::error(span, format!("model {key}: no OU has path {path}"))
                                .with_hint(hint),
                        );
                        None
                    }
                    several => {
                        let ids: Vec<String> = several.iter().map(ToString::to_string).collect();
                        diags.push(
                            Diagnostic::error(
                                span,
                                format!("model {key}: OU path {path} is ambiguous: {}", list(&ids)),
                            )
                            .with_hint("name the OU by its id"),
                        );
                        None
                    }
                }
            }
        }
    }

    /// An account of the organization, by id or name.
    fn resolve_account(
        &self,
        account: &AccountRef,
        span: Span,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<AccountId> {
        let key = self.key();
        let error = match super::find_account(self.index.org, account) {
            Ok(id) => return Some(id),
            Err(e) => e,
        };
        let diag = match &error {
            AccountLookupError::NotMember { id, org } => Diagnostic::error(
                span,
                format!("model {key}: account {id} is not a member of organization {org}"),
            )
            .with_hint(
                "grants reach only accounts of the organization; \
                 `aws organizations list-accounts` lists them",
            ),
            AccountLookupError::NoSuchName { name, similar, .. } => {
                let hint = if similar.is_empty() {
                    "write the 12-digit account id, or an account name exactly as \
                     Organizations shows it"
                        .to_owned()
                } else {
                    format!("names are case-sensitive: did you mean {}", list(similar))
                };
                Diagnostic::error(span, format!("model {key}: no account is named {name:?}"))
                    .with_hint(hint)
            }
            AccountLookupError::Ambiguous { name, ids } => {
                let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
                Diagnostic::error(
                    span,
                    format!(
                        "model {key}: account name {name:?} is ambiguous: {}",
                        list(&ids)
                    ),
                )
                .with_hint("name the account by its id")
            }
        };
        diags.push(diag);
        None
    }
}
