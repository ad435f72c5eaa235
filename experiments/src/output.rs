//! Writing results: tidy CSV (one row per month and exporter), JSON
//! summaries, terminal tables. Files are written to a temporary name and
//! renamed, so a killed run never leaves a half file under the final name.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use dibsim_core::metrics::METRICS;
use dibsim_core::Recorder;

/// Writes `bytes` to `path` atomically (temporary file, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension(format!(
        "{}.tmp",
        path.extension()
            .map(|e| e.to_string_lossy().to_string())
            .unwrap_or_default()
    ));
    let mut f =
        std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    f.write_all(bytes)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    f.sync_all().ok();
    std::fs::rename(&tmp, path)
        .with_context(|| format!("cannot rename {} to {}", tmp.display(), path.display()))?;
    Ok(())
}

/// Checks, before a run or compare whose results go to `dir`, that they
/// can: `dir` is a folder or can be made one, and a file can be written in
/// it (or in the nearest folder above it that exists). Nothing is created,
/// so a run refused later for another reason leaves no empty folder.
pub fn writable_dir(dir: &Path) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        anyhow::bail!("--out {} is a file, not a folder", dir.display());
    }
    let mut at = dir;
    while !at.exists() {
        match at.parent() {
            Some(p) if !p.as_os_str().is_empty() => at = p,
            _ => {
                at = Path::new(".");
                break;
            }
        }
    }
    if !at.is_dir() {
        anyhow::bail!(
            "cannot create --out {}: {} is a file",
            dir.display(),
            at.display()
        );
    }
    let probe = at.join(".dibsim-write-check.tmp");
    std::fs::File::create(&probe).with_context(|| {
        format!(
            "cannot write in {} (for --out {})",
            at.display(),
            dir.display()
        )
    })?;
    std::fs::remove_file(&probe).ok();
    Ok(())
}

/// A float as CSV text: shortest round-trip form, empty for NaN.
pub fn num(x: f64) -> String {
    Num(x).to_string()
}

/// [`num`] as a `Display`, to write into a buffer without a `String` each.
#[derive(Debug, Clone, Copy)]
pub struct Num(pub f64);

impl std::fmt::Display for Num {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_nan() {
            Ok(())
        } else {
            std::fmt::Display::fmt(&self.0, f)
        }
    }
}

/// A cell of a column typed as float (runs.csv, points.csv): [`Num`], with
/// ".0" after a whole number. A column whose first hundred values are 0 and
/// 1 would otherwise be read by polars (and pandas' pyarrow engine) as
/// integers, and fail at its first 0.5.
#[derive(Debug, Clone, Copy)]
pub struct FloatCell(pub f64);

impl std::fmt::Display for FloatCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Num(self.0).fmt(f)?;
        // `Display` for f64 never writes an exponent: a finite whole
        // number is digits alone.
        if self.0.is_finite() && self.0.fract() == 0.0 {
            f.write_str(".0")?;
        }
        Ok(())
    }
}

/// [`csv_field`] as a `Display`.
#[derive(Debug, Clone, Copy)]
pub struct CsvField<'a>(pub &'a str);

impl std::fmt::Display for CsvField<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.0.contains([',', '"', '\n']) {
            return f.write_str(self.0);
        }
        f.write_char('"')?;
        for (k, piece) in self.0.split('"').enumerate() {
            if k > 0 {
                f.write_str("\"\"")?;
            }
            f.write_str(piece)?;
        }
        f.write_char('"')
    }
}

/// A month column: empty when there is none.
struct Month(Option<i32>);

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(m) => std::fmt::Display::fmt(&m, f),
            None => Ok(()),
        }
    }
}

/// `timeseries.csv`: one row per reported month and exporter.
pub fn timeseries_csv(rec: &Recorder) -> String {
    let mut out = String::with_capacity(rec.months() * rec.exporter_count() * 200);
    out.push_str("month,year,exporter");
    for m in METRICS {
        out.push(',');
        out.push_str(m);
    }
    out.push('\n');
    for t in 0..rec.months() {
        for (e, name) in rec.exporters.iter().enumerate() {
            let _ = write!(out, "{t},{},{}", rec.year_of(t), CsvField(name));
            for v in rec.get(t, e).values() {
                let _ = write!(out, ",{}", Num(v));
            }
            out.push('\n');
        }
    }
    out
}

pub fn csv_field(s: &str) -> String {
    CsvField(s).to_string()
}

/// Five-year windows from the start year: (label, first year, last year).
pub fn five_year_windows(rec: &Recorder) -> Vec<(String, i32, i32)> {
    let years = (rec.months() as i32 + 11) / 12;
    let mut out = Vec::new();
    let mut y = rec.start_year;
    while y < rec.start_year + years {
        let last = (y + 4).min(rec.start_year + years - 1);
        out.push((format!("{y}-{last}"), y, last));
        y += 5;
    }
    out
}

