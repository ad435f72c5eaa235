//! The resume journal: a small sweep stopped just before its end (its
//! folder keeps the manifest and whole journals), its runs journal replaced
//! by the input, then resumed. The resume may refuse the journal (another
//! sweep's columns, a row out of place or not its run's) or run what is
//! missing; it may not panic, and a journal that is a cut of the genuine
//! one resumes to the uninterrupted sweep's bytes.
#![no_main]

#[path = "common.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use dibsim_experiments::sweep::{self, Options, Progress, Shard, Silent, Sweep};
use libfuzzer_sys::fuzz_target;

const SWEEP: &str = "name = \"fuzz-journal\"\nbase = \"base.toml\"\nreplicates = 2\nseed = 3\n[[axes]]\npath = \"policy.approval_time_factor\"\nvalues = [1.0, 0.5]\n[output]\nwindows = [[2026, 2027]]\n";

/// Writes every chunk, then stops the sweep before it finishes.
struct StopAtTheEnd;

impl Progress for StopAtTheEnd {
    fn advance(&mut self, done: u64, total: u64, _: u64, _: u64) -> bool {
        done < total
    }
}

fn options(out: &Path, resume: bool) -> Options {
    Options {
        out: out.to_path_buf(),
        resume,
        shard: Shard::ALL,
        format: sweep::Format::Csv,
        fork: true,
    }
}

/// The sweep, the uninterrupted runs.csv, and the stopped folder.
fn fixture() -> &'static (Sweep, Vec<u8>, PathBuf) {
    static F: OnceLock<(Sweep, Vec<u8>, PathBuf)> = OnceLock::new();
    F.get_or_init(|| {
        let dir = common::scratch();
        common::lever_base();
        std::fs::write(dir.join("journal-sweep.toml"), SWEEP).unwrap();
        let sw = Sweep::load(&dir.join("journal-sweep.toml")).expect("the fixture sweep loads");
        let whole = dir.join("whole");
        let _ = std::fs::remove_dir_all(&whole);
        sweep::execute(
            &sw,
            &options(&whole, false),
            &dibsim_experiments::prepare,
            &mut Silent,
        )
        .expect("the fixture sweep runs");
        let finished = std::fs::read(whole.join("runs.csv")).unwrap();
        let stopped = dir.join("stopped");
        let _ = std::fs::remove_dir_all(&stopped);
        let e = sweep::execute(
            &sw,
            &options(&stopped, false),
            &dibsim_experiments::prepare,
            &mut StopAtTheEnd,
        );
        assert!(e.is_err(), "the sweep stops before its end");
        (sw, finished, stopped)
    })
}

fuzz_target!(|data: &[u8]| {
    if data.len() > 64 << 10 {
        return;
    }
    let (sw, finished, stopped) = fixture();
    let out = common::scratch().join("resumed");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    for entry in std::fs::read_dir(stopped).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), out.join(entry.file_name())).unwrap();
    }
    let genuine = std::fs::read(out.join(sweep::exec::RUNS_JOURNAL)).unwrap();
    std::fs::write(out.join(sweep::exec::RUNS_JOURNAL), data).unwrap();
    let resumed = sweep::execute(
        sw,
        &options(&out, true),
        &dibsim_experiments::prepare,
        &mut Silent,
    );
    // A journal cut anywhere (a kill, a full disk) resumes to the
    // uninterrupted bytes; other journals may be refused, or their rows
    // carried when each names its own run, point, replicate and seed.
    if genuine.starts_with(data) {
        assert!(
            resumed.is_ok(),
            "a cut journal resumes: {:?}",
            resumed.err()
        );
        assert!(std::fs::read(out.join("runs.csv")).unwrap() == *finished);
    }
});
