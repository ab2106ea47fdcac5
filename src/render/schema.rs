//! The JSON Schema (draft-07) of every JSON document the tool prints, published in
//! `docs/schemas/<noun>.schema.json` (a test keeps the committed files equal to these, and
//! checks real outputs against them). Objects are closed (`additionalProperties: false`): a
//! member added to a document without its schema fails that test.
//!
//! Written by hand beside the serde types (no schema-deriving dependency); each function names
//! the type it describes.

use serde_json::{Map, Value, json};

use crate::audit::DriftKind;
use crate::audit::guardrail_drift::GuardrailDriftKind;
use crate::plan::saved::{ACTION_KINDS, NOTE_KINDS, note_kind_name};

/// Every published schema: (noun, schema), the file being `docs/schemas/<noun>.schema.json`.
pub fn all() -> Vec<(&'static str, Value)> {
    vec![
        ("plan", plan()),
        ("drift", drift()),
        ("access", access()),
        ("licenses", licenses()),
        ("apply", apply()),
        ("guardrail-export", guardrail_export()),
    ]
}

fn string() -> Value {
    json!({ "type": "string" })
}

fn count() -> Value {
    json!({ "type": "integer", "minimum": 0 })
}

fn integer() -> Value {
    json!({ "type": "integer" })
}

fn boolean() -> Value {
    json!({ "type": "boolean" })
}

fn or_null(v: Value) -> Value {
    json!({ "anyOf": [v, { "type": "null" }] })
}

fn list(items: Value) -> Value {
    json!({ "type": "array", "items": items })
}

fn map_of(values: Value) -> Value {
    json!({ "type": "object", "additionalProperties": values })
}

fn one_of<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> Value {
    let names: Vec<String> = names.into_iter().map(|s| s.as_ref().to_owned()).collect();
    json!({ "type": "string", "enum": names })
}

fn constant(v: Value) -> Value {
    json!({ "const": v })
}

fn strings() -> Value {
    list(string())
}

/// A closed object: `required` members always present, `optional` ones only sometimes.
fn object(required: &[(&str, Value)], optional: &[(&str, Value)]) -> Value {
    let mut properties = Map::new();
    for (name, v) in required.iter().chain(optional) {
        properties.insert((*name).to_owned(), v.clone());
    }
    let names: Vec<&str> = required.iter().map(|(n, _)| *n).collect();
    json!({
        "type": "object",
        "properties": properties,
        "required": names,
        "additionalProperties": false,
    })
}

fn document(title: &str, description: &str, body: Value) -> Value {
    let mut doc = Map::new();
    doc.insert(
        "$schema".to_owned(),
        json!("http://json-schema.org/draft-07/schema#"),
    );
    doc.insert("title".to_owned(), json!(title));
    doc.insert("description".to_owned(), json!(description));
    if let Value::Object(body) = body {
        doc.extend(body);
    }
    Value::Object(doc)
}

fn action_kinds() -> Value {
    one_of(ACTION_KINDS.iter().map(|k| k.as_str()))
}

fn lost() -> Value {
    one_of([
        "not_available",
        "no_create_grant",
        "not_yet_valid",
        "expired",
        "ends_earlier",
        "began_earlier",
        "larger_arn",
    ])
}

/// `plan::saved::CoverDocument`.
fn cover() -> Value {
    object(
        &[
            ("license_arn", string()),
            ("principal", string()),
            ("accounts", strings()),
        ],
        &[("grant_arn", string())],
    )
}

/// `plan::saved::ActionDocument`.
fn plan_action() -> Value {
    object(
        &[
            ("action", action_kinds()),
            ("model", or_null(string())),
            ("license_arn", string()),
            ("principal", string()),
            ("grant_name", string()),
            ("operations", strings()),
            ("target_status", one_of(["active", "disabled"])),
            ("reason", string()),
            ("client_token", string()),
        ],
        &[
            ("grant_arn", string()),
            ("planned_version", string()),
            ("waits_for", list(cover())),
            (
                "activation_override",
                one_of(["DISTRIBUTED_GRANTS_ONLY", "ALL_GRANTS_PERMITTED_BY_ISSUER"]),
            ),
        ],
    )
}

