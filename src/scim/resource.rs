//! Preparing client input for storage (POST, PUT) and rendering stored resources for output.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

use super::error::ProtocolError;
use super::etag::etag_for_version;
use super::normalize::{coerce_boolean, normalize_value};
use super::schema::{
    AttrType, AttributeDef, Mutability, ResolvedAttr, ResourceTypeDef, Returned, resource_type,
};

/// The type of a group member (RFC 7643 §4.2 `members.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemberType {
    /// A User resource.
    User,
    /// A Group resource (nested group).
    Group,
}

impl MemberType {
    /// The canonical value, which is also the resource type name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "User",
            Self::Group => "Group",
        }
    }

    /// Parses `User`/`Group` in any case.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::User, Self::Group]
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(text))
    }
}

/// One group member, as sent by the client or loaded from membership rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRef {
    /// The member's `id`; never empty.
    pub value: String,
    /// `User` or `Group` when the client said so (Okta never does).
    pub member_type: Option<MemberType>,
    /// A display name; informational only.
    pub display: Option<String>,
}

/// One group a user belongs to, for rendering `User.groups` (RFC 7643 §4.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRef {
    /// The group's `id`.
    pub value: String,
    /// The group's `displayName`.
    pub display: Option<String>,
    /// Direct membership (`true`) or inherited through a nested group.
    pub direct: bool,
}

/// Client input checked and normalised for storage.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    /// The resource to store: `schemas` rebuilt, canonical attribute names, no `null`s, and no
    /// `id`, `meta`, `password`, `members` or `groups`.
    pub resource: Value,
    /// The cleartext password (writeOnly), for the server to hash; never stored in `resource`.
    pub password: Option<String>,
    /// Group members: `None` when the body did not mention `members` (a PUT keeps the current
    /// ones), `Some(vec![])` for an explicit `null` or `[]`. Duplicate values are dropped.
    pub members: Option<Vec<MemberRef>>,
    /// `userName`, for the case-insensitive unique index.
    pub user_name: Option<String>,
    /// `externalId`.
    pub external_id: Option<String>,
    /// `displayName`.
    pub display_name: Option<String>,
    /// `active`: the given value, else the existing one on PUT, else `true`; `true` for groups.
    pub active: bool,
    /// `(value, type)` of each email.
    pub emails: Vec<(String, Option<String>)>,
}

/// Version and timestamps of a stored resource, rendered as `meta` (RFC 7643 §3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    /// When the resource was created.
    pub created: DateTime<Utc>,
    /// When the resource last changed.
    pub last_modified: DateTime<Utc>,
    /// Incremented on every change; the ETag is derived from it.
    pub version: i64,
    /// The resource's absolute URI, e.g. `https://host/scim/v2/Users/<id>`.
    pub location: String,
}

impl Meta {
    /// The weak ETag `W/"<version>"` (RFC 7644 §3.14), also rendered as `meta.version`.
    pub fn etag(&self) -> String {
        etag_for_version(self.version)
    }
}

/// The absolute URI of a resource: `<base_url><endpoint>/<id>`.
pub fn location(base_url: &str, rt: &ResourceTypeDef, id: &str) -> String {
    format!("{}{}/{}", base_url.trim_end_matches('/'), rt.endpoint, id)
}

