//! The JSON Schema (draft-07, the newest draft yaml-language-server understands) of the
//! desired-state file. `entitlements.schema.json` at the repository root is this value, pretty
//! printed; a test keeps the two equal.
//!
//! The schema describes the same rules as the walker in `validate.rs`, as far as JSON Schema can
//! say them; rules it cannot say (the same account twice, an exception that is also granted) are
//! only checked by `validate`.

use serde_json::{Value, json};

use crate::model::{DEFAULT_OPERATIONS, KNOWN_OPERATIONS};

pub(super) const MODEL_KEY_PATTERN: &str = "^[a-z0-9][a-z0-9-]{0,63}$";
const OU_ID_PATTERN: &str = "^ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}$";
const OU_PATH_PATTERN: &str = "^Root(/[^/]+)*$";
const ACCOUNT_ID_PATTERN: &str = "^[0-9]{12}$";
const ACCOUNT_NAME_PATTERN: &str = "^[ -~]*[A-Za-z][ -~]*$";
const LICENSE_ARN_PATTERN: &str =
    "^arn:aws[a-z-]*:license-manager:[a-z0-9-]*:[0-9]{12}:license:l-[A-Za-z0-9]{1,64}$";
const REGION_PATTERN: &str = "^[a-z]{2}(-[a-z]+)+-[0-9]+$";
const ROLE_NAME_PATTERN: &str = "^[A-Za-z0-9+=,.@_-]{1,64}$";
const MODEL_ID_PATTERN: &str = "^[A-Za-z0-9._:*?-]*[A-Za-z0-9._:-][A-Za-z0-9._:*?-]*$";
const PRODUCT_ID_PATTERN: &str = "^[A-Za-z0-9-]+$";
const POLICY_PREFIX_PATTERN: &str = "^[!-~]{1,56}$";

fn subscribe() -> Value {
    json!({
        "description": "Subscribe the central account to the model (Bedrock CreateFoundationModelAgreement) when it has no agreement; plan shows the offer and its terms, apply accepts it and waits for the license.",
        "type": "object",
        "additionalProperties": false,
        "required": ["offer"],
        "properties": {
            "model_id": {
                "description": "The Bedrock model id to subscribe with (anthropic.claude-sonnet-4-5-20250929-v1:0); default: the one id of bedrock_model_ids.",
                "type": "string",
                "pattern": MODEL_ID_PATTERN,
                "maxLength": 256
            },
            "offer": {
                "description": "private: the organization's negotiated offer (listed with offerType=ALL only); public: the public offer; any: a private offer when there is one, else the public one.",
                "type": "string",
                "enum": ["private", "public", "any"]
            },
            "offer_id": { "description": "With offer: private, the offer id to accept.", "type": "string" },
            "seller": { "description": "With offer: private, the seller whose offer to accept (must be in settings.allowed_sellers when that is given).", "type": "string" }
        }
    })
}

fn guardrails() -> Value {
    json!({
        "description": "The service control policies that decide which accounts may invoke each model: accounts not entitled to a model are denied its bedrock_model_ids.",
        "type": ["object", "null"],
        "additionalProperties": false,
        "default": { "mode": "off", "policy_name_prefix": "bedrock-entitlements", "deny_marketplace_subscribe": false },
        "properties": {
            "mode": {
                "description": "off: no SCP is read or written; report: the live SCPs are compared with what enforce would write, nothing is written; enforce: plan and apply create, update, attach, detach and delete the tool's SCPs.",
                "type": "string",
                "enum": ["off", "report", "enforce"],
                "default": "off"
            },
            "policy_name_prefix": {
                "description": "The tool's SCPs are named {prefix}-{model}; only a policy with this prefix and the managed-by: bedrock-entitlements tag is ever changed.",
                "type": "string",
                "pattern": POLICY_PREFIX_PATTERN,
                "default": "bedrock-entitlements"
            },
            "deny_marketplace_subscribe": {
                "description": "Also deny aws-marketplace:Subscribe to the file's products in the accounts not entitled, so nobody subscribes outside the negotiated terms.",
                "type": ["boolean", "null"],
                "default": false
            }
        }
    })
}

