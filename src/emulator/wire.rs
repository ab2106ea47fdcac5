//! AWS JSON 1.1 on the wire: which service and operation a request names, reading its members with
//! the validation the real services do (the SDK does none), errors in each service's JSON shape,
//! and opaque pagination tokens.

use serde_json::{Map, Value};

/// The services the emulator speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Service {
    LicenseManager,
    Organizations,
    Sts,
    Iam,
    /// Bedrock's control plane (REST-JSON).
    Bedrock,
}

impl Service {
    /// Whether it speaks the AWS Query protocol (form-encoded requests, XML answers).
    pub(crate) fn is_query(self) -> bool {
        matches!(self, Service::Sts | Service::Iam)
    }

    /// The IAM action prefix (`license-manager:CreateGrant`).
    pub(crate) fn iam_prefix(self) -> &'static str {
        match self {
            Service::LicenseManager => "license-manager",
            Service::Organizations => "organizations",
            Service::Sts => "sts",
            Service::Iam => "iam",
            Service::Bedrock => "bedrock",
        }
    }
}

pub(crate) const LM_TARGET_PREFIX: &str = "AWSLicenseManager.";
pub(crate) const ORG_TARGET_PREFIX: &str = "AWSOrganizationsV20161128.";
pub(crate) const JSON_CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// An error answered to the client, in the shape of the service that raised it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    /// Extra members (Organizations' `Reason` and `Type`).
    pub extra: Vec<(&'static str, String)>,
}

impl ApiError {
    pub(crate) fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            extra: Vec::new(),
        }
    }

    pub(crate) fn client(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(400, code, message)
    }

    pub(crate) fn validation(message: impl Into<String>) -> Self {
        ApiError::client("ValidationException", message)
    }

    pub(crate) fn with(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.extra.push((key, value.into()));
        self
    }

    /// Organizations' `InvalidInputException` with its `Reason`.
    pub(crate) fn org_input(reason: &'static str, message: impl Into<String>) -> Self {
        ApiError::client("InvalidInputException", message).with("Reason", reason)
    }

    pub(crate) fn throttled(service: Service) -> Self {
        match service {
            Service::LicenseManager => ApiError::client(
                "RateLimitExceededException",
                "Too many requests have been submitted. Try again after a brief wait.",
            ),
            Service::Organizations => ApiError::client(
                "TooManyRequestsException",
                "You have sent too many requests in too short a period of time. Try again later.",
            )
            .with("Type", "TooManyRequests"),
            Service::Sts | Service::Iam => ApiError::client("Throttling", "Rate exceeded"),
            Service::Bedrock => ApiError::new(
                429,
                "ThrottlingException",
                "Too many requests, please wait before trying again.",
            ),
        }
    }

    pub(crate) fn server(service: Service) -> Self {
        match service {
            Service::LicenseManager => ApiError::new(
                500,
                "ServerInternalException",
                "An internal error occurred. Try again later.",
            ),
            Service::Organizations => ApiError::new(
                500,
                "ServiceException",
                "AWS Organizations can't complete your request because of an internal service error. Try again later.",
            ),
            Service::Sts | Service::Iam => ApiError::new(
                500,
                "InternalFailure",
                "The request processing has failed because of an unknown error.",
            ),
            Service::Bedrock => ApiError::new(
                500,
                "InternalServerException",
                "An internal server error occurred. Retry your request.",
            ),
        }
    }

    pub(crate) fn access_denied(service: Service, message: impl Into<String>) -> Self {
        match service {
            Service::Sts | Service::Iam => ApiError::new(403, "AccessDenied", message),
            Service::Bedrock => ApiError::new(403, "AccessDeniedException", message),
            _ => ApiError::client("AccessDeniedException", message),
        }
    }

    /// The JSON error body: `__type` plus `message` (License Manager) or `Message` (Organizations).
    pub(crate) fn json_body(&self, service: Service) -> String {
        let mut m = Map::new();
        m.insert("__type".into(), Value::String(self.code.to_owned()));
        let key = match service {
            Service::Organizations => "Message",
            _ => "message",
        };
        m.insert(key.into(), Value::String(self.message.clone()));
        for (k, v) in &self.extra {
            m.insert((*k).into(), Value::String(v.clone()));
        }
        Value::Object(m).to_string()
    }
}

/// `1 validation error detected: Value null at 'clientToken' failed to satisfy constraint: ...`:
/// the wording AWS's request validation uses. Member names are given in lowerCamelCase there.
fn constraint(member: &str, value: &str, what: &str) -> String {
    format!(
        "1 validation error detected: Value {value} at '{}' failed to satisfy constraint: {what}",
        lower_camel(member)
    )
}

