//! PostgreSQL's source of freshness for the token cache: a connection of its own that
//! `LISTEN`s on the channel the migration's triggers notify whenever something a token lookup
//! reads changes (tokens, their zones, network zones, organization policy), from any instance
//! or the CLI.
//!
//! The cache trusts an entry only while this connection is known to be up and to have counted
//! every notice committed up to a moment ago: it makes a round trip every [`POLL_INTERVAL`],
//! counts what arrived, and is trusted for [`TRUSTED_FOR`] after the last good one. Every
//! notice and every (re)connection makes a new version, so nothing read before it is served
//! after it; while the connection is down, [`TokenListener::current`] answers `None` and
//! every request looks its token up. This process's own commits count at once, through
//! [`super::Store::local_commits`], before their notice comes back.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;

use super::data_version::Version;
use super::{DatabaseUrl, DbConn, Store};

/// The channel the triggers of migration `2026-12-06-120004_token_notifications` notify.
const CHANNEL: &str = "scimd_tokens";
/// What the connection calls itself in `pg_stat_activity`, so an operator can find it.
pub const APPLICATION_NAME: &str = "scimd-token-listener";
/// How often the listener makes a round trip and counts the notices that came with it.
const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// How long after its last good round trip the listener is trusted. With the poll interval
/// this bounds how long another instance's change can go unseen: well under a second.
const TRUSTED_FOR: Duration = Duration::from_millis(500);
/// The longest wait between two attempts to reconnect.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Tells the token cache whether the database changed since an earlier look, on PostgreSQL.
pub struct TokenListener {
    state: Arc<ListenerState>,
    local_commits: Arc<AtomicU64>,
}

struct ListenerState {
    /// Notices and (re)connections seen: moved by each.
    notices: AtomicU64,
    /// Milliseconds after `started` of the last round trip after which every notice was
    /// counted; 0 while not listening.
    confirmed_ms: AtomicU64,
    started: Instant,
}

impl TokenListener {
    /// Starts listening on a thread of its own, which stops once the listener is dropped. The
    /// cache stays off until the first `LISTEN` went through. `None` if no thread can start.
    pub fn start(url: &DatabaseUrl, store: &Store) -> Option<TokenListener> {
        let state = Arc::new(ListenerState {
            notices: AtomicU64::new(0),
            confirmed_ms: AtomicU64::new(0),
            started: Instant::now(),
        });
        let weak = Arc::downgrade(&state);
        let url = url.clone();
        let thread = std::thread::Builder::new()
            .name(APPLICATION_NAME.to_owned())
            .spawn(move || listen(&url, &weak));
        if let Err(error) = thread {
            log::warn!(
                "cannot start listening for token changes ({error}); every request will look \
                 its token up in the database"
            );
            return None;
        }
        Some(TokenListener {
            state,
            local_commits: store.local_commits(),
        })
    }

    /// The current version, or `None` while the listener cannot vouch for one.
    pub fn current(&self) -> Option<Version> {
        let confirmed_ms = self.state.confirmed_ms.load(Ordering::Acquire);
        if confirmed_ms == 0 || self.state.millis_now().saturating_sub(confirmed_ms) > trusted_ms()
        {
            return None;
        }
        Some(Version::notified(
            self.state.notices.load(Ordering::Acquire),
            self.local_commits.load(Ordering::Acquire),
        ))
    }
}

fn trusted_ms() -> u64 {
    u64::try_from(TRUSTED_FOR.as_millis()).unwrap_or(u64::MAX)
}

impl ListenerState {
    fn millis_now(&self) -> u64 {
        // Never 0, which means "not listening".
        u64::try_from(self.started.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .max(1)
    }

    /// Everything committed before the last round trip is counted.
    fn confirm(&self) {
        self.confirmed_ms
            .store(self.millis_now(), Ordering::Release);
    }

    /// Off first, then a new version: a reader that saw the old one trusted cannot keep it.
    fn lost(&self) {
        self.confirmed_ms.store(0, Ordering::Release);
        self.notices.fetch_add(1, Ordering::AcqRel);
    }

    fn noticed(&self) {
        self.notices.fetch_add(1, Ordering::AcqRel);
    }
}

/// Connects, listens and reconnects with backoff, until the listener is dropped.
fn listen(url: &DatabaseUrl, state: &Weak<ListenerState>) -> Option<()> {
    let mut backoff = POLL_INTERVAL;
    let mut warned = false;
    loop {
        match connect(url) {
            Ok(mut connection) => {
                backoff = POLL_INTERVAL;
                if warned {
                    log::info!("listening for token changes again; the token cache is back on");
                }
                let error = serve(&mut connection, state)?;
                log::warn!(
                    "lost the connection that listens for token changes ({error}); every \
                     request looks its token up until it is back"
                );
                warned = true;
            }
            Err(error) if !warned => {
                log::warn!(
                    "cannot listen for token changes ({error}); every request looks its token \
                     up until it can"
                );
                warned = true;
            }
            Err(error) => log::debug!("still cannot listen for token changes: {error}"),
        }
        state.upgrade()?.lost();
        std::thread::sleep(backoff);
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

fn connect(url: &DatabaseUrl) -> Result<PgConnection, Box<dyn std::error::Error>> {
    let DbConn::Postgres(mut connection) = url.establish()? else {
        return Err("not a PostgreSQL database".into());
    };
    connection.batch_execute(&format!(
        "SET application_name = '{APPLICATION_NAME}'; LISTEN {CHANNEL};"
    ))?;
    Ok(connection)
}

/// Counts notices until the connection fails (answering why) or the listener is dropped
/// (`None`).
fn serve(
    connection: &mut PgConnection,
    state: &Weak<ListenerState>,
) -> Option<diesel::result::Error> {
    // A new version: nothing read before this `LISTEN` took effect is trusted.
    state.upgrade()?.noticed();
    loop {
        let state = state.upgrade()?;
        // The round trip makes the server deliver every notice committed before it began.
        if let Err(error) = diesel::sql_query("SELECT 1").execute(connection) {
            return Some(error);
        }
        let mut any = false;
        for notice in connection.notifications_iter() {
            if let Err(error) = notice {
                return Some(error);
            }
            any = true;
        }
        if any {
            state.noticed();
        }
        state.confirm();
        drop(state);
        std::thread::sleep(POLL_INTERVAL);
    }
}
