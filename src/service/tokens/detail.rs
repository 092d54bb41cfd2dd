//! One token with its history, for its detail page: who created it, its rotation
//! predecessor and successor by name, and its own audit events, newest first, in pages.

use std::collections::HashMap;

use chrono::NaiveDateTime;

use super::{ShownToken, show};
use crate::error::Result;
use crate::service::audit_log::{self, AuditFilter, AuditPage};
use crate::store::{DbConn, OrgId, TokenId};

pub use crate::service::audit_log::Party;

/// A token and its history.
#[derive(Debug, Clone)]
pub struct TokenDetail {
    pub token: ShownToken,
    /// A person, `cli`, the first start, or another token (with its name).
    pub created_by: Party,
    /// The token this one was rotated from.
    pub predecessor: Option<Party>,
    /// The token minted to replace this one.
    pub successor: Option<Party>,
    /// Events about the token or made with it.
    pub events: AuditPage,
}

/// The token `id` of `org` (or 404) and a page of its events after `cursor`.
pub fn detail(
    conn: &mut DbConn,
    org: &OrgId,
    id: &TokenId,
    cursor: Option<&str>,
    limit: i64,
    now: NaiveDateTime,
) -> Result<TokenDetail> {
    let token = show(conn, org, id, now)?;
    let record = &token.record;
    let creator = record.created_by.strip_prefix("token:").map(str::to_owned);
    let related: Vec<String> = [
        creator,
        record.rotated_from.as_ref().map(ToString::to_string),
        record.superseded_by.as_ref().map(ToString::to_string),
    ]
    .into_iter()
    .flatten()
    .collect();
    // Names of this organization's tokens only: another organization's token is never named.
    let names: HashMap<String, String> = super::names_by_id(conn, Some(org), &related)?
        .into_iter()
        .collect();
    let filter = AuditFilter {
        org: Some(org.clone()),
        token: Some(id.to_string()),
        ..AuditFilter::default()
    };
    let events = audit_log::search(conn, &filter, cursor, limit)?;
    Ok(TokenDetail {
        created_by: token.created_by.clone(),
        predecessor: record
            .rotated_from
            .as_ref()
            .map(|id| Party::token(id.as_str(), &names)),
        successor: record
            .superseded_by
            .as_ref()
            .map(|id| Party::token(id.as_str(), &names)),
        events,
        token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::audit::Actor;
    use crate::service::input::Grace;
    use crate::service::tokens::{Caller, rotate};
    use crate::store::{self, tokens as stored};

    #[test]
    fn a_tokens_history_names_its_creator_its_rotation_and_pages_its_events() {
        let dir = tempfile::tempdir().unwrap();
        let (_, store) = store::testing::migrated_sqlite(&dir, "detail.db", 1);
        let first = crate::bootstrap::first_start(&store).unwrap().unwrap();
        let alice = Caller::Admin(Actor::Person("alice@example.com".to_owned()));
        store
            .write_blocking(|conn| {
                let now = store::now();
                let org = stored::find_token_any_org(conn, &first.token.id)?
                    .unwrap()
                    .org_id;
                let original = first.token.id.clone();
                let rotation = rotate(conn, &org, &alice, &original, Grace::default(), now)?;
                let successor = rotation.issued.id;

                let old = detail(conn, &org, &original, None, 1, now)?;
                assert_eq!(old.created_by, Party::FirstStart);
                assert_eq!(old.predecessor, None);
                assert_eq!(
                    old.successor,
                    Some(Party::Token {
                        id: successor.to_string(),
                        name: Some("first-start token".to_owned()),
                    })
                );
                let newest = &old.events.events[0];
                assert_eq!(newest.event.event_type, "token.rotated");
                assert_eq!(
                    newest.actor,
                    Some(Party::Person {
                        email: "alice@example.com".to_owned()
                    })
                );
                let cursor = old.events.next_cursor.clone().unwrap();
                let next = detail(conn, &org, &original, Some(&cursor), 1, now)?;
                assert_eq!(next.events.events[0].event.event_type, "token.created");

                let new = detail(conn, &org, &successor, None, 10, now)?;
                assert_eq!(
                    new.created_by,
                    Party::Person {
                        email: "alice@example.com".to_owned()
                    }
                );
                assert!(matches!(
                    new.predecessor,
                    Some(Party::Token { id, name: Some(_) }) if id == original.as_str()
                ));
                let missing = TokenId::generate();
                assert!(detail(conn, &org, &missing, None, 10, now).is_err());
                Ok(())
            })
            .unwrap();
    }
}
