//! Compiles a resolved SCIM filter into SQL over indexed columns.
//!
//! Every leaf that maps to a column (userName, externalId, id, displayName, active,
//! meta.created, meta.lastModified, e-mail values and types, members) becomes an exact SQL
//! predicate built with diesel, never by concatenating text. A leaf that does not (say
//! `title co "x"`) is left out, which turns the SQL into a superset of the answer; the result
//! is marked inexact and the caller checks candidates in memory with the same filter.
//! Conditions on e-mails and members are looked up first in their own indexed tables; the
//! multi-backend connection cannot nest boxed subqueries.

use chrono::NaiveDateTime;
use diesel::expression::BoxableExpression;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable};

use super::conn::MultiBackend;
use super::schema::{group_members, groups, user_emails, users};
use super::{DbConn, OrgId};
use crate::error::Result;
use crate::scim::filter::{CompareOp, ResolvedFilter, ResolvedValue};
use crate::scim::resource::MemberType;

/// A boolean SQL expression over table `T`.
pub type Predicate<T> = Box<dyn BoxableExpression<T, MultiBackend, SqlType = Nullable<Bool>>>;

/// Above this many ids, a condition on e-mails or members is checked in memory instead of
/// being bound into `IN (…)`, which both backends cap.
const MAX_PREFETCHED_IDS: i64 = 10_000;

/// The SQL form of a filter: `predicate` selects a superset of the matches (all rows when
/// `None`), and exactly the matches when `exact`.
pub struct Compiled<T> {
    pub predicate: Option<Predicate<T>>,
    pub exact: bool,
}

impl<T> Compiled<T> {
    fn exact(predicate: Predicate<T>) -> Self {
        Compiled {
            predicate: Some(predicate),
            exact: true,
        }
    }

    fn superset() -> Self {
        Compiled {
            predicate: None,
            exact: false,
        }
    }
}

type Leaf<'a, T> = dyn FnMut(&ResolvedFilter) -> Result<Option<Predicate<T>>> + 'a;

/// Defines `$name`, which combines leaves into and/or/not for one table, tracking exactness:
/// an inexact operand of `and` only widens the result, one of `or` or `not` forces "all
/// rows". (A macro because diesel's boxed expressions do not combine over a generic table.)
macro_rules! combinator {
    ($name:ident, $table:ty) => {
        fn $name(filter: &ResolvedFilter, leaf: &mut Leaf<'_, $table>) -> Result<Compiled<$table>> {
            Ok(match filter {
                ResolvedFilter::And(left, right) => {
                    let (left, right) = ($name(left, leaf)?, $name(right, leaf)?);
                    let exact = left.exact && right.exact;
                    let predicate = match (left.predicate, right.predicate) {
                        (Some(a), Some(b)) => Some(Box::new(a.and(b)) as Predicate<$table>),
                        (a, b) => a.or(b),
                    };
                    Compiled { predicate, exact }
                }
                ResolvedFilter::Or(left, right) => {
                    let (left, right) = ($name(left, leaf)?, $name(right, leaf)?);
                    match (left.predicate, right.predicate) {
                        (Some(a), Some(b)) => Compiled {
                            predicate: Some(Box::new(a.or(b))),
                            exact: left.exact && right.exact,
                        },
                        _ => Compiled::superset(),
                    }
                }
                ResolvedFilter::Not(inner) => match $name(inner, leaf)? {
                    Compiled {
                        predicate: Some(predicate),
                        exact: true,
                    } => Compiled::exact(Box::new(diesel::dsl::not(predicate))),
                    _ => Compiled::superset(),
                },
                other => leaf(other)?.map_or_else(Compiled::superset, Compiled::exact),
            })
        }
    };
}

combinator!(compile_users, users::table);
combinator!(compile_groups, groups::table);
combinator!(compile_emails, user_emails::table);
combinator!(compile_members, group_members::table);

/// `LIKE` pattern for `co`/`sw`/`ew`, with the wildcards of the operand escaped.
fn like_pattern(op: CompareOp, operand: &str) -> String {
    let escaped = operand
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    match op {
        CompareOp::Sw => format!("{escaped}%"),
        CompareOp::Ew => format!("%{escaped}"),
        _ => format!("%{escaped}%"),
    }
}

