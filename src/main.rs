#![forbid(unsafe_code)]
use std::process::ExitCode;

use authql::config::{Cli, Command, DatabaseSettings, Settings};
use authql::startup::{self, Application};
use authql::{graphql, operator, telemetry};

fn main() -> ExitCode {
    let cli = Cli::parse_or_exit();
    telemetry::init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("authql: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line: the error and its causes, never a backtrace.
            eprintln!("authql: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Schema => {
            print!("{}", graphql::sdl());
            Ok(())
        }
        Command::Migrate { action } => {
            startup::migrate(&DatabaseSettings::from_args(&cli.settings), action).await
        }
        Command::Keys { action } => {
            let settings = Settings::from_args(cli.settings)?;
            operator::keys(&settings, action).await
        }
        Command::User { action } => {
            let settings = Settings::from_args(cli.settings)?;
            operator::users(&settings, action).await
        }
        Command::Mail { action } => {
            let settings = Settings::from_args(cli.settings)?;
            operator::mail(&settings, action).await
        }
        Command::Serve => {
            let settings = Settings::from_args(cli.settings)?;
            let listen = settings.listen;
            let development = settings.is_development();
            let app = Application::build(settings).await?;
            tracing::info!(%listen, port = app.port(), development, "authql is listening; GraphQL at /graphql");
            app.run_until_stopped().await?;
            Ok(())
        }
    }
}
