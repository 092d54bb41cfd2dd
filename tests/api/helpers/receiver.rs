//! A push receiver (RFC 8935) started by the test on a free port: records every SET it is
//! sent with the request's headers, and answers as the test tells it to — accept, fail with
//! a status (and `Retry-After`, or an RFC 8935 §2.3 error body), stall, or be down.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// How the receiver answers the requests that follow.
#[derive(Debug, Clone)]
pub enum Answer {
    /// 202 Accepted (RFC 8935 §2.2).
    Accept,
    /// This status, with a `Retry-After` value and a body when given.
    Fail {
        status: u16,
        retry_after: Option<String>,
        body: String,
    },
    /// Holds each request this long before accepting it.
    Stall(Duration),
}

impl Answer {
    /// 400 with an RFC 8935 §2.3 error body.
    pub fn error_code(err: &str) -> Answer {
        Answer::Fail {
            status: 400,
            retry_after: None,
            body: serde_json::json!({ "err": err, "description": "refused by the test" })
                .to_string(),
        }
    }
}

/// One request as it arrived, and what it was answered (`None`: still stalled, or the
/// sender went away first).
#[derive(Debug, Clone)]
pub struct Delivery {
    pub jws: String,
    pub header: Value,
    pub claims: Value,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub accept: Option<String>,
    pub at: Instant,
    pub answered: Option<u16>,
}

impl Delivery {
    pub fn jti(&self) -> &str {
        self.claims["jti"].as_str().unwrap_or_default()
    }

    /// The SET's one event URI (RFC 8417 §2.2: the `events` claim's member names).
    pub fn event_type(&self) -> String {
        self.claims["events"]
            .as_object()
            .and_then(|events| events.keys().next().cloned())
            .unwrap_or_default()
    }
}

#[derive(Debug)]
struct State {
    answer: Answer,
    deliveries: Vec<Delivery>,
}

pub struct Receiver {
    pub port: u16,
    state: Arc<Mutex<State>>,
    server: Option<ServerHandle>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the receiver");
        let port = listener.local_addr().expect("receiver address").port();
        let state = Arc::new(Mutex::new(State {
            answer: Answer::Accept,
            deliveries: Vec::new(),
        }));
        let mut receiver = Receiver {
            port,
            state,
            server: None,
        };
        receiver.serve(listener);
        receiver
    }

    fn serve(&mut self, listener: TcpListener) {
        let state = Arc::clone(&self.state);
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::from(Arc::clone(&state)))
                .default_service(web::to(receive))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(0)
        .listen(listener)
        .expect("receiver listens")
        .run();
        self.server = Some(server.handle());
        tokio::spawn(server);
    }

    /// Where scimd is to push.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/events", self.port)
    }

    /// How the following requests are answered.
    pub fn answer(&self, answer: Answer) {
        self.state.lock().expect("receiver state").answer = answer;
    }

    /// Every request so far, in arrival order.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.state
            .lock()
            .expect("receiver state")
            .deliveries
            .clone()
    }

    /// How many requests arrived so far (without copying them).
    pub fn count(&self) -> usize {
        self.state.lock().expect("receiver state").deliveries.len()
    }

    /// The requests answered 202.
    pub fn accepted(&self) -> Vec<Delivery> {
        self.deliveries()
            .into_iter()
            .filter(|delivery| delivery.answered == Some(202))
            .collect()
    }

    /// The distinct `jti`s accepted, in order of first acceptance: what a consumer that
    /// deduplicates by `jti` (RFC 8417 §2.2) processes.
    pub fn accepted_once(&self) -> Vec<Delivery> {
        let mut seen = std::collections::HashSet::new();
        self.accepted()
            .into_iter()
            .filter(|delivery| seen.insert(delivery.jti().to_owned()))
            .collect()
    }

    /// Waits until at least `count` distinct SETs were accepted; fails the test after `within`.
    pub async fn wait_for_accepted(&self, count: usize, within: Duration) -> Vec<Delivery> {
        let deadline = Instant::now() + within;
        loop {
            let accepted = self.accepted_once();
            if accepted.len() >= count {
                return accepted;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {count} SETs accepted within {within:?}; requests: {:?}",
                accepted.len(),
                self.deliveries()
                    .iter()
                    .map(|delivery| (delivery.event_type(), delivery.answered))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until at least `count` requests arrived, whatever they were answered.
    pub async fn wait_for_requests(&self, count: usize, within: Duration) -> Vec<Delivery> {
        let deadline = Instant::now() + within;
        loop {
            if self.count() >= count {
                return self.deliveries();
            }
            assert!(
                Instant::now() < deadline,
                "{} of {count} requests within {within:?}",
                self.count()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Closes the listener: connections are refused until [`Receiver::restart`].
    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.stop(false).await;
        }
    }

    /// Listens again on the same port.
    pub async fn restart(&mut self) {
        self.stop().await;
        let listener = TcpListener::bind(("127.0.0.1", self.port)).expect("rebind the receiver");
        self.serve(listener);
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            drop(server.stop(false));
        }
    }
}

async fn receive(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<Mutex<State>>,
) -> HttpResponse {
    let header_text = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let jws = String::from_utf8_lossy(&body).into_owned();
    let mut parts = jws.split('.');
    let decode = |part: Option<&str>| {
        part.and_then(|part| URL_SAFE_NO_PAD.decode(part).ok())
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or(Value::Null)
    };
    let header = decode(parts.next());
    let claims = decode(parts.next());
    let (index, answer) = {
        let mut state = state.lock().expect("receiver state");
        state.deliveries.push(Delivery {
            jws: jws.clone(),
            header,
            claims,
            authorization: header_text("authorization"),
            content_type: header_text("content-type"),
            accept: header_text("accept"),
            at: Instant::now(),
            answered: None,
        });
        (state.deliveries.len() - 1, state.answer.clone())
    };
    let (status, response) = match answer {
        Answer::Accept => (202, HttpResponse::Accepted().finish()),
        Answer::Stall(wait) => {
            tokio::time::sleep(wait).await;
            (202, HttpResponse::Accepted().finish())
        }
        Answer::Fail {
            status,
            retry_after,
            body,
        } => {
            let code = actix_web::http::StatusCode::from_u16(status).expect("status");
            let mut response = HttpResponse::build(code);
            if let Some(value) = retry_after {
                response.insert_header(("Retry-After", value));
            }
            if !body.is_empty() {
                response.content_type("application/json");
            }
            (status, response.body(body))
        }
    };
    if let Some(delivery) = state
        .lock()
        .expect("receiver state")
        .deliveries
        .get_mut(index)
    {
        delivery.answered = Some(status);
    }
    response
}
