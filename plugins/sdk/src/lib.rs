//! Write a dibsim behaviour plugin in safe Rust.
//!
//! A plugin is a `Copy` type holding its per-run state (built from the
//! scenario's JSON parameters), implementing [`Plugin`] and one or both slot
//! traits, and exported with [`export_plugin!`]:
//!
//! ```ignore
//! use dibsim_plugin_sdk::{export_plugin, Plugin, Procure, ProcurementCall, Fault};
//!
//! #[derive(Clone, Copy)]
//! struct Cheapest;
//! impl Plugin for Cheapest {
//!     fn create(_params: &str) -> Result<Self, String> { Ok(Cheapest) }
//! }
//! impl Procure for Cheapest {
//!     fn procure(&mut self, call: &ProcurementCall<'_>, choices: &mut [i32]) -> Result<(), Fault> {
//!         for (k, r) in call.requirements.iter().enumerate() {
//!             let offers = call.offers_of(r);
//!             choices[k] = (0..offers.len())
//!                 .min_by(|&a, &b| offers[a].price_index.total_cmp(&offers[b].price_index))
//!                 .map_or(-1, |j| j as i32);
//!         }
//!         Ok(())
//!     }
//! }
//! export_plugin!(Cheapest, procurement);
//! ```
//!
//! The macro writes the C entry point and table, copies nothing, and wraps
//! every call so that a panic becomes an error status with its message:
//! it never unwinds into dibsim (which, since Rust 1.81, would abort the
//! whole process and every run of a sweep with it).
//!
//! The same source builds a WebAssembly plugin: built for a `wasm32`
//! target (`cargo build --release --target wasm32-unknown-unknown`; not
//! `wasm32-wasip1`, whose std imports WASI functions, which dibsim refuses),
//! the macro writes the exports of the Wasm interface ([`abi::wasm`])
//! instead. There a panic aborts the module (Wasm has no
//! unwinding); its message is kept first, and dibsim reports it with the
//! trap. This crate builds with Rust 1.63 and later, so that an older
//! compiler with a packaged Wasm standard library (Debian's) serves too.

// Built for Wasm, the native glue is compiled but not exported.
#![cfg_attr(target_family = "wasm", allow(dead_code))]

pub use dibsim_plugin_abi as abi;
pub use dibsim_plugin_abi::{LineView, Offer, Requirement, Taste, OUTSIDE};

/// Why a call failed: a message, and optionally the requirement or line
/// (index in the batch) it failed on, so dibsim can name the agent.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    pub message: String,
    pub item: Option<usize>,
}

impl Fault {
    pub fn new(message: impl Into<String>) -> Fault {
        Fault {
            message: message.into(),
            item: None,
        }
    }
    pub fn at(item: usize, message: impl Into<String>) -> Fault {
        Fault {
            message: message.into(),
            item: Some(item),
        }
    }
}

/// A plugin and its per-run state. `Copy` because dibsim copies a run's
/// state byte for byte when it forks the run; it must not own heap memory.
/// The plugin's name and version are its crate's (`Cargo.toml`).
pub trait Plugin: Copy + 'static {
    /// The state for one run, from the scenario's `params` (a JSON object).
    fn create(params: &str) -> Result<Self, String>;
}

/// One procurement batch, as safe slices.
#[derive(Debug, Clone, Copy)]
pub struct ProcurementCall<'a> {
    pub month: i32,
    pub requirements: &'a [Requirement],
    pub offers: &'a [Offer],
    /// Indexed by `Requirement::ally`.
    pub tastes: &'a [Taste],
}

impl<'a> ProcurementCall<'a> {
    /// The offers of one requirement (its indices are what `choices` holds).
    pub fn offers_of(&self, r: &Requirement) -> &'a [Offer] {
        let start = r.offer_start as usize;
        &self.offers[start..start + r.offer_count as usize]
    }
}

