//! Bedrock's control plane (REST-JSON, service model `bedrock-2023-04-20`): the operations of
//! the subscribe step. Offers (public and private, some expired), agreements with their
//! availability, the Anthropic use-case form, and the Marketplace license an agreement makes
//! appear in License Manager after `EmulatorOptions::agreement_license_ms`.
//!
//! Choices where AWS documents nothing are listed in docs/emulator.md ("Bedrock").

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::clock::{self, Instant};
use super::faults::fnv1a;
use super::identity::Caller;
use super::options::EmulatorOptions;
use super::state::{LicenseRec, World};
use super::wire::ApiError;

/// Every Bedrock operation the emulator serves.
pub(crate) const OPERATIONS: &[&str] = &[
    "CreateFoundationModelAgreement",
    "GetFoundationModel",
    "GetFoundationModelAvailability",
    "GetUseCaseForModelAccess",
    "ListFoundationModelAgreementOffers",
    "PutUseCaseForModelAccess",
];

/// The account AWS Marketplace issues model licenses from.
const MARKETPLACE_ACCOUNT: &str = "294406891311";

/// The `bedrock:` section of the seed.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BedrockSeed {
    #[serde(default)]
    pub models: Vec<ModelSeed>,
    /// Accounts whose Anthropic use-case form is already submitted, with its content (base64
    /// of the JSON form, as `PutUseCaseForModelAccess` takes it).
    #[serde(default)]
    pub use_case_forms: BTreeMap<String, String>,
}

/// One foundation model with its offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSeed {
    /// `anthropic.claude-sonnet-4-5-20250929-v1:0`.
    pub model_id: String,
    /// `providerName` of GetFoundationModel (`Anthropic`).
    pub provider_name: String,
    /// `modelName`; default: the model id.
    #[serde(default)]
    pub model_name: Option<String>,
    /// The Marketplace product the license of an agreement is for (`ProductSKU`).
    pub product_sku: String,
    /// `ProductName` of that license; default: the model name.
    #[serde(default)]
    pub product_name: Option<String>,
    #[serde(default)]
    pub offers: Vec<OfferSeed>,
    /// Accounts that already hold an agreement (AVAILABLE) for the model.
    #[serde(default)]
    pub agreements: Vec<String>,
}

/// `PUBLIC` (every account sees it) or `PRIVATE` (negotiated: listed only with offerType ALL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum OfferKind {
    #[default]
    #[serde(rename = "PUBLIC")]
    Public,
    #[serde(rename = "PRIVATE")]
    Private,
}

/// One offer of a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfferSeed {
    pub offer_id: String,
    pub offer_token: String,
    #[serde(default, rename = "type")]
    pub kind: OfferKind,
    /// The license's `Issuer.Name` once accepted; default: the model's provider name.
    #[serde(default)]
    pub seller: Option<String>,
    /// A private offer's accounts (default: every account).
    #[serde(default)]
    pub accounts: Option<Vec<String>>,
    /// Epoch seconds after which CreateFoundationModelAgreement refuses the offer.
    #[serde(default)]
    pub expires: Option<i64>,
    /// `termDetails`, verbatim in the wire shape (default: a one-dimension rate card).
    #[serde(default)]
    pub terms: Option<Value>,
}

/// An agreement of one account for one model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Agreement {
    pub offer_id: String,
    /// The license appears (and the agreement becomes AVAILABLE) at this instant; None: done.
    pub due: Option<Instant>,
}

/// Bedrock's part of the world.
#[derive(Debug, Clone, Default)]
pub(crate) struct Bedrock {
    pub models: BTreeMap<String, ModelSeed>,
    /// (account, model id) → agreement.
    pub agreements: BTreeMap<(String, String), Agreement>,
    pub use_case_forms: BTreeMap<String, String>,
}

