"""Worksheet data rows as XML, built a column at a time, spliced into a workbook openpyxl wrote.

openpyxl spends about 16 µs per cell (its cell objects, then its serialiser): the report of a
100k-node graph holds about 4.4 million cells, over a minute. The report's workbook is therefore
written in two steps:

1. openpyxl writes everything but the tables' data rows -- the Summary sheet, every header row,
   styles, frozen panes, autofilters, colour scales, column widths and the chart -- and one row
   of template cells per table, whose style ids (one per number format) are read back
   (:func:`style_ids`);
2. :func:`splice` copies that workbook into the target and replaces each table sheet's rows after
   the header with rows built here (:func:`rows_xml`): each column becomes an array of ``<c>``
   elements with :mod:`pyarrow.compute` string kernels, the columns are joined into ``<row>``
   elements, and the rows are streamed into the sheet's zip entry, a chunk of rows at a time.

The cells are the ones :func:`supplygraph.report.xlsx._put` writes one at a time:

- numbers (``int``, ``float``) as numbers, with the number format of the column's display kind
  (``0.0%`` for shares, ``#,##0`` for counts, ``#,##0.###`` for quantities, ``#,##0`` for
  quantities of 100 or more); floats in the shortest text that reads back as the same float,
  integers with all their digits;
- booleans as booleans (``t="b"``);
- missing cells (None, NaN, pandas NA) as the text ``n/a`` in computed sheets and as blank cells
  in input sheets; an infinite number as ``n/a`` in both;
- everything else as an inline string (``t="inlineStr"``), never a formula or an error value:
  text that starts like a formula (``=``, ``+``, ``-``, ``@``, tab, CR, LF) gets a leading
  apostrophe (:func:`supplygraph.io.safe_text.neutralize_text`), text longer than a cell holds is
  cut to 32,767 characters ending in ``…``, and ``&``, ``<``, ``>`` and carriage returns are
  written as XML references. Text holding a control character that XML 1.0 cannot carry raises
  :class:`~supplygraph.errors.SupplyGraphError` naming the sheet, row and column.

A sheet holds at most 1,048,576 rows (:data:`MAX_SHEET_ROWS`); :func:`spill_long_tables` writes
a longer table to ``tables/KEY.parquet`` beside the report, and the sheet keeps the first rows
and a last row saying where the rest is.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supplygraph.errors import SupplyGraphError
from supplygraph.io.safe_text import FORMULA_PREFIXES

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from supplygraph.report.build import ReportData

__all__ = [
    "MAX_CELL_CHARS",
    "MAX_SHEET_ROWS",
    "MISSING",
    "NUMBER_FORMATS",
    "SheetRows",
    "column_bodies",
    "formats_of",
    "number_format",
    "rows_xml",
    "spill_long_tables",
    "splice",
]

#: Rows in one worksheet (Excel's limit), the header row included.
MAX_SHEET_ROWS = 1_048_576
#: Characters in one cell (Excel's limit).
MAX_CELL_CHARS = 32_767
#: What a missing value reads as in a computed sheet.
MISSING = "n/a"
#: Number formats per display kind; other kinds get :data:`DEFAULT_FORMAT`.
NUMBER_FORMATS = {"pct": "0.0%", "int": "#,##0", "num": "#,##0.###", "bool": "General"}
DEFAULT_FORMAT = "#,##0.###"
#: A ``num`` cell of at least this magnitude is shown without decimals.
WHOLE_FROM = 100.0
#: Rows built and written at a time.
CHUNK_ROWS = 50_000
#: zlib level of the rewritten worksheets (1: fastest; the XML still shrinks about tenfold).
DEFLATE_LEVEL = 1

#: Characters XML 1.0 cannot carry (openpyxl refuses the C0 ones too), and lone surrogates.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_ILLEGAL_RE2 = r"[\x{0}-\x{8}\x{b}\x{c}\x{e}-\x{1f}\x{fffe}\x{ffff}]"
#: Text starting with one of :data:`~supplygraph.io.safe_text.FORMULA_PREFIXES` (RE2 syntax).
_FORMULA_RE2 = (
    "^(?:" + "|".join("".join(f"\\x{{{ord(c):x}}}" for c in p) for p in FORMULA_PREFIXES) + ")"
)


def number_format(kind: str, value: float) -> str:
    """Return the number format of a number cell of display kind ``kind``.

    Examples
    --------
    >>> number_format("pct", 0.5), number_format("num", 2.5), number_format("num", 250.0)
    ('0.0%', '#,##0.###', '#,##0')
    >>> number_format("text", 2024)
    '#,##0.###'
    """
    if kind == "num" and abs(value) >= WHOLE_FROM:
        return NUMBER_FORMATS["int"]
    return NUMBER_FORMATS.get(kind, DEFAULT_FORMAT)


def formats_of(kinds: list[str]) -> list[str]:
    """Every number format a column of each kind may need, each once, in first-use order."""
    out: dict[str, None] = {}
    for kind in kinds:
        out[number_format(kind, 0.0)] = None
        if kind == "num":
            out[number_format(kind, WHOLE_FROM)] = None
    return list(out)


@dataclass
class SheetRows:
    """The data rows of one table sheet, waiting to be spliced in.

    Attributes
    ----------
    sheet
        The sheet's title (for error messages and to find its zip entry).
    frame
        The rows to write, in order (already cut to what the sheet holds).
    kinds
        Display kind per column (``pct``, ``int``, ``num``, ``bool``, ``text`` ...).
    styles
        Style id per number format, as openpyxl registered them.
    blank_missing
        Missing values as blank cells (input sheets) instead of ``n/a``.
    first_row
        Worksheet row of the first data row (1-based).
    note
        Text for one more row after the data (where the rest of a long table is), or ``""``.
    """

    sheet: str
    frame: pd.DataFrame
    kinds: list[str]
    styles: dict[str, int]
    blank_missing: bool = False
    first_row: int = 2
    note: str = ""

    @property
    def last_row(self) -> int:
        """The last worksheet row written (the note row when there is one)."""
        return self.first_row + len(self.frame) - 1 + (1 if self.note else 0)


# ------------------------------------------------------------------------------ one column


def _letters(col: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(col))


def _s(value: str) -> pa.Scalar:
    import pyarrow as pa

    return pa.scalar(value, type=pa.large_string())


def _join(*parts: Any) -> pa.Array:
    """Concatenate string arrays and scalars element-wise (null where any part is null)."""
    import pyarrow.compute as pc

    return pc.binary_join_element_wise(*parts, _s(""))


def _text_cells(text: pa.Array, where: tuple[str, str, int]) -> pa.Array:
    """Inline-string cell bodies for non-null text (null stays null).

    Raises
    ------
    SupplyGraphError
        A text holds a character XML cannot carry; ``where`` is (sheet, column header, row of
        the first cell).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    bad = pc.fill_null(pc.match_substring_regex(text, _ILLEGAL_RE2), False)
    if pc.any(bad).as_py():
        k = int(pc.index(bad, True).as_py())
        _illegal(str(text[k].as_py()), where[0], where[1], where[2] + k)
    formula = pc.fill_null(pc.match_substring_regex(text, _FORMULA_RE2), False)
    if pc.any(formula).as_py():
        text = pc.if_else(formula, _join(_s("'"), text), text)
    long = pc.fill_null(pc.greater(pc.utf8_length(text), MAX_CELL_CHARS), False)
    if pc.any(long).as_py():
        cut = _join(pc.utf8_slice_codeunits(text, 0, MAX_CELL_CHARS - 1), _s("…"))
        text = pc.if_else(long, cut, text)
    for char, ref in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;")):
        has = pc.fill_null(pc.match_substring(text, char), False)
        if pc.any(has).as_py():
            text = pc.replace_substring(text, char, ref)
    text = text.cast(pa.large_string())
    return _join(_s(' t="inlineStr"><is><t xml:space="preserve">'), text, _s("</t></is></c>"))