fn lower_camel(member: &str) -> String {
    let mut c = member.chars();
    match c.next() {
        Some(first) => first.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The members of one JSON request, read with the service's validation and error shapes.
pub(crate) struct Input<'a> {
    pub service: Service,
    map: &'a Map<String, Value>,
}

static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();

impl<'a> Input<'a> {
    pub(crate) fn new(service: Service, body: &'a Value) -> Result<Input<'a>, ApiError> {
        match body {
            Value::Object(map) => Ok(Input { service, map }),
            Value::Null => Ok(Input {
                service,
                map: EMPTY.get_or_init(Map::new),
            }),
            _ => Err(serialization("the request body is not a JSON object")),
        }
    }

    fn missing(&self, member: &str) -> ApiError {
        match self.service {
            Service::Organizations => ApiError::org_input(
                "INPUT_REQUIRED",
                format!("You must specify a value for {member}."),
            ),
            _ => ApiError::validation(constraint(member, "null", "Member must not be null")),
        }
    }

    fn invalid(&self, member: &str, value: &str, what: &str, reason: &'static str) -> ApiError {
        match self.service {
            Service::Organizations => ApiError::org_input(reason, constraint(member, value, what)),
            _ => ApiError::validation(constraint(member, value, what)),
        }
    }

    pub(crate) fn opt_str(&self, member: &str) -> Result<Option<&'a str>, ApiError> {
        match self.map.get(member) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(serialization(&format!("{member} must be a string"))),
        }
    }

    pub(crate) fn str(&self, member: &str) -> Result<&'a str, ApiError> {
        self.opt_str(member)?.ok_or_else(|| self.missing(member))
    }

    /// A required string that must also be non-empty (AWS's `min: 1`).
    pub(crate) fn non_empty(&self, member: &str) -> Result<&'a str, ApiError> {
        let s = self.str(member)?;
        if s.is_empty() {
            return Err(self.invalid(
                member,
                "''",
                "Member must have length greater than or equal to 1",
                "MIN_LENGTH_EXCEEDED",
            ));
        }
        Ok(s)
    }

    pub(crate) fn opt_str_list(&self, member: &str) -> Result<Option<Vec<&'a str>>, ApiError> {
        match self.map.get(member) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str().ok_or_else(|| {
                        serialization(&format!("{member} must be a list of strings"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(serialization(&format!("{member} must be a list"))),
        }
    }

    pub(crate) fn str_list(&self, member: &str) -> Result<Vec<&'a str>, ApiError> {
        self.opt_str_list(member)?
            .ok_or_else(|| self.missing(member))
    }

    pub(crate) fn opt_bool(&self, member: &str) -> Result<Option<bool>, ApiError> {
        match self.map.get(member) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(serialization(&format!("{member} must be a boolean"))),
        }
    }

    pub(crate) fn bool(&self, member: &str) -> Result<bool, ApiError> {
        self.opt_bool(member)?.ok_or_else(|| self.missing(member))
    }

    pub(crate) fn opt_object(&self, member: &str) -> Result<Option<Input<'a>>, ApiError> {
        match self.map.get(member) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Input {
                service: self.service,
                map,
            })),
            Some(_) => Err(serialization(&format!("{member} must be an object"))),
        }
    }

    pub(crate) fn opt_list(&self, member: &str) -> Result<Option<&'a Vec<Value>>, ApiError> {
        match self.map.get(member) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items)),
            Some(_) => Err(serialization(&format!("{member} must be a list"))),
        }
    }

    /// `MaxResults` checked against the service's range; `default` when absent.
    pub(crate) fn max_results(&self, max: u32, default: u32) -> Result<u32, ApiError> {
        match self.map.get("MaxResults") {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Number(n)) => {
                let Some(v) = n.as_i64() else {
                    return Err(serialization("MaxResults must be an integer"));
                };
                if v < 1 {
                    Err(self.invalid(
                        "MaxResults",
                        &v.to_string(),
                        "Member must have value greater than or equal to 1",
                        "MIN_VALUE_EXCEEDED",
                    ))
                } else if v > i64::from(max) {
                    Err(self.invalid(
                        "MaxResults",
                        &v.to_string(),
                        &format!("Member must have value less than or equal to {max}"),
                        "MAX_VALUE_EXCEEDED",
                    ))
                } else {
                    Ok(v as u32)
                }
            }
            Some(_) => Err(serialization("MaxResults must be an integer")),
        }
    }

    /// The `NextToken` member decoded for `op`, as the key of the last item already returned.
    pub(crate) fn next_token(&self, op: &str) -> Result<Option<String>, ApiError> {
        let Some(token) = self.opt_str("NextToken")? else {
            return Ok(None);
        };
        match decode_token(op, token) {
            Some(key) => Ok(Some(key)),
            None => Err(match self.service {
                Service::Organizations => ApiError::org_input(
                    "INVALID_NEXT_TOKEN",
                    "You specified an invalid value for nextToken. You must get the value from the response to a previous call to the API.",
                ),
                _ => ApiError::validation("The provided NextToken is not valid"),
            }),
        }
    }

    /// License Manager `Filters`: each name among `allowed` (case-sensitive), exactly one value.
    pub(crate) fn filters(&self, allowed: &[&str]) -> Result<Vec<(String, String)>, ApiError> {
        let Some(list) = self.opt_list("Filters")? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::with_capacity(list.len());
        for f in list {
            let Value::Object(m) = f else {
                return Err(serialization("each filter must be an object"));
            };
            let filter = Input {
                service: self.service,
                map: m,
            };
            let name = filter.str("Name")?;
            if !allowed.contains(&name) {
                return Err(ApiError::validation(format!(
                    "Filter name {name} is not supported. Supported filter names: {}",
                    allowed.join(", ")
                )));
            }
            let values = filter.str_list("Values")?;
            match values.as_slice() {
                [one] => out.push((name.to_owned(), (*one).to_owned())),
                [] => {
                    return Err(ApiError::validation(format!(
                        "Filter {name} must have a value"
                    )));
                }
                _ => {
                    return Err(ApiError::validation(format!(
                        "Filter {name} has {} values; you can only specify one value for the filter",
                        values.len()
                    )));
                }
            }
        }
        Ok(out)
    }
}

