//! Typed identifiers: every id and ARN the tool handles is parsed once, at the edge,
//! into one of these types. A value of the type is proof that the text was well formed.

use std::fmt;
use std::str::FromStr;

/// Why a piece of text is not a valid identifier of some kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a valid {kind}: expected {expected}")]
pub struct IdError {
    pub kind: &'static str,
    pub value: String,
    pub expected: &'static str,
}

impl IdError {
    fn new(kind: &'static str, value: &str, expected: &'static str) -> Self {
        IdError {
            kind,
            value: value.to_owned(),
            expected,
        }
    }
}

fn is_lower_alnum(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
}

fn len_in(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len())
}

/// Work counting for complexity tests (`#[cfg(test)]` only): every comparison and hash of a
/// typed id on the current thread. Each (license, principal) decision, map lookup and sort
/// compares ids, so a planner path that is quadratic in accounts or grants shows up as a
/// quadratic count, whatever the machine's speed.
#[cfg(test)]
pub(crate) mod work {
    use std::cell::Cell;

    thread_local! {
        static OPS: Cell<u64> = const { Cell::new(0) };
    }

    pub(crate) fn tick() {
        OPS.with(|c| c.set(c.get() + 1));
    }

    /// Id comparisons and hashes made on this thread so far.
    pub(crate) fn count() -> u64 {
        OPS.with(Cell::get)
    }
}

macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone)]
        pub struct $name(String);

        // Equality, order and hash of the string, counted in tests (see `work`).
        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                #[cfg(test)]
                work::tick();
                self.0 == other.0
            }
        }

        impl Eq for $name {}

        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl Ord for $name {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                #[cfg(test)]
                work::tick();
                self.0.cmp(&other.0)
            }
        }

        impl std::hash::Hash for $name {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                #[cfg(test)]
                work::tick();
                self.0.hash(state)
            }
        }

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                s.parse()
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

string_id!(
    /// A 12-digit AWS account id. Leading zeros are significant.
    AccountId
);
string_id!(
    /// An organizational unit id, `ou-<root part 4-32>-<8-32>`.
    OuId
);
string_id!(
    /// An organization id, `o-<10-32 lowercase letters or digits>`.
    OrgId
);
string_id!(
    /// An organization root id, `r-<4-32 lowercase letters or digits>`.
    RootId
);
string_id!(
    /// An Organizations policy id, `p-<8-128 letters, digits or '_'>` (`p-FullAWSAccess` included).
    PolicyId
);
string_id!(
    /// A License Manager license ARN, `arn:aws:license-manager::<account>:license:l-<id>`.
    LicenseArn
);
string_id!(
    /// A License Manager grant ARN, `arn:aws:license-manager::<account>:grant:g-<id>`.
    GrantArn
);

impl FromStr for AccountId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(AccountId(s.to_owned()))
        } else {
            Err(IdError::new("account id", s, "exactly 12 digits"))
        }
    }
}

impl FromStr for OuId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        let ok = s
            .strip_prefix("ou-")
            .and_then(|rest| rest.split_once('-'))
            .is_some_and(|(root, ou)| {
                len_in(root, 4, 32)
                    && is_lower_alnum(root)
                    && len_in(ou, 8, 32)
                    && is_lower_alnum(ou)
            });
        if ok {
            Ok(OuId(s.to_owned()))
        } else {
            Err(IdError::new(
                "OU id",
                s,
                "ou-<4-32 lowercase letters or digits>-<8-32 lowercase letters or digits>",
            ))
        }
    }
}

impl FromStr for OrgId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        match s.strip_prefix("o-") {
            Some(rest) if len_in(rest, 10, 32) && is_lower_alnum(rest) => Ok(OrgId(s.to_owned())),
            _ => Err(IdError::new(
                "organization id",
                s,
                "o-<10-32 lowercase letters or digits>",
            )),
        }
    }
}

impl FromStr for RootId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        match s.strip_prefix("r-") {
            Some(rest) if len_in(rest, 4, 32) && is_lower_alnum(rest) => Ok(RootId(s.to_owned())),
            _ => Err(IdError::new(
                "root id",
                s,
                "r-<4-32 lowercase letters or digits>",
            )),
        }
    }
}

impl FromStr for PolicyId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        match s.strip_prefix("p-") {
            Some(rest)
                if len_in(rest, 8, 128)
                    && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
            {
                Ok(PolicyId(s.to_owned()))
            }
            _ => Err(IdError::new(
                "policy id",
                s,
                "p-<8-128 letters, digits or '_'>",
            )),
        }
    }
}

