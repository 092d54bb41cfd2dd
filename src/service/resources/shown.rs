//! Reads answered from memory: the body a `GET /Users/{id}`, a `GET /Groups/{id}` without
//! members or a search that finds at most one resource answered, kept for exactly as long as
//! the database is unchanged.
//!
//! An IdP reads the same resource again and again between changes (Entra checks
//! `userName eq "…"` before each change, monitors poll one user), and answering from the
//! database costs a read transaction, the computed `groups`, the rendering and the JSON text:
//! most of a read's time (docs/benchmarks.md). Whether the database changed is SQLite's
//! commit counter ([`Freshness::commit_version`]), one `pread`: any commit, by this server,
//! another process or the CLI, makes every kept answer stale, so a read never sees less than a
//! read of the database would. PostgreSQL has no such counter that other instances' commits
//! move; there every read goes to the database.

use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;

use crate::error::Result;
use crate::scim::query::QueryParams;
use crate::store::OrgId;
use crate::store::data_version::{Version, VersionedCache};
use crate::store::freshness::Freshness;

/// What a kept answer costs besides its body: the key, the map entry, the allocations.
const ENTRY_OVERHEAD: usize = 256;

/// A response body as the client gets it, with the resource's version for `ETag` and
/// `If-None-Match` (a single resource; a search has none).
#[derive(Debug)]
pub struct Shown {
    pub version: Option<i64>,
    pub body: Bytes,
}

/// An answer made from the database, and whether it may be kept: not when it lists a
/// group's members (up to 100,000) or a search that may find many.
pub struct Made {
    pub shown: Shown,
    pub keep: bool,
}

/// What was asked: everything the body depends on besides the database.
#[derive(Debug, Hash, PartialEq, Eq)]
pub struct Asked {
    org: OrgId,
    resource_type: &'static str,
    /// `meta.location` and `$ref`s name the base URL the client addressed.
    base_url: String,
    what: What,
}

#[derive(Debug, Hash, PartialEq, Eq)]
enum What {
    One {
        id: String,
        attributes: Option<String>,
        excluded_attributes: Option<String>,
    },
    Search(QueryParams),
}

impl Asked {
    /// One resource by id, as `attributes`/`excludedAttributes` of `params` project it.
    pub fn one(
        org: &OrgId,
        resource_type: &'static str,
        base_url: &str,
        id: &str,
        params: &QueryParams,
    ) -> Asked {
        let what = What::One {
            id: id.to_owned(),
            attributes: params.attributes.clone(),
            excluded_attributes: params.excluded_attributes.clone(),
        };
        Asked::of(org, resource_type, base_url, what)
    }

    /// A list or search request with these parameters.
    pub fn search(
        org: &OrgId,
        resource_type: &'static str,
        base_url: &str,
        params: &QueryParams,
    ) -> Asked {
        Asked::of(org, resource_type, base_url, What::Search(params.clone()))
    }

    fn of(org: &OrgId, resource_type: &'static str, base_url: &str, what: What) -> Asked {
        Asked {
            org: org.clone(),
            resource_type,
            base_url: base_url.to_owned(),
            what,
        }
    }
}

/// The kept answers, shared by every worker.
pub struct ShownCache {
    /// `None` without a source whose version moves with every commit (PostgreSQL's does not)
    /// or without a budget: then nothing is kept, and reads go straight to the database.
    freshness: Option<Arc<Freshness>>,
    answers: VersionedCache<Asked, Shown>,
}

impl ShownCache {
    /// Keeps answers of at most `budget` bytes in all while `freshness` can tell that the
    /// database is unchanged.
    pub fn new(freshness: Option<Arc<Freshness>>, budget: usize) -> ShownCache {
        ShownCache {
            freshness: freshness
                .filter(|freshness| budget > 0 && freshness.moves_with_every_commit()),
            answers: VersionedCache::weighed(budget, |shown| shown.body.len() + ENTRY_OVERHEAD),
        }
    }

    /// Keeps nothing: every read goes to the database.
    pub fn off() -> ShownCache {
        ShownCache::new(None, 0)
    }

