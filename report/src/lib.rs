//! dibsim-report: one self-contained HTML page (inline SVG and CSS, no
//! script, no network) from the output folder of `compare --out` or
//! `sweep --out`, reproducible from itself: it lists the settings, seeds,
//! replicate count and dibsim version behind every number.
//!
//! Everything is read and checked before anything is written, and the page
//! is written atomically, so a folder that is empty, partial or from another
//! dibsim version gives an error and never half a page.

pub mod charts;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use self::charts::{Line, ParamSeries, Values, Whisker};
use dibsim_experiments::compare_files::{self as data, CompareManifest, CompareRow, SeriesRow};
use dibsim_experiments::output::write_atomic;
use dibsim_experiments::sweep;

/// A chart and the table of the numbers behind it.
struct Figure {
    id: String,
    svg: String,
    table: String,
    note: String,
}

/// Writes the report of `dir` to `out` (and each chart to `svg_dir`).
pub fn write(dir: &Path, out: &Path, svg_dir: Option<&Path>) -> Result<()> {
    if !dir.is_dir() {
        bail!("{} is not a folder", dir.display());
    }
    let manifest_path = dir.join("manifest.json");
    if !manifest_path.is_file() {
        let empty = std::fs::read_dir(dir)
            .map(|mut d| d.next().is_none())
            .unwrap_or(true);
        if empty {
            bail!(
                "{} is empty: run `dibsim compare --out {0}` or `dibsim sweep FILE --out {0}` first",
                dir.display()
            );
        }
        bail!(
            "{} has no manifest.json: it is not the output of `dibsim compare --out` or `dibsim sweep --out` (or it was written by an older dibsim; re-run it)",
            dir.display()
        );
    }
    let text = std::fs::read_to_string(&manifest_path)
        .with_context(|| format!("cannot read {}", manifest_path.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not valid JSON (a partial write?)",
            manifest_path.display()
        )
    })?;
    let version = json["dibsim_version"]
        .as_str()
        .unwrap_or("an unknown version");
    if version != env!("CARGO_PKG_VERSION") {
        bail!(
            "{} was written by dibsim {version}; this is dibsim {}: re-run the compare or sweep with this version to report it",
            dir.display(),
            env!("CARGO_PKG_VERSION")
        );
    }
    let (title, header, figures, footer) = if json.get("runs_schema").is_some() {
        sweep_report(dir, &text)?
    } else if json["kind"] == "compare" {
        let m: CompareManifest = serde_json::from_value(json)
            .with_context(|| format!("{} is not a compare manifest", manifest_path.display()))?;
        compare_report(dir, &m)?
    } else {
        bail!("{}: unknown kind of output", manifest_path.display());
    };
    let page = page(&title, &header, &figures, &footer);
    if let Some(sd) = svg_dir {
        std::fs::create_dir_all(sd).with_context(|| format!("cannot create {}", sd.display()))?;
        for f in &figures {
            write_atomic(&sd.join(format!("{}.svg", f.id)), f.svg.as_bytes())?;
        }
    }
    write_atomic(out, page.as_bytes())?;
    Ok(())
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A table cell showing `shown` and carrying the exact value.
fn cell(value: f64, shown: String) -> String {
    if value.is_nan() {
        "<td data-value=\"\">n/a</td>".into()
    } else {
        format!("<td data-value=\"{value}\">{}</td>", esc(&shown))
    }
}

fn pct(x: f64) -> String {
    format!("{:.2}", 100.0 * x)
}

fn page(title: &str, header: &str, figures: &[Figure], footer: &str) -> String {
    let mut s = String::new();
    s.push_str("<!DOCTYPE html>\n<html lang=\"en\" xmlns=\"http://www.w3.org/1999/xhtml\">\n<head>\n<meta charset=\"utf-8\"/>\n");
    let _ = writeln!(s, "<title>{}</title>", esc(title));
    s.push_str(
        "<style>\n\
         body { font-family: sans-serif; max-width: 860px; margin: 2em auto; color: #222; line-height: 1.4; }\n\
         h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }\n\
         figure { margin: 1.5em 0; page-break-inside: avoid; break-inside: avoid; }\n\
         figcaption { font-size: 0.9em; color: #444; }\n\
         svg { max-width: 100%; height: auto; }\n\
         table { border-collapse: collapse; font-size: 0.8em; margin: 0.5em 0; }\n\
         th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: right; }\n\
         th:first-child, td:first-child { text-align: left; }\n\
         .settings td { text-align: left; }\n\
         @media print { body { max-width: none; } h2 { page-break-before: auto; } }\n\
         </style>\n</head>\n<body>\n",
    );
    let _ = writeln!(s, "<h1>{}</h1>", esc(title));
    s.push_str(header);
    let mut section = "";
    for f in figures {
        let sec = f.id.split('-').next().unwrap_or("");
        if sec != section {
            section = sec;
            let heading = match sec {
                "share" => "Share of deliveries over time",
                "delta" => "Difference from the baseline",
                "focal" => "The focal exporter's lines: backlog, capacity, utilisation",
                "wait" => "Quoted and realised delivery times",
                "sweep" => "Swept parameters against the share",
                "summary" => "The answer: what each lever did",
                "attribution" => "Where the change comes from",
                "lags" => "From order to delivery",
                "sensitivity" => "Which uncertain inputs matter",
                "discovery" => "Where the outcome holds (scenario discovery)",
                _ => "Charts",
            };
            let _ = writeln!(s, "<h2 id=\"{sec}\">{heading}</h2>");
        }
        let _ = writeln!(
            s,
            "<figure id=\"{}\">\n{}\n<figcaption>{}</figcaption>\n{}\n</figure>",
            esc(&f.id),
            f.svg.trim(),
            esc(&f.note),
            f.table
        );
    }
    s.push_str(footer);
    s.push_str("</body>\n</html>\n");
    s
}

fn settings_table(rows: &[(String, String)]) -> String {
    let mut t = String::from("<table class=\"settings\">\n");
    for (k, v) in rows {
        let _ = writeln!(t, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v));
    }
    t.push_str("</table>\n");
    t
}

