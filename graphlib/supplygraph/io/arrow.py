"""Parquet, Feather / Arrow IPC and plain CSV files read as Arrow tables, converted column-wise.

Big supplier maps live in columnar files. This module reads them with :mod:`pyarrow` and turns
each table into the same schema-named frame the spreadsheet readers produce
(:mod:`supplygraph.io.frames`), with the same header aliases, the same cell rules and the same
problems, but a column at a time: a clean column of a million cells costs a few vectorised
passes, and only the cells that need a check (blank-padded text, a leading apostrophe or
``=``, control characters, NaN, text in a number column ...) go through the cell-by-cell rules
of :class:`~supplygraph.io.cells._Cell`.

Files
-----
- ``.parquet`` / ``.pq`` -- Apache Parquet;
- ``.feather`` / ``.arrow`` / ``.ipc`` -- Arrow IPC files (Feather v2; Feather v1 too);
- ``.arrows`` -- an Arrow IPC stream;
- ``.csv`` / ``.tsv`` / ``.txt`` -- read here when the file is plain (no quote characters, the
  header on the first line, every row as wide as the header, ``\\n`` or ``\\r\\n`` line ends);
  any other CSV file goes to the text reader (:mod:`supplygraph.io.csv_text`), which handles
  quotes, title rows and ragged rows. Both give the same tables; every CSV cell stays text.

Rows and types
--------------
A Parquet/Arrow file has no header row: ``row N`` in a problem is the N-th record (1-based). In
a CSV file the header is row 1, as a spreadsheet shows it. A number column may be any integer
or floating-point type, or text holding numbers (read by the spreadsheet rules); a column of
another type (boolean, date, binary, nested) in a number or text column is one error naming
the file, the column, its type and the first row. Nulls are empty cells; NaN and infinity are
not numbers. Integer ids are read as text (``123`` -> ``"123"``), as a CSV file would give them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supplygraph.errors import InputError, Problem
from supplygraph.io.cells import _EXACT_INT, _MAX_TEXT, _Cell, _ColumnReader
from supplygraph.io.headers import (
    _REQUIRED_HINT,
    NUMERIC_COLUMNS,
    SHARE_LIKE,
    _classify_headers,
    _header_ok,
    normalize_header,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

__all__ = ["ARROW_SUFFIXES", "TABLE_SUFFIXES", "ArrowTable", "read_arrow_file", "read_plain_csv"]

#: File suffix -> Arrow format.
ARROW_SUFFIXES: dict[str, str] = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".feather": "ipc",
    ".arrow": "ipc",
    ".ipc": "ipc",
    ".arrows": "stream",
}
#: Every suffix a folder of tables may hold.
TABLE_SUFFIXES: tuple[str, ...] = (".csv", ".tsv", ".txt", *ARROW_SUFFIXES)

_FORMAT_NAMES = {"parquet": "Parquet", "ipc": "Arrow/Feather", "stream": "Arrow IPC stream"}

#: Private switches: False sends every Arrow column through the cell-by-cell reader (the
#: reference the column-wise conversion is tested against) / every CSV file to the text reader.
_FAST = True
_CSV_FAST = True

# first and last bytes of a UTF-8 cell that may need the cell rules: ASCII whitespace (as
# str.strip() sees it), "'" and "=" first, and the lead / final bytes of the non-ASCII
# characters str.strip() removes (U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029,
# U+202F, U+205F, U+3000). A superset: the cells it picks are checked exactly in Python.
_ASCII_WS = [*range(0x09, 0x0E), *range(0x1C, 0x21)]
_FIRST_BYTES = [*_ASCII_WS, ord("'"), ord("="), 0xC2, 0xE1, 0xE2, 0xE3]
_LAST_BYTES = [*_ASCII_WS, *range(0x80, 0x8B), 0x9F, 0xA0, 0xA8, 0xA9, 0xAF]
_CONTROL_BYTES = [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)]
_NUMBER_BYTES = b"0123456789.eE+-"


def _byte_table(values: Any) -> np.ndarray:
    import numpy as np

    table = np.zeros(256, dtype=bool)
    table[list(values)] = True
    return table


# ------------------------------------------------------------------------------ reading


def _signature_problem(path: Path, fmt: str) -> str | None:
    """Why the file cannot be of format ``fmt``, judged from its first and last bytes."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(8)
        fh.seek(max(0, size - 8))
        tail = fh.read(8)
    if size == 0:
        return "file is empty"
    what = _sniff(head)
    if fmt == "parquet":
        if head[:4] != b"PAR1":
            return f"not a Parquet file{what} (Parquet files start with 'PAR1')"
        if tail[-4:] != b"PAR1":
            return "truncated Parquet file: its footer is missing (the file was cut short)"
    elif fmt == "ipc":
        if head[:6] != b"ARROW1" and head[:4] != b"FEA1":
            return f"not an Arrow/Feather file{what} (Arrow files start with 'ARROW1')"
        if head[:6] == b"ARROW1" and tail[-6:] != b"ARROW1":
            return "truncated Arrow/Feather file: its footer is missing (the file was cut short)"
    return None


