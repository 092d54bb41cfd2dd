//! Integration tests: the real scimd over real HTTP, on SQLite and on PostgreSQL.
// The harness may fail loudly: a panic is how a test reports.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod helpers;

mod activity;
mod audit_log;
mod auth;
mod backups;
mod bulk;
mod cli;
mod concurrency;
mod conformance;
mod console;
mod copy;
mod discovery;
mod events;
mod events_poll;
mod group_commit;
mod groups;
mod health;
mod management;
mod metrics;
mod migrations;
mod org_settings;
mod packaging;
mod paging;
mod passwords;
mod patch_groups;
mod patch_users;
mod people_cli;
mod planning;
mod projection;
mod protocol;
mod push;
mod query;
mod read_cache;
mod request_ids;
mod search;
mod tls;
mod token_bounds;
mod token_cache;
mod token_list;
mod token_listener;
mod tokens;
mod upgrades;
mod users;
mod write_limits;
mod zones;
