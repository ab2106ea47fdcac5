//! The subscribe step of a plan in each view: text and Markdown sections, and the
//! `subscription_actions` / `subscription_notes` lists of the plan document (their wire types
//! and reader are in `plan::saved`). Offer ids, sellers and terms come from AWS: they go
//! through [`clean`] in text and [`md`] in Markdown. Offer tokens are never shown.

use std::fmt::Write as _;

use super::common::clean;
use super::escape::md;
use crate::model::OfferTerms;
use crate::plan::saved::{SubscriptionActionEntry, SubscriptionNoteEntry};
use crate::plan::{Plan, SubscriptionAction};

pub fn actions(plan: &Plan) -> Vec<SubscriptionActionEntry> {
    plan.subscriptions
        .iter()
        .map(|s| SubscriptionActionEntry {
            action: "subscribe".to_owned(),
            model: s.model.to_string(),
            model_id: s.model_id.clone(),
            offer_id: s.offer_id.clone(),
            offer_type: s.offer_type,
            seller: s.seller.clone(),
            terms: s.terms.clone(),
        })
        .collect()
}

pub fn notes(plan: &Plan) -> Vec<SubscriptionNoteEntry> {
    plan.subscription_notes
        .iter()
        .map(|n| SubscriptionNoteEntry {
            model: n.model.to_string(),
            kind: n.kind,
            message: n.message.clone(),
        })
        .collect()
}

fn terms_line(t: &OfferTerms) -> String {
    let rates: Vec<String> = t
        .rate_card
        .iter()
        .map(|r| {
            format!(
                "{} {} per {}",
                r.dimension.as_deref().unwrap_or("?"),
                r.price.as_deref().unwrap_or("?"),
                r.unit.as_deref().unwrap_or("unit")
            )
        })
        .collect();
    let mut s = if rates.is_empty() {
        "no rate card".to_owned()
    } else {
        rates.join(", ")
    };
    if let Some(d) = &t.agreement_duration {
        let _ = write!(s, "; duration {d}");
    }
    if let Some(u) = &t.legal_url {
        let _ = write!(s, "; terms {u}");
    }
    s
}

fn offer_words(a: &SubscriptionAction) -> String {
    format!(
        "{} offer {} from {}",
        a.offer_type.as_str(),
        a.offer_id.as_deref().unwrap_or("(no id)"),
        a.seller.as_deref().unwrap_or("(seller not named)")
    )
}

/// The text section: empty when the plan has no subscription and no note.
pub fn text(plan: &Plan) -> String {
    let mut out = String::new();
    if plan.subscriptions.is_empty() && plan.subscription_notes.is_empty() {
        return out;
    }
    out.push_str("\nSubscriptions (before any grant):\n");
    for a in &plan.subscriptions {
        let _ = writeln!(
            out,
            "  + subscribe {} ({}): {}",
            a.model,
            clean(&a.model_id),
            clean(&offer_words(a))
        );
        let _ = writeln!(out, "      terms: {}", clean(&terms_line(&a.terms)));
    }
    for n in &plan.subscription_notes {
        let _ = writeln!(out, "  note: {}", clean(&n.message));
    }
    out
}

/// The Markdown section: empty when the plan has no subscription and no note.
pub fn markdown(plan: &Plan) -> String {
    let mut out = String::new();
    if plan.subscriptions.is_empty() && plan.subscription_notes.is_empty() {
        return out;
    }
    out.push_str("\n### Subscriptions\n\n");
    if !plan.subscriptions.is_empty() {
        out.push_str("| model | model id | offer | terms |\n|---|---|---|---|\n");
        for a in &plan.subscriptions {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                a.model,
                md(&a.model_id),
                md(&offer_words(a)),
                md(&terms_line(&a.terms))
            );
        }
    }
    for n in &plan.subscription_notes {
        let _ = writeln!(out, "- {}", md(&n.message));
    }
    out
}
