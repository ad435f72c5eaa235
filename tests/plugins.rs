//! End-to-end tests of behaviour plugins: the example plugins (Rust and C)
//! built for real, loaded by the real binary, and every refusal and fault
//! the plugin guide promises.
//!
//! Rust fixtures are built once per test run with `cargo build
//! --message-format=json` into their own target folder (cargo test does not
//! reliably build cdylibs for tests); C fixtures with the system compiler.

mod common;
use common::{ok, run};

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// The Rust example and fixture plugins, by crate name.
fn rust_plugins() -> &'static HashMap<String, PathBuf> {
    static P: OnceLock<HashMap<String, PathBuf>> = OnceLock::new();
    P.get_or_init(|| {
        let out = Command::new(cargo())
            .args([
                "build",
                "--release",
                "--message-format=json",
                "-p",
                "logit-procurement",
                "-p",
                "fastest-delivery",
                "-p",
                "faulty",
                "--target-dir",
            ])
            .arg(root().join("target/plugin-fixtures"))
            .current_dir(root())
            .output()
            .expect("run cargo");
        assert!(
            out.status.success(),
            "building the plugin fixtures failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut found = HashMap::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            if v["reason"] != "compiler-artifact" {
                continue;
            }
            let kinds = v["target"]["kind"].as_array().cloned().unwrap_or_default();
            if !kinds.iter().any(|k| k == "cdylib") {
                continue;
            }
            for f in v["filenames"].as_array().into_iter().flatten() {
                let f = f.as_str().unwrap_or_default();
                if f.ends_with(".so") || f.ends_with(".dylib") {
                    found.insert(
                        v["target"]["name"].as_str().unwrap().replace('_', "-"),
                        PathBuf::from(f),
                    );
                }
            }
        }
        found
    })
}

fn rust_plugin(name: &str) -> String {
    rust_plugins()
        .get(name)
        .unwrap_or_else(|| panic!("no artifact for {name}: {:?}", rust_plugins()))
        .display()
        .to_string()
}

/// A C fixture compiled into a shared library (or, for `layout`, a program).
fn c_build(src: &Path, out_name: &str, shared: bool) -> PathBuf {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir = DIR.get_or_init(|| tempfile::tempdir().unwrap());
    let out = dir.path().join(out_name);
    let mut cmd = Command::new("cc");
    if shared {
        cmd.args(["-shared", "-fPIC"]);
    }
    let o = cmd
        .args(["-O2", "-Wall", "-I"])
        .arg(root().join("plugins/include"))
        .arg("-o")
        .arg(&out)
        .arg(src)
        .output()
        .expect("run cc (the system C compiler)");
    assert!(
        o.status.success(),
        "cc {}: {}",
        src.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

fn c_fixture(name: &str) -> String {
    c_build(
        &root().join(format!("tests/fixtures/plugins/{name}.c")),
        &format!("lib{name}.so"),
        true,
    )
    .display()
    .to_string()
}

/// Runs that must fail: the exit code is 1 (an error, not an abort or a
/// signal), and stderr holds every needle.
fn refused(args: &[&str], needles: &[&str]) {
    let o = run(args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "dibsim {args:?}: {err}");
    for n in needles {
        assert!(err.contains(n), "dibsim {args:?}: `{n}` not in:\n{err}");
    }
}

fn series(dir: &Path) -> Vec<u8> {
    std::fs::read(dir.join("timeseries.csv")).unwrap()
}

#[test]
fn the_logit_plugin_is_bit_identical_to_the_builtin_on_1_and_2_threads() {
    let plugin = format!("procurement={}", rust_plugin("logit-procurement"));
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
        assert!(
            series(&dir.path().join("builtin")) == series(&dir.path().join(threads)),
            "{threads} thread(s)"
        );
    }
    // And in a compare (forked runs) the numbers are the built-in's too.
    let a = d("cmp-builtin");
    let b = d("cmp-plugin");
    ok(&[
        "compare",
        "baseline",
        "faster-approvals",
        "--replicates",
        "3",
        "--out",
        &a,
    ]);
    ok(&[
        "compare",
        "baseline",
        "faster-approvals",
        "--replicates",
        "3",
        "--plugin",
        &plugin,
        "--out",
        &b,
    ]);
    assert_eq!(
        std::fs::read(Path::new(&a).join("compare.csv")).unwrap(),
        std::fs::read(Path::new(&b).join("compare.csv")).unwrap()
    );
}

/// The plugin in a world large enough that allies are prepared in parallel
/// within a month: the same bytes on 1 and 2 threads, and the built-in's.
#[test]
fn the_logit_plugin_matches_the_builtin_where_allies_are_prepared_in_parallel() {
    use dibsim_core::run::run_one;
    use dibsim_experiments::output::timeseries_csv;
    use dibsim_experiments::prepare;
    let mut s = common::world_with_many_allies();
    let builtin = prepare(&s).unwrap();
    let path = rust_plugin("logit-procurement");
    // In process, as a library user would: this test chose the library.
    dibsim_experiments::plugins::allow_path(&path);
    s.plugins.push(dibsim_core::scenario::PluginSpec {
        path,
        slots: vec!["procurement".into()],
        agents: Default::default(),
        params: Default::default(),
    });
    let plugin = prepare(&s).unwrap();
    let run_on = |p: &dibsim_core::run::Prepared, threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| timeseries_csv(&run_one(p, 3).unwrap()))
    };
    let reference = run_on(&builtin, 1);
    assert!(reference == run_on(&plugin, 1));
    assert!(reference == run_on(&plugin, 2));
}

