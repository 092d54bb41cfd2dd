//! Typed SCIM requests against a [`TestApp`], and the dossier's fixtures (§4.0).

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::app::{TestApp, assert_scim_error};
use super::cli::{scimd, stdout};

pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const LIST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const SCIM_JSON: &str = "application/scim+json";

/// One answer of scimd: status, headers and the JSON body (`Null` when the body is empty).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    /// The body as received, for asserting emptiness.
    pub text: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// The `ETag` header, which must be present.
    pub fn etag(&self) -> String {
        self.header("etag")
            .unwrap_or_else(|| panic!("no ETag header: {self:?}"))
            .to_owned()
    }

    /// Asserts the status, with the body in the failure message.
    pub fn assert_status(&self, expected: StatusCode) -> &Self {
        assert_eq!(self.status, expected, "body: {}", self.text);
        self
    }

    /// Asserts a SCIM error with `status` and `scim_type`.
    pub fn assert_error(&self, status: StatusCode, scim_type: Option<&str>) {
        assert_scim_error(self.status, &self.body, status, scim_type);
    }

    /// Asserts 201/200 with `Location` (on 201) and `ETag` matching `meta`.
    pub fn assert_resource(&self, expected: StatusCode, resource_type: &str) -> &Value {
        self.assert_status(expected);
        let meta = &self.body["meta"];
        assert_eq!(meta["resourceType"], resource_type, "{}", self.body);
        let version = meta["version"].as_str().expect("meta.version");
        assert!(version.starts_with("W/\""), "weak ETag expected: {version}");
        assert_eq!(self.etag(), version, "ETag header == meta.version");
        if expected == StatusCode::CREATED {
            assert_eq!(
                self.header("location"),
                meta["location"].as_str(),
                "Location header == meta.location"
            );
        }
        &self.body
    }
}

/// Extra request headers as `(name, value)`; they replace the defaults (token, content type).
pub type Headers<'a> = &'a [(&'a str, &'a str)];

