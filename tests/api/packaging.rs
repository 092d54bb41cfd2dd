//! The files under deploy/ (issue 16): the systemd unit passes `systemd-analyze`, and the
//! environment example names only variables scimd reads. The Containerfile cannot be built
//! here (no container engine); README says so.

use std::path::{Path, PathBuf};
use std::process::Command;

fn deploy(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(name)
}

/// The unit as installed, with the paths of this build: `verify` checks that ExecStart and
/// EnvironmentFile exist.
fn unit_for_this_build(dir: &Path) -> PathBuf {
    let unit = std::fs::read_to_string(deploy("scimd.service"))
        .unwrap()
        .replace("/usr/local/bin/scimd", env!("CARGO_BIN_EXE_scimd"))
        .replace(
            "/etc/scimd/scimd.env",
            &deploy("scimd.env").display().to_string(),
        );
    let path = dir.join("scimd.service");
    std::fs::write(&path, unit).unwrap();
    path
}

fn systemd_analyze(args: &[&str], unit: &Path) -> std::process::Output {
    Command::new("systemd-analyze")
        .args(args)
        .arg(unit)
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "systemd-analyze is needed to check deploy/scimd.service ({error}); \
                 install it: apt-get install systemd"
            )
        })
}

#[test]
fn the_systemd_unit_verifies_cleanly_and_is_hardened() {
    let dir = tempfile::tempdir().unwrap();
    let unit = unit_for_this_build(dir.path());
    // `verify` exits 0 on an unknown or misspelt setting and only warns: any output fails.
    let verified = systemd_analyze(&["verify"], &unit);
    let warnings = String::from_utf8_lossy(&verified.stderr);
    assert!(
        verified.status.success() && warnings.trim().is_empty(),
        "{warnings}"
    );
    // systemd's own exposure score, 0 (locked down) to 10, here in tenths: 1.4 when written.
    let security = systemd_analyze(&["security", "--offline=true", "--threshold=20"], &unit);
    assert!(
        security.status.success(),
        "{}{}",
        String::from_utf8_lossy(&security.stdout),
        String::from_utf8_lossy(&security.stderr)
    );
}

#[test]
fn the_environment_example_names_only_variables_scimd_reads() {
    let help = Command::new(env!("CARGO_BIN_EXE_scimd"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    // clap wraps lines, also inside `[env: NAME]`.
    let help = String::from_utf8_lossy(&help.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let example = std::fs::read_to_string(deploy("scimd.env")).unwrap();
    let mut names = Vec::new();
    for line in example.lines() {
        let setting = line.trim_start_matches('#');
        let Some((name, _)) = setting.split_once('=') else {
            continue;
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
            continue;
        }
        assert!(
            help.contains(&format!("[env: {name}")),
            "deploy/scimd.env sets {name}, which `scimd serve` does not read"
        );
        names.push(name.to_owned());
    }
    assert!(names.len() >= 8, "{names:?}");
}
