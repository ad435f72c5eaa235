"""Analyse a `dibsim sweep` output directory: US share of arms exports vs the swept parameters.

    pip install polars pandas pyarrow matplotlib      # scipy optional (exact t-quantiles)
    dibsim sweep scenarios/my-sweep.toml --out out/sweep
    python3 examples/analysis.py out/sweep [--out us_share.png]

or, with the dibsim Python package installed (python/README.md), run the sweep
from here (into DIR if given, resuming it if it was interrupted; else into the
package's default folder) and analyse it:

    python3 examples/analysis.py --run-sweep scenarios/my-sweep.toml [DIR] [--out us_share.png]

Reads runs.parquet (or runs.csv), checks that polars and pandas read it identically,
recomputes the per-point mean and 95% confidence interval of the US share over the ok
replicates, checks the means against points.csv, prints a table and saves a plot
(a line with CI band for one swept parameter, a heat map of the mean for two or more).
"""

import argparse
import json
import math
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import polars as pl  # noqa: E402

# t_{0.975, df} for df = 1..30; larger df use a Cornish-Fisher expansion (error < 1e-7).
T975 = [12.706204736, 4.302652730, 3.182446305, 2.776445105, 2.570581836, 2.446911851,
        2.364624252, 2.306004135, 2.262157163, 2.228138852, 2.200985160, 2.178812830,
        2.160368656, 2.144786688, 2.131449546, 2.119905299, 2.109815578, 2.100922040,
        2.093024054, 2.085963447, 2.079613845, 2.073873068, 2.068657610, 2.063898562,
        2.059538553, 2.055529439, 2.051830516, 2.048407142, 2.045229642, 2.042272456]


def t975(df):
    """Two-sided 95% Student-t quantile; NaN when df < 1 (a single replicate has no CI)."""
    if df < 1:
        return math.nan
    try:
        from scipy.stats import t
        return float(t.ppf(0.975, df))
    except ImportError:
        pass
    if df <= len(T975):
        return T975[df - 1]
    z = 1.959963984540054
    return (z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
            + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3)
            + (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / (92160 * df**4))


def fail(msg):
    sys.exit(f"analysis.py: error: {msg}")


def load_runs(d):
    """Return (polars df, source path), after checking pandas reads the same file identically."""
    if (d / "runs.parquet").is_file():
        path = d / "runs.parquet"
        runs, runs_pd = pl.read_parquet(path), pd.read_parquet(path, engine="pyarrow")
    elif (d / "runs.csv").is_file():
        path = d / "runs.csv"
        runs, runs_pd = pl.read_csv(path), pd.read_csv(path, engine="pyarrow")
        runs = runs.with_columns(pl.col("^share_.*$").cast(pl.Float64))  # a column of only "nan" reads as text
    else:
        fail(f"{d} has no runs.parquet or runs.csv (is it a `dibsim sweep --out` directory?)")
    if runs.height == 0:
        fail(f"{path} has no rows")
    assert runs.height == len(runs_pd), f"polars read {runs.height} rows, pandas {len(runs_pd)}"
    for c in (c for c in runs.columns if c.startswith("share_")):
        a = runs[c].to_numpy()
        b = runs_pd[c].to_numpy(dtype=float)
        assert np.array_equal(a, b, equal_nan=True), f"polars and pandas disagree on {c}"
    return runs, path


