//! End-to-end tests of the `dibsim` binary's handling of bad input: every
//! scenario error must end the process with a non-zero exit code and one
//! message on stderr that names the file, the field and (for parse errors)
//! the line, without a panic or a backtrace.
//!
//! Each case is one call of [`check`] with the arguments and the substrings
//! stderr must contain. Fixtures live in `tests/fixtures/scenarios/`; the
//! binary runs with the package root as its working directory, so fixture
//! paths (and the labels the binary prints for them) are relative to it.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_dibsim");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const FIX: &str = "tests/fixtures/scenarios";
const TINY: &str = "tests/fixtures/scenarios/tiny.toml";

/// The bundled scenarios `dibsim scenarios` must list.
const BUNDLED: [&str; 8] = [
    "baseline",
    "faster-approvals",
    "new-factories",
    "export-by-design",
    "low-tier",
    "export-reserve",
    "priority-partners",
    "strategy-2026",
];

/// No case may take longer than this; a hang is a failure, not a stuck test run.
const TIMEOUT: Duration = Duration::from_secs(120);

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn fixture(name: &str) -> String {
    format!("{FIX}/{name}")
}

/// Runs the binary from the package root with stdout and stderr in temporary
/// files (so a large output cannot block on a pipe), killing it after TIMEOUT.
/// RUST_BACKTRACE=1 makes a panic, should one happen, print a backtrace that
/// the checks below would see.
fn dibsim(args: &[&str]) -> Out {
    let mut out_f = tempfile::tempfile().expect("temp file");
    let mut err_f = tempfile::tempfile().expect("temp file");
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(ROOT)
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::from(out_f.try_clone().unwrap()))
        .stderr(Stdio::from(err_f.try_clone().unwrap()))
        .spawn()
        .expect("cannot start dibsim");
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("dibsim {args:?} did not finish within {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let read = |f: &mut std::fs::File| {
        let mut s = String::new();
        f.seek(SeekFrom::Start(0)).unwrap();
        f.read_to_string(&mut s).expect("output is UTF-8");
        s
    };
    Out {
        code: status.code(),
        stdout: read(&mut out_f),
        stderr: read(&mut err_f),
    }
}

/// Runs `dibsim args`, expecting failure: a non-zero exit code (not a
/// signal), stderr starting with `error: ` and containing every one of
/// `expected`, and no sign of a panic or a backtrace.
fn check(args: &[&str], expected: &[&str]) {
    let out = dibsim(args);
    let ctx = format!(
        "dibsim {}\n--- exit code: {:?}\n--- stderr:\n{}\n--- stdout:\n{}",
        args.join(" "),
        out.code,
        out.stderr,
        out.stdout
    );
    assert!(
        matches!(out.code, Some(c) if c != 0),
        "expected a non-zero exit code\n{ctx}"
    );
    assert!(
        out.stderr.starts_with("error: "),
        "stderr should start with `error: `\n{ctx}"
    );
    let lower = out.stderr.to_lowercase();
    assert!(!lower.contains("panicked"), "stderr shows a panic\n{ctx}");
    assert!(
        !lower.contains("backtrace"),
        "stderr shows a backtrace\n{ctx}"
    );
    for want in expected {
        assert!(out.stderr.contains(want), "stderr lacks {want:?}\n{ctx}");
    }
}

/// Runs `dibsim args`, expecting success; returns stdout.
fn ok(args: &[&str]) -> String {
    let out = dibsim(args);
    assert_eq!(
        out.code,
        Some(0),
        "dibsim {} failed\n--- stderr:\n{}\n--- stdout:\n{}",
        args.join(" "),
        out.stderr,
        out.stdout
    );
    out.stdout
}

/// `validate` of one fixture must fail with these substrings, the fixture's
/// path always among them.
fn check_fixture(name: &str, expected: &[&str]) {
    let path = fixture(name);
    let mut want = vec![path.as_str()];
    want.extend_from_slice(expected);
    check(&["validate", &path], &want);
}

// ------------------------------------------------------------ valid input

#[test]
fn tiny_validates() {
    let out = ok(&["validate", TINY]);
    assert!(
        out.contains(&format!(
            "{TINY}: ok (2 categories, 2 exporters, 2 suppliers, 2 allies"
        )),
        "{out}"
    );
}

#[test]
fn tiny_runs_24_months() {
    let out = ok(&["run", TINY, "--months", "24"]);
    assert!(out.contains("tiny (seed 1)"), "{out}");
    assert!(out.contains("Alpha") && out.contains("Beta"), "{out}");
}

