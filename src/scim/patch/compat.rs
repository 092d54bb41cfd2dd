//! IdP dialects at the edge: rewrites what Okta and Entra send into RFC 7644 §3.5.2 operations,
//! so that `apply` knows only the RFC. Each rule names the dossier case it exists for
//! (`shared/scim-cases/idp-dossier.md`); the tests replay those requests.
//!
//! 1. `op` in any case (`Add`, `Replace`, `Remove`; §2.4, P-07); anything else is `invalidSyntax`.
//! 2. String booleans `"True"`/`"False"` (any case) for boolean attributes, also inside complex
//!    values and path-less objects (MS-COMPAT legacy, P-03, P-04).
//! 3. A path-less `add`/`replace` whose object has keys that are paths (`name.givenName`,
//!    `urn:…:enterprise:2.0:User:employeeNumber`, `emails[type eq "work"].value`) becomes one
//!    operation per such key; plain keys stay together in a path-less operation, in order
//!    (MS-COMPAT flag form, P-12, P-13). Path keys naming no known attribute (custom extensions
//!    configured for another app) are ignored, as `prepare` ignores unknown attributes.
//! 4. `id` equal to the resource's id, in a path-less object or as a path, is dropped (Okta's
//!    group rename, §1.5h, G-13); a different id is left for `apply` to refuse (`mutability`).
//! 5. `remove` of a complex attribute with a `value` sub-attribute, with a value list
//!    (`{"op":"Remove","path":"members","value":[{"value":"id"}]}`), removes only the listed
//!    values: one `remove attr[value eq "id"]` per entry (MS-COMPAT legacy, G-21) — never all.
//!    An empty list removes nothing. Other `remove`s drop their value (the RFC has none).
//! 6. `manager` as a bare id, a one-element array or an object, with or without the extension
//!    prefix, becomes `{"value": id}` (§2.4, P-17..P-19).
//! 7. `""` or `null` for a single value (`add`/`replace` of `title`, `name.givenName`,
//!    `manager`, `emails[type eq "work"].value`) becomes a `remove` (MS-LOGICAPP null update,
//!    P-20, P-21); for `attr[filter].value` the whole matching value is removed, since an email
//!    without an address means nothing. In path-less objects such keys become `null`, which
//!    `apply` treats as unassigned. Multi-valued targets are left alone: `add` of nothing adds
//!    nothing, `replace` with nothing clears (never a member wipe through `add`).
//! 8. A path that is only a schema URN (`urn:…:enterprise:2.0:User`) with an object value is
//!    the path-less form `{"urn:…:enterprise:2.0:User": {…}}`.
//! 9. Entra app roles whose `value` is a JSON-encoded string (MS-ATTR, P-28) are stored as sent:
//!    no rule parses them.

use serde_json::{Map, Value};

use super::op::{OpKind, Operation, RawOperation, in_operation, member};
use super::path::Target;
use crate::scim::error::ProtocolError;
use crate::scim::filter::{AttrPath, CompValue, CompareOp, Filter, PatchPath, parse_patch_path};
use crate::scim::normalize::coerce_boolean;
use crate::scim::resource::json_kind;
use crate::scim::schema::{AttrType, AttributeDef, ResourceTypeDef};

/// Rewrites the client's operations into RFC form; `resource_id` is the id of the resource
/// being patched (Okta echoes it in group renames).
pub fn normalize(
    rt: &ResourceTypeDef,
    resource_id: &str,
    ops: &[RawOperation],
) -> Result<Vec<Operation>, ProtocolError> {
    let mut out = Vec::with_capacity(ops.len());
    for raw in ops {
        let context = Context {
            rt,
            resource_id,
            index: raw.index,
        };
        context.operation(raw, &mut out).map_err(|error| {
            let label = match &raw.path {
                Some(path) => format!("{} {path}", raw.op),
                None => raw.op.clone(),
            };
            in_operation(raw.index, &label, error)
        })?;
    }
    Ok(out)
}

struct Context<'a> {
    rt: &'a ResourceTypeDef,
    resource_id: &'a str,
    index: usize,
}

