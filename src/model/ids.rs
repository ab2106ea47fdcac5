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

macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

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
    let id = rest.strip_prefix(kind)?.strip_prefix(':')?;
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
            Some((_, id)) if is_resource_id(id, "l-") => Ok(LicenseArn(s.to_owned())),
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
