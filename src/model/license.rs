//! Licenses the grantor account has received (`ListReceivedLicenses`).

use super::ids::LicenseArn;

/// One received model license.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct License {
    pub arn: LicenseArn,
    pub name: String,
    pub product_name: String,
    pub product_sku: String,
    pub issuer: String,
    /// `AVAILABLE`, `EXPIRED`, ...
    pub status: String,
    pub home_region: String,
    /// `ReceivedMetadata.AllowedOperations`: what this account may do with the license
    /// (it can distribute it only if `CreateGrant` is among them).
    pub received_operations: Vec<String>,
    /// `Validity.Begin` as the API gives it, if any.
    pub validity_begin: Option<String>,
    /// `Validity.End` as the API gives it, if any.
    pub validity_end: Option<String>,
    /// `Beneficiary`: the account that received the license (`arn:aws:iam::ID:root`).
    pub beneficiary: Option<String>,
}

impl License {
    pub fn allows_create_grant(&self) -> bool {
        self.allows("CreateGrant")
    }

    /// Whether `ReceivedMetadata.AllowedOperations` lists `operation`.
    pub fn allows(&self, operation: &str) -> bool {
        self.received_operations.iter().any(|op| op == operation)
    }

    /// `Validity.Begin` in seconds since the Unix epoch; `None` when absent or unreadable.
    pub fn begin_secs(&self) -> Option<i64> {
        self.validity_begin.as_deref().and_then(parse_time)
    }

    /// `Validity.End` in seconds since the Unix epoch; `None` when absent or unreadable.
    pub fn end_secs(&self) -> Option<i64> {
        self.validity_end.as_deref().and_then(parse_time)
    }

    /// Whether `at` (epoch seconds) lies inside the license's validity. A bound that is
    /// absent or unreadable does not limit it.
    pub fn is_valid_at(&self, at: i64) -> bool {
        self.begin_secs().is_none_or(|b| b <= at) && self.end_secs().is_none_or(|e| at < e)
    }
}

/// Reads a License Manager time: ISO 8601 in UTC (`2026-03-01T00:00:00.000Z`, `2026-03-01`,
/// fractions ignored) or epoch seconds as a decimal string (how `CreateTime` comes back).
pub fn parse_time(text: &str) -> Option<i64> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().ok();
    }
    let (date, time) = match text.split_once(['T', ' ']) {
        Some((d, t)) => (d, t),
        None => (text, "00:00:00Z"),
    };
    let mut ymd = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, d) = (ymd.next()??, ymd.next()??, ymd.next()??);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let time = time.trim_end_matches('Z').trim_end_matches("+00:00");
    let time = time.split('.').next()?;
    let mut hms = time.splitn(3, ':').map(|p| p.parse::<i64>().ok());
    let h = hms.next().flatten()?;
    let min = hms.next().flatten().unwrap_or(0);
    let sec = hms.next().flatten().unwrap_or(0);
    Some(days_from_civil(y, m, d) * 86_400 + h * 3_600 + min * 60 + sec)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::parse_time;

    #[test]
    fn times_read_as_epoch_seconds() {
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_time("2026-03-01T00:00:00.000Z"), Some(1_772_323_200));
        assert_eq!(parse_time("2000-02-29T12:30:15Z"), Some(951_827_415));
        assert_eq!(parse_time("2026-03-01"), Some(1_772_323_200));
        assert_eq!(parse_time("1786405121"), Some(1_786_405_121));
        assert_eq!(parse_time("soon"), None);
        assert_eq!(parse_time("2026-13-01T00:00:00Z"), None);
    }
}
