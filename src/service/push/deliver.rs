//! The push deliverer (RFC 8935): a background task per server instance that, for each
//! enabled push stream with events due, takes the stream's lease (so one instance at a time
//! delivers it, in order), POSTs each SET to the receiver and records the outcome per
//! [`super::retry`]. An instance that stops mid-delivery loses nothing: its lease runs out and
//! another instance sends the unconfirmed SETs again (at-least-once; receivers dedupe by `jti`).

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{NaiveDateTime, TimeDelta, Utc};
use tokio::sync::watch;

use super::destination::PushDestinations;
use super::retry::{self, Next, Policy, Verdict};
use crate::background::{self, Share};
use crate::error::{Error, Result};
use crate::service::events::{self, PendingEvent, Signers, keys};
use crate::store::events::StreamRow;
use crate::store::push::{self as stored, PushStream};
use crate::store::{self, Store, StreamId};

/// How often the outbox is looked at for due events: what bounds the delivery delay of a
/// write (local or another instance's) without a hook on the write path.
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// A due event waiting longer than this makes the deliverer take a share of a busy CPU
/// ([`Share::Low`]) instead of only idle time, until it is caught up. At 1,000 writes/s idle
/// time is plenty (the delay target, p99 under 1 s, is met); a CPU kept busy by writes would
/// otherwise leave SETs waiting for as long as it lasts.
const LATE_AFTER: TimeDelta = TimeDelta::seconds(1);
/// SETs signed and sent per round before the lease is renewed and progress recorded: one
/// write transaction per batch instead of one per SET keeps the writer free for SCIM writes.
const BATCH: i64 = 100;
/// How long one POST may take, connection included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a lease lasts unless renewed; renewed before every batch, which takes at most
/// [`BATCH`] × the timeout only when the receiver stalls on each SET.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

/// What the deliverer needs to know.
#[derive(Debug, Clone)]
pub struct PushSettings {
    pub failure_period: Duration,
    pub lease: Duration,
    pub timeout: Duration,
    /// Where pushes may go (see [`super::destination`]).
    pub destinations: PushDestinations,
}

impl Default for PushSettings {
    fn default() -> Self {
        PushSettings {
            failure_period: retry::DEFAULT_FAILURE_PERIOD,
            lease: DEFAULT_LEASE,
            timeout: DEFAULT_TIMEOUT,
            destinations: PushDestinations::default(),
        }
    }
}

/// One instance's deliverer; cheap to clone into the per-stream tasks.
#[derive(Clone)]
pub struct Deliverer {
    store: Store,
    /// This instance, as the lease names it.
    owner: Arc<str>,
    /// The server's base URL, for the SETs' `iss`.
    base_url: Arc<str>,
    settings: PushSettings,
    client: reqwest::Client,
    signers: Arc<Signers>,
    /// Streams a task of this instance is delivering now.
    busy: Arc<Mutex<HashSet<String>>>,
    /// Whether a due event has waited longer than [`LATE_AFTER`]: the deliverer's threads then
    /// run at [`Share::Low`] instead of [`Share::Idle`].
    late: Arc<AtomicBool>,
}

impl Deliverer {
    pub fn new(store: Store, base_url: &str, mut settings: PushSettings) -> Result<Deliverer> {
        // A lease must outlast one request with room to renew it (see `deliver_stream`).
        settings.lease = settings.lease.max(settings.timeout * 2);
        // No redirects: a SET and the stream's Authorization go to the URL the admin gave.
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(settings.destinations.resolver())
            .build()
            .map_err(Error::internal)?;
        Ok(Deliverer {
            store,
            owner: Arc::from(uuid::Uuid::new_v4().to_string()),
            base_url: Arc::from(base_url),
            settings,
            client,
            signers: Arc::default(),
            busy: Arc::default(),
            late: Arc::default(),
        })
    }

