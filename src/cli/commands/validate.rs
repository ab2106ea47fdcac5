//! `validate`: parse and check the desired-state file, no AWS.

use crate::cli::{CliError, Context, Outcome};

pub fn run(ctx: &Context) -> Result<Outcome, CliError> {
    let config = ctx.load_config()?;
    let targets: usize = config
        .models
        .iter()
        .map(|m| {
            usize::from(m.grant_to.organization.is_some())
                + m.grant_to.organizational_units.len()
                + m.grant_to.accounts.len()
        })
        .sum();
    println!(
        "{}: valid ({} models, {} targets)",
        ctx.config_display(),
        config.models.len(),
        targets
    );
    Ok(Outcome::Success)
}
