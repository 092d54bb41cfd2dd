//! Operating commands and flags: HTTPS, backups and restores, migrations without surprises.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::anyhow;
use clap::Args;

use crate::service::backups::BackupSchedule;
use crate::service::input;
use crate::store::{DatabaseUrl, backup, copy, migrate};
use crate::tls::TlsSource;

/// HTTPS without a reverse proxy.
#[derive(Debug, Args)]
#[command(next_help_heading = "HTTPS")]
pub struct TlsArgs {
    /// Serve HTTPS with this PEM certificate chain (leaf first); re-read on SIGHUP and when
    /// the file changes, so a renewal needs no restart
    #[arg(
        long,
        env = "SCIMD_TLS_CERT",
        hide_env_values = true,
        requires = "tls_key",
        value_name = "FILE"
    )]
    pub tls_cert: Option<PathBuf>,

    /// The PEM private key (PKCS#8, PKCS#1 or SEC1) of --tls-cert
    #[arg(
        long,
        env = "SCIMD_TLS_KEY",
        hide_env_values = true,
        requires = "tls_cert",
        value_name = "FILE"
    )]
    pub tls_key: Option<PathBuf>,

    /// For trials: serve HTTPS with a self-signed certificate for HOST, made at each start
    /// (its SHA-256 fingerprint is logged); clients must be told to trust it
    #[arg(long, value_name = "HOST", conflicts_with = "tls_cert")]
    pub tls_self_signed: Option<String>,
}

impl TlsArgs {
    pub(super) fn source(self) -> Option<TlsSource> {
        match (self.tls_cert, self.tls_key, self.tls_self_signed) {
            (Some(cert), Some(key), _) => Some(TlsSource::Files { cert, key }),
            (_, _, Some(host)) => Some(TlsSource::SelfSigned { host }),
            _ => None,
        }
    }
}

/// Backups on a schedule while serving (SQLite).
#[derive(Debug, Args)]
#[command(next_help_heading = "Backups (SQLite)")]
pub struct ScheduleArgs {
    /// Back the database up this often (6h, 30m, 1d), as `scimd backup` does
    #[arg(
        long,
        env = "SCIMD_BACKUP_EVERY",
        hide_env_values = true,
        requires = "backup_dir",
        value_name = "DURATION"
    )]
    pub backup_every: Option<String>,

    /// Where scheduled backups go, named scimd-<UTC time>.db
    #[arg(
        long,
        env = "SCIMD_BACKUP_DIR",
        hide_env_values = true,
        requires = "backup_every",
        value_name = "DIR"
    )]
    pub backup_dir: Option<PathBuf>,

    /// How many of the newest scheduled backups to keep
    #[arg(
        long,
        env = "SCIMD_BACKUP_KEEP",
        hide_env_values = true,
        default_value_t = 28,
        value_parser = clap::value_parser!(u32).range(1..),
        value_name = "N"
    )]
    pub backup_keep: u32,
}

/// Shorter intervals would spend the server's disk on copies of copies.
const SHORTEST_BACKUP_INTERVAL: Duration = Duration::from_secs(60);

impl ScheduleArgs {
    pub(super) fn schedule(self) -> anyhow::Result<Option<BackupSchedule>> {
        let (Some(every), Some(dir)) = (self.backup_every, self.backup_dir) else {
            return Ok(None);
        };
        let every = input::parse_duration(&every)
            .map_err(|error| anyhow!("--backup-every: {error}"))?
            .to_std()
            .unwrap_or(Duration::MAX);
        anyhow::ensure!(
            every >= SHORTEST_BACKUP_INTERVAL,
            "--backup-every must be at least a minute"
        );
        Ok(Some(BackupSchedule {
            every,
            dir,
            keep: usize::try_from(self.backup_keep).unwrap_or(usize::MAX),
        }))
    }
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// List the migrations that would be applied, and apply nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The file to write; it must not exist yet
    #[arg(long, value_name = "FILE")]
    pub to: PathBuf,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A file made by `scimd backup` or `serve --backup-every`
    pub file: PathBuf,

    /// Replace an existing database (it is lost: back it up first)
    #[arg(long)]
    pub force: bool,
}

pub(super) fn run_migrate(
    url: &DatabaseUrl,
    connect_timeout: Duration,
    args: &MigrateArgs,
) -> anyhow::Result<()> {
    if !args.dry_run {
        let store = super::open(url, 1, connect_timeout, true)?;
        let applied = migrate::run_pending(&store)?;
        // The activity log's own file too (SQLite), so a server started next finds it ready.
        super::open_activity_log(&store, url, connect_timeout)?;
        if applied.is_empty() {
            println!("{url}: schema is up to date");
        } else {
            println!("{url}: applied {}", applied.join(", "));
        }
        return Ok(());
    }
    let pending = match url.sqlite_path() {
        // Opening would create it: a dry run creates nothing.
        Some(path) if !path.exists() => {
            println!("{url}: no database yet; `scimd migrate` would create it");
            migrate::known_versions(url.backend())?
        }
        _ => migrate::pending(&super::open(url, 1, connect_timeout, false)?)?,
    };
    if pending.is_empty() {
        println!("{url}: schema is up to date");
    } else {
        println!(
            "{url}: {} pending (dry run: nothing applied):",
            pending.len()
        );
        for version in pending {
            println!("  {version}");
        }
    }
    if let Some(log) = url.activity_log()
        && log.sqlite_path().is_some_and(|path| !path.exists())
    {
        println!("{log}: no activity log yet; `scimd migrate` would create it");
    }
    Ok(())
}

