//! The effective-access matrix: for every account of the organization and every model, whether
//! the account can use the model now, through which grant (an organization grant, an OU grant via
//! the OU's path, or an account grant) and in which status, and whether the file wants it so.
//!
//! Access is read per account ([`crate::plan::Holdings`]): an account grant counts with its own
//! status; an organization or OU grant counts for an account only where that account's share
//! (`ListReceivedGrantsForOrganization`, `Live::shares`) is ACTIVE. `WORKFLOW_COMPLETED` on the
//! parent says a distribution or a recall finished, not that every account has the model: a
//! member that keeps another active grant for the product (the one-active rule) holds a DISABLED
//! share, and is shown as "share not in effect". A parent with no share listed is judged by its
//! own status.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::invoke::{InvokeReader, InvokeState};
use super::{account_path, model_keys, ou_path, principal_within};
use crate::config::ModelKey;
use crate::model::{
    AccountId, AccountState, Grant, GrantArn, GrantStatus, LicenseArn, Live, Principal,
};
use crate::org::{Desired, covered_accounts};
use crate::plan::Holdings;

/// How a grant reaches an account.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Route {
    Organization,
    /// An OU grant: the OU and its path (`Root/Workloads/ML`); nested OUs are included.
    Ou {
        ou: crate::model::OuId,
        path: String,
    },
    Account,
}

/// One grant that reaches an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    pub route: Route,
    pub principal: Principal,
    pub grant_arn: GrantArn,
    pub grant_name: String,
    pub status: GrantStatus,
    /// The name carries the managed prefix.
    pub managed: bool,
    /// For an organization or OU grant: the status of this account's share, when one is listed.
    pub share: Option<GrantStatus>,
    /// The grant gives this account the model now (for an organization or OU grant: its share
    /// is ACTIVE, or no share is listed and the parent is in effect).
    pub in_effect: bool,
}

impl Reach {
    pub fn is_effective(&self) -> bool {
        self.in_effect
    }

    /// An organization or OU grant in effect as a whole whose share for this account is not.
    pub fn share_not_in_effect(&self) -> bool {
        !self.in_effect && self.status.is_effective() && self.share.is_some()
    }
}

/// Whether an account can use a model, in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CellState {
    /// The account is the grantor: it holds the subscription and needs no grant.
    Grantor,
    /// A grant in effect for the account reaches it (an ACTIVE account grant, or an
    /// organization or OU grant whose share for the account is ACTIVE).
    Granted,
    /// An organization or OU grant that is in effect reaches the account, but the account's own
    /// share of it is not ACTIVE (e.g. DISABLED by the one-active rule), and nothing else gives
    /// access.
    ShareNotInEffect,
    /// Grants reach the account but none is in effect (DISABLED, PENDING_…).
    Inactive,
    /// The account is suspended or closing and cannot use any model.
    Unusable,
    /// No grant reaches the account.
    None,
}

impl CellState {
    /// `yes` / `no`: can the account use the model now.
    pub fn has_access(self) -> bool {
        matches!(self, CellState::Grantor | CellState::Granted)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CellState::Grantor => "grantor",
            CellState::Granted => "granted",
            CellState::ShareNotInEffect => "share_not_in_effect",
            CellState::Inactive => "inactive",
            CellState::Unusable => "unusable",
            CellState::None => "none",
        }
    }
}

/// What the file says about one (account, model) cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    /// No model of the file uses this license (or no file was given).
    NotInFile,
    /// The file gives the account access, through this desired principal.
    Yes(Principal),
    /// The model's `except_accounts` leaves the account out.
    Excluded,
    /// The model wants its grants disabled.
    Disabled,
    /// The model's targets do not reach the account.
    NotTargeted,
}

/// One (account, model) cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub state: CellState,
    /// The second layer: may the account invoke the model, as the SCPs along its path read
    /// ([`super::invoke`]); `None` when the SCPs were not read (guardrails off).
    pub invoke: Option<InvokeState>,
    /// Every non-terminal grant that reaches the account: grants in effect first, then by route
    /// (organization, OUs from the outermost, account), then by ARN.
    pub via: Vec<Reach>,
    pub wanted: Wanted,
}

/// Where the two layers disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Leak {
    /// The account may invoke the model but holds no grant: it would pay public rates, outside
    /// the negotiated terms.
    WithoutTerms,
    /// The account is entitled (a grant in effect) but an SCP denies it.
    EntitledButDenied,
}

