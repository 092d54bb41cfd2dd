//! Who is calling, as the web layer sees it: the `AuthContext` extractor, the proxies whose
//! forwarding headers are believed, and the client's address.

use std::future::Future;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};
use ipnet::IpNet;

use crate::auth::{AuthContext, Authenticator};
use crate::error::{Error, Result};

/// Peers whose `X-Forwarded-*` headers are believed. Anyone else could forge them to plant
/// their own host in `meta.location` or pass for another address.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Vec<IpNet>);

impl TrustedProxies {
    pub fn contains(&self, address: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&address))
    }
}

/// Handlers take an [`AuthContext`] as an argument; a request without valid credentials
/// never reaches them.
impl FromRequest for AuthContext {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let authenticator = request.app_data::<web::Data<Authenticator>>().cloned();
        let authorization = request
            .headers()
            .get(header::AUTHORIZATION)
            // Lossy, so that a header with bytes outside ASCII is told apart from none at all.
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
        let client_ip = client_ip(request);
        let request = request.clone();
        Box::pin(async move {
            let authenticator = authenticator
                .ok_or_else(|| Error::internal("the authenticator is not registered"))?;
            let context = authenticator
                .authenticate(authorization.as_deref(), client_ip)
                .await?;
            // For middleware that acts on the caller after the handler: expiry warnings and
            // the audit of SCIM writes.
            request.extensions_mut().insert(context.clone());
            Ok(context)
        })
    }
}

/// The client's address: the peer, or, when the peer is a trusted proxy, what its
/// `X-Forwarded-For` says (see [`forwarded_client`]). `None` when it cannot be told: such a
/// client fails every allowlist, and all of them share one throttle.
pub fn client_ip(request: &HttpRequest) -> Option<IpAddr> {
    let peer = request.peer_addr()?.ip().to_canonical();
    let Some(trusted) = request
        .app_data::<web::Data<TrustedProxies>>()
        .filter(|proxies| proxies.contains(peer))
    else {
        return Some(peer);
    };
    // Lossy, so that bytes a client wrote into its own entry spoil only that entry.
    let values: Vec<_> = request
        .headers()
        .get_all("x-forwarded-for")
        .map(|value| String::from_utf8_lossy(value.as_bytes()))
        .collect();
    let entries: Vec<&str> = values.iter().flat_map(|value| value.split(',')).collect();
    forwarded_client(&entries, trusted)
        .unwrap_or(ForwardedClient::Known(peer))
        .address()
}

/// Who `X-Forwarded-For` says the client is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardedClient {
    Known(IpAddr),
    /// An entry the client could not have written cannot be read, so the client's address
    /// is unknown.
    Unknown,
}

impl ForwardedClient {
    fn address(self) -> Option<IpAddr> {
        match self {
            ForwardedClient::Known(address) => Some(address),
            ForwardedClient::Unknown => None,
        }
    }
}

/// Reads `X-Forwarded-For` entries from the right, the end our trusted proxies append to: the
/// first one that is not itself a trusted proxy is the client, and everything to its left is
/// whatever the client chose to send. An entry on the way there that is not an address
/// (`unknown`, an obfuscated id, garbage) makes the client unknown: skipping it would hand
/// the choice to the client-written entry beyond it. When every entry is a trusted proxy,
/// the left-most one is the client; `None` when there are no entries.
pub fn forwarded_client(entries: &[&str], trusted: &TrustedProxies) -> Option<ForwardedClient> {
    for entry in entries.iter().rev() {
        match forwarded_address(entry) {
            None => return Some(ForwardedClient::Unknown),
            Some(address) if trusted.contains(address) => continue,
            Some(address) => return Some(ForwardedClient::Known(address)),
        }
    }
    let first = entries.first()?;
    forwarded_address(first).map(ForwardedClient::Known)
}

/// One `X-Forwarded-For` entry as proxies write it: an address, optionally with a port
/// (`192.0.2.1:443`, `[2001:db8::1]:443`; Azure Application Gateway appends these), in
/// brackets, or quoted.
fn forwarded_address(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    let entry = entry
        .strip_prefix('"')
        .and_then(|quoted| quoted.strip_suffix('"'))
        .unwrap_or(entry);
    let address = entry
        .parse::<IpAddr>()
        .or_else(|_| entry.parse::<SocketAddr>().map(|socket| socket.ip()))
        .ok()
        .or_else(|| {
            let bracketed = entry.strip_prefix('[')?.strip_suffix(']')?;
            bracketed.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
        })?;
    Some(address.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_form_of_a_forwarded_entry_is_read() {
        for (entry, expected) in [
            ("198.51.100.7", Some("198.51.100.7")),
            ("  198.51.100.7 ", Some("198.51.100.7")),
            ("203.0.113.9:51234", Some("203.0.113.9")),
            ("2001:db8::1", Some("2001:db8::1")),
            ("[2001:db8::1]", Some("2001:db8::1")),
            ("[2001:db8::1]:443", Some("2001:db8::1")),
            ("\"[2001:db8::1]:443\"", Some("2001:db8::1")),
            ("::ffff:198.51.100.7", Some("198.51.100.7")),
            ("unknown", None),
            ("_hidden", None),
            ("", None),
            ("198.51.100", None),
            ("2001:db8::1:443", Some("2001:db8::1:443")),
            ("[2001:db8::1", None),
            ("203.0.113.9:port", None),
            ("fe80::1%eth0", None),
        ] {
            let expected = expected.map(|text| text.parse::<IpAddr>().unwrap());
            assert_eq!(forwarded_address(entry), expected, "for {entry:?}");
        }
    }

    #[test]
    fn the_client_is_the_right_most_entry_that_is_not_a_trusted_proxy() {
        let trusted = TrustedProxies(vec![
            "127.0.0.1/32".parse().unwrap(),
            "10.0.0.0/8".parse().unwrap(),
        ]);
        let known = |text: &str| Some(ForwardedClient::Known(text.parse().unwrap()));
        for (header, expected) in [
            ("198.51.100.7", known("198.51.100.7")),
            ("198.51.100.7, 203.0.113.9", known("203.0.113.9")),
            ("198.51.100.7, 203.0.113.9, 10.1.2.3", known("203.0.113.9")),
            ("198.51.100.7, 203.0.113.9:51234", known("203.0.113.9")),
            ("198.51.100.7, [2001:db8::1]:443", known("2001:db8::1")),
            ("198.51.100.7, unknown", Some(ForwardedClient::Unknown)),
            (
                "198.51.100.7, unknown, 10.1.2.3",
                Some(ForwardedClient::Unknown),
            ),
            ("198.51.100.7, _gateway", Some(ForwardedClient::Unknown)),
            ("198.51.100.7, , 203.0.113.9", known("203.0.113.9")),
            (
                "198.51.100.7, 203.0.113.9, ",
                Some(ForwardedClient::Unknown),
            ),
            // Client-written garbage left of the client is never read.
            ("unknown, 203.0.113.9", known("203.0.113.9")),
            ("10.9.9.9, 10.1.2.3", known("10.9.9.9")),
        ] {
            let entries: Vec<&str> = header.split(',').collect();
            assert_eq!(
                forwarded_client(&entries, &trusted),
                expected,
                "for {header:?}"
            );
        }
        assert_eq!(forwarded_client(&[], &trusted), None);
    }
}
