//! Reading a saved plan's subscribe step (`subscription_actions`, `subscription_notes`) back,
//! and the wire types of those lists.

use serde::{Deserialize, Serialize};

use crate::config::ModelKey;
use crate::model::{OfferTerms, OfferType};
use crate::plan::{SubscriptionAction, SubscriptionNote, SubscriptionNoteKind};

/// One entry of `subscription_actions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionActionEntry {
    /// Always `subscribe`.
    pub action: String,
    pub model: String,
    pub model_id: String,
    pub offer_id: Option<String>,
    pub offer_type: OfferType,
    pub seller: Option<String>,
    pub terms: OfferTerms,
}

/// One entry of `subscription_notes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionNoteEntry {
    pub model: String,
    pub kind: SubscriptionNoteKind,
    pub message: String,
}

fn key(path: &str, text: &str) -> Result<ModelKey, (String, String)> {
    ModelKey::parse(text).ok_or_else(|| {
        (
            format!("{path}.model"),
            format!("{text:?} is not a model key"),
        )
    })
}

/// The plan's subscriptions and notes from the document's lists; errors name the field.
pub fn from_documents(
    actions: Vec<SubscriptionActionEntry>,
    notes: Vec<SubscriptionNoteEntry>,
) -> Result<(Vec<SubscriptionAction>, Vec<SubscriptionNote>), (String, String)> {
    let mut out = Vec::new();
    for (i, a) in actions.into_iter().enumerate() {
        let path = format!("subscription_actions[{i}]");
        if a.action != "subscribe" {
            return Err((
                format!("{path}.action"),
                format!("{:?} is not `subscribe`", a.action),
            ));
        }
        out.push(SubscriptionAction {
            model: key(&path, &a.model)?,
            model_id: a.model_id,
            offer_id: a.offer_id,
            offer_type: a.offer_type,
            seller: a.seller,
            terms: a.terms,
        });
    }
    let mut ns = Vec::new();
    for (i, n) in notes.into_iter().enumerate() {
        let path = format!("subscription_notes[{i}]");
        ns.push(SubscriptionNote {
            model: key(&path, &n.model)?,
            kind: n.kind,
            message: n.message,
        });
    }
    Ok((out, ns))
}
