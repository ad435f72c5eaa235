//! Resume under repeated kills: `dibsim sweep` (the real binary) is killed
//! with SIGKILL 20 times, at moments drawn from a seeded generator, resumed
//! with `--resume` after each kill, then finished. Its files must be
//! byte-identical to an uninterrupted sweep's, with every run exactly once.
//!
//! Why this exists beside the single kill of tests/sweep.rs: that kill lands
//! where the test waits for it (after 100 rows, at a chunk boundary). A
//! resume that works from one clean boundary can still lose or repeat runs
//! when a kill tears a write, lands during a resume's own start (truncating
//! the journals back to their whole rows), or while the finished files are
//! being written; and each resume here starts from the wreckage the previous
//! kill left, not from a first sweep's. After every kill the journals are
//! also checked for what `--resume` relies on: the runs journal's whole rows
//! are runs 0, 1, 2, ... in order, and every one of them already has its
//! time series rows on disk.
//!
//! What each kill waits for is reproducible from `SEED`; what the process is
//! doing at that moment depends on the machine's speed. So the test counts
//! the kills that interrupted a sweep in progress and fails when fewer than
//! `MIN_INTERRUPTED` did: kills that all land after the end test nothing.

mod common;
use common::{ok, read, text};

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// 8192 runs, time series kept: 128 journal chunks (see the file).
const FIXTURE: &str = "tests/fixtures/sweeps/kills.toml";
const RUNS: usize = 8192;
/// Runs per journal chunk with time series (`chunk_runs` in
/// experiments/src/sweep/exec.rs); only scales the waits below.
const CHUNK_RUNS: usize = 64;
const KILLS: usize = 20;
/// The last kills wait for the journal to be whole, then up to 400 ms: they
/// land while the finished files are written (about half a second for this
/// fixture), or while a resume scans the journals before that.
const FINISHING: usize = 5;
/// At least this many kills must land while a sweep is unfinished.
const MIN_INTERRUPTED: usize = 15;
const SEED: u64 = 0x1257_4b11;
/// The signal `Child::kill` sends on Unix.
const SIGKILL: i32 = 9;

/// SplitMix64: a few lines, and the same numbers on every platform.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in [0, n) (the modulo bias is immaterial here).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What a kill waits for after the process starts.
#[derive(Debug, Clone, Copy)]
enum Moment {
    /// The runs journal has grown by this many bytes since the start
    /// (it may first shrink, when a resume drops a torn row).
    Grown(u64),
    /// This long after the start: may land while the process starts up,
    /// scans the journals, or between chunks.
    After(Duration),
    /// This long after the runs journal holds every run.
    Finishing(Duration),
}

