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
    #[error("{slot} behaviour `{behaviour}` failed for `{agent}` in month {month} ({}{}): {message}", calendar(*.month, *.start_year), if *.month < 0 { ", warm-up" } else { "" })]
    Behaviour {
        behaviour: String,
        slot: &'static str,
        agent: String,
        month: i32,
        /// The scenario's calendar year of month 0, for the message.
        start_year: i32,
        message: String,
    },
}

/// Month `t` of a run whose month 0 is January of `start_year`, as YYYY-MM.
fn calendar(t: i32, start_year: i32) -> String {
    format!(
        "{}-{:02}",
        start_year + t.div_euclid(12),
        t.rem_euclid(12) + 1
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_calendar_dates_also_before_month_0() {
        assert_eq!(calendar(0, 2020), "2020-01");
        assert_eq!(calendar(73, 2020), "2026-02");
        assert_eq!(calendar(-1, 2020), "2019-12");
        assert_eq!(calendar(-120, 2020), "2010-01");
    }
}
