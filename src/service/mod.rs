//! Use cases, one module per family: what a request does once a front end (the SCIM handlers,
//! Bulk, the CLI) has read it. Each writes in one transaction with its audit record; none
//! knows HTTP.

pub mod resources;

use serde_json::json;

use crate::error::Result;
use crate::scim::schema::ResourceTypeDef;
use crate::store::audit::{NewAuditEvent, insert_audit_event};
use crate::store::{self, DbConn, OrgId};

/// Who acts: the organization acted in, and the actor the audit log names.
#[derive(Debug, Clone)]
pub struct Actor {
    pub org: OrgId,
    name: String,
}

impl Actor {
    /// `name` as the audit log shows it, e.g. `token:<id>`.
    pub fn new(org: OrgId, name: String) -> Actor {
        Actor { org, name }
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
        insert_audit_event(
            conn,
            &NewAuditEvent {
                org_id: Some(&self.org),
                event_type: "scim.write",
                actor: Some(&self.name),
                target: Some(id),
                remote_addr: None,
                details: json!({
                    "resource_type": resource_type.name,
                    "operation": operation,
                }),
            },
            store::now(),
        )
    }
}
