"""dibsim as an EMA Workbench model: explore uncertainties and policy levers,
then find with PRIM where the US share of arms exports is low.

    pip install ema-workbench                 # and the dibsim package (python/README.md)
    python3 examples/ema_workbench.py [--experiments 200] [--seed 1] [--quantile 0.25]

The model is a plain function around ``dibsim.run`` (one run of the bundled
baseline per experiment, about 10 ms). Its inputs are scenario field paths,
the same as ``--set`` takes, mapped from EMA parameters with
``variable_name`` (one parameter may set several paths: the allies' weight of
delivery time is one uncertainty, set for all 65 allies):

- uncertainties: the mean US export approval time
  (``exporters.United States.approval_mean_months``), the monthly
  cancellation probability of a late order (``model.cancel_prob``), and how
  much allies weigh delivery time and price when they choose a supplier
  (``allies.<name>.beta_time``, ``allies.<name>.beta_price``);
- levers: ``policy.approval_time_factor`` (1 = today's approval times, 0.25 =
  a quarter of them) and ``policy.export_reserve`` (share of every US line
  reserved for export orders), both from February 2026;
- outcomes: the US share of the world's foreign deliveries over 2026-2035
  (from the time series' ``deliveries_tiv`` per exporter) and the mean US
  foreign backlog over the same years (TIV).

Experiments pair the i-th of N Latin-hypercube scenarios (uncertainties)
with the i-th of N Latin-hypercube policies (levers), sampled with numpy's
global generator, which ``--seed`` seeds; every run uses the same
simulation seed (common random numbers), so differences between
experiments come from the parameters.
PRIM then looks for the box of inputs where the US share falls below its
``--quantile``. Exits non-zero if anything fails.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import time

# This file is named like the package it uses: take its folder off the
# import path so that `import ema_workbench` finds the package, not itself.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import warnings  # noqa: E402

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

import dibsim  # noqa: E402

warnings.filterwarnings("ignore", message="ipyparallel not installed")  # we use none of its evaluators
from ema_workbench import (  # noqa: E402
    Constant,
    Model,
    RealParameter,
    ScalarOutcome,
    SequentialEvaluator,
    ema_logging,
    perform_experiments,
)
from ema_workbench.analysis import prim  # noqa: E402
from ema_workbench.em_framework import sample_levers, sample_uncertainties  # noqa: E402

US = "United States"
WINDOW = (2026, 2035)
SCENARIO = "baseline"


def run_dibsim(scenario: str, seed: int, **paths) -> dict:
    """One experiment: the baseline with every path set, one run.

    EMA hands over numpy scalars; they are made plain floats here, since
    ``dibsim.run`` writes each value as TOML text and does not (yet) accept
    numpy types (np.float64 would become the text "np.float64(0.5)")."""
    sets = {path: float(value) for path, value in paths.items()}
    ts = dibsim.run(scenario, seed=int(seed), set=sets).timeseries
    return outcomes(ts)


def outcomes(ts: pl.DataFrame) -> dict:
    """US share of foreign deliveries and mean US foreign backlog over WINDOW."""
    window = ts.filter(pl.col("year").is_between(*WINDOW))
    delivered = window.group_by("exporter").agg(pl.col("deliveries_tiv").sum())
    world = delivered["deliveries_tiv"].sum()
    us = delivered.filter(pl.col("exporter") == US)["deliveries_tiv"].sum()
    backlog = window.filter(pl.col("exporter") == US)["backlog_foreign_tiv"].mean()
    return {"us_share": us / world if world > 0 else math.nan, "us_backlog": backlog}


def build_model(seed: int) -> Model:
    allies = [a["name"] for a in dibsim.validate(SCENARIO)["allies"]]
    model = Model("dibsim", function=run_dibsim)
    model.uncertainties = [
        RealParameter("us_approval_mean_months", 3.0, 9.0, variable_name=f"exporters.{US}.approval_mean_months"),
        RealParameter("cancel_prob", 0.05, 0.2, variable_name="model.cancel_prob"),
        RealParameter("ally_beta_time", 0.5, 2.0, variable_name=[f"allies.{a}.beta_time" for a in allies]),
        RealParameter("ally_beta_price", 0.5, 2.0, variable_name=[f"allies.{a}.beta_price" for a in allies]),
    ]
    model.levers = [
        RealParameter("approval_time_factor", 0.25, 1.0, variable_name="policy.approval_time_factor"),
        RealParameter("export_reserve", 0.0, 0.3, variable_name="policy.export_reserve"),
    ]
    model.constants = [Constant("scenario", SCENARIO), Constant("seed", seed)]
    model.outcomes = [ScalarOutcome("us_share"), ScalarOutcome("us_backlog")]
    return model


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--experiments", type=int, default=200, help="number of experiments (default 200)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the sample and of every run (default 1)")
    ap.add_argument("--quantile", type=float, default=0.25, help="cases of interest: US share below this quantile (default 0.25)")
    ap.add_argument("--threshold", type=float, default=0.8, help="PRIM's density threshold (default 0.8)")
    ap.add_argument("-v", "--verbose", action="store_true", help="EMA Workbench's progress log on stderr")
    args = ap.parse_args()
    if args.experiments < 10:
        ap.error("--experiments must be at least 10")
    if not 0 < args.quantile < 1:
        ap.error("--quantile must be between 0 and 1")
    ema_logging.log_to_stderr(logging.INFO if args.verbose else logging.WARNING)

    started = time.perf_counter()
    model = build_model(args.seed)
    # Latin hypercubes of N scenarios and N policies, the i-th of each run
    # together (combine="sample"). EMA's samplers draw from numpy's global
    # generator, seeded here. (perform_experiments(model, N, N,
    # combine="sample") would sample them itself, but ema-workbench 2.5
    # cannot zip its own samples: "DefaultDesigns has no len()".)
    np.random.seed(args.seed)
    scenarios = list(sample_uncertainties(model, args.experiments))
    policies = list(sample_levers(model, args.experiments))
    with SequentialEvaluator(model) as evaluator:
        experiments, results = perform_experiments(
            model, scenarios=scenarios, policies=policies, combine="sample", evaluator=evaluator,
            log_progress=True,  # progress as log lines (shown with -v), not a progress bar
        )
    ran = time.perf_counter() - started
    share = np.asarray(results["us_share"], dtype=float)
    backlog = np.asarray(results["us_backlog"], dtype=float)
    if len(share) != args.experiments or not np.isfinite(share).all() or not np.isfinite(backlog).all():
        raise RuntimeError(f"expected {args.experiments} finite outcomes, got {share.size}: {share[:5]}...")
    print(f"{len(share)} experiments in {ran:.1f} s ({1000 * ran / len(share):.1f} ms each), dibsim {dibsim.__version__}, model {dibsim.MODEL_VERSION}")
    print(f"US share of foreign deliveries {WINDOW[0]}-{WINDOW[1]}: "
          f"min {share.min():.3f}, median {np.median(share):.3f}, max {share.max():.3f}")
    print(f"US foreign backlog (mean over the years, TIV): min {backlog.min():.0f}, median {np.median(backlog):.0f}, max {backlog.max():.0f}")

    # Scenario discovery: where is the US share in its lowest quantile?
    names = [p.name for p in (*model.uncertainties, *model.levers)]
    x = experiments[names]
    cut = float(np.quantile(share, args.quantile))
    y = share < cut
    print(f"\nPRIM: cases of interest are US share < {cut:.3f} (the lowest {args.quantile:.0%}): {int(y.sum())} of {len(y)}")
    finder = prim.Prim(x, y, threshold=args.threshold, peel_alpha=0.1)
    box = finder.find_box()
    traj = box.peeling_trajectory
    print("\npeeling trajectory (every 5th box and the last):")
    rows = sorted(set(range(0, len(traj), 5)) | {len(traj) - 1})
    with_cols = ["coverage", "density", "mass", "res_dim", "n", "k"]
    print(traj.loc[rows, with_cols].to_string(float_format=lambda v: f"{v:.3f}"))

    # The box to report: the largest coverage whose density reaches the
    # threshold (else the densest box on the trajectory).
    dense = traj[traj["density"] >= args.threshold]
    i = int(dense["coverage"].idxmax()) if len(dense) else int(traj["density"].idxmax())
    box.select(i)
    print(f"\nbox {i}: coverage {box.coverage:.3f}, density {box.density:.3f}, mass {box.mass:.3f}, "
          f"{box.res_dim} restricted dimension(s)")
    limits = box.box_lim
    full = finder.box_init
    restricted = [c for c in limits.columns if not np.allclose(limits[c].values, full[c].values)]
    print("limits of the restricted dimensions (box lower/upper vs the sampled range):")
    for c in restricted:
        lo, hi = limits[c].values
        print(f"  {c:26s} {lo:8.3f} .. {hi:8.3f}   (sampled {full[c].values[0]:.3f} .. {full[c].values[1]:.3f})")
    if not restricted:
        print("  (none: the box is the whole sample)")
    inside = np.asarray(box.yi)
    print(f"US share inside the box: mean {share[inside].mean():.3f} vs {share.mean():.3f} over all experiments")
    print(f"\ndone in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # noqa: BLE001 - report and fail
        if os.environ.get("DIBSIM_DEBUG"):
            raise
        print(f"ema_workbench.py: error: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
