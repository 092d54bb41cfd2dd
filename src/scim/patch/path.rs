//! PATCH paths resolved down to registry definitions, and what a value filter says when read as
//! data (the element it describes, the ids it lists).

use serde_json::Value;

use crate::scim::error::ProtocolError;
use crate::scim::filter::{
    CompareOp, PatchPath, ResolvedFilter, ResolvedValue, resolve_patch_path,
};
use crate::scim::schema::{AttributeDef, ResolvedAttr, ResourceTypeDef, SchemaDef};

/// Where an operation points: an attribute, maybe a value filter on it, maybe a sub-attribute.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// The schema defining the attribute.
    pub schema: &'static SchemaDef,
    /// Whether the attribute lives under its extension URN in the resource.
    pub extension: bool,
    /// The top-level attribute.
    pub attribute: &'static AttributeDef,
    /// `givenName` in `name.givenName`, `value` in `emails[type eq "work"].value`.
    pub sub: Option<&'static AttributeDef>,
    /// The value filter of `emails[type eq "work"]`, evaluated on one element.
    pub filter: Option<ResolvedFilter>,
}

impl Target {
    /// Resolves a parsed path against the registry; unknown names are `invalidPath`.
    pub fn resolve(rt: &ResourceTypeDef, path: &PatchPath) -> Result<Self, ProtocolError> {
        let resolved = resolve_patch_path(path, rt)?;
        let schema = rt.schema_by_urn(resolved.target.urn).ok_or_else(|| {
            ProtocolError::invalid_path(format!("unknown schema '{}'", resolved.target.urn))
        })?;
        let attribute = schema.attribute(resolved.target.attribute).ok_or_else(|| {
            // Only the `schemas` pseudo-attribute resolves without a registry entry.
            ProtocolError::mutability(format!(
                "'{}' is maintained by the server and cannot be patched",
                resolved.target.attribute
            ))
        })?;
        let sub_name = match &resolved.sub_attribute {
            Some(after_filter) => after_filter.sub_attribute,
            None => resolved.target.sub_attribute,
        };
        let sub = match sub_name {
            Some(name) => Some(attribute.sub_attribute(name).ok_or_else(|| {
                ProtocolError::invalid_path(format!(
                    "'{}' has no sub-attribute '{name}'",
                    attribute.name
                ))
            })?),
            None => None,
        };
        Ok(Self {
            schema,
            extension: resolved.target.extension,
            attribute,
            sub,
            filter: resolved.filter,
        })
    }

    /// A key of a path-less value object, already found in the registry.
    pub fn from_resolved(rt: &ResourceTypeDef, resolved: ResolvedAttr) -> Self {
        Self {
            schema: resolved.schema,
            extension: resolved.is_extension(rt),
            attribute: resolved.attribute,
            sub: resolved.sub_attribute,
            filter: None,
        }
    }

    /// The definition the path ends at.
    pub fn end(&self) -> &'static AttributeDef {
        self.sub.unwrap_or(self.attribute)
    }

    /// Whether this is the Group `members` attribute, whose values the server keeps as rows.
    pub fn is_members(&self) -> bool {
        !self.extension
            && self.attribute.name == "members"
            && self.attribute.multi_valued
            && self.attribute.is_complex()
    }

    /// Whether the value is one JSON value (not an array): single-valued attributes, and
    /// sub-attributes reached through `name.x` or a value filter.
    pub fn is_single_value(&self) -> bool {
        self.sub.is_some() || !self.attribute.multi_valued
    }

    /// `name.givenName`, `emails.value`: how details name the attribute.
    pub fn display(&self) -> String {
        match self.sub {
            Some(sub) => format!("{}.{}", self.attribute.name, sub.name),
            None => self.attribute.name.to_owned(),
        }
    }
}

/// The sub-attribute values an element must have to match a filter made only of `eq`
/// comparisons joined by `and` (`type eq "work"`, `type eq "work" and primary eq true`), so that
/// a missing element can be created from it; `None` for any other filter. The values are
/// the literals the filter parser read (the same grammar as `GET ?filter=`), so a quote or any
/// text the parser did not accept as a literal never reaches the resource.
pub(crate) fn required_values(filter: &ResolvedFilter) -> Option<Vec<(&'static str, Value)>> {
    let mut found = Vec::new();
    collect_required(filter, &mut found)?;
    Some(found)
}

fn collect_required(filter: &ResolvedFilter, found: &mut Vec<(&'static str, Value)>) -> Option<()> {
    match filter {
        ResolvedFilter::And(left, right) => {
            collect_required(left, found)?;
            collect_required(right, found)
        }
        ResolvedFilter::Compare {
            target,
            op: CompareOp::Eq,
            value,
        } => {
            let name = target.sub_attribute?;
            let value = match value {
                ResolvedValue::String(text) => Value::String(text.clone()),
                ResolvedValue::Boolean(flag) => Value::Bool(*flag),
                ResolvedValue::Number(number) => Value::Number(number.clone()),
                ResolvedValue::DateTime(_) | ResolvedValue::Null => return None,
            };
            found.push((name, value));
            Some(())
        }
        _ => None,
    }
}

/// The ids a filter lists when it is `value eq "a"` or `value eq "a" or value eq "b" …`
/// (Okta's and Entra's member removals); `None` for any other filter.
pub(crate) fn listed_values(filter: &ResolvedFilter) -> Option<Vec<String>> {
    let mut found = Vec::new();
    let mut pending = vec![filter];
    while let Some(filter) = pending.pop() {
        match filter {
            ResolvedFilter::Or(left, right) => {
                pending.push(right);
                pending.push(left);
            }
            ResolvedFilter::Compare {
                target,
                op: CompareOp::Eq,
                value: ResolvedValue::String(id),
            } if target.sub_attribute == Some("value") => found.push(id.clone()),
            _ => return None,
        }
    }
    Some(found)
}