def _illegal(text: str, sheet: str, header: str, row: int) -> None:
    from supplygraph.errors import format_location

    m = _ILLEGAL.search(text)
    char = repr(m.group(0)) if m else "a character"
    where = format_location(sheet=sheet, row=row, column=header)
    msg = f"report.xlsx, {where}: text holds the control character {char}, which .xlsx cannot store"
    raise SupplyGraphError(msg)


def _missing_body(n: int, blank: bool) -> pa.Array:
    """``n`` bodies of a missing cell: ``n/a`` text, or null (no cell) when ``blank``."""
    import pyarrow as pa

    if blank:
        return pa.nulls(n, type=pa.large_string())
    body = f' t="inlineStr"><is><t xml:space="preserve">{MISSING}</t></is></c>'
    return pa.repeat(_s(body), n)


def _number_bodies(values: Any, kind: str, styles: Mapping[str, int], blank: bool) -> pa.Array:
    """Cell bodies for a numpy column of numbers (missing and infinite cells handled)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(values)
    x = values.astype(np.float64, copy=False)
    finite = np.isfinite(x)
    if values.dtype.kind == "f":
        digits = pa.array(np.where(finite, x, 0.0), type=pa.float64()).cast(pa.large_string())
    else:  # integers keep all their digits
        digits = pa.array(values).cast(pa.large_string())
    small = styles[number_format(kind, 0.0)]
    big = styles[number_format(kind, WHOLE_FROM)]
    if small == big:
        style = _s(f' s="{small}"><v>')
    else:
        style = pc.if_else(
            pa.array(np.abs(np.where(finite, x, 0.0)) >= WHOLE_FROM),
            _s(f' s="{big}"><v>'),
            _s(f' s="{small}"><v>'),
        )
    bodies = _join(style, digits, _s("</v></c>"))
    if finite.all():
        return bodies
    nan = np.isnan(x)
    missing = _missing_body(n, blank)
    infinite = _missing_body(n, False)
    out = pc.if_else(pa.array(nan), missing, bodies)
    return pc.if_else(pa.array(~finite & ~nan), infinite, out)


def _text_array(series: pd.Series) -> pa.Array | None:
    """The column as a pyarrow string array (nulls for missing), or None if it is not text."""
    import pandas as pd
    import pyarrow as pa

    dtype = series.dtype
    if str(dtype) not in ("str", "object"):
        return None
    if str(dtype) == "object" and pd.api.types.infer_dtype(series, skipna=True) not in (
        "string",
        "empty",
    ):
        return None
    try:
        arr = pa.array(series, type=pa.large_string(), from_pandas=True)
    except (pa.ArrowException, UnicodeError, TypeError, ValueError):
        return None  # lone surrogates and the like: the cell-by-cell path names the cell
    return arr


def _python_bodies(
    values: list[Any], kind: str, styles: Mapping[str, int], blank: bool, where: tuple
) -> pa.Array:
    """Cell bodies for a column of mixed Python values, one cell at a time."""
    import math

    import pyarrow as pa

    from supplygraph.io.safe_text import neutralize_text

    out: list[str | None] = []
    missing = _missing_body(1, blank)[0].as_py()
    for k, value in enumerate(values):
        if hasattr(value, "item") and not isinstance(value, (str, bytes)):
            try:
                value = value.item()
            except (AttributeError, ValueError):
                value = str(value)
        if _is_missing(value):
            out.append(missing)
        elif isinstance(value, bool):
            out.append(f' t="b"><v>{int(value)}</v></c>')
        elif isinstance(value, (int, float)):
            x = float(value)
            if not math.isfinite(x):
                out.append(_missing_body(1, False)[0].as_py())
                continue
            text = repr(value) if isinstance(value, float) else str(int(value))
            out.append(f' s="{styles[number_format(kind, x)]}"><v>{text}</v></c>')
        else:
            if isinstance(value, (list, tuple)):
                value = ", ".join(str(v) for v in value)
            text = str(value)
            if _ILLEGAL.search(text):
                _illegal(text, where[0], where[1], where[2] + k)
            text = neutralize_text(text)
            if len(text) > MAX_CELL_CHARS:
                text = text[: MAX_CELL_CHARS - 1] + "…"
            out.append(_escaped_body(text))
    return pa.array(out, type=pa.large_string())


def _escaped_body(text: str) -> str:
    from xml.sax.saxutils import escape

    body = escape(text, {"\r": "&#13;"})
    return f' t="inlineStr"><is><t xml:space="preserve">{body}</t></is></c>'


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return value != value
    if isinstance(value, (list, tuple, dict, str, bytes)):
        return False
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def column_bodies(
    series: pd.Series,
    kind: str,
    styles: Mapping[str, int],
    *,
    blank_missing: bool,
    where: tuple[str, str, int],
) -> pa.Array:
    """Return each cell of ``series`` as the part of its ``<c>`` element after ``r="..."``.

    Null entries are cells not written (blank). ``where`` is (sheet, header, first row) for
    error messages.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    dtype = series.dtype
    n = len(series)
    if isinstance(dtype, np.dtype) and dtype.kind in "iuf":
        return _number_bodies(series.to_numpy(), kind, styles, blank_missing)
    if isinstance(dtype, np.dtype) and dtype.kind == "b":
        flags = pa.array(series.to_numpy())
        return pc.if_else(flags, _s(' t="b"><v>1</v></c>'), _s(' t="b"><v>0</v></c>'))
    text = _text_array(series)
    if text is not None:
        bodies = _text_cells(text, where)
        if text.null_count:
            bodies = pc.if_else(pc.is_null(text), _missing_body(n, blank_missing), bodies)
        return bodies
    return _python_bodies(series.tolist(), kind, styles, blank_missing, where)


