//! `settings.allowed_sellers` applied to license selection, and models that are subscribed
//! from the file but have no license yet.

use crate::config::{ModelKey, Settings};
use crate::model::{Diagnostic, License, Span};

/// A model with a `subscribe` section and no received license yet: a warning, not an error
/// (the plan's subscription makes the license appear; its grants are planned once it has).
pub(super) fn not_subscribed_yet(
    key: &ModelKey,
    span: Span,
    what: &str,
    diags: &mut Vec<Diagnostic>,
) {
    diags.push(
        Diagnostic::warning(
            span,
            format!(
                "model {key}: no received license has {what} yet; its grants are planned once the subscription's license appears"
            ),
        )
        .with_hint("apply subscribes first and then grants in the same run (or the next run does)"),
    );
}

/// The matching licenses whose issuer is an allowed seller. A license from anyone else is
/// never selected: when that leaves none, an error names each refused license, its issuer
/// and the list; when others remain, a warning names the refused ones.
pub(super) fn allowed_only<'a>(
    key: &ModelKey,
    span: Span,
    matches: Vec<&'a License>,
    settings: &Settings,
    diags: &mut Vec<Diagnostic>,
) -> Option<Vec<&'a License>> {
    let Some(list) = &settings.allowed_sellers else {
        return Some(matches);
    };
    let (allowed, refused): (Vec<&License>, Vec<&License>) = matches
        .into_iter()
        .partition(|l| settings.seller_allowed(&l.issuer));
    if refused.is_empty() {
        return Some(allowed);
    }
    let names: Vec<&str> = list.iter().map(|s| s.value.as_str()).collect();
    let which: Vec<String> = refused
        .iter()
        .map(|l| format!("{} (issuer {:?})", l.arn, l.issuer))
        .collect();
    let message = format!(
        "model {key}: license {} is not from an allowed seller: settings.allowed_sellers is {}",
        which.join(", "),
        names.join(", ")
    );
    if allowed.is_empty() {
        diags.push(Diagnostic::error(span, message).with_hint(
            "the tool never grants a license from a seller outside settings.allowed_sellers; add the issuer to the list if it is trusted",
        ));
        return None;
    }
    diags.push(Diagnostic::warning(
        span,
        format!("{message}; it is not considered"),
    ));
    Some(allowed)
}
