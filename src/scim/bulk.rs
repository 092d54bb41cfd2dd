//! Bulk requests (RFC 7644 §3.7): parsing, `bulkId` references and their substitution.
//! Running the operations is the server's job; this module only says what they are and what
//! they depend on.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value};

use super::error::ProtocolError;
use super::limits::Limits;
use super::schema::{ResourceTypeDef, resource_type_by_endpoint};

/// The prefix that marks a reference to a resource created in the same request.
const BULK_ID_PREFIX: &str = "bulkId:";

/// An HTTP method a bulk operation may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkMethod {
    Post,
    Put,
    Patch,
    Delete,
}

impl BulkMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            BulkMethod::Post => "POST",
            BulkMethod::Put => "PUT",
            BulkMethod::Patch => "PATCH",
            BulkMethod::Delete => "DELETE",
        }
    }
}

/// One operation of a BulkRequest.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkOperation {
    pub method: BulkMethod,
    pub bulk_id: Option<String>,
    /// The ETag to check (If-Match), when sent.
    pub version: Option<String>,
    pub path: String,
    pub data: Option<Value>,
}

/// A parsed BulkRequest.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkRequest {
    /// Stop after this many errors (`failOnErrors`); `None` runs every operation.
    pub fail_on_errors: Option<usize>,
    pub operations: Vec<BulkOperation>,
}

/// Why a BulkRequest cannot run at all.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BulkError {
    /// More operations than `bulk.maxOperations`: RFC 7644 §3.7.4 answers 413.
    #[error("the request has {count} operations; at most {max} are allowed")]
    TooManyOperations { count: usize, max: usize },
    #[error(transparent)]
    Invalid(#[from] ProtocolError),
}

/// Where an operation acts: a collection (POST) or one resource.
#[derive(Debug, Clone, PartialEq)]
pub enum BulkTarget {
    Collection(&'static ResourceTypeDef),
    Resource(&'static ResourceTypeDef, String),
}

impl BulkRequest {
    /// Reads a BulkRequest body (RFC 7644 §3.7.1), keys matched case-insensitively.
    pub fn parse(body: &Value, limits: &Limits) -> Result<BulkRequest, BulkError> {
        let Value::Object(body) = body else {
            return Err(
                ProtocolError::invalid_syntax("a BulkRequest must be a JSON object").into(),
            );
        };
        let operations = match get(body, "Operations") {
            Some(Value::Array(operations)) => operations,
            _ => {
                return Err(ProtocolError::invalid_syntax(
                    "a BulkRequest needs an 'Operations' array",
                )
                .into());
            }
        };
        if operations.len() > limits.bulk_max_operations {
            return Err(BulkError::TooManyOperations {
                count: operations.len(),
                max: limits.bulk_max_operations,
            });
        }
        let fail_on_errors = match get(body, "failOnErrors") {
            None => None,
            Some(value) => Some(
                value
                    .as_u64()
                    .filter(|count| *count > 0)
                    .and_then(|count| usize::try_from(count).ok())
                    .ok_or_else(|| {
                        ProtocolError::invalid_value("'failOnErrors' must be a positive integer")
                    })?,
            ),
        };
        let operations = operations
            .iter()
            .enumerate()
            .map(|(index, operation)| parse_operation(index + 1, operation))
            .collect::<Result<Vec<_>, _>>()?;
        let mut seen = BTreeSet::new();
        for (index, operation) in operations.iter().enumerate() {
            if let Some(bulk_id) = &operation.bulk_id
                && !seen.insert(bulk_id.as_str())
            {
                return Err(ProtocolError::invalid_value(format!(
                    "operation {}: bulkId '{bulk_id}' is used twice",
                    index + 1
                ))
                .into());
            }
        }
        Ok(BulkRequest {
            fail_on_errors,
            operations,
        })
    }
}

fn get<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
        .filter(|value| !value.is_null())
}

fn parse_operation(index: usize, operation: &Value) -> Result<BulkOperation, ProtocolError> {
    let invalid =
        |detail: &str| ProtocolError::invalid_syntax(format!("operation {index}: {detail}"));
    let Value::Object(operation) = operation else {
        return Err(invalid("must be a JSON object"));
    };
    let text = |name: &str| -> Result<Option<String>, ProtocolError> {
        match get(operation, name) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(_) => Err(invalid(&format!("'{name}' must be a string"))),
        }
    };
    let method = match text("method")?
        .as_deref()
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        Some("POST") => BulkMethod::Post,
        Some("PUT") => BulkMethod::Put,
        Some("PATCH") => BulkMethod::Patch,
        Some("DELETE") => BulkMethod::Delete,
        Some(other) => {
            return Err(invalid(&format!(
                "method '{other}' is not POST, PUT, PATCH or DELETE"
            )));
        }
        None => return Err(invalid("'method' is required")),
    };
    let path = text("path")?.ok_or_else(|| invalid("'path' is required"))?;
    let bulk_id = text("bulkId")?;
    if method == BulkMethod::Post && bulk_id.is_none() {
        return Err(invalid("POST needs a 'bulkId' (RFC 7644 §3.7)"));
    }
    let data = get(operation, "data").cloned();
    if method != BulkMethod::Delete && data.is_none() {
        return Err(invalid(&format!("{} needs 'data'", method.as_str())));
    }
    Ok(BulkOperation {
        method,
        bulk_id,
        version: text("version")?,
        path,
        data,
    })
}

