"""Tables out: JSON records, CSV and Parquet, written in chunks of rows, to a stream or a file.

A full sweep of a 400k-node graph is 400k rows: building its JSON as one list of dicts and one
string costs seconds and several copies of the table in memory. The writers here encode a
chunk of rows at a time, a column at a time, and write each chunk before the next:

- :func:`json_chunks` -- exactly the text of ``json.dumps(records, indent=2,
  ensure_ascii=False)`` (NaN and infinity as ``null``), in pieces;
- :func:`csv_chunks` -- RFC 4180 CSV with text cells neutralised against formula injection
  (:func:`supplygraph.io.safe_text.neutralize_frame`), header once;
- :func:`write_parquet` -- one Parquet row group per chunk, with the schema of the whole table.

:func:`save_table` writes any of them to a file atomically (a temporary file renamed over the
target, :func:`supplygraph.io.safe_text.atomic_path`): an interrupted run leaves no partial file.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CHUNK_ROWS", "csv_chunks", "json_chunks", "save_table", "write_parquet"]

#: Rows encoded and written at a time.
CHUNK_ROWS = 50_000

_encode_str = json.encoder.encode_basestring


class _UnusualCellError(Exception):
    """A column holds values the column-wise JSON encoder does not handle."""


def _json_value(value: Any) -> str:
    """One cell as ``json.dumps`` writes it after NaN/infinity become null."""
    cls = value.__class__
    if cls is str:
        return str(_encode_str(value))
    if value is None:
        return "null"
    if cls is float:
        return repr(value) if math.isfinite(value) else "null"
    if cls is bool:
        return "true" if value else "false"
    if cls is int:
        return repr(value)
    if hasattr(value, "item") and hasattr(value, "dtype"):  # a numpy scalar
        return _json_value(value.item())
    raise _UnusualCellError


def _json_column(series: pd.Series) -> list[str]:
    """A column's cells as JSON text, a column at a time for the usual dtypes."""
    import numpy as np

    kind = series.dtype.kind if isinstance(series.dtype, np.dtype) else ""
    if kind == "f":
        return _json_floats(series.to_numpy(dtype=float))
    if kind in "iu" and kind:
        return list(map(int.__repr__, series.tolist()))
    if kind == "b":
        return ["true" if v else "false" for v in series.tolist()]
    if kind == "O" or str(series.dtype) in ("str", "string"):
        values = series.tolist()
        types = set(map(type, values))
        if types <= {str}:
            distinct = dict.fromkeys(values)
            if len(distinct) * 2 >= len(values):
                return [str(s) for s in map(_encode_str, values)]
        elif types <= {str, float, type(None)} and all(
            v != v for v in values if v.__class__ is float
        ):  # text and missing cells (NaN or None): no two keys of another type compare equal
            distinct = dict.fromkeys(values)
        else:
            return list(map(_json_value, values))
        encoded = {v: _json_value(v) for v in distinct}  # few distinct cells: each encoded once
        return list(map(encoded.__getitem__, values))
    raise _UnusualCellError


