//! In-memory evaluation of a resolved filter against a resource's JSON (RFC 7644 §3.4.2.2).
//!
//! Where the RFC is silent this module decides, and the SQL compiler must agree:
//! - a comparison is existential: it matches when *some* value of the attribute (any element of
//!   a multi-valued attribute) compares true, so on an absent attribute every operator,
//!   `ne` included, is false; `not (title eq "x")` is the way to include resources without one;
//! - `eq null` matches an absent, null or empty attribute and `ne null` a present one
//!   (RFC 7643 §2.5 makes unassigned, null and `[]` equivalent);
//! - strings of caseExact=false attributes compare after Unicode lowercasing; `gt`/`lt` order
//!   strings by code point (the RFC says "lexicographically");
//! - dateTimes compare as instants; a stored value that is not a dateTime matches nothing;
//! - a JSON value of another type than the attribute's matches nothing (never an error).

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::ast::CompareOp;
use super::resolve::{ResolvedFilter, ResolvedTarget, ResolvedValue, parse_date_time};
use crate::scim::schema::AttrType;

/// Whether `resource` (a User or Group as JSON, extension attributes under their URN) matches.
pub fn matches(filter: &ResolvedFilter, resource: &Value) -> bool {
    evaluate(filter, Scope::Resource(resource))
}

/// Whether one element of a multi-valued complex attribute (or the value of a single complex
/// attribute) matches a value filter, e.g. an `emails` entry against `type eq "work"`.
///
/// `filter` is the inner filter of a value path, as [`super::ResolvedPatchPath::filter`] or the
/// `filter` of [`ResolvedFilter::ValuePath`]: its targets name sub-attributes of the element.
pub fn matches_element(filter: &ResolvedFilter, element: &Value) -> bool {
    evaluate(filter, Scope::Element(element))
}

/// Where target paths are looked up.
#[derive(Clone, Copy)]
enum Scope<'v> {
    /// Paths start at the resource.
    Resource(&'v Value),
    /// Paths name sub-attributes of this element.
    Element(&'v Value),
}

fn evaluate(filter: &ResolvedFilter, scope: Scope<'_>) -> bool {
    match filter {
        ResolvedFilter::And(left, right) => evaluate(left, scope) && evaluate(right, scope),
        ResolvedFilter::Or(left, right) => evaluate(left, scope) || evaluate(right, scope),
        ResolvedFilter::Not(inner) => !evaluate(inner, scope),
        ResolvedFilter::Present { target } => values(target, scope).into_iter().any(is_present),
        ResolvedFilter::Compare { target, op, value } => {
            let found = values(target, scope);
            match value {
                ResolvedValue::Null => {
                    let present = found.into_iter().any(is_present);
                    if *op == CompareOp::Ne {
                        present
                    } else {
                        !present
                    }
                }
                _ => found
                    .into_iter()
                    .any(|actual| compare(target, *op, actual, value)),
            }
        }
        ResolvedFilter::ValuePath { target, filter } => values(target, scope)
            .into_iter()
            .any(|element| evaluate(filter, Scope::Element(element))),
    }
}

/// The non-null values `target` reaches: array elements are flattened, sub-attributes read
/// from each element.
fn values<'v>(target: &ResolvedTarget, scope: Scope<'v>) -> Vec<&'v Value> {
    let (top, sub) = match scope {
        Scope::Element(element) => match target.sub_attribute {
            Some(sub) => return member(element, sub).into_iter().collect(),
            None => return vec![element],
        },
        Scope::Resource(resource) => {
            let container = if target.extension {
                member(resource, target.urn)
            } else {
                Some(resource)
            };
            (
                container.and_then(|c| member(c, target.attribute)),
                target.sub_attribute,
            )
        }
    };
    let elements: Vec<&Value> = match top {
        None => Vec::new(),
        Some(Value::Array(items)) => items.iter().filter(|v| !v.is_null()).collect(),
        Some(single) => vec![single],
    };
    match sub {
        None => elements,
        Some(sub) => elements
            .into_iter()
            .filter_map(|element| member(element, sub))
            .collect(),
    }
}

/// A non-null member of an object, its key compared case-insensitively (RFC 7643 §2.1).
fn member<'v>(value: &'v Value, name: &str) -> Option<&'v Value> {
    let object: &Map<String, Value> = value.as_object()?;
    object
        .get(name)
        .or_else(|| {
            object
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        })
        .filter(|v| !v.is_null())
}

/// `pr`: not null, not an empty string, array or object (RFC 7644 §3.4.2.2).
fn is_present(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(text) => !text.is_empty(),
        Value::Array(items) => items.iter().any(is_present),
        Value::Object(members) => members.values().any(is_present),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

fn compare(
    target: &ResolvedTarget,
    op: CompareOp,
    actual: &Value,
    expected: &ResolvedValue,
) -> bool {
    match (expected, actual) {
        (ResolvedValue::String(wanted), Value::String(found)) => {
            compare_strings(op, found, wanted, target.case_exact)
        }
        (ResolvedValue::Boolean(wanted), Value::Bool(found)) => match op {
            CompareOp::Eq => found == wanted,
            CompareOp::Ne => found != wanted,
            _ => false,
        },
        (ResolvedValue::Number(wanted), Value::Number(found)) => {
            compare_numbers(found, wanted).is_some_and(|ordering| ordered(op, ordering))
        }
        (ResolvedValue::DateTime(wanted), Value::String(found))
            if target.attr_type == AttrType::DateTime =>
        {
            parse_date_time(found).is_some_and(|found| ordered(op, found.cmp(wanted)))
        }
        _ => false,
    }
}

fn compare_strings(op: CompareOp, found: &str, wanted: &str, case_exact: bool) -> bool {
    let (found, wanted) = if case_exact {
        (found.to_owned(), wanted.to_owned())
    } else {
        (found.to_lowercase(), wanted.to_lowercase())
    };
    match op {
        CompareOp::Co => found.contains(&wanted),
        CompareOp::Sw => found.starts_with(&wanted),
        CompareOp::Ew => found.ends_with(&wanted),
        _ => ordered(op, found.cmp(&wanted)),
    }
}

/// Integers compare exactly; anything with a fraction as f64.
fn compare_numbers(found: &serde_json::Number, wanted: &serde_json::Number) -> Option<Ordering> {
    let as_integer = |n: &serde_json::Number| {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    };
    match (as_integer(found), as_integer(wanted)) {
        (Some(found), Some(wanted)) => Some(found.cmp(&wanted)),
        _ => found.as_f64()?.partial_cmp(&wanted.as_f64()?),
    }
}

/// Whether `ordering` (found compared with wanted) satisfies `op`; substring ops never do.
fn ordered(op: CompareOp, ordering: Ordering) -> bool {
    match op {
        CompareOp::Eq => ordering.is_eq(),
        CompareOp::Ne => ordering.is_ne(),
        CompareOp::Gt => ordering.is_gt(),
        CompareOp::Ge => ordering.is_ge(),
        CompareOp::Lt => ordering.is_lt(),
        CompareOp::Le => ordering.is_le(),
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}
