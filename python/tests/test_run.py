"""dibsim.run against `dibsim run --out`: the same time series, bit for bit;
determinism across threads, reruns and concurrent calls; the summary."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import polars as pl
import pytest

import dibsim
from helpers import ROOT, assert_frames_identical, read_csv_like

STRATEGY = ROOT / "scenarios/strategy-2026.toml"

# (scenario, seed, set as a dict, months): each is run by the package and by
# the CLI with the same arguments.
CASES = {
    "baseline-faster": ("baseline", 3, {"policy.approval_time_factor": 0.5}, None),
    "baseline-two-sets": (
        "baseline",
        11,
        {"policy.export_reserve": 0.15, "exporters.France.approval_mean_months": 2.5},
        None,
    ),
    "strategy-file-36-months": (str(STRATEGY), 7, None, 36),
    "strategy-file-set-months": (str(STRATEGY), 2, {"policy.export_by_design": False}, 60),
}


def cli_args(scenario, seed, sets, months, out):
    args = ["run", scenario, "--seed", str(seed), "--out", str(out)]
    for path, value in (sets or {}).items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        else:
            text = value if isinstance(value, str) else repr(value)
        args += ["--set", f"{path}={text}"]
    if months is not None:
        args += ["--months", str(months)]
    return args


@pytest.mark.parametrize("case", sorted(CASES))
def test_run_equals_cli_timeseries_bit_for_bit(case, cli, tmp_path):
    scenario, seed, sets, months = CASES[case]
    got = dibsim.run(scenario, seed=seed, set=sets, months=months)
    cli(*cli_args(scenario, seed, sets, months, tmp_path / "cli"))
    csv = tmp_path / "cli/timeseries.csv"
    want = read_csv_like(csv, got.timeseries)
    assert_frames_identical(got.timeseries, want)
    # The CSV has empty cells (no delivery: no realised wait) and they are
    # nulls here, not NaN: the comparison above covered them.
    assert got.timeseries["realised_wait_months"].null_count() > 0
    assert got.timeseries.select(pl.col(pl.Float64).is_nan().any()).row(0) == (False,) * 15
    # The rows: every reported month, each exporter once.
    n_exporters = got.timeseries["exporter"].n_unique()
    expected_months = months if months is not None else dibsim.validate(scenario)["months"]
    assert got.timeseries.height == expected_months * n_exporters
    # summary.json holds what .summary does.
    assert json.loads((tmp_path / "cli/summary.json").read_text()) == got.summary


def test_set_as_dict_list_and_strings_agree():
    a = dibsim.run("baseline", seed=4, set={"policy.approval_time_factor": 0.5, "policy.export_by_design": True})
    b = dibsim.run("baseline", seed=4, set=["policy.approval_time_factor=0.5", "policy.export_by_design=true"])
    assert_frames_identical(a.timeseries, b.timeseries)
    assert a.summary["sets"] == ["policy.approval_time_factor=0.5", "policy.export_by_design=true"]


def test_the_override_changes_the_run():
    a = dibsim.run("baseline", seed=3)
    b = dibsim.run("baseline", seed=3, set={"policy.approval_time_factor": 0.5})
    assert not a.timeseries.equals(b.timeseries)


def test_out_writes_the_cli_files_byte_for_byte(cli, tmp_path):
    dibsim.run("baseline", seed=3, set={"policy.approval_time_factor": 0.5}, out=tmp_path / "py")
    cli("run", "baseline", "--seed", "3", "--set", "policy.approval_time_factor=0.5", "--out", tmp_path / "cli")
    for name in ("timeseries.csv", "summary.json"):
        assert (tmp_path / "py" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes(), name


def test_one_and_two_threads_and_a_rerun_are_identical():
    kw = dict(seed=5, set={"policy.export_reserve": 0.1})
    one = dibsim.run("baseline", threads=1, **kw)
    two = dibsim.run("baseline", threads=2, **kw)
    default = dibsim.run("baseline", **kw)
    again = dibsim.run("baseline", threads=1, **kw)
    for other in (two, default, again):
        assert_frames_identical(one.timeseries, other.timeseries)
        assert other.summary == one.summary


def test_concurrent_runs_from_python_threads_match_sequential_ones():
    seeds = [1, 2, 3, 4]
    sequential = [dibsim.run("baseline", seed=s, months=60).timeseries for s in seeds]
    with ThreadPoolExecutor(max_workers=4) as pool:
        concurrent = list(pool.map(lambda s: dibsim.run("baseline", seed=s, months=60).timeseries, seeds))
    for a, b in zip(sequential, concurrent):
        assert_frames_identical(a, b)


def test_a_different_seed_differs():
    a = dibsim.run("baseline", seed=1)
    b = dibsim.run("baseline", seed=2)
    assert a.timeseries.shape == b.timeseries.shape
    assert not a.timeseries.equals(b.timeseries)
    assert a.summary["shares"] != b.summary["shares"]


def test_months_sets_the_reported_months():
    r = dibsim.run("baseline", months=24)
    assert r.timeseries["month"].unique().sort().to_list() == list(range(24))
    assert r.timeseries["year"].unique().sort().to_list() == [2020, 2021]


def test_summary():
    r = dibsim.run("baseline", seed=9, set={"policy.export_reserve": 0.1})
    s = r.summary
    assert s["model_version"] == "v1" == dibsim.MODEL_VERSION
    assert s["seed"] == 9 == r.seed
    assert s["scenario"] == "baseline" == r.scenario
    assert s["dibsim_version"] == dibsim.__version__
    assert s["sets"] == ["policy.export_reserve=0.1"]
    assert s["parameters"]["policy"]["export_reserve"] == 0.1
    # Shares per 5-year window sum to one over the exporters.
    for window, shares in s["shares"].items():
        assert set(shares) == set(r.timeseries["exporter"].unique()), window
        assert sum(shares.values()) == pytest.approx(1.0), window
    assert "seed=9" in repr(r) and "baseline" in repr(r)


def test_timeseries_schema_and_to_pandas():
    r = dibsim.run("baseline", months=36)
    ts = r.timeseries
    assert isinstance(ts, pl.DataFrame)
    assert ts.columns[:3] == ["month", "year", "exporter"]
    assert ts.schema["month"] == pl.Int64 and ts.schema["exporter"] == pl.String
    assert {"deliveries_tiv", "backlog_foreign_tiv", "share_60m"} <= set(ts.columns)
    df = r.to_pandas()
    assert isinstance(df, pd.DataFrame)
    assert len(df) == ts.height
    assert list(df.columns) == ts.columns
    assert df["deliveries_tiv"].sum() == pytest.approx(ts["deliveries_tiv"].sum(), rel=1e-12)
    # A null becomes NaN in pandas.
    assert df["realised_wait_months"].isna().sum() == ts["realised_wait_months"].null_count() > 0


def test_validate_returns_the_resolved_scenario(cli):
    v = dibsim.validate("baseline")
    assert isinstance(v, dict)
    for key in ("exporters", "allies", "suppliers", "categories", "policy", "model", "months"):
        assert key in v, key
    assert v["name"] == "baseline"
    assert "extends" not in v
    names = [e["name"] for e in v["exporters"]]
    assert "United States" in names and "France" in names
    # The same resolved scenario as `dibsim validate --print`.
    printed = json.loads(cli("validate", "baseline", "--print").stdout)
    assert v == printed
    # Overrides are applied; an extending file is merged.
    assert dibsim.validate("baseline", set={"policy.export_reserve": 0.2})["policy"]["export_reserve"] == 0.2
    s = dibsim.validate(STRATEGY)
    assert s["policy"]["approval_time_factor"] == 0.5
    assert s["exporters"] == v["exporters"]


def test_scenarios_lists_the_bundled_ones(cli):
    sc = dibsim.scenarios()
    assert isinstance(sc, dict)
    for name in ("baseline", "strategy-2026", "faster-approvals", "export-reserve"):
        assert name in sc, name
        assert isinstance(sc[name], str) and sc[name]
    listed = [line.split()[0] for line in cli("scenarios").stdout.splitlines() if line.strip()]
    assert set(sc) <= set(listed)


def test_numpy_scalars_as_set_values():
    """numpy scalars (what pandas, numpy samplers and EMA Workbench hand
    out) are values like any other: np.float64 is even a float subclass.

    Fails with the package as it is: `_value_text` renders np.float64(0.5)
    with repr(), which numpy 2 spells "np.float64(0.5)", so the override is
    the string "np.float64(0.5)" (ScenarioError: invalid type: string);
    np.float32, np.int64 and np.bool_ raise TypeError."""
    np = pytest.importorskip("numpy")
    want = dibsim.run("baseline", seed=3, months=24, set={"policy.approval_time_factor": 0.5})
    for value in (np.float64(0.5), np.float32(0.5)):
        got = dibsim.run("baseline", seed=3, months=24, set={"policy.approval_time_factor": value})
        assert_frames_identical(got.timeseries, want.timeseries)
    r = dibsim.run("baseline", seed=3, set={"months": np.int64(24), "policy.export_by_design": np.bool_(True)})
    assert r.timeseries["month"].max() == 23
    assert r.summary["parameters"]["policy"]["export_by_design"] is True


def test_orders_equal_the_cli_orders_csv(cli, tmp_path):
    """`.orders` is the ledger `dibsim run --out` writes as orders.csv."""
    out = tmp_path / "cli"
    cli(*cli_args("strategy-2026", 5, None, None, out))
    r = dibsim.run("strategy-2026", seed=5)
    assert r.orders is not None and r.orders.height > 1000
    expected = read_csv_like(out / "orders.csv", r.orders)
    assert_frames_identical(r.orders, expected)
    # The ledger conserves: per exporter, delivered TIV is the series' deliveries.
    by_ledger = r.orders.group_by("exporter").agg(pl.col("delivered_tiv").sum())
    by_series = r.timeseries.group_by("exporter").agg(pl.col("deliveries_tiv").sum())
    joined = by_ledger.join(by_series, on="exporter")
    assert joined.height == by_series.height
    for row in joined.iter_rows(named=True):
        assert abs(row["delivered_tiv"] - row["deliveries_tiv"]) <= 1e-9 * max(row["deliveries_tiv"], 1.0)