#[test]
fn validate_print_is_json_with_every_approval_mean() {
    let out = ok(&["validate", "baseline", "--print"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("--print output is JSON");
    let exporters = v["exporters"].as_array().expect("`exporters` is an array");
    let in_file = std::fs::read_to_string(Path::new(ROOT).join("scenarios/baseline.toml"))
        .unwrap()
        .lines()
        .filter(|l| l.trim() == "[[exporters]]")
        .count();
    assert!(in_file > 1);
    assert_eq!(
        exporters.len(),
        in_file,
        "every exporter of baseline.toml is printed"
    );
    for e in exporters {
        let name = e["name"].as_str().expect("exporter has a name");
        assert!(!name.is_empty());
        let m = e
            .get("approval_mean_months")
            .unwrap_or_else(|| panic!("exporter {name} has no approval_mean_months"));
        assert!(m.is_number(), "{name}: approval_mean_months = {m}");
    }
    assert_eq!(v["name"], "baseline");
    assert!(
        v.get("extends").is_none(),
        "a resolved scenario has no `extends`"
    );
}

#[test]
fn scenarios_lists_all_bundled() {
    let out = ok(&["scenarios"]);
    for name in BUNDLED {
        assert!(
            out.lines()
                .any(|l| l.split_whitespace().next() == Some(name)),
            "`dibsim scenarios` does not list {name}:\n{out}"
        );
    }
    assert!(
        !out.contains("(invalid"),
        "a bundled scenario is invalid:\n{out}"
    );
    // Every scenario file in scenarios/ except the calibration targets is bundled.
    for entry in std::fs::read_dir(Path::new(ROOT).join("scenarios")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|x| x == "toml") {
            let stem = p.file_stem().unwrap().to_str().unwrap();
            if stem != "targets" {
                assert!(
                    BUNDLED.contains(&stem),
                    "scenarios/{stem}.toml is not bundled"
                );
            }
        }
    }
}

// ------------------------------------------------------------ parse errors

#[test]
fn bad_toml_syntax() {
    check_fixture("bad_syntax.toml", &["line 4", "months ="]);
}

#[test]
fn bad_syntax_in_extended_file_names_that_file() {
    check(
        &["validate", &fixture("extends_bad_parent.toml")],
        &[&fixture("bad_syntax.toml"), "line 4", "months ="],
    );
}

#[test]
fn unknown_field_top_level() {
    check_fixture(
        "unknown_field_top.toml",
        &["line 4", "unknown field `warmup_month`"],
    );
}

#[test]
fn unknown_field_in_allies() {
    check_fixture(
        "unknown_field_ally.toml",
        &["line 7", "unknown field `favourite_colour`"],
    );
}

#[test]
fn unknown_field_in_model() {
    check_fixture(
        "unknown_field_model.toml",
        &["line 5", "unknown field `cancel_probability`"],
    );
}

#[test]
fn wrong_type_top_level() {
    check_fixture(
        "wrong_type_top.toml",
        &["line 3", "months", "invalid type: string"],
    );
}

#[test]
fn wrong_type_in_allies() {
    check_fixture(
        "wrong_type_nested.toml",
        &["line 6", "import_budget", "invalid type: string"],
    );
}

// ------------------------------------------------------------ invalid values

#[test]
fn negative_capacity() {
    check_fixture(
        "negative_capacity.toml",
        &["field `suppliers.AlphaWorks.lines[0].capacity`", "negative"],
    );
}

#[test]
fn deny_base_above_one() {
    check_fixture(
        "deny_base_high.toml",
        &[
            "field `exporters.France.deny_base`",
            "1.5 is outside [0, 1]",
        ],
    );
}

#[test]
fn cancel_prob_below_zero() {
    check_fixture(
        "cancel_prob_negative.toml",
        &["field `model.cancel_prob`", "outside [0, 1]"],
    );
}

#[test]
fn mix_not_summing_to_one() {
    check_fixture("mix_sum.toml", &["field `allies.Gondor.mix`", "sum to 0.9"]);
}

#[test]
fn unknown_exporter_in_alignment() {
    check_fixture(
        "unknown_exporter_alignment.toml",
        &[
            "field `allies.Gondor.alignment`",
            "unknown exporter `Atlantis`",
        ],
    );
}

#[test]
fn unknown_exporter_of_supplier() {
    check_fixture(
        "unknown_exporter_supplier.toml",
        &[
            "field `suppliers.BetaIndustry.exporter`",
            "unknown exporter `Gamma`",
        ],
    );
}

#[test]
fn unknown_category_of_line() {
    check_fixture(
        "unknown_category_line.toml",
        &[
            "field `suppliers.AlphaWorks.lines[0].category`",
            "unknown category `boats`",
        ],
    );
}

#[test]
fn unknown_category_in_mix() {
    check_fixture(
        "unknown_category_mix.toml",
        &["field `allies.Rohan.mix`", "unknown category `boats`"],
    );
}

// ------------------------------------------------------------ extends

#[test]
fn missing_extends_file() {
    check_fixture(
        "missing_extends.toml",
        &["extends", "no-such-parent.toml", "no such scenario file"],
    );
}

#[test]
fn extends_cycle() {
    check_fixture(
        "cycle_a.toml",
        &[
            "`extends` cycle",
            &fixture("cycle_b.toml"),
            "cycle_b.toml -> ",
        ],
    );
}

#[test]
fn extends_itself() {
    check_fixture("cycle_self.toml", &["`extends` cycle"]);
}

/// The same cycle as `extends_cycle`, with the paths spelt differently
/// (`../scenarios/x.toml`, `./x.toml`): still a cycle.
#[test]
fn extends_cycle_through_aliased_paths() {
    check_fixture(
        "cycle_alias_a.toml",
        &["`extends` cycle", "cycle_alias_b.toml"],
    );
}

// ------------------------------------------------------------ --set

#[test]
fn set_unknown_element() {
    check(
        &[
            "validate",
            TINY,
            "--set",
            "exporters.Atlantis.deny_base=0.1",
        ],
        &[
            TINY,
            "exporters.Atlantis.deny_base",
            "no element named `Atlantis`",
        ],
    );
}

/// `compare` applies `--set` to every scenario: the message must say which
/// one lacks the element.
#[test]
fn set_unknown_element_in_one_of_compared_scenarios() {
    check(
        &[
            "compare",
            "baseline",
            TINY,
            "--replicates",
            "2",
            "--set",
            "exporters.France.deny_base=0.2",
        ],
        &[
            TINY,
            "exporters.France.deny_base",
            "no element named `France`",
        ],
    );
}

#[test]
fn set_into_a_value() {
    check(
        &["validate", TINY, "--set", "name.x=1"],
        &["--set name.x=1", "`name` is a value"],
    );
}

#[test]
fn set_unknown_field() {
    check(
        &["validate", TINY, "--set", "model.bogus=1"],
        &[TINY, "field `model.bogus`", "unknown field `bogus`"],
    );
}

#[test]
fn set_wrong_type() {
    check(
        &["validate", TINY, "--set", "months=abc"],
        &[TINY, "field `months`", "invalid type: string"],
    );
}

#[test]
fn set_out_of_range() {
    check(
        &["validate", TINY, "--set", "model.cancel_prob=2"],
        &[TINY, "field `model.cancel_prob`", "outside [0, 1]"],
    );
}

#[test]
fn set_without_equals() {
    check(
        &["validate", TINY, "--set", "months"],
        &["--set months", "path.to.field=VALUE"],
    );
}

#[test]
fn set_empty_path() {
    check(
        &["validate", TINY, "--set", "=1"],
        &["--set =1", "empty segment"],
    );
}

/// A type error reached through `--set` is one line: the field is named once,
/// with no trailing `in `field`` and no blank line after it.
#[test]
fn set_type_error_message_is_one_line() {
    let out = dibsim(&["validate", TINY, "--set", "months=abc"]);
    assert_ne!(out.code, Some(0));
    assert_eq!(
        out.stderr.trim_end().lines().count(),
        1,
        "stderr:\n{:?}",
        out.stderr
    );
}

// ------------------------------------------------------------ command line

#[test]
fn missing_scenario_file() {
    let path = fixture("does-not-exist.toml");
    check(&["validate", &path], &[&path, "no such file"]);
    check(&["run", &path], &[&path, "no such file"]);
}

#[test]
fn scenario_is_a_directory() {
    check(&["validate", FIX], &[FIX, "not a file"]);
}

#[test]
fn unknown_bundled_name() {
    check(
        &["run", "no-such-scenario"],
        &["no-such-scenario", "no bundled scenario", "baseline"],
    );
}

#[test]
fn compare_one_replicate() {
    check(
        &["compare", TINY, "--replicates", "1"],
        &["--replicates", "at least 2", "got 1"],
    );
}

#[test]
fn zero_threads() {
    check(
        &["--threads", "0", "run", TINY],
        &["--threads", "at least 1"],
    );
    check(
        &["validate", TINY, "--threads", "0"],
        &["--threads", "at least 1"],
    );
}

#[test]
fn months_zero() {
    check(
        &["run", TINY, "--months", "0"],
        &[TINY, "field `months`", "at least 1"],
    );
}

#[test]
fn compare_window_reversed() {
    check(
        &[
            "compare",
            TINY,
            TINY,
            "--replicates",
            "2",
            "--from",
            "2021",
            "--to",
            "2020",
        ],
        &["--to 2020", "--from 2021"],
    );
}

/// A `--out` that cannot take the files is refused before the run, not
/// after it (a user's compare ran in full, then failed to write).
#[test]
fn an_out_that_is_a_file_is_refused_before_running() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("taken");
    std::fs::write(&file, "not a folder").unwrap();
    let file = file.to_str().unwrap();
    for args in [
        vec!["run", TINY, "--out", file],
        vec![
            "compare",
            TINY,
            "--replicates",
            "2",
            "--from",
            "2020",
            "--to",
            "2021",
            "--out",
            file,
        ],
    ] {
        check(&args, &[file, "is a file, not a folder"]);
        // Nothing printed: no run happened.
        assert!(dibsim(&args).stdout.is_empty(), "{args:?}");
    }
    assert_eq!(std::fs::read_to_string(file).unwrap(), "not a folder");
    // Below a file, too; and a scenario refused for another reason leaves
    // no empty folder behind.
    let below = format!("{file}/sub");
    check(
        &["run", TINY, "--out", &below],
        &["cannot create --out", "is a file"],
    );
    let fresh = dir.path().join("fresh");
    let bad = fixture("mix_sum.toml");
    check(&["run", &bad, "--out", fresh.to_str().unwrap()], &["mix"]);
    assert!(!fresh.exists());
}

