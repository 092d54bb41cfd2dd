//! Identifier newtypes. Constructors of tenant ids are crate-private: only the store (reading
//! rows), authentication and the CLI can produce them.

use std::fmt;

/// Ids are random UUIDs (v4), unless a type names another maker: a token is named on the
/// command line by the first characters of its id, which must differ between tokens made in
/// the same second. Users and groups, the ids inserted by the thousand, are UUIDv7: made one
/// after another they sort together, so each primary-key index takes an append instead of a
/// write to a random page (a 4 KiB WAL frame per insert). A v7 id tells when it was made, as
/// `meta.created` does anyway, and is never a credential.
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        id_type!($(#[$doc])* $name, uuid::Uuid::new_v4);
    };
    ($(#[$doc:meta])* $name:ident, $new:path) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// A new id: random, or time-ordered for users and groups (see above).
            pub(crate) fn generate() -> Self {
                $name($new().to_string())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
    };
}

id_type!(
    /// An organization (tenant); every SCIM resource and token belongs to exactly one.
    OrgId
);
id_type!(
    /// An API token's public id (not the secret).
    TokenId
);

id_type!(
    /// A User resource's `id`.
    UserId,
    uuid::Uuid::now_v7
);
id_type!(
    /// A Group resource's `id`.
    GroupId,
    uuid::Uuid::now_v7
);
id_type!(
    /// A named network zone of an organization.
    ZoneId
);
id_type!(
    /// An event stream of an organization: one receiver of its change feed.
    StreamId
);

macro_rules! parse_uuid_id {
    ($($name:ident),*) => {$(
        impl $name {
            /// Reads an id from a URL or request body. Ids are UUIDs; anything else names no
            /// resource, so callers answer 404 rather than a parse error.
            pub fn parse(text: &str) -> Option<Self> {
                uuid::Uuid::parse_str(text.trim())
                    .ok()
                    .map(|id| $name(id.to_string()))
            }
        }
    )*};
}

parse_uuid_id!(TokenId, UserId, GroupId, ZoneId, StreamId);

macro_rules! from_db {
    ($($name:ident),*) => {$(
        impl $name {
            /// Wraps an id read from a row of the store.
            pub(crate) fn from_db(value: String) -> Self {
                $name(value)
            }
        }
    )*};
}

from_db!(OrgId, TokenId, GroupId, ZoneId, StreamId);

id_type!(
    /// A person who administers organizations in the console (not a SCIM User).
    PersonId
);
id_type!(
    /// A console session's public id: what lists and sign-out forms name. The cookie's secret
    /// is another value, stored only as a digest.
    SessionId
);
parse_uuid_id!(SessionId);
from_db!(PersonId, SessionId);
