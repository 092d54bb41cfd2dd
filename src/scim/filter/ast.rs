//! The filter and attribute-path syntax tree, shaped like the grammar of RFC 7644 §3.4.2.2.
//!
//! Names are kept as the client spelled them; `resolve` maps them to the registry's canonical case.

/// A byte range of the source text, kept for error messages.
///
/// Spans never take part in equality or hashing: two trees are equal when they say the same
/// thing, wherever in the text it was written (the printer's output has other offsets).
#[derive(Debug, Clone, Copy, Default)]
pub struct Span {
    /// Offset of the first byte.
    pub start: usize,
    /// Offset one past the last byte.
    pub end: usize,
}

impl Span {
    /// The range `start..end`.
    pub fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }
}

impl PartialEq for Span {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

impl Eq for Span {}

impl std::hash::Hash for Span {
    fn hash<H: std::hash::Hasher>(&self, _state: &mut H) {}
}

/// `attrPath = [URI ":"] ATTRNAME *1subAttr` (RFC 7644 §3.4.2.2, §3.10).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttrPath {
    /// The schema URN prefix without the trailing `:`, e.g. `urn:ietf:params:scim:schemas:core:2.0:User`.
    pub urn: Option<String>,
    /// The attribute name, e.g. `name`.
    pub attribute: String,
    /// The sub-attribute name, e.g. `givenName` in `name.givenName`.
    pub sub_attribute: Option<String>,
    /// Where the path was written.
    pub span: Span,
}

impl AttrPath {
    /// A path without URN or sub-attribute, with an empty span.
    pub fn new(attribute: impl Into<String>) -> Self {
        Self {
            urn: None,
            attribute: attribute.into(),
            sub_attribute: None,
            span: Span::default(),
        }
    }

    /// The same path with a sub-attribute.
    pub fn with_sub_attribute(mut self, sub_attribute: impl Into<String>) -> Self {
        self.sub_attribute = Some(sub_attribute.into());
        self
    }

    /// The same path with a schema URN prefix.
    pub fn with_urn(mut self, urn: impl Into<String>) -> Self {
        self.urn = Some(urn.into());
        self
    }
}

/// `compareOp` (RFC 7644 §3.4.2.2, Table 3); `pr` is [`Filter::Present`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// `eq`: equal.
    Eq,
    /// `ne`: not equal.
    Ne,
    /// `co`: contains.
    Co,
    /// `sw`: starts with.
    Sw,
    /// `ew`: ends with.
    Ew,
    /// `gt`: greater than.
    Gt,
    /// `ge`: greater than or equal to.
    Ge,
    /// `lt`: less than.
    Lt,
    /// `le`: less than or equal to.
    Le,
}

impl CompareOp {
    /// Every operator, in the order of RFC 7644 Table 3.
    pub const ALL: [CompareOp; 9] = [
        Self::Eq,
        Self::Ne,
        Self::Co,
        Self::Sw,
        Self::Ew,
        Self::Gt,
        Self::Ge,
        Self::Lt,
        Self::Le,
    ];

    /// The lowercase keyword (`"eq"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "eq",
            Self::Ne => "ne",
            Self::Co => "co",
            Self::Sw => "sw",
            Self::Ew => "ew",
            Self::Gt => "gt",
            Self::Ge => "ge",
            Self::Lt => "lt",
            Self::Le => "le",
        }
    }

    /// The operator spelled `keyword` in any case.
    pub fn from_keyword(keyword: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(keyword))
    }

    /// Whether the operator orders values (`gt`, `ge`, `lt`, `le`).
    pub fn is_ordering(self) -> bool {
        matches!(self, Self::Gt | Self::Ge | Self::Lt | Self::Le)
    }

    /// Whether the operator matches substrings (`co`, `sw`, `ew`).
    pub fn is_substring(self) -> bool {
        matches!(self, Self::Co | Self::Sw | Self::Ew)
    }
}

/// `compValue = false / null / true / number / string` (RFC 7644 §3.4.2.2).
///
/// A dateTime is a `String`; it is compared as an instant once `resolve` knows the attribute type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CompValue {
    /// A JSON string, escapes decoded (also an unquoted word after `eq`, see the parser).
    String(String),
    /// A JSON number.
    Number(serde_json::Number),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
}

/// `FILTER` (RFC 7644 §3.4.2.2, Figure 1): precedence `not` > `and` > `or`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Filter {
    /// Both operands match.
    And(Box<Filter>, Box<Filter>),
    /// Either operand matches.
    Or(Box<Filter>, Box<Filter>),
    /// `not (…)`: the operand does not match.
    Not(Box<Filter>),
    /// `attrPath compareOp compValue`.
    Compare {
        /// The attribute compared.
        path: AttrPath,
        /// The operator.
        op: CompareOp,
        /// The operand.
        value: CompValue,
    },
    /// `attrPath pr`: the attribute has a non-empty value.
    Present(AttrPath),
    /// `attrPath "[" valFilter "]"`: some value of a complex attribute matches `filter`, whose
    /// paths name sub-attributes of `path`.
    ValuePath {
        /// The complex attribute (no sub-attribute).
        path: AttrPath,
        /// The filter applied to each of its values.
        filter: Box<Filter>,
    },
}

impl Filter {
    /// `left and right`.
    pub fn and(left: Filter, right: Filter) -> Self {
        Self::And(Box::new(left), Box::new(right))
    }

    /// `left or right`.
    pub fn or(left: Filter, right: Filter) -> Self {
        Self::Or(Box::new(left), Box::new(right))
    }

    /// `not (inner)`.
    #[expect(
        clippy::should_implement_trait,
        reason = "a constructor named after the grammar keyword, not logical negation of a value"
    )]
    pub fn not(inner: Filter) -> Self {
        Self::Not(Box::new(inner))
    }

    /// `path op value`.
    pub fn compare(path: AttrPath, op: CompareOp, value: CompValue) -> Self {
        Self::Compare { path, op, value }
    }

    /// `path[filter]`.
    pub fn value_path(path: AttrPath, filter: Filter) -> Self {
        Self::ValuePath {
            path,
            filter: Box::new(filter),
        }
    }
}

/// A PATCH operation's `path`: `PATH = attrPath / valuePath [subAttr]` (RFC 7644 §3.5.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PatchPath {
    /// The attribute (`name.givenName`), or for a value path the filtered attribute (`emails`).
    pub attribute: AttrPath,
    /// The value filter of `emails[type eq "work"]`.
    pub filter: Option<Filter>,
    /// The sub-attribute after a value filter, `value` in `emails[type eq "work"].value`.
    pub sub_attribute: Option<String>,
}
