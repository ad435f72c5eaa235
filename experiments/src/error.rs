//! What kind of failure an error chain is, for front ends that map errors
//! onto their own types (Python exceptions, exit codes).
//!
//! The engines keep `anyhow` chains so that every layer can add the file,
//! field or run it was working on; the typed errors of the core and the
//! plugin host sit at the root of those chains, and [`classify`] finds them.

use dibsim_core::{RunError, ScenarioError};
use dibsim_plugin_host::PluginError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A scenario file, `extends` chain or `--set` override is wrong.
    Scenario,
    /// A plugin would not load, refused its params, or failed during a run.
    Plugin,
    /// A sweep file, journal or output folder is wrong.
    Sweep,
    /// Anything else (files that cannot be read or written, ...).
    Other,
}

/// The kind of the first typed error in `err`'s chain, if it has one. A
/// front end knows the phase an untyped error came from (loading a scenario,
/// reading a sweep file) and names it by that.
pub fn classify(err: &anyhow::Error) -> Option<ErrorKind> {
    for cause in err.chain() {
        if cause.downcast_ref::<ScenarioError>().is_some() {
            return Some(ErrorKind::Scenario);
        }
        if cause.downcast_ref::<PluginError>().is_some() {
            return Some(ErrorKind::Plugin);
        }
        if let Some(RunError::Behaviour { .. }) = cause.downcast_ref::<RunError>() {
            // The built-in behaviours cannot fail; a behaviour that did is a plugin.
            return Some(ErrorKind::Plugin);
        }
    }
    None
}
