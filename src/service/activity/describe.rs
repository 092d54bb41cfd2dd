//! What a recorded request was, told from its parts: which IdP sent it, what it touched, and
//! a sentence for people ("Okta deactivated alice@example.com"). Pure: values in, text out.

use serde_json::Value;

/// The identity provider a request came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idp {
    Okta,
    Entra,
    Other,
}

impl Idp {
    pub const ALL: [Idp; 3] = [Idp::Okta, Idp::Entra, Idp::Other];

    /// As stored and as the filters take it.
    pub fn as_str(self) -> &'static str {
        match self {
            Idp::Okta => "okta",
            Idp::Entra => "entra",
            Idp::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<Idp> {
        Idp::ALL
            .into_iter()
            .find(|idp| idp.as_str().eq_ignore_ascii_case(text.trim()))
    }

    /// The product's name, for summaries; `None` for other clients.
    pub fn label(self) -> Option<&'static str> {
        match self {
            Idp::Okta => Some("Okta"),
            Idp::Entra => Some("Entra"),
            Idp::Other => None,
        }
    }
}

/// Okta's clients say so (`Okta SCIM Client 1.0.0`, the Runscope suite's `OKTA SCIM
/// Integration`), as does Entra's (`Microsoft.AAD.Provisioning`). Without a telling
/// User-Agent, the request's dialect: Entra's capitalised PATCH `op`s and its own group
/// schema, its test-connection probe (`AzureAD_Test-…`), Okta's `urn:okta:` schemas.
pub fn detect_idp(user_agent: Option<&str>, path: &str, request: Option<&Value>) -> Idp {
    let agent = user_agent.unwrap_or_default().to_ascii_lowercase();
    if agent.contains("okta") {
        return Idp::Okta;
    }
    if agent.contains("microsoft.aad") || agent.contains("azure") {
        return Idp::Entra;
    }
    if path.contains("AzureAD_Test") {
        return Idp::Entra;
    }
    let Some(body) = request else {
        return Idp::Other;
    };
    let schemas = body.get("schemas").and_then(Value::as_array);
    let has_schema = |prefix: &str| {
        schemas.is_some_and(|schemas| {
            schemas
                .iter()
                .filter_map(Value::as_str)
                .any(|schema| schema.starts_with(prefix))
        })
    };
    if has_schema("urn:okta:") {
        return Idp::Okta;
    }
    if has_schema("http://schemas.microsoft.com/") {
        return Idp::Entra;
    }
    let capitalised_op = operations(body)
        .filter_map(|op| op.get("op").and_then(Value::as_str))
        .any(|op| matches!(op, "Add" | "Replace" | "Remove"));
    if capitalised_op {
        return Idp::Entra;
    }
    Idp::Other
}

fn operations(body: &Value) -> impl Iterator<Item = &Value> {
    body.get("Operations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// The resource a request addressed, from its path under `/scim/v2`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Addressed {
    /// `User` or `Group`.
    pub resource_type: Option<&'static str>,
    pub id: Option<String>,
    /// `/Bulk`.
    pub bulk: bool,
    /// `.search`.
    pub search: bool,
}

/// Reads `/scim/v2/Users/{id}` and the like.
pub fn addressed(path: &str) -> Addressed {
    let rest = path.strip_prefix("/scim/v2").unwrap_or(path);
    let mut segments = rest.trim_matches('/').split('/');
    let resource_type = match segments.next() {
        Some("Users") => Some("User"),
        Some("Groups") => Some("Group"),
        Some("Bulk") => {
            return Addressed {
                bulk: true,
                ..Addressed::default()
            };
        }
        Some(".search") => {
            return Addressed {
                search: true,
                ..Addressed::default()
            };
        }
        _ => None,
    };
    let next = segments.next().filter(|segment| !segment.is_empty());
    Addressed {
        resource_type,
        search: next == Some(".search"),
        id: next
            .filter(|segment| *segment != ".search")
            .map(str::to_owned),
        bulk: false,
    }
}

/// The `userName` (Users) or `displayName` (Groups) of a body, if it names one.
pub fn name_in(body: Option<&Value>) -> Option<String> {
    let body = body?;
    ["userName", "displayName"]
        .iter()
        .find_map(|key| body.get(*key).and_then(Value::as_str))
        .map(str::to_owned)
}

/// Everything a summary is told from.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    /// Who sent it: the IdP's name, else the token's name (or `AUTH_SECRET`).
    pub who: &'a str,
    pub method: &'a str,
    pub addressed: &'a Addressed,
    /// The resource's `userName`/`displayName`, when known.
    pub name: Option<&'a str>,
    pub status: u16,
    pub scim_type: Option<&'a str>,
    pub request: Option<&'a Value>,
}

