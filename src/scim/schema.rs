//! The attribute registry: every attribute scimd knows, with its RFC 7643 §7 characteristics.
//!
//! Validation, projection, filtering, PATCH, the SQL column map and `/Schemas` all read this
//! registry; nothing else decides that `userName` is caseExact=false or that `id` is readOnly.

use serde::Serialize;

mod definitions;

pub use definitions::{
    ENTERPRISE_USER_SCHEMA, GROUP_RESOURCE_TYPE, GROUP_SCHEMA, USER_RESOURCE_TYPE, USER_SCHEMA,
};

/// An attribute's data type (RFC 7643 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum AttrType {
    /// A JSON string.
    String,
    /// A JSON `true` or `false`.
    Boolean,
    /// A JSON number, possibly with a fraction.
    Decimal,
    /// A JSON number without a fraction.
    Integer,
    /// An xsd:dateTime string, e.g. `2008-01-23T04:56:22Z`.
    DateTime,
    /// A base64-encoded string.
    Binary,
    /// A URI string referring to a resource.
    Reference,
    /// A JSON object of sub-attributes.
    Complex,
}

impl AttrType {
    /// The keyword used in `/Schemas` (`"dateTime"`, `"complex"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Boolean => "boolean",
            Self::Decimal => "decimal",
            Self::Integer => "integer",
            Self::DateTime => "dateTime",
            Self::Binary => "binary",
            Self::Reference => "reference",
            Self::Complex => "complex",
        }
    }
}

/// Whether and when a client may set an attribute (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Mutability {
    /// Set by the server only; client values are ignored.
    ReadOnly,
    /// Set and changed freely by clients.
    ReadWrite,
    /// Set on creation or replacement, never changed afterwards.
    Immutable,
    /// Accepted from clients, never returned.
    WriteOnly,
}

impl Mutability {
    /// The keyword used in `/Schemas` (`"readWrite"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReadOnly => "readOnly",
            Self::ReadWrite => "readWrite",
            Self::Immutable => "immutable",
            Self::WriteOnly => "writeOnly",
        }
    }
}

/// When an attribute appears in responses (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Returned {
    /// In every response, whatever `attributes`/`excludedAttributes` say.
    Always,
    /// In no response.
    Never,
    /// Unless excluded with `excludedAttributes`.
    Default,
    /// Only when named in `attributes`.
    Request,
}

impl Returned {
    /// The keyword used in `/Schemas` (`"always"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Always => "always",
            Self::Never => "never",
            Self::Default => "default",
            Self::Request => "request",
        }
    }
}

/// How unique an attribute's value must be (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Uniqueness {
    /// No uniqueness required.
    None,
    /// Unique within the service provider's tenant (for scimd: within an organisation).
    Server,
    /// Globally unique.
    Global,
}

impl Uniqueness {
    /// The keyword used in `/Schemas` (`"server"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Server => "server",
            Self::Global => "global",
        }
    }
}

/// One attribute or sub-attribute definition (RFC 7643 §7 "attributes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttributeDef {
    /// Canonical name; clients may use any case.
    pub name: &'static str,
    /// Data type.
    pub attr_type: AttrType,
    /// Whether the value is a JSON array of values.
    pub multi_valued: bool,
    /// Human-readable description, rendered in `/Schemas`.
    pub description: &'static str,
    /// Whether a client must supply a (non-empty) value.
    pub required: bool,
    /// Whether string comparison is case-sensitive.
    pub case_exact: bool,
    /// Whether and when clients may set it.
    pub mutability: Mutability,
    /// When it is returned.
    pub returned: Returned,
    /// How unique its value must be.
    pub uniqueness: Uniqueness,
    /// Suggested values (e.g. `work`, `home`); advisory, not enforced.
    pub canonical_values: &'static [&'static str],
    /// For references: the resource types or `external`/`uri` it may point to.
    pub reference_types: &'static [&'static str],
    /// For complex attributes: the sub-attributes, in rendering order.
    pub sub_attributes: &'static [AttributeDef],
}

impl AttributeDef {
    /// A single-valued, optional, case-insensitive, readWrite attribute returned by default.
    pub const fn new(name: &'static str, attr_type: AttrType, description: &'static str) -> Self {
        Self {
            name,
            attr_type,
            multi_valued: false,
            description,
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            canonical_values: &[],
            reference_types: &[],
            sub_attributes: &[],
        }
    }