/// Found by a user: a compare of scenarios on two calendars used the
/// first one's years for both and reported deltas of exactly zero.
#[test]
fn compare_of_two_calendars_is_refused() {
    let later = fixture("later_start.toml");
    check(
        &[
            "compare",
            TINY,
            &later,
            "--replicates",
            "2",
            "--from",
            "2021",
            "--to",
            "2021",
        ],
        &[&later, "starts in 2021", "2020", "start_year"],
    );
}

#[test]
fn compare_window_outside_scenario() {
    check(
        &[
            "compare",
            TINY,
            "--replicates",
            "2",
            "--from",
            "2020",
            "--to",
            "2035",
        ],
        &[TINY, "2020-2035", "outside"],
    );
}

/// A size a file or flag controls is refused before the run, with the field,
/// the value and the limit, instead of aborting on a failed allocation.
#[test]
fn run_lengths_beyond_the_limit_are_refused() {
    check(
        &["run", "baseline", "--set", "months=2000000000"],
        &["months", "2000000000", "12000", "limit"],
    );
    check(
        &["validate", "baseline", "--set", "warmup_months=99999"],
        &["warmup_months", "99999", "12000"],
    );
}

#[test]
fn a_runaway_import_budget_is_refused() {
    check(
        &["run", "baseline", "--set", "allies.0.import_budget=1e15"],
        &["import_budget", "requirements a month", "limit"],
    );
}

