//! Builds the application from a [`Config`] and runs it.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::{NormalizePath, TrailingSlash};
use actix_web::{App, HttpServer, web};
use secrecy::ExposeSecret;

use crate::auth::{Authenticator, SharedSecret, secret};
use crate::bootstrap::{self, FirstStart};
use crate::config::Config;
use crate::console;
use crate::http;
use crate::http::auth::TrustedProxies;
use crate::http::extract;
use crate::http::metrics::{METRICS_PATH, MetricsAccess, ScrapeSources};
use crate::http::shutdown::Stopping;
use crate::service::activity::{ActivityLog, ActivityWorkers};
use crate::service::backups::{self, ScheduleGuard};
use crate::service::events::retention::{self, RetentionGuard};
use crate::service::people::SignInThrottle;
use crate::service::push;
use crate::service::resources::ShownCache;
use crate::store::activity::open_log;
use crate::store::backup::ServeLock;
use crate::store::freshness::Freshness;
use crate::store::{BackendKind, OpenOptions, Store, migrate};
use crate::tls::{self, Certificates};

/// Sent with every answer over HTTPS: a year, the usual value; no `includeSubDomains`, since
/// scimd's host name says nothing about its siblings.
const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000";

/// A bound, ready-to-run server.
pub struct Application {
    server: Server,
    address: SocketAddr,
    base_url: String,
    store: Store,
    first_start: Option<FirstStart>,
    certificates: Option<Arc<Certificates>>,
    /// Held while serving: `scimd restore` refuses while any server holds it.
    _serve_lock: Option<ServeLock>,
    _backups: Option<ScheduleGuard>,
    _push: push::PushGuard,
    /// `--metrics-bind`'s server and where it listens.
    metrics: Option<(Server, SocketAddr)>,
    _event_retention: RetentionGuard,
    _activity: ActivityWorkers,
    /// Told when a stop begins, so that long polls answer instead of holding it up.
    stopping: Stopping,
}

