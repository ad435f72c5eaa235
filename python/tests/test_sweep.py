"""dibsim.sweep against `dibsim sweep`: the same runs table; a sweep given as
a dict; an interrupted sweep (a raising progress callback, Ctrl-C, SIGKILL)
resumes to exactly the uninterrupted result, running only what is missing."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pandas as pd
import polars as pl
import pytest

import dibsim
from helpers import FIXTURES, ROOT, assert_frames_identical, complete_lines

SMALL = ROOT / "tests/fixtures/sweeps/small.toml"  # 8 points x 3 replicates
CHUNKED = FIXTURES / "chunked.toml"  # 8 x 20 = 160 runs with time series: 3 chunks
LONG = FIXTURES / "long.toml"  # 8 x 150 = 1200 runs with time series: 2-3 s
JOURNAL = "runs.partial.csv"


def total_runs(path: Path) -> int:
    """Points x replicates of a sweep file whose axes are lists or counts."""
    spec = tomllib.loads(path.read_text())
    points = 1
    for axis in spec["axes"]:
        points *= len(axis["values"]) if "values" in axis else axis["count"]
    return points * spec["replicates"]


def read(path: Path) -> pl.DataFrame:
    return pl.read_parquet(path)


def assert_same_sweep(a: Path, b: Path) -> None:
    """Two finished sweep folders hold the same runs, points, series and orders."""
    assert_frames_identical(read(a / "runs.parquet"), read(b / "runs.parquet"))
    assert (a / "points.csv").read_bytes() == (b / "points.csv").read_bytes()
    for name in ("timeseries.parquet", "orders.parquet"):
        assert (a / name).exists() == (b / name).exists(), name
        if (b / name).exists():
            assert_frames_identical(read(a / name), read(b / name))


@pytest.fixture(scope="session")
def chunked_reference(tmp_path_factory) -> dibsim.SweepResult:
    """The chunked sweep, uninterrupted."""
    return dibsim.sweep(CHUNKED, out=tmp_path_factory.mktemp("chunked") / "reference")


@pytest.fixture(scope="session")
def long_reference(tmp_path_factory) -> dibsim.SweepResult:
    """The long sweep, uninterrupted."""
    return dibsim.sweep(LONG, out=tmp_path_factory.mktemp("long") / "reference")


# ---------------------------------------------------------------- (a) a sweep file


def test_sweep_file_equals_cli_runs_parquet(cli, tmp_path):
    result = dibsim.sweep(SMALL, out=tmp_path / "py")
    assert isinstance(result, dibsim.SweepResult)
    assert result.runs.height == total_runs(SMALL) == 24
    assert (result.ran, result.failed, result.already_complete) == (24, 0, False)
    assert result.out == tmp_path / "py"
    assert (result.runs["status"] == "ok").all()
    assert result.runs["run"].to_list() == list(range(24))
    assert result.points.height == 8
    cli("sweep", SMALL, "--out", tmp_path / "cli", "-q")
    assert_frames_identical(result.runs, read(tmp_path / "cli/runs.parquet"))
    assert_frames_identical(result.runs, read(tmp_path / "py/runs.parquet"))
    assert (tmp_path / "py/points.csv").read_bytes() == (tmp_path / "cli/points.csv").read_bytes()
    assert result.points.equals(pl.read_csv(tmp_path / "cli/points.csv"))
    assert not (tmp_path / "py" / JOURNAL).exists()
    df = result.to_pandas()
    assert isinstance(df, pd.DataFrame) and len(df) == 24


def test_a_finished_sweep_is_not_run_again(tmp_path):
    first = dibsim.sweep(SMALL, out=tmp_path)
    again = dibsim.sweep(SMALL, out=tmp_path)
    assert (again.ran, again.already_complete) == (0, True)
    assert_frames_identical(first.runs, again.runs)


def test_sweep_with_time_series_equals_cli(cli, chunked_reference, tmp_path):
    assert chunked_reference.runs.height == total_runs(CHUNKED) == 160
    cli("sweep", CHUNKED, "--out", tmp_path, "-q")
    assert_same_sweep(chunked_reference.out, tmp_path)
    ts = read(chunked_reference.out / "timeseries.parquet")
    assert ts["run"].n_unique() == 160


def test_sweep_csv_format_equals_cli(cli, tmp_path):
    result = dibsim.sweep(SMALL, out=tmp_path / "py", format="csv")
    cli("sweep", SMALL, "--out", tmp_path / "cli", "--format", "csv", "-q")
    assert (tmp_path / "py/runs.csv").read_bytes() == (tmp_path / "cli/runs.csv").read_bytes()
    assert result.runs.height == 24


def test_sweep_one_and_two_threads_are_identical(tmp_path):
    one = dibsim.sweep(CHUNKED, out=tmp_path / "one", threads=1)
    two = dibsim.sweep(CHUNKED, out=tmp_path / "two", threads=2)
    assert_same_sweep(one.out, two.out)


def test_shards_together_are_the_whole_sweep(tmp_path):
    whole = dibsim.sweep(SMALL, out=tmp_path / "whole")
    parts = [dibsim.sweep(SMALL, out=tmp_path / f"shard{i}", shard=f"{i}/2") for i in range(2)]
    assert [p.runs.height for p in parts] == [12, 12]
    assert_frames_identical(pl.concat([p.runs for p in parts]), whole.runs)


def test_progress_callback_sees_every_chunk(tmp_path):
    calls = []
    dibsim.sweep(CHUNKED, out=tmp_path, progress=lambda done, total, failed: calls.append((done, total, failed)))
    total = total_runs(CHUNKED)
    assert calls[0] == (0, total, 0)
    assert calls[-1] == (total, total, 0)
    assert len(calls) >= 3, calls  # the start and at least two chunks
    dones = [c[0] for c in calls]
    assert dones == sorted(dones) and len(set(dones)) == len(dones), calls


def test_progress_true_prints_to_stderr(tmp_path, capfd):
    dibsim.sweep(SMALL, out=tmp_path, progress=True)
    err = capfd.readouterr().err
    assert "sweep: 24/24 runs" in err, err


# ---------------------------------------------------------------- (b) a dict


def small_as_dict() -> dict:
    spec = tomllib.loads(SMALL.read_text())
    base = Path(spec["base"])
    if not base.is_absolute():
        spec["base"] = str((SMALL.parent / base).resolve())
    return spec


def test_sweep_dict_gives_the_same_runs(tmp_path):
    from_file = dibsim.sweep(SMALL, out=tmp_path / "file")
    spec = small_as_dict()
    from_dict = dibsim.sweep(spec, out=tmp_path / "dict")
    assert_frames_identical(from_dict.runs, from_file.runs)
    assert (tmp_path / "dict/points.csv").read_bytes() == (tmp_path / "file/points.csv").read_bytes()
    assert (tmp_path / "dict/sweep.toml").is_file()
    # The same dict again: the folder is complete, nothing runs.
    again = dibsim.sweep(spec, out=tmp_path / "dict")
    assert (again.ran, again.already_complete) == (0, True)
    assert_frames_identical(again.runs, from_file.runs)


def test_sweep_dict_needs_out():
    with pytest.raises(dibsim.SweepError, match="out="):
        dibsim.sweep(small_as_dict())


def test_sweep_dict_with_a_changed_value_differs(tmp_path):
    spec = small_as_dict()
    spec["seed"] = 6
    other = dibsim.sweep(spec, out=tmp_path / "seed6")
    same = dibsim.sweep(small_as_dict(), out=tmp_path / "seed5")
    assert other.runs.height == same.runs.height
    assert not other.runs.equals(same.runs)


# ---------------------------------------------------------------- (c) interrupted


def test_a_callback_raising_keyboard_interrupt_stops_and_resume_finishes(chunked_reference, tmp_path):
    out = tmp_path / "interrupted"
    calls = []

    def stop_after_first_chunk(done, total, failed):
        calls.append((done, total, failed))
        if done > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        dibsim.sweep(CHUNKED, out=out, progress=stop_after_first_chunk)
    total = total_runs(CHUNKED)
    journal = out / JOURNAL
    assert journal.is_file(), sorted(p.name for p in out.iterdir())
    kept = complete_lines(journal) - 1  # the header
    assert 0 < kept < total, kept
    assert kept == calls[-1][0], (kept, calls)  # stopped right after that chunk
    assert not (out / "runs.parquet").exists() and not (out / "points.csv").exists()

    resumed_calls = []
    result = dibsim.sweep(CHUNKED, out=out, resume=True, progress=lambda *a: resumed_calls.append(a))
    # The missing runs, and perhaps the last kept one again: an orders
    # journal cannot tell whether its last run's rows are all there.
    assert result.ran in (total - kept, total - kept + 1), (result.ran, kept)
    assert (result.failed, result.already_complete) == (0, False)
    assert resumed_calls[0] == (total - result.ran, total, 0)
    assert resumed_calls[-1] == (total, total, 0)
    assert_frames_identical(result.runs, chunked_reference.runs)
    assert_same_sweep(out, chunked_reference.out)
    assert not journal.exists()


def test_a_callback_raising_another_error_propagates_it(chunked_reference, tmp_path):
    class Stop(Exception):
        pass

    def fail(done, total, failed):
        if done > 0:
            raise Stop(f"stopped at {done}")

    with pytest.raises(Stop, match="stopped at"):
        dibsim.sweep(CHUNKED, out=tmp_path, progress=fail)
    kept = complete_lines(tmp_path / JOURNAL) - 1
    result = dibsim.sweep(CHUNKED, out=tmp_path)
    # The missing runs, and perhaps the last kept one again: an orders
    # journal cannot tell whether its last run's rows are all there.
    assert result.ran - (total_runs(CHUNKED) - kept) in (0, 1), (result.ran, kept)
    assert_frames_identical(result.runs, chunked_reference.runs)


def start_child(code: str, out: Path, cwd: Path) -> subprocess.Popen:
    """A Python interpreter (this one, so this dibsim) running a sweep of LONG into `out`."""
    return subprocess.Popen(
        [sys.executable, "-c", code, str(LONG), str(out)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_journal_rows(child: subprocess.Popen, journal: Path, rows: int = 1, timeout: float = 60) -> None:
    """Polls until `journal` holds `rows` complete lines beyond its header."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if journal.is_file() and complete_lines(journal) >= rows + 1:
            return
        if child.poll() is not None:
            out, err = child.communicate()
            pytest.fail(f"the sweep ended (exit {child.returncode}) before its journal had a row:\n{err}")
        time.sleep(0.005)
    child.kill()
    pytest.fail(f"no row in {journal} after {timeout} s")