impl Leak {
    pub fn as_str(self) -> &'static str {
        match self {
            Leak::WithoutTerms => "can_invoke_without_terms",
            Leak::EntitledButDenied => "entitled_but_denied",
        }
    }
}

impl Cell {
    /// The leak the two layers show, if any (only where the SCPs were read).
    pub fn leak(&self) -> Option<Leak> {
        let invoke = self.invoke.as_ref()?;
        match (self.state, invoke) {
            (CellState::Grantor | CellState::Unusable, _) => None,
            (CellState::Granted, InvokeState::Denied { .. }) => Some(Leak::EntitledButDenied),
            (CellState::Granted, _) => None,
            (_, i) if i.may_invoke() => Some(Leak::WithoutTerms),
            _ => None,
        }
    }

    /// The grant that provides access (the first in effect), if any.
    pub fn provider(&self) -> Option<&Reach> {
        self.via.iter().find(|r| r.is_effective())
    }
}

/// A column of the matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatrixModel {
    /// The file's model key, or one derived from the product name (`in_file` false).
    pub key: ModelKey,
    pub license: LicenseArn,
    pub product_name: String,
    pub in_file: bool,
}

/// A row of the matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub account: AccountId,
    pub name: String,
    pub state: AccountState,
    /// `Root` or the path of the account's OU.
    pub path: String,
    /// One per model, in the order of [`AccessMatrix::models`].
    pub cells: Vec<Cell>,
}

/// Accounts × models.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessMatrix {
    pub organization: crate::model::OrgId,
    pub grantor: AccountId,
    /// Sorted by key.
    pub models: Vec<MatrixModel>,
    /// Sorted by account id.
    pub rows: Vec<Row>,
}

impl AccessMatrix {
    /// Only the model with this key (an unknown key leaves no model).
    pub fn only_model(&mut self, key: &str) {
        let keep: Vec<bool> = self.models.iter().map(|m| m.key.as_str() == key).collect();
        self.models.retain(|m| m.key.as_str() == key);
        for row in &mut self.rows {
            let mut i = 0;
            row.cells.retain(|_| {
                i += 1;
                keep[i - 1]
            });
        }
    }

    /// Only this account's row.
    pub fn only_account(&mut self, account: &AccountId) {
        self.rows.retain(|r| &r.account == account);
    }
}

/// The matrix of `live`, with what `desired` (when a file was given) wants. Columns: every
/// model of the file, and every received license that has a grant not yet DELETED or
/// REJECTED; rows: every account of the organization.
pub fn matrix(live: &Live, desired: Option<&Desired>, prefix: &str) -> AccessMatrix {
    let org = &live.organization;
    let keys = model_keys(desired, live);
    let desired_by_license: BTreeMap<&LicenseArn, &crate::org::DesiredModel> = desired
        .map(|d| d.models.values().map(|m| (&m.license, m)).collect())
        .unwrap_or_default();

    let mut grants_by_license: BTreeMap<&LicenseArn, Vec<&Grant>> = BTreeMap::new();
    for g in live.grants.iter().filter(|g| !g.status.is_terminal()) {
        grants_by_license.entry(&g.license_arn).or_default().push(g);
    }
    let mut licenses: BTreeSet<&LicenseArn> = grants_by_license.keys().copied().collect();
    licenses.extend(desired_by_license.keys().copied());

    let models = columns(live, licenses, &keys, &desired_by_license);

    // Which accounts each grant reaches, computed once per grant; for which it is in effect,
    // from the shares.
    let holdings = Holdings::new(live);
    let reached: BTreeMap<&GrantArn, Coverage> = live
        .grants
        .iter()
        .filter(|g| !g.status.is_terminal())
        .map(|g| {
            let coverage = Coverage {
                reaches: covered_accounts(org, &g.principal),
                in_effect: holdings.in_effect(g),
            };
            (&g.arn, coverage)
        })
        .collect();
    let invoke = live
        .guardrails
        .as_ref()
        .map(|g| InvokeReader::new(org, g, guardrail_prefix(desired)));
    let ctx = CellContext {
        live,
        invoke: invoke.as_ref(),
        model_ids: desired.map(|d| &d.guardrails.models),
        holdings: &holdings,
        prefix,
        reaching: reaching(org, &grants_by_license, &reached),
        reached: &reached,
        desired_by_license: &desired_by_license,
    };
    let rows = org
        .accounts
        .values()
        .map(|account| Row {
            account: account.id.clone(),
            name: account.name.clone(),
            state: account.state.clone(),
            path: account_path(org, &account.id).unwrap_or_default(),
            cells: models.iter().map(|m| ctx.cell(account, m)).collect(),
        })
        .collect();

    AccessMatrix {
        organization: org.id.clone(),
        grantor: live.caller.clone(),
        models,
        rows,
    }
}

