//! What AWS ends up with once a plan is carried out, as a pure function: the test oracle for
//! convergence, and the source of the plan's "after" effective access.

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

use super::holdings::Holdings;
use super::types::{Action, ActionKind, Plan, TargetStatus};
use crate::config::ActivationOverride;
use crate::model::{AccountId, Grant, GrantArn, GrantStatus, Live, Principal, Share, grant_order};

/// `live` after every action of `plan`, each as AWS settles it when all goes well: creates and
/// recreates appear with a deterministic fake ARN, ACTIVE (WORKFLOW_COMPLETED for organization
/// and OU grants) or DISABLED per the target status; activations, deactivations, updates and
/// acceptances set name, operations and status; deletes leave DELETED grants. Every change moves
/// the grant's version. An action whose grant is missing from `live` changes nothing.
///
/// Organization and OU grants get one share per account they reach (the caller left out): an
/// activation makes each share ACTIVE, except where the account keeps another active grant for
/// the product because the action does not send ALL_GRANTS_PERMITTED_BY_ISSUER (its share stays
/// DISABLED); with it, the other grants in effect for those accounts are disabled (account
/// grants DISABLED, shares DISABLED). A deactivation ends, as on AWS, in WORKFLOW_COMPLETED with
/// every share DISABLED (DISABLED when it reaches nobody). A delete removes the grant's shares.
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
    let find = |action: &Action| -> Option<usize> { position.get(action.grant_arn()?).copied() };
    for action in &plan.actions {
        let touched = match action.kind() {
            ActionKind::Create => Some(create(&mut next, action, &mut taken)),
            ActionKind::Recreate => {
                if let Some(i) = find(action) {
                    delete(&mut next, i);
                }
                Some(create(&mut next, action, &mut taken))
            }
            ActionKind::Delete => {
                if let Some(i) = find(action) {
                    delete(&mut next, i);
                }
                None
            }
            ActionKind::Activate
            | ActionKind::Deactivate
            | ActionKind::Update
            | ActionKind::Accept => find(action).inspect(|&i| {
                let grant = &mut next.grants[i];
                grant.name = action.grant_name.clone();
                grant.operations = action.operations.clone();
                // An update is planned only when the status is already right.
                if action.kind() != ActionKind::Update {
                    grant.status = settled_status(&action.principal, action.target_status);
                }
                bump(grant);
            }),
        };
        if let Some(i) = touched
            && action.kind() != ActionKind::Update
        {
            settle_shares(&mut next, i, action);
        }
    }
    next.grants.sort_by(grant_order);
    next.shares.sort();
    next
}

fn delete(live: &mut Live, i: usize) {
    let grant = &mut live.grants[i];
    grant.status = GrantStatus::Deleted;
    bump(grant);
    let arn = grant.arn.clone();
    live.shares.retain(|s| s.parent != arn);
}

/// The one-active-grant rule and the shares of grant `i` after `action` settled it.
fn settle_shares(live: &mut Live, i: usize, action: &Action) {
    let activating = action.target_status == TargetStatus::Active;
    let swap = action.activation_override == Some(ActivationOverride::AllGrantsPermittedByIssuer);
    let grant = live.grants[i].clone();
    let reached: Vec<AccountId> = {
        let holdings = Holdings::new(live);
        let mut reached: Vec<AccountId> = holdings
            .reaches(&grant.principal)
            .into_iter()
            .filter(|a| *a != live.caller)
            .collect();
        if !activating {
            if action.kind() == ActionKind::Deactivate
                && !matches!(grant.principal, Principal::Account(_))
                && !reached.is_empty()
            {
                set_shares(live, &grant, &reached, |_| GrantStatus::Disabled);
                live.grants[i].status = GrantStatus::WorkflowCompleted;
            }
            return;
        }
        let product = holdings.product(&grant.license_arn);
        // (account, other grants in effect for it) for every reached account holding others.
        reached.retain(|a| holdings.held(product, a).iter().any(|g| g.arn != grant.arn));
        reached
    };
    let holding: BTreeSet<AccountId> = reached.into_iter().collect();
    if swap {
        for account in &holding {
            disable_others(live, &grant, account);
        }
    }
    if !matches!(grant.principal, Principal::Account(_)) {
        let all: Vec<AccountId> = Holdings::new(live)
            .reaches(&grant.principal)
            .into_iter()
            .filter(|a| *a != live.caller)
            .collect();
        set_shares(live, &grant, &all, |a| {
            if !swap && holding.contains(a) {
                GrantStatus::Disabled
            } else {
                GrantStatus::Active
            }
        });
    }
}

/// Replaces the shares of `parent` with one per account, of the status `status` gives.
fn set_shares(
    live: &mut Live,
    parent: &Grant,
    accounts: &[AccountId],
    status: impl Fn(&AccountId) -> GrantStatus,
) {
    live.shares.retain(|s| s.parent != parent.arn);
    for account in accounts {
        live.shares.push(Share {
            parent: parent.arn.clone(),
            arn: share_arn(parent, account),
            license_arn: parent.license_arn.clone(),
            account: account.clone(),
            status: status(account),
        });
    }
}

/// ALL_GRANTS_PERMITTED_BY_ISSUER: every other grant of the product in effect for `account` is
/// disabled (an account grant) or loses its share for the account.
fn disable_others(live: &mut Live, grant: &Grant, account: &AccountId) {
    let holdings = Holdings::new(live);
    let product = holdings.product(&grant.license_arn);
    let others: Vec<Grant> = holdings
        .held(product, account)
        .iter()
        .filter(|g| g.arn != grant.arn)
        .map(|g| (*g).clone())
        .collect();
    drop(holdings);
    for other in others {
        match &other.principal {
            Principal::Account(_) => {
                if let Some(g) = live.grants.iter_mut().find(|g| g.arn == other.arn) {
                    g.status = GrantStatus::Disabled;
                    bump(g);
                }
            }
            parent => {
                let has_shares = live.shares.iter().any(|s| s.parent == other.arn);
                if !has_shares {
                    let all: Vec<AccountId> = Holdings::new(live)
                        .reaches(parent)
                        .into_iter()
                        .filter(|a| *a != live.caller)
                        .collect();
                    set_shares(live, &other, &all, |_| GrantStatus::Active);
                }
                for share in live.shares.iter_mut() {
                    if share.parent == other.arn && &share.account == account {
                        share.status = GrantStatus::Disabled;
                    }
                }
            }
        }
    }
}

/// A share's ARN: the parent's with the account appended to its id.
fn share_arn(parent: &Grant, account: &AccountId) -> GrantArn {
    let digest = hex::encode(Sha256::digest(
        format!("{}\n{account}", parent.arn).as_bytes(),
    ));
    let text = format!(
        "arn:aws:license-manager::{account}:grant:g-{}",
        &digest[..32]
    );
    text.parse()
        .expect("a typed account id and hex digits make a valid grant ARN")
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

fn create(live: &mut Live, action: &Action, taken: &mut BTreeSet<GrantArn>) -> usize {
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
    live.grants.len() - 1
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
