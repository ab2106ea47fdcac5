//! The subscribe step of a plan (pure): per model with a `subscribe` section whose central
//! account has no agreement and no license, the offer to accept, chosen by the file's `offer`
//! and `settings.allowed_sellers`; or a note saying why nothing is accepted. Deleting an
//! agreement is never planned.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::Plan;
use super::digest::{SubscriptionBasis, subscription_fingerprint, with_subscriptions};
use crate::config::{Config, ModelKey, OfferChoice, Settings};
use crate::model::{AgreementStatus, Offer, OfferTerms, OfferType, SubscriptionState};
use crate::org::Desired;

/// CreateFoundationModelAgreement for one model, with the offer as the API gave it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SubscriptionAction {
    pub model: ModelKey,
    pub model_id: String,
    pub offer_id: Option<String>,
    pub offer_type: OfferType,
    /// The seller Bedrock names for the model (GetFoundationModel `providerName`).
    pub seller: Option<String>,
    pub terms: OfferTerms,
}

/// Why a subscribed model gets no subscription action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionNoteKind {
    /// The agreement is requested (PENDING): the license has not appeared yet.
    Pending,
    /// No offer matches the file's `offer` (a private offer that expired or was withdrawn).
    NoOffer,
    /// Several private offers match: the file must name one with `offer_id`.
    Ambiguous,
    /// The offer's seller is not in `settings.allowed_sellers`.
    SellerRefused,
    /// Bedrock could not be read for the model.
    NotRead,
    /// The agreement is in the ERROR state.
    AgreementError,
}

/// One subscription note.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SubscriptionNote {
    pub model: ModelKey,
    pub kind: SubscriptionNoteKind,
    pub message: String,
}

/// The model ids of the file's subscribed models (what `live::read_subscriptions` reads).
pub fn subscription_model_ids(config: &Config) -> BTreeSet<String> {
    config
        .models
        .iter()
        .filter_map(|m| m.subscribe_model_id())
        .collect()
}

/// Adds the subscription actions and notes of `config` to `plan`. A model already in
/// `desired` has a license: nothing to subscribe. When a model was considered, what the
/// decisions were made from joins `plan.live_fingerprint` (`digest::with_subscriptions`), so a
/// saved plan is refused once it moved (`plan::check_saved`).
pub fn add(
    config: &Config,
    desired: &Desired,
    states: &BTreeMap<String, Result<SubscriptionState, String>>,
    plan: &mut Plan,
) {
    let mut basis = Vec::new();
    for spec in &config.models {
        let (Some(sub), Some(id)) = (&spec.subscribe, spec.subscribe_model_id()) else {
            continue;
        };
        let key = &spec.key.value;
        if desired.models.contains_key(key) || (desired.targeted_only && !plan_has(desired, key)) {
            continue;
        }
        let read = states.get(&id);
        basis.push((key, id.clone(), &sub.offer.value, read));
        let note = |kind, message: String| SubscriptionNote {
            model: key.clone(),
            kind,
            message,
        };
        let state = match read {
            Some(Ok(s)) => s,
            Some(Err(e)) => {
                let m = format!("model {key}: Bedrock could not be read for {id}: {e}");
                plan.subscription_notes
                    .push(note(SubscriptionNoteKind::NotRead, m));
                continue;
            }
            None => continue,
        };
        match decide(key, &id, &sub.offer.value, state, &config.settings) {
            Ok(Some(action)) => plan.subscriptions.push(action),
            Ok(None) => {}
            Err((kind, message)) => plan.subscription_notes.push(note(kind, message)),
        }
    }
    plan.subscriptions.sort();
    plan.subscription_notes.sort();
    if !basis.is_empty() {
        let basis: Vec<SubscriptionBasis<'_>> = basis
            .iter()
            .map(|(key, id, choice, read)| SubscriptionBasis {
                key,
                model_id: id,
                choice,
                state: read.and_then(|r| r.as_ref().ok()),
            })
            .collect();
        let subs = subscription_fingerprint(&basis, config.settings.allowed_sellers.as_deref());
        plan.live_fingerprint = with_subscriptions(&plan.live_fingerprint, &subs);
    }
}

