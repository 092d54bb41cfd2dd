//! What a case is, the context it runs in, and the assertions it makes on responses.

use reqwest::Method;
use serde::Serialize;
use serde_json::{Value, json};

use crate::client::{Client, Request, Response, SCIM_JSON, encode};

/// The media type a client may ask for instead of [`SCIM_JSON`] (RFC 7644 §3.8).
const PLAIN_JSON: &str = "application/json";

/// The core User schema URN (RFC 7643 §4.1).
pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The core Group schema URN (RFC 7643 §4.2).
pub const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The enterprise User extension URN (RFC 7643 §4.3).
pub const ENTERPRISE_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// The ListResponse message URN (RFC 7644 §3.4.2).
pub const LIST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// The Error message URN (RFC 7644 §3.12).
pub const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// The PatchOp message URN (RFC 7644 §3.5.2).
pub const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A group of cases named after where they come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Okta's SCIM 2.0 SPEC test steps and the requests Okta sends.
    Okta,
    /// The requests and expectations of Microsoft Entra ID provisioning.
    Entra,
    /// RFC 7643/7644 behaviour not specific to an identity provider.
    Rfc,
    /// OneLogin's SCIM Provisioner connectors (`IDPS.md` §1).
    Onelogin,
    /// PingFederate's SCIM Provisioner and PingOne outbound provisioning (`IDPS.md` §2).
    Ping,
    /// JumpCloud's custom SCIM identity management integration (`IDPS.md` §3).
    Jumpcloud,
    /// authentik's outbound SCIM provider (`IDPS.md` §4).
    Authentik,
    /// Keycloak's SCIM client extension, built on the UnboundID SCIM 2 SDK (`IDPS.md` §5).
    Keycloak,
    /// Scripts written against GitHub's SCIM REST documentation (`IDPS.md` §6).
    Github,
}

impl Profile {
    /// Every profile, in report order.
    pub const ALL: [Profile; 9] = [
        Profile::Okta,
        Profile::Entra,
        Profile::Rfc,
        Profile::Onelogin,
        Profile::Ping,
        Profile::Jumpcloud,
        Profile::Authentik,
        Profile::Keycloak,
        Profile::Github,
    ];

    /// The lowercase name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Okta => "okta",
            Profile::Entra => "entra",
            Profile::Rfc => "rfc",
            Profile::Onelogin => "onelogin",
            Profile::Ping => "ping",
            Profile::Jumpcloud => "jumpcloud",
            Profile::Authentik => "authentik",
            Profile::Keycloak => "keycloak",
            Profile::Github => "github",
        }
    }
}

/// One conformance case.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// Stable identifier, e.g. `OKTA-06`.
    pub id: &'static str,
    /// Where the expectation comes from (SPEC test step, Microsoft document, RFC section).
    pub source: &'static str,
    /// What the case checks, in one line.
    pub purpose: &'static str,
    pub profiles: &'static [Profile],
    pub run: fn(&mut Ctx) -> Outcome,
}

/// Why a case did not pass.
#[derive(Debug, Clone)]
pub enum Stop {
    Fail(Failure),
    /// The server does not offer a feature the case needs; not a failure.
    Skip(String),
}

/// A failed expectation: the request, what was expected, what came back.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub request: String,
    pub expected: String,
    pub got: String,
}

/// The result of running a case: `Ok` is a pass.
pub type Outcome = Result<(), Stop>;

/// Optional features a server advertises in `/ServiceProviderConfig` (RFC 7643 §5, RFC 9865 §4).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Features {
    pub patch: bool,
    pub bulk: bool,
    pub filter: bool,
    pub sort: bool,
    pub etag: bool,
    pub cursor: bool,
}

/// One optional feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    Patch,
    Bulk,
    Filter,
    Sort,
    Etag,
    Cursor,
}

impl Features {
    /// Every optional feature switched on.
    pub const ALL: Features = Features {
        patch: true,
        bulk: true,
        filter: true,
        sort: true,
        etag: true,
        cursor: true,
    };

    /// Reads the features from a ServiceProviderConfig document; anything missing is false.
    pub fn from_config(config: &Value) -> Features {
        let flag = |pointer: &str| config.pointer(pointer).and_then(Value::as_bool) == Some(true);
        Features {
            patch: flag("/patch/supported"),
            bulk: flag("/bulk/supported"),
            filter: flag("/filter/supported"),
            sort: flag("/sort/supported"),
            etag: flag("/etag/supported"),
            cursor: flag("/pagination/cursor"),
        }
    }