/// `settings.bootstrap`.
fn bootstrap() -> Value {
    json!({
        "description": "What `bootstrap` sets up beyond the prerequisites every file needs.",
        "type": ["object", "null"],
        "additionalProperties": false,
        "properties": {
            "delegated_administrator": {
                "description": "The 12-digit id of the member account to register as License Manager's delegated administrator (an organization has at most one); null for none.",
                "anyOf": [
                    { "type": "string", "pattern": ACCOUNT_ID_PATTERN },
                    { "type": "integer", "minimum": 100_000_000_000_u64, "maximum": 999_999_999_999_u64 },
                    { "type": "null" }
                ],
                "default": null
            },
            "anthropic_use_case": {
                "description": "Anthropic's one-time use-case form, sent as written by `bootstrap --apply` (Bedrock PutUseCaseForModelAccess formData: companyName, companyWebsite, intendedUsers, industryOption, otherIndustryOption, useCases). Needed once Anthropic models are used; bootstrap invents nothing.",
                "type": ["object", "null"],
                "additionalProperties": false,
                "required": ["company_name", "company_website", "intended_users", "industry_option", "use_cases"],
                "properties": {
                    "company_name": { "type": "string", "minLength": 1 },
                    "company_website": { "type": "string", "minLength": 1 },
                    "intended_users": { "type": "string", "minLength": 1, "description": "As Anthropic's form codes it (quoted)." },
                    "industry_option": { "type": "string", "minLength": 1 },
                    "other_industry_option": { "type": "string", "default": "" },
                    "use_cases": { "type": "string", "minLength": 1 }
                },
                "default": null
            }
        }
    })
}

fn account_ref() -> Value {
    json!({
        "description": "An AWS account: its 12-digit id (quoted, or a number without leading zeros) or its account name.",
        "anyOf": [
            {
                "description": "A 12-digit account id, quoted.",
                "type": "string",
                "pattern": ACCOUNT_ID_PATTERN
            },
            {
                "description": "A 12-digit account id written as a number (only when it has no leading zero).",
                "type": "integer",
                "minimum": 100_000_000_000_u64,
                "maximum": 999_999_999_999_u64
            },
            {
                "description": "An account name: 1 to 50 printable ASCII characters with at least one letter.",
                "type": "string",
                "minLength": 1,
                "maxLength": 50,
                "pattern": ACCOUNT_NAME_PATTERN
            }
        ]
    })
}

fn account_list(description: &str) -> Value {
    json!({
        "description": description,
        "type": "array",
        "uniqueItems": true,
        "items": { "$ref": "#/definitions/account" }
    })
}

/// The JSON Schema of the desired-state file.
pub fn schema() -> Value {
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "bedrock-entitlements desired state",
        "description": "Which AWS accounts may use which third-party Amazon Bedrock models, as AWS License Manager grants (entitlements.yaml, version 1).",
        "type": "object",
        "additionalProperties": false,
        "required": ["version", "models"],
        "properties": {
            "version": {
                "description": "The version of the file format. Only 1 exists.",
                "type": "integer",
                "enum": [1]
            },
            "settings": settings(),
            "models": {
                "description": "One entry per model: the model key (lowercase letters, digits and '-') and who may use the model.",
                "type": "object",
                "propertyNames": { "pattern": MODEL_KEY_PATTERN },
                "additionalProperties": { "$ref": "#/definitions/model" }
            }
        },
        "definitions": {
            "model": model(),
            "grant_to": grant_to(),
            "account": account_ref()
        }
    })
}

/// `settings`: every key optional.
fn settings() -> Value {
    json!({
        "description": "Settings for the whole file. Every key is optional.",
        "type": ["object", "null"],
        "additionalProperties": false,
        "properties": {
            "home_region": {
                "description": "The region License Manager is called in: where the Marketplace licenses and their grants live.",
                "type": "string",
                "pattern": REGION_PATTERN,
                "default": "us-east-1"
            },
            "grant_name_prefix": {
                "description": "Grants whose name starts with this prefix are managed by the tool; any other grant is never changed or deleted.",
                "type": "string",
                "minLength": 1,
                "pattern": "\\S",
                "default": "bedrock-entitlements"
            },
            "allowed_operations": {
                "description": "The License Manager operations every grant allows.",
                "type": "array",
                "minItems": 1,
                "uniqueItems": true,
                "items": { "type": "string", "enum": KNOWN_OPERATIONS },
                "default": DEFAULT_OPERATIONS
            },
            "max_deletes": {
                "description": "apply refuses a plan that deletes more grants than this, unless --max-deletes allows it.",
                "type": "integer",
                "minimum": 0,
                "maximum": u32::MAX,
                "default": 10
            },
            "expiry_warning_days": {
                "description": "plan and drift warn about a license in use whose validity ends within this many days, and about expired ones.",
                "type": "integer",
                "minimum": 0,
                "maximum": u32::MAX,
                "default": 30
            },
            "recipient_role": {
                "description": "The NAME of a role to assume in member accounts to accept and activate the grants they receive (arn:aws:iam::ACCOUNT:role/NAME); null to leave that to the recipients.",
                "type": ["string", "null"],
                "pattern": ROLE_NAME_PATTERN,
                "default": null
            },
            "activation_override": {
                "description": "How activating a grant treats other active grants of the same product in the recipient account (License Manager ActivationOverrideBehavior); null to send none.",
                "type": ["string", "null"],
                "enum": ["distributed_grants_only", "all_grants_permitted_by_issuer", null],
                "default": null
            },
            "guardrails": guardrails(),
            "bootstrap": bootstrap(),
            "allowed_sellers": {
                "description": "Issuer names or seller ids as the APIs expose them (License Manager's Issuer.Name, Bedrock's providerName): a license from anyone else is never granted and an offer from anyone else never accepted. Absent: no restriction.",
                "type": "array",
                "minItems": 1,
                "uniqueItems": true,
                "items": { "type": "string", "minLength": 1 }
            }
        }
    })
}

