//! The host side of the WebAssembly plugin interface
//! (`dibsim_plugin_abi::wasm`): loading, checking, sandboxing, and adapters
//! that make a module a [`Procurement`] or [`Investment`] behaviour.
//!
//! Why Wasm beside native libraries: a `.wasm` file is one portable binary
//! for every platform, and it runs in a sandbox, so a scenario file shared
//! between researchers can carry a behaviour without asking anyone to trust
//! native code. The sandbox is what the module is *not* given:
//!
//! - **No imports at all.** Not WASI, not a host function: a module that
//!   imports anything is refused when loaded, so it has no file system,
//!   network, clock, environment or randomness but the draws it is handed.
//! - **Fuel.** Every call may execute at most [`FUEL_PER_CALL`] Wasm
//!   instructions (wasmtime's fuel counts them deterministically, unlike a
//!   wall-clock timeout); an endless loop ends the run with an error.
//! - **A memory cap** of [`MEMORY_CAP`] bytes per instance; growing past it
//!   traps, and the error says so.
//!
//! Reproducibility: the engine canonicalises NaNs (every NaN a float
//! instruction makes has the same bits), relaxed SIMD is off, threads are
//! not compiled in (wasmtime's `threads` feature is not enabled),
//! and everything else in core Wasm is deterministic; the module carries its
//! own maths library. So one module gives the same bits on every machine.
//!
//! Compiled once per process ([`load`] keeps a registry, like the native
//! host), instantiated once per run; a fork copies the instance's memory.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use dibsim_core::behaviour::{
    BehaviourFault, Investment, LineView, Offer, Procurement, ProcurementBatch, Requirement, Taste,
};
use dibsim_plugin_abi as abi;
use dibsim_plugin_abi::wasm as wabi;
use thiserror::Error;
use wasmtime::{
    Config, Engine, Instance, InstancePre, Linker, Memory, Module, ResourceLimiter, Store, Trap,
    TypedFunc,
};

/// Wasm instructions one call may execute (a baseline month's procurement
/// call with the logit plugin uses about 10^5).
pub const FUEL_PER_CALL: u64 = 1_000_000_000;
/// Bytes of linear memory one instance may hold.
pub const MEMORY_CAP: usize = 256 << 20;
/// The largest input file read as a module.
const MAX_MODULE_BYTES: u64 = 64 << 20;

/// Why a Wasm plugin was refused.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum WasmPluginError {
    #[error("plugin {0}: no such file")]
    NotFound(PathBuf),
    #[error("plugin {path}: cannot read it: {reason}")]
    Unreadable { path: PathBuf, reason: String },
    #[error("plugin {path}: not a WebAssembly module ({reason})")]
    NotWasm { path: PathBuf, reason: String },
    #[error("plugin {path}: imports {module}.{name}; a dibsim Wasm plugin is given no imports (no WASI: no files, network, clock or environment). Build it for wasm32-unknown-unknown with dibsim-plugin-sdk, which needs none")]
    Imports {
        path: PathBuf,
        module: String,
        name: String,
    },
    #[error("plugin {path}: built for Wasm interface {major}.{minor}, this dibsim speaks {host_major}.{host_minor}: rebuild it with a dibsim-plugin-sdk that speaks Wasm interface {host_major}.x")]
    WrongMajor {
        path: PathBuf,
        major: u32,
        minor: u32,
        host_major: u32,
        host_minor: u32,
    },
    #[error("plugin {path}: {what}")]
    BadModule { path: PathBuf, what: String },
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
}

/// Whether `path` names a Wasm plugin: a `.wasm` or `.wat` file, or a file
/// that starts with Wasm's magic bytes.
pub fn is_wasm(path: &Path) -> bool {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    if matches!(ext.as_deref(), Some("wasm" | "wat")) {
        return true;
    }
    let mut head = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok()
        && head == *b"\0asm"
}

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut c = Config::new();
        c.consume_fuel(true)
            .cranelift_nan_canonicalization(true)
            .wasm_relaxed_simd(false)
            .relaxed_simd_deterministic(true)
            .wasm_memory64(false)
            .wasm_multi_memory(false);
        Engine::new(&c).expect("a fixed, valid engine configuration")
    })
}