#[test]
fn scenario_plugins_resolve_relative_paths_select_agents_and_take_params() {
    let dir = tempfile::tempdir().unwrap();
    let libs = dir.path().join("libs");
    std::fs::create_dir(&libs).unwrap();
    std::fs::copy(rust_plugin("fastest-delivery"), libs.join("libfastest.so")).unwrap();
    let scenario = |name: &str, params: &str| {
        let p = dir.path().join(name);
        std::fs::write(
            &p,
            format!(
                "extends = \"baseline\"\n[[plugins]]\npath = \"libs/libfastest.so\"\nslots = [\"procurement\"]\nagents = {{ region = \"Europe\" }}\nparams = {params}\n"
            ),
        )
        .unwrap();
        p.display().to_string()
    };
    let out = |n: &str| dir.path().join(n).display().to_string();
    ok(&["run", "baseline", "--seed", "2", "--out", &out("builtin")]);
    // Run from another folder: the path is relative to the scenario file.
    let o = Command::new(env!("CARGO_BIN_EXE_dibsim"))
        .args([
            "run",
            &scenario("fast.toml", "{ weight = 8.0, threat_above = 0.0 }"),
            "--seed",
            "2",
            "--out",
            &out("fast"),
            "--allow-native-plugins",
        ])
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(series(&dir.path().join("fast")) != series(&dir.path().join("builtin")));
    // Bad params are refused before any run, naming the plugin and the problem.
    refused(
        &["run", &scenario("bad.toml", "{ weight = -1.0 }")],
        &[
            "fastest-delivery",
            "rejected its params",
            "`weight` must be a non-negative number",
        ],
    );
    refused(
        &["run", &scenario("typo.toml", "{ wieght = 2.0 }")],
        &["unknown parameter `wieght`"],
    );
    // Selecting agents that do not exist is a scenario error.
    let p = dir.path().join("nowhere.toml");
    std::fs::write(&p, "extends = \"baseline\"\n[[plugins]]\npath = \"libs/libfastest.so\"\nslots = [\"procurement\"]\nagents = [\"Atlantis\"]\n").unwrap();
    refused(
        &["run", p.to_str().unwrap()],
        &["plugins[0].agents", "`Atlantis`"],
    );
    std::fs::write(&p, "extends = \"baseline\"\n[[plugins]]\npath = \"libs/libfastest.so\"\nslots = [\"procurement\"]\nagents = [\"Polnd\"]\n").unwrap();
    refused(
        &["run", p.to_str().unwrap()],
        &["`Polnd`", "misspelling of `Poland`"],
    );
    // A supplier's name is no suggestion for the procurement slot.
    std::fs::write(&p, "extends = \"baseline\"\n[[plugins]]\npath = \"libs/libfastest.so\"\nslots = [\"procurement\"]\nagents = [\"Andurl\"]\n").unwrap();
    let o = run(&["run", p.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("`Andurl`") && !err.contains("misspelling"),
        "{err}"
    );
    std::fs::write(&p, "extends = \"baseline\"\n[[plugins]]\npath = \"libs/libfastest.so\"\nslots = [\"procurement\", \"procurement\"]\n").unwrap();
    refused(
        &["run", p.to_str().unwrap()],
        &["plugins[0].slots", "`procurement` is listed twice"],
    );
}

#[test]
fn loading_refuses_bad_libraries_with_the_file_and_the_problem_named() {
    let missing = root()
        .join("tests/fixtures/plugins/nowhere.so")
        .display()
        .to_string();
    let folder = root().join("tests/fixtures/plugins").display().to_string();
    let cases: Vec<(String, Vec<&str>)> = vec![
        (missing.clone(), vec!["nowhere.so", "no such file"]),
        (folder, vec!["tests/fixtures/plugins", "is a folder"]),
        (
            root()
                .join("tests/fixtures/plugins/not_a_library.so")
                .display()
                .to_string(),
            vec!["not_a_library.so", "not a loadable shared library"],
        ),
        (
            c_fixture("missing_entry"),
            vec![
                "libmissing_entry.so",
                "no entry symbol `dibsim_plugin_entry`",
            ],
        ),
        (
            c_fixture("bad_magic"),
            vec!["libbad_magic.so", "wrong magic number"],
        ),
        (
            c_fixture("wrong_major"),
            vec!["libwrong_major.so", "built for ABI 2.0", "ABI 1.0"],
        ),
        (
            c_fixture("small_table"),
            vec!["libsmall_table.so", "its table is 24 bytes"],
        ),
    ];
    for (path, needles) in &cases {
        refused(&["plugin", "info", path], needles);
        let flag = format!("investment={path}");
        refused(&["run", "baseline", "--plugin", &flag], needles);
    }
    // A slot the plugin does not provide.
    let flag = format!("investment={}", rust_plugin("logit-procurement"));
    refused(
        &["run", "baseline", "--plugin", &flag],
        &[
            "logit-procurement",
            "does not provide the slot `contractor_investment`",
            "provides: procurement",
        ],
    );
    refused(
        &["run", "baseline", "--plugin", "steering=x.so"],
        &["unknown slot `steering`"],
    );
    refused(
        &["run", "baseline", "--plugin", "procurement="],
        &["--plugin procurement=", "no path"],
    );
    // A message length past the buffer is named as the ABI violation it is,
    // and only the bytes written are shown.
    let flag = format!("investment={}", c_fixture("create_faults"));
    let o = run(&["run", "baseline", "--months", "12", "--plugin", &flag]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("an ABI violation") && err.contains("too long") && !err.contains('\0'),
        "{err:?}"
    );
    // A panic status from C is a failed create, whatever its message says.
    refused(
        &[
            "run",
            "baseline",
            "--months",
            "12",
            "--plugin",
            &flag,
            "--set",
            "plugins.0.params.fault=\"panic\"",
        ],
        &["its create function failed", "panicked: boom"],
    );
    // A newer minor version loads and runs.
    let newer = c_fixture("newer_minor");
    let info = ok(&["plugin", "info", &newer]);
    assert!(String::from_utf8_lossy(&info.stdout).contains("1.7"));
    ok(&[
        "run",
        "baseline",
        "--months",
        "24",
        "--plugin",
        &format!("investment={newer}"),
    ]);
}

#[test]
fn runtime_faults_stop_the_run_with_plugin_slot_agent_and_month_and_never_abort() {
    let dir = tempfile::tempdir().unwrap();
    let faulty = rust_plugin("faulty");
    let scenario = |name: &str, slots: &str, fault: &str| {
        let p = dir.path().join(name);
        std::fs::write(
            &p,
            format!(
                "extends = \"baseline\"\nmonths = 24\n[[plugins]]\npath = \"{faulty}\"\nslots = {slots}\nparams = {{ fault = \"{fault}\", month = 3 }}\n"
            ),
        )
        .unwrap();
        p.display().to_string()
    };
    let proc = "[\"procurement\"]";
    let inv = "[\"contractor_investment\", \"competitor_investment\"]";
    refused(
        &["run", &scenario("panic.toml", proc, "panic")],
        &[
            "ally procurement behaviour `faulty 0.1.0`",
            "in month 3 (2020-04)",
            "panicked: fixture panic in procurement",
        ],
    );
    refused(
        &["run", &scenario("error.toml", proc, "error")],
        &[
            "ally procurement behaviour `faulty 0.1.0` failed for `",
            "month 3",
            "fixture error in procurement",
        ],
    );
    refused(
        &["run", &scenario("range.toml", proc, "out_of_range")],
        &[
            "faulty 0.1.0",
            "failed for `",
            "month 3",
            "chose offer",
            " 0 to ",
        ],
    );
    refused(
        &["run", &scenario("ipanic.toml", inv, "panic")],
        &[
            "investment behaviour `faulty 0.1.0`",
            "panicked: fixture panic in investment",
        ],
    );
    refused(
        &["run", &scenario("nan.toml", inv, "nan")],
        &[
            "investment behaviour `faulty 0.1.0` failed for `",
            "tranche NaN",
            "not a finite non-negative number",
        ],
    );
    refused(
        &["run", &scenario("neg.toml", inv, "negative")],
        &[
            "tranche -1 for line",
            "/high",
            "not a finite non-negative number",
        ],
    );
    refused(
        &["run", &scenario("reject.toml", proc, "reject")],
        &["faulty", "rejected its params", "rejected on purpose"],
    );
    // A panic in create is the plugin's failure, not a verdict on its params.
    let o = run(&["run", &scenario("cpanic.toml", proc, "create_panic")]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("its create function failed")
            && err.contains("fixture panic in create")
            && !err.contains("rejected its params"),
        "{err}"
    );
}

#[test]
fn in_a_sweep_a_failing_plugin_run_is_a_failed_row_and_the_rest_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.toml");
    std::fs::write(
        &base,
        format!(
            "extends = \"{}\"\n[[plugins]]\npath = \"{}\"\nslots = [\"procurement\"]\nparams = {{ fault = \"none\", month = 100 }}\n",
            root().join("tests/fixtures/levers/base.toml").display(),
            rust_plugin("faulty")
        ),
    )
    .unwrap();
    let sweep = dir.path().join("sweep.toml");
    std::fs::write(
        &sweep,
        "base = \"base.toml\"\nreplicates = 2\n[[axes]]\npath = \"plugins.0.params.fault\"\nvalues = [\"none\", \"panic\", \"error\"]\n[output]\nwindows = [[2026, 2030]]\n",
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
        assert!(
            r.contains(",failed,") && r.contains("panicked: fixture panic"),
            "{r}"
        );
    }
    for r in &rows[4..] {
        assert!(
            r.contains(",failed,") && r.contains("fixture error in procurement"),
            "{r}"
        );
    }
    let points = std::fs::read_to_string(out.join("points.csv")).unwrap();
    assert!(
        points.lines().nth(2).unwrap().starts_with("1,panic,0,2,"),
        "{points}"
    );
}