def test_ctrl_c_in_a_child_stops_the_sweep_and_resume_finishes(long_reference, tmp_path):
    out = tmp_path / "sigint"
    code = (
        "import sys, dibsim\n"
        "try:\n"
        "    dibsim.sweep(sys.argv[1], out=sys.argv[2])\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted')\n"
        "    sys.exit(3)\n"
    )
    child = start_child(code, out, tmp_path)
    wait_for_journal_rows(child, out / JOURNAL)
    child.send_signal(signal.SIGINT)
    try:
        stdout, stderr = child.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        child.kill()
        pytest.fail("the sweep did not stop within 30 s of Ctrl-C")
    assert child.returncode == 3, (child.returncode, stdout, stderr)
    assert stdout.strip() == "interrupted"
    total = total_runs(LONG)
    kept = complete_lines(out / JOURNAL) - 1
    assert 0 < kept < total, kept
    assert not (out / "runs.parquet").exists()
    result = dibsim.sweep(LONG, out=out, resume=True)
    # The missing runs, and perhaps the last kept one again: an orders
    # journal cannot tell whether its last run's rows are all there.
    assert result.ran in (total - kept, total - kept + 1), (result.ran, kept)
    assert_frames_identical(result.runs, long_reference.runs)
    assert_same_sweep(out, long_reference.out)


