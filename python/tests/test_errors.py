"""Bad input raises the package's exceptions with the CLI's message: the
file, the field and (for a parse error) the line. Cases and expected
substrings follow tests/cli_errors.rs and tests/fixtures/scenarios/."""

from __future__ import annotations

import pytest

import dibsim
from helpers import ROOT

FIX = "tests/fixtures/scenarios"
TINY = f"{FIX}/tiny.toml"


def cli_message(stderr: str) -> str:
    """The CLI's `error: X\\n  caused by: Y` as the package words it: one
    message, causes joined by `: caused by: `."""
    assert stderr.startswith("error: "), stderr
    return stderr[len("error: "):].rstrip("\n").replace("\n  caused by: ", ": caused by: ")


@pytest.fixture
def in_root(monkeypatch):
    """Relative paths (and the labels messages give them) as the CLI sees
    them when run from the repository root."""
    monkeypatch.chdir(ROOT)


def test_exception_hierarchy():
    for cls in (dibsim.ScenarioError, dibsim.PluginError, dibsim.SweepError):
        assert issubclass(cls, dibsim.DibsimError)
        assert not issubclass(dibsim.DibsimError, cls)
    assert issubclass(dibsim.DibsimError, Exception)
    assert not issubclass(dibsim.ScenarioError, dibsim.PluginError)


def test_malformed_scenario_file_names_the_file_and_line(tmp_path):
    bad = tmp_path / "broken-scenario.toml"
    bad.write_text('extends = "baseline"\ndescription = "broken"\nmonths = [\n')
    for call in (lambda: dibsim.run(bad), lambda: dibsim.validate(bad), lambda: dibsim.compare(["baseline", bad], replicates=2)):
        with pytest.raises(dibsim.ScenarioError) as e:
            call()
        msg = str(e.value)
        assert "broken-scenario.toml" in msg and str(bad) in msg, msg
        assert "line 3" in msg, msg
        assert isinstance(e.value, dibsim.DibsimError)


# (fixture, substrings the CLI's message must hold; tests/cli_errors.rs).
# The message names the fixture, unless it names another file first (an
# error in the file a fixture extends names that file).
INVALID = [
    ("bad_syntax.toml", ["line 4", "months ="]),
    ("extends_bad_parent.toml", [f"{FIX}/bad_syntax.toml", "line 4", "months ="]),
    ("unknown_field_ally.toml", ["line 7", "unknown field `favourite_colour`"]),
    ("wrong_type_top.toml", ["line 3", "months", "invalid type: string"]),
    ("negative_capacity.toml", ["field `suppliers.AlphaWorks.lines[0].capacity`", "negative"]),
    ("deny_base_high.toml", ["field `exporters.France.deny_base`", "1.5 is outside [0, 1]"]),
    ("cancel_prob_negative.toml", ["field `model.cancel_prob`", "outside [0, 1]"]),
    ("mix_sum.toml", ["field `allies.Gondor.mix`", "sum to 0.9"]),
    ("unknown_exporter_alignment.toml", ["field `allies.Gondor.alignment`", "unknown exporter `Atlantis`"]),
    ("missing_extends.toml", ["extends", "no-such-parent.toml", "no such scenario file"]),
    ("cycle_a.toml", ["`extends` cycle", f"{FIX}/cycle_b.toml"]),
]


@pytest.mark.parametrize("name,expected", INVALID, ids=[c[0] for c in INVALID])
def test_invalid_scenario_file_gives_the_cli_message(name, expected, cli, in_root):
    path = f"{FIX}/{name}"
    proc = cli("validate", path, ok=False)
    assert proc.returncode != 0
    want = cli_message(proc.stderr)
    for call in (dibsim.validate, dibsim.run):
        with pytest.raises(dibsim.ScenarioError) as e:
            call(path)
        msg = str(e.value)
        named = expected[0] if expected[0].endswith(".toml") else path
        assert named in msg, msg
        for s in expected:
            assert s in msg, (s, msg)
        assert msg == want


def test_the_message_names_an_absolute_path_as_given():
    path = ROOT / FIX / "deny_base_high.toml"
    with pytest.raises(dibsim.ScenarioError, match="1.5 is outside") as e:
        dibsim.run(path)
    assert str(e.value).startswith(f"{path}: field `exporters.France.deny_base`: ")


# (scenario, set, substrings; tests/cli_errors.rs `--set` cases)
BAD_SETS = [
    ("baseline", {"policy.no_such_field": 1}, ["field `policy.no_such_field`", "unknown field `no_such_field`"]),
    (TINY, {"model.bogus": 1}, [TINY, "field `model.bogus`", "unknown field `bogus`"]),
    (TINY, {"model.cancel_prob": 2}, [TINY, "field `model.cancel_prob`", "outside [0, 1]"]),
    ("baseline", {"exporters.France.deny_base": 1.5}, ["field `exporters.France.deny_base`", "1.5 is outside [0, 1]"]),
    (TINY, {"exporters.Atlantis.deny_base": 0.1}, [TINY, "exporters.Atlantis.deny_base", "no element named `Atlantis`"]),
    (TINY, {"months": "abc"}, [TINY, "field `months`", "invalid type: string"]),
    (TINY, {"name.x": 1}, ["--set name.x=1", "`name` is a value"]),
    (TINY, ["months"], ["--set months", "path.to.field=VALUE"]),
]


