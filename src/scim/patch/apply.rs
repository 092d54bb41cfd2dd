//! Applying RFC-form operations to a stored resource (RFC 7644 §3.5.2.1–3). No IdP dialect
//! here: [`super::compat`] has already rewritten it.
//!
//! The function is pure and atomic: it edits a copy and returns either the whole result or the
//! first error, naming the operation. Values are normalised as `prepare` does (canonical names,
//! types), so the output is in stored form and `changed` is exact. Where the RFC is silent:
//! - `remove` of an absent attribute, or with a filter matching nothing, changes nothing
//!   (idempotent IdP retries, dossier G-28, §5.3);
//! - `add`/`replace` of `attr[filter].sub` with no matching element creates one from the
//!   filter's `eq` comparisons, e.g. `{"type": "work", "value": …}` (dossier §2.6, P-10, P-11,
//!   §5.3); other unmatched filters are `noTarget` (RFC 7644 §3.12);
//! - a multi-valued `add` skips values identical to existing ones (dossier P-34, G-19);
//! - a value that gains `primary: true` sets `primary: false` on the others (RFC 7644 §3.5.2);
//! - `add`/`replace` of a single-valued complex attribute merges sub-attributes (§3.5.2.3,
//!   P-14), except for references with a `value` sub-attribute (`manager`): a new reference
//!   replaces the old one whole, so no stale `$ref` survives;
//! - `emails.value` without filter names no single value: `invalidPath`;
//! - unknown keys of a path-less value object are ignored, as `prepare` ignores them;
//! - removing a required attribute is `mutability` (§3.5.2.2), readOnly targets (`id`,
//!   `meta.*`, `groups`) are `mutability`, and so is changing an immutable value.

use serde_json::{Map, Value};

use super::members::{MemberChange, dedupe, member_change, push_change};
use super::op::{OpKind, Operation, in_operation};
use super::path::{Target, required_values};
use super::values::{
    check_one_primary, clear_primary, get_ignore_case, insert_canonical, is_primary,
    key_ignore_case, remove_ignore_case,
};
use crate::scim::error::ProtocolError;
use crate::scim::filter::{ResolvedFilter, matches_element};
use crate::scim::normalize::normalize_value;
use crate::scim::resource::json_kind;
use crate::scim::schema::{Mutability, ResourceTypeDef};

/// The outcome of a PATCH on one resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// The resource in stored form (as `prepare` produces it), without members or password;
    /// the server validates it with `prepare(rt, &resource, Some(stored))` before storing.
    pub resource: Value,
    /// Changes to Group membership rows, in request order.
    pub member_changes: Vec<MemberChange>,
    /// A new cleartext password (writeOnly), for the server to hash; never in `resource`.
    pub password: Option<String>,
    /// Whether `resource` differs from the stored input; when `false` (and there are no member
    /// changes and no password) `meta.version` and `lastModified` stay as they are.
    pub changed: bool,
}

/// Applies `ops` in order to `resource`, a stored resource as `prepare` produced it (core
/// attributes at top level, extension attributes under their URN).
pub fn apply(
    rt: &ResourceTypeDef,
    resource: &Value,
    ops: &[Operation],
) -> Result<Applied, ProtocolError> {
    let Value::Object(original) = resource else {
        return Err(ProtocolError::invalid_syntax(format!(
            "a stored {} resource must be a JSON object, not {}",
            rt.name,
            json_kind(resource)
        )));
    };
    let mut state = State {
        rt,
        doc: original.clone(),
        member_changes: Vec::new(),
        password: None,
    };
    for op in ops {
        state
            .apply(op)
            .map_err(|error| in_operation(op.index, &op.label(), error))?;
    }
    state.rebuild_schemas();
    dedupe(&mut state.member_changes);
    let changed = state.doc != *original;
    Ok(Applied {
        resource: Value::Object(state.doc),
        member_changes: state.member_changes,
        password: state.password,
        changed,
    })
}