def _sniff(head: bytes) -> str:
    if head[:4] == b"PK\x03\x04":
        return " (it is a ZIP archive, e.g. an .xlsx workbook)"
    if head[:4] == b"PAR1":
        return " (it is a Parquet file; name it .parquet)"
    if head[:6] == b"ARROW1":
        return " (it is an Arrow IPC file; name it .arrow or .feather)"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return ""
    return " (it looks like text, e.g. CSV; name it .csv)"


def read_arrow_file(path: Path) -> pa.Table:
    """Read a Parquet, Feather/Arrow IPC file or Arrow IPC stream into an Arrow table.

    Parameters
    ----------
    path
        The file; its suffix (:data:`ARROW_SUFFIXES`) names the format.

    Returns
    -------
    pyarrow.Table

    Raises
    ------
    InputError
        One line naming the file: not of the format its name says (with a guess of what it
        is), truncated, empty, or unreadable (pyarrow's reason).

    Examples
    --------
    >>> import tempfile, pathlib, pyarrow as pa, pyarrow.parquet as pq
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "nodes.parquet"
    >>> pq.write_table(pa.table({"id": ["a"], "stage": ["mine"]}), p)
    >>> read_arrow_file(p).column_names
    ['id', 'stage']
    """
    import pyarrow as pa

    fmt = ARROW_SUFFIXES[path.suffix.lower()]
    name = path.name
    try:
        why = _signature_problem(path, fmt)
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}", file=name) from None
    if why:
        raise InputError(why, file=name)
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return pq.read_table(path)
        if fmt == "ipc":
            import pyarrow.feather as feather

            return feather.read_table(path, memory_map=False)
        with pa.OSFile(str(path), "rb") as fh:
            return pa.ipc.open_stream(fh).read_all()
    except (pa.ArrowException, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(
            f"not a readable {_FORMAT_NAMES[fmt]} file (damaged or truncated?): {first}",
            file=name,
        ) from None


def read_plain_csv(path: Path, kind_hint: str | None) -> tuple[str, pa.Table] | None:
    """Read a plain CSV file with pyarrow: ``(kind, table of text columns)``, or None.

    None when the file is not plain (quote characters, a header below the first line, rows
    of other widths, lone ``\\r`` line ends, a byte-order mark other than UTF-8's, not UTF-8)
    or its first line does not name a table kind: the text reader then reads it, with its
    precise messages. The delimiter is chosen as the text reader chooses it.
    """
    if not _CSV_FAST:
        return None
    import pyarrow as pa
    import pyarrow.csv as pacsv

    try:
        data = path.read_bytes()
    except OSError:
        return None
    if data[:3] == b"\xef\xbb\xbf":
        data = data[3:]
    if not data.strip() or b'"' in data or b"\x00" in data or data[:4] == b"PK\x03\x04":
        return None
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return None
    end = data.find(b"\n")
    first = (data if end < 0 else data[:end]).rstrip(b"\r")
    try:
        header_line = first.decode("utf-8")
    except UnicodeDecodeError:
        return None
    counts = {d: header_line.count(d) for d in (",", ";", "\t", "|")}
    delim = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    names = header_line.split(delim)
    stripped = [n.strip() for n in names]
    if not all(stripped) or len(set(names)) != len(names):
        return None
    kind = kind_hint if kind_hint not in (None, "ignore") else None
    norm = [normalize_header(n) for n in stripped]
    kind = kind or _classify_headers(norm)
    if kind not in ("nodes", "edges") or not _header_ok(kind, norm):
        return None
    try:
        table = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=pacsv.ParseOptions(
                delimiter=delim, quote_char=False, ignore_empty_lines=False
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                null_values=[],
                strings_can_be_null=False,
            ),
        )
    except (pa.ArrowException, ValueError):
        return None
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if table.num_rows != lines - 1:  # a skipped or split line: the text reader knows better
        return None
    return kind, table


