//! `POST /Bulk` (RFC 7644 §3.7): each operation runs exactly what its own endpoint runs, in
//! request order except where a `bulkId` reference needs a later POST first.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::{JsonPayloadError, PayloadError};
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};

use super::actor;
use super::extract::{ScimBase, declares_json, json_error};
use super::response::scim_json;
use crate::auth::{AuthContext, Authenticator, Scope};
use crate::error::{Error, Result};
use crate::scim::BULK_RESPONSE_URN;
use crate::scim::bulk::{
    BulkError, BulkMethod, BulkOperation, BulkPlan, BulkRequest, BulkTarget, substitute,
    substitute_text,
};
use crate::scim::error::ProtocolError;
use crate::scim::etag::Precondition;
use crate::scim::limits::Limits;
use crate::service::OrgActor;
use crate::service::resources::{self, Groups, Kind, Users};
use crate::store::Store;
use crate::store::render::ResourceView;

/// What one operation produced, for the BulkResponse.
struct Done {
    status: u16,
    location: Option<String>,
    version: Option<String>,
    id: Option<String>,
}

/// A Bulk body, read whole (up to `bulk.maxPayloadSize`: the route's `PayloadConfig`) but
/// not parsed: the caller's scopes are checked first, and parsing up to 4 MiB of JSON runs on
/// the blocking pool, not on a worker that serves other requests.
pub struct BulkBody(web::Bytes);

impl FromRequest for BulkBody {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let declares_json = declares_json(request);
        let limit = request
            .app_data::<web::Data<Limits>>()
            .map_or(0, |limits| limits.bulk_max_payload_bytes);
        let body = web::Bytes::from_request(request, payload);
        Box::pin(async move {
            if !declares_json {
                return Err(json_error(JsonPayloadError::ContentType));
            }
            body.await
                .map(BulkBody)
                .map_err(|error| match error.as_error::<PayloadError>() {
                    Some(PayloadError::Overflow) => {
                        json_error(JsonPayloadError::Overflow { limit })
                    }
                    _ => ProtocolError::invalid_syntax(format!("cannot read the body: {error}"))
                        .into(),
                })
        })
    }
}

impl BulkBody {
    /// Parses and orders the operations: work in proportion to the body, for the blocking pool.
    fn parse(self, limits: &Limits) -> Result<(BulkRequest, BulkPlan)> {
        let body: Value = serde_json::from_slice(&self.0)
            .map_err(|error| json_error(JsonPayloadError::Deserialize(error)))?;
        let request = BulkRequest::parse(&body, limits).map_err(|error| match error {
            BulkError::TooManyOperations { .. } | BulkError::OperationTooLarge { .. } => {
                Error::PayloadTooLarge(error.to_string())
            }
            BulkError::Invalid(error) => Error::Protocol(error),
        })?;
        let plan = request.plan();
        Ok((request, plan))
    }
}

pub async fn bulk(
    auth: AuthContext,
    authenticator: web::Data<Authenticator>,
    store: web::Data<Store>,
    limits: web::Data<Limits>,
    base: ScimBase,
    http_request: HttpRequest,
    body: BulkBody,
) -> Result<HttpResponse> {
    // Every operation needs one of these: a token with neither is refused before its
    // operations cost anything.
    if !auth.scopes.contains(Scope::ScimWrite) && !auth.scopes.contains(Scope::ScimDelete) {
        return Err(Error::Forbidden(
            "this token lacks the 'scim:write' and 'scim:delete' scopes; every Bulk operation needs one of them"
                .to_owned(),
        ));
    }
    let limits = *limits.get_ref();
    let (request, plan) = web::block(move || body.parse(&limits)).await??;
    let authorization = http_request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    let fail_on_errors = request.fail_on_errors.unwrap_or(usize::MAX);
    let mut results: Vec<Option<Value>> = vec![None; request.operations.len()];
    let mut created: HashMap<String, String> = HashMap::new();
    let mut failed_bulk_ids: HashSet<&str> = HashSet::new();
    let mut errors = 0;
    let mut revoked = false;
    for (step, index) in plan.order.iter().enumerate() {
        if errors >= fail_on_errors {
            break;
        }
        let Some(operation) = request.operations.get(*index) else {
            continue;
        };
        // The first operation runs on the check at the door; a request that runs for a while
        // must stop once its token is revoked, disabled or expired.
        let confirmed = match step {
            0 => Ok(()),
            _ => authenticator.confirm(&auth, authorization).await,
        };
        let outcome = match (confirmed, failed_reference(operation, &failed_bulk_ids)) {
            (Err(Error::Unauthorized), _) => {
                revoked = true;
                break;
            }
            (Err(error), _) => Err(error),
            (Ok(()), Some(id)) => Err(ProtocolError::invalid_value(format!(
                "bulkId '{id}' refers to an operation that failed"
            ))
            .into()),
            (Ok(()), None) => run(&auth, &store, limits, &base, operation, &created).await,
        };
        let entry = match outcome {
            Ok(done) => {
                if let (Some(bulk_id), Some(id)) = (&operation.bulk_id, &done.id) {
                    created.insert(bulk_id.clone(), id.clone());
                }
                success_entry(operation, done)
            }
            Err(error) => {
                errors += 1;
                if let Some(bulk_id) = &operation.bulk_id {
                    failed_bulk_ids.insert(bulk_id);
                }
                error_entry(operation, &error)
            }
        };
        if let Some(slot) = results.get_mut(*index) {
            *slot = Some(entry);
        }
    }
    if revoked {
        // Whatever did not run is answered, so the IdP knows exactly what was applied: the
        // operations that ran keep their results.
        log::info!("a Bulk request stopped: its token is no longer valid");
        for (operation, slot) in request.operations.iter().zip(results.iter_mut()) {
            if slot.is_none() {
                *slot = Some(error_entry(operation, &Error::Unauthorized));
            }
        }
    } else if errors < fail_on_errors {
        for (index, error) in plan.unresolvable {
            if let (Some(operation), Some(slot)) =
                (request.operations.get(index), results.get_mut(index))
            {
                *slot = Some(error_entry(operation, &Error::Protocol(error)));
            }
        }
    }
    let operations: Vec<Value> = results.into_iter().flatten().collect();
    Ok(scim_json(
        json!({"schemas": [BULK_RESPONSE_URN], "Operations": operations}),
    ))
}

