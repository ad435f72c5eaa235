"""Plugins: a plugin that panics or errs mid-run raises PluginError naming
the plugin, slot and month, and never takes the interpreter down."""

from __future__ import annotations

import json

import pytest

import dibsim
from helpers import ROOT, assert_frames_identical


def faulty_scenario(tmp_path, plugin, fault, month, slots=("procurement",), months=24, name=None):
    """A scenario extending the baseline with the `faulty` fixture (see
    plugins/examples/faulty/src/lib.rs) in `slots`, syntax as tests/plugins.rs."""
    path = tmp_path / (name or f"faulty-{fault}-{month}.toml")
    path.write_text(
        'extends = "baseline"\n'
        f"months = {months}\n"
        "[[plugins]]\n"
        f"path = {json.dumps(str(plugin))}\n"
        f"slots = {json.dumps(list(slots))}\n"
        f'params = {{ fault = "{fault}", month = {month} }}\n'
    )
    return path


def test_a_panicking_procurement_plugin_raises_plugin_error(tmp_path, faulty_plugin):
    scenario = faulty_scenario(tmp_path, faulty_plugin, "panic", 3)
    with pytest.raises(dibsim.PluginError) as e:
        dibsim.run(scenario)
    msg = str(e.value)
    assert isinstance(e.value, dibsim.DibsimError)
    assert "ally procurement behaviour `faulty 0.1.0`" in msg, msg
    assert "in month 3" in msg, msg
    assert "panicked: fixture panic in procurement at month 3" in msg, msg
    assert str(scenario) in msg, msg
    # Again (the plugin is loaded once per process; its state must not be
    # poisoned), then an ordinary run, whose result is what it always is.
    with pytest.raises(dibsim.PluginError, match="panicked"):
        dibsim.run(scenario)
    after = dibsim.run("baseline", seed=2, months=24)
    fresh_equivalent = dibsim.run("baseline", seed=2, months=24, threads=1)
    assert_frames_identical(after.timeseries, fresh_equivalent.timeseries)


def test_a_panic_at_month_zero_through_plugins_and_set(faulty_plugin):
    # plugins= gives slot=path; the params come through `set`, as with
    # --plugin and --set on the command line.
    with pytest.raises(dibsim.PluginError) as e:
        dibsim.run(
            "baseline",
            months=12,
            plugins={"procurement": faulty_plugin},
            set={"plugins.0.params.fault": "panic", "plugins.0.params.month": 0},
        )
    msg = str(e.value)
    assert "faulty 0.1.0" in msg and "in month 0" in msg and "panicked" in msg, msg
    assert dibsim.run("baseline", months=12).timeseries.height > 0


def test_the_plugin_error_is_the_clis(tmp_path, faulty_plugin, cli):
    scenario = faulty_scenario(tmp_path, faulty_plugin, "panic", 2)
    proc = cli("run", scenario, ok=False)
    assert proc.returncode != 0
    want = proc.stderr[len("error: "):].rstrip("\n").replace("\n  caused by: ", ": caused by: ")
    with pytest.raises(dibsim.PluginError) as e:
        dibsim.run(scenario)
    assert str(e.value) == want


@pytest.mark.parametrize(
    "fault,slots,expected",
    [
        ("error", ["procurement"], ["ally procurement behaviour `faulty 0.1.0` failed for `", "month 3", "fixture error in procurement"]),
        ("out_of_range", ["procurement"], ["faulty 0.1.0", "failed for `", "month 3", "chose offer"]),
        ("panic", ["contractor_investment", "competitor_investment"], ["investment behaviour `faulty 0.1.0`", "panicked: fixture panic in investment"]),
        ("nan", ["contractor_investment", "competitor_investment"], ["tranche NaN", "not a finite non-negative number"]),
        ("reject", ["procurement"], ["faulty", "rejected its params", "rejected on purpose"]),
    ],
)
def test_other_faults(tmp_path, faulty_plugin, fault, slots, expected):
    scenario = faulty_scenario(tmp_path, faulty_plugin, fault, 3, slots=slots)
    with pytest.raises(dibsim.PluginError) as e:
        dibsim.run(scenario)
    for s in expected:
        assert s in str(e.value), (s, str(e.value))


def test_a_harmless_plugin_runs_and_a_missing_one_is_refused(tmp_path, faulty_plugin):
    # fault = "none": the plugin chooses the first offer; the run completes
    # and differs from the built-in behaviour.
    scenario = faulty_scenario(tmp_path, faulty_plugin, "none", 0)
    with_plugin = dibsim.run(scenario, seed=1)
    builtin = dibsim.run("baseline", seed=1, months=24)
    assert with_plugin.timeseries.shape == builtin.timeseries.shape
    assert not with_plugin.timeseries.equals(builtin.timeseries)
    with pytest.raises(dibsim.PluginError, match="no such file"):
        dibsim.run("baseline", plugins={"procurement": tmp_path / "libnowhere.so"})
    with pytest.raises(dibsim.PluginError, match="not a loadable shared library"):
        dibsim.run("baseline", plugins={"procurement": ROOT / "tests/fixtures/plugins/not_a_library.so"})


def test_a_panicking_plugin_in_a_compare(tmp_path, faulty_plugin):
    scenario = faulty_scenario(tmp_path, faulty_plugin, "panic", 3, months=192)
    with pytest.raises(dibsim.PluginError, match="panicked"):
        dibsim.compare(["baseline", scenario], replicates=2)
    assert dibsim.compare(["baseline", "faster-approvals"], replicates=2).height > 0


def test_a_scenario_files_native_plugin_needs_consent(tmp_path, faulty_plugin, monkeypatch):
    """A library a scenario file names is refused, naming the file and the
    library, until the user allows native plugins; plugins= is allowed."""
    # A copy of its own: a library passed as plugins= earlier in this process
    # stays allowed for the process.
    import shutil

    shared = tmp_path / "libs" / "libshared.so"
    shared.parent.mkdir()
    shutil.copy(faulty_plugin, shared)
    faulty_plugin = shared
    scenario = faulty_scenario(tmp_path, faulty_plugin, "none", 0, months=12, name="shared.toml")
    monkeypatch.delenv("DIBSIM_ALLOW_NATIVE_PLUGINS")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-config"))
    with pytest.raises(dibsim.PluginError) as err:
        dibsim.run(scenario)
    message = str(err.value)
    assert str(scenario) in message and str(faulty_plugin) in message
    assert "allow" in message
    # validate loads nothing.
    assert dibsim.validate(scenario)["plugins"][0]["path"] == str(faulty_plugin)
    # The library named by the caller is the caller's choice.
    dibsim.run("baseline", months=12, plugins={"procurement": faulty_plugin})
    dibsim.allow_native_plugins(True)
    try:
        dibsim.run(scenario)
    finally:
        dibsim.allow_native_plugins(False)
