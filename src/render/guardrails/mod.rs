//! The guardrails layer of a plan (SCPs) in each view: text and Markdown sections, and the
//! `guardrails` / `guardrail_notes` objects of the plan document (read back by
//! `plan::saved`); the guardrail items of a drift report ([`drift`]) and the document of
//! `guardrail export` ([`export`]).
//!
//! Policy names, descriptions and notes come from AWS or quote it: they go through
//! [`clean`] in text and [`md`] in Markdown. Documents (`content`) appear only in JSON.

use std::collections::BTreeSet;
use std::fmt::Write as _;

mod drift;
mod export;

pub use drift::{drift_markdown, drift_text};
pub use export::{ExportDocument, ExportPolicy, ExportTarget, export_json};

use crate::config::GuardrailMode;
use crate::model::{AccountId, PolicyId, Target};
use crate::plan::saved::{
    EffectDocument, GuardrailNoteDocument, GuardrailsDocument, PolicyActionDocument,
    PolicyActionEntry, PolicySummary,
};
use crate::plan::{GuardrailEffect, GuardrailPlan, Plan, PolicyAction, PolicyPhase};
use crate::render::common::{clean, thousands};
use crate::render::escape::md;

/// Markdown lists at most this many policy actions; the JSON plan has them all.
pub(crate) const MD_ROWS: usize = 50;

pub(crate) fn mode_name(mode: GuardrailMode) -> &'static str {
    match mode {
        GuardrailMode::Off => "off",
        GuardrailMode::Report => "report",
        GuardrailMode::Enforce => "enforce",
    }
}

/// `create`, `update`, `attach`, `detach` or `delete`: the names of the plan JSON's and the
/// apply report's `policy_actions`.
pub fn kind_name(a: &PolicyAction) -> &'static str {
    match a {
        PolicyAction::Create { .. } => "create",
        PolicyAction::Update { .. } => "update",
        PolicyAction::Attach { .. } => "attach",
        PolicyAction::Detach { .. } => "detach",
        PolicyAction::Delete { .. } => "delete",
    }
}

fn symbol(a: &PolicyAction) -> &'static str {
    match a {
        PolicyAction::Create { .. } | PolicyAction::Attach { .. } => "+",
        PolicyAction::Update { .. } => "~",
        PolicyAction::Detach { .. } | PolicyAction::Delete { .. } => "-",
    }
}

fn policy_id(a: &PolicyAction) -> Option<&PolicyId> {
    match a {
        PolicyAction::Create { .. } => None,
        PolicyAction::Attach { policy, .. } => policy.as_ref(),
        PolicyAction::Update { policy, .. }
        | PolicyAction::Detach { policy, .. }
        | PolicyAction::Delete { policy, .. } => Some(policy),
    }
}

fn target_of(a: &PolicyAction) -> Option<&Target> {
    match a {
        PolicyAction::Attach { target, .. } | PolicyAction::Detach { target, .. } => Some(target),
        _ => None,
    }
}

/// "to ou-…", "from 111122223333", or nothing; with the policy id when known.
fn detail(a: &PolicyAction) -> String {
    let mut s = String::new();
    if let Some(id) = policy_id(a) {
        let _ = write!(s, " ({id})");
    }
    match a {
        PolicyAction::Attach { target, .. } => {
            let _ = write!(s, " to {target}");
        }
        PolicyAction::Detach { target, .. } => {
            let _ = write!(s, " from {target}");
        }
        _ => {}
    }
    s
}

fn accounts(n: usize) -> String {
    if n == 1 {
        "1 account".to_owned()
    } else {
        format!("{} accounts", thousands(n))
    }
}

