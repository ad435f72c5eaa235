//! The `dibsim plugin` commands: `info` prints a library's table, `new`
//! writes a plugin crate that builds as it is.

use std::path::Path;

use anyhow::{bail, Context, Result};
use dibsim_plugin_host as host;
use dibsim_plugin_wasm as wasm;

/// `dibsim plugin info PATH`: the same lines for either kind.
pub fn info(path: &Path) -> Result<()> {
    let (name, version, interface, slots, file) = if wasm::is_wasm(path) {
        let m = wasm::load(path)?;
        let interface = format!(
            "kind:    wasm, interface {}.{} (this dibsim: {}.{})",
            m.abi_major,
            m.abi_minor,
            host::abi::wasm::WASM_ABI_MAJOR,
            host::abi::wasm::WASM_ABI_MINOR
        );
        (
            m.name.clone(),
            m.version.clone(),
            interface,
            m.slot_names(),
            m.path.clone(),
        )
    } else {
        let lib = host::load(path)?;
        let interface = format!(
            "ABI:     {}.{} (this dibsim: {}.{})",
            lib.abi_major,
            lib.abi_minor,
            host::abi::ABI_MAJOR,
            host::abi::ABI_MINOR
        );
        (
            lib.name.clone(),
            lib.version.clone(),
            interface,
            lib.slot_names(),
            lib.path.clone(),
        )
    };
    println!("plugin:  {name}");
    println!("version: {version}");
    println!("{interface}");
    println!("slots:   {}", slots.join(", "));
    // Absolute for both kinds (a native library's path is already).
    let file = std::fs::canonicalize(&file).unwrap_or(file);
    println!("file:    {}", file.display());
    Ok(())
}

const SDK_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/plugins/sdk");

/// `dibsim plugin new NAME`: a plugin crate that builds as it is.
pub fn new(name: &str, dir: Option<&Path>, sdk: Option<&Path>, as_wasm: bool) -> Result<()> {
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
    let is_sdk = std::fs::read_to_string(sdk.join("Cargo.toml")).is_ok_and(|t| {
        t.parse::<toml::Table>().is_ok_and(|m| {
            m.get("package")
                .and_then(|p| p.get("name"))
                .and_then(|n| n.as_str())
                == Some("dibsim-plugin-sdk")
        })
    });
    if !is_sdk {
        bail!(
            "the plugin SDK (the crate dibsim-plugin-sdk) is not at {} (pass --sdk PATH to dibsim's plugins/sdk)",
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
{kind_comment}
crate-type = ["cdylib"]

[dependencies]
dibsim-plugin-sdk = {{ path = "{sdk}" }}

# Not part of any workspace around it.
[workspace]
"#,
        sdk = sdk.display(),
        kind_comment = if as_wasm {
            format!("# A WebAssembly module (.cargo/config.toml sets the target):\n# target/wasm32-unknown-unknown/release/{lib}.wasm")
        } else {
            format!("# A C-compatible shared library: target/release/lib{lib}.so (.dylib on macOS)")
        }
    );
    let (built, build_note) = if as_wasm {
        (
            format!("target/wasm32-unknown-unknown/release/{lib}.wasm"),
            "once: rustup target add wasm32-unknown-unknown; then cargo build --release\n//!        (it runs sandboxed: no files, network or clock, under fuel and memory caps)",
        )
    } else {
        (
            format!("target/release/lib{lib}.so"),
            "cargo build --release",
        )
    };
    let src = format!(
        r#"//! {name}: a dibsim ally-procurement plugin.
//!
//! Build: {build_note}
//! Try:   dibsim run baseline --plugin procurement={built}
//! Or, in a scenario:
//!   [[plugins]]
//!   path = "path/to/{built}"
//!   slots = ["procurement"]
//!   agents = "all"            # or ["Poland", "India"], or {{ region = "Europe" }}
//!   # params = {{ ... }}      # handed to `create` as a JSON object
//!
//! This starting point is the built-in choice (docs/model.md step 5): a logit
//! over the offers' utilities plus Gumbel noise from the host's draws.

use dibsim_plugin_sdk::{{export_plugin, Fault, Plugin, Procure, ProcurementCall, OUTSIDE}};

/// The per-run state: plain data (dibsim copies it when it forks a run).
#[derive(Clone, Copy)]
pub struct Choice;

impl Plugin for Choice {{
    fn create(params: &str) -> Result<Self, String> {{
        // `params` is the scenario's `params` table as a JSON object. This
        // starting point takes none and refuses any, so that a typo is not
        // silently ignored; read yours here (plugins/examples/fastest-delivery
        // parses them with serde_json and refuses unknown keys).
        if params.trim() != "{{}}" {{
            return Err(format!("takes no params yet, got {{params}}"));
        }}
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
    if as_wasm {
        std::fs::create_dir_all(root.join(".cargo"))?;
        std::fs::write(
            root.join(".cargo/config.toml"),
            "# Build this plugin as WebAssembly (rustup target add wasm32-unknown-unknown).\n[build]\ntarget = \"wasm32-unknown-unknown\"\n",
        )?;
        println!(
            "wrote {}: a WebAssembly procurement plugin crate",
            root.display()
        );
        println!("  rustup target add wasm32-unknown-unknown   # once");
    } else {
        println!("wrote {}: a procurement plugin crate", root.display());
    }
    // In a subshell, so the next line's path is right from where they are.
    println!("  (cd {} && cargo build --release)", root.display());
    println!(
        "  dibsim run baseline --plugin procurement={}/{built}",
        root.display()
    );
    Ok(())
}
