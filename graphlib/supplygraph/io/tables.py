"""The reader boundary: spreadsheets and CSV files in, schema-named tables out.

:func:`read_tables` accepts

- an ``.xlsx`` workbook (sheets ``Elements``/``Nodes``/``Points``, ``Connections``/``Edges``/
  ``Links``, ``StageShares``/``Shares``, and ``Stages (ignore)`` for the stage order; sheets
  with other names are classified by their headers);
- one ``.csv`` file holding nodes, edges or stage shares (detected from the file name, then the
  headers);
- a nodes/edges CSV pair (pass a list of paths);
- a folder of such CSV files (``nodes.csv``, ``edges.csv``, ``stage_shares.csv``,
  ``stages.csv`` ... or Kumu/Gephi/Flourish names).

It returns a :class:`Tables` whose frames use the schema's column names
(:data:`supplygraph.schema.NODE_COLUMNS`, :data:`~supplygraph.schema.EDGE_COLUMNS`), keep every
extra column under its original header, and carry three location columns -- ``_file``,
``_sheet`` and ``_row`` (1-based spreadsheet row, header = the row it is on) -- plus
``frame.attrs["columns"] = {schema name: original header}``, so every later problem names
file, sheet, row and column.

Header aliases (sheet and column names are matched after Unicode NFKC, case-folding, ``_``/``-``
to space and whitespace collapsing; the first alias present wins, any other alias stays an extra
column under its own header):

========================  =================================================================
schema column             accepted headers
========================  =================================================================
node ``id``               ID, Id (Gephi), id (Flourish). Blank or missing: the Label is used
                          (Kumu's rule).
node ``label``            Label, Name
edge ``source``/``target`` From/To (Kumu, ours); Source/Target (Gephi, Flourish)
edge ``flow``             Flow, Weight (Gephi), Value (Flourish), Quantity, Strength (Kumu)
edge ``source_ref``       Source ref, Reference, Citation -- and ``Source`` **when the sheet
                          has From/To columns**: a Kumu-style Connections sheet (From, To,
                          Source) uses ``Source`` for provenance, a Gephi/Flourish edge table
                          (Source, Target) uses it for the supplier. The endpoints are decided
                          first: From/To when both are present, else Source/Target.
node ``source``           Source, Citation, Reference (nodes have no endpoints)
share ``share``           Share, Share %, Percent
========================  =================================================================

Cells are read as they are stored: codes (country, HS) stay text -- ``"NA"`` is Namibia, never
missing; ``"0805"`` keeps its zero (CSV is read with the :mod:`csv` module, all cells text).
Numbers are parsed here: ``1,234.5`` and ``1 234.5`` are accepted, a decimal comma
(``1.234,5``, ``0,5``) is rejected with a hint, ``TRUE``/dates are not numbers. Shares accept
fractions (0-1), percentages (0-100) and ``"90 %"`` strings; the scale assumed for plain numbers
is decided per sheet and stated in :attr:`Tables.notes`. Countries are normalised to ISO
3166-1 alpha-3 (:func:`supplygraph.io.countries.to_iso3`); every rewrite is listed in the notes.
A text cell that starts with an apostrophe followed by a formula character (``'=``, ``'+``,
``'-``, ``'@``) is read without the apostrophe: that is how supplygraph (and OWASP-style
writers) neutralise formulas, so exported files read back unchanged.

Nothing is dropped silently: blank rows are skipped and counted (notes); every other row is in a
frame, and every cell that could not be read becomes a :class:`~supplygraph.errors.Problem`.
Unless ``validate=False``, :func:`supplygraph.validate_tables.validate_tables` then checks the
tables as a whole and raises :class:`~supplygraph.errors.ValidationError` listing every problem
when any is an error.
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from itertools import compress
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supplygraph.errors import InputError, Problem
from supplygraph.io.safe_text import FORMULA_PREFIXES
from supplygraph.schema import (
    EDGE_COLUMNS,
    NODE_COLUMNS,
    NUMERIC_EDGE_ATTRS,
    NUMERIC_NODE_ATTRS,
    RANGE_ATTRS,
    SIGNED_NODE_ATTRS,
    range_columns,
)

if TYPE_CHECKING:
    import pandas as pd

    from supplygraph.io.archive import ArchiveLimits

__all__ = [
    "EDGE_ALIASES",
    "NODE_ALIASES",
    "SHARE_ALIASES",
    "SHARE_COLUMNS",
    "Tables",
    "normalize_header",
    "parse_number",
    "read_tables",
]

#: Columns of the stage-shares table, in order.
SHARE_COLUMNS: list[str] = [
    "id",
    "label",
    "stage",
    "country",
    "share",
    "value",
    "unit",
    "end_use",
    "inputs_from",
    "intake_share",
    "source",
    "year",
    "evidence",
]

#: schema column -> accepted (normalised) headers, in priority order.
NODE_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "node id", "element id"),
    "label": ("label", "name"),
    "stage": ("stage",),
    "country": ("country", "country code", "iso3", "iso 3", "iso alpha 3"),
    "value": ("value", "output", "production"),
    "unit": ("unit", "units"),
    "capacity": ("capacity", "max output", "maximum output", "capacity per year"),
    "ramp_days": ("ramp days", "ramp up days", "ramp-up days"),
    "ramp_delay_days": ("ramp delay days", "ramp delay", "qualification days"),
    "external_input": ("external input",),
    "inventory_days": ("inventory days",),
    "recovery_days": ("recovery days", "time to recover days"),
    "end_use": ("end use", "sector"),
    "governance": ("governance", "governance score"),
    "source": ("source", "citation", "reference", "source ref"),
    "year": ("year",),
    "evidence": ("evidence",),
}
EDGE_ALIASES: dict[str, tuple[str, ...]] = {
    "source": ("from", "source"),
    "target": ("to", "target"),
    "flow": ("flow", "weight", "value", "quantity", "strength"),
    "material": ("material", "commodity", "product"),
    "unit": ("unit", "units"),
    "lead_days": ("lead days", "lead time days", "lead time"),
    "max_scale": ("max scale", "maximum scale"),
    "source_ref": ("source ref", "reference", "citation", "source"),
    "year": ("year",),
    "evidence": ("evidence",),
}
# range bounds (supplygraph.schema.RANGE_ATTRS): "Value low" or "value_low" -> value_low
for _kind, _aliases in (("nodes", NODE_ALIASES), ("edges", EDGE_ALIASES)):
    for _attr in RANGE_ATTRS[_kind]:
        for _col in range_columns(_attr):
            _aliases.setdefault(_col, (_col.replace("_", " "),))
SHARE_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id",),
    "label": ("label", "name"),
    "stage": ("stage",),
    "country": ("country", "country code", "iso3", "iso 3"),
    "share": ("share", "share %", "share (%)", "percent", "percentage", "%"),
    "value": ("value", "output", "production", "quantity"),
    "unit": ("unit", "units"),
    "end_use": ("end use", "sector"),
    "inputs_from": ("inputs from",),
    "intake_share": ("intake share",),
    "source": ("source", "citation", "reference", "source ref"),
    "year": ("year",),
    "evidence": ("evidence",),
}

NUMERIC_COLUMNS = {
    "nodes": (*NUMERIC_NODE_ATTRS, *SIGNED_NODE_ATTRS),
    "edges": NUMERIC_EDGE_ATTRS,
    "shares": ("share", "value", "intake_share"),
}
SHARE_LIKE = {"share", "intake_share"}
TEXT_KEYS = {"id", "label", "stage", "country", "source", "target", "source_ref", "inputs_from"}

SHEET_KINDS: dict[str, str] = {
    "elements": "nodes",
    "element": "nodes",
    "nodes": "nodes",
    "node": "nodes",
    "points": "nodes",
    "vertices": "nodes",
    "connections": "edges",
    "connection": "edges",
    "edges": "edges",
    "edge": "edges",
    "links": "edges",
    "flows": "edges",
    "stageshares": "shares",
    "stage shares": "shares",
    "shares": "shares",
    "stages": "stages",
}

#: Rows scanned for the header (title rows above it are allowed).
HEADER_SCAN_ROWS = 10
_MAX_TEXT = 32_767
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])  # as _CONTROL


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
    """

    nodes: pd.DataFrame
    edges: pd.DataFrame
    shares: pd.DataFrame | None
    stages: list[str] | None
    file: Path
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        """The problems whose severity is ``"error"``."""
        return [p for p in self.problems if p.severity == "error"]


