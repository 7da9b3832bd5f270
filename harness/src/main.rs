//! `otelbench`: wires the command line to [`harness::cli::run`].

use std::process::ExitCode;

use harness::cli::UsageError;

#[tokio::main]
async fn main() -> ExitCode {
    match harness::cli::run(std::env::args().skip(1).collect()).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("otelbench: error: {e:#}");
            if e.downcast_ref::<UsageError>().is_some() {
                eprintln!("run `otelbench --help` for usage");
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
