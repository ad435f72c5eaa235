//! Merge inputs: two shard folders of a small sweep, the second's manifest
//! replaced by the input. Merge must refuse a manifest that does not match
//! (or parse) with an error, never panic, and when it merges, give the
//! unsharded sweep's bytes.
#![no_main]

#[path = "common.rs"]
mod common;

use dibsim_experiments::sweep::{self, Options, Shard, Silent, Sweep};
use libfuzzer_sys::fuzz_target;

const SWEEP: &str = "name = \"fuzz-merge\"\nbase = \"base.toml\"\nreplicates = 2\nseed = 5\n[[axes]]\npath = \"policy.approval_time_factor\"\nvalues = [1.0, 0.5]\n[output]\nwindows = [[2026, 2027]]\n";

fuzz_target!(|data: &[u8]| {
    if data.len() > 64 << 10 {
        return;
    }
    let dir = common::scratch();
    let shards = dir.join("shards");
    let whole = dir.join("whole");
    if !shards.join("1").join("manifest.json.orig").exists() {
        let _ = std::fs::remove_dir_all(&shards);
        common::lever_base();
        std::fs::write(dir.join("merge-sweep.toml"), SWEEP).unwrap();
        let sw = Sweep::load(&dir.join("merge-sweep.toml")).expect("the fixture sweep loads");
        let run = |out: std::path::PathBuf, shard: Shard| {
            sweep::execute(
                &sw,
                &Options {
                    out,
                    resume: false,
                    shard,
                    format: sweep::Format::Csv,
                    fork: true,
                },
                &dibsim_experiments::prepare,
                &mut Silent,
            )
            .expect("the fixture sweep runs");
        };
        run(whole.clone(), Shard::ALL);
        for i in 0..2 {
            run(
                shards.join(i.to_string()),
                Shard::parse(&format!("{i}/2")).unwrap(),
            );
        }
        std::fs::copy(
            shards.join("1/manifest.json"),
            shards.join("1/manifest.json.orig"),
        )
        .unwrap();
    }
    std::fs::write(shards.join("1/manifest.json"), data).unwrap();
    let merged = dir.join("merged");
    let _ = std::fs::remove_dir_all(&merged);
    if sweep::merge(&[shards.join("0"), shards.join("1")], &merged).is_ok() {
        assert!(
            std::fs::read(merged.join("runs.csv")).unwrap()
                == std::fs::read(whole.join("runs.csv")).unwrap()
        );
    }
});
