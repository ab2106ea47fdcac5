//! A desired-state file derived from live grants (`import`): one model per license that has
//! grants, its targets grouped (organization, OUs by path, accounts), so that planning the file
//! against the same live state gives no action. What cannot be written that way is said in
//! [`Imported::warnings`], each a sentence naming the grant and what the next plan does to it.

use std::collections::{BTreeMap, BTreeSet};

use super::{describe_principal, names, ou_path, principal_within, usable};
use crate::config::{
    AccountRef, Config, DesiredStatus, GrantTo, LicenseSelector, ModelKey, ModelSpec, OuRef,
    Settings,
};
use crate::model::{
    Grant, GrantArn, GrantStatus, KNOWN_OPERATIONS, LicenseArn, Live, ParentId, Principal, Span,
    Spanned,
};
use crate::org::{USABLE_LICENSE_STATUS, grant_name};

/// What to import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOptions {
    /// Grants whose name starts with it are managed (`settings.grant_name_prefix`).
    pub prefix: String,
    /// Also write the targets of grants the tool did not create.
    pub include_unmanaged: bool,
    /// The foreign grants the file claims will be renamed to managed names (`--adopt`): their
    /// status and operations then count like those of managed grants.
    pub adopt: bool,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            prefix: Settings::default().grant_name_prefix,
            include_unmanaged: false,
            adopt: false,
        }
    }
}

/// A foreign grant `import --adopt` renames so that it becomes managed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adoption {
    pub model: ModelKey,
    pub grant_arn: GrantArn,
    pub principal: Principal,
    pub old_name: String,
    pub new_name: String,
    /// The grant's version when read (CreateGrantVersion's `SourceVersion`).
    pub version: String,
}

/// The result of [`import`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub config: Config,
    /// Foreign grants the file claims, to rename with `--adopt`, sorted by model and principal.
    /// Empty unless `include_unmanaged`.
    pub adoptions: Vec<Adoption>,
    /// Sentences for stderr: live grants the file cannot reproduce, and what the next plan does.
    pub warnings: Vec<String>,
}

/// A grant whose (license, principal) the file may claim.
fn claimable(g: &Grant) -> bool {
    !g.status.is_terminal()
        && !matches!(
            g.status,
            GrantStatus::PendingDelete | GrantStatus::FailedWorkflow
        )
}

/// The model key a managed grant name carries: `{prefix}-{key}-{principal id}`.
fn key_in_name(prefix: &str, g: &Grant) -> Option<ModelKey> {
    let rest = g.name.strip_prefix(prefix)?.strip_prefix('-')?;
    let key = rest
        .strip_suffix(g.principal.short_id())?
        .strip_suffix('-')?;
    ModelKey::parse(key)
}

/// One license's grants, on the way to a model.
struct Draft<'a> {
    /// Managed grants (any status but DELETED/REJECTED).
    managed: Vec<&'a Grant>,
    /// Foreign grants the file may claim (only with `include_unmanaged`).
    foreign: Vec<&'a Grant>,
    /// `managed` by principal, in the same order.
    managed_by: BTreeMap<&'a Principal, Vec<&'a Grant>>,
    /// The first of `foreign` to each principal.
    foreign_by: BTreeMap<&'a Principal, &'a Grant>,
}

impl<'a> Draft<'a> {
    /// The managed grants to `p`.
    fn managed_on(&self, p: &Principal) -> &[&'a Grant] {
        self.managed_by.get(p).map_or(&[], Vec::as_slice)
    }

    fn index(&mut self) {
        for &g in &self.managed {
            self.managed_by.entry(&g.principal).or_default().push(g);
        }
        for &g in &self.foreign {
            self.foreign_by.entry(&g.principal).or_insert(g);
        }
    }
}

/// Derives a desired-state file from `live`. See the module docs.
pub fn import(live: &Live, opts: &ImportOptions) -> Imported {
    let mut warnings = Vec::new();
    let (drafts, skipped_foreign) = drafts(live, opts, &mut warnings);
    let keys = keys(live, opts, &drafts);
    let operations = operations(&drafts, opts.adopt);
    let ctx = ModelContext {
        live,
        opts,
        operations: &operations,
        path_count: unique_paths(&live.organization),
    };
    let mut models = Vec::new();
    let mut adoptions = Vec::new();
    for (license, draft) in &drafts {
        let key = keys[*license].clone();
        if let Some(model) = ctx.model(license, draft, key, &mut adoptions, &mut warnings) {
            models.push(model);
        }
    }
    models.sort_by(|a, b| a.key.value.cmp(&b.key.value));
    adoptions.sort_by(|a, b| (&a.model, &a.principal).cmp(&(&b.model, &b.principal)));
    if skipped_foreign > 0 {
        warnings.push(format!(
            "{skipped_foreign} grant(s) without the prefix {:?} are not managed and left out of the file \
             (--include-unmanaged writes their targets too)",
            opts.prefix
        ));
    }
    Imported {
        config: Config {
            version: crate::config::SUPPORTED_VERSION,
            settings: settings(live, opts, &drafts, operations),
            models,
        },
        adoptions,
        warnings,
    }
}