/// Compares a NOT NULL text column (macros, because diesel's operator types differ per
/// column and do not box generically).
macro_rules! text_compare {
    ($column:expr, $op:expr, $operand:expr) => {{
        let operand: String = $operand;
        let predicate: Predicate<_> = match $op {
            CompareOp::Eq => Box::new($column.eq(operand).nullable()),
            CompareOp::Ne => Box::new($column.ne(operand).nullable()),
            CompareOp::Gt => Box::new($column.gt(operand).nullable()),
            CompareOp::Ge => Box::new($column.ge(operand).nullable()),
            CompareOp::Lt => Box::new($column.lt(operand).nullable()),
            CompareOp::Le => Box::new($column.le(operand).nullable()),
            op @ (CompareOp::Co | CompareOp::Sw | CompareOp::Ew) => Box::new(
                $column
                    .like(like_pattern(op, &operand))
                    .escape('\\')
                    .nullable(),
            ),
        };
        Some(predicate)
    }};
}

/// Compares a nullable text column; an absent value matches no comparison, so `not (…)`
/// over it stays two-valued.
macro_rules! nullable_text_compare {
    ($column:expr, $op:expr, $operand:expr) => {{
        let operand: String = $operand;
        let present = $column.is_not_null();
        let predicate: Predicate<_> = match $op {
            CompareOp::Eq => Box::new(present.and($column.eq(operand))),
            CompareOp::Ne => Box::new(present.and($column.ne(operand))),
            CompareOp::Gt => Box::new(present.and($column.gt(operand))),
            CompareOp::Ge => Box::new(present.and($column.ge(operand))),
            CompareOp::Lt => Box::new(present.and($column.lt(operand))),
            CompareOp::Le => Box::new(present.and($column.le(operand))),
            op @ (CompareOp::Co | CompareOp::Sw | CompareOp::Ew) => {
                Box::new(present.and($column.like(like_pattern(op, &operand)).escape('\\')))
            }
        };
        Some(predicate)
    }};
}

macro_rules! time_compare {
    ($column:expr, $op:expr, $value:expr) => {{
        match ($op, $value) {
            (op, ResolvedValue::DateTime(at)) => {
                let at: NaiveDateTime = at.naive_utc();
                let predicate: Option<Predicate<_>> = match op {
                    CompareOp::Eq => Some(Box::new($column.eq(at).nullable())),
                    CompareOp::Ne => Some(Box::new($column.ne(at).nullable())),
                    CompareOp::Gt => Some(Box::new($column.gt(at).nullable())),
                    CompareOp::Ge => Some(Box::new($column.ge(at).nullable())),
                    CompareOp::Lt => Some(Box::new($column.lt(at).nullable())),
                    CompareOp::Le => Some(Box::new($column.le(at).nullable())),
                    CompareOp::Co | CompareOp::Sw | CompareOp::Ew => None,
                };
                predicate
            }
            _ => None,
        }
    }};
}

/// Resource ids are lowercase UUIDs, and IdPs send them in either case; a value that is not
/// a UUID names no resource.
macro_rules! id_compare {
    ($column:expr, $op:expr, $value:expr) => {{
        let id = text($value).and_then(|text| uuid::Uuid::parse_str(text).ok());
        let id = id.map(|id| id.to_string()).unwrap_or_default();
        let predicate: Option<Predicate<_>> = match $op {
            CompareOp::Eq => Some(Box::new($column.eq(id).nullable())),
            CompareOp::Ne => Some(Box::new($column.ne(id).nullable())),
            _ => None,
        };
        predicate
    }};
}

fn text(value: &ResolvedValue) -> Option<&str> {
    match value {
        ResolvedValue::String(text) => Some(text),
        _ => None,
    }
}

fn lowered(value: &ResolvedValue) -> Option<String> {
    text(value).map(str::to_lowercase)
}

/// The SQL form of a filter on Users.
pub fn users_filter(
    conn: &mut DbConn,
    org: &OrgId,
    filter: &ResolvedFilter,
) -> Result<Compiled<users::table>> {
    compile_users(filter, &mut |leaf| user_leaf(conn, org, leaf))
}