fn len(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

/// The run index of each whole (newline-terminated) row after the header.
fn whole_rows(text: &str) -> Vec<u64> {
    let body = match text.split_once('\n') {
        Some((_, body)) => body,
        None => return Vec::new(),
    };
    let whole = match body.rfind('\n') {
        Some(i) => &body[..=i],
        None => "",
    };
    whole
        .lines()
        .map(|l| {
            l.split(',')
                .next()
                .and_then(|r| r.parse().ok())
                .unwrap_or_else(|| panic!("a journal row without a run index: {l:?}"))
        })
        .collect()
}

/// What `--resume` relies on, checked on the journals a kill left behind.
fn check_journals(dir: &Path, header: &str, series_rows_per_run: usize, kill: usize) {
    let runs_journal = dir.join("runs.partial.csv");
    let Ok(runs) = std::fs::read_to_string(&runs_journal) else {
        return; // not started yet, or already finished
    };
    // A torn header may only be a prefix of the real one.
    let first = runs.split_inclusive('\n').next().unwrap_or("");
    assert!(
        header.starts_with(first),
        "kill {kill}: the runs journal starts with {first:?}"
    );
    let done = whole_rows(&runs);
    for (i, r) in done.iter().enumerate() {
        assert_eq!(
            *r, i as u64,
            "kill {kill}: the runs journal's row {i} is run {r}: not a contiguous prefix"
        );
    }
    // Every recorded run's series rows are already on disk (the series is
    // written, and synced, before the rows that need it).
    let series = std::fs::read_to_string(dir.join("timeseries.partial.csv")).unwrap_or_default();
    let mut per_run = vec![0usize; RUNS];
    for r in whole_rows(&series) {
        per_run[r as usize] += 1;
    }
    for (r, &n) in per_run.iter().enumerate().take(done.len()) {
        assert_eq!(
            n, series_rows_per_run,
            "kill {kill}: run {r} is in the runs journal with {n} of its {series_rows_per_run} series rows"
        );
    }
}

#[test]
fn a_sweep_killed_twenty_times_resumes_to_the_uninterrupted_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let full = dir.path().join("full");
    ok(&[
        "sweep",
        FIXTURE,
        "--out",
        &s(&full),
        "--format",
        "csv",
        "-q",
    ]);
    let reference = text(&full.join("runs.csv"));
    let header = format!("{}\n", reference.lines().next().unwrap());
    assert_eq!(reference.lines().count(), RUNS + 1);
    let series_lines = text(&full.join("timeseries.csv")).lines().count() - 1;
    assert_eq!(series_lines % RUNS, 0);
    let series_rows_per_run = series_lines / RUNS;
    // The journal's rows are the runs file's, byte for byte: a chunk is
    // this many bytes of it.
    let chunk_bytes = ((reference.len() - header.len()) * CHUNK_RUNS / RUNS) as u64;
    let whole = reference.len() as u64;

    let out = dir.path().join("killed");
    let journal = out.join("runs.partial.csv");
    let mut rng = SplitMix(SEED);
    let mut interrupted = 0;
    let mut log = Vec::new();
    for kill in 0..KILLS {
        // Of the kills before the last FINISHING, three in four wait for 1
        // to 3 chunks of growth (mid-sweep, at or near a chunk's write), the
        // rest for up to 100 ms (anywhere).
        let moment = if kill >= KILLS - FINISHING {
            Moment::Finishing(Duration::from_millis(rng.below(401)))
        } else if rng.below(4) < 3 {
            Moment::Grown(1 + rng.below(3 * chunk_bytes))
        } else {
            Moment::After(Duration::from_millis(rng.below(101)))
        };
        let before = len(&journal);
        let mut args = vec![
            "sweep".to_string(),
            FIXTURE.into(),
            "--out".into(),
            s(&out),
            "--format".into(),
            "csv".into(),
            "-q".into(),
        ];
        if kill > 0 {
            args.push("--resume".into());
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_dibsim"))
            .args(&args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let t0 = Instant::now();
        let mut whole_at = None;
        loop {
            if child.try_wait().unwrap().is_some() {
                break; // it finished first
            }
            let due = match moment {
                Moment::Grown(g) => len(&journal) >= before + g,
                Moment::After(d) => t0.elapsed() >= d,
                Moment::Finishing(d) => {
                    if whole_at.is_none() && len(&journal) >= whole {
                        whole_at = Some(Instant::now());
                    }
                    whole_at.is_some_and(|w| w.elapsed() >= d)
                }
            };
            // The cap only keeps a hung process from hanging the test; it
            // asserts nothing about speed.
            if due || t0.elapsed() > Duration::from_secs(120) {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        child.kill().unwrap(); // SIGKILL (harmless if it has exited)
        let status = child.wait().unwrap();
        let killed = status.signal() == Some(SIGKILL);
        let unfinished = journal.exists() || !out.join("runs.csv").exists();
        if killed && unfinished {
            interrupted += 1;
        } else if !killed {
            assert!(
                status.success(),
                "kill {kill}: the sweep failed: {status:?}"
            );
        }
        let done = whole_rows(&std::fs::read_to_string(&journal).unwrap_or_default()).len();
        let mut files: Vec<String> = std::fs::read_dir(&out)
            .map(|d| {
                d.map(|e| e.unwrap().file_name().to_string_lossy().to_string())
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        log.push(format!(
            "kill {kill}: {moment:?}: {} with {done} runs in the journal; {}",
            match (killed && unfinished, done == RUNS) {
                (false, _) => "after the end",
                (true, false) => "interrupted mid-sweep",
                (true, true) => "interrupted while finishing",
            },
            files.join(" ")
        ));
        check_journals(&out, &header, series_rows_per_run, kill);
    }
    let log = log.join("\n");
    ok(&[
        "sweep",
        FIXTURE,
        "--out",
        &s(&out),
        "--format",
        "csv",
        "--resume",
        "-q",
    ]);
    for f in ["runs.csv", "points.csv", "timeseries.csv", "orders.csv"] {
        assert!(
            read(&full.join(f)) == read(&out.join(f)),
            "{f} differs from the uninterrupted sweep's\n{log}"
        );
    }
    // Exactly the finished files are left: no journal, no temporary file.
    let mut left: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            "manifest.json",
            "orders.csv",
            "points.csv",
            "runs.csv",
            "timeseries.csv"
        ],
        "{log}"
    );
    // No run lost or duplicated: each run id once, and all of them.
    let mut seen = vec![0u32; RUNS];
    for l in text(&out.join("runs.csv")).lines().skip(1) {
        let run: usize = l.split(',').next().unwrap().parse().unwrap();
        seen[run] += 1;
    }
    let wrong: Vec<(usize, u32)> = seen
        .iter()
        .enumerate()
        .filter(|(_, &n)| n != 1)
        .map(|(r, &n)| (r, n))
        .collect();
    assert!(wrong.is_empty(), "runs not seen exactly once: {wrong:?}");
    assert!(
        interrupted >= MIN_INTERRUPTED,
        "only {interrupted} of {KILLS} kills interrupted a sweep in progress:\n{log}"
    );
    eprintln!("{interrupted} of {KILLS} kills interrupted a sweep\n{log}");
}