/// A timestamp as RFC 3339 in UTC with `Z`, at the microsecond precision it is stored with,
/// so a client that filters on `meta.lastModified gt "<what it was shown>"` does not get the
/// same resource back.
pub fn format_date_time(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Data stored outside the resource JSON that `render` adds back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenderExtras {
    /// Group members; `None` omits `members` (e.g. `excludedAttributes=members`).
    pub members: Option<Vec<MemberRef>>,
    /// A user's groups; `None` or an empty list omits `groups`.
    pub groups: Option<Vec<GroupRef>>,
}

/// Checks and normalises a POST (`existing: None`) or PUT body (RFC 7643 §2, RFC 7644 §3.3, §3.5.1).
///
/// Lenient where IdPs are sloppy, strict where data would be wrong:
/// - `null` means absent (RFC 7643 §2.5); readOnly attributes (`id`, `meta`, `groups`, readOnly
///   sub-attributes) are ignored, not rejected (RFC 7644 §3.5.1);
/// - the client's `schemas` is ignored and rebuilt, so unknown or misspelled URNs and Microsoft's
///   ADSCIM group URI never fail; extension attributes are read from the extension object or
///   from URN-prefixed top-level keys, whether or not the URN is listed;
/// - unknown attributes and unknown extensions are dropped rather than rejected: Entra and Okta
///   send custom mappings that an admin may have configured for another app, and a 400 would
///   block provisioning of everything else in the body;
/// - values are type-checked (see [`normalize_value`]); missing or empty required attributes are
///   `invalidValue`; changing an immutable attribute on PUT is `mutability`.
pub fn prepare(
    rt: &ResourceTypeDef,
    body: &Value,
    existing: Option<&Value>,
) -> Result<Prepared, ProtocolError> {
    let Value::Object(body) = body else {
        return Err(ProtocolError::invalid_syntax(format!(
            "a {} resource must be a JSON object, not {}",
            rt.name,
            json_kind(body)
        )));
    };
    let given = gather(rt, body)?;
    let mut prepared = Prepared {
        resource: Value::Null,
        password: None,
        members: None,
        user_name: None,
        external_id: None,
        display_name: None,
        active: true,
        emails: Vec::new(),
    };
    let mut core = Map::new();
    let mut extensions = Vec::new();
    for (schema_index, schema) in rt.schemas().enumerate() {
        let mut attributes = Map::new();
        for attribute in schema.attributes {
            if attribute.mutability == Mutability::ReadOnly {
                continue;
            }
            let raw = given.value_of(schema.id, attribute.name);
            if attribute.mutability == Mutability::WriteOnly {
                // Only `password` is writeOnly; it goes to the server to hash, never into storage.
                if attribute.name == "password" {
                    prepared.password = take_password(attribute, raw.as_ref())?;
                }
                continue;
            }
            if schema_index == 0 && is_members(attribute) {
                prepared.members = extract_members(raw.as_ref())?;
                continue;
            }
            let label = attribute.name;
            let mut value = match &raw {
                Some(raw) => normalize_value(attribute, raw, label)?,
                None => None,
            };
            let current =
                existing.and_then(|existing| lookup(rt, existing, schema.id, attribute.name));
            if attribute.mutability == Mutability::Immutable {
                value = check_immutable(attribute, value, current)?;
            }
            if schema_index == 0 && is_active(attribute) {
                let active = match &value {
                    Some(Value::Bool(active)) => *active,
                    _ => current.and_then(coerce_boolean).unwrap_or(true),
                };
                prepared.active = active;
                value = Some(Value::Bool(active));
            }
            if let Some(value) = value {
                attributes.insert(attribute.name.to_owned(), value);
            }
        }
        if schema_index == 0 {
            core = attributes;
        } else if !attributes.is_empty() {
            extensions.push((schema.id, attributes));
        }
    }
    check_required(rt, &core, &extensions)?;
    prepared.user_name = string_at(&core, "userName");
    prepared.external_id = string_at(&core, "externalId");
    prepared.display_name = string_at(&core, "displayName");
    prepared.emails = emails_of(&core);
    prepared.resource = assemble(rt, core, extensions);
    Ok(prepared)
}

/// Renders a stored resource for output (RFC 7643 §3, §8): `schemas`, `id`, `externalId`, the
/// attributes in registry order, extensions, then `meta`.
///
/// returned:never attributes (`password`) are never rendered; `active` is always present for
/// users. returned:request attributes are left to projection. `$ref`s of members and groups are
/// built from `meta.location`, whose base URL is the one the resource was addressed with.
pub fn render(
    rt: &ResourceTypeDef,
    stored: &Value,
    id: &str,
    meta: &Meta,
    extras: RenderExtras,
) -> Value {
    let empty = Map::new();
    let stored = stored.as_object().unwrap_or(&empty);
    let base_url = meta
        .location
        .strip_suffix(&format!("{}/{}", rt.endpoint, id))
        .map(str::to_owned);
    let mut core = Map::new();
    for attribute in rt.schema.attributes {
        if attribute.returned == Returned::Never {
            continue;
        }
        let value = match attribute.name {
            "id" => Some(Value::String(id.to_owned())),
            "meta" => None,
            "members" if is_members(attribute) => extras
                .members
                .as_deref()
                .map(|members| render_members(members, base_url.as_deref())),
            "groups" => extras
                .groups
                .as_deref()
                .filter(|groups| !groups.is_empty())
                .map(|groups| render_groups(groups, base_url.as_deref())),
            _ if is_active(attribute) => Some(
                get_ignore_case(stored, attribute.name)
                    .and_then(coerce_boolean)
                    .map_or(Value::Bool(true), Value::Bool),
            ),
            _ => get_ignore_case(stored, attribute.name)
                .filter(|value| !value.is_null())
                .cloned(),
        };
        if let Some(value) = value {
            core.insert(attribute.name.to_owned(), value);
        }
    }
    let mut extensions = Vec::new();
    for extension in rt.extensions {
        let Some(Value::Object(object)) = get_ignore_case(stored, extension.schema.id) else {
            continue;
        };
        let mut attributes = Map::new();
        for attribute in extension.schema.attributes {
            if attribute.returned == Returned::Never {
                continue;
            }
            if let Some(value) = get_ignore_case(object, attribute.name).filter(|v| !v.is_null()) {
                attributes.insert(attribute.name.to_owned(), value.clone());
            }
        }
        if !attributes.is_empty() {
            extensions.push((extension.schema.id, attributes));
        }
    }
    let mut out = assemble(rt, core, extensions);
    if let Value::Object(out) = &mut out {
        out.insert("meta".to_owned(), render_meta(rt, meta));
    }
    out
}

/// Body values by attribute, gathered from plain, dotted, URN-prefixed and extension-object keys.
struct Given {
    entries: Vec<(ResolvedAttr, Value)>,
}

impl Given {
    /// The value for one attribute, with `attr.sub` entries merged into its object.
    fn value_of(&self, schema_id: &str, name: &str) -> Option<Value> {
        let mut whole: Option<Value> = None;
        let mut subs: Vec<(&str, &Value)> = Vec::new();
        for (resolved, value) in &self.entries {
            if resolved.schema.id != schema_id || resolved.attribute.name != name {
                continue;
            }
            match resolved.sub_attribute {
                None => whole = Some(value.clone()),
                Some(sub) => subs.push((sub.name, value)),
            }
        }
        if subs.is_empty() {
            return whole;
        }
        let mut merged = match whole {
            Some(Value::Object(object)) => object,
            _ => Map::new(),
        };
        for (sub, value) in subs {
            merged.retain(|key, _| !key.eq_ignore_ascii_case(sub));
            merged.insert(sub.to_owned(), value.clone());
        }
        Some(Value::Object(merged))
    }
}

fn gather(rt: &ResourceTypeDef, body: &Map<String, Value>) -> Result<Given, ProtocolError> {
    let mut entries = Vec::new();
    for (key, value) in body {
        if key.eq_ignore_ascii_case("schemas") {
            continue;
        }
        if let Some(schema) = rt.schema_by_urn(key) {
            match value {
                Value::Null => {}
                Value::Object(object) => {
                    for (inner_key, inner_value) in object {
                        let path = format!("{}:{inner_key}", schema.id);
                        if let Some(resolved) = rt.resolve(&path) {
                            entries.push((resolved, inner_value.clone()));
                        }
                    }
                }
                _ => {
                    return Err(ProtocolError::invalid_value(format!(
                        "attribute '{}' must be an object",
                        schema.id
                    )));
                }
            }
            continue;
        }
        if let Some(resolved) = rt.resolve(key) {
            entries.push((resolved, value.clone()));
        }
    }
    Ok(Given { entries })
}

fn take_password(
    attribute: &AttributeDef,
    raw: Option<&Value>,
) -> Result<Option<String>, ProtocolError> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    Ok(normalize_value(attribute, raw, attribute.name)?
        .and_then(|value| value.as_str().map(str::to_owned)))
}