/// The SQL form of a filter on Groups.
pub fn groups_filter(
    conn: &mut DbConn,
    org: &OrgId,
    filter: &ResolvedFilter,
) -> Result<Compiled<groups::table>> {
    compile_groups(filter, &mut |leaf| group_leaf(conn, org, leaf))
}

fn user_leaf(
    conn: &mut DbConn,
    org: &OrgId,
    leaf: &ResolvedFilter,
) -> Result<Option<Predicate<users::table>>> {
    Ok(match leaf {
        ResolvedFilter::Compare { target, op, value } if !target.extension => {
            match (target.attribute, target.sub_attribute) {
                ("id", None) => id_compare!(users::id, *op, value),
                ("userName", None) => match lowered(value) {
                    Some(operand) => text_compare!(users::user_name_lower, *op, operand),
                    None => None,
                },
                ("externalId", None) => match text(value) {
                    Some(operand) => {
                        nullable_text_compare!(users::external_id, *op, operand.to_owned())
                    }
                    None => None,
                },
                ("displayName", None) => match lowered(value) {
                    Some(operand) => {
                        nullable_text_compare!(users::display_name_lower, *op, operand)
                    }
                    None => None,
                },
                ("active", None) => match (op, value) {
                    (CompareOp::Eq, ResolvedValue::Boolean(b)) => {
                        Some(Box::new(users::active.eq(*b).nullable()) as Predicate<_>)
                    }
                    (CompareOp::Ne, ResolvedValue::Boolean(b)) => {
                        Some(Box::new(users::active.ne(*b).nullable()) as Predicate<_>)
                    }
                    _ => None,
                },
                ("meta", Some("created")) => time_compare!(users::created_at, *op, value),
                ("meta", Some("lastModified")) => time_compare!(users::last_modified, *op, value),
                ("emails", Some(_)) => match email_leaf(leaf) {
                    Some(inner) => users_with_email(conn, org, inner)?,
                    None => None,
                },
                _ => None,
            }
        }
        ResolvedFilter::Present { target } if !target.extension => {
            match (target.attribute, target.sub_attribute) {
                ("id" | "userName" | "active", None) => {
                    Some(Box::new(users::id.is_not_null().nullable()) as Predicate<_>)
                }
                ("externalId", None) => Some(Box::new(
                    users::external_id
                        .is_not_null()
                        .and(users::external_id.ne("")),
                ) as Predicate<_>),
                ("displayName", None) => Some(Box::new(
                    users::display_name
                        .is_not_null()
                        .and(users::display_name.ne("")),
                ) as Predicate<_>),
                _ => None,
            }
        }
        ResolvedFilter::ValuePath { target, filter }
            if !target.extension && target.attribute == "emails" =>
        {
            let inner = compile_emails(filter, &mut |leaf| Ok(email_leaf(leaf)))?;
            match inner {
                Compiled {
                    predicate: Some(predicate),
                    exact: true,
                } => users_with_email(conn, org, predicate)?,
                _ => None,
            }
        }
        _ => None,
    })
}

/// `users.id IN (ids of users with a matching e-mail)`, looked up in the e-mail index.
fn users_with_email(
    conn: &mut DbConn,
    org: &OrgId,
    predicate: Predicate<user_emails::table>,
) -> Result<Option<Predicate<users::table>>> {
    let ids: Vec<String> = conn
        .planned_per_run(
            user_emails::table
                .filter(user_emails::org_id.eq(org.as_str()))
                .select(user_emails::user_id)
                .distinct()
                .into_boxed()
                .filter(predicate)
                .limit(MAX_PREFETCHED_IDS + 1),
        )
        .load(conn)?;
    Ok(prefetched(ids).map(|ids| Box::new(users::id.eq_any(ids).nullable()) as Predicate<_>))
}

fn prefetched(ids: Vec<String>) -> Option<Vec<String>> {
    (i64::try_from(ids.len()).unwrap_or(i64::MAX) <= MAX_PREFETCHED_IDS).then_some(ids)
}

