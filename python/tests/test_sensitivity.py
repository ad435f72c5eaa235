"""dibsim's sensitivity analysis and scenario discovery against the tools
their users know: SALib's Sobol and Morris estimators on the same design
rows, and the EMA Workbench's PRIM on the same data. Each comparison is
skipped, with its reason, when the tool does not install."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

import dibsim
from helpers import ROOT

SALTELLI = ROOT / "tests/fixtures/sweeps/saltelli.toml"
MORRIS = ROOT / "tests/fixtures/sweeps/morris.toml"
INPUTS = ["allies.*.beta_time", "model.cancel_prob", "exporters.Beta.approval_mean_months"]


def problem(bounds):
    return {"num_vars": len(INPUTS), "names": INPUTS, "bounds": bounds}


@pytest.fixture(scope="module")
def saltelli_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("saltelli") / "out"
    dibsim.sweep(SALTELLI, out=out)
    return out


def test_sobol_indices_equal_salibs(saltelli_dir):
    salib = pytest.importorskip("SALib.analyze.sobol", reason="SALib does not install here")
    points = pl.read_csv(saltelli_dir / "points.csv", infer_schema_length=None)
    ours = dibsim.analyze(saltelli_dir, metric="share")
    assert (saltelli_dir / "sensitivity.csv").is_file()
    # In the sweep's order (lever values as listed), the paired differences left out.
    groups = [g for g in dict.fromkeys(ours["group"].to_list()) if "minus" not in g]
    assert len(groups) == 2
    metric = [c for c in points.columns if c.startswith("share_") and c.endswith("_mean")][0]
    rows = 32 * (len(INPUTS) + 2)
    for g, label in enumerate(groups):
        y = points[metric].to_numpy()[g * rows : (g + 1) * rows]
        s = salib.analyze(problem([[0.5, 3.0], [0.02, 0.2], [0.5, 8.0]]), y, calc_second_order=False, print_to_console=False)
        mine = ours.filter(pl.col("group") == label)
        for j, name in enumerate(INPUTS):
            for index, key in (("S1", "S1"), ("ST", "ST")):
                v = mine.filter((pl.col("parameter") == name) & (pl.col("index") == index))["value"][0]
                assert v == pytest.approx(s[key][j], abs=1e-9), f"{label} {name} {index}: {v} vs SALib {s[key][j]}"
            # The bootstrap differs from SALib's draws; its width is of the same order.
            lo, hi = mine.filter((pl.col("parameter") == name) & (pl.col("index") == "ST"))[["lo", "hi"]].row(0)
            assert lo <= mine.filter((pl.col("parameter") == name) & (pl.col("index") == "ST"))["value"][0] <= hi
            assert (hi - lo) / 2 < 10 * s["ST_conf"][j] + 1e-6


def test_morris_indices_equal_salibs(tmp_path):
    salib = pytest.importorskip("SALib.analyze.morris", reason="SALib does not install here")
    out = tmp_path / "morris"
    dibsim.sweep(MORRIS, out=out)
    points = pl.read_csv(out / "points.csv", infer_schema_length=None)
    x = points.select(INPUTS).to_numpy()
    metric = [c for c in points.columns if c.startswith("share_") and c.endswith("_mean")][0]
    y = points[metric].to_numpy()
    s = salib.analyze(problem([[0.5, 3.0], [0.02, 0.2], [0.5, 6.0]]), x, y, num_levels=4, print_to_console=False)
    ours = dibsim.analyze(out)
    for j, name in enumerate(INPUTS):
        get = lambda i: ours.filter((pl.col("parameter") == name) & (pl.col("index") == i))["value"][0]  # noqa: E731
        assert get("mu") == pytest.approx(s["mu"][j], abs=1e-9)
        assert get("mu_star") == pytest.approx(s["mu_star"][j], abs=1e-9)
        assert get("sigma") == pytest.approx(s["sigma"][j], abs=1e-9)


def test_analyze_warns_of_a_metric_it_leaves_out(tmp_path):
    out = tmp_path / "undefined"
    dibsim.sweep(ROOT / "tests/fixtures/sweeps/morris-undefined.toml", out=out)
    undefined = "realised_wait_months_alpha_2021_2021"
    with pytest.warns(UserWarning, match=f"skipped metric {undefined}"):
        ours = dibsim.analyze(out)
    assert undefined not in set(ours["metric"])
    assert "share_alpha_2021_2021" in set(ours["metric"])
    with pytest.raises(dibsim.SweepError, match=undefined):
        dibsim.analyze(out, metric="realised_wait_months", write=False)


def synthetic(n=2000, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(n, 3))
    y = (x[:, 0] < 0.3) & (x[:, 1] > 0.6)
    return x, y


def test_prim_recovers_a_known_box():
    x, y = synthetic()
    r = dibsim.prim(x, y)
    box = r["trajectory"][r["chosen"]]
    assert box["density"] >= 0.8
    (lo0, hi0), (lo1, hi1) = box["limits"][0], box["limits"][1]
    assert hi0 == pytest.approx(0.3, abs=0.05)
    assert lo1 == pytest.approx(0.6, abs=0.05)
    assert sorted(box["restricted"])[:2] == [0, 1]
    cov = [b["coverage"] for b in r["trajectory"]]
    mass = [b["mass"] for b in r["trajectory"]]
    assert all(a >= b - 1e-12 for a, b in zip(mass, mass[1:]))
    assert cov[0] == 1.0


def test_prim_matches_the_ema_workbench():
    try:
        import pandas as pd
        from ema_workbench.analysis import prim as ema_prim
    except Exception as e:  # noqa: BLE001 - any failure to import is a skip
        pytest.skip(f"the EMA Workbench does not import here: {e}")
    x, y = synthetic(seed=2)
    ours = dibsim.prim(x, y)
    mine = ours["trajectory"][ours["chosen"]]
    p = ema_prim.Prim(pd.DataFrame(x, columns=["a", "b", "c"]), y, threshold=0.8)
    box = p.find_box()
    traj = box.peeling_trajectory
    # The box EMA's find_box leaves current: the last of the trajectory at
    # or above the threshold, as dibsim chooses (before pasting).
    i = box._cur_box
    lims = box.box_lims[i]
    mine = ours["trajectory"][ours["chosen"]]
    for k, name in enumerate(["a", "b"]):
        assert mine["limits"][k][0] == pytest.approx(float(lims[name][0]), abs=0.05), name
        assert mine["limits"][k][1] == pytest.approx(float(lims[name][1]), abs=0.05), name
    assert mine["coverage"] == pytest.approx(float(traj["coverage"][i]), abs=0.1)
    assert mine["density"] == pytest.approx(float(traj["density"][i]), abs=0.1)


def test_discover_on_a_sweep(saltelli_dir):
    d = dibsim.discover(saltelli_dir, metric="share", below=0.5)
    assert d["cases_of_interest"] > 0 and 0 < d["coverage"] <= 1
    assert (saltelli_dir / "discovery.json").is_file()
    with pytest.raises(ValueError):
        dibsim.discover(saltelli_dir, metric="share")
    with pytest.raises(dibsim.SweepError):
        dibsim.analyze(saltelli_dir, metric="no_such_metric")
