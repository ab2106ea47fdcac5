//! Bedrock's control plane through the real `aws-sdk-bedrock` client and the tool's
//! `aws::SdkBedrock`: offers (public, private, expired), agreements that make the Marketplace
//! license appear in License Manager after `agreement_license_ms`, availability, the use-case
//! form, AWS's errors (status and code), IAM and throttling; and the boto3 check
//! (`tests/boto3/bedrock.py`).

use std::time::{Duration, Instant};

use aws_sdk_bedrock::types::{AgreementStatus, OfferType};
use bedrock_entitlements::aws::{self, BedrockApi, ConnectOptions};
use bedrock_entitlements::emulator::{EmulatorHandle, EmulatorOptions, PolicyDocument};
use bedrock_entitlements::model::{AgreementOutcome, OfferType as ToolOfferType};

use crate::support::*;

const SONNET45: &str = "anthropic.claude-sonnet-4-5-20250929-v1:0";
const SONNET45_SKU: &str = "prod-cl4ud3s0nn45";

fn bedrock_client(c: &Clients) -> aws_sdk_bedrock::Client {
    let endpoint = c.config.endpoint_url().unwrap_or_default().to_owned();
    let conf = aws_sdk_bedrock::config::Builder::from(&c.config)
        .endpoint_url(endpoint)
        .build();
    aws_sdk_bedrock::Client::from_conf(conf)
}

async fn bedrock(emu: &EmulatorHandle) -> aws_sdk_bedrock::Client {
    bedrock_client(&clients(emu).await)
}

async fn tool_client(emu: &EmulatorHandle) -> aws::SdkBedrock {
    aws::connect(ConnectOptions {
        home_region: "us-east-1".to_owned(),
        endpoint_url: Some(emu.endpoint_url()),
        static_credentials: Some(("AKIDEXAMPLE".to_owned(), "emulator-secret".to_owned())),
        ..ConnectOptions::default()
    })
    .await
    .bedrock
}

fn fast() -> EmulatorOptions {
    EmulatorOptions {
        agreement_license_ms: 50,
        ..EmulatorOptions::default()
    }
}

async fn offer_ids(c: &aws_sdk_bedrock::Client, kind: OfferType) -> Vec<String> {
    let out = c
        .list_foundation_model_agreement_offers()
        .model_id(SONNET45)
        .offer_type(kind)
        .send()
        .await
        .expect("ListFoundationModelAgreementOffers succeeds");
    assert_eq!(out.model_id(), SONNET45);
    out.offers()
        .iter()
        .map(|o| o.offer_id().unwrap_or("").to_owned())
        .collect()
}

async fn sonnet_licenses(emu: &EmulatorHandle) -> Vec<(String, String)> {
    let out = clients(emu)
        .await
        .lm
        .list_received_licenses()
        .send()
        .await
        .expect("ListReceivedLicenses succeeds");
    out.licenses()
        .iter()
        .filter(|l| l.product_sku() == Some(SONNET45_SKU))
        .map(|l| {
            let issuer = l.issuer().and_then(|i| i.name()).unwrap_or("").to_owned();
            (issuer, l.beneficiary().unwrap_or("").to_owned())
        })
        .collect()
}

#[tokio::test]
async fn offers_are_public_or_private_per_account() {
    let emu = start_emulator(sandbox_seed(), fast()).await;
    let c = bedrock(&emu).await;
    assert_eq!(
        offer_ids(&c, OfferType::All).await,
        [
            "offer-s0nn45pub001",
            "offer-s0nn45priv01",
            "offer-s0nn45old001"
        ]
    );
    assert_eq!(
        offer_ids(&c, OfferType::Public).await,
        ["offer-s0nn45pub001"]
    );
    // A private offer is made for its accounts only.
    let member = bedrock_client(&clients_as(&emu, ML_PROD).await);
    assert_eq!(
        offer_ids(&member, OfferType::All).await,
        ["offer-s0nn45pub001"]
    );
    // The terms, as the API gives them.
    let out = c
        .list_foundation_model_agreement_offers()
        .model_id(SONNET45)
        .offer_type(OfferType::All)
        .send()
        .await
        .unwrap();
    let private = &out.offers()[1];
    assert_eq!(private.offer_token(), "tok-sonnet45-private");
    let terms = private.term_details().unwrap();
    let card = terms.usage_based_pricing_term().unwrap().rate_card();
    assert_eq!(card.len(), 2);
    assert_eq!(card[0].price(), Some("0.0024"));
    assert_eq!(
        terms.validity_term().and_then(|v| v.agreement_duration()),
        Some("P12M")
    );
    // The tool's client marks the private ones.
    let offers = tool_client(&emu).await.list_offers(SONNET45).await.unwrap();
    let kinds: Vec<_> = offers
        .iter()
        .map(|o| (o.offer_id.clone().unwrap(), o.offer_type))
        .collect();
    assert!(kinds.contains(&("offer-s0nn45priv01".to_owned(), ToolOfferType::Private)));
    assert!(kinds.contains(&("offer-s0nn45pub001".to_owned(), ToolOfferType::Public)));
}

