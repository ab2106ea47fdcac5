//! Bedrock's control plane through `aws-sdk-bedrock`: the subscribe step (offers, agreements,
//! availability), the model's provider, and the Anthropic use-case form. Same retry layer and
//! error sorting as the other adapters; the endpoint comes from `AWS_ENDPOINT_URL` /
//! `AWS_ENDPOINT_URL_BEDROCK` through the SDK, the region is the home region.

use std::future::Future;

use aws_sdk_bedrock::Client;
use aws_sdk_bedrock::types::{
    AuthorizationStatus, EntitlementAvailability, OfferType as SdkOfferType, RegionAvailability,
    TermDetails,
};
use aws_smithy_types::Blob;

use super::retry::request;
use super::{AwsError, ErrorKind, Observer, RetryPolicy};
use crate::model::{
    AgreementOutcome, AgreementStatus, Availability, Offer, OfferTerms, OfferType, PriceRate,
};

/// What the tool asks of Bedrock.
pub trait BedrockApi: Send + Sync {
    /// Every offer the caller may accept for `model_id` (ListFoundationModelAgreementOffers
    /// with `offerType=ALL`, then `PUBLIC`: an offer listed only with ALL is private).
    fn list_offers(
        &self,
        model_id: &str,
    ) -> impl Future<Output = Result<Vec<Offer>, AwsError>> + Send;
    /// CreateFoundationModelAgreement; an agreement that exists already counts as done.
    fn create_agreement(
        &self,
        model_id: &str,
        offer_token: &str,
    ) -> impl Future<Output = Result<AgreementOutcome, AwsError>> + Send;
    /// GetFoundationModelAvailability.
    fn availability(
        &self,
        model_id: &str,
    ) -> impl Future<Output = Result<Availability, AwsError>> + Send;
    /// GetFoundationModel's `providerName`: the seller Bedrock names for the model's offers.
    fn provider_name(
        &self,
        model_id: &str,
    ) -> impl Future<Output = Result<Option<String>, AwsError>> + Send;
    /// GetUseCaseForModelAccess's `formData`; None when none was submitted.
    fn get_use_case(&self) -> impl Future<Output = Result<Option<Vec<u8>>, AwsError>> + Send;
    /// PutUseCaseForModelAccess with `form_data` (the SDK base64-encodes it).
    fn put_use_case(&self, form_data: &[u8]) -> impl Future<Output = Result<(), AwsError>> + Send;
}

#[derive(Clone)]
pub struct SdkBedrock {
    client: Client,
    retry: RetryPolicy,
    observer: Observer,
}

impl SdkBedrock {
    pub fn new(client: Client, retry: RetryPolicy, observer: Observer) -> Self {
        SdkBedrock {
            client,
            retry,
            observer,
        }
    }

    async fn offers_of(&self, model_id: &str, kind: SdkOfferType) -> Result<Vec<Offer>, AwsError> {
        const OP: &str = "ListFoundationModelAgreementOffers";
        let out = request(&self.retry, &self.observer, OP, Some(&model_id), || {
            self.client
                .list_foundation_model_agreement_offers()
                .model_id(model_id)
                .offer_type(kind.clone())
                .send()
        })
        .await?;
        Ok(out
            .offers()
            .iter()
            .map(|o| Offer {
                offer_id: o.offer_id().map(str::to_owned),
                offer_token: o.offer_token().to_owned(),
                offer_type: OfferType::Public,
                terms: o.term_details().map(terms_from_sdk).unwrap_or_default(),
            })
            .collect())
    }
}

fn terms_from_sdk(t: &TermDetails) -> OfferTerms {
    let own = |s: Option<&str>| s.map(str::to_owned);
    OfferTerms {
        rate_card: t
            .usage_based_pricing_term()
            .map(|p| p.rate_card())
            .unwrap_or_default()
            .iter()
            .map(|r| PriceRate {
                dimension: own(r.dimension()),
                price: own(r.price()),
                unit: own(r.unit()),
                description: own(r.description()),
            })
            .collect(),
        legal_url: own(t.legal_term().and_then(|l| l.url())),
        refund_policy: own(t.support_term().and_then(|s| s.refund_policy_description())),
        agreement_duration: own(t.validity_term().and_then(|v| v.agreement_duration())),
    }
}