/// Splits `arn:aws:license-manager::<account>:<kind>:<id>` into (account, id).
fn split_lm_arn<'a>(s: &'a str, kind: &str) -> Option<(&'a str, &'a str)> {
    let rest = s.strip_prefix("arn:")?;
    let (partition, rest) = rest.split_once(':')?;
    if !partition.starts_with("aws") {
        return None;
    }
    let rest = rest.strip_prefix("license-manager:")?;
    // region may be empty (Marketplace licenses) or a region name
    let (region, rest) = rest.split_once(':')?;
    if !region
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return None;
    }
    let (account, rest) = rest.split_once(':')?;
    let rest = rest.strip_prefix(kind)?;
    let id = rest
        .strip_prefix(':')
        .or_else(|| rest.strip_prefix('/').filter(|_| kind == "license"))?;
    if account.parse::<AccountId>().is_err() {
        return None;
    }
    Some((account, id))
}

fn is_resource_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix).is_some_and(|hex| {
        !hex.is_empty() && hex.len() <= 64 && hex.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

impl FromStr for LicenseArn {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        match split_lm_arn(s, "license") {
            // AWS writes license ARNs both as `license:l-…` (the API reference) and as
            // `license/l-…` (some responses and consoles): both are read, and kept in the first
            // spelling, so that one license is one key wherever its ARN came from.
            Some((_, id)) if is_resource_id(id, "l-") => {
                Ok(LicenseArn(s.replacen(":license/", ":license:", 1)))
            }
            _ => Err(IdError::new(
                "license ARN",
                s,
                "arn:aws:license-manager::<12-digit account>:license:l-<id>",
            )),
        }
    }
}

impl LicenseArn {
    /// The account that issued the license (294406891311 for AWS Marketplace).
    pub fn issuer_account(&self) -> AccountId {
        let (account, _) = split_lm_arn(&self.0, "license").expect("validated on parse");
        AccountId(account.to_owned())
    }
}

impl FromStr for GrantArn {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        match split_lm_arn(s, "grant") {
            Some((_, id)) if is_resource_id(id, "g-") => Ok(GrantArn(s.to_owned())),
            _ => Err(IdError::new(
                "grant ARN",
                s,
                "arn:aws:license-manager::<12-digit account>:grant:g-<id>",
            )),
        }
    }
}

impl GrantArn {
    /// The account that created (owns) the grant.
    pub fn grantor_account(&self) -> AccountId {
        let (account, _) = split_lm_arn(&self.0, "grant").expect("validated on parse");
        AccountId(account.to_owned())
    }