type Drafts<'a> = BTreeMap<&'a LicenseArn, Draft<'a>>;

/// Grants by license, for the licenses the file can name; also how many foreign grants were skipped.
fn drafts<'a>(
    live: &'a Live,
    opts: &ImportOptions,
    warnings: &mut Vec<String>,
) -> (Drafts<'a>, usize) {
    let is_managed = |g: &Grant| crate::org::is_managed_name(&opts.prefix, &g.name);
    let mut drafts: Drafts<'a> = BTreeMap::new();
    let mut skipped_foreign = 0usize;
    for g in live.grants.iter().filter(|g| !g.status.is_terminal()) {
        let managed = is_managed(g);
        if !managed && !opts.include_unmanaged {
            skipped_foreign += 1;
            continue;
        }
        let draft = drafts.entry(&g.license_arn).or_insert_with(|| Draft {
            managed: Vec::new(),
            foreign: Vec::new(),
            managed_by: BTreeMap::new(),
            foreign_by: BTreeMap::new(),
        });
        if managed {
            draft.managed.push(g);
        } else if claimable(g) {
            draft.foreign.push(g);
        }
    }
    drafts.retain(|license, draft| {
        if draft.managed.is_empty() && draft.foreign.is_empty() {
            return false;
        }
        let usable_license = live
            .licenses
            .iter()
            .find(|l| &l.arn == *license)
            .filter(|l| l.status == USABLE_LICENSE_STATUS && l.allows_create_grant());
        if usable_license.is_none() {
            warnings.push(format!(
                "license {license} is not a received {USABLE_LICENSE_STATUS} license this account may grant, \
                 so no model names it; the next plan deletes its {} managed grant(s)",
                draft.managed.len()
            ));
            return false;
        }
        true
    });
    for draft in drafts.values_mut() {
        draft.index();
    }
    (drafts, skipped_foreign)
}

/// Keys: those managed grant names carry first, then keys from product names.
fn keys(live: &Live, opts: &ImportOptions, drafts: &Drafts<'_>) -> BTreeMap<LicenseArn, ModelKey> {
    let mut keys: BTreeMap<LicenseArn, ModelKey> = BTreeMap::new();
    let mut taken: BTreeSet<ModelKey> = BTreeSet::new();
    for (license, draft) in drafts {
        let mut votes: BTreeMap<ModelKey, usize> = BTreeMap::new();
        for g in &draft.managed {
            if let Some(k) = key_in_name(&opts.prefix, g) {
                *votes.entry(k).or_default() += 1;
            }
        }
        let best = votes
            .into_iter()
            .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)));
        if let Some((key, _)) = best
            && taken.insert(key.clone())
        {
            keys.insert((*license).clone(), key);
        }
    }
    for license in drafts.keys() {
        if keys.contains_key(*license) {
            continue;
        }
        let product = live
            .licenses
            .iter()
            .find(|l| &l.arn == *license)
            .map(|l| l.product_name.as_str())
            .unwrap_or_default();
        let base = names::key_from_product_name(product)
            .unwrap_or_else(|| ModelKey::parse("model").expect("a literal key"));
        keys.insert((*license).clone(), names::unique_key(&base, &mut taken));
    }
    keys
}

/// The grants whose operations and status count: the managed ones, and the foreign ones when adopting.
fn counted<'g>(draft: &Draft<'g>, adopt: bool) -> Vec<&'g Grant> {
    let mut v: Vec<&Grant> = draft.managed.clone();
    if adopt {
        v.extend(draft.foreign.iter().copied());
    }
    v
}

/// The operations most managed grants allow become settings.allowed_operations.
fn operations(drafts: &Drafts<'_>, adopt: bool) -> BTreeSet<String> {
    let mut op_votes: BTreeMap<BTreeSet<String>, usize> = BTreeMap::new();
    for draft in drafts.values() {
        for g in counted(draft, adopt) {
            if g.operations
                .iter()
                .all(|o| KNOWN_OPERATIONS.contains(&o.as_str()))
                && !g.operations.is_empty()
            {
                *op_votes.entry(g.operations.clone()).or_default() += 1;
            }
        }
    }
    let defaults = Settings::default();
    op_votes
        .into_iter()
        .max_by(|a, b| {
            a.1.cmp(&b.1)
                .then_with(|| {
                    (a.0 == defaults.allowed_operations).cmp(&(b.0 == defaults.allowed_operations))
                })
                .then_with(|| b.0.cmp(&a.0))
        })
        .map_or_else(|| defaults.allowed_operations.clone(), |(ops, _)| ops)
}

