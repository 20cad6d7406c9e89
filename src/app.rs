use std::{path::Path, sync::Arc};

use async_trait::async_trait;
use axum::{Router as AxumRouter, middleware};
use loco_rs::{
    Result,
    app::{AppContext, Hooks, Initializer},
    bgworker::{BackgroundWorker, Queue},
    boot::{BootResult, StartMode, create_app},
    config::Config,
    controller::AppRoutes,
    db::truncate_table,
    environment::Environment,
    task::Tasks,
};
use migration::Migrator;

use crate::{
    controllers::{self, fallback, language, rate_limit::RateLimiter},
    i18n::Translations,
    initializers,
    models::{_entities::prelude::*, tokens::TokenSigner},
    settings::Settings,
    tasks,
    workers::mail_delivery::MailDeliveryWorker,
};

/// Where the translation files live, relative to the working directory.
pub const TRANSLATIONS_DIR: &str = "assets/i18n";

pub struct App;

#[async_trait]
impl Hooks for App {
    fn app_name() -> &'static str {
        env!("CARGO_CRATE_NAME")
    }

    fn app_version() -> String {
        format!(
            "{} ({})",
            env!("CARGO_PKG_VERSION"),
            option_env!("BUILD_SHA").unwrap_or("dev")
        )
    }

    async fn boot(
        mode: StartMode,
        environment: &Environment,
        config: Config,
    ) -> Result<BootResult> {
        create_app::<Self, Migrator>(mode, environment, config).await
    }

    /// Reads and checks the settings once, and keeps what every request needs.
    async fn after_context(mut ctx: AppContext) -> Result<AppContext> {
        let settings = Settings::load(&ctx.config, &ctx.environment)
            .map_err(|error| loco_rs::Error::string(&error.to_string()))?;
        let translations = Translations::load(Path::new(TRANSLATIONS_DIR))
            .map_err(|error| loco_rs::Error::string(&error.to_string()))?;
        let redis_url = Some(settings.redis_url.trim()).filter(|url| !url.is_empty());
        let limiter = RateLimiter::build(settings.rate_limits, redis_url)
            .await
            .map_err(|error| loco_rs::Error::string(&error))?;
        ctx.shared_store.insert(Arc::new(limiter));
        ctx.shared_store
            .insert(Arc::new(TokenSigner::new(&settings.secret_key)));
        ctx.shared_store.insert(Arc::new(translations));
        ctx.shared_store.insert(Arc::new(settings));
        // Every request clones the context (`State<AppContext>`), config
        // included: keep the settings as one string rather than a JSON tree.
        ctx.config.settings = ctx
            .config
            .settings
            .take()
            .map(|raw| serde_json::Value::String(raw.to_string()));
        Ok(ctx)
    }

    async fn initializers(_ctx: &AppContext) -> Result<Vec<Box<dyn Initializer>>> {
        Ok(vec![
            Box::new(initializers::first_superuser::FirstSuperuser),
            Box::new(initializers::mail_recovery::MailRecovery),
        ])
    }

    fn routes(_ctx: &AppContext) -> AppRoutes {
        AppRoutes::empty()
            .add_route(controllers::monitoring::routes())
            .prefix("/api/v1")
            .add_route(controllers::auth::routes())
            .add_route(controllers::otp::routes())
            .add_route(controllers::password_recovery::routes())
            .add_route(controllers::sso::routes())
            .add_route(controllers::users::routes())
            .add_route(controllers::items::routes())
            .add_route(controllers::utils::routes())
    }

    async fn after_routes(router: AxumRouter, ctx: &AppContext) -> Result<AxumRouter> {
        let router = fallback::answer_trailing_slashes(router)
            .merge(controllers::docs::router())
            .layer(middleware::from_fn(fallback::describe_bare_errors))
            .layer(middleware::from_fn_with_state(
                ctx.shared_store
                    .get::<Arc<Translations>>()
                    .unwrap_or_default(),
                language::translate_errors,
            ));
        Ok(router)
    }

    async fn connect_workers(ctx: &AppContext, queue: &Queue) -> Result<()> {
        queue.register(MailDeliveryWorker::build(ctx)).await?;
        Ok(())
    }

    fn register_tasks(tasks: &mut Tasks) {
        tasks.register(tasks::deliver_mail::DeliverMail);
        tasks.register(tasks::mail_failed::MailFailed);
        tasks.register(tasks::mail_preview::MailPreview);
        tasks.register(tasks::purge_expired_tokens::PurgeExpiredTokens);
        tasks.register(tasks::send_test_email::SendTestEmail);
        // tasks-inject (do not remove)
    }

    async fn truncate(ctx: &AppContext) -> Result<()> {
        truncate_table(&ctx.db, Mails).await?;
        truncate_table(&ctx.db, OneTimePasswords).await?;
        truncate_table(&ctx.db, RefreshTokens).await?;
        truncate_table(&ctx.db, SingleUseTokens).await?;
        truncate_table(&ctx.db, SsoLogins).await?;
        truncate_table(&ctx.db, Items).await?;
        truncate_table(&ctx.db, Users).await?;
        Ok(())
    }

    async fn seed(_ctx: &AppContext, _base: &Path) -> Result<()> {
        Ok(())
    }
}