impl Context<'_> {
    fn push(
        &self,
        out: &mut Vec<Operation>,
        op: OpKind,
        path: Option<PatchPath>,
        value: Option<Value>,
    ) {
        out.push(Operation {
            index: self.index,
            op,
            path,
            value,
        });
    }

    fn operation(&self, raw: &RawOperation, out: &mut Vec<Operation>) -> Result<(), ProtocolError> {
        let kind = OpKind::parse(&raw.op).ok_or_else(|| {
            ProtocolError::invalid_syntax(format!(
                "unknown op '{}'; use \"add\", \"remove\" or \"replace\"",
                raw.op
            ))
        })?;
        match (&raw.path, &raw.value) {
            (Some(urn), Some(value)) if kind != OpKind::Remove && self.is_schema_urn(urn) => {
                let mut object = Map::new();
                object.insert(urn.trim().to_owned(), value.clone());
                self.object_operation(kind, &object, out)
            }
            (Some(urn), None)
                if kind == OpKind::Remove && self.rt.extension(urn.trim()).is_some() =>
            {
                self.remove_extension(urn.trim(), out)
            }
            (Some(text), value) => {
                let path = parse_patch_path(text).map_err(|e| e.into_invalid_path())?;
                self.path_operation(kind, path, value.clone(), out)
            }
            (None, Some(Value::Object(object))) if kind != OpKind::Remove => {
                self.object_operation(kind, object, out)
            }
            (None, value) => {
                self.push(out, kind, None, value.clone());
                Ok(())
            }
        }
    }

    /// `remove` with an extension's URN as the path removes the whole extension: one removal
    /// per attribute it defines (absent ones are no-ops).
    fn remove_extension(&self, urn: &str, out: &mut Vec<Operation>) -> Result<(), ProtocolError> {
        let Some(extension) = self.rt.extension(urn) else {
            return Ok(());
        };
        for attribute in extension.schema.attributes {
            let text = format!("{}:{}", extension.schema.id, attribute.name);
            let path = parse_patch_path(&text).map_err(|e| e.into_invalid_path())?;
            self.push(out, OpKind::Remove, Some(path), None);
        }
        Ok(())
    }

    fn path_operation(
        &self,
        kind: OpKind,
        path: PatchPath,
        value: Option<Value>,
        out: &mut Vec<Operation>,
    ) -> Result<(), ProtocolError> {
        let target = Target::resolve(self.rt, &path)?;
        if kind == OpKind::Remove {
            return self.remove_operation(&target, path, value, out);
        }
        let Some(value) = value else {
            self.push(out, kind, Some(path), None);
            return Ok(());
        };
        if self.is_own_id(&target, &value) {
            return Ok(());
        }
        let rewritten = rfc_value(target.end(), value.clone(), target.filter.is_some());
        if target.is_single_value()
            && !target.is_members()
            && (is_empty(&value) || is_empty(&rewritten))
        {
            let whole_value =
                path.filter.is_some() && target.sub.is_some_and(|s| s.name == "value");
            let path = if whole_value {
                PatchPath {
                    sub_attribute: None,
                    ..path
                }
            } else {
                path
            };
            self.push(out, OpKind::Remove, Some(path), None);
            return Ok(());
        }
        self.push(out, kind, Some(path), Some(rewritten));
        Ok(())
    }

    /// Rule 5: Entra's value-list remove; otherwise the RFC form without value.
    fn remove_operation(
        &self,
        target: &Target,
        path: PatchPath,
        value: Option<Value>,
        out: &mut Vec<Operation>,
    ) -> Result<(), ProtocolError> {
        let listed = match value {
            Some(value) if path.filter.is_none() && target.sub.is_none() && !is_empty(&value) => {
                value
            }
            _ => {
                self.push(out, OpKind::Remove, Some(path), None);
                return Ok(());
            }
        };
        if !target.attribute.is_complex() {
            self.push(out, OpKind::Remove, Some(path), None);
            return Ok(());
        }
        if target.attribute.sub_attribute("value").is_none() {
            return Err(ProtocolError::invalid_value(format!(
                "'remove' of '{}' with a value list needs values with a 'value' to select; \
                 use a filter such as {}[type eq \"work\"]",
                target.attribute.name, target.attribute.name
            )));
        }
        for id in listed_ids(&listed)? {
            let filter =
                Filter::compare(AttrPath::new("value"), CompareOp::Eq, CompValue::String(id));
            let path = PatchPath {
                attribute: path.attribute.clone(),
                filter: Some(filter),
                sub_attribute: None,
            };
            self.push(out, OpKind::Remove, Some(path), None);
        }
        Ok(())
    }

    /// Rules 3, 4 and 7 for a path-less object.
    fn object_operation(
        &self,
        kind: OpKind,
        object: &Map<String, Value>,
        out: &mut Vec<Operation>,
    ) -> Result<(), ProtocolError> {
        let mut plain = Map::new();
        for (key, value) in object {
            if key.eq_ignore_ascii_case("id") && value.as_str() == Some(self.resource_id) {
                continue;
            }
            if !self.is_path_key(key) {
                plain.insert(key.clone(), self.plain_value(key, value));
                continue;
            }
            if !plain.is_empty() {
                let group = std::mem::take(&mut plain);
                self.push(out, kind, None, Some(Value::Object(group)));
            }
            let path = parse_patch_path(key).map_err(|e| e.into_invalid_path())?;
            if self.rt.resolve(&path.attribute.to_string()).is_none() {
                continue;
            }
            self.path_operation(kind, path, Some(value.clone()), out)?;
        }
        if !plain.is_empty() {
            self.push(out, kind, None, Some(Value::Object(plain)));
        }
        Ok(())
    }

    /// Whether `text` is the URN of the core schema or an extension: as a path, it means the
    /// whole extension object (`{"path": "urn:…:enterprise:2.0:User", "value": {…}}`).
    fn is_schema_urn(&self, text: &str) -> bool {
        self.rt.schema_by_urn(text.trim()).is_some()
    }

    /// A key that is a path rather than an attribute name or a schema URN.
    fn is_path_key(&self, key: &str) -> bool {
        if self.rt.schema_by_urn(key).is_some() {
            return false;
        }
        key.get(..4)
            .is_some_and(|start| start.eq_ignore_ascii_case("urn:"))
            || key.contains('.')
            || key.contains('[')
    }

    /// Rules 2, 6 and 7 for one plain key of a path-less object.
    fn plain_value(&self, key: &str, value: &Value) -> Value {
        if let Some(extension) = self.rt.extension(key) {
            return match value {
                Value::Object(inner) => Value::Object(
                    inner
                        .iter()
                        .map(|(name, value)| {
                            let value = match extension.schema.attribute(name) {
                                Some(attribute) => object_entry(attribute, value),
                                None => value.clone(),
                            };
                            (name.clone(), value)
                        })
                        .collect(),
                ),
                other => other.clone(),
            };
        }
        match self.rt.resolve(key) {
            Some(resolved) => object_entry(resolved.target(), value),
            None => value.clone(),
        }
    }

    fn is_own_id(&self, target: &Target, value: &Value) -> bool {
        !target.extension
            && target.sub.is_none()
            && target.filter.is_none()
            && target.attribute.name == "id"
            && value.as_str() == Some(self.resource_id)
    }
}

