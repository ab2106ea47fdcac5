//! The principal of a License Manager grant: one account, one OU or the whole organization.

use std::fmt;
use std::str::FromStr;

use super::ids::{AccountId, IdError, OrgId, OuId};

/// The grantee of one grant. Each grant has exactly one.
///
/// Ordering is organization first, then OUs, then accounts, which is the order plans list them in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Principal {
    /// `arn:aws:organizations::<management account>:organization/<org id>`
    Organization { management: AccountId, org: OrgId },
    /// `arn:aws:organizations::<management account>:ou/<org id>/<ou id>`
    Ou {
        management: AccountId,
        org: OrgId,
        ou: OuId,
    },
    /// `arn:aws:iam::<account>:root`
    Account(AccountId),
}

impl Principal {
    pub fn account(id: AccountId) -> Self {
        Principal::Account(id)
    }

    /// The short id a person reads: the org id, the OU id or the account id.
    pub fn short_id(&self) -> &str {
        match self {
            Principal::Organization { org, .. } => org.as_str(),
            Principal::Ou { ou, .. } => ou.as_str(),
            Principal::Account(a) => a.as_str(),
        }
    }

    /// `organization`, `ou` or `account`.
    pub fn kind(&self) -> &'static str {
        match self {
            Principal::Organization { .. } => "organization",
            Principal::Ou { .. } => "ou",
            Principal::Account(_) => "account",
        }
    }

    pub fn arn(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Principal::Organization { management, org } => {
                write!(f, "arn:aws:organizations::{management}:organization/{org}")
            }
            Principal::Ou {
                management,
                org,
                ou,
            } => write!(f, "arn:aws:organizations::{management}:ou/{org}/{ou}"),
            Principal::Account(a) => write!(f, "arn:aws:iam::{a}:root"),
        }
    }
}

impl FromStr for Principal {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        let bad = || IdError::new_principal(s);
        if let Some(rest) = s.strip_prefix("arn:aws:iam::") {
            let account = rest.strip_suffix(":root").ok_or_else(bad)?;
            return Ok(Principal::Account(account.parse().map_err(|_| bad())?));
        }
        let rest = s.strip_prefix("arn:aws:organizations::").ok_or_else(bad)?;
        let (management, resource) = rest.split_once(':').ok_or_else(bad)?;
        let management: AccountId = management.parse().map_err(|_| bad())?;
        if let Some(org) = resource.strip_prefix("organization/") {
            return Ok(Principal::Organization {
                management,
                org: org.parse().map_err(|_| bad())?,
            });
        }
        if let Some(path) = resource.strip_prefix("ou/") {
            let (org, ou) = path.split_once('/').ok_or_else(bad)?;
            return Ok(Principal::Ou {
                management,
                org: org.parse().map_err(|_| bad())?,
                ou: ou.parse().map_err(|_| bad())?,
            });
        }
        Err(bad())
    }
}

impl IdError {
    fn new_principal(value: &str) -> Self {
        IdError {
            kind: "grant principal",
            value: value.to_owned(),
            expected: "arn:aws:iam::<account>:root, arn:aws:organizations::<account>:organization/o-… or arn:aws:organizations::<account>:ou/o-…/ou-…",
        }
    }
}

impl serde::Serialize for Principal {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Principal {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORG: &str = "arn:aws:organizations::111122223333:organization/o-abcde12345";
    const OU: &str = "arn:aws:organizations::111122223333:ou/o-abcde12345/ou-ab12-mlplatfm";
    const ACCOUNT: &str = "arn:aws:iam::222233334444:root";

    #[test]
    fn the_three_forms_parse_and_display_as_themselves() {
        for (arn, kind, short) in [
            (ORG, "organization", "o-abcde12345"),
            (OU, "ou", "ou-ab12-mlplatfm"),
            (ACCOUNT, "account", "222233334444"),
        ] {
            let p: Principal = arn.parse().unwrap_or_else(|e| panic!("{arn}: {e}"));
            assert_eq!(p.to_string(), arn);
            assert_eq!(p.arn(), arn);
            assert_eq!(p.kind(), kind);
            assert_eq!(p.short_id(), short);
        }
        let p: Principal = OU.parse().unwrap();
        assert_eq!(
            p,
            Principal::Ou {
                management: "111122223333".parse().unwrap(),
                org: "o-abcde12345".parse().unwrap(),
                ou: "ou-ab12-mlplatfm".parse().unwrap(),
            }
        );
        assert_eq!(
            Principal::account("012345678901".parse().unwrap()).to_string(),
            "arn:aws:iam::012345678901:root"
        );
    }

    #[test]
    fn malformed_principals_are_refused() {
        for bad in [
            "",
            "222233334444",
            "arn:aws:iam::222233334444",
            "arn:aws:iam::222233334444:user/alice",
            "arn:aws:iam::22223333444:root",
            "arn:aws:iam:us-east-1:222233334444:root",
            "arn:aws:organizations::111122223333:organization/",
            "arn:aws:organizations::111122223333:organization/o-abc",
            "arn:aws:organizations::111122223333:organization/o-abcde12345/x",
            "arn:aws:organizations::111122223333:ou/o-abcde12345",
            "arn:aws:organizations::111122223333:ou/o-abcde12345/ou-x",
            "arn:aws:organizations::111122223333:ou/o-abcde12345/ou-ab12-mlplatfm/extra",
            "arn:aws:organizations::111122223333:ou/o-abcde12345/r-ab12",
            "arn:aws:organizations::111122223333:root/o-abcde12345/r-ab12",
            "arn:aws:organizations::1111222233:organization/o-abcde12345",
            "arn:aws:organizations:us-east-1:111122223333:organization/o-abcde12345",
        ] {
            match bad.parse::<Principal>() {
                Ok(p) => panic!("{bad:?} should be refused, parsed as {p:?}"),
                Err(e) => {
                    assert_eq!(e.kind, "grant principal");
                    assert_eq!(e.value, bad);
                }
            }
        }
    }

    #[test]
    fn principals_order_organization_then_ous_then_accounts() {
        let mut ps: Vec<Principal> = [ACCOUNT, OU, ORG]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        ps.sort();
        let kinds: Vec<&str> = ps.iter().map(Principal::kind).collect();
        assert_eq!(kinds, ["organization", "ou", "account"]);
    }

    #[test]
    fn principals_serialize_as_their_arn() {
        let p: Principal = ACCOUNT.parse().unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), format!("\"{ACCOUNT}\""));
        let back: Principal = serde_json::from_str(&format!("\"{OU}\"")).unwrap();
        assert_eq!(back.to_string(), OU);
        assert!(serde_json::from_str::<Principal>("\"arn:aws:iam::1:root\"").is_err());
    }
}