/// `plan::saved::NoteDocument`.
fn plan_note() -> Value {
    object(
        &[
            ("kind", one_of(NOTE_KINDS.iter().map(note_kind_name))),
            ("model", or_null(string())),
            ("license_arn", string()),
            ("principal", string()),
            ("grant_arn", string()),
            ("grant_name", string()),
            ("status", string()),
            ("message", string()),
        ],
        &[],
    )
}

/// `plan::saved::ExpiryDocument` (drift's has the same members).
fn expiry() -> Value {
    object(
        &[
            ("license_arn", string()),
            ("model", or_null(string())),
            ("ends", string()),
            ("days_left", integer()),
            ("expired", boolean()),
            ("accounts", strings()),
        ],
        &[],
    )
}

fn before_after() -> Value {
    object(&[("before", strings()), ("after", strings())], &[])
}

/// `plan::saved::GuardrailsDocument`.
fn plan_guardrails() -> Value {
    let action = object(
        &[
            (
                "kind",
                one_of(["create", "update", "attach", "detach", "delete"]),
            ),
            ("phase", one_of(["before_grants", "after_grants"])),
            ("name", string()),
        ],
        &[
            ("policy_id", string()),
            ("target", string()),
            ("description", string()),
            ("content", string()),
        ],
    );
    let effect = object(
        &[
            ("model", or_null(string())),
            ("newly_denied", strings()),
            ("newly_allowed", strings()),
            ("allowed_through_grant", strings()),
            ("sentence", string()),
        ],
        &[],
    );
    object(
        &[
            ("mode", one_of(["report", "enforce"])),
            ("actions", list(action)),
            ("effects", list(effect)),
        ],
        &[],
    )
}

/// `plan::saved::LicenseChoiceDocument`, `GuardrailNoteDocument` and `PolicyActionEntry`.
fn plan_extras() -> (Value, Value, Value) {
    let choice = object(
        &[
            ("model", string()),
            ("chosen", string()),
            (
                "others",
                list(object(
                    &[
                        ("license_arn", string()),
                        ("lost", lost()),
                        ("why", string()),
                    ],
                    &[("status", string())],
                )),
            ),
        ],
        &[],
    );
    let guardrail_note = object(
        &[
            (
                "kind",
                one_of([
                    "not_read",
                    "layout_failed",
                    "scp_disabled",
                    "name_taken",
                    "left_for_target",
                ]),
            ),
            ("message", string()),
        ],
        &[],
    );
    let policy_action = object(
        &[
            (
                "action",
                one_of(["create", "update", "attach", "detach", "delete"]),
            ),
            ("policy_name", string()),
        ],
        &[("target", string()), ("policy_id", string())],
    );
    (choice, guardrail_note, policy_action)
}

/// `plan::saved::PlanDocument`: what `plan --out` saves and `plan --format json` prints.
fn plan() -> Value {
    let kinds: Vec<(&str, Value)> = ACTION_KINDS.iter().map(|k| (k.as_str(), count())).collect();
    let policies: Vec<(&str, Value)> = [
        "policy_create",
        "policy_update",
        "policy_attach",
        "policy_detach",
        "policy_delete",
    ]
    .into_iter()
    .chain(["subscribe"])
    .map(|k| (k, count()))
    .collect();
    let (choice, guardrail_note, policy_action) = plan_extras();
    let (subscription, subscription_note) = plan_subscriptions();
    let body = object(
        &[
            ("format_version", constant(json!(1))),
            ("live_fingerprint", string()),
            ("config_digest", string()),
            ("licenses", strings()),
            ("summary", object(&kinds, &policies)),
            ("actions", list(plan_action())),
            ("notes", list(plan_note())),
            ("access", map_of(before_after())),
        ],
        &[
            ("license_choices", list(choice)),
            ("expiry", list(expiry())),
            ("guardrails", plan_guardrails()),
            ("guardrail_notes", list(guardrail_note)),
            ("policy_actions", list(policy_action)),
            ("subscription_actions", list(subscription)),
            ("subscription_notes", list(subscription_note)),
        ],
    );
    document(
        "bedrock-entitlements plan",
        "What `plan --out` saves, `plan --format json` prints and `apply PLAN` reads back.",
        body,
    )
}