#[test]
fn the_c_plugin_builds_and_runs() {
    let lib = c_build(
        &root().join("plugins/examples/c-investment/c_investment.c"),
        "libc_investment.so",
        true,
    );
    let info = ok(&["plugin", "info", lib.to_str().unwrap()]);
    let info = String::from_utf8_lossy(&info.stdout).to_string();
    assert!(
        info.contains("contractor_investment, competitor_investment"),
        "{info}"
    );
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("builtin");
    let b = dir.path().join("c");
    ok(&[
        "run",
        "baseline",
        "--seed",
        "4",
        "--out",
        a.to_str().unwrap(),
    ]);
    ok(&[
        "run",
        "baseline",
        "--seed",
        "4",
        "--plugin",
        &format!("investment={}", lib.display()),
        "--out",
        b.to_str().unwrap(),
    ]);
    assert!(
        series(&a) != series(&b),
        "the C rule invests differently from the built-in"
    );
}

#[test]
fn the_c_header_has_the_abi_crates_layout() {
    use dibsim_plugin_abi as abi;
    use std::mem::{offset_of, size_of};
    let prog = c_build(
        &root().join("tests/fixtures/plugins/layout.c"),
        "layout",
        false,
    );
    let out = Command::new(&prog).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mut c: HashMap<String, usize> = HashMap::new();
    for line in text.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        if let Some((value, key)) = parts.split_last() {
            c.insert(key.join(" "), value.parse().unwrap());
        }
    }
    macro_rules! check {
        ($c:literal, $t:ty; $($cf:literal $f:ident),+) => {
            assert_eq!(c.get(concat!("size ", $c)), Some(&size_of::<$t>()), "size of {}", $c);
            $(assert_eq!(c.get(concat!("offset ", $c, " ", $cf)), Some(&offset_of!($t, $f)), "{}.{}", $c, $cf);)+
        };
    }
    check!("dibsim_offer", abi::Offer; "line" line, "exporter" exporter, "quality" quality, "price_index" price_index, "wait_months" wait_months, "spread_months" spread_months, "alignment" alignment, "reputation" reputation, "draw" draw);
    check!("dibsim_requirement", abi::Requirement; "ally" ally, "category" category, "size" size, "threat" threat, "outside_draw" outside_draw, "offer_start" offer_start, "offer_count" offer_count);
    check!("dibsim_taste", abi::Taste; "beta_quality" beta_quality, "outside_utility" outside_utility);
    check!("dibsim_line_view", abi::LineView; "line" line, "owner" owner, "tier" tier, "capacity" capacity, "backlog_months" backlog_months, "cash" cash, "max_growth" max_growth, "draw" draw);
    check!("dibsim_procurement_call", abi::ProcurementCall; "month" month, "requirements" requirements, "offers" offers, "tastes" tastes);
    check!("dibsim_investment_call", abi::InvestmentCall; "month" month, "n_lines" n_lines, "lines" lines);
    check!("dibsim_error_out", abi::ErrorOut; "message" message, "capacity" capacity, "len" len, "item" item);
    check!("dibsim_plugin_table", abi::PluginTable; "magic" magic, "abi_major" abi_major, "abi_minor" abi_minor, "size" size, "name" name, "version" version, "slots" slots, "flags" flags, "state_size" state_size, "state_align" state_align, "create" create, "destroy" destroy, "procure" procure, "invest" invest);
}

