"""Raw tables: one sheet or CSV file as rows of cells, and its data rows below the header.

A workbook sheet arrives as sparse cells row by row; a CSV file as text lines (or ``csv``
records), which :func:`_dense_rows` turns into columns without a per-cell loop. Both give a
:class:`_Rows`: the data rows' numbers, the raw values by column, and what was skipped (blank
rows, rows with values only under no header).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import compress
from operator import itemgetter
from typing import Any

from supplygraph.io.headers import HEADER_SCAN_ROWS, _classify_headers, normalize_header


@dataclass
class _RawTable:
    """One sheet or CSV file as rows of sparse cells.

    A CSV file keeps its text rows instead, so the table can be built column by column: either
    ``lines`` (a file without quotes: one line per spreadsheet row, cells separated by
    ``delim``) or ``records`` (as :func:`csv.reader` read them: one list of text cells per
    row). Row number = index + 1, ``""`` is an empty cell; :meth:`iter_rows` yields the same
    rows as sparse cells.
    """

    file: str
    sheet: str | None
    rows: Iterable[tuple[int, list[tuple[int, Any]]]] | None
    kind_hint: str | None = None  # from the sheet / file name
    merged: Any = None  # callable returning merged ranges after reading
    records: list[list[str]] | None = None
    lines: list[str] | None = None
    delim: str = ","
    plain: bool = False  # no cell of ``lines`` can need a text check (see _plain_csv_lines)

    @property
    def dense(self) -> bool:
        """True for a CSV file (text rows, not sparse cells)."""
        return self.records is not None or self.lines is not None

    def iter_rows(self) -> Iterator[tuple[int, list[tuple[int, Any]]]]:
        """Yield ``(row number, [(column number, value), ...])`` without empty cells."""
        if self.lines is not None:
            delim = self.delim
            return (
                (rownum, [(i, v) for i, v in enumerate(line.split(delim), start=1) if v != ""])
                for rownum, line in enumerate(self.lines, start=1)
            )
        if self.records is not None:
            return (
                (rownum, [(i, v) for i, v in enumerate(record, start=1) if v != ""])
                for rownum, record in enumerate(self.records, start=1)
            )
        assert self.rows is not None
        return iter(self.rows)


@dataclass
class _Rows:
    """The data rows of a table: row numbers, raw values by column, and what was skipped."""

    loc_rows: list[int]
    columns: dict[int, Sequence[Any]]  # column number -> raw values (None or "" when empty)
    stripped: dict[int, list[str]] | None = None  # CSV: the values stripped (all str)
    plain: bool = False  # CSV text without apostrophes, "=", control characters, long cells
    blank: list[int] = field(default_factory=list)
    n_blank: int = 0
    n_rejected: int = 0
    headerless: dict[int, int] = field(default_factory=dict)  # column -> first row with a value


def _sparse_rows(
    rows_iter: Iterator[tuple[int, list[tuple[int, Any]]]],
    header_row: int,
    col_header: dict[int, str],
) -> _Rows:
    """Collect the data rows of sparse-cell rows (a workbook sheet), row by row."""
    out = _Rows([], {})
    blank = out.blank
    headerless = out.headerless
    row_dicts: list[dict[int, Any]] = []
    previous = header_row
    for rownum, cells in rows_iter:
        if rownum > previous + 1:  # rows absent from the file are blank rows
            out.n_blank += rownum - previous - 1
            blank.extend(range(previous + 1, min(rownum, previous + 12)))
        previous = rownum
        present = [(c, v) for c, v in cells if v.__class__ is not str or v.strip()]
        if not present:
            out.n_blank += 1
            blank.append(rownum)
            continue
        row_cells = dict(present)
        if all(c not in col_header for c in row_cells):
            # values only in columns without a header: reported later, not a table row
            for c in row_cells:
                headerless.setdefault(c, rownum)
            out.n_rejected += 1
            continue
        out.loc_rows.append(rownum)
        row_dicts.append(row_cells)
        for c in row_cells:
            if c not in col_header:
                headerless.setdefault(c, rownum)
    out.columns = {idx: [rc.get(idx) for rc in row_dicts] for idx in col_header}
    return out


def _dense_columns(raw: _RawTable, header_row: int, min_width: int) -> list[Sequence[str]] | None:
    """The CSV rows below the header as columns of text cells (short rows padded with ``""``).

    None when one row is so much wider than the header that the columns would waste memory.
    """

    if raw.lines is not None:
        lines = raw.lines[header_row:]
        delim = raw.delim
        n = len(lines)
        if not n:
            return [[] for _ in range(min_width)]
        counts = [line.count(delim) for line in lines]
        width = max(max(counts) + 1, min_width)
        if width > 4 * min_width + 64:
            return None
        if min(counts) < width - 1:
            lines = [
                line if c == width - 1 else line + delim * (width - 1 - c)
                for line, c in zip(lines, counts, strict=True)
            ]
        flat = delim.join(lines).split(delim)
        return [flat[j::width] for j in range(width)]
    assert raw.records is not None
    rows = raw.records[header_row:]
    width = max(max(map(len, rows), default=0), min_width)
    if width > 4 * min_width + 64:
        return None
    if rows and min(map(len, rows)) < width:
        rows = [r if len(r) == width else r + [""] * (width - len(r)) for r in rows]
    return [list(map(itemgetter(j), rows)) for j in range(width)]


def _dense_rows(raw: _RawTable, header_row: int, col_header: dict[int, str]) -> _Rows | None:
    """Collect the data rows of a CSV file (below the header row) column by column.

    Same outcome as :func:`_sparse_rows` on the rows as sparse cells: a row whose cells are
    all empty or whitespace is blank; a row with values only in columns without a header is
    rejected; other values outside the header columns are recorded in ``headerless``. None
    when the file is better read row by row (see :func:`_dense_columns`).
    """
    import numpy as np

    columns = _dense_columns(raw, header_row, max(col_header))
    if columns is None:
        return None
    first = header_row + 1
    n = len(columns[0]) if columns else 0
    stripped = [list(map(str.strip, c)) for c in columns]
    filled = [_filled(c, n) for c in stripped]
    in_header = np.zeros(n, dtype=bool)
    anywhere = np.zeros(n, dtype=bool)
    out = _Rows([], {}, plain=raw.plain)
    for c, mask in enumerate(filled, start=1):
        anywhere |= mask
        if c in col_header:
            in_header |= mask
        elif mask.any():
            out.headerless[c] = first + int(np.argmax(mask))
    blank = np.flatnonzero(~anywhere)
    out.blank = (blank + first).tolist()
    out.n_blank = len(out.blank)
    out.n_rejected = int((anywhere & ~in_header).sum())
    if in_header.all():
        out.loc_rows = list(range(first, first + n))
        out.columns = {idx: columns[idx - 1] for idx in col_header}
        out.stripped = {idx: stripped[idx - 1] for idx in col_header}
    else:
        keep = in_header.tolist()
        out.loc_rows = (np.flatnonzero(in_header) + first).tolist()
        out.columns = {idx: list(compress(columns[idx - 1], keep)) for idx in col_header}
        out.stripped = {idx: list(compress(stripped[idx - 1], keep)) for idx in col_header}
    return out


def _filled(stripped: list[str], n: int) -> Any:
    """Boolean mask of the non-empty cells of a stripped column."""
    import numpy as np

    empty = stripped.count("")
    if empty == 0:
        return np.ones(n, dtype=bool)
    if empty == n:
        return np.zeros(n, dtype=bool)
    return np.fromiter(map(bool, stripped), dtype=bool, count=n)


def _peek_kind(raw: _RawTable) -> tuple[str | None, _RawTable]:
    """Classify a raw table by its headers (first rows), returning a re-iterable table."""
    if not raw.dense:
        rows = raw.rows if isinstance(raw.rows, list) else list(raw.rows or ())
        raw = _RawTable(raw.file, raw.sheet, rows, raw.kind_hint, raw.merged)
    scanned = 0
    for _, cells in raw.iter_rows():
        vals = [str(v).strip() for _, v in cells if v is not None and str(v).strip()]
        if not vals:
            continue
        scanned += 1
        kind = _classify_headers([normalize_header(v) for v in vals])
        if kind:
            return kind, raw
        if scanned >= HEADER_SCAN_ROWS:
            break
    return None, raw


def _peek_sheet_kind(reader: Any, name: str) -> str | None:
    scanned = 0
    for _, cells in reader.iter_rows(name):
        vals = [str(v).strip() for _, v in cells if v is not None and str(v).strip()]
        if not vals:
            continue
        scanned += 1
        kind = _classify_headers([normalize_header(v) for v in vals])
        if kind or scanned >= HEADER_SCAN_ROWS:
            return kind
    return None
