//! Where the token cache learns that the database changed: SQLite's commit counter
//! ([`DataVersion`]) or PostgreSQL's notices ([`TokenListener`]). On its own so that neither
//! source depends on the other.

use super::data_version::{DataVersion, Version};
use super::token_listener::TokenListener;
use super::{DatabaseUrl, Store};

/// Where the token cache learns that the database changed: one cache, two sources.
pub enum Freshness {
    /// SQLite: the commit counter, read without a query.
    WalIndex(DataVersion),
    /// PostgreSQL: `LISTEN` on a connection of its own.
    Notified(TokenListener),
}

impl Freshness {
    /// Opens the source the backend of `store` has, or `None`: then every request looks its
    /// token up.
    pub fn open(url: &DatabaseUrl, store: &Store) -> Option<Freshness> {
        match url {
            DatabaseUrl::Sqlite(_) => DataVersion::open(url).map(Freshness::WalIndex),
            DatabaseUrl::Postgres(_) => TokenListener::start(url, store).map(Freshness::Notified),
        }
    }

    /// The current version, or `None` if it cannot be told right now: then callers query.
    pub fn current(&self) -> Option<Version> {
        match self {
            Freshness::WalIndex(data_version) => data_version.current(),
            Freshness::Notified(listener) => listener.current(),
        }
    }

    /// Whether [`Freshness::commit_version`] can ever answer: SQLite's counter moves with every
    /// commit, PostgreSQL's notices only with token changes.
    pub fn moves_with_every_commit(&self) -> bool {
        matches!(self, Freshness::WalIndex(_))
    }

    /// The current version if it moves with every commit, whatever the commit changed: on
    /// SQLite. PostgreSQL's version moves only with token changes, so values other than
    /// tokens cannot be kept by it: `None` there.
    pub fn commit_version(&self) -> Option<Version> {
        match self {
            Freshness::WalIndex(data_version) => data_version.current(),
            Freshness::Notified(_) => None,
        }
    }
}
