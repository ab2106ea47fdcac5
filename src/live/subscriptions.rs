//! Bedrock's subscribe state of the models the file subscribes: per model id,
//! GetFoundationModelAvailability, ListFoundationModelAgreementOffers (ALL and PUBLIC) and
//! GetFoundationModel's provider, every model at once. No call at all when no model
//! subscribes.

use std::collections::{BTreeMap, BTreeSet};

use crate::aws::{AwsError, BedrockApi};
use crate::model::SubscriptionState;

/// Per model id: its state, or the error that kept it from being read.
pub type Subscriptions = BTreeMap<String, Result<SubscriptionState, AwsError>>;

/// Reads the state of each model id.
pub async fn read_subscriptions<B: BedrockApi>(
    bedrock: &B,
    model_ids: &BTreeSet<String>,
) -> Subscriptions {
    let reads = model_ids.iter().map(|id| async move {
        let state = async {
            let (availability, offers, provider) = tokio::join!(
                bedrock.availability(id),
                bedrock.list_offers(id),
                bedrock.provider_name(id),
            );
            Ok::<_, AwsError>(SubscriptionState {
                availability: availability?,
                offers: offers?,
                provider: provider?,
            })
        };
        (id.clone(), state.await)
    });
    futures_join_all(reads).await.into_iter().collect()
}

/// Runs every future to completion, concurrently, keeping their order.
async fn futures_join_all<F: std::future::Future>(futs: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in futs {
        set.push(Box::pin(f));
    }
    let mut out = Vec::with_capacity(set.len());
    // The models are few (one per file entry that subscribes): poll them together.
    let mut pending: Vec<_> = set.into_iter().map(Some).collect();
    let mut done: Vec<Option<F::Output>> = (0..pending.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut all = true;
        for (i, slot) in pending.iter_mut().enumerate() {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        done[i] = Some(v);
                        *slot = None;
                    }
                    std::task::Poll::Pending => all = false,
                }
            }
        }
        if all {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    out.extend(done.into_iter().flatten());
    out
}