# --------------------------------------------------------------------------------- helpers


def normalize_header(text: Any) -> str:
    """Return the matching key of a header or sheet name.

    Examples
    --------
    >>> normalize_header("  Source_Ref ")
    'source ref'
    >>> normalize_header("STAGE-SHARES")
    'stage shares'
    """
    s = unicodedata.normalize("NFKC", str(text))
    s = re.sub(r"[_\-]+", " ", s)
    s = re.sub(r"\s+", " ", s).strip()
    return s.casefold()


def column_letter(index: int) -> str:
    """Return the spreadsheet letter of a 1-based column number (1 -> A, 28 -> AB)."""
    out = ""
    while index > 0:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


_PLAIN = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_THOUSANDS_COMMA = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_THOUSANDS_SPACE = re.compile(r"^[+-]?\d{1,3}( \d{3})+(\.\d+)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+),\d+$")


def parse_number(value: Any) -> tuple[float | None, bool, str | None]:
    """Parse a cell as a number.

    Parameters
    ----------
    value
        A cell value: number or text.

    Returns
    -------
    number : float or None
        The number (a ``%`` string is returned as written, e.g. 90.0 for ``"90 %"``).
    percent : bool
        True when the text ended in ``%``.
    error : str or None
        Why the cell is not a number (None when it is, or when the cell is blank).

    Examples
    --------
    >>> parse_number("1,234.5")
    (1234.5, False, None)
    >>> parse_number(" 90 % ")
    (90.0, True, None)
    >>> parse_number("0,5")[2]
    'decimal comma is not accepted; write 0.5 (point as decimal separator)'
    """
    if value is None:
        return None, False, None
    if isinstance(value, bool):
        return None, False, f"{'TRUE' if value else 'FALSE'} is not a number"
    if isinstance(value, datetime | date | time):
        return None, False, "a date is not a number"
    if isinstance(value, int | float):
        number = float(value)
        if math.isnan(number) or math.isinf(number):
            return None, False, "not a finite number"
        return number, False, None
    text = unicodedata.normalize("NFKC", str(value)).replace("\u200b", "").strip()
    if not text:
        return None, False, None
    percent = text.endswith("%")
    if percent:
        text = text[:-1].strip()
    text = re.sub(r"[\u2009\u202f]", " ", text)
    if _PLAIN.match(text):
        clean = text
    elif _THOUSANDS_COMMA.match(text):
        clean = text.replace(",", "")
    elif _THOUSANDS_SPACE.match(text):
        clean = text.replace(" ", "")
    elif _DECIMAL_COMMA.match(text):
        fixed = text.replace(".", "").replace(",", ".")
        return (
            None,
            percent,
            f"decimal comma is not accepted; write {fixed} (point as decimal separator)",
        )
    else:
        return None, percent, "not a number"
    number = float(clean)
    if math.isinf(number):
        return None, percent, "not a finite number"
    return number, percent, None