type Parts = (String, String, Vec<Figure>, String);

fn compare_report(dir: &Path, m: &CompareManifest) -> Result<Parts> {
    let need = |f: &str| -> Result<PathBuf> {
        let p = dir.join(f);
        if !p.is_file() {
            bail!(
                "{} is partial: it has manifest.json but no {f}; re-run `dibsim compare --out {}`",
                dir.display(),
                dir.display()
            );
        }
        Ok(p)
    };
    let rows: Vec<CompareRow> = data::read_csv(&need("compare.csv")?)?;
    let series: Vec<SeriesRow> = data::read_csv(&need("series.csv")?)?;
    let names: Vec<&str> = m.scenarios.iter().map(|s| s.name.as_str()).collect();
    for n in &names {
        if !rows.iter().any(|r| &r.scenario == n) {
            bail!(
                "{} is partial: compare.csv has no rows for scenario `{n}`",
                dir.display()
            );
        }
        if !series.iter().any(|r| &r.scenario == n) {
            bail!(
                "{} is partial: series.csv has no rows for scenario `{n}`",
                dir.display()
            );
        }
    }
    let per_scenario = |n: &str| series.iter().filter(|r| r.scenario == n).count();
    let expected = per_scenario(names[0]);
    for n in &names[1..] {
        if per_scenario(n) != expected {
            bail!(
                "{} is partial: series.csv has {} rows for `{n}` but {expected} for `{}`",
                dir.display(),
                per_scenario(n),
                names[0]
            );
        }
    }
    let [from, to] = m.window;
    // Series by (scenario, exporter, metric).
    let mut by: BTreeMap<(&str, &str, &str), Vec<&SeriesRow>> = BTreeMap::new();
    for r in &series {
        by.entry((r.scenario.as_str(), r.exporter.as_str(), r.metric.as_str()))
            .or_default()
            .push(r);
    }
    let year_of = |r: &SeriesRow| r.year as f64 + (r.month % 12) as f64 / 12.0;
    let line = |scenario: &str,
                exporter: &str,
                metric: &str,
                label: String,
                style: usize,
                reference: bool|
     -> Option<Line> {
        let rs = by.get(&(scenario, exporter, metric))?;
        Some(Line {
            label,
            x: rs.iter().map(|r| year_of(r)).collect(),
            mean: rs.iter().map(|r| r.mean).collect(),
            lo: rs.iter().map(|r| r.lo).collect(),
            hi: rs.iter().map(|r| r.hi).collect(),
            style,
            reference,
        })
    };
    // Major exporters: the five largest in the baseline's window, and the focal one.
    let mut base_rows: Vec<&CompareRow> =
        rows.iter().filter(|r| r.scenario == m.baseline).collect();
    base_rows.sort_by(|a, b| b.share_mean.total_cmp(&a.share_mean));
    let mut major: Vec<String> = base_rows
        .iter()
        .take(5)
        .map(|r| r.exporter.clone())
        .collect();
    if !major.contains(&m.focal_exporter) {
        major.insert(0, m.focal_exporter.clone());
    }
    let mut figures = Vec::new();
    let yearly_table = |lines: &[Line], percent: bool| -> String {
        let mut t = String::from("<table>\n<tr><th>year (December)</th>");
        for l in lines {
            let _ = write!(t, "<th>{}</th>", esc(&l.label));
        }
        t.push_str("</tr>\n");
        let n = lines.iter().map(|l| l.x.len()).max().unwrap_or(0);
        for k in (11..n).step_by(12) {
            let _ = write!(
                t,
                "<tr><td>{:.0}</td>",
                lines[0].x.get(k).copied().unwrap_or(f64::NAN).floor()
            );
            for l in lines {
                let v = l.mean.get(k).copied().unwrap_or(f64::NAN);
                t.push_str(&cell(v, if percent { pct(v) } else { format!("{v:.1}") }));
            }
            t.push_str("</tr>\n");
        }
        t.push_str("</table>\n");
        t
    };
    for (si, s) in names.iter().enumerate() {
        let mut lines = Vec::new();
        for (k, e) in major.iter().enumerate() {
            if let Some(l) = line(s, e, "share_60m", e.clone(), k, false) {
                lines.push(l);
            }
            if si > 0 {
                if let Some(l) = line(
                    &m.baseline,
                    e,
                    "share_60m",
                    format!("{e} ({})", m.baseline),
                    k,
                    true,
                ) {
                    lines.push(l);
                }
            }
        }
        let title = format!("{s}: share of world arms deliveries, trailing 60 months");
        let svg = charts::time_chart(&title, "share of foreign deliveries (%)", &lines, true)?;
        let solid: Vec<Line> = lines.into_iter().filter(|l| !l.reference).collect();
        figures.push(Figure {
            id: format!("share-{si}"),
            table: yearly_table(&solid, true),
            svg,
            note: if si == 0 {
                format!(
                    "Mean over {} replicates with its 95% band. Table: the mean share (%) each December.",
                    m.replicates
                )
            } else {
                format!(
                    "Mean over {} replicates with its 95% band; dashed: the same exporter in the baseline ({}). Table: the mean share (%) each December.",
                    m.replicates, m.baseline
                )
            },
        });
    }
    // Deltas by exporter, per scenario.
    for (si, s) in names.iter().enumerate().skip(1) {
        let rs: Vec<&CompareRow> = rows.iter().filter(|r| &r.scenario == s).collect();
        let whiskers: Vec<Whisker> = rs
            .iter()
            .filter(|r| major.contains(&r.exporter))
            .map(|r| Whisker {
                label: r.exporter.clone(),
                mean: 100.0 * r.delta_mean,
                lo: 100.0 * r.delta_lo,
                hi: 100.0 * r.delta_hi,
            })
            .collect();
        let title = format!(
            "{s} against {}: share {from}-{to}, percentage points",
            m.baseline
        );
        let svg = charts::dot_whisker(
            &title,
            "difference from the baseline (percentage points)",
            &whiskers,
            Values::Differences,
        )?;
        let mut t = String::from("<table>\n<tr><th>exporter</th><th>share %</th><th>95% CI</th><th>vs baseline (pp)</th><th>95% CI</th></tr>\n");
        for r in &rs {
            let _ = writeln!(
                t,
                "<tr><td>{}</td>{}<td>[{}, {}]</td>{}<td>[{:+.2}, {:+.2}]</td></tr>",
                esc(&r.exporter),
                cell(r.share_mean, pct(r.share_mean)),
                pct(r.share_lo),
                pct(r.share_hi),
                cell(r.delta_mean, format!("{:+.2}", 100.0 * r.delta_mean)),
                100.0 * r.delta_lo,
                100.0 * r.delta_hi
            );
        }
        t.push_str("</table>\n");
        figures.push(Figure {
            id: format!("delta-{si}"),
            svg,
            table: t,
            note: format!(
                "Dots: mean paired difference over {} replicates (common random numbers); whiskers: 95% interval. Filled: the interval excludes zero.",
                m.replicates
            ),
        });
    }
    // The focal exporter's lines, all scenarios.
    let focal = &m.focal_exporter;
    let metrics: [(&str, &str, &str, bool); 4] = [
        ("backlog_foreign_tiv", "foreign backlog", "TIV", false),
        ("capacity_tiv", "capacity", "TIV per month", false),
        ("production_tiv", "production", "TIV per month", false),
        (
            "utilisation",
            "utilisation (production / capacity)",
            "share of capacity (%)",
            true,
        ),
    ];
    for (k, (metric, what, unit, percent)) in metrics.iter().enumerate() {
        let lines: Vec<Line> = names
            .iter()
            .enumerate()
            .filter_map(|(si, s)| line(s, focal, metric, s.to_string(), si, false))
            .collect();
        let title = format!("{focal}: {what}");
        let svg = charts::time_chart(&title, unit, &lines, *percent)?;
        figures.push(Figure {
            id: format!("focal-{k}"),
            table: yearly_table(&lines, *percent),
            svg,
            note: format!(
                "Mean over {} replicates with its 95% band, by scenario. Table: each December.",
                m.replicates
            ),
        });
    }
    for (si, s) in names.iter().enumerate() {
        let lines: Vec<Line> = [
            ("realised_wait_months_12m", "realised", false),
            ("quoted_wait_months_12m", "quoted", true),
        ]
        .iter()
        .filter_map(|(metric, label, reference)| {
            line(
                s,
                focal,
                metric,
                label.to_string(),
                if *reference { 1 } else { 0 },
                *reference,
            )
        })
        .collect();
        let title = format!("{s}: delivery times of {focal}, quoted and realised");
        let svg = charts::time_chart(&title, "months from order to delivery", &lines, false)?;
        figures.push(Figure {
            id: format!("wait-{si}"),
            table: yearly_table(&lines, false),
            svg,
            note: "Completion-weighted means over the trailing 12 months; realised with its 95% band, quoted dashed.".into(),
        });
    }
    // The answer first: each lever's effect on the focal share, sorted.
    let summary = summary_section(dir, m, &rows, &series, &names)?;
    figures.splice(0..0, summary.figures);
    // Settings and seeds close the page.
    let settings = settings_table(&[
        ("dibsim version".into(), m.dibsim_version.clone()),
        (
            "model version".into(),
            format!("dibsim model {} (docs/model.md)", m.model_version),
        ),
        ("baseline".into(), m.baseline.clone()),
        ("scenarios".into(), names.join(", ")),
        ("focal exporter".into(), m.focal_exporter.clone()),
        ("window".into(), format!("{from}-{to}")),
        ("replicates".into(), m.replicates.to_string()),
        ("base seed".into(), m.seed.to_string()),
        (
            "run seeds (replicate 0, 1, ...; the same in every scenario)".into(),
            m.run_seeds
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(" "),
        ),
        (
            "--set".into(),
            if m.sets.is_empty() {
                "(none)".into()
            } else {
                m.sets.join(" ")
            },
        ),
        (
            "plugins run (path, name, version, SHA-256)".into(),
            if m.plugin_provenance.is_empty() {
                "(none)".into()
            } else {
                m.plugin_provenance
                    .iter()
                    .map(|p| format!("{} {} {} {}", p.path, p.name, p.version, p.sha256))
                    .collect::<Vec<_>>()
                    .join("; ")
            },
        ),
        (
            "--plugin".into(),
            if m.plugins.is_empty() {
                "(none)".into()
            } else {
                m.plugins.join(" ")
            },
        ),
        (
            "reproduce".into(),
            format!(
                "dibsim compare {} --replicates {} --seed {} --from {from} --to {to}{}",
                m.scenarios
                    .iter()
                    .map(|s| match s.source.strip_prefix("bundled:") {
                        Some(b) => b.trim_end_matches(".toml").to_string(),
                        None => s.source.clone(),
                    })
                    .collect::<Vec<_>>()
                    .join(" "),
                m.replicates,
                m.seed,
                m.sets
                    .iter()
                    .map(|s| format!(" --set {s}"))
                    .chain(m.plugins.iter().map(|p| format!(" --plugin {p}")))
                    .collect::<String>()
            ),
        ),
    ]);
    // After the charts: what differs from the baseline, compare.csv, settings.
    let mut h = String::new();
    h.push_str("<h2 id=\"differences\">Scenario settings that differ from the baseline</h2>\n");
    for s in m.scenarios.iter().skip(1) {
        let _ = writeln!(
            h,
            "<h3>{}</h3>\n<p>{}</p>",
            esc(&s.name),
            esc(&s.description)
        );
        if s.differs.is_empty() {
            h.push_str("<p>(no difference)</p>\n");
            continue;
        }
        h.push_str(
            "<table class=\"settings\">\n<tr><th>field</th><th>here</th><th>baseline</th></tr>\n",
        );
        for (k, v, b) in &s.differs {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(k),
                esc(v),
                esc(b)
            );
        }
        h.push_str("</table>\n");
    }
    h.push_str(&format!(
        "<h2 id=\"compare-table\">Shares {from}-{to} (compare.csv)</h2>\n<table id=\"compare-csv\">\n<tr><th>scenario</th><th>exporter</th><th>share %</th><th>lo</th><th>hi</th><th>vs baseline (pp)</th><th>lo</th><th>hi</th><th>replicates</th></tr>\n"
    ));
    for r in &rows {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td>{}{}{}{}{}{}<td>{}</td></tr>",
            esc(&r.scenario),
            esc(&r.exporter),
            cell(r.share_mean, pct(r.share_mean)),
            cell(r.share_lo, pct(r.share_lo)),
            cell(r.share_hi, pct(r.share_hi)),
            cell(r.delta_mean, format!("{:+.2}", 100.0 * r.delta_mean)),
            cell(r.delta_lo, format!("{:+.2}", 100.0 * r.delta_lo)),
            cell(r.delta_hi, format!("{:+.2}", 100.0 * r.delta_hi)),
            r.replicates
        );
    }
    h.push_str("</table>\n");
    h.push_str("<h2 id=\"settings\">Settings and seeds</h2>\n");
    h.push_str(&settings);
    let header = summary.text;
    Ok((
        format!(
            "dibsim compare: {} against {}",
            names[1..].join(", "),
            m.baseline
        ),
        header,
        figures,
        h,
    ))
}

