//! Helpers shared by the end-to-end tests: running the real binary, reading
//! its files, and a world large enough to take the parallel paths.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::Path;
use std::process::{Command, Output};

/// Runs the `dibsim` binary from the repository root.
pub fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dibsim"))
        .args(args)
        // The tests' own plugin fixtures are trusted; tests/plugins.rs checks
        // the refusal without it (`run_untrusted`).
        .env("DIBSIM_ALLOW_NATIVE_PLUGINS", "1")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run dibsim")
}

/// As [`run`], without allowing native plugins.
pub fn run_untrusted(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dibsim"))
        .args(args)
        .env_remove("DIBSIM_ALLOW_NATIVE_PLUGINS")
        .env("XDG_CONFIG_HOME", env!("CARGO_TARGET_TMPDIR"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run dibsim")
}

/// As [`run`], and the run must succeed.
pub fn ok(args: &[&str]) -> Output {
    let out = run(args);
    assert!(
        out.status.success(),
        "dibsim {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

pub fn text(p: &Path) -> String {
    String::from_utf8(read(p)).unwrap()
}

/// The bundled baseline (36 months) with its allies copied 24 times:
/// enough (>= PARALLEL_ALLIES) that `decide` prepares allies in parallel.
pub fn world_with_many_allies() -> dibsim_core::Scenario {
    let mut s = dibsim_experiments::loader::load("baseline", &["months=36".to_string()])
        .unwrap()
        .scenario;
    let allies = s.allies.clone();
    for k in 0..24 {
        for a in &allies {
            let mut b = a.clone();
            b.name = format!("{} {k}", a.name);
            b.import_budget /= 25.0;
            s.allies.push(b);
        }
    }
    assert!(s.allies.len() >= dibsim_core::world::PARALLEL_ALLIES);
    s
}
