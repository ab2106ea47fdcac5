//! The one Markdown escaper and the one CSV quoting of every view. Every string that came from
//! outside the tool (grant, account, OU, license and product names, the issuer, statuses and
//! status reasons, and the planner's sentences that quote them) goes through [`md`] in
//! Markdown and through [`csv_field`] in CSV.
//!
//! - Markdown: control characters (newlines included) become U+FFFD, so a value stays on its
//!   line and in its table cell; every ASCII punctuation character that can open markup in
//!   GitHub-flavoured Markdown (emphasis, code, links, images, HTML, autolinks, tables,
//!   headings, strike-through, entities, math) is backslash-escaped. Never put an escaped
//!   value inside a code span (backslashes are literal there): write it as plain text.
//! - CSV: RFC 4180 (a field holding a comma, a double quote, CR or LF is quoted, quotes
//!   doubled), and a field a spreadsheet would read as a formula (first character `=`, `+`,
//!   `-`, `@`, tab or CR) is prefixed with `'` (OWASP's advice on CSV injection), then quoted.

use super::common::clean;

/// The characters [`md`] escapes.
const MD_SPECIAL: &[char] = &[
    '\\', '`', '*', '_', '[', ']', '<', '>', '|', '#', '~', '&', '!', '$',
];

/// The first characters that make a spreadsheet evaluate a cell.
const FORMULA_START: &[char] = &['=', '+', '-', '@', '\t', '\r'];

/// Text from outside the tool, inert in a Markdown paragraph, list item or table cell.
pub fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in clean(s).chars() {
        if MD_SPECIAL.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// One CSV field: formula-neutralised, then quoted when RFC 4180 requires it. Control
/// characters other than the tab, CR and LF that CSV can carry quoted are replaced.
pub fn csv_field(s: &str) -> String {
    let kept: String = s
        .chars()
        .map(|c| {
            if c.is_control() && !matches!(c, '\t' | '\r' | '\n') {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect();
    let neutral = if kept.starts_with(FORMULA_START) {
        format!("'{kept}")
    } else {
        kept
    };
    if neutral.contains([',', '"', '\n', '\r']) || neutral != s {
        format!("\"{}\"", neutral.replace('"', "\"\""))
    } else {
        neutral
    }
}

/// One CSV record (without its line end).
pub fn csv_record<S: AsRef<str>>(fields: &[S]) -> String {
    fields
        .iter()
        .map(|f| csv_field(f.as_ref()))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md_escapes_every_opener_and_keeps_one_line() {
        assert_eq!(
            md("a|b`c*d[e](f)<g>\nh=i"),
            "a\\|b\\`c\\*d\\[e\\](f)\\<g\\>\u{fffd}h=i"
        );
        assert_eq!(md("plain name-1.2"), "plain name-1.2");
        assert_eq!(md("\\|"), "\\\\\\|");
    }

    #[test]
    fn csv_quotes_as_rfc_4180_says() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field(""), "");
    }

    #[test]
    fn csv_neutralises_formulas() {
        for (raw, want) in [
            ("=1+1", "\"'=1+1\""),
            ("+1", "\"'+1\""),
            ("-1", "\"'-1\""),
            ("@SUM(A1)", "\"'@SUM(A1)\""),
            ("\tx", "\"'\tx\""),
            ("\rx", "\"'\rx\""),
            ("=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\""),
        ] {
            assert_eq!(csv_field(raw), want, "{raw:?}");
        }
        assert_eq!(csv_field("a=1"), "a=1");
        assert_eq!(csv_record(&["a", "=b", "c,d"]), "a,\"'=b\",\"c,d\"");
    }
}
