//! Discovery documents (RFC 7643 §5–§7, RFC 7644 §4) rendered from the registry and `Limits`.
//!
//! Every document is free of JSON `null`s: absent optional fields are omitted.

use serde_json::{Map, Value, json};

use super::limits::Limits;
use super::query::Paging;
use super::schema::{AttributeDef, RESOURCE_TYPES, ResourceTypeDef, SCHEMAS, SchemaDef};
use super::{LIST_RESPONSE_URN, RESOURCE_TYPE_URN, SCHEMA_URN, SERVICE_PROVIDER_CONFIG_URN};

/// Which optional RFC 7644 features the server implements, as advertised in
/// `/ServiceProviderConfig`. A feature is switched on here only together with its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Features {
    pub patch: bool,
    pub bulk: bool,
    pub filter: bool,
    pub sort: bool,
    pub etag: bool,
}

impl Features {
    /// What this build of scimd implements.
    pub const IMPLEMENTED: Features = Features {
        patch: true,
        bulk: true,
        filter: true,
        sort: true,
        etag: true,
    };
}
/// The SET event URIs (RFC 9967 §2.4) scimd emits to event streams.
pub const SECURITY_EVENT_URIS: [&str; 9] = [
    "urn:ietf:params:scim:event:prov:create:full",
    "urn:ietf:params:scim:event:prov:create:notice",
    "urn:ietf:params:scim:event:prov:patch:full",
    "urn:ietf:params:scim:event:prov:patch:notice",
    "urn:ietf:params:scim:event:prov:put:full",
    "urn:ietf:params:scim:event:prov:put:notice",
    "urn:ietf:params:scim:event:prov:delete",
    "urn:ietf:params:scim:event:prov:activate",
    "urn:ietf:params:scim:event:prov:deactivate",
];

/// The `/ServiceProviderConfig` document (RFC 7643 §5), advertising exactly the enforced `limits`.
pub fn service_provider_config(
    limits: &Limits,
    features: &Features,
    base_url: &str,
    documentation_uri: Option<&str>,
) -> Value {
    let mut config = Map::new();
    config.insert("schemas".to_owned(), json!([SERVICE_PROVIDER_CONFIG_URN]));
    if let Some(uri) = documentation_uri {
        config.insert("documentationUri".to_owned(), json!(uri));
    }
    let rest = json!({
        "patch": {"supported": features.patch},
        "bulk": {
            "supported": features.bulk,
            "maxOperations": limits.bulk_max_operations,
            "maxPayloadSize": limits.bulk_max_payload_bytes,
        },
        "filter": {"supported": features.filter, "maxResults": limits.max_results},
        "changePassword": {"supported": false},
        "sort": {"supported": features.sort},
        "etag": {"supported": features.etag},
        // RFC 9865 §4: both paging methods; cursors carry their position, so they never expire.
        "pagination": {
            "cursor": true,
            "index": true,
            "defaultPaginationMethod": "index",
            "defaultPageSize": limits.max_results,
            "maxPageSize": limits.max_results,
        },
        // RFC 9967 §4: the SET event URIs this server generates for its event streams; SCIM
        // requests are never answered asynchronously.
        "securityEvents": {
            "asyncRequest": "none",
            "eventUris": SECURITY_EVENT_URIS,
        },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "An API token sent as 'Authorization: Bearer <token>'.",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{}/ServiceProviderConfig", trim_base(base_url)),
        },
    });
    if let Value::Object(rest) = rest {
        config.extend(rest);
    }
    Value::Object(config)
}

/// The `/ResourceTypes` list response (RFC 7644 §4), User then Group.
pub fn resource_types(base_url: &str) -> Value {
    let resources: Vec<Value> = RESOURCE_TYPES
        .iter()
        .map(|rt| render_resource_type(rt, base_url))
        .collect();
    let total = resources.len();
    list_response(resources, total, 1)
}

/// One ResourceType resource (RFC 7643 §6) by name, compared case-insensitively.
pub fn resource_type(name: &str, base_url: &str) -> Option<Value> {
    super::schema::resource_type(name).map(|rt| render_resource_type(rt, base_url))
}

