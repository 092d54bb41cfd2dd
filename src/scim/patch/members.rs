//! Operations on Group `members`, which the server keeps as rows: they become a list of
//! [`MemberChange`]s instead of JSON edits, so a PATCH on a large group costs O(changes).

use std::collections::HashSet;

use serde_json::Value;

use super::op::OpKind;
use super::path::{Target, listed_values};
use crate::scim::error::ProtocolError;
use crate::scim::filter::ResolvedFilter;
use crate::scim::resource::{MemberRef, extract_members};

/// One change to a group's membership, in request order.
#[derive(Debug, Clone, PartialEq)]
pub enum MemberChange {
    /// `add members`: insert these (already present ones are kept, not duplicated).
    Add(Vec<MemberRef>),
    /// `remove members[value eq "a" or value eq "b"]` and Entra's value-list remove: delete
    /// these ids; ids that are not members are ignored (dossier G-28, §5.3).
    Remove(Vec<String>),
    /// `remove members` without filter (RFC 7644 §3.5.2.2): delete every member.
    RemoveAll,
    /// `replace members` (also path-less `{"members": […]}`): the members become exactly these.
    ReplaceAll(Vec<MemberRef>),
    /// `remove members[<any other filter>]`: delete the members matching the filter, evaluated
    /// with [`crate::scim::filter::matches_element`] on each member rendered as
    /// `{"value", "display", "type"}`.
    RemoveMatching(ResolvedFilter),
}

/// The change an operation on `members` (no sub-attribute) asks for; `None` when it changes
/// nothing (`add` of an empty list).
pub(crate) fn member_change(
    kind: OpKind,
    target: &Target,
    value: Option<&Value>,
) -> Result<Option<MemberChange>, ProtocolError> {
    if let Some(sub) = target.sub {
        return Err(ProtocolError::mutability(format!(
            "'members.{}' is immutable; add or remove the member instead",
            sub.name
        )));
    }
    Ok(match (kind, &target.filter) {
        (OpKind::Remove, None) => Some(MemberChange::RemoveAll),
        (OpKind::Remove, Some(filter)) => Some(match listed_values(filter) {
            Some(ids) => MemberChange::Remove(ids),
            None => MemberChange::RemoveMatching(filter.clone()),
        }),
        (OpKind::Add, None) => extract_members(value)?
            .filter(|members| !members.is_empty())
            .map(MemberChange::Add),
        (OpKind::Replace, None) => Some(MemberChange::ReplaceAll(
            extract_members(value)?.unwrap_or_default(),
        )),
        (OpKind::Add | OpKind::Replace, Some(_)) => {
            return Err(ProtocolError::invalid_path(
                "members are added with 'add members' and removed with 'remove members[…]'; \
                 a filtered members path can only be removed",
            ));
        }
    })
}

/// Appends `change`, merging it into the previous change when both add or both remove ids
/// (Entra's value-list remove arrives here as one `Remove` per member).
pub(crate) fn push_change(changes: &mut Vec<MemberChange>, change: MemberChange) {
    match (changes.last_mut(), change) {
        (Some(MemberChange::Add(previous)), MemberChange::Add(more)) => previous.extend(more),
        (Some(MemberChange::Remove(previous)), MemberChange::Remove(more)) => {
            previous.extend(more);
        }
        (_, change) => changes.push(change),
    }
}

/// Drops repeated ids inside each `Add` and `Remove` (first one wins), in O(n).
pub(crate) fn dedupe(changes: &mut [MemberChange]) {
    for change in changes {
        let mut seen = HashSet::new();
        match change {
            MemberChange::Add(members) => members.retain(|m| seen.insert(m.value.clone())),
            MemberChange::Remove(ids) => ids.retain(|id| seen.insert(id.clone())),
            MemberChange::RemoveAll
            | MemberChange::ReplaceAll(_)
            | MemberChange::RemoveMatching(_) => {}
        }
    }
}