# ------------------------------------------------------------------------------ rows


def rows_xml(rows: SheetRows, chunk_rows: int = CHUNK_ROWS) -> Iterator[bytes | memoryview]:
    """Yield the ``<row>`` elements of ``rows`` as UTF-8 XML, a chunk of rows at a time."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    frame = rows.frame
    headers = [str(c) for c in frame.columns]
    letters = [_letters(j) for j in range(1, len(headers) + 1)]
    n = len(frame)
    for start in range(0, n, chunk_rows):
        part = frame.iloc[start : start + chunk_rows]
        first = rows.first_row + start
        numbers = pa.array(np.arange(first, first + len(part)).astype(str), pa.large_string())
        cells = []
        for j, letter in enumerate(letters):
            where = (rows.sheet, headers[j], first)
            body = column_bodies(
                part.iloc[:, j],
                rows.kinds[j],
                rows.styles,
                blank_missing=rows.blank_missing,
                where=where,
            )
            cell = _join(_s(f'<c r="{letter}'), numbers, _s('"'), body)
            cells.append(pc.fill_null(cell, _s("")))
        joined = _join(_s('<row r="'), numbers, _s('">'), *cells, _s("</row>"))
        yield _data(joined)
    if rows.note:
        row = rows.last_row
        yield f'<row r="{row}"><c r="A{row}"{_escaped_body(rows.note)}</row>'.encode()


def _data(arr: pa.Array) -> memoryview:
    """The concatenated bytes of a string array's values (no copy)."""
    import numpy as np
    import pyarrow as pa

    if isinstance(arr, pa.ChunkedArray):
        arr = pa.concat_arrays(arr.chunks)
    _, offsets, data = arr.buffers()
    width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    off = np.frombuffer(offsets, dtype=width)[arr.offset : arr.offset + len(arr) + 1]
    if data is None:
        return memoryview(b"")
    return memoryview(data)[int(off[0]) : int(off[-1])]