    /// A string attribute with the defaults of [`AttributeDef::new`].
    pub const fn string(name: &'static str, description: &'static str) -> Self {
        Self::new(name, AttrType::String, description)
    }

    /// A boolean attribute with the defaults of [`AttributeDef::new`].
    pub const fn boolean(name: &'static str, description: &'static str) -> Self {
        Self::new(name, AttrType::Boolean, description)
    }

    /// A reference attribute pointing at the given reference types.
    pub const fn reference(
        name: &'static str,
        reference_types: &'static [&'static str],
        description: &'static str,
    ) -> Self {
        Self {
            reference_types,
            ..Self::new(name, AttrType::Reference, description)
        }
    }

    /// A complex attribute with the given sub-attributes.
    pub const fn complex(
        name: &'static str,
        sub_attributes: &'static [AttributeDef],
        description: &'static str,
    ) -> Self {
        Self {
            sub_attributes,
            ..Self::new(name, AttrType::Complex, description)
        }
    }

    /// The same attribute, multi-valued.
    pub const fn multi(self) -> Self {
        Self {
            multi_valued: true,
            ..self
        }
    }

    /// The same attribute, required.
    pub const fn require(self) -> Self {
        Self {
            required: true,
            ..self
        }
    }

    /// The same attribute, compared case-sensitively.
    pub const fn exact(self) -> Self {
        Self {
            case_exact: true,
            ..self
        }
    }

    /// The same attribute with another mutability.
    pub const fn with_mutability(self, mutability: Mutability) -> Self {
        Self { mutability, ..self }
    }

    /// The same attribute with another `returned` characteristic.
    pub const fn with_returned(self, returned: Returned) -> Self {
        Self { returned, ..self }
    }

    /// The same attribute with another uniqueness.
    pub const fn with_uniqueness(self, uniqueness: Uniqueness) -> Self {
        Self { uniqueness, ..self }
    }

    /// The same attribute with suggested values.
    pub const fn with_canonical_values(self, canonical_values: &'static [&'static str]) -> Self {
        Self {
            canonical_values,
            ..self
        }
    }

    /// The sub-attribute with this name, compared case-insensitively (RFC 7643 §2.1).
    pub fn sub_attribute(&self, name: &str) -> Option<&'static AttributeDef> {
        self.sub_attributes
            .iter()
            .find(|sub| sub.name.eq_ignore_ascii_case(name))
    }

    /// Whether values of this attribute are JSON objects.
    pub fn is_complex(&self) -> bool {
        self.attr_type == AttrType::Complex
    }
}

/// A schema: a URN and its attributes (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaDef {
    /// The schema URN, e.g. `urn:ietf:params:scim:schemas:core:2.0:User`.
    pub id: &'static str,
    /// Human-readable name.
    pub name: &'static str,
    /// Human-readable description.
    pub description: &'static str,
    /// Top-level attributes, in rendering order.
    pub attributes: &'static [AttributeDef],
}

impl SchemaDef {
    /// The top-level attribute with this name, compared case-insensitively (RFC 7643 §2.1).
    pub fn attribute(&self, name: &str) -> Option<&'static AttributeDef> {
        self.attributes
            .iter()
            .find(|attribute| attribute.name.eq_ignore_ascii_case(name))
    }
}

/// A schema extension of a resource type (RFC 7643 §6 `schemaExtensions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaExtension {
    /// The extension schema.
    pub schema: &'static SchemaDef,
    /// Whether every resource of the type must carry the extension.
    pub required: bool,
}

/// A resource type: endpoint, core schema and extensions (RFC 7643 §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceTypeDef {
    /// Identifier and name, e.g. `User`; also `meta.resourceType`.
    pub name: &'static str,
    /// Endpoint relative to the base URL, e.g. `/Users`.
    pub endpoint: &'static str,
    /// Human-readable description.
    pub description: &'static str,
    /// The core schema.
    pub schema: &'static SchemaDef,
    /// Extension schemas, in rendering order.
    pub extensions: &'static [SchemaExtension],
}

/// An attribute path resolved against a resource type's schemas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolvedAttr {
    /// The schema that defines the attribute.
    pub schema: &'static SchemaDef,
    /// The top-level attribute.
    pub attribute: &'static AttributeDef,
    /// The sub-attribute, for paths like `name.givenName`.
    pub sub_attribute: Option<&'static AttributeDef>,
}

