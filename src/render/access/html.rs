//! `access --format html`: the accounts × models matrix as one self-contained page.
//!
//! The page loads nothing: no stylesheet, font, image or script from elsewhere, and its
//! Content-Security-Policy (`default-src 'none'`) makes the browser refuse any that a string
//! might smuggle in. Styles and the filter script are inline. Rows are grouped by OU path
//! (`Root`, `Root/Workloads/ML`, ...), each cell names the grant that gives access (or why there
//! is none), and cells where live access differs from the file are highlighted. Every string
//! that came from outside (account, OU, model, product and grant names, ARNs) goes through
//! [`escape`]. Filters by OU and by model work on the page, and from the URL fragment
//! (`#ou=Root/Workloads&model=claude`), so a link can open a filtered view.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::disagrees;
use crate::audit::{AccessMatrix, Cell, CellState, Reach, Route, Row, Wanted};

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#111}\
table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;\
vertical-align:top}thead th{background:#eee;position:sticky;top:0}tr.group th{background:#dde6f3}\
td.granted,td.grantor{background:#e6f4e6}td.inactive,td.share_not_in_effect{background:#fff4d6}td.unusable{background:#eee}\
td.diff{outline:3px solid #d33;outline-offset:-3px}.diffnote{color:#b00;font-weight:bold}\
small{color:#555}.filters{margin:1em 0}.filters label{margin-right:1.5em}[hidden]{display:none}";

const SCRIPT: &str = r#"(function(){
var ou=document.getElementById('ou-filter'),model=document.getElementById('model-filter');
function fromHash(){var p=new URLSearchParams(location.hash.slice(1));
if(p.get('ou')!==null)ou.value=p.get('ou');if(p.get('model')!==null)model.value=p.get('model');}
function apply(){var o=ou.value,m=model.value,shown=0;
document.querySelectorAll('tbody tr').forEach(function(tr){
var path=tr.getAttribute('data-ou');var keep=o===''||path===o||path.indexOf(o+'/')===0;
tr.hidden=!keep;if(keep&&tr.classList.contains('account'))shown++;});
document.querySelectorAll('[data-model]').forEach(function(c){
c.hidden=m!==''&&c.getAttribute('data-model')!==m;});
document.getElementById('shown').textContent=String(shown);}
ou.addEventListener('change',apply);model.addEventListener('change',apply);
fromHash();apply();document.body.setAttribute('data-ready','1');})();"#;

/// The whole page (tests and small matrices; the CLI streams with [`write_html`]).
pub fn access(matrix: &AccessMatrix) -> String {
    let mut out = Vec::new();
    write_html(matrix, &mut out).expect("writing to memory cannot fail");
    String::from_utf8(out).expect("the page is UTF-8")
}

/// Writes the whole page as it is produced.
pub fn write_html(matrix: &AccessMatrix, out: &mut impl Write) -> io::Result<()> {
    let org = escape(matrix.organization.as_str());
    write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n\
         <title>Bedrock model access: {org}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>Bedrock model access</h1>\n<p>Organization <code>{org}</code>, licenses held by \
         <code>{}</code>. <span id=\"shown\">{}</span> of {} accounts shown; {} cells differ \
         from the file.</p>\n",
        escape(matrix.grantor.as_str()),
        matrix.rows.len(),
        matrix.rows.len(),
        matrix
            .rows
            .iter()
            .flat_map(|r| &r.cells)
            .filter(|c| disagrees(c))
            .count()
    )?;
    let groups = groups(matrix);
    write_filters(out, matrix, &groups)?;
    write_table(out, matrix, &groups)?;
    write!(
        out,
        "<p><small>A highlighted cell differs from the file. A grant marked \u{201c}not \
         managed\u{201d} was not made by the tool. Organization and OU grants reach nested \
         accounts.</small></p>\n<script>{SCRIPT}</script>\n</body>\n</html>\n"
    )
}

/// Rows by OU path (sorted paths; rows keep the matrix's account order).
fn groups<'m>(matrix: &'m AccessMatrix<'_>) -> BTreeMap<&'m str, Vec<&'m Row<'m>>> {
    let mut groups: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for row in &matrix.rows {
        groups.entry(&*row.path).or_default().push(row);
    }
    groups
}

fn write_filters(
    out: &mut impl Write,
    matrix: &AccessMatrix,
    groups: &BTreeMap<&str, Vec<&Row>>,
) -> io::Result<()> {
    out.write_all(
        "<div class=\"filters\"><label>OU <select id=\"ou-filter\">\
         <option value=\"\">all</option>"
            .as_bytes(),
    )?;
    for path in groups.keys() {
        let p = escape(path);
        write!(out, "<option value=\"{p}\">{p}</option>")?;
    }
    out.write_all(
        "</select></label><label>Model <select id=\"model-filter\">\
         <option value=\"\">all</option>"
            .as_bytes(),
    )?;
    for m in &matrix.models {
        let k = escape(m.key.as_str());
        write!(out, "<option value=\"{k}\">{k}</option>")?;
    }
    out.write_all(b"</select></label></div>\n")
}

fn write_table(
    out: &mut impl Write,
    matrix: &AccessMatrix,
    groups: &BTreeMap<&str, Vec<&Row>>,
) -> io::Result<()> {
    out.write_all(b"<table id=\"matrix\">\n<thead><tr><th>account</th>")?;
    for m in &matrix.models {
        let in_file = if m.in_file {
            ""
        } else {
            "<br><small>not in the file</small>"
        };
        write!(
            out,
            "<th data-model=\"{}\">{}<br><small>{}</small>{in_file}</th>",
            escape(m.key.as_str()),
            escape(m.key.as_str()),
            escape(&m.product_name)
        )?;
    }
    out.write_all(b"</tr></thead>\n<tbody>\n")?;
    for (path, rows) in groups {
        let p = escape(path);
        writeln!(
            out,
            "<tr class=\"group\" data-ou=\"{p}\"><th colspan=\"{}\">{p} \
             <small>({} accounts)</small></th></tr>",
            matrix.models.len() + 1,
            rows.len()
        )?;
        for row in rows {
            write_row(out, matrix, row, &p)?;
        }
    }
    out.write_all(b"</tbody>\n</table>\n")
}

fn write_row(out: &mut impl Write, matrix: &AccessMatrix, row: &Row, path: &str) -> io::Result<()> {
    let id = escape(row.account.as_str());
    write!(
        out,
        "<tr class=\"account\" data-account=\"{id}\" data-ou=\"{path}\"><th>{}<br>\
         <small>{id}</small></th>",
        escape(row.name)
    )?;
    for (model, cell) in matrix.models.iter().zip(&row.cells) {
        let diff = disagrees(cell);
        write!(
            out,
            "<td data-model=\"{}\" data-state=\"{}\" class=\"{}{}\">{}{}</td>",
            escape(model.key.as_str()),
            cell.state.as_str(),
            cell.state.as_str(),
            if diff { " diff" } else { "" },
            cell_html(cell),
            if diff { diff_note(&cell.wanted) } else { "" }
        )?;
    }
    out.write_all(b"</tr>\n")
}

/// What gives the account access, or why nothing does.
fn cell_html(cell: &Cell) -> String {
    match cell.state {
        CellState::Grantor => "grantor<br><small>holds the subscription</small>".to_owned(),
        CellState::Unusable => {
            "no access<br><small>account suspended or closing</small>".to_owned()
        }
        CellState::Granted => match cell.provider() {
            Some(r) => format!("{}{}", route_html(r), reach_html(r)),
            None => "granted".to_owned(),
        },
        CellState::ShareNotInEffect => match cell.via.iter().find(|r| r.share_not_in_effect()) {
            Some(r) => format!(
                "no access: share not in effect<br><small>share {}</small><br>{}{}",
                escape(r.share.map_or("", |s| s.as_str())),
                route_html(r),
                reach_html(r)
            ),
            None => "no access: share not in effect".to_owned(),
        },
        CellState::Inactive => match cell.via.first() {
            Some(r) => format!(
                "no access: {}<br>{}{}",
                escape(&r.grant.status.as_str().to_ascii_lowercase()),
                route_html(r),
                reach_html(r)
            ),
            None => "no access".to_owned(),
        },
        CellState::None if cell.wanted == Wanted::Excluded => {
            "no access<br><small>left out by except_accounts</small>".to_owned()
        }
        CellState::None => "no access".to_owned(),
    }
}

fn route_html(r: &Reach) -> String {
    match &r.route {
        Route::Organization => "organization grant".to_owned(),
        Route::Ou { path, .. } => format!("OU grant ({})", escape(path)),
        Route::Account => "account grant".to_owned(),
    }
}

fn reach_html(r: &Reach) -> String {
    let managed = if r.managed {
        ""
    } else {
        " <em>not managed</em>"
    };
    let share = r
        .share
        .as_ref()
        .map(|s| format!(" data-share=\"{}\"", escape(s.as_str())))
        .unwrap_or_default();
    format!(
        "<br><small class=\"grant\" data-grant=\"{}\"{share}>{}{managed}</small>",
        escape(r.grant.arn.as_str()),
        escape(&r.grant.name)
    )
}

fn diff_note(wanted: &Wanted) -> &'static str {
    match wanted {
        Wanted::Yes(_) => "<br><span class=\"diffnote\">the file grants access</span>",
        Wanted::Excluded => "<br><span class=\"diffnote\">the file excludes this account</span>",
        Wanted::Disabled => "<br><span class=\"diffnote\">the file disables this model</span>",
        Wanted::NotTargeted => {
            "<br><span class=\"diffnote\">the file does not target this account</span>"
        }
        Wanted::NotInFile => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralises_markup_and_quotes() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        assert_eq!(escape("a\u{0}b"), "a\u{fffd}b");
    }
}
