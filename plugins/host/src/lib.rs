//! The host side of the plugin ABI: loading, checking, and adapters that
//! make a plugin a [`Procurement`] or [`Investment`] behaviour.
//!
//! Libraries are loaded once per process, on the thread that prepares the
//! scenario (before any run), kept in a registry and never unloaded:
//! unloading is unsafe with thread-local destructors (glibc, macOS) and a
//! no-op on musl. Everything a plugin is handed is a view of host buffers;
//! the core's observation types and the ABI's have the same layout, checked
//! field by field at compile time, so nothing is copied per call.

use std::collections::HashMap;
use std::ffi::{c_void, CStr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use dibsim_core::behaviour::{
    BehaviourFault, Investment, LineView, Offer, Procurement, ProcurementBatch, Requirement, Taste,
};
pub use dibsim_plugin_abi as abi;
use thiserror::Error;

/// Why a plugin was refused.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum PluginError {
    #[error("plugin {0}: no such file")]
    NotFound(PathBuf),
    #[error("plugin {0}: is a folder, not a plugin library")]
    IsAFolder(PathBuf),
    #[error("plugin {path}: not a loadable shared library ({reason})")]
    NotALibrary { path: PathBuf, reason: String },
    #[error("plugin {path}: no entry symbol `{symbol}` (is it a dibsim plugin, built with export_plugin! or DIBSIM_EXPORT_PLUGIN?)")]
    MissingEntry { path: PathBuf, symbol: &'static str },
    #[error("plugin {path}: its entry returned no table")]
    NullTable { path: PathBuf },
    #[error("plugin {path}: wrong magic number {found:#018x} (expected {expected:#018x}): not a dibsim plugin table")]
    BadMagic {
        path: PathBuf,
        found: u64,
        expected: u64,
    },
    #[error("plugin {path}: built for ABI {major}.{minor}, this dibsim speaks ABI {host_major}.{host_minor}: rebuild it against dibsim-plugin-sdk {host_major}.x (or dibsim_plugin.h)")]
    WrongMajor {
        path: PathBuf,
        major: u32,
        minor: u32,
        host_major: u32,
        host_minor: u32,
    },
    #[error(
        "plugin {path}: its table is {size} bytes, ABI {major}.{minor} needs at least {needed}"
    )]
    TableTooSmall {
        path: PathBuf,
        size: u64,
        needed: u64,
        major: u32,
        minor: u32,
    },
    #[error("plugin {path}: {what}")]
    BadTable { path: PathBuf, what: String },
    #[error("plugin {name} ({path}) does not provide the slot `{slot}` (it provides: {provides})")]
    SlotNotProvided {
        path: PathBuf,
        name: String,
        slot: String,
        provides: String,
    },
    #[error("plugin {name} ({path}) rejected its params {params}: {message}")]
    BadParams {
        path: PathBuf,
        name: String,
        params: String,
        message: String,
    },
    #[error("plugin {name} ({path}): its create function failed on params {params}: {message}")]
    CreatePanicked {
        path: PathBuf,
        name: String,
        params: String,
        message: String,
    },
}

/// A checked, loaded plugin. Lives for the rest of the process.
pub struct Library {
    pub path: PathBuf,
    pub name: String,
    pub version: String,
    pub abi_major: u32,
    pub abi_minor: u32,
    pub slots: u32,
    pub flags: u32,
    table: Fns,
}

/// The table's functions and state layout (its strings are copied out).
struct Fns {
    create: Option<abi::CreateFn>,
    destroy: Option<abi::DestroyFn>,
    procure: Option<abi::ProcureFn>,
    invest: Option<abi::InvestFn>,
    state_size: u64,
    state_align: u64,
}

impl std::fmt::Debug for Library {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} ({})",
            self.name,
            self.version,
            self.path.display()
        )
    }
}

impl Library {
    pub fn slot_names(&self) -> Vec<&'static str> {
        abi::SLOT_NAMES
            .into_iter()
            .filter(|(bit, _)| self.slots & bit != 0)
            .map(|(_, n)| n)
            .collect()
    }

    /// Refuses a slot the plugin does not provide.
    pub fn require(&self, slot: &str) -> Result<(), PluginError> {
        if self.slot_names().contains(&slot) {
            Ok(())
        } else {
            Err(PluginError::SlotNotProvided {
                path: self.path.clone(),
                name: self.name.clone(),
                slot: slot.to_string(),
                provides: self.slot_names().join(", "),
            })
        }
    }

    fn label(&self) -> String {
        format!("{} {}", self.name, self.version)
    }
}