    /// The answer to `asked`: kept, or made by `make` (and kept when `make` says it may be
    /// and nothing was committed meanwhile). `read_at` is a version the request read already
    /// (its authentication did), saving a second look.
    ///
    /// A kept answer is looked up before `make` validates anything: only answers made from
    /// valid parameters are kept, and the same parameters validate the same way every time.
    pub async fn answer<F, Fut>(
        &self,
        asked: Asked,
        read_at: Option<Version>,
        make: F,
    ) -> Result<Arc<Shown>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Made>>,
    {
        if self.freshness.is_none() {
            return make().await.map(|made| Arc::new(made.shown));
        }
        // Read before the database is, so that a commit in between makes the answer stale.
        // An older version than the current one only makes a miss.
        let version = read_at
            .filter(Version::moves_with_every_commit)
            .or_else(|| self.commit_version());
        if let Some(version) = version
            && let Some(kept) = self.answers.get(&asked, version)
        {
            return Ok(kept);
        }
        let Made { shown, keep } = make().await?;
        let shown = Arc::new(shown);
        if keep
            && let Some(version) = version
            && self.commit_version() == Some(version)
        {
            self.answers.insert(asked, version, Arc::clone(&shown));
        }
        Ok(shown)
    }

    fn commit_version(&self) -> Option<Version> {
        self.freshness.as_ref()?.commit_version()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::store::testing::migrated_sqlite;

    fn asked(id: &str) -> Asked {
        Asked::one(
            &OrgId::from_db("org".to_owned()),
            "User",
            "http://localhost/scim/v2",
            id,
            &QueryParams::default(),
        )
    }

    /// Answers `asked` through `cache`, counting the reads that were made; `keep` is what
    /// the read says of its answer.
    async fn read_keeping(
        cache: &ShownCache,
        asked: Asked,
        keep: bool,
        made: &AtomicUsize,
    ) -> Bytes {
        let shown = cache
            .answer(asked, None, || async {
                let count = made.fetch_add(1, Ordering::SeqCst) + 1;
                Ok(Made {
                    shown: Shown {
                        version: Some(1),
                        body: Bytes::from(format!("read {count}")),
                    },
                    keep,
                })
            })
            .await
            .unwrap();
        shown.body.clone()
    }

    async fn read(cache: &ShownCache, asked: Asked, made: &AtomicUsize) -> Bytes {
        read_keeping(cache, asked, true, made).await
    }

    #[tokio::test]
    async fn an_answer_is_kept_until_the_next_commit_of_any_process() {
        let dir = tempfile::tempdir().unwrap();
        let (url, store) = migrated_sqlite(&dir, "shown.db", 2);
        let freshness = Freshness::open(&url, &store).map(Arc::new);
        assert!(
            freshness.is_some(),
            "SQLite's commit counter is readable here"
        );
        let cache = ShownCache::new(freshness, 1 << 20);
        let made = AtomicUsize::new(0);

        assert_eq!(read(&cache, asked("a"), &made).await, "read 1");
        assert_eq!(read(&cache, asked("a"), &made).await, "read 1", "kept");
        assert_eq!(
            read(&cache, asked("b"), &made).await,
            "read 2",
            "another key"
        );
        let never = || asked("members");
        assert_eq!(
            read_keeping(&cache, never(), false, &made).await,
            "read 3",
            "not kept"
        );
        assert_eq!(read_keeping(&cache, never(), false, &made).await, "read 4");

        // Another process commits.
        let commit = |sql: &str| {
            let output = std::process::Command::new("sqlite3")
                .arg(dir.path().join("shown.db"))
                .arg(sql)
                .output()
                .expect("sqlite3 runs (apt-get install sqlite3)");
            assert!(output.status.success(), "{output:?}");
        };
        commit("CREATE TABLE t (x INTEGER)");
        assert_eq!(
            read(&cache, asked("a"), &made).await,
            "read 5",
            "stale after a commit"
        );
        assert_eq!(read(&cache, asked("a"), &made).await, "read 5");
        commit("INSERT INTO t VALUES (1)");
        assert_eq!(read(&cache, asked("a"), &made).await, "read 6");
    }

    #[tokio::test]
    async fn nothing_is_kept_without_a_commit_version_or_a_budget() {
        let dir = tempfile::tempdir().unwrap();
        let (url, store) = migrated_sqlite(&dir, "shown.db", 2);
        let made = AtomicUsize::new(0);
        for cache in [
            ShownCache::off(),
            ShownCache::new(Freshness::open(&url, &store).map(Arc::new), 0),
        ] {
            let first = read(&cache, asked("a"), &made).await;
            assert_ne!(read(&cache, asked("a"), &made).await, first);
        }
    }
}
