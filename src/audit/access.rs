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
//!
//! Rows borrow from the live state and the desired state instead of copying their strings (a
//! cell names its grant and its wanted principal by reference; OU paths are worked out once and
//! shared), and are made one at a time by [`Access`], so that the CSV and JSON writers never hold
//! more than one row of 10,000 accounts x 30 models; [`AccessMatrix`] holds every row for the
//! views that need them all (text, Markdown, HTML).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::invoke::{InvokeReader, InvokeState};
use super::{ROOT_NAME, ancestors, model_keys, ou_path, principal_within};
use crate::config::ModelKey;
use crate::model::{
    AccountId, AccountState, Grant, GrantStatus, LicenseArn, Live, OrgAccount, OrgId, Organization,
    OuId, ParentId, Principal,
};
use crate::org::{Desired, DesiredModel};
use crate::plan::Holdings;

/// How a grant reaches an account.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Route<'a> {
    Organization,
    /// An OU grant: the OU and its path (`Root/Workloads/ML`); nested OUs are included.
    Ou {
        ou: &'a OuId,
        path: Arc<str>,
    },
    Account,
}

/// One grant that reaches an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach<'a> {
    pub route: Route<'a>,
    /// The live grant (its principal, ARN, name and status).
    pub grant: &'a Grant,
    /// The name carries the managed prefix.
    pub managed: bool,
    /// For an organization or OU grant: the status of this account's share, when one is listed.
    pub share: Option<&'a GrantStatus>,
    /// The grant gives this account the model now (for an organization or OU grant: its share
    /// is ACTIVE, or no share is listed and the parent is in effect).
    pub in_effect: bool,
}

impl Reach<'_> {
    pub fn is_effective(&self) -> bool {
        self.in_effect
    }

    /// An organization or OU grant in effect as a whole whose share for this account is not.
    pub fn share_not_in_effect(&self) -> bool {
        !self.in_effect && self.grant.status.is_effective() && self.share.is_some()
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted<'a> {
    /// No model of the file uses this license (or no file was given).
    NotInFile,
    /// The file gives the account access, through this desired principal.
    Yes(&'a Principal),
    /// The model's `except_accounts` leaves the account out.
    Excluded,
    /// The model wants its grants disabled.
    Disabled,
    /// The model's targets do not reach the account.
    NotTargeted,
}

/// One (account, model) cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell<'a> {
    pub state: CellState,
    /// The second layer: may the account invoke the model, as the SCPs along its path read
    /// ([`super::invoke`]); `None` when the SCPs were not read (guardrails off).
    pub invoke: Option<InvokeState<'a>>,
    /// Every non-terminal grant that reaches the account: grants in effect first, then by route
    /// (organization, OUs, account), then by ARN.
    pub via: Vec<Reach<'a>>,
    pub wanted: Wanted<'a>,
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

impl<'a> Cell<'a> {
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
    pub fn provider(&self) -> Option<&Reach<'a>> {
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
pub struct Row<'a> {
    pub account: &'a AccountId,
    pub name: &'a str,
    pub state: &'a AccountState,
    /// `Root` or the path of the account's OU.
    pub path: Arc<str>,
    /// One per model, in the order of the matrix's models.
    pub cells: Vec<Cell<'a>>,
}

/// What the renderers read of a matrix, whether its rows are held ([`AccessMatrix`]) or made as
/// they are read ([`Access`]).
pub trait AccessView {
    fn organization(&self) -> &OrgId;
    /// The account that holds the licenses.
    fn grantor(&self) -> &AccountId;
    /// The columns, sorted by key.
    fn models(&self) -> &[MatrixModel];
    /// Whether the cells carry the invoke layer (the SCPs were read).
    fn has_invoke(&self) -> bool;
    /// Calls `f` with every row in account order, until it fails.
    fn try_for_each_row<E>(&self, f: impl FnMut(&Row<'_>) -> Result<(), E>) -> Result<(), E>;
}

/// Accounts × models, every row held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessMatrix<'a> {
    pub organization: OrgId,
    pub grantor: AccountId,
    /// Sorted by key.
    pub models: Vec<MatrixModel>,
    /// Sorted by account id.
    pub rows: Vec<Row<'a>>,
}

impl AccessMatrix<'_> {
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
        self.rows.retain(|r| r.account == account);
    }
}