fn is_members(attribute: &AttributeDef) -> bool {
    attribute.name == "members" && attribute.multi_valued && attribute.is_complex()
}

fn is_active(attribute: &AttributeDef) -> bool {
    attribute.name == "active" && attribute.attr_type == AttrType::Boolean
}

/// RFC 7643 §4.2 `members`: each needs a string `value`; `$ref` is ignored (the server knows it).
pub(crate) fn extract_members(
    raw: Option<&Value>,
) -> Result<Option<Vec<MemberRef>>, ProtocolError> {
    let items: Vec<&Value> = match raw {
        None => return Ok(None),
        Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(single) => vec![single],
    };
    let mut members: Vec<MemberRef> = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let label = format!("members[{index}]");
        let Value::Object(object) = item else {
            return Err(ProtocolError::invalid_value(format!(
                "attribute '{label}' must be an object"
            )));
        };
        let value = match optional_string(object, "value", &label)? {
            Some(value) if !value.trim().is_empty() => value,
            _ => {
                return Err(ProtocolError::invalid_value(format!(
                    "attribute '{label}.value' is required"
                )));
            }
        };
        let member_type = match optional_string(object, "type", &label)? {
            None => None,
            Some(text) => Some(MemberType::parse(&text).ok_or_else(|| {
                ProtocolError::invalid_value(format!(
                    "attribute '{label}.type' must be 'User' or 'Group'"
                ))
            })?),
        };
        let display = optional_string(object, "display", &label)?;
        if !members.iter().any(|member| member.value == value) {
            members.push(MemberRef {
                value,
                member_type,
                display,
            });
        }
    }
    Ok(Some(members))
}

