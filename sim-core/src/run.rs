//! Running scenarios: one run, replicates, and forks of a shared history.
//!
//! Runs of scenarios that differ only in `policy` (and share a seed) are the
//! same up to `policy.start_month`: [`run_group`] simulates that prefix once
//! and clones the world for each scenario. The clone carries every stream's
//! state, so a fork is byte-identical to a run from scratch.

use std::sync::Arc;

use crate::behaviour::Behaviours;
use crate::compiled::Compiled;
use crate::error::RunError;
use crate::ledger::OrderRecord;
use crate::metrics::Recorder;
use crate::world::World;

/// A scenario ready to run: compiled parameters and its behaviours.
#[derive(Clone)]
pub struct Prepared {
    pub cfg: Arc<Compiled>,
    pub behaviours: Behaviours,
}

pub fn run_one(p: &Prepared, seed: u64) -> Result<Recorder, RunError> {
    run_one_with(p, seed, false).map(|o| o.recorder)
}

/// What a run leaves: its metrics, and its order ledger when asked for.
pub struct RunOutput {
    pub recorder: Recorder,
    pub ledger: Option<Vec<OrderRecord>>,
}

fn finish(w: World) -> RunOutput {
    let (recorder, ledger) = w.into_parts();
    RunOutput { recorder, ledger }
}

/// One run, keeping the order ledger if `ledger`.
pub fn run_one_with(p: &Prepared, seed: u64, ledger: bool) -> Result<RunOutput, RunError> {
    let mut w = World::new(Arc::clone(&p.cfg), p.behaviours.clone(), seed)?;
    if ledger {
        w.keep_ledger();
    }
    w.run()?;
    Ok(finish(w))
}

/// Whether two scenarios share their history up to the policy start.
pub fn forkable(a: &Compiled, b: &Compiled) -> bool {
    a.scenario.without_policy() == b.scenario.without_policy()
}

/// Runs every scenario of a forkable group with one seed, simulating the
/// shared prefix once. Results are in the order of `group`.
pub fn run_group(group: &[&Prepared], seed: u64) -> Vec<Result<Recorder, RunError>> {
    run_group_with(group, seed, false)
        .into_iter()
        .map(|r| r.map(|o| o.recorder))
        .collect()
}

/// As [`run_group`], keeping each run's order ledger if `ledger`.
pub fn run_group_with(
    group: &[&Prepared],
    seed: u64,
    ledger: bool,
) -> Vec<Result<RunOutput, RunError>> {
    let Some(first) = group.first() else {
        return Vec::new();
    };
    if group.len() == 1 {
        return vec![run_one_with(first, seed, ledger)];
    }
    // The earliest policy start of the group: no member's levers may act
    // before the fork.
    let fork_at = group
        .iter()
        .map(|p| p.cfg.scenario.policy.start_month)
        .min()
        .unwrap_or(0);
    let prefix =
        World::new(Arc::clone(&first.cfg), first.behaviours.clone(), seed).and_then(|mut w| {
            if ledger {
                w.keep_ledger();
            }
            w.run_until(fork_at).map(|_| w)
        });
    let prefix = match prefix {
        Ok(w) => w,
        Err(e) => return group.iter().map(|_| Err(e.clone())).collect(),
    };
    group
        .iter()
        .map(|p| {
            let mut w = prefix.fork(Arc::clone(&p.cfg))?;
            w.run()?;
            Ok(finish(w))
        })
        .collect()
}

/// Splits scenarios into forkable groups (indices, first-seen order).
pub fn groups(prepared: &[Prepared]) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::new();
    for (i, p) in prepared.iter().enumerate() {
        match out
            .iter_mut()
            .find(|g| forkable(&prepared[g[0]].cfg, &p.cfg))
        {
            Some(g) => g.push(i),
            None => out.push(vec![i]),
        }
    }
    out
}
