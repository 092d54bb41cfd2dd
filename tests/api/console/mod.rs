//! The admin console, through a real browser and over plain HTTP.

mod connection;
mod directory;
mod events;
mod people;
mod scoping;
mod settings;
mod shell;
mod sign_in;
mod tokens;
mod zones;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, SET_COOKIE};

use crate::helpers::TestApp;
use crate::helpers::browser::FIRST_OWNER;

/// A client that does not follow redirects, so tests see the 303s the console answers.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The `Set-Cookie` header setting cookie `name`.
pub fn set_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with(&format!("{name}=")))
}

/// The value a `Set-Cookie` header gives its cookie.
pub fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .and_then(|pair| pair.split_once('='))
        .map(|(_, value)| value.to_owned())
        .unwrap_or_default()
}

/// The `value` of the hidden input named `name` in `html`.
pub fn hidden_field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no field {name} in {html}"))
        + marker.len();
    let rest = &html[start..];
    rest[..rest.find('"').expect("closing quote")].to_owned()
}

/// A page of the console as plain HTTP sees it.
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

pub async fn get(app: &TestApp, path: &str, cookie: Option<&str>) -> Page {
    let mut request = http_client().get(app.url(path));
    if let Some(cookie) = cookie {
        request = request.header("Cookie", cookie);
    }
    into_page(request.send().await.expect("request")).await
}

pub async fn into_page(response: reqwest::Response) -> Page {
    Page {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.text().await.expect("body"),
    }
}

impl Page {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
    }

    /// Asserts an HTML page (never SCIM JSON).
    pub fn assert_html(&self) {
        assert!(
            self.header("content-type").starts_with("text/html"),
            "{}: {} {}",
            self.status,
            self.header("content-type"),
            self.body
        );
        assert!(self.body.starts_with("<!doctype html>"), "{}", self.body);
    }
}

/// The first owner's address and password in these tests.
pub const OWNER_EMAIL: &str = FIRST_OWNER.0;
pub const OWNER_PASSWORD: &str = FIRST_OWNER.1;

/// A signed-in session as plain HTTP holds it.
pub struct HttpSession {
    /// `scimd_session=…`, for a `Cookie` header.
    pub cookie: String,
    /// The `Set-Cookie` that started it.
    pub set_cookie: String,
    /// The session's CSRF token, read from a page's form.
    pub csrf: String,
}

/// The pre-session form token (cookie and field) of the page at `path`.
pub async fn form_token(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> (String, String) {
    let mut request = http_client().get(app.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let page = into_page(request.send().await.unwrap()).await;
    assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
    let cookie = cookie_value(set_cookie(&page.headers, "scimd_form").expect("form cookie"));
    (
        format!("scimd_form={cookie}"),
        hidden_field(&page.body, "csrf"),
    )
}

/// Follows the first start's set-up link over HTTP: the first owner of `default`, signed in.
pub async fn set_up_first_owner(app: &TestApp) -> HttpSession {
    let (form_cookie, csrf) = form_token(app, &app.setup_path, &[]).await;
    let code = app
        .setup_path
        .split("code=")
        .nth(1)
        .expect("code")
        .to_owned();
    let response = http_client()
        .post(app.url("/console/setup"))
        .header("Cookie", form_cookie)
        .header("Origin", &app.base_url)
        .form(&[
            ("csrf", csrf.as_str()),
            ("code", &code),
            ("email", OWNER_EMAIL),
            ("display_name", "Ada Owner"),
            ("password", OWNER_PASSWORD),
            ("password_again", OWNER_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let page = into_page(response).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    session_from(app, &page).await
}

/// The session a sign-in or set-up response started, with its CSRF token.
pub async fn session_from(app: &TestApp, page: &Page) -> HttpSession {
    let set_cookie = set_cookie(&page.headers, "scimd_session")
        .expect("session cookie")
        .to_owned();
    let cookie = format!("scimd_session={}", cookie_value(&set_cookie));
    let tokens = get(app, "/console/orgs/default/tokens", Some(&cookie)).await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.body);
    HttpSession {
        csrf: hidden_field(&tokens.body, "csrf"),
        cookie,
        set_cookie,
    }
}

/// Signs `email` (password [`OWNER_PASSWORD`]) in with the sign-in form, sending `headers`
/// and `origin`; asserts the 303 that starts a session.
pub async fn sign_in_over_http(
    app: &TestApp,
    email: &str,
    headers: &[(&str, &str)],
    origin: &str,
) -> Page {
    let (form_cookie, csrf) = form_token(app, "/console/sign-in", headers).await;
    let mut request = http_client()
        .post(app.url("/console/sign-in"))
        .header("Cookie", form_cookie)
        .header("Origin", origin)
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", email),
            ("password", OWNER_PASSWORD),
        ]);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let page = into_page(request.send().await.unwrap()).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    page
}

/// Adds `email` to `default` with `role` and the password [`OWNER_PASSWORD`], through
/// `scimd admin create --password-stdin`, and signs them in over HTTP.
pub async fn add_person(app: &TestApp, email: &str, role: &str) -> HttpSession {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_scimd"))
        .args(["admin", "create", "--org", "default", "--email", email])
        .args(["--role", role, "--password-stdin"])
        .env("DATABASE_URL", &app.database.url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(format!("{OWNER_PASSWORD}\n").as_bytes())
        .unwrap();
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let page = sign_in_over_http(app, email, &[], &app.base_url).await;
    session_from(app, &page).await
}

/// POSTs `fields` and the session's CSRF token to `path`, as the page's form would.
pub async fn post_form(
    app: &TestApp,
    session: &HttpSession,
    path: &str,
    fields: &[(&str, &str)],
) -> Page {
    let mut form: Vec<(&str, &str)> = vec![("csrf", session.csrf.as_str())];
    form.extend_from_slice(fields);
    let response = http_client()
        .post(app.url(path))
        .header("Cookie", &session.cookie)
        .header("Origin", &app.base_url)
        .form(&form)
        .send()
        .await
        .unwrap();
    into_page(response).await
}
