//! What every view shares: text from outside the tool made safe for a terminal ([`clean`];
//! Markdown and CSV have [`super::escape`]), and numbers for people ([`thousands`]).

/// Text from outside the tool (grant names, messages) with control characters replaced, so a
/// grant name cannot move the cursor or recolour a terminal.
pub(crate) fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

/// `1234567` → `1,234,567`.
pub(crate) fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        let cases = [(0, "0"), (999, "999"), (1000, "1,000"), (65536, "65,536")];
        for (n, want) in cases {
            assert_eq!(thousands(n), want);
        }
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn clean_replaces_control_characters() {
        assert_eq!(clean("a\x1b[31mb\nc"), "a\u{fffd}[31mb\u{fffd}c");
        assert_eq!(clean("plain-name"), "plain-name");
    }
}