/// What one store holds: the memory cap, and whether a call hit it.
struct Limits {
    asked: Option<usize>,
}

impl ResourceLimiter for Limits {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > MEMORY_CAP {
            self.asked = Some(desired);
            return Err(wasmtime::Error::msg("memory cap"));
        }
        Ok(true)
    }
    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1 << 20)
    }
}

/// A checked, compiled Wasm plugin. Lives for the rest of the process.
pub struct WasmModule {
    pub path: PathBuf,
    pub name: String,
    pub version: String,
    pub abi_major: u32,
    pub abi_minor: u32,
    pub slots: u32,
    pub flags: u32,
    pre: InstancePre<Limits>,
}

impl std::fmt::Debug for WasmModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} ({}, wasm)",
            self.name,
            self.version,
            self.path.display()
        )
    }
}

impl WasmModule {
    pub fn slot_names(&self) -> Vec<&'static str> {
        abi::SLOT_NAMES
            .into_iter()
            .filter(|(bit, _)| self.slots & bit != 0)
            .map(|(_, n)| n)
            .collect()
    }

    /// Refuses a slot the plugin does not provide.
    pub fn require(&self, slot: &str) -> Result<(), WasmPluginError> {
        if self.slot_names().contains(&slot) {
            Ok(())
        } else {
            Err(WasmPluginError::SlotNotProvided {
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

type Registry = Mutex<HashMap<(PathBuf, u64), Arc<WasmModule>>>;

fn registry() -> &'static Registry {
    static R: OnceLock<Registry> = OnceLock::new();
    R.get_or_init(Default::default)
}

/// Loads, compiles (once per process for the same file and content) and
/// checks the plugin at `path`. A module rebuilt at the same path (say,
/// between two runs in one Python session) is compiled again.
pub fn load(path: &Path) -> Result<Arc<WasmModule>, WasmPluginError> {
    if !path.is_file() {
        return Err(WasmPluginError::NotFound(path.to_path_buf()));
    }
    let bytes = read(path)?;
    let key = (
        std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()),
        {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            bytes.hash(&mut h);
            h.finish()
        },
    );
    let mut reg = registry().lock().unwrap_or_else(|e| e.into_inner());
    if let Some(m) = reg.get(&key) {
        return Ok(Arc::clone(m));
    }
    let text = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("wat"));
    let m = Arc::new(compile_bytes(path, &bytes, text)?);
    reg.insert(key, Arc::clone(&m));
    Ok(m)
}

fn read(path: &Path) -> Result<Vec<u8>, WasmPluginError> {
    let p = || path.to_path_buf();
    let unreadable = |e: std::io::Error| WasmPluginError::Unreadable {
        path: p(),
        reason: e.to_string(),
    };
    let size = std::fs::metadata(path).map_err(unreadable)?.len();
    if size > MAX_MODULE_BYTES {
        return Err(WasmPluginError::BadModule {
            path: p(),
            what: format!(
                "it is {size} bytes; a plugin module may be at most {MAX_MODULE_BYTES} bytes"
            ),
        });
    }
    std::fs::read(path).map_err(unreadable)
}

/// Compiles and checks a module from its bytes (`text`: WebAssembly text
/// is accepted too), without the per-process registry: what [`load`] does
/// after reading the file, and what the loader's fuzz target calls.
pub fn compile_bytes(path: &Path, bytes: &[u8], text: bool) -> Result<WasmModule, WasmPluginError> {
    let p = || path.to_path_buf();
    if !text && !bytes.starts_with(b"\0asm") {
        let head: String = bytes
            .iter()
            .take(4)
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" ");
        return Err(WasmPluginError::NotWasm {
            path: p(),
            reason: format!(
                "it starts with {}, not the Wasm magic 00 61 73 6d",
                if head.is_empty() { "nothing" } else { &head }
            ),
        });
    }
    let module = Module::new(engine(), bytes).map_err(|e| WasmPluginError::NotWasm {
        path: p(),
        reason: format!("{e:#}"),
    })?;
    if let Some(i) = module.imports().next() {
        return Err(WasmPluginError::Imports {
            path: p(),
            module: i.module().to_string(),
            name: i.name().to_string(),
        });
    }
    check_globals(path, bytes, text)?;
    let pre = Linker::new(engine())
        .instantiate_pre(&module)
        .map_err(|e| bad(path, format!("{e:#}")))?;
    // The version first (a module of another major may export anything
    // else), then a probe instance for what the plugin is.
    let packed = version(&pre).map_err(|e| bad(path, e.message))?;
    let (major, minor) = (packed >> 16, packed & 0xffff);
    if major != wabi::WASM_ABI_MAJOR {
        return Err(WasmPluginError::WrongMajor {
            path: p(),
            major,
            minor,
            host_major: wabi::WASM_ABI_MAJOR,
            host_minor: wabi::WASM_ABI_MINOR,
        });
    }
    let mut probe = Run::new(&pre).map_err(|e| bad(path, e.message))?;
    let info = probe.info().map_err(|e| bad(path, e.message))?;
    if info.slots == 0 {
        return Err(bad(path, "it declares no slot".into()));
    }
    let investment = abi::SLOT_CONTRACTOR_INVESTMENT | abi::SLOT_COMPETITOR_INVESTMENT;
    for (bit, export) in [
        (abi::SLOT_PROCUREMENT, wabi::PROCURE_EXPORT),
        (investment, wabi::INVEST_EXPORT),
    ] {
        let has = if bit == abi::SLOT_PROCUREMENT {
            probe.procure.is_some()
        } else {
            probe.invest.is_some()
        };
        if info.slots & bit != 0 && !has {
            return Err(bad(
                path,
                format!("it declares the slot but exports no function `{export}` of the interface's type"),
            ));
        }
    }
    let name = probe
        .text(info.name, info.name_len)
        .map_err(|e| bad(path, format!("its name: {}", e.message)))?;
    let version = probe
        .text(info.version, info.version_len)
        .map_err(|e| bad(path, format!("its version: {}", e.message)))?;
    Ok(WasmModule {
        path: p(),
        name,
        version,
        abi_major: major,
        abi_minor: minor,
        slots: info.slots,
        flags: info.flags,
        pre,
    })
}