fn sweep_report(dir: &Path, manifest_text: &str) -> Result<Parts> {
    let m: sweep::Manifest = serde_json::from_str(manifest_text)
        .with_context(|| format!("{}/manifest.json is not a sweep manifest", dir.display()))?;
    if m.range != [0, m.runs] {
        bail!(
            "{} holds shard {}/{} of sweep `{}` (runs {}..{} of {}): merge the shards first (`dibsim merge DIR... --out MERGED`) and report the merged folder",
            dir.display(),
            m.shard.index,
            m.shard.count,
            m.name,
            m.range[0],
            m.range[1],
            m.runs
        );
    }
    let points = dir.join("points.csv");
    if !points.is_file() {
        bail!(
            "{} is a partial sweep (no points.csv): finish it with `dibsim sweep FILE --out {} --resume` (or merge its shards) first",
            dir.display(),
            dir.display()
        );
    }
    // points.csv is written before the per-run tables: a sweep killed in
    // between has it but is not finished.
    if let Some(why) = m.unfinished(dir) {
        bail!(
            "{} is a partial sweep ({why}: it stopped while writing its files): finish it with `dibsim sweep FILE --out {} --resume` first",
            dir.display(),
            dir.display()
        );
    }
    let mut rdr = csv::Reader::from_path(&points)
        .with_context(|| format!("cannot read {}", points.display()))?;
    let header: Vec<String> = rdr.headers()?.iter().map(str::to_string).collect();
    let recs: Vec<csv::StringRecord> = rdr
        .records()
        .collect::<Result<_, _>>()
        .with_context(|| format!("cannot read {}", points.display()))?;
    if recs.is_empty() {
        bail!("{} has no rows", points.display());
    }
    let col = |name: &str| header.iter().position(|h| h == name);
    let num = |r: &csv::StringRecord, i: usize| {
        r.get(i)
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    let axes: Vec<String> = m.axes.iter().map(|a| a.path.clone()).collect();
    let mut figures = Vec::new();
    // A sensitivity sweep: its indices and any discovery, not its points.
    if m.design.is_some() {
        if !dir.join("sensitivity.csv").is_file() {
            bail!(
                "{} is a sensitivity sweep without sensitivity.csv: run `dibsim analyze {}` first",
                dir.display(),
                dir.display()
            );
        }
        figures.extend(sensitivity_figures(dir)?);
        figures.extend(discovery_figures(dir)?);
        let h = sweep_settings(&m);
        return Ok((
            format!("dibsim sweep: {} (sensitivity)", m.name),
            h,
            figures,
            String::new(),
        ));
    }
    let shares: Vec<&sweep::spec::MetricColumn> =
        m.metrics.iter().filter(|c| c.metric == "share").collect();
    if shares.is_empty() {
        bail!(
            "{}: the sweep kept no `share` metric to chart",
            dir.display()
        );
    }
    for (k, sc) in shares.iter().enumerate() {
        let (mi, lo, hi) = (
            col(&format!("{}_mean", sc.name)),
            col(&format!("{}_lo", sc.name)),
            col(&format!("{}_hi", sc.name)),
        );
        let (Some(mi), Some(lo), Some(hi)) = (mi, lo, hi) else {
            bail!(
                "{}: points.csv lacks the columns of {}",
                dir.display(),
                sc.name
            );
        };
        let label = format!("{} share {}-{}", sc.exporter, sc.from, sc.to);
        let numeric: Vec<usize> = axes
            .iter()
            .filter_map(|a| col(a))
            .filter(|&i| recs.iter().all(|r| num(r, i).is_finite()))
            .collect();
        let mut table = String::from("<table>\n<tr><th>point</th>");
        for a in &axes {
            let _ = write!(table, "<th>{}</th>", esc(a));
        }
        table.push_str("<th>runs</th><th>mean %</th><th>lo</th><th>hi</th></tr>\n");
        for r in &recs {
            let _ = write!(table, "<tr><td>{}</td>", esc(r.get(0).unwrap_or("")));
            for a in &axes {
                let _ = write!(
                    table,
                    "<td>{}</td>",
                    esc(col(a).and_then(|i| r.get(i)).unwrap_or(""))
                );
            }
            let runs = col("runs").and_then(|i| r.get(i)).unwrap_or("");
            let _ = writeln!(
                table,
                "<td>{}</td>{}{}{}</tr>",
                esc(runs),
                cell(num(r, mi), pct(num(r, mi))),
                cell(num(r, lo), pct(num(r, lo))),
                cell(num(r, hi), pct(num(r, hi)))
            );
        }
        table.push_str("</table>\n");
        // The other swept parameters (text, booleans) of a point, as a label.
        let others = |r: &csv::StringRecord| -> String {
            axes.iter()
                .filter_map(|a| col(a))
                .filter(|i| !numeric.contains(i))
                .map(|i| format!("{}={}", header[i], r.get(i).unwrap_or("")))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let (svg, note) = match numeric.len() {
            // Only text or boolean parameters: one row per point.
            0 => {
                let rows: Vec<Whisker> = recs
                    .iter()
                    .map(|r| Whisker {
                        label: match others(r) {
                            l if l.is_empty() => format!("point {}", r.get(0).unwrap_or("")),
                            l => l,
                        },
                        mean: 100.0 * num(r, mi),
                        lo: 100.0 * num(r, lo),
                        hi: 100.0 * num(r, hi),
                    })
                    .collect();
                (
                    charts::dot_whisker(
                        &format!("{label} by point"),
                        &format!("{label} (%), 95% interval"),
                        &rows,
                        Values::Levels,
                    )?,
                    format!(
                        "Mean over {} replicates per point, with 95% intervals.",
                        m.replicates
                    ),
                )
            }
            // One numeric parameter: a line against it for each value of
            // the others.
            1 => {
                let i = numeric[0];
                let mut series: Vec<ParamSeries> = Vec::new();
                for r in &recs {
                    let name = others(r);
                    let k = match series.iter().position(|s| s.label == name) {
                        Some(k) => k,
                        None => {
                            series.push(ParamSeries {
                                label: name,
                                pts: Vec::new(),
                            });
                            series.len() - 1
                        }
                    };
                    series[k]
                        .pts
                        .push((num(r, i), num(r, mi), num(r, lo), num(r, hi)));
                }
                for s in &mut series {
                    s.pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                }
                (
                    charts::param_line(
                        &format!("{label} against {}", header[i]),
                        &header[i],
                        &format!("{label} (%)"),
                        &series,
                    )?,
                    format!(
                        "Mean over {} replicates per point, with 95% intervals{}.",
                        m.replicates,
                        if series.len() > 1 {
                            "; a line for each value of the other swept parameters"
                        } else {
                            ""
                        }
                    ),
                )
            }
            _ => {
                let (i, j) = (numeric[0], numeric[1]);
                let mut xs: Vec<f64> = recs.iter().map(|r| num(r, i)).collect();
                let mut ys: Vec<f64> = recs.iter().map(|r| num(r, j)).collect();
                xs.sort_by(f64::total_cmp);
                xs.dedup();
                ys.sort_by(f64::total_cmp);
                ys.dedup();
                // Mean over any further axes.
                let mut grid = vec![vec![(0.0, 0usize); ys.len()]; xs.len()];
                for r in &recs {
                    let (x, y, v) = (num(r, i), num(r, j), num(r, mi));
                    if let (Some(a), Some(b)) = (
                        xs.iter().position(|q| *q == x),
                        ys.iter().position(|q| *q == y),
                    ) {
                        if v.is_finite() {
                            grid[a][b].0 += v;
                            grid[a][b].1 += 1;
                        }
                    }
                }
                let cellv = |a: usize, b: usize| {
                    if grid[a][b].1 > 0 {
                        grid[a][b].0 / grid[a][b].1 as f64
                    } else {
                        f64::NAN
                    }
                };
                (
                    charts::heat_map(
                        &format!("{label}: mean over replicates"),
                        &header[i],
                        &header[j],
                        &xs,
                        &ys,
                        &cellv,
                    )?,
                    format!(
                        "Mean over {} replicates per cell{}; intervals in the table.",
                        m.replicates,
                        if axes.iter().filter(|a| col(a).is_some()).count() > 2 {
                            " (and over the other swept parameters)"
                        } else {
                            ""
                        }
                    ),
                )
            }
        };
        figures.push(Figure {
            id: format!("sweep-{k}"),
            svg,
            table,
            note,
        });
    }
    let h = settings_table(&[
        ("dibsim version".into(), m.dibsim_version.clone()),
        (
            "model version".into(),
            format!("dibsim model {} (docs/model.md)", m.model_version),
        ),
        ("sweep".into(), m.name.clone()),
        ("sweep file".into(), m.sweep_file.clone()),
        ("base scenario".into(), m.base.clone()),
        ("swept parameters".into(), axes.join(", ")),
        (
            "points x replicates".into(),
            format!("{} x {} = {} runs", m.points, m.replicates, m.runs),
        ),
        ("base seed".into(), m.seed.to_string()),
        (
            "common random numbers".into(),
            m.common_random_numbers.to_string(),
        ),
        (
            "run seeds".into(),
            "in runs.parquet / runs.csv, one per run".into(),
        ),
        ("fingerprint".into(), m.fingerprint.clone()),
        ("reproduce".into(), format!("dibsim sweep {}", m.sweep_file)),
    ]);
    figures.extend(discovery_figures(dir)?);
    Ok((
        format!("dibsim sweep: {}", m.name),
        h,
        figures,
        String::new(),
    ))
}

/// The settings block of a sweep report.
fn sweep_settings(m: &sweep::Manifest) -> String {
    let mut rows = vec![
        ("dibsim version".to_string(), m.dibsim_version.clone()),
        (
            "model version".into(),
            format!("dibsim model {} (docs/model.md)", m.model_version),
        ),
        ("sweep".into(), m.name.clone()),
        ("sweep file".into(), m.sweep_file.clone()),
        ("base scenario".into(), m.base.clone()),
        (
            "points x replicates".into(),
            format!("{} x {} = {} runs", m.points, m.replicates, m.runs),
        ),
        ("seed".into(), m.seed.to_string()),
        ("fingerprint".into(), m.fingerprint.clone()),
        ("reproduce".into(), format!("dibsim sweep {}", m.sweep_file)),
    ];
    if let Some(d) = &m.design {
        rows.push((
            "design".into(),
            format!(
                "{} ({} {}{}), {} row(s) x {} group(s)",
                d.kind,
                d.samples,
                if d.kind == "saltelli" {
                    "base samples"
                } else {
                    "trajectories"
                },
                if d.second_order { ", second order" } else { "" },
                d.rows,
                d.groups
            ),
        ));
        for u in &d.uncertain {
            rows.push((
                format!("uncertain: {}", u.path),
                format!(
                    "{} on [{}, {}]: {}",
                    format!("{:?}", u.distribution).to_lowercase(),
                    u.bounds[0],
                    u.bounds[1],
                    u.reason
                ),
            ));
        }
    }
    settings_table(&rows)
}

#[derive(Debug, Clone, serde::Deserialize)]
struct SensitivityRow {
    metric: String,
    group: String,
    parameter: String,
    index: String,
    #[serde(deserialize_with = "nan_if_empty")]
    value: f64,
    #[serde(deserialize_with = "nan_if_empty")]
    lo: f64,
    #[serde(deserialize_with = "nan_if_empty")]
    hi: f64,
}

/// One chart per metric and group: S1 and ST (or mu*) with intervals, the
/// parameters ranked by ST (or mu*), and the table of every index under it.
fn sensitivity_figures(dir: &Path) -> Result<Vec<Figure>> {
    let rows: Vec<SensitivityRow> = data::read_csv(&dir.join("sensitivity.csv"))?;
    let mut keys: Vec<(String, String)> = Vec::new();
    for r in &rows {
        let k = (r.metric.clone(), r.group.clone());
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    let mut figures = Vec::new();
    for (n, (metric, group)) in keys.iter().enumerate() {
        let these: Vec<&SensitivityRow> = rows
            .iter()
            .filter(|r| &r.metric == metric && &r.group == group)
            .collect();
        let main = if these.iter().any(|r| r.index == "ST") {
            "ST"
        } else {
            "mu_star"
        };
        let side = if main == "ST" { Some("S1") } else { None };
        let mut ranked: Vec<&&SensitivityRow> = these.iter().filter(|r| r.index == main).collect();
        ranked.sort_by(|a, b| b.value.total_cmp(&a.value));
        let mut whiskers = Vec::new();
        for r in &ranked {
            whiskers.push(Whisker {
                label: format!("{} ({main})", r.parameter),
                mean: r.value,
                lo: r.lo,
                hi: r.hi,
            });
            if let Some(side) = side {
                if let Some(s1) = these
                    .iter()
                    .find(|x| x.index == side && x.parameter == r.parameter)
                {
                    whiskers.push(Whisker {
                        label: format!("{} ({side})", s1.parameter),
                        mean: s1.value,
                        lo: s1.lo,
                        hi: s1.hi,
                    });
                }
            }
        }
        let svg = charts::dot_whisker(
            &format!("{metric}: {group}"),
            if main == "ST" {
                "Sobol index (total ST, first-order S1), 95% bootstrap interval"
            } else {
                "Morris mu* (mean absolute elementary effect), 95% bootstrap interval"
            },
            &whiskers,
            Values::Differences,
        )?;
        let mut table = String::from(
            "<table>\n<tr><th>parameter</th><th>index</th><th>value</th><th>lo</th><th>hi</th></tr>\n",
        );
        for r in &these {
            let _ = writeln!(
                table,
                "<tr><td>{}</td><td>{}</td>{}{}{}</tr>",
                esc(&r.parameter),
                esc(&r.index),
                cell(r.value, format!("{:.3}", r.value)),
                cell(r.lo, format!("{:.3}", r.lo)),
                cell(r.hi, format!("{:.3}", r.hi)),
            );
        }
        table.push_str("</table>\n");
        let noise = these
            .iter()
            .find(|r| r.index == "share_of_mean_variance")
            .map(|r| {
                format!(
                    " Replicate noise is {:.1}% of the variance of the point means.",
                    100.0 * r.value
                )
            })
            .unwrap_or_default();
        figures.push(Figure {
            id: format!("sensitivity-{n}"),
            svg,
            table,
            note: format!("Which uncertain inputs drive {metric} ({group}): indices on the replicate mean of each design point (sensitivity.csv).{noise}"),
        });
    }
    Ok(figures)
}

/// The PRIM trajectory and the chosen box, where `dibsim discover` ran.
fn discovery_figures(dir: &Path) -> Result<Vec<Figure>> {
    let (json_path, csv_path) = (dir.join("discovery.json"), dir.join("discovery.csv"));
    if !json_path.is_file() || !csv_path.is_file() {
        return Ok(Vec::new());
    }
    let j: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&json_path)
            .with_context(|| format!("cannot read {}", json_path.display()))?,
    )
    .with_context(|| format!("{} is not valid JSON", json_path.display()))?;
    #[derive(serde::Deserialize)]
    struct Step {
        #[serde(rename = "box")]
        index: usize,
        coverage: f64,
        density: f64,
        mass: f64,
        restricted: String,
        chosen: bool,
    }
    let steps: Vec<Step> = data::read_csv(&csv_path)?;
    let pts: Vec<(f64, f64, f64, f64)> = steps
        .iter()
        .map(|s| (s.coverage, s.density, s.density, s.density))
        .collect();
    let question = format!(
        "{} {} {}{}",
        j["metric"].as_str().unwrap_or("?"),
        j["cases"].as_str().unwrap_or("?"),
        j["threshold"],
        if j["delta"].as_bool().unwrap_or(false) {
            " (difference between scenarios)"
        } else {
            ""
        }
    );
    let svg = charts::param_line(
        &format!("PRIM peeling trajectory: {question}"),
        "coverage (share of the cases of interest inside the box)",
        "density (share of the box that is of interest)",
        &[ParamSeries {
            label: String::new(),
            pts,
        }],
    )?;
    let mut table = String::from(
        "<table>\n<tr><th>box</th><th>coverage</th><th>density</th><th>mass</th><th>restricted inputs</th></tr>\n",
    );
    for s in &steps {
        let _ = writeln!(
            table,
            "<tr><td>{}{}</td>{}{}{}<td>{}</td></tr>",
            s.index,
            if s.chosen { " (chosen)" } else { "" },
            cell(s.coverage, format!("{:.3}", s.coverage)),
            cell(s.density, format!("{:.3}", s.density)),
            cell(s.mass, format!("{:.3}", s.mass)),
            esc(&s.restricted)
        );
    }
    table.push_str("</table>\n<table>\n<tr><th>input</th><th>box low</th><th>box high</th></tr>\n");
    if let Some(limits) = j["limits"].as_object() {
        for (k, v) in limits {
            let (lo, hi) = (
                v[0].as_f64().unwrap_or(f64::NAN),
                v[1].as_f64().unwrap_or(f64::NAN),
            );
            let _ = writeln!(
                table,
                "<tr><td>{}</td>{}{}</tr>",
                esc(k),
                cell(lo, format!("{lo:.4}")),
                cell(hi, format!("{hi:.4}"))
            );
        }
    }
    table.push_str("</table>\n");
    Ok(vec![Figure {
        id: "discovery-prim".into(),
        svg,
        table,
        note: format!(
            "Scenario discovery (PRIM): where {question}. Each point is a box of the peeling trajectory; the chosen box (coverage {:.3}, density {:.3}) is limited as in the second table (discovery.csv, discovery.json).",
            j["coverage"].as_f64().unwrap_or(f64::NAN),
            j["density"].as_f64().unwrap_or(f64::NAN)
        ),
    }])
}

/// The opening of a compare report: sentences from the numbers, the forest
/// plot of every policy scenario's effect on the focal share (sorted by
/// effect) with the regime it holds in (the focal lines' utilisation and
/// delivery times over the window), and, where the folder has them, the
/// attribution of the change and the lags from order to delivery.
struct Summary {
    text: String,
    figures: Vec<Figure>,
}

#[derive(Debug, Clone, serde::Deserialize)]
struct AttributionRow {
    scenario: String,
    dimension: String,
    part: String,
    delta_tiv: f64,
    delta_share_pp: f64,
    delta_share_pp_lo: f64,
    delta_share_pp_hi: f64,
}

#[derive(Debug, Clone, serde::Deserialize)]
struct LagRow {
    scenario: String,
    exporter: String,
    #[serde(deserialize_with = "nan_if_empty")]
    to_first_delivery_months: f64,
    #[serde(deserialize_with = "nan_if_empty")]
    to_last_delivery_months: f64,
    #[serde(deserialize_with = "nan_if_empty")]
    to_last_lo: f64,
    #[serde(deserialize_with = "nan_if_empty")]
    to_last_hi: f64,
}

fn nan_if_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let s = <String as serde::Deserialize>::deserialize(d)?;
    if s.is_empty() {
        Ok(f64::NAN)
    } else {
        s.parse().map_err(serde::de::Error::custom)
    }
}

