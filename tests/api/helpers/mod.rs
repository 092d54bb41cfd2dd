//! The test harness: real databases, the real application over real HTTP.

pub mod api;
pub mod app;
pub mod browser;
pub mod cli;
pub mod postgres;
pub mod receiver;
pub mod scim;

pub use app::{TestApp, TestDatabase};
pub use postgres::PgCluster;

/// The two storage backends every integration test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Turns one async test body taking a [`Backend`] into a module with a `sqlite` and a
/// `postgres` test, so failures name the backend.
#[macro_export]
macro_rules! on_both_backends {
    ($(#[$meta:meta])* async fn $name:ident($backend:ident: Backend) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            $(#[$meta])*
            async fn run($backend: $crate::helpers::Backend) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run($crate::helpers::Backend::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                run($crate::helpers::Backend::Postgres).await
            }
        }
    };
}
