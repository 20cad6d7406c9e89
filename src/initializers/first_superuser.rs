//! Creates the first admin (`FIRST_SUPERUSER` / `FIRST_SUPERUSER_PASSWORD`) at
//! start when no user has that email, so a fresh install can be signed into.

use async_trait::async_trait;
use loco_rs::{
    Result,
    app::{AppContext, Initializer},
    environment::Environment,
};

use secrecy::ExposeSecret;

use crate::{infra::state::AppState, models::users};

pub struct FirstSuperuser;

#[async_trait]
impl Initializer for FirstSuperuser {
    fn name(&self) -> String {
        "first-superuser".to_string()
    }

    async fn before_run(&self, ctx: &AppContext) -> Result<()> {
        let state = AppState::from_context(ctx)?;
        let settings = &state.settings;
        let Some(email) = settings
            .first_superuser()
            .map_err(|error| loco_rs::Error::string(&error.to_string()))?
        else {
            return Ok(());
        };
        let password = settings.first_superuser_password.expose_secret();
        if password.is_empty() {
            tracing::warn!(
                "FIRST_SUPERUSER is set without FIRST_SUPERUSER_PASSWORD: no admin created"
            );
            return Ok(());
        }
        let created = users::Model::ensure_superuser(&ctx.db, &email, password).await?;
        if let Some(admin) = created {
            tracing::info!(email = %admin.email, "first admin created");
        }
        // Development's defaults are public; saying them saves a trip to the README.
        if ctx.environment == Environment::Development {
            println!("Development admin: {email} / {password}");
        }
        Ok(())
    }
}
