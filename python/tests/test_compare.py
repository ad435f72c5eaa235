"""dibsim.compare against `dibsim compare --out`: the same compare.csv."""

from __future__ import annotations

import polars as pl
import pytest

import dibsim
from helpers import ROOT, assert_frames_identical, read_csv_like


def test_compare_equals_cli_compare_csv(cli, tmp_path):
    got = dibsim.compare(["baseline", "faster-approvals"], replicates=4, seed=1)
    cli("compare", "baseline", "faster-approvals", "--replicates", "4", "--seed", "1", "--out", tmp_path)
    want = read_csv_like(tmp_path / "compare.csv", got)
    assert_frames_identical(got, want)
    # Also with the types polars infers on its own: the same values.
    inferred = pl.read_csv(tmp_path / "compare.csv", infer_schema_length=None)
    assert got.equals(inferred.cast(got.schema))
    # The table itself: both scenarios, every exporter, 4 replicates, the
    # baseline's deltas zero, shares summing to one per scenario.
    assert got["scenario"].unique().sort().to_list() == ["baseline", "faster-approvals"]
    assert (got["replicates"] == 4).all()
    base = got.filter(pl.col("scenario") == "baseline")
    assert (base["delta_mean"] == 0).all()
    for _, part in got.group_by("scenario"):
        assert part["share_mean"].sum() == pytest.approx(1.0)
    us = got.filter((pl.col("scenario") == "faster-approvals") & (pl.col("exporter") == "United States"))
    assert us.height == 1
    assert us["share_lo"][0] <= us["share_mean"][0] <= us["share_hi"][0]


def test_compare_out_writes_the_cli_compare_csv(cli, tmp_path):
    dibsim.compare(["baseline", "export-reserve"], replicates=3, seed=2, out=tmp_path / "py")
    cli("compare", "baseline", "export-reserve", "--replicates", "3", "--seed", "2", "--out", tmp_path / "cli")
    for name in ("compare.csv", "series.csv"):
        assert (tmp_path / "py" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes(), name
    assert (tmp_path / "py/manifest.json").is_file()


def test_compare_window_and_set_and_file_paths(cli, tmp_path):
    strategy = ROOT / "scenarios/strategy-2026.toml"
    got = dibsim.compare(
        ["baseline", strategy], replicates=3, seed=4, window=(2028, 2032), set={"policy.export_reserve": 0.05}
    )
    cli(
        "compare", "baseline", strategy, "--replicates", "3", "--seed", "4",
        "--from", "2028", "--to", "2032", "--set", "policy.export_reserve=0.05", "--out", tmp_path,
    )
    assert_frames_identical(got, read_csv_like(tmp_path / "compare.csv", got))


def test_compare_is_the_same_on_one_and_two_threads():
    kw = dict(scenarios=["baseline", "faster-approvals"], replicates=4, seed=3)
    assert_frames_identical(dibsim.compare(threads=1, **kw), dibsim.compare(threads=2, **kw))
    assert_frames_identical(dibsim.compare(threads=1, **kw), dibsim.compare(**kw))


def test_compare_seed_matters():
    a = dibsim.compare(["baseline", "faster-approvals"], replicates=3, seed=1)
    b = dibsim.compare(["baseline", "faster-approvals"], replicates=3, seed=2)
    assert not a.equals(b)


def test_compare_needs_two_replicates():
    with pytest.raises(dibsim.DibsimError, match="at least 2"):
        dibsim.compare(["baseline"], replicates=1)


def test_compare_with_no_scenarios_is_every_bundled_one(cli, tmp_path):
    got = dibsim.compare(replicates=2, seed=1)
    assert got["scenario"].unique(maintain_order=True).to_list() == list(dibsim.scenarios())
    cli("compare", "--replicates", "2", "--seed", "1", "--out", tmp_path)
    assert_frames_identical(got, read_csv_like(tmp_path / "compare.csv", got))


def test_compare_of_one_name_is_a_list_of_one():
    # A string is a sequence of letters; found by a user as "scenario b:
    # no such file".
    one = dibsim.compare("baseline", replicates=2, seed=3)
    listed = dibsim.compare(["baseline"], replicates=2, seed=3)
    assert one.equals(listed)
    assert one["scenario"].unique().to_list() == ["baseline"]
    by_path = dibsim.compare(ROOT / "scenarios" / "baseline.toml", replicates=2, seed=3)
    assert by_path["share_mean"].equals(one["share_mean"])
