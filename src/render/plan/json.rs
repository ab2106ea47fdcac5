//! The plan document of the contract: what `plan --out` saves, `plan --format json` prints and
//! `apply PLAN` reads back.
//!
//! The wire types are `plan::saved`'s (the only serde types of a plan: internal types never
//! derive `Serialize`); this file fills them from a plan and writes them, and
//! `plan::saved::read` checks them and reads them back, naming the offending field
//! (`actions[3].principal: ...`).
//!
//! ```json
//! {
//!   "format_version": 1,
//!   "live_fingerprint": "…", "config_digest": "…",
//!   "summary": { "create": 1, "activate": 0, "deactivate": 0, "update": 0, "delete": 0, "recreate": 0, "accept": 0 },
//!   "actions": [ { "action": "create", "model": "claude", "license_arn": "…", "principal": "arn:aws:iam::111122223333:root",
//!                  "grant_name": "…", "operations": ["…"], "target_status": "active", "reason": "…" } ],
//!   "notes": [ … ],
//!   "access": { "claude": { "before": [], "after": ["111122223333"] } },
//!   "guardrails": { "mode": "enforce",
//!                   "actions": [ { "kind": "create", "phase": "before_grants", "name": "bedrock-entitlements-claude",
//!                                  "description": "…", "content": "{\"Version\":…}" },
//!                                { "kind": "attach", "phase": "after_grants", "name": "bedrock-entitlements-claude",
//!                                  "target": "ou-ab12-sandbox1" } ],
//!                   "effects": [ { "model": "claude", "newly_denied": ["…"], "newly_allowed": [],
//!                                  "allowed_through_grant": ["…"], "sentence": "…" } ] },
//!   "guardrail_notes": [ { "kind": "scp_disabled", "message": "…" } ]
//! }
//! ```
//!
//! `guardrails` and `guardrail_notes` are left out when guardrails are off, so such plans are
//! byte for byte what they were before guardrails existed.

use crate::model::AccountId;
use crate::org::LostBecause;
use crate::plan::saved::{
    AccessDocument, ActionDocument, CoverDocument, ExpiryDocument, FORMAT_VERSION,
    LicenseCandidateDocument, LicenseChoiceDocument, NoteDocument, PlanDocument, SummaryDocument,
    note_kind_name, target_status_name,
};
use crate::plan::{Action, ExpiryWarning, LicenseChoice, Note, Plan, words};

/// The document for a plan.
pub fn document(plan: &Plan) -> PlanDocument {
    PlanDocument {
        format_version: FORMAT_VERSION,
        live_fingerprint: plan.live_fingerprint.clone(),
        config_digest: plan.config_digest.clone(),
        licenses: plan.licenses.iter().map(|l| l.to_string()).collect(),
        summary: SummaryDocument {
            policies: crate::render::guardrails::policy_summary(plan),
            subscribe: plan.subscriptions.len(),
            ..SummaryDocument::of(&plan.actions)
        },
        actions: plan.actions.iter().map(action_document).collect(),
        notes: plan.notes.iter().map(note_document).collect(),
        access: plan
            .access
            .iter()
            .map(|(model, change)| {
                let ids = |v: &[AccountId]| v.iter().map(|a| a.to_string()).collect();
                (
                    model.to_string(),
                    AccessDocument {
                        before: ids(&change.before),
                        after: ids(&change.after),
                    },
                )
            })
            .collect(),
        license_choices: plan.license_choices.iter().map(choice_document).collect(),
        expiry: plan.expiry.iter().map(expiry_document).collect(),
        guardrails: crate::render::guardrails::document(plan),
        guardrail_notes: crate::render::guardrails::notes_document(plan),
        policy_actions: crate::render::guardrails::policy_actions(plan),
        subscription_actions: crate::render::subscriptions::actions(plan),
        subscription_notes: crate::render::subscriptions::notes(plan),
    }
}

fn action_document(a: &Action) -> ActionDocument {
    ActionDocument {
        action: a.kind().as_str().to_owned(),
        model: a.model().map(|m| m.to_string()),
        license_arn: a.license_arn.to_string(),
        principal: a.principal.arn(),
        grant_arn: a.grant_arn().map(|g| g.to_string()),
        planned_version: a.planned_version().map(str::to_owned),
        grant_name: a.grant_name.clone(),
        operations: a.operations.iter().cloned().collect(),
        target_status: target_status_name(a.target_status).to_owned(),
        reason: words::reason(&a.reason),
        client_token: a.client_token.clone(),
        waits_for: a
            .waits_for
            .iter()
            .map(|c| CoverDocument {
                license_arn: c.license_arn.to_string(),
                principal: c.principal.arn(),
                grant_arn: c.grant_arn.as_ref().map(|g| g.to_string()),
                accounts: c.accounts.iter().map(|a| a.to_string()).collect(),
            })
            .collect(),
        activation_override: a.activation_override.map(|o| o.api_value().to_owned()),
    }
}

