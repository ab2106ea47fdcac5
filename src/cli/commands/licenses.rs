//! `licenses`: the model licenses this account has received.

use crate::aws::LicenseManagerApi;
use crate::cli::args::ReportArgs;
use crate::cli::{CliError, Context, Format, Outcome};
use crate::config::Settings;
use crate::render;

pub async fn run(ctx: &Context, args: &ReportArgs) -> Result<Outcome, CliError> {
    // The file is optional here (people list licenses to write it); it only names the region.
    let (region, models) = match crate::cli::load_config(&ctx.global.config) {
        Ok((config, _)) => {
            let models: Vec<_> = config
                .models
                .iter()
                .map(|m| (m.key.value.clone(), m.license.value.clone()))
                .collect();
            (config.settings.home_region, models)
        }
        Err(e) => {
            tracing::debug!(error = %e, "no usable desired-state file; using the default home region");
            (Settings::default().home_region, Vec::new())
        }
    };
    let session = ctx.connect(&region).await?;
    let licenses = session.lm.list_received_licenses().await?;
    tracing::debug!(licenses = licenses.len(), "received licenses listed");
    let choices =
        render::licenses::product_choices(&licenses, &models, crate::cli::context::now_secs());
    let out = match args.format {
        Format::Text => render::licenses::text(&licenses, &choices),
        Format::Markdown => render::licenses::markdown(&licenses, &choices),
        Format::Json => render::licenses::json(&licenses, &choices),
    };
    print!("{out}");
    Ok(Outcome::Success)
}