# ------------------------------------------------------------------------------ the zip


def _sheet_entries(z: zipfile.ZipFile) -> dict[str, str]:
    """Map sheet titles to their zip entry names (from the workbook and its relationships)."""
    from xml.etree import ElementTree as ET

    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    rel = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
    pkg = "{http://schemas.openxmlformats.org/package/2006/relationships}"
    wb = ET.fromstring(z.read("xl/workbook.xml"))  # openpyxl's own output
    rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    target = {r.get("Id"): str(r.get("Target")) for r in rels.iter(f"{pkg}Relationship")}
    out = {}
    for sheet in wb.iter(f"{main}sheet"):
        path = target[sheet.get(f"{rel}id")]
        path = path.lstrip("/") if path.startswith("/") else f"xl/{path}"
        out[str(sheet.get("name"))] = path
    return out


_DIMENSION = re.compile(rb'<dimension ref="[^"]*"\s*/>')


def _split_sheet(xml: bytes, rows: SheetRows, last_col: str) -> tuple[bytes, bytes]:
    """The sheet's XML before and after the data rows (template rows dropped)."""
    start = xml.index(b"<sheetData>")
    end = xml.index(b"</sheetData>")
    header_end = xml.find(b"</row>", start, end)
    keep = header_end + len(b"</row>") if header_end >= 0 else start + len(b"<sheetData>")
    ref = f'<dimension ref="A1:{last_col}{max(rows.last_row, 1)}"/>'.encode()
    head = _DIMENSION.sub(ref, xml[:keep], count=1)
    return head, xml[end:]


