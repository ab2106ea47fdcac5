//! Who is calling. Signatures are not checked; the access key id in the SigV4 `Authorization`
//! header picks the calling account:
//! - a key minted by the emulator's `AssumeRole` acts as the role's account (and role);
//! - `ACCT` followed by 12 digits (`ACCT222233334444`) acts as that account directly;
//! - any other key acts as the seed's `default_caller` (the management account by default).
//!
//! The credential scope also gives the region the client signed for.

use super::state::World;

/// The identity a request acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Caller {
    pub account: String,
    /// The role name, for assumed-role sessions.
    pub role: Option<String>,
    pub session_name: Option<String>,
    pub access_key: String,
}

impl Caller {
    /// `arn:aws:iam::<id>:root`, the principal License Manager names in its messages.
    pub(crate) fn root_arn(&self) -> String {
        format!("arn:aws:iam::{}:root", self.account)
    }

    /// The ARN GetCallerIdentity returns.
    pub(crate) fn arn(&self) -> String {
        match (&self.role, &self.session_name) {
            (Some(role), Some(session)) => {
                format!(
                    "arn:aws:sts::{}:assumed-role/{role}/{session}",
                    self.account
                )
            }
            _ => self.root_arn(),
        }
    }
}

/// The access key id and region of a SigV4 `Authorization` header.
pub(crate) fn parse_authorization(header: &str) -> Option<(&str, Option<&str>)> {
    let cred = header.split("Credential=").nth(1)?;
    let cred = cred.split([',', ' ']).next()?;
    let mut parts = cred.split('/');
    let key = parts.next().filter(|k| !k.is_empty())?;
    let _date = parts.next();
    let region = parts.next().filter(|r| !r.is_empty());
    Some((key, region))
}

/// The account named by a documented test key, `ACCT<12 digits>`.
fn direct_account(key: &str) -> Option<&str> {
    let digits = key.strip_prefix("ACCT")?;
    (digits.len() == 12 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

pub(crate) fn resolve(world: &World, access_key: &str) -> Caller {
    if let Some(s) = world.sessions.get(access_key) {
        return Caller {
            account: s.account.clone(),
            role: Some(s.role.clone()),
            session_name: Some(s.session_name.clone()),
            access_key: access_key.to_owned(),
        };
    }
    let account = direct_account(access_key)
        .map(str::to_owned)
        .unwrap_or_else(|| world.default_caller.clone());
    Caller {
        account,
        role: None,
        session_name: None,
        access_key: access_key.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_key_and_region_from_sigv4_header() {
        let h = "AWS4-HMAC-SHA256 Credential=ACCT222233334444/20250101/us-east-1/license-manager/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc";
        assert_eq!(
            parse_authorization(h),
            Some(("ACCT222233334444", Some("us-east-1")))
        );
        assert_eq!(parse_authorization("Bearer xyz"), None);
        assert_eq!(direct_account("ACCT222233334444"), Some("222233334444"));
        assert_eq!(direct_account("ACCT22223333444"), None);
        assert_eq!(direct_account("AKIAIOSFODNN7EXAMPLE"), None);
    }
}