fn optional_string(
    object: &Map<String, Value>,
    name: &str,
    label: &str,
) -> Result<Option<String>, ProtocolError> {
    match get_ignore_case(object, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(ProtocolError::invalid_value(format!(
            "attribute '{label}.{name}' must be a string"
        ))),
    }
}

/// RFC 7644 §3.5.1: an immutable value already set must match; omitted, it is kept.
fn check_immutable(
    attribute: &AttributeDef,
    value: Option<Value>,
    current: Option<&Value>,
) -> Result<Option<Value>, ProtocolError> {
    let Some(current) = current.filter(|current| !current.is_null()) else {
        return Ok(value);
    };
    match value {
        None => Ok(Some(current.clone())),
        Some(value) if same_value(attribute, &value, current) => Ok(Some(value)),
        Some(_) => Err(ProtocolError::mutability(format!(
            "attribute '{}' is immutable and cannot be changed",
            attribute.name
        ))),
    }
}

fn same_value(attribute: &AttributeDef, left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::String(left), Value::String(right)) if !attribute.case_exact => {
            left.to_lowercase() == right.to_lowercase()
        }
        _ => left == right,
    }
}

/// RFC 7643 §2.2: required attributes must be present; an empty string counts as missing.
fn check_required(
    rt: &ResourceTypeDef,
    core: &Map<String, Value>,
    extensions: &[(&str, Map<String, Value>)],
) -> Result<(), ProtocolError> {
    for attribute in rt.schema.attributes {
        if !attribute.required || attribute.mutability == Mutability::ReadOnly {
            continue;
        }
        let present = match core.get(attribute.name) {
            None | Some(Value::Null) => false,
            Some(Value::String(text)) => !text.trim().is_empty(),
            Some(_) => true,
        };
        if !present {
            return Err(ProtocolError::invalid_value(format!(
                "attribute '{}' is required",
                attribute.name
            )));
        }
    }
    for extension in rt.extensions.iter().filter(|ext| ext.required) {
        if !extensions
            .iter()
            .any(|(urn, _)| *urn == extension.schema.id)
        {
            return Err(ProtocolError::invalid_value(format!(
                "extension '{}' is required",
                extension.schema.id
            )));
        }
    }
    Ok(())
}

/// The stored value of an attribute, under its extension URN for extension attributes.
fn lookup<'v>(
    rt: &ResourceTypeDef,
    resource: &'v Value,
    schema_id: &str,
    name: &str,
) -> Option<&'v Value> {
    let object = resource.as_object()?;
    if schema_id == rt.schema.id {
        get_ignore_case(object, name)
    } else {
        get_ignore_case(get_ignore_case(object, schema_id)?.as_object()?, name)
    }
}