/// A run forks by copying its instance's linear memory, which carries all
/// of a plugin's state only if the plugin keeps it there. Rust and C
/// modules do: their one mutable global is the stack pointer (an `i32`),
/// back at its start between calls. A module with other mutable globals
/// (AssemblyScript's or TinyGo's heap pointers, say) would fork wrongly,
/// so it is refused.
fn check_globals(path: &Path, bytes: &[u8], text: bool) -> Result<(), WasmPluginError> {
    let binary = if text && !bytes.starts_with(b"\0asm") {
        std::borrow::Cow::Owned(
            wat::parse_bytes(bytes)
                .map_err(|e| bad(path, format!("{e}")))?
                .into_owned(),
        )
    } else {
        std::borrow::Cow::Borrowed(bytes)
    };
    let mut mutable = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(&binary) {
        let payload = payload.map_err(|e| bad(path, format!("{e}")))?;
        if let wasmparser::Payload::GlobalSection(globals) = payload {
            for g in globals {
                let g = g.map_err(|e| bad(path, format!("{e}")))?;
                if g.ty.mutable {
                    mutable.push(g.ty.content_type);
                }
            }
        }
    }
    let stack_pointer_only =
        mutable.is_empty() || (mutable.len() == 1 && mutable[0] == wasmparser::ValType::I32);
    if !stack_pointer_only {
        return Err(bad(
            path,
            format!(
                "it defines {} mutable globals; dibsim forks a run by copying the instance's linear memory, so a plugin must keep its state there (a Rust or C module's only mutable global is its i32 stack pointer)",
                mutable.len()
            ),
        ));
    }
    Ok(())
}

fn new_store() -> Result<Store<Limits>, BehaviourFault> {
    let mut store = Store::new(engine(), Limits { asked: None });
    store.limiter(|l| l as &mut dyn ResourceLimiter);
    store
        .set_fuel(FUEL_PER_CALL)
        .map_err(|e| fault(format!("{e:#}")))?;
    Ok(store)
}

