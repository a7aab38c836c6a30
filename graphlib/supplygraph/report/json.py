"""Write a :class:`~supplygraph.report.build.ReportData` as JSON: every table as records.

For scripts: ``report.json`` holds the title, provenance (with the date on its own line),
headline sentences, scenarios, assumptions, notes, sources and every table as a list of records
(column name -> value; NaN and infinities become ``null``). Keys keep the table's column order.
"""

from __future__ import annotations

import json
import math
from typing import Any

from supplygraph.report.build import ReportData, Table

__all__ = ["render_json", "table_records"]


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
        "tables": {k: table_records(t) for k, t in data.tables.items()},
        "table_titles": {k: t.title for k, t in data.tables.items()},
        "charts": {k: f"charts/{k}.png" for k in data.charts},
    }
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
