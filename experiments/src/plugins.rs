//! Wiring plugins into a scenario's behaviours.
//!
//! A scenario's `[[plugins]]` entries are applied in order over the built-in
//! behaviours: each loads its library (once per process), checks that it
//! provides the slots named and accepts its params, and becomes the
//! behaviour of the agents it selects.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::{bail, Context, Result};
use dibsim_core::behaviour::{Behaviours, Investment, Procurement};
use dibsim_core::scenario::OwnerKind;
use dibsim_core::scenario::{Agents, PluginSpec};
use dibsim_core::Compiled;
use dibsim_plugin_host::{self as host, PluginInvestment, PluginProcurement};
use dibsim_plugin_wasm as wasm;

/// Native plugins run with the user's rights, so a library a scenario file
/// names is loaded only when the user has said so: `--allow-native-plugins`
/// ([`allow_native`]), `DIBSIM_ALLOW_NATIVE_PLUGINS=1`, a folder listed in
/// the trusted-plugins file, or the library given on the command line
/// (`--plugin SLOT=PATH`, [`allow_path`]).
static ALLOW_ALL: AtomicBool = AtomicBool::new(false);

fn allowed_paths() -> &'static Mutex<BTreeSet<String>> {
    static ALLOWED: OnceLock<Mutex<BTreeSet<String>>> = OnceLock::new();
    ALLOWED.get_or_init(Default::default)
}

/// Allow (or not) every native library a scenario names, for this process.
pub fn allow_native(yes: bool) {
    ALLOW_ALL.store(yes, Ordering::SeqCst);
}

/// Allow the library at `path` (the user named it on the command line).
pub fn allow_path(path: &str) {
    allowed_paths()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(path.to_string());
}