/// A bulkId the operation refers to whose own operation failed.
fn failed_reference<'a>(operation: &'a BulkOperation, failed: &HashSet<&str>) -> Option<&'a str> {
    operation
        .references
        .iter()
        .map(String::as_str)
        .find(|id| failed.contains(id))
}

async fn run(
    auth: &AuthContext,
    store: &Store,
    limits: Limits,
    base: &ScimBase,
    operation: &BulkOperation,
    created: &HashMap<String, String>,
) -> Result<Done> {
    let scope = match operation.method {
        BulkMethod::Delete => Scope::ScimDelete,
        _ => Scope::ScimWrite,
    };
    auth.require(scope)?;
    let path = substitute_text(&operation.path, created);
    let data = operation
        .data
        .as_ref()
        .map(|data| substitute(data, created))
        .unwrap_or(Value::Null);
    let if_match = operation
        .version
        .as_deref()
        .map(Precondition::parse)
        .transpose()?;
    let target = operation.target(&path)?;
    let (resource_type, id) = match target {
        BulkTarget::Collection(rt) => (rt, None),
        BulkTarget::Resource(rt, id) => (rt, Some(id)),
    };
    let request = KindRequest {
        method: operation.method,
        path: &path,
        id,
        if_match,
        data,
        limits,
    };
    let rendered = if resource_type.name == Users::RESOURCE_TYPE.name {
        run_on::<Users>(store, actor(auth), base, request).await?
    } else {
        run_on::<Groups>(store, actor(auth), base, request).await?
    };
    let field = |rendered: &Value, pointer: &str| {
        rendered
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    Ok(match rendered {
        Some(rendered) => Done {
            status: if operation.method == BulkMethod::Post {
                201
            } else {
                200
            },
            location: field(&rendered, "/meta/location"),
            version: field(&rendered, "/meta/version"),
            id: field(&rendered, "/id"),
        },
        None => Done {
            status: 204,
            location: None,
            version: None,
            id: None,
        },
    })
}

/// One operation's method and target within a resource type.
struct KindRequest<'a> {
    method: BulkMethod,
    path: &'a str,
    id: Option<String>,
    if_match: Option<Precondition>,
    data: Value,
    limits: Limits,
}

/// Runs one operation on a resource of kind `K`; answers the rendered resource, none for DELETE.
async fn run_on<K: Kind>(
    store: &Store,
    actor: OrgActor,
    base: &ScimBase,
    request: KindRequest<'_>,
) -> Result<Option<Value>> {
    let KindRequest {
        method,
        path,
        id,
        if_match,
        data,
        limits,
    } = request;
    let view = match (method, id) {
        (BulkMethod::Post, None) => resources::create::<K>(store, actor, data).await?,
        (BulkMethod::Put, Some(id)) => {
            resources::replace::<K>(store, actor, K::parse_id(&id)?, if_match, data, false).await?
        }
        (BulkMethod::Patch, Some(id)) => {
            let id = K::parse_id(&id)?;
            resources::patch::<K>(store, actor, id, if_match, data, limits, false).await?
        }
        (BulkMethod::Delete, Some(id)) => {
            resources::delete::<K>(store, actor, K::parse_id(&id)?, if_match).await?;
            return Ok(None);
        }
        (method, _) => {
            return Err(ProtocolError::invalid_value(format!(
                "{} cannot be sent to '{path}'; it needs a resource path such as /Users/{{id}}",
                method.as_str()
            ))
            .into());
        }
    };
    Ok(Some(view.into_rendered(Some(&base.0))))
}

fn entry_base(operation: &BulkOperation) -> Map<String, Value> {
    let mut entry = Map::new();
    entry.insert("method".into(), operation.method.as_str().into());
    if let Some(bulk_id) = &operation.bulk_id {
        entry.insert("bulkId".into(), bulk_id.clone().into());
    }
    entry
}

fn success_entry(operation: &BulkOperation, done: Done) -> Value {
    let mut entry = entry_base(operation);
    if let Some(location) = done.location {
        entry.insert("location".into(), location.into());
    }
    if let Some(version) = done.version {
        entry.insert("version".into(), version.into());
    }
    entry.insert("status".into(), done.status.to_string().into());
    Value::Object(entry)
}

/// RFC 7644 §3.7.3: a failed operation carries its status and the SCIM error as `response`.
fn error_entry(operation: &BulkOperation, error: &Error) -> Value {
    let mut entry = entry_base(operation);
    if !matches!(error, Error::Internal(_) | Error::Unavailable(_)) {
        entry.insert("location".into(), operation.path.clone().into());
    }
    crate::http::error::log_fault(error, "bulk operation failed");
    let body = crate::http::error::error_body(error);
    entry.insert(
        "status".into(),
        body.get("status").cloned().unwrap_or(Value::Null),
    );
    entry.insert("response".into(), body);
    Value::Object(entry)
}