impl Bedrock {
    pub(crate) fn from_seed(seed: &BedrockSeed, problems: &mut Vec<String>) -> Bedrock {
        let mut b = Bedrock {
            use_case_forms: seed.use_case_forms.clone(),
            ..Bedrock::default()
        };
        for m in &seed.models {
            if !valid_model_id(&m.model_id) {
                problems.push(format!(
                    "bedrock model id {:?} is not a Bedrock model id",
                    m.model_id
                ));
            }
            for a in &m.agreements {
                let rec = Agreement {
                    offer_id: String::new(),
                    due: None,
                };
                b.agreements.insert((a.clone(), m.model_id.clone()), rec);
            }
            if b.models.insert(m.model_id.clone(), m.clone()).is_some() {
                problems.push(format!("bedrock model {} is listed twice", m.model_id));
            }
        }
        b
    }
}

/// `BedrockModelId`'s pattern, simplified: `provider.name` with an optional `:version` part.
fn valid_model_id(id: &str) -> bool {
    let ok = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'.')
    };
    let base = id.split(':').next().unwrap_or("");
    id.len() <= 140 && base.contains('.') && ok(base) && id.split(':').skip(1).all(ok)
}

/// The operation a REST request names (method and path), or None.
pub(crate) fn operation(method: &hyper::Method, path: &str) -> Option<&'static str> {
    let get = method == hyper::Method::GET;
    let post = method == hyper::Method::POST;
    Some(match path {
        "/create-foundation-model-agreement" if post => "CreateFoundationModelAgreement",
        "/use-case-for-model-access" if get => "GetUseCaseForModelAccess",
        "/use-case-for-model-access" if post => "PutUseCaseForModelAccess",
        p if get && p.starts_with("/list-foundation-model-agreement-offers/") => {
            "ListFoundationModelAgreementOffers"
        }
        p if get && p.starts_with("/foundation-model-availability/") => {
            "GetFoundationModelAvailability"
        }
        p if get && p.starts_with("/foundation-models/") => "GetFoundationModel",
        _ => return None,
    })
}

/// Whether a path is one of Bedrock's (for requests whose signature names no service).
pub(crate) fn is_bedrock_path(path: &str) -> bool {
    [
        "/create-foundation-model-agreement",
        "/use-case-for-model-access",
        "/list-foundation-model-agreement-offers/",
        "/foundation-model-availability/",
        "/foundation-models/",
    ]
    .iter()
    .any(|p| path.starts_with(p))
}

/// The HTTP status of a successful answer (the model's `responseCode`).
pub(crate) fn success_status(op: &str) -> u16 {
    match op {
        "CreateFoundationModelAgreement" => 202,
        "PutUseCaseForModelAccess" => 201,
        _ => 200,
    }
}

/// What an operation needs besides the world.
pub(crate) struct Request<'a> {
    pub caller: &'a Caller,
    pub opts: &'a EmulatorOptions,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub body: &'a [u8],
}

pub(crate) fn handle(world: &mut World, req: &Request<'_>, op: &str) -> Result<String, ApiError> {
    world.settle_agreements(clock::now());
    match op {
        "ListFoundationModelAgreementOffers" => list_offers(world, req),
        "CreateFoundationModelAgreement" => create_agreement(world, req),
        "GetFoundationModelAvailability" => availability(world, req),
        "GetFoundationModel" => get_model(world, req),
        "GetUseCaseForModelAccess" => get_use_case(world, req),
        "PutUseCaseForModelAccess" => put_use_case(world, req),
        _ => Err(ApiError::client(
            "UnknownOperationException",
            format!("Unknown operation {op}"),
        )),
    }
}

fn not_found(what: &str) -> ApiError {
    ApiError::new(404, "ResourceNotFoundException", what.to_owned())
}

