//! Bulk requests (RFC 7644 §3.7): parsing, `bulkId` references, the order they impose, and
//! their substitution. Running the operations is the server's job; this module only says what
//! they are, what they depend on, and in which order they can run.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap};
use std::io;

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
    /// The bulkIds the path and data refer to, collected once when the request is parsed:
    /// walking a large `data` again for every scheduling decision is what made a Bulk request
    /// quadratic.
    pub references: BTreeSet<String>,
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
    /// An operation's `data` is larger than a request to its own endpoint may be: 413 too.
    #[error(
        "operation {index}: 'data' is larger than {max} bytes, the limit for one resource request"
    )]
    OperationTooLarge { index: usize, max: usize },
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
            .map(|(index, operation)| parse_operation(index + 1, operation, limits))
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

fn parse_operation(
    index: usize,
    operation: &Value,
    limits: &Limits,
) -> Result<BulkOperation, BulkError> {
    let invalid = |detail: &str| -> BulkError {
        ProtocolError::invalid_syntax(format!("operation {index}: {detail}")).into()
    };
    let Value::Object(operation) = operation else {
        return Err(invalid("must be a JSON object"));
    };
    let text = |name: &str| -> Result<Option<String>, BulkError> {
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
    let data = get(operation, "data");
    if method != BulkMethod::Delete && data.is_none() {
        return Err(invalid(&format!("{} needs 'data'", method.as_str())));
    }
    if data.is_some_and(|data| !fits(data, limits.max_payload_bytes)) {
        return Err(BulkError::OperationTooLarge {
            index,
            max: limits.max_payload_bytes,
        });
    }
    let mut references = BTreeSet::new();
    collect_references(&Value::String(path.clone()), &mut references);
    if let Some(data) = data {
        collect_references(data, &mut references);
    }
    Ok(BulkOperation {
        method,
        bulk_id,
        version: text("version")?,
        path,
        data: data.cloned(),
        references,
    })
}

/// Whether `value`, written as compact JSON, takes at most `max` bytes. Stops writing as soon
/// as it does not, so an oversized value costs no more than `max` bytes of work.
fn fits(value: &Value, max: usize) -> bool {
    struct Budget(usize);
    impl io::Write for Budget {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0 = self
                .0
                .checked_sub(bytes.len())
                .ok_or_else(|| io::Error::other("over budget"))?;
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    serde_json::to_writer(Budget(max), value).is_ok()
}

/// The order in which a request's operations run (RFC 7644 §3.7.2).
#[derive(Debug, Clone, PartialEq)]
pub struct BulkPlan {
    /// Indexes into the operations: each after the operations whose bulkIds it refers to,
    /// otherwise in request order.
    pub order: Vec<usize>,
    /// Operations that can never run, in request order, with the reason: they refer to a
    /// bulkId no operation creates or to a circular chain of them, or wait on an operation
    /// that does.
    pub unresolvable: Vec<(usize, ProtocolError)>,
}

impl BulkRequest {
    /// Orders the operations once, in time linear in the operations and their references.
    pub fn plan(&self) -> BulkPlan {
        plan(&self.operations, &mut 0)
    }
}

/// Kahn's algorithm over "refers to the bulkId of": an operation becomes ready when every
/// operation whose bulkId it refers to has run (whether it succeeded is the runner's
/// business), and the ready one that comes first in the request runs next. That is the order
/// a scan for the first runnable operation after each step gives, without the rescans.
/// `work` counts the steps (references read, operations scheduled, dependents released).
fn plan(operations: &[BulkOperation], work: &mut usize) -> BulkPlan {
    let creators: HashMap<&str, usize> = operations
        .iter()
        .enumerate()
        .filter_map(|(index, operation)| Some((operation.bulk_id.as_deref()?, index)))
        .collect();
    let mut waiting_on = vec![0_usize; operations.len()];
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); operations.len()];
    let mut missing: Vec<Option<&str>> = vec![None; operations.len()];
    for (index, operation) in operations.iter().enumerate() {
        for reference in &operation.references {
            *work += 1;
            match creators.get(reference.as_str()) {
                Some(creator) => {
                    if let (Some(count), Some(list)) =
                        (waiting_on.get_mut(index), dependents.get_mut(*creator))
                    {
                        *count += 1;
                        list.push(index);
                    }
                }
                None => {
                    if let Some(slot) = missing.get_mut(index) {
                        slot.get_or_insert(reference.as_str());
                    }
                }
            }
        }
    }
    let runnable = |index: usize, waiting_on: &[usize]| {
        waiting_on.get(index) == Some(&0) && missing.get(index).is_some_and(Option::is_none)
    };
    let mut ready: BinaryHeap<Reverse<usize>> = (0..operations.len())
        .filter(|index| runnable(*index, &waiting_on))
        .map(Reverse)
        .collect();
    let mut order = Vec::with_capacity(operations.len());
    while let Some(Reverse(index)) = ready.pop() {
        *work += 1;
        order.push(index);
        for dependent in dependents.get(index).into_iter().flatten() {
            *work += 1;
            if let Some(count) = waiting_on.get_mut(*dependent) {
                *count = count.saturating_sub(1);
            }
            if runnable(*dependent, &waiting_on) {
                ready.push(Reverse(*dependent));
            }
        }
    }
    let mut scheduled = vec![false; operations.len()];
    for index in &order {
        if let Some(flag) = scheduled.get_mut(*index) {
            *flag = true;
        }
    }
    let unresolvable = operations
        .iter()
        .enumerate()
        .filter(|(index, _)| scheduled.get(*index) == Some(&false))
        .map(|(index, operation)| {
            let detail = match missing.get(index).copied().flatten() {
                Some(bulk_id) => {
                    format!("bulkId '{bulk_id}' is not created by any operation of this request")
                }
                None => {
                    let blocked = operation
                        .references
                        .iter()
                        .find(|reference| {
                            creators
                                .get(reference.as_str())
                                .is_some_and(|creator| scheduled.get(*creator) == Some(&false))
                        })
                        .map_or("", String::as_str);
                    format!(
                        "bulkId '{blocked}' can never be resolved: it is part of a circular chain \
                         of bulkIds, or waits on one or on a bulkId no operation creates"
                    )
                }
            };
            (index, ProtocolError::invalid_value(detail))
        })
        .collect();
    BulkPlan {
        order,
        unresolvable,
    }
}

