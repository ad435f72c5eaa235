//! Sweep files: parsed, checked against their base (a small test world
//! copied beside them), and every run's job computed from its index (the
//! first, the last and one in between), as `dibsim sweep --dry-run` does.
#![no_main]

#[path = "common.rs"]
mod common;

use dibsim_experiments::sweep::Sweep;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() > 64 << 10 {
        return;
    }
    let dir = common::scratch();
    common::lever_base();
    let path = dir.join("sweep.toml");
    std::fs::write(&path, data).unwrap();
    let Ok(sw) = Sweep::load(&path) else {
        return;
    };
    let runs = sw.runs();
    for run in [0, runs / 2, runs.saturating_sub(1)] {
        if run >= runs {
            continue;
        }
        let (point, replicate) = sw.locate(run);
        assert_eq!(sw.run_index(point, replicate), run);
        let _ = sw.seed(point, replicate);
        let _ = sw.scenario(point);
        let _ = sw.rerun_command(point, replicate);
    }
    let _ = sw.fingerprint();
});