/// A text table: first column left-aligned, the rest right-aligned.
pub fn table(header: &[String], rows: &[Vec<String>]) -> String {
    let cols = header.len();
    let mut width = vec![0; cols];
    for r in std::iter::once(header).chain(rows.iter().map(|r| r.as_slice())) {
        for (i, c) in r.iter().enumerate() {
            width[i] = width[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |r: &[String], out: &mut String| {
        for (i, c) in r.iter().enumerate() {
            if i == 0 {
                let _ = write!(out, "{c:<w$}", w = width[0]);
            } else {
                let _ = write!(out, "  {c:>w$}", w = width[i]);
            }
        }
        out.push('\n');
    };
    line(header, &mut out);
    let total: usize = width.iter().sum::<usize>() + 2 * (cols - 1);
    out.push_str(&"-".repeat(total));
    out.push('\n');
    for r in rows {
        line(r, &mut out);
    }
    out
}

pub fn pct(x: f64) -> String {
    if x.is_nan() {
        "-".into()
    } else {
        format!("{:.1}", 100.0 * x)
    }
}

/// The columns of `orders.csv` (the order ledger), in order.
pub const ORDER_COLUMNS: &[&str] = &[
    "order_id",
    "ally",
    "region",
    "exporter",
    "owner",
    "line",
    "category",
    "tier",
    "size_tiv",
    "price_musd",
    "placed_month",
    "decision_month",
    "outcome",
    "entry_month",
    "first_delivery_month",
    "last_delivery_month",
    "quoted_wait_months",
    "realised_wait_months",
    "priority_class",
    "delivered_tiv",
];

/// `orders.csv`: one row per order of the ledger, in placement order. Empty
/// cells are months that did not happen (no decision yet, never delivered).
/// `delivered_tiv` is what the order delivered in the reported months, so
/// that per exporter it sums to `timeseries.csv`'s `deliveries_tiv`.
pub fn orders_csv(cfg: &dibsim_core::Compiled, orders: &[dibsim_core::OrderRecord]) -> String {
    let mut out = String::with_capacity(orders.len() * 200 + 256);
    out.push_str(&ORDER_COLUMNS.join(","));
    out.push('\n');
    order_rows(cfg, orders, "", &mut out);
    out
}

/// The rows of `orders.csv` without its header, each line starting with
/// `prefix` (a sweep's key columns of the run, `run,point,replicate,`).
pub fn order_rows(
    cfg: &dibsim_core::Compiled,
    orders: &[dibsim_core::OrderRecord],
    prefix: &str,
    out: &mut String,
) {
    let s = &cfg.scenario;
    // The columns a line fixes (exporter, owner, line, category, tier),
    // written once per call rather than once per order.
    let line_columns: Vec<String> = cfg
        .lines
        .iter()
        .map(|lp| {
            let owner = &s.suppliers[lp.owner].name;
            let category = &s.categories[lp.category].name;
            let tier = lp.tier.as_str();
            format!(
                "{},{},{},{},{tier}",
                CsvField(&s.exporters[lp.exporter].name),
                CsvField(owner),
                CsvField(&format!("{owner}/{category}/{tier}")),
                CsvField(category),
            )
        })
        .collect();
    for o in orders {
        let ally = &s.allies[o.ally as usize];
        let _ = writeln!(
            out,
            "{prefix}{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            o.seq,
            CsvField(&ally.name),
            CsvField(&ally.region),
            line_columns[o.line as usize],
            Num(o.size),
            Num(o.size * o.price_index),
            o.placed,
            Month(o.decided),
            o.outcome.as_str(),
            Month(o.entered),
            Month(o.first_delivery),
            Month(o.last_delivery),
            Num(o.quoted_wait),
            Num(o.realised_wait().unwrap_or(f64::NAN)),
            if o.priority { "priority" } else { "ordinary" },
            Num(o.delivered_reported),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_they_must_be() {
        assert_eq!(csv_field("Ukraine #35"), "Ukraine #35");
        assert_eq!(csv_field("Korea, South"), "\"Korea, South\"");
        assert_eq!(csv_field("the \"Big\" one"), "\"the \"\"Big\"\" one\"");
        assert_eq!(csv_field("\""), "\"\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field(""), "");
    }

    #[test]
    fn numbers_are_shortest_round_trip_and_nan_is_empty() {
        assert_eq!(num(f64::NAN), "");
        assert_eq!(num(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(num(1e21), "1000000000000000000000");
        assert_eq!(num(-0.0), "-0");
        assert_eq!(num(f64::INFINITY), "inf");
        assert_eq!(format!("{},{}", Num(2.5), Month(None)), "2.5,");
        assert_eq!(Month(Some(-107)).to_string(), "-107");
        let floats: Vec<String> = [1.0, 0.0, -0.0, 0.5, 1e20, 2.5e-7, f64::NAN, f64::INFINITY]
            .map(|x| FloatCell(x).to_string())
            .into();
        assert_eq!(
            floats,
            [
                "1.0",
                "0.0",
                "-0.0",
                "0.5",
                "100000000000000000000.0",
                "0.00000025",
                "",
                "inf"
            ]
        );
        for x in ["1.0", "-0.0", "100000000000000000000.0", "0.00000025"] {
            let back: f64 = x.parse().unwrap();
            assert_eq!(FloatCell(back).to_string(), x, "round trip");
        }
    }
}