def _unneutralize(text: str) -> str:
    if len(text) > 1 and text[0] == "'" and text[1:].startswith(FORMULA_PREFIXES):
        return text[1:]
    return text


class _Cell:
    """Conversion of raw cells with problem collection for one table."""

    def __init__(self, kind: str, file: str, sheet: str | None, problems: list[Problem]) -> None:
        self.kind = kind
        self.file = file
        self.sheet = sheet
        self.problems = problems
        self.bad: set[tuple[int, str]] = set()  # (row, schema column) cells already reported

    def problem(
        self,
        row: int | None,
        column: str | None,
        message: str,
        value: Any = None,
        severity: str = "error",
    ) -> None:
        shown = None if value is None else str(value)
        if shown is not None and len(shown) > 80:
            shown = shown[:77] + "..."
        self.problems.append(
            Problem(
                message=message,
                severity=severity,  # type: ignore[arg-type]
                file=self.file,
                sheet=self.sheet,
                row=row,
                column=column,
                value=shown,
            )
        )

    def special(self, row: int, header: str, col: str, value: Any) -> bool:
        """Report an Excel error / missing formula value; return True when the cell is one."""
        if value.__class__ is str or value.__class__ in (int, float):
            return False
        from supplygraph.io.xlsx import FORMULA_NO_VALUE, ExcelError

        if isinstance(value, ExcelError):
            self.problem(row, header, f"Excel error cell {value}", value=str(value))
            self.bad.add((row, col))
            return True
        if value is FORMULA_NO_VALUE:
            self.problem(
                row,
                header,
                "formula without a computed value (the file was written by a program, not "
                "saved by a spreadsheet app): open and save it in Excel/LibreOffice, or type "
                "the value",
            )
            self.bad.add((row, col))
            return True
        return False

    def text(self, row: int, header: str, col: str, value: Any) -> str | None:
        if value.__class__ is str:  # fast path: most cells
            text = value.strip()
            if text[:1] == "'":
                text = _unneutralize(text)
            if not text:
                return None
            if text[0] == "=" or len(text) > _MAX_TEXT or _CONTROL.search(text):
                self._check_text(row, header, col, text, value)
            return text
        if value is None or self.special(row, header, col, value):
            return None
        if isinstance(value, bool):
            text = "TRUE" if value else "FALSE"
        elif isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
            text = str(int(value))
        elif isinstance(value, datetime | date | time):
            text = value.isoformat()
        else:
            text = str(value)
        text = _unneutralize(text.strip())
        if not text:
            return None
        self._check_text(row, header, col, text, str(value))
        return text

    def _check_text(self, row: int, header: str, col: str, text: str, raw: str) -> None:
        if _CONTROL.search(text):
            self.problem(row, header, "control character in text", value=repr(text)[1:-1])
            self.bad.add((row, col))
        if len(text) > _MAX_TEXT:
            self.problem(
                row,
                header,
                f"text is {len(text):,} characters long; spreadsheets keep only {_MAX_TEXT:,}",
                severity="warning",
            )
        if raw.lstrip().startswith("=") and len(raw.strip()) > 1:
            self.problem(
                row,
                header,
                "text looks like a formula; it is kept as text and neutralised on export",
                value=raw,
                severity="warning",
            )

    def extra(self, row: int, header: str, value: Any) -> Any:
        if value is None or self.special(row, header, header, value):
            return None
        if isinstance(value, str):
            text = _unneutralize(value.strip())
            if not text:
                return None
            self._check_text(row, header, header, text, value)
            return text
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
            self.problem(
                row, header, "integer too large to store exactly", value=value, severity="warning"
            )
        return value

    def number(self, row: int, header: str, col: str, value: Any) -> tuple[float | None, bool]:
        if value is None or self.special(row, header, col, value):
            return None, False
        number, percent, error = parse_number(value)
        if error:
            self.problem(row, header, error, value=value)
            self.bad.add((row, col))
            return None, percent
        if percent and col not in SHARE_LIKE:
            self.problem(
                row, header, "a percentage is only accepted in a share column", value=value
            )
            self.bad.add((row, col))
            return None, False
        if isinstance(value, int) and abs(value) > 2**53:
            self.problem(
                row, header, "integer too large to store exactly", value=value, severity="warning"
            )
        return number, percent

    def year(self, row: int, header: str, col: str, value: Any) -> Any:
        if value is None or self.special(row, header, col, value):
            return None
        if isinstance(value, bool):
            self.problem(row, header, "TRUE/FALSE is not a year", value=value)
            self.bad.add((row, col))
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, datetime | date):
            return value.year
        text = _unneutralize(str(value).strip())
        if not text:
            return None
        if re.fullmatch(r"\d{4}", text):
            return int(text)
        if re.fullmatch(r"\d{4}\.0+", text):
            return int(float(text))
        self._check_text(row, header, col, text, str(value))
        return text  # ranges such as "2020-23" stay text


