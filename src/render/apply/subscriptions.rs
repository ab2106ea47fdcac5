//! The subscribe part of the apply report: one entry per subscription of the plan, in plan
//! order (a JSON list `subscriptions` with its `subscription_summary`, a Markdown table);
//! nothing when the plan subscribes to nothing. The text format has no lines of its own here:
//! `apply` prints each subscription's line (`subscribe: …`) as it happens.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::apply::{SubscriptionOutcome, SubscriptionReport};
use crate::render::escape::md;

/// Outcome label → count.
pub(crate) fn summary(subscriptions: &[SubscriptionReport]) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    for s in subscriptions {
        *m.entry(s.outcome.label()).or_insert(0) += 1;
    }
    m
}

#[derive(Serialize)]
pub(crate) struct SubscriptionDocument {
    model: String,
    model_id: String,
    /// `offerId` as Bedrock lists it (optional in the API).
    #[serde(skip_serializing_if = "Option::is_none")]
    offer_id: Option<String>,
    offer_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    seller: Option<String>,
    /// `subscribed`, `license_pending`, `refused`, `offer_gone` or `failed`.
    outcome: &'static str,
    /// The agreement existed before this run (subscribed and license_pending only).
    #[serde(skip_serializing_if = "Option::is_none")]
    already: Option<bool>,
    /// AWS's message of a refusal or a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

pub(crate) fn json(subscriptions: &[SubscriptionReport]) -> Vec<SubscriptionDocument> {
    subscriptions
        .iter()
        .map(|s| SubscriptionDocument {
            model: s.action.model.to_string(),
            model_id: s.action.model_id.clone(),
            offer_id: s.action.offer_id.clone(),
            offer_type: s.action.offer_type.as_str(),
            seller: s.action.seller.clone(),
            outcome: s.outcome.label(),
            already: s.outcome.already(),
            message: s.outcome.message().map(str::to_owned),
        })
        .collect()
}

fn detail(o: &SubscriptionOutcome) -> String {
    match o {
        SubscriptionOutcome::Licensed { already: false } => "its license has appeared".to_owned(),
        SubscriptionOutcome::Licensed { already: true } => {
            "the agreement already existed; its license is there".to_owned()
        }
        SubscriptionOutcome::Pending { .. } => {
            "its license has not appeared yet: the next run grants it".to_owned()
        }
        SubscriptionOutcome::Refused(m) | SubscriptionOutcome::Failed(m) => m.clone(),
        SubscriptionOutcome::OfferGone => {
            "the offer is no longer listed to this account: nothing was accepted".to_owned()
        }
    }
}

/// A Markdown table of the subscriptions (nothing when there is none).
pub(crate) fn markdown(subscriptions: &[SubscriptionReport]) -> String {
    if subscriptions.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "### Subscriptions\n\n| outcome | model | model id | offer | detail |\n|---|---|---|---|---|\n",
    );
    for s in subscriptions {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            s.outcome.label(),
            md(s.action.model.as_str()),
            md(&s.action.model_id),
            md(s.action.offer_id.as_deref().unwrap_or("(no id)")),
            md(&detail(&s.outcome))
        ));
    }
    out.push('\n');
    out
}