/// How many OUs each OU path names (a path naming exactly one can stand for it).
fn unique_paths(org: &crate::model::Organization) -> BTreeMap<String, usize> {
    let mut path_count: BTreeMap<String, usize> = BTreeMap::new();
    for ou in org.ous.keys() {
        *path_count.entry(ou_path(org, ou)).or_default() += 1;
    }
    path_count
}

/// The principals of `kept` other than `p` whose grant covers `p`'s: the organization's, and
/// those of the OUs on `p`'s path (found through `kept_by`, not by trying every pair).
fn containers<'p>(
    org: &crate::model::Organization,
    p: &Principal,
    kept_by: &BTreeMap<&str, Vec<&'p Principal>>,
) -> Vec<&'p Principal> {
    let path: Vec<&str> = match p {
        Principal::Organization { .. } => Vec::new(),
        Principal::Ou { ou, .. } => {
            let mut path = vec![ou.as_str()];
            if let Some(unit) = org.ous.get(ou) {
                path.extend(org_path(org, &unit.parent));
            }
            path
        }
        Principal::Account(a) => org
            .accounts
            .get(a)
            .map(|acct| org_path(org, &acct.parent))
            .unwrap_or_default(),
    };
    path.into_iter()
        .chain(std::iter::once(ORGANIZATION))
        .filter_map(|node| kept_by.get(node))
        .flatten()
        .copied()
        .filter(|q| *q != p && principal_within(org, p, q))
        .collect()
}

/// The key of the organization's principals in `containers`' index.
const ORGANIZATION: &str = "";

/// The OU ids above `parent` (itself first when it is an OU).
fn org_path<'o>(org: &'o crate::model::Organization, parent: &ParentId) -> Vec<&'o str> {
    let mut path = Vec::new();
    let mut current = parent;
    while let ParentId::Ou(ou) = current {
        let Some((id, unit)) = org.ous.get_key_value(ou) else {
            break;
        };
        if path.len() > org.ous.len() {
            break; // a cycle in malformed input
        }
        path.push(id.as_str());
        current = &unit.parent;
    }
    path
}

/// `kept` by the node each names: an OU's id, or [`ORGANIZATION`].
fn by_node<'p>(kept: &[&'p Principal]) -> BTreeMap<&'p str, Vec<&'p Principal>> {
    let mut by: BTreeMap<&str, Vec<&Principal>> = BTreeMap::new();
    for p in kept {
        match p {
            Principal::Organization { .. } => by.entry(ORGANIZATION).or_default().push(*p),
            Principal::Ou { ou, .. } => by.entry(ou.as_str()).or_default().push(*p),
            Principal::Account(_) => {}
        }
    }
    by
}

/// What one model is made from, shared by every license.
struct ModelContext<'a> {
    live: &'a Live,
    opts: &'a ImportOptions,
    operations: &'a BTreeSet<String>,
    path_count: BTreeMap<String, usize>,
}

