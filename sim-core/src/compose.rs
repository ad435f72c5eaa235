//! Scenario composition on TOML trees: `extends`, `--set` and sweep axes.
//!
//! Overrides work on the untyped tree so that any field can be reached by a
//! path such as `exporters.France.approval_mean_months`: a segment that meets
//! an array of tables picks the element whose `name` (or `owner`) matches, or
//! the element at a numeric index. The typed [`Scenario`] is built once, at
//! the end, so its defaults and unknown-field checks apply to the result.
//! No file is read here; the caller hands in text.

use serde::Deserialize;
use toml::{Table, Value};

use crate::error::ScenarioError;
use crate::scenario::Scenario;

/// Parses one scenario file's text. Syntax errors and fields of the wrong
/// name or type are reported with the parser's line and column.
pub fn parse_file(file: &str, text: &str) -> Result<Table, ScenarioError> {
    let table: Table = toml::from_str(text).map_err(|e| ScenarioError::Parse {
        file: file.to_string(),
        message: e.to_string().trim_end().to_string(),
    })?;
    // Every field has a default, so a partial file (one that extends another)
    // still deserialises alone; this catches unknown fields. From the tree
    // first: parsing the text again costs as much as the first parse (a
    // synthetic world's file is megabytes). Only on an error is the text
    // parsed again, typed, for the parser's line and column.
    if let Err(tree_error) = Scenario::deserialize(Value::Table(table.clone())) {
        let message = match toml::from_str::<Scenario>(text) {
            Err(e) => e.to_string(),
            Ok(_) => tree_error.to_string(),
        };
        return Err(ScenarioError::Parse {
            file: file.to_string(),
            message: message.trim_end().to_string(),
        });
    }
    if table.contains_key("extends") {
        no_name_twice(file, &table)?;
    }
    Ok(table)
}

/// Elements of a named array merge by name onto the file a file extends,
/// so there a second element of one name would silently overwrite the
/// first's fields. (A file that extends nothing keeps both, and validation
/// names the duplicate.)
fn no_name_twice(file: &str, table: &Table) -> Result<(), ScenarioError> {
    for (section, value) in table {
        let Value::Array(items) = value else { continue };
        let mut seen = std::collections::BTreeSet::new();
        for key in items
            .iter()
            .filter_map(|v| v.as_table().and_then(element_key))
        {
            if !seen.insert(key) {
                return Err(ScenarioError::Invalid {
                    file: file.to_string(),
                    field: section.clone(),
                    message: format!(
                        "`{key}` is defined twice in this file; the second would overwrite the first field by field (give each element once, or change one name)"
                    ),
                });
            }
        }
    }
    Ok(())
}

fn element_key(t: &Table) -> Option<&str> {
    ["name", "owner"]
        .iter()
        .find_map(|k| t.get(*k).and_then(Value::as_str))
}

/// Deep-merges `over` into `base`: tables merge key by key; arrays of named
/// tables merge element by element on the name (new names are appended);
/// anything else is replaced.
pub fn merge(base: &mut Table, over: Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(Value::Table(b)), Value::Table(o)) => merge(b, o),
            (Some(Value::Array(b)), Value::Array(o))
                if is_named_tables(b) && is_named_tables(&o) =>
            {
                for item in o {
                    let Value::Table(ot) = item else { continue };
                    let key = element_key(&ot).map(str::to_string);
                    let pos = b.iter().position(|x| {
                        matches!(x, Value::Table(bt) if element_key(bt).map(str::to_string) == key)
                    });
                    match pos {
                        Some(i) => {
                            if let Value::Table(bt) = &mut b[i] {
                                merge(bt, ot);
                            }
                        }
                        None => b.push(Value::Table(ot)),
                    }
                }
            }
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

fn is_named_tables(a: &[Value]) -> bool {
    !a.is_empty()
        && a.iter()
            .all(|x| matches!(x, Value::Table(t) if element_key(t).is_some()))
}

/// Parses the right-hand side of `--set path=VALUE`: a TOML value, or a bare
/// string when it is not one (`--set focal_exporter=France`).
pub fn parse_value(text: &str) -> Value {
    let wrapped = format!("v = {text}");
    match toml::from_str::<Table>(&wrapped) {
        Ok(mut t) => t.remove("v").unwrap_or(Value::String(text.to_string())),
        Err(_) => Value::String(text.to_string()),
    }
}

