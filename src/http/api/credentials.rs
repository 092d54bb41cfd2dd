//! `POST /api/v1/credentials/revoke`: the leak intake (`crate::service::tokens::leaks`) over
//! HTTP, rate limited per address. The answer is the same whether or not a token existed.

use std::time::Instant;

use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::auth::limit::{AddressKey, Rate, RateLimiter, retry_after_secs};
use crate::error::{Error, Result};
use crate::http::auth::client_ip;
use crate::service::tokens::leaks;
use crate::store::{self, Store};

/// Reports one address may send per minute.
pub const REPORTS_PER_MINUTE: u32 = 10;

/// Rate limit of leak reports, per client address and instance.
pub struct IntakeLimiter(RateLimiter<AddressKey>);

impl Default for IntakeLimiter {
    fn default() -> Self {
        IntakeLimiter(RateLimiter::new(100_000))
    }
}

/// `{"tokens": ["wxt_…", …]}`, or GitHub secret scanning's `[{"token": "wxt_…", …}, …]`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum LeakReport {
    Tokens { tokens: Vec<String> },
    GitHub(Vec<GitHubMatch>),
}

#[derive(Debug, Deserialize)]
pub struct GitHubMatch {
    token: String,
}

impl LeakReport {
    fn into_tokens(self) -> Vec<String> {
        match self {
            LeakReport::Tokens { tokens } => tokens,
            LeakReport::GitHub(matches) => matches.into_iter().map(|m| m.token).collect(),
        }
    }
}

/// The body is read only once the rate limit allows the report, so that reports beyond it
/// cost no reading or parsing of up to a megabyte each.
pub async fn revoke_leaked_tokens(
    request: HttpRequest,
    store: web::Data<Store>,
    limiter: web::Data<IntakeLimiter>,
    payload: web::Payload,
) -> Result<HttpResponse, actix_web::Error> {
    let address = client_ip(&request);
    let key = AddressKey::of(address);
    if let Err(wait) = limiter
        .0
        .take(&key, Rate::per_minute(REPORTS_PER_MINUTE), Instant::now())
    {
        return Err(Error::TooManyRequests {
            retry_after_secs: retry_after_secs(wait),
        }
        .into());
    }
    let body = web::Json::<LeakReport>::from_request(&request, &mut payload.into_inner()).await?;
    let tokens = body.into_inner().into_tokens();
    let digests = leaks::reported_digests(&tokens)?;
    let received = tokens.len();
    let remote_addr = address.map(|ip| ip.to_string());
    let digests = if digests.is_empty() {
        digests
    } else {
        store
            .read(move |conn| leaks::unrevoked(conn, digests))
            .await?
    };
    if !digests.is_empty() {
        let revoked = store
            .write(move |conn| {
                leaks::revoke_leaked(conn, &digests, remote_addr.as_deref(), store::now())
            })
            .await?;
        if revoked > 0 {
            log::warn!("revoked {revoked} token(s) reported as leaked");
        }
    }
    Ok(HttpResponse::Accepted().json(serde_json::json!({
        "status": "accepted",
        "received": received,
    })))
}