/// A value of a path-less object, with `""`/`null` for single values made `null`.
fn object_entry(attribute: &AttributeDef, value: &Value) -> Value {
    let rewritten = rfc_value(attribute, value.clone(), false);
    if !attribute.multi_valued && (is_empty(value) || is_empty(&rewritten)) {
        Value::Null
    } else {
        rewritten
    }
}

/// Rules 2 and 6: string booleans and the bare or wrapped `manager` id, recursively.
/// `single` says the value is one value even if the attribute is multi-valued.
fn rfc_value(attribute: &AttributeDef, value: Value, single: bool) -> Value {
    match attribute.attr_type {
        AttrType::Boolean => coerce_boolean(&value).map_or(value, Value::Bool),
        AttrType::Complex if attribute.multi_valued && !single => match value {
            Value::Array(items) => Value::Array(
                items
                    .into_iter()
                    .map(|item| rfc_element(attribute, item))
                    .collect(),
            ),
            other => rfc_element(attribute, other),
        },
        AttrType::Complex
            if !attribute.multi_valued && attribute.sub_attribute("value").is_some() =>
        {
            match value {
                Value::String(id) if !id.is_empty() => {
                    let mut wrapped = Map::new();
                    wrapped.insert("value".to_owned(), Value::String(id));
                    Value::Object(wrapped)
                }
                Value::Array(items) if items.len() <= 1 => items
                    .into_iter()
                    .next()
                    .map_or(Value::Null, |item| rfc_value(attribute, item, single)),
                other => rfc_element(attribute, other),
            }
        }
        AttrType::Complex => rfc_element(attribute, value),
        _ => value,
    }
}

fn rfc_element(attribute: &AttributeDef, value: Value) -> Value {
    match value {
        Value::Object(object) => Value::Object(
            object
                .into_iter()
                .map(|(name, value)| match attribute.sub_attribute(&name) {
                    Some(sub) => {
                        let value = rfc_value(sub, value, true);
                        (name, value)
                    }
                    None => (name, value),
                })
                .collect(),
        ),
        other => other,
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(text) => text.is_empty(),
        _ => false,
    }
}

/// The ids of Entra's value list: `[{"value": "id", "$ref": null}]`, one object, or bare ids.
fn listed_ids(value: &Value) -> Result<Vec<String>, ProtocolError> {
    let items: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    items
        .into_iter()
        .enumerate()
        .map(|(position, item)| {
            let id = match item {
                Value::String(id) => Some(id),
                Value::Object(object) => match member(object, "value") {
                    Some(Value::String(id)) => Some(id),
                    _ => None,
                },
                _ => None,
            };
            id.filter(|id| !id.is_empty()).cloned().ok_or_else(|| {
                ProtocolError::invalid_value(format!(
                    "value {position} of the removal list must be an object with a string \
                     'value', not {}",
                    json_kind(item)
                ))
            })
        })
        .collect()
}