/// `plan::saved::{SubscriptionActionEntry, SubscriptionNoteEntry}`: a subscription and a note.
fn plan_subscriptions() -> (Value, Value) {
    let optional = |names: &[&'static str]| -> Vec<(&'static str, Value)> {
        names.iter().map(|n| (*n, string())).collect()
    };
    let rate = object(
        &[],
        &optional(&["dimension", "price", "unit", "description"]),
    );
    let mut term_members = vec![("rate_card", list(rate))];
    term_members.extend(optional(&[
        "legal_url",
        "refund_policy",
        "agreement_duration",
    ]));
    let terms = object(&[], &term_members);
    let action = object(
        &[
            ("action", constant(json!("subscribe"))),
            ("model", string()),
            ("model_id", string()),
            ("offer_id", or_null(string())),
            ("offer_type", one_of(["public", "private"])),
            ("seller", or_null(string())),
            ("terms", terms),
        ],
        &[],
    );
    let kinds = [
        "pending",
        "no_offer",
        "ambiguous",
        "seller_refused",
        "not_read",
        "agreement_error",
    ];
    let note = object(
        &[
            ("model", string()),
            ("kind", one_of(kinds)),
            ("message", string()),
        ],
        &[],
    );
    (action, note)
}

/// `render::drift::DriftDocument`.
fn drift() -> Value {
    let kinds: Vec<(&str, Value)> = DriftKind::ALL
        .iter()
        .map(|k| (k.as_str(), count()))
        .collect();
    let guardrail_kinds: Vec<(&str, Value)> = GuardrailDriftKind::ALL
        .iter()
        .map(|k| (k.as_str(), count()))
        .collect();
    let item = object(
        &[
            ("accounts", strings()),
            ("action", or_null(action_kinds())),
            ("grant_arn", or_null(string())),
            ("grant_name", or_null(string())),
            ("kind", one_of(DriftKind::ALL.iter().map(|k| k.as_str()))),
            ("license_arn", string()),
            ("message", string()),
            ("model", or_null(string())),
            ("principal", or_null(string())),
            ("status", or_null(string())),
            ("status_reason", or_null(string())),
            ("version", or_null(string())),
        ],
        &[],
    );
    let guardrail_item = object(
        &[
            ("accounts", strings()),
            ("fixed_by_apply", boolean()),
            (
                "kind",
                one_of(GuardrailDriftKind::ALL.iter().map(|k| k.as_str())),
            ),
            ("message", string()),
            ("models", strings()),
            ("policy_id", or_null(string())),
            ("policy_name", string()),
            ("targets", strings()),
        ],
        &[],
    );
    let body = object(
        &[
            ("access", map_of(before_after())),
            ("actions", count()),
            ("baseline_generated_at", or_null(count())),
            ("config_digest", string()),
            ("drift", boolean()),
            ("expiry", list(expiry())),
            ("format_version", constant(json!(1))),
            ("generated_at", or_null(count())),
            ("items", list(item)),
            ("live_fingerprint", string()),
            ("report", constant(json!("drift"))),
            ("summary", object(&kinds, &[])),
        ],
        &[
            ("guardrail_summary", object(&guardrail_kinds, &[])),
            ("guardrails", list(guardrail_item)),
        ],
    );
    document(
        "bedrock-entitlements drift report",
        "What `drift --format json` prints; usable as a later run's `--baseline`.",
        body,
    )
}

