"""Shared fixtures of the dibsim package's tests.

The tests check the package against the command-line binary (same seed and
overrides, same bytes), so they need both:

- the package, installed in the interpreter running pytest (``maturin
  develop -m python/Cargo.toml``, or a wheel from ``maturin build``);
- the CLI binary: ``$DIBSIM_BIN``, else ``<root>/target/release/dibsim``;
- the ``faulty`` plugin fixture: ``$DIBSIM_FAULTY_PLUGIN``, else
  ``<root>/target/plugin-fixtures/release/libfaulty.so``.

A missing binary or plugin is built with cargo (as ``tests/plugins.rs``
builds the plugin fixtures); with both present nothing is built. The tests
do not depend on the working directory (CI runs them from /tmp).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import List, Sequence

import pytest

from helpers import ROOT

# The tests' own plugin fixtures are trusted (the CLI and the package read
# this at each load); test_plugins.py checks the refusal without it.
os.environ["DIBSIM_ALLOW_NATIVE_PLUGINS"] = "1"

try:
    import dibsim  # noqa: F401
except ImportError as e:  # pragma: no cover - a setup problem, not a test failure
    raise pytest.UsageError(
        f"cannot import the dibsim package ({e}); install it first: "
        f"pip install maturin && maturin develop --release -m {ROOT / 'python/Cargo.toml'}"
    )


def _cargo(args: Sequence[str]) -> None:
    """Runs cargo in the repository root; fails the session with its output."""
    cargo = os.environ.get("CARGO", "cargo")
    print(f"conftest: building: {cargo} {' '.join(args)}", file=sys.stderr)
    proc = subprocess.run([cargo, *args], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"`cargo {' '.join(args)}` failed:\n{proc.stderr[-4000:]}")


def _artifact(env: str, default: Path, build: List[str]) -> Path:
    """The path in $env, else `default`, built with `cargo build` if missing."""
    given = os.environ.get(env)
    if given:
        path = Path(given).resolve()
        if not path.is_file():
            raise FileNotFoundError(f"${env} = {given}: no such file")
        return path
    if not default.is_file():
        _cargo(build)
        if not default.is_file():
            raise FileNotFoundError(f"`cargo {' '.join(build)}` did not make {default}")
    return default


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def dibsim_bin() -> Path:
    return _artifact("DIBSIM_BIN", ROOT / "target/release/dibsim", ["build", "--release"])


@pytest.fixture(scope="session")
def faulty_plugin() -> Path:
    return _artifact(
        "DIBSIM_FAULTY_PLUGIN",
        ROOT / "target/plugin-fixtures/release/libfaulty.so",
        ["build", "--release", "-p", "faulty", "--target-dir", str(ROOT / "target/plugin-fixtures")],
    )


@pytest.fixture(scope="session")
def cli(dibsim_bin):
    """Runs the dibsim binary from the repository root; returns the
    CompletedProcess (text). With ok=True (the default) it must succeed."""

    def call(*args: str, ok: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [str(dibsim_bin), *map(str, args)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if ok and proc.returncode != 0:
            raise AssertionError(f"dibsim {' '.join(map(str, args))} failed ({proc.returncode}):\n{proc.stderr}")
        return proc

    return call
