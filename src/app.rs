use std::{net::SocketAddr, path::Path, sync::Arc, time::Duration};

use async_trait::async_trait;
use axum::{
    Extension, Router as AxumRouter,
    middleware::{from_fn, from_fn_with_state},
};
use loco_rs::{
    Result,
    app::{AppContext, Hooks, Initializer},
    bgworker::{BackgroundWorker, Queue},
    boot::{BootResult, ServeParams, StartMode, create_app, shutdown_signal},
    config::Config,
    controller::{
        AppRoutes,
        middleware::{self, MiddlewareLayer},
    },
    db::truncate_table,
    environment::Environment,
    task::Tasks,
};
use migration::{Migrator, MigratorTrait};
use tokio::net::TcpListener;
use tower::ServiceBuilder;

use crate::{
    controllers,
    infra::{
        db_pool,
        metrics::COMMIT,
        settings::{MetricsExposure, allows_conveniences},
        state::AppState,
        telemetry,
    },
    initializers,
    mailers::delivery::MailDeliveryWorker,
    middleware::{
        fallback, language,
        security_headers::{self, SecurityHeaders},
        stack,
    },
    models::_entities::prelude::*,
    tasks,
    workers::{
        account_deletion::AccountDeletionWorker, data_export::DataExportWorker,
        password_recovery::PasswordRecoveryWorker,
    },
};

pub struct App;

/// The state the handlers are given: the context without the configuration
/// only boot reads (middleware and scheduler settings, initializers, the
/// settings block, which `AppState` holds parsed). Each request clones it
/// once per middleware layer around its route: the full configuration made
/// that most of a small request's time (BENCHMARKS.md, "Speed against the
/// floor").
fn request_context(ctx: &AppContext) -> AppContext {
    let mut ctx = ctx.clone();
    let config = &mut ctx.config;
    config.server.middlewares = middleware::Config::default();
    config.scheduler = None;
    config.initializers = None;
    config.settings = None;
    config.auth = None;
    ctx
}

