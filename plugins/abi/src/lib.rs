//! The C ABI between dibsim (the host) and a behaviour plugin, version 1.0.
//!
//! Only plain `#[repr(C)]` data and `extern "C"` function pointers cross the
//! boundary: no Rust types with their own allocator or layout, no panics.
//! The host owns every buffer (observations, decisions, error text and the
//! per-run plugin state, whose size and alignment the plugin declares).
//! `plugins/include/dibsim_plugin.h` is the same contract for C and C++;
//! a test checks the two agree.
//!
//! Versioning: the table starts with [`MAGIC`], the ABI major and minor
//! version and the table's size. The host refuses another major version; it
//! accepts a newer minor, which may only append fields to the table, and
//! reads the fields it knows.
//!
//! Threading: the host calls a plugin from several threads at once, but
//! never two calls with the same state at once. The state is plain bytes:
//! the host may copy it (to fork a run), so it must hold no pointers to
//! memory the plugin owns.
//!
//! Reproducibility: every random number a plugin needs is handed in (one
//! uniform draw per offer, per requirement and per line), drawn by the host
//! from the agent's own stream.

#![no_std]

// `c_char` is a native-library type (the table's strings); the Wasm
// interface has no pointers of the host's and does without it, which also
// keeps the crate building with the older compilers that target Wasm.
#[cfg(not(target_family = "wasm"))]
use core::ffi::c_char;
use core::ffi::c_void;

pub mod wasm;

/// "DIBSIMPL", the first field of every table.
pub const MAGIC: u64 = 0x4449_4253_494D_504C;
pub const ABI_MAJOR: u32 = 1;
pub const ABI_MINOR: u32 = 0;
/// The symbol every plugin exports: `const PluginTable *dibsim_plugin_entry(void)`.
pub const ENTRY_SYMBOL: &str = "dibsim_plugin_entry";

/// Slot bits of [`PluginTable::slots`].
pub const SLOT_PROCUREMENT: u32 = 1;
pub const SLOT_CONTRACTOR_INVESTMENT: u32 = 2;
pub const SLOT_COMPETITOR_INVESTMENT: u32 = 4;
/// Each slot bit with the name scenarios use for it.
pub const SLOT_NAMES: [(u32, &str); 3] = [
    (SLOT_PROCUREMENT, "procurement"),
    (SLOT_CONTRACTOR_INVESTMENT, "contractor_investment"),
    (SLOT_COMPETITOR_INVESTMENT, "competitor_investment"),
];

/// [`PluginTable::flags`]: the investment function reads `LineView::draw`.
pub const FLAG_INVESTMENT_DRAWS: u32 = 1;

/// Return codes. Any value other than `STATUS_OK` is an error; the host
/// never interprets other values (an unknown code is not undefined).
pub const STATUS_OK: i32 = 0;
pub const STATUS_ERROR: i32 = 1;
/// A panic (or C++ exception) caught at the boundary.
pub const STATUS_PANIC: i32 = 2;

/// `choices[k]` for "none of the offers" (the outside option).
pub const OUTSIDE: i32 = -1;

/// One line's quote to one requirement (docs/model.md step 2).
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C)]
pub struct Offer {
    pub line: u32,
    pub exporter: u32,
    pub quality: f64,
    pub price_index: f64,
    /// W: expected months to delivery.
    pub wait_months: f64,
    /// S: spread of the approval time, months.
    pub spread_months: f64,
    /// a(e, i) of the line's exporter with the buying ally.
    pub alignment: f64,
    /// rho_e of the line's exporter.
    pub reputation: f64,
    /// A uniform draw in (0, 1) from the ally's stream.
    pub draw: f64,
}

/// One requirement; its offers are `offers[offer_start .. offer_start + offer_count]`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C)]
pub struct Requirement {
    /// Index of the ally (into `tastes`, and the scenario's allies).
    pub ally: u32,
    pub category: u32,
    /// Q, TIV.
    pub size: f64,
    /// theta_i this month (events applied).
    pub threat: f64,
    /// A uniform draw in (0, 1) for the outside option.
    pub outside_draw: f64,
    pub offer_start: u32,
    pub offer_count: u32,
}

/// An ally's weights (docs/model.md s.3).
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C)]
pub struct Taste {
    pub beta_quality: f64,
    pub beta_price: f64,
    pub beta_time: f64,
    pub beta_uncertainty: f64,
    pub beta_alignment: f64,
    pub outside_utility: f64,
}