/// Sets the field at `path` to `value`, creating tables on the way.
pub fn set_path(root: &mut Table, path: &str, value: Value) -> Result<(), ScenarioError> {
    let unknown = |message: String| ScenarioError::UnknownPath {
        path: path.to_string(),
        message,
    };
    let segments: Vec<&str> = path.split('.').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return Err(unknown("empty segment".into()));
    }
    let mut table = root;
    for (depth, seg) in segments.iter().enumerate() {
        let last = depth + 1 == segments.len();
        if last {
            table.insert(seg.to_string(), value);
            return Ok(());
        }
        let next_seg = segments[depth + 1];
        if !table.contains_key(*seg)
            && (next_seg == "*" || next_seg.bytes().all(|b| b.is_ascii_digit()))
        {
            // An element of an array the scenario does not have: creating a
            // table here would only fail later as "expected a sequence".
            return Err(unknown(format!(
                "the scenario has no `{seg}`, so no element `{next_seg}` of it"
            )));
        }
        let entry = table
            .entry(seg.to_string())
            .or_insert_with(|| Value::Table(Table::new()));
        table = match entry {
            Value::Table(t) => t,
            Value::Array(items) if next_seg == "*" => {
                // `allies.*.beta_time`: the rest of the path in every element.
                let rest = segments[depth + 2..].join(".");
                if rest.is_empty() {
                    return Err(unknown(format!("`{seg}.*` needs a field after it")));
                }
                if items.is_empty() {
                    return Err(unknown(format!("`{seg}` has no elements for `*`")));
                }
                for item in items.iter_mut() {
                    match item {
                        Value::Table(t) => {
                            set_path(t, &rest, value.clone()).map_err(|e| match e {
                                ScenarioError::UnknownPath { message, .. } => unknown(message),
                                other => other,
                            })?
                        }
                        _ => return Err(unknown(format!("`{seg}` holds values, not tables"))),
                    }
                }
                return Ok(());
            }
            Value::Array(items) => {
                let idx = match next_seg.parse::<usize>() {
                    Ok(i) if i < items.len() => Some(i),
                    _ => items.iter().position(
                        |x| matches!(x, Value::Table(t) if element_key(t) == Some(next_seg)),
                    ),
                };
                let Some(i) = idx else {
                    return Err(unknown(format!(
                        "`{seg}` has no element named `{next_seg}`"
                    )));
                };
                if depth + 2 == segments.len() {
                    items[i] = value;
                    return Ok(());
                }
                // The element name was consumed too: skip it below.
                match &mut items[i] {
                    Value::Table(t) => {
                        return set_path(t, &segments[depth + 2..].join("."), value).map_err(|e| {
                            match e {
                                ScenarioError::UnknownPath { message, .. } => unknown(message),
                                other => other,
                            }
                        })
                    }
                    _ => return Err(unknown(format!("`{seg}.{next_seg}` is not a table"))),
                }
            }
            _ => return Err(unknown(format!("`{seg}` is a value, not a section"))),
        };
    }
    Ok(())
}

/// Builds the typed scenario from a composed tree and validates it. `file`
/// names the top scenario file in messages.
pub fn resolve(file: &str, table: Table) -> Result<Scenario, ScenarioError> {
    let scenario = deserialize(file, table)?;
    scenario.validate().map_err(|e| e.in_file(file))?;
    Ok(scenario)
}

/// Builds `base` with overrides at `sets`, re-reading only the top-level
/// sections the overrides touch: `base_table` is the tree `base` was
/// resolved from. The result equals `resolve` of the overridden tree; a
/// sweep builds thousands of points this way, each in a fraction of the
/// time a full `resolve` takes.
pub fn resolve_with(
    file: &str,
    base_table: &Table,
    base: &Scenario,
    sets: &[(String, Value)],
) -> Result<Scenario, ScenarioError> {
    let mut keys: Vec<&str> = sets
        .iter()
        .map(|(p, _)| p.split('.').next().unwrap_or_default())
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let mut partial = Table::new();
    for k in &keys {
        if let Some(v) = base_table.get(*k) {
            partial.insert(k.to_string(), v.clone());
        }
    }
    for (path, value) in sets {
        set_path(&mut partial, path, value.clone())?;
    }
    let mut from = deserialize(file, partial)?;
    let mut scenario = base.clone();
    for k in &keys {
        if !scenario.take_field(&mut from, k) {
            // A section this shortcut does not know: the full way.
            let mut table = base_table.clone();
            for (path, value) in sets {
                set_path(&mut table, path, value.clone())?;
            }
            return resolve(file, table);
        }
    }
    scenario.validate().map_err(|e| e.in_file(file))?;
    Ok(scenario)
}

