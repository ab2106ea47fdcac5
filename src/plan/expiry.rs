//! Licenses in use whose validity ends within `settings.expiry_warning_days` of the snapshot's
//! clock (`Live::read_at`), or has ended: who would lose access.

use std::collections::BTreeSet;

use super::holdings::Holdings;
use super::types::ExpiryWarning;
use crate::config::DesiredStatus;
use crate::model::{AccountId, LicenseArn};
use crate::org::Desired;

const DAY: i64 = 86_400;

/// One warning per license in `scope` (or chosen by a model) that is in use and ends within the
/// warning window, by license. Nothing when the clock is unknown (`read_at` 0).
pub(crate) fn warnings(
    desired: &Desired,
    holdings: &Holdings<'_>,
    scope: &BTreeSet<LicenseArn>,
) -> Vec<ExpiryWarning> {
    let live = holdings.live();
    let now = live.read_at;
    if now == 0 {
        return Vec::new();
    }
    let window = i64::from(desired.expiry_warning_days) * DAY;
    let mut out = Vec::new();
    for license in live.licenses.iter().filter(|l| scope.contains(&l.arn)) {
        let (Some(end), Some(ends)) = (license.end_secs(), &license.validity_end) else {
            continue;
        };
        if end - now > window {
            continue;
        }
        let model = desired.model_of_license(&license.arn);
        let mut accounts: BTreeSet<AccountId> = BTreeSet::new();
        for grant in live.grants.iter().filter(|g| g.license_arn == license.arn) {
            accounts.extend(holdings.in_effect(grant));
        }
        if let Some(m) = model.filter(|m| m.status == DesiredStatus::Active) {
            for principal in &m.principals {
                accounts.extend(holdings.reaches(principal));
            }
        }
        accounts.remove(&live.caller);
        if accounts.is_empty() && model.is_none() {
            continue; // not in use
        }
        out.push(ExpiryWarning {
            license_arn: license.arn.clone(),
            model: model.map(|m| m.key.clone()),
            ends: ends.clone(),
            days_left: (end - now).div_euclid(DAY),
            expired: end <= now,
            accounts: accounts.into_iter().collect(),
        });
    }
    out
}
