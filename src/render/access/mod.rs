//! `access`: the effective-access matrix (accounts × models) as text, CSV, JSON and Markdown,
//! and for one account the reasons it can or cannot use each model.

mod csv;
pub mod html;
mod json;
mod markdown;
mod text;

pub use csv::{csv, write_csv};
pub use json::{AccessDocument, json, write_json};
pub use markdown::markdown;
pub use text::{text, write_text};

use crate::audit::{AccessMatrix, Cell, CellState, InvokeState, Leak, Reach, Route, Wanted};

/// A few characters saying how an account gets a model: `org`, `ou:ML`, `account`, `grantor`,
/// `disabled`, `-`, ... A `*` marks a grant the tool does not manage, a `!` a cell where live
/// access differs from what the file wants.
pub fn cell_short(cell: &Cell) -> String {
    let route = |r: &Reach| -> String {
        let base = match &r.route {
            Route::Organization => "org".to_owned(),
            Route::Ou { path, .. } => {
                format!("ou:{}", path.rsplit('/').next().unwrap_or(path))
            }
            Route::Account => "account".to_owned(),
        };
        if r.managed { base } else { format!("{base}*") }
    };
    let mut s = match cell.state {
        CellState::Grantor => "grantor".to_owned(),
        CellState::Unusable => "unusable".to_owned(),
        CellState::Granted => route(cell.provider().expect("granted has a provider")),
        CellState::ShareNotInEffect => {
            let r = cell
                .via
                .iter()
                .find(|r| r.share_not_in_effect())
                .expect("a share_not_in_effect cell has such a grant");
            format!("no-share({})", route(r))
        }
        CellState::Inactive => {
            let r = &cell.via[0];
            format!(
                "{}({})",
                r.grant.status.as_str().to_ascii_lowercase(),
                route(r)
            )
        }
        CellState::None if cell.wanted == Wanted::Excluded => "excluded".to_owned(),
        CellState::None => "-".to_owned(),
    };
    if disagrees(cell) {
        s.push('!');
    }
    if let Some(invoke) = &cell.invoke {
        s.push_str(match invoke {
            InvokeState::NotRestricted => "",
            InvokeState::Allowed => "/invoke",
            InvokeState::Denied { .. } => "/deny",
            InvokeState::Unknown { .. } => "/?",
        });
        if cell.leak().is_some() {
            s.push('#');
        }
    }
    s
}

/// The second layer's legend, shown when the SCPs were read.
pub(super) const INVOKE_LEGEND: &str = "/invoke: may invoke (no SCP on its path denies it); /deny: an SCP denies it; /?: undecidable (a condition, NotAction/NotResource, or no bedrock_model_ids); #: a leak (can invoke without the negotiated terms, or entitled but denied)";

/// `Leaks: KEY: N can invoke without the negotiated terms (a, b); M entitled but denied (c).`
pub(super) fn leak_lines(m: &AccessMatrix) -> Vec<String> {
    let mut out = Vec::new();
    for (i, mm) in m.models.iter().enumerate() {
        let of = |leak: Leak| -> Vec<String> {
            m.rows
                .iter()
                .filter(|r| r.cells[i].leak() == Some(leak))
                .map(|r| r.account.to_string())
                .collect()
        };
        let without = of(Leak::WithoutTerms);
        let denied = of(Leak::EntitledButDenied);
        if !without.is_empty() {
            out.push(format!(
                "{}: {} can invoke without the negotiated terms ({})",
                mm.key,
                without.len(),
                without.join(", ")
            ));
        }
        if !denied.is_empty() {
            out.push(format!(
                "{}: {} entitled but denied ({})",
                mm.key,
                denied.len(),
                denied.join(", ")
            ));
        }
    }
    out
}

/// Live access differs from what the file wants (only for models of the file).
pub fn disagrees(cell: &Cell) -> bool {
    let has = cell.state == CellState::Granted;
    match &cell.wanted {
        Wanted::NotInFile => false,
        Wanted::Yes(_) => matches!(
            cell.state,
            CellState::None | CellState::Inactive | CellState::ShareNotInEffect
        ),
        Wanted::Excluded | Wanted::NotTargeted | Wanted::Disabled => has,
    }
}

pub(super) fn wanted_str(w: &Wanted) -> &'static str {
    match w {
        Wanted::NotInFile => "not_in_file",
        Wanted::Yes(_) => "yes",
        Wanted::Excluded => "excluded",
        Wanted::Disabled => "disabled",
        Wanted::NotTargeted => "not_targeted",
    }
}

pub(super) fn route_str(r: &Route) -> &'static str {
    match r {
        Route::Organization => "organization",
        Route::Ou { .. } => "ou",
        Route::Account => "account",
    }
}

/// Options of the text and Markdown views.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AccessOptions {
    /// Say why for every cell (what `access --account` shows) instead of drawing the matrix.
    pub explain: bool,
}

pub(super) const LEGEND: &str = "org / ou:NAME / account: the grant that gives access (organization, OU by its last path \
segment, account); grantor: holds the subscription; excluded: left out by except_accounts; \
disabled(...) / pending_accept(...): a grant reaches the account but is not in effect; \
no-share(...): an organization or OU grant is in effect but the account's share of it is not \
(share not in effect); \
unusable: suspended or closing account; -: no grant; *: grant not managed by this tool; \
!: differs from the file";

/// `may_invoke`, `invoke_policy`, `leak` of a cell.
pub(super) fn invoke_fields(cell: &Cell) -> [String; 3] {
    let Some(invoke) = &cell.invoke else {
        return Default::default();
    };
    let policy = match invoke {
        InvokeState::Denied { policy, .. } => policy.to_string(),
        InvokeState::Unknown { why } => why.to_string(),
        _ => String::new(),
    };
    [
        invoke.as_str().to_owned(),
        policy,
        cell.leak().map(Leak::as_str).unwrap_or_default().to_owned(),
    ]
}
