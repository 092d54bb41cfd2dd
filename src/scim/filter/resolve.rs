//! Checks a parsed filter against the attribute registry and annotates every comparison with
//! what the SQL compiler and the in-memory evaluator need (RFC 7644 §3.4.2.2, RFC 7643 §2.3, §7).

use chrono::{DateTime, NaiveDateTime, Utc};

use super::ast::{AttrPath, CompValue, CompareOp, Filter, PatchPath};
use crate::scim::error::{ProtocolError, ScimType};
use crate::scim::schema::{AttrType, AttributeDef, ResourceTypeDef, SchemaDef};

/// The attribute a comparison reads, in the registry's canonical case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolvedTarget {
    /// URN of the schema defining the attribute.
    pub urn: &'static str,
    /// Whether that schema is an extension (values live under the URN key in the resource).
    pub extension: bool,
    /// Canonical top-level attribute name, e.g. `emails`.
    pub attribute: &'static str,
    /// Canonical sub-attribute name, e.g. `value`; inside a value filter always set.
    pub sub_attribute: Option<&'static str>,
    /// Type of the attribute the path ends at (`Complex` for `emails pr`).
    pub attr_type: AttrType,
    /// Whether strings compare case-sensitively, from the attribute the path ends at.
    pub case_exact: bool,
    /// Whether the top-level attribute is multi-valued (any of its values may match).
    pub multi_valued: bool,
}

/// A comparison operand converted to the attribute's type.
#[derive(Debug, Clone, PartialEq)]
pub enum ResolvedValue {
    /// For string, reference and binary attributes.
    String(String),
    /// For boolean attributes.
    Boolean(bool),
    /// For integer and decimal attributes.
    Number(serde_json::Number),
    /// For dateTime attributes, compared as instants.
    DateTime(DateTime<Utc>),
    /// `null`: `eq null` matches an absent attribute, `ne null` a present one (RFC 7643 §2.5).
    Null,
}

/// A filter whose paths exist and whose operands fit their attributes.
#[derive(Debug, Clone, PartialEq)]
pub enum ResolvedFilter {
    /// Both operands match.
    And(Box<ResolvedFilter>, Box<ResolvedFilter>),
    /// Either operand matches.
    Or(Box<ResolvedFilter>, Box<ResolvedFilter>),
    /// The operand does not match.
    Not(Box<ResolvedFilter>),
    /// Some value of `target` compares true with `value`.
    Compare {
        /// The attribute read.
        target: ResolvedTarget,
        /// The operator.
        op: CompareOp,
        /// The operand, typed after the attribute.
        value: ResolvedValue,
    },
    /// `target` has a non-empty value.
    Present {
        /// The attribute read.
        target: ResolvedTarget,
    },
    /// One value (element) of the complex attribute `target` matches `filter`, whose targets
    /// are sub-attributes of `target`.
    ValuePath {
        /// The complex attribute, without sub-attribute.
        target: ResolvedTarget,
        /// The condition on one element.
        filter: Box<ResolvedFilter>,
    },
}

/// A PATCH path checked against the registry (RFC 7644 §3.5.2).
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedPatchPath {
    /// The attribute (`name.givenName`), or for a value path the filtered attribute (`emails`).
    pub target: ResolvedTarget,
    /// The condition selecting elements; evaluate with [`super::matches_element`].
    pub filter: Option<ResolvedFilter>,
    /// The sub-attribute after a value filter (`value` in `emails[type eq "work"].value`).
    pub sub_attribute: Option<ResolvedTarget>,
}

/// `schemas` (RFC 7643 §3) is a common attribute the registry does not list; filters on it are
/// in RFC 7644 §3.4.2.2's own examples. URIs compare case-insensitively, like schema URNs here.
static SCHEMAS_ATTRIBUTE: AttributeDef =
    AttributeDef::string("schemas", "The schema URIs of the resource.").multi();

/// Resolves `filter` against `resource_type`; errors are `invalidFilter` (RFC 7644 §3.4.2.2).
///
/// Names become canonical; `emails eq "x"`, `members eq "id"` and `manager eq "id"` compare the
/// `value` sub-attribute; an unquoted number compared with a string attribute is its text, and
/// `"true"`/`"false"` compared with a boolean are booleans (Entra's string booleans).
pub fn resolve(
    filter: &Filter,
    resource_type: &ResourceTypeDef,
) -> Result<ResolvedFilter, ProtocolError> {
    Resolver::new(resource_type, ScimType::InvalidFilter, "filter").filter(filter, None)
}

