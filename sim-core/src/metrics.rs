//! Per-month, per-exporter metrics (docs/model.md s.6) and the market-share
//! windows computed from them. Only months from 0 on are kept; the trailing
//! 60-month share also sees the warm-up's deliveries, so it is defined from
//! month 0.

use std::collections::VecDeque;

use crate::buffers::{clone_with_capacity, deque_with_capacity};
use crate::compiled::Compiled;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExporterMonth {
    pub orders_tiv: f64,
    /// Foreign deliveries (the only ones that count for shares).
    pub deliveries_tiv: f64,
    pub deliveries_domestic_tiv: f64,
    pub revenue_musd: f64,
    pub backlog_domestic_tiv: f64,
    pub backlog_foreign_tiv: f64,
    pub capacity_tiv: f64,
    pub production_tiv: f64,
    /// Mean over orders completed this month; NaN when none completed.
    pub quoted_wait_months: f64,
    pub realised_wait_months: f64,
    pub completions: u32,
    pub cancellations: u32,
    pub denials: u32,
    pub reputation: f64,
    /// Share of foreign deliveries over the trailing 60 months.
    pub share_60m: f64,
}

/// The metric names, in `ExporterMonth` order, as CSV columns.
pub const METRICS: &[&str] = &[
    "orders_tiv",
    "deliveries_tiv",
    "deliveries_domestic_tiv",
    "revenue_musd",
    "backlog_domestic_tiv",
    "backlog_foreign_tiv",
    "capacity_tiv",
    "production_tiv",
    "quoted_wait_months",
    "realised_wait_months",
    "completions",
    "cancellations",
    "denials",
    "reputation",
    "share_60m",
];

impl ExporterMonth {
    pub fn values(&self) -> [f64; 15] {
        [
            self.orders_tiv,
            self.deliveries_tiv,
            self.deliveries_domestic_tiv,
            self.revenue_musd,
            self.backlog_domestic_tiv,
            self.backlog_foreign_tiv,
            self.capacity_tiv,
            self.production_tiv,
            self.quoted_wait_months,
            self.realised_wait_months,
            self.completions as f64,
            self.cancellations as f64,
            self.denials as f64,
            self.reputation,
            self.share_60m,
        ]
    }
}

#[derive(Debug)]
pub struct Recorder {
    pub exporters: Vec<String>,
    pub start_year: i32,
    /// `rows[t * n + e]` for reported month t >= 0.
    rows: Vec<ExporterMonth>,
    pub regions: Vec<String>,
    /// `region_rows[t * r + k]`: foreign deliveries received by region k.
    region_rows: Vec<f64>,
    pub categories: Vec<String>,
    /// `by_region_rows[(t * n + e) * r + k]`: exporter e's foreign
    /// deliveries to region k; `by_category_rows` likewise by category.
    by_region_rows: Vec<f64>,
    by_category_rows: Vec<f64>,
    /// Foreign deliveries of the last 60 months, per exporter.
    trailing: VecDeque<Vec<f64>>,
    window_sum: Vec<f64>,
}

pub const SHARE_WINDOW_MONTHS: usize = 60;

/// A fork's recorder keeps the room for the whole run that
/// [`Recorder::new`] reserved, so it appends its months without growing.
impl Clone for Recorder {
    fn clone(&self) -> Self {
        Recorder {
            exporters: self.exporters.clone(),
            start_year: self.start_year,
            rows: clone_with_capacity(&self.rows),
            regions: self.regions.clone(),
            region_rows: clone_with_capacity(&self.region_rows),
            categories: self.categories.clone(),
            by_region_rows: clone_with_capacity(&self.by_region_rows),
            by_category_rows: clone_with_capacity(&self.by_category_rows),
            trailing: deque_with_capacity(&self.trailing, clone_with_capacity),
            window_sum: self.window_sum.clone(),
        }
    }
}

impl Recorder {
    pub fn new(cfg: &Compiled) -> Recorder {
        let n = cfg.exporters.len();
        Recorder {
            exporters: cfg
                .scenario
                .exporters
                .iter()
                .map(|e| e.name.clone())
                .collect(),
            start_year: cfg.scenario.start_year,
            rows: Vec::with_capacity(n * cfg.months.max(0) as usize),
            regions: cfg.regions.clone(),
            region_rows: Vec::with_capacity(cfg.regions.len() * cfg.months.max(0) as usize),
            categories: cfg
                .scenario
                .categories
                .iter()
                .map(|c| c.name.clone())
                .collect(),
            by_region_rows: Vec::with_capacity(n * cfg.regions.len() * cfg.months.max(0) as usize),
            by_category_rows: Vec::with_capacity(
                n * cfg.categories.len() * cfg.months.max(0) as usize,
            ),
            trailing: VecDeque::with_capacity(SHARE_WINDOW_MONTHS + 1),
            window_sum: vec![0.0; n],
        }
    }

    /// Whether month `t` is needed: reported months, and the last 60 of the
    /// warm-up for the first trailing shares. The world skips the others.
    pub fn keeps(&self, t: i32) -> bool {
        t >= -(SHARE_WINDOW_MONTHS as i32)
    }