    fn has(&self, feature: Feature) -> (bool, &'static str) {
        match feature {
            Feature::Patch => (self.patch, "patch.supported"),
            Feature::Bulk => (self.bulk, "bulk.supported"),
            Feature::Filter => (self.filter, "filter.supported"),
            Feature::Sort => (self.sort, "sort.supported"),
            Feature::Etag => (self.etag, "etag.supported"),
            Feature::Cursor => (self.cursor, "pagination.cursor"),
        }
    }
}

/// What a running case sees: the client, the run prefix, the features, and its cleanup list.
pub struct Ctx<'a> {
    client: &'a Client,
    prefix: &'a str,
    features: Features,
    case_id: &'static str,
    counter: u32,
    cleanup: Vec<String>,
}

impl<'a> Ctx<'a> {
    /// A context for one case.
    pub fn new(
        client: &'a Client,
        prefix: &'a str,
        features: Features,
        case_id: &'static str,
    ) -> Ctx<'a> {
        Ctx {
            client,
            prefix,
            features,
            case_id,
            counter: 0,
            cleanup: Vec::new(),
        }
    }

    /// The server's advertised features.
    pub fn features(&self) -> Features {
        self.features
    }

    /// The base URL the cases run against.
    pub fn base_url(&self) -> &str {
        self.client.base_url()
    }

    /// Skips the case unless the server advertises `feature`.
    pub fn require(&self, feature: Feature) -> Outcome {
        let (supported, name) = self.features.has(feature);
        if supported {
            Ok(())
        } else {
            Err(Stop::Skip(format!(
                "ServiceProviderConfig: {name} is not true"
            )))
        }
    }

    /// The prefix every resource of this case starts with: `<run prefix><case id>-`.
    pub fn case_prefix(&self) -> String {
        format!("{}{}-", self.prefix, self.case_id.to_ascii_lowercase())
    }

    /// A fresh run-unique name: `<run prefix><case id>-<label><n>`.
    pub fn unique(&mut self, label: &str) -> String {
        self.counter += 1;
        format!("{}{label}{}", self.case_prefix(), self.counter)
    }

    /// A fresh run-unique userName shaped like an e-mail address.
    pub fn user_name(&mut self, label: &str) -> String {
        format!("{}@conformance.example", self.unique(label))
    }

    /// A filter selecting exactly this case's users (or groups, with `displayName`).
    pub fn own_filter(&self, attribute: &str) -> String {
        encode(&format!("{attribute} sw \"{}\"", self.case_prefix()))
    }

    /// Sends a request; a transport failure fails the case.
    pub fn send(&mut self, request: Request) -> Result<Reply, Stop> {
        let response = self.client.send(&request).map_err(|got| {
            Stop::Fail(Failure {
                request: request.describe(),
                expected: "an HTTP response".to_owned(),
                got,
            })
        })?;
        Ok(Reply { request, response })
    }

    /// `GET path`.
    pub fn get(&mut self, path: &str) -> Result<Reply, Stop> {
        self.send(Request::new(Method::GET, path))
    }

    /// `POST path` with a JSON body.
    pub fn post(&mut self, path: &str, body: Value) -> Result<Reply, Stop> {
        self.send(Request::new(Method::POST, path).json(body))
    }

    /// `PUT path` with a JSON body.
    pub fn put(&mut self, path: &str, body: Value) -> Result<Reply, Stop> {
        self.send(Request::new(Method::PUT, path).json(body))
    }

    /// `PATCH path` with a PatchOp body of these operations.
    pub fn patch(&mut self, path: &str, operations: Value) -> Result<Reply, Stop> {
        self.send(
            Request::new(Method::PATCH, path)
                .json(json!({"schemas": [PATCH_URN], "Operations": operations})),
        )
    }

    /// PATCHes `path`, expecting 200 with a body or 204, then reads the resource back.
    pub fn patch_and_read(&mut self, path: &str, operations: Value) -> Result<Reply, Stop> {
        self.patch(path, operations)?.ok_or_no_content()?;
        let read = self.get(path)?;
        read.ok(200)?;
        Ok(read)
    }

    /// `DELETE path`.
    pub fn delete(&mut self, path: &str) -> Result<Reply, Stop> {
        self.send(Request::new(Method::DELETE, path))
    }

    /// Remembers a resource (`/Users/{id}` or `/Groups/{id}`) to delete when the case ends.
    pub fn track(&mut self, path: String) {
        if !self.cleanup.contains(&path) {
            self.cleanup.push(path);
        }
    }

    /// Forgets a tracked resource the case deleted itself.
    pub fn untrack(&mut self, path: &str) {
        self.cleanup.retain(|p| p != path);
    }

    /// Creates a resource at `endpoint` (`/Users` or `/Groups`), expecting 201 with an `id`;
    /// the resource is deleted when the case ends. Returns the created resource.
    pub fn create(&mut self, endpoint: &str, body: Value) -> Result<Value, Stop> {
        let reply = self.post(endpoint, body)?;
        if let Some(id) = reply.body().get("id").and_then(Value::as_str) {
            self.track(format!("{endpoint}/{id}"));
        }
        reply.ok(201)?;
        reply.string("/id")?;
        Ok(reply.response.body)
    }

    /// Creates a user with `userName`, `name`, a primary work e-mail and `active: true`,
    /// plus the given extra attributes.
    pub fn create_user(&mut self, label: &str, extra: Value) -> Result<Value, Stop> {
        let user_name = self.user_name(label);
        let mut body = json!({
            "schemas": [USER_URN],
            "userName": user_name,
            "name": {"givenName": "Conformance", "familyName": label},
            "emails": [{"value": user_name, "type": "work", "primary": true}],
            "active": true,
        });
        merge(&mut body, extra);
        self.create("/Users", body)
    }

    /// Creates a group with a run-unique `displayName` and the given member ids.
    pub fn create_group(&mut self, label: &str, member_ids: &[&str]) -> Result<Value, Stop> {
        let members: Vec<Value> = member_ids.iter().map(|id| json!({"value": id})).collect();
        let body = json!({
            "schemas": [GROUP_URN],
            "displayName": self.unique(label),
            "members": members,
        });
        self.create("/Groups", body)
    }

    /// A failure not tied to one response.
    pub fn fail(&self, request: &str, expected: impl Into<String>, got: impl Into<String>) -> Stop {
        Stop::Fail(Failure {
            request: request.to_owned(),
            expected: expected.into(),
            got: got.into(),
        })
    }

    /// Deletes everything the case created, groups first, ignoring the answers.
    pub fn clean_up(&mut self) {
        let mut paths = std::mem::take(&mut self.cleanup);
        paths.reverse();
        paths.sort_by_key(|path| !path.starts_with("/Groups"));
        for path in paths {
            let _ = self.client.send(&Request::new(Method::DELETE, path));
        }
    }
}

