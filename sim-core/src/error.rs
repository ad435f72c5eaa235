//! Typed errors of the core. Each carries what a user needs to find the
//! problem: the file, the field path, the value.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq)]
pub enum ScenarioError {
    /// TOML syntax or a field of the wrong type or name; the parser's message
    /// carries the line and column.
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    /// A resolved value that breaks a constraint.
    #[error("{file}: field `{field}`: {message}")]
    Invalid {
        file: String,
        field: String,
        message: String,
    },
    /// A `--set` or sweep path that names no field.
    #[error("unknown field path `{path}`: {message}")]
    UnknownPath { path: String, message: String },
}

impl ScenarioError {
    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ScenarioError::Invalid {
            file: String::new(),
            field: field.into(),
            message: message.into(),
        }
    }

    /// Attaches the scenario file a validation error belongs to.
    pub fn in_file(self, name: &str) -> Self {
        match self {
            ScenarioError::Invalid { field, message, .. } => ScenarioError::Invalid {
                file: name.to_string(),
                field,
                message,
            },
            other => other,
        }
    }
}

/// Why a run stopped.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum RunError {
    #[error("{0}")]
    Setup(String),
    #[error("{slot} behaviour `{behaviour}` failed for `{agent}` in month {month}: {message}")]
    Behaviour {
        behaviour: String,
        slot: &'static str,
        agent: String,
        month: i32,
        message: String,
    },
}
