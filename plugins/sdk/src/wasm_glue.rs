//! What `export_plugin!` expands to call when built for Wasm (the
//! interface of `dibsim_plugin_abi::wasm`). Not a stable API.
//!
//! A Wasm module runs on one thread, so the run's state, the call buffer
//! and the error record are plain statics behind [`Cell`]; the host never
//! calls an instance from two threads at once.

use super::*;
use core::cell::UnsafeCell;

/// A module-global value. Sound only because a Wasm instance has one
/// thread (the SDK builds no threaded Wasm).
pub struct Cell<T>(UnsafeCell<Option<T>>);

// SAFETY: wasm32 without the threads proposal: one thread per instance.
unsafe impl<T> Sync for Cell<T> {}

impl<T> Cell<T> {
    pub const fn new() -> Cell<T> {
        Cell(UnsafeCell::new(None))
    }
    #[allow(clippy::mut_from_ref)]
    fn get(&self) -> &mut Option<T> {
        // SAFETY: one thread, and no call re-enters the module.
        unsafe { &mut *self.0.get() }
    }
}

/// The plugin's [`abi::wasm::WasmInfo`] and the strings it points at.
pub struct Info {
    slots: u32,
    flags: u32,
    name: &'static str,
    version: &'static str,
    record: Cell<abi::wasm::WasmInfo>,
}

impl Info {
    pub const fn new(slots: u32, flags: u32, name: &'static str, version: &'static str) -> Info {
        Info {
            slots,
            flags,
            name,
            version,
            record: Cell::new(),
        }
    }
    pub fn pointer(&self) -> u32 {
        let r = self.record.get().get_or_insert(abi::wasm::WasmInfo {
            slots: self.slots,
            flags: self.flags,
            name: self.name.as_ptr() as usize as u32,
            name_len: self.name.len() as u32,
            version: self.version.as_ptr() as usize as u32,
            version_len: self.version.len() as u32,
        });
        r as *const abi::wasm::WasmInfo as usize as u32
    }
}

static BUFFER: Cell<Vec<u64>> = Cell::new();
static ERROR: Cell<(abi::wasm::WasmError, String)> = Cell::new();

/// The call buffer: at least `bytes` bytes, 8-aligned.
pub fn buffer(bytes: u32) -> u32 {
    let words = bytes as usize / 8 + usize::from(bytes % 8 != 0);
    let b = BUFFER.get().get_or_insert_with(Vec::new);
    if b.len() < words {
        if b.try_reserve(words - b.len()).is_err() {
            return 0;
        }
        b.resize(words, 0);
    }
    b.as_ptr() as usize as u32
}

fn set_error(message: &str, item: Option<usize>) {
    let e = ERROR.get().get_or_insert_with(|| {
        (
            abi::wasm::WasmError {
                message: 0,
                message_len: 0,
                item: -1,
            },
            String::new(),
        )
    });
    e.1.clear();
    e.1.push_str(message);
    e.0 = abi::wasm::WasmError {
        message: e.1.as_ptr() as usize as u32,
        message_len: e.1.len() as u32,
        item: item.map_or(-1, |i| i as i64),
    };
}

/// The last error's record.
pub fn error() -> u32 {
    if ERROR.get().is_none() {
        set_error("", None);
    }
    match ERROR.get() {
        Some(e) => &e.0 as *const abi::wasm::WasmError as usize as u32,
        None => 0,
    }
}

/// A panic aborts the module (a trap); the hook keeps its message first,
/// where the host reads it after the trap.
fn keep_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let what = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".to_string());
            let at = info
                .location()
                .map(|l| format!(" (at {}:{})", l.file(), l.line()))
                .unwrap_or_default();
            set_error(&format!("panicked: {}{}", what, at), None);
        }))
    });
}

fn status(r: Result<(), Fault>) -> i32 {
    match r {
        Ok(()) => abi::STATUS_OK,
        Err(f) => {
            set_error(&f.message, f.item);
            abi::STATUS_ERROR
        }
    }
}

/// # Safety
/// `ptr` is the start of `n` values in this module's memory (or `n` is 0).
unsafe fn slice<'a, T>(ptr: u32, n: u32) -> &'a [T] {
    if n == 0 {
        &[]
    } else {
        core::slice::from_raw_parts(ptr as usize as *const T, n as usize)
    }
}

/// # Safety
/// As [`slice`], writable.
unsafe fn slice_mut<'a, T>(ptr: u32, n: u32) -> &'a mut [T] {
    if n == 0 {
        &mut []
    } else {
        core::slice::from_raw_parts_mut(ptr as usize as *mut T, n as usize)
    }
}

/// # Safety
/// `params` holds `len` bytes of the call buffer.
pub unsafe fn create<P: Plugin>(state: &Cell<P>, params: u32, len: u32) -> i32 {
    keep_panics();
    let text = match core::str::from_utf8(slice::<u8>(params, len)) {
        Ok(t) => t,
        Err(e) => return status(Err(Fault::new(format!("params are not UTF-8: {}", e)))),
    };
    status(
        P::create(text)
            .map(|p| *state.get() = Some(p))
            .map_err(Fault::new),
    )
}

/// # Safety
/// The host's pointers are to its inputs and outputs in the call buffer.
#[allow(clippy::too_many_arguments)]
pub unsafe fn procure<P: Procure>(
    state: &Cell<P>,
    month: i32,
    requirements: u32,
    n_requirements: u32,
    offers: u32,
    n_offers: u32,
    tastes: u32,
    n_tastes: u32,
    choices: u32,
) -> i32 {
    let p = match state.get().as_mut() {
        Some(p) => p,
        None => return status(Err(Fault::new("procure called before create"))),
    };
    let call = ProcurementCall {
        month,
        requirements: slice(requirements, n_requirements),
        offers: slice(offers, n_offers),
        tastes: slice(tastes, n_tastes),
    };
    status(p.procure(&call, slice_mut(choices, n_requirements)))
}

/// # Safety
/// As [`procure`].
pub unsafe fn invest<P: Invest>(
    state: &Cell<P>,
    month: i32,
    lines: u32,
    n_lines: u32,
    tranches: u32,
) -> i32 {
    let p = match state.get().as_mut() {
        Some(p) => p,
        None => return status(Err(Fault::new("invest called before create"))),
    };
    status(p.invest(month, slice(lines, n_lines), slice_mut(tranches, n_lines)))
}
