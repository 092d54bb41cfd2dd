//! The blocking HTTP layer: one request in, status, headers and parsed JSON out.

use std::time::Duration;

use reqwest::blocking::Client as HttpClient;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap};
use serde_json::Value;

/// The SCIM media type (RFC 7644 §3.1).
pub const SCIM_JSON: &str = "application/scim+json";

/// How a request authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// `Authorization: Bearer <token>`.
    Bearer,
    /// No `Authorization` header.
    Missing,
    /// This exact `Authorization` value; `{token}` is replaced by the token.
    Raw(String),
}

/// A request body.
#[derive(Debug, Clone)]
pub enum Body {
    /// JSON sent as `application/scim+json`.
    Json(Value),
    /// Bytes with the given content type.
    Raw {
        content_type: String,
        bytes: Vec<u8>,
    },
}

/// One request, relative to the base URL.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: reqwest::Method,
    /// Path and query after the base URL, already percent-encoded (`/Users?filter=…`).
    pub path: String,
    pub body: Option<Body>,
    pub auth: Auth,
    /// Extra headers; `Accept` defaults to `application/scim+json`.
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// A request with bearer auth and no body.
    pub fn new(method: reqwest::Method, path: impl Into<String>) -> Request {
        Request {
            method,
            path: path.into(),
            body: None,
            auth: Auth::Bearer,
            headers: Vec::new(),
        }
    }

    /// This request with a JSON body.
    pub fn json(mut self, body: Value) -> Request {
        self.body = Some(Body::Json(body));
        self
    }

    /// This request with a raw body of the given content type.
    pub fn raw(mut self, content_type: &str, bytes: impl Into<Vec<u8>>) -> Request {
        self.body = Some(Body::Raw {
            content_type: content_type.to_owned(),
            bytes: bytes.into(),
        });
        self
    }

    /// This request with another `Authorization`.
    pub fn auth(mut self, auth: Auth) -> Request {
        self.auth = auth;
        self
    }

    /// This request with an extra header.
    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// `METHOD /path` plus a short body excerpt, for failure lines.
    pub fn describe(&self) -> String {
        let mut line = format!("{} {}", self.method, self.path);
        match &self.body {
            Some(Body::Json(value)) => {
                line.push(' ');
                line.push_str(&excerpt(&value.to_string(), 300));
            }
            Some(Body::Raw {
                content_type,
                bytes,
            }) => line.push_str(&format!(" [{content_type}, {} bytes]", bytes.len())),
            None => {}
        }
        line
    }
}

/// A response: status, the headers the cases look at, and the body parsed as JSON when it is.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    /// The parsed body; `Value::Null` when empty or not JSON.
    pub body: Value,
}

impl Response {
    /// A header as text, if present and printable.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The media type of `Content-Type`, without parameters, lowercased.
    pub fn media_type(&self) -> Option<String> {
        self.header("content-type").map(|value| {
            value
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
    }

    /// `status body-excerpt`, for failure lines.
    pub fn describe(&self) -> String {
        if self.text.is_empty() {
            format!("{} (empty body)", self.status)
        } else {
            format!("{} {}", self.status, excerpt(&self.text, 400))
        }
    }
}

/// The text up to `max` characters, with `…` when cut.
pub fn excerpt(text: &str, max: usize) -> String {
    let one_line = text.replace(['\n', '\r'], " ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        let mut cut: String = one_line.chars().take(max).collect();
        cut.push('…');
        cut
    }
}

/// Percent-encodes a query-string value (everything but RFC 3986 unreserved characters).
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A SCIM server at a base URL with a token.
#[derive(Debug, Clone)]
pub struct Client {
    http: HttpClient,
    base_url: String,
    token: String,
}

impl Client {
    /// A client for `base_url` (e.g. `https://host/scim/v2`; a trailing `/` is ignored).
    pub fn new(base_url: &str, token: &str) -> Result<Client, reqwest::Error> {
        let http = HttpClient::builder()
            .timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("scim-conformance/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Client {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
        })
    }

    /// The base URL without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Sends one request; transport failures are returned as text.
    pub fn send(&self, request: &Request) -> Result<Response, String> {
        let url = format!("{}{}", self.base_url, request.path);
        let mut builder = self.http.request(request.method.clone(), &url);
        if !request
            .headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("accept"))
        {
            builder = builder.header(ACCEPT, SCIM_JSON);
        }
        match &request.auth {
            Auth::Bearer => {
                builder = builder.header(AUTHORIZATION, format!("Bearer {}", self.token))
            }
            Auth::Missing => {}
            Auth::Raw(value) => {
                builder = builder.header(AUTHORIZATION, value.replace("{token}", &self.token));
            }
        }
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        match &request.body {
            Some(Body::Json(value)) => {
                builder = builder
                    .header(CONTENT_TYPE, SCIM_JSON)
                    .body(value.to_string());
            }
            Some(Body::Raw {
                content_type,
                bytes,
            }) => {
                builder = builder
                    .header(CONTENT_TYPE, content_type.as_str())
                    .body(bytes.clone());
            }
            None => {}
        }
        let response = builder
            .send()
            .map_err(|e| format!("transport error: {e}"))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response
            .text()
            .map_err(|e| format!("reading the body failed: {e}"))?;
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Response {
            status,
            headers,
            text,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_keeps_unreserved_and_escapes_the_rest() {
        assert_eq!(
            encode("userName eq \"a+b@x.example\""),
            "userName%20eq%20%22a%2Bb%40x.example%22"
        );
    }

    #[test]
    fn excerpt_cuts_long_text_on_characters() {
        assert_eq!(excerpt("héllo", 2), "hé…");
        assert_eq!(excerpt("a\nb", 5), "a b");
    }
}
