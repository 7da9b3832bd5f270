//! Command-line parsing and dispatch. Exit codes: 0 success, 1 failure, 2 bad input.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use crate::sink::{Sink, SinkOptions};

const USAGE: &str = "usage: otelbench <command>

commands:
  sink [--grpc ADDR] [--http ADDR]   run the OTLP receiver on its own and print what arrives
                                     (defaults 127.0.0.1:4317 and 127.0.0.1:4318)";

/// A usage error: printed with the usage text, exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(String);

/// Runs the command line `args` (without the program name).
pub async fn run(args: Vec<String>) -> anyhow::Result<ExitCode> {
    let mut args = args.into_iter();
    match args.next().as_deref() {
        Some("sink") => sink(args.collect()).await,
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        Some(other) => Err(UsageError(format!(
            "unknown command {other:?}; the commands are listed below"
        ))
        .into()),
        None => Err(UsageError("no command given".into()).into()),
    }
}

fn parse_addr(flag: &str, value: Option<String>) -> Result<SocketAddr, UsageError> {
    let value = value
        .ok_or_else(|| UsageError(format!("{flag} needs an address such as 127.0.0.1:4317")))?;
    value.parse().map_err(|_| {
        UsageError(format!(
            "{flag} {value:?} is not an address; use IP:PORT such as 127.0.0.1:4317"
        ))
    })
}

async fn sink(args: Vec<String>) -> anyhow::Result<ExitCode> {
    let mut options = SinkOptions {
        grpc: SocketAddr::from(([127, 0, 0, 1], 4317)),
        http: SocketAddr::from(([127, 0, 0, 1], 4318)),
        keep_spans: false,
    };
    let mut it = args.into_iter();
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--grpc" => options.grpc = parse_addr("--grpc", it.next())?,
            "--http" => options.http = parse_addr("--http", it.next())?,
            other => return Err(UsageError(format!("unknown option {other:?} for sink")).into()),
        }
    }
    let sink = Sink::start(options).await?;
    println!(
        "otelbench sink: OTLP gRPC on {}, HTTP on {} (Ctrl-C to stop)",
        sink.grpc_endpoint(),
        sink.http_endpoint()
    );
    let mut last = sink.stats().counts();
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            () = tokio::time::sleep(Duration::from_secs(1)) => {
                let now = sink.stats().counts();
                if now != last {
                    println!("{}", serde_json::to_string(&now)?);
                    last = now;
                }
            }
        }
    }
    let counts = sink.stats().counts();
    sink.stop().await?;
    println!("{}", serde_json::to_string(&counts)?);
    Ok(ExitCode::SUCCESS)
}
