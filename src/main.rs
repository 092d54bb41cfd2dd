use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = scimd::cli::Cli::parse();
    scimd::cli::init_logging(&cli);
    match scimd::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line, whatever the cause: libpq, for one, writes multi-line messages.
            let message = format!("{error:#}");
            let message: Vec<&str> = message.split_whitespace().collect();
            eprintln!("scimd: error: {}", message.join(" "));
            ExitCode::FAILURE
        }
    }
}