# ------------------------------------------------------------------------------ raw sheets


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


def _classify_headers(norm: list[str]) -> str | None:
    names = set(norm)
    if ("from" in names and "to" in names) or ("source" in names and "target" in names):
        return "edges"
    if "stage" in names and ("id" not in names and "label" not in names):
        if "country" in names and names & {"share", "share %", "percent", "value", "%"}:
            return "shares"
        if names <= {"stage", "order", "description", "colour", "color", "level"}:
            return "stages"
    if names & {"id", "label", "node id", "name"}:
        return "nodes"
    return None


def _header_ok(kind: str, norm: list[str]) -> bool:
    names = set(norm)
    if kind == "edges":
        return ("from" in names and "to" in names) or ("source" in names and "target" in names)
    if kind == "nodes":
        return bool(names & {"id", "label", "node id", "element id", "name"})
    if kind == "shares":
        return "stage" in names and bool(names & {"country", "iso3", "country code"})
    if kind == "stages":
        return "stage" in names
    return False


_KIND_NAMES = {
    "nodes": "a nodes table (Elements/Nodes/Points with ID or Label)",
    "edges": "an edges table (Connections/Edges/Links with From/To or Source/Target)",
    "shares": "a stage-shares table (Stage, Country, Share or Value)",
    "stages": "a stage list (Stage)",
}