/// The packed interface version a module reports.
fn version(pre: &InstancePre<Limits>) -> Result<u32, BehaviourFault> {
    let mut store = new_store()?;
    let instance = pre
        .instantiate(&mut store)
        .map_err(|e| fault(format!("cannot instantiate it: {e:#}")))?;
    let f = instance
        .get_typed_func::<(), i32>(&mut store, wabi::ABI_EXPORT)
        .map_err(|e| {
            fault(format!(
                "it exports no function `{}` () -> i32 ({e:#}): is it a dibsim plugin, built with dibsim-plugin-sdk's export_plugin!?",
                wabi::ABI_EXPORT
            ))
        })?;
    let v = f
        .call(&mut store, ())
        .map_err(|e| fault(format!("{} trapped: {e:#}", wabi::ABI_EXPORT)))?;
    Ok(v as u32)
}

fn bad(path: &Path, what: String) -> WasmPluginError {
    WasmPluginError::BadModule {
        path: path.to_path_buf(),
        what,
    }
}

type ProcureFn = TypedFunc<(i32, u32, u32, u32, u32, u32, u32, u32), i32>;
type InvestFn = TypedFunc<(i32, u32, u32, u32), i32>;

/// One instance: one run's state.
struct Run {
    store: Store<Limits>,
    memory: Memory,
    info: TypedFunc<(), u32>,
    buffer: TypedFunc<u32, u32>,
    create: TypedFunc<(u32, u32), i32>,
    error: TypedFunc<(), u32>,
    procure: Option<ProcureFn>,
    invest: Option<InvestFn>,
}

/// The little-endian u32 at byte `i` of `b` (the caller read enough bytes).
fn le_u32(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"))
}

fn fault(message: impl Into<String>) -> BehaviourFault {
    BehaviourFault::new(message)
}

/// The core's observation types as the bytes the interface fixes. They are
/// `#[repr(C)]` plain data without padding (sizes checked in the ABI crate
/// and below), and Wasm is little-endian like every host dibsim builds on.
fn bytes_of<T: Plain>(values: &[T]) -> &[u8] {
    // SAFETY: T is one of the padding-free observation structs or a
    // primitive (the only `Plain` types); every byte is initialised.
    unsafe {
        std::slice::from_raw_parts(values.as_ptr() as *const u8, std::mem::size_of_val(values))
    }
}

/// Types whose every byte is initialised data (no padding): the only ones
/// [`bytes_of`] views. Their layouts are the ABI's (sizes below; field
/// offsets are checked against the ABI crate's in `plugins/host`).
trait Plain: Copy {}
impl Plain for Offer {}
impl Plain for Requirement {}
impl Plain for Taste {}
impl Plain for LineView {}
impl Plain for i32 {}
impl Plain for f64 {}

#[cfg(target_endian = "big")]
compile_error!("the Wasm plugin host copies little-endian structs byte for byte");

const _: () = {
    use std::mem::size_of;
    assert!(size_of::<Offer>() == size_of::<abi::Offer>());
    assert!(size_of::<Requirement>() == size_of::<abi::Requirement>());
    assert!(size_of::<Taste>() == size_of::<abi::Taste>());
    assert!(size_of::<LineView>() == size_of::<abi::LineView>());
};

impl Run {
    fn new(pre: &InstancePre<Limits>) -> Result<Run, BehaviourFault> {
        let mut store = new_store()?;
        let instance: Instance = pre
            .instantiate(&mut store)
            .map_err(|e| fault(format!("cannot instantiate it: {e:#}")))?;
        let memory = instance
            .get_memory(&mut store, wabi::MEMORY_EXPORT)
            .ok_or_else(|| fault(format!("it exports no memory `{}`", wabi::MEMORY_EXPORT)))?;
        macro_rules! func {
            ($name:expr) => {
                instance.get_typed_func(&mut store, $name).map_err(|e| {
                    fault(format!(
                        "it exports no function `{}` of the interface's type ({e:#})",
                        $name
                    ))
                })?
            };
        }
        let info = func!(wabi::INFO_EXPORT);
        let buffer = func!(wabi::BUFFER_EXPORT);
        let create = func!(wabi::CREATE_EXPORT);
        let error = func!(wabi::ERROR_EXPORT);
        let procure = instance
            .get_typed_func(&mut store, wabi::PROCURE_EXPORT)
            .ok();
        let invest = instance
            .get_typed_func(&mut store, wabi::INVEST_EXPORT)
            .ok();
        Ok(Run {
            store,
            memory,
            info,
            buffer,
            create,
            error,
            procure,
            invest,
        })
    }