    /// The `g-…` part of the ARN.
    pub fn grant_id(&self) -> &str {
        let (_, id) = split_lm_arn(&self.0, "grant").expect("validated on parse");
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every valid text parses and displays as itself; every invalid text is refused with an
    /// error that names the kind of id.
    fn check<T>(kind: &str, valid: &[&str], invalid: &[&str])
    where
        T: FromStr<Err = IdError> + fmt::Display + fmt::Debug,
    {
        for v in valid {
            match v.parse::<T>() {
                Ok(id) => assert_eq!(id.to_string(), *v, "{kind} {v} displays as itself"),
                Err(e) => panic!("{kind} {v:?} should be valid: {e}"),
            }
        }
        for v in invalid {
            match v.parse::<T>() {
                Ok(id) => panic!("{kind} {v:?} should be invalid, parsed as {id:?}"),
                Err(e) => {
                    assert_eq!(e.kind, kind);
                    assert_eq!(e.value, *v);
                    assert!(e.to_string().contains(kind), "{e}");
                }
            }
        }
    }

    #[test]
    fn account_ids() {
        check::<AccountId>(
            "account id",
            &["111122223333", "012345678901", "000000000000"],
            &[
                "",
                "11112222333",
                "1111222233334",
                "1111-2222-3333",
                " 111122223333",
                "11112222333a",
                "１１１１２２２２３３３３",
            ],
        );
    }

    #[test]
    fn ou_ids() {
        check::<OuId>(
            "OU id",
            &[
                "ou-ab12-mlplatfm",
                "ou-ab12-workload1",
                "ou-abcd-12345678",
                "ou-0123456789abcdef0123456789abcdef-0123456789abcdef0123456789abcdef",
            ],
            &[
                "",
                "ou-",
                "ou-ab12",
                "ou-abc-12345678",
                "ou-ab12-1234567",
                "ou-AB12-mlplatfm",
                "ou-ab12-mlplatfM",
                "ou-ab12-mlpl-atfm",
                "ou-ab12-ml_platfm",
                "OU-ab12-mlplatfm",
                "r-ab12",
                "ou-0123456789abcdef0123456789abcdefx-12345678",
            ],
        );
    }

    #[test]
    fn org_ids() {
        check::<OrgId>(
            "organization id",
            &["o-abcde12345", "o-0123456789abcdef0123456789abcdef"],
            &[
                "",
                "o-",
                "o-abc",
                "o-abcde1234",
                "o-ABCDE12345",
                "o-abcde-12345",
                "abcde12345",
                "o-0123456789abcdef0123456789abcdef0",
            ],
        );
    }

    #[test]
    fn root_ids() {
        check::<RootId>(
            "root id",
            &["r-ab12", "r-0123456789abcdef0123456789abcdef"],
            &["", "r-", "r-ab1", "r-AB12", "root", "r-ab12-x"],
        );
    }

    #[test]
    fn license_arns() {
        check::<LicenseArn>(
            "license ARN",
            &[
                "arn:aws:license-manager::294406891311:license:l-0123456789abcdef0123456789abcdef",
                "arn:aws:license-manager:us-east-1:111122223333:license:l-abc",
                "arn:aws-us-gov:license-manager::111122223333:license:l-ABC123",
            ],
            &[
                "",
                "l-0123456789abcdef",
                "arn:aws:license-manager::294406891311:license:",
                "arn:aws:license-manager::294406891311:license:l-",
                "arn:aws:license-manager::294406891311:license:x-abc",
                "arn:aws:license-manager::294406891311:grant:g-abc",
                "arn:aws:license-manager::29440689131:license:l-abc",
                "arn:aws:license-manager:US-EAST-1:294406891311:license:l-abc",
                "arn:aws:iam::294406891311:license:l-abc",
                "arn:azure:license-manager::294406891311:license:l-abc",
                "arn:aws:license-manager::294406891311:license:l-ab/c",
            ],
        );
        let arn: LicenseArn =
            "arn:aws:license-manager::294406891311:license:l-0123456789abcdef0123456789abcdef"
                .parse()
                .unwrap();
        assert_eq!(arn.issuer_account().as_str(), "294406891311");
        let slash: LicenseArn =
            "arn:aws:license-manager::294406891311:license/l-0123456789abcdef0123456789abcdef"
                .parse()
                .expect("the license/l-… spelling is read");
        assert_eq!(slash, arn, "both spellings name one license");
        assert_eq!(slash.issuer_account().as_str(), "294406891311");
    }

    #[test]
    fn grant_arns() {
        check::<GrantArn>(
            "grant ARN",
            &[
                "arn:aws:license-manager::111122223333:grant:g-0123456789abcdef0123456789abcdef",
                "arn:aws:license-manager:us-east-1:111122223333:grant:g-1",
            ],
            &[
                "",
                "g-0123",
                "arn:aws:license-manager::111122223333:grant:g-",
                "arn:aws:license-manager::111122223333:license:l-abc",
                "arn:aws:license-manager::1111222233:grant:g-abc",
                "arn:aws:license-manager::111122223333:grant:g-a:b",
            ],
        );
        let arn: GrantArn = "arn:aws:license-manager::111122223333:grant:g-89ab"
            .parse()
            .unwrap();
        assert_eq!(arn.grantor_account().as_str(), "111122223333");
        assert_eq!(arn.grant_id(), "g-89ab");
    }

    #[test]
    fn ids_round_trip_through_serde_and_refuse_bad_text() {
        let id: AccountId = serde_json::from_str("\"012345678901\"").unwrap();
        assert_eq!(id.as_str(), "012345678901");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"012345678901\"");
        let err = serde_json::from_str::<AccountId>("\"12345\"").unwrap_err();
        assert!(err.to_string().contains("account id"), "{err}");
        assert!(serde_json::from_str::<OuId>("\"ou-x\"").is_err());
        assert_eq!(
            OrgId::try_from("o-abcde12345".to_owned()).map(String::from),
            Ok("o-abcde12345".to_owned())
        );
    }
}
