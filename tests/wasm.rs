//! WebAssembly plugins end to end: the hand-written fixture module
//! (tests/fixtures/wasm/fixture.wat) for every fault the sandbox must turn
//! into an error, the load-time refusals, a sweep with a trapping module,
//! and the Rust examples built as Wasm (the logit rule must equal the
//! built-in bit for bit).
//!
//! The Rust examples need a compiler that targets wasm32-unknown-unknown
//! (plugins/wasm/build-wasm.sh finds one); without it those tests say so
//! and pass, unless DIBSIM_REQUIRE_WASM=1 (CI sets it), where they fail.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::{ok, run, run_untrusted};

const FIXTURE: &str = "tests/fixtures/wasm/fixture.wat";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A scenario file: the bundled baseline, `months` long, with the fixture
/// module in `slots` and `mode` as its param.
fn scenario(dir: &Path, name: &str, slots: &str, mode: &str) -> String {
    let p = dir.join(name);
    std::fs::write(
        &p,
        format!(
            "extends = \"baseline\"\nmonths = 12\n[[plugins]]\npath = \"{}\"\nslots = {slots}\nparams = {{ mode = \"{mode}\" }}\n",
            root().join(FIXTURE).display()
        ),
    )
    .unwrap();
    p.display().to_string()
}

/// A run that must fail with exit code 1 (an error, not an abort), no
/// panic, and every needle in stderr.
fn refused(args: &[&str], needles: &[&str]) {
    let o = run(args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "dibsim {args:?}: {err}");
    assert!(!err.contains("panicked at"), "dibsim {args:?}: {err}");
    for n in needles {
        assert!(err.contains(n), "dibsim {args:?}: `{n}` not in:\n{err}");
    }
}

const PROC: &str = "[\"procurement\"]";
const INV: &str = "[\"contractor_investment\", \"competitor_investment\"]";

#[test]
fn a_wasm_module_runs_without_consent_and_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let s = scenario(dir.path(), "ok.toml", PROC, "ok");
    let out = dir.path().join("run");
    // No --allow-native-plugins, no environment: Wasm is sandboxed.
    let o = run_untrusted(&["run", &s, "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let p = &summary["plugins"][0];
    assert_eq!(p["kind"], "wasm", "{summary}");
    assert_eq!(p["name"], "wasm-fixture-1", "{summary}");
    assert_eq!(p["version"], "1.0.0", "{summary}");
    assert_eq!(p["sha256"].as_str().map(str::len), Some(64), "{summary}");
    // `plugin info` reads the module without running a scenario.
    let info = ok(&["plugin", "info", FIXTURE]);
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(info.contains("wasm-fixture-1") && info.contains("kind:    wasm, interface 1.0"));
    assert!(info.contains("procurement, contractor_investment, competitor_investment"));
    // The same module as investment, and as both, on 1 and 2 threads.
    let both = dir.path().join("both.toml");
    std::fs::write(
        &both,
        format!(
            "extends = \"baseline\"\nmonths = 12\n[[plugins]]\npath = \"{}\"\nslots = [\"procurement\", \"contractor_investment\"]\nparams = {{ mode = \"ok\" }}\n",
            root().join(FIXTURE).display()
        ),
    )
    .unwrap();
    let mut series = Vec::new();
    for threads in ["1", "2"] {
        let o = dir.path().join(format!("t{threads}"));
        ok(&[
            "--threads",
            threads,
            "run",
            both.to_str().unwrap(),
            "--out",
            o.to_str().unwrap(),
        ]);
        series.push(std::fs::read(o.join("timeseries.csv")).unwrap());
    }
    assert!(series[0] == series[1], "1 and 2 threads differ");
    // And it did change the world: first-offer ally choices are not the
    // built-in logit's.
    let builtin = dir.path().join("builtin");
    ok(&[
        "run",
        "baseline",
        "--months",
        "12",
        "--out",
        builtin.to_str().unwrap(),
    ]);
    assert!(std::fs::read(builtin.join("timeseries.csv")).unwrap() != series[0]);
}

#[test]
fn sandbox_faults_stop_the_run_with_plugin_slot_agent_and_month() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let who = "ally procurement behaviour `wasm-fixture-1 1.0.0` failed for `";
    refused(
        &["run", &scenario(d, "loop.toml", PROC, "loop")],
        &[
            who,
            "in month",
            "ran out of fuel",
            "1000000000 Wasm instructions",
        ],
    );
    refused(
        &["run", &scenario(d, "memory.toml", PROC, "memory")],
        &[who, "exceeded its memory cap", "256 MiB"],
    );
    refused(
        &["run", &scenario(d, "trap.toml", PROC, "trap")],
        &[who, "trapped", "unreachable"],
    );
    refused(
        &["run", &scenario(d, "error.toml", PROC, "error")],
        &[who, "status 1: fixture error"],
    );
    refused(
        &["run", &scenario(d, "range.toml", PROC, "range")],
        &[who, "chose offer 99"],
    );
    refused(
        &["run", &scenario(d, "nan.toml", INV, "nan")],
        &[
            "investment behaviour `wasm-fixture-1 1.0.0` failed for `",
            "tranche NaN",
            "not a finite non-negative number",
        ],
    );
}