/// One sentence per model, in people's terms: "12 accounts can no longer invoke claude-sonnet;
/// 3 keep it through a grant".
pub fn effect_sentence(e: &GuardrailEffect) -> String {
    let model = e.model.as_ref().map_or_else(
        || "models no longer in the file".to_owned(),
        |m| m.to_string(),
    );
    let mut parts = Vec::new();
    if !e.newly_denied.is_empty() {
        parts.push(format!(
            "{} can no longer invoke {model}",
            accounts(e.newly_denied.len())
        ));
    }
    if !e.newly_allowed.is_empty() {
        parts.push(format!(
            "{} may invoke {model} again",
            accounts(e.newly_allowed.len())
        ));
    }
    if parts.is_empty() {
        parts.push(format!("no change in who may invoke {model}"));
    }
    let n = e.allowed_through_grant.len();
    let verb = if n == 1 { "keeps" } else { "keep" };
    parts.push(format!("{} {verb} it through a grant", accounts(n)));
    parts.join("; ")
}

fn heading(g: &GuardrailPlan) -> String {
    match g.mode {
        GuardrailMode::Report => {
            "Guardrails (service control policies), mode report: what enforce would write; apply writes none".to_owned()
        }
        mode => format!("Guardrails (service control policies), mode {}", mode_name(mode)),
    }
}

/// The guardrail section of the text plan; empty when the plan has no guardrail layer or note.
pub fn text(plan: &Plan) -> String {
    let mut out = String::new();
    if let Some(g) = &plan.guardrails {
        let _ = writeln!(out, "{}:", heading(g));
        if g.actions.is_empty() {
            out.push_str("  the live SCPs match the layout\n");
        }
        let mut phase = None;
        for a in &g.actions {
            if phase != Some(a.phase()) {
                phase = Some(a.phase());
                let when = match a.phase() {
                    PolicyPhase::BeforeGrants => "before the grant actions",
                    PolicyPhase::AfterGrants => "after the grant actions",
                };
                let _ = writeln!(out, "  {when}:");
            }
            let _ = writeln!(
                out,
                "  {:>3} {:<7} {}{}",
                symbol(a),
                kind_name(a),
                clean(a.name()),
                detail(a)
            );
        }
        for e in &g.effects {
            let _ = writeln!(out, "  effect: {}", effect_sentence(e));
        }
    }
    for n in &plan.guardrail_notes {
        let _ = writeln!(out, "  note ({}): {}", n.kind.as_str(), clean(&n.message));
    }
    if !out.is_empty() {
        out.insert(0, '\n');
    }
    out
}

/// The guardrail section of the Markdown plan (at most [`MD_ROWS`] action rows); empty when
/// the plan has no guardrail layer or note.
pub fn markdown(plan: &Plan) -> String {
    let mut out = String::new();
    if let Some(g) = &plan.guardrails {
        let _ = writeln!(out, "### {}\n", md(&heading(g)));
        for e in &g.effects {
            let _ = writeln!(out, "- {}", md(&effect_sentence(e)));
        }
        if !g.effects.is_empty() {
            out.push('\n');
        }
        if g.actions.is_empty() {
            out.push_str("The live SCPs match the layout.\n\n");
        } else {
            out.push_str("| | policy action | policy | target |\n| :-- | :-- | :-- | :-- |\n");
            for a in g.actions.iter().take(MD_ROWS) {
                let id = policy_id(a).map_or_else(String::new, |p| format!(" ({p})"));
                let target = target_of(a).map_or_else(String::new, ToString::to_string);
                let _ = writeln!(
                    out,
                    "| {} | {} | {}{id} | {target} |",
                    md(symbol(a)),
                    kind_name(a),
                    md(a.name())
                );
            }
            if g.actions.len() > MD_ROWS {
                let _ = writeln!(
                    out,
                    "\n*… and {} more policy actions, in the JSON plan*",
                    thousands(g.actions.len() - MD_ROWS)
                );
            }
            out.push('\n');
        }
    }
    for n in &plan.guardrail_notes {
        let _ = writeln!(out, "> {}\n", md(&n.message));
    }
    out
}

pub(crate) fn ids(s: &BTreeSet<AccountId>) -> Vec<String> {
    s.iter().map(ToString::to_string).collect()
}