/// The matrix's columns, sorted by key then license.
fn columns(
    live: &Live,
    licenses: BTreeSet<&LicenseArn>,
    keys: &BTreeMap<LicenseArn, ModelKey>,
    desired_by_license: &BTreeMap<&LicenseArn, &crate::org::DesiredModel>,
) -> Vec<MatrixModel> {
    let mut models: Vec<MatrixModel> = licenses
        .into_iter()
        .map(|arn| MatrixModel {
            key: keys
                .get(arn)
                .cloned()
                .unwrap_or_else(|| ModelKey::parse("unknown-license").expect("a literal key")),
            license: arn.clone(),
            product_name: live
                .licenses
                .iter()
                .find(|l| &l.arn == arn)
                .map(|l| l.product_name.clone())
                .unwrap_or_default(),
            in_file: desired_by_license.contains_key(arn),
        })
        .collect();
    models.sort_by(|a, b| a.key.cmp(&b.key).then_with(|| a.license.cmp(&b.license)));
    models
}

/// For each (license, account), the license's grants that reach the account.
fn reaching<'a>(
    org: &'a crate::model::Organization,
    grants_by_license: &BTreeMap<&'a LicenseArn, Vec<&'a Grant>>,
    reached: &BTreeMap<&'a GrantArn, Coverage>,
) -> HashMap<(&'a LicenseArn, &'a AccountId), Vec<&'a Grant>> {
    let mut out: HashMap<(&LicenseArn, &AccountId), Vec<&Grant>> = HashMap::new();
    for (license, grants) in grants_by_license {
        for g in grants {
            let Some(coverage) = reached.get(&g.arn) else {
                continue;
            };
            for account in &coverage.reaches {
                // The organization's own key, so the map borrows nothing from `reached`.
                if let Some((id, _)) = org.accounts.get_key_value(account) {
                    out.entry((*license, id)).or_default().push(g);
                }
            }
        }
    }
    out
}

/// The accounts a grant reaches, and those for which it is in effect.
struct Coverage {
    reaches: BTreeSet<AccountId>,
    in_effect: BTreeSet<AccountId>,
}

/// What every cell of one matrix is computed from.
struct CellContext<'a> {
    live: &'a Live,
    invoke: Option<&'a InvokeReader<'a>>,
    model_ids: Option<&'a BTreeMap<ModelKey, crate::org::GuardedModel>>,
    holdings: &'a Holdings<'a>,
    prefix: &'a str,
    /// (license, account) → the grants of the license that reach the account, in grant order:
    /// the inverse of `reached`, so that a cell reads only its own grants.
    reaching: HashMap<(&'a LicenseArn, &'a AccountId), Vec<&'a Grant>>,
    reached: &'a BTreeMap<&'a GrantArn, Coverage>,
    desired_by_license: &'a BTreeMap<&'a LicenseArn, &'a crate::org::DesiredModel>,
}

impl CellContext<'_> {
    fn cell(&self, account: &crate::model::OrgAccount, m: &MatrixModel) -> Cell {
        let grants = self
            .reaching
            .get(&(&m.license, &account.id))
            .map(Vec::as_slice)
            .unwrap_or_default();
        let mut via: Vec<Reach> = grants
            .iter()
            .filter_map(|g| {
                let coverage = self.reached.get(&g.arn)?;
                let in_effect = coverage.in_effect.contains(&account.id);
                let share = self.holdings.share_status(&g.arn, &account.id).cloned();
                Some(reach(self.live, g, self.prefix, share, in_effect))
            })
            .collect();
        via.sort_by(|a, b| {
            (!a.is_effective(), &a.route, &a.grant_arn).cmp(&(
                !b.is_effective(),
                &b.route,
                &b.grant_arn,
            ))
        });
        let state = if account.id == self.live.caller {
            CellState::Grantor
        } else if !super::usable(&account.state) {
            CellState::Unusable
        } else if via.iter().any(Reach::is_effective) {
            CellState::Granted
        } else if via.is_empty() {
            CellState::None
        } else if via.iter().any(Reach::share_not_in_effect) {
            CellState::ShareNotInEffect
        } else {
            CellState::Inactive
        };
        let wanted = match self.desired_by_license.get(&m.license) {
            None => Wanted::NotInFile,
            Some(d) => wanted(self.live, d, &account.id),
        };
        let invoke = self.invoke.map(|reader| {
            let ids = self
                .model_ids
                .filter(|_| m.in_file)
                .and_then(|ids| ids.get(&m.key))
                .map(|g| g.bedrock_model_ids.as_slice())
                .unwrap_or_default();
            reader.state(&account.id, ids)
        });
        Cell {
            state,
            invoke,
            via,
            wanted,
        }
    }
}