fn registry() -> &'static Mutex<HashMap<PathBuf, Arc<Library>>> {
    static R: OnceLock<Mutex<HashMap<PathBuf, Arc<Library>>>> = OnceLock::new();
    R.get_or_init(Default::default)
}

/// Loads (once per process) and checks the plugin at `path`.
pub fn load(path: &Path) -> Result<Arc<Library>, PluginError> {
    if path.is_dir() {
        return Err(PluginError::IsAFolder(path.to_path_buf()));
    }
    if !path.is_file() {
        return Err(PluginError::NotFound(path.to_path_buf()));
    }
    let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mut reg = registry().lock().unwrap_or_else(|e| e.into_inner());
    if let Some(l) = reg.get(&key) {
        return Ok(Arc::clone(l));
    }
    // The canonical path: dlopen searches the library path for a bare name.
    let lib = open(&key)?;
    let lib = Arc::new(lib);
    reg.insert(key, Arc::clone(&lib));
    Ok(lib)
}

fn open(path: &Path) -> Result<Library, PluginError> {
    let p = || path.to_path_buf();
    // SAFETY: loading runs the library's initialisers; that is the trust a
    // user gives a plugin by naming it.
    let lib = unsafe { libloading::Library::new(path) }.map_err(|e| PluginError::NotALibrary {
        path: p(),
        reason: e.to_string(),
    })?;
    // Never unloaded (see the module docs).
    let lib: &'static libloading::Library = Box::leak(Box::new(lib));
    // SAFETY: the symbol's type is the ABI's entry signature.
    let entry: libloading::Symbol<abi::EntryFn> = unsafe { lib.get(abi::ENTRY_SYMBOL.as_bytes()) }
        .map_err(|_| PluginError::MissingEntry {
            path: p(),
            symbol: abi::ENTRY_SYMBOL,
        })?;
    // SAFETY: calling the entry; it returns a static table or null.
    let ptr = unsafe { entry() };
    if ptr.is_null() {
        return Err(PluginError::NullTable { path: p() });
    }
    // Read the header alone first: an older or foreign table may be shorter
    // than ours.
    // SAFETY: every table starts with the header's fields.
    let header = unsafe { std::ptr::read_unaligned(ptr as *const abi::TableHeader) };
    if header.magic != abi::MAGIC {
        return Err(PluginError::BadMagic {
            path: p(),
            found: header.magic,
            expected: abi::MAGIC,
        });
    }
    if header.abi_major != abi::ABI_MAJOR {
        return Err(PluginError::WrongMajor {
            path: p(),
            major: header.abi_major,
            minor: header.abi_minor,
            host_major: abi::ABI_MAJOR,
            host_minor: abi::ABI_MINOR,
        });
    }
    let needed = std::mem::size_of::<abi::PluginTable>() as u64;
    if header.size < needed {
        return Err(PluginError::TableTooSmall {
            path: p(),
            size: header.size,
            needed,
            major: header.abi_major,
            minor: header.abi_minor,
        });
    }
    // A newer minor appends fields: read the ones this host knows.
    // SAFETY: the table is at least `needed` bytes (checked above).
    let table = unsafe { std::ptr::read_unaligned(ptr) };
    let bad = |what: String| PluginError::BadTable { path: p(), what };
    // SAFETY: NUL-terminated static strings, per the ABI.
    let text = |s: *const std::ffi::c_char, what: &str| -> Result<String, PluginError> {
        if s.is_null() {
            return Err(bad(format!("its {what} is null")));
        }
        Ok(unsafe { CStr::from_ptr(s) }.to_string_lossy().into_owned())
    };
    let name = text(table.name, "name")?;
    let version = text(table.version, "version")?;
    if table.create.is_none() {
        return Err(bad("it has no `create` function".into()));
    }
    if table.slots & abi::SLOT_PROCUREMENT != 0 && table.procure.is_none() {
        return Err(bad(
            "it declares the procurement slot but has no `procure` function".into(),
        ));
    }
    let investment = abi::SLOT_CONTRACTOR_INVESTMENT | abi::SLOT_COMPETITOR_INVESTMENT;
    if table.slots & investment != 0 && table.invest.is_none() {
        return Err(bad(
            "it declares an investment slot but has no `invest` function".into(),
        ));
    }
    if table.slots == 0 {
        return Err(bad("it declares no slot".into()));
    }
    if !table.state_align.is_power_of_two() || table.state_align > 4096 {
        return Err(bad(format!(
            "its state alignment {} is not a power of two up to 4096",
            table.state_align
        )));
    }
    if table.state_size > 1 << 24 {
        return Err(bad(format!(
            "its state size {} is over 16 MiB",
            table.state_size
        )));
    }
    Ok(Library {
        path: path.to_path_buf(),
        name,
        version,
        abi_major: header.abi_major,
        abi_minor: header.abi_minor,
        slots: table.slots,
        flags: table.flags,
        table: Fns {
            create: table.create,
            destroy: table.destroy,
            procure: table.procure,
            invest: table.invest,
            state_size: table.state_size,
            state_align: table.state_align,
        },
    })
}