fn action_document(a: &PolicyAction) -> PolicyActionDocument {
    let (description, content) = match a {
        PolicyAction::Create {
            description,
            content,
            ..
        }
        | PolicyAction::Update {
            description,
            content,
            ..
        } => (Some(description.clone()), Some(content.clone())),
        _ => (None, None),
    };
    PolicyActionDocument {
        kind: kind_name(a).to_owned(),
        phase: match a.phase() {
            PolicyPhase::BeforeGrants => "before_grants",
            PolicyPhase::AfterGrants => "after_grants",
        }
        .to_owned(),
        policy_id: policy_id(a).map(ToString::to_string),
        name: a.name().to_owned(),
        target: target_of(a).map(ToString::to_string),
        description,
        content,
    }
}

/// The guardrail actions `apply` will carry out: `None` unless the mode is enforce.
fn enforced(plan: &Plan) -> Option<&[PolicyAction]> {
    plan.guardrails
        .as_ref()
        .filter(|g| g.mode == GuardrailMode::Enforce)
        .map(|g| g.actions.as_slice())
}

/// The `policy_actions` list; `None` (left out) unless the mode is enforce.
pub fn policy_actions(plan: &Plan) -> Option<Vec<PolicyActionEntry>> {
    Some(
        enforced(plan)?
            .iter()
            .map(|a| PolicyActionEntry {
                action: kind_name(a).to_owned(),
                policy_name: a.name().to_owned(),
                target: target_of(a).map(ToString::to_string),
                policy_id: policy_id(a).map(ToString::to_string),
            })
            .collect(),
    )
}

/// The `policy_<action>` counts; `None` (left out) unless the mode is enforce.
pub fn policy_summary(plan: &Plan) -> Option<PolicySummary> {
    let mut s = PolicySummary::default();
    for a in enforced(plan)? {
        *match a {
            PolicyAction::Create { .. } => &mut s.policy_create,
            PolicyAction::Update { .. } => &mut s.policy_update,
            PolicyAction::Attach { .. } => &mut s.policy_attach,
            PolicyAction::Detach { .. } => &mut s.policy_detach,
            PolicyAction::Delete { .. } => &mut s.policy_delete,
        } += 1;
    }
    Some(s)
}

/// The `guardrails` object, `None` when the plan has no guardrail layer (the key is left out).
pub fn document(plan: &Plan) -> Option<GuardrailsDocument> {
    let g = plan.guardrails.as_ref()?;
    Some(GuardrailsDocument {
        mode: mode_name(g.mode).to_owned(),
        actions: g.actions.iter().map(action_document).collect(),
        effects: g
            .effects
            .iter()
            .map(|e| EffectDocument {
                model: e.model.as_ref().map(ToString::to_string),
                newly_denied: ids(&e.newly_denied),
                newly_allowed: ids(&e.newly_allowed),
                allowed_through_grant: ids(&e.allowed_through_grant),
                sentence: effect_sentence(e),
            })
            .collect(),
    })
}