/// The `/Schemas` list response (RFC 7644 §4): core User, Enterprise User, core Group.
pub fn schemas(base_url: &str) -> Value {
    let resources: Vec<Value> = SCHEMAS
        .iter()
        .map(|schema| render_schema(schema, base_url))
        .collect();
    let total = resources.len();
    list_response(resources, total, 1)
}

/// One Schema resource (RFC 7643 §7) by URN, compared case-insensitively.
pub fn schema(urn: &str, base_url: &str) -> Option<Value> {
    super::schema::schema(urn).map(|schema| render_schema(schema, base_url))
}

/// A list response (RFC 7644 §3.4.2): integer counts, `itemsPerPage` = resources returned, and
/// `Resources` always present, because Okta reads a missing one as "no users".
pub fn list_response(resources: Vec<Value>, total_results: usize, start_index: usize) -> Value {
    json!({
        "schemas": [LIST_RESPONSE_URN],
        "totalResults": total_results,
        "itemsPerPage": resources.len(),
        "startIndex": start_index,
        "Resources": resources,
    })
}

/// A page of a list or search: index paging echoes `startIndex`, cursor paging adds
/// `nextCursor` (RFC 9865) when another page follows.
pub fn page_response(
    resources: Vec<Value>,
    total: i64,
    paging: &Paging,
    next_cursor: Option<String>,
) -> Value {
    let total = usize::try_from(total).unwrap_or_default();
    let start_index = match paging {
        Paging::Index { start_index } => usize::try_from(*start_index).unwrap_or(usize::MAX),
        Paging::Cursor(_) => 1,
    };
    let mut body = list_response(resources, total, start_index);
    if let (Some(cursor), Value::Object(map)) = (next_cursor, &mut body) {
        map.insert("nextCursor".to_owned(), Value::String(cursor));
    }
    body
}

fn render_resource_type(rt: &ResourceTypeDef, base_url: &str) -> Value {
    let mut out = Map::new();
    out.insert("schemas".to_owned(), json!([RESOURCE_TYPE_URN]));
    out.insert("id".to_owned(), json!(rt.name));
    out.insert("name".to_owned(), json!(rt.name));
    out.insert("endpoint".to_owned(), json!(rt.endpoint));
    out.insert("description".to_owned(), json!(rt.description));
    out.insert("schema".to_owned(), json!(rt.schema.id));
    if !rt.extensions.is_empty() {
        let extensions: Vec<Value> = rt
            .extensions
            .iter()
            .map(|ext| json!({"schema": ext.schema.id, "required": ext.required}))
            .collect();
        out.insert("schemaExtensions".to_owned(), Value::Array(extensions));
    }
    out.insert(
        "meta".to_owned(),
        json!({
            "resourceType": "ResourceType",
            "location": format!("{}/ResourceTypes/{}", trim_base(base_url), rt.name),
        }),
    );
    Value::Object(out)
}

fn render_schema(schema: &SchemaDef, base_url: &str) -> Value {
    let attributes: Vec<Value> = schema.attributes.iter().map(render_attribute).collect();
    json!({
        "schemas": [SCHEMA_URN],
        "id": schema.id,
        "name": schema.name,
        "description": schema.description,
        "attributes": attributes,
        "meta": {
            "resourceType": "Schema",
            "location": format!("{}/Schemas/{}", trim_base(base_url), schema.id),
        },
    })
}