# ----------------------------------------------------------------------- column conversion


def _is_string(t: pa.DataType) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_string(t) or pa.types.is_large_string(t))


def _decoded(arr: pa.ChunkedArray) -> pa.ChunkedArray:
    """Dictionary-encoded columns as plain arrays; string views as strings."""
    import pyarrow as pa

    t = arr.type
    if pa.types.is_dictionary(t):
        arr = arr.cast(t.value_type)
        t = arr.type
    if pa.types.is_string_view(t):
        arr = arr.cast(pa.large_string())
    return arr


def _type_name(t: pa.DataType) -> str:
    """A short name of an Arrow type for messages (``boolean``, ``timestamp``, ``list`` ...)."""
    import pyarrow as pa

    checks = (
        (pa.types.is_boolean, "boolean"),
        (pa.types.is_timestamp, "timestamp"),
        (pa.types.is_date, "date"),
        (pa.types.is_time, "time of day"),
        (pa.types.is_duration, "duration"),
        (lambda x: pa.types.is_list(x) or pa.types.is_large_list(x), "list"),
        (pa.types.is_struct, "struct"),
        (pa.types.is_map, "map"),
        (lambda x: pa.types.is_binary(x) or pa.types.is_large_binary(x), "binary"),
    )
    for check, name in checks:
        if check(t):
            return name
    return str(t)


def _type_problem(t: pa.DataType, numeric: bool) -> str | None:
    """Why a column of Arrow type ``t`` cannot hold the schema column (None when it can)."""
    import pyarrow as pa

    ok_num = (
        pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or pa.types.is_decimal(t)
        or pa.types.is_null(t)
        or _is_string(t)
    )
    if numeric:
        if ok_num:
            return None
        return f"a {_type_name(t)} column cannot hold numbers (use float, integer or text)"
    nested = (
        pa.types.is_nested(t)
        or pa.types.is_binary(t)
        or pa.types.is_large_binary(t)
        or pa.types.is_fixed_size_binary(t)
    )
    return f"a {_type_name(t)} column cannot hold text (use a string column)" if nested else None