/// A run's plugin state: host memory of the plugin's declared size and
/// alignment. Dropping it calls the plugin's `destroy`.
struct State {
    lib: Arc<Library>,
    ptr: *mut u8,
    layout: std::alloc::Layout,
}

// SAFETY: the buffer is plain bytes owned by this value; the plugin ABI
// allows a state to move between threads (calls on it never overlap: the
// adapters hold it in a Mutex).
unsafe impl Send for State {}

impl State {
    fn layout(lib: &Library) -> std::alloc::Layout {
        std::alloc::Layout::from_size_align(
            (lib.table.state_size as usize).max(1),
            lib.table.state_align.max(1) as usize,
        )
        .expect("checked when loading")
    }

    fn create(lib: &Arc<Library>, params: &str) -> Result<State, BehaviourFault> {
        let layout = Self::layout(lib);
        // SAFETY: non-zero size (max 1 above).
        let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
        if ptr.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        let create = lib.table.create.expect("checked when loading");
        let mut buf = [0u8; 1024];
        let mut err = error_out(&mut buf);
        // SAFETY: params and state are live host buffers of the sizes given.
        let status = unsafe { create(params.as_ptr(), params.len(), ptr as *mut c_void, &mut err) };
        if status != abi::STATUS_OK {
            // SAFETY: allocated above with this layout; never initialised.
            unsafe { std::alloc::dealloc(ptr, layout) };
            return Err(fault(status, &err, &buf));
        }
        Ok(State {
            lib: Arc::clone(lib),
            ptr,
            layout,
        })
    }

    /// A byte copy (the ABI's rule: a state is relocatable plain data).
    fn copy(&self) -> State {
        // SAFETY: same layout as self's, non-zero size.
        let ptr = unsafe { std::alloc::alloc(self.layout) };
        if ptr.is_null() {
            std::alloc::handle_alloc_error(self.layout);
        }
        // SAFETY: both buffers are layout.size() bytes.
        unsafe { std::ptr::copy_nonoverlapping(self.ptr, ptr, self.layout.size()) };
        State {
            lib: Arc::clone(&self.lib),
            ptr,
            layout: self.layout,
        }
    }
}

impl Drop for State {
    fn drop(&mut self) {
        if let Some(destroy) = self.lib.table.destroy {
            // SAFETY: a state created by this plugin, destroyed once.
            unsafe { destroy(self.ptr as *mut c_void) };
        }
        // SAFETY: allocated with this layout.
        unsafe { std::alloc::dealloc(self.ptr, self.layout) };
    }
}

fn error_out(buf: &mut [u8]) -> abi::ErrorOut {
    abi::ErrorOut {
        message: buf.as_mut_ptr(),
        capacity: buf.len(),
        len: 0,
        item: -1,
    }
}