    /// The share of a busy CPU the deliverer's threads take now (see [`Deliverer::late`]).
    fn share(&self) -> Share {
        if self.late.load(Ordering::Relaxed) {
            Share::Low
        } else {
            Share::Idle
        }
    }

    /// Delivers until `stop` is dropped; then in-flight requests are abandoned, not finished.
    pub async fn run(self, mut stop: watch::Receiver<()>) {
        loop {
            background::set_share(self.share());
            tokio::select! {
                _ = stop.changed() => return,
                () = tokio::time::sleep(POLL_INTERVAL) => {}
            }
            let now = store::now();
            let share = self.share();
            let due = match self
                .store
                .read(move |conn| {
                    background::set_share(share);
                    // A stream whose next event waits for its retry has nothing due: later
                    // events wait behind it, and its lease is left alone meanwhile.
                    let mut due = stored::due_push_streams(conn, now)?;
                    let mut ready = Vec::with_capacity(due.len());
                    let mut oldest = now;
                    for stream in due.drain(..) {
                        let first = events::next_pending(conn, &stream.row.stream_id(), 1)?;
                        let due_at = first.iter().map(|event| event.next_attempt_at).min();
                        if due_at.is_none_or(|at| at <= now) {
                            oldest = due_at.map_or(oldest, |at| oldest.min(at));
                            ready.push(stream);
                        }
                    }
                    Ok((ready, now - oldest > LATE_AFTER))
                })
                .await
            {
                Ok((due, late)) => {
                    self.late.store(late, Ordering::Relaxed);
                    due
                }
                Err(error) => {
                    log::warn!("push delivery cannot read the outbox: {error}");
                    continue;
                }
            };
            for stream in due {
                if !self.claim_locally(&stream.row.id) {
                    continue;
                }
                let deliverer = self.clone();
                let mut stop = stop.clone();
                tokio::spawn(async move {
                    let id = stream.row.id.clone();
                    tokio::select! {
                        _ = stop.changed() => {}
                        result = deliverer.deliver_stream(stream) => {
                            if let Err(error) = result {
                                log::warn!("push delivery of stream {id} paused: {error}");
                            }
                        }
                    }
                    deliverer.unclaim_locally(&id);
                });
            }
        }
    }

    fn claim_locally(&self, id: &str) -> bool {
        self.busy
            .lock()
            .map(|mut busy| busy.insert(id.to_owned()))
            .unwrap_or(false)
    }

    fn unclaim_locally(&self, id: &str) {
        if let Ok(mut busy) = self.busy.lock() {
            busy.remove(id);
        }
    }

    fn lease_until(&self, now: NaiveDateTime) -> NaiveDateTime {
        now + TimeDelta::from_std(self.settings.lease).unwrap_or(TimeDelta::seconds(30))
    }