class _ArrowColumns:
    """Column-wise conversion of Arrow columns; flagged cells go through :class:`_Cell`.

    ``rows`` are the row numbers of the columns' cells. Problems are collected in the
    reader's ``keyed`` list as (cell position, column position, problem).
    """

    def __init__(
        self, cell: _Cell, rows: list[int], scans: dict[int, _TextScan], *, fast: bool = True
    ) -> None:
        self.cell = cell
        self.rows = rows
        self.scans = scans
        self.reader = _ColumnReader(cell, rows, fast)

    # -- helpers
    def _slow_cells(
        self, values: list[Any], flagged: np.ndarray, j: int, method: Callable[..., Any], *args: Any
    ) -> list[Any]:
        """``values`` (a Python list) with the flagged cells converted by ``method``."""
        for k in flagged.tolist():
            values[k] = self.reader._slow(k, j, method, *args, values[k])
        return values

    def text(self, arr: pa.ChunkedArray, header: str, col: str, j: int, extra: bool) -> Any:
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        t = arr.type
        cell = self.cell
        if _is_string(t):
            scan = _scan(arr, self.scans)
            text = scan.array
            if scan.empty.any():
                text = pc.if_else(pa.array(scan.empty), pa.scalar(None, text.type), text)
            if not scan.check.any():
                return _pandas_text(text)
            values = text.to_pylist()
            method = cell.extra if extra else cell.text
            args = (header,) if extra else (header, col)
            return self._slow_cells(values, np.flatnonzero(scan.check), j, method, *args)
        if pa.types.is_integer(t) and not extra:
            return _pandas_text(arr.cast(pa.large_string()))
        if pa.types.is_null(t):
            return [None] * len(arr)
        values = arr.to_pylist()
        if extra:
            return self.reader.text(values, None, header, header, j, extra=True)
        return self.reader.text(values, None, header, col, j)

    def number(self, arr: pa.ChunkedArray, header: str, col: str, j: int) -> Any:
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        t = arr.type
        cell = self.cell
        if pa.types.is_floating(t) or pa.types.is_integer(t):
            nums = arr.cast(pa.float64()).to_numpy(zero_copy_only=False)
            with np.errstate(invalid="ignore"):
                flagged = ~np.isfinite(nums) & _mask(pc.is_valid(arr))
                if pa.types.is_integer(t):
                    flagged |= np.abs(nums) > float(_EXACT_INT)
            if not flagged.any():
                return nums
            values: list[Any] = arr.to_pylist()
            out = nums.copy()
            for k in np.flatnonzero(flagged).tolist():
                number, _ = self.reader._slow(k, j, cell.number, header, col, values[k])
                out[k] = np.nan if number is None else number
            return out
        if _is_string(t):
            scan = _scan(arr, self.scans)
            nums = np.full(len(arr), np.nan)
            plain = scan.valid & ~scan.empty
            if scan.only_bytes(_NUMBER_BYTES) and not scan.check.any():
                text = scan.array
                if scan.empty.any():
                    text = pc.if_else(pa.array(scan.empty), pa.scalar(None, text.type), text)
                try:
                    nums = np.array(pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False))
                except pa.ArrowInvalid:
                    return None  # some cell is not a plain number: cell by cell
                with np.errstate(invalid="ignore"):
                    plain &= np.isfinite(nums)
            else:
                plain[:] = False
            rest = np.flatnonzero(~plain & scan.valid & ~scan.empty)
            if len(rest) > len(arr) // 2:
                return None  # mostly not plain numbers: cell by cell
            if len(rest):
                values = scan.array.take(pa.array(rest)).to_pylist()
                for k, v in zip(rest.tolist(), values, strict=True):
                    number, _ = self.reader._slow(k, j, cell.number, header, col, v)
                    nums[k] = np.nan if number is None else number
            return nums
        if pa.types.is_null(t):
            return np.full(len(arr), np.nan)
        return None  # decimals and the like: cell by cell

    def year(self, arr: pa.ChunkedArray, header: str, col: str, j: int) -> list[Any]:
        import pyarrow as pa

        t = arr.type
        if pa.types.is_integer(t) or pa.types.is_null(t):
            return arr.to_pylist()
        if _is_string(t):
            scan = _scan(arr, self.scans)
            lengths = scan.lengths[scan.valid]
            if scan.only_bytes(b"0123456789") and bool(((lengths == 4) | (lengths == 0)).all()):
                return [int(v) if v else None for v in scan.array.to_pylist()]
        return self.reader.year(arr.to_pylist(), None, header, col, j)


def _mask(arr: Any) -> np.ndarray:
    """A boolean Arrow array as numpy (null -> False)."""
    import pyarrow.compute as pc

    return pc.fill_null(arr, False).to_numpy(zero_copy_only=False)


def _pandas_text(arr: pa.ChunkedArray | pa.Array) -> pd.Series | list[None]:
    """Arrow strings as the pandas ``str`` column ``pd.DataFrame`` gives a list of str/None."""
    import pyarrow as pa

    if arr.null_count == len(arr):  # no text at all: pandas makes an object column of None
        return [None] * len(arr)
    if pa.types.is_string(arr.type):
        arr = arr.cast(pa.large_string())
    return arr.to_pandas()