/// `settings.guardrails.policy_name_prefix` of the file, or the default without one.
fn guardrail_prefix(desired: Option<&Desired>) -> &str {
    desired.map_or("bedrock-entitlements", |d| {
        d.guardrails.settings.policy_name_prefix.as_str()
    })
}

fn reach(
    live: &Live,
    g: &Grant,
    prefix: &str,
    share: Option<GrantStatus>,
    in_effect: bool,
) -> Reach {
    let route = match &g.principal {
        Principal::Organization { .. } => Route::Organization,
        Principal::Ou { ou, .. } => Route::Ou {
            ou: ou.clone(),
            path: ou_path(&live.organization, ou),
        },
        Principal::Account(_) => Route::Account,
    };
    Reach {
        route,
        principal: g.principal.clone(),
        grant_arn: g.arn.clone(),
        grant_name: g.name.clone(),
        status: g.status.clone(),
        managed: crate::org::is_managed_name(prefix, &g.name),
        share,
        in_effect,
    }
}

fn wanted(live: &Live, model: &crate::org::DesiredModel, account: &AccountId) -> Wanted {
    if model.excluded.contains(account) {
        return Wanted::Excluded;
    }
    let org = &live.organization;
    let principal = Principal::Account(account.clone());
    // Principals sort organization, OUs, then accounts, and an account principal contains only
    // itself: the containers are tried in order, then the account is looked up (a file that
    // lists thousands of accounts is not scanned per cell).
    let found = model
        .principals
        .iter()
        .take_while(|p| !matches!(p, Principal::Account(_)))
        .find(|p| principal_within(org, &principal, p))
        .or_else(|| model.principals.get(&principal));
    match found {
        Some(_) if model.status == crate::config::DesiredStatus::Disabled => Wanted::Disabled,
        Some(p) => Wanted::Yes(p.clone()),
        None => Wanted::NotTargeted,
    }
}

/// One sentence per reason: why the account of `row` can or cannot use model `i`.
pub fn explain(matrix: &AccessMatrix, row: &Row, i: usize) -> Vec<String> {
    let cell = &row.cells[i];
    let model = &matrix.models[i];
    let mut out = Vec::new();
    state_lines(row, cell, model, &mut out);
    also_lines(cell, &mut out);
    drift_lines(cell, model, &mut out);
    invoke_lines(cell, &mut out);
    out
}

/// How a grant reaches the account, in words.
fn route_words(r: &Reach) -> String {
    match &r.route {
        Route::Organization => "the organization grant".to_owned(),
        Route::Ou { path, ou } => format!("the grant to OU {path} ({ou})"),
        Route::Account => "its account grant".to_owned(),
    }
}

/// A grant: name, ARN, status and whether the tool owns it.
fn grant_words(r: &Reach) -> String {
    format!(
        "{:?} ({}, {}{})",
        r.grant_name,
        r.grant_arn,
        r.status,
        if r.managed { "" } else { ", not managed" }
    )
}

/// The first line: yes or no, and through what (or why not).
fn state_lines(row: &Row, cell: &Cell, model: &MatrixModel, out: &mut Vec<String>) {
    let route = route_words;
    let grant = grant_words;
    match cell.state {
        CellState::Grantor => out.push(format!(
            "yes: account {} is the grantor, which holds the subscription and needs no grant",
            row.account
        )),
        CellState::Unusable => out.push(format!(
            "no: the account is {} and cannot use any model",
            row.state.as_str()
        )),
        CellState::Granted => {
            let r = cell.provider().expect("a granted cell has a grant in effect");
            out.push(format!("yes: through {} {}", route(r), grant(r)));
        }
        CellState::ShareNotInEffect | CellState::Inactive => {
            for r in &cell.via {
                out.push(format!("no: {} {} {}", route(r), grant(r), not_in_effect(r)));
            }
        }
        CellState::None => out.push(match &cell.wanted {
            Wanted::NotInFile => {
                "no: no grant covers it, and no model in the file uses this license".to_owned()
            }
            Wanted::Excluded => format!(
                "no: model {} leaves it out with except_accounts, and no grant covers it",
                model.key
            ),
            Wanted::Yes(p) => format!(
                "no: no grant covers it yet, though model {} grants it through {}: run apply",
                model.key,
                super::describe_principal_short(p)
            ),
            Wanted::Disabled => format!(
                "no: no grant covers it (model {} is disabled in the file)",
                model.key
            ),
            Wanted::NotTargeted => format!(
                "no: no grant covers it: model {} targets neither the account, nor an OU that contains it, nor the organization",
                model.key
            ),
        }),
    }
}