@pytest.mark.parametrize("scenario,sets,expected", BAD_SETS, ids=[str(list(c[1])[0]) for c in BAD_SETS])
def test_bad_set_gives_the_cli_message(scenario, sets, expected, cli, in_root):
    args = []
    for s in dibsim._sets(sets):
        args += ["--set", s]
    want = cli_message(cli("validate", scenario, *args, ok=False).stderr)
    for call in (
        lambda: dibsim.validate(scenario, set=sets),
        lambda: dibsim.run(scenario, set=sets),
    ):
        with pytest.raises(dibsim.ScenarioError) as e:
            call()
        msg = str(e.value)
        for s in expected:
            assert s in msg, (s, msg)
        assert msg == want


def test_months_zero():
    with pytest.raises(dibsim.ScenarioError, match="field `months`: must be at least 1"):
        dibsim.run("baseline", months=0)


def test_missing_scenario_file(tmp_path):
    missing = tmp_path / "does-not-exist.toml"
    for call in (lambda: dibsim.run(missing), lambda: dibsim.validate(missing)):
        with pytest.raises(dibsim.ScenarioError) as e:
            call()
        assert str(missing) in str(e.value) and "no such file" in str(e.value)


def test_unknown_bundled_name():
    with pytest.raises(dibsim.ScenarioError) as e:
        dibsim.run("no-such-scenario")
    msg = str(e.value)
    assert "no-such-scenario" in msg and "no bundled scenario" in msg and "baseline" in msg


def test_compare_names_the_scenario_that_lacks_an_element(in_root):
    with pytest.raises(dibsim.ScenarioError) as e:
        dibsim.compare(["baseline", TINY], replicates=2, set={"exporters.France.deny_base": 0.2})
    msg = str(e.value)
    assert TINY in msg and "no element named `France`" in msg


def test_compare_window_outside_the_scenario(in_root):
    with pytest.raises(dibsim.ScenarioError, match="outside") as e:
        dibsim.compare([TINY], replicates=2, window=(2020, 2035))
    assert TINY in str(e.value) and "2020-2035" in str(e.value)


def test_zero_threads_is_a_value_error():
    with pytest.raises(ValueError, match="at least 1"):
        dibsim.run("baseline", threads=0)


def test_a_value_that_is_no_toml_is_a_type_error():
    with pytest.raises(TypeError):
        dibsim.run("baseline", set={"policy.export_reserve": object()})


def test_after_errors_runs_still_work():
    with pytest.raises(dibsim.ScenarioError):
        dibsim.run("baseline", set={"policy.no_such_field": 1})
    assert dibsim.run("baseline", months=12).timeseries.height > 0


@pytest.mark.parametrize(
    "name,expected",
    [
        ("bad_unknown_path.toml", ["policy.approval_speed", "unknown field `approval_speed`"]),
        ("bad_zero_replicates.toml", ["replicates"]),
        ("bad_missing_base.toml", ["base"]),
    ],
)
def test_bad_sweep_files_raise_sweep_error(name, expected, cli, tmp_path, in_root):
    path = f"tests/fixtures/sweeps/{name}"
    want = cli_message(cli("sweep", path, "--out", tmp_path / "cli", "-q", ok=False).stderr)
    with pytest.raises(dibsim.SweepError) as e:
        dibsim.sweep(path, out=tmp_path / "py")
    msg = str(e.value)
    assert path in msg, msg
    for s in expected:
        assert s in msg, (s, msg)
    assert msg == want


def test_sweep_into_a_finished_folder_without_resume_is_refused(tmp_path):
    small = ROOT / "tests/fixtures/sweeps/small.toml"
    dibsim.sweep(small, out=tmp_path)
    with pytest.raises(dibsim.SweepError, match="already holds sweep output") as err:
        dibsim.sweep(small, out=tmp_path, resume=False)
    # Python's word for it, not the CLI's flag.
    assert "resume=True" in str(err.value) and "--resume" not in str(err.value)


def test_sweep_needs_a_valid_format(tmp_path):
    with pytest.raises(ValueError, match="parquet"):
        dibsim.sweep(ROOT / "tests/fixtures/sweeps/small.toml", out=tmp_path, format="xlsx")


def test_exceptions_pickle_for_process_pools():
    """A ScenarioError raised in a worker process (concurrent.futures,
    multiprocessing, EMA Workbench's MultiprocessingEvaluator) reaches the
    parent as itself, which needs it to pickle.

    Fails with the package as it is: the classes are made by pyo3's
    create_exception!(_native, ...), so their __module__ is "_native", which
    cannot be imported; pickling raises PicklingError ("import of module
    '_native' failed") and a process pool hands back that instead."""
    import pickle

    with pytest.raises(dibsim.ScenarioError) as e:
        dibsim.run("baseline", set={"policy.no_such_field": 1})
    assert dibsim.ScenarioError.__module__ in ("dibsim", "dibsim._native")
    back = pickle.loads(pickle.dumps(e.value))
    assert type(back) is dibsim.ScenarioError
    assert str(back) == str(e.value)
