//! `target-app web | worker | migrate`.

use std::process::ExitCode;

use target_app::Role;
use target_app::env::{EnvError, ProcessEnv};

const USAGE: &str = "usage: target-app <web|worker|migrate>

  web      serve the HTTP API (PORT, BIND)
  worker   consume jobs from the queue
  migrate  create the schema and exit (web and worker also do this at start-up)

Configuration is read from the environment: DATABASE_URL, QUEUE_URL, QUEUE_NAME, JWT_SECRET,
PASSWORD_HASH_MEMORY_KIB, PASSWORD_HASH_ITERATIONS and the standard OTEL_* variables
(see README.md).";

fn main() -> ExitCode {
    let arg = std::env::args().nth(1);
    let role = match arg.as_deref() {
        Some("web") => Some(Role::Web),
        Some("worker") => Some(Role::Worker),
        Some("migrate") => None,
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("target-app: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match role {
            Some(role) => target_app::run(role, &ProcessEnv).await,
            None => migrate().await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("target-app: error: {e:#}");
            if e.downcast_ref::<EnvError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

async fn migrate() -> anyhow::Result<()> {
    let config = target_app::config::Config::from_env(&ProcessEnv)?;
    let db = target_app::db::Db::connect(&config.database_url, 1).await?;
    target_app::db::schema::migrate(&db).await?;
    println!("schema is up to date");
    Ok(())
}