/// Under `--target`, only targeted models (those resolve kept, or that failed to resolve
/// because their license is not there yet) are planned.
fn plan_has(desired: &Desired, key: &ModelKey) -> bool {
    desired
        .warnings
        .iter()
        .any(|w| w.message.starts_with(&format!("model {key}: ")))
}

type Decision = Result<Option<SubscriptionAction>, (SubscriptionNoteKind, String)>;

/// The subscription of one model, none (already subscribed), or why not.
pub fn decide(
    key: &ModelKey,
    id: &str,
    choice: &OfferChoice,
    state: &SubscriptionState,
    settings: &Settings,
) -> Decision {
    match state.availability.agreement {
        AgreementStatus::Available => return Ok(None),
        AgreementStatus::Pending => {
            return Err((
                SubscriptionNoteKind::Pending,
                format!(
                    "model {key}: the agreement for {id} is requested (PENDING); its license has not appeared yet"
                ),
            ));
        }
        AgreementStatus::Error => {
            let why = state
                .availability
                .error_message
                .as_deref()
                .unwrap_or("no reason given");
            return Err((
                SubscriptionNoteKind::AgreementError,
                format!("model {key}: the agreement for {id} is in ERROR: {why}"),
            ));
        }
        AgreementStatus::NotAvailable => {}
    }
    let seller = state.provider.clone();
    let offer = pick(key, id, choice, state, seller.as_deref())?;
    if let Some(s) = &seller
        && !settings.seller_allowed(s)
    {
        let list: Vec<&str> = settings
            .allowed_sellers
            .iter()
            .flatten()
            .map(|a| a.value.as_str())
            .collect();
        return Err((
            SubscriptionNoteKind::SellerRefused,
            format!(
                "model {key}: offer {} for {id} is sold by {s:?}, which is not in settings.allowed_sellers ({}): not accepted",
                offer.offer_id.as_deref().unwrap_or("(no id)"),
                list.join(", ")
            ),
        ));
    }
    Ok(Some(SubscriptionAction {
        model: key.clone(),
        model_id: id.to_owned(),
        offer_id: offer.offer_id.clone(),
        offer_type: offer.offer_type,
        seller,
        terms: offer.terms.clone(),
    }))
}

/// The one offer the file's `offer` names.
fn pick<'s>(
    key: &ModelKey,
    id: &str,
    choice: &OfferChoice,
    state: &'s SubscriptionState,
    seller: Option<&str>,
) -> Result<&'s Offer, (SubscriptionNoteKind, String)> {
    let of = |t: OfferType| -> Vec<&'s Offer> {
        state.offers.iter().filter(|o| o.offer_type == t).collect()
    };
    let (candidates, what) = match choice {
        OfferChoice::Public => (of(OfferType::Public), "public offer".to_owned()),
        OfferChoice::Any if !of(OfferType::Private).is_empty() => {
            (of(OfferType::Private), "private offer".to_owned())
        }
        OfferChoice::Any => (of(OfferType::Public), "offer".to_owned()),
        OfferChoice::Private {
            offer_id,
            seller: wanted,
        } => {
            let mut c = of(OfferType::Private);
            if let Some(oid) = offer_id {
                c.retain(|o| o.offer_id.as_deref() == Some(oid.value.as_str()));
            }
            if let Some(w) = wanted
                && seller != Some(w.value.as_str())
            {
                c.clear();
            }
            let what = match (offer_id, wanted) {
                (Some(o), _) => format!("private offer {}", o.value),
                (None, Some(w)) => format!("private offer from {}", w.value),
                (None, None) => "private offer".to_owned(),
            };
            (c, what)
        }
    };
    match candidates.as_slice() {
        [one] => Ok(one),
        [] => Err((
            SubscriptionNoteKind::NoOffer,
            format!(
                "model {key}: Bedrock lists no {what} for {id} to this account (an expired or withdrawn private offer is not accepted); nothing is subscribed"
            ),
        )),
        many => {
            let ids: Vec<&str> = many
                .iter()
                .map(|o| o.offer_id.as_deref().unwrap_or("(no id)"))
                .collect();
            Err((
                SubscriptionNoteKind::Ambiguous,
                format!(
                    "model {key}: {} {what}s for {id} ({}): name one with `subscribe.offer_id`",
                    many.len(),
                    ids.join(", ")
                ),
            ))
        }
    }
}
