//! A list or search request, validated, as the store search that answers it: the one
//! reading of `filter`, `sortBy`, `startIndex`, `count` and `cursor` that the SCIM endpoints
//! and the console's directory share.

use crate::error::Result;
use crate::scim::limits::Limits;
use crate::scim::query::{ListRequest, Paging, QueryParams};
use crate::scim::schema::ResourceTypeDef;
use crate::store::search::{Cursor, Search, Sort, Window, canonical_ids};

/// Most candidates a filter that no index answers may examine before it is `tooMany`.
pub const MAX_FILTER_SCAN: i64 = 50_000;

/// A validated request and the store search that answers it.
pub struct Plan {
    pub request: ListRequest,
    pub search: Search,
}

/// Validates `params` for `rt` and turns them into a store search.
pub fn plan(params: &QueryParams, rt: &ResourceTypeDef, limits: &Limits) -> Result<Plan> {
    let request = params.validate(rt, limits)?;
    let window = match &request.paging {
        Paging::Index { start_index } => Window::Index {
            offset: start_index - 1,
            limit: request.count,
        },
        Paging::Cursor(text) => Window::Cursor {
            after: Cursor::decode(text)?,
            limit: request.count,
        },
    };
    if matches!(window, Window::Cursor { .. }) && request.sort.is_some() {
        return Err(crate::scim::error::ProtocolError::invalid_value(
            "cursor paging returns resources in creation order; omit sortBy",
        )
        .into());
    }
    let search = Search {
        filter: request.filter.clone().map(canonical_ids),
        sort: request
            .sort
            .map(|(target, descending)| Sort { target, descending }),
        window,
        max_scan: MAX_FILTER_SCAN,
    };
    Ok(Plan { request, search })
}

/// The console directory's search box: a SCIM filter as typed when the text reads like one
/// (it names an operator), otherwise the resources one of whose `name_attributes` starts with
/// the text. A prefix match, not `co`, so that the database's indexes answer it in an
/// organization of any size.
pub fn search_box(text: &str, name_attributes: &[&str]) -> Option<String> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let lowered = format!(" {} ", text.to_ascii_lowercase());
    let reads_like_a_filter = [
        " eq ", " ne ", " co ", " sw ", " ew ", " gt ", " ge ", " lt ", " le ", " pr ",
    ]
    .iter()
    .any(|operator| lowered.contains(operator))
        || text.contains('[');
    if reads_like_a_filter {
        return Some(text.to_owned());
    }
    // A JSON string is a SCIM filter's string literal (RFC 7644 §3.4.2.2).
    let literal = serde_json::Value::String(text.to_owned()).to_string();
    let alternatives: Vec<String> = name_attributes
        .iter()
        .map(|attribute| format!("{attribute} sw {literal}"))
        .collect();
    Some(alternatives.join(" or "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_box_takes_filters_as_typed_and_words_as_name_prefixes() {
        let names = ["userName", "displayName"];
        assert_eq!(search_box("  ", &names), None);
        assert_eq!(
            search_box("userName eq \"ada\"", &names).as_deref(),
            Some("userName eq \"ada\"")
        );
        assert_eq!(
            search_box("emails[type eq \"work\"]", &names).as_deref(),
            Some("emails[type eq \"work\"]")
        );
        assert_eq!(search_box("title pr", &names).as_deref(), Some("title pr"));
        assert_eq!(
            search_box("Ada \"Lovelace\"", &names).as_deref(),
            Some("userName sw \"Ada \\\"Lovelace\\\"\" or displayName sw \"Ada \\\"Lovelace\\\"\"")
        );
        assert_eq!(
            search_box("equal", &names).as_deref(),
            Some("userName sw \"equal\" or displayName sw \"equal\"")
        );
    }
}