_REQUIRED_HINT = {
    "edges": "From and To (or Source and Target)",
    "nodes": "ID or Label",
    "shares": "Stage and Country",
    "stages": "Stage",
}


def _sheet_kind(name: str) -> str | None:
    norm = normalize_header(name)
    ignore = False
    if norm.endswith("(ignore)"):
        ignore = True
        norm = norm[: -len("(ignore)")].strip()
    kind = SHEET_KINDS.get(norm) or SHEET_KINDS.get(norm.replace(" ", ""))
    if ignore:
        return "stages" if kind == "stages" else "ignore"
    return kind


# ---------------------------------------------------------------------------- table build


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


def _build_frame(
    kind: str,
    raw: _RawTable,
    problems: list[Problem],
    notes: list[str],
    counts: dict[str, dict[str, int]],
) -> pd.DataFrame | list[str] | None:
    """Turn a raw table into a schema-named frame (or a stage list for kind 'stages')."""
    import pandas as pd

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
    frame["_file"] = raw.file
    frame["_sheet"] = raw.sheet
    frame["_row"] = pd.Series(_int_array(loc_rows), dtype="int64")
    frame.attrs["columns"] = dict(originals)
    frame.attrs["bad_cells"] = set(cell.bad)
    return frame


# ------------------------------------------------------------------------ column reading

#: Private switch: False reads every cell through :class:`_Cell` one by one, row by row (the
#: reference path the column-wise reading is tested against).
_FAST = True

_NOT_NUMBER_CHAR = re.compile(r"[^0-9.eE+\-\n]")
_NOT_DIGIT = re.compile(r"[^0-9]")
_PLAIN_ASCII = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_EXACT_INT = 2**53


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


def _text_needs_checks(stripped: list[str]) -> bool:
    """True when some stripped cell may need :meth:`_Cell.text`: an apostrophe or ``=`` first,
    a control character, or text longer than a spreadsheet cell."""
    if not stripped:
        return False
    joined = "\n".join(stripped)
    return (
        joined[:1] in ("'", "=")
        or "\n'" in joined
        or "\n=" in joined
        or _CONTROL.search(joined) is not None
        or (len(joined) > _MAX_TEXT and max(map(len, stripped)) > _MAX_TEXT)
    )


