//! List and search requests (RFC 7644 §3.4.2, §3.4.3; RFC 9865 cursors), checked against the
//! registry and the limits before anything runs.

use serde_json::Value;

use super::error::ProtocolError;
use super::filter::{
    Filter, FilterLimits, ResolvedFilter, ResolvedTarget, parse_attribute_list, parse_filter,
    resolve,
};
use super::limits::Limits;
use super::projection::Projection;
use super::schema::ResourceTypeDef;

/// The parameters of a list or search request as the client sent them, from a query string
/// or a SearchRequest body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct QueryParams {
    pub filter: Option<String>,
    pub sort_by: Option<String>,
    pub sort_order: Option<String>,
    pub start_index: Option<i64>,
    pub count: Option<i64>,
    pub cursor: Option<String>,
    pub attributes: Option<String>,
    pub excluded_attributes: Option<String>,
}

/// How results are paged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Paging {
    /// 1-based `startIndex` (values below 1 mean 1).
    Index { start_index: i64 },
    /// RFC 9865: the opaque cursor of the previous page, empty for the first.
    Cursor(String),
}

/// A validated list request for one resource type.
#[derive(Debug, Clone)]
pub struct ListRequest {
    pub filter: Option<ResolvedFilter>,
    pub sort: Option<(ResolvedTarget, bool)>,
    pub paging: Paging,
    /// How many resources to return: `count`, capped at `filter.maxResults`.
    pub count: i64,
    pub projection: Projection,
}

impl QueryParams {
    /// Checks every parameter for `rt`: invalid filters are `invalidFilter` with a position,
    /// an unknown `sortBy` or `sortOrder` is `invalidValue`.
    pub fn validate(
        &self,
        rt: &ResourceTypeDef,
        limits: &Limits,
    ) -> Result<ListRequest, ProtocolError> {
        let filter = match self.filter.as_deref().map(str::trim) {
            Some(text) if !text.is_empty() => {
                let parsed = parse_filter(text, &FilterLimits::from(limits))?;
                Some(resolve(&parsed, rt)?)
            }
            _ => None,
        };
        let descending = match self.sort_order.as_deref().map(str::trim) {
            None | Some("") => false,
            Some(order) if order.eq_ignore_ascii_case("ascending") => false,
            Some(order) if order.eq_ignore_ascii_case("descending") => true,
            Some(order) => {
                return Err(ProtocolError::invalid_value(format!(
                    "sortOrder '{order}' is neither 'ascending' nor 'descending'"
                )));
            }
        };
        let sort = match self.sort_by.as_deref().map(str::trim) {
            Some(text) if !text.is_empty() => Some((sort_target(text, rt)?, descending)),
            _ => None,
        };
        let paging = match &self.cursor {
            Some(cursor) => Paging::Cursor(cursor.clone()),
            None => Paging::Index {
                start_index: self.start_index.unwrap_or(1).max(1),
            },
        };
        let count = i64::try_from(limits.page_size(self.count)).unwrap_or(i64::MAX);
        let projection = self.projection(rt)?;
        Ok(ListRequest {
            filter,
            sort,
            paging,
            count,
            projection,
        })
    }

    /// `attributes`/`excludedAttributes` alone: all a single-resource response reads.
    pub fn projection(&self, rt: &ResourceTypeDef) -> Result<Projection, ProtocolError> {
        Projection::parse(
            rt,
            self.attributes.as_deref(),
            self.excluded_attributes.as_deref(),
        )
    }

