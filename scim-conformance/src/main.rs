//! `scim-conformance`: runs the conformance cases against a SCIM server and reports.

use std::process::ExitCode;

use clap::{Parser, ValueEnum};

use scim_conformance::{Config, Profile, run};

/// Which cases to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ProfileArg {
    Okta,
    Entra,
    Rfc,
    Onelogin,
    Ping,
    Jumpcloud,
    Authentik,
    Keycloak,
    Github,
    All,
}

/// Runs SCIM 2.0 conformance cases (Okta SPEC test, Microsoft Entra, RFC 7643/7644, and the
/// requests of OneLogin, Ping, JumpCloud, authentik, Keycloak and GitHub-style clients) against a
/// server. Every resource it creates is named `scimconf-<random>-…` and deleted afterwards.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// The SCIM base URL, e.g. http://127.0.0.1:8080/scim/v2
    #[arg(long, env = "SCIM_BASE_URL")]
    base_url: String,
    /// The bearer token
    #[arg(long, env = "SCIM_TOKEN", hide_env_values = true)]
    token: String,
    /// Which cases to run
    #[arg(long, value_enum, default_value = "all")]
    profile: ProfileArg,
    /// Also write a machine-readable report to this file
    #[arg(long, value_name = "REPORT")]
    json: Option<std::path::PathBuf>,
    /// Run PATCH, Bulk, sort, ETag and cursor cases even when ServiceProviderConfig says
    /// the feature is unsupported
    #[arg(long)]
    force_optional: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let profiles = match cli.profile {
        ProfileArg::Okta => vec![Profile::Okta],
        ProfileArg::Entra => vec![Profile::Entra],
        ProfileArg::Rfc => vec![Profile::Rfc],
        ProfileArg::Onelogin => vec![Profile::Onelogin],
        ProfileArg::Ping => vec![Profile::Ping],
        ProfileArg::Jumpcloud => vec![Profile::Jumpcloud],
        ProfileArg::Authentik => vec![Profile::Authentik],
        ProfileArg::Keycloak => vec![Profile::Keycloak],
        ProfileArg::Github => vec![Profile::Github],
        ProfileArg::All => Profile::ALL.to_vec(),
    };
    let config = Config {
        base_url: cli.base_url,
        token: cli.token,
        profiles,
        force_optional: cli.force_optional,
    };
    let report = match run(&config) {
        Ok(report) => report,
        Err(message) => {
            eprintln!("scim-conformance: {message}");
            return ExitCode::from(2);
        }
    };
    if let Some(path) = &cli.json {
        let written = serde_json::to_string_pretty(&report)
            .map_err(|e| e.to_string())
            .and_then(|json| std::fs::write(path, json + "\n").map_err(|e| e.to_string()));
        if let Err(message) = written {
            eprintln!(
                "scim-conformance: cannot write {}: {message}",
                path.display()
            );
            return ExitCode::from(2);
        }
    }
    println!("{}", report.render_text());
    if report.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