struct State<'r> {
    rt: &'r ResourceTypeDef,
    doc: Map<String, Value>,
    member_changes: Vec<MemberChange>,
    password: Option<String>,
}

impl State<'_> {
    fn apply(&mut self, op: &Operation) -> Result<(), ProtocolError> {
        let value = || {
            op.value.as_ref().ok_or_else(|| {
                ProtocolError::invalid_value(format!("'{}' needs a 'value'", op.op.as_str()))
            })
        };
        match (&op.path, op.op) {
            (None, OpKind::Remove) => Err(ProtocolError::no_target(
                "'remove' needs a 'path' naming what to remove (RFC 7644 §3.5.2.2)",
            )),
            (None, kind) => match value()? {
                Value::Object(object) => self.apply_object(kind, object),
                other => Err(ProtocolError::invalid_syntax(format!(
                    "without a 'path' the value must be an object of attributes, not {}",
                    json_kind(other)
                ))),
            },
            (Some(path), OpKind::Remove) => self.remove(&Target::resolve(self.rt, path)?),
            (Some(path), kind) => {
                let target = Target::resolve(self.rt, path)?;
                self.set(kind, &target, value()?)
            }
        }
    }

    /// RFC 7644 §3.5.2.1/§3.5.2.3 without `path`: each attribute of the object in turn.
    fn apply_object(
        &mut self,
        kind: OpKind,
        object: &Map<String, Value>,
    ) -> Result<(), ProtocolError> {
        for (key, value) in object {
            if key.eq_ignore_ascii_case("schemas") {
                continue;
            }
            if let Some(schema) = self.rt.schema_by_urn(key) {
                let extension = schema.id != self.rt.schema.id;
                let inner = match value {
                    Value::Object(inner) => inner,
                    Value::Null if kind == OpKind::Replace && extension => {
                        self.doc.retain(|k, _| !k.eq_ignore_ascii_case(schema.id));
                        continue;
                    }
                    Value::Null => continue,
                    other => {
                        return Err(ProtocolError::invalid_value(format!(
                            "'{}' must be an object of its attributes, not {}",
                            schema.id,
                            json_kind(other)
                        )));
                    }
                };
                for (name, value) in inner {
                    if let Some(attribute) = schema.attribute(name) {
                        let target = Target {
                            schema,
                            extension,
                            attribute,
                            sub: None,
                            filter: None,
                        };
                        self.set(kind, &target, value)?;
                    }
                }
                continue;
            }
            if let Some(resolved) = self.rt.resolve(key) {
                self.set(kind, &Target::from_resolved(self.rt, resolved), value)?;
            }
        }
        Ok(())
    }

    fn set(&mut self, kind: OpKind, target: &Target, value: &Value) -> Result<(), ProtocolError> {
        check_writable(target)?;
        if target.is_members() {
            if let Some(change) = member_change(kind, target, Some(value))? {
                push_change(&mut self.member_changes, change);
            }
            return Ok(());
        }
        if target.attribute.mutability == Mutability::WriteOnly {
            let normalized = normalize_value(target.attribute, value, target.attribute.name)?;
            return match normalized.as_ref().and_then(Value::as_str) {
                Some(password) => {
                    self.password = Some(password.to_owned());
                    Ok(())
                }
                None => Err(ProtocolError::mutability(format!(
                    "'{}' can be replaced but not removed",
                    target.attribute.name
                ))),
            };
        }
        match (&target.filter, target.sub) {
            (Some(filter), _) => self.set_filtered(kind, target, filter, value),
            (None, Some(sub)) => {
                let mut object = self.sub_parent(target)?;
                let label = target.display();
                match normalize_value(sub, value, &label)? {
                    Some(value) => insert_canonical(&mut object, sub.name, value),
                    None => remove_ignore_case(&mut object, sub.name),
                }
                self.put_object(target, object)
            }
            (None, None) => self.set_attribute(kind, target, value),
        }
    }

    /// `add`/`replace` of a whole attribute.
    fn set_attribute(
        &mut self,
        kind: OpKind,
        target: &Target,
        value: &Value,
    ) -> Result<(), ProtocolError> {
        let attribute = target.attribute;
        let normalized = normalize_value(attribute, value, attribute.name)?;
        if attribute.multi_valued {
            let given = match normalized {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            };
            return match kind {
                OpKind::Add if given.is_empty() => Ok(()),
                OpKind::Add => {
                    let mut items = self.elements(target);
                    for item in given {
                        if items.contains(&item) {
                            continue;
                        }
                        if is_primary(&item) {
                            clear_primary(&mut items, &[]);
                        }
                        items.push(item);
                    }
                    self.put_elements(target, items)
                }
                _ => self.put_elements(target, given),
            };
        }
        let Some(normalized) = normalized else {
            return self.put(target, None);
        };
        match (normalized, self.current(target).cloned()) {
            (Value::Object(given), Some(Value::Object(mut merged)))
                if attribute.sub_attribute("value").is_none() =>
            {
                for (name, value) in given {
                    merged.insert(name, value);
                }
                self.put(target, Some(Value::Object(merged)))
            }
            (normalized, _) => self.put(target, Some(normalized)),
        }
    }

    /// `add`/`replace` of `attr[filter]` or `attr[filter].sub`.
    fn set_filtered(
        &mut self,
        kind: OpKind,
        target: &Target,
        filter: &ResolvedFilter,
        value: &Value,
    ) -> Result<(), ProtocolError> {
        let attribute = target.attribute;
        let mut elements = self.elements(target);
        let mut matched = matching(&elements, filter);
        match target.sub {
            Some(sub) => {
                let normalized = normalize_value(sub, value, &target.display())?;
                if matched.is_empty() {
                    let Some(normalized) = normalized else {
                        return Ok(());
                    };
                    let creatable = required_values(filter)
                        .filter(|_| attribute.multi_valued || elements.is_empty());
                    let Some(required) = creatable else {
                        return Err(no_match(attribute.name));
                    };
                    let mut element = Map::new();
                    for (name, value) in required {
                        element.insert(name.to_owned(), value);
                    }
                    element.insert(sub.name.to_owned(), normalized);
                    let element = single_element(target, &Value::Object(element))?;
                    elements.push(element.unwrap_or_default());
                    matched.push(elements.len() - 1);
                } else {
                    for &index in &matched {
                        if let Some(Value::Object(element)) = elements.get_mut(index) {
                            match &normalized {
                                Some(value) => insert_canonical(element, sub.name, value.clone()),
                                None => remove_ignore_case(element, sub.name),
                            }
                        }
                    }
                }
            }
            None => {
                if matched.is_empty() {
                    return Err(no_match(attribute.name));
                }
                let given = single_element(target, value)?;
                if given.is_none() && kind == OpKind::Add {
                    return Ok(());
                }
                for &index in matched.iter().rev() {
                    match (&given, kind, elements.get_mut(index)) {
                        (None, _, _) => {
                            elements.remove(index);
                        }
                        (
                            Some(Value::Object(given)),
                            OpKind::Add,
                            Some(Value::Object(existing)),
                        ) => {
                            for (name, value) in given {
                                existing.insert(name.clone(), value.clone());
                            }
                        }
                        (Some(given), _, Some(existing)) => *existing = given.clone(),
                        (Some(_), _, None) => {}
                    }
                }
                if given.is_none() {
                    return self.put_elements(target, elements);
                }
            }
        }
        if matched
            .iter()
            .any(|&index| elements.get(index).is_some_and(is_primary))
        {
            clear_primary(&mut elements, &matched);
        }
        self.put_elements(target, elements)
    }

    /// RFC 7644 §3.5.2.2.
    fn remove(&mut self, target: &Target) -> Result<(), ProtocolError> {
        check_writable(target)?;
        if target.is_members() {
            if let Some(change) = member_change(OpKind::Remove, target, None)? {
                push_change(&mut self.member_changes, change);
            }
            return Ok(());
        }
        if target.attribute.mutability == Mutability::WriteOnly {
            return Err(ProtocolError::mutability(format!(
                "'{}' can be replaced but not removed",
                target.attribute.name
            )));
        }
        match (&target.filter, target.sub) {
            (Some(filter), sub) => {
                let mut elements = self.elements(target);
                let matched = matching(&elements, filter);
                if matched.is_empty() {
                    return Ok(());
                }
                for &index in matched.iter().rev() {
                    match sub {
                        None => {
                            elements.remove(index);
                        }
                        Some(sub) => {
                            if let Some(Value::Object(element)) = elements.get_mut(index) {
                                remove_ignore_case(element, sub.name);
                            }
                        }
                    }
                }
                elements.retain(|element| element.as_object().is_none_or(|o| !o.is_empty()));
                self.put_elements(target, elements)
            }
            (None, Some(sub)) => {
                let mut object = self.sub_parent(target)?;
                remove_ignore_case(&mut object, sub.name);
                self.put_object(target, object)
            }
            (None, None) => self.put(target, None),
        }
    }

    /// The container of the target's attribute: the resource, or its extension object.
    fn container(&self, target: &Target) -> Option<&Map<String, Value>> {
        if target.extension {
            get_ignore_case(&self.doc, target.schema.id)?.as_object()
        } else {
            Some(&self.doc)
        }
    }

    /// The attribute's current value; `null` counts as absent.
    fn current(&self, target: &Target) -> Option<&Value> {
        get_ignore_case(self.container(target)?, target.attribute.name).filter(|v| !v.is_null())
    }

    /// The values of a multi-valued attribute, or the value of a single complex one, as a list.
    fn elements(&self, target: &Target) -> Vec<Value> {
        match self.current(target) {
            None => Vec::new(),
            Some(Value::Array(items)) => items.clone(),
            Some(single) => vec![single.clone()],
        }
    }

    /// The object a `name.givenName` path writes into (a copy, empty when absent).
    fn sub_parent(&self, target: &Target) -> Result<Map<String, Value>, ProtocolError> {
        if target.attribute.multi_valued {
            let attribute = target.attribute.name;
            let example = target
                .attribute
                .sub_attribute("type")
                .map_or(String::new(), |_| {
                    format!(", e.g. {attribute}[type eq \"work\"].{}", target.end().name)
                });
            return Err(ProtocolError::invalid_path(format!(
                "'{}' does not say which value of '{attribute}' to change; select one with a \
                 filter{example}",
                target.display()
            )));
        }
        Ok(match self.current(target) {
            Some(Value::Object(object)) => object.clone(),
            _ => Map::new(),
        })
    }

    fn put_object(
        &mut self,
        target: &Target,
        object: Map<String, Value>,
    ) -> Result<(), ProtocolError> {
        let value = (!object.is_empty()).then_some(Value::Object(object));
        self.put(target, value)
    }

    fn put_elements(&mut self, target: &Target, elements: Vec<Value>) -> Result<(), ProtocolError> {
        check_one_primary(&elements, target.attribute.name)?;
        let value = if target.attribute.multi_valued {
            (!elements.is_empty()).then_some(Value::Array(elements))
        } else {
            elements.into_iter().next()
        };
        self.put(target, value)
    }

    /// Sets (`Some`) or unassigns (`None`) the target's attribute, under its canonical name.
    fn put(&mut self, target: &Target, value: Option<Value>) -> Result<(), ProtocolError> {
        let attribute = target.attribute;
        let current = self.current(target);
        if value.is_none() && attribute.required {
            return Err(ProtocolError::mutability(format!(
                "attribute '{}' is required and cannot be removed",
                attribute.name
            )));
        }
        // Every user carries `active` (Okta and Entra read it on every sync), so unassigning
        // it would either silently keep the old value or invent one: refuse instead.
        if value.is_none() && is_user_active(target) {
            return Err(ProtocolError::invalid_value(
                "'active' cannot be removed; replace it with true or false",
            ));
        }
        if attribute.mutability == Mutability::Immutable
            && current.is_some()
            && current != value.as_ref()
        {
            return Err(ProtocolError::mutability(format!(
                "attribute '{}' is immutable and cannot be changed",
                attribute.name
            )));
        }
        let urn = target.schema.id;
        let container = if target.extension {
            if let Some(key) = key_ignore_case(&self.doc, urn).filter(|key| key != urn) {
                let moved = self.doc.shift_remove(&key);
                self.doc.insert(urn.to_owned(), moved.unwrap_or_default());
            }
            let slot = self
                .doc
                .entry(urn.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            match slot {
                Value::Object(object) => object,
                _ => return Ok(()),
            }
        } else {
            &mut self.doc
        };
        match value {
            Some(value) => insert_canonical(container, attribute.name, value),
            None => remove_ignore_case(container, attribute.name),
        }
        let empty_extension = target.extension && container.is_empty();
        if empty_extension {
            self.doc.shift_remove(urn);
        }
        Ok(())
    }

    /// `schemas` lists the core URN and the extensions present (RFC 7643 §3), when the stored
    /// resource has a `schemas` member at all.
    fn rebuild_schemas(&mut self) {
        let Some(key) = key_ignore_case(&self.doc, "schemas") else {
            return;
        };
        let mut schemas = vec![Value::String(self.rt.schema.id.to_owned())];
        for extension in self.rt.extensions {
            let present = get_ignore_case(&self.doc, extension.schema.id)
                .and_then(Value::as_object)
                .is_some_and(|object| !object.is_empty());
            if present {
                schemas.push(Value::String(extension.schema.id.to_owned()));
            }
        }
        self.doc.insert(key, Value::Array(schemas));
    }
}