    /// Why a call into the module did not return: fuel, the memory cap, or
    /// a trap (with the module's panic message when it kept one).
    fn trapped(&mut self, e: wasmtime::Error) -> BehaviourFault {
        if let Some(asked) = self.store.data_mut().asked.take() {
            return fault(format!(
                "exceeded its memory cap: it asked to grow its memory to {:.1} MiB, a Wasm plugin may use {} MiB",
                asked as f64 / f64::from(1 << 20),
                MEMORY_CAP >> 20
            ));
        }
        match e.downcast_ref::<Trap>() {
            Some(Trap::OutOfFuel) => fault(format!(
                "ran out of fuel: more than {FUEL_PER_CALL} Wasm instructions in one call (an endless loop?)"
            )),
            Some(trap) => {
                let kept = self
                    .error_record()
                    .ok()
                    .filter(|(m, _)| m.starts_with("panicked"));
                match kept {
                    Some((m, _)) => fault(m),
                    None => fault(format!("trapped: {trap}")),
                }
            }
            None => fault(format!("failed: {e:#}")),
        }
    }

    fn refuel(&mut self) -> Result<(), BehaviourFault> {
        self.store
            .set_fuel(FUEL_PER_CALL)
            .map_err(|e| fault(format!("{e:#}")))
    }

    fn info(&mut self) -> Result<wabi::WasmInfo, BehaviourFault> {
        self.refuel()?;
        let f = self.info.clone();
        let at = f.call(&mut self.store, ()).map_err(|e| self.trapped(e))?;
        let b = self.read(at, 24)?;
        let w = |i: usize| le_u32(b, i);
        Ok(wabi::WasmInfo {
            slots: w(0),
            flags: w(4),
            name: w(8),
            name_len: w(12),
            version: w(16),
            version_len: w(20),
        })
    }

    /// `len` bytes at `at` in the module's memory, bounds-checked.
    fn read(&self, at: u32, len: usize) -> Result<&[u8], BehaviourFault> {
        let data = self.memory.data(&self.store);
        let start = at as usize;
        data.get(start..start.saturating_add(len)).ok_or_else(|| {
            fault(format!(
                "pointed at {len} bytes at {at}, outside its {}-byte memory",
                data.len()
            ))
        })
    }

    fn text(&self, at: u32, len: u32) -> Result<String, BehaviourFault> {
        if len > 4096 {
            return Err(fault(format!("a text of {len} bytes (at most 4096)")));
        }
        let b = self.read(at, len as usize)?;
        String::from_utf8(b.to_vec()).map_err(|e| fault(format!("not UTF-8 ({e})")))
    }

    /// The module's error record: its message and item.
    fn error_record(&mut self) -> Result<(String, Option<usize>), BehaviourFault> {
        self.refuel()?;
        let f = self.error.clone();
        let at = f
            .call(&mut self.store, ())
            .map_err(|e| fault(format!("{}: {e:#}", wabi::ERROR_EXPORT)))?;
        let b = self.read(at, 16)?;
        let (msg, len) = (le_u32(b, 0), le_u32(b, 4));
        let item = i64::from_le_bytes(b[8..16].try_into().expect("16 bytes read"));
        let b = self.read(msg, len.min(4096) as usize)?;
        Ok((
            String::from_utf8_lossy(b).into_owned(),
            usize::try_from(item).ok(),
        ))
    }

