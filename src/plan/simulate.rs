//! What AWS ends up with once a plan is carried out, as a pure function: the test oracle for
//! convergence, and the source of the plan's "after" effective access.

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

use super::types::{Action, ActionKind, Plan, TargetStatus};
use crate::model::{Grant, GrantArn, GrantStatus, Live, Principal, grant_order};

/// `live` after every action of `plan`, each as AWS settles it when all goes well: creates and
/// recreates appear with a deterministic fake ARN, ACTIVE (WORKFLOW_COMPLETED for organization
/// and OU grants) or DISABLED per the target status; activations, deactivations, updates and
/// acceptances set name, operations and status; deletes leave DELETED grants. Every change moves
/// the grant's version. An action whose grant is missing from `live` changes nothing.
pub fn simulate(live: &Live, plan: &Plan) -> Live {
    let mut next = live.clone();
    let mut taken: BTreeSet<GrantArn> = next.grants.iter().map(|g| g.arn.clone()).collect();
    // Where each grant sits in `next.grants`; created grants are appended and never acted on
    // again by the same plan, so the positions stay valid.
    let position: BTreeMap<GrantArn, usize> = next
        .grants
        .iter()
        .enumerate()
        .map(|(i, g)| (g.arn.clone(), i))
        .collect();
    let find =
        |action: &Action| -> Option<usize> { position.get(action.grant_arn.as_ref()?).copied() };
    for action in &plan.actions {
        match action.kind {
            ActionKind::Create => create(&mut next, action, &mut taken),
            ActionKind::Recreate => {
                if let Some(grant) = find(action).map(|i| &mut next.grants[i]) {
                    grant.status = GrantStatus::Deleted;
                    bump(grant);
                }
                create(&mut next, action, &mut taken);
            }
            ActionKind::Delete => {
                if let Some(grant) = find(action).map(|i| &mut next.grants[i]) {
                    grant.status = GrantStatus::Deleted;
                    bump(grant);
                }
            }
            ActionKind::Activate
            | ActionKind::Deactivate
            | ActionKind::Update
            | ActionKind::Accept => {
                if let Some(grant) = find(action).map(|i| &mut next.grants[i]) {
                    grant.name = action.grant_name.clone();
                    grant.operations = action.operations.clone();
                    // An update is planned only when the status is already right.
                    if action.kind != ActionKind::Update {
                        grant.status = settled_status(&action.principal, action.target_status);
                    }
                    bump(grant);
                }
            }
        }
    }
    next.grants.sort_by(grant_order);
    next
}

fn bump(grant: &mut Grant) {
    grant.version = match grant.version.parse::<u64>() {
        Ok(v) => (v + 1).to_string(),
        Err(_) => format!("{}.1", grant.version),
    };
}

/// The status a grant settles in: organization and OU grants end their activation workflow in
/// WORKFLOW_COMPLETED, account grants in ACTIVE.
fn settled_status(principal: &Principal, target: TargetStatus) -> GrantStatus {
    match (target, principal) {
        (TargetStatus::Disabled, _) => GrantStatus::Disabled,
        (TargetStatus::Active, Principal::Account(_)) => GrantStatus::Active,
        (TargetStatus::Active, _) => GrantStatus::WorkflowCompleted,
    }
}

fn create(live: &mut Live, action: &Action, taken: &mut BTreeSet<GrantArn>) {
    let arn = fake_arn(live, action, taken);
    let home_region = live
        .licenses
        .iter()
        .find(|l| l.arn == action.license_arn)
        .map_or_else(|| "us-east-1".to_owned(), |l| l.home_region.clone());
    taken.insert(arn.clone());
    live.grants.push(Grant {
        arn,
        name: action.grant_name.clone(),
        license_arn: action.license_arn.clone(),
        principal: action.principal.clone(),
        status: settled_status(&action.principal, action.target_status),
        status_reason: None,
        version: "1".to_owned(),
        operations: action.operations.clone(),
        parent_arn: action.license_arn.to_string(),
        home_region,
    });
}

/// `arn:aws:license-manager::<caller>:grant:g-<32 hex>`, from a hash of the pair and a counter
/// that skips ARNs already in use.
fn fake_arn(live: &Live, action: &Action, taken: &BTreeSet<GrantArn>) -> GrantArn {
    let mut n = 0u64;
    loop {
        let seed = format!("{}\n{}\n{n}", action.license_arn, action.principal);
        let digest = hex::encode(Sha256::digest(seed.as_bytes()));
        let text = format!(
            "arn:aws:license-manager::{}:grant:g-{}",
            live.caller,
            &digest[..32]
        );
        let arn: GrantArn = text
            .parse()
            .expect("a typed account id and hex digits make a valid grant ARN");
        if !taken.contains(&arn) {
            return arn;
        }
        n += 1;
    }
}
