//! The `dibsim` command line: parses arguments into plain structs, resolves
//! them into scenarios and settings, and hands those to the core. Errors from
//! the libraries get their context here and become one message and a
//! non-zero exit code; nothing below `main` prints a backtrace.

use dibsim::{cli, commands};

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match commands::dispatch(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(1)
        }
    }
}
