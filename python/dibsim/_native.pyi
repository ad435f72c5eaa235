"""Type stubs of dibsim's native module (the engine). Use the functions of
the ``dibsim`` package; these are its plumbing."""

from typing import Any, Callable, List, Optional, Tuple

__version__: str
MODEL_VERSION: str

class DibsimError(Exception): ...
class ScenarioError(DibsimError): ...
class PluginError(DibsimError): ...
class SweepError(DibsimError): ...

class ArrowTable:
    """One record batch, importable once through ``__arrow_c_stream__``."""

    def __arrow_c_stream__(self, requested_schema: Optional[Any] = None) -> Any: ...
    def __len__(self) -> int: ...

class NativeRun:
    def timeseries(self) -> ArrowTable: ...
    def orders(self) -> Optional[ArrowTable]: ...
    def summary_json(self) -> str: ...

def run(
    scenario: str,
    seed: int,
    sets: List[str],
    months: Optional[int],
    plugins: List[str],
    threads: Optional[int],
    out: Optional[str],
) -> NativeRun: ...
def compare(
    scenarios: List[str],
    replicates: int,
    seed: int,
    window: Tuple[int, int],
    sets: List[str],
    plugins: List[str],
    threads: Optional[int],
    out: Optional[str],
) -> ArrowTable: ...
def validate(scenario: str, sets: List[str], plugins: List[str]) -> str: ...
def scenarios() -> List[Tuple[str, str]]: ...
def run_sweep(
    path: str,
    out: str,
    resume: bool,
    shard: Optional[str],
    format: str,
    threads: Optional[int],
    progress: Optional[Callable[[int, int, int], Any]],
) -> Tuple[int, int, bool, str]: ...
def sweep_toml(json: str) -> str: ...
def sweep_default_out(path: str) -> str: ...