def splice(
    skeleton: bytes,
    target: Path,
    sheets: Mapping[str, SheetRows],
    *,
    level: int = DEFLATE_LEVEL,
) -> None:
    """Write the workbook ``skeleton`` (xlsx bytes) to ``target`` with the data rows spliced in.

    Parameters
    ----------
    skeleton
        The workbook as openpyxl saved it: each sheet in ``sheets`` holds its header in row 1
        (and template cells after it, which are dropped).
    target
        The file to write (a temporary file: the caller renames it into place).
    sheets
        The rows per sheet title.
    level
        zlib compression level of the rewritten sheets.
    """
    with (
        zipfile.ZipFile(io.BytesIO(skeleton)) as src,
        zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as dst,
    ):
        entries = _sheet_entries(src)
        by_entry = {entries[title]: rows for title, rows in sheets.items()}
        for info in src.infolist():
            data = src.read(info.filename)
            rows = by_entry.get(info.filename)
            if rows is None:
                dst.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)
                continue
            last_col = _letters(max(len(rows.frame.columns), 1))
            head, tail = _split_sheet(data, rows, last_col)
            out = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            out.compress_type = zipfile.ZIP_DEFLATED
            if hasattr(out, "compress_level"):  # Python >= 3.13
                out.compress_level = level
            else:
                out._compresslevel = level  # type: ignore[attr-defined]
            with dst.open(out, "w", force_zip64=True) as fh:
                fh.write(head)
                _write_overlapped(fh, rows_xml(rows))
                fh.write(tail)


def _write_overlapped(fh: Any, pieces: Iterator[bytes | memoryview]) -> None:
    """Write ``pieces`` to ``fh``, compressing one chunk in a thread while the next is built.

    zlib and the pyarrow kernels release the GIL, so on two cores the deflate time (about a
    third of the workbook's) hides behind building the rows.
    """
    from concurrent.futures import Future, ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sheetxml") as pool:
        pending: Future[Any] | None = None
        for piece in pieces:
            if pending is not None:
                pending.result()
            pending = pool.submit(fh.write, piece)
        if pending is not None:
            pending.result()


# ------------------------------------------------------------------------------ long tables


def _parquet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with each column of mixed Python values (``1`` and ``"a"``) as text.

    Parquet columns have one type; text is what the workbook shows for such a column.
    """
    import pandas as pd

    out = frame
    for j in range(frame.shape[1]):
        col = frame.iloc[:, j]
        if col.dtype != object or pd.api.types.infer_dtype(col, skipna=True) in (
            "string",
            "empty",
            "integer",
            "floating",
            "boolean",
        ):
            continue
        if out is frame:
            out = frame.copy()
        out.isetitem(j, col.map(lambda v: None if _is_missing(v) else str(v)))
    return out


def spill_long_tables(
    data: ReportData, out_dir: str | Path, max_rows: int = MAX_SHEET_ROWS
) -> dict[str, Path]:
    """Write every table too long for one sheet to ``out_dir/tables/KEY.parquet``.

    The workbook's sheet then keeps the first ``max_rows - 2`` data rows and a last row naming
    the file, and ``report.json`` holds the same first rows and the file's name under
    ``table_files``. A sentence in ``data.notes`` says so.

    Parameters
    ----------
    data
        The report data; ``data.raw["table_files"]`` and ``data.notes`` are updated.
    out_dir
        The report folder.
    max_rows
        Rows a sheet holds, the header included.

    Returns
    -------
    dict[str, pathlib.Path]
        Written files by their path relative to ``out_dir``.
    """
    from supplygraph.io.outputs import save_table

    files: dict[str, Any] = {}
    written: dict[str, Path] = {}
    for key, t in data.tables.items():
        n = len(t.frame)
        if t.sheet is None or n <= max_rows - 1:
            continue
        rel = f"tables/{key}.parquet"
        written[rel] = save_table(_parquet_safe(t.frame), Path(out_dir) / rel, "parquet")
        files[key] = {"path": rel, "rows": n, "rows_in_report": max_rows - 2}
        data.notes.append(
            f"The {t.title} table has {n:,} rows, more than a spreadsheet sheet holds: its "
            f"sheet and report.json keep the first {max_rows - 2:,}, and {rel} holds all of them."
        )
    data.raw["table_files"] = files
    data.raw["max_sheet_rows"] = max_rows
    return written
