//! Attribute projection: the `attributes` and `excludedAttributes` parameters (RFC 7644 §3.4.2.5,
//! §3.9) combined with each attribute's `returned` characteristic (RFC 7643 §7).
//!
//! Decisions, where the RFCs leave room:
//! - Both parameters given: `attributes` wins and `excludedAttributes` is ignored (§3.4.2.5 lets a
//!   client use "one of these two"; the UnboundID SCIM 2 SDK does the same). Both are still
//!   parsed, so malformed text in either is `invalidValue`.
//! - Names the registry does not know (custom IdP mappings, `name.nickname`, a foreign URN) are
//!   ignored, never an error: they select nothing and exclude nothing.
//! - `id` (registry: returned `always`) and `schemas` (RFC 7643 §3, in every §3.9 example) are
//!   always returned; `meta` is `default`, as the §3.9 `attributes=userName` example omits it.
//! - An extension URN alone names the whole extension. An extension object left empty is removed
//!   and its URN dropped from `schemas`, so `schemas` lists exactly the extensions present.
//! - `request` attributes and sub-attributes appear only when their own path is named; naming a
//!   parent (or an extension URN) brings its `always` and `default` members only.
//! - `always` holds at every level: an `always` sub-attribute is returned whenever its parent has
//!   a value, even if the parent was excluded or not named (no registry sub-attribute is `always`).
//! - A value emptied by the selection is removed; an empty list the server rendered
//!   (`"members": []`) stays unless the attribute is deselected.
//! - Keys the registry does not know are dropped from the output.

use serde_json::{Map, Value};

use super::error::{ProtocolError, ScimType};
use super::filter::parse_attribute_list;
use super::schema::{
    AttributeDef, GROUP_RESOURCE_TYPE, ResourceTypeDef, Returned, SchemaDef, USER_RESOURCE_TYPE,
};

