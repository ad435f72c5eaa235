"""dibsim: an agent-based simulator of a defence industrial base and the world
arms export market, as a Python package.

The engine is bundled (no separate binary): ``dibsim.run`` is bit for bit the
same as ``dibsim run`` on the command line for the same scenario, seed and
overrides, and ``dibsim.compare`` gives the same table as ``compare.csv``.
Tables are polars DataFrames, handed over through the Arrow C stream
interface (no CSV round trip); ``.to_pandas()`` converts where pandas is
installed. The engine releases the interpreter's lock while it runs and uses
rayon threads (``threads=`` sets how many).

The model is ``docs/model.md`` of the repository (``dibsim.MODEL_VERSION``).
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import polars as pl

from . import _native
from ._native import (
    MODEL_VERSION,
    DibsimError,
    PluginError,
    ScenarioError,
    SweepError,
    __version__,
)

__all__ = [
    "run",
    "compare",
    "sweep",
    "validate",
    "scenarios",
    "analyze",
    "discover",
    "prim",
    "allow_native_plugins",
    "RunResult",
    "SweepResult",
    "DibsimError",
    "ScenarioError",
    "PluginError",
    "SweepError",
    "MODEL_VERSION",
    "__version__",
]

PathLike = Union[str, "os.PathLike[str]"]


def _plain(value: Any) -> Any:
    """numpy (and other) scalars as the Python value they hold."""
    if not isinstance(value, (bool, int, float, str, list, tuple, dict)) and hasattr(value, "item"):
        return value.item()
    return value


def _value_text(value: Any) -> str:
    """A Python value as the text of a ``--set path=VALUE`` override (a
    string as the bare word ``--set`` takes; anything else as TOML)."""
    value = _plain(value)
    if isinstance(value, str):
        return value
    try:
        return _toml_inline(value)
    except TypeError:
        raise TypeError(f"cannot set a scenario field to {value!r} ({type(value).__name__})") from None


def _toml_inline(value: Any) -> str:
    value = _plain(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return repr(float(value))  # np.float64 is a float whose repr is not TOML
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_inline(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_inline(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} as TOML")


def _sets(set: Optional[Union[Mapping[str, Any], Iterable[str]]]) -> List[str]:
    if set is None:
        return []
    if isinstance(set, Mapping):
        return [f"{path}={_value_text(v)}" for path, v in set.items()]
    return [str(s) for s in set]


def _plugins(plugins: Optional[Union[Mapping[str, PathLike], Iterable[str]]]) -> List[str]:
    if plugins is None:
        return []
    if isinstance(plugins, Mapping):
        return [f"{slot}={os.fspath(path)}" for slot, path in plugins.items()]
    return [str(p) for p in plugins]


def _frame(table: Any) -> pl.DataFrame:
    return pl.DataFrame(table)


class RunResult:
    """One run: ``.timeseries`` (one row per reported month and exporter, the
    columns of ``timeseries.csv``), ``.summary`` (what ``summary.json`` holds)
    and ``.orders`` (the order ledger, where the engine keeps one; else None)."""

    def __init__(self, native: Any):
        self._native = native
        self._summary: Optional[Dict[str, Any]] = None
        self._orders: Optional[pl.DataFrame] = None
        self.timeseries: pl.DataFrame = _frame(native.timeseries())

    @property
    def orders(self) -> Optional[pl.DataFrame]:
        """The order ledger (the columns of ``orders.csv``): one row per
        order, like SIPRI's trade register; built on first access."""
        if self._orders is None:
            table = self._native.orders()
            self._orders = None if table is None else _frame(table)
        return self._orders

    @property
    def summary(self) -> Dict[str, Any]:
        """What ``summary.json`` holds (built on first access: it carries the
        whole resolved scenario)."""
        if self._summary is None:
            self._summary = json.loads(self._native.summary_json())
        return self._summary

    @property
    def scenario(self) -> str:
        return self.summary["scenario"]

    @property
    def seed(self) -> int:
        return self.summary["seed"]

    def to_pandas(self):
        """The time series as a pandas DataFrame (needs pandas and pyarrow)."""
        return self.timeseries.to_pandas()

    def __repr__(self) -> str:
        return f"RunResult(scenario={self.scenario!r}, seed={self.seed}, rows={self.timeseries.height})"