impl TestApp {
    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.token)
    }

    /// Sends a request with the `default` org's token; `body` is `(content type, bytes)`.
    /// Every answer with a body must be `application/scim+json` (or, when `headers` set `Accept`,
    /// `application/json`) and JSON (RFC 7644 §3.1, §3.8, E-03).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
        headers: Headers<'_>,
    ) -> Reply {
        let headers_sent = headers;
        let mut map = HeaderMap::new();
        map.insert("authorization", self.bearer().parse().unwrap());
        let mut request = self.client.request(method, self.url(path));
        if let Some((content_type, bytes)) = body {
            map.insert("content-type", content_type.parse().unwrap());
            request = request.body(bytes);
        }
        for (name, value) in headers {
            map.insert(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        let response = request.headers(map).send().await.expect("request");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("response body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            let content_type = headers
                .get("content-type")
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default();
            // A test choosing `Accept` checks the negotiated type itself.
            let chose_accept = headers_sent
                .iter()
                .any(|(name, _)| name.eq_ignore_ascii_case("accept"));
            assert!(
                content_type.starts_with(SCIM_JSON)
                    || (chose_accept && content_type.starts_with("application/json")),
                "{status} answered with Content-Type {content_type:?}: {text}"
            );
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
        };
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get_reply(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None, &[]).await
    }

    pub async fn get_reply_with(&self, path: &str, headers: Headers<'_>) -> Reply {
        self.send(Method::GET, path, None, headers).await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Reply {
        self.post_json_with(path, body, &[]).await
    }

    pub async fn post_json_with(&self, path: &str, body: &Value, headers: Headers<'_>) -> Reply {
        self.send(
            Method::POST,
            path,
            Some((SCIM_JSON, to_bytes(body))),
            headers,
        )
        .await
    }

    pub async fn put_json(&self, path: &str, body: &Value) -> Reply {
        self.put_json_with(path, body, &[]).await
    }

    pub async fn put_json_with(&self, path: &str, body: &Value, headers: Headers<'_>) -> Reply {
        self.send(
            Method::PUT,
            path,
            Some((SCIM_JSON, to_bytes(body))),
            headers,
        )
        .await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.delete_with(path, &[]).await
    }

    pub async fn delete_with(&self, path: &str, headers: Headers<'_>) -> Reply {
        self.send(Method::DELETE, path, None, headers).await
    }

    /// A request whose body is sent verbatim with the given content type.
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: &str,
    ) -> Reply {
        self.send(
            method,
            path,
            Some((content_type, body.as_bytes().to_vec())),
            &[],
        )
        .await
    }

    /// `POST /Users`, asserting 201 and the `Location`/`ETag` headers; answers the user.
    pub async fn create_user(&self, body: &Value) -> Value {
        self.post_json("/scim/v2/Users", body)
            .await
            .assert_resource(StatusCode::CREATED, "User")
            .clone()
    }

    /// `POST /Groups`, asserting 201 and the `Location`/`ETag` headers; answers the group.
    pub async fn create_group(&self, body: &Value) -> Value {
        self.post_json("/scim/v2/Groups", body)
            .await
            .assert_resource(StatusCode::CREATED, "Group")
            .clone()
    }

    /// `GET` of one resource, asserting 200 and its `ETag`.
    pub async fn fetch(&self, path: &str) -> Value {
        let reply = self.get_reply(path).await;
        let resource_type = if path.contains("/Groups/") {
            "Group"
        } else {
            "User"
        };
        reply.assert_resource(StatusCode::OK, resource_type).clone()
    }

    /// `GET` of a list, asserting a well-formed ListResponse (RFC 7644 §3.4.2).
    pub async fn list(&self, path: &str) -> Value {
        self.list_with(path, &[]).await
    }

    pub async fn list_with(&self, path: &str, headers: Headers<'_>) -> Value {
        let reply = self.get_reply_with(path, headers).await;
        reply.assert_status(StatusCode::OK);
        assert_list_shape(&reply.body);
        reply.body
    }

    /// Creates organization `name` on the CLI and answers a fresh token for it.
    pub fn second_org_token(&self, name: &str) -> String {
        let created = scimd(&self.database.url, &["org", "create", name]);
        assert!(created.status.success(), "{created:?}");
        let token = scimd(
            &self.database.url,
            &["token", "create", "--org", name, "--name", "t"],
        );
        assert!(token.status.success(), "{token:?}");
        stdout(&token).trim().to_owned()
    }
}

fn to_bytes(body: &Value) -> Vec<u8> {
    serde_json::to_vec(body).unwrap()
}

/// `/scim/v2/Users/{id}` for a user (or `Groups` for a group) answered by the server.
pub fn path_of(resource: &Value) -> String {
    let endpoint = match resource["meta"]["resourceType"].as_str() {
        Some("Group") => "Groups",
        _ => "Users",
    };
    format!("/scim/v2/{endpoint}/{}", id_of(resource))
}

pub fn id_of(resource: &Value) -> &str {
    resource["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id: {resource}"))
}

/// `meta.version`, the resource's current ETag.
pub fn version_of(resource: &Value) -> &str {
    resource["meta"]["version"]
        .as_str()
        .unwrap_or_else(|| panic!("no meta.version: {resource}"))
}

/// The `id`s of a list response's resources, in order.
pub fn ids_in(list: &Value) -> Vec<String> {
    list["Resources"]
        .as_array()
        .expect("Resources")
        .iter()
        .map(|resource| id_of(resource).to_owned())
        .collect()
}

/// A group's member values, sorted; an absent `members` is no members.
pub fn member_values(group: &Value) -> Vec<String> {
    let mut values: Vec<String> = group
        .get("members")
        .map(|members| members.as_array().expect("members is an array").clone())
        .unwrap_or_default()
        .iter()
        .map(|member| member["value"].as_str().expect("member value").to_owned())
        .collect();
    values.sort();
    values
}

pub fn sorted(ids: &[&str]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|id| (*id).to_owned()).collect();
    ids.sort();
    ids
}

/// LIST shape (dossier §4.0): ListResponse URN, integer counts, `itemsPerPage` = returned.
pub fn assert_list_shape(list: &Value) {
    assert_eq!(list["schemas"], json!([LIST_URN]), "{list}");
    let resources = list["Resources"].as_array().expect("Resources array");
    assert!(list["totalResults"].is_u64(), "{list}");
    assert!(list["startIndex"].is_u64(), "{list}");
    assert_eq!(list["itemsPerPage"], json!(resources.len()), "{list}");
}

/// Fails if `value` holds a JSON `null` anywhere.
pub fn assert_no_nulls(value: &Value) {
    fn walk(value: &Value, path: &str, whole: &Value) {
        match value {
            Value::Null => panic!("null at {path} in {whole}"),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(item, &format!("{path}[{i}]"), whole);
                }
            }
            Value::Object(map) => {
                for (key, item) in map {
                    walk(item, &format!("{path}.{key}"), whole);
                }
            }
            _ => {}
        }
    }
    walk(value, "$", value);
}

