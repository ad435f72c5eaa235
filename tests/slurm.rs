//! The README's Slurm recipe on a real single-node Slurm cluster on
//! localhost: `examples/slurm/submit.sh` runs a sweep as a job array of
//! shards plus a dependent merge job, and the merged result must equal the
//! unsharded sweep byte for byte.
//!
//! The cluster (munged, slurmctld, slurmd) is started by
//! `tests/slurm/cluster.sh`; `.ci/run` installs Debian's packages. Where they
//! cannot be installed, the test says so and passes without running.

use std::path::PathBuf;
use std::process::Command;

struct Cluster {
    dir: PathBuf,
    conf: String,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(root().join("tests/slurm/cluster.sh"))
            .args(["stop", self.dir.to_str().unwrap()])
            .status();
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn slurm_array_of_shards_then_merge_equals_the_unsharded_sweep() {
    if std::env::var_os("DIBSIM_SKIP_SLURM").is_some() {
        eprintln!("SKIPPED: DIBSIM_SKIP_SLURM is set");
        return;
    }
    let missing: Vec<&str> = ["slurmctld", "slurmd", "munged", "sbatch"]
        .into_iter()
        .filter(|b| {
            !Command::new("sh")
                .args(["-c", &format!("command -v {b}")])
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "SKIPPED: Slurm is not installed here (missing {}); `.ci/run` installs slurm-wlm, slurmctld, slurmd and munge",
            missing.join(", ")
        );
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let cdir = tmp.path().join("cluster");
    let start = Command::new("bash")
        .arg(root().join("tests/slurm/cluster.sh"))
        .args(["start", cdir.to_str().unwrap()])
        .output()
        .unwrap();
    let conf = cdir.join("slurm.conf").display().to_string();
    let cluster = Cluster {
        dir: cdir.clone(),
        conf,
    };
    assert!(
        start.status.success(),
        "cluster did not start:\n{}\n{}",
        String::from_utf8_lossy(&start.stdout),
        String::from_utf8_lossy(&start.stderr)
    );
    let sweep = root().join("tests/fixtures/sweeps/series.toml");
    let out = tmp.path().join("out");
    let submit = Command::new("bash")
        .arg(root().join("examples/slurm/submit.sh"))
        .args([
            "--wait",
            sweep.to_str().unwrap(),
            out.to_str().unwrap(),
            "3",
        ])
        .env("SLURM_CONF", &cluster.conf)
        .env("DIBSIM", env!("CARGO_BIN_EXE_dibsim"))
        .env("WAIT_TIMEOUT", "300")
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert!(
        submit.status.success(),
        "submit.sh failed:\n{}\n{}",
        String::from_utf8_lossy(&submit.stdout),
        String::from_utf8_lossy(&submit.stderr)
    );
    // Each shard ran as its own array task.
    for i in 0..3 {
        let m = std::fs::read_to_string(out.join(format!("shard-{i}/manifest.json"))).unwrap();
        assert!(m.contains(&format!("\"index\": {i}")), "{m}");
    }
    let whole = tmp.path().join("whole");
    let o = Command::new(env!("CARGO_BIN_EXE_dibsim"))
        .args([
            "sweep",
            sweep.to_str().unwrap(),
            "--out",
            whole.to_str().unwrap(),
            "-q",
        ])
        .output()
        .unwrap();
    assert!(o.status.success());
    let merged = out.join("merged");
    for f in ["runs.parquet", "points.csv", "timeseries.parquet"] {
        let a = std::fs::read(whole.join(f)).unwrap();
        let b = std::fs::read(merged.join(f)).unwrap();
        assert!(
            a == b,
            "{f}: merged Slurm output differs from the unsharded sweep"
        );
    }
    drop(cluster);
}
