//! `access`: the effective-access matrix (accounts × models) as text, CSV, JSON and Markdown,
//! and for one account the reasons it can or cannot use each model.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::common::clean;
use super::escape::{csv_record, md};
use crate::audit::access::explain;
use crate::audit::{AccessMatrix, Cell, CellState, InvokeState, Leak, Reach, Route, Row, Wanted};
use crate::model::GrantStatus;

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
            format!("{}({})", r.status.as_str().to_ascii_lowercase(), route(r))
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
const INVOKE_LEGEND: &str = "/invoke: may invoke (no SCP on its path denies it); /deny: an SCP denies it; /?: undecidable (a condition, NotAction/NotResource, or no bedrock_model_ids); #: a leak (can invoke without the negotiated terms, or entitled but denied)";

/// Whether the matrix carries the invoke layer.
fn has_invoke(m: &AccessMatrix) -> bool {
    m.rows
        .iter()
        .any(|r| r.cells.iter().any(|c| c.invoke.is_some()))
}

/// `Leaks: KEY: N can invoke without the negotiated terms (a, b); M entitled but denied (c).`
fn leak_lines(m: &AccessMatrix) -> Vec<String> {
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

fn wanted_str(w: &Wanted) -> &'static str {
    match w {
        Wanted::NotInFile => "not_in_file",
        Wanted::Yes(_) => "yes",
        Wanted::Excluded => "excluded",
        Wanted::Disabled => "disabled",
        Wanted::NotTargeted => "not_targeted",
    }
}

fn route_str(r: &Route) -> &'static str {
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

const LEGEND: &str = "org / ou:NAME / account: the grant that gives access (organization, OU by its last path \
segment, account); grantor: holds the subscription; excluded: left out by except_accounts; \
disabled(...) / pending_accept(...): a grant reaches the account but is not in effect; \
no-share(...): an organization or OU grant is in effect but the account's share of it is not \
(share not in effect); \
unusable: suspended or closing account; -: no grant; *: grant not managed by this tool; \
!: differs from the file";

