//! A real browser for the console tests: headless Chromium driven over WebDriver
//! (chromedriver) from Rust, against the real server.
//!
//! One chromedriver serves the whole test process (started on first use, stopped when the
//! process exits, like the PostgreSQL cluster): it is only a broker, and each test still gets
//! its own Chromium with a fresh profile, so nothing leaks between tests while no test pays
//! for starting the driver.
//!
//! Every page a test reaches through [`Browser::visit`] or [`Browser::click`] is checked with axe-core (serious and critical violations fail the
//! test) and saved as a 1280 px screenshot in `target/console-screenshots/`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::error::CmdError;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const INSTALL_HINT: &str = "the console tests need Chromium and chromedriver at /usr/bin: \
    install them: apt-get install chromium chromium-driver";

/// The e-mail address and password [`Browser::set_up_first_owner`] gives the first owner.
pub const FIRST_OWNER: (&str, &str) = ("owner@example.com", "correct horse battery staple");

/// axe-core, vendored (see tests/assets/README.md).
const AXE: &str = include_str!("../../assets/axe.min.js");

/// The shared chromedriver: its URL, and the pipe whose closing (at process exit) stops it.
struct Driver {
    url: String,
    _reaper: Mutex<(Child, ChildStdin)>,
}

static DRIVER: OnceLock<Driver> = OnceLock::new();

impl Driver {
    fn shared() -> &'static Driver {
        DRIVER.get_or_init(|| Driver::start().unwrap_or_else(|error| panic!("{error}")))
    }

    fn start() -> Result<Driver, String> {
        for program in [CHROMIUM, CHROMEDRIVER] {
            if !Path::new(program).is_file() {
                return Err(format!("{program} is missing; {INSTALL_HINT}"));
            }
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|address| address.port())
            .map_err(|e| format!("no free port for chromedriver: {e}"))?;
        // The shell starts chromedriver as the leader of a new process group and waits for
        // its stdin to close: when this test process ends, however it ends, the group (the
        // driver and the Chromium it started) is stopped.
        let script = format!(
            "setsid {CHROMEDRIVER} --port={port} --allowed-ips=127.0.0.1 >/dev/null 2>&1 & \
             driver=$!; cat >/dev/null; kill -s TERM -- -$driver 2>/dev/null; \
             sleep 2; kill -s KILL -- -$driver 2>/dev/null"
        );
        let mut child = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start chromedriver: {e}; {INSTALL_HINT}"))?;
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| "chromedriver's reaper has no stdin".to_owned())?;
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err(format!(
                    "chromedriver did not listen on {port}; {INSTALL_HINT}"
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Driver {
            url: format!("http://127.0.0.1:{port}"),
            _reaper: Mutex::new((child, stdin)),
        })
    }
}

/// One Chromium session on one server.
pub struct Browser {
    pub client: Client,
    base_url: String,
    /// Names the screenshots: the test, then a counter.
    name: String,
    pages_seen: u32,
    session_id: Option<String>,
    /// Chromium's profile, removed with the browser.
    _profile: tempfile::TempDir,
    closed: bool,
}

