//! End-to-end tests of `dibsim report` and `compare --report`: every chart
//! and table is there, the page is well-formed, its numbers are
//! `compare.csv`'s, bad folders are refused without writing anything, and
//! the page renders in a real browser (headless Chromium).

mod common;
use common::{ok, run};

use std::path::{Path, PathBuf};
use std::process::Command;

fn parse(text: &str) -> roxmltree::Document<'_> {
    let opt = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    roxmltree::Document::parse_with_options(text, opt).expect("well-formed XML")
}

const SCENARIOS: [&str; 3] = ["baseline", "faster-approvals", "strategy-2026"];

/// A small compare with its report.
fn small_compare(dir: &Path) -> PathBuf {
    let out = dir.join("cmp");
    let mut args = vec!["compare"];
    args.extend(SCENARIOS);
    args.extend([
        "--replicates",
        "3",
        "--out",
        out.to_str().unwrap(),
        "--report",
    ]);
    ok(&args);
    out
}

#[test]
fn the_compare_report_has_every_chart_and_table_and_the_numbers_of_compare_csv() {
    let dir = tempfile::tempdir().unwrap();
    let out = small_compare(dir.path());
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    // Well-formed: it parses as XML (XHTML), inline SVG included.
    let doc = parse(&html);
    let by_id = |id: &str| {
        doc.descendants()
            .find(|n| n.attribute("id") == Some(id))
            .unwrap_or_else(|| panic!("no element #{id}"))
    };
    let mut ids: Vec<String> = Vec::new();
    for s in 0..3 {
        ids.push(format!("share-{s}"));
        ids.push(format!("wait-{s}"));
    }
    for s in 1..3 {
        ids.push(format!("delta-{s}"));
    }
    for k in 0..4 {
        ids.push(format!("focal-{k}"));
    }
    for id in ["summary-effects", "attribution-region", "lags-focal"] {
        ids.push(id.to_string());
    }
    for id in &ids {
        let fig = by_id(id);
        let svg = fig
            .children()
            .find(|n| n.tag_name().name() == "svg")
            .unwrap_or_else(|| panic!("#{id} has no inline svg"));
        // A chart has axes, labels and lines, not an empty frame.
        assert!(
            svg.descendants()
                .filter(|n| n.tag_name().name() == "text")
                .count()
                > 5,
            "#{id}"
        );
        assert!(
            svg.descendants()
                .any(|n| n.tag_name().name() == "polyline" || n.tag_name().name() == "circle"),
            "#{id}"
        );
        assert!(
            fig.descendants().any(|n| n.tag_name().name() == "table"),
            "#{id} has no table"
        );
        assert!(
            fig.descendants()
                .any(|n| n.tag_name().name() == "figcaption"),
            "#{id}"
        );
    }
    // The page opens with the answer and closes with the settings.
    let at = |needle: &str| {
        html.find(needle)
            .unwrap_or_else(|| panic!("{needle} not in the page"))
    };
    assert!(at("id=\"answer\"") < at("id=\"summary-effects\""));
    assert!(at("id=\"summary-effects\"") < at("id=\"share-0\""));
    assert!(at("id=\"compare-csv\"") < at("id=\"settings\""));
    assert!(
        html.contains("The largest effect on"),
        "no generated summary sentence"
    );
    // No script, no external resource.
    assert!(!html.contains("<script"));
    // (The XML namespaces are the only URLs.)
    assert!(!html.replace("http://www.w3.org/", "").contains("http://"));
    assert!(!html.contains("https://"));
    // Settings: version, seeds, replicates.
    assert!(html.contains(env!("CARGO_PKG_VERSION")));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    for seed in manifest["run_seeds"].as_array().unwrap() {
        assert!(
            html.contains(&seed.to_string()),
            "seed {seed} not in the page"
        );
    }
    assert!(
        html.contains("policy.approval_time_factor"),
        "differences from the baseline are listed"
    );
    // The table of the page carries compare.csv's numbers exactly.
    let table = by_id("compare-csv");
    let page_rows: Vec<Vec<String>> = table
        .children()
        .filter(|n| n.tag_name().name() == "tr")
        .skip(1)
        .map(|tr| {
            tr.children()
                .filter(|n| n.tag_name().name() == "td")
                .map(|td| {
                    td.attribute("data-value")
                        .map(str::to_string)
                        .unwrap_or_else(|| td.text().unwrap_or("").to_string())
                })
                .collect()
        })
        .collect();
    let csv = std::fs::read_to_string(out.join("compare.csv")).unwrap();
    let csv_rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(page_rows.len(), csv_rows.len());
    for (p, c) in page_rows.iter().zip(&csv_rows) {
        assert_eq!(p[0], c[0]);
        assert_eq!(p[1], c[1]);
        for k in 2..8 {
            let (a, b): (f64, f64) = (p[k].parse().unwrap(), c[k].parse().unwrap());
            assert_eq!(a.to_bits(), b.to_bits(), "{p:?} vs {c:?}");
        }
        assert_eq!(p[8], c[8]);
    }
    // --svg writes the same charts as files.
    let svgs = dir.path().join("svg");
    ok(&[
        "report",
        out.to_str().unwrap(),
        "--out",
        dir.path().join("again.html").to_str().unwrap(),
        "--svg",
        svgs.to_str().unwrap(),
    ]);
    for id in &ids {
        let f = svgs.join(format!("{id}.svg"));
        parse(&std::fs::read_to_string(&f).unwrap());
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("again.html")).unwrap(),
        html
    );
}

