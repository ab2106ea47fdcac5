//! The emulator's own id and ARN checks, written from the AWS service models' patterns (not the
//! product's `crate::model` parsers: the oracle must not share the code it judges).
//!
//! - account id `^\d{12}$`, OU id `^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`, root id
//!   `^r-[0-9a-z]{4,32}$`, organization id `^o-[a-z0-9]{10,32}$` (Organizations service model);
//! - License Manager ARNs `arn:aws:license-manager:<region?>:<account>:license:l-…` / `grant:g-…`;
//! - grant principals: `arn:aws:iam::<account>:root`, the organization ARN, an OU ARN.

/// Every `AllowedOperation` value, as the newest License Manager API reference lists them
/// (`BatchCreateLicenseUsageRecords` is newer than the botocore model of the notes).
pub(crate) const ALLOWED_OPERATIONS: &[&str] = &[
    "CreateGrant",
    "CheckoutLicense",
    "CheckoutBorrowLicense",
    "CheckInLicense",
    "ExtendConsumptionLicense",
    "ListPurchasedLicenses",
    "CreateToken",
    "BatchCreateLicenseUsageRecords",
];

/// The operations a seeded Bedrock model grant allows unless the seed says otherwise (the set
/// the AWS sample and the Terraform example use).
pub(crate) const SEED_GRANT_OPERATIONS: &[&str] = &[
    "CheckoutLicense",
    "CheckInLicense",
    "ExtendConsumptionLicense",
    "ListPurchasedLicenses",
    "CreateToken",
];

fn lower_alnum(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

pub(crate) fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

pub(crate) fn is_ou(s: &str) -> bool {
    s.strip_prefix("ou-")
        .and_then(|r| r.split_once('-'))
        .is_some_and(|(a, b)| lower_alnum(a, 4, 32) && lower_alnum(b, 8, 32))
}

pub(crate) fn is_root(s: &str) -> bool {
    s.strip_prefix("r-").is_some_and(|r| lower_alnum(r, 4, 32))
}

pub(crate) fn is_org(s: &str) -> bool {
    s.strip_prefix("o-").is_some_and(|r| lower_alnum(r, 10, 32))
}

/// `(account, id)` of `arn:aws…:license-manager:<region>:<account>:<kind>:<prefix>…`.
fn lm_arn<'a>(s: &'a str, kind: &str, prefix: &str) -> Option<(&'a str, &'a str)> {
    let mut parts = s.splitn(6, ':');
    let (arn, partition, service, region) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let (account, resource) = (parts.next()?, parts.next()?);
    let region_ok = region
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let (k, id) = resource.split_once(':')?;
    let id_ok = id.strip_prefix(prefix).is_some_and(|r| {
        (1..=64).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_alphanumeric())
    });
    (arn == "arn"
        && partition.starts_with("aws")
        && service == "license-manager"
        && region_ok
        && is_account(account)
        && k == kind
        && id_ok)
        .then_some((account, id))
}

/// The issuer account of a license ARN, or None when it is not one.
pub(crate) fn license_issuer(s: &str) -> Option<&str> {
    lm_arn(s, "license", "l-").map(|(a, _)| a)
}

pub(crate) fn is_grant_arn(s: &str) -> bool {
    lm_arn(s, "grant", "g-").is_some()
}

/// A grant principal ARN, taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PrincipalArn<'a> {
    Account(&'a str),
    Organization {
        management: &'a str,
        org: &'a str,
    },
    Ou {
        management: &'a str,
        org: &'a str,
        ou: &'a str,
    },
}

pub(crate) fn principal(s: &str) -> Result<PrincipalArn<'_>, String> {
    let bad = || {
        format!(
            "{s:?} is not a grant principal (arn:aws:iam::<account>:root, arn:aws:organizations::<account>:organization/o-… or arn:aws:organizations::<account>:ou/o-…/ou-…)"
        )
    };
    if let Some(rest) = s.strip_prefix("arn:aws:iam::") {
        let account = rest.strip_suffix(":root").filter(|a| is_account(a));
        return account.map(PrincipalArn::Account).ok_or_else(bad);
    }
    let rest = s.strip_prefix("arn:aws:organizations::").ok_or_else(bad)?;
    let (management, resource) = rest.split_once(':').ok_or_else(bad)?;
    if !is_account(management) {
        return Err(bad());
    }
    if let Some(org) = resource.strip_prefix("organization/") {
        return is_org(org)
            .then_some(PrincipalArn::Organization { management, org })
            .ok_or_else(bad);
    }
    let (org, ou) = resource
        .strip_prefix("ou/")
        .and_then(|p| p.split_once('/'))
        .ok_or_else(bad)?;
    (is_org(org) && is_ou(ou))
        .then_some(PrincipalArn::Ou {
            management,
            org,
            ou,
        })
        .ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    type Check = fn(&str) -> bool;

    #[test]
    fn ids_follow_the_service_model_patterns() {
        let cases: &[(Check, &str, bool)] = &[
            (is_account, "012345678901", true),
            (is_account, "12345678901", false),
            (is_account, "12345678901a", false),
            (is_ou, "ou-ab12-abcdefgh", true),
            (is_ou, "ou-ab1-abcdefgh", false),
            (is_ou, "ou-ab12-abcdefg", false),
            (is_ou, "ou-AB12-abcdefgh", false),
            (is_root, "r-ab12", true),
            (is_root, "r-ab1", false),
            (is_org, "o-exampleorg1", true),
            (is_org, "o-short", false),
            (
                is_grant_arn,
                "arn:aws:license-manager::111122223333:grant:g-0a1b",
                true,
            ),
            (
                is_grant_arn,
                "arn:aws:license-manager::111122223333:license:l-0a1b",
                false,
            ),
            (
                is_grant_arn,
                "arn:aws:license-manager::11112222333:grant:g-0a1b",
                false,
            ),
            (
                is_grant_arn,
                "arn:aws:license-manager:us-east-1:111122223333:grant:g-x",
                true,
            ),
        ];
        for (check, s, want) in cases {
            assert_eq!(check(s), *want, "{s}");
        }
        assert_eq!(
            license_issuer("arn:aws:license-manager::294406891311:license:l-0c1a"),
            Some("294406891311")
        );
        assert_eq!(
            license_issuer("arn:aws:license-manager::294406891311:grant:g-1"),
            None
        );
    }

    #[test]
    fn principals_are_taken_apart() {
        assert_eq!(
            principal("arn:aws:iam::222233334444:root"),
            Ok(PrincipalArn::Account("222233334444"))
        );
        assert_eq!(
            principal("arn:aws:organizations::111122223333:ou/o-exampleorg1/ou-ab12-mlplatfm"),
            Ok(PrincipalArn::Ou {
                management: "111122223333",
                org: "o-exampleorg1",
                ou: "ou-ab12-mlplatfm"
            })
        );
        assert!(
            principal("arn:aws:organizations::111122223333:organization/o-exampleorg1").is_ok()
        );
        for bad in [
            "arn:aws:iam::22223333444:root",
            "arn:aws:iam::222233334444:user/x",
            "arn:aws:organizations::111122223333:ou/o-exampleorg1/ou-x",
            "arn:aws:organizations::111122223333:organization/o-x",
            "222233334444",
        ] {
            assert!(principal(bad).is_err(), "{bad}");
        }
    }
}
