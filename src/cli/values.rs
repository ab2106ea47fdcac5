//! The first stage of the command line (after ripgrep's two-stage arguments): clap turns each
//! option's text into a typed value here, so a malformed value is refused by clap, with clap's
//! usage message and exit code, before any command runs. What needs the file (a `--target` the
//! file does not name) is checked once, later, by `org::check_targets`.

use std::time::Duration;

use crate::config::ModelKey;

/// `--wait`: `90s`, `10m`, `1h`, `250ms`, or plain seconds.
pub fn duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("{text:?} is not a duration (for example 90s, 10m, 1h)");
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = number.parse().map_err(|_| bad())?;
    let secs = match unit {
        "ms" => return Ok(Duration::from_millis(n)),
        "s" => n,
        "m" => n.checked_mul(60).ok_or_else(bad)?,
        "h" => n.checked_mul(3600).ok_or_else(bad)?,
        _ => return Err(bad()),
    };
    Ok(Duration::from_secs(secs))
}

/// `--parallelism`: a whole number, at least 1.
pub fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{text:?} is not a whole number")),
    }
}

/// `emulator --throttle-rate` and the other fault rates: a probability, from 0 to 1.
pub fn probability(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        Ok(p) => Err(format!("must be between 0 and 1, not {p}")),
        Err(_) => Err(format!("{text:?} is not a number")),
    }
}

/// `--target` and `access --model`: a model key as the file writes them.
pub fn model_key(text: &str) -> Result<ModelKey, String> {
    ModelKey::parse(text).ok_or_else(|| {
        format!(
            "{text:?} is not a model key (lowercase letters, digits and `-`, at most 64, not \
             starting with `-`)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(duration("45"), Ok(Duration::from_secs(45)));
        assert_eq!(duration("250ms"), Ok(Duration::from_millis(250)));
        for bad in ["ten", "10d", "", "m", "-5s", "99999999999999999999h"] {
            assert!(duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn counts_and_keys() {
        assert_eq!(at_least_one("8"), Ok(8));
        assert!(at_least_one("0").is_err());
        assert!(at_least_one("-1").is_err());
        assert_eq!(
            model_key("claude-sonnet").unwrap().as_str(),
            "claude-sonnet"
        );
        assert!(model_key("Claude").is_err());
        assert!(model_key("-x").is_err());
        assert_eq!(probability("0.25"), Ok(0.25));
        for bad in ["1.5", "-0.1", "x", "NaN"] {
            assert!(probability(bad).is_err(), "{bad:?}");
        }
    }
}