    /// A fault for a non-zero status, from the module's error record.
    fn status_fault(&mut self, status: i32) -> BehaviourFault {
        match self.error_record() {
            Ok((text, item)) if !text.is_empty() => BehaviourFault {
                message: format!("status {status}: {text}"),
                item,
            },
            Ok(_) => fault(format!(
                "the plugin returned an error (status {status}) without a message"
            )),
            Err(e) => fault(format!(
                "the plugin returned status {status}, and its error record could not be read: {}",
                e.message
            )),
        }
    }

    /// A call buffer of `len` bytes in the module's memory.
    fn buffer(&mut self, len: usize) -> Result<u32, BehaviourFault> {
        let n = u32::try_from(len)
            .map_err(|_| fault(format!("a call of {len} bytes is too large for Wasm")))?;
        self.refuel()?;
        let f = self.buffer.clone();
        let at = f.call(&mut self.store, n).map_err(|e| self.trapped(e))?;
        if at == 0 {
            return Err(fault(format!(
                "could not give a call buffer of {len} bytes"
            )));
        }
        if at % 8 != 0 {
            return Err(fault(format!("gave a call buffer at {at}, not 8-aligned")));
        }
        self.read(at, len)?;
        Ok(at)
    }

    /// Writes the parts one after another from `at` (a buffer of their
    /// total length, checked by [`Run::buffer`]); returns each offset
    /// (an array: no allocation per call).
    fn write<const N: usize>(
        &mut self,
        at: u32,
        parts: &[&[u8]; N],
    ) -> Result<[u32; N], BehaviourFault> {
        let data = self.memory.data_mut(&mut self.store);
        let mut off = at as usize;
        let mut starts = [0u32; N];
        for (start, part) in starts.iter_mut().zip(parts) {
            *start = off as u32;
            data.get_mut(off..off + part.len())
                .ok_or_else(|| fault("its call buffer lies outside its memory"))?
                .copy_from_slice(part);
            off += part.len();
        }
        Ok(starts)
    }

    /// The run's state from `params`: the outer error when the call could
    /// not be made or did not return (a trap, fuel), the inner one when the
    /// plugin refused the params (a non-zero status).
    fn create_status(
        &mut self,
        params: &str,
    ) -> Result<Result<(), BehaviourFault>, BehaviourFault> {
        let at = self.buffer(params.len())?;
        self.write(at, &[params.as_bytes()])?;
        self.refuel()?;
        let f = self.create.clone();
        let status = f
            .call(&mut self.store, (at, params.len() as u32))
            .map_err(|e| self.trapped(e))?;
        if status != abi::STATUS_OK {
            return Ok(Err(self.status_fault(status)));
        }
        Ok(Ok(()))
    }

    fn create(&mut self, params: &str) -> Result<(), BehaviourFault> {
        self.create_status(params)?
    }

    fn procure(
        &mut self,
        batch: &ProcurementBatch<'_>,
        choices: &mut [i32],
    ) -> Result<(), BehaviourFault> {
        let f = self
            .procure
            .clone()
            .ok_or_else(|| fault("it exports no procure function"))?;
        let parts: [&[u8]; 4] = [
            bytes_of(batch.requirements),
            bytes_of(batch.offers),
            bytes_of(batch.tastes),
            bytes_of(choices),
        ];
        let at = self.buffer(parts.iter().map(|p| p.len()).sum())?;
        let s = self.write(at, &parts)?;
        self.refuel()?;
        let status = f
            .call(
                &mut self.store,
                (
                    batch.month,
                    s[0],
                    batch.requirements.len() as u32,
                    s[1],
                    batch.offers.len() as u32,
                    s[2],
                    batch.tastes.len() as u32,
                    s[3],
                ),
            )
            .map_err(|e| self.trapped(e))?;
        if status != abi::STATUS_OK {
            return Err(self.status_fault(status));
        }
        let out = self.read(s[3], parts[3].len())?;
        for (c, b) in choices.iter_mut().zip(out.chunks_exact(4)) {
            *c = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        }
        Ok(())
    }