class _TextScan:
    """What a string column's bytes say about its cells, without a per-cell Python loop.

    Reads the offsets and data buffers of the column (as one ``large_string`` array): the
    cells that are null or empty, the few whose first or last byte, control bytes or length
    may need the cell rules (then checked exactly, in Python, one by one), and whether every
    byte could belong to a plain number or a 4-digit year.
    """

    def __init__(self, arr: pa.ChunkedArray) -> None:
        import numpy as np
        import pyarrow as pa

        a = arr.cast(pa.large_string()).combine_chunks()
        n = len(a)
        self.array = a
        bufs = a.buffers()
        offsets = np.frombuffer(bufs[1], dtype=np.int64, count=a.offset + n + 1)[a.offset :]
        has_data = bufs[2] is not None and bufs[2].size > 0
        data = np.frombuffer(bufs[2], dtype=np.uint8) if has_data else np.zeros(1, np.uint8)
        self.data = data[offsets[0] : offsets[-1]] if n else data[:0]
        start, end = offsets[:-1], offsets[1:]
        length = end - start
        self.valid = _mask(a.is_valid()) if a.null_count else np.ones(n, dtype=bool)
        self.empty = self.valid & (length == 0)
        self.lengths = length
        filled = np.flatnonzero(self.valid & (length > 0))
        cand = np.zeros(n, dtype=bool)
        if len(filled):
            cand[filled] = (
                _byte_table(_FIRST_BYTES)[data[start[filled]]]
                | _byte_table(_LAST_BYTES)[data[end[filled] - 1]]
            )
        control = np.flatnonzero(_byte_table(_CONTROL_BYTES)[self.data])
        if len(control):
            cells = np.searchsorted(offsets, control + offsets[0], side="right") - 1
            cand[cells] = True
        cand |= length > _MAX_TEXT
        cand &= self.valid
        # the candidates, exactly: cells the text rules must see, and blank (whitespace) cells
        self.check = np.zeros(n, dtype=bool)
        self.blank = self.empty.copy()
        picked = np.flatnonzero(cand)
        if len(picked):
            from supplygraph.io.cells import _CONTROL

            texts = a.take(pa.array(picked)).to_pylist()
            for k, text in zip(picked.tolist(), texts, strict=True):
                stripped = text.strip()
                self.blank[k] = not stripped
                self.check[k] = (
                    stripped != text
                    or text[0] in "'="
                    or len(text) > _MAX_TEXT
                    or _CONTROL.search(text) is not None
                )

    @property
    def filled(self) -> np.ndarray:
        """Cells holding something (not null, not empty or whitespace only)."""
        return self.valid & ~self.blank

    def only_bytes(self, allowed: bytes) -> bool:
        """True when every byte of every cell is one of ``allowed``."""
        return not (~_byte_table(allowed)[self.data]).any()


def _scan(arr: pa.ChunkedArray, scans: dict[int, _TextScan]) -> _TextScan:
    """The :class:`_TextScan` of a string column, made once."""
    key = id(arr)
    if key not in scans:
        scans[key] = _TextScan(arr)
    return scans[key]


def _filled(arr: pa.ChunkedArray, scans: dict[int, _TextScan]) -> np.ndarray:
    """True for cells holding something (not null; text not empty or whitespace only)."""
    import pyarrow.compute as pc

    if _is_string(arr.type):
        return _scan(arr, scans).filled
    return _mask(pc.is_valid(arr))


# -------------------------------------------------------------------------------- frames


class ArrowTable:
    """One file read as an Arrow table, waiting to become a frame (see :func:`arrow_frame`).

    Parameters
    ----------
    file
        The file name (for problems and the ``_file`` column).
    table
        Its Arrow table.
    header_row
        1 for CSV (the header's row), None for Parquet/Arrow (no header row).
    """

    def __init__(self, file: str, table: pa.Table, *, header_row: int | None) -> None:
        self.file = file
        self.sheet: str | None = None
        self.table = table
        self.header_row = header_row

    def kind(self) -> str | None:
        """What the table holds, judged from its column names (None when unclear)."""
        return _classify_headers([normalize_header(str(c)) for c in self.table.column_names])

    def build_frame(
        self,
        kind: str,
        problems: list[Problem],
        notes: list[str],
        counts: dict[str, dict[str, int]],
    ) -> pd.DataFrame | list[str] | None:
        """The schema-named frame of this table (see :func:`arrow_frame`)."""
        return arrow_frame(
            kind, self.table, self.file, problems, notes, counts, header_row=self.header_row
        )