pub(crate) fn serialization(message: &str) -> ApiError {
    ApiError::client("SerializationException", message.to_owned())
}

/// A page of keys: which items to return and the token for the rest.
/// `items` must be sorted by `key`; the token names the last key returned.
pub(crate) fn page<T>(
    op: &str,
    items: Vec<T>,
    key: impl Fn(&T) -> String,
    after: Option<&str>,
    limit: u32,
) -> (Vec<T>, Option<String>) {
    let limit = limit as usize;
    let mut out = Vec::with_capacity(limit.min(items.len()));
    let mut more = false;
    for item in items {
        if let Some(after) = after
            && key(&item).as_str() <= after
        {
            continue;
        }
        if out.len() == limit {
            more = true;
            break;
        }
        out.push(item);
    }
    let token = if more {
        out.last().map(|last| encode_token(op, &key(last)))
    } else {
        None
    };
    (out, token)
}

/// Tokens are opaque to clients: the operation, the last key and a serial number (so no two
/// responses carry the same token, as SDK paginators expect), hex-encoded with a check digit.
pub(crate) fn encode_token(op: &str, key: &str) -> String {
    static SERIAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let n = SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let text = format!("{op}\n{key}\n{n}");
    let sum = text
        .bytes()
        .fold(0u8, |a, b| a.wrapping_mul(31).wrapping_add(b));
    format!("{}{:02x}", hex::encode(text), sum)
}

fn decode_token(op: &str, token: &str) -> Option<String> {
    if token.len() < 2 || !token.is_ascii() {
        return None;
    }
    let (body, sum) = token.split_at(token.len() - 2);
    let bytes = hex::decode(body).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let expected = text
        .bytes()
        .fold(0u8, |a, b| a.wrapping_mul(31).wrapping_add(b));
    if format!("{expected:02x}") != sum {
        return None;
    }
    let mut parts = text.split('\n');
    let (token_op, key, serial) = (parts.next()?, parts.next()?, parts.next()?);
    (token_op == op && serial.parse::<u64>().is_ok() && parts.next().is_none())
        .then(|| key.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_tampering() {
        let t = encode_token("ListAccounts", "222233334444");
        assert_eq!(
            decode_token("ListAccounts", &t).as_deref(),
            Some("222233334444")
        );
        assert_eq!(decode_token("ListRoots", &t), None);
        let mut tampered = t.clone();
        tampered.replace_range(0..2, "ff");
        assert_eq!(decode_token("ListAccounts", &tampered), None);
        assert_eq!(decode_token("ListAccounts", "zz"), None);
    }

    #[test]
    fn paging_walks_every_item_once() {
        let items: Vec<u32> = (0..45).collect();
        let key = |i: &u32| format!("{i:04}");
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let (page_items, token) = page("Op", items.clone(), key, after.as_deref(), 20);
            seen.extend(page_items);
            match token {
                Some(t) => after = decode_token("Op", &t),
                None => break,
            }
        }
        assert_eq!(seen, items);
    }

    #[test]
    fn organizations_errors_use_capital_message_and_extra_members() {
        let e = ApiError::throttled(Service::Organizations);
        let v: Value = serde_json::from_str(&e.json_body(Service::Organizations)).unwrap();
        assert_eq!(v["__type"], "TooManyRequestsException");
        assert!(v["Message"].is_string());
        assert_eq!(v["Type"], "TooManyRequests");
        let e = ApiError::validation("nope");
        let v: Value = serde_json::from_str(&e.json_body(Service::LicenseManager)).unwrap();
        assert_eq!(v["message"], "nope");
    }
}