/// One sentence: "Okta deactivated alice@example.com", "Entra added 3 members to Finance",
/// "Okta: 409 uniqueness on bob@example.com".
pub fn summarize(facts: &Facts<'_>) -> String {
    let who = facts.who;
    let target = target(facts);
    if facts.status >= 400 {
        let reason = facts
            .scim_type
            .map(|kind| format!(" {kind}"))
            .unwrap_or_default();
        return format!("{who}: {}{reason} on {target}", facts.status);
    }
    let addressed = facts.addressed;
    if addressed.bulk {
        let count = facts.request.map_or(0, |body| operations(body).count());
        let plural = if count == 1 { "" } else { "s" };
        return format!("{who} sent a Bulk request of {count} operation{plural}");
    }
    match facts.method {
        "GET" if addressed.id.is_some() => format!("{who} read {target}"),
        "GET" => format!("{who} listed {target}"),
        "POST" if addressed.search => format!("{who} searched {target}"),
        "POST" => format!("{who} created {target}"),
        "DELETE" => format!("{who} deleted {target}"),
        "PUT" => match facts.request.and_then(|body| active_in(body.get("active"))) {
            Some(false) => format!("{who} deactivated {target}"),
            _ => format!("{who} replaced {target}"),
        },
        "PATCH" => patch_summary(who, &target, facts.request),
        other => format!("{who} sent {other} to {target}"),
    }
}

fn target(facts: &Facts<'_>) -> String {
    let addressed = facts.addressed;
    if let Some(name) = facts.name {
        return match addressed.resource_type {
            Some("Group") if facts.method == "POST" => format!("group {name}"),
            _ => name.to_owned(),
        };
    }
    match (addressed.resource_type, &addressed.id) {
        (Some(kind), Some(id)) => format!("{} {id}", kind.to_lowercase()),
        (Some(kind), None) => format!("{kind}s"),
        _ if addressed.bulk => "Bulk".to_owned(),
        _ => "resources".to_owned(),
    }
}

