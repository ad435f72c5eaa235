//! The `dibsim` command-line package as a library: scenario loading, the
//! subcommands and output writers, so that end-to-end tests and benchmarks
//! can drive exactly what the binary does.

pub mod calibrate;
pub mod cli;
pub mod commands;
pub mod loader;
pub mod output;
pub mod plugins;
pub mod report;
pub mod sweep;