class _ColumnReader:
    """Column-wise cell conversion: plain cells in bulk, any other cell through :class:`_Cell`.

    A cell is only converted here when :class:`_Cell` would return the same value without a
    problem; every other cell goes to :class:`_Cell`, whose problems are collected with their
    (row position, column position) so they can be put in row-by-row order.
    """

    def __init__(self, cell: _Cell, rows: list[int], fast: bool, plain: bool = False) -> None:
        self.cell = cell
        self.rows = rows
        self.fast = fast
        self.plain = plain
        self.buf: list[Problem] = []
        self.keyed: list[tuple[int, int, Problem]] = []

    def _slow(self, k: int, j: int, method: Any, *args: Any) -> Any:
        result = method(self.rows[k], *args)
        if self.buf:
            self.keyed.extend((k, j, p) for p in self.buf)
            self.buf.clear()
        return result

    def text(
        self,
        values: Sequence[Any],
        stripped: list[str] | None,
        header: str,
        col: str,
        j: int,
        extra: bool = False,
    ) -> list[Any]:
        cell = self.cell
        if not self.fast:
            if extra:
                return [self._slow(k, j, cell.extra, header, v) for k, v in enumerate(values)]
            return [self._slow(k, j, cell.text, header, col, v) for k, v in enumerate(values)]
        if stripped is not None and (self.plain or not _text_needs_checks(stripped)):
            return [s or None for s in stripped]
        out: list[Any] = []
        append = out.append
        for k, v in enumerate(values):
            cls = v.__class__
            if cls is str:
                s = v.strip()
                if not s:
                    append(None)
                    continue
                if s[0] != "'" and s[0] != "=" and len(s) <= _MAX_TEXT and not _CONTROL.search(s):
                    append(s)
                    continue
            elif v is None:
                append(None)
                continue
            elif extra and (cls is float or (cls is int and -_EXACT_INT <= v <= _EXACT_INT)):
                append(v)
                continue
            if extra:
                append(self._slow(k, j, cell.extra, header, v))
            else:
                append(self._slow(k, j, cell.text, header, col, v))
        return out

    def number(
        self, values: Sequence[Any], stripped: list[str] | None, header: str, col: str, j: int
    ) -> tuple[list[float | None], list[bool]]:
        cell = self.cell
        n = len(values)
        if not self.fast:
            pairs = [self._slow(k, j, cell.number, header, col, v) for k, v in enumerate(values)]
            return [p[0] for p in pairs], [p[1] for p in pairs]
        if stripped is not None and _NOT_NUMBER_CHAR.search("\n".join(stripped)) is None:
            # only digits, signs, points and exponents: float() accepts exactly what
            # parse_number's plain-number pattern accepts
            try:
                nums: list[float | None] | None = [float(s) if s else None for s in stripped]
            except ValueError:
                nums = None
            if nums is not None and math.inf not in nums and -math.inf not in nums:
                return nums, [False] * n
        out: list[float | None] = []
        pct: list[bool] = []
        for k, v in enumerate(values):
            cls = v.__class__
            if cls is str:
                s = v.strip()
                if not s:
                    out.append(None)
                    pct.append(False)
                    continue
                if _PLAIN_ASCII.fullmatch(s):
                    number = float(s)
                    if not math.isinf(number):
                        out.append(number)
                        pct.append(False)
                        continue
            elif cls is float:
                if math.isfinite(v):
                    out.append(v)
                    pct.append(False)
                    continue
            elif cls is int:
                if -_EXACT_INT <= v <= _EXACT_INT:
                    out.append(float(v))
                    pct.append(False)
                    continue
            elif v is None:
                out.append(None)
                pct.append(False)
                continue
            number_or_none, is_pct = self._slow(k, j, cell.number, header, col, v)
            out.append(number_or_none)
            pct.append(is_pct)
        return out, pct

    def year(
        self, values: Sequence[Any], stripped: list[str] | None, header: str, col: str, j: int
    ) -> list[Any]:
        cell = self.cell
        if not self.fast:
            return [self._slow(k, j, cell.year, header, col, v) for k, v in enumerate(values)]
        if (
            stripped is not None
            and _NOT_DIGIT.search("".join(stripped)) is None
            and set(map(len, stripped)) <= {0, 4}
        ):
            return [int(s) if s else None for s in stripped]
        out: list[Any] = []
        for k, v in enumerate(values):
            cls = v.__class__
            if cls is str:
                s = v.strip()
                if not s:
                    out.append(None)
                    continue
                if len(s) == 4 and s.isascii() and s.isdigit():
                    out.append(int(s))
                    continue
            elif cls is int:
                out.append(v)
                continue
            elif cls is float and v.is_integer():
                out.append(int(v))
                continue
            elif v is None:
                out.append(None)
                continue
            out.append(self._slow(k, j, cell.year, header, col, v))
        return out


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


# ------------------------------------------------------------------------------ sources


def _read_csv_raw(path: Path) -> _RawTable:
    """Read a CSV file as text cells (all values str), one record per spreadsheet row."""
    name = path.name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", file=str(path)) from None
    except IsADirectoryError:
        raise InputError("is a folder, not a file", file=str(path)) from None
    except PermissionError:
        raise InputError("cannot read the file: permission denied", file=str(path)) from None
    if not data.strip():
        raise InputError("file is empty", file=name)
    if data[:4] == b"PK\x03\x04":
        raise InputError("this is an .xlsx workbook (ZIP), not CSV text; name it .xlsx", file=name)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at position {exc.start}); save the "
            "file as 'CSV UTF-8'",
            file=name,
        ) from None
    if "\x00" in text:
        raise InputError("file contains NUL bytes; it is not a CSV text file", file=name)
    first_line = _first_line(text)
    counts = {d: first_line.count(d) for d in (",", ";", "\t", "|")}
    delim = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    lines = _plain_csv_lines(text)
    if lines is not None:
        plain = (
            b"'" not in data
            and b"=" not in data
            and len(data.translate(None, _CONTROL_BYTES)) == len(data)
            and max(map(len, lines), default=0) <= _MAX_TEXT
        )
        return _RawTable(name, None, None, _file_kind(path), lines=lines, delim=delim, plain=plain)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    try:
        records = list(reader)
    except csv.Error as exc:
        raise InputError(f"not a readable CSV file: {exc}", file=name) from None
    return _RawTable(name, None, None, _file_kind(path), records=records)


