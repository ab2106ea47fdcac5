//! STS in the AWS Query protocol: a form-encoded `Action=AssumeRole&...` POST answered in XML.
//! `AssumeRole` mints credentials whose access key id the emulator maps to the role's account, so
//! calls signed with them act as that account. `GetCallerIdentity` says who a key acts as.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::faults::mix64;
use super::identity::Caller;
use super::state::{Session, World};
use super::wire::ApiError;

pub(crate) const OPERATIONS: &[&str] = &["AssumeRole", "GetCallerIdentity"];
pub(crate) const XMLNS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// Decodes an `application/x-www-form-urlencoded` body.
pub(crate) fn parse_form(body: &[u8]) -> BTreeMap<String, String> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// The Query-protocol error body.
pub(crate) fn error_xml(e: &ApiError, request_id: &str) -> String {
    error_xml_in(XMLNS, e, request_id)
}

/// The Query-protocol error body of the service whose XML namespace is `xmlns`.
pub(crate) fn error_xml_in(xmlns: &str, e: &ApiError, request_id: &str) -> String {
    let kind = if e.status >= 500 {
        "Receiver"
    } else {
        "Sender"
    };
    format!(
        "<ErrorResponse xmlns=\"{xmlns}\"><Error><Type>{kind}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
        e.code,
        escape(&e.message)
    )
}

fn validation(message: impl Into<String>) -> ApiError {
    ApiError::client("ValidationError", message)
}

pub(crate) fn handle(
    world: &mut World,
    caller: &Caller,
    op: &str,
    form: &BTreeMap<String, String>,
    request_id: &str,
) -> Result<String, ApiError> {
    let result = match op {
        "AssumeRole" => assume_role(world, caller, form)?,
        "GetCallerIdentity" => format!(
            "<Arn>{}</Arn><UserId>{}</UserId><Account>{}</Account>",
            escape(&caller.arn()),
            escape(&caller.access_key),
            caller.account
        ),
        _ => {
            return Err(ApiError::client(
                "InvalidAction",
                format!("Could not find operation {op} for version 2011-06-15"),
            ));
        }
    };
    Ok(format!(
        "<{op}Response xmlns=\"{XMLNS}\"><{op}Result>{result}</{op}Result><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{op}Response>"
    ))
}

fn assume_role(
    world: &mut World,
    caller: &Caller,
    form: &BTreeMap<String, String>,
) -> Result<String, ApiError> {
    let role_arn = form
        .get("RoleArn")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| validation("1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null"))?;
    let session = form
        .get("RoleSessionName")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| validation("1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null"))?;
    if session.len() < 2
        || session.len() > 64
        || !session
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b))
    {
        return Err(validation(format!(
            "1 validation error detected: Value '{session}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"
        )));
    }
    let duration = match form.get("DurationSeconds") {
        None => 3600,
        Some(d) => match d.parse::<u64>() {
            Ok(d) if (900..=43_200).contains(&d) => d,
            _ => {
                return Err(validation(format!(
                    "1 validation error detected: Value '{d}' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200"
                )));
            }
        },
    };
    let (account, role) = role_arn
        .strip_prefix("arn:aws:iam::")
        .and_then(|r| r.split_once(":role/"))
        .filter(|(a, r)| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()) && !r.is_empty())
        .ok_or_else(|| {
            validation(format!(
                "{role_arn} is invalid: a role ARN is arn:aws:iam::<account>:role/<name>"
            ))
        })?;
    let role = role.rsplit('/').next().unwrap_or(role);
    let reachable = world
        .org
        .accounts
        .get(account)
        .is_some_and(|a| a.state == "ACTIVE");
    if !reachable {
        return Err(ApiError::new(
            403,
            "AccessDenied",
            format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
                caller.arn()
            ),
        ));
    }
    let n = world.next_session;
    world.next_session += 1;
    let key = format!("ASIA{:016X}", mix64(n ^ 0x5e55_1011));
    let secret = format!("{:016x}{:016x}", mix64(n), mix64(!n));
    let token = format!("emulator-session-{n}-{:016x}", mix64(n.wrapping_mul(3)));
    world.sessions.insert(
        key.clone(),
        Session {
            account: account.to_owned(),
            role: role.to_owned(),
            session_name: session.clone(),
        },
    );
    // Wall clock: `Expiration` is an epoch time on the wire (see `emulator::clock`).
    let expires = SystemTime::now() + Duration::from_secs(duration);
    let expiration = iso8601(expires);
    let role_id = format!("AROA{:016X}", mix64(super::faults::fnv1a(role_arn)));
    Ok(format!(
        "<Credentials><AccessKeyId>{key}</AccessKeyId><SecretAccessKey>{secret}</SecretAccessKey><SessionToken>{token}</SessionToken><Expiration>{expiration}</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>{role_id}:{}</AssumedRoleId><Arn>arn:aws:sts::{account}:assumed-role/{}/{}</Arn></AssumedRoleUser><PackedPolicySize>0</PackedPolicySize>",
        escape(session),
        escape(role),
        escape(session)
    ))
}

/// `2025-01-02T03:04:05Z` for a time after the epoch.
fn iso8601(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0) as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_forms_and_dates() {
        let f = parse_form(b"Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A222233334444%3Arole%2FX&RoleSessionName=a+b");
        assert_eq!(f["Action"], "AssumeRole");
        assert_eq!(f["RoleArn"], "arn:aws:iam::222233334444:role/X");
        assert_eq!(f["RoleSessionName"], "a b");
        assert_eq!(
            iso8601(UNIX_EPOCH + Duration::from_secs(1_704_067_200 + 3661)),
            "2024-01-01T01:01:01Z"
        );
        assert_eq!(
            iso8601(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
    }
}
