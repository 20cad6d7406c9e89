//! Creates the first admin (`FIRST_SUPERUSER` / `FIRST_SUPERUSER_PASSWORD`) at
//! start when no user has that email, so a fresh install can be signed into.

use async_trait::async_trait;
use loco_rs::{
    Result,
    app::{AppContext, Initializer},
    environment::Environment,
};

use crate::{models::users, settings::Settings};

pub struct FirstSuperuser;

#[async_trait]
impl Initializer for FirstSuperuser {
    fn name(&self) -> String {
        "first-superuser".to_string()
    }

    async fn before_run(&self, ctx: &AppContext) -> Result<()> {
        let settings = Settings::from_context(ctx)
            .map_err(|error| loco_rs::Error::string(&error.to_string()))?;
        if settings.first_superuser.trim().is_empty() {
            return Ok(());
        }
        if settings.first_superuser_password.is_empty() {
            tracing::warn!(
                "FIRST_SUPERUSER is set without FIRST_SUPERUSER_PASSWORD: no admin created"
            );
            return Ok(());
        }
        let created = users::Model::ensure_superuser(
            &ctx.db,
            &settings.first_superuser,
            &settings.first_superuser_password,
        )
        .await?;
        if let Some(admin) = created {
            tracing::info!(email = %admin.email, "first admin created");
        }
        // Development's defaults are public; saying them saves a trip to the README.
        if ctx.environment == Environment::Development {
            println!(
                "Development admin: {} / {}",
                settings.first_superuser, settings.first_superuser_password
            );
        }
        Ok(())
    }
}