impl BulkOperation {
    /// The `bulkId`s this operation refers to, in its path and data.
    pub fn references(&self) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        collect_references(&Value::String(self.path.clone()), &mut found);
        if let Some(data) = &self.data {
            collect_references(data, &mut found);
        }
        found
    }

    /// Where the operation acts, once its references are substituted.
    pub fn target(&self, path: &str) -> Result<BulkTarget, ProtocolError> {
        let invalid = || {
            ProtocolError::invalid_value(format!("path '{path}' names no User or Group endpoint"))
        };
        let trimmed = path.trim().trim_start_matches('/');
        let (endpoint, id) = match trimmed.split_once('/') {
            Some((endpoint, id)) => (endpoint, Some(id)),
            None => (trimmed, None),
        };
        let rt = resource_type_by_endpoint(endpoint).ok_or_else(invalid)?;
        match (self.method, id) {
            (BulkMethod::Post, None) => Ok(BulkTarget::Collection(rt)),
            (BulkMethod::Post, Some(_)) => Err(ProtocolError::invalid_value(format!(
                "POST goes to the collection '{}', not '{path}'",
                rt.endpoint
            ))),
            (_, Some(id)) if !id.is_empty() && !id.contains('/') => {
                Ok(BulkTarget::Resource(rt, id.to_owned()))
            }
            _ => Err(invalid()),
        }
    }
}

/// The bulkIds a text refers to, each as `(start of "bulkId:", the bulkId)`: a bulkId runs
/// to the next `/` or `"`, or to the end.
fn references(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.match_indices(BULK_ID_PREFIX)
        .filter_map(move |(start, _)| {
            let rest = text.get(start + BULK_ID_PREFIX.len()..)?;
            let id = rest.split(['/', '"']).next()?;
            (!id.is_empty()).then_some((start, id))
        })
}

fn collect_references(value: &Value, found: &mut BTreeSet<String>) {
    match value {
        Value::String(text) => found.extend(references(text).map(|(_, id)| id.to_owned())),
        Value::Array(items) => items
            .iter()
            .for_each(|item| collect_references(item, found)),
        Value::Object(map) => map
            .values()
            .for_each(|item| collect_references(item, found)),
        _ => {}
    }
}