def _first_line(text: str) -> str:
    """The first line holding more than whitespace (as ``str.splitlines`` splits), or ``""``."""
    size = 1 << 16
    while True:
        lines = text[:size].splitlines()
        if size >= len(text):
            return next((ln for ln in lines if ln.strip()), "")
        for ln in lines[:-1]:  # the last line may be cut by the slice
            if ln.strip():
                return ln
        size *= 4


def _plain_csv_lines(text: str) -> list[str] | None:
    """The lines of CSV text without quotes, one per record; None when the text has quotes.

    Without a quote character :func:`csv.reader` reads one record per line (ended by
    ``\\n`` or ``\\r\\n``; a lone ``\\r`` is left to the csv module), the line split at
    the delimiter, an empty line being an empty record.
    """
    if '"' in text:
        return None
    if "\r" in text:
        if text.count("\r") != text.count("\r\n"):
            return None
        text = text.replace("\r\n", "\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if max(map(len, lines), default=0) > csv.field_size_limit():
        return None  # let the csv module report the over-long field
    return lines


def _file_kind(path: Path) -> str | None:
    return SHEET_KINDS.get(normalize_header(path.stem)) or SHEET_KINDS.get(
        normalize_header(path.stem).replace(" ", "")
    )


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


# ------------------------------------------------------------------------------- assembly


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
    raws: list[tuple[str | None, _RawTable]],
    problems: list[Problem],
    notes: list[str],
    counts: dict[str, dict[str, int]],
) -> tuple[list[pd.DataFrame], list[pd.DataFrame], list[pd.DataFrame], list[str] | None]:
    nodes: list[pd.DataFrame] = []
    edges: list[pd.DataFrame] = []
    shares: list[pd.DataFrame] = []
    stages: list[str] | None = None
    for kind, raw in raws:
        if kind is None:
            continue
        result = _build_frame(kind, raw, problems, notes, counts)
        if result is None:
            continue
        if kind == "stages":
            assert isinstance(result, list)
            if result:
                stages = list(dict.fromkeys([*(stages or []), *result]))
            continue
        assert not isinstance(result, list)
        {"nodes": nodes, "edges": edges, "shares": shares}[kind].append(result)
    return nodes, edges, shares, stages


def _xlsx_raws(
    path: Path, problems: list[Problem], notes: list[str], limits: ArchiveLimits | None
) -> tuple[list[tuple[str | None, _RawTable]], Any]:
    from supplygraph.io.xlsx import XlsxReader

    reader = XlsxReader(path, limits)
    raws: list[tuple[str | None, _RawTable]] = []
    name = path.name
    for info in reader.sheets:
        kind = _sheet_kind(info.name)
        if kind == "ignore":
            continue
        if info.state != "visible":
            problems.append(
                Problem(
                    message=f"{info.state} sheet skipped; unhide it if it holds data",
                    severity="warning",
                    file=name,
                    sheet=info.name,
                )
            )
            continue
        if kind is None:
            kind = _peek_sheet_kind(reader, info.name)
            if kind is None:
                notes.append(
                    f"{name}, sheet '{info.name}': not recognised as nodes, edges, stage shares "
                    "or stages; skipped"
                )
                continue

        def merged(i: Any = info) -> list[str]:
            return list(i.merged)

        raws.append((kind, _RawTable(name, info.name, reader.iter_rows(info.name), kind, merged)))
    return raws, reader