/// Resolves a PATCH path; errors are `invalidPath` (RFC 7644 §3.5.2).
pub fn resolve_patch_path(
    path: &PatchPath,
    resource_type: &ResourceTypeDef,
) -> Result<ResolvedPatchPath, ProtocolError> {
    let resolver = Resolver::new(resource_type, ScimType::InvalidPath, "path");
    let Some(value_filter) = &path.filter else {
        let target = resolver.path(&path.attribute)?;
        return Ok(ResolvedPatchPath {
            target: target.target(),
            filter: None,
            sub_attribute: None,
        });
    };
    let parent = resolver.complex_parent(&path.attribute)?;
    let filter = resolver.filter(value_filter, Some(&parent))?;
    let sub_attribute = match &path.sub_attribute {
        Some(name) => {
            let sub = parent.attribute.sub_attribute(name).ok_or_else(|| {
                resolver.error(
                    path.attribute.span.end,
                    format!("'{}' has no sub-attribute '{name}'", parent.attribute.name),
                )
            })?;
            Some(
                Attr {
                    sub: Some(sub),
                    ..parent
                }
                .target(),
            )
        }
        None => None,
    };
    Ok(ResolvedPatchPath {
        target: parent.target(),
        filter: Some(filter),
        sub_attribute,
    })
}

/// A path found in the registry.
#[derive(Debug, Clone, Copy)]
struct Attr {
    schema: &'static SchemaDef,
    extension: bool,
    attribute: &'static AttributeDef,
    sub: Option<&'static AttributeDef>,
}

impl Attr {
    fn end(&self) -> &'static AttributeDef {
        self.sub.unwrap_or(self.attribute)
    }

    fn target(&self) -> ResolvedTarget {
        let end = self.end();
        ResolvedTarget {
            urn: self.schema.id,
            extension: self.extension,
            attribute: self.attribute.name,
            sub_attribute: self.sub.map(|sub| sub.name),
            attr_type: end.attr_type,
            case_exact: end.case_exact,
            multi_valued: self.attribute.multi_valued,
        }
    }

    fn display(&self) -> String {
        match self.sub {
            Some(sub) => format!("{}.{}", self.attribute.name, sub.name),
            None => self.attribute.name.to_owned(),
        }
    }
}

struct Resolver<'r> {
    resource_type: &'r ResourceTypeDef,
    scim_type: ScimType,
    subject: &'static str,
}

impl<'r> Resolver<'r> {
    fn new(resource_type: &'r ResourceTypeDef, scim_type: ScimType, subject: &'static str) -> Self {
        Self {
            resource_type,
            scim_type,
            subject,
        }
    }

    fn error(&self, position: usize, detail: impl std::fmt::Display) -> ProtocolError {
        ProtocolError::new(
            self.scim_type,
            format!("invalid {} at position {position}: {detail}", self.subject),
        )
    }

    /// `parent` is set inside a value filter, whose paths name sub-attributes of it.
    fn filter(
        &self,
        filter: &Filter,
        parent: Option<&Attr>,
    ) -> Result<ResolvedFilter, ProtocolError> {
        Ok(match filter {
            Filter::And(left, right) => ResolvedFilter::And(
                Box::new(self.filter(left, parent)?),
                Box::new(self.filter(right, parent)?),
            ),
            Filter::Or(left, right) => ResolvedFilter::Or(
                Box::new(self.filter(left, parent)?),
                Box::new(self.filter(right, parent)?),
            ),
            Filter::Not(inner) => ResolvedFilter::Not(Box::new(self.filter(inner, parent)?)),
            Filter::Present(path) => ResolvedFilter::Present {
                target: self.scoped_path(path, parent)?.target(),
            },
            Filter::Compare { path, op, value } => {
                let attr = self.scoped_path(path, parent)?;
                self.comparison(attr, path, *op, value)?
            }
            Filter::ValuePath { path, filter } => {
                let attr = self.complex_parent(path)?;
                ResolvedFilter::ValuePath {
                    target: attr.target(),
                    filter: Box::new(self.filter(filter, Some(&attr))?),
                }
            }
        })
    }

    fn scoped_path(&self, path: &AttrPath, parent: Option<&Attr>) -> Result<Attr, ProtocolError> {
        let Some(parent) = parent else {
            return self.path(path);
        };
        let at = path.span.start;
        if path.urn.is_some() || path.sub_attribute.is_some() {
            return Err(self.error(
                at,
                format!(
                    "inside '{}[…]' name a sub-attribute of '{}', such as '{}'",
                    parent.attribute.name,
                    parent.attribute.name,
                    parent
                        .attribute
                        .sub_attributes
                        .first()
                        .map_or("value", |s| s.name),
                ),
            ));
        }
        let sub = parent
            .attribute
            .sub_attribute(&path.attribute)
            .ok_or_else(|| {
                self.error(
                    at,
                    format!(
                        "'{}' has no sub-attribute '{}'",
                        parent.attribute.name, path.attribute
                    ),
                )
            })?;
        Ok(Attr {
            sub: Some(sub),
            ..*parent
        })
    }

