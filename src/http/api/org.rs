//! `/api/v1/org`: the caller's organization and its settings.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Deserializer};

use super::json_response;
use crate::auth::{AuthContext, Scope};
use crate::error::Result;
use crate::service::audit::Actor;
use crate::service::orgs::{self, SettingsEdit};
use crate::service::views::OrgView;
use crate::store::{self, Store};

pub async fn get_org(auth: AuthContext, store: web::Data<Store>) -> Result<HttpResponse> {
    auth.require(Scope::TokensManage)?;
    let org = store
        .read(move |conn| orgs::show(conn, &auth.org_id))
        .await?;
    Ok(json_response(&OrgView::from(org)))
}

/// `Some(None)` for an explicit `null`, `None` for an absent field.
fn explicit<'de, D>(deserializer: D) -> Result<Option<Option<i64>>, D::Error>
where
    D: Deserializer<'de>,
{
    Option::<i64>::deserialize(deserializer).map(Some)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrg {
    /// Days, or `null` for no inactivity policy.
    #[serde(default, deserialize_with = "explicit")]
    inactivity_days: Option<Option<i64>>,
    /// Requests per minute, or `null` for the server's `--rate-limit`.
    #[serde(default, deserialize_with = "explicit")]
    default_rate_limit_per_minute: Option<Option<i64>>,
}

pub async fn update_org(
    auth: AuthContext,
    store: web::Data<Store>,
    body: web::Json<UpdateOrg>,
) -> Result<HttpResponse> {
    auth.require(Scope::TokensManage)?;
    let body = body.into_inner();
    let edit = SettingsEdit {
        inactivity_days: body.inactivity_days,
        default_rate_limit_per_minute: body.default_rate_limit_per_minute,
    };
    let org = store
        .write(move |conn| {
            orgs::update_settings(conn, &auth.org_id, &Actor::of(&auth), &edit, store::now())
        })
        .await?;
    Ok(json_response(&OrgView::from(org)))
}