impl Browser {
    /// A fresh Chromium (empty profile, 1280 × 900) for the server at `base_url`; `name`
    /// (the test's, with its backend) prefixes its screenshots.
    pub async fn open(base_url: &str, name: &str) -> Browser {
        let driver = Driver::shared();
        let profile = tempfile::Builder::new()
            .prefix("scimd-chromium-")
            .tempdir()
            .expect("profile dir");
        let capabilities: serde_json::Map<String, Value> = serde_json::from_value(json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
        }))
        .expect("capabilities");
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&driver.url)
            .await
            .unwrap_or_else(|e| panic!("cannot start Chromium through chromedriver: {e}"));
        client
            .set_window_size(1280, 900)
            .await
            .expect("window size");
        let session_id = client.session_id().await.ok().flatten();
        remove_old_screenshots(name);
        Browser {
            client,
            base_url: base_url.trim_end_matches('/').to_owned(),
            name: name.to_owned(),
            pages_seen: 0,
            session_id,
            _profile: profile,
            closed: false,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Opens `path` (on the server), then checks the page.
    pub async fn visit(&mut self, path: &str) {
        let url = self.url(path);
        self.client.goto(&url).await.expect("navigate");
        self.check_page().await;
    }

    /// The path (and query) the browser is on.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("current url");
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// The form control labelled `label` (by `<label for>`).
    pub async fn field(&self, label: &str) -> Element {
        let xpath = format!("//label[normalize-space()={}]", xpath_literal(label));
        let label_element = self
            .client
            .find(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|_| panic!("no label {label:?} on {}", self.name));
        let id = label_element
            .attr("for")
            .await
            .expect("label attribute")
            .unwrap_or_else(|| panic!("label {label:?} has no `for`"));
        self.client
            .find(Locator::Id(&id))
            .await
            .unwrap_or_else(|_| panic!("label {label:?} names no control #{id}"))
    }

    /// Types `value` into the control labelled `label`, replacing what it held.
    pub async fn fill(&self, label: &str, value: &str) {
        let field = self.field(label).await;
        field.clear().await.expect("clear field");
        field.send_keys(value).await.expect("type into field");
    }

    /// Selects the radio button or checkbox labelled `label`.
    pub async fn choose(&self, label: &str) {
        self.field(label).await.click().await.expect("choose");
    }

    /// The button or link whose text or accessible name (`aria-label`) is `name`.
    pub async fn find_control(&self, name: &str) -> Option<Element> {
        let literal = xpath_literal(name);
        let xpath = format!(
            "//button[normalize-space()={literal} or @aria-label={literal}] \
             | //a[normalize-space()={literal} or @aria-label={literal}] \
             | //input[(@type='submit' or @type='button') and @value={literal}] \
             | //*[@role='button' and (normalize-space()={literal} or @aria-label={literal})]"
        );
        let found = self.client.find_all(Locator::XPath(&xpath)).await.ok()?;
        for element in found {
            if element.is_displayed().await.unwrap_or(false) {
                return Some(element);
            }
        }
        None
    }

    /// Clicks the button or link named `name`, then checks the page it leads to.
    pub async fn click(&mut self, name: &str) {
        let control = self
            .find_control(name)
            .await
            .unwrap_or_else(|| panic!("no visible button or link {name:?} on {}", self.name));
        control.click().await.expect("click");
        self.settle().await;
        self.check_page().await;
    }

    /// The text the page shows.
    pub async fn text(&self) -> String {
        self.client
            .find(Locator::Css("body"))
            .await
            .expect("body")
            .text()
            .await
            .expect("body text")
    }

    /// The text of the first element matching `css`.
    pub async fn text_of(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|_| panic!("no element {css:?}"))
            .text()
            .await
            .expect("element text")
    }

    /// Fails when a JavaScript dialog (`alert`, `confirm`, `prompt`) is open: how an
    /// injected script that ran would show itself.
    pub async fn assert_no_dialog(&self) {
        if let Ok(text) = self.client.get_alert_text().await {
            panic!("a dialog opened on {}: {text:?}", self.name);
        }
    }

    /// Waits for the page a click or submit started to load.
    async fn settle(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let state = self
                .client
                .execute("return document.readyState", vec![])
                .await;
            match state {
                Ok(Value::String(state)) if state == "complete" => return,
                Err(CmdError::Standard(error))
                    if error.error == fantoccini::error::ErrorStatus::UnexpectedAlertOpen =>
                {
                    return;
                }
                _ if Instant::now() > deadline => panic!("the page did not finish loading"),
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// axe-core and a screenshot, for the page the browser is on.
    pub async fn check_page(&mut self) {
        self.assert_no_dialog().await;
        self.pages_seen += 1;
        let path = self.path().await;
        let slug: String = path
            .trim_start_matches("/console")
            .split('?')
            .next()
            .unwrap_or_default()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let shot = format!(
            "{}-{:02}{}",
            self.name,
            self.pages_seen,
            if slug.trim_matches('-').is_empty() {
                "-console".to_owned()
            } else {
                slug.trim_end_matches('-').to_owned()
            }
        );
        self.screenshot(&shot).await;
        self.run_axe(&path).await;
    }

    /// Checks the current page at a phone's width (390 px), then returns to 1280 px.
    pub async fn check_narrow(&mut self) {
        self.client
            .set_window_size(390, 844)
            .await
            .expect("narrow window");
        self.check_page().await;
        self.assert_no_sideways_scroll().await;
        self.client
            .set_window_size(1280, 900)
            .await
            .expect("wide window");
    }

    /// Asserts that the page as a whole is no wider than the window: only elements inside
    /// their own scrolling wrapper (a wide table) may be. Names the elements that stick out,
    /// outermost first, when it fails.
    async fn assert_no_sideways_scroll(&self) {
        let widths = self
            .client
            .execute(
                "const width = window.innerWidth;
                 const scrolls = e => ['auto', 'scroll', 'hidden'].includes(getComputedStyle(e).overflowX);
                 const inScroller = e => getComputedStyle(e).position !== 'absolute' && (() => { for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) { if (scrolls(p)) return true; } return false; })();
                 const wide = [...document.body.querySelectorAll('*')]
                   .filter(e => e.getBoundingClientRect().right > width + 0.5 && !inScroller(e))
                   .slice(0, 8)
                   .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + String(e.className).split(' ').join('.') : '') + ' ' + Math.round(e.getBoundingClientRect().right));
                 return [document.documentElement.scrollWidth, width, wide];",
                vec![],
            )
            .await
            .expect("measure the page");
        let (scroll_width, inner_width) =
            (widths[0].as_f64().unwrap(), widths[1].as_f64().unwrap());
        assert!(
            scroll_width <= inner_width,
            "{} at {inner_width} px scrolls sideways as a whole ({scroll_width} px wide); sticking out: {}",
            self.name,
            widths[2]
        );
    }

    /// Saves the page as `target/console-screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }

    /// Runs axe-core on the page; serious and critical violations fail the test, listed.
    async fn run_axe(&self, path: &str) {
        let loaded = self
            .client
            .execute("return typeof window.axe === 'object'", vec![])
            .await
            .expect("probe axe");
        if loaded != Value::Bool(true) {
            self.client.execute(AXE, vec![]).await.expect("inject axe");
        }
        let result = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] })
                    .then(r => done(r.violations
                        .filter(v => v.impact === 'serious' || v.impact === 'critical')
                        .map(v => ({ id: v.id, impact: v.impact, help: v.help,
                                     nodes: v.nodes.map(n => n.html).slice(0, 5) }))))
                    .catch(e => done([{ id: 'axe-error', impact: 'critical', help: String(e), nodes: [] }]));",
                vec![],
            )
            .await
            .expect("run axe");
        let violations = result.as_array().cloned().unwrap_or_default();
        if !violations.is_empty() {
            let list: Vec<String> = violations
                .iter()
                .map(|v| {
                    format!(
                        "- {} ({}): {}\n    {}",
                        v["id"].as_str().unwrap_or_default(),
                        v["impact"].as_str().unwrap_or_default(),
                        v["help"].as_str().unwrap_or_default(),
                        v["nodes"]
                            .as_array()
                            .map(|nodes| nodes
                                .iter()
                                .filter_map(Value::as_str)
                                .collect::<Vec<_>>()
                                .join("\n    "))
                            .unwrap_or_default()
                    )
                })
                .collect();
            panic!(
                "axe-core found serious or critical accessibility violations on {path}:\n{}",
                list.join("\n")
            );
        }
    }

    /// Follows the first start's set-up link (`TestApp::setup_path`) and becomes the first
    /// owner of `default`, signed in on its API Tokens page.
    pub async fn set_up_first_owner(&mut self, setup_path: &str) {
        self.visit(setup_path).await;
        self.fill("Email", FIRST_OWNER.0).await;
        self.fill("Display name", "Ada Owner").await;
        self.fill("Password", FIRST_OWNER.1).await;
        self.fill("Password again", FIRST_OWNER.1).await;
        self.click("Create account and sign in").await;
        assert_eq!(self.path().await, "/console/orgs/default/tokens");
    }

    /// Signs in through the sign-in page (the browser must be signed out).
    pub async fn sign_in(&mut self, email: &str, password: &str) {
        self.visit("/console/sign-in").await;
        self.fill("Email", email).await;
        self.fill("Password", password).await;
        self.click("Sign in").await;
    }

    /// Ends the Chromium session.
    pub async fn close(mut self) {
        self.closed = true;
        let client = self.client.clone();
        client.close().await.expect("close the browser");
    }
}