/// The `guardrail_notes` list.
pub fn notes_document(plan: &Plan) -> Vec<GuardrailNoteDocument> {
    plan.guardrail_notes
        .iter()
        .map(|n| GuardrailNoteDocument {
            kind: n.kind.as_str().to_owned(),
            message: n.message.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ModelKey;
    use crate::plan::saved;
    use crate::plan::{GuardrailNote, GuardrailNoteKind};
    use crate::render::{fixtures, json, markdown, text as text_view};

    fn acct(id: &str) -> AccountId {
        id.parse().unwrap()
    }

    fn with_guardrails(mode: GuardrailMode) -> Plan {
        let hostile = "bedrock-entitlements-x|<b>*`\u{1b}[31m";
        let id: PolicyId = "p-abcdefgh".parse().unwrap();
        let actions = vec![
            PolicyAction::Create {
                name: "bedrock-entitlements-claude".to_owned(),
                description: "denies claude".to_owned(),
                content: r#"{"Version":"2012-10-17","Statement":[]}"#.to_owned(),
            },
            PolicyAction::Update {
                policy: id.clone(),
                name: "bedrock-entitlements-jamba".to_owned(),
                description: "denies jamba".to_owned(),
                content: "{}".to_owned(),
            },
            PolicyAction::Detach {
                policy: id.clone(),
                name: hostile.to_owned(),
                target: Target::parse("ou-ab12-sandbox1").unwrap(),
            },
            PolicyAction::Attach {
                policy: None,
                name: "bedrock-entitlements-claude".to_owned(),
                target: Target::parse("r-ab12").unwrap(),
            },
            PolicyAction::Attach {
                policy: Some(id.clone()),
                name: "bedrock-entitlements-jamba".to_owned(),
                target: Target::parse("222233334444").unwrap(),
            },
            PolicyAction::Delete {
                policy: id,
                name: hostile.to_owned(),
            },
        ];
        let many: BTreeSet<AccountId> = (0..12)
            .map(|i| acct(&format!("1000000000{i:02}")))
            .collect();
        let effects = vec![GuardrailEffect {
            model: ModelKey::parse("claude-sonnet"),
            newly_denied: many,
            newly_allowed: BTreeSet::from([acct("222233334444")]),
            allowed_through_grant: (0..3).map(|i| acct(&format!("20000000000{i}"))).collect(),
        }];
        Plan {
            guardrails: Some(GuardrailPlan {
                mode,
                actions,
                effects,
            }),
            guardrail_notes: vec![GuardrailNote {
                kind: GuardrailNoteKind::NameTaken,
                message: format!("an SCP named {hostile:?} exists"),
            }],
            ..fixtures::mixed()
        }
    }

    #[test]
    fn effects_read_in_peoples_terms() {
        let p = with_guardrails(GuardrailMode::Enforce);
        let e = &p.guardrails.as_ref().unwrap().effects[0];
        assert_eq!(
            effect_sentence(e),
            "12 accounts can no longer invoke claude-sonnet; 1 account may invoke claude-sonnet again; 3 accounts keep it through a grant"
        );
        let none = GuardrailEffect {
            model: ModelKey::parse("m"),
            allowed_through_grant: BTreeSet::from([acct("222233334444")]),
            ..GuardrailEffect::default()
        };
        assert_eq!(
            effect_sentence(&none),
            "no change in who may invoke m; 1 account keeps it through a grant"
        );
    }

    #[test]
    fn the_text_plan_lists_each_policy_action_by_phase() {
        let p = with_guardrails(GuardrailMode::Report);
        let out = text_view::plan(&p, &text_view::TextOptions { color: false });
        let section = text(&p);
        assert!(out.contains(&section), "the text plan holds the section");
        assert!(section.contains("mode report: what enforce would write; apply writes none"));
        let lines: Vec<&str> = section.lines().collect();
        let at = |needle: &str| {
            lines
                .iter()
                .position(|l| l.contains(needle))
                .unwrap_or_else(|| panic!("{needle:?} in {section}"))
        };
        assert!(at("before the grant actions") < at("+ create  bedrock-entitlements-claude"));
        assert!(
            at("~ update  bedrock-entitlements-jamba (p-abcdefgh)") < at("after the grant actions")
        );
        assert!(
            at("after the grant actions") < at("+ attach  bedrock-entitlements-claude to r-ab12")
        );
        assert!(section.contains("bedrock-entitlements-jamba (p-abcdefgh) to 222233334444"));
        assert!(section.contains("effect: 12 accounts can no longer invoke claude-sonnet"));
        assert!(
            !section.contains('\u{1b}'),
            "control characters are cleaned"
        );
        assert!(section.contains("note (name_taken)"));
    }

    #[test]
    fn the_guardrail_drift_table_keeps_a_hostile_policy_name_in_its_cell() {
        use crate::audit::guardrail_drift::{GuardrailDrift, GuardrailDriftKind};
        let item = GuardrailDrift {
            kind: GuardrailDriftKind::ForeignDenies,
            policy_name: "=deny|p`t*s[b](u)<i>\nn".to_owned(),
            policy_id: None,
            models: Vec::new(),
            targets: Vec::new(),
            accounts: vec![acct("222233334444")],
            fixed_by_apply: false,
            message: "m".to_owned(),
        };
        let out = drift_markdown(&[item]);
        let rows: Vec<&str> = out.lines().filter(|l| l.starts_with('|')).collect();
        let cells = |l: &str| l.replace("\\|", "").matches('|').count();
        assert_eq!(rows.len(), 3, "{out}");
        assert!(rows.iter().all(|r| cells(r) == cells(rows[0])), "{out}");
        assert!(
            out.contains("=deny\\|p\\`t\\*s\\[b\\](u)\\<i\\>\u{fffd}n"),
            "{out}"
        );
    }

    #[test]
    fn the_markdown_plan_escapes_policy_names() {
        let p = with_guardrails(GuardrailMode::Enforce);
        let out = markdown::plan(&p);
        assert!(
            out.contains("### Guardrails \\(service control policies\\), mode enforce")
                || out.contains("### Guardrails (service control policies), mode enforce")
        );
        assert!(
            out.contains("bedrock-entitlements-x\\|\\<b\\>\\*\\`"),
            "{out}"
        );
        assert!(!out.contains("<b>"));
        assert!(out.contains("- 12 accounts can no longer invoke claude-sonnet"));
        assert!(out.contains("| + | attach | bedrock-entitlements-claude | r-ab12 |"));
    }

    #[test]
    fn the_plan_document_carries_the_guardrails_and_reads_them_back() {
        for mode in [GuardrailMode::Report, GuardrailMode::Enforce] {
            let p = with_guardrails(mode);
            let text = json::to_string(&p);
            let value: serde_json::Value = serde_json::from_str(&text).unwrap();
            let g = &value["guardrails"];
            assert_eq!(g["mode"], mode_name(mode));
            assert_eq!(g["actions"][0]["kind"], "create");
            assert_eq!(g["actions"][0]["phase"], "before_grants");
            assert!(
                g["actions"][0]["content"]
                    .as_str()
                    .unwrap()
                    .contains("2012-10-17")
            );
            assert_eq!(g["actions"][1]["policy_id"], "p-abcdefgh");
            assert_eq!(g["actions"][3]["target"], "r-ab12");
            assert!(g["actions"][3].get("policy_id").is_none());
            assert_eq!(
                g["effects"][0]["newly_denied"].as_array().unwrap().len(),
                12
            );
            assert_eq!(value["guardrail_notes"][0]["kind"], "name_taken");
            let back = saved::read(&text).expect("reads back").plan;
            assert_eq!(back.guardrails, p.guardrails);
            assert_eq!(back.guardrail_notes, p.guardrail_notes);
            assert_eq!(json::to_string(&back), text);
        }
    }

    #[test]
    fn plans_without_guardrails_have_no_guardrail_keys() {
        let plain = fixtures::mixed();
        let text = json::to_string(&plain);
        assert!(!text.contains("guardrail"), "{text}");
        assert_eq!(saved::read(&text).unwrap().plan, fixtures::recorded(&plain));
        assert!(super::text(&plain).is_empty());
        assert!(markdown(&plain).is_empty());
    }

    #[test]
    fn a_bad_guardrail_field_is_named() {
        let p = with_guardrails(GuardrailMode::Enforce);
        let mut value: serde_json::Value = serde_json::from_str(&json::to_string(&p)).unwrap();
        value["guardrails"]["actions"][2]["target"] = "nowhere".into();
        let err = saved::read(&value.to_string()).unwrap_err().to_string();
        assert!(err.contains("guardrails.actions[2].target"), "{err}");
        let mut value: serde_json::Value = serde_json::from_str(&json::to_string(&p)).unwrap();
        value["guardrails"]["actions"][1]
            .as_object_mut()
            .unwrap()
            .remove("policy_id");
        let err = saved::read(&value.to_string()).unwrap_err().to_string();
        assert!(err.contains("guardrails.actions[1].policy_id"), "{err}");
    }
}
