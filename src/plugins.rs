//! Wiring plugins into a scenario's behaviours, and the `dibsim plugin`
//! commands (`new`, `info`).
//!
//! A scenario's `[[plugins]]` entries are applied in order over the built-in
//! behaviours: each loads its library (once per process), checks that it
//! provides the slots named and accepts its params, and becomes the
//! behaviour of the agents it selects.

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use dibsim_core::behaviour::Behaviours;
use dibsim_core::scenario::OwnerKind;
use dibsim_core::scenario::{Agents, PluginSpec};
use dibsim_core::Compiled;
use dibsim_plugin_host::{self as host, PluginInvestment, PluginProcurement};

/// The behaviours of `cfg`: built-in, then each `[[plugins]]` entry in turn.
pub fn behaviours(cfg: &Compiled) -> Result<Behaviours> {
    let s = &cfg.scenario;
    let mut b = dibsim_agents::builtin(cfg);
    for (i, spec) in s.plugins.iter().enumerate() {
        let at = || format!("scenario `{}`: plugins[{i}] ({})", s.name, spec.path);
        let lib = host::load(Path::new(&spec.path)).with_context(at)?;
        let params = params_json(spec);
        for slot in &spec.slots {
            match slot.as_str() {
                "procurement" => {
                    let p = PluginProcurement::new(Arc::clone(&lib), &params).with_context(at)?;
                    b.procurement.push(Arc::new(p));
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
                    let p =
                        PluginInvestment::new(Arc::clone(&lib), slot, &params).with_context(at)?;
                    b.investment.push(Arc::new(p));
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
    let p = Path::new(path.trim());
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let mut t = toml::Table::new();
    t.insert("path".into(), abs.display().to_string().into());
    t.insert(
        "slots".into(),
        toml::Value::Array(slots.iter().map(|s| toml::Value::from(*s)).collect()),
    );
    Ok(toml::Value::Table(t))
}

/// `dibsim plugin info PATH`.
pub fn info(path: &Path) -> Result<()> {
    let lib = host::load(path)?;
    println!("plugin:  {}", lib.name);
    println!("version: {}", lib.version);
    println!(
        "ABI:     {}.{} (this dibsim: {}.{})",
        lib.abi_major,
        lib.abi_minor,
        host::abi::ABI_MAJOR,
        host::abi::ABI_MINOR
    );
    println!("slots:   {}", lib.slot_names().join(", "));
    println!("file:    {}", lib.path.display());
    Ok(())
}

const SDK_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/plugins/sdk");

/// `dibsim plugin new NAME`: a plugin crate that builds as it is.
pub fn new(name: &str, dir: Option<&Path>, sdk: Option<&Path>) -> Result<()> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        || name.starts_with(|c: char| c.is_ascii_digit())
    {
        bail!("plugin name `{name}`: use letters, digits, `-` and `_`, not starting with a digit");
    }
    let root = dir.map(Path::to_path_buf).unwrap_or_else(|| name.into());
    if root.exists() {
        bail!(
            "{} already exists; choose another name or --dir",
            root.display()
        );
    }
    let sdk = sdk.map(Path::to_path_buf).unwrap_or_else(|| SDK_DIR.into());
    if !sdk.join("Cargo.toml").is_file() {
        bail!(
            "the plugin SDK is not at {} (pass --sdk PATH to dibsim's plugins/sdk)",
            sdk.display()
        );
    }
    let sdk = std::fs::canonicalize(&sdk)?;
    std::fs::create_dir_all(root.join("src"))
        .with_context(|| format!("cannot create {}", root.display()))?;
    let lib = name.replace('-', "_");
    let cargo = format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2021"
publish = false

[lib]
# A C-compatible shared library: target/release/lib{lib}.so (.dylib on macOS)
crate-type = ["cdylib"]

[dependencies]
dibsim-plugin-sdk = {{ path = "{sdk}" }}

# Not part of any workspace around it.
[workspace]
"#,
        sdk = sdk.display()
    );
    let src = format!(
        r#"//! {name}: a dibsim ally-procurement plugin.
//!
//! Build: cargo build --release
//! Try:   dibsim run baseline --plugin procurement=target/release/lib{lib}.so
//! Or, in a scenario:
//!   [[plugins]]
//!   path = "path/to/lib{lib}.so"
//!   slots = ["procurement"]
//!   agents = "all"            # or ["Poland", "India"], or {{ region = "Europe" }}
//!   params = {{ patience = 1.0 }}
//!
//! This starting point is the built-in choice (MODEL.md step 5): a logit
//! over the offers' utilities plus Gumbel noise from the host's draws.

use dibsim_plugin_sdk::{{export_plugin, Fault, Plugin, Procure, ProcurementCall, OUTSIDE}};

/// The per-run state: plain data (dibsim copies it when it forks a run).
#[derive(Clone, Copy)]
pub struct Choice;

impl Plugin for Choice {{
    fn create(_params: &str) -> Result<Self, String> {{
        // `_params` is the scenario's `params` table as a JSON object.
        Ok(Choice)
    }}
}}

fn gumbel(u: f64) -> f64 {{
    -(-u.ln()).ln()
}}

impl Procure for Choice {{
    fn procure(&mut self, call: &ProcurementCall<'_>, choices: &mut [i32]) -> Result<(), Fault> {{
        for (k, r) in call.requirements.iter().enumerate() {{
            let taste = &call.tastes[r.ally as usize];
            let mut best = OUTSIDE;
            let mut best_u = taste.outside_utility + gumbel(r.outside_draw);
            for (j, o) in call.offers_of(r).iter().enumerate() {{
                let u = taste.beta_quality * o.quality
                    - taste.beta_price * o.price_index.ln()
                    - taste.beta_time * r.threat * o.wait_months * o.reputation / 12.0
                    - taste.beta_uncertainty * o.spread_months / 12.0
                    + taste.beta_alignment * o.alignment
                    + gumbel(o.draw);
                if u > best_u {{
                    best_u = u;
                    best = j as i32;
                }}
            }}
            choices[k] = best;
        }}
        Ok(())
    }}
}}

export_plugin!(Choice, procurement);
"#
    );
    std::fs::write(root.join("Cargo.toml"), cargo)?;
    std::fs::write(root.join("src/lib.rs"), src)?;
    std::fs::write(root.join(".gitignore"), "/target\n")?;
    println!("wrote {}: a procurement plugin crate", root.display());
    println!("  cd {} && cargo build --release", root.display());
    println!(
        "  dibsim run baseline --plugin procurement={}/target/release/lib{lib}.so",
        root.display()
    );
    Ok(())
}