/// A test that panicked never reaches [`Browser::close`]: end its Chromium here, with a plain
/// WebDriver request, so it does not run until the process exits.
impl Drop for Browser {
    fn drop(&mut self) {
        if self.closed {
            return;
        }
        let (Some(session), Some(driver)) = (&self.session_id, DRIVER.get()) else {
            return;
        };
        let address = driver.url.trim_start_matches("http://");
        if let Ok(mut stream) = TcpStream::connect(address) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let request = format!(
                "DELETE /session/{session} HTTP/1.1\r\nHost: {address}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            if stream.write_all(request.as_bytes()).is_ok() {
                let mut sink = Vec::new();
                let _ = stream.read_to_end(&mut sink);
            }
        }
    }
}

/// A test's screenshots from an earlier run, which would mix with this run's.
fn remove_old_screenshots(name: &str) {
    let prefix = format!("{name}-");
    let Ok(entries) = std::fs::read_dir(screenshot_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name();
        if file.to_string_lossy().starts_with(&prefix) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/console-screenshots")
}

/// `text` as an XPath string literal, whatever quotes it holds.
fn xpath_literal(text: &str) -> String {
    if !text.contains('\'') {
        format!("'{text}'")
    } else if !text.contains('"') {
        format!("\"{text}\"")
    } else {
        let parts: Vec<String> = text.split('\'').map(|part| format!("'{part}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}