    fn invest(
        &mut self,
        month: i32,
        lines: &[LineView],
        tranches: &mut [f64],
    ) -> Result<(), BehaviourFault> {
        let f = self
            .invest
            .clone()
            .ok_or_else(|| fault("it exports no invest function"))?;
        let parts: [&[u8]; 2] = [bytes_of(lines), bytes_of(tranches)];
        let at = self.buffer(parts.iter().map(|p| p.len()).sum())?;
        let s = self.write(at, &parts)?;
        self.refuel()?;
        let status = f
            .call(&mut self.store, (month, s[0], lines.len() as u32, s[1]))
            .map_err(|e| self.trapped(e))?;
        if status != abi::STATUS_OK {
            return Err(self.status_fault(status));
        }
        let out = self.read(s[1], parts[1].len())?;
        for (t, b) in tranches.iter_mut().zip(out.chunks_exact(8)) {
            *t = f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
        }
        Ok(())
    }

    /// A new instance holding this one's memory (the run's state). Rust
    /// modules keep nothing between calls but memory and a stack pointer
    /// that is back at its start; the interface asks the same of others.
    fn fork(&mut self, pre: &InstancePre<Limits>) -> Result<Run, BehaviourFault> {
        let mut copy = Run::new(pre)?;
        let (have, want) = (
            copy.memory.data_size(&copy.store),
            self.memory.data_size(&self.store),
        );
        if want > have {
            let pages = ((want - have) as u64).div_ceil(65536);
            copy.memory
                .grow(&mut copy.store, pages)
                .map_err(|e| fault(format!("cannot copy its memory for a fork: {e:#}")))?;
        }
        let from = self.memory.data(&self.store);
        copy.memory.data_mut(&mut copy.store)[..from.len()].copy_from_slice(from);
        Ok(copy)
    }
}

/// What both slot adapters hold: the module, its params, and (in a run's
/// copy) the run's instance. The shared adapter (per scenario) has none.
struct Plugged {
    module: Arc<WasmModule>,
    params: Arc<str>,
    label: String,
    /// The run's instance; or, for a fork that could not copy its parent's
    /// instance, why (its first call fails with it). None in the shared
    /// adapter.
    run: Option<Result<Mutex<Run>, BehaviourFault>>,
}

impl Plugged {
    fn new(module: Arc<WasmModule>, slot: &str, params: &str) -> Result<Plugged, WasmPluginError> {
        module.require(slot)?;
        let bad_params = |message: String| WasmPluginError::BadParams {
            path: module.path.clone(),
            name: module.name.clone(),
            params: params.to_string(),
            message,
        };
        let mut run = Run::new(&module.pre).map_err(|f| bad(&module.path, f.message))?;
        run.create_status(params)
            .map_err(|f| {
                bad(
                    &module.path,
                    format!("its create function failed: {}", f.message),
                )
            })?
            .map_err(|f| bad_params(f.message))?;
        Ok(Plugged {
            label: module.label(),
            module,
            params: params.into(),
            run: None,
        })
    }

    fn with_run(&self, run: Result<Run, BehaviourFault>) -> Plugged {
        Plugged {
            module: Arc::clone(&self.module),
            params: Arc::clone(&self.params),
            label: self.label.clone(),
            run: Some(run.map(Mutex::new)),
        }
    }

    fn for_run(&self) -> Result<Plugged, BehaviourFault> {
        let mut run = Run::new(&self.module.pre)?;
        run.create(&self.params)?;
        Ok(self.with_run(Ok(run)))
    }

    /// Never shares the parent's instance: a fork that cannot copy it fails
    /// at its first call, with the reason.
    fn fork(&self) -> Option<Plugged> {
        let copy = match self.run.as_ref()? {
            Ok(run) => run
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .fork(&self.module.pre),
            Err(f) => Err(f.clone()),
        };
        Some(self.with_run(copy))
    }

    fn with<R>(
        &self,
        f: impl FnOnce(&mut Run) -> Result<R, BehaviourFault>,
    ) -> Result<R, BehaviourFault> {
        match &self.run {
            Some(Ok(run)) => f(&mut run.lock().unwrap_or_else(|e| e.into_inner())),
            Some(Err(why)) => Err(why.clone()),
            None => Err(fault("called without a run's instance (a host bug)")),
        }
    }
}