/// The matrix for a terminal, or with `explain` the reasons per account and model.
pub fn text(m: &AccessMatrix, opts: AccessOptions) -> String {
    let mut out = String::new();
    if m.models.is_empty() {
        out.push_str("No model has a grant or a model in the file.\n");
        return out;
    }
    if opts.explain {
        for row in &m.rows {
            let _ = writeln!(
                out,
                "account {} ({}) in {}{}:",
                row.account,
                clean(&row.name),
                clean(&row.path),
                if row.state.as_str() == "ACTIVE" {
                    String::new()
                } else {
                    format!(", {}", row.state.as_str())
                }
            );
            for (i, model) in m.models.iter().enumerate() {
                let reasons = explain(m, row, i);
                let label = if model.in_file {
                    format!("model {}", model.key)
                } else {
                    format!("license {} (not in the file)", model.key)
                };
                let _ = writeln!(out, "  {label}:");
                for r in reasons {
                    let _ = writeln!(out, "    {}", clean(&r));
                }
            }
        }
        return out;
    }
    let header: Vec<String> = ["ACCOUNT", "NAME", "OU"]
        .iter()
        .map(|s| (*s).to_owned())
        .chain(m.models.iter().map(|mm| {
            if mm.in_file {
                mm.key.to_string()
            } else {
                format!("{}*", mm.key)
            }
        }))
        .collect();
    let rows: Vec<Vec<String>> = m
        .rows
        .iter()
        .map(|r| {
            [r.account.to_string(), clean(&r.name), clean(&r.path)]
                .into_iter()
                .chain(r.cells.iter().map(cell_short))
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(rows.iter()) {
        let mut line = String::new();
        for (c, w) in row.iter().zip(&widths) {
            let _ = write!(line, "{c}{}  ", " ".repeat(w - c.chars().count()));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    let with_access: Vec<String> = m
        .models
        .iter()
        .enumerate()
        .map(|(i, mm)| {
            let n = m
                .rows
                .iter()
                .filter(|r| r.cells[i].state == CellState::Granted)
                .count();
            let off = m
                .rows
                .iter()
                .filter(|r| r.cells[i].state == CellState::ShareNotInEffect)
                .count();
            if off == 0 {
                format!("{} {n}", mm.key)
            } else {
                format!("{} {n} ({off} share not in effect)", mm.key)
            }
        })
        .collect();
    let _ = writeln!(
        out,
        "\nAccounts with access through a grant: {}.",
        with_access.join(", ")
    );
    if m.models.iter().any(|mm| !mm.in_file) {
        out.push_str("Models marked * are licenses no model of the file names (keys derived from the product name).\n");
    }
    if has_invoke(m) {
        let leaks = leak_lines(m);
        if leaks.is_empty() {
            out.push_str(
                "Leaks: none (who may invoke matches who is entitled).
",
            );
        } else {
            let _ = writeln!(out, "Leaks: {}.", leaks.join("; "));
        }
        let _ = writeln!(out, "Legend: {LEGEND}; {INVOKE_LEGEND}.");
    } else {
        let _ = writeln!(out, "Legend: {LEGEND}.");
    }
    out
}

/// One line per (account, model), with a header line.
pub fn csv(m: &AccessMatrix) -> String {
    let invoke = has_invoke(m);
    let mut out = String::from(
        "account_id,account_name,account_path,account_state,model,in_file,license_arn,access,state,wanted,route,ou_path,principal,grant_arn,grant_name,grant_status,managed,share_status,in_effect",
    );
    out.push_str(if invoke {
        ",may_invoke,invoke_policy,leak\n"
    } else {
        "\n"
    });
    for row in &m.rows {
        for (cell, model) in row.cells.iter().zip(&m.models) {
            let r = cell
                .provider()
                .or_else(|| cell.via.iter().find(|r| r.share_not_in_effect()))
                .or_else(|| cell.via.first());
            let (route, ou_path) = match r.map(|r| &r.route) {
                Some(Route::Ou { path, .. }) => ("ou", path.clone()),
                Some(other) => (route_str(other), String::new()),
                None => ("", String::new()),
            };
            let fields = [
                row.account.to_string(),
                row.name.clone(),
                row.path.clone(),
                row.state.as_str().to_owned(),
                model.key.to_string(),
                model.in_file.to_string(),
                model.license.to_string(),
                if cell.state.has_access() { "yes" } else { "no" }.to_owned(),
                cell.state.as_str().to_owned(),
                wanted_str(&cell.wanted).to_owned(),
                route.to_owned(),
                ou_path,
                r.map(|r| r.principal.arn()).unwrap_or_default(),
                r.map(|r| r.grant_arn.to_string()).unwrap_or_default(),
                r.map(|r| r.grant_name.clone()).unwrap_or_default(),
                r.map(|r| r.status.to_string()).unwrap_or_default(),
                r.map(|r| r.managed.to_string()).unwrap_or_default(),
                r.and_then(|r| r.share.as_ref())
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                r.map(|r| r.in_effect.to_string()).unwrap_or_default(),
            ];
            out.push_str(&csv_record(&fields));
            if invoke {
                out.push(',');
                out.push_str(&csv_record(&invoke_fields(cell)));
            }
            out.push('\n');
        }
    }
    out
}

/// `may_invoke`, `invoke_policy`, `leak` of a cell.
fn invoke_fields(cell: &Cell) -> [String; 3] {
    let Some(invoke) = &cell.invoke else {
        return Default::default();
    };
    let policy = match invoke {
        InvokeState::Denied { policy, .. } => policy.clone(),
        InvokeState::Unknown { why } => why.clone(),
        _ => String::new(),
    };
    [
        invoke.as_str().to_owned(),
        policy,
        cell.leak().map(Leak::as_str).unwrap_or_default().to_owned(),
    ]
}

fn cell_json(m: &AccessMatrix, row: &Row, i: usize) -> Value {
    let cell = &row.cells[i];
    let via: Vec<Value> = cell
        .via
        .iter()
        .map(|r| {
            json!({
                "route": route_str(&r.route),
                "ou_path": match &r.route { Route::Ou { path, .. } => Some(path.as_str()), _ => None },
                "principal": r.principal.arn(),
                "grant_arn": r.grant_arn.as_str(),
                "grant_name": r.grant_name,
                "status": r.status.as_str(),
                "managed": r.managed,
                "share_status": r.share.as_ref().map(GrantStatus::as_str),
                "share_not_in_effect": r.share_not_in_effect(),
                "in_effect": r.is_effective(),
            })
        })
        .collect();
    let mut doc = json!({
        "access": cell.state.has_access(),
        "state": cell.state.as_str(),
        "wanted": wanted_str(&cell.wanted),
        "differs_from_file": disagrees(cell),
        "via": via,
        "why": explain(m, row, i),
    });
    if cell.invoke.is_some() {
        let [may_invoke, policy, leak] = invoke_fields(cell);
        doc["may_invoke"] = json!(may_invoke);
        doc["invoke_policy"] = json!((!policy.is_empty()).then_some(policy));
        doc["leak"] = json!((!leak.is_empty()).then_some(leak));
    }
    doc
}

/// `{organization, grantor, models: [...], accounts: [{id, name, path, state, models: {KEY: cell}}]}`.
pub fn json(m: &AccessMatrix) -> String {
    let models: Vec<Value> = m
        .models
        .iter()
        .map(|mm| {
            json!({
                "key": mm.key.as_str(),
                "license_arn": mm.license.as_str(),
                "product_name": mm.product_name,
                "in_file": mm.in_file,
            })
        })
        .collect();
    let accounts: Vec<Value> = m
        .rows
        .iter()
        .map(|row| {
            let cells: serde_json::Map<String, Value> = m
                .models
                .iter()
                .enumerate()
                .map(|(i, mm)| (mm.key.to_string(), cell_json(m, row, i)))
                .collect();
            json!({
                "id": row.account.as_str(),
                "name": row.name,
                "path": row.path,
                "state": row.state.as_str(),
                "models": cells,
            })
        })
        .collect();
    let doc = json!({
        "organization": m.organization.as_str(),
        "grantor": m.grantor.as_str(),
        "models": models,
        "accounts": accounts,
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".to_owned());
    text.push('\n');
    text
}

/// A Markdown table (what an auditor pastes into a ticket), or with `explain` the reasons.
pub fn markdown(m: &AccessMatrix, opts: AccessOptions) -> String {
    let mut out = String::from("## Effective access to Bedrock models\n\n");
    if m.models.is_empty() {
        out.push_str("No model has a grant or a model in the file.\n");
        return out;
    }
    if opts.explain {
        for row in &m.rows {
            let _ = writeln!(
                out,
                "### Account `{}` ({}) in {}\n",
                row.account,
                md(&row.name),
                md(&row.path)
            );
            for (i, model) in m.models.iter().enumerate() {
                let _ = writeln!(out, "- **{}**", model.key);
                for r in explain(m, row, i) {
                    let _ = writeln!(out, "  - {}", md(&r));
                }
            }
            out.push('\n');
        }
        return out;
    }
    out.push_str("| account | name | OU |");
    for mm in &m.models {
        let _ = write!(out, " {}{} |", mm.key, if mm.in_file { "" } else { "\\*" });
    }
    out.push_str("\n| :-- | :-- | :-- |");
    for _ in &m.models {
        out.push_str(" :-- |");
    }
    out.push('\n');
    for row in &m.rows {
        let _ = write!(
            out,
            "| `{}` | {} | {} |",
            row.account,
            md(&row.name),
            md(&row.path)
        );
        for cell in &row.cells {
            let _ = write!(out, " {} |", md(&cell_short(cell)));
        }
        out.push('\n');
    }
    if has_invoke(m) {
        let leaks = leak_lines(m);
        if !leaks.is_empty() {
            let _ = writeln!(out, "\n**Leaks:** {}.", md(&leaks.join("; ")));
        }
        let _ = writeln!(out, "\n<sub>{}; {}</sub>", md(LEGEND), md(INVOKE_LEGEND));
    } else {
        let _ = writeln!(out, "\n<sub>{}</sub>", md(LEGEND));
    }
    out
}