/// readOnly attributes and sub-attributes cannot be patched (RFC 7644 §3.5.2, dossier P-27).
fn check_writable(target: &Target) -> Result<(), ProtocolError> {
    let read_only = target.attribute.mutability == Mutability::ReadOnly
        || target
            .sub
            .is_some_and(|sub| sub.mutability == Mutability::ReadOnly);
    if read_only {
        return Err(ProtocolError::mutability(format!(
            "attribute '{}' is readOnly",
            target.display()
        )));
    }
    Ok(())
}

/// One element for `attr[filter]`, normalised; `None` for `null`.
fn single_element(target: &Target, value: &Value) -> Result<Option<Value>, ProtocolError> {
    let attribute = target.attribute;
    match normalize_value(attribute, value, attribute.name)? {
        Some(Value::Array(items)) if attribute.multi_valued => {
            let count = items.len();
            let mut items = items.into_iter();
            match (items.next(), count) {
                (Some(item), 1) => Ok(Some(item)),
                _ => Err(ProtocolError::invalid_value(format!(
                    "a filtered path selects values of '{}' one at a time; give one object, not {count}",
                    attribute.name
                ))),
            }
        }
        other => Ok(other),
    }
}

fn matching(elements: &[Value], filter: &ResolvedFilter) -> Vec<usize> {
    elements
        .iter()
        .enumerate()
        .filter(|(_, element)| matches_element(filter, element))
        .map(|(index, _)| index)
        .collect()
}

fn no_match(attribute: &str) -> ProtocolError {
    ProtocolError::no_target(format!("no value of '{attribute}' matches the filter"))
}

fn is_user_active(target: &Target) -> bool {
    target.schema.id == crate::scim::USER_URN && target.attribute.name == "active"
}