/// A Wasm plugin in the ally procurement slot.
pub struct WasmProcurement(Plugged);

impl WasmProcurement {
    pub fn new(module: Arc<WasmModule>, params: &str) -> Result<WasmProcurement, WasmPluginError> {
        Plugged::new(module, "procurement", params).map(WasmProcurement)
    }
}

impl Procurement for WasmProcurement {
    fn name(&self) -> &str {
        &self.0.label
    }

    fn choose(
        &self,
        batch: &ProcurementBatch<'_>,
        choices: &mut [i32],
    ) -> Result<(), BehaviourFault> {
        self.0.with(|run| run.procure(batch, choices))
    }

    fn for_run(&self) -> Result<Option<Arc<dyn Procurement>>, BehaviourFault> {
        Ok(Some(Arc::new(WasmProcurement(self.0.for_run()?))))
    }

    fn fork(&self) -> Option<Arc<dyn Procurement>> {
        Some(Arc::new(WasmProcurement(self.0.fork()?)))
    }
}

/// A Wasm plugin in an investment slot (contractor or competitor).
pub struct WasmInvestment(Plugged);

impl WasmInvestment {
    /// `slot`: `contractor_investment` or `competitor_investment`.
    pub fn new(
        module: Arc<WasmModule>,
        slot: &str,
        params: &str,
    ) -> Result<WasmInvestment, WasmPluginError> {
        Plugged::new(module, slot, params).map(WasmInvestment)
    }
}

impl Investment for WasmInvestment {
    fn name(&self) -> &str {
        &self.0.label
    }

    fn uses_draws(&self) -> bool {
        self.0.module.flags & abi::FLAG_INVESTMENT_DRAWS != 0
    }

    fn invest(
        &self,
        month: i32,
        lines: &[LineView],
        tranches: &mut [f64],
    ) -> Result<(), BehaviourFault> {
        self.0.with(|run| run.invest(month, lines, tranches))
    }

    fn for_run(&self) -> Result<Option<Arc<dyn Investment>>, BehaviourFault> {
        Ok(Some(Arc::new(WasmInvestment(self.0.for_run()?))))
    }

    fn fork(&self) -> Option<Arc<dyn Investment>> {
        Some(Arc::new(WasmInvestment(self.0.fork()?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/wasm/fixture.wat"
    );

    /// A module rebuilt at the same path is compiled again, not served from
    /// the registry (a Python session that rebuilds its plugin between runs
    /// gets the new code, and provenance the new name).
    #[test]
    fn a_module_rebuilt_at_the_same_path_is_compiled_again() {
        let text = std::fs::read_to_string(FIXTURE).unwrap();
        let path =
            std::env::temp_dir().join(format!("dibsim-wasm-rebuilt-{}.wat", std::process::id()));
        std::fs::write(&path, &text).unwrap();
        let first = load(&path).unwrap();
        assert_eq!(first.name, "wasm-fixture-1");
        assert!(Arc::ptr_eq(&first, &load(&path).unwrap()), "compiled once");
        std::fs::write(&path, text.replace("wasm-fixture-1", "wasm-fixture-2")).unwrap();
        assert_eq!(load(&path).unwrap().name, "wasm-fixture-2");
        std::fs::remove_file(&path).unwrap();
    }

    /// Bytes that are not Wasm, and a module of another interface major,
    /// are refused with their reasons.
    #[test]
    fn refusals_name_the_reason() {
        let p = Path::new("x.wasm");
        let e = compile_bytes(p, b"hello", false).unwrap_err().to_string();
        assert!(e.contains("68 65 6c 6c"), "{e}");
        let wrong = "(module (memory (export \"memory\") 1) (func (export \"dibsim_wasm_abi\") (result i32) (i32.const 0x30001)))";
        let e = compile_bytes(p, wrong.as_bytes(), true).unwrap_err();
        assert!(
            matches!(
                e,
                WasmPluginError::WrongMajor {
                    major: 3,
                    minor: 1,
                    ..
                }
            ),
            "{e}"
        );
    }
}
