//! Finding and composing scenario files: bundled ones embedded in the binary,
//! files on disk, `extends` chains and `--set` overrides. This is the only
//! place scenario files are read; the core sees text and trees.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use anyhow::{bail, Context, Result};
use dibsim_core::compose;
use dibsim_core::Scenario;

/// The bundled scenarios, embedded so the binary works from any folder.
pub const BUNDLED: &[(&str, &str)] = &[
    (
        "baseline.toml",
        include_str!("../../scenarios/baseline.toml"),
    ),
    (
        "faster-approvals.toml",
        include_str!("../../scenarios/faster-approvals.toml"),
    ),
    (
        "new-factories.toml",
        include_str!("../../scenarios/new-factories.toml"),
    ),
    (
        "export-by-design.toml",
        include_str!("../../scenarios/export-by-design.toml"),
    ),
    (
        "low-tier.toml",
        include_str!("../../scenarios/low-tier.toml"),
    ),
    (
        "export-reserve.toml",
        include_str!("../../scenarios/export-reserve.toml"),
    ),
    (
        "priority-partners.toml",
        include_str!("../../scenarios/priority-partners.toml"),
    ),
    (
        "strategy-2026.toml",
        include_str!("../../scenarios/strategy-2026.toml"),
    ),
];

/// Where a scenario's text comes from.
#[derive(Debug, Clone, PartialEq)]
enum Source {
    File(PathBuf),
    Bundled(&'static str, &'static str),
}

impl Source {
    fn label(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Bundled(name, _) => format!("bundled:{name}"),
        }
    }

    fn text(&self) -> Result<String> {
        match self {
            Source::File(p) => std::fs::read_to_string(p)
                .with_context(|| format!("cannot read scenario file {}", p.display())),
            Source::Bundled(_, text) => Ok(text.to_string()),
        }
    }

    fn stem(&self) -> String {
        let name = match self {
            Source::File(p) => p
                .file_name()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_default(),
            Source::Bundled(n, _) => n.to_string(),
        };
        name.trim_end_matches(".toml").to_string()
    }

    /// Resolves an `extends` target: beside a file, or among the bundled.
    fn relative(&self, target: &str) -> Option<Source> {
        match self {
            Source::File(p) => {
                let base = p.parent().unwrap_or(Path::new("."));
                let joined = base.join(target);
                if !joined.is_file() {
                    // `extends = "baseline"` from a user's own file.
                    if let Some(b) = bundled(target) {
                        return Some(b);
                    }
                }
                // Canonical paths make a cycle through `./` or `../` visible.
                Some(Source::File(
                    std::fs::canonicalize(&joined).unwrap_or(joined),
                ))
            }
            Source::Bundled(..) => bundled(target),
        }
    }
}

/// Whether `arg` names a bundled scenario (and no file of that name): its
/// text is fixed for the life of the process.
pub fn is_bundled(arg: &str) -> bool {
    !Path::new(arg).exists() && bundled(arg).is_some()
}

fn bundled(name: &str) -> Option<Source> {
    let want = if name.ends_with(".toml") {
        name.to_string()
    } else {
        format!("{name}.toml")
    };
    BUNDLED
        .iter()
        .find(|(n, _)| *n == want)
        .map(|(n, t)| Source::Bundled(n, t))
}

fn locate(arg: &str) -> Result<Source> {
    let p = PathBuf::from(arg);
    if p.is_file() {
        return Ok(Source::File(std::fs::canonicalize(&p).unwrap_or(p)));
    }
    if let Some(b) = bundled(arg) {
        return Ok(b);
    }
    if p.exists() {
        bail!("scenario {arg} is not a file");
    }
    let names: Vec<&str> = BUNDLED
        .iter()
        .map(|(n, _)| n.trim_end_matches(".toml"))
        .collect();
    bail!(
        "scenario {arg}: no such file, and no bundled scenario of that name (bundled: {})",
        names.join(", ")
    )
}

/// A scenario loaded from the command line, with its origin for reports.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub scenario: Scenario,
    pub label: String,
}

/// A scenario's composed tree (its `extends` chain merged), before
/// overrides and validation: the starting point of `--set` and sweep points.
#[derive(Debug, Clone)]
pub struct Composed {
    pub table: toml::Table,
    pub label: String,
}

impl Composed {
    /// As [`Composed::with`], re-reading only the sections `sets` touch;
    /// `base` must be `self.with(&[])`.
    pub fn with_fast(
        &self,
        base: &Scenario,
        sets: &[(String, toml::Value)],
    ) -> Result<Scenario, dibsim_core::ScenarioError> {
        compose::resolve_with(&self.label, &self.table, base, sets)
    }

    /// Applies `path=value` overrides (already parsed) and validates.
    pub fn with(
        &self,
        sets: &[(String, toml::Value)],
    ) -> Result<Scenario, dibsim_core::ScenarioError> {
        let mut merged = self.table.clone();
        for (path, value) in sets {
            compose::set_path(&mut merged, path, value.clone())?;
        }
        compose::resolve(&self.label, merged)
    }
}

