//! What every target shares: a scratch folder of its own per process, and
//! the rule that an input may be refused but must never panic.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A folder for this process's files (libFuzzer runs one input at a time).
pub fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("dibsim-fuzz-{}", std::process::id()));
        // A folder left by an earlier process of the same id is not ours.
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("a scratch folder");
        // Nothing the user trusts reaches a fuzzed scenario's plugins.
        std::env::remove_var("DIBSIM_ALLOW_NATIVE_PLUGINS");
        std::env::set_var("XDG_CONFIG_HOME", &d);
        d
    })
}

/// The repository's root (fixtures are read from it).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Splits an input into a file's text and the lines after a `%%` line.
pub fn text_and_lines(data: &[u8]) -> (String, Vec<String>) {
    let text = String::from_utf8_lossy(data);
    match text.split_once("\n%%\n") {
        Some((file, rest)) => (
            file.to_string(),
            rest.lines().take(16).map(str::to_string).collect(),
        ),
        None => (text.into_owned(), Vec::new()),
    }
}

/// Copies the lever test world (tests/fixtures/levers/base.toml) into the
/// scratch folder as `base.toml`, once: the base of every fuzzed sweep.
pub fn lever_base() {
    let base = scratch().join("base.toml");
    if !base.exists() {
        std::fs::copy(root().join("tests/fixtures/levers/base.toml"), base)
            .expect("the lever test world");
    }
}