impl BulkOperation {
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
    use crate::scim::error::ScimType;
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
        assert_eq!(group.references, BTreeSet::from(["qwerty".to_owned()]));
        let created = HashMap::from([("qwerty".to_owned(), "92b7".to_owned())]);
        let data = substitute(group.data.as_ref().unwrap(), &created);
        assert_eq!(data["members"][0]["value"], "92b7");
        assert!(parsed.operations[1].references.is_empty());
        assert_eq!(
            parsed.plan().order,
            [1, 0],
            "the user first, then its group"
        );
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
            references: BTreeSet::new(),
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

    fn operation(bulk_id: &str, refers_to: &[&str]) -> Value {
        let members: Vec<Value> = refers_to
            .iter()
            .map(|id| json!({"value": format!("bulkId:{id}")}))
            .collect();
        json!({"method": "POST", "path": "/Groups", "bulkId": bulk_id,
               "data": {"displayName": bulk_id, "members": members}})
    }

    #[test]
    fn plan_keeps_request_order_unless_a_reference_needs_a_later_operation() {
        let parsed = request(json!({"Operations": [
            operation("a", &["c"]),
            operation("b", &[]),
            operation("c", &[]),
            operation("d", &["a", "b"]),
            {"method": "DELETE", "path": "/Users/x"}
        ]}))
        .unwrap();
        let plan = parsed.plan();
        assert_eq!(plan.order, [1, 2, 0, 3, 4]);
        assert!(plan.unresolvable.is_empty());
    }

    #[test]
    fn cycles_and_unknown_bulk_ids_are_invalid_values_and_block_their_dependents() {
        let parsed = request(json!({"Operations": [
            operation("a", &["b"]),
            operation("b", &["a"]),
            operation("self", &["self"]),
            operation("lost", &["nowhere"]),
            operation("after-lost", &["lost"]),
            operation("after-cycle", &["a"]),
            operation("fine", &[]),
            {"method": "DELETE", "path": "/Users/bulkId:fine"}
        ]}))
        .unwrap();
        let plan = parsed.plan();
        assert_eq!(plan.order, [6, 7]);
        let unresolvable: Vec<usize> = plan.unresolvable.iter().map(|(index, _)| *index).collect();
        assert_eq!(unresolvable, [0, 1, 2, 3, 4, 5]);
        for (index, error) in &plan.unresolvable {
            assert_eq!(error.scim_type, ScimType::InvalidValue);
            let expected = if *index == 3 {
                "'nowhere' is not created"
            } else {
                "circular"
            };
            assert!(error.detail.contains(expected), "{index}: {}", error.detail);
        }
    }

    /// The denial of service of issue 18: every scheduling step walked the waiting operations'
    /// references (and their data) again. Counted, not timed: a chain where each operation
    /// refers to the next one is the worst case for rescanning, and must cost a few steps per
    /// operation.
    #[test]
    fn planning_a_chain_of_a_thousand_operations_takes_linear_work() {
        let count = 1000;
        let operations: Vec<Value> = (0..count)
            .map(|index| {
                let next = format!("op{}", index + 1);
                let refers_to: &[&str] = if index + 1 < count { &[&next] } else { &[] };
                operation(&format!("op{index}"), refers_to)
            })
            .collect();
        let parsed = request(json!({"Operations": operations})).unwrap();
        let mut work = 0;
        let plan = plan(&parsed.operations, &mut work);
        let expected: Vec<usize> = (0..count).rev().collect();
        assert_eq!(
            plan.order, expected,
            "each operation after the one it refers to"
        );
        // One step per reference, per scheduled operation and per released dependent.
        assert_eq!(work, 3 * (count - 1) + 1);
        assert!(work <= 3 * count);
    }

    #[test]
    fn an_operation_may_carry_no_more_data_than_a_request_to_its_endpoint() {
        let limits = Limits {
            max_payload_bytes: 64,
            ..Limits::default()
        };
        let small = json!({"userName": "x"});
        let large = json!({"userName": "x", "title": "t".repeat(64)});
        let body = |data: &Value| {
            json!({"Operations": [
                {"method": "POST", "path": "/Users", "bulkId": "a", "data": small},
                {"method": "PUT", "path": "/Users/x", "data": data}
            ]})
        };
        assert!(BulkRequest::parse(&body(&small), &limits).is_ok());
        assert_eq!(
            BulkRequest::parse(&body(&large), &limits),
            Err(BulkError::OperationTooLarge { index: 2, max: 64 })
        );
        assert!(fits(&json!("x".repeat(62)), 64), "64 bytes with the quotes");
        assert!(!fits(&json!("x".repeat(63)), 64));
    }
}