/// Ally procurement (docs/model.md step 5): `choices[k]` is the index of the
/// chosen offer among requirement k's own offers, or [`OUTSIDE`].
pub trait Procure: Plugin {
    fn procure(&mut self, call: &ProcurementCall<'_>, choices: &mut [i32]) -> Result<(), Fault>;
}

/// Contractor or competitor investment (docs/model.md step 10): `tranches[k]`
/// is the capacity (TIV/month) line k orders, 0 for none.
pub trait Invest: Plugin {
    /// Whether `LineView::draw` is read (the host then draws it).
    const USES_DRAWS: bool = false;
    fn invest(&mut self, month: i32, lines: &[LineView], tranches: &mut [f64])
        -> Result<(), Fault>;
}

#[cfg(target_family = "wasm")]
#[doc(hidden)]
pub mod wasm_glue;

#[doc(hidden)]
pub mod glue {
    //! What `export_plugin!` expands to call. Not a stable API.
    use super::*;
    use core::ffi::c_void;
    use std::panic::{catch_unwind, AssertUnwindSafe};

    fn report(err: *mut abi::ErrorOut, message: &str, item: Option<usize>) {
        if err.is_null() {
            return;
        }
        // SAFETY: the host passes a valid ErrorOut with `capacity` writable bytes.
        unsafe {
            let e = &mut *err;
            let mut n = message.len().min(e.capacity);
            while n > 0 && !message.is_char_boundary(n) {
                n -= 1;
            }
            if !e.message.is_null() {
                core::ptr::copy_nonoverlapping(message.as_ptr(), e.message, n);
                e.len = n;
            }
            e.item = item.map_or(-1, |i| i as i64);
        }
    }

    #[cfg(target_family = "wasm")]
    pub use super::wasm_glue as wasm;

    std::thread_local! {
        static PANIC_AT: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
    }

    /// This plugin's copy of std gets a hook that keeps the panic's place
    /// for the error message instead of printing it (and a backtrace) over
    /// dibsim's output; dibsim reports the panic itself.
    fn quiet_panics() {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            std::panic::set_hook(Box::new(|info| {
                let at = info
                    .location()
                    .map(|l| format!("{}:{}", l.file(), l.line()));
                PANIC_AT.with(|p| *p.borrow_mut() = at);
            }))
        });
    }

    fn guarded(err: *mut abi::ErrorOut, f: impl FnOnce() -> Result<(), Fault>) -> i32 {
        quiet_panics();
        match catch_unwind(AssertUnwindSafe(f)) {
            Ok(Ok(())) => abi::STATUS_OK,
            Ok(Err(fault)) => {
                report(err, &fault.message, fault.item);
                abi::STATUS_ERROR
            }
            Err(payload) => {
                let what = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic".to_string());
                let at = PANIC_AT.with(|p| p.borrow_mut().take());
                let at = at.map(|a| format!(" (at {a})")).unwrap_or_default();
                report(err, &format!("panicked: {what}{at}"), None);
                abi::STATUS_PANIC
            }
        }
    }

    /// # Safety
    /// Called by the host with `params_len` readable bytes and a state
    /// buffer of `size_of::<P>()` bytes aligned for `P`.
    pub unsafe fn create<P: Plugin>(
        params: *const u8,
        params_len: usize,
        state: *mut c_void,
        err: *mut abi::ErrorOut,
    ) -> i32 {
        guarded(err, || {
            let bytes = if params.is_null() {
                &[][..]
            } else {
                // SAFETY: the host passes params_len readable bytes.
                unsafe { core::slice::from_raw_parts(params, params_len) }
            };
            let text = core::str::from_utf8(bytes)
                .map_err(|e| Fault::new(format!("params are not UTF-8: {e}")))?;
            let p = P::create(text).map_err(Fault::new)?;
            // SAFETY: the host's buffer has P's size and alignment.
            unsafe { (state as *mut P).write(p) };
            Ok(())
        })
    }

    /// # Safety
    /// `ptr` points to `n` valid values (or `n` is 0).
    unsafe fn slice<'a, T>(ptr: *const T, n: u32) -> &'a [T] {
        if n == 0 || ptr.is_null() {
            &[]
        } else {
            // SAFETY: per the function's contract.
            unsafe { core::slice::from_raw_parts(ptr, n as usize) }
        }
    }

    /// # Safety
    /// The host passes a state created by `create::<P>` and a valid call.
    pub unsafe fn procure<P: Procure>(
        state: *mut c_void,
        call: *const abi::ProcurementCall,
        choices: *mut i32,
        err: *mut abi::ErrorOut,
    ) -> i32 {
        guarded(err, || {
            // SAFETY: pointers and lengths come from the host's live buffers.
            let (p, c, choices) = unsafe {
                let c = &*call;
                (
                    &mut *(state as *mut P),
                    ProcurementCall {
                        month: c.month,
                        requirements: slice(c.requirements, c.n_requirements),
                        offers: slice(c.offers, c.n_offers),
                        tastes: slice(c.tastes, c.n_tastes),
                    },
                    if c.n_requirements == 0 {
                        &mut [][..]
                    } else {
                        core::slice::from_raw_parts_mut(choices, c.n_requirements as usize)
                    },
                )
            };
            p.procure(&c, choices)
        })
    }

    /// # Safety
    /// As [`procure`].
    pub unsafe fn invest<P: Invest>(
        state: *mut c_void,
        call: *const abi::InvestmentCall,
        tranches: *mut f64,
        err: *mut abi::ErrorOut,
    ) -> i32 {
        guarded(err, || {
            // SAFETY: pointers and lengths come from the host's live buffers.
            let (p, month, lines, tranches) = unsafe {
                let c = &*call;
                let n = c.n_lines as usize;
                if n == 0 {
                    (&mut *(state as *mut P), c.month, &[][..], &mut [][..])
                } else {
                    (
                        &mut *(state as *mut P),
                        c.month,
                        core::slice::from_raw_parts(c.lines, n),
                        core::slice::from_raw_parts_mut(tranches, n),
                    )
                }
            };
            p.invest(month, lines, tranches)
        })
    }

    /// # Safety
    /// The host passes a state created by `create::<P>`.
    pub unsafe extern "C" fn destroy<P: Plugin>(state: *mut c_void) {
        // P is Copy: nothing to drop. The hook exists for C plugins.
        let _ = state;
    }
}