fn summary_section(
    dir: &Path,
    m: &CompareManifest,
    rows: &[CompareRow],
    series: &[SeriesRow],
    names: &[&str],
) -> Result<Summary> {
    let focal = &m.focal_exporter;
    let [from, to] = m.window;
    let mut effects: Vec<&CompareRow> = rows
        .iter()
        .filter(|r| &r.exporter == focal && r.scenario != m.baseline)
        .collect();
    effects.sort_by(|a, b| b.delta_mean.total_cmp(&a.delta_mean));
    // The regime: focal utilisation and realised delivery time over the window.
    let window_mean = |scenario: &str, metric: &str| -> f64 {
        let v: Vec<f64> = series
            .iter()
            .filter(|r| {
                r.scenario == scenario
                    && &r.exporter == focal
                    && r.metric == metric
                    && r.year >= from
                    && r.year <= to
                    && r.mean.is_finite()
            })
            .map(|r| r.mean)
            .collect();
        if v.is_empty() {
            f64::NAN
        } else {
            v.iter().sum::<f64>() / v.len() as f64
        }
    };
    let whiskers: Vec<Whisker> = effects
        .iter()
        .map(|r| Whisker {
            label: r.scenario.clone(),
            mean: 100.0 * r.delta_mean,
            lo: 100.0 * r.delta_lo,
            hi: 100.0 * r.delta_hi,
        })
        .collect();
    let svg = charts::dot_whisker(
        &format!("Change in {focal}'s share of deliveries {from}-{to}, by scenario"),
        "percentage points against the baseline (95% interval)",
        &whiskers,
        Values::Differences,
    )?;
    let mut table = String::from(
        "<table>\n<tr><th>scenario</th><th>vs baseline (pp)</th><th>lo</th><th>hi</th><th>focal utilisation %</th><th>realised delivery (months)</th></tr>\n",
    );
    for name in
        std::iter::once(m.baseline.as_str()).chain(effects.iter().map(|r| r.scenario.as_str()))
    {
        let r = rows
            .iter()
            .find(|r| r.scenario == name && &r.exporter == focal);
        let (d, lo, hi) = r
            .map(|r| (r.delta_mean, r.delta_lo, r.delta_hi))
            .unwrap_or((f64::NAN, f64::NAN, f64::NAN));
        let util = window_mean(name, "utilisation");
        let wait = window_mean(name, "realised_wait_months_12m");
        let _ = writeln!(
            table,
            "<tr><td>{}</td>{}{}{}{}{}</tr>",
            esc(name),
            cell(d, format!("{:+.2}", 100.0 * d)),
            cell(lo, format!("{:+.2}", 100.0 * lo)),
            cell(hi, format!("{:+.2}", 100.0 * hi)),
            cell(util, pct(util)),
            cell(wait, format!("{wait:.1}")),
        );
    }
    table.push_str("</table>\n");
    let mut figures = vec![Figure {
        id: "summary-effects".into(),
        svg,
        table,
        note: format!(
            "Each policy scenario's difference from {} in {focal}'s share of foreign deliveries {from}-{to}: mean of paired differences over {} replicates with common seeds, and its 95% interval; filled where the interval excludes zero. The table gives the regime the result holds in: {focal}'s mean utilisation and realised delivery time over the window.",
            m.baseline, m.replicates
        ),
    }];
    // The sentences.
    let mut text = String::from("<section id=\"answer\">\n");
    if let Some(top) = effects.first() {
        let _ = writeln!(
            text,
            "<p>The largest effect on {}'s share of deliveries {from}-{to} is <b>{}</b>: {:+.2} points [{:+.2}, {:+.2}] against {}.</p>",
            esc(focal),
            esc(&top.scenario),
            100.0 * top.delta_mean,
            100.0 * top.delta_lo,
            100.0 * top.delta_hi,
            esc(&m.baseline)
        );
    }
    let null: Vec<&str> = effects
        .iter()
        .filter(|r| !(r.delta_lo > 0.0 || r.delta_hi < 0.0))
        .map(|r| r.scenario.as_str())
        .collect();
    if null.is_empty() {
        text.push_str("<p>Every scenario's interval excludes zero.</p>\n");
    } else {
        let _ = writeln!(
            text,
            "<p>Intervals that include zero (no effect distinguishable from noise at {} replicates): {}.</p>",
            m.replicates,
            esc(&null.join(", "))
        );
    }
    // Do the levers add up? The scenario that changes the most settings,
    // against the sum of the scenarios whose changes are all among its own.
    let changed = |n: &str| -> Vec<&str> {
        m.scenarios
            .iter()
            .find(|s| s.name == n)
            .map(|s| s.differs.iter().map(|d| d.0.as_str()).collect())
            .unwrap_or_default()
    };
    let combined = names[1..].iter().max_by_key(|n| changed(n).len()).copied();
    if let Some(c) = combined {
        let own = changed(c);
        let parts: Vec<&str> = names[1..]
            .iter()
            .copied()
            .filter(|n| {
                *n != c && !changed(n).is_empty() && changed(n).iter().all(|f| own.contains(f))
            })
            .collect();
        let delta = |n: &str| {
            rows.iter()
                .find(|r| r.scenario == n && &r.exporter == focal)
                .map(|r| r.delta_mean)
                .unwrap_or(f64::NAN)
        };
        if parts.len() >= 2 {
            let sum: f64 = parts.iter().map(|p| delta(p)).sum();
            let whole = delta(c);
            let verdict = if (whole - sum).abs() < 0.1 * sum.abs().max(1e-3) {
                "the levers add up"
            } else if whole < sum {
                "the levers overlap: together they do less than the sum of their parts"
            } else {
                "the levers reinforce each other: together they do more than the sum of their parts"
            };
            let _ = writeln!(
                text,
                "<p>The combined scenario <b>{}</b> moves the share by {:+.2} points; its parts ({}) add up to {:+.2}: {verdict}.</p>",
                esc(c),
                100.0 * whole,
                esc(&parts.join(", ")),
                100.0 * sum
            );
        }
    }
    text.push_str("</section>\n");
    // Attribution and lags, from folders that have them.
    let attribution = dir.join("attribution.csv");
    if attribution.is_file() {
        let att: Vec<AttributionRow> = data::read_csv(&attribution)?;
        let regional: Vec<&AttributionRow> =
            att.iter().filter(|r| r.dimension == "region").collect();
        let whiskers: Vec<Whisker> = regional
            .iter()
            .map(|r| Whisker {
                label: format!("{}: {}", r.scenario, r.part),
                mean: r.delta_share_pp,
                lo: r.delta_share_pp_lo,
                hi: r.delta_share_pp_hi,
            })
            .collect();
        let svg = charts::dot_whisker(
            &format!("Where {focal}'s change in share comes from, by importing region"),
            "percentage points of world share (95% interval)",
            &whiskers,
            Values::Differences,
        )?;
        let mut table = String::from(
            "<table>\n<tr><th>scenario</th><th>by</th><th>part</th><th>change (TIV)</th><th>change (pp)</th><th>lo</th><th>hi</th></tr>\n",
        );
        for r in &att {
            let _ = writeln!(
                table,
                "<tr><td>{}</td><td>{}</td><td>{}</td>{}{}{}{}</tr>",
                esc(&r.scenario),
                esc(&r.dimension),
                esc(&r.part),
                cell(r.delta_tiv, format!("{:+.0}", r.delta_tiv)),
                cell(r.delta_share_pp, format!("{:+.2}", r.delta_share_pp)),
                cell(r.delta_share_pp_lo, format!("{:+.2}", r.delta_share_pp_lo)),
                cell(r.delta_share_pp_hi, format!("{:+.2}", r.delta_share_pp_hi)),
            );
        }
        table.push_str("</table>\n");
        figures.push(Figure {
            id: "attribution-region".into(),
            svg,
            table,
            note: format!("The change from {} in {focal}'s foreign deliveries {from}-{to}, split by importing region (chart) and by region and category (table), in points of world share; the parts add up to the change in the chart above (attribution.csv).", m.baseline),
        });
    }
    let lags = dir.join("lags.csv");
    if lags.is_file() {
        let lag: Vec<LagRow> = data::read_csv(&lags)?;
        let mine: Vec<&LagRow> = lag.iter().filter(|r| &r.exporter == focal).collect();
        let whiskers: Vec<Whisker> = mine
            .iter()
            .filter(|r| r.to_last_delivery_months.is_finite())
            .map(|r| Whisker {
                label: r.scenario.clone(),
                mean: r.to_last_delivery_months,
                lo: r.to_last_lo,
                hi: r.to_last_hi,
            })
            .collect();
        let svg = charts::dot_whisker(
            &format!("{focal}: months from order to last delivery (TIV-weighted median)"),
            "months (95% interval over replicates)",
            &whiskers,
            Values::Levels,
        )?;
        let mut table = String::from(
            "<table>\n<tr><th>scenario</th><th>exporter</th><th>to first delivery (months)</th><th>to last delivery (months)</th></tr>\n",
        );
        for r in lag
            .iter()
            .filter(|r| r.to_first_delivery_months.is_finite())
        {
            let _ = writeln!(
                table,
                "<tr><td>{}</td><td>{}</td>{}{}</tr>",
                esc(&r.scenario),
                esc(&r.exporter),
                cell(
                    r.to_first_delivery_months,
                    format!("{:.1}", r.to_first_delivery_months)
                ),
                cell(
                    r.to_last_delivery_months,
                    format!("{:.1}", r.to_last_delivery_months)
                ),
            );
        }
        table.push_str("</table>\n");
        figures.push(Figure {
            id: "lags-focal".into(),
            svg,
            table,
            note: format!("TIV-weighted median months from order to first and to last delivery, over orders placed {from}-{to} and delivered by the end of the run; mean over replicates (lags.csv)."),
        });
    }
    Ok(Summary { text, figures })
}