/// The percent-decoded last path segment (`modelId`).
fn path_model(path: &str) -> Result<String, ApiError> {
    let raw = path.rsplit('/').next().unwrap_or("");
    let id = percent_decode(raw);
    if id.is_empty() {
        return Err(ApiError::validation(
            "1 validation error detected: Value at 'modelId' failed to satisfy constraint: Member must not be null",
        ));
    }
    Ok(id)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn model<'w>(world: &'w World, id: &str) -> Result<&'w ModelSeed, ApiError> {
    if !valid_model_id(id) {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{id}' at 'modelId' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-z0-9-]{{1,63}}[.]{{1}}[a-z0-9-]{{1,63}}([a-z0-9-]{{1,63}}[.]){{0,2}}[a-z0-9-]{{1,63}}([:][a-z0-9-]{{1,63}}){{0,2}}(/[a-z0-9]{{12}}|)"
        )));
    }
    world
        .bedrock
        .models
        .get(id)
        .ok_or_else(|| not_found(&format!("Model {id} not found.")))
}

fn offer_type(query: Option<&str>) -> Result<&str, ApiError> {
    let value = query
        .unwrap_or("")
        .split('&')
        .find_map(|kv| kv.strip_prefix("offerType="))
        .unwrap_or("PUBLIC");
    match value {
        "ALL" | "PUBLIC" => Ok(value),
        other => Err(ApiError::validation(format!(
            "1 validation error detected: Value '{other}' at 'offerType' failed to satisfy constraint: Member must satisfy enum value set: [ALL, PUBLIC]"
        ))),
    }
}

fn visible(o: &OfferSeed, account: &str) -> bool {
    o.kind == OfferKind::Public
        || o.accounts
            .as_ref()
            .is_none_or(|a| a.iter().any(|x| x == account))
}

fn default_terms(o: &OfferSeed) -> Value {
    json!({
        "usageBasedPricingTerm": {"rateCard": [{
            "dimension": "input-tokens",
            "price": if o.kind == OfferKind::Private { "0.0024" } else { "0.003" },
            "description": "Price per 1,000 input tokens",
            "unit": "Units",
        }]},
        "legalTerm": {"url": format!("https://aws.amazon.com/marketplace/eula/{}", o.offer_id)},
        "supportTerm": {"refundPolicyDescription": "No refunds."},
        "validityTerm": {"agreementDuration": "P12M"},
    })
}

fn offer_json(o: &OfferSeed) -> Value {
    json!({
        "offerId": o.offer_id,
        "offerToken": o.offer_token,
        "termDetails": o.terms.clone().unwrap_or_else(|| default_terms(o)),
    })
}

fn list_offers(world: &World, req: &Request<'_>) -> Result<String, ApiError> {
    let id = path_model(req.path)?;
    let kind = offer_type(req.query)?;
    let m = model(world, &id)?;
    let offers: Vec<Value> = m
        .offers
        .iter()
        .filter(|o| visible(o, &req.caller.account))
        .filter(|o| kind == "ALL" || o.kind == OfferKind::Public)
        .map(offer_json)
        .collect();
    Ok(json!({"modelId": id, "offers": offers}).to_string())
}

fn body_json(body: &[u8]) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::validation(format!("the request body is not valid JSON: {e}")))
}