/// A shock sd that lets the threat reach thousands is refused up front:
/// found by a user, it ran for minutes and took 20 GB before it died.
#[test]
fn a_runaway_threat_is_refused() {
    check(
        &["validate", "baseline", "--set", "model.threat_sd=1"],
        &[
            "model.threat_sd",
            "threat_persistence",
            "requirements a month",
            "limit",
        ],
    );
    check_fixture(
        "runaway_event.toml",
        &["field `events`", "region `West`", "requirements a month"],
    );
}

/// Found by a user: `name = "Frnace"` in a file that extends the baseline
/// validated, ran, and printed a row of zeros for the new exporter.
#[test]
fn a_misspelt_element_name_is_an_error_with_the_name_it_resembles() {
    check_fixture(
        "misspelt_exporter.toml",
        &["exporters.Alpah", "no supplier", "misspelling of `Alpha`"],
    );
    check_fixture(
        "duplicate_element.toml",
        &["field `categories`", "`jets` is defined twice"],
    );
}

#[test]
fn a_runaway_request_rate_names_the_programme_sizes_too() {
    check_fixture(
        "tiny_programme_size.toml",
        &[
            "field `allies.Gondor.import_budget`",
            "1.667e191 requirements a month (programmes of 1.000e-190 TIV on average",
            "`categories.jets.program_size_mean`, `categories.tanks.program_size_mean` weighted by `allies.Gondor.mix`",
        ],
    );
}

#[test]
fn a_compare_that_cannot_fit_in_memory_is_refused_before_running() {
    check(
        &[
            "compare",
            "baseline",
            "strategy-2026",
            "--replicates",
            "4000000000",
        ],
        &["replicates", "GB", "available", "dibsim sweep"],
    );
}
