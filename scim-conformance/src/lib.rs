//! SCIM 2.0 conformance cases, runnable against any SCIM server over HTTP.
//!
//! Each [`Case`] names its source (an Okta SPEC test step, a Microsoft Entra document example
//! or an RFC section), belongs to one or more [`Profile`]s, creates every resource it needs
//! under a run-unique prefix and deletes them again, so it is safe against a server holding
//! real data. Cases for optional features (PATCH, Bulk, sort, ETags, cursors) skip with a reason
//! when `/ServiceProviderConfig` says the feature is not supported.

pub mod case;
pub mod cases;
pub mod client;
pub mod report;
pub mod runner;

pub use case::{Case, Ctx, Failure, Feature, Features, Outcome, Profile, Stop};
pub use report::{CaseReport, Report, Status};
pub use runner::{Config, run};