impl AccessView for AccessMatrix<'_> {
    fn organization(&self) -> &OrgId {
        &self.organization
    }

    fn grantor(&self) -> &AccountId {
        &self.grantor
    }

    fn models(&self) -> &[MatrixModel] {
        &self.models
    }

    fn has_invoke(&self) -> bool {
        self.rows
            .iter()
            .any(|r| r.cells.iter().any(|c| c.invoke.is_some()))
    }

    fn try_for_each_row<E>(&self, f: impl FnMut(&Row<'_>) -> Result<(), E>) -> Result<(), E> {
        self.rows.iter().try_for_each(f)
    }
}

/// The matrix of `live` with what `desired` (when a file was given) wants, every row held.
/// Columns: every model of the file, and every received license that has a grant not yet
/// DELETED or REJECTED; rows: every account of the organization.
pub fn matrix<'a>(
    live: &'a Live,
    desired: Option<&'a Desired>,
    prefix: &'a str,
) -> AccessMatrix<'a> {
    Access::new(live, desired, prefix).into_matrix()
}

/// The matrix's columns and what its rows are made from: a row is worked out when it is read
/// ([`AccessView::try_for_each_row`]), and none is kept.
pub struct Access<'a> {
    organization: &'a OrgId,
    grantor: &'a AccountId,
    models: Vec<MatrixModel>,
    /// The rows' accounts, by id.
    accounts: Vec<&'a OrgAccount>,
    cells: CellContext<'a>,
}

impl<'a> Access<'a> {
    /// The same columns and rows as [`matrix`].
    pub fn new(live: &'a Live, desired: Option<&'a Desired>, prefix: &'a str) -> Self {
        let org = &live.organization;
        let desired_by_license: BTreeMap<&LicenseArn, &DesiredModel> = desired
            .map(|d| d.models.values().map(|m| (&m.license, m)).collect())
            .unwrap_or_default();
        let grants: Vec<&Grant> = live
            .grants
            .iter()
            .filter(|g| !g.status.is_terminal())
            .collect();
        let mut licenses: Vec<&LicenseArn> = grants.iter().map(|g| &g.license_arn).collect();
        licenses.extend(desired_by_license.keys().copied());
        licenses.sort();
        licenses.dedup();
        let models = columns(live, desired, &licenses, &desired_by_license);
        let cells = CellContext {
            live,
            invoke: live
                .guardrails
                .as_ref()
                .map(|g| InvokeReader::new(org, g, guardrail_prefix(desired))),
            model_ids: desired.map(|d| &d.guardrails.models),
            holdings: Holdings::new(live),
            prefix,
            reaching: Reaching::new(org, grants),
            paths: Paths::new(org),
            desired_by_license,
        };
        Access {
            organization: &org.id,
            grantor: &live.caller,
            models,
            accounts: org.accounts.values().collect(),
            cells,
        }
    }

    /// Only the model with this key (an unknown key leaves no model).
    pub fn only_model(&mut self, key: &str) {
        self.models.retain(|m| m.key.as_str() == key);
    }

    /// Only this account's row.
    pub fn only_account(&mut self, account: &AccountId) {
        self.accounts.retain(|a| &a.id == account);
    }

    /// The number of rows.
    pub fn row_count(&self) -> usize {
        self.accounts.len()
    }

    /// Every row, in account order, made as it is read.
    pub fn rows(&self) -> impl Iterator<Item = Row<'a>> + '_ {
        self.accounts
            .iter()
            .map(|account| self.cells.row(&self.models, account))
    }

    /// Every row made and held.
    pub fn into_matrix(self) -> AccessMatrix<'a> {
        let rows = self.rows().collect();
        AccessMatrix {
            organization: self.organization.clone(),
            grantor: self.grantor.clone(),
            models: self.models,
            rows,
        }
    }
}

impl AccessView for Access<'_> {
    fn organization(&self) -> &OrgId {
        self.organization
    }

    fn grantor(&self) -> &AccountId {
        self.grantor
    }

    fn models(&self) -> &[MatrixModel] {
        &self.models
    }

    /// Every cell carries the invoke layer when the SCPs were read (and there is a cell).
    fn has_invoke(&self) -> bool {
        self.cells.invoke.is_some() && !self.models.is_empty() && !self.accounts.is_empty()
    }

    fn try_for_each_row<E>(&self, mut f: impl FnMut(&Row<'_>) -> Result<(), E>) -> Result<(), E> {
        self.rows().try_for_each(|row| f(&row))
    }
}