/// A user shaped like the dossier's U1 (§4.0).
pub fn user(user_name: &str, external_id: &str, given: &str, family: &str) -> Value {
    json!({
        "schemas": [USER_URN],
        "userName": user_name,
        "externalId": external_id,
        "name": {"givenName": given, "familyName": family},
        "emails": [{"value": user_name, "type": "work", "primary": true}],
        "active": true
    })
}

/// U1.
pub fn alice() -> Value {
    user("alice@a.example", "ext-alice", "Alice", "Anders")
}

/// U2.
pub fn bob() -> Value {
    user("bob@a.example", "ext-bob", "Bob", "Baker")
}

/// U3.
pub fn carl() -> Value {
    user("carl@a.example", "ext-carl", "Carl", "Clark")
}

/// UB1, seeded in the second organization.
pub fn carol() -> Value {
    user("carol@b.example", "ext-carol", "Carol", "Cole")
}

/// A group with `displayName` and these member ids (no `type`, as Okta sends them).
pub fn group(display_name: &str, members: &[&str]) -> Value {
    let members: Vec<Value> = members.iter().map(|id| json!({"value": id})).collect();
    json!({
        "schemas": [GROUP_URN],
        "displayName": display_name,
        "members": members
    })
}

/// GA1: `Engineering` with these members.
pub fn engineering(members: &[&str]) -> Value {
    let mut body = group("Engineering", members);
    body["externalId"] = json!("ga1-ext");
    body
}

pub const SEARCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

/// Percent-encodes `text` for a query string: everything but RFC 3986 unreserved characters,
/// so a space becomes `%20`.
pub fn encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

impl TestApp {
    /// `GET {endpoint}?filter=…` (percent-encoded), asserting a well-formed ListResponse.
    pub async fn list_filtered(&self, endpoint: &str, filter: &str) -> Value {
        self.list(&format!("{endpoint}?filter={}", encode(filter)))
            .await
    }

    /// `GET {endpoint}?filter=…` without asserting success, for error cases.
    pub async fn filter_reply(&self, endpoint: &str, filter: &str) -> Reply {
        self.get_reply(&format!("{endpoint}?filter={}", encode(filter)))
            .await
    }
}

/// `field` (e.g. `userName`, `displayName`) of each of a list response's resources, in order.
pub fn field_in(list: &Value, field: &str) -> Vec<String> {
    list["Resources"]
        .as_array()
        .expect("Resources")
        .iter()
        .map(|resource| {
            resource[field]
                .as_str()
                .unwrap_or_else(|| panic!("no {field}: {resource}"))
                .to_owned()
        })
        .collect()
}

pub const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A PatchOp body (RFC 7644 §3.5.2) with these operations, given as a JSON array.
pub fn patch_op(operations: Value) -> Value {
    json!({"schemas": [PATCH_URN], "Operations": operations})
}

impl TestApp {
    pub async fn patch_json(&self, path: &str, body: &Value) -> Reply {
        self.patch_json_with(path, body, &[]).await
    }

    pub async fn patch_json_with(&self, path: &str, body: &Value, headers: Headers<'_>) -> Reply {
        self.send(
            Method::PATCH,
            path,
            Some((SCIM_JSON, to_bytes(body))),
            headers,
        )
        .await
    }

    /// PATCHes a user with these operations, asserting 200 and its `ETag`; answers the user.
    pub async fn patch_user(&self, path: &str, operations: Value) -> Value {
        self.patch_json(path, &patch_op(operations))
            .await
            .assert_resource(StatusCode::OK, "User")
            .clone()
    }

    /// PATCHes a group with these operations, asserting 204 with an empty body and an `ETag`;
    /// answers the group as a GET shows it afterwards.
    pub async fn patch_group(&self, path: &str, operations: Value) -> Value {
        let reply = self.patch_json(path, &patch_op(operations)).await;
        reply.assert_status(StatusCode::NO_CONTENT);
        assert_eq!(reply.text, "", "a 204 has no body");
        let etag = reply.etag();
        let group = self.fetch(path).await;
        assert_eq!(
            etag,
            version_of(&group),
            "the 204's ETag is the new version"
        );
        group
    }
}