/// The trusted-plugins file: one folder a line (`#` starts a comment);
/// libraries in or below a listed folder load without a flag.
pub fn trusted_folders_file() -> Option<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|x| !x.is_empty()) {
        return Some(PathBuf::from(x).join("dibsim/trusted-plugins"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config/dibsim/trusted-plugins"))
}

/// The trusted-plugins file's folders: (absolute ones, relative ones). A
/// relative entry such as `.` would trust whatever folder dibsim is started
/// in, a downloaded scenario's among them, so it trusts nothing.
fn trusted_folders() -> (Vec<PathBuf>, Vec<String>) {
    let Some(list) = trusted_folders_file().and_then(|f| std::fs::read_to_string(f).ok()) else {
        return Default::default();
    };
    let (abs, rel): (Vec<&str>, Vec<&str>) = list
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .partition(|l| std::path::Path::new(l).is_absolute());
    (
        abs.into_iter()
            .map(|f| std::fs::canonicalize(f).unwrap_or_else(|_| PathBuf::from(f)))
            .collect(),
        rel.into_iter().map(str::to_string).collect(),
    )
}

fn trusted(path: &str) -> bool {
    if ALLOW_ALL.load(Ordering::SeqCst)
        || std::env::var("DIBSIM_ALLOW_NATIVE_PLUGINS").is_ok_and(|v| v == "1")
        || allowed_paths()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(path)
    {
        return true;
    }
    let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| PathBuf::from(path));
    trusted_folders()
        .0
        .iter()
        .any(|folder| canonical.starts_with(folder))
}

/// A loaded plugin of either kind.
enum Loaded {
    Native(Arc<host::Library>),
    Wasm(Arc<wasm::WasmModule>),
}

impl Loaded {
    fn procurement(&self, params: &str) -> Result<Arc<dyn Procurement>> {
        Ok(match self {
            Loaded::Native(l) => Arc::new(PluginProcurement::new(Arc::clone(l), params)?),
            Loaded::Wasm(m) => Arc::new(wasm::WasmProcurement::new(Arc::clone(m), params)?),
        })
    }

    fn investment(&self, slot: &str, params: &str) -> Result<Arc<dyn Investment>> {
        Ok(match self {
            Loaded::Native(l) => Arc::new(PluginInvestment::new(Arc::clone(l), slot, params)?),
            Loaded::Wasm(m) => Arc::new(wasm::WasmInvestment::new(Arc::clone(m), slot, params)?),
        })
    }
}

/// Loads the plugin an entry names: a Wasm module (sandboxed, so no
/// consent is needed) or a native library the user allowed.
fn load(s: &dibsim_core::Scenario, i: usize, spec: &PluginSpec) -> Result<Loaded> {
    let path = Path::new(&spec.path);
    if wasm::is_wasm(path) {
        return Ok(Loaded::Wasm(wasm::load(path)?));
    }
    if !trusted(&spec.path) {
        let file = crate::loader::declared_by(&spec.path)
            .unwrap_or_else(|| format!("scenario `{}`", s.name));
        let list = trusted_folders_file()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "the trusted-plugins file".into());
        let relative = trusted_folders().1;
        let ignored = if relative.is_empty() {
            String::new()
        } else {
            format!(
                "; {list} lists {} as relative path(s), which trust nothing: write absolute ones",
                relative
                    .iter()
                    .map(|r| format!("`{r}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        bail!(
            "{file} asks to load the native library {} (plugins[{i}]); native code runs with your rights, so dibsim loads it only when you allow it: add --allow-native-plugins, set DIBSIM_ALLOW_NATIVE_PLUGINS=1, or list its folder (an absolute path; folders below it are trusted too) in {list} (a WebAssembly plugin, .wasm, runs sandboxed and needs none of these){ignored}",
            spec.path,
        );
    }
    Ok(Loaded::Native(host::load(path)?))
}

/// The behaviours of `cfg`: built-in, then each `[[plugins]]` entry in turn.
pub fn behaviours(cfg: &Compiled) -> Result<Behaviours> {
    let s = &cfg.scenario;
    let mut b = dibsim_agents::builtin(cfg);
    for (i, spec) in s.plugins.iter().enumerate() {
        let at = || format!("scenario `{}`: plugins[{i}] ({})", s.name, spec.path);
        let loaded = load(s, i, spec).with_context(at)?;
        let params = params_json(spec);
        for slot in &spec.slots {
            match slot.as_str() {
                "procurement" => {
                    b.procurement
                        .push(loaded.procurement(&params).with_context(at)?);
                    let idx = (b.procurement.len() - 1) as u16;
                    for (a, ally) in s.allies.iter().enumerate() {
                        let chosen = match &spec.agents {
                            Agents::Keyword(_) => true,
                            Agents::Names(n) => n.contains(&ally.name),
                            Agents::Region { region } => &ally.region == region,
                        };
                        if chosen {
                            b.ally_procurement[a] = idx;
                        }
                    }
                }
                "contractor_investment" | "competitor_investment" => {
                    let kind = if slot == "contractor_investment" {
                        OwnerKind::Contractor
                    } else {
                        OwnerKind::Competitor
                    };
                    b.investment
                        .push(loaded.investment(slot, &params).with_context(at)?);
                    let idx = (b.investment.len() - 1) as u16;
                    for (o, owner) in cfg.owners.iter().enumerate() {
                        if owner.kind != kind {
                            continue;
                        }
                        let chosen = match &spec.agents {
                            Agents::Keyword(_) => true,
                            Agents::Names(n) => n.contains(&s.suppliers[o].name),
                            Agents::Region { .. } => false,
                        };
                        if chosen {
                            b.owner_investment[o] = idx;
                        }
                    }
                }
                other => bail!("{}: unknown slot `{other}`", at()),
            }
        }
    }
    Ok(b)
}

/// The entry's params as the JSON object the plugin receives.
fn params_json(spec: &PluginSpec) -> String {
    serde_json::to_string(&spec.params).unwrap_or_else(|_| "{}".into())
}

/// `--plugin SLOT=PATH`: a `[[plugins]]` entry for every agent of the slot
/// (`investment` names both investment slots). PATH is relative to the
/// current folder.
pub fn from_flag(flag: &str) -> Result<toml::Value> {
    let Some((slot, path)) = flag.split_once('=') else {
        bail!("--plugin {flag}: expected SLOT=PATH, e.g. procurement=target/release/liblogit_procurement.so");
    };
    let slots: Vec<&str> = match slot.trim() {
        "investment" => vec!["contractor_investment", "competitor_investment"],
        s @ ("procurement" | "contractor_investment" | "competitor_investment") => vec![s],
        other => bail!(
            "--plugin {flag}: unknown slot `{other}` (slots: procurement, contractor_investment, competitor_investment, investment)"
        ),
    };
    if path.trim().is_empty() {
        bail!("--plugin {flag}: no path after `=` (expected SLOT=PATH)");
    }
    let p = Path::new(path.trim());
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    // Named on the command line: the user chose to run it.
    allow_path(&abs.display().to_string());
    let mut t = toml::Table::new();
    t.insert("path".into(), abs.display().to_string().into());
    t.insert(
        "slots".into(),
        toml::Value::Array(slots.iter().map(|s| toml::Value::from(*s)).collect()),
    );
    Ok(toml::Value::Table(t))
}

/// Which plugin code a run used: enough to tell later whether the same
/// binary would run again (kept in summaries, manifests and reports).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Provenance {
    pub path: String,
    /// "native" (a shared library) or "wasm" (a WebAssembly module).
    pub kind: String,
    pub name: String,
    pub version: String,
    pub sha256: String,
}

/// The provenance of every plugin `s` names, in order (each library is
/// loaded once per process, so this costs a hash of the file).
pub fn provenance(s: &dibsim_core::Scenario) -> Result<Vec<Provenance>> {
    use sha2::{Digest, Sha256};
    s.plugins
        .iter()
        .map(|spec| {
            let bytes = std::fs::read(&spec.path)
                .with_context(|| format!("cannot read plugin {}", spec.path))?;
            let sha256 = Sha256::digest(&bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            let path = Path::new(&spec.path);
            // Its own name and version, from a Wasm module (sandboxed) or a
            // library the user allowed (loading runs its code; an untrusted
            // one is only hashed).
            let (kind, (name, version)) = if wasm::is_wasm(path) {
                let m = wasm::load(path).ok();
                (
                    "wasm",
                    m.map_or_else(Default::default, |m| (m.name.clone(), m.version.clone())),
                )
            } else {
                let l = trusted(&spec.path)
                    .then(|| host::load(path))
                    .and_then(|l| l.ok());
                (
                    "native",
                    l.map_or_else(Default::default, |l| (l.name.clone(), l.version.clone())),
                )
            };
            Ok(Provenance {
                path: spec.path.clone(),
                kind: kind.into(),
                name,
                version,
                sha256,
            })
        })
        .collect()
}