/// `render::access::AccessDocument`.
fn access() -> Value {
    let via = object(
        &[
            ("grant_arn", string()),
            ("grant_name", string()),
            ("in_effect", boolean()),
            ("managed", boolean()),
            ("ou_path", or_null(string())),
            ("principal", string()),
            ("route", one_of(["organization", "ou", "account"])),
            ("share_not_in_effect", boolean()),
            ("share_status", or_null(string())),
            ("status", string()),
        ],
        &[],
    );
    let cell = object(
        &[
            ("access", boolean()),
            ("differs_from_file", boolean()),
            ("state", string()),
            ("via", list(via)),
            (
                "wanted",
                one_of(["not_in_file", "yes", "excluded", "disabled", "not_targeted"]),
            ),
            ("why", strings()),
        ],
        &[
            ("invoke_policy", or_null(string())),
            ("leak", or_null(string())),
            ("may_invoke", string()),
        ],
    );
    let account = object(
        &[
            ("id", string()),
            ("models", map_of(cell)),
            ("name", string()),
            ("path", string()),
            ("state", string()),
        ],
        &[],
    );
    let model = object(
        &[
            ("in_file", boolean()),
            ("key", string()),
            ("license_arn", string()),
            ("product_name", string()),
        ],
        &[],
    );
    let body = object(
        &[
            ("accounts", list(account)),
            ("format_version", constant(json!(1))),
            ("grantor", string()),
            ("models", list(model)),
            ("organization", string()),
        ],
        &[],
    );
    document(
        "bedrock-entitlements access matrix",
        "What `access --format json` prints: per account and model, who has access and why.",
        body,
    )
}

/// `render::licenses::LicensesDocument`.
fn licenses() -> Value {
    let license = object(
        &[
            ("beneficiary", or_null(string())),
            ("can_grant", boolean()),
            ("home_region", string()),
            ("issuer", string()),
            ("license_arn", string()),
            ("license_name", string()),
            ("product_name", string()),
            ("product_sku", string()),
            ("status", string()),
            ("validity_end", or_null(string())),
        ],
        &[],
    );
    let other = object(
        &[
            ("license_arn", string()),
            ("lost", lost()),
            ("status", or_null(string())),
            ("why", string()),
        ],
        &[],
    );
    let choice = object(
        &[
            ("chosen", or_null(string())),
            ("models", strings()),
            ("others", list(other)),
            ("product_name", string()),
            ("product_sku", string()),
        ],
        &[],
    );
    let body = object(
        &[
            ("choices", list(choice)),
            ("format_version", constant(json!(1))),
            ("licenses", list(license)),
        ],
        &[],
    );
    document(
        "bedrock-entitlements licenses",
        "What `licenses --format json` prints: the model licenses received, and renewal choices.",
        body,
    )
}

/// One entry of the apply report's `subscriptions`.
fn apply_subscription() -> Value {
    object(
        &[
            ("model", string()),
            ("model_id", string()),
            ("offer_type", one_of(["public", "private"])),
            (
                "outcome",
                one_of([
                    "subscribed",
                    "license_pending",
                    "refused",
                    "offer_gone",
                    "failed",
                ]),
            ),
        ],
        &[
            ("offer_id", string()),
            ("seller", string()),
            ("already", boolean()),
            ("message", string()),
        ],
    )
}

/// `render::apply`'s report document.
fn apply() -> Value {
    let action = object(
        &[
            ("action", action_kinds()),
            ("model", or_null(string())),
            ("license_arn", string()),
            ("principal", string()),
            ("outcome", string()),
        ],
        &[
            ("grant_arn", string()),
            ("status", string()),
            ("waiting_on", string()),
            ("operation", string()),
            ("error_code", string()),
            ("message", string()),
            ("waits_for", list(cover())),
        ],
    );
    let policy_action = object(
        &[
            ("action", string()),
            ("policy_name", string()),
            ("outcome", string()),
        ],
        &[
            ("policy_id", string()),
            ("target", string()),
            ("already", boolean()),
            ("operation", string()),
            ("error_code", string()),
            ("message", string()),
        ],
    );
    let summary: Vec<(&str, Value)> = ["done", "pending", "failed", "skipped", "deferred"]
        .into_iter()
        .map(|k| (k, count()))
        .collect();
    let body = object(
        &[
            ("format_version", constant(json!(1))),
            ("success", boolean()),
            ("summary", object(&summary, &[])),
            ("actions", list(action)),
        ],
        &[
            ("policy_actions", list(policy_action)),
            ("policy_summary", map_of(count())),
            ("subscriptions", list(apply_subscription())),
            ("subscription_summary", map_of(count())),
        ],
    );
    document(
        "bedrock-entitlements apply report",
        "What `apply --format json` prints: each subscription's, grant action's and SCP action's outcome.",
        body,
    )
}