/// One production line as its owner's investment rule sees it (step 10).
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C)]
pub struct LineView {
    pub line: u32,
    /// Index of the owner (the scenario's suppliers).
    pub owner: u32,
    pub category: u32,
    /// 0 high tier, 1 low tier.
    pub tier: u32,
    /// K, TIV/month.
    pub capacity: f64,
    /// Capacity ordered, not yet online.
    pub pipeline: f64,
    pub backlog_domestic: f64,
    pub backlog_foreign_approved: f64,
    /// m = (B_dom + B_for,approved) / (K + pipeline).
    pub backlog_months: f64,
    /// Owner's cash, US$ M.
    pub cash: f64,
    pub credit_limit: f64,
    /// US$ M per TIV/month of capacity, before subsidy.
    pub capex_per_unit: f64,
    pub subsidy: f64,
    pub threshold_months: f64,
    pub target_months: f64,
    pub max_growth: f64,
    /// A uniform draw in (0, 1) (0.5 unless the plugin sets FLAG_INVESTMENT_DRAWS).
    pub draw: f64,
}

/// One procurement call: a batch of requirements, of one or more allies.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct ProcurementCall {
    pub month: i32,
    pub n_requirements: u32,
    pub requirements: *const Requirement,
    pub n_offers: u32,
    pub offers: *const Offer,
    /// Indexed by `Requirement::ally`.
    pub n_tastes: u32,
    pub tastes: *const Taste,
}

/// One investment call: a batch of lines, of one or more owners.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct InvestmentCall {
    pub month: i32,
    pub n_lines: u32,
    pub lines: *const LineView,
}

/// Where a plugin explains an error: a host-owned buffer of `capacity`
/// bytes for UTF-8 text (`len` set by the plugin), and the index of the
/// requirement or line it failed on (-1: none in particular).
#[derive(Debug)]
#[repr(C)]
pub struct ErrorOut {
    pub message: *mut u8,
    pub capacity: usize,
    pub len: usize,
    pub item: i64,
}

/// Initialises the per-run `state` (host memory of `state_size` bytes) from
/// the scenario's parameters (a JSON object, UTF-8, not NUL-terminated).
pub type CreateFn = unsafe extern "C" fn(
    params: *const u8,
    params_len: usize,
    state: *mut c_void,
    err: *mut ErrorOut,
) -> i32;
/// Ends a run's state (the host frees the memory itself).
pub type DestroyFn = unsafe extern "C" fn(state: *mut c_void);
/// Writes `choices[k]` for each requirement: an offer index within the
/// requirement's own offers, or [`OUTSIDE`]. `choices` holds `n_requirements`.
pub type ProcureFn = unsafe extern "C" fn(
    state: *mut c_void,
    call: *const ProcurementCall,
    choices: *mut i32,
    err: *mut ErrorOut,
) -> i32;
/// Writes `tranches[k]`, the capacity (TIV/month) line k orders (0 for none).
pub type InvestFn = unsafe extern "C" fn(
    state: *mut c_void,
    call: *const InvestmentCall,
    tranches: *mut f64,
    err: *mut ErrorOut,
) -> i32;

/// What [`ENTRY_SYMBOL`] returns: a table with static lifetime.
#[cfg(not(target_family = "wasm"))]
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct PluginTable {
    pub magic: u64,
    pub abi_major: u32,
    pub abi_minor: u32,
    /// `sizeof` the table as the plugin built it.
    pub size: u64,
    /// NUL-terminated UTF-8, static.
    pub name: *const c_char,
    pub version: *const c_char,
    /// `SLOT_*` bits.
    pub slots: u32,
    /// `FLAG_*` bits.
    pub flags: u32,
    pub state_size: u64,
    pub state_align: u64,
    pub create: Option<CreateFn>,
    pub destroy: Option<DestroyFn>,
    pub procure: Option<ProcureFn>,
    pub invest: Option<InvestFn>,
}

/// The first fields of every version's table: enough to check the rest.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct TableHeader {
    pub magic: u64,
    pub abi_major: u32,
    pub abi_minor: u32,
    pub size: u64,
}

#[cfg(not(target_family = "wasm"))]
pub type EntryFn = unsafe extern "C" fn() -> *const PluginTable;

// A table in a `static` must be Sync; it is immutable plain data whose
// pointers are to static strings and functions.
#[cfg(not(target_family = "wasm"))]
#[allow(unsafe_code)]
unsafe impl Sync for PluginTable {}