/// `true`, `false`, or the strings Okta and Entra send for them.
fn active_in(value: Option<&Value>) -> Option<bool> {
    match value? {
        Value::Bool(active) => Some(*active),
        Value::String(text) if text.eq_ignore_ascii_case("true") => Some(true),
        Value::String(text) if text.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn patch_summary(who: &str, target: &str, request: Option<&Value>) -> String {
    let mut active = None;
    let (mut added, mut removed) = (0usize, 0usize);
    for op in request.into_iter().flat_map(operations) {
        let kind = op
            .get("op")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_ascii_lowercase();
        let path = op.get("path").and_then(Value::as_str).unwrap_or_default();
        let value = op.get("value");
        let count = |value: Option<&Value>| match value {
            Some(Value::Array(items)) => items.len(),
            Some(Value::Null) | None => 0,
            Some(_) => 1,
        };
        if path.eq_ignore_ascii_case("active") {
            active = active_in(value).or(active);
        } else if path.is_empty() {
            if let Some(value) = value {
                active = active_in(value.get("active")).or(active);
                if kind == "add" {
                    added += count(value.get("members"));
                }
            }
        } else if path.to_ascii_lowercase().starts_with("members") {
            match kind.as_str() {
                "add" => added += count(value),
                "remove" if path.contains('[') => removed += 1,
                "remove" => removed += count(value),
                _ => {}
            }
        }
    }
    let members = |count: usize| if count == 1 { "member" } else { "members" };
    match (active, added, removed) {
        (Some(false), ..) => format!("{who} deactivated {target}"),
        (Some(true), 0, 0) => format!("{who} reactivated {target}"),
        (_, 0, 0) => format!("{who} updated {target}"),
        (_, added, 0) => format!("{who} added {added} {} to {target}", members(added)),
        (_, 0, removed) => format!("{who} removed {removed} {} from {target}", members(removed)),
        (_, added, removed) => format!(
            "{who} added {added} {} to {target} and removed {removed}",
            members(added)
        ),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn idps_are_told_by_user_agent_then_by_dialect() {
        let entra_patch =
            json!({"Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
        let okta_patch = json!({"Operations": [{"op": "replace", "value": {"active": false}}]});
        let cases = [
            (
                Some("Okta SCIM Client 1.0.0"),
                "/scim/v2/Users",
                None,
                Idp::Okta,
            ),
            (
                Some("OKTA SCIM Integration"),
                "/scim/v2/Users",
                None,
                Idp::Okta,
            ),
            (
                Some("Microsoft.AAD.Provisioning"),
                "/scim/v2/Users",
                None,
                Idp::Entra,
            ),
            (None, "/scim/v2/Users/1", Some(&entra_patch), Idp::Entra),
            (None, "/scim/v2/Users/1", Some(&okta_patch), Idp::Other),
            (
                None,
                "/scim/v2/Users?filter=userName+eq+%22AzureAD_Test-bdd952ba%22",
                None,
                Idp::Entra,
            ),
            (Some("curl/8.5"), "/scim/v2/Users", None, Idp::Other),
        ];
        for (agent, path, body, expected) in cases {
            assert_eq!(detect_idp(agent, path, body), expected, "{agent:?} {path}");
        }
    }

    #[test]
    fn paths_name_what_they_address() {
        assert_eq!(
            addressed("/scim/v2/Users/abc"),
            Addressed {
                resource_type: Some("User"),
                id: Some("abc".to_owned()),
                ..Addressed::default()
            }
        );
        assert!(addressed("/scim/v2/Groups/.search").search);
        assert!(addressed("/scim/v2/Bulk").bulk);
        assert_eq!(addressed("/scim/v2/Schemas").resource_type, None);
    }

    #[test]
    fn summaries_read_as_sentences() {
        let user = addressed("/scim/v2/Users/u1");
        let users = addressed("/scim/v2/Users");
        let group = addressed("/scim/v2/Groups/g1");
        let groups = addressed("/scim/v2/Groups");
        let bulk = addressed("/scim/v2/Bulk");
        let deactivate = json!({"Operations": [{"op": "replace", "value": {"active": false}}]});
        let entra_deactivate =
            json!({"Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
        let add_three = json!({"Operations": [{"op": "Add", "path": "members",
            "value": [{"value": "a"}, {"value": "b"}, {"value": "c"}]}]});
        let remove_one =
            json!({"Operations": [{"op": "remove", "path": "members[value eq \"a\"]"}]});
        let rename =
            json!({"Operations": [{"op": "replace", "path": "displayName", "value": "X"}]});
        let two_ops = json!({"Operations": [{"method": "POST"}, {"method": "DELETE"}]});
        let facts = |who, method, addressed, name, status, scim_type, request| Facts {
            who,
            method,
            addressed,
            name,
            status,
            scim_type,
            request,
        };
        let alice = Some("alice@example.com");
        let cases = [
            (
                facts("Okta", "PATCH", &user, alice, 200, None, Some(&deactivate)),
                "Okta deactivated alice@example.com",
            ),
            (
                facts(
                    "Entra",
                    "PATCH",
                    &user,
                    None,
                    200,
                    None,
                    Some(&entra_deactivate),
                ),
                "Entra deactivated user u1",
            ),
            (
                facts(
                    "Entra",
                    "PATCH",
                    &group,
                    Some("Finance"),
                    204,
                    None,
                    Some(&add_three),
                ),
                "Entra added 3 members to Finance",
            ),
            (
                facts(
                    "Okta",
                    "PATCH",
                    &group,
                    Some("Finance"),
                    204,
                    None,
                    Some(&remove_one),
                ),
                "Okta removed 1 member from Finance",
            ),
            (
                facts(
                    "Okta",
                    "PATCH",
                    &group,
                    Some("Finance"),
                    204,
                    None,
                    Some(&rename),
                ),
                "Okta updated Finance",
            ),
            (
                facts(
                    "Okta",
                    "POST",
                    &users,
                    Some("bob@example.com"),
                    409,
                    Some("uniqueness"),
                    None,
                ),
                "Okta: 409 uniqueness on bob@example.com",
            ),
            (
                facts(
                    "Okta",
                    "POST",
                    &users,
                    Some("bob@example.com"),
                    201,
                    None,
                    None,
                ),
                "Okta created bob@example.com",
            ),
            (
                facts(
                    "token 'HR'",
                    "POST",
                    &groups,
                    Some("Finance"),
                    201,
                    None,
                    None,
                ),
                "token 'HR' created group Finance",
            ),
            (
                facts("Okta", "DELETE", &user, None, 204, None, None),
                "Okta deleted user u1",
            ),
            (
                facts("Okta", "GET", &user, None, 404, None, None),
                "Okta: 404 on user u1",
            ),
            (
                facts("Okta", "GET", &users, None, 200, None, None),
                "Okta listed Users",
            ),
            (
                facts("Okta", "POST", &bulk, None, 200, None, Some(&two_ops)),
                "Okta sent a Bulk request of 2 operations",
            ),
        ];
        for (facts, expected) in cases {
            assert_eq!(summarize(&facts), expected);
        }
    }
}