/// Replaces every `bulkId:<id>` with the id of the resource that bulkId created.
pub fn substitute(value: &Value, created: &HashMap<String, String>) -> Value {
    match value {
        Value::String(text) => Value::String(substitute_text(text, created)),
        Value::Array(items) => {
            Value::Array(items.iter().map(|item| substitute(item, created)).collect())
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, item)| (key.clone(), substitute(item, created)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// As [`substitute`], for a path such as `/Groups/bulkId:qwerty`.
/// Only whole bulkIds are replaced: `bulkId:qw` is not `bulkId:q` followed by `w`.
pub fn substitute_text(text: &str, created: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (start, bulk_id) in references(text) {
        if let Some(id) = created.get(bulk_id) {
            out.push_str(text.get(copied..start).unwrap_or_default());
            out.push_str(id);
            copied = start + BULK_ID_PREFIX.len() + bulk_id.len();
        }
    }
    out.push_str(text.get(copied..).unwrap_or_default());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_whole_bulk_ids_are_substituted() {
        let created: HashMap<String, String> = [("q", "id-of-q"), ("qw", "id-of-qw")]
            .into_iter()
            .map(|(bulk_id, id)| (bulk_id.to_owned(), id.to_owned()))
            .collect();
        assert_eq!(
            substitute_text("/Groups/bulkId:qw", &created),
            "/Groups/id-of-qw"
        );
        assert_eq!(
            substitute_text("/Users/bulkId:q", &created),
            "/Users/id-of-q"
        );
        assert_eq!(
            substitute_text("bulkId:q/bulkId:qw/bulkId:unknown", &created),
            "id-of-q/id-of-qw/bulkId:unknown"
        );
        let mut found = BTreeSet::new();
        collect_references(&json!(["bulkId:q/bulkId:qw", "x"]), &mut found);
        assert_eq!(found, ["q".to_owned(), "qw".to_owned()].into());
    }

    fn request(body: Value) -> Result<BulkRequest, BulkError> {
        BulkRequest::parse(&body, &Limits::default())
    }

    #[test]
    fn rfc_example_parses_with_forward_references() {
        let parsed = request(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
            "failOnErrors": 1,
            "Operations": [
                {"method": "POST", "path": "/Groups", "bulkId": "ytrewq",
                 "data": {"displayName": "Tour Guides", "members": [{"type": "User", "value": "bulkId:qwerty"}]}},
                {"method": "POST", "path": "/Users", "bulkId": "qwerty", "data": {"userName": "Alice"}}
            ]
        }))
        .unwrap();
        assert_eq!(parsed.fail_on_errors, Some(1));
        let group = &parsed.operations[0];
        assert_eq!(group.references(), BTreeSet::from(["qwerty".to_owned()]));
        let created = HashMap::from([("qwerty".to_owned(), "92b7".to_owned())]);
        let data = substitute(group.data.as_ref().unwrap(), &created);
        assert_eq!(data["members"][0]["value"], "92b7");
        assert!(parsed.operations[1].references().is_empty());
    }

    #[test]
    fn too_many_operations_is_its_own_error() {
        let limits = Limits {
            bulk_max_operations: 1,
            ..Limits::default()
        };
        let body = json!({"Operations": [
            {"method": "DELETE", "path": "/Users/a"}, {"method": "DELETE", "path": "/Users/b"}
        ]});
        assert_eq!(
            BulkRequest::parse(&body, &limits),
            Err(BulkError::TooManyOperations { count: 2, max: 1 })
        );
    }

    #[test]
    fn malformed_operations_name_their_index() {
        for (body, fragment) in [
            (json!([]), "JSON object"),
            (json!({"Operations": {}}), "'Operations' array"),
            (
                json!({"Operations": [{"method": "GET", "path": "/Users"}]}),
                "operation 1: method 'GET'",
            ),
            (
                json!({"Operations": [{"method": "POST", "path": "/Users", "data": {}}]}),
                "bulkId",
            ),
            (
                json!({"Operations": [{"method": "PUT", "path": "/Users/x"}]}),
                "needs 'data'",
            ),
            (json!({"failOnErrors": 0, "Operations": []}), "failOnErrors"),
            (
                json!({"Operations": [
                    {"method": "POST", "path": "/Users", "bulkId": "a", "data": {}},
                    {"method": "POST", "path": "/Users", "bulkId": "a", "data": {}}
                ]}),
                "used twice",
            ),
        ] {
            let error = request(body).unwrap_err().to_string();
            assert!(error.contains(fragment), "{error} lacks {fragment}");
        }
    }

    #[test]
    fn paths_name_collections_or_resources() {
        let post = BulkOperation {
            method: BulkMethod::Post,
            bulk_id: Some("a".into()),
            version: None,
            path: "/Users".into(),
            data: None,
        };
        assert!(
            matches!(post.target("/Users"), Ok(BulkTarget::Collection(rt)) if rt.name == "User")
        );
        assert!(post.target("/Users/abc").is_err());
        let put = BulkOperation {
            method: BulkMethod::Put,
            ..post.clone()
        };
        assert!(
            matches!(put.target("/Groups/abc"), Ok(BulkTarget::Resource(rt, id)) if rt.name == "Group" && id == "abc")
        );
        assert!(put.target("/Nope/abc").is_err());
        assert!(put.target("/Users").is_err());
    }
}
