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
        Command::Sandbox {
            listen,
            dir,
            until_idle,
            no_faults,
        } => {
            musharaka::telemetry::init_tracing(musharaka::config::LogFormat::Text, "warn");
            let opts = musharaka::sandbox::Options {
                listen,
                dir,
                until_idle,
                faults: !no_faults,
            };
            match runtime.block_on(musharaka::sandbox::run(opts)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("musharaka sandbox: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Command::TextLength { platform } => {
            let mut text = String::new();
            if let Err(e) = std::io::Read::read_to_string(&mut std::io::stdin(), &mut text) {
                eprintln!("musharaka: cannot read stdin: {e}");
                return ExitCode::from(2);
            }
            match musharaka::cli::text_length(&platform, &text) {
                Ok(n) => {
                    println!("{n}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("musharaka: {e}");
                    ExitCode::from(e.exit_code() as u8)
                }
            }
        }
        Command::Preview { id, conn } => {
            cli_result(runtime.block_on(musharaka::cli::preview(id, conn)))
        }
        Command::Outbox { action, conn } => {
            cli_result(runtime.block_on(musharaka::cli::outbox(action, conn)))
        }
        Command::Accounts { action, conn } => {
            cli_result(runtime.block_on(musharaka::cli::accounts(action, conn)))
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

fn cli_result(r: Result<(), musharaka::cli::CliError>) -> ExitCode {
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("musharaka: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