    /// Delivers `stream`'s due events in order while this instance holds its lease.
    async fn deliver_stream(&self, stream: PushStream) -> Result<()> {
        let id = stream.row.stream_id();
        let mut failing_since = stream.failing_since;
        let (owner, org) = (Arc::clone(&self.owner), stream.row.org());
        let (lease_id, now) = (id.clone(), store::now());
        let until = self.lease_until(now);
        let taken = self
            .store
            .write(move |conn| {
                let taken = stored::take_lease(conn, &lease_id, &owner, now, until)?;
                // Made here, in a write, so that no two readers below race to make it.
                if taken {
                    keys::signing_key(conn, &org, now)?;
                }
                Ok(taken)
            })
            .await?;
        if !taken {
            return Ok(());
        }
        loop {
            let batch = self.signed_batch(&stream.row).await?;
            if batch.is_empty() {
                break;
            }
            let mut delivered = Vec::new();
            let mut outcome = None;
            let mut renewed = Instant::now();
            let mut lost = false;
            // Once a batch, not once a SET: a name lookup of its own per POST would double
            // the DNS traffic, and the client's resolver applies the rule to every connection.
            let refused = match stream.row.push_url.as_deref() {
                Some(url) => self.settings.destinations.check(url).await.err(),
                None => None,
            };
            for (pending, jws) in &batch {
                if pending.next_attempt_at > store::now() {
                    // Order is kept: nothing after an event waiting for its retry goes first.
                    break;
                }
                // Renewed often enough that a slow receiver never lets it lapse mid-batch:
                // a third of the lease plus one timeout (at most half of it) stays inside it.
                if renewed.elapsed() > self.settings.lease / 3 {
                    if !self.renew(&id).await? {
                        lost = true;
                        break;
                    }
                    renewed = Instant::now();
                }
                let verdict = match &refused {
                    Some(error) => Verdict::StreamRefused {
                        error: error.clone(),
                    },
                    None => self.post(&stream.row, jws).await,
                };
                match verdict {
                    Verdict::Delivered => delivered.push(pending.seq()),
                    verdict => {
                        outcome = Some((pending.clone(), verdict));
                        break;
                    }
                }
            }
            if lost {
                // Another instance delivers the stream now; what this one sent is sent again.
                return Ok(());
            }
            let progressed = !delivered.is_empty();
            let keep_going = outcome.is_none() && progressed;
            let holds = self
                .record(&id, delivered, outcome, &mut failing_since)
                .await?;
            if !holds || !keep_going {
                break;
            }
        }
        let (owner, release_id) = (Arc::clone(&self.owner), id.clone());
        self.store
            .write(move |conn| stored::release_lease(conn, &release_id, &owner))
            .await
    }

    /// Renews this instance's lease on `stream`; `false` if another instance holds it.
    async fn renew(&self, id: &StreamId) -> Result<bool> {
        let now = store::now();
        let until = self.lease_until(now);
        let (owner, id) = (Arc::clone(&self.owner), id.clone());
        self.store
            .write(move |conn| stored::take_lease(conn, &id, &owner, now, until))
            .await
    }

    /// The next due events of `stream`, each signed as the SET its receiver gets.
    async fn signed_batch(&self, stream: &StreamRow) -> Result<Vec<(PendingEvent, String)>> {
        let (row, base_url) = (stream.clone(), Arc::clone(&self.base_url));
        let (signers, share) = (Arc::clone(&self.signers), self.share());
        self.store
            .read(move |conn| {
                background::set_share(share);
                let now = store::now();
                let pending = events::next_pending(conn, &row.stream_id(), BATCH)?;
                if pending.is_empty() {
                    return Ok(Vec::new());
                }
                // The key is read once per batch, and parsed once per key.
                let signer = signers.current(conn, &row.org(), now)?;
                pending
                    .into_iter()
                    .take_while(|event| event.next_attempt_at <= now)
                    .map(|event| {
                        let jws = signer.sign(&row, &event.event, &base_url, now)?;
                        Ok((event, jws))
                    })
                    .collect()
            })
            .await
    }

    /// One POST of one SET (RFC 8935 §2.1), judged.
    async fn post(&self, stream: &StreamRow, jws: &str) -> Verdict {
        let Some(url) = stream.push_url.as_deref() else {
            return Verdict::StreamRefused {
                error: "the stream has no push URL".to_owned(),
            };
        };
        let mut request = self
            .client
            .post(url)
            .header("Content-Type", "application/secevent+jwt")
            .header("Accept", "application/json")
            .body(jws.to_owned());
        if let Some(authorization) = stream.push_authorization.as_deref() {
            request = request.header("Authorization", authorization);
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                return Verdict::Retry {
                    error: transport_error(&error),
                    retry_after: None,
                };
            }
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("Retry-After")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        // Only an error body is read, and only its start: a receiver cannot make us buffer more.
        let body = if status == 400 {
            read_prefix(response, 4096).await
        } else {
            Vec::new()
        };
        retry::judge(status, retry_after.as_deref(), &body, Utc::now())
    }