fn choice_document(c: &LicenseChoice) -> LicenseChoiceDocument {
    LicenseChoiceDocument {
        model: c.model.to_string(),
        chosen: c.chosen.to_string(),
        others: c
            .others
            .iter()
            .map(|o| LicenseCandidateDocument {
                license_arn: o.arn.to_string(),
                lost: o.lost.code().to_owned(),
                status: match &o.lost {
                    LostBecause::NotAvailable(status) => Some(status.clone()),
                    _ => None,
                },
                why: o.lost.describe(),
            })
            .collect(),
    }
}

fn expiry_document(e: &ExpiryWarning) -> ExpiryDocument {
    ExpiryDocument {
        license_arn: e.license_arn.to_string(),
        model: e.model.as_ref().map(|m| m.to_string()),
        ends: e.ends.clone(),
        days_left: e.days_left,
        expired: e.expired,
        accounts: e.accounts.iter().map(|a| a.to_string()).collect(),
    }
}

fn note_document(n: &Note) -> NoteDocument {
    NoteDocument {
        kind: note_kind_name(&n.kind()).to_owned(),
        model: n.model.as_ref().map(|m| m.to_string()),
        license_arn: n.license_arn.to_string(),
        principal: n.principal.arn(),
        grant_arn: n.grant_arn.to_string(),
        grant_name: n.grant_name.clone(),
        status: n.status.as_str().to_owned(),
        message: words::note(n),
    }
}