def run(
    scenario: PathLike = "baseline",
    seed: int = 1,
    set: Optional[Union[Mapping[str, Any], Iterable[str]]] = None,
    months: Optional[int] = None,
    plugins: Optional[Union[Mapping[str, PathLike], Iterable[str]]] = None,
    threads: Optional[int] = None,
    out: Optional[PathLike] = None,
) -> RunResult:
    """Run one scenario once.

    ``scenario`` is a bundled name (see :func:`scenarios`) or a path to a
    scenario file; ``set`` maps field paths to values, as ``--set`` does
    (``{"policy.approval_time_factor": 0.5}``); ``plugins`` maps a slot to a
    plugin library (``{"procurement": "liblogit.so"}``), as ``--plugin`` does.
    With ``out``, the CLI's ``timeseries.csv`` and ``summary.json`` are
    written there too.
    """
    native = _native.run(
        os.fspath(scenario),
        int(seed),
        _sets(set),
        None if months is None else int(months),
        _plugins(plugins),
        threads,
        None if out is None else os.fspath(out),
    )
    return RunResult(native)


def compare(
    scenarios: Optional[Union[PathLike, Sequence[PathLike]]] = None,
    replicates: int = 20,
    seed: int = 1,
    window: Tuple[int, int] = (2026, 2035),
    set: Optional[Union[Mapping[str, Any], Iterable[str]]] = None,
    plugins: Optional[Union[Mapping[str, PathLike], Iterable[str]]] = None,
    threads: Optional[int] = None,
    out: Optional[PathLike] = None,
) -> pl.DataFrame:
    """Compare scenarios against the first (the baseline) over ``replicates``
    common seeds: the table of ``compare.csv`` (share of foreign deliveries
    over the calendar ``window``, its 95% interval, the difference from the
    baseline and its paired 95% interval). With no scenarios, every bundled
    one; a single name or path is a list of one. With ``out``, the CLI's
    compare folder is written there too (for ``dibsim report``)."""
    if scenarios is None:
        names = []
    elif isinstance(scenarios, (str, os.PathLike)):
        # A string is a sequence of letters: never what was meant.
        names = [os.fspath(scenarios)]
    else:
        names = [os.fspath(s) for s in scenarios]
    table = _native.compare(
        names,
        int(replicates),
        int(seed),
        (int(window[0]), int(window[1])),
        _sets(set),
        _plugins(plugins),
        threads,
        None if out is None else os.fspath(out),
    )
    return _frame(table)


class SweepResult:
    """A finished sweep folder: ``.runs`` (one row per run), ``.points`` (per
    point means and intervals), ``.out``, and how many runs this call ran."""

    def __init__(self, out: Path, runs_file: str, ran: int, failed: int, already_complete: bool):
        self.out = out
        self.ran = ran
        self.failed = failed
        self.already_complete = already_complete
        path = out / runs_file
        # Every row read before choosing a column's type: a float axis may
        # print its first values as whole numbers (1, then 0.5).
        self.runs = (
            pl.read_parquet(path) if runs_file.endswith(".parquet") else pl.read_csv(path, infer_schema_length=None)
        )
        self.points = pl.read_csv(out / "points.csv", infer_schema_length=None)

    def to_pandas(self):
        return self.runs.to_pandas()

    def __repr__(self) -> str:
        return f"SweepResult(out={str(self.out)!r}, runs={self.runs.height}, ran={self.ran}, failed={self.failed})"


def sweep(
    sweep: Union[PathLike, Mapping[str, Any]],
    out: Optional[PathLike] = None,
    resume: bool = True,
    shard: Optional[str] = None,
    format: str = "parquet",
    threads: Optional[int] = None,
    progress: Union[None, bool, Callable[[int, int, int], Any]] = None,
) -> SweepResult:
    """Run a parameter sweep (a sweep file, or the same table as a dict) into
    ``out`` and return its runs table.

    With ``resume`` (the default) a folder holding an interrupted sweep is
    continued: only the missing runs run. Ctrl-C (KeyboardInterrupt) stops
    the sweep after the chunk in flight; every finished run is kept.
    ``progress`` is a callable ``f(done, total, failed)`` called once at the
    start (with the runs already done) and after every chunk (raising stops
    the sweep after the chunk in flight), or True for a line on stderr.
    """
    if isinstance(sweep, Mapping):
        if out is None:
            raise SweepError("a sweep given as a dict needs out=")
        out_path = Path(out)
        out_path.mkdir(parents=True, exist_ok=True)
        table = dict(sweep)
        base = table.get("base")
        if isinstance(base, str) and Path(base).is_file():
            table["base"] = str(Path(base).resolve())
        path = out_path / "sweep.toml"
        text = _native.sweep_toml(json.dumps(table, default=_plain))
        if path.is_file() and path.read_text() != text:
            if (out_path / "manifest.json").is_file():
                raise SweepError(
                    f"{out_path} holds another sweep (its sweep.toml differs from this one); "
                    "choose another out= or remove the folder"
                )
        if not (path.is_file() and path.read_text() == text):
            path.write_text(text)
    else:
        path = Path(os.fspath(sweep))
        out_path = Path(out) if out is not None else Path(_native.sweep_default_out(str(path)))
    if progress is True:
        import sys

        def progress(done: int, total: int, failed: int) -> None:  # noqa: F811
            print(f"sweep: {done}/{total} runs" + (f", {failed} failed" if failed else ""), file=sys.stderr)

    elif progress is False:
        progress = None
    ran, failed, complete, runs_file = _native.run_sweep(
        str(path), str(out_path), bool(resume), shard, format, threads, progress
    )
    return SweepResult(out_path, runs_file, ran, failed, complete)