#[test]
fn modules_that_are_not_plugins_are_refused_when_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let with = |module: &str| {
        let p = dir
            .path()
            .join(format!("{}.toml", module.replace(['/', '.'], "_")));
        std::fs::write(
            &p,
            format!(
                "extends = \"baseline\"\nmonths = 12\n[[plugins]]\npath = \"{}\"\nslots = [\"procurement\"]\n",
                root().join(module).display()
            ),
        )
        .unwrap();
        p.display().to_string()
    };
    refused(
        &["run", &with("tests/fixtures/wasm/wrong-abi.wat")],
        &[
            "wrong-abi.wat",
            "Wasm interface 2.0",
            "this dibsim speaks 1.0",
        ],
    );
    refused(
        &["run", &with("tests/fixtures/wasm/wasi-import.wat")],
        &[
            "wasi-import.wat",
            "imports wasi_snapshot_preview1.fd_write",
            "no WASI",
        ],
    );
    refused(
        &["run", &with("tests/fixtures/wasm/mutable-globals.wat")],
        &[
            "mutable-globals.wat",
            "defines 2 mutable globals",
            "keep its state there",
        ],
    );
    refused(
        &["run", &with("tests/fixtures/wasm/not-wasm.wasm")],
        &["not-wasm.wasm", "not a WebAssembly module", "54 68 69 73"],
    );
    // A slot the module does not provide, and a missing file.
    let junk = dir.path().join("junk.wasm");
    std::fs::write(&junk, b"\0asm\x01\0\0\0\x99\x99").unwrap();
    refused(
        &["plugin", "info", junk.to_str().unwrap()],
        &["junk.wasm", "not a WebAssembly module"],
    );
    refused(
        &["plugin", "info", "tests/fixtures/wasm/none.wasm"],
        &["none.wasm", "no such file"],
    );
}

#[test]
fn in_a_sweep_a_trapping_module_fails_its_rows_and_the_rest_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.toml");
    std::fs::write(
        &base,
        format!(
            "extends = \"{}\"\n[[plugins]]\npath = \"{}\"\nslots = [\"procurement\"]\nparams = {{ mode = \"ok\" }}\n",
            root().join("tests/fixtures/levers/base.toml").display(),
            root().join(FIXTURE).display()
        ),
    )
    .unwrap();
    let sweep = dir.path().join("sweep.toml");
    std::fs::write(
        &sweep,
        "base = \"base.toml\"\nreplicates = 2\n[[axes]]\npath = \"plugins.0.params.mode\"\nvalues = [\"ok\", \"trap\", \"loop\"]\n[output]\nwindows = [[2026, 2030]]\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let o = ok(&[
        "sweep",
        sweep.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--format",
        "csv",
        "-q",
    ]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("4 run(s) failed"));
    let runs = std::fs::read_to_string(out.join("runs.csv")).unwrap();
    let rows: Vec<&str> = runs.lines().skip(1).collect();
    assert_eq!(rows.len(), 6);
    for r in &rows[..2] {
        assert!(r.contains(",ok,"), "{r}");
    }
    for r in &rows[2..4] {
        assert!(r.contains(",failed,") && r.contains("trapped"), "{r}");
    }
    for r in &rows[4..] {
        assert!(
            r.contains(",failed,") && r.contains("ran out of fuel"),
            "{r}"
        );
    }
}

/// The Rust examples built as Wasm, or None (with the reason printed) when
/// no compiler here targets Wasm and DIBSIM_REQUIRE_WASM is not 1.
fn rust_wasm(name: &str) -> Option<PathBuf> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        let out = root().join("target/wasm-fixtures");
        std::fs::create_dir_all(&out).unwrap();
        for example in ["logit-procurement", "faulty"] {
            let o = Command::new("bash")
                .arg(root().join("plugins/wasm/build-wasm.sh"))
                .arg(root().join("plugins/examples").join(example))
                .arg(out.join(format!("{example}.wasm")))
                .output()
                .expect("run build-wasm.sh");
            let err = String::from_utf8_lossy(&o.stderr).into_owned();
            match o.status.code() {
                Some(0) => {}
                Some(3) => return Err(err),
                _ => panic!("building {example} as Wasm failed:\n{err}"),
            }
        }
        Ok(out)
    });
    match dir {
        Ok(d) => Some(d.join(format!("{name}.wasm"))),
        Err(why) if std::env::var("DIBSIM_REQUIRE_WASM").is_ok_and(|v| v == "1") => {
            panic!("DIBSIM_REQUIRE_WASM=1 but: {why}")
        }
        Err(why) => {
            eprintln!("skipped: the Rust examples as Wasm: {why}");
            None
        }
    }
}