#[test]
fn a_plugin_is_loaded_once_per_process() {
    let path = PathBuf::from(rust_plugin("logit-procurement"));
    let a = dibsim_plugin_host::load(&path).unwrap();
    let b = dibsim_plugin_host::load(&path).unwrap();
    assert!(std::sync::Arc::ptr_eq(&a, &b));
    assert_eq!(a.name, "logit-procurement");
}

#[test]
fn plugin_new_writes_a_crate_that_builds_and_loads() {
    let dir = tempfile::tempdir().unwrap();
    let krate = dir.path().join("my-rule");
    let o = ok(&["plugin", "new", "my-rule", "--dir", krate.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("cargo build --release"));
    let build = Command::new(cargo())
        .args(["build", "--release", "--quiet"])
        .current_dir(&krate)
        .env("CARGO_TARGET_DIR", root().join("target/plugin-new"))
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let lib = root().join("target/plugin-new/release/libmy_rule.so");
    let info = ok(&["plugin", "info", lib.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&info.stdout).contains("my-rule"));
    // The template is the built-in choice: the same numbers.
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    ok(&[
        "run",
        "baseline",
        "--months",
        "36",
        "--out",
        a.to_str().unwrap(),
    ]);
    ok(&[
        "run",
        "baseline",
        "--months",
        "36",
        "--plugin",
        &format!("procurement={}", lib.display()),
        "--out",
        b.to_str().unwrap(),
    ]);
    assert!(series(&a) == series(&b));
    // It takes no params, and says so instead of ignoring a typo.
    refused(
        &[
            "run",
            "baseline",
            "--months",
            "12",
            "--plugin",
            &format!("procurement={}", lib.display()),
            "--set",
            "plugins.0.params.patience=1.0",
        ],
        &["my-rule", "takes no params yet", "patience"],
    );
    // An existing folder is refused, and so is an SDK path that is not the SDK.
    refused(
        &["plugin", "new", "my-rule", "--dir", krate.to_str().unwrap()],
        &["already exists"],
    );
    let abi = root().join("plugins/abi");
    refused(
        &[
            "plugin",
            "new",
            "other",
            "--dir",
            dir.path().join("other").to_str().unwrap(),
            "--sdk",
            abi.to_str().unwrap(),
        ],
        &["dibsim-plugin-sdk", "is not at"],
    );
}

/// A scenario file that names a native library does not get it loaded
/// unless the user allows it; the refusal names the file and the library,
/// and `validate` never loads it. A library given with `--plugin` is the
/// user's own choice and loads.
#[test]
fn native_plugins_named_by_a_file_need_the_users_consent() {
    let dir = tempfile::tempdir().unwrap();
    let lib = rust_plugin("logit-procurement");
    let file = dir.path().join("shared.toml");
    std::fs::write(
        &file,
        format!("extends = \"baseline\"\nmonths = 12\n[[plugins]]\npath = \"{lib}\"\nslots = [\"procurement\"]\n"),
    )
    .unwrap();
    let f = file.to_str().unwrap();
    let out = common::run_untrusted(&["run", f]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "a file's native plugin ran without consent"
    );
    for want in [
        f,
        lib.as_str(),
        "--allow-native-plugins",
        "DIBSIM_ALLOW_NATIVE_PLUGINS",
    ] {
        assert!(err.contains(want), "`{want}` not in: {err}");
    }
    // validate reads the file and loads nothing: even a non-library passes.
    let bogus = dir.path().join("bogus.toml");
    std::fs::write(
        &bogus,
        "extends = \"baseline\"\n[[plugins]]\npath = \"no-such-library.so\"\nslots = [\"procurement\"]\n",
    )
    .unwrap();
    let out = common::run_untrusted(&["validate", bogus.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Consent by flag, by environment, or by naming the library oneself.
    assert!(common::run_untrusted(&["--allow-native-plugins", "run", f])
        .status
        .success());
    let out = common::run(&["run", f]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let flag = format!("procurement={lib}");
    let out = common::run_untrusted(&["run", "baseline", "--months", "12", "--plugin", &flag]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The run says which plugin it ran with.
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("with plugins procurement=") && said.contains(lib.as_str()),
        "{said}"
    );
    // A trusted folder in the user's config file.
    let cfg = dir.path().join("config");
    std::fs::create_dir_all(cfg.join("dibsim")).unwrap();
    let folder = std::path::Path::new(&lib).parent().unwrap();
    std::fs::write(
        cfg.join("dibsim/trusted-plugins"),
        format!("# mine\n{}\n", folder.display()),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dibsim"))
        .args(["run", f])
        .env_remove("DIBSIM_ALLOW_NATIVE_PLUGINS")
        .env("XDG_CONFIG_HOME", &cfg)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A relative entry would trust whichever folder dibsim starts in: it
    // trusts nothing, and the refusal says so.
    std::fs::write(cfg.join("dibsim/trusted-plugins"), ".\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dibsim"))
        .args(["run", f])
        .env_remove("DIBSIM_ALLOW_NATIVE_PLUGINS")
        .env("XDG_CONFIG_HOME", &cfg)
        .current_dir(folder)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "`.` trusted the current folder");
    assert!(err.contains("`.`") && err.contains("absolute"), "{err}");
}

/// Which binary ran is on record: every plugin's path, name, version and
/// SHA-256 in summary.json; a sweep resumed with a rebuilt plugin is refused.
#[test]
fn plugin_provenance_is_recorded_and_a_changed_binary_stops_a_resume() {
    use sha2::{Digest, Sha256};
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("librule.so");
    std::fs::copy(rust_plugin("logit-procurement"), &lib).unwrap();
    let flag = format!("procurement={}", lib.display());
    let out = dir.path().join("run");
    ok(&[
        "run",
        "baseline",
        "--months",
        "12",
        "--plugin",
        &flag,
        "--out",
        out.to_str().unwrap(),
    ]);
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let p = &summary["plugins"][0];
    let want: String = Sha256::digest(std::fs::read(&lib).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(p["sha256"].as_str(), Some(want.as_str()), "{summary}");
    assert_eq!(p["kind"], "native");
    assert!(!p["name"].as_str().unwrap_or("").is_empty());
    // A sweep over a scenario with that plugin, then the binary replaced.
    let scenario = dir.path().join("with.toml");
    std::fs::write(
        &scenario,
        "extends = \"baseline\"\nmonths = 12\n[[plugins]]\npath = \"librule.so\"\nslots = [\"procurement\"]\n",
    )
    .unwrap();
    let sweep = dir.path().join("sweep.toml");
    std::fs::write(
        &sweep,
        "base = \"with.toml\"\nreplicates = 2\n[[axes]]\npath = \"policy.approval_time_factor\"\nvalues = [1.0, 0.5]\n[output]\nwindows = [[2020, 2020]]\n",
    )
    .unwrap();
    let folder = dir.path().join("out");
    let (s, f) = (sweep.to_str().unwrap(), folder.to_str().unwrap());
    ok(&["sweep", s, "--out", f, "-q"]);
    std::fs::copy(rust_plugin("fastest-delivery"), &lib).unwrap();
    let o = run(&["sweep", s, "--out", f, "--resume", "-q"]);
    assert!(
        !o.status.success(),
        "a resume with a changed plugin binary was accepted"
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("holds another sweep"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