    /// Records a batch's outcome in one transaction, if this instance still holds the lease
    /// (answers whether it does): the events delivered, and the failure that ended the batch.
    async fn record(
        &self,
        id: &StreamId,
        delivered: Vec<i64>,
        outcome: Option<(PendingEvent, Verdict)>,
        failing_since: &mut Option<NaiveDateTime>,
    ) -> Result<bool> {
        let now = store::now();
        let until = self.lease_until(now);
        let (owner, id) = (Arc::clone(&self.owner), id.clone());
        let policy = Policy {
            failure_period: self.settings.failure_period,
        };
        let jitter = rand::random::<f64>();
        let before = *failing_since;
        let (holds, after) = self
            .store
            .write(move |conn| {
                if !stored::take_lease(conn, &id, &owner, now, until)? {
                    return Ok((false, before));
                }
                events::mark_delivered(conn, &id, &delivered)?;
                let mut failing = if delivered.is_empty() { before } else { None };
                match outcome {
                    None => {}
                    Some((pending, Verdict::SetRejected { error })) => {
                        // Skipped, not retried: the receiver said it can never use it.
                        events::mark_delivered(conn, &id, &[pending.seq()])?;
                        stored::set_last_error(conn, &id, &error, now)?;
                    }
                    Some((_, Verdict::StreamRefused { error })) => {
                        stored::fail_stream(conn, &id, &error, now)?;
                        failing = None;
                    }
                    Some((pending, Verdict::Retry { error, retry_after })) => {
                        let since = failing.unwrap_or(now);
                        let failures = u32::try_from(pending.attempts).unwrap_or(0) + 1;
                        match policy.next(since, failures, retry_after, jitter, now) {
                            Next::At(at) => {
                                events::record_failure(conn, &id, pending.seq(), &error, at)?;
                                stored::set_last_error(conn, &id, &error, now)?;
                                failing = Some(since);
                            }
                            Next::GiveUp => {
                                let error = format!(
                                    "{error}; failing since {} UTC, longer than the failure period",
                                    since.format("%Y-%m-%d %H:%M:%S")
                                );
                                stored::fail_stream(conn, &id, &error, now)?;
                                failing = None;
                            }
                        }
                    }
                    Some((_, Verdict::Delivered)) => {}
                }
                if failing != before {
                    stored::set_failing_since(conn, &id, failing)?;
                }
                Ok((true, failing))
            })
            .await?;
        *failing_since = after;
        Ok(holds)
    }
}

/// A transport failure as the stream's last error: its kind, never the URL's credentials
/// or the request's headers (reqwest's message may name the URL, so it is not used).
fn transport_error(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        "the request failed".to_owned()
    }
}

async fn read_prefix(mut response: reqwest::Response, limit: usize) -> Vec<u8> {
    let mut body = Vec::new();
    while body.len() < limit {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    body.truncate(limit);
    body
}

/// Keeps the deliverer (and the token notice scan) running; dropping it stops them.
pub struct PushGuard {
    _stop: watch::Sender<()>,
}

/// Starts the deliverer and the token notice scan on a thread of their own, with its own
/// small runtime: they outlive no server, and a stalled receiver never holds an HTTP worker.
pub fn start(
    store: &Store,
    base_url: &str,
    settings: PushSettings,
    notice_scan_every: Duration,
) -> anyhow::Result<PushGuard> {
    let deliverer = Deliverer::new(store.clone(), base_url, settings)?;
    let (stop, stopped) = watch::channel(());
    let store = store.clone();
    std::thread::Builder::new()
        .name("scimd-push".to_owned())
        .spawn(move || {
            // Before the runtime starts its blocking threads, which inherit it.
            background::set_share(Share::Idle);
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(error) => {
                    log::error!("push delivery cannot start: {error}");
                    return;
                }
            };
            let scan = super::notices::run(store, notice_scan_every, stopped.clone());
            runtime.block_on(async move {
                tokio::join!(deliverer.run(stopped), scan);
            });
        })
        .map_err(|error| anyhow::anyhow!("cannot start push delivery: {error}"))?;
    Ok(PushGuard { _stop: stop })
}
