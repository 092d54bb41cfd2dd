//! Use cases, one module per family: what a request does once a front end (the SCIM handlers,
//! Bulk, the CLI) has read it. Each writes in one transaction with its audit record; none
//! knows HTTP.

pub mod audit;
pub mod audit_log;
pub mod backups;
pub mod events;
pub mod input;
pub mod orgs;
pub mod people;
pub mod resources;
pub mod tokens;
pub mod views;
pub mod zones;

use serde_json::json;

use crate::error::Result;
use crate::scim::schema::ResourceTypeDef;
use crate::store::{self, DbConn, OrgId};
use audit::{Event, EventKind, Target};

/// Who acts, and in which organization: what every write of an organization's Users and
/// Groups is scoped by and records.
#[derive(Debug, Clone)]
pub struct OrgActor {
    pub org: OrgId,
    pub actor: audit::Actor,
}

impl OrgActor {
    pub fn new(org: OrgId, actor: audit::Actor) -> OrgActor {
        OrgActor { org, actor }
    }

    /// Records `scim.write` in the write's own transaction, so the log cannot miss a write
    /// that committed nor name one that rolled back. Bulk operations are recorded one by one.
    fn record_write(
        &self,
        conn: &mut DbConn,
        resource_type: &ResourceTypeDef,
        operation: &str,
        id: &str,
    ) -> Result<()> {
        Event {
            kind: EventKind::ScimWrite,
            org: Some(&self.org),
            actor: Some(&self.actor),
            target: Some(Target::Resource(id)),
            remote_addr: None,
            details: json!({
                "resource_type": resource_type.name,
                "operation": operation,
            }),
        }
        .record(conn, store::now())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Dependencies point one way (see the README's Development section): only `store` speaks
    /// to the database, and the use cases and the error type work without the web framework,
    /// so the CLI and a console can call them as HTTP does.
    #[test]
    fn only_the_store_uses_the_orm_and_neither_error_nor_service_the_web_framework()
    -> std::io::Result<()> {
        // Spelled in pieces so that this file does not match itself.
        let web = ["actix", "_web"].concat();
        let orm = ["die", "sel"].concat();
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut directories = vec![src.clone()];
        let mut checked = 0;
        while let Some(directory) = directories.pop() {
            for entry in std::fs::read_dir(directory)? {
                let path = entry?.path();
                if path.is_dir() {
                    directories.push(path);
                    continue;
                }
                if path.extension().is_none_or(|ext| ext != "rs") {
                    continue;
                }
                let file = path.strip_prefix(&src).unwrap_or(&path);
                let mut forbidden = Vec::new();
                if !file.starts_with("store") {
                    forbidden.push(&orm);
                }
                if file == Path::new("error.rs") || file.starts_with("service") {
                    forbidden.push(&web);
                }
                for line in std::fs::read_to_string(&path)?.lines() {
                    // Prose may name them; code may not.
                    let code = line.split("//").next().unwrap_or_default();
                    for name in &forbidden {
                        assert!(
                            !code.contains(name.as_str()),
                            "{file:?} uses {name}: {line}"
                        );
                    }
                }
                checked += 1;
            }
        }
        assert!(checked >= 50, "expected the crate's sources under {src:?}");
        Ok(())
    }
}