/// What else reaches the account, beyond the grant named above.
fn also_lines(cell: &Cell, out: &mut Vec<String>) {
    let route = route_words;
    let grant = grant_words;
    if cell.state == CellState::Granted {
        for r in cell.via.iter().skip(1) {
            if r.is_effective() {
                out.push(format!("also: {} {}", route(r), grant(r)));
            } else {
                out.push(format!(
                    "not through: {} {} {}",
                    route(r),
                    grant(r),
                    not_in_effect(r)
                ));
            }
        }
    }
}

/// Where the file disagrees with what is live.
fn drift_lines(cell: &Cell, model: &MatrixModel, out: &mut Vec<String>) {
    let has = cell.state == CellState::Granted;
    match (&cell.wanted, has) {
        (Wanted::Excluded, true) => out.push(format!(
            "drift: model {} excludes the account with except_accounts, yet a grant reaches it",
            model.key
        )),
        (Wanted::NotTargeted, true) => out.push(format!(
            "drift: model {} does not target the account, yet a grant reaches it",
            model.key
        )),
        (Wanted::Disabled, true) => out.push(format!(
            "drift: model {} is disabled in the file, yet a grant in effect reaches the account",
            model.key
        )),
        (Wanted::Yes(p), false) if cell.state == CellState::ShareNotInEffect => {
            out.push(format!(
                "drift: model {} grants it through {}, but the account's share is not in effect",
                model.key,
                super::describe_principal_short(p)
            ));
        }
        (Wanted::Yes(p), false) if cell.state == CellState::Inactive => out.push(format!(
            "drift: model {} grants it through {}, so apply activates what it can",
            model.key,
            super::describe_principal_short(p)
        )),
        _ => {}
    }
}

/// The invoke layer, and the leak it makes with the grants.
fn invoke_lines(cell: &Cell, out: &mut Vec<String>) {
    if let Some(invoke) = &cell.invoke {
        out.push(invoke_line(invoke));
        match cell.leak() {
            Some(Leak::WithoutTerms) => out.push(
                "leak: the account can invoke the model without the negotiated terms (no grant in effect)".to_owned(),
            ),
            Some(Leak::EntitledButDenied) => out.push(
                "leak: the account is entitled, but a service control policy denies it".to_owned(),
            ),
            None => {}
        }
    }
}

/// The invoke layer in one sentence.
fn invoke_line(invoke: &InvokeState) -> String {
    match invoke {
        InvokeState::NotRestricted => {
            "may invoke: yes, service control policies do not restrict the management account"
                .to_owned()
        }
        InvokeState::Allowed => {
            "may invoke: yes, no service control policy on its path denies it".to_owned()
        }
        InvokeState::Denied { policy, managed } => format!(
            "may invoke: no, denied by {policy:?}{}",
            if *managed {
                " (the tool's guardrail)"
            } else {
                ""
            }
        ),
        InvokeState::Unknown { why } => format!("may invoke: unknown ({why})"),
    }
}

/// Why a grant that reaches an account gives it nothing: the account's share of an organization
/// or OU grant, or the grant's own status.
fn not_in_effect(r: &Reach) -> String {
    if r.share_not_in_effect() {
        let share = r.share.as_ref().map_or("", GrantStatus::as_str);
        return format!(
            "is in effect, but its share for the account is {share}: share not in effect \
             (an account that keeps another active grant for the product gets no active share)"
        );
    }
    match &r.status {
        GrantStatus::Disabled => "is DISABLED (accepted but not activated)",
        GrantStatus::PendingAccept => "waits for the account to accept it",
        GrantStatus::PendingWorkflow => "is still in an AWS workflow",
        GrantStatus::PendingDelete => "is being deleted",
        GrantStatus::FailedWorkflow => "failed (AWS could not distribute it)",
        _ => "is not in effect",
    }
    .to_owned()
}
