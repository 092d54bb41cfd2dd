//! Who is signed in. The session cookie holds a random secret whose digest the database keeps
//! (see [`crate::service::people`]); these extractors turn it into the person, and the page's
//! organization into their role there.

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::rc::Rc;

use actix_web::cookie::time::Duration;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::{Method, header};
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use secrecy::{ExposeSecret, SecretString};

use super::error::ConsoleError;
use super::page::{Frame, Section};
use crate::http::auth::TrustedProxies;
use crate::service::OrgActor;
use crate::service::people::{self, Action, Membership, Role, SignedIn};
use crate::store::{self, OrgId, Store};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "scimd_session";

/// How long the browser keeps the cookie: the session's absolute lifetime (the server ends
/// it sooner when it is idle).
const SESSION_COOKIE_DAYS: i64 = 7;

/// A signed-in person. Extracting it without a valid session sends the browser to sign in.
/// Found once per request: [`OrgPage`] and [`super::csrf::CsrfForm`] reuse it.
#[derive(Clone)]
pub struct Signed(Rc<SignedIn>);

impl Deref for Signed {
    type Target = SignedIn;

    fn deref(&self) -> &SignedIn {
        &self.0
    }
}

impl Signed {
    pub async fn extract(request: &HttpRequest) -> Result<Signed, ConsoleError> {
        if let Some(signed) = request.extensions().get::<Signed>() {
            return Ok(signed.clone());
        }
        let sign_in = || ConsoleError::SignInRequired {
            next: return_path(request),
        };
        let secret = request
            .cookie(SESSION_COOKIE)
            .map(|cookie| SecretString::from(cookie.value().to_owned()))
            .ok_or_else(sign_in)?;
        let store = store_of(request)?;
        let now = store::now();
        let (found, upkeep) = store
            .read(move |conn| people::session(conn, &secret, now))
            .await?;
        if let Some(upkeep) = upkeep {
            store
                .write(move |conn| people::keep_up(conn, &upkeep, now))
                .await?;
        }
        let signed = Signed(Rc::new(found.ok_or_else(sign_in)?));
        request.extensions_mut().insert(signed.clone());
        Ok(signed)
    }

    /// The person's organizations' names, as the switcher lists them.
    pub fn organization_names(&self) -> impl Iterator<Item = String> + '_ {
        self.memberships
            .iter()
            .map(|membership| membership.org_name.clone())
    }
}

impl FromRequest for Signed {
    type Error = ConsoleError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ConsoleError>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let request = request.clone();
        Box::pin(async move { Signed::extract(&request).await })
    }
}

/// A page of one organization (`/console/orgs/{org_name}/…`) and the signed-in person's
/// role there. A person who is not a member gets the same 404 as for an organization that
/// does not exist.
pub struct OrgPage {
    pub signed: Signed,
    pub org: OrgId,
    pub org_name: String,
    pub role: Role,
}

impl OrgPage {
    /// Refuses (403 page) what the person's role does not allow. Pages call it before a use
    /// case that changes something, and use [`OrgPage::may`] to hide the buttons.
    pub fn require(&self, action: Action) -> Result<(), ConsoleError> {
        if self.may(action) {
            Ok(())
        } else {
            Err(ConsoleError::Forbidden)
        }
    }

    pub fn may(&self, action: Action) -> bool {
        self.role.may(action)
    }

    /// Who acts, and where, for the use cases.
    pub fn actor(&self) -> OrgActor {
        OrgActor::new(self.org.clone(), self.signed.actor())
    }

    /// The layout of a page of this organization.
    pub fn frame(&self, title: impl Into<String>, section: Section) -> Frame {
        Frame::new(
            title,
            section,
            &self.org_name,
            self.signed.organization_names(),
            (&self.signed.person.display_name, &self.signed.person.email),
            self.role.as_str(),
            self.signed.csrf_token.expose_secret(),
        )
    }

    /// A URL below this organization, e.g. `page.url("tokens")`.
    pub fn url(&self, rest: &str) -> String {
        format!("/console/orgs/{}/{rest}", self.org_name)
    }
}

impl FromRequest for OrgPage {
    type Error = ConsoleError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ConsoleError>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let request = request.clone();
        Box::pin(async move {
            let signed = Signed::extract(&request).await?;
            let org_name = request
                .match_info()
                .get("org_name")
                .ok_or(ConsoleError::NotFound)?;
            let Membership { org, role, .. } = signed
                .membership(org_name)
                .cloned()
                .ok_or(ConsoleError::NotFound)?;
            Ok(OrgPage {
                org_name: org_name.to_owned(),
                signed,
                org,
                role,
            })
        })
    }
}