def validate(
    scenario: PathLike = "baseline",
    set: Optional[Union[Mapping[str, Any], Iterable[str]]] = None,
    plugins: Optional[Union[Mapping[str, PathLike], Iterable[str]]] = None,
) -> Dict[str, Any]:
    """The resolved scenario (every default filled in, ``extends`` merged and
    overrides applied) as a dict; raises ScenarioError naming the file and
    field when it is invalid."""
    return json.loads(_native.validate(os.fspath(scenario), _sets(set), _plugins(plugins)))


def scenarios() -> Dict[str, str]:
    """The bundled scenarios: name -> description."""
    return dict(_native.scenarios())


def analyze(dir: PathLike, metric: Optional[str] = None, write: bool = True) -> pl.DataFrame:
    """Sensitivity indices of a finished sweep with design "saltelli" or
    "morris" (``dibsim analyze``): one row per metric, group, parameter and
    index (S1, ST, S2 or mu, mu_star, sigma; src; the replicate-noise
    shares), with bootstrap 95% intervals. With ``write``, also writes
    ``sensitivity.csv`` in the folder. Without ``metric``, a metric that is
    undefined at some design point is left out with a ``UserWarning`` naming
    it; a named one that cannot be analysed raises."""
    rows, skipped = _native.analyze(os.fspath(dir), metric, bool(write))
    for why in skipped:
        warnings.warn(f"skipped {why}", UserWarning, stacklevel=2)
    return pl.DataFrame(
        rows,
        schema=["metric", "group", "parameter", "index", "value", "lo", "hi"],
        orient="row",
    )


def discover(
    dir: PathLike,
    metric: str,
    below: Optional[float] = None,
    above: Optional[float] = None,
    delta: bool = False,
    density: float = 0.8,
    write: bool = True,
) -> Dict[str, Any]:
    """Scenario discovery (PRIM) on a finished sweep (``dibsim discover``):
    the box of inputs where ``metric`` is below (or above) a threshold; with
    ``delta``, of each design row's difference between the second scenario
    (or lever value) and the first. Returns discovery.json's content with
    the peeling trajectory. The chosen box is the last of the trajectory
    whose density reaches ``density`` (as the EMA Workbench's ``find_box``
    leaves it), then pasted."""
    if (below is None) == (above is None):
        raise ValueError("give one of below= or above=")
    threshold = below if below is not None else above
    text = _native.discover(
        os.fspath(dir), metric, below is not None, float(threshold), bool(delta), float(density), bool(write)
    )
    return json.loads(text)


def prim(x: Any, y: Any, threshold: float = 0.8) -> Dict[str, Any]:
    """PRIM (Friedman and Fisher 1999) on any data: ``x`` rows of inputs (a
    2-D array, list of lists or DataFrame), ``y`` the cases of interest
    (booleans). Returns the peeling trajectory, the index of the chosen box
    (the last whose density reaches ``threshold``, as the EMA Workbench's
    ``find_box`` leaves it) and that box after pasting (``pasted``)."""
    if hasattr(x, "to_numpy"):
        x = x.to_numpy()
    if hasattr(y, "to_numpy"):
        y = y.to_numpy()
    rows = [[float(v) for v in row] for row in x]
    cases = [bool(v) for v in y]
    return json.loads(_native.prim(rows, cases, float(threshold)))


def allow_native_plugins(allow: bool = True) -> None:
    """Let scenario files' ``[[plugins]]`` load native libraries in this
    process. Native code runs with your rights, so by default a library a
    scenario file names is refused (``PluginError``) unless you allow it here,
    with ``DIBSIM_ALLOW_NATIVE_PLUGINS=1``, or by listing its folder in
    ``~/.config/dibsim/trusted-plugins``. Libraries passed as ``plugins=``
    are your own choice and need nothing."""
    _native.allow_native_plugins(bool(allow))
