//! The `dibsim` command line: parses arguments into plain structs, resolves
//! them into scenarios and settings, and hands those to the core. Errors from
//! the libraries get their context here and become one message and a
//! non-zero exit code; nothing below `main` prints a backtrace.

mod alloc_count;
mod cli;
mod commands;
mod plugin_cmd;
mod progress;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    quiet_broken_pipe();
    let args = cli::Cli::parse();
    match commands::dispatch(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Not eprintln!: with stderr closed it panics, and the exit
            // status would be a panic's 101 instead of the error's 1.
            use std::io::Write;
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "error: {e}");
            for cause in e.chain().skip(1) {
                let _ = writeln!(err, "  caused by: {cause}");
            }
            ExitCode::from(1)
        }
    }
}

/// `dibsim ... | head` closes stdout early; `println!` then panics. That is
/// the reader's choice, not an error: leave quietly, as Unix tools do.
fn quiet_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if text.contains("failed printing to stdout") && text.contains("Broken pipe") {
            std::process::exit(0);
        }
        // A message to a closed stderr: there is no one to tell, so stop with
        // an error's status (1), not a panic's (101) and a second message.
        if text.contains("failed printing to stderr") {
            std::process::exit(1);
        }
        default(info);
    }));
}
