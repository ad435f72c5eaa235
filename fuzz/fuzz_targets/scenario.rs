//! Scenario composition: a top file (the input up to a `%%` line) that may
//! `extends` a file beside it (which extends the bundled baseline), then
//! `--set` overrides (the lines after it), resolved, validated, compiled
//! and, if all that succeeds, run for two months. Every step may refuse the
//! input; none may panic.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() > 64 << 10 {
        return;
    }
    let dir = common::scratch();
    let (top, mut sets) = common::text_and_lines(data);
    std::fs::write(
        dir.join("mid.toml"),
        "extends = \"baseline\"\nname = \"mid\"\n[policy]\napproval_time_factor = 0.5\n",
    )
    .unwrap();
    let path = dir.join("top.toml");
    std::fs::write(&path, top).unwrap();
    if dibsim_experiments::loader::load(&path.display().to_string(), &sets).is_err() {
        return;
    }
    // A short run of whatever validated.
    sets.push("months=2".into());
    sets.push("warmup_months=1".into());
    let Ok(short) = dibsim_experiments::loader::load(&path.display().to_string(), &sets) else {
        return;
    };
    let Ok(prepared) = dibsim_experiments::prepare(&short.scenario) else {
        return;
    };
    let _ = dibsim_core::run::run_one(&prepared, 1);
});
