//! The subscribe step's I/O for `plan` and `apply`: reads Bedrock for the file's subscribed
//! models and adds the pure planner's subscriptions to the plan. No Bedrock call when no
//! model subscribes.

use super::context::Session;
use crate::config::Config;
use crate::org::Desired;
use crate::plan::{self, Plan};

/// Reads Bedrock for the models `config` subscribes and adds their subscriptions to `plan`.
pub async fn plan_subscriptions(
    session: &Session,
    config: &Config,
    desired: &Desired,
    plan: &mut Plan,
) {
    let ids = plan::subscription_model_ids(config);
    if ids.is_empty() {
        return;
    }
    let states = crate::live::read_subscriptions(&session.clients.bedrock, &ids)
        .await
        .into_iter()
        .map(|(id, r)| (id, r.map_err(|e| e.to_string())))
        .collect();
    plan::subscriptions::add(config, desired, &states, plan);
}

/// `apply` refuses a plan in which an offer's seller is not in `settings.allowed_sellers`:
/// each such note is printed as an error, and nothing is changed.
pub fn refuse_sellers(plan: &Plan) -> Result<(), super::CliError> {
    let refused: Vec<_> = plan
        .subscription_notes
        .iter()
        .filter(|n| n.kind == plan::SubscriptionNoteKind::SellerRefused)
        .collect();
    for n in &refused {
        eprintln!("error: {}", n.message);
    }
    if refused.is_empty() {
        return Ok(());
    }
    Err(super::CliError::Reported(format!(
        "{} offer{} from a seller outside settings.allowed_sellers; nothing was changed",
        refused.len(),
        if refused.len() == 1 { " is" } else { "s are" }
    )))
}

/// What `apply`'s subscribe phase did.
#[derive(Debug, Default)]
pub struct SubscribeRun {
    /// A license appeared: plan the grants again in this run.
    pub replan: bool,
    /// Each subscription and its outcome, in plan order (the apply report's `subscriptions`).
    pub reports: Vec<crate::apply::SubscriptionReport>,
}

/// `apply`'s first phase: every subscription of `plan`, waiting for the licenses up to
/// `wait`. Each outcome is printed (stdout with the text format, stderr otherwise).
pub async fn apply_subscriptions(
    session: &Session,
    config: &Config,
    plan: &Plan,
    wait: Option<std::time::Duration>,
    text: bool,
) -> SubscribeRun {
    let mut run = SubscribeRun::default();
    let say = |line: String| {
        if text {
            println!("{line}");
        } else {
            eprintln!("{line}");
        }
    };
    if plan.subscriptions.is_empty() {
        return run;
    }
    let licensed = |model: &crate::config::ModelKey, licenses: &[crate::model::License]| {
        config
            .model(model.as_str())
            .is_some_and(|m| licenses.iter().any(|l| is_license_of(&m.license.value, l)))
    };
    let outcomes = crate::apply::subscribe(
        &session.clients.bedrock,
        session.lm.as_ref(),
        &plan.subscriptions,
        &licensed,
        wait,
    )
    .await;
    for (a, o) in plan.subscriptions.iter().zip(outcomes) {
        say(format!("subscribe: {}", o.words(a)));
        run.replan |= matches!(o, crate::apply::SubscriptionOutcome::Licensed { .. });
        run.reports.push(crate::apply::SubscriptionReport {
            action: a.clone(),
            outcome: o,
        });
    }
    run
}

fn is_license_of(selector: &crate::config::LicenseSelector, l: &crate::model::License) -> bool {
    use crate::config::LicenseSelector;
    l.status == crate::org::USABLE_LICENSE_STATUS
        && match selector {
            LicenseSelector::ProductSku(sku) => &l.product_sku == sku,
            LicenseSelector::ProductName(name) => &l.product_name == name,
            LicenseSelector::LicenseArn(arn) => &l.arn == arn,
        }
}