def arrow_frame(
    kind: str,
    table: pa.Table,
    file: str,
    problems: list[Problem],
    notes: list[str],
    counts: dict[str, dict[str, int]],
    *,
    header_row: int | None,
) -> pd.DataFrame | list[str] | None:
    """Turn an Arrow table into a schema-named frame (a stage list for kind ``"stages"``).

    Parameters
    ----------
    kind
        ``"nodes"``, ``"edges"``, ``"shares"`` or ``"stages"``.
    table
        The file's table; its column names are the headers.
    file
        The file name, for problems and the ``_file`` column.
    problems, notes, counts
        Extended as :func:`supplygraph.io.frames._build_frame` extends them.
    header_row
        The header's row number (1 for CSV), or None for files without a header row
        (Parquet/Arrow: the first record is row 1).

    Returns
    -------
    pandas.DataFrame, list of str or None
        As :func:`supplygraph.io.frames._build_frame` returns for the same cells.
    """
    import numpy as np
    import pyarrow as pa

    from supplygraph.io.frames import (
        _finish_frame,
        _map_headers,
        _note_provenance_source,
        _report_rows,
    )

    cell = _Cell(kind, file, None, problems)
    first_row = 1 if header_row is None else header_row + 1
    names = [str(c).strip() for c in table.column_names]
    index_cols = [n for n in names if n.startswith("__index_level_") and n.endswith("__")]
    if index_cols:  # a pandas index written by DataFrame.to_parquet
        notes.append(f"{file}: pandas index column(s) {', '.join(index_cols)} not read")
    columns = {
        j: _decoded(table.column(j - 1))
        for j in range(1, len(names) + 1)
        if names[j - 1] not in index_cols
    }
    headers = {j: names[j - 1] for j in columns if names[j - 1]}
    if not _header_ok(kind, [normalize_header(h) for h in headers.values()]):
        need = _REQUIRED_HINT.get(kind, "the required columns")
        where = "header row" if header_row is not None else "column names"
        cell.problem(None, None, f"no {need} among the {where}")
        return None
    mapping, extras, originals = _map_headers(kind, headers, cell, header_row or 0)
    _note_provenance_source(kind, headers, originals, notes, file)
    if header_row is None:  # duplicate-name problems name no row
        for i, p in enumerate(problems):
            if p.file == file and p.row == 0:
                problems[i] = Problem(**{**p.as_dict(), "row": None})

    # blank rows (no cell filled) and rows with values only in unnamed columns
    n = table.num_rows
    in_header = np.zeros(n, dtype=bool)
    anywhere = np.zeros(n, dtype=bool)
    headerless: dict[int, int] = {}
    scans: dict[int, _TextScan] = {}
    for j, arr in columns.items():
        filled = _filled(arr, scans)
        anywhere |= filled
        if j in headers:
            in_header |= filled
        elif filled.any():
            headerless[j] = first_row + int(np.argmax(filled))
    all_rows = np.arange(first_row, first_row + n, dtype=np.int64)
    blank = all_rows[~anywhere].tolist()
    n_rejected = int((anywhere & ~in_header).sum())
    if not in_header.all():
        keep = pa.array(in_header)
        columns = {j: arr.filter(keep) for j, arr in columns.items()}
        scans = {}
        loc_rows = all_rows[in_header]
    else:
        loc_rows = all_rows
    rows = loc_rows.tolist()

    data, percent_rows, extra_data = _convert(
        kind, columns, scans, mapping, extras, headers, cell, rows
    )
    where = file
    _report_rows(cell, where, notes, headerless, max(headers), blank, len(blank))
    counts[file] = {
        "rows": len(rows),
        "blank": len(blank),
        "rejected": n_rejected,
        "header_row": header_row or 0,
    }
    return _finish_frame(
        kind,
        cell,
        notes,
        where,
        data,
        percent_rows,
        extra_data,
        loc_rows,
        mapping,
        headers,
        originals,
        file,
        None,
    )