#[tokio::test]
async fn an_agreement_makes_the_license_appear_after_the_delay() {
    let emu = start_emulator(
        sandbox_seed(),
        EmulatorOptions {
            agreement_license_ms: 60_000,
            ..EmulatorOptions::default()
        },
    )
    .await;
    let c = bedrock(&emu).await;
    let before = c
        .get_foundation_model_availability()
        .model_id(SONNET45)
        .send()
        .await
        .unwrap();
    assert_eq!(
        before.agreement_availability().unwrap().status(),
        &AgreementStatus::NotAvailable
    );
    let out = c
        .create_foundation_model_agreement()
        .model_id(SONNET45)
        .offer_token("tok-sonnet45-private")
        .send()
        .await
        .expect("CreateFoundationModelAgreement succeeds");
    assert_eq!(out.model_id(), SONNET45);
    let pending = c
        .get_foundation_model_availability()
        .model_id(SONNET45)
        .send()
        .await
        .unwrap();
    assert_eq!(
        pending.agreement_availability().unwrap().status(),
        &AgreementStatus::Pending
    );
    assert!(
        sonnet_licenses(&emu).await.is_empty(),
        "not before the delay"
    );
    // Emulator time: the agreement in progress completes at once.
    emu.state().complete_agreements();
    assert_eq!(
        sonnet_licenses(&emu).await,
        [(
            "Anthropic".to_owned(),
            format!("arn:aws:iam::{MANAGEMENT}:root")
        )]
    );
    let after = c
        .get_foundation_model_availability()
        .model_id(SONNET45)
        .send()
        .await
        .unwrap();
    assert_eq!(
        after.agreement_availability().unwrap().status(),
        &AgreementStatus::Available
    );
    assert_eq!(
        after.entitlement_availability().as_str(),
        "AVAILABLE",
        "entitled once the agreement is in place"
    );
    // A second agreement: ConflictException, which the tool's client counts as done.
    let again = c
        .create_foundation_model_agreement()
        .model_id(SONNET45)
        .offer_token("tok-sonnet45-private")
        .send()
        .await;
    assert_eq!(error_of(again).0, "ConflictException");
    let tool = tool_client(&emu).await;
    assert_eq!(
        tool.create_agreement(SONNET45, "tok-sonnet45-private")
            .await
            .unwrap(),
        AgreementOutcome::AlreadyExists
    );
    assert_eq!(sonnet_licenses(&emu).await.len(), 1, "one license only");
}

#[tokio::test]
async fn the_license_appears_by_itself_once_due() {
    let emu = start_emulator(sandbox_seed(), fast()).await;
    let tool = tool_client(&emu).await;
    assert_eq!(
        tool.create_agreement(SONNET45, "tok-sonnet45-public")
            .await
            .unwrap(),
        AgreementOutcome::Created
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut calls = emu.state().watch_calls();
    loop {
        if !sonnet_licenses(&emu).await.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "the license never appeared");
        // Wait for the next call or a short bound, whichever is first (no fixed sleep).
        let _ = tokio::time::timeout(Duration::from_millis(20), calls.changed()).await;
    }
    let a = tool.availability(SONNET45).await.unwrap();
    assert!(a.entitled && a.authorized && a.in_region);
}

#[tokio::test]
async fn expired_and_unknown_offers_and_models_are_refused() {
    let emu = start_emulator(sandbox_seed(), fast()).await;
    let c = bedrock(&emu).await;
    let expired = c
        .create_foundation_model_agreement()
        .model_id(SONNET45)
        .offer_token("tok-sonnet45-expired")
        .send()
        .await;
    let (code, message) = error_of(expired);
    assert_eq!(code, "ValidationException");
    assert!(
        message.contains("offer-s0nn45old001 has expired"),
        "{message}"
    );
    let unknown = c
        .create_foundation_model_agreement()
        .model_id(SONNET45)
        .offer_token("tok-nope")
        .send()
        .await;
    assert_eq!(error_of(unknown).0, "ValidationException");
    let no_model = c
        .get_foundation_model_availability()
        .model_id("anthropic.claude-nope-v1:0")
        .send()
        .await;
    assert_eq!(error_of(no_model).0, "ResourceNotFoundException");
    let bad_id = c
        .list_foundation_model_agreement_offers()
        .model_id("Not A Model")
        .send()
        .await;
    assert_eq!(error_of(bad_id).0, "ValidationException");
    assert!(sonnet_licenses(&emu).await.is_empty(), "nothing accepted");
    // The private offer of the management account is not another account's to accept.
    let member = bedrock_client(&clients_as(&emu, ML_PROD).await);
    let foreign = member
        .create_foundation_model_agreement()
        .model_id(SONNET45)
        .offer_token("tok-sonnet45-private")
        .send()
        .await;
    assert_eq!(error_of(foreign).0, "ValidationException");
}