#[test]
fn a_sweep_report_charts_the_parameter_against_the_share() {
    let dir = tempfile::tempdir().unwrap();
    let sw = dir.path().join("sw");
    ok(&[
        "sweep",
        "tests/fixtures/sweeps/lhs.toml",
        "--out",
        sw.to_str().unwrap(),
        "-q",
    ]);
    let o = ok(&["report", sw.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("report.html"));
    let html = std::fs::read_to_string(sw.join("report.html")).unwrap();
    let doc = parse(&html);
    let fig = doc
        .descendants()
        .find(|n| n.attribute("id") == Some("sweep-0"))
        .expect("sweep chart");
    assert!(fig.descendants().any(|n| n.tag_name().name() == "svg"));
    // One row per point in the table.
    let rows = fig
        .descendants()
        .filter(|n| n.tag_name().name() == "tr")
        .count();
    assert_eq!(rows, 1 + 6);
}

/// The settings of the switch the fixtures sweep, as the chart labels them.
const SWITCH_LABELS: [&str; 2] = [
    "policy.export_by_design=false",
    "policy.export_by_design=true",
];

/// The text of every `<text>` element in the sweep's first chart.
fn sweep_chart_texts(fixture: &str, dir: &Path) -> (Vec<String>, usize) {
    let sw = dir.join("sw");
    ok(&["sweep", fixture, "--out", sw.to_str().unwrap(), "-q"]);
    ok(&["report", sw.to_str().unwrap()]);
    let html = std::fs::read_to_string(sw.join("report.html")).unwrap();
    let doc = parse(&html);
    let fig = doc
        .descendants()
        .find(|n| n.attribute("id") == Some("sweep-0"))
        .expect("sweep chart");
    let svg = fig
        .descendants()
        .find(|n| n.tag_name().name() == "svg")
        .expect("an svg in the sweep chart");
    let texts = svg
        .descendants()
        .filter(|n| n.tag_name().name() == "text")
        .filter_map(|n| n.text().map(|t| t.trim().to_string()))
        .collect();
    let rows = fig
        .descendants()
        .filter(|n| n.tag_name().name() == "tr")
        .count();
    (texts, rows)
}

#[test]
fn a_sweep_over_a_switch_alone_is_charted_point_by_point() {
    let dir = tempfile::tempdir().unwrap();
    let (texts, rows) = sweep_chart_texts("tests/fixtures/sweeps/boolean.toml", dir.path());
    for label in SWITCH_LABELS {
        assert!(
            texts.iter().any(|t| t == label),
            "{label} is not a label of the chart: {texts:?}"
        );
    }
    assert_eq!(rows, 1 + 2);
}

#[test]
fn a_switch_crossed_with_a_number_is_one_line_per_setting_with_a_legend() {
    let dir = tempfile::tempdir().unwrap();
    let (texts, rows) = sweep_chart_texts("tests/fixtures/sweeps/boolean_numeric.toml", dir.path());
    // The legend names each setting of the switch once.
    for label in SWITCH_LABELS {
        assert_eq!(
            texts.iter().filter(|t| *t == label).count(),
            1,
            "{label} in the legend: {texts:?}"
        );
    }
    // The number is on the x axis, not folded into a label.
    assert!(texts.iter().any(|t| t == "policy.approval_time_factor"));
    assert_eq!(rows, 1 + 6);
}

#[test]
fn empty_partial_and_foreign_folders_are_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let check = |d: &Path, needle: &str| {
        let page = d.join("report.html");
        std::fs::remove_file(&page).ok();
        let o = run(&["report", d.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(err.contains(needle), "`{needle}` not in: {err}");
        assert!(!page.exists(), "a page was written for {}", d.display());
        assert!(!d.join("report.html.tmp").exists());
    };
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    check(&empty, "is empty");
    check(&dir.path().join("nowhere"), "is not a folder");
    let out = small_compare(dir.path());
    std::fs::remove_file(out.join("report.html")).unwrap();
    // Partial: a file missing, or cut short.
    let series = std::fs::read(out.join("series.csv")).unwrap();
    std::fs::remove_file(out.join("series.csv")).unwrap();
    check(&out, "partial");
    std::fs::write(out.join("series.csv"), &series[..series.len() / 3]).unwrap();
    check(&out, "partial");
    std::fs::write(out.join("series.csv"), &series).unwrap();
    // Another version.
    let m = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    std::fs::write(
        out.join("manifest.json"),
        m.replace(&format!("\"{}\"", env!("CARGO_PKG_VERSION")), "\"0.0.1\""),
    )
    .unwrap();
    check(&out, "written by dibsim 0.0.1");
    std::fs::write(out.join("manifest.json"), &m).unwrap();
    ok(&["report", out.to_str().unwrap()]);
    // A folder of something else.
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("notes.txt"), "hello").unwrap();
    check(&other, "no manifest.json");
    // One shard of a sweep: merge first.
    let shard = dir.path().join("shard");
    ok(&[
        "sweep",
        "tests/fixtures/sweeps/small.toml",
        "--out",
        shard.to_str().unwrap(),
        "--shard",
        "0/2",
        "-q",
    ]);
    check(&shard, "merge the shards first");
    // A sweep that has not finished.
    let sw = dir.path().join("sw");
    ok(&[
        "sweep",
        "tests/fixtures/sweeps/small.toml",
        "--out",
        sw.to_str().unwrap(),
        "-q",
    ]);
    std::fs::remove_file(sw.join("points.csv")).unwrap();
    check(&sw, "partial sweep");
    // Killed after points.csv, while the per-run tables were written (found
    // by a user: the report was drawn from it).
    let series = dir.path().join("series");
    ok(&[
        "sweep",
        "tests/fixtures/sweeps/series.toml",
        "--out",
        series.to_str().unwrap(),
        "-q",
    ]);
    ok(&["report", series.to_str().unwrap()]);
    let kept = series.join("timeseries.parquet");
    std::fs::rename(&kept, series.join("timeseries.parquet.tmp")).unwrap();
    check(&series, "no timeseries.parquet");
    std::fs::rename(series.join("timeseries.parquet.tmp"), &kept).unwrap();
    std::fs::write(series.join("runs.partial.csv"), "").unwrap();
    check(&series, "runs.partial.csv is still there");
    // The runs journal goes once every file is written: a series journal
    // left after it is a cleanup cut short, which a resume clears.
    std::fs::remove_file(series.join("runs.partial.csv")).unwrap();
    std::fs::write(series.join("timeseries.partial.csv"), "").unwrap();
    ok(&["report", series.to_str().unwrap()]);
    ok(&[
        "sweep",
        "tests/fixtures/sweeps/series.toml",
        "--out",
        series.to_str().unwrap(),
        "--resume",
        "-q",
    ]);
    assert!(!series.join("timeseries.partial.csv").exists());
    // --report needs --out.
    let o = run(&[
        "compare",
        "baseline",
        "faster-approvals",
        "--replicates",
        "2",
        "--report",
    ]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("--report needs --out"));
}

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|b| {
            let o = Command::new("sh")
                .args(["-c", &format!("command -v {b}")])
                .output()
                .ok()?;
            o.status
                .success()
                .then(|| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        })
}