/// Merges the keys of `extra` (an object) into `body`, replacing existing ones.
pub fn merge(body: &mut Value, extra: Value) {
    if let (Value::Object(target), Value::Object(source)) = (body, extra) {
        target.extend(source);
    }
}

/// The value of `key` in an object, or `null`; indexing without the panic.
pub fn field<'a>(value: &'a Value, key: &str) -> &'a Value {
    static NULL: Value = Value::Null;
    value.get(key).unwrap_or(&NULL)
}

/// The id of a resource, or an empty string.
pub fn id_of(resource: &Value) -> &str {
    resource
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// A request with its response, and the assertions cases make on it.
#[derive(Debug, Clone)]
pub struct Reply {
    pub request: Request,
    pub response: Response,
}

impl Reply {
    /// The status code.
    pub fn status(&self) -> u16 {
        self.response.status
    }

    /// The parsed JSON body (`Null` when empty or not JSON).
    pub fn body(&self) -> &Value {
        &self.response.body
    }

    /// A failure of this exchange with the given expectation.
    pub fn fail(&self, expected: impl Into<String>) -> Stop {
        Stop::Fail(Failure {
            request: self.request.describe(),
            expected: expected.into(),
            got: self.response.describe(),
        })
    }

    /// Fails unless `condition` holds.
    pub fn check(&self, condition: bool, expected: impl Into<String>) -> Outcome {
        if condition {
            Ok(())
        } else {
            Err(self.fail(expected))
        }
    }

    /// Expects one of these statuses.
    pub fn expect_status(&self, allowed: &[u16]) -> Outcome {
        let expected = allowed
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(" or ");
        self.check(
            allowed.contains(&self.status()),
            format!("status {expected}"),
        )
    }

    /// Expects `application/scim+json` on a response with a body (RFC 7644 §3.1, §8.1), or
    /// `application/json` when the request's `Accept` named it (§3.8: servers SHOULD honour it).
    pub fn expect_scim_content_type(&self) -> Outcome {
        if self.response.text.is_empty() {
            return Ok(());
        }
        let asked_plain_json = self.request.headers.iter().any(|(name, value)| {
            name.eq_ignore_ascii_case("accept") && value.to_ascii_lowercase().contains(PLAIN_JSON)
        });
        match self.response.media_type() {
            Some(media) if media == SCIM_JSON => Ok(()),
            Some(media) if asked_plain_json && media == PLAIN_JSON => Ok(()),
            other => Err(self.fail(format!(
                "Content-Type {SCIM_JSON} (got {})",
                other.unwrap_or_else(|| "none".to_owned())
            ))),
        }
    }

    /// Expects `status`, the SCIM content type and a JSON object body.
    pub fn ok(&self, status: u16) -> Outcome {
        self.expect_status(&[status])?;
        self.expect_scim_content_type()?;
        self.check(self.body().is_object(), "a JSON object body")
    }

    /// Expects 200 with a body, or 204 with none; the usual PATCH answer.
    pub fn ok_or_no_content(&self) -> Outcome {
        self.expect_status(&[200, 204])?;
        if self.status() == 200 {
            self.ok(200)?;
        }
        Ok(())
    }

    /// Expects a SCIM error (RFC 7644 §3.12): `status` as a string, the Error URN, a
    /// non-empty `detail`, and `scimType` when one is given.
    pub fn expect_error(&self, status: u16, scim_type: Option<&str>) -> Outcome {
        self.expect_status(&[status])?;
        self.expect_scim_content_type()?;
        let body = self.body();
        self.check(
            body.get("schemas") == Some(&json!([ERROR_URN])),
            format!("schemas [\"{ERROR_URN}\"]"),
        )?;
        self.check(
            body.get("status") == Some(&json!(status.to_string())),
            format!("\"status\": \"{status}\" (a JSON string)"),
        )?;
        self.check(
            body.get("detail")
                .and_then(Value::as_str)
                .is_some_and(|d| !d.is_empty()),
            "a non-empty \"detail\"",
        )?;
        if let Some(scim_type) = scim_type {
            self.check(
                body.get("scimType").and_then(Value::as_str) == Some(scim_type),
                format!("\"scimType\": \"{scim_type}\""),
            )?;
        }
        Ok(())
    }

    /// Expects a 200 ListResponse (RFC 7644 §3.4.2) with integer counts, `itemsPerPage` equal
    /// to the number of `Resources`, and optionally the given total and page size.
    pub fn expect_list(
        &self,
        total: Option<u64>,
        items: Option<usize>,
    ) -> Result<Vec<Value>, Stop> {
        self.ok(200)?;
        let body = self.body();
        let schemas_ok = body
            .get("schemas")
            .and_then(Value::as_array)
            .is_some_and(|s| s.contains(&json!(LIST_URN)));
        self.check(schemas_ok, format!("schemas containing {LIST_URN}"))?;
        for key in ["totalResults", "itemsPerPage", "startIndex"] {
            self.check(
                body.get(key).is_some_and(Value::is_u64),
                format!("\"{key}\" as a JSON integer"),
            )?;
        }
        let resources = body
            .get("Resources")
            .and_then(Value::as_array)
            .cloned()
            .ok_or_else(|| self.fail("\"Resources\" as an array (empty when nothing matches)"))?;
        self.check(
            body.get("itemsPerPage").and_then(Value::as_u64) == Some(resources.len() as u64),
            "itemsPerPage equal to the number of Resources",
        )?;
        if let Some(total) = total {
            self.check(
                body.get("totalResults").and_then(Value::as_u64) == Some(total),
                format!("totalResults {total}"),
            )?;
        }
        if let Some(items) = items {
            self.check(resources.len() == items, format!("{items} Resources"))?;
        }
        Ok(resources)
    }

    /// The value at a JSON pointer.
    pub fn at(&self, pointer: &str) -> Option<&Value> {
        self.body().pointer(pointer)
    }

    /// Expects the value at `pointer` to equal `expected`.
    pub fn expect_at(&self, pointer: &str, expected: Value) -> Outcome {
        let got = self.at(pointer);
        self.check(got == Some(&expected), format!("{pointer} = {expected}"))
    }

    /// Expects no value at `pointer`.
    pub fn expect_absent(&self, pointer: &str) -> Outcome {
        self.check(self.at(pointer).is_none(), format!("no {pointer}"))
    }

    /// The non-empty string at `pointer`.
    pub fn string(&self, pointer: &str) -> Result<String, Stop> {
        self.at(pointer)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| self.fail(format!("a non-empty string at {pointer}")))
    }
}

/// Whether a JSON document holds a `null` anywhere.
pub fn has_null(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.iter().any(has_null),
        Value::Object(map) => map.values().any(has_null),
        _ => false,
    }
}

/// The `value`s of a group's `members`, sorted.
pub fn member_ids(group: &Value) -> Vec<String> {
    let mut ids: Vec<String> = group
        .get("members")
        .and_then(Value::as_array)
        .map(|members| {
            members
                .iter()
                .filter_map(|m| m.get("value").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

/// The given ids, sorted, as owned strings.
pub fn sorted(ids: &[&str]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|id| (*id).to_owned()).collect();
    ids.sort();
    ids
}
