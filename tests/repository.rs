//! The repository stands on its own: no tracked file names a path outside
//! it, and the bundled baseline is exactly what its generator makes from the
//! data in `data/sipri/`.

use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn tracked_files() -> Vec<String> {
    let out = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(root())
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git ls-files failed");
    String::from_utf8(out.stdout)
        .expect("file names are UTF-8")
        .split('\0')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Phrases that would point a reader (or a build) outside the clone.
const OUTSIDE: &[&str] = &["../shared", "shared/data", "shared/MODEL", "/work/"];

#[test]
fn no_tracked_file_names_a_path_outside_the_repository() {
    let files = tracked_files();
    assert!(files.len() > 50, "git ls-files listed only {}", files.len());
    let mut hits = Vec::new();
    for f in &files {
        if f == "tests/repository.rs" {
            continue; // the list of phrases itself
        }
        let Ok(text) = std::fs::read_to_string(root().join(f)) else {
            continue; // binary files
        };
        for (n, line) in text.lines().enumerate() {
            for p in OUTSIDE {
                if line.contains(p) {
                    hits.push(format!("{f}:{}: {line}", n + 1));
                }
            }
        }
    }
    assert!(
        hits.is_empty(),
        "paths outside the repository:\n{}",
        hits.join("\n")
    );
}

#[test]
fn the_data_the_baseline_is_built_from_is_in_the_repository() {
    let dir = root().join("data/sipri");
    for f in [
        "README.md",
        "sipri_categories_2020_2024.csv",
        "sipri_dyads_2020_2024.csv",
        "sipri_exporter_annual.csv",
        "sipri_exporter_shares.csv",
        "sipri_importers_2020_2024.csv",
        "sipri_regions_2020_2024.csv",
    ] {
        let p = dir.join(f);
        let len = std::fs::metadata(&p)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            .len();
        assert!(len > 100, "{} is nearly empty", p.display());
    }
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    assert!(readme.contains("SIPRI Arms Transfers Database"));
}

#[test]
fn baseline_regenerates_byte_identically_from_the_data() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("baseline.toml");
    let status = Command::new("python3")
        .arg(root().join("scenarios/tools/make_baseline.py"))
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .current_dir(tmp.path())
        .status()
        .expect("python3 runs");
    assert!(status.success(), "make_baseline.py failed");
    let made = std::fs::read(&out).unwrap();
    let committed = std::fs::read(root().join("scenarios/baseline.toml")).unwrap();
    assert!(
        made == committed,
        "scenarios/baseline.toml differs from what make_baseline.py makes from data/sipri/ (run it and commit the result)"
    );
}

#[test]
fn the_model_document_is_versioned_and_the_engine_says_which_version() {
    let doc = std::fs::read_to_string(root().join("docs/model.md")).unwrap();
    let want = format!("model {}", dibsim_core::MODEL_VERSION);
    assert!(doc.contains(&want), "docs/model.md does not name `{want}`");
    assert!(doc.contains("Changelog"), "docs/model.md has no changelog");
}
