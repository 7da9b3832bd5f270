//! `otelbench`: wires the command line to [`harness::cli::run`].

use std::process::ExitCode;

use harness::cli::InputError;

fn main() -> ExitCode {
    harness::logging::install();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("otelbench: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(harness::cli::run(std::env::args().collect())) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("otelbench: error: {e:#}");
            if e.downcast_ref::<InputError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