impl Application {
    /// Opens and migrates the database, performs the first start where due, and binds the
    /// listener. Every failure comes back as one readable error.
    pub fn build(config: Config) -> anyhow::Result<Application> {
        check_shared_secrets(&config)?;
        anyhow::ensure!(
            !config
                .metrics_token
                .as_ref()
                .is_some_and(|token| token.expose_secret().trim().is_empty()),
            "--metrics-token is empty: give it a long random value (openssl rand -hex 32)"
        );
        // A certificate that does not read is refused before anything is opened or bound.
        let certificates = config.tls.as_ref().map(Certificates::load).transpose()?;
        // Before the database is touched: a port in use must not leave behind a database, an
        // organization and a first-start token that nobody was shown.
        let listener = TcpListener::bind(&config.bind).map_err(|error| {
            anyhow::anyhow!(
                "cannot listen on {}: {error}; choose another address with --bind or SCIMD_BIND",
                config.bind
            )
        })?;
        let metrics_listener = config
            .metrics_bind
            .as_ref()
            .map(|bind| {
                TcpListener::bind(bind).map_err(|error| {
                    anyhow::anyhow!(
                        "cannot listen on {bind}: {error}; choose another address with \
                         --metrics-bind or SCIMD_METRICS_BIND"
                    )
                })
            })
            .transpose()?;
        let options = OpenOptions {
            connect_timeout: config.connect_timeout,
            keep_idle: true,
            ..OpenOptions::new(config.pool_size)
        };
        let store = Store::open_with(&config.database_url, &options)?
            .with_max_write(config.max_write)
            .with_password_limits(config.password_hashing);
        // After the open, which says best what is wrong with a path; before any write.
        let serve_lock = config
            .database_url
            .sqlite_path()
            .map(ServeLock::shared)
            .transpose()?;
        // Before the first start writes anything: a schedule that cannot work is refused first.
        let backups = config
            .backups
            .clone()
            .map(|schedule| backups::start(&store, schedule))
            .transpose()?;
        let applied = migrate::run_pending(&store)?;
        if !applied.is_empty() {
            log::info!("applied migrations {}", applied.join(", "));
        }
        // Before any background thread (push, the activity log) could start it at its priority.
        store.start_writer()?;
        let first_start = bootstrap::first_start(&store)?;
        let event_retention = retention::start(&store, config.events.retention)?;
        let shared_secret = match &config.auth_secret {
            Some(secret) => {
                let org_id = bootstrap::ensure_org(&store, &config.auth_secret_org)?;
                let shared = SharedSecret::new(secret, org_id);
                Some(match &config.auth_secret_previous {
                    Some(previous) => shared.with_previous(previous),
                    None => shared,
                })
            }
            None => None,
        };

        let address = listener.local_addr()?;
        let scheme = if certificates.is_some() {
            "https"
        } else {
            "http"
        };
        let base_url = format!("{scheme}://{}", display_host(address));

        let push = push::start(
            &store,
            &base_url,
            config.push.clone(),
            config.token_notice_scan_every,
        )?;

        let freshness = Freshness::open(&config.database_url, &store).map(Arc::new);
        if freshness.is_none() && store.backend() == BackendKind::Sqlite {
            log::warn!(
                "cannot read SQLite's commit counter beside {}; every request will look its \
                 token up in the database",
                config.database_url
            );
        }
        let authenticator = web::Data::new(
            Authenticator::new(store.clone(), shared_secret)
                .with_freshness(freshness.clone())
                .with_default_rate_limit(config.rate_limit_per_minute),
        );
        // A few readers (the console, the API); its writer has a connection of its own.
        let log_store = open_log(
            &store,
            &config.database_url,
            &OpenOptions {
                max_connections: 4,
                ..options
            },
        )?;
        let (activity_log, activity_workers) =
            ActivityLog::start(&store, &log_store, &config.activity)?;
        let activity_log = web::Data::new(activity_log);
        let leak_intake = web::Data::new(http::api::credentials::IntakeLimiter::default());
        let app_store = web::Data::new(store.clone());
        let read_cache = web::Data::new(ShownCache::new(freshness, config.read_cache_bytes));
        let limits = web::Data::new(config.limits);
        let trusted_proxies = web::Data::new(TrustedProxies(config.trusted_proxies.clone()));
        let sign_in_throttle = web::Data::new(SignInThrottle::default());
        let scrape_sources = web::Data::new(ScrapeSources {
            store: store.clone(),
            wal: config.database_url.sqlite_path().map(|path| {
                let mut wal = path.as_os_str().to_owned();
                wal.push("-wal");
                std::path::PathBuf::from(wal)
            }),
        });
        let metrics_access = config
            .metrics_token
            .as_ref()
            .map(|token| web::Data::new(MetricsAccess::token(token)));
        let event_settings = web::Data::new(config.events);
        let push_destinations = web::Data::new(config.push.destinations.clone());
        let stopping = Stopping::default();
        let stopping_data = web::Data::new(stopping.clone());
        let json_config = extract::json_config(&config.limits);
        let config_limits = config.limits;
        let https = certificates.is_some();
        let main_scrape_sources = scrape_sources.clone();
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(actix_web::middleware::from_fn(
                    http::middleware::token_notices,
                ))
                .wrap(NormalizePath::new(TrailingSlash::Trim))
                .wrap(http::response::scim_error_pages())
                .wrap(actix_web::middleware::from_fn(
                    http::middleware::negotiated_content_type,
                ))
                .wrap(actix_web::middleware::Condition::new(
                    https,
                    actix_web::middleware::DefaultHeaders::new()
                        .add(("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)),
                ))
                .wrap(actix_web::middleware::from_fn(http::observe::observe))
                .app_data(authenticator.clone())
                .app_data(app_store.clone())
                .app_data(read_cache.clone())
                .app_data(limits.clone())
                .app_data(trusted_proxies.clone())
                .app_data(leak_intake.clone())
                .app_data(activity_log.clone())
                .app_data(json_config.clone())
                .app_data(extract::query_config())
                .app_data(extract::path_config())
                .app_data(sign_in_throttle.clone())
                .configure(|cfg| {
                    if let Some(access) = &metrics_access {
                        cfg.app_data(access.clone())
                            .app_data(main_scrape_sources.clone())
                            .route(METRICS_PATH, web::get().to(http::metrics::metrics));
                    }
                })
                .app_data(event_settings.clone())
                .app_data(push_destinations.clone())
                .app_data(stopping_data.clone())
                .route("/", web::get().to(console::root))
                .service(console::scope())
                .configure(|cfg| http::routes(cfg, &config_limits))
        })
        .disable_signals();
        server = match &certificates {
            Some(certificates) => {
                certificates.watch(tls::WATCH_INTERVAL);
                server.listen_rustls_0_23(listener, certificates.server_config()?)?
            }
            None => server.listen(listener)?,
        };
        if let Some(workers) = config.workers {
            server = server.workers(workers);
        }
        let metrics = metrics_listener
            .map(|listener| metrics_server(listener, scrape_sources))
            .transpose()?;
        Ok(Application {
            server: server.run(),
            address,
            base_url,
            store,
            first_start,
            certificates,
            _serve_lock: serve_lock,
            _backups: backups,
            _push: push,
            metrics,
            _event_retention: event_retention,
            _activity: activity_workers,
            stopping,
        })
    }

