//! Everything the administration commands print on stdout goes through here: written, not
//! `println!`ed, so that a reader who stops early (`scimd token list | head -1`) ends the
//! command quietly instead of with a panic.

use std::fmt::Display;
use std::io::{self, Write};

use clap::Args;
use serde::Serialize;

/// `--json` and `--wide`, for every listing and `show`.
#[derive(Debug, Clone, Copy, Args)]
pub struct Format {
    /// Print JSON with the management API's field names, for scripts
    #[arg(long, conflicts_with = "wide")]
    pub json: bool,
    /// Print every column in full instead of fitting 80 columns
    #[arg(long)]
    pub wide: bool,
}

/// Writes `text` and a newline to stdout.
pub fn line(text: impl Display) -> anyhow::Result<()> {
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "{text}")?;
    stdout.flush()?;
    Ok(())
}

/// Writes a token's secret, shown this once. Unlike a listing, a reader that stops early has
/// not got what it wanted: the token exists and nobody holds it, which is an error naming the
/// token to revoke, never a quiet success.
pub fn secret(plain: &str, token_id: impl Display) -> anyhow::Result<()> {
    line(plain).map_err(|error| {
        anyhow::anyhow!(
            "token {token_id} was created but its secret could not be written to stdout \
             ({error}); revoke it with `scimd token revoke {token_id}` and create another"
        )
    })
}

/// Writes `value` as pretty JSON to stdout.
pub fn json(value: &impl Serialize) -> anyhow::Result<()> {
    line(serde_json::to_string_pretty(value)?)
}

/// A reader that closed stdout has all it wanted: that ends a command with success.
pub fn quiet_on_closed_pipe(result: anyhow::Result<()>) -> anyhow::Result<()> {
    match result {
        Err(error)
            if error
                .chain()
                .filter_map(|cause| cause.downcast_ref::<io::Error>())
                .any(|cause| cause.kind() == io::ErrorKind::BrokenPipe) =>
        {
            Ok(())
        }
        other => other,
    }
}
