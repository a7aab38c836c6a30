"""Write a :class:`~supplygraph.report.build.ReportData` as JSON: every table as records.

For scripts: ``report.json`` holds the title, provenance (with the date on its own line),
headline sentences, scenarios, assumptions, notes, sources and every table as a list of records
(column name -> value; NaN and infinities become ``null``). Keys keep the table's column order.

The text is exactly ``json.dumps(doc, indent=2, ensure_ascii=False)``; the tables' records are
encoded a column at a time (:func:`supplygraph.io.outputs.json_chunks`) and nested into it. A
table longer than a worksheet holds (see :func:`supplygraph.report.sheetxml.spill_long_tables`)
keeps the same first rows as its sheet, and ``table_files`` names the Parquet file with all of
them (the key is there only when a table was cut).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from supplygraph.report.build import ReportData, Table

__all__ = ["json_pieces", "render_json", "table_records", "write_json"]


def _plain(value: Any) -> Any:
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (AttributeError, ValueError):
            value = str(value)
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def table_records(t: Table) -> list[dict[str, Any]]:
    """Return a table's rows as JSON-safe records (column name -> value)."""
    cols = [str(c) for c in t.frame.columns]
    return [
        {c: _plain(v) for c, v in zip(cols, row, strict=True)}
        for row in t.frame.itertuples(index=False, name=None)
    ]


def _dumps(value: Any, level: int) -> str:
    """``json.dumps(value, indent=2)`` as it appears nested ``level`` containers deep."""
    text = json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False)
    return text.replace("\n", "\n" + "  " * level)


def _usual(t: Table) -> bool:
    """Whether every column has a dtype the column-wise encoder writes as :func:`_plain` does."""
    import numpy as np
    import pandas as pd

    names = [str(c) for c in t.frame.columns]
    if not names or len(set(names)) != len(names):
        return False
    for col in range(len(names)):
        s = t.frame.iloc[:, col]
        if isinstance(s.dtype, np.dtype) and s.dtype.kind in "fiub":
            continue
        if str(s.dtype) == "str":
            continue
        if s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):
            continue
        return False
    return True


def _records_pieces(t: Table, level: int, rows: int | None = None) -> Iterator[str]:
    """A table's records as JSON text nested ``level`` deep (``rows``: only the first ones)."""
    from supplygraph.io.outputs import json_chunks

    if rows is not None and len(t.frame) > rows:
        t = Table(key=t.key, title=t.title, frame=t.frame.head(rows))
    if not _usual(t):
        yield _dumps(table_records(t), level)
        return
    pad = "\n" + "  " * level
    pieces = json_chunks(t.frame)
    last = next(pieces)
    for piece in pieces:
        yield last.replace("\n", pad)
        last = piece
    yield last[:-1].replace("\n", pad)  # without the list's final newline


def json_pieces(data: ReportData) -> Iterator[str]:
    """Yield the text of :func:`render_json` in pieces (the tables a chunk of rows at a time)."""
    doc = {
        "title": data.title,
        "dataset": data.dataset,
        "date": data.date,
        "provenance": {k: v for k, v in data.provenance.items() if k != "date"},
        "headline": list(data.headline),
        "robustness": list(data.robustness),
        "scenarios": _plain(data.scenarios),
        "assumptions": list(data.assumptions),
        "notes": list(data.notes),
        "sources": _plain(data.sources),
        "tables": None,  # written below, a column at a time
        "table_titles": {k: t.title for k, t in data.tables.items()},
        "charts": {k: f"charts/{k}.png" for k in data.charts},
    }
    files = data.raw.get("table_files") or {}
    if files:
        doc["table_files"] = files
    yield "{\n"
    for i, (key, value) in enumerate(doc.items()):
        yield (",\n" if i else "") + f"  {_dumps(key, 0)}: "
        if key != "tables":
            yield _dumps(value, 1)
        elif not data.tables:
            yield "{}"
        else:
            for j, (k, t) in enumerate(data.tables.items()):
                yield ("," if j else "{") + f"\n    {_dumps(k, 0)}: "
                yield from _records_pieces(t, 2, files.get(k, {}).get("rows_in_report"))
            yield "\n  }"
    yield "\n}\n"


def render_json(data: ReportData) -> str:
    """Return the report as JSON text (UTF-8, 2-space indent, trailing newline).

    Examples
    --------
    >>> import pandas as pd
    >>> t = Table(key="x", title="X", frame=pd.DataFrame({"a": [1.5, float("nan")]}))
    >>> d = ReportData(title="T", dataset="d", date="2025-01-01", provenance={}, headline=[],
    ...                tables={"x": t})
    >>> json.loads(render_json(d))["tables"]["x"]
    [{'a': 1.5}, {'a': None}]
    """
    return "".join(json_pieces(data))


def write_json(data: ReportData, path: str | os.PathLike[str]) -> Path:
    """Write :func:`render_json`'s text to ``path`` atomically, a piece at a time.

    A big report's JSON (150 MB for a 100k-node graph) is never held as one string.
    """
    from supplygraph.io.safe_text import atomic_path

    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8", newline="") as fh:
        for piece in json_pieces(data):
            fh.write(piece)
    return Path(path)
