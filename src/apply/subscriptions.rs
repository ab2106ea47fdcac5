//! The first phase of `apply`: the plan's subscriptions. Per subscription: the offer token is
//! read fresh (ListFoundationModelAgreementOffers; tokens are never kept in plans), then
//! CreateFoundationModelAgreement (an agreement that exists already counts as done), then
//! ListReceivedLicenses is polled until the model's license appears, for at most `wait`
//! (without it, not at all: the license is reported as pending and the next run grants).

use std::time::Duration;

use tokio::time::Instant;

use super::PollPolicy;
use crate::aws::{AwsError, BedrockApi, ErrorKind, LicenseManagerApi};
use crate::config::ModelKey;
use crate::model::{AgreementOutcome, License};
use crate::plan::SubscriptionAction;

/// What became of one subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscriptionOutcome {
    /// Subscribed (or already was) and the license is there.
    Licensed { already: bool },
    /// Subscribed; the license had not appeared by the end of `--wait`.
    Pending { already: bool },
    /// Bedrock refused the agreement (an expired private offer, a token no longer valid).
    Refused(String),
    /// The offer is no longer listed: nothing was accepted.
    OfferGone,
    /// Another error.
    Failed(String),
}

impl SubscriptionOutcome {
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            SubscriptionOutcome::Refused(_)
                | SubscriptionOutcome::OfferGone
                | SubscriptionOutcome::Failed(_)
        )
    }

    /// `subscribed` (the license is there), `license_pending`, `refused` (Bedrock refused the
    /// agreement: an expired private offer, a token no longer valid), `offer_gone` (the offer
    /// is no longer listed, as an expired or withdrawn private offer is not) or `failed`.
    pub fn label(&self) -> &'static str {
        match self {
            SubscriptionOutcome::Licensed { .. } => "subscribed",
            SubscriptionOutcome::Pending { .. } => "license_pending",
            SubscriptionOutcome::Refused(_) => "refused",
            SubscriptionOutcome::OfferGone => "offer_gone",
            SubscriptionOutcome::Failed(_) => "failed",
        }
    }

    /// Whether the agreement existed before this run (CreateFoundationModelAgreement answered
    /// ConflictException); None when no agreement was made.
    pub fn already(&self) -> Option<bool> {
        match self {
            SubscriptionOutcome::Licensed { already }
            | SubscriptionOutcome::Pending { already } => Some(*already),
            _ => None,
        }
    }

    /// AWS's message of a refusal or failure.
    pub fn message(&self) -> Option<&str> {
        match self {
            SubscriptionOutcome::Refused(m) | SubscriptionOutcome::Failed(m) => Some(m),
            _ => None,
        }
    }

    /// One sentence for people.
    pub fn words(&self, a: &SubscriptionAction) -> String {
        let offer = a.offer_id.as_deref().unwrap_or("(no id)");
        let what = format!("{} ({}), offer {offer}", a.model, a.model_id);
        match self {
            SubscriptionOutcome::Licensed { already: false } => {
                format!("subscribed {what}; its license has appeared")
            }
            SubscriptionOutcome::Licensed { already: true } => {
                format!("{what}: the agreement already existed; its license is there")
            }
            SubscriptionOutcome::Pending { .. } => format!(
                "subscribed {what}; its license has not appeared yet (AWS: 1-2 minutes): the next run grants it, or use --wait"
            ),
            SubscriptionOutcome::Refused(m) => format!("{what} was not accepted: {m}"),
            SubscriptionOutcome::OfferGone => {
                format!("{what} is no longer offered to this account: nothing was accepted")
            }
            SubscriptionOutcome::Failed(m) => format!("{what} failed: {m}"),
        }
    }
}

/// Whether one of `licenses` is the license of `model`.
pub type Licensed<'a> = dyn Fn(&ModelKey, &[License]) -> bool + Sync + 'a;

/// Carries out every subscription, in the plan's order; the outcomes in the same order.
pub async fn subscribe<B: BedrockApi, L: LicenseManagerApi>(
    bedrock: &B,
    lm: &L,
    subscriptions: &[SubscriptionAction],
    licensed: &Licensed<'_>,
    wait: Option<Duration>,
) -> Vec<SubscriptionOutcome> {
    let deadline = Instant::now() + wait.unwrap_or(Duration::ZERO);
    let mut out = Vec::with_capacity(subscriptions.len());
    for a in subscriptions {
        let outcome = match agree(bedrock, a).await {
            Ok(Some(created)) => {
                let already = created == AgreementOutcome::AlreadyExists;
                match wait_for_license(lm, &a.model, licensed, deadline).await {
                    Ok(true) => SubscriptionOutcome::Licensed { already },
                    Ok(false) => SubscriptionOutcome::Pending { already },
                    Err(e) => SubscriptionOutcome::Failed(e.to_string()),
                }
            }
            Ok(None) => SubscriptionOutcome::OfferGone,
            Err(e) if e.kind == ErrorKind::Validation => SubscriptionOutcome::Refused(e.message),
            Err(e) => SubscriptionOutcome::Failed(e.to_string()),
        };
        tracing::info!(model = %a.model, outcome = ?outcome, "subscription");
        out.push(outcome);
    }
    out
}

/// Reads the offer's token fresh and accepts it; None when the offer is no longer listed.
async fn agree<B: BedrockApi>(
    bedrock: &B,
    a: &SubscriptionAction,
) -> Result<Option<AgreementOutcome>, AwsError> {
    let offers = bedrock.list_offers(&a.model_id).await?;
    let Some(offer) = offers
        .iter()
        .find(|o| o.offer_id == a.offer_id && o.offer_type == a.offer_type)
    else {
        return Ok(None);
    };
    bedrock
        .create_agreement(&a.model_id, &offer.offer_token)
        .await
        .map(Some)
}

/// Polls ListReceivedLicenses until the model's license is there or `deadline` passes (one
/// read at least; back-off from 100 ms, doubling, at most 5 s apart, as [`PollPolicy`] says).
/// AWS sends no signal when the license appears, so reading again is the only way; on tokio's
/// clock, so a paused-time test drives it.
async fn wait_for_license<L: LicenseManagerApi>(
    lm: &L,
    model: &ModelKey,
    licensed: &Licensed<'_>,
    deadline: Instant,
) -> Result<bool, AwsError> {
    let poll = PollPolicy {
        initial: Duration::from_millis(100),
        max: Duration::from_secs(5),
    };
    let mut pause = poll.initial;
    loop {
        let licenses = lm.list_received_licenses().await?;
        if licensed(model, &licenses) {
            return Ok(true);
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(pause.min(deadline - now)).await;
        pause = (pause * 2).min(poll.max);
    }
}