/// The session cookie for `secret`: script cannot read it, other sites' requests do not carry
/// it, and it goes only to the console, over HTTPS whenever the browser came over HTTPS.
pub fn session_cookie(request: &HttpRequest, secret: &str) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, secret.to_owned())
        .path(super::PREFIX)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(is_https(request))
        .max_age(Duration::days(SESSION_COOKIE_DAYS))
        .finish()
}

/// A cookie that makes the browser forget the session.
pub fn removal_cookie(request: &HttpRequest) -> Cookie<'static> {
    let mut cookie = session_cookie(request, "");
    cookie.make_removal();
    cookie
}

/// Whether the browser reached us over HTTPS: directly, or through a trusted proxy that says
/// so in `X-Forwarded-Proto`. Nobody else's header is believed.
pub fn is_https(request: &HttpRequest) -> bool {
    if from_trusted_proxy(request) {
        let forwarded = request
            .headers()
            .get("x-forwarded-proto")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(',').next())
            .map(str::trim);
        if let Some(proto) = forwarded {
            return proto.eq_ignore_ascii_case("https");
        }
    }
    request.app_config().secure()
}

/// Whether the peer is one of the configured trusted proxies.
pub fn from_trusted_proxy(request: &HttpRequest) -> bool {
    let peer = request
        .peer_addr()
        .map(|address| address.ip().to_canonical());
    request
        .app_data::<web::Data<TrustedProxies>>()
        .zip(peer)
        .is_some_and(|(proxies, peer)| proxies.contains(peer))
}

/// `scheme://host[:port]` of this request as the browser sees it: the `Host` header, or a
/// trusted proxy's `X-Forwarded-Host`.
pub fn own_origin(request: &HttpRequest) -> Option<String> {
    let scheme = if is_https(request) { "https" } else { "http" };
    let forwarded_host = from_trusted_proxy(request)
        .then(|| request.headers().get("x-forwarded-host"))
        .flatten();
    let host = forwarded_host
        .or_else(|| request.headers().get(header::HOST))
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(ToString::to_string))?;
    let host = host.split(',').next().unwrap_or_default().trim().to_owned();
    Some(format!("{scheme}://{host}"))
}

/// Where to come back after signing in: the page asked for, when it was a GET.
fn return_path(request: &HttpRequest) -> Option<String> {
    if request.method() != Method::GET {
        return None;
    }
    let path = match request.uri().query() {
        Some(query) => format!("{}?{query}", request.path()),
        None => request.path().to_owned(),
    };
    safe_next(&path).map(str::to_owned)
}

/// `next` when it is a console path on this site, so a link cannot send someone who signs
/// in to another site (`//evil.example`, `/\evil.example`, `https://…`) or back to sign-in.
pub fn safe_next(next: &str) -> Option<&str> {
    let is_console_path = next == super::PREFIX || next.starts_with("/console/");
    let unsafe_characters = next
        .chars()
        .any(|c| c == '\\' || c.is_control() || c.is_whitespace());
    let loops = next.starts_with("/console/sign-in") || next.starts_with("/console/sign-out");
    (is_console_path && !unsafe_characters && !next.contains("//") && !loops).then_some(next)
}

fn store_of(request: &HttpRequest) -> Result<web::Data<Store>, ConsoleError> {
    request
        .app_data::<web::Data<Store>>()
        .cloned()
        .ok_or_else(|| crate::error::Error::internal("the store is not registered").into())
}

/// The client's user agent, for the session list ("Chrome on Linux"): stored, never trusted.
pub fn user_agent(request: &HttpRequest) -> Option<String> {
    request.headers().get(header::USER_AGENT).map(|value| {
        String::from_utf8_lossy(value.as_bytes())
            .chars()
            .take(300)
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_console_paths_of_this_site_are_returned_to() {
        for (next, safe) in [
            ("/console", true),
            ("/console/orgs/default/tokens?name=okta", true),
            ("/console/sign-in?next=/console", false),
            ("/console/sign-out", false),
            ("//evil.example/console/", false),
            ("/console//evil.example", false),
            ("/console/\\evil.example", false),
            ("https://evil.example/console/", false),
            ("/scim/v2/Users", false),
            ("/consolex", false),
            ("/console/a b", false),
            ("/console/\nLocation: x", false),
            ("", false),
        ] {
            assert_eq!(safe_next(next).is_some(), safe, "{next:?}");
        }
    }
}