    /// Where `--metrics-bind`'s listener listens, if it is on.
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|(_, address)| *address)
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// `http://HOST:PORT` (`https://` with TLS on) as a client on this machine reaches the server.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The organization and token created by this start, if it was the first.
    pub fn first_start(&self) -> Option<&FirstStart> {
        self.first_start.as_ref()
    }

    /// Serves until SIGINT or SIGTERM, then lets in-flight requests finish; a second signal
    /// exits at once.
    ///
    /// actix stops gracefully on SIGTERM only: its SIGINT (Ctrl-C) is a forced stop that cut
    /// a 300-operation Bulk request off mid-way, after it had committed 43 users. So the server
    /// is built with its own signal handling off, and both signals ask for a graceful stop
    /// here. A second signal cannot ask actix for a forced stop, since actix handles no
    /// command while it waits for a graceful one; exiting is what it would amount to anyway,
    /// and the database rolls back whatever transaction was open.
    ///
    /// With the certificate from files, SIGHUP re-reads them; otherwise SIGHUP keeps its
    /// default meaning (stop), as before.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        use actix_web::rt::signal::unix::{SignalKind, signal};
        // Installed before serving, so no signal arrives while none is listening.
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        let reloadable = self.certificates.filter(|c| c.from_files());
        let mut hangup = match &reloadable {
            Some(_) => Some(signal(SignalKind::hangup())?),
            None => None,
        };
        let handle = self.server.handle();
        let stopping_signal = self.stopping.clone();
        let mut server = std::pin::pin!(self.server);
        let (metrics_handle, metrics_server) = match self.metrics {
            Some((server, _)) => (Some(server.handle()), Some(server)),
            None => (None, None),
        };
        let mut metrics_server = std::pin::pin!(metrics_server);
        let mut stopping = false;
        let result = std::future::poll_fn(|cx| {
            loop {
                if let Some((hangup, certificates)) = hangup.as_mut().zip(reloadable.as_ref())
                    && hangup.poll_recv(cx).is_ready()
                {
                    log::info!("SIGHUP received: re-reading the certificate files");
                    certificates.reload();
                    continue;
                }
                let name = if interrupt.poll_recv(cx).is_ready() {
                    "SIGINT"
                } else if terminate.poll_recv(cx).is_ready() {
                    "SIGTERM"
                } else {
                    break;
                };
                if stopping {
                    log::warn!("{name} received again: stopping without waiting for requests");
                    crate::logging::flush();
                    std::process::exit(1);
                }
                stopping = true;
                stopping_signal.begin();
                log::info!(
                    "{name} received: finishing the requests in flight, then stopping (send \
                     it again to stop at once)"
                );
                // The command is sent at once; the server future below reports completion.
                drop(handle.stop(true));
            }
            if let Some(metrics_server) = metrics_server.as_mut().as_pin_mut() {
                // It stops with the main server, below; it ends on its own only on failure.
                if let std::task::Poll::Ready(Err(error)) = metrics_server.poll(cx) {
                    log::error!("the metrics listener stopped: {error}");
                }
            }
            server.as_mut().poll(cx)
        })
        .await;
        if let (Some(handle), Some(metrics_server)) = (metrics_handle, metrics_server.as_pin_mut())
        {
            // The command is sent at once; the server acts on it only while polled.
            drop(handle.stop(true));
            if let Err(error) = metrics_server.await {
                log::error!("the metrics listener stopped: {error}");
            }
        }
        result
    }
}

/// Refuses short shared secrets, before anything is opened, unless the operator accepted them.
fn check_shared_secrets(config: &Config) -> anyhow::Result<()> {
    let configured = [
        ("AUTH_SECRET", &config.auth_secret),
        ("AUTH_SECRET_PREVIOUS", &config.auth_secret_previous),
    ];
    for (name, value) in configured {
        if !value.as_ref().is_some_and(secret::is_weak) {
            continue;
        }
        let min = secret::MIN_LEN;
        anyhow::ensure!(
            config.allow_weak_auth_secret,
            "{name} is shorter than {min} characters: use a long random secret \
             (openssl rand -hex 32), or accept this one with --allow-weak-auth-secret"
        );
        log::warn!(
            "{name} is shorter than {min} characters (accepted by --allow-weak-auth-secret); \
             use a long random secret"
        );
    }
    Ok(())
}

/// `--metrics-bind`'s server: `/metrics` alone, without a token, on one worker.
fn metrics_server(
    listener: TcpListener,
    sources: web::Data<ScrapeSources>,
) -> anyhow::Result<(Server, SocketAddr)> {
    let address = listener.local_addr()?;
    let access = web::Data::new(MetricsAccess::open());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(access.clone())
            .app_data(sources.clone())
            .route(METRICS_PATH, web::get().to(http::metrics::metrics))
    })
    .disable_signals()
    .workers(1)
    .listen(listener)?
    .run();
    log::info!("metrics: http://{}{METRICS_PATH}", display_host(address));
    Ok((server, address))
}

/// A wildcard bind address is not something a client can connect to.
fn display_host(address: SocketAddr) -> String {
    match address {
        SocketAddr::V4(v4) if v4.ip().is_unspecified() => format!("127.0.0.1:{}", v4.port()),
        SocketAddr::V6(v6) if v6.ip().is_unspecified() => format!("[::1]:{}", v6.port()),
        other => other.to_string(),
    }
}