def read_tables(
    path: str | Path | Sequence[str | Path],
    *,
    strict: bool = False,
    validate: bool = True,
    limits: ArchiveLimits | None = None,
) -> Tables:
    """Read nodes, edges, stage shares and the stage list from a workbook, CSV file(s) or folder.

    Parameters
    ----------
    path
        An ``.xlsx``/``.xlsm`` file, a ``.csv`` file, a list of CSV files (e.g. a nodes/edges
        pair), or a folder of CSV files.
    strict
        Passed to validation: warnings count as errors.
    validate
        When True (default) run :func:`supplygraph.validate_tables.validate_tables`, which raises
        :class:`~supplygraph.errors.ValidationError` listing every problem when any is an error.
        When False, return the tables with the problems found while reading.
    limits
        Archive limits for workbooks (see :class:`supplygraph.io.archive.ArchiveLimits`).

    Returns
    -------
    Tables
        Frames with schema column names and ``_file``/``_sheet``/``_row`` location columns.

    Raises
    ------
    InputError
        When the input cannot be read at all (missing, empty, not a workbook, a zip bomb, XML
        entity declarations, no recognisable table).
    ValidationError
        When validation finds errors (only with ``validate=True``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "nodes.csv").write_text("ID,Stage,Country,Value\\nna:mine,mining,NA,5\\n")
    >>> _ = (d / "edges.csv").write_text("Source,Target,Weight\\n")
    >>> t = read_tables(d)
    >>> row = t.nodes.iloc[0]
    >>> row["id"], row["country"], float(row["value"]), int(row["_row"])
    ('na:mine', 'NAM', 5.0, 2)
    """
    problems: list[Problem] = []
    notes: list[str] = []
    counts: dict[str, dict[str, int]] = {}
    reader = None
    raws: list[tuple[str | None, _RawTable]] = []

    if isinstance(path, str | Path):
        p = Path(path)
        if not p.exists():
            raise InputError("no such file or folder", file=str(p))
        if p.is_dir():
            files = sorted(f for f in p.iterdir() if f.is_file() and not f.name.startswith("."))
            csvs = [f for f in files if f.suffix.lower() in (".csv", ".tsv", ".txt")]
            for f in files:
                if f not in csvs:
                    notes.append(f"{p.name}: file '{f.name}' is not a CSV table; not read")
            if not csvs:
                raise InputError("folder holds no .csv files", file=str(p))
            paths = csvs
            label = p
        else:
            paths = [p]
            label = p
    else:
        paths = [Path(x) for x in path]
        if not paths:
            raise InputError("no files given")
        label = paths[0]

    try:
        for f in paths:
            if not f.exists():
                raise InputError("no such file", file=str(f))
            if f.suffix.lower() in (".xlsx", ".xlsm") or (
                f.suffix.lower() not in (".csv", ".tsv", ".txt") and _looks_zip(f)
            ):
                if len(paths) > 1:
                    raise InputError(
                        "pass a workbook on its own, not together with other files", file=f.name
                    )
                r_raws, reader = _xlsx_raws(f, problems, notes, limits)
                raws.extend(r_raws)
            elif f.suffix.lower() == ".xls":
                raise InputError(
                    "old .xls workbooks are not supported; save it as .xlsx", file=f.name
                )
            else:
                raw = _read_csv_raw(f)
                kind = raw.kind_hint
                kind_h, raw = _peek_kind(raw)
                if kind is None or kind == "ignore":
                    kind = kind_h
                if kind is None:
                    if isinstance(path, str | Path) and Path(path).is_dir():
                        notes.append(
                            f"{f.name}: not recognised as nodes, edges, stage shares or stages; "
                            "not read"
                        )
                        continue
                    raise InputError(
                        "cannot tell what this table holds: expected "
                        + "; or ".join(_KIND_NAMES.values()),
                        file=f.name,
                    )
                raws.append((kind, raw))
        nodes_l, edges_l, shares_l, stages = _collect(raws, problems, notes, counts)
    finally:
        if reader is not None:
            reader.close()

    if not nodes_l and not edges_l and not shares_l:
        found = ", ".join(f"'{r.sheet or r.file}'" for _, r in raws) or "none"
        if problems and any(p.severity == "error" for p in problems):
            from supplygraph.errors import ValidationError

            raise ValidationError(problems)
        raise InputError(
            "no nodes, edges or stage-shares table found (expected sheets Elements and "
            f"Connections, or StageShares; tables read: {found})",
            file=label.name,
        )

    nodes = _concat(nodes_l) if nodes_l else _empty_frame("nodes")
    edges = _concat(edges_l) if edges_l else _empty_frame("edges")
    shares = _concat(shares_l) if shares_l else None
    if len(nodes_l) > 1 or len(edges_l) > 1:
        notes.append("several node or edge tables were found and concatenated")
    nodes = _finish_nodes(nodes, notes)
    _normalize_countries(nodes, problems, notes, "nodes")
    if shares is not None:
        _normalize_countries(shares, problems, notes, "stage shares")
        if nodes_l:
            notes.append(
                "both a nodes table and a stage-shares table were found; the graph is built "
                "from the nodes and edges, the stage shares are only validated"
            )
    tables = Tables(
        nodes=nodes,
        edges=edges,
        shares=shares,
        stages=stages,
        file=label,
        problems=problems,
        notes=notes,
        counts=counts,
    )
    if validate:
        from supplygraph.validate_tables import validate_tables

        validate_tables(tables, strict=strict)
    return tables


def _looks_zip(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(4) == b"PK\x03\x04"
    except OSError:
        return False
