//! Finding what the operator names on the command line (an organization by name, a token by
//! its id or a prefix of it), shared by every command module so none depends on another.

use anyhow::Context;

use crate::service::{orgs, tokens};
use crate::store::Store;
use crate::store::tokens::TokenRecord;

pub fn find_org(store: &Store, name: &str) -> anyhow::Result<orgs::Organization> {
    store
        .run_blocking(|conn| orgs::find_by_name(conn, name))?
        .with_context(|| format!("no organization named '{name}' (see `scimd org list`)"))
}

/// The operator names a token by its id, or a unique prefix of it, whatever its organization.
pub fn find_any(store: &Store, id: &str) -> anyhow::Result<TokenRecord> {
    Ok(store.run_blocking(|conn| tokens::find_by_id_prefix(conn, id))?)
}
