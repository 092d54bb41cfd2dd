//! The outcome of a run: per case, per profile, and the text and JSON renderings.

use serde::Serialize;

use crate::case::{Failure, Features, Profile};

/// How a case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Passed,
    Failed,
    Skipped,
}

/// One case's result.
#[derive(Debug, Clone, Serialize)]
pub struct CaseReport {
    pub id: &'static str,
    pub source: &'static str,
    pub purpose: &'static str,
    pub profiles: Vec<Profile>,
    pub status: Status,
    /// Present when the case failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    /// Present when the case was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<String>,
    pub duration_ms: u64,
}

/// Counts for one profile.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileSummary {
    pub profile: Profile,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

/// A whole run, as written by `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub base_url: String,
    /// The prefix of every resource the run created.
    pub prefix: String,
    pub features: Features,
    pub cases: Vec<CaseReport>,
    pub profiles: Vec<ProfileSummary>,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl Report {
    /// Builds the report and its counts; `profiles` are the ones selected for the run.
    pub fn new(
        base_url: String,
        prefix: String,
        features: Features,
        cases: Vec<CaseReport>,
        profiles: &[Profile],
    ) -> Report {
        let count = |status: Status, of: &mut dyn Iterator<Item = &CaseReport>| {
            of.filter(|c| c.status == status).count()
        };
        let summaries = profiles
            .iter()
            .map(|&profile| {
                let in_profile = || cases.iter().filter(move |c| c.profiles.contains(&profile));
                ProfileSummary {
                    profile,
                    passed: count(Status::Passed, &mut in_profile()),
                    failed: count(Status::Failed, &mut in_profile()),
                    skipped: count(Status::Skipped, &mut in_profile()),
                }
            })
            .collect();
        Report {
            passed: count(Status::Passed, &mut cases.iter()),
            failed: count(Status::Failed, &mut cases.iter()),
            skipped: count(Status::Skipped, &mut cases.iter()),
            base_url,
            prefix,
            features,
            profiles: summaries,
            cases,
        }
    }

    /// The failing cases, one line each: id, request, expected vs got.
    pub fn failure_lines(&self) -> Vec<String> {
        self.cases
            .iter()
            .filter_map(|case| {
                case.failure.as_ref().map(|f| {
                    format!(
                        "FAIL {} {} — expected {}, got {}",
                        case.id, f.request, f.expected, f.got
                    )
                })
            })
            .collect()
    }

    /// The per-profile summaries, one line each.
    pub fn summary_lines(&self) -> Vec<String> {
        self.profiles
            .iter()
            .map(|s| {
                format!(
                    "{}: {} passed, {} failed, {} skipped",
                    s.profile.name(),
                    s.passed,
                    s.failed,
                    s.skipped
                )
            })
            .collect()
    }

    /// The last line: `N passed, M failed`, plus `, K skipped` when any were skipped.
    pub fn total_line(&self) -> String {
        let mut line = format!("{} passed, {} failed", self.passed, self.failed);
        if self.skipped > 0 {
            line.push_str(&format!(", {} skipped", self.skipped));
        }
        line
    }

    /// The whole text output: failure lines, profile summaries, the total line.
    pub fn render_text(&self) -> String {
        let mut lines = self.failure_lines();
        lines.extend(self.summary_lines());
        lines.push(self.total_line());
        lines.join("\n")
    }
}
