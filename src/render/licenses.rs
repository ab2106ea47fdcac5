//! `licenses`: the model licenses the account has received, so people can write the file
//! without opening the console. Sorted by product name, then license ARN.

use std::fmt::Write as _;

use serde_json::json;

use super::common::clean;
use super::escape::md;
use crate::model::License;

/// The licenses in the order every view lists them.
pub fn sorted(licenses: &[License]) -> Vec<&License> {
    let mut v: Vec<&License> = licenses.iter().collect();
    v.sort_by(|a, b| {
        (&a.product_name, &a.product_sku, &a.arn).cmp(&(&b.product_name, &b.product_sku, &b.arn))
    });
    v
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn validity(l: &License) -> &str {
    l.validity_end.as_deref().unwrap_or("-")
}

/// A table for a terminal, then one line on what to write in the file.
pub fn text(licenses: &[License]) -> String {
    let rows: Vec<[String; 7]> = sorted(licenses)
        .into_iter()
        .map(|l| {
            [
                clean(&l.product_name),
                clean(&l.product_sku),
                l.arn.to_string(),
                clean(&l.status),
                clean(&l.issuer),
                clean(validity(l)),
                yes_no(l.allows_create_grant()).to_owned(),
            ]
        })
        .collect();
    if rows.is_empty() {
        return "No model licenses received. Subscribe to a model in the Amazon Bedrock console \
                (us-east-1), then check again after a few minutes.\n"
            .to_owned();
    }
    let header = [
        "PRODUCT",
        "SKU",
        "LICENSE ARN",
        "STATUS",
        "ISSUER",
        "VALID UNTIL",
        "CAN GRANT",
    ];
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: Vec<&str>| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(cell);
            } else {
                let pad = w - cell.chars().count();
                let _ = write!(s, "{cell}{}  ", " ".repeat(pad));
            }
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(&mut out, header.to_vec());
    for row in &rows {
        line(&mut out, row.iter().map(String::as_str).collect());
    }
    let _ = writeln!(
        out,
        "\n{} license(s). Name one in entitlements.yaml with product_sku (or product_name, or license_arn); \
         only licenses with CAN GRANT yes can be distributed from this account.",
        rows.len()
    );
    out
}

/// A Markdown table.
pub fn markdown(licenses: &[License]) -> String {
    let mut out = String::from("## Received model licenses\n\n");
    if licenses.is_empty() {
        out.push_str("No model licenses received.\n");
        return out;
    }
    out.push_str(
        "| product | SKU | license ARN | status | issuer | valid until | can grant |\n\
         | :-- | :-- | :-- | :-- | :-- | :-- | :-- |\n",
    );
    for l in sorted(licenses) {
        let _ = writeln!(
            out,
            "| {} | {} | `{}` | {} | {} | {} | {} |",
            md(&l.product_name),
            md(&l.product_sku),
            l.arn,
            md(&l.status),
            md(&l.issuer),
            md(validity(l)),
            yes_no(l.allows_create_grant())
        );
    }
    out
}

/// `{"licenses": [{product_name, product_sku, license_arn, status, issuer, validity_end,
/// can_grant, home_region, beneficiary}]}`.
pub fn json(licenses: &[License]) -> String {
    let list: Vec<_> = sorted(licenses)
        .into_iter()
        .map(|l| {
            json!({
                "product_name": l.product_name,
                "product_sku": l.product_sku,
                "license_arn": l.arn.as_str(),
                "license_name": l.name,
                "status": l.status,
                "issuer": l.issuer,
                "validity_end": l.validity_end,
                "can_grant": l.allows_create_grant(),
                "home_region": l.home_region,
                "beneficiary": l.beneficiary,
            })
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&json!({ "licenses": list }))
        .unwrap_or_else(|_| "{}".to_owned());
    text.push('\n');
    text
}
