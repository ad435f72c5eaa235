//! Wiring plugins into a scenario's behaviours.
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
