use std::process::ExitCode;

use clap::Parser;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = scimd::cli::Cli::parse();
    scimd::cli::init_logging(&cli);
    let outcome = scimd::cli::run(cli);
    // Log lines are written by a thread of their own; what they said comes before the end.
    scimd::logging::flush();
    match outcome {
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