/// One model of `models`.
fn model() -> Value {
    json!({
        "description": "One model: the license it is sold under and who receives a grant of it.",
        "type": "object",
        "additionalProperties": false,
        "required": ["grant_to"],
        "oneOf": [
            { "required": ["product_sku"] },
            { "required": ["product_name"] },
            { "required": ["license_arn"] }
        ],
        "properties": {
            "product_sku": {
                "description": "The AWS Marketplace product id of the model's license (exactly one of product_sku, product_name, license_arn).",
                "type": "string",
                "pattern": "^\\S+$"
            },
            "product_name": {
                "description": "The product name of the model's license, as License Manager shows it (exactly one of product_sku, product_name, license_arn).",
                "type": "string",
                "minLength": 1
            },
            "license_arn": {
                "description": "The ARN of the model's license (exactly one of product_sku, product_name, license_arn).",
                "type": "string",
                "pattern": LICENSE_ARN_PATTERN
            },
            "grant_to": { "$ref": "#/definitions/grant_to" },
            "except_accounts": account_list(
                "Accounts to leave out of the organization and OU targets."
            ),
            "status": {
                "description": "active: the grants are active; disabled: the grants are kept but deactivated.",
                "type": "string",
                "enum": ["active", "disabled"],
                "default": "active"
            },
            "bedrock_model_ids": {
                "description": "The Amazon Bedrock model ids the model stands for, as Bedrock writes them (anthropic.claude-sonnet-4-5-20250929-v1:0), with the IAM wildcards * and ?; the guardrail SCPs deny them (and the cross-Region inference profiles named after them) to accounts not entitled. Required for active models when settings.guardrails.mode is not off.",
                "type": "array",
                "minItems": 1,
                "uniqueItems": true,
                "items": { "type": "string", "pattern": MODEL_ID_PATTERN, "maxLength": 256 }
            },
            "marketplace_product_id": {
                "description": "The AWS Marketplace product id denied to aws-marketplace:Subscribe with settings.guardrails.deny_marketplace_subscribe, where it differs from the license's product SKU.",
                "type": "string",
                "pattern": PRODUCT_ID_PATTERN,
                "maxLength": 128
            },
            "subscribe": subscribe()
        }
    })
}

/// A model's `grant_to`.
fn grant_to() -> Value {
    json!({
        "description": "Who receives the model: at least one of the whole organization, OUs (with every account nested in them) or accounts.",
        "type": "object",
        "additionalProperties": false,
        "anyOf": [
            { "required": ["organization"], "properties": { "organization": { "const": true } } },
            { "required": ["organizational_units"], "properties": { "organizational_units": { "minItems": 1 } } },
            { "required": ["accounts"], "properties": { "accounts": { "minItems": 1 } } }
        ],
        "properties": {
            "organization": {
                "description": "true grants the model to the whole organization.",
                "type": ["boolean", "null"],
                "default": false
            },
            "organizational_units": {
                "description": "OUs, by id (ou-...) or by path from the root (Root/Workloads/ML).",
                "type": "array",
                "uniqueItems": true,
                "items": {
                    "anyOf": [
                        { "description": "An OU id.", "type": "string", "pattern": OU_ID_PATTERN },
                        { "description": "An OU path from the root.", "type": "string", "pattern": OU_PATH_PATTERN }
                    ]
                }
            },
            "accounts": account_list("Accounts, by 12-digit id or by account name.")
        }
    })
}

/// Every property name the schema declares, at any depth (for docs and consistency checks).
pub fn property_names(schema: &Value) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    let mut stack = vec![schema];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(map) => {
                if let Some(Value::Object(props)) = map.get("properties") {
                    out.extend(props.keys().cloned());
                }
                stack.extend(map.values());
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    out
}