fn fault(status: i32, err: &abi::ErrorOut, buf: &[u8]) -> BehaviourFault {
    let written = &buf[..err.len.min(buf.len())];
    // A C plugin may leave the buffer's zero bytes in the length it reports.
    let end = written.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let text = String::from_utf8_lossy(&written[..end]).into_owned();
    let what = match status {
        abi::STATUS_PANIC => "panicked",
        _ => "returned an error",
    };
    BehaviourFault {
        message: if err.len > buf.len() {
            format!(
                "the plugin {what} (status {status}) and reported a message of {} bytes in a buffer of {} (an ABI violation: `len` must be at most `capacity`){}",
                err.len,
                buf.len(),
                if text.is_empty() {
                    String::new()
                } else {
                    format!("; the buffer holds: {text}")
                }
            )
        } else if status == abi::STATUS_PANIC {
            // Always worded "panicked...": check_params tells a failed
            // create from a refusal of the params by it.
            if text.is_empty() {
                format!("panicked (status {status}) without a message")
            } else if text.starts_with("panicked") {
                text
            } else {
                format!("panicked: {text}")
            }
        } else if text.is_empty() {
            format!("the plugin returned an error (status {status}) without a message")
        } else if text.starts_with("panicked") {
            text
        } else {
            format!("status {status}: {text}")
        },
        item: usize::try_from(err.item).ok(),
    }
}

/// Checks that the plugin accepts `params` (creating and destroying one
/// state), so that bad parameters are refused before any run.
pub fn check_params(lib: &Arc<Library>, params: &str) -> Result<(), PluginError> {
    State::create(lib, params).map(drop).map_err(|f| {
        let (path, name, params) = (lib.path.clone(), lib.name.clone(), params.to_string());
        // A panic is the plugin's fault, not a verdict on the params.
        if f.message.starts_with("panicked") {
            PluginError::CreatePanicked {
                path,
                name,
                params,
                message: f.message,
            }
        } else {
            PluginError::BadParams {
                path,
                name,
                params,
                message: f.message,
            }
        }
    })
}

// The core's observation types are the ABI's, field for field.
macro_rules! same_layout {
    ($core:ty, $abi:ty; $($f:ident),+) => {
        const _: () = {
            assert!(std::mem::size_of::<$core>() == std::mem::size_of::<$abi>());
            assert!(std::mem::align_of::<$core>() == std::mem::align_of::<$abi>());
            $(assert!(std::mem::offset_of!($core, $f) == std::mem::offset_of!($abi, $f));)+
        };
    };
}
same_layout!(Offer, abi::Offer; line, exporter, quality, price_index, wait_months, spread_months, alignment, reputation, draw);
same_layout!(Requirement, abi::Requirement; ally, category, size, threat, outside_draw, offer_start, offer_count);
same_layout!(Taste, abi::Taste; beta_quality, beta_price, beta_time, beta_uncertainty, beta_alignment, outside_utility);
same_layout!(LineView, abi::LineView; line, owner, category, tier, capacity, pipeline, backlog_domestic,
    backlog_foreign_approved, backlog_months, cash, credit_limit, capex_per_unit, subsidy,
    threshold_months, target_months, max_growth, draw);

/// What both slot adapters hold: the library, its params, and (in a run's
/// copy) the run's state. The shared instance (per scenario) has no state;
/// `for_run` gives each run its own, `fork` a byte copy of it.
struct Plugged {
    lib: Arc<Library>,
    params: Arc<str>,
    label: String,
    state: Option<Mutex<State>>,
}

impl Plugged {
    fn new(lib: Arc<Library>, slot: &str, params: &str) -> Result<Plugged, PluginError> {
        lib.require(slot)?;
        check_params(&lib, params)?;
        Ok(Plugged {
            label: lib.label(),
            lib,
            params: params.into(),
            state: None,
        })
    }

    fn with_state(&self, state: State) -> Plugged {
        Plugged {
            lib: Arc::clone(&self.lib),
            params: Arc::clone(&self.params),
            label: self.label.clone(),
            state: Some(Mutex::new(state)),
        }
    }

    fn for_run(&self) -> Result<Plugged, BehaviourFault> {
        Ok(self.with_state(State::create(&self.lib, &self.params)?))
    }

    fn fork(&self) -> Option<Plugged> {
        let state = self
            .state
            .as_ref()?
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .copy();
        Some(self.with_state(state))
    }