fn get_ignore_case<'v>(object: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    object.get(name).or_else(|| {
        object
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    })
}

fn string_at(object: &Map<String, Value>, name: &str) -> Option<String> {
    object.get(name).and_then(Value::as_str).map(str::to_owned)
}

/// `(value, type)` of each email of a stored resource, as [`Prepared::emails`] lists those of
/// the resource it prepared.
pub fn stored_emails(resource: &Value) -> Vec<(String, Option<String>)> {
    resource.as_object().map(emails_of).unwrap_or_default()
}

fn emails_of(core: &Map<String, Value>) -> Vec<(String, Option<String>)> {
    core.get("emails")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|email| {
            let value = email.get("value")?.as_str()?.to_owned();
            let kind = email.get("type").and_then(Value::as_str).map(str::to_owned);
            Some((value, kind))
        })
        .collect()
}

/// `schemas` (core URN, then the extensions present), core attributes, extension objects.
fn assemble(
    rt: &ResourceTypeDef,
    core: Map<String, Value>,
    extensions: Vec<(&str, Map<String, Value>)>,
) -> Value {
    let mut schemas = vec![Value::String(rt.schema.id.to_owned())];
    schemas.extend(
        extensions
            .iter()
            .map(|(urn, _)| Value::String((*urn).to_owned())),
    );
    let mut out = Map::new();
    out.insert("schemas".to_owned(), Value::Array(schemas));
    out.extend(core);
    for (urn, attributes) in extensions {
        out.insert(urn.to_owned(), Value::Object(attributes));
    }
    Value::Object(out)
}

fn render_meta(rt: &ResourceTypeDef, meta: &Meta) -> Value {
    let mut out = Map::new();
    out.insert("resourceType".to_owned(), Value::from(rt.name));
    out.insert(
        "created".to_owned(),
        Value::from(format_date_time(&meta.created)),
    );
    out.insert(
        "lastModified".to_owned(),
        Value::from(format_date_time(&meta.last_modified)),
    );
    out.insert("location".to_owned(), Value::from(meta.location.as_str()));
    out.insert("version".to_owned(), Value::from(meta.etag()));
    Value::Object(out)
}

fn render_members(members: &[MemberRef], base_url: Option<&str>) -> Value {
    let rendered = members.iter().map(|member| {
        let mut out = Map::new();
        out.insert("value".to_owned(), Value::from(member.value.as_str()));
        let endpoint = member
            .member_type
            .and_then(|kind| resource_type(kind.as_str()))
            .map(|rt| rt.endpoint);
        if let (Some(base), Some(endpoint)) = (base_url, endpoint) {
            out.insert(
                "$ref".to_owned(),
                Value::from(format!("{base}{endpoint}/{}", member.value)),
            );
        }
        if let Some(display) = &member.display {
            out.insert("display".to_owned(), Value::from(display.as_str()));
        }
        if let Some(kind) = member.member_type {
            out.insert("type".to_owned(), Value::from(kind.as_str()));
        }
        Value::Object(out)
    });
    Value::Array(rendered.collect())
}

fn render_groups(groups: &[GroupRef], base_url: Option<&str>) -> Value {
    let rendered = groups.iter().map(|group| {
        let mut out = Map::new();
        out.insert("value".to_owned(), Value::from(group.value.as_str()));
        let endpoint = resource_type(MemberType::Group.as_str()).map(|rt| rt.endpoint);
        if let (Some(base), Some(endpoint)) = (base_url, endpoint) {
            out.insert(
                "$ref".to_owned(),
                Value::from(format!("{base}{endpoint}/{}", group.value)),
            );
        }
        if let Some(display) = &group.display {
            out.insert("display".to_owned(), Value::from(display.as_str()));
        }
        let kind = if group.direct { "direct" } else { "indirect" };
        out.insert("type".to_owned(), Value::from(kind));
        Value::Object(out)
    });
    Value::Array(rendered.collect())
}

/// What a JSON value is, as error messages name it ("an array").
pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod tests;