/// Which attributes a response carries, parsed from `attributes` / `excludedAttributes`.
///
/// [`Projection::default`] is "no parameters": every `always` and `default` attribute. A projection
/// holds canonical registry names only, so it is cheap to clone and compare.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Projection {
    mode: Mode,
    names: Names,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Mode {
    /// `attributes`: only what is named, plus `always`.
    Only,
    /// `excludedAttributes` (or neither): `default` and `always`, minus what is named.
    #[default]
    Except,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Names {
    /// Schemas named by their bare URN.
    schemas: Vec<&'static str>,
    /// Attribute paths, in canonical case.
    paths: Vec<Name>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Name {
    schema: &'static str,
    attribute: &'static str,
    sub_attribute: Option<&'static str>,
}

impl Names {
    fn has_schema(&self, schema: &SchemaDef) -> bool {
        self.schemas.contains(&schema.id)
    }

    fn has(
        &self,
        schema: &SchemaDef,
        attribute: &AttributeDef,
        sub: Option<&AttributeDef>,
    ) -> bool {
        let wanted = Name {
            schema: schema.id,
            attribute: attribute.name,
            sub_attribute: sub.map(|sub| sub.name),
        };
        self.paths.contains(&wanted)
    }
}

impl Projection {
    /// Parses the two query parameters (or SearchRequest members) for `rt` (RFC 7644 §3.9).
    ///
    /// `None`, empty and blank texts mean absent. Malformed lists are `invalidValue`; unknown
    /// names are ignored; when both are present `attributes` wins (see the module docs).
    pub fn parse(
        rt: &ResourceTypeDef,
        attributes: Option<&str>,
        excluded_attributes: Option<&str>,
    ) -> Result<Self, ProtocolError> {
        let included = parse_names(rt, attributes, "attributes")?;
        let excluded = parse_names(rt, excluded_attributes, "excludedAttributes")?;
        Ok(match (included, excluded) {
            (Some(names), _) => Self {
                mode: Mode::Only,
                names,
            },
            (None, excluded) => Self {
                mode: Mode::Except,
                names: excluded.unwrap_or_default(),
            },
        })
    }

    /// Trims a fully rendered resource of type `rt` (RFC 7643 §7 `returned`, RFC 7644 §3.9).
    ///
    /// `always` attributes stay, `never` ones go; complex values keep only the selected
    /// sub-attributes and vanish when nothing is left; key order is preserved; `schemas` keeps
    /// only the extension URNs whose objects remain. A non-object is returned unchanged.
    pub fn apply(&self, rt: &ResourceTypeDef, resource: Value) -> Value {
        let Value::Object(object) = resource else {
            return resource;
        };
        let mut out = Map::new();
        let mut schemas_key = None;
        for (key, value) in object {
            if key.eq_ignore_ascii_case("schemas") {
                schemas_key = Some(key.clone());
                out.insert(key, value);
            } else if let Some(extension) = rt.extension(&key) {
                if let Some(value) = self.project_schema(extension.schema, value) {
                    out.insert(key, value);
                }
            } else if let Some(attribute) = rt.schema.attribute(&key)
                && let Some(value) = self.project_attribute(rt.schema, attribute, value)
            {
                out.insert(key, value);
            }
        }
        if let Some(key) = schemas_key {
            let present: Vec<String> = out.keys().cloned().collect();
            if let Some(Value::Array(urns)) = out.get_mut(&key) {
                urns.retain(|urn| {
                    let Some(urn) = urn.as_str() else {
                        return true;
                    };
                    rt.extension(urn).is_none()
                        || present.iter().any(|key| key.eq_ignore_ascii_case(urn))
                });
            }
        }
        Value::Object(out)
    }

    /// Whether the output can contain any part of `attribute` (`members`, `name.givenName`,
    /// a URN-prefixed path, or a bare schema URN), compared case-insensitively.
    ///
    /// The server asks this before loading data kept outside the resource. Unknown names are
    /// `false`; `schemas` is `true`.
    pub fn includes(&self, rt: &ResourceTypeDef, attribute: &str) -> bool {
        if attribute.eq_ignore_ascii_case("schemas") {
            return true;
        }
        if let Some(schema) = rt.schema_by_urn(attribute) {
            return schema
                .attributes
                .iter()
                .any(|attribute| self.shows_any(schema, attribute));
        }
        let Some(resolved) = rt.resolve(attribute) else {
            return false;
        };
        match resolved.sub_attribute {
            Some(sub) => self.shows_sub(resolved.schema, resolved.attribute, sub),
            None => self.shows_any(resolved.schema, resolved.attribute),
        }
    }

    /// Whether a Group response needs `members`; `false` lets the store skip the member query.
    pub fn needs_members(&self) -> bool {
        self.includes(&GROUP_RESOURCE_TYPE, "members")
    }

    /// Whether a User response needs `groups`; `false` lets the store skip the membership query.
    pub fn needs_groups(&self) -> bool {
        self.includes(&USER_RESOURCE_TYPE, "groups")
    }

    fn project_schema(&self, schema: &SchemaDef, value: Value) -> Option<Value> {
        let Value::Object(object) = value else {
            return None;
        };
        let projected: Map<String, Value> = object
            .into_iter()
            .filter_map(|(key, value)| {
                let attribute = schema.attribute(&key)?;
                Some((key, self.project_attribute(schema, attribute, value)?))
            })
            .collect();
        (!projected.is_empty()).then_some(Value::Object(projected))
    }

    fn project_attribute(
        &self,
        schema: &SchemaDef,
        attribute: &AttributeDef,
        value: Value,
    ) -> Option<Value> {
        if !attribute.is_complex() {
            return self.shows(schema, attribute).then_some(value);
        }
        match value {
            Value::Object(object) => self
                .project_complex(schema, attribute, object)
                .map(Value::Object),
            // An empty list is what the server chose to render (`"members": []`); keep it if any
            // part of the attribute is selected, but drop a list the selection emptied.
            Value::Array(items) if items.is_empty() => self
                .shows_any(schema, attribute)
                .then_some(Value::Array(items)),
            Value::Array(items) => {
                let kept: Vec<Value> = items
                    .into_iter()
                    .filter_map(|item| match item {
                        Value::Object(object) => self.project_complex(schema, attribute, object),
                        _ => None,
                    })
                    .map(Value::Object)
                    .collect();
                (!kept.is_empty()).then_some(Value::Array(kept))
            }
            other => self.shows(schema, attribute).then_some(other),
        }
    }

    fn project_complex(
        &self,
        schema: &SchemaDef,
        attribute: &AttributeDef,
        object: Map<String, Value>,
    ) -> Option<Map<String, Value>> {
        let kept: Map<String, Value> = object
            .into_iter()
            .filter(|(key, _)| {
                attribute
                    .sub_attribute(key)
                    .is_some_and(|sub| self.shows_sub(schema, attribute, sub))
            })
            .collect();
        (!kept.is_empty()).then_some(kept)
    }

    /// Whether any part of `attribute` is returned.
    fn shows_any(&self, schema: &SchemaDef, attribute: &AttributeDef) -> bool {
        if attribute.is_complex() {
            attribute
                .sub_attributes
                .iter()
                .any(|sub| self.shows_sub(schema, attribute, sub))
        } else {
            self.shows(schema, attribute)
        }
    }

    /// Whether `attribute` as a whole is selected (RFC 7643 §7 `returned`, RFC 7644 §3.9).
    fn shows(&self, schema: &SchemaDef, attribute: &AttributeDef) -> bool {
        let named = self.names.has(schema, attribute, None);
        match (attribute.returned, self.mode) {
            (Returned::Never, _) => false,
            (Returned::Always, _) => true,
            (Returned::Request, Mode::Only) => named,
            (Returned::Request, Mode::Except) => false,
            (Returned::Default, Mode::Only) => named || self.names.has_schema(schema),
            (Returned::Default, Mode::Except) => !(named || self.names.has_schema(schema)),
        }
    }

    /// Whether sub-attribute `sub` of `attribute` is returned, whenever `attribute` has a value.
    fn shows_sub(&self, schema: &SchemaDef, attribute: &AttributeDef, sub: &AttributeDef) -> bool {
        if attribute.returned == Returned::Never || sub.returned == Returned::Never {
            return false;
        }
        if sub.returned == Returned::Always {
            return true;
        }
        let named = self.names.has(schema, attribute, Some(sub));
        match (sub.returned, self.mode) {
            (Returned::Request, Mode::Only) => named,
            (Returned::Request, Mode::Except) => false,
            (_, Mode::Only) => named || self.shows(schema, attribute),
            (_, Mode::Except) => !named && self.shows(schema, attribute),
        }
    }
}

/// One parameter's names; `None` when the parameter is absent or blank.
fn parse_names(
    rt: &ResourceTypeDef,
    text: Option<&str>,
    parameter: &str,
) -> Result<Option<Names>, ProtocolError> {
    let Some(text) = text else {
        return Ok(None);
    };
    let paths = parse_attribute_list(text)
        .map_err(|error| error.into_protocol_error(ScimType::InvalidValue, parameter))?;
    if paths.is_empty() {
        return Ok(None);
    }
    let mut names = Names::default();
    for path in paths {
        // The parser reads a bare `urn:…:2.0:User` as URN `urn:…:2.0` plus attribute `User`.
        if path.sub_attribute.is_none()
            && let Some(urn) = &path.urn
            && let Some(schema) = rt.schema_by_urn(&format!("{urn}:{}", path.attribute))
        {
            names.schemas.push(schema.id);
            continue;
        }
        let mut text = match &path.urn {
            Some(urn) => format!("{urn}:{}", path.attribute),
            None => path.attribute.clone(),
        };
        if let Some(sub) = &path.sub_attribute {
            text = format!("{text}.{sub}");
        }
        if let Some(resolved) = rt.resolve(&text) {
            names.paths.push(Name {
                schema: resolved.schema.id,
                attribute: resolved.attribute.name,
                sub_attribute: resolved.sub_attribute.map(|sub| sub.name),
            });
        }
    }
    Ok(Some(names))
}

#[cfg(test)]
mod tests;
