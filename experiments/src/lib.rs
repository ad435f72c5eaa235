//! dibsim-experiments: everything dibsim does with runs, as a library that
//! the command line and the Python package both call.
//!
//! One job: turn scenario files and settings into runs of the core and the
//! files researchers keep (`timeseries.csv`, `compare.csv`, sweep tables,
//! calibration checks). Nothing here parses flags or draws a progress bar:
//! front ends pass plain settings in and display what comes back, so that
//! the CLI and Python give bit-identical results for the same seed.

pub mod analysis;
pub mod calibrate;
pub mod compare;
pub mod compare_files;
pub mod error;
pub mod loader;
pub mod output;
pub mod plugins;
pub mod run;
pub mod sensitivity;
pub mod sweep;
pub mod synth;

pub use error::{classify, ErrorKind};
pub use run::prepare;

/// The dibsim version written into every summary and manifest.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