/// RFC 7643 §7: every characteristic is written out, since validators check each one is present.
fn render_attribute(attribute: &AttributeDef) -> Value {
    let mut out = Map::new();
    out.insert("name".to_owned(), json!(attribute.name));
    out.insert("type".to_owned(), json!(attribute.attr_type.as_str()));
    out.insert("multiValued".to_owned(), json!(attribute.multi_valued));
    out.insert("description".to_owned(), json!(attribute.description));
    out.insert("required".to_owned(), json!(attribute.required));
    out.insert("caseExact".to_owned(), json!(attribute.case_exact));
    out.insert(
        "mutability".to_owned(),
        json!(attribute.mutability.as_str()),
    );
    out.insert("returned".to_owned(), json!(attribute.returned.as_str()));
    out.insert(
        "uniqueness".to_owned(),
        json!(attribute.uniqueness.as_str()),
    );
    if !attribute.canonical_values.is_empty() {
        out.insert(
            "canonicalValues".to_owned(),
            json!(attribute.canonical_values),
        );
    }
    if !attribute.reference_types.is_empty() {
        out.insert(
            "referenceTypes".to_owned(),
            json!(attribute.reference_types),
        );
    }
    if attribute.is_complex() {
        let subs: Vec<Value> = attribute
            .sub_attributes
            .iter()
            .map(render_attribute)
            .collect();
        out.insert("subAttributes".to_owned(), Value::Array(subs));
    }
    Value::Object(out)
}

