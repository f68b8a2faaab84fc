//! Development entry point: only `translate` lives here on this branch; the full CLI folds
//! `ncpeh::translate::cli::TranslateArgs` in as `ncpeh translate ...`.
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "ncpeh", version)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Convert between Norwegian documents and the eHDSI pivot CDA
    Translate(ncpeh::translate::cli::TranslateArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Translate(a) => match ncpeh::translate::cli::run(a) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                std::process::ExitCode::FAILURE
            }
        },
    }
}