impl ModelContext<'_> {
    /// One license's model (None when no target is left), with its adoptions and warnings.
    fn model(
        &self,
        license: &LicenseArn,
        draft: &Draft<'_>,
        key: ModelKey,
        adoptions: &mut Vec<Adoption>,
        warnings: &mut Vec<String>,
    ) -> Option<ModelSpec> {
        let mut principals: BTreeSet<&Principal> = BTreeSet::new();
        for g in draft
            .managed
            .iter()
            .filter(|g| claimable(g) || g.status == GrantStatus::FailedWorkflow)
        {
            principals.insert(&g.principal);
        }
        for g in &draft.foreign {
            principals.insert(&g.principal);
        }
        let kept = self.nameable(&key, draft, &principals, warnings);
        let outer = self.outermost(&key, draft, &kept, warnings);
        let status = self.status(&key, draft, &outer, warnings);
        self.rename_warnings(&key, draft, &outer, warnings);
        self.adoptions(&key, draft, &outer, adoptions);
        if outer.is_empty() {
            return None;
        }
        let span = Span::default();
        Some(ModelSpec {
            grant_to: self.grant_to(&outer),
            key: Spanned::new(key, span),
            license: Spanned::new(selector(self.live, license), span),
            except_accounts: Vec::new(),
            status,
            bedrock_model_ids: Vec::new(),
            marketplace_product_id: None,
            subscribe: None,
        })
    }

    /// Why the file cannot name `p`, if it cannot.
    fn problem(&self, p: &Principal) -> Option<String> {
        let org = &self.live.organization;
        match p {
            Principal::Organization { org: id, .. } if *id != org.id => {
                Some(format!("it goes to another organization ({id})"))
            }
            Principal::Ou { ou, .. } if !org.ous.contains_key(ou) => {
                Some(format!("OU {ou} is not in organization {}", org.id))
            }
            Principal::Account(a) if !org.accounts.contains_key(a) => {
                Some(format!("account {a} is not in organization {}", org.id))
            }
            Principal::Account(a) if *a == self.live.caller => {
                Some(format!("account {a} is the grantor, which needs no grant"))
            }
            Principal::Account(a)
                if org.accounts.get(a).is_some_and(|acct| !usable(&acct.state)) =>
            {
                Some(format!(
                    "account {a} is {} and cannot receive a grant",
                    org.accounts[a].state.as_str()
                ))
            }
            _ => None,
        }
    }

    /// Drops what the file cannot name, with a warning for each managed grant left out.
    fn nameable<'p>(
        &self,
        key: &ModelKey,
        draft: &Draft<'_>,
        principals: &BTreeSet<&'p Principal>,
        warnings: &mut Vec<String>,
    ) -> Vec<&'p Principal> {
        let mut kept: Vec<&Principal> = Vec::new();
        for p in principals {
            match self.problem(p) {
                Some(why) => {
                    for g in draft.managed_on(p) {
                        warnings.push(format!(
                            "model {key}: grant {:?} ({}) is left out of the file because {why}; the next plan deletes it",
                            g.name, g.arn
                        ));
                    }
                }
                None => kept.push(p),
            }
        }
        kept
    }

    /// Drops what another target already covers, with a warning for each managed grant left out.
    fn outermost<'p>(
        &self,
        key: &ModelKey,
        draft: &Draft<'_>,
        kept: &[&'p Principal],
        warnings: &mut Vec<String>,
    ) -> Vec<&'p Principal> {
        let org = &self.live.organization;
        let kept_by = by_node(kept);
        let outer: Vec<&Principal> = kept
            .iter()
            .copied()
            .filter(|p| containers(org, p, &kept_by).is_empty())
            .collect();
        let outer_by = by_node(&outer);
        let outer_set: BTreeSet<&Principal> = outer.iter().copied().collect();
        for p in kept.iter().filter(|p| !outer_set.contains(*p)) {
            // The first container in the file's order (`outer` is sorted).
            let container = containers(org, p, &outer_by)
                .into_iter()
                .min()
                .map(|q| describe_principal(org, q))
                .unwrap_or_default();
            for g in draft.managed_on(p) {
                warnings.push(format!(
                    "model {key}: grant {:?} ({}) to {} is redundant next to the grant to {container}; \
                     the file names only the latter, so the next plan deletes it",
                    g.name,
                    g.arn,
                    describe_principal(org, p)
                ));
            }
        }
        outer
    }

    /// Status: what the grants the file keeps say (with warnings for what the next plan changes).
    fn status(
        &self,
        key: &ModelKey,
        draft: &Draft<'_>,
        outer: &[&Principal],
        warnings: &mut Vec<String>,
    ) -> DesiredStatus {
        let operations = self.operations;
        let outer: BTreeSet<&Principal> = outer.iter().copied().collect();
        let in_file: Vec<&Grant> = counted(draft, self.opts.adopt)
            .into_iter()
            .filter(|g| outer.contains(&g.principal))
            .collect();
        let active = in_file.iter().filter(|g| g.status.is_effective()).count();
        let disabled = in_file
            .iter()
            .filter(|g| g.status == GrantStatus::Disabled)
            .count();
        if disabled > 0 && active > 0 {
            warnings.push(format!(
                "model {key}: {active} grant(s) are active and {disabled} disabled; the file says active, \
                 so the next plan activates the disabled ones"
            ));
        }
        for g in &in_file {
            if g.status == GrantStatus::FailedWorkflow {
                warnings.push(format!(
                    "model {key}: grant {:?} ({}) is FAILED_WORKFLOW; the next plan recreates it",
                    g.name, g.arn
                ));
            }
            if !g.operations.is_empty() && g.operations != *operations {
                warnings.push(format!(
                    "model {key}: grant {:?} ({}) allows {} while the file allows {}; the next plan updates it",
                    g.name,
                    g.arn,
                    join(&g.operations),
                    join(operations)
                ));
            }
        }
        if disabled > 0 && active == 0 {
            DesiredStatus::Disabled
        } else {
            DesiredStatus::Active
        }
    }

    /// A warning for each managed grant the next plan renames.
    fn rename_warnings(
        &self,
        key: &ModelKey,
        draft: &Draft<'_>,
        outer: &[&Principal],
        warnings: &mut Vec<String>,
    ) {
        let outer: BTreeSet<&Principal> = outer.iter().copied().collect();
        for g in draft
            .managed
            .iter()
            .filter(|g| outer.contains(&g.principal))
        {
            let wanted = grant_name(&self.opts.prefix, key, &g.principal);
            if g.name != wanted && claimable(g) {
                warnings.push(format!(
                    "model {key}: managed grant {:?} ({}) is not named {wanted:?}; the next plan renames it",
                    g.name, g.arn
                ));
            }
        }
    }

    /// Foreign grants the file now claims, on pairs without a managed grant.
    fn adoptions(
        &self,
        key: &ModelKey,
        draft: &Draft<'_>,
        outer: &[&Principal],
        adoptions: &mut Vec<Adoption>,
    ) {
        for p in outer {
            if draft.managed_on(p).iter().copied().any(claimable) {
                continue;
            }
            if let Some(g) = draft.foreign_by.get(*p) {
                adoptions.push(Adoption {
                    model: key.clone(),
                    grant_arn: g.arn.clone(),
                    principal: g.principal.clone(),
                    old_name: g.name.clone(),
                    new_name: grant_name(&self.opts.prefix, key, &g.principal),
                    version: g.version.clone(),
                });
            }
        }
    }

    /// The file's targets for the outermost principals, sorted.
    fn grant_to(&self, outer: &[&Principal]) -> GrantTo {
        let org = &self.live.organization;
        let span = Span::default();
        let mut grant_to = GrantTo::default();
        let mut ous: Vec<OuRef> = Vec::new();
        let mut accounts: Vec<AccountRef> = Vec::new();
        for p in outer {
            match p {
                Principal::Organization { .. } => grant_to.organization = Some(span),
                Principal::Ou { ou, .. } => {
                    let path = ou_path(org, ou);
                    ous.push(if self.path_count.get(&path) == Some(&1) {
                        OuRef::Path(path)
                    } else {
                        OuRef::Id(ou.clone())
                    });
                }
                Principal::Account(a) => accounts.push(AccountRef::Id(a.clone())),
            }
        }
        let ou_text = |o: &OuRef| match o {
            OuRef::Id(id) => id.to_string(),
            OuRef::Path(p) => p.clone(),
        };
        ous.sort_by_key(ou_text);
        accounts.sort();
        grant_to.organizational_units = ous.into_iter().map(|o| Spanned::new(o, span)).collect();
        grant_to.accounts = accounts
            .into_iter()
            .map(|a| Spanned::new(a, span))
            .collect();
        grant_to
    }
}