def _convert(
    kind: str,
    columns: dict[int, pa.ChunkedArray],
    scans: dict[int, _TextScan],
    mapping: dict[str, int],
    extras: dict[str, int],
    headers: dict[int, str],
    cell: _Cell,
    rows: list[int],
) -> tuple[dict[str, Any], dict[str, list[bool]], dict[str, Any]]:
    """Every mapped and extra column converted; problems in row order, then column order.

    Nodes and edges go column-wise where the column's type allows; other tables (stage shares,
    stages: small), share columns and unusual types go cell by cell (:class:`_ColumnReader`).
    """
    numeric = set(NUMERIC_COLUMNS.get(kind, ()))
    fast = _FAST and kind in ("nodes", "edges")
    conv = _ArrowColumns(cell, rows, scans, fast=_FAST)
    reader = conv.reader
    data: dict[str, Any] = {}
    extra_data: dict[str, Any] = {}
    percent_rows: dict[str, list[bool]] = {}
    problems = cell.problems
    cell.problems = reader.buf
    try:
        pos = 0
        for col, j in mapping.items():
            header, arr = headers[j], columns[j]
            why = _type_problem(arr.type, col in numeric)
            value: Any = None
            if why:
                value = _typed_column_problem(conv, arr, header, col, pos, why)
            elif fast and col in numeric and col not in SHARE_LIKE:
                value = conv.number(arr, header, col, pos)
            elif fast and col == "year":
                value = conv.year(arr, header, col, pos)
            elif fast and col not in numeric:
                value = conv.text(arr, header, col, pos, extra=False)
            if value is None:
                values = arr.to_pylist()
                if col in numeric:
                    value, pct = reader.number(values, None, header, col, pos)
                    if col in SHARE_LIKE:
                        percent_rows[col] = pct
                elif col == "year":
                    value = reader.year(values, None, header, col, pos)
                else:
                    value = reader.text(values, None, header, col, pos)
            data[col] = value
            pos += 1
        for header, j in extras.items():
            arr = columns[j]
            if fast:
                extra_data[header] = _extra_column(conv, arr, header, pos)
            else:
                values = arr.to_pylist()
                extra_data[header] = reader.text(values, None, header, header, pos, extra=True)
            pos += 1
    finally:
        cell.problems = problems
    reader.keyed.sort(key=lambda t: (t[0], t[1]))
    problems.extend(p for _, _, p in reader.keyed)
    return data, percent_rows, extra_data


def _typed_column_problem(
    conv: _ArrowColumns, arr: pa.ChunkedArray, header: str, col: str, pos: int, why: str
) -> Any:
    """One problem for a column of the wrong type; its filled cells count as unreadable."""
    import numpy as np
    import pyarrow.compute as pc

    valid = np.flatnonzero(_mask(pc.is_valid(arr)))
    if len(valid):
        k = int(valid[0])
        shown = str(arr[k].as_py())
        conv.reader.keyed.append(
            (
                k,
                pos,
                Problem(
                    message=why,
                    file=conv.cell.file,
                    row=conv.rows[k],
                    column=header,
                    value=shown[:77] + "..." if len(shown) > 80 else shown,
                ),
            )
        )
        conv.cell.bad.update((conv.rows[i], col) for i in valid.tolist())
    if col in NUMERIC_COLUMNS["nodes"] or col in NUMERIC_COLUMNS["edges"]:
        return np.full(len(arr), np.nan)
    return [None] * len(arr)


def _extra_column(conv: _ArrowColumns, arr: pa.ChunkedArray, header: str, pos: int) -> Any:
    """An extra (non-schema) column: text by the text rules, numbers as they are."""
    import pyarrow as pa

    t = arr.type
    if _is_string(t) or pa.types.is_null(t):
        return conv.text(arr, header, header, pos, extra=True)
    if pa.types.is_floating(t):
        return arr.to_numpy(zero_copy_only=False) if arr.null_count == 0 else arr.to_pandas()
    values = arr.to_pylist()
    return conv.reader.text(values, None, header, header, pos, extra=True)