/// The matrix's columns, sorted by key then license.
fn columns(
    live: &Live,
    desired: Option<&Desired>,
    licenses: &[&LicenseArn],
    desired_by_license: &BTreeMap<&LicenseArn, &DesiredModel>,
) -> Vec<MatrixModel> {
    let keys = model_keys(desired, live);
    let mut models: Vec<MatrixModel> = licenses
        .iter()
        .map(|&arn| MatrixModel {
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

/// What a grant is to, as far as the accounts it reaches go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Holder<'a> {
    Organization,
    Ou(&'a OuId),
    Account(&'a AccountId),
}

/// The grants (not terminal) by what they are to: the grants that reach an account are those
/// to the account, to each OU above it and to the organization (as `org::covered_accounts`
/// reads a grant), found without a set of accounts per grant.
struct Reaching<'a> {
    /// Sorted by holder.
    grants: Vec<(Holder<'a>, &'a Grant)>,
}

impl<'a> Reaching<'a> {
    fn new(org: &'a Organization, grants: Vec<&'a Grant>) -> Self {
        let mut grants: Vec<(Holder<'a>, &'a Grant)> = grants
            .into_iter()
            .filter_map(|g| {
                let holder = match &g.principal {
                    Principal::Organization { org: id, .. } if *id == org.id => {
                        Holder::Organization
                    }
                    Principal::Ou { org: id, ou, .. }
                        if *id == org.id && org.ous.contains_key(ou) =>
                    {
                        Holder::Ou(ou)
                    }
                    Principal::Account(a) => Holder::Account(a),
                    _ => return None,
                };
                Some((holder, g))
            })
            .collect();
        grants.sort_by(|a, b| a.0.cmp(&b.0));
        Reaching { grants }
    }

    /// The grants to `holder`.
    fn to<'s>(&'s self, holder: Holder<'s>) -> impl Iterator<Item = &'a Grant> + 's {
        let start = self.grants.partition_point(|(h, _)| *h < holder);
        self.grants[start..]
            .iter()
            .take_while(move |(h, _)| *h == holder)
            .map(|(_, g)| *g)
    }

    /// Every grant that reaches `account` (an account of the organization), of any license.
    fn of(&self, org: &Organization, account: &OrgAccount) -> Vec<&'a Grant> {
        let mut out: Vec<&Grant> = self.to(Holder::Account(&account.id)).collect();
        for ou in ancestors(org, &account.parent) {
            out.extend(self.to(Holder::Ou(&ou)));
        }
        out.extend(self.to(Holder::Organization));
        out
    }
}

/// Every OU's path, worked out once and shared by the rows and routes that name it.
struct Paths {
    root: Arc<str>,
    ous: BTreeMap<OuId, Arc<str>>,
}

impl Paths {
    fn new(org: &Organization) -> Self {
        Paths {
            root: Arc::from(ROOT_NAME),
            ous: org
                .ous
                .keys()
                .map(|ou| (ou.clone(), Arc::from(ou_path(org, ou))))
                .collect(),
        }
    }

    fn ou(&self, org: &Organization, ou: &OuId) -> Arc<str> {
        self.ous
            .get(ou)
            .cloned()
            .unwrap_or_else(|| Arc::from(ou_path(org, ou)))
    }

    /// `Root` or the path of the account's OU.
    fn account(&self, org: &Organization, account: &OrgAccount) -> Arc<str> {
        match &account.parent {
            ParentId::Root(_) => self.root.clone(),
            ParentId::Ou(ou) => self.ou(org, ou),
        }
    }
}

/// What every cell of one matrix is computed from.
struct CellContext<'a> {
    live: &'a Live,
    invoke: Option<InvokeReader<'a>>,
    model_ids: Option<&'a BTreeMap<ModelKey, crate::org::GuardedModel>>,
    holdings: Holdings<'a>,
    prefix: &'a str,
    reaching: Reaching<'a>,
    paths: Paths,
    desired_by_license: BTreeMap<&'a LicenseArn, &'a DesiredModel>,
}

