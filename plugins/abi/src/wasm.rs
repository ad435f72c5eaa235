//! The WebAssembly interface between dibsim and a behaviour plugin,
//! version 1.0: the C ABI's slots and data, as exports of a Wasm module.
//!
//! A module is a plugin when it exports a memory named `memory` and the
//! functions below, and imports nothing (no WASI, no host functions: a
//! plugin has no file system, network, clock or environment, because it is
//! given no way to reach them). All integers are `i32` (wasm32 pointers are
//! offsets in the module's memory); structs are the C ABI's, which hold no
//! pointers and have no padding, so their bytes are the same on both sides
//! (little-endian, `f64` aligned to 8).
//!
//! | export | signature | does |
//! |---|---|---|
//! | [`ABI_EXPORT`] | `() -> i32` | `(major << 16) \| minor` |
//! | [`INFO_EXPORT`] | `() -> i32` | pointer to a [`WasmInfo`] |
//! | [`BUFFER_EXPORT`] | `(bytes) -> i32` | pointer to at least `bytes` bytes, 8-aligned, the module's own, valid until the next call to it; 0 if it cannot |
//! | [`CREATE_EXPORT`] | `(params, len) -> status` | builds the run's state from the JSON params (UTF-8) |
//! | [`PROCURE_EXPORT`] | `(month, requirements, n, offers, n, tastes, n, choices) -> status` | writes `n_requirements` `i32` choices |
//! | [`INVEST_EXPORT`] | `(month, lines, n, tranches) -> status` | writes `n_lines` `f64` tranches |
//! | [`ERROR_EXPORT`] | `() -> i32` | pointer to a [`WasmError`] explaining the last non-zero status (or trap) |
//!
//! Per call the host asks for one buffer, writes the inputs into it, lays
//! the outputs after them, and calls the slot. The run's state lives in the
//! module's memory: one instance is one run, and a forked run is a copy of
//! the instance's memory. Status codes are the C ABI's ([`crate::STATUS_OK`]
//! and the others).

/// The Wasm interface's version (its own, beside the C ABI's).
pub const WASM_ABI_MAJOR: u32 = 1;
pub const WASM_ABI_MINOR: u32 = 0;

pub const MEMORY_EXPORT: &str = "memory";
pub const ABI_EXPORT: &str = "dibsim_wasm_abi";
pub const INFO_EXPORT: &str = "dibsim_wasm_info";
pub const BUFFER_EXPORT: &str = "dibsim_wasm_buffer";
pub const CREATE_EXPORT: &str = "dibsim_wasm_create";
pub const PROCURE_EXPORT: &str = "dibsim_wasm_procure";
pub const INVEST_EXPORT: &str = "dibsim_wasm_invest";
pub const ERROR_EXPORT: &str = "dibsim_wasm_error";

/// What the plugin is: [`INFO_EXPORT`] points at one (24 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct WasmInfo {
    /// `SLOT_*` bits.
    pub slots: u32,
    /// `FLAG_*` bits.
    pub flags: u32,
    /// UTF-8, `name_len` bytes at `name` in the module's memory.
    pub name: u32,
    pub name_len: u32,
    pub version: u32,
    pub version_len: u32,
}

/// Why the last call failed: [`ERROR_EXPORT`] points at one (16 bytes).
/// `item` is the requirement or line it failed on, or -1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct WasmError {
    pub message: u32,
    pub message_len: u32,
    pub item: i64,
}

/// The packed version [`ABI_EXPORT`] returns.
pub const fn packed_version(major: u32, minor: u32) -> i32 {
    ((major << 16) | (minor & 0xffff)) as i32
}

// The byte layouts the interface fixes (no padding: the host copies the
// bytes of its own values).
const _: () = {
    assert!(core::mem::size_of::<WasmInfo>() == 24);
    assert!(core::mem::size_of::<WasmError>() == 16);
    assert!(core::mem::size_of::<crate::Offer>() == 64);
    assert!(core::mem::size_of::<crate::Requirement>() == 40);
    assert!(core::mem::size_of::<crate::Taste>() == 48);
    assert!(core::mem::size_of::<crate::LineView>() == 120);
};