impl ResolvedAttr {
    /// The definition the path ends at: the sub-attribute if there is one, else the attribute.
    pub fn target(&self) -> &'static AttributeDef {
        self.sub_attribute.unwrap_or(self.attribute)
    }

    /// Whether the attribute lives in an extension schema (stored under the extension URN).
    pub fn is_extension(&self, resource_type: &ResourceTypeDef) -> bool {
        self.schema.id != resource_type.schema.id
    }
}

impl ResourceTypeDef {
    /// The core schema followed by the extension schemas.
    pub fn schemas(&self) -> impl Iterator<Item = &'static SchemaDef> + use<> {
        std::iter::once(self.schema).chain(self.extensions.iter().map(|ext| ext.schema))
    }

    /// The core or extension schema with this URN, compared case-insensitively.
    pub fn schema_by_urn(&self, urn: &str) -> Option<&'static SchemaDef> {
        self.schemas()
            .find(|schema| schema.id.eq_ignore_ascii_case(urn))
    }

    /// The extension with this URN, compared case-insensitively.
    pub fn extension(&self, urn: &str) -> Option<&'static SchemaExtension> {
        self.extensions
            .iter()
            .find(|ext| ext.schema.id.eq_ignore_ascii_case(urn))
    }

    /// Resolves `attr`, `attr.sub`, or either prefixed by a schema URN and `:` (RFC 7644 §3.10).
    ///
    /// Names are case-insensitive. An unprefixed name is looked up in the core schema first and
    /// then in the extensions, because Entra sends extension paths such as `manager` bare.
    /// A path with an unknown URN prefix, more than one `.`, or an unknown name yields `None`.
    pub fn resolve(&self, path: &str) -> Option<ResolvedAttr> {
        let (scope, rest) = match self.split_urn_prefix(path) {
            Some((schema, rest)) => (Some(schema), rest),
            None if starts_with_ignore_case(path, "urn:") => return None,
            None => (None, path),
        };
        let (name, sub_name) = match rest.split_once('.') {
            Some((name, sub_name)) => (name, Some(sub_name)),
            None => (rest, None),
        };
        if sub_name.is_some_and(|sub| sub.contains('.')) {
            return None;
        }
        let (schema, attribute) = match scope {
            Some(schema) => (schema, schema.attribute(name)?),
            None => self
                .schemas()
                .find_map(|schema| Some((schema, schema.attribute(name)?)))?,
        };
        let sub_attribute = match sub_name {
            Some(sub_name) => Some(attribute.sub_attribute(sub_name)?),
            None => None,
        };
        Some(ResolvedAttr {
            schema,
            attribute,
            sub_attribute,
        })
    }

    /// Splits `<schema URN>:<rest>` for one of this type's schemas.
    fn split_urn_prefix<'p>(&self, path: &'p str) -> Option<(&'static SchemaDef, &'p str)> {
        self.schemas().find_map(|schema| {
            let prefix = path.get(..schema.id.len())?;
            if !prefix.eq_ignore_ascii_case(schema.id) {
                return None;
            }
            let rest = path.get(schema.id.len()..)?.strip_prefix(':')?;
            Some((schema, rest))
        })
    }
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.get(..prefix.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
}

/// All resource types served, in `/ResourceTypes` order.
pub static RESOURCE_TYPES: [&ResourceTypeDef; 2] = [&USER_RESOURCE_TYPE, &GROUP_RESOURCE_TYPE];

/// All schemas served, in `/Schemas` order.
pub static SCHEMAS: [&SchemaDef; 3] = [&USER_SCHEMA, &ENTERPRISE_USER_SCHEMA, &GROUP_SCHEMA];

/// The resource type with this name (`User`, `Group`), compared case-insensitively.
pub fn resource_type(name: &str) -> Option<&'static ResourceTypeDef> {
    RESOURCE_TYPES
        .iter()
        .copied()
        .find(|rt| rt.name.eq_ignore_ascii_case(name))
}

/// The resource type served at this endpoint (`/Users` or `Users`), compared case-insensitively.
pub fn resource_type_by_endpoint(endpoint: &str) -> Option<&'static ResourceTypeDef> {
    let wanted = endpoint.trim_start_matches('/');
    RESOURCE_TYPES.iter().copied().find(|rt| {
        rt.endpoint
            .trim_start_matches('/')
            .eq_ignore_ascii_case(wanted)
    })
}

/// The schema with this URN, compared case-insensitively.
pub fn schema(urn: &str) -> Option<&'static SchemaDef> {
    SCHEMAS
        .iter()
        .copied()
        .find(|schema| schema.id.eq_ignore_ascii_case(urn))
}

#[cfg(test)]
mod tests;