/// `mi_option_purge_delay` of the mimalloc 3 that libmimalloc-sys 0.1.49 builds
/// (the bindings do not name it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// What the process needs before any of the app runs, whichever command it
/// runs (`start`, `task`, `db`, workers). `src/bin/main.rs` calls it first and
/// the test harness calls it too, and nothing else does either: a test cannot
/// pass on a set-up that the binary lacks.
pub fn prepare_process() {
    static PREPARED: std::sync::Once = std::sync::Once::new();
    PREPARED.call_once(|| {
        // Give freed pages back at once rather than after a second, which a
        // server that goes idle never reaches (BENCHMARKS.md, "Memory"); the
        // arena commit policy is set at build time, in `.cargo/config.toml`.
        // SAFETY: writes one word of mimalloc's option table, which it reads
        // without synchronisation itself; either value is a valid delay.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
        // TLS for the HTTP clients (S3, sign-in providers) with ring, the
        // provider the database and mail clients already use: reqwest
        // panics when it builds a client and finds none installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// How long a shutdown waits for mail deliveries under way.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

#[async_trait]
impl Hooks for App {
    fn app_name() -> &'static str {
        env!("CARGO_CRATE_NAME")
    }

    fn app_version() -> String {
        format!("{} ({COMMIT})", env!("CARGO_PKG_VERSION"))
    }

    async fn boot(
        mode: StartMode,
        environment: &Environment,
        config: Config,
    ) -> Result<BootResult> {
        create_app::<Self, Migrator>(mode, environment, config).await
    }

    /// Loco's log, and beside it the traces' exporter when
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` is set (`infra::telemetry`).
    fn init_logger(ctx: &AppContext) -> Result<bool> {
        telemetry::init::<Self>(&ctx.config)
    }

    /// Reads and checks the settings once, and builds what every request needs.
    async fn after_context(mut ctx: AppContext) -> Result<AppContext> {
        // Migrated before the app's pool opens: a pooled connection that
        // predates an `ALTER TABLE` can read the altered table's rows in the
        // old shape once (sqlx keeps what its first prepare described).
        let database = &ctx.config.database;
        if database.auto_migrate && !database.dangerously_recreate {
            Migrator::up(&ctx.db, None).await?;
        }
        let mut pool = db_pool::connect(&ctx.config.database).await?;
        telemetry::trace_statements(&mut pool);
        std::mem::replace(&mut ctx.db, pool).close().await?;
        let state = AppState::build(&ctx).await?;
        ctx.storage = Arc::new(
            state
                .settings
                .files
                .store()
                .map_err(|error| loco_rs::Error::string(&error.to_string()))?,
        );
        ctx.shared_store.insert(Arc::new(state));
        Ok(ctx)
    }

    async fn initializers(_ctx: &AppContext) -> Result<Vec<Box<dyn Initializer>>> {
        Ok(vec![
            Box::new(initializers::first_superuser::FirstSuperuser),
            Box::new(initializers::mail_recovery::MailRecovery),
        ])
    }

    /// Every route carries its full path (`/api/v1/...`) in its OpenAPI
    /// annotation, which is where it is routed.
    fn routes(ctx: &AppContext) -> AppRoutes {
        let state = request_context(ctx);
        controllers::all()
            .into_iter()
            .fold(AppRoutes::empty(), |app, controller| {
                let mut routes = controller.routes;
                for handler in &mut routes.handlers {
                    handler.method = std::mem::take(&mut handler.method).with_state(state.clone());
                }
                app.add_route(routes)
            })
    }

    async fn after_routes(router: AxumRouter, ctx: &AppContext) -> Result<AxumRouter> {
        let state = AppState::from_context(ctx)?;
        let document = controllers::docs::openapi(controllers::all(), &state.settings.project_name);
        let headers = SecurityHeaders {
            hsts: !allows_conveniences(&ctx.environment),
            docs_path: controllers::docs::SWAGGER_PATH,
        };
        let mut router =
            fallback::answer_trailing_slashes(router).merge(controllers::docs::router(&document)?);
        if let MetricsExposure::Public { token } = &state.metrics_exposure {
            router = router.merge(controllers::metrics::router(
                ctx,
                state.clone(),
                Some(token.clone()),
            ));
        }
        // Composed into one service around the router, not layered on a
        // router: a router boxes each layer it is given, and every request
        // clones each box it passes through together with all it wraps.
        let answers = ServiceBuilder::new()
            .layer(Extension(state))
            .layer(from_fn_with_state(headers, security_headers::add))
            .layer(from_fn(language::translate_errors))
            .layer(from_fn(fallback::describe_bare_errors))
            .service(router);
        Ok(AxumRouter::new().fallback_service(answers))
    }

    /// Loco's serve, with a shutdown (SIGTERM, Ctrl-C) that lets what is under
    /// way finish: requests (each bounded by the request timeout), then mail
    /// deliveries, for up to `SHUTDOWN_GRACE`. With `METRICS_ADDR`, the
    /// metrics are served there too, from the start.
    async fn serve(router: AxumRouter, ctx: &AppContext, params: &ServeParams) -> Result<()> {
        let state = AppState::from_context(ctx)?;
        if let MetricsExposure::Apart { addr, token } = &state.metrics_exposure {
            let metrics = controllers::metrics::router(ctx, state.clone(), token.clone());
            let listener = TcpListener::bind(addr).await?;
            tracing::info!(%addr, "metrics served");
            tokio::spawn(async move { axum::serve(listener, metrics).await });
        }
        let listener = TcpListener::bind(format!("{}:{}", params.binding, params.port)).await?;
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await?;
        tracing::info!("shutting down: requests done, waiting for mail deliveries under way");
        if tokio::time::timeout(SHUTDOWN_GRACE, state.mail_in_flight.write())
            .await
            .is_err()
        {
            tracing::warn!("mail deliveries still under way: they resume at the next start");
        }
        Self::on_shutdown(ctx).await;
        Ok(())
    }

    /// Loco's stack less compression and `X-Powered-By`, with a request
    /// log that writes no secret (`middleware::stack`).
    fn middlewares(ctx: &AppContext) -> Vec<Box<dyn MiddlewareLayer>> {
        stack::stack(ctx)
    }

    async fn connect_workers(ctx: &AppContext, queue: &Queue) -> Result<()> {
        queue.register(MailDeliveryWorker::build(ctx)).await?;
        queue.register(PasswordRecoveryWorker::build(ctx)).await?;
        queue.register(AccountDeletionWorker::build(ctx)).await?;
        queue.register(DataExportWorker::build(ctx)).await?;
        Ok(())
    }

    fn register_tasks(tasks: &mut Tasks) {
        tasks.register(tasks::deliver_mail::DeliverMail);
        tasks.register(tasks::import_legacy::ImportLegacy);
        tasks.register(tasks::mail_failed::MailFailed);
        tasks.register(tasks::mail_preview::MailPreview);
        tasks.register(tasks::purge_expired_tokens::PurgeExpiredTokens);
        tasks.register(tasks::purge_orphan_files::PurgeOrphanFiles);
        tasks.register(tasks::purge_deleted_accounts::PurgeDeletedAccounts);
        tasks.register(tasks::send_test_email::SendTestEmail);
        tasks.register(tasks::user_archive::UserArchive);
        tasks.register(tasks::user_create::UserCreateTask);
        tasks.register(tasks::user_delete::UserDelete);
        tasks.register(tasks::user_disable_2fa::UserDisable2fa);
        tasks.register(tasks::user_passkeys::UserPasskeys);
        tasks.register(tasks::user_end_sessions::UserEndSessions);
        tasks.register(tasks::user_export::UserExport);
        tasks.register(tasks::user_unarchive::UserUnarchive);
        // tasks-inject (do not remove)
    }

    async fn truncate(ctx: &AppContext) -> Result<()> {
        truncate_table(&ctx.db, CodeBudgets).await?;
        truncate_table(&ctx.db, FileDeletions).await?;
        truncate_table(&ctx.db, Mails).await?;
        truncate_table(&ctx.db, OneTimePasswords).await?;
        truncate_table(&ctx.db, RecoveryCodes).await?;
        truncate_table(&ctx.db, RefreshTokens).await?;
        truncate_table(&ctx.db, SecurityEvents).await?;
        truncate_table(&ctx.db, Sessions).await?;
        truncate_table(&ctx.db, SingleUseTokens).await?;
        truncate_table(&ctx.db, SsoLogins).await?;
        truncate_table(&ctx.db, TaskRuns).await?;
        truncate_table(&ctx.db, Items).await?;
        truncate_table(&ctx.db, Files).await?;
        // inject-above: truncate (cargo loco generate; keep this line)
        truncate_table(&ctx.db, Users).await?;
        Ok(())
    }

    async fn seed(_ctx: &AppContext, _base: &Path) -> Result<()> {
        Ok(())
    }
}