#[tokio::test]
async fn the_use_case_form_is_kept_per_account() {
    // The sandbox records the management account's form: start from none.
    let mut seed = sandbox_seed();
    seed.bedrock.use_case_forms.clear();
    let emu = start_emulator(seed, fast()).await;
    let tool = tool_client(&emu).await;
    assert_eq!(tool.get_use_case().await.unwrap(), None);
    let form = br#"{"companyName":"Example Corp","intendedUsers":"0"}"#;
    tool.put_use_case(form).await.unwrap();
    assert_eq!(
        tool.get_use_case().await.unwrap().as_deref(),
        Some(&form[..])
    );
    // A member account without its own form sees the management account's.
    let member = bedrock_client(&clients_as(&emu, ML_PROD).await);
    let got = member.get_use_case_for_model_access().send().await.unwrap();
    assert_eq!(got.form_data().as_ref(), &form[..]);
    let provider = tool.provider_name(SONNET45).await.unwrap();
    assert_eq!(provider.as_deref(), Some("Anthropic"));
}

#[tokio::test]
async fn wire_statuses_iam_and_throttling_are_aws_shaped() {
    let emu = start_emulator(sandbox_seed(), fast()).await;
    let auth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/bedrock/aws4_request, SignedHeaders=host, Signature=x";
    let body = format!(r#"{{"modelId":"{SONNET45}","offerToken":"tok-sonnet45-public"}}"#);
    let (status, headers, _) = raw_http(
        &emu,
        "POST",
        "/create-foundation-model-agreement",
        &[
            ("authorization", auth),
            ("content-type", "application/json"),
        ],
        &body,
    )
    .await;
    assert_eq!(status, 202, "CreateFoundationModelAgreement answers 202");
    assert!(headers.iter().any(|(k, _)| k == "x-amzn-requestid"));
    let (status, headers, body) = raw_http(
        &emu,
        "GET",
        "/foundation-model-availability/anthropic.claude-nope-v1%3A0",
        &[("authorization", auth)],
        "",
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert!(
        headers
            .iter()
            .any(|(k, v)| k == "x-amzn-errortype" && v == "ResourceNotFoundException")
    );
    // IAM: a policy without the action is refused with 403 AccessDeniedException.
    let policy = PolicyDocument::from_json(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["bedrock:List*","bedrock:Get*"],"Resource":"*"}]}"#,
    )
    .unwrap();
    emu.state().update_options(|o| o.iam_policy = Some(policy));
    let c = bedrock(&emu).await;
    let denied = c
        .create_foundation_model_agreement()
        .model_id(SONNET45)
        .offer_token("tok-sonnet45-private")
        .send()
        .await;
    let (code, message) = error_of(denied);
    assert_eq!(code, "AccessDeniedException");
    assert!(
        message.contains("bedrock:CreateFoundationModelAgreement"),
        "{message}"
    );
    // Throttling: 429 ThrottlingException, retried by the tool's layer.
    emu.state().update_options(|o| {
        o.iam_policy = None;
        o.rate_limits.insert(
            "GetFoundationModelAvailability".to_owned(),
            bedrock_entitlements::emulator::RateLimit {
                rate: 0.0,
                burst: 0,
            },
        );
    });
    let path = format!("/foundation-model-availability/{SONNET45}");
    let mut statuses = Vec::new();
    let mut last = Vec::new();
    for _ in 0..3 {
        let (status, headers, _) =
            raw_http(&emu, "GET", &path, &[("authorization", auth)], "").await;
        statuses.push(status);
        last = headers;
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    let headers = last;
    assert!(
        headers
            .iter()
            .any(|(k, v)| k == "x-amzn-errortype" && v == "ThrottlingException")
    );
}

/// boto3 against `bedrock-entitlements emulator`: AWS-shaped answers and errors from botocore's
/// own bedrock model. Skipped, with the reason printed, where python3 or boto3 is missing.
#[test]
fn boto3_sees_aws_shaped_bedrock() {
    crate::support::run_boto3_check("bedrock.py");
}
