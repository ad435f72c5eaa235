//! Command-line arguments as plain data (clap derive). Validation and
//! resolution happen in `commands`, never here.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "dibsim",
    version,
    about = "Agent-based simulator of a defence industrial base and the world arms export market"
)]
pub struct Cli {
    /// Worker threads (default: all cores). Output does not depend on it.
    #[arg(long, global = true)]
    pub threads: Option<usize>,
    /// Load the native plugin libraries that scenario files name (they run
    /// with your rights; `--plugin SLOT=PATH` needs no flag).
    #[arg(long, global = true)]
    pub allow_native_plugins: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one scenario and print each exporter's share of deliveries per 5-year window.
    Run {
        /// Scenario file or bundled name (default: the bundled baseline).
        scenario: Option<String>,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Reported months (overrides the scenario's `months`).
        #[arg(long)]
        months: Option<u32>,
        /// Override a field: path.to.field=VALUE (repeatable).
        #[arg(long = "set", value_name = "PATH=VALUE")]
        sets: Vec<String>,
        /// Write timeseries.csv, orders.csv (the order ledger) and
        /// summary.json to this folder.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Use a plugin for every agent of a slot: SLOT=PATH (repeatable).
        #[arg(long = "plugin", value_name = "SLOT=PATH")]
        plugins: Vec<String>,
    },
    /// Compare scenarios over replicates with common random numbers; the first is the baseline.
    Compare {
        /// Scenarios (default: the bundled baseline and every bundled policy scenario).
        scenarios: Vec<String>,
        #[arg(long, default_value_t = 20)]
        replicates: u32,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// First calendar year of the window (default 2026).
        #[arg(long)]
        from: Option<i32>,
        /// Last calendar year of the window, inclusive (default 2035).
        #[arg(long)]
        to: Option<i32>,
        /// Override a field in every scenario: path.to.field=VALUE.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        sets: Vec<String>,
        /// Write compare.csv, attribution.csv, lags.csv, series.csv and
        /// manifest.json to this folder (for `dibsim report`).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Use a plugin in every scenario: SLOT=PATH (repeatable).
        #[arg(long = "plugin", value_name = "SLOT=PATH")]
        plugins: Vec<String>,
        /// Also write DIR/report.html (needs --out DIR).
        #[arg(long)]
        report: bool,
    },
    /// Check a scenario file without running it.
    Validate {
        scenario: String,
        #[arg(long = "set", value_name = "PATH=VALUE")]
        sets: Vec<String>,
        /// Print the fully resolved scenario as JSON.
        #[arg(long)]
        print: bool,
    },
    /// List the bundled scenarios.
    Scenarios,
    /// Check a scenario against the calibration targets of docs/model.md s.8 and
    /// fit its calibrated parameters.
    Calibrate {
        #[arg(default_value = "baseline")]
        scenario: String,
        #[arg(long, default_value_t = 20)]
        replicates: u32,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Fixed-point iterations (0: only report how the scenario meets the targets).
        #[arg(long, default_value_t = 0)]
        iterations: u32,
        /// Calibration file to update (scenarios/tools/calibration.toml).
        #[arg(long)]
        write: Option<PathBuf>,
        /// Exit with an error when a target is missed.
        #[arg(long)]
        check: bool,
    },
    /// Time runs of a scenario and a default compare.
    Bench {
        #[arg(default_value = "baseline")]
        scenario: String,
        #[arg(long, default_value_t = 200)]
        runs: u32,
        /// Instead: time this sweep file on 1 and 2 threads, against the same
        /// runs done bare (no journal, no output), with and without forking.
        #[arg(long)]
        sweep: Option<PathBuf>,
        /// Also time the runs with this plugin (SLOT=PATH) against the built-in.
        #[arg(long = "plugin", value_name = "SLOT=PATH")]
        plugins: Vec<String>,
        /// Time a synthetic world K times the scenario (see `dibsim synth`),
        /// on 1 and 2 threads.
        #[arg(long, value_name = "K", conflicts_with = "plugins")]
        scale: Option<u32>,
        /// M times the suppliers (M times the choices), in a world of
        /// --scale K (1 unless given).
        #[arg(
            long,
            value_name = "M",
            default_value_t = 1,
            conflicts_with = "plugins"
        )]
        suppliers: u32,
        /// Skip the default compare's timing.
        #[arg(long)]
        no_compare: bool,
    },
    /// Sensitivity indices of a finished sweep with design "saltelli" or
    /// "morris": Sobol S1/ST (S2), or Morris mu/mu*/sigma, with bootstrap 95%
    /// intervals, standardized regression coefficients, and the share of
    /// variance that is replicate noise. Writes sensitivity.csv.
    Analyze {
        /// The sweep's output folder.
        dir: PathBuf,
        /// A metric column (e.g. share_united_states_2026_2035) or metric name.
        #[arg(long)]
        metric: Option<String>,
        /// Where to write the table (default DIR/sensitivity.csv).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Scenario discovery (PRIM) on a finished sweep: the box of inputs where
    /// a metric is below (or above) a threshold. Writes discovery.csv
    /// (the peeling trajectory) and discovery.json (the chosen box).
    Discover {
        dir: PathBuf,
        /// A metric column of points.csv (e.g. share_united_states_2026_2035)
        /// or a metric name that names one column.
        #[arg(long)]
        metric: String,
        /// The cases are the points whose metric (or, with --delta, whose
        /// difference) is below this value; negative values are allowed.
        #[arg(
            long,
            conflicts_with = "above",
            required_unless_present = "above",
            allow_hyphen_values = true
        )]
        below: Option<f64>,
        /// The cases are the points above this value.
        #[arg(long, allow_hyphen_values = true)]
        above: Option<f64>,
        /// Use each design row's difference between the second lever
        /// combination and the first (e.g. a policy against the status quo).
        #[arg(long)]
        delta: bool,
        /// The density a chosen box must reach.
        #[arg(long, default_value_t = 0.8)]
        density: f64,
        /// Folder for discovery.csv and discovery.json (default DIR).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Write a synthetic world: the scenario K times over (allies copied with
    /// their own streams, capacities and domestic demand times K), and/or
    /// M times the suppliers.
    Synth {
        #[arg(default_value = "baseline")]
        scenario: String,
        #[arg(long, value_name = "K", default_value_t = 1)]
        scale: u32,
        #[arg(long, value_name = "M", default_value_t = 1)]
        suppliers: u32,
        /// The scenario file to write (TOML).
        #[arg(long)]
        out: PathBuf,
    },
    /// Run a parameter sweep (see README, "Parameter sweeps").
    Sweep {
        /// The sweep file (TOML).
        file: PathBuf,
        /// Output folder (default: sweep-NAME in the current folder).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Continue a killed sweep in --out: run only the missing runs.
        #[arg(long)]
        resume: bool,
        /// Run only slice I of N (0-based), e.g. 2/8; combine with `dibsim merge`.
        #[arg(long, value_name = "I/N")]
        shard: Option<String>,
        /// Print the number of points and runs and an estimated time; run nothing.
        #[arg(long)]
        dry_run: bool,
        /// Output format of runs and time series.
        #[arg(long, value_enum, default_value = "parquet")]
        format: Format,
        /// Run every run from scratch instead of forking shared prefixes
        /// (same results; for benchmarks).
        #[arg(long, hide = true)]
        no_fork: bool,
        /// No progress bar or progress lines.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Combine the output folders of a sharded sweep into one.
    Merge {
        /// Shard output folders (any order).
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Write a self-contained HTML report (charts and tables) of the output
    /// folder of `compare --out` or `sweep --out`.
    Report {
        dir: PathBuf,
        /// The page (default: DIR/report.html).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Also write each chart as an SVG file here.
        #[arg(long)]
        svg: Option<PathBuf>,
    },
    /// Behaviour plugins: write a new one, or describe a built one.
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Write a plugin crate (a procurement rule to start from) that builds
    /// with `cargo build --release` and loads as it is.
    New {
        /// The crate's name (letters, digits, `-` and `_`); the library is
        /// lib<name>.so, with `-` as `_`.
        name: String,
        /// Folder to create (default: NAME).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// dibsim's plugins/sdk (default: the one this dibsim was built from).
        #[arg(long)]
        sdk: Option<PathBuf>,
        /// A WebAssembly plugin: the same source, built for
        /// wasm32-unknown-unknown (sandboxed; loads without
        /// --allow-native-plugins).
        #[arg(long)]
        wasm: bool,
    },
    /// Load a plugin (native or Wasm) and print its name, version, interface
    /// version and slots.
    Info {
        /// A shared library (.so, .dylib) or a WebAssembly module (.wasm, .wat).
        path: PathBuf,
    },
}

/// Output format of a sweep's runs and time series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Parquet,
    Csv,
}

impl From<Format> for dibsim_experiments::sweep::Format {
    fn from(f: Format) -> Self {
        match f {
            Format::Parquet => dibsim_experiments::sweep::Format::Parquet,
            Format::Csv => dibsim_experiments::sweep::Format::Csv,
        }
    }
}