    pub(crate) fn push(
        &mut self,
        t: i32,
        rows: &mut [ExporterMonth],
        regions: &[f64],
        by_region: &[f64],
        by_category: &[f64],
    ) {
        if !self.keeps(t) {
            return;
        }
        // The ring of the last 60 months reuses the vector it drops.
        let mut deliveries = if self.trailing.len() == SHARE_WINDOW_MONTHS {
            self.trailing.pop_front().unwrap_or_default()
        } else {
            Vec::with_capacity(rows.len())
        };
        deliveries.clear();
        deliveries.extend(rows.iter().map(|r| r.deliveries_tiv));
        self.trailing.push_back(deliveries);
        if t < 0 {
            return;
        }
        // Summed afresh from the window, not as a running sum, so rounding
        // cannot accumulate over long runs.
        self.window_sum.iter_mut().for_each(|s| *s = 0.0);
        for m in &self.trailing {
            for (s, d) in self.window_sum.iter_mut().zip(m) {
                *s += d;
            }
        }
        let total: f64 = self.window_sum.iter().sum();
        for (r, s) in rows.iter_mut().zip(&self.window_sum) {
            r.share_60m = if total > 0.0 { s / total } else { 0.0 };
        }
        self.rows.extend_from_slice(rows);
        self.region_rows.extend_from_slice(regions);
        self.by_region_rows.extend_from_slice(by_region);
        self.by_category_rows.extend_from_slice(by_category);
    }

    /// Exporter `e`'s foreign deliveries over months [from, to), by region
    /// (in `regions` order).
    pub fn exporter_by_region(&self, e: usize, from: usize, to: usize) -> Vec<f64> {
        self.exporter_by(&self.by_region_rows, self.regions.len(), e, from, to)
    }

    /// Exporter `e`'s foreign deliveries over months [from, to), by category.
    pub fn exporter_by_category(&self, e: usize, from: usize, to: usize) -> Vec<f64> {
        self.exporter_by(&self.by_category_rows, self.categories.len(), e, from, to)
    }

    fn exporter_by(&self, rows: &[f64], k: usize, e: usize, from: usize, to: usize) -> Vec<f64> {
        let n = self.exporters.len();
        let mut out = vec![0.0; k];
        for t in from..to.min(self.months()) {
            let at = (t * n + e) * k;
            for (o, x) in out.iter_mut().zip(&rows[at..at + k]) {
                *o += x;
            }
        }
        out
    }

    /// All exporters' foreign deliveries over months [from, to).
    pub fn world_deliveries(&self, from: usize, to: usize) -> f64 {
        (from..to.min(self.months()))
            .map(|t| {
                (0..self.exporters.len())
                    .map(|e| self.get(t, e).deliveries_tiv)
                    .sum::<f64>()
            })
            .sum()
    }

    /// Foreign deliveries received by region k in month t.
    pub fn region_deliveries(&self, month: usize, region: usize) -> f64 {
        self.region_rows[month * self.regions.len() + region]
    }

    /// Each region's share of world imports over months [from, to).
    pub fn region_share(&self, from: usize, to: usize) -> Vec<f64> {
        let r = self.regions.len();
        let mut sums = vec![0.0; r];
        for t in from..to.min(self.months()) {
            for (k, s) in sums.iter_mut().enumerate() {
                *s += self.region_deliveries(t, k);
            }
        }
        let total: f64 = sums.iter().sum();
        sums.iter()
            .map(|s| if total > 0.0 { s / total } else { 0.0 })
            .collect()
    }

    pub fn exporter_count(&self) -> usize {
        self.exporters.len()
    }

    /// Reported months so far.
    pub fn months(&self) -> usize {
        self.rows.len() / self.exporters.len().max(1)
    }

    pub fn get(&self, month: usize, exporter: usize) -> &ExporterMonth {
        &self.rows[month * self.exporters.len() + exporter]
    }

    pub fn year_of(&self, month: usize) -> i32 {
        self.start_year + (month / 12) as i32
    }

    /// Each exporter's share of foreign deliveries over months [from, to).
    pub fn share(&self, from: usize, to: usize) -> Vec<f64> {
        let n = self.exporters.len();
        let to = to.min(self.months());
        let mut sums = vec![0.0; n];
        for t in from..to {
            for (e, s) in sums.iter_mut().enumerate() {
                *s += self.get(t, e).deliveries_tiv;
            }
        }
        let total: f64 = sums.iter().sum();
        sums.iter()
            .map(|s| if total > 0.0 { s / total } else { 0.0 })
            .collect()
    }

    /// Share over calendar years [from_year, to_year] inclusive.
    pub fn share_years(&self, from_year: i32, to_year: i32) -> Vec<f64> {
        let (a, b) = self.year_range(from_year, to_year);
        self.share(a, b)
    }

    /// Month range [a, b) of calendar years [from_year, to_year].
    pub fn year_range(&self, from_year: i32, to_year: i32) -> (usize, usize) {
        let a = ((from_year - self.start_year).max(0) * 12) as usize;
        let b = ((to_year - self.start_year + 1).max(0) * 12) as usize;
        (a.min(self.months()), b.min(self.months()))
    }

    /// Mean delivery time of the orders completed over months [from, to),
    /// weighted by completions (quoted or realised); NaN when none completed.
    pub fn mean_wait(&self, from: usize, to: usize, exporter: usize, quoted: bool) -> f64 {
        let (mut w, mut n) = (0.0, 0.0);
        for t in from..to.min(self.months()) {
            let m = self.get(t, exporter);
            if m.completions > 0 {
                let x = if quoted {
                    m.quoted_wait_months
                } else {
                    m.realised_wait_months
                };
                w += x * m.completions as f64;
                n += m.completions as f64;
            }
        }
        if n > 0.0 {
            w / n
        } else {
            f64::NAN
        }
    }

    /// Sum of a metric over months [from, to) for one exporter.
    pub fn total(
        &self,
        from: usize,
        to: usize,
        exporter: usize,
        f: impl Fn(&ExporterMonth) -> f64,
    ) -> f64 {
        (from..to.min(self.months()))
            .map(|t| f(self.get(t, exporter)))
            .sum()
    }
}