/// Exports a plugin type: `export_plugin!(MyPlugin, procurement)`,
/// `export_plugin!(MyPlugin, investment)` or
/// `export_plugin!(MyPlugin, procurement, investment)`. The investment slot
/// serves both contractor and competitor investment.
#[macro_export]
macro_rules! export_plugin {
    ($ty:ty, procurement) => {
        $crate::export_plugin!(@table $ty, $crate::abi::SLOT_PROCUREMENT, 0,
            Some(__dibsim_procure), None);
        $crate::export_plugin!(@procure $ty);
    };
    ($ty:ty, investment) => {
        $crate::export_plugin!(@table $ty,
            $crate::abi::SLOT_CONTRACTOR_INVESTMENT | $crate::abi::SLOT_COMPETITOR_INVESTMENT,
            if <$ty as $crate::Invest>::USES_DRAWS { $crate::abi::FLAG_INVESTMENT_DRAWS } else { 0 },
            None, Some(__dibsim_invest));
        $crate::export_plugin!(@invest $ty);
    };
    ($ty:ty, procurement, investment) => {
        $crate::export_plugin!(@table $ty,
            $crate::abi::SLOT_PROCUREMENT | $crate::abi::SLOT_CONTRACTOR_INVESTMENT
                | $crate::abi::SLOT_COMPETITOR_INVESTMENT,
            if <$ty as $crate::Invest>::USES_DRAWS { $crate::abi::FLAG_INVESTMENT_DRAWS } else { 0 },
            Some(__dibsim_procure), Some(__dibsim_invest));
        $crate::export_plugin!(@procure $ty);
        $crate::export_plugin!(@invest $ty);
    };
    (@procure $ty:ty) => {
        #[cfg(target_family = "wasm")]
        #[no_mangle]
        pub extern "C" fn dibsim_wasm_procure(
            month: i32,
            requirements: u32,
            n_requirements: u32,
            offers: u32,
            n_offers: u32,
            tastes: u32,
            n_tastes: u32,
            choices: u32,
        ) -> i32 {
            unsafe {
                $crate::glue::wasm::procure::<$ty>(
                    &__DIBSIM_WASM_STATE,
                    month,
                    requirements,
                    n_requirements,
                    offers,
                    n_offers,
                    tastes,
                    n_tastes,
                    choices,
                )
            }
        }
        #[cfg(not(target_family = "wasm"))]
        unsafe extern "C" fn __dibsim_procure(
            state: *mut ::core::ffi::c_void,
            call: *const $crate::abi::ProcurementCall,
            choices: *mut i32,
            err: *mut $crate::abi::ErrorOut,
        ) -> i32 {
            unsafe { $crate::glue::procure::<$ty>(state, call, choices, err) }
        }
    };
    (@invest $ty:ty) => {
        #[cfg(target_family = "wasm")]
        #[no_mangle]
        pub extern "C" fn dibsim_wasm_invest(
            month: i32,
            lines: u32,
            n_lines: u32,
            tranches: u32,
        ) -> i32 {
            unsafe {
                $crate::glue::wasm::invest::<$ty>(&__DIBSIM_WASM_STATE, month, lines, n_lines, tranches)
            }
        }
        #[cfg(not(target_family = "wasm"))]
        unsafe extern "C" fn __dibsim_invest(
            state: *mut ::core::ffi::c_void,
            call: *const $crate::abi::InvestmentCall,
            tranches: *mut f64,
            err: *mut $crate::abi::ErrorOut,
        ) -> i32 {
            unsafe { $crate::glue::invest::<$ty>(state, call, tranches, err) }
        }
    };
    (@table $ty:ty, $slots:expr, $flags:expr, $procure:expr, $invest:expr) => {
        #[cfg(target_family = "wasm")]
        $crate::export_plugin!(@wasm $ty, $slots, $flags);
        #[cfg(not(target_family = "wasm"))]
        $crate::export_plugin!(@native $ty, $slots, $flags, $procure, $invest);
    };
    (@native $ty:ty, $slots:expr, $flags:expr, $procure:expr, $invest:expr) => {
        unsafe extern "C" fn __dibsim_create(
            params: *const u8,
            params_len: usize,
            state: *mut ::core::ffi::c_void,
            err: *mut $crate::abi::ErrorOut,
        ) -> i32 {
            unsafe { $crate::glue::create::<$ty>(params, params_len, state, err) }
        }
        static __DIBSIM_TABLE: $crate::abi::PluginTable = $crate::abi::PluginTable {
            magic: $crate::abi::MAGIC,
            abi_major: $crate::abi::ABI_MAJOR,
            abi_minor: $crate::abi::ABI_MINOR,
            size: ::core::mem::size_of::<$crate::abi::PluginTable>() as u64,
            // The plugin crate's own package name and version.
            name: concat!(env!("CARGO_PKG_NAME"), "\0").as_ptr() as *const ::core::ffi::c_char,
            version: concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr() as *const ::core::ffi::c_char,
            slots: $slots,
            flags: $flags,
            state_size: ::core::mem::size_of::<$ty>() as u64,
            state_align: ::core::mem::align_of::<$ty>() as u64,
            create: Some(__dibsim_create),
            destroy: Some($crate::glue::destroy::<$ty>),
            procure: $procure,
            invest: $invest,
        };
        /// The plugin's entry point (see dibsim_plugin.h).
        #[cfg(not(target_family = "wasm"))]
        #[no_mangle]
        pub extern "C" fn dibsim_plugin_entry() -> *const $crate::abi::PluginTable {
            &__DIBSIM_TABLE
        }
    };
    (@wasm $ty:ty, $slots:expr, $flags:expr) => {
        static __DIBSIM_WASM_STATE: $crate::glue::wasm::Cell<$ty> = $crate::glue::wasm::Cell::new();
        static __DIBSIM_WASM_INFO: $crate::glue::wasm::Info = $crate::glue::wasm::Info::new(
            $slots,
            $flags,
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
        );
        #[no_mangle]
        pub extern "C" fn dibsim_wasm_abi() -> i32 {
            $crate::abi::wasm::packed_version(
                $crate::abi::wasm::WASM_ABI_MAJOR,
                $crate::abi::wasm::WASM_ABI_MINOR,
            )
        }
        #[no_mangle]
        pub extern "C" fn dibsim_wasm_info() -> u32 {
            __DIBSIM_WASM_INFO.pointer()
        }
        #[no_mangle]
        pub extern "C" fn dibsim_wasm_buffer(bytes: u32) -> u32 {
            $crate::glue::wasm::buffer(bytes)
        }
        #[no_mangle]
        pub extern "C" fn dibsim_wasm_error() -> u32 {
            $crate::glue::wasm::error()
        }
        #[no_mangle]
        pub extern "C" fn dibsim_wasm_create(params: u32, len: u32) -> i32 {
            unsafe { $crate::glue::wasm::create::<$ty>(&__DIBSIM_WASM_STATE, params, len) }
        }
    };
}
