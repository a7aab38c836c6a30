"""Schema-named frames: the :class:`Tables` a reader returns, and how raw rows become them.

:func:`_build_frame` finds a table's header row, maps its headers to schema columns
(:mod:`supplygraph.io.headers`), converts every column (:mod:`supplygraph.io.cells`) and
returns a DataFrame with ``_file``/``_sheet``/``_row`` location columns and
``frame.attrs["columns"]`` (schema name -> original header); :func:`_collect` does this for every
table of an input, and the assembly helpers concatenate tables, apply Kumu's "blank ID takes the
Label" rule and normalise countries.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supplygraph.errors import InputError, Problem
from supplygraph.io.cells import _Cell, _ColumnReader, parse_number
from supplygraph.io.headers import (
    _REQUIRED_HINT,
    EDGE_ALIASES,
    HEADER_SCAN_ROWS,
    NODE_ALIASES,
    NUMERIC_COLUMNS,
    SHARE_ALIASES,
    SHARE_COLUMNS,
    SHARE_LIKE,
    _header_ok,
    column_letter,
    normalize_header,
)
from supplygraph.io.rows import _dense_rows, _RawTable, _Rows, _sparse_rows
from supplygraph.schema import EDGE_COLUMNS, NODE_COLUMNS

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Tables"]

#: Private switch: False reads every cell through :class:`~supplygraph.io.cells._Cell` one by
#: one, row by row (the reference path the column-wise reading is tested against).
_FAST = True


@dataclass
class Tables:
    """The tables read from one input.

    Attributes
    ----------
    nodes
        Node table (schema column names + extras + ``_file``/``_sheet``/``_row``); empty when the
        input has none.
    edges
        Edge table, same conventions; empty when the input has none.
    shares
        Stage-shares table (:data:`SHARE_COLUMNS` + extras + locations; ``share`` as a fraction
        0-1) or None.
    stages
        Stage order from a ``Stages`` sheet / ``stages.csv``, or None.
    file
        The input path (file or folder; the first file for a list).
    problems
        Every problem found (errors and warnings), in reading order.
    notes
        Plain sentences about what the reader assumed or rewrote (scales, country aliases,
        blank rows skipped, sheets skipped).
    counts
        Per table, ``{"rows": data rows read, "blank": blank rows skipped}``.
    unreadable
        Kinds (``"nodes"``, ``"edges"`` ...) of tables that were found but could not be read
        (no usable header); their problem is in :attr:`problems`.
    edge_rows
        Set by validation when the node ids are distinct trimmed text: the node-table row of
        each edge's supplier and customer (int arrays, -1 when unknown), for the builder.
    """

    nodes: pd.DataFrame
    edges: pd.DataFrame
    shares: pd.DataFrame | None
    stages: list[str] | None
    file: Path
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    unreadable: set[str] = field(default_factory=set)
    edge_rows: tuple[Any, Any] | None = None

    @property
    def errors(self) -> list[Problem]:
        """The problems whose severity is ``"error"``."""
        return [p for p in self.problems if p.severity == "error"]


def _map_headers(
    kind: str, headers: dict[int, str], cell: _Cell, header_row: int
) -> tuple[dict[str, int], dict[str, int], dict[str, str]]:
    """Return (schema column -> col index, extra header -> col index, schema -> original)."""
    aliases = {"nodes": NODE_ALIASES, "edges": EDGE_ALIASES, "shares": SHARE_ALIASES}.get(
        kind, {"stage": ("stage",), "order": ("order",)}
    )
    norm_to_cols: dict[str, list[int]] = {}
    for idx, text in headers.items():
        norm_to_cols.setdefault(normalize_header(text), []).append(idx)
    for cols in norm_to_cols.values():
        if len(cols) > 1:
            letters = " and ".join(column_letter(c) for c in cols)
            cell.problem(
                header_row,
                headers[cols[1]],
                f"duplicate column header (columns {letters}); rename one",
            )
    taken: set[int] = set()
    mapping: dict[str, int] = {}
    present = set(norm_to_cols)
    order = list(aliases.items())
    if kind == "edges":
        if {"from", "to"} <= present:
            ends = {"source": "from", "target": "to"}
        else:
            ends = {"source": "source", "target": "target"}
        for col, alias in ends.items():
            if alias in norm_to_cols:
                mapping[col] = norm_to_cols[alias][0]
                taken.add(mapping[col])
        order = [(c, a) for c, a in order if c not in ("source", "target")]
    for col, options in order:
        for alias in options:
            for idx in norm_to_cols.get(alias, []):
                if idx not in taken:
                    mapping[col] = idx
                    taken.add(idx)
                    break
            if col in mapping:
                break
    extras = {headers[i]: i for i in sorted(headers) if i not in taken}
    originals = {col: headers[i] for col, i in mapping.items()}
    return mapping, extras, originals


def _note_provenance_source(
    kind: str, headers: dict[int, str], originals: dict[str, str], notes: list[str], where: str
) -> None:
    """Say so when a Kumu-style ``Source`` column is read as provenance (From/To are the ends)."""
    if (
        kind == "edges"
        and {"from", "to"} <= {normalize_header(h) for h in headers.values()}
        and "source_ref" in originals
        and normalize_header(originals["source_ref"]) == "source"
    ):
        notes.append(
            f"{where}: column '{originals['source_ref']}' read as provenance (source_ref), "
            "because the endpoints are From/To"
        )


def _build_frame(
    kind: str,
    raw: _RawTable,
    problems: list[Problem],
    notes: list[str],
    counts: dict[str, dict[str, int]],
) -> pd.DataFrame | list[str] | None:
    """Turn a raw table into a schema-named frame (or a stage list for kind 'stages')."""

    cell = _Cell(kind, raw.file, raw.sheet, problems)
    where = raw.file + (f", sheet '{raw.sheet}'" if raw.sheet else "")
    rows_iter: Iterator[tuple[int, list[tuple[int, Any]]]] = raw.iter_rows()

    # find the header row among the first non-blank rows
    header_row = None
    headers: dict[int, str] = {}
    skipped_before: list[int] = []
    scanned = 0
    for rownum, cells in rows_iter:
        values = {c: v for c, v in cells if v is not None and str(v).strip() != ""}
        if not values:
            continue
        scanned += 1
        cand = {c: str(v).strip() for c, v in values.items()}
        norm = [normalize_header(v) for v in cand.values()]
        if _header_ok(kind, norm):
            header_row = rownum
            headers = cand
            break
        skipped_before.append(rownum)
        if scanned >= HEADER_SCAN_ROWS:
            break
    if header_row is None:
        cell.problem(
            None,
            None,
            f"no header row with {_REQUIRED_HINT.get(kind, 'the required columns')} found in "
            f"the first {HEADER_SCAN_ROWS} rows",
        )
        return None
    if skipped_before:
        notes.append(
            f"{where}: header found on row {header_row}; row(s) "
            f"{', '.join(map(str, skipped_before))} above it were read as titles and skipped"
        )

    mapping, extras, originals = _map_headers(kind, headers, cell, header_row)
    _note_provenance_source(kind, headers, originals, notes, where)
    max_header_col = max(headers)
    col_header = dict(headers)

    numeric = set(NUMERIC_COLUMNS.get(kind, ()))
    table = _dense_rows(raw, header_row, col_header) if raw.dense and _FAST else None
    if table is None:
        table = _sparse_rows(rows_iter, header_row, col_header)
    loc_rows = table.loc_rows
    read_rows = len(loc_rows)
    blank, n_blank, n_rejected, headerless = (
        table.blank,
        table.n_blank,
        table.n_rejected,
        table.headerless,
    )
    data, percent_rows, extra_data = _convert_columns(
        table, mapping, extras, col_header, numeric, cell
    )

    _report_rows(cell, where, notes, headerless, max_header_col, blank, n_blank)
    counts_key = raw.file + (f"/{raw.sheet}" if raw.sheet else "")
    counts[counts_key] = {
        "rows": read_rows,
        "blank": n_blank,
        "rejected": n_rejected,
        "header_row": header_row,
    }
    merged = raw.merged() if raw.merged else []
    for ref in merged:
        _report_merge(cell, ref, header_row, col_header)
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
        col_header,
        originals,
        raw.file,
        raw.sheet,
    )


def _report_rows(
    cell: _Cell,
    where: str,
    notes: list[str],
    headerless: dict[int, int],
    max_header_col: int,
    blank: list[int],
    n_blank: int,
) -> None:
    """Report values under no header (problems) and the blank rows skipped (a note)."""
    for c, first in sorted(headerless.items()):
        letter = column_letter(c)
        side = "right of the header" if c > max_header_col else "under an empty header"
        cell.problem(
            first,
            letter,
            f"values in column {letter}, which has no header ({side}); add a header or "
            "delete the values",
        )
    if n_blank:
        blank = sorted(blank)[:10]
        shown = ", ".join(map(str, blank)) + (" ..." if n_blank > len(blank) else "")
        notes.append(f"{where}: {n_blank} blank row(s) skipped (rows {shown})")


def _finish_frame(
    kind: str,
    cell: _Cell,
    notes: list[str],
    where: str,
    data: dict[str, Any],
    percent_rows: dict[str, list[bool]],
    extra_data: dict[str, Any],
    loc_rows: Any,
    mapping: dict[str, int],
    col_header: dict[int, str],
    originals: dict[str, str],
    file: str,
    sheet: str | None,
) -> pd.DataFrame | list[str] | None:
    """Converted columns -> the stage list (kind 'stages') or a schema-named frame.

    ``data`` and ``extra_data`` hold one column per schema column / extra header: lists of
    cell values, or arrays (numbers as float64, text as pandas strings) of the same length.
    """
    import pandas as pd

    numeric = set(NUMERIC_COLUMNS.get(kind, ()))
    if kind == "stages":
        if "stage" not in mapping:
            return None
        stages = [s for s in data["stage"] if s]
        if "order" in mapping:
            order_vals = [parse_number(o)[0] for o in data["order"]]
            pairs = [
                (o if o is not None else math.inf, i, s)
                for i, (o, s) in enumerate(zip(order_vals, data["stage"], strict=True))
                if s
            ]
            stages = [s for _, _, s in sorted(pairs)]
        return stages

    if kind == "shares":
        _scale_shares(data, percent_rows, cell, loc_rows, mapping, col_header, notes, where)

    columns_order = {"nodes": NODE_COLUMNS, "edges": EDGE_COLUMNS, "shares": SHARE_COLUMNS}[kind]
    frame_data: dict[str, Any] = {}
    for col in columns_order:
        if col in data:
            frame_data[col] = data[col]
    for header, column_values in extra_data.items():
        name = header if header not in frame_data else f"{header} (extra)"
        frame_data[name] = column_values
    frame = pd.DataFrame(frame_data, index=pd.RangeIndex(len(loc_rows)))
    for col in numeric:
        if col in frame.columns:
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    frame["_file"] = file
    frame["_sheet"] = sheet
    frame["_row"] = pd.Series(_int_array(loc_rows), dtype="int64")
    frame.attrs["columns"] = dict(originals)
    frame.attrs["bad_cells"] = set(cell.bad)
    return frame


def _convert_columns(
    table: _Rows,
    mapping: dict[str, int],
    extras: dict[str, int],
    col_header: dict[int, str],
    numeric: set[str],
    cell: _Cell,
) -> tuple[dict[str, list[Any]], dict[str, list[bool]], dict[str, list[Any]]]:
    """Convert every column; problems come out in row order, then column order, as if read
    row by row."""
    reader = _ColumnReader(cell, table.loc_rows, _FAST, table.plain)
    stripped = table.stripped or {}
    data: dict[str, list[Any]] = {}
    percent_rows: dict[str, list[bool]] = {}
    extra_data: dict[str, list[Any]] = {}
    problems = cell.problems
    cell.problems = reader.buf
    try:
        j = 0
        for col, idx in mapping.items():
            header = col_header[idx]
            values = table.columns[idx]
            strip = stripped.get(idx)
            if col in numeric:
                data[col], pct = reader.number(values, strip, header, col, j)
                if col in SHARE_LIKE:
                    percent_rows[col] = pct
            elif col == "year":
                data[col] = reader.year(values, strip, header, col, j)
            else:
                data[col] = reader.text(values, strip, header, col, j)
            j += 1
        for header, idx in extras.items():
            values, strip = table.columns[idx], stripped.get(idx)
            extra_data[header] = reader.text(values, strip, header, header, j, extra=True)
            j += 1
    finally:
        cell.problems = problems
    reader.keyed.sort(key=lambda t: (t[0], t[1]))
    problems.extend(p for _, _, p in reader.keyed)
    return data, percent_rows, extra_data


def _int_array(values: list[int]) -> Any:
    import numpy as np

    return np.array(values, dtype=np.int64)


def _report_merge(cell: _Cell, ref: str, header_row: int, col_header: dict[int, str]) -> None:
    from openpyxl.utils.cell import range_boundaries

    try:
        min_col, min_row, _max_col, max_row = range_boundaries(ref)
    except ValueError:
        return
    if max_row is None or max_row <= header_row:
        return
    header = col_header.get(min_col, column_letter(min_col or 1))
    cell.problem(
        max(min_row, header_row + 1),
        header,
        f"merged cells {ref}: only the first cell holds the value and the other rows would "
        "read as empty; unmerge and fill every row",
    )


def _scale_shares(
    data: dict[str, list[Any]],
    percent_rows: dict[str, list[bool]],
    cell: _Cell,
    loc_rows: list[int],
    mapping: dict[str, int],
    col_header: dict[int, str],
    notes: list[str],
    where: str,
) -> None:
    """Turn every share column into fractions, deciding the scale of plain numbers per column."""
    for col in ("share", "intake_share"):
        if col not in data:
            continue
        header = col_header[mapping[col]]
        values = data[col]
        pct = percent_rows[col]
        plain = [v for v, p in zip(values, pct, strict=True) if v is not None and not p]
        as_percent = any(v > 1 for v in plain)
        if plain:
            if as_percent:
                notes.append(
                    f"{where}, column '{header}': plain numbers read as percentages (0-100), "
                    "because some exceed 1"
                )
            else:
                notes.append(
                    f"{where}, column '{header}': plain numbers read as fractions (0-1), "
                    "because none exceeds 1"
                )
        if any(pct):
            notes.append(f"{where}, column '{header}': '%' values divided by 100")
        out: list[float | None] = []
        for v, p, row in zip(values, pct, loc_rows, strict=True):
            if v is None:
                out.append(None)
                continue
            # percent -> fraction, rounded to 12 significant digits (69.2 % -> 0.692, not
            # 0.6920000000000001)
            frac = float(f"{v / 100.0:.12g}") if (p or as_percent) else v
            if frac > 1 + 1e-9:
                shown = f"{v:g}%" if (p or as_percent) else f"{v:g}"
                cell.problem(row, header, "share above 100 %", value=shown)
                cell.bad.add((row, col))
                out.append(None)
                continue
            out.append(frac)
        data[col] = out


def _empty_frame(kind: str) -> pd.DataFrame:
    import pandas as pd

    cols = {"nodes": ["id", "label", "stage"], "edges": ["source", "target", "flow"]}[kind]
    frame = pd.DataFrame({c: pd.Series([], dtype=object) for c in cols})
    if kind == "edges":
        frame["flow"] = frame["flow"].astype("float64")
    frame["_file"] = pd.Series([], dtype=object)
    frame["_sheet"] = pd.Series([], dtype=object)
    frame["_row"] = pd.Series([], dtype="int64")
    frame.attrs["columns"] = {}
    return frame


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    import pandas as pd

    if len(frames) == 1:
        return frames[0]
    attrs: dict[str, str] = {}
    bad: set[Any] = set()
    for f in frames:
        attrs.update(f.attrs.get("columns", {}))
        bad |= f.attrs.get("bad_cells", set())
    out = pd.concat(frames, ignore_index=True)
    out.attrs["columns"] = attrs
    out.attrs["bad_cells"] = bad
    return out


def _finish_nodes(frame: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """Kumu's rule: a missing/blank ID takes the Label."""
    if "label" not in frame.columns:
        return frame
    if "id" not in frame.columns:
        frame.insert(0, "id", frame["label"])
        frame.attrs["columns"]["id"] = frame.attrs["columns"].get("label", "Label")
        notes.append("nodes have no ID column; the Label is used as the id (Kumu's rule)")
        return frame
    blank = frame["id"].isna() & frame["label"].notna()
    if blank.any():
        frame.loc[blank, "id"] = frame.loc[blank, "label"]
        rows = ", ".join(str(r) for r in frame.loc[blank, "_row"].head(10))
        notes.append(f"{int(blank.sum())} node(s) with a blank ID use their Label (rows {rows})")
    return frame


