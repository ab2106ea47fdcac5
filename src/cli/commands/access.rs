//! `access`: who can use which model, through which grant, and why (not).

use crate::audit::{self, AccessView as _};
use crate::cli::args::{AccessArgs, AccessFormat};
use crate::cli::{CliError, Context, Outcome};
use crate::config::{AccountRef, Settings};
use crate::live::{self, LicenseScope};
use crate::model::{AccountId, Organization};
use crate::render;
use crate::render::access::AccessOptions;

pub async fn run(ctx: &Context, args: &AccessArgs) -> Result<Outcome, CliError> {
    // Without a file the matrix still shows live access; with one it also says what the file wants.
    let config = if ctx.global.config.exists() {
        Some(ctx.load_config()?)
    } else {
        tracing::info!(path = %ctx.config_display(), "no desired-state file: showing live access only");
        None
    };
    let settings = config
        .as_ref()
        .map_or_else(Settings::default, |c| c.settings.clone());
    let session = ctx.connect(&settings.home_region).await?;
    // The same reads as `plan`: the caller from STS, every received license's grants and the
    // shares of their organization and OU grants; the file is resolved as soon as the
    // organization and the licenses are known.
    let (mut live, desired) = live::read_then(
        &session.lm,
        &session.orgs,
        &LicenseScope::All,
        crate::cli::context::guardrail_prefix(&settings),
        |live| match &config {
            Some(c) => ctx.resolve(c, live, None).map(Some),
            None => Ok(None),
        },
    )
    .await?;
    live.read_at = crate::cli::context::now_secs();
    let desired = desired?;
    // Rows are made as they are read: CSV and JSON hold one at a time (issue 14: 10,000
    // accounts x 30 models); all but the Markdown (a page for a ticket) go to stdout as written.
    let mut access = audit::Access::new(&live, desired.as_ref(), &settings.grant_name_prefix);
    tracing::debug!(
        accounts = access.row_count(),
        models = access.models().len(),
        "access matrix read"
    );
    if let Some(key) = &args.model {
        if !access.models().iter().any(|m| m.key.as_str() == key) {
            let keys: Vec<&str> = access.models().iter().map(|m| m.key.as_str()).collect();
            return Err(CliError::Usage(format!(
                "--model {key}: no model or granted license has this key (keys: {})",
                if keys.is_empty() {
                    "none".to_owned()
                } else {
                    keys.join(", ")
                }
            )));
        }
        access.only_model(key);
    }
    let explain = match &args.account {
        Some(a) => {
            let id = find_account(&live.organization, a)?;
            access.only_account(&id);
            true
        }
        None => false,
    };
    let opts = AccessOptions { explain };
    match args.format {
        AccessFormat::Csv => stream(|out| render::access::write_csv(&access, out)),
        AccessFormat::Json => stream(|out| render::access::write_json(&access, out)),
        // These views need every row at once (widths, groups by OU, counts): the rows are held.
        AccessFormat::Text => {
            let matrix = access.into_matrix();
            stream(|out| render::access::write_text(&matrix, opts, out))
        }
        AccessFormat::Html => {
            let matrix = access.into_matrix();
            stream(|out| render::html::write_html(&matrix, out))
        }
        AccessFormat::Markdown => {
            print!("{}", render::access::markdown(&access.into_matrix(), opts));
            Ok(Outcome::Success)
        }
    }
}

/// Writes a large output to stdout as it is produced, through one buffer.
fn stream(
    write: impl FnOnce(&mut std::io::BufWriter<std::io::StdoutLock<'static>>) -> std::io::Result<()>,
) -> Result<Outcome, CliError> {
    use std::io::Write as _;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    write(&mut out)
        .and_then(|()| out.flush())
        .map_err(|source| CliError::Io {
            path: "stdout".to_owned(),
            source,
        })?;
    Ok(Outcome::Success)
}

/// `--account`: a 12-digit id of the organization, or an account name that names exactly one
/// ([`crate::org::find_account`]).
fn find_account(org: &Organization, text: &str) -> Result<AccountId, CliError> {
    let reference = match text.parse::<AccountId>() {
        Ok(id) => AccountRef::Id(id),
        Err(_) => AccountRef::Name(text.to_owned()),
    };
    crate::org::find_account(org, &reference).map_err(|source| CliError::Account {
        given: text.to_owned(),
        source,
    })
}