pub(super) fn run_backup(
    url: &DatabaseUrl,
    connect_timeout: Duration,
    args: &BackupArgs,
) -> anyhow::Result<()> {
    if url.sqlite_path().is_none() {
        return Err(backup::BackupError::Postgres.into());
    }
    // An existing database only: backing up a typo would make an empty file look like data.
    let store = super::open(url, 1, connect_timeout, false)?;
    let started = std::time::Instant::now();
    let size = backup::backup(&store, &args.to)?;
    println!(
        "{url}: backed up to {} ({size} bytes, {} ms)",
        args.to.display(),
        started.elapsed().as_millis()
    );
    Ok(())
}

pub(super) fn run_restore(url: &DatabaseUrl, args: &RestoreArgs) -> anyhow::Result<()> {
    backup::restore(url, &args.file, args.force)?;
    println!("{url}: restored from {}", args.file.display());
    Ok(())
}

#[derive(Debug, Args)]
pub struct CopyArgs {
    /// The database to copy from (sqlite://PATH or postgres://…); only read. Stop every
    /// scimd on it first: rows written during the copy fail the final check
    #[arg(long, value_name = "URL")]
    pub from: String,

    /// The database to copy into: migrated first, and empty (or holding a copy interrupted
    /// earlier, which is resumed)
    #[arg(long, value_name = "URL")]
    pub to: String,

    /// Rows per transaction
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub batch: u64,
}

pub(super) fn run_copy(connect_timeout: Duration, args: &CopyArgs) -> anyhow::Result<()> {
    let from = DatabaseUrl::parse(&args.from).map_err(|e| anyhow!("--from: {e}"))?;
    let to = DatabaseUrl::parse(&args.to).map_err(|e| anyhow!("--to: {e}"))?;
    anyhow::ensure!(from != to, "--from and --to name the same database");
    let source = super::open(&from, 2, connect_timeout, false)?;
    let source_log = crate::store::activity::existing_log(
        &source,
        &from,
        &crate::store::OpenOptions {
            connect_timeout,
            ..crate::store::OpenOptions::new(2)
        },
    )?;
    let target = super::open(&to, 2, connect_timeout, true)?;
    let mut display = CopyDisplay::new();
    let reports = copy::copy(&source, &source_log, &target, args.batch, &mut |p| {
        display.show(p)
    })?;
    display.finish();
    println!("{:<24} {:>10}  checksum (same in both)", "table", "rows");
    for report in &reports {
        println!(
            "{:<24} {:>10}  {}",
            report.table, report.rows, report.checksum
        );
    }
    let total: u64 = reports.iter().map(|r| r.rows).sum();
    println!(
        "copied {total} rows from {from} to {to} in {:.1} s; every table verified",
        display.started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Progress on stderr: one line redrawn in place on a terminal (rows/s and time left), a line
/// per table and every few seconds elsewhere (logs, CI).
struct CopyDisplay {
    started: std::time::Instant,
    last_line: std::time::Instant,
    terminal: bool,
    table: String,
}

impl CopyDisplay {
    fn new() -> Self {
        let now = std::time::Instant::now();
        CopyDisplay {
            started: now,
            last_line: now,
            terminal: std::io::IsTerminal::is_terminal(&std::io::stderr()),
            table: String::new(),
        }
    }

    fn show(&mut self, p: &copy::Progress<'_>) {
        let elapsed = self.started.elapsed().as_secs_f64();
        // Rows found copied by an earlier run took no time in this one.
        let copied_now = p.all_done.saturating_sub(p.resumed) as f64;
        let rate = if elapsed > 0.0 {
            copied_now / elapsed
        } else {
            0.0
        };
        let left = p.all_total.saturating_sub(p.all_done) as f64;
        let eta = if rate > 0.0 {
            format!("{:.0} s left", left / rate)
        } else {
            "time left unknown".to_owned()
        };
        let line = format!(
            "{}: {}/{} rows; all tables {}/{} ({:.0} rows/s, {eta})",
            p.table, p.table_done, p.table_total, p.all_done, p.all_total, rate
        );
        let new_table = self.table != p.table;
        if self.terminal {
            eprint!("\r\x1b[2K{line}");
        } else if new_table || self.last_line.elapsed() >= Duration::from_secs(5) {
            if new_table && p.resumed > 0 {
                eprintln!(
                    "resuming {}: {} rows were copied before",
                    p.table, p.resumed
                );
            }
            eprintln!("{line}");
            self.last_line = std::time::Instant::now();
        }
        if new_table {
            p.table.clone_into(&mut self.table);
        }
    }

    fn finish(&self) {
        if self.terminal {
            eprintln!();
        }
    }
}