    /// Calls `f` with the run's state and a host error buffer, and turns a
    /// non-zero status into a fault.
    fn call(
        &self,
        f: impl FnOnce(*mut c_void, &mut abi::ErrorOut) -> i32,
    ) -> Result<(), BehaviourFault> {
        let Some(state) = &self.state else {
            return Err(BehaviourFault::new(
                "called without a run's state (a host bug)",
            ));
        };
        // Calls on one state never overlap (the ABI's threading rule).
        let state = state.lock().unwrap_or_else(|e| e.into_inner());
        let mut buf = [0u8; 1024];
        let mut err = error_out(&mut buf);
        let status = f(state.ptr as *mut c_void, &mut err);
        if status == abi::STATUS_OK {
            Ok(())
        } else {
            Err(fault(status, &err, &buf))
        }
    }
}

/// A plugin in the ally procurement slot.
pub struct PluginProcurement(Plugged);

impl PluginProcurement {
    pub fn new(lib: Arc<Library>, params: &str) -> Result<PluginProcurement, PluginError> {
        Plugged::new(lib, "procurement", params).map(PluginProcurement)
    }
}

impl Procurement for PluginProcurement {
    fn name(&self) -> &str {
        &self.0.label
    }

    fn choose(
        &self,
        batch: &ProcurementBatch<'_>,
        choices: &mut [i32],
    ) -> Result<(), BehaviourFault> {
        if choices.len() != batch.requirements.len() {
            return Err(BehaviourFault::new(
                "host bug: choices and requirements differ in length",
            ));
        }
        let call = abi::ProcurementCall {
            month: batch.month,
            n_requirements: batch.requirements.len() as u32,
            requirements: batch.requirements.as_ptr() as *const abi::Requirement,
            n_offers: batch.offers.len() as u32,
            offers: batch.offers.as_ptr() as *const abi::Offer,
            n_tastes: batch.tastes.len() as u32,
            tastes: batch.tastes.as_ptr() as *const abi::Taste,
        };
        let procure = self.0.lib.table.procure.expect("checked when loading");
        self.0.call(|state, err| {
            // SAFETY: the core's types have the ABI's layout (checked
            // above); every pointer is to a live host buffer of the length
            // given.
            unsafe { procure(state, &call, choices.as_mut_ptr(), err) }
        })
    }

    fn for_run(&self) -> Result<Option<Arc<dyn Procurement>>, BehaviourFault> {
        Ok(Some(Arc::new(PluginProcurement(self.0.for_run()?))))
    }

    fn fork(&self) -> Option<Arc<dyn Procurement>> {
        Some(Arc::new(PluginProcurement(self.0.fork()?)))
    }
}

/// A plugin in an investment slot (contractor or competitor).
pub struct PluginInvestment(Plugged);

impl PluginInvestment {
    /// `slot`: `contractor_investment` or `competitor_investment`.
    pub fn new(
        lib: Arc<Library>,
        slot: &str,
        params: &str,
    ) -> Result<PluginInvestment, PluginError> {
        Plugged::new(lib, slot, params).map(PluginInvestment)
    }
}

impl Investment for PluginInvestment {
    fn name(&self) -> &str {
        &self.0.label
    }

    fn uses_draws(&self) -> bool {
        self.0.lib.flags & abi::FLAG_INVESTMENT_DRAWS != 0
    }

    fn invest(
        &self,
        month: i32,
        lines: &[LineView],
        tranches: &mut [f64],
    ) -> Result<(), BehaviourFault> {
        if tranches.len() != lines.len() {
            return Err(BehaviourFault::new(
                "host bug: tranches and lines differ in length",
            ));
        }
        let call = abi::InvestmentCall {
            month,
            n_lines: lines.len() as u32,
            lines: lines.as_ptr() as *const abi::LineView,
        };
        let invest = self.0.lib.table.invest.expect("checked when loading");
        self.0.call(|state, err| {
            // SAFETY: as in `choose`.
            unsafe { invest(state, &call, tranches.as_mut_ptr(), err) }
        })
    }

    fn for_run(&self) -> Result<Option<Arc<dyn Investment>>, BehaviourFault> {
        Ok(Some(Arc::new(PluginInvestment(self.0.for_run()?))))
    }

    fn fork(&self) -> Option<Arc<dyn Investment>> {
        Some(Arc::new(PluginInvestment(self.0.fork()?)))
    }
}