fn required<'v>(v: &'v Value, member: &str) -> Result<&'v str, ApiError> {
    v.get(member).and_then(Value::as_str).ok_or_else(|| {
        ApiError::validation(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

/// Epoch seconds on the wall clock (offer expiry is an epoch time on the wire; see `clock`).
fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn create_agreement(world: &mut World, req: &Request<'_>) -> Result<String, ApiError> {
    let body = body_json(req.body)?;
    let id = required(&body, "modelId")?.to_owned();
    let token = required(&body, "offerToken")?;
    let account = req.caller.account.clone();
    let m = model(world, &id)?;
    let Some(offer) = m
        .offers
        .iter()
        .find(|o| o.offer_token == token && visible(o, &account))
    else {
        return Err(ApiError::validation(format!(
            "The offer token is not valid for model {id}."
        )));
    };
    if offer.expires.is_some_and(|e| e <= now_secs()) {
        return Err(ApiError::validation(format!(
            "The offer {} has expired and can no longer be accepted.",
            offer.offer_id
        )));
    }
    let key = (account, id.clone());
    if world.bedrock.agreements.contains_key(&key) {
        return Err(ApiError::client(
            "ConflictException",
            format!("An agreement for model {id} already exists in this account."),
        ));
    }
    let offer_id = offer.offer_id.clone();
    let due = clock::now() + Duration::from_millis(req.opts.agreement_license_ms);
    let rec = Agreement {
        offer_id,
        due: Some(due),
    };
    world.bedrock.agreements.insert(key, rec);
    world.settle_agreements(clock::now());
    Ok(json!({"modelId": id}).to_string())
}

fn availability(world: &World, req: &Request<'_>) -> Result<String, ApiError> {
    let id = path_model(req.path)?;
    model(world, &id)?;
    let key = (req.caller.account.clone(), id.clone());
    let status = match world.bedrock.agreements.get(&key) {
        None => "NOT_AVAILABLE",
        Some(a) if a.due.is_some() => "PENDING",
        Some(_) => "AVAILABLE",
    };
    let entitled = if status == "AVAILABLE" {
        "AVAILABLE"
    } else {
        "NOT_AVAILABLE"
    };
    Ok(json!({
        "modelId": id,
        "agreementAvailability": {"status": status},
        "authorizationStatus": "AUTHORIZED",
        "entitlementAvailability": entitled,
        "regionAvailability": "AVAILABLE",
    })
    .to_string())
}

fn get_model(world: &World, req: &Request<'_>) -> Result<String, ApiError> {
    let id = path_model(req.path)?;
    let m = model(world, &id)?;
    Ok(json!({"modelDetails": {
        "modelArn": format!("arn:aws:bedrock:{}::foundation-model/{}", world.region, m.model_id),
        "modelId": m.model_id,
        "modelName": m.model_name.clone().unwrap_or_else(|| m.model_id.clone()),
        "providerName": m.provider_name,
        "inputModalities": ["TEXT"],
        "outputModalities": ["TEXT"],
        "responseStreamingSupported": true,
        "customizationsSupported": [],
        "inferenceTypesSupported": ["ON_DEMAND"],
        "modelLifecycle": {"status": "ACTIVE"},
    }})
    .to_string())
}

/// GUESS: the caller's own form, else the management account's (AWS: "once per account or once
/// at the management account").
fn get_use_case(world: &World, req: &Request<'_>) -> Result<String, ApiError> {
    let forms = &world.bedrock.use_case_forms;
    let form = forms
        .get(&req.caller.account)
        .or_else(|| forms.get(&world.org.management))
        .ok_or_else(|| not_found("No use case for model access has been submitted."))?;
    Ok(json!({"formData": form}).to_string())
}

fn put_use_case(world: &mut World, req: &Request<'_>) -> Result<String, ApiError> {
    let body = body_json(req.body)?;
    let form = required(&body, "formData")?;
    let decoded = aws_smithy_types::base64::decode(form)
        .map_err(|_| ApiError::validation("formData is not valid base64."))?;
    if decoded.is_empty() {
        return Err(ApiError::validation("formData must not be empty."));
    }
    world
        .bedrock
        .use_case_forms
        .insert(req.caller.account.clone(), form.to_owned());
    Ok("{}".to_owned())
}

impl World {
    /// Makes the license of every agreement due by `now` appear in License Manager and the
    /// agreement AVAILABLE.
    pub(crate) fn settle_agreements(&mut self, now: Instant) {
        let due: Vec<(String, String)> = self
            .bedrock
            .agreements
            .iter()
            .filter(|(_, a)| a.due.is_some_and(|d| d <= now))
            .map(|(k, _)| k.clone())
            .collect();
        for key in due {
            let Some(a) = self.bedrock.agreements.get_mut(&key) else {
                continue;
            };
            a.due = None;
            let offer_id = a.offer_id.clone();
            self.add_agreement_license(&key.0, &key.1, &offer_id);
        }
    }

    fn add_agreement_license(&mut self, account: &str, model_id: &str, offer_id: &str) {
        let Some(m) = self.bedrock.models.get(model_id) else {
            return;
        };
        let seller = m
            .offers
            .iter()
            .find(|o| o.offer_id == offer_id)
            .and_then(|o| o.seller.clone())
            .unwrap_or_else(|| m.provider_name.clone());
        let h = fnv1a(&format!("{account}/{model_id}/{offer_id}"));
        let arn = format!(
            "arn:aws:license-manager::{MARKETPLACE_ACCOUNT}:license:l-{h:016x}{:016x}",
            h.rotate_left(17)
        );
        if self.license(&arn).is_some() {
            return;
        }
        let product_name = m
            .product_name
            .clone()
            .or_else(|| m.model_name.clone())
            .unwrap_or_else(|| m.model_id.clone());
        let rec = LicenseRec {
            arn: arn.clone(),
            issuer_account: MARKETPLACE_ACCOUNT.to_owned(),
            name: product_name.clone(),
            product_name,
            sku: m.product_sku.clone(),
            fingerprint: format!("aws:{MARKETPLACE_ACCOUNT}:{seller}:issuer-fingerprint"),
            issuer: seller,
            beneficiary: account.to_owned(),
            status: "AVAILABLE".to_owned(),
            received_status: "ACTIVE".to_owned(),
            allowed_operations: std::iter::once("CreateGrant")
                .chain(super::ids::SEED_GRANT_OPERATIONS.iter().copied())
                .map(str::to_owned)
                .collect(),
            grant_arn: None,
            validity_begin: iso8601(now_secs()),
            validity_end: None,
            create_time: now_secs(),
        };
        let at = self.licenses.partition_point(|l| l.arn < arn);
        self.licenses.insert(at, rec);
    }
}

impl super::EmulatorState {
    /// Emulator time control: every agreement in progress completes now (its license appears
    /// in License Manager), as if `agreement_license_ms` had passed.
    pub fn complete_agreements(&self) {
        let mut w = self.shared.world.lock().unwrap_or_else(|e| e.into_inner());
        let now = clock::now();
        for a in w.bedrock.agreements.values_mut() {
            if a.due.is_some() {
                a.due = Some(now);
            }
        }
        w.settle_agreements(now);
    }

    /// The agreements: (account, model id, AVAILABLE or PENDING), sorted.
    pub fn agreements(&self) -> Vec<(String, String, &'static str)> {
        let mut w = self.shared.world.lock().unwrap_or_else(|e| e.into_inner());
        w.settle_agreements(clock::now());
        w.bedrock
            .agreements
            .iter()
            .map(|((acc, m), a)| {
                let s = if a.due.is_some() {
                    "PENDING"
                } else {
                    "AVAILABLE"
                };
                (acc.clone(), m.clone(), s)
            })
            .collect()
    }
}

/// `2026-01-02T03:04:05.000Z` for epoch seconds (UTC, proleptic Gregorian).
fn iso8601(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_ids_and_paths() {
        assert!(valid_model_id("anthropic.claude-sonnet-4-5-20250929-v1:0"));
        assert!(!valid_model_id("Anthropic.Claude"));
        assert!(!valid_model_id("claude"));
        assert_eq!(
            percent_decode("anthropic.claude-v2%3A1"),
            "anthropic.claude-v2:1"
        );
        assert_eq!(iso8601(1_704_067_200), "2024-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_767_323_045), "2026-01-02T03:04:05.000Z");
        let get = hyper::Method::GET;
        assert_eq!(
            operation(&get, "/foundation-model-availability/a.b"),
            Some("GetFoundationModelAvailability")
        );
        assert_eq!(operation(&get, "/create-foundation-model-agreement"), None);
    }
}