impl<'a> CellContext<'a> {
    fn row(&self, models: &[MatrixModel], account: &'a OrgAccount) -> Row<'a> {
        let org = &self.live.organization;
        let reaching = self.reaching.of(org, account);
        Row {
            account: &account.id,
            name: &account.name,
            state: &account.state,
            path: self.paths.account(org, account),
            cells: models
                .iter()
                .map(|m| self.cell(account, m, &reaching))
                .collect(),
        }
    }

    /// The cell of `account` and `m`, from the grants of any license that reach the account.
    fn cell(&self, account: &'a OrgAccount, m: &MatrixModel, reaching: &[&'a Grant]) -> Cell<'a> {
        let mut via: Vec<Reach<'a>> = reaching
            .iter()
            .filter(|g| g.license_arn == m.license)
            .map(|g| self.reach(g, &account.id))
            .collect();
        via.sort_by(|a, b| {
            (!a.is_effective(), &a.route, &a.grant.arn).cmp(&(
                !b.is_effective(),
                &b.route,
                &b.grant.arn,
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
            Some(d) => wanted(&self.live.organization, d, &account.id),
        };
        let invoke = self.invoke.as_ref().map(|reader| {
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

    fn reach(&self, g: &'a Grant, account: &AccountId) -> Reach<'a> {
        let route = match &g.principal {
            Principal::Organization { .. } => Route::Organization,
            Principal::Ou { ou, .. } => Route::Ou {
                ou,
                path: self.paths.ou(&self.live.organization, ou),
            },
            Principal::Account(_) => Route::Account,
        };
        Reach {
            route,
            grant: g,
            managed: crate::org::is_managed_name(self.prefix, &g.name),
            share: self.holdings.share_status(&g.arn, account),
            in_effect: self.holdings.in_effect_for(g, account),
        }
    }
}

/// `settings.guardrails.policy_name_prefix` of the file, or the default without one.
fn guardrail_prefix(desired: Option<&Desired>) -> &str {
    desired.map_or("bedrock-entitlements", |d| {
        d.guardrails.settings.policy_name_prefix.as_str()
    })
}

fn wanted<'a>(org: &Organization, model: &'a DesiredModel, account: &AccountId) -> Wanted<'a> {
    if model.excluded.contains(account) {
        return Wanted::Excluded;
    }
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
        Some(p) => Wanted::Yes(p),
        None => Wanted::NotTargeted,
    }
}

/// One sentence per reason: why the account of `row` can or cannot use model `i`.
pub fn explain(matrix: &(impl AccessView + ?Sized), row: &Row<'_>, i: usize) -> Vec<String> {
    let cell = &row.cells[i];
    let model = &matrix.models()[i];
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
        r.grant.name,
        r.grant.arn,
        r.grant.status,
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
        let share = r.share.map_or("", GrantStatus::as_str);
        return format!(
            "is in effect, but its share for the account is {share}: share not in effect \
             (an account that keeps another active grant for the product gets no active share)"
        );
    }
    match &r.grant.status {
        GrantStatus::Disabled => "is DISABLED (accepted but not activated)",
        GrantStatus::PendingAccept => "waits for the account to accept it",
        GrantStatus::PendingWorkflow => "is still in an AWS workflow",
        GrantStatus::PendingDelete => "is being deleted",
        GrantStatus::FailedWorkflow => "failed (AWS could not distribute it)",
        _ => "is not in effect",
    }
    .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cell names its grants and its wanted principal by reference: the matrix of 10,000
    /// accounts x 30 models held for the text, Markdown and HTML views stays a few tens of
    /// megabytes. A grant's principal (72 bytes), a cloned ARN or name (24 bytes each and a
    /// heap block) or a cloned principal in `Wanted` would break these bounds.
    #[test]
    fn cells_and_reaches_borrow_instead_of_copying() {
        let sizes = [
            ("Wanted", size_of::<Wanted>(), 16),
            ("Reach", size_of::<Reach>(), 56),
            ("Cell", size_of::<Cell>(), 80),
        ];
        for (name, size, bound) in sizes {
            assert!(size <= bound, "{name}: {size} bytes, more than {bound}");
        }
    }
}
