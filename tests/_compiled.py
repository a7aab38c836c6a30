"""Field-by-field comparison of two compiled graphs (shared by the load-path and Parquet tests)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np


def compiled_fields(cg: Any) -> dict[str, Any]:
    """The public fields of a :class:`supplygraph.compiled.CompiledGraph`."""
    return {
        f.name: getattr(cg, f.name) for f in dataclasses.fields(cg) if not f.name.startswith("_")
    }


def assert_same_compiled(a: Any, b: Any) -> None:
    """Every public field equal: arrays of the same dtype and values (NaN equal to NaN)."""
    fa, fb = compiled_fields(a), compiled_fields(b)
    assert fa.keys() == fb.keys()
    for name, x in fa.items():
        y = fb[name]
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype, name
            assert np.array_equal(x, y, equal_nan=True), name
        else:
            assert x == y, name