/// Private offers are those `offerType=ALL` lists and `PUBLIC` does not (by token).
pub(crate) fn mark_private(all: Vec<Offer>, public: &[Offer]) -> Vec<Offer> {
    let mut out: Vec<Offer> = all
        .into_iter()
        .map(|mut o| {
            if !public.iter().any(|p| p.offer_token == o.offer_token) {
                o.offer_type = OfferType::Private;
            }
            o
        })
        .collect();
    out.sort();
    out
}

impl BedrockApi for SdkBedrock {
    async fn list_offers(&self, model_id: &str) -> Result<Vec<Offer>, AwsError> {
        let all = self.offers_of(model_id, SdkOfferType::All).await?;
        let public = self.offers_of(model_id, SdkOfferType::Public).await?;
        Ok(mark_private(all, &public))
    }

    async fn create_agreement(
        &self,
        model_id: &str,
        offer_token: &str,
    ) -> Result<AgreementOutcome, AwsError> {
        const OP: &str = "CreateFoundationModelAgreement";
        let r = request(&self.retry, &self.observer, OP, Some(&model_id), || {
            self.client
                .create_foundation_model_agreement()
                .model_id(model_id)
                .offer_token(offer_token)
                .send()
        })
        .await;
        match r {
            Ok(_) => Ok(AgreementOutcome::Created),
            Err(e) if e.kind == ErrorKind::Conflict => Ok(AgreementOutcome::AlreadyExists),
            Err(e) => Err(e),
        }
    }

    async fn availability(&self, model_id: &str) -> Result<Availability, AwsError> {
        const OP: &str = "GetFoundationModelAvailability";
        let out = request(&self.retry, &self.observer, OP, Some(&model_id), || {
            self.client
                .get_foundation_model_availability()
                .model_id(model_id)
                .send()
        })
        .await?;
        let agreement = out.agreement_availability();
        Ok(Availability {
            agreement: agreement
                .map(|a| AgreementStatus::parse(a.status().as_str()))
                .unwrap_or(AgreementStatus::NotAvailable),
            error_message: agreement.and_then(|a| a.error_message()).map(str::to_owned),
            authorized: *out.authorization_status() == AuthorizationStatus::Authorized,
            entitled: *out.entitlement_availability() == EntitlementAvailability::Available,
            in_region: *out.region_availability() == RegionAvailability::Available,
        })
    }

    async fn provider_name(&self, model_id: &str) -> Result<Option<String>, AwsError> {
        const OP: &str = "GetFoundationModel";
        let out = request(&self.retry, &self.observer, OP, Some(&model_id), || {
            self.client
                .get_foundation_model()
                .model_identifier(model_id)
                .send()
        })
        .await?;
        Ok(out
            .model_details()
            .and_then(|d| d.provider_name())
            .map(str::to_owned))
    }

    async fn get_use_case(&self) -> Result<Option<Vec<u8>>, AwsError> {
        const OP: &str = "GetUseCaseForModelAccess";
        let r = request(&self.retry, &self.observer, OP, None, || {
            self.client.get_use_case_for_model_access().send()
        })
        .await;
        match r {
            Ok(out) => Ok(Some(out.form_data().as_ref().to_vec())),
            Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn put_use_case(&self, form_data: &[u8]) -> Result<(), AwsError> {
        const OP: &str = "PutUseCaseForModelAccess";
        request(&self.retry, &self.observer, OP, None, || {
            self.client
                .put_use_case_for_model_access()
                .form_data(Blob::new(form_data.to_vec()))
                .send()
        })
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(token: &str) -> Offer {
        Offer {
            offer_id: Some(format!("offer-{token}")),
            offer_token: token.to_owned(),
            offer_type: OfferType::Public,
            terms: OfferTerms::default(),
        }
    }

    #[test]
    fn offers_listed_only_with_all_are_private() {
        let all = vec![offer("b"), offer("a")];
        let got = mark_private(all, &[offer("a")]);
        assert_eq!(got[0].offer_token, "a");
        assert_eq!(got[0].offer_type, OfferType::Public);
        assert_eq!(got[1].offer_type, OfferType::Private);
    }
}