def _normalize_countries(
    frame: pd.DataFrame, problems: list[Problem], notes: list[str], kind: str
) -> None:
    from supplygraph.io.countries import to_iso3

    if frame is None or "country" not in frame.columns:
        return
    header = frame.attrs.get("columns", {}).get("country", "country")
    rewrites: dict[tuple[str, str], int] = {}
    bad = frame.attrs.setdefault("bad_cells", set())
    values = frame["country"].tolist()
    kinds = set(map(type, values))
    if (
        _FAST
        and kinds <= {str, float}
        and (float not in kinds or all(v != v for v in values if v.__class__ is float))
    ):
        # text or NaN: look each distinct name up once; same problems, notes and values
        codes: dict[str, str] = {}
        errors: dict[str, str] = {}
        for value in dict.fromkeys(values):
            if value.__class__ is str:
                try:
                    codes[value] = to_iso3(value)
                except InputError as exc:
                    errors[value] = exc.problem.message
        if errors:
            places = zip(
                values,
                frame["_file"].tolist(),
                frame["_sheet"].tolist(),
                frame["_row"].tolist(),
                strict=True,
            )
            for value, f, s, r in places:
                if value.__class__ is str and value in errors:
                    problems.append(
                        Problem(
                            message=errors[value],
                            severity="error",
                            file=f,
                            sheet=s,
                            row=int(r),
                            column=header,
                            value=str(value),
                        )
                    )
                    bad.add((int(r), "country"))
        if any(code != value for value, code in codes.items()):
            counted = Counter(values)
            for value, code in codes.items():
                if code != value:
                    rewrites[(value, code)] = counted[value]
        convert: dict[str, str] = {**codes, **{value: value for value in errors}}
        frame["country"] = list(map(convert.get, values))
    else:
        out: list[Any] = []
        for value, f, s, r in zip(
            frame["country"], frame["_file"], frame["_sheet"], frame["_row"], strict=True
        ):
            if value is None or (isinstance(value, float) and math.isnan(value)):
                out.append(None)
                continue
            try:
                code = to_iso3(value)
            except InputError as exc:
                problems.append(
                    Problem(
                        message=exc.problem.message,
                        severity="error",
                        file=f,
                        sheet=s,
                        row=int(r),
                        column=header,
                        value=str(value),
                    )
                )
                bad.add((int(r), "country"))
                out.append(value)
                continue
            if code != value:
                rewrites[(str(value), code)] = rewrites.get((str(value), code), 0) + 1
            out.append(code)
        frame["country"] = out
    if rewrites:
        shown = "; ".join(
            f"'{a}' -> {b}" + (f" ({n} rows)" if n > 1 else "")
            for (a, b), n in list(rewrites.items())[:20]
        )
        more = f" and {len(rewrites) - 20} more" if len(rewrites) > 20 else ""
        notes.append(f"{kind}: country names normalised to ISO 3166-1 alpha-3: {shown}{more}")


def _collect(
    raws: list[tuple[str | None, Any]],
    problems: list[Problem],
    notes: list[str],
    counts: dict[str, dict[str, int]],
    unreadable: set[str] | None = None,
) -> tuple[list[pd.DataFrame], list[pd.DataFrame], list[pd.DataFrame], list[str] | None]:
    nodes: list[pd.DataFrame] = []
    edges: list[pd.DataFrame] = []
    shares: list[pd.DataFrame] = []
    stages: list[str] | None = None
    unreadable = set() if unreadable is None else unreadable
    for kind, raw in raws:
        if kind is None:
            continue
        build = getattr(raw, "build_frame", None)  # a table read by pyarrow (io.arrow)
        if build is not None:
            result = build(kind, problems, notes, counts)
        else:
            result = _build_frame(kind, raw, problems, notes, counts)
        if result is None:
            unreadable.add(kind)
            continue
        if kind == "stages":
            assert isinstance(result, list)
            if result:
                stages = list(dict.fromkeys([*(stages or []), *result]))
            continue
        assert not isinstance(result, list)
        {"nodes": nodes, "edges": edges, "shares": shares}[kind].append(result)
    return nodes, edges, shares, stages