fn deserialize(file: &str, table: Table) -> Result<Scenario, ScenarioError> {
    let value = Value::Table(table);
    let mut scenario: Scenario = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        ScenarioError::Invalid {
            file: file.to_string(),
            field: path,
            // The toml error repeats the path on later lines; keep the first.
            message: e
                .into_inner()
                .to_string()
                .lines()
                .next()
                .unwrap_or_default()
                .to_string(),
        }
    })?;
    scenario.extends.clear();
    Ok(scenario)
}

/// Convenience for tests and embedded use: one self-contained text.
pub fn from_str(file: &str, text: &str) -> Result<Scenario, ScenarioError> {
    let table = parse_file(file, text)?;
    resolve(file, table)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Table {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn merge_named_arrays_by_name() {
        let mut base = table("[[exporters]]\nname='A'\ndeny_base=0.1\n[[exporters]]\nname='B'\n");
        merge(&mut base, table("[[exporters]]\nname='B'\ndeny_base=0.3\n"));
        let ex = base["exporters"].as_array().unwrap();
        assert_eq!(ex.len(), 2);
        assert_eq!(ex[1]["deny_base"].as_float(), Some(0.3));
        assert_eq!(ex[0]["deny_base"].as_float(), Some(0.1));
    }

    #[test]
    fn set_by_name_and_index() {
        let mut t = table("[[exporters]]\nname='France'\n[policy]\nstart_month=5\n");
        set_path(
            &mut t,
            "exporters.France.approval_mean_months",
            parse_value("3.5"),
        )
        .unwrap();
        set_path(&mut t, "policy.export_reserve", parse_value("0.2")).unwrap();
        set_path(&mut t, "exporters.0.deny_base", parse_value("0.4")).unwrap();
        assert_eq!(
            t["exporters"][0]["approval_mean_months"].as_float(),
            Some(3.5)
        );
        assert_eq!(t["exporters"][0]["deny_base"].as_float(), Some(0.4));
        assert_eq!(t["policy"]["export_reserve"].as_float(), Some(0.2));
        let err = set_path(&mut t, "plugins.0.params.weight", parse_value("3")).unwrap_err();
        assert!(
            err.to_string().contains("no `plugins`, so no element `0`"),
            "{err}"
        );
        let err = set_path(&mut t, "exporters.Spain.deny_base", parse_value("1")).unwrap_err();
        assert!(
            err.to_string().contains("no element named `Spain`"),
            "{err}"
        );
    }

    #[test]
    fn a_star_sets_every_element() {
        let mut t = table("[[allies]]\nname='A'\n[[allies]]\nname='B'\nbeta_time=1.0\n");
        set_path(&mut t, "allies.*.beta_time", parse_value("2.5")).unwrap();
        for a in t["allies"].as_array().unwrap() {
            assert_eq!(a["beta_time"].as_float(), Some(2.5));
        }
        assert!(set_path(&mut t, "allies.*", parse_value("1")).is_err());
        let mut empty = table("allies = []\n");
        assert!(set_path(&mut empty, "allies.*.beta_time", parse_value("1")).is_err());
    }

    #[test]
    fn bare_words_are_strings() {
        assert_eq!(parse_value("France"), Value::String("France".into()));
        assert_eq!(parse_value("true"), Value::Boolean(true));
        assert_eq!(
            parse_value("[\"a\"]"),
            Value::Array(vec![Value::String("a".into())])
        );
    }

    #[test]
    fn unknown_field_names_line() {
        let err = parse_file("x.toml", "months = 10\nbogus = 1\n").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("x.toml") && msg.contains("line 2") && msg.contains("bogus"),
            "{msg}"
        );
    }

    #[test]
    fn a_name_twice_is_an_overwrite_only_where_the_file_extends_another() {
        let twice = "[[categories]]\nname = \"jets\"\n[[categories]]\nname = \"jets\"\n";
        // Alone, both elements stay, for validation to name.
        let table = parse_file("a.toml", twice).expect("parses");
        assert_eq!(table["categories"].as_array().map(Vec::len), Some(2));
        let err = parse_file("b.toml", &format!("extends = \"x.toml\"\n{twice}"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`jets` is defined twice"), "{err}");
    }

    #[test]
    fn a_wrong_type_keeps_its_line_and_a_good_partial_file_passes() {
        let err = parse_file("y.toml", "months = 10\n[model]\nmargin = \"wide\"\n").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("y.toml") && msg.contains("line 3") && msg.contains("invalid type"),
            "{msg}"
        );
        let table = parse_file("z.toml", "extends = \"baseline\"\n[model]\nmargin = 0.2\n")
            .expect("a partial file is a file");
        assert_eq!(table["model"]["margin"].as_float(), Some(0.2));
    }
}
