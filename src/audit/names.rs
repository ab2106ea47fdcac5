//! Readable model keys derived from License Manager product names, for `import` and for
//! licenses no model of the file names.

use std::collections::BTreeSet;

use crate::config::ModelKey;

/// The longest key [`ModelKey::parse`] accepts.
const MAX_KEY_LEN: usize = 64;

/// Words that name the marketplace edition rather than the model; dropped when they are the
/// whole of a trailing parenthesis, as in `Claude 3.5 Sonnet (Amazon Bedrock Edition)`.
fn is_edition(parenthesis: &str) -> bool {
    let p = parenthesis.to_ascii_lowercase();
    p.contains("bedrock") || p.contains("edition") || p.contains("marketplace")
}

/// The key a product name reads as: lowercase, every run of other characters one `-`, an
/// edition parenthesis dropped. `Claude 3.5 Sonnet (Amazon Bedrock Edition)` → `claude-3-5-sonnet`.
/// `None` when nothing usable is left (a name of only punctuation or non-ASCII letters).
pub fn key_from_product_name(product_name: &str) -> Option<ModelKey> {
    let mut name = product_name.trim();
    while let Some(open) = name.rfind('(') {
        let inner = name[open + 1..].trim_end_matches(')');
        if name.ends_with(')') && is_edition(inner) {
            name = name[..open].trim_end();
        } else {
            break;
        }
    }
    let mut key = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            key.push(c.to_ascii_lowercase());
        } else if !key.is_empty() && !key.ends_with('-') {
            key.push('-');
        }
    }
    let mut key = key.trim_end_matches('-').to_owned();
    if key.len() > MAX_KEY_LEN {
        key.truncate(MAX_KEY_LEN);
        key = key.trim_end_matches('-').to_owned();
    }
    ModelKey::parse(&key)
}

/// `base`, or `base-2`, `base-3`, ... : the first that is not in `taken`. Inserts the result.
pub fn unique_key(base: &ModelKey, taken: &mut BTreeSet<ModelKey>) -> ModelKey {
    if taken.insert(base.clone()) {
        return base.clone();
    }
    for n in 2.. {
        let suffix = format!("-{n}");
        let mut stem = base.as_str().to_owned();
        stem.truncate(MAX_KEY_LEN - suffix.len());
        let stem = stem.trim_end_matches('-');
        if let Some(key) = ModelKey::parse(&format!("{stem}{suffix}"))
            && taken.insert(key.clone())
        {
            return key;
        }
    }
    unreachable!("some numbered key is always free")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(product: &str, expect: Option<&str>) {
        let got = key_from_product_name(product);
        assert_eq!(
            got.as_ref().map(ModelKey::as_str),
            expect,
            "product name {product:?}"
        );
    }

    #[test]
    fn keys_read_like_the_product() {
        check(
            "Claude 3.5 Sonnet (Amazon Bedrock Edition)",
            Some("claude-3-5-sonnet"),
        );
        check("Command R+ (Amazon Bedrock Edition)", Some("command-r"));
        check(
            "Jamba 1.5 Large (Amazon Bedrock Edition)",
            Some("jamba-1-5-large"),
        );
        check(
            "Stable Diffusion XL 1.0 (Amazon Bedrock Edition)",
            Some("stable-diffusion-xl-1-0"),
        );
        check("Llama 3 (70B) (Bedrock Edition)", Some("llama-3-70b"));
        check("  --Weird__Name!!  ", Some("weird-name"));
        check("(Amazon Bedrock Edition)", None);
        check("模型", None);
        check("", None);
        let long = "a".repeat(40) + " " + &"b".repeat(40);
        let key = key_from_product_name(&long).unwrap();
        assert_eq!(key.as_str().len(), 64);
        assert!(!key.as_str().ends_with('-'));
    }

    #[test]
    fn unique_keys_get_a_number() {
        let mut taken = BTreeSet::new();
        let base = ModelKey::parse("claude").unwrap();
        let got: Vec<String> = (0..3)
            .map(|_| unique_key(&base, &mut taken).to_string())
            .collect();
        assert_eq!(got, ["claude", "claude-2", "claude-3"]);
        let long = ModelKey::parse(&"x".repeat(64)).unwrap();
        let mut taken = BTreeSet::from([long.clone()]);
        let second = unique_key(&long, &mut taken);
        assert_eq!(second.as_str().len(), 64);
        assert!(second.as_str().ends_with("-2"));
    }
}
