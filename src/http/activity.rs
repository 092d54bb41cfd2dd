//! Records `/scim/v2` requests in the activity log: writes and failures always, successful
//! reads when the server is told to. Nothing here waits or fails the request: the entry is
//! handed to a bounded queue (see [`ActivityLog::offer`]) and told apart later.
//!
//! The request body is not read twice: for writes, the chunks the JSON extractor reads are
//! shared (refcounted) with the entry as they pass; the response body, already whole, is
//! shared the same way. Reads that are not recorded cost a method and a status check.

use std::cell::RefCell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Instant;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use bytes::Bytes;
use futures_core::Stream;

use super::auth::client_ip;
use super::request_id::RequestId;
use crate::auth::{AuthContext, Principal};
use crate::service::activity::{ActivityLog, Captured};
use crate::store;

/// Whether a request changes resources: `.search` is a read sent as POST.
fn is_write(method: &Method, path: &str) -> bool {
    matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    ) && !path.ends_with("/.search")
}

type Chunks = Rc<RefCell<Vec<Bytes>>>;

/// The request's body stream, keeping a shared handle on each chunk that passes.
struct Tee {
    inner: Payload,
    chunks: Chunks,
}

impl Stream for Tee {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = Pin::new(&mut self.inner).poll_next(cx);
        if let Poll::Ready(Some(Ok(chunk))) = &polled {
            self.chunks.borrow_mut().push(chunk.clone());
        }
        polled
    }
}

/// The `/scim/v2` middleware.
pub async fn record(
    mut request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody + 'static, BoxBody>>, actix_web::Error> {
    let Some(log) = request
        .app_data::<web::Data<ActivityLog>>()
        .filter(|log| log.is_enabled())
        .cloned()
    else {
        return Ok(next.call(request).await?.map_into_left_body());
    };
    let started = Instant::now();
    let write = is_write(request.method(), request.path());
    let chunks = write.then(|| {
        let chunks = Chunks::default();
        let inner = request.take_payload();
        let tee = Tee {
            inner,
            chunks: Rc::clone(&chunks),
        };
        request.set_payload(Payload::Stream {
            payload: Box::pin(tee),
        });
        chunks
    });
    let response = next.call(request).await?;
    let status = response.status();
    let failed = status.is_client_error() || status.is_server_error();
    if !(write || failed || log.records_reads()) {
        return Ok(response.map_into_left_body());
    }
    // Requests nobody authenticated belong to no organization (the audit log has them).
    let Some(auth) = response
        .request()
        .extensions()
        .get::<AuthContext>()
        .cloned()
    else {
        return Ok(response.map_into_left_body());
    };
    let mut response_body = None;
    let response = if write || failed {
        response.map_body(|_, body| match body.try_into_bytes() {
            Ok(bytes) => {
                response_body = Some(bytes.clone());
                EitherBody::right(BoxBody::new(bytes))
            }
            Err(body) => EitherBody::left(body),
        })
    } else {
        response.map_into_left_body()
    };
    let request = response.request();
    log.offer(Captured {
        org: auth.org_id,
        at: store::now(),
        request_id: RequestId::of(request).map(|id| id.to_string()),
        method: request.method().as_str().to_owned(),
        path: request.path().to_owned(),
        query: request.query_string().to_owned(),
        status: status.as_u16(),
        duration: started.elapsed(),
        token: match auth.principal {
            Principal::Token { id, .. } => Some(id),
            Principal::SharedSecret => None,
        },
        client_addr: client_ip(request),
        user_agent: request
            .headers()
            .get(header::USER_AGENT)
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned()),
        request_body: chunks
            .map(|chunks| std::mem::take(&mut *chunks.borrow_mut()))
            .unwrap_or_default(),
        response_body,
    });
    Ok(response)
}