fn trim_base(base_url: &str) -> &str {
    base_url.trim_end_matches('/')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::{ENTERPRISE_USER_URN, GROUP_URN, USER_URN};

    const BASE: &str = "https://scim.example.com/scim/v2/";
    const ALL_FEATURES: Features = Features {
        patch: true,
        bulk: true,
        filter: true,
        sort: true,
        etag: true,
    };

    fn nulls_in(value: &Value, path: &str, found: &mut Vec<String>) {
        match value {
            Value::Null => found.push(path.to_owned()),
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    nulls_in(item, &format!("{path}[{index}]"), found);
                }
            }
            Value::Object(map) => {
                for (key, item) in map {
                    nulls_in(item, &format!("{path}.{key}"), found);
                }
            }
            _ => {}
        }
    }

    fn assert_no_nulls(value: &Value) {
        let mut found = Vec::new();
        nulls_in(value, "$", &mut found);
        assert!(found.is_empty(), "nulls at {found:?}");
    }

    #[test]
    fn service_provider_config_advertises_the_enforced_limits() {
        let limits = Limits {
            max_results: 250,
            bulk_max_operations: 77,
            bulk_max_payload_bytes: 123_456,
            ..Limits::default()
        };
        let config = service_provider_config(&limits, &ALL_FEATURES, BASE, None);
        assert_no_nulls(&config);
        assert_eq!(config["schemas"], json!([SERVICE_PROVIDER_CONFIG_URN]));
        assert_eq!(config["patch"], json!({"supported": true}));
        assert_eq!(
            config["bulk"],
            json!({"supported": true, "maxOperations": 77, "maxPayloadSize": 123_456})
        );
        assert_eq!(
            config["filter"],
            json!({"supported": true, "maxResults": 250})
        );
        assert_eq!(config["changePassword"], json!({"supported": false}));
        assert_eq!(config["sort"], json!({"supported": true}));
        assert_eq!(config["etag"], json!({"supported": true}));
        assert_eq!(
            config["authenticationSchemes"][0]["type"],
            json!("oauthbearertoken")
        );
        assert_eq!(
            config["meta"],
            json!({
                "resourceType": "ServiceProviderConfig",
                "location": "https://scim.example.com/scim/v2/ServiceProviderConfig"
            })
        );
        assert!(config.get("documentationUri").is_none());
        let unimplemented = Features {
            bulk: false,
            ..ALL_FEATURES
        };
        let config = service_provider_config(&limits, &unimplemented, BASE, None);
        assert_eq!(config["bulk"]["supported"], json!(false));
    }

    #[test]
    fn service_provider_config_includes_documentation_uri_when_given() {
        let config = service_provider_config(
            &Limits::default(),
            &Features::IMPLEMENTED,
            BASE,
            Some("https://docs.example.com"),
        );
        assert_eq!(
            config["documentationUri"],
            json!("https://docs.example.com")
        );
    }

    #[test]
    fn resource_types_list_user_with_enterprise_extension_and_group() {
        let list = resource_types(BASE);
        assert_no_nulls(&list);
        assert_eq!(list["totalResults"], json!(2));
        assert_eq!(list["itemsPerPage"], json!(2));
        assert_eq!(list["Resources"][0]["endpoint"], json!("/Users"));
        assert_eq!(list["Resources"][0]["schema"], json!(USER_URN));
        assert_eq!(
            list["Resources"][0]["schemaExtensions"],
            json!([{"schema": ENTERPRISE_USER_URN, "required": false}])
        );
        assert_eq!(list["Resources"][1]["name"], json!("Group"));
        assert!(list["Resources"][1].get("schemaExtensions").is_none());
        assert_eq!(
            resource_type("group", BASE).map(|rt| rt["meta"]["location"].clone()),
            Some(json!(
                "https://scim.example.com/scim/v2/ResourceTypes/Group"
            ))
        );
        assert_eq!(resource_type("Nope", BASE), None);
    }

    #[test]
    fn schemas_describe_every_attribute_without_nulls() {
        let list = schemas(BASE);
        assert_no_nulls(&list);
        let ids: Vec<&Value> = list["Resources"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| &s["id"])
            .collect();
        assert_eq!(
            ids,
            [
                &json!(USER_URN),
                &json!(ENTERPRISE_USER_URN),
                &json!(GROUP_URN)
            ]
        );
        for schema in list["Resources"].as_array().into_iter().flatten() {
            assert_eq!(schema["meta"]["resourceType"], json!("Schema"));
            let attributes = schema["attributes"].as_array().into_iter().flatten();
            let subs = attributes
                .clone()
                .flat_map(|a| a["subAttributes"].as_array().into_iter().flatten());
            for attribute in attributes.chain(subs) {
                for key in [
                    "name",
                    "type",
                    "multiValued",
                    "description",
                    "required",
                    "caseExact",
                    "mutability",
                    "returned",
                    "uniqueness",
                ] {
                    assert!(
                        attribute.get(key).is_some(),
                        "{} lacks {key}",
                        attribute["name"]
                    );
                }
            }
        }
    }

    #[test]
    fn user_schema_renders_rfc_characteristics_in_camel_case() {
        let user = schema(USER_URN, BASE).unwrap_or_default();
        let find = |name: &str| {
            user["attributes"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|a| a["name"] == json!(name))
                .cloned()
                .unwrap_or_default()
        };
        let user_name = find("userName");
        assert_eq!(
            (
                &user_name["required"],
                &user_name["caseExact"],
                &user_name["uniqueness"],
                &user_name["mutability"]
            ),
            (
                &json!(true),
                &json!(false),
                &json!("server"),
                &json!("readWrite")
            )
        );
        assert_eq!(find("id")["mutability"], json!("readOnly"));
        assert_eq!(find("id")["returned"], json!("always"));
        assert_eq!(find("password")["returned"], json!("never"));
        assert_eq!(find("password")["mutability"], json!("writeOnly"));
        assert_eq!(find("name")["type"], json!("complex"));
        assert_eq!(find("emails")["multiValued"], json!(true));
        assert_eq!(
            find("emails")["subAttributes"][2]["canonicalValues"],
            json!(["work", "home", "other"])
        );
        assert_eq!(find("profileUrl")["referenceTypes"], json!(["external"]));
        assert_eq!(
            user["meta"]["location"],
            json!(format!(
                "https://scim.example.com/scim/v2/Schemas/{USER_URN}"
            ))
        );
        assert_eq!(schema("urn:example:unknown", BASE), None);
    }

    #[test]
    fn empty_list_response_still_has_resources() {
        assert_eq!(
            list_response(Vec::new(), 0, 1),
            json!({
                "schemas": [LIST_RESPONSE_URN],
                "totalResults": 0,
                "itemsPerPage": 0,
                "startIndex": 1,
                "Resources": []
            })
        );
        let page = list_response(vec![json!({"id": "a"})], 250, 101);
        assert_eq!(
            (
                &page["totalResults"],
                &page["itemsPerPage"],
                &page["startIndex"]
            ),
            (&json!(250), &json!(1), &json!(101))
        );
    }
}