def run_sweep(file, out):
    """Runs (or resumes) the sweep `file` into `out` (None: the package's
    default folder) with the dibsim package; returns the output folder."""
    try:
        import dibsim
    except ImportError as e:
        fail(f"--run-sweep needs the dibsim Python package ({e}); see python/README.md")
    if not file.is_file():
        fail(f"{file}: no such sweep file")
    try:
        result = dibsim.sweep(file, out=out, progress=True)
    except dibsim.DibsimError as e:
        fail(f"the sweep failed: {e}")
    done = "was already complete" if result.already_complete else f"ran {result.ran} run(s), {result.failed} failed"
    print(f"dibsim.sweep {file}: {result.runs.height} runs in {result.out} ({done})")
    return Path(result.out), result.runs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", type=Path, nargs="?",
                    help="output directory of `dibsim sweep` (with --run-sweep: where the sweep writes)")
    ap.add_argument("--out", type=Path, help="plot file (default DIR/us_share.png)")
    ap.add_argument("--run-sweep", type=Path, metavar="FILE",
                    help="first run this sweep file with the dibsim package (dibsim.sweep), then analyse it")
    args = ap.parse_args()
    swept = None  # the runs table dibsim.sweep returned, if it ran here
    if args.run_sweep is not None:
        args.dir, swept = run_sweep(args.run_sweep, args.dir)
    elif args.dir is None:
        ap.error("give the output directory of a sweep, or --run-sweep FILE")
    d = args.dir
    if not d.is_dir():
        fail(f"{d} is not a directory")
    if not any(d.iterdir()):
        fail(f"{d} is empty (did the sweep run?)")

    runs, path = load_runs(d)
    if swept is not None:
        assert swept.equals(runs), f"dibsim.sweep returned another table than {path}"

    # Swept parameters: manifest.json `axes` if present, else the dotted scenario-path columns.
    manifest = json.loads((d / "manifest.json").read_text()) if (d / "manifest.json").is_file() else {}
    axes = [a["path"] for a in manifest.get("axes", []) if a["path"] in runs.columns]
    axes = axes or [c for c in runs.columns if "." in c]
    # The US share if kept, else the first exporter's share (a test world's focal exporter).
    share_cols = [c for c in runs.columns if c.startswith("share_united_states_")]
    share_cols = share_cols or [c for c in runs.columns if c.startswith("share_")]
    if not share_cols:
        fail(f"{path} has no share_* column (add \"share\" to [output] metrics)")
    share = share_cols[0]
    years = "-".join(share.split("_")[-2:])  # share_united_states_2026_2035 -> 2026-2035
    who = "US" if share.startswith("share_united_states_") else share[len("share_"):-10].replace("_", " ").title()
    label = f"{who} share of arms exports, {years} (%)"

    # Per point: mean, sd and 95% CI of the mean over the ok replicates.
    ok = runs.filter(pl.col("status") == "ok")
    stats = (ok.group_by("point")
             .agg(*[pl.col(a).first() for a in axes],
                  pl.len().alias("n"), pl.col(share).mean().alias("mean"), pl.col(share).std().alias("sd"))
             .sort("point"))
    stats = stats.with_columns(pl.Series("t", [t975(n - 1) for n in stats["n"]], dtype=pl.Float64))
    half = pl.col("t") * pl.col("sd") / pl.col("n").sqrt()
    stats = stats.with_columns(lo=pl.col("mean") - half, hi=pl.col("mean") + half)

    # Cross-check against the simulator's own summary.
    if (d / "points.csv").is_file():
        points = pl.read_csv(d / "points.csv").select("point", "runs", pl.col(f"{share}_mean").cast(pl.Float64))
        both = stats.join(points.with_columns(pl.col("point").cast(stats["point"].dtype)), on="point", how="inner")
        assert both.height == stats.height, "points.csv is missing points that have ok runs"
        for p, n, runs_ok, mine, theirs in both.select("point", "n", "runs", "mean", f"{share}_mean").iter_rows():
            assert n == runs_ok, f"point {p}: {n} ok runs in {path.name}, points.csv says {runs_ok}"
            assert math.isclose(mine, theirs, rel_tol=1e-9, abs_tol=1e-15), \
                f"point {p}: mean {share} {mine!r} here vs {theirs!r} in points.csv"
        print(f"points.csv means agree for {both.height} points (rel. tol 1e-9)")
    else:
        print("warning: no points.csv, skipping the cross-check", file=sys.stderr)

    failed = runs.height - ok.height
    print(f"{path}: {runs.height} runs ({failed} failed), {stats.height} points, axes {axes}, metric {share}")
    pct = stats.select("point", *axes, "n", *[(pl.col(c) * 100).round(2).alias(f"{c} %") for c in ("mean", "lo", "hi")])
    with pl.Config(tbl_rows=-1, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True):
        print(pct)

    if not axes:
        print("no swept parameters: nothing to plot")
        return
    out = args.out or d / "us_share.png"
    fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    if len(axes) == 1:  # line: mean with 95% CI band and error bars
        (x,) = axes
        s = stats.sort(x)
        xs = s[x].to_list() if s[x].dtype.is_numeric() else [str(v) for v in s[x]]
        m, lo, hi = (s[c].to_numpy() * 100 for c in ("mean", "lo", "hi"))
        ax.fill_between(xs, lo, hi, alpha=0.2, label="95% CI of the mean")
        ax.errorbar(xs, m, yerr=[m - lo, hi - m], fmt="o-", capsize=3, label="mean over replicates")
        ax.set_xlabel(x)
        ax.set_ylabel(label)
        ax.legend()
        ax.grid(alpha=0.3)
        n = f"{s['n'].min()}" if s["n"].min() == s["n"].max() else f"{s['n'].min()}-{s['n'].max()}"
        ax.set_title(f"{who} share of arms exports vs {x}\n(mean and 95% CI over {n} replicates per point)")
    else:  # heat map of the mean over the first two axes (averaging over any others)
        x, y = axes[:2]
        g = stats.group_by(x, y).agg(pl.col("mean").mean())
        xv, yv = sorted(g[x].unique().to_list()), sorted(g[y].unique().to_list())
        grid = np.full((len(yv), len(xv)), np.nan)
        for xi, yi, m in g.select(x, y, "mean").iter_rows():
            grid[yv.index(yi), xv.index(xi)] = m * 100
        im = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(range(len(xv)), [str(v) for v in xv])
        ax.set_yticks(range(len(yv)), [str(v) for v in yv])
        if grid.size <= 150:
            for (i, j), v in np.ndenumerate(grid):
                ax.text(j, i, f"{v:.1f}", ha="center", va="center", color="w" if v < np.nanmean(grid) else "k")
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        fig.colorbar(im, ax=ax, label=label)
        rest = f", averaged over {', '.join(axes[2:])}" if len(axes) > 2 else ""
        ax.set_title(f"Mean {who} share of arms exports, {years}{rest}")
    fig.savefig(out, dpi=150)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