#[test]
fn the_logit_example_as_wasm_is_bit_identical_to_the_builtin() {
    let Some(wasm) = rust_wasm("logit-procurement") else {
        return;
    };
    let plugin = format!("procurement={}", wasm.display());
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n).display().to_string();
    ok(&[
        "--threads",
        "1",
        "run",
        "baseline",
        "--seed",
        "7",
        "--out",
        &d("builtin"),
    ]);
    let builtin = std::fs::read(dir.path().join("builtin/timeseries.csv")).unwrap();
    for threads in ["1", "2"] {
        ok(&[
            "--threads",
            threads,
            "run",
            "baseline",
            "--seed",
            "7",
            "--plugin",
            &plugin,
            "--out",
            &d(threads),
        ]);
        let got = std::fs::read(dir.path().join(threads).join("timeseries.csv")).unwrap();
        assert!(
            builtin == got,
            "{threads} thread(s): the Wasm logit differs"
        );
    }
    // In a compare, runs fork after the shared prefix: the instance's
    // memory is copied, and the numbers are still the built-in's.
    let cmp = |name: &str, extra: &[&str]| {
        let mut args = vec![
            "compare",
            "baseline",
            "faster-approvals",
            "--replicates",
            "3",
        ];
        args.extend_from_slice(extra);
        let out = d(name);
        args.extend_from_slice(&["--out", &out]);
        ok(&args);
        std::fs::read(dir.path().join(name).join("compare.csv")).unwrap()
    };
    assert!(cmp("cmp-builtin", &[]) == cmp("cmp-wasm", &["--plugin", &plugin]));
}

#[test]
fn a_panic_in_a_rust_wasm_plugin_keeps_its_message() {
    let Some(wasm) = rust_wasm("faulty") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("panic.toml");
    std::fs::write(
        &s,
        format!(
            "extends = \"baseline\"\nmonths = 24\n[[plugins]]\npath = \"{}\"\nslots = [\"procurement\"]\nparams = {{ fault = \"panic\", month = 3 }}\n",
            wasm.display()
        ),
    )
    .unwrap();
    refused(
        &["run", s.to_str().unwrap()],
        &[
            "ally procurement behaviour `faulty 0.1.0`",
            "in month 3",
            "panicked: fixture panic in procurement",
        ],
    );
    let s = dir.path().join("reject.toml");
    std::fs::write(
        &s,
        format!(
            "extends = \"baseline\"\nmonths = 24\n[[plugins]]\npath = \"{}\"\nslots = [\"procurement\"]\nparams = {{ fault = \"reject\" }}\n",
            wasm.display()
        ),
    )
    .unwrap();
    refused(
        &["run", s.to_str().unwrap()],
        &["faulty", "rejected its params", "rejected on purpose"],
    );
}

/// `plugin new --wasm` writes a crate that targets Wasm; built (here with
/// build-wasm.sh, as without rustup's target), it loads sandboxed and, being
/// the built-in choice, reproduces the built-in's run.
#[test]
fn plugin_new_wasm_writes_a_crate_that_builds_as_wasm_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let krate = dir.path().join("my-wasm-rule");
    let o = ok(&[
        "plugin",
        "new",
        "my-wasm-rule",
        "--wasm",
        "--dir",
        krate.to_str().unwrap(),
    ]);
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(
        said.contains("rustup target add wasm32-unknown-unknown"),
        "{said}"
    );
    assert!(
        said.contains("target/wasm32-unknown-unknown/release/my_wasm_rule.wasm"),
        "{said}"
    );
    let config = std::fs::read_to_string(krate.join(".cargo/config.toml")).unwrap();
    assert!(
        config.contains("target = \"wasm32-unknown-unknown\""),
        "{config}"
    );
    if rust_wasm("logit-procurement").is_none() {
        return;
    }
    let wasm = dir.path().join("my_wasm_rule.wasm");
    let b = Command::new("bash")
        .arg(root().join("plugins/wasm/build-wasm.sh"))
        .arg(&krate)
        .arg(&wasm)
        .output()
        .unwrap();
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    let info = ok(&["plugin", "info", wasm.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&info.stdout).contains("my-wasm-rule"));
    let d = |n: &str| dir.path().join(n).display().to_string();
    ok(&["run", "baseline", "--months", "24", "--out", &d("builtin")]);
    let flag = format!("procurement={}", wasm.display());
    let o = run_untrusted(&[
        "run",
        "baseline",
        "--months",
        "24",
        "--plugin",
        &flag,
        "--out",
        &d("wasm"),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        std::fs::read(dir.path().join("builtin/timeseries.csv")).unwrap()
            == std::fs::read(dir.path().join("wasm/timeseries.csv")).unwrap()
    );
}
