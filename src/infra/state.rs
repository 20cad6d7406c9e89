//! What requests need from the configuration, built and checked once at boot:
//! a missing or invalid piece fails the start, never a request. Handlers take
//! it as `Extension<Arc<AppState>>`; tasks and workers, which run outside the
//! router, read it from the context.

use std::{path::Path, sync::Arc};

use loco_rs::app::AppContext;
use tokio::sync::RwLock;
use webauthn_rs::prelude::Webauthn;

use crate::{
    infra::{
        health::WriteCheck,
        i18n::Translations,
        identity::Identity,
        metrics::{COMMIT, Metrics},
        rate_limit::RateLimiter,
        settings::{MetricsExposure, Settings},
        trusted_proxies::TrustedProxies,
    },
    models::{
        mails::Outbox, one_time_passwords::CodePolicy, tokens::TokenSigner,
        two_factor::TwoFactorKeys,
    },
};

/// Where the translation files live, relative to the working directory.
pub const TRANSLATIONS_DIR: &str = "assets/i18n";

pub struct AppState {
    pub settings: Settings,
    pub signer: TokenSigner,
    pub code_policy: CodePolicy,
    pub two_factor: TwoFactorKeys,
    pub translations: Translations,
    pub limiter: RateLimiter,
    pub trusted_proxies: TrustedProxies,
    /// The WebAuthn relying party, when passkeys are on.
    pub relying_party: Option<Webauthn>,
    pub identity: Identity,
    /// Each mail delivery holds a read lock; a shutdown takes the write lock,
    /// so it waits for the deliveries under way (later ones are made at the
    /// next start).
    pub mail_in_flight: RwLock<()>,
    pub metrics: Metrics,
    /// Where `/metrics` is served, if anywhere.
    pub metrics_exposure: MetricsExposure,
    /// The readiness probe's last write to the file store.
    pub store_writes: WriteCheck,
}

impl AppState {
    /// What delivering mail takes, from `ctx`'s mailer and these settings.
    ///
    /// # Errors
    /// When no mailer is configured.
    pub fn outbox<'a>(&'a self, ctx: &'a AppContext) -> loco_rs::Result<Outbox<'a>> {
        let sender = ctx.mailer.as_ref().ok_or_else(|| {
            loco_rs::Error::string("no mailer configured (mailer.smtp in config)")
        })?;
        Ok(Outbox {
            sender,
            from: self.settings.from_mailbox(),
            in_flight: &self.mail_in_flight,
        })
    }

    /// Reads and checks the settings of a freshly built context, and builds
    /// what depends on them.
    ///
    /// # Errors
    /// When the settings are missing or invalid, the translations cannot be
    /// read, or the rate limiter's store cannot be reached.
    pub async fn build(ctx: &AppContext) -> loco_rs::Result<Self> {
        let boot_error = |error: &dyn std::fmt::Display| loco_rs::Error::string(&error.to_string());
        let settings =
            Settings::load(&ctx.config, &ctx.environment).map_err(|error| boot_error(&error))?;
        let code_policy = settings
            .code_policy(&ctx.environment)
            .map_err(|error| boot_error(&error))?;
        settings
            .first_superuser()
            .map_err(|error| boot_error(&error))?;
        let translations =
            Translations::load(Path::new(TRANSLATIONS_DIR)).map_err(|error| boot_error(&error))?;
        let trusted_proxies =
            TrustedProxies::parse(&settings.trusted_proxies).map_err(|error| boot_error(&error))?;
        let relying_party = settings
            .relying_party(&ctx.environment)
            .map_err(|error| boot_error(&error))?;
        let identity = Identity::build(&settings).map_err(|error| boot_error(&error))?;
        let limiter = RateLimiter::build(settings.rate_limits, settings.redis_url())
            .await
            .map_err(|error| boot_error(&error))?;
        let metrics_exposure = settings
            .metrics
            .exposure()
            .map_err(|error| boot_error(&error))?;
        let build = (env!("CARGO_PKG_VERSION"), COMMIT);
        let metrics = Metrics::new(build, limiter.refusals());
        Ok(Self {
            signer: settings.token_signer(),
            two_factor: settings.two_factor_keys(),
            code_policy,
            translations,
            limiter,
            trusted_proxies,
            relying_party,
            identity,
            mail_in_flight: RwLock::new(()),
            metrics,
            metrics_exposure,
            store_writes: WriteCheck::default(),
            settings,
        })
    }

    /// The state built at boot, for code that runs outside a request.
    ///
    /// # Errors
    /// When the context did not go through the app's boot.
    pub fn from_context(ctx: &AppContext) -> loco_rs::Result<Arc<Self>> {
        ctx.shared_store
            .get::<Arc<Self>>()
            .ok_or_else(|| loco_rs::Error::string("the app state was not built at boot"))
    }
}