    /// Reads a SearchRequest body (RFC 7644 §3.4.3). `attributes` may be an array of names or
    /// one comma-separated string.
    pub fn from_search_request(body: &Value) -> Result<QueryParams, ProtocolError> {
        let Value::Object(body) = body else {
            return Err(ProtocolError::invalid_syntax(
                "a SearchRequest must be a JSON object",
            ));
        };
        let get = |name: &str| {
            body.iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| value)
                .filter(|value| !value.is_null())
        };
        let text = |name: &str| -> Result<Option<String>, ProtocolError> {
            match get(name) {
                None => Ok(None),
                Some(Value::String(text)) => Ok(Some(text.clone())),
                Some(_) => Err(ProtocolError::invalid_value(format!(
                    "'{name}' must be a string"
                ))),
            }
        };
        let names = |name: &str| -> Result<Option<String>, ProtocolError> {
            match get(name) {
                None => Ok(None),
                Some(Value::String(text)) => Ok(Some(text.clone())),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|item| {
                        item.as_str().map(str::to_owned).ok_or_else(|| {
                            ProtocolError::invalid_value(format!("'{name}' must list strings"))
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(|list| Some(list.join(","))),
                Some(_) => Err(ProtocolError::invalid_value(format!(
                    "'{name}' must be an array of attribute names"
                ))),
            }
        };
        let integer = |name: &str| -> Result<Option<i64>, ProtocolError> {
            match get(name) {
                None => Ok(None),
                Some(value) => value
                    .as_i64()
                    .or_else(|| value.as_str().and_then(|text| text.trim().parse().ok()))
                    .map(Some)
                    .ok_or_else(|| {
                        ProtocolError::invalid_value(format!("'{name}' must be an integer"))
                    }),
            }
        };
        Ok(QueryParams {
            filter: text("filter")?,
            sort_by: text("sortBy")?,
            sort_order: text("sortOrder")?,
            start_index: integer("startIndex")?,
            count: integer("count")?,
            cursor: text("cursor")?,
            attributes: names("attributes")?,
            excluded_attributes: names("excludedAttributes")?,
        })
    }
}

/// `sortBy` names one attribute; a multi-valued complex one sorts by its (primary) `value`.
fn sort_target(text: &str, rt: &ResourceTypeDef) -> Result<ResolvedTarget, ProtocolError> {
    let invalid =
        |detail: String| ProtocolError::invalid_value(format!("sortBy '{text}': {detail}"));
    let mut paths = parse_attribute_list(text).map_err(|error| invalid(error.to_string()))?;
    let path = match (paths.pop(), paths.is_empty()) {
        (Some(path), true) => path,
        _ => return Err(invalid("name exactly one attribute".to_owned())),
    };
    match resolve(&Filter::Present(path), rt) {
        Ok(ResolvedFilter::Present { target }) => Ok(target),
        Ok(_) => Err(invalid("not a sortable attribute".to_owned())),
        Err(error) => Err(invalid(error.detail)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::error::ScimType;
    use crate::scim::schema::{GROUP_RESOURCE_TYPE, USER_RESOURCE_TYPE};
    use serde_json::json;

    fn params(filter: &str) -> QueryParams {
        QueryParams {
            filter: Some(filter.to_owned()),
            ..QueryParams::default()
        }
    }

    #[test]
    fn a_valid_filter_resolves_and_paging_defaults_apply() {
        let request = params(r#"userName eq "alice""#)
            .validate(&USER_RESOURCE_TYPE, &Limits::default())
            .unwrap();
        assert!(request.filter.is_some());
        assert_eq!(request.paging, Paging::Index { start_index: 1 });
        assert_eq!(request.count, 1000);
    }

    #[test]
    fn invalid_filters_and_unknown_attributes_are_invalid_filter() {
        for filter in ["userName eq", "nope eq 1", "userName zz \"x\""] {
            let error = params(filter)
                .validate(&USER_RESOURCE_TYPE, &Limits::default())
                .unwrap_err();
            assert_eq!(error.scim_type, ScimType::InvalidFilter, "{filter}");
        }
    }

    #[test]
    fn paging_is_clamped() {
        let request = QueryParams {
            start_index: Some(-5),
            count: Some(-1),
            ..QueryParams::default()
        }
        .validate(&GROUP_RESOURCE_TYPE, &Limits::default())
        .unwrap();
        assert_eq!(request.paging, Paging::Index { start_index: 1 });
        assert_eq!(request.count, 0);
    }

    #[test]
    fn sort_by_resolves_case_insensitively_and_rejects_garbage() {
        let request = QueryParams {
            sort_by: Some("NAME.familyName".into()),
            sort_order: Some("Descending".into()),
            ..QueryParams::default()
        }
        .validate(&USER_RESOURCE_TYPE, &Limits::default())
        .unwrap();
        let (target, descending) = request.sort.unwrap();
        assert_eq!(
            (target.attribute, target.sub_attribute, descending),
            ("name", Some("familyName"), true)
        );
        for (sort_by, order) in [
            ("nope", None),
            ("userName,id", None),
            ("userName", Some("up")),
        ] {
            let error = QueryParams {
                sort_by: Some(sort_by.into()),
                sort_order: order.map(str::to_owned),
                ..QueryParams::default()
            }
            .validate(&USER_RESOURCE_TYPE, &Limits::default())
            .unwrap_err();
            assert_eq!(error.scim_type, ScimType::InvalidValue, "{sort_by}");
        }
    }

    #[test]
    fn search_request_bodies_read_arrays_and_strings() {
        let params = QueryParams::from_search_request(&json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "attributes": ["displayName", "userName"],
            "filter": "displayName sw \"smith\"",
            "startIndex": 1,
            "count": "10"
        }))
        .unwrap();
        assert_eq!(params.attributes.as_deref(), Some("displayName,userName"));
        assert_eq!(params.count, Some(10));
        assert!(QueryParams::from_search_request(&json!({"count": "ten"})).is_err());
        assert!(QueryParams::from_search_request(&json!([])).is_err());
    }
}