#[test]
fn the_report_renders_in_headless_chromium() {
    let Some(browser) = chromium() else {
        eprintln!("SKIPPED: no Chromium here (`.ci/run` installs Debian's chromium package)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = small_compare(dir.path());
    let shot = dir.path().join("shot.png");
    let profile = dir.path().join("profile");
    let (w, h) = (1000u32, 3000u32);
    let o = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--window-size={w},{h}"))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", out.join("report.html").display()))
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(shot.is_file(), "no screenshot: {log}");
    // No console errors from the page (it has no script; a broken inline
    // SVG or a blocked resource would show here).
    for line in log.lines() {
        assert!(!line.contains(":CONSOLE"), "console message: {line}");
        assert!(!line.contains("Uncaught"), "{line}");
        assert!(!line.contains("net::ERR_"), "a fetch: {line}");
    }
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (w, h), "screenshot size");
    let bytes = &buf[..info.buffer_size()];
    let channels = info.line_size / info.width as usize;
    let px = bytes.chunks(channels);
    let total = (info.width * info.height) as usize;
    let inked = px
        .clone()
        .filter(|p| p[..3].iter().any(|&c| c < 200))
        .count();
    let coloured = px
        .filter(|p| {
            let (r, g, b) = (p[0] as i32, p[1] as i32, p[2] as i32);
            (r - g).abs() > 40 || (g - b).abs() > 40 || (r - b).abs() > 40
        })
        .count();
    // Text and tables ink the page; the charts' lines and bands colour it.
    assert!(
        inked * 50 > total,
        "the page looks blank: {inked} of {total} pixels inked"
    );
    assert!(
        coloured > 2000,
        "no chart colours rendered: {coloured} coloured pixels"
    );
}
