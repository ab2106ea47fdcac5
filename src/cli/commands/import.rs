//! `import`: write a desired-state file that matches live grants; with `--adopt`, rename the
//! foreign grants the file claims so that they become managed.

use sha2::{Digest, Sha256};

use crate::audit::{self, Adoption, ImportOptions};
use crate::aws::{GrantChange, LicenseManagerApi};
use crate::cli::args::ImportArgs;
use crate::cli::{CliError, Context, Outcome};
use crate::live::{self, LicenseScope};

pub async fn run(ctx: &Context, args: &ImportArgs) -> Result<Outcome, CliError> {
    let session = ctx.connect(&args.home_region).await?;
    let mut live = live::read(&session.lm, &session.orgs, &LicenseScope::All, None).await?;
    live.read_at = crate::cli::context::now_secs();
    let opts = ImportOptions {
        prefix: args.grant_name_prefix.clone(),
        include_unmanaged: args.include_unmanaged || args.adopt,
        adopt: args.adopt,
    };
    let imported = audit::import(&live, &opts);
    tracing::debug!(
        models = imported.config.models.len(),
        adoptions = imported.adoptions.len(),
        warnings = imported.warnings.len(),
        "live grants imported"
    );
    for w in &imported.warnings {
        eprintln!("warning: {w}");
    }
    let yaml = crate::config::to_yaml(&imported.config);
    match &args.out {
        Some(path) => {
            super::write_private(path, yaml.as_bytes())?;
            eprintln!(
                "wrote {} ({} model(s)); check it with: bedrock-entitlements plan -c {}",
                path.display(),
                imported.config.models.len(),
                path.display()
            );
        }
        None => print!("{yaml}"),
    }
    if !args.adopt {
        if !imported.adoptions.is_empty() {
            eprintln!(
                "{} foreign grant(s) in the file stay unmanaged; import --adopt renames them so the tool manages them",
                imported.adoptions.len()
            );
        }
        return Ok(Outcome::Success);
    }
    adopt(&session, &imported.adoptions, args.auto_approve).await
}

/// Shows the renames, asks (unless `auto_approve`), then renames each grant.
async fn adopt(
    session: &crate::cli::Session,
    adoptions: &[Adoption],
    auto_approve: bool,
) -> Result<Outcome, CliError> {
    if adoptions.is_empty() {
        eprintln!("--adopt: no foreign grant to rename");
        return Ok(Outcome::Success);
    }
    eprintln!(
        "--adopt renames {} foreign grant(s) so that bedrock-entitlements manages them (CreateGrantVersion with a new name):",
        adoptions.len()
    );
    for a in adoptions {
        eprintln!(
            "  ~ {}  model {}  {} {}: {:?} -> {:?}",
            a.grant_arn.grant_id(),
            a.model,
            a.principal.kind(),
            a.principal.short_id(),
            crate::render::common::clean(&a.old_name),
            a.new_name
        );
    }
    if !auto_approve {
        super::confirm(
            "Rename them?",
            "--adopt renames grants and needs a confirmation, but stdin is not a terminal; \
             pass --auto-approve to rename without asking",
            "adoption cancelled; nothing renamed",
        )?;
    }
    let mut failed = 0usize;
    for a in adoptions {
        let change = GrantChange {
            client_token: adopt_token(a),
            source_version: Some(a.version.clone()),
            name: Some(a.new_name.clone()),
            ..GrantChange::default()
        };
        match session.lm.create_grant_version(&a.grant_arn, &change).await {
            Ok(r) => eprintln!(
                "renamed {} to {:?} (version {})",
                a.grant_arn.grant_id(),
                a.new_name,
                r.version
            ),
            Err(e) => {
                failed += 1;
                eprintln!("error: cannot rename {}: {e}", a.grant_arn);
            }
        }
    }
    if failed > 0 {
        return Err(CliError::Reported(format!(
            "{failed} of {} grant(s) not renamed; run import --adopt again to retry",
            adoptions.len()
        )));
    }
    Ok(Outcome::Success)
}

/// The same rename of the same grant version always sends the same token, so a retry after a
/// lost response does not make a second version.
fn adopt_token(a: &Adoption) -> String {
    let seed = format!("adopt\n{}\n{}\n{}", a.grant_arn, a.version, a.new_name);
    format!("be-adopt-{}", hex::encode(Sha256::digest(seed.as_bytes())))
}
