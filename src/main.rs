//! The `musharaka` binary: parse arguments, set up logging, hand over to the library.

use clap::Parser;
use musharaka::cli::{Cli, Command};
use musharaka::config::Config;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("musharaka: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match cli.command {
        Command::Check { config } => match Config::load(&config) {
            Ok(c) => {
                println!(
                    "{}: ok ({} channel(s), {} source(s))",
                    config.display(),
                    c.channels.len(),
                    c.sources.len()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprint!("{e}");
                ExitCode::from(2)
            }
        },
        Command::Run { config } => {
            let cfg = match Config::load(&config) {
                Ok(c) => c,
                Err(e) => {
                    eprint!("musharaka: refusing to start: {e}");
                    return ExitCode::from(2);
                }
            };
            musharaka::telemetry::init_tracing(cfg.log.format, &cfg.log.filter);
            match runtime.block_on(musharaka::app::run(cfg)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!(error = %e, "musharaka stopped on an error");
                    eprintln!("musharaka: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Command::News { action, conn } => {
            match runtime.block_on(musharaka::cli::news(*action, conn)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("musharaka: {e}");
                    ExitCode::from(e.exit_code() as u8)
                }
            }
        }
    }
}