/// The plan as a pretty-printed JSON document, ending in a newline.
pub fn to_string(plan: &Plan) -> String {
    let doc = document(plan);
    // Serializing plain structs of strings, numbers, lists and string-keyed maps cannot fail.
    let mut text = serde_json::to_string_pretty(&doc).expect("a plan document always serializes");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::saved::{self, ACTION_KINDS as ALL_KINDS, SavedPlanError};
    use crate::render::fixtures;

    fn parse(text: &str) -> Result<Plan, SavedPlanError> {
        saved::read(text).map(saved::SavedPlan::into_plan)
    }

    #[test]
    fn empty_plan_document() {
        let text = to_string(&fixtures::empty());
        insta::assert_snapshot!(text);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        for kind in ALL_KINDS {
            assert_eq!(value["summary"][kind.as_str()], 0, "{}", kind.as_str());
        }
    }

    #[test]
    fn mixed_plan_document() {
        let text = to_string(&fixtures::mixed());
        assert!(text.ends_with("}\n"));
        insta::assert_snapshot!(text);
    }

    #[test]
    fn create_has_no_grant_arn_and_the_rest_do() {
        let value: serde_json::Value =
            serde_json::from_str(&to_string(&fixtures::mixed())).unwrap();
        for a in value["actions"].as_array().unwrap() {
            let is_create = a["action"] == "create";
            assert_eq!(a.get("grant_arn").is_none(), is_create, "{a}");
            assert!(
                a.get("model").is_some(),
                "model is always present, null or not"
            );
        }
    }

    #[test]
    fn round_trip() {
        for p in [fixtures::empty(), fixtures::mixed(), fixtures::huge()] {
            let text = to_string(&p);
            let back = parse(&text).unwrap();
            // A saved plan has the words of its reasons and notes, not their data.
            assert_eq!(back, fixtures::recorded(&p));
            assert_eq!(to_string(&back), text);
        }
    }

    #[test]
    fn huge_plan_summary() {
        let value: serde_json::Value = serde_json::from_str(&to_string(&fixtures::huge())).unwrap();
        assert_eq!(value["actions"].as_array().unwrap().len(), 5_000);
        insta::assert_snapshot!(serde_json::to_string_pretty(&value["summary"]).unwrap());
    }

    /// Edits a valid document, parses it and returns the error message.
    fn check(edit: impl FnOnce(&mut serde_json::Value), want: &str) {
        let mut value: serde_json::Value =
            serde_json::from_str(&to_string(&fixtures::mixed())).unwrap();
        edit(&mut value);
        let text = serde_json::to_string_pretty(&value).unwrap();
        match parse(&text) {
            Ok(_) => panic!("parsed although it should fail with: {want}"),
            Err(e) => assert_eq!(e.to_string(), want),
        }
    }

    #[test]
    fn rejects_bad_documents() {
        use serde_json::json;
        check(
            |v| v["format_version"] = json!(2),
            "the plan file has format_version 2, but this version of bedrock-entitlements reads only format_version 1",
        );
        check(
            |v| v["format_version"] = json!("1"),
            "the plan file has format_version \"1\", but this version of bedrock-entitlements reads only format_version 1",
        );
        check(
            |v| {
                v.as_object_mut().unwrap().remove("format_version");
            },
            "the plan file has no format_version: it is not a plan saved by `plan --out`",
        );
        check(
            |v| v["actions"][2]["action"] = json!("destroy"),
            "the plan file is invalid at actions[2].action: unknown action \"destroy\": expected one of create, activate, deactivate, update, delete, recreate, accept",
        );
        check(
            |v| v["actions"][1]["principal"] = json!("arn:aws:iam::1234:root"),
            "the plan file is invalid at actions[1].principal: \"arn:aws:iam::1234:root\" is not a valid grant principal: expected arn:aws:iam::<account>:root, arn:aws:organizations::<account>:organization/o-… or arn:aws:organizations::<account>:ou/o-…/ou-…",
        );
        check(
            |v| v["actions"][0]["license_arn"] = json!("arn:aws:s3:::bucket"),
            "the plan file is invalid at actions[0].license_arn: \"arn:aws:s3:::bucket\" is not a valid license ARN: expected arn:aws:license-manager::<12-digit account>:license:l-<id>",
        );
        check(
            |v| v["actions"][0]["grant_arn"] = v["actions"][2]["grant_arn"].clone(),
            "the plan file is invalid at actions[0].grant_arn: a create action names no existing grant",
        );
        check(
            |v| {
                v["actions"][7].as_object_mut().unwrap().remove("grant_arn");
            },
            "the plan file is invalid at actions[7].grant_arn: a delete action needs the ARN of the grant it acts on",
        );
        check(
            |v| v["actions"][4]["grant_arn"] = json!("g-123"),
            "the plan file is invalid at actions[4].grant_arn: \"g-123\" is not a valid grant ARN: expected arn:aws:license-manager::<12-digit account>:grant:g-<id>",
        );
        check(
            |v| v["actions"][5]["target_status"] = json!("ACTIVE"),
            "the plan file is invalid at actions[5].target_status: unknown status \"ACTIVE\": expected active or disabled",
        );
        check(
            |v| v["actions"][5]["model"] = json!("Llama 3"),
            "the plan file is invalid at actions[5].model: \"Llama 3\" is not a valid model key: expected lowercase letters, digits and '-'",
        );
        check(
            |v| {
                v["actions"][7]
                    .as_object_mut()
                    .unwrap()
                    .remove("planned_version");
            },
            "the plan file is invalid at actions[7].planned_version: delete actions need the version of the grant they act on",
        );
        check(
            |v| v["actions"][5]["model"] = json!(null),
            "the plan file is invalid at actions[5].model: activate actions name their model",
        );
        check(
            |v| v["summary"]["delete"] = json!(0),
            "the plan file's summary counts 0 delete actions but its actions list has 7: it was edited by hand",
        );
        check(
            |v| v["notes"][1]["kind"] = json!("conflict"),
            "the plan file is invalid at notes[1].kind: unknown note kind \"conflict\": expected one of foreign, foreign_conflict, in_progress, awaiting_acceptance, kept_for_continuity, keeps_other_grant",
        );
        check(
            |v| v["access"]["llama-3"]["after"][1] = json!("12345"),
            "the plan file is invalid at access.llama-3.after[1]: \"12345\" is not a valid account id: expected exactly 12 digits",
        );
        check(
            |v| {
                v["actions"][5].as_object_mut().unwrap().remove("reason");
            },
            "the plan file does not have the shape of a plan: missing field `reason` at line 182 column 5",
        );
    }

    #[test]
    fn rejects_what_is_not_a_plan() {
        let cases = [
            (
                "{",
                "the plan file is not valid JSON: EOF while parsing an object at line 1 column 1",
            ),
            (
                "[]",
                "the plan file is not a JSON object: it is not a plan saved by `plan --out`",
            ),
            (
                "\"plan\"",
                "the plan file is not a JSON object: it is not a plan saved by `plan --out`",
            ),
            (
                "{}",
                "the plan file has no format_version: it is not a plan saved by `plan --out`",
            ),
        ];
        for (input, want) in cases {
            let err = parse(input).expect_err(input);
            assert_eq!(err.to_string(), want, "{input}");
        }
    }
}