/// `[[plugins]]` paths are relative to the file that names them.
/// `[[plugins]]` paths are relative to the file that names them; each is
/// noted with that file, so that a refusal can say which file asked.
fn resolve_plugin_paths(table: &mut toml::Table, dir: &Path, file: &str) {
    let Some(toml::Value::Array(items)) = table.get_mut("plugins") else {
        return;
    };
    for item in items {
        if let Some(toml::Value::String(path)) = item.get_mut("path") {
            let p = Path::new(path.as_str());
            if p.is_relative() {
                *path = dir.join(p).display().to_string();
            }
            declared()
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(path.clone(), file.to_string());
        }
    }
}

fn declared() -> &'static Mutex<BTreeMap<String, String>> {
    static DECLARED: OnceLock<Mutex<BTreeMap<String, String>>> = OnceLock::new();
    DECLARED.get_or_init(Default::default)
}

/// The scenario file whose `[[plugins]]` named the library at `path`.
pub fn declared_by(path: &str) -> Option<String> {
    declared()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(path)
        .cloned()
}

/// Loads `arg` (a path or a bundled name), follows `extends`, applies `sets`
/// (`path=value`), and validates.
pub fn load(arg: &str, sets: &[String]) -> Result<Loaded> {
    load_with(arg, sets, &[])
}

/// As [`load`], adding `--plugin SLOT=PATH` entries after the scenario's own.
pub fn load_with(arg: &str, sets: &[String], plugins: &[String]) -> Result<Loaded> {
    let composed = compose_file(arg)?;
    let label = composed.label.clone();
    let mut merged = composed.table;
    if !plugins.is_empty() {
        let extra = plugins
            .iter()
            .map(|f| crate::plugins::from_flag(f))
            .collect::<Result<Vec<_>>>()?;
        match merged
            .entry("plugins")
            .or_insert_with(|| toml::Value::Array(Vec::new()))
        {
            toml::Value::Array(a) => a.extend(extra),
            _ => bail!("{label}: `plugins` is not an array of tables"),
        }
    }
    for s in sets {
        let Some((path, value)) = s.split_once('=') else {
            bail!("{label}: --set {s}: expected path.to.field=VALUE");
        };
        compose::set_path(&mut merged, path.trim(), compose::parse_value(value.trim()))
            .with_context(|| format!("{label}: --set {s}"))?;
    }
    let scenario = compose::resolve(&label, merged)?;
    Ok(Loaded { scenario, label })
}

/// Reads `arg` and its `extends` chain into one tree. A bundled scenario's
/// tree is composed once per process (its text cannot change), so repeated
/// runs from a notebook or a compare of the bundled set parse it once.
pub fn compose_file(arg: &str) -> Result<Composed> {
    let top = locate(arg)?;
    if let Source::Bundled(name, _) = &top {
        static CACHE: OnceLock<Mutex<BTreeMap<&'static str, Composed>>> = OnceLock::new();
        let cache = CACHE.get_or_init(Default::default);
        if let Some(c) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(name) {
            return Ok(c.clone());
        }
        let composed = compose_source(arg, top.clone())?;
        cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name, composed.clone());
        return Ok(composed);
    }
    compose_source(arg, top)
}

fn compose_source(arg: &str, top: Source) -> Result<Composed> {
    // Messages name the top file as the user wrote it.
    let label = match &top {
        Source::File(_) => arg.to_string(),
        Source::Bundled(..) => top.label(),
    };
    let mut chain: Vec<(Source, toml::Table)> = Vec::new();
    let mut cur = top.clone();
    loop {
        let file = if chain.is_empty() {
            label.clone()
        } else {
            cur.label()
        };
        if chain.iter().any(|(s, _)| s == &cur) {
            let names: Vec<String> = chain.iter().map(|(s, _)| s.label()).collect();
            bail!("{file}: `extends` cycle: {} -> {file}", names.join(" -> "));
        }
        let text = cur.text()?;
        let mut table = compose::parse_file(&file, &text)?;
        if let Source::File(p) = &cur {
            resolve_plugin_paths(&mut table, p.parent().unwrap_or(Path::new(".")), &file);
        }
        let file = file.clone();
        let parent = table
            .get("extends")
            .and_then(|v| v.as_str())
            .map(str::to_string);
        chain.push((cur.clone(), table));
        match parent {
            None => break,
            Some(target) => {
                let next = cur.relative(&target).filter(|s| match s {
                    Source::File(p) => p.is_file(),
                    Source::Bundled(..) => true,
                });
                match next {
                    Some(n) => cur = n,
                    None => bail!("{file}: `extends = \"{target}\"`: no such scenario file"),
                }
            }
        }
    }
    // A scenario is named by its own file, never by the one it extends.
    let own_name = chain[0]
        .1
        .get("name")
        .and_then(|v| v.as_str())
        .map(str::to_string);
    // Compose from the root ancestor down.
    let mut merged = toml::Table::new();
    for (_, table) in chain.into_iter().rev() {
        compose::merge(&mut merged, table);
    }
    merged.remove("extends");
    merged.insert(
        "name".into(),
        toml::Value::String(own_name.unwrap_or_else(|| top.stem())),
    );
    Ok(Composed {
        table: merged,
        label,
    })
}

/// One line per bundled scenario: name and description.
pub fn list() -> Vec<(String, String)> {
    BUNDLED
        .iter()
        .map(|(n, _)| {
            let d = load(n, &[])
                .map(|l| l.scenario.description)
                .unwrap_or_else(|e| format!("(invalid: {e})"));
            (n.trim_end_matches(".toml").to_string(), d)
        })
        .collect()
}