/// `render::guardrails::ExportDocument`.
fn guardrail_export() -> Value {
    let target = object(
        &[
            ("target_id", string()),
            ("type", one_of(["ROOT", "ORGANIZATIONAL_UNIT", "ACCOUNT"])),
        ],
        &[],
    );
    let policy = object(
        &[
            ("name", string()),
            ("description", string()),
            ("type", constant(json!("SERVICE_CONTROL_POLICY"))),
            ("models", strings()),
            ("part", count()),
            ("parts", count()),
            ("content", string()),
            ("targets", list(target)),
        ],
        &[],
    );
    let body = object(
        &[
            ("format_version", constant(json!(1))),
            ("mode", string()),
            ("policy_name_prefix", string()),
            ("tags", map_of(string())),
            ("policies", list(policy)),
            ("denied", map_of(strings())),
            ("models_without_ids", strings()),
        ],
        &[],
    );
    document(
        "bedrock-entitlements guardrail export",
        "What `guardrail export --format json` prints: the SCPs `enforce` would write.",
        body,
    )
}

/// The errors of `value` against `schema`, each with its path (empty: it validates). Knows the
/// subset of draft-07 these schemas use: type, const, enum, properties, required,
/// additionalProperties, items, anyOf, minimum.
pub fn validate(schema: &Value, value: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    validate_at(schema, value, "$", &mut errors);
    errors
}

fn type_matches(t: &str, v: &Value) -> bool {
    match t {
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "boolean" => v.is_boolean(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        "null" => v.is_null(),
        other => panic!("the validator does not know type {other}"),
    }
}

fn validate_at(schema: &Value, v: &Value, path: &str, errors: &mut Vec<String>) {
    let mut fail = |what: String| errors.push(format!("{path}: {what}"));
    if let Some(t) = schema.get("type").and_then(Value::as_str)
        && !type_matches(t, v)
    {
        return fail(format!("expected {t}, found {v}"));
    }
    if let Some(c) = schema.get("const")
        && c != v
    {
        return fail(format!("expected {c}, found {v}"));
    }
    if let Some(names) = schema.get("enum").and_then(Value::as_array)
        && !names.contains(v)
    {
        return fail(format!("{v} is not one of {names:?}"));
    }
    if let Some(min) = schema.get("minimum").and_then(Value::as_i64)
        && v.as_i64().is_some_and(|n| n < min)
    {
        return fail(format!("{v} < {min}"));
    }
    if let Some(any) = schema.get("anyOf").and_then(Value::as_array)
        && !any.iter().any(|s| validate(s, v).is_empty())
    {
        return fail(format!("{v} matches none of anyOf"));
    }
    if let (Some(items), Some(list)) = (schema.get("items"), v.as_array()) {
        for (i, item) in list.iter().enumerate() {
            validate_at(items, item, &format!("{path}[{i}]"), errors);
        }
    }
    let Some(obj) = v.as_object() else { return };
    validate_members(schema, obj, path, errors);
}

fn validate_members(
    schema: &Value,
    obj: &Map<String, Value>,
    path: &str,
    errors: &mut Vec<String>,
) {
    let props = schema.get("properties").and_then(Value::as_object);
    for name in schema["required"].as_array().into_iter().flatten() {
        let name = name.as_str().unwrap_or_default();
        if !obj.contains_key(name) {
            errors.push(format!("{path}: missing {name}"));
        }
    }
    for (k, member) in obj {
        let at = format!("{path}.{k}");
        match (
            props.and_then(|p| p.get(k)),
            schema.get("additionalProperties"),
        ) {
            (Some(s), _) => validate_at(s, member, &at, errors),
            (None, Some(Value::Bool(false))) => errors.push(format!("{at}: not in the schema")),
            (None, Some(s)) if s.is_object() => validate_at(s, member, &at, errors),
            (None, _) => {}
        }
    }
}