fn email_leaf(leaf: &ResolvedFilter) -> Option<Predicate<user_emails::table>> {
    match leaf {
        ResolvedFilter::Compare { target, op, value } if target.attribute == "emails" => {
            match (target.sub_attribute, lowered(value)) {
                (Some("value"), Some(operand)) => {
                    text_compare!(user_emails::value_lower, *op, operand)
                }
                (Some("type"), Some(operand)) => {
                    nullable_text_compare!(user_emails::type_lower, *op, operand)
                }
                _ => None,
            }
        }
        ResolvedFilter::Present { target } if target.attribute == "emails" => {
            match target.sub_attribute {
                Some("value") | None => {
                    Some(Box::new(user_emails::value_lower.ne("").nullable()) as Predicate<_>)
                }
                Some("type") => {
                    Some(Box::new(user_emails::type_lower.is_not_null().nullable()) as Predicate<_>)
                }
                _ => None,
            }
        }
        _ => None,
    }
}

fn group_leaf(
    conn: &mut DbConn,
    org: &OrgId,
    leaf: &ResolvedFilter,
) -> Result<Option<Predicate<groups::table>>> {
    Ok(match leaf {
        ResolvedFilter::Compare { target, op, value } if !target.extension => {
            match (target.attribute, target.sub_attribute) {
                ("id", None) => id_compare!(groups::id, *op, value),
                ("displayName", None) => match lowered(value) {
                    Some(operand) => text_compare!(groups::display_name_lower, *op, operand),
                    None => None,
                },
                ("externalId", None) => match text(value) {
                    Some(operand) => {
                        nullable_text_compare!(groups::external_id, *op, operand.to_owned())
                    }
                    None => None,
                },
                ("meta", Some("created")) => time_compare!(groups::created_at, *op, value),
                ("meta", Some("lastModified")) => time_compare!(groups::last_modified, *op, value),
                ("members", Some(_)) => match member_leaf(leaf) {
                    Some(inner) => groups_with_member(conn, org, inner)?,
                    None => None,
                },
                _ => None,
            }
        }
        ResolvedFilter::Present { target } if !target.extension => {
            match (target.attribute, target.sub_attribute) {
                ("id" | "displayName", None) => {
                    Some(Box::new(groups::id.is_not_null().nullable()) as Predicate<_>)
                }
                ("externalId", None) => Some(Box::new(
                    groups::external_id
                        .is_not_null()
                        .and(groups::external_id.ne("")),
                ) as Predicate<_>),
                ("members", _) => groups_with_member(
                    conn,
                    org,
                    Box::new(group_members::member_id.is_not_null().nullable()),
                )?,
                _ => None,
            }
        }
        ResolvedFilter::ValuePath { target, filter }
            if !target.extension && target.attribute == "members" =>
        {
            let inner = compile_members(filter, &mut |leaf| Ok(member_leaf(leaf)))?;
            match inner {
                Compiled {
                    predicate: Some(predicate),
                    exact: true,
                } => groups_with_member(conn, org, predicate)?,
                _ => None,
            }
        }
        _ => None,
    })
}

/// `groups.id IN (ids of groups with a matching member)`, looked up in the membership index.
fn groups_with_member(
    conn: &mut DbConn,
    org: &OrgId,
    predicate: Predicate<group_members::table>,
) -> Result<Option<Predicate<groups::table>>> {
    let ids: Vec<String> = conn
        .planned_per_run(
            group_members::table
                .filter(group_members::org_id.eq(org.as_str()))
                .select(group_members::group_id)
                .distinct()
                .into_boxed()
                .filter(predicate)
                .limit(MAX_PREFETCHED_IDS + 1),
        )
        .load(conn)?;
    Ok(prefetched(ids).map(|ids| Box::new(groups::id.eq_any(ids).nullable()) as Predicate<_>))
}

fn member_leaf(leaf: &ResolvedFilter) -> Option<Predicate<group_members::table>> {
    match leaf {
        ResolvedFilter::Compare { target, op, value } if target.attribute == "members" => {
            match target.sub_attribute {
                Some("value") => id_compare!(group_members::member_id, *op, value),
                Some("type") if *op == CompareOp::Eq => {
                    let kind = text(value).and_then(MemberType::parse)?;
                    Some(
                        Box::new(group_members::member_type.eq(kind.as_str()).nullable())
                            as Predicate<_>,
                    )
                }
                _ => None,
            }
        }
        _ => None,
    }
}
