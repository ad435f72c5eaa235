"""Helpers of the tests (imported by the test modules; python/tests is on
sys.path under pytest's default import mode)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def read_csv_like(path: Path, like: pl.DataFrame) -> pl.DataFrame:
    """A CSV the CLI wrote, read with the column types of `like` (the frame
    the package returned): no inference, so an integer-looking float column
    (`completions`) or an all-empty one stays Float64; an empty cell is null.
    The header must name the same columns in the same order."""
    header = path.read_text().split("\n", 1)[0].split(",")
    assert header == like.columns, f"{path.name} columns differ:\n{header}\n{like.columns}"
    return pl.read_csv(path, schema=like.schema)


def assert_frames_identical(got: pl.DataFrame, want: pl.DataFrame) -> None:
    """Exact equality, stricter than DataFrame.equals: the same schema, the
    same nulls, and every float the same bits (so -0.0 is not 0.0)."""
    assert got.schema == want.schema, f"schemas differ:\n{got.schema}\n{want.schema}"
    assert got.height == want.height, f"{got.height} rows vs {want.height}"
    assert got.equals(want), _first_difference(got, want)
    for name, dtype in got.schema.items():
        if dtype in (pl.Float64, pl.Float32):
            a, b = got[name], want[name]
            assert a.is_null().equals(b.is_null()), f"column {name}: nulls differ"
            bits = np.uint64 if dtype == pl.Float64 else np.uint32
            x = a.drop_nulls().to_numpy().view(bits)
            y = b.drop_nulls().to_numpy().view(bits)
            assert np.array_equal(x, y), f"column {name}: values equal but bits differ (a signed zero or NaN payload)"


def _first_difference(a: pl.DataFrame, b: pl.DataFrame) -> str:
    if a.schema != b.schema or a.height != b.height:
        return f"shape/schema differ: {a.shape} {a.schema} vs {b.shape} {b.schema}"
    for name in a.columns:
        x, y = a[name], b[name]
        same = (x == y) | (x.is_null() & y.is_null())
        bad = (~same.fill_null(False)).arg_true()
        if len(bad):
            i = bad[0]
            return f"first difference: column {name!r}, row {i}: {x[i]!r} vs {y[i]!r} ({len(bad)} rows differ)"
    return "frames differ"


def complete_lines(path: Path) -> int:
    """Lines of a journal that end in a newline (a SIGKILL can tear the last)."""
    return path.read_bytes().count(b"\n")