def _json_floats(values: Any) -> list[str]:
    """Floats as ``repr`` writes them (``null`` for NaN and infinity).

    pyarrow formats a million floats in a few hundredths of a second, Python's ``repr`` in
    half a second. Both write the shortest digits that read back as the same float, and
    differ only in notation: Python adds ``.0`` to whole numbers, switches to exponents below
    1e-4 (pyarrow: below 1e-6) and pads exponents to two digits (``1e-07``, pyarrow
    ``1e-7``); these are rewritten here, on the magnitude ranges where they occur. Numbers with
    ``1e10 <= |x| < 1e16`` (pyarrow: exponent, Python: fixed) go through ``repr``.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    finite = np.isfinite(values)
    size = np.abs(np.where(finite, values, 0.0))
    text = pa.array(size, type=pa.float64()).cast(pa.string())  # signs added at the end
    whole = finite & (size < 1e10) & (size == np.floor(size))
    if whole.any():
        dotted = pc.binary_join_element_wise(text, pa.scalar(".0"), pa.scalar(""))
        text = pc.if_else(pa.array(whole), dotted, text)
    out = np.array(text.to_pylist(), dtype=object)

    def rewrite(mask: Any, edit: Any) -> None:
        rows = np.flatnonzero(mask)
        if len(rows):
            out[rows] = edit(text.take(pa.array(rows))).to_pylist()

    def exponent(zeros: int) -> Any:  # "0.0000dddd" -> "d.ddde-05" (zeros = 4)
        def edit(part: Any) -> Any:
            digits = pc.utf8_slice_codeunits(part, 2 + zeros)
            head = pc.utf8_slice_codeunits(digits, 0, 1)
            tail = pc.utf8_slice_codeunits(digits, 1)
            point = pc.if_else(pc.equal(tail, ""), pa.scalar(""), pa.scalar("."))
            suffix = pa.scalar(f"e-{zeros + 1:02d}")
            return pc.binary_join_element_wise(head, point, tail, suffix, pa.scalar(""))

        return edit

    def pad(part: Any) -> Any:  # "1.5e-7" -> "1.5e-07"
        for k in (7, 8, 9):
            part = pc.replace_substring(part, f"e-{k}", f"e-0{k}")
        return part

    rewrite((size >= 1e-5) & (size < 1e-4), exponent(4))
    rewrite((size >= 1e-6) & (size < 1e-5), exponent(5))
    rewrite((size >= 1e-9) & (size < 1e-6), pad)
    negative = np.flatnonzero(np.signbit(values) & finite)
    if len(negative):
        out[negative] = ["-" + t for t in out[negative].tolist()]
    for k in np.flatnonzero(~finite | ((size >= 1e10) & (size < 1e16))).tolist():
        v = float(values[k])
        out[k] = repr(v) if math.isfinite(v) else "null"
    result: list[str] = out.tolist()
    return result


def json_chunks(df: pd.DataFrame, chunk_rows: int = CHUNK_ROWS) -> Iterator[str]:
    """Yield the JSON text of ``df`` as a list of records, a chunk of rows at a time.

    Parameters
    ----------
    df
        The table (its index is not written).
    chunk_rows
        Rows per piece.

    Yields
    ------
    str
        Pieces whose concatenation equals ``json.dumps(records, indent=2,
        ensure_ascii=False) + "\\n"``, where ``records`` holds one dict per row with NaN and
        infinity as None.

    Examples
    --------
    >>> import pandas as pd
    >>> print("".join(json_chunks(pd.DataFrame({"a": [1, 2], "b": ["x", None]}))), end="")
    [
      {
        "a": 1,
        "b": "x"
      },
      {
        "a": 2,
        "b": null
      }
    ]
    """
    n = len(df)
    if n == 0:
        yield "[]\n"
        return
    keys = [str(c) for c in df.columns]
    usual = len(set(keys)) == len(keys) and bool(keys)
    template = ""
    if usual:
        heads = [f"    {_encode_str(k)}: ".replace("%", "%%") for k in keys]
        template = "  {\n" + ",\n".join(h + "%s" for h in heads) + "\n  }"
    yield "[\n"
    for start in range(0, n, chunk_rows):
        part = df.iloc[start : start + chunk_rows]
        text = None
        if usual:
            try:
                cols = [_json_column(part.iloc[:, j]) for j in range(len(keys))]
                text = ",\n".join([template % row for row in zip(*cols, strict=True)])
            except _UnusualCellError:
                text = None
        if text is None:  # unusual cells: the json module, chunk by chunk
            records = [
                {str(k): _plain(v) for k, v in row.items()} for row in part.to_dict("records")
            ]
            text = json.dumps(records, indent=2, ensure_ascii=False)[2:-2]
        yield text
        yield ",\n" if start + chunk_rows < n else "\n]\n"


def _plain(value: Any) -> Any:
    if hasattr(value, "item") and hasattr(value, "dtype"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def csv_chunks(df: pd.DataFrame, chunk_rows: int = CHUNK_ROWS) -> Iterator[str]:
    """Yield ``df`` as CSV text (header first, ``\\n`` line ends), text cells neutralised.

    Examples
    --------
    >>> import pandas as pd
    >>> print("".join(csv_chunks(pd.DataFrame({"a": ["=1+1", "x"]}))), end="")
    a
    '=1+1
    x
    """
    import io

    from supplygraph.io.safe_text import neutralize_frame

    for start in range(0, max(len(df), 1), chunk_rows):
        buf = io.StringIO()
        part = neutralize_frame(df.iloc[start : start + chunk_rows])
        part.to_csv(buf, index=False, header=start == 0, lineterminator="\n")
        yield buf.getvalue()


def write_parquet(df: pd.DataFrame, sink: Any, chunk_rows: int = CHUNK_ROWS) -> None:
    """Write ``df`` as Parquet to ``sink`` (a path or a binary stream), a row group per chunk.

    The schema is inferred once from the whole table, so a column that is empty in the first
    chunk keeps its type. The index is not written.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = df.copy(deep=False)
    frame.columns = [str(c) for c in frame.columns]
    schema = pa.Schema.from_pandas(frame, preserve_index=False)
    with pq.ParquetWriter(sink, schema) as writer:
        for start in range(0, max(len(frame), 1), chunk_rows):
            part = frame.iloc[start : start + chunk_rows]
            writer.write_table(pa.Table.from_pandas(part, schema=schema, preserve_index=False))


def write_text_chunks(chunks: Iterator[str], out: IO[str]) -> None:
    """Write text pieces to a stream as they come."""
    for piece in chunks:
        out.write(piece)


def save_table(df: pd.DataFrame, path: str | Path, fmt: str) -> Path:
    """Write ``df`` to ``path`` atomically as ``"json"``, ``"csv"`` or ``"parquet"``.

    Parameters
    ----------
    df
        The table (its index is not written).
    path
        Target file; replaced only once the whole table is written.
    fmt
        ``"json"`` (a list of records), ``"csv"`` or ``"parquet"``.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.parquet"
    >>> _ = save_table(pd.DataFrame({"node": ["a"], "loss": [0.5]}), p, "parquet")
    >>> pd.read_parquet(p).to_dict("records")
    [{'node': 'a', 'loss': 0.5}]
    """
    from supplygraph.io.safe_text import atomic_path

    target = Path(path)
    with atomic_path(target) as tmp:
        if fmt == "parquet":
            write_parquet(df, str(tmp))
        else:
            chunks = json_chunks(df) if fmt == "json" else csv_chunks(df)
            with tmp.open("w", encoding="utf-8", newline="") as fh:
                write_text_chunks(chunks, fh)
    return target
