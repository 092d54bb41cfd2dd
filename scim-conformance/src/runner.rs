//! Runs the selected cases in order against one server.

use std::time::Instant;

use reqwest::Method;

use crate::case::{Ctx, Features, Profile, Stop};
use crate::cases;
use crate::client::{Client, Request};
use crate::report::{CaseReport, Report, Status};

/// What to run, and against which server.
#[derive(Debug, Clone)]
pub struct Config {
    /// The SCIM base URL, e.g. `https://host/scim/v2`.
    pub base_url: String,
    /// The bearer token (without `Bearer `).
    pub token: String,
    /// The profiles to run; a case runs once even when in several.
    pub profiles: Vec<Profile>,
    /// Runs the cases of optional features even when `/ServiceProviderConfig` says the
    /// feature is unsupported (for servers whose configuration document is wrong).
    pub force_optional: bool,
}

/// Runs every case of the selected profiles and returns the report. The server's features
/// are read once from `/ServiceProviderConfig`; when that fails every optional feature counts
/// as unsupported (and the discovery cases report the failure).
pub fn run(config: &Config) -> Result<Report, String> {
    let client = Client::new(&config.base_url, &config.token)
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    let prefix = format!("scimconf-{}-", short_random());
    let features = client
        .send(&Request::new(Method::GET, "/ServiceProviderConfig"))
        .ok()
        .filter(|r| r.status == 200)
        .map(|r| Features::from_config(&r.body))
        .unwrap_or_default();
    let features = if config.force_optional {
        Features::ALL
    } else {
        features
    };

    let mut reports = Vec::new();
    for case in cases::all() {
        if !case.profiles.iter().any(|p| config.profiles.contains(p)) {
            continue;
        }
        let started = Instant::now();
        let mut ctx = Ctx::new(&client, &prefix, features, case.id);
        let outcome = (case.run)(&mut ctx);
        ctx.clean_up();
        let (status, failure, skip_reason) = match outcome {
            Ok(()) => (Status::Passed, None, None),
            Err(Stop::Fail(failure)) => (Status::Failed, Some(failure), None),
            Err(Stop::Skip(reason)) => (Status::Skipped, None, Some(reason)),
        };
        reports.push(CaseReport {
            id: case.id,
            source: case.source,
            purpose: case.purpose,
            profiles: case.profiles.to_vec(),
            status,
            failure,
            skip_reason,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        });
    }
    Ok(Report::new(
        client.base_url().to_owned(),
        prefix,
        features,
        reports,
        &config.profiles,
    ))
}

/// Eight lowercase hex characters from a v4 UUID.
fn short_random() -> String {
    uuid::Uuid::new_v4()
        .simple()
        .to_string()
        .chars()
        .take(8)
        .collect()
}