/// Settings: the prefix, the operations most grants allow, and the home region when only one is seen.
fn settings(
    live: &Live,
    opts: &ImportOptions,
    drafts: &Drafts<'_>,
    operations: BTreeSet<String>,
) -> Settings {
    let home_regions: BTreeSet<&str> = drafts
        .keys()
        .filter_map(|arn| live.licenses.iter().find(|l| &l.arn == *arn))
        .map(|l| l.home_region.as_str())
        .filter(|r| !r.is_empty())
        .collect();
    let mut settings = Settings {
        grant_name_prefix: opts.prefix.clone(),
        allowed_operations: operations,
        ..Settings::default()
    };
    if let [region] = home_regions.into_iter().collect::<Vec<_>>().as_slice() {
        settings.home_region = (*region).to_owned();
    }
    settings
}

/// `product_sku` when exactly one usable received license has it, else the license ARN.
fn selector(live: &Live, license: &LicenseArn) -> LicenseSelector {
    let sku = live
        .licenses
        .iter()
        .find(|l| &l.arn == license)
        .map(|l| l.product_sku.as_str())
        .unwrap_or_default();
    let same_sku = live
        .licenses
        .iter()
        .filter(|l| l.product_sku == sku && l.status == USABLE_LICENSE_STATUS)
        .count();
    if !sku.is_empty() && same_sku == 1 {
        LicenseSelector::ProductSku(sku.to_owned())
    } else {
        LicenseSelector::LicenseArn(license.clone())
    }
}

fn join(ops: &BTreeSet<String>) -> String {
    ops.iter().cloned().collect::<Vec<_>>().join(", ")
}
