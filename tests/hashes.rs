//! The outputs of record: SHA-256 of `timeseries.csv` for the baseline and
//! strategy-2026 at seeds 1-3 and of the default `compare.csv`, recorded
//! before the hot path was reworked (issue 10). A change to the engine that
//! moves any of these bytes is a change of the model's numbers: it must be
//! written down in docs/model.md and these hashes recorded anew, on purpose.

mod common;

use sha2::{Digest, Sha256};

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

const RUNS: &[(&str, u64, &str)] = &[
    (
        "baseline",
        1,
        "0c98ea5ba85a6ed3685ba723027f3f179ecd0e04cff379bea887619decccb9b5",
    ),
    (
        "baseline",
        2,
        "d14a7affca64cc009164fd19f415a9eabd63c184552c09c95a5de9edf07e74f0",
    ),
    (
        "baseline",
        3,
        "2987a3f02166852b6cfd4af7bb1a4670d2449509f2c5b474de2dd10b1d5de203",
    ),
    (
        "strategy-2026",
        1,
        "bfacb4e7395db7a955293d4a7373435b090a4190639dca1c985801a6dc510bc1",
    ),
    (
        "strategy-2026",
        2,
        "d2eceb2c7c9a12d991ee0a2ccbb64d11148549c11034789677388a4a8ecbd1a4",
    ),
    (
        "strategy-2026",
        3,
        "a4da1258a28406bf4dc80ebc3df5003d4e2b9c100eb3bd54d83ab69c84372745",
    ),
];

/// `dibsim compare` with its defaults (8 scenarios x 20 replicates, seed 1).
const COMPARE: &str = "f44e77f85b3d65e622dc30babaf990ca65c3e64189bfb4161dee319a3afa748f";

#[test]
fn timeseries_of_record_are_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let mut wrong = Vec::new();
    for &(scenario, seed, want) in RUNS {
        let out = dir.path().join(format!("{scenario}-{seed}"));
        let seed_text = seed.to_string();
        common::ok(&[
            "run",
            scenario,
            "--seed",
            &seed_text,
            "--out",
            out.to_str().unwrap(),
        ]);
        let got = sha256(&common::read(&out.join("timeseries.csv")));
        if got != want {
            wrong.push(format!("{scenario} seed {seed}: {got} (recorded {want})"));
        }
    }
    assert!(
        wrong.is_empty(),
        "timeseries.csv changed:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn default_compare_of_record_is_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    common::ok(&["compare", "--out", dir.path().to_str().unwrap()]);
    let got = sha256(&common::read(&dir.path().join("compare.csv")));
    assert_eq!(got, COMPARE, "compare.csv changed");
}