    /// A top-level path, through the registry (names are case-insensitive, RFC 7643 §2.1).
    fn path(&self, path: &AttrPath) -> Result<Attr, ProtocolError> {
        let text = path.to_string();
        let core = self.resource_type.schema;
        if path
            .urn
            .as_deref()
            .is_none_or(|urn| urn.eq_ignore_ascii_case(core.id))
            && path.attribute.eq_ignore_ascii_case(SCHEMAS_ATTRIBUTE.name)
            && path.sub_attribute.is_none()
        {
            return Ok(Attr {
                schema: core,
                extension: false,
                attribute: &SCHEMAS_ATTRIBUTE,
                sub: None,
            });
        }
        let resolved = self.resource_type.resolve(&text).ok_or_else(|| {
            let detail = match &path.urn {
                Some(urn) if self.resource_type.schema_by_urn(urn).is_none() => format!(
                    "unknown schema '{urn}' for {} resources",
                    self.resource_type.name
                ),
                _ => format!("unknown attribute '{text}'"),
            };
            self.error(path.span.start, detail)
        })?;
        Ok(Attr {
            schema: resolved.schema,
            extension: resolved.is_extension(self.resource_type),
            attribute: resolved.attribute,
            sub: resolved.sub_attribute,
        })
    }

    /// The attribute before `[`: complex, without sub-attribute.
    fn complex_parent(&self, path: &AttrPath) -> Result<Attr, ProtocolError> {
        let attr = self.path(path)?;
        if !attr.attribute.is_complex() || attr.sub.is_some() {
            return Err(self.error(
                path.span.start,
                format!("'{}' has no sub-attributes to filter on", attr.display()),
            ));
        }
        Ok(attr)
    }

    fn comparison(
        &self,
        mut attr: Attr,
        path: &AttrPath,
        op: CompareOp,
        value: &CompValue,
    ) -> Result<ResolvedFilter, ProtocolError> {
        let at = path.span.start;
        if attr.end().is_complex() && *value != CompValue::Null {
            // RFC 7644 §3.4.2.2: a complex attribute without sub-attribute means its `value`.
            let value_sub = attr.attribute.sub_attribute("value").ok_or_else(|| {
                self.error(
                    at,
                    format!(
                        "'{}' is complex; compare one of its sub-attributes",
                        attr.display()
                    ),
                )
            })?;
            attr.sub = Some(value_sub);
        }
        let target = attr.target();
        let name = attr.display();
        if op.is_ordering()
            && matches!(
                target.attr_type,
                AttrType::Boolean | AttrType::Binary | AttrType::Complex
            )
        {
            return Err(self.error(
                at,
                format!(
                    "'{op}' cannot compare '{name}', which is {}",
                    article(target.attr_type)
                ),
            ));
        }
        if op.is_substring() && !is_textual(target.attr_type) {
            return Err(self.error(
                at,
                format!(
                    "'{op}' needs a string attribute; '{name}' is {}",
                    article(target.attr_type)
                ),
            ));
        }
        let value = self.value(&name, target.attr_type, op, value, at)?;
        Ok(ResolvedFilter::Compare { target, op, value })
    }

    fn value(
        &self,
        name: &str,
        attr_type: AttrType,
        op: CompareOp,
        value: &CompValue,
        at: usize,
    ) -> Result<ResolvedValue, ProtocolError> {
        let mismatch = || {
            self.error(
                at,
                format!(
                    "'{name}' is {}; {value} does not fit it",
                    article(attr_type)
                ),
            )
        };
        Ok(match (attr_type, value) {
            (_, CompValue::Null) if matches!(op, CompareOp::Eq | CompareOp::Ne) => {
                ResolvedValue::Null
            }
            (_, CompValue::Null) => {
                return Err(self.error(at, format!("'{op}' cannot compare with null")));
            }
            (t, CompValue::String(text)) if is_textual(t) => ResolvedValue::String(text.clone()),
            // An unquoted `employeeNumber eq 701984` parses as a number; the client meant text.
            (t, CompValue::Number(number)) if is_textual(t) && !number.is_f64() => {
                ResolvedValue::String(number.to_string())
            }
            (AttrType::Boolean, CompValue::Bool(flag)) => ResolvedValue::Boolean(*flag),
            (AttrType::Boolean, CompValue::String(text)) => {
                match text.to_ascii_lowercase().as_str() {
                    "true" => ResolvedValue::Boolean(true),
                    "false" => ResolvedValue::Boolean(false),
                    _ => return Err(mismatch()),
                }
            }
            (AttrType::Integer, CompValue::Number(number)) if !number.is_f64() => {
                ResolvedValue::Number(number.clone())
            }
            (AttrType::Decimal, CompValue::Number(number)) => ResolvedValue::Number(number.clone()),
            (AttrType::DateTime, CompValue::String(text)) => {
                ResolvedValue::DateTime(parse_date_time(text).ok_or_else(|| {
                    self.error(
                        at,
                        format!("'{name}' is a dateTime; \"{text}\" is not an xsd:dateTime"),
                    )
                })?)
            }
            _ => return Err(mismatch()),
        })
    }
}

fn is_textual(attr_type: AttrType) -> bool {
    matches!(
        attr_type,
        AttrType::String | AttrType::Reference | AttrType::Binary
    )
}

fn article(attr_type: AttrType) -> String {
    match attr_type {
        AttrType::Integer => "an integer".to_owned(),
        other => format!("a {}", other.as_str()),
    }
}

/// An xsd:dateTime (RFC 7643 §2.3.5); without an offset it is taken as UTC.
pub(crate) fn parse_date_time(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
        return Some(instant.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|naive| naive.and_utc())
}