# ---------------------------------------------------------------- (d) SIGKILL


def test_a_child_killed_with_sigkill_resumes_to_the_same_output(long_reference, tmp_path):
    out = tmp_path / "killed"
    child = start_child("import sys, dibsim; dibsim.sweep(sys.argv[1], out=sys.argv[2])", out, tmp_path)
    wait_for_journal_rows(child, out / JOURNAL)
    child.kill()  # SIGKILL
    child.communicate()
    assert child.returncode == -signal.SIGKILL
    total = total_runs(LONG)
    journal = out / JOURNAL
    # Complete lines only: the kill may have torn the last one.
    kept = complete_lines(journal) - 1
    assert 0 < kept < total, f"killed after {kept} of {total} runs"
    assert not (out / "runs.parquet").exists()
    assert (out / "timeseries.partial.csv").exists()
    result = dibsim.sweep(LONG, out=out, resume=True)
    # The missing runs, and perhaps the last kept one again: an orders
    # journal cannot tell whether its last run's rows are all there.
    assert result.ran in (total - kept, total - kept + 1), (result.ran, kept)
    assert (result.failed, result.already_complete) == (0, False)
    assert result.runs.height == total
    assert_frames_identical(result.runs, long_reference.runs)
    assert_same_sweep(out, long_reference.out)
    assert not journal.exists()


# ---------------------------------------------------------------- the output folder


def test_a_refused_dict_sweep_leaves_the_folder_as_it_was(tmp_path):
    """A dict sweep into a folder holding another sweep is refused, and the
    folder still describes the sweep it holds.

    Fails with the package as it is: sweep() writes the new dict's TOML over
    out/sweep.toml before the engine refuses the folder, so the sweep file
    the manifest names (`sweep_file`) no longer describes its runs."""
    out = tmp_path / "sweep"
    dibsim.sweep(small_as_dict(), out=out)
    before = (out / "sweep.toml").read_bytes()
    other = small_as_dict()
    other["seed"] = 99
    with pytest.raises(dibsim.SweepError, match="holds another sweep"):
        dibsim.sweep(other, out=out)
    assert (out / "sweep.toml").read_bytes() == before


def test_the_default_output_folder_is_the_clis(dibsim_bin, tmp_path, monkeypatch):
    """Without out=, the folder is the CLI's default (`sweep-` and the
    slug of the sweep's `name`), so that `dibsim sweep FILE --resume` and
    dibsim.sweep(FILE) continue each other's sweeps.

    Fails with the package as it is: it uses the file's stem
    (`sweep-series` for tests/fixtures/sweeps/series.toml, whose name is
    "small-series"; the CLI writes `sweep-small_series`)."""
    series = ROOT / "tests/fixtures/sweeps/series.toml"
    (tmp_path / "py").mkdir()
    (tmp_path / "cli").mkdir()
    monkeypatch.chdir(tmp_path / "py")
    result = dibsim.sweep(series)
    subprocess.run([str(dibsim_bin), "sweep", str(series), "-q"], cwd=tmp_path / "cli", check=True, capture_output=True)
    (made,) = [p.name for p in (tmp_path / "cli").iterdir()]
    assert made == "sweep-small_series"
    assert result.out.name == made
