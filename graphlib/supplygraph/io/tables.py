"""The reader boundary: spreadsheets, CSV, Parquet and Arrow files in, schema-named tables out.

:func:`read_tables` accepts

- an ``.xlsx`` workbook (sheets ``Elements``/``Nodes``/``Points``, ``Connections``/``Edges``/
  ``Links``, ``StageShares``/``Shares``, and ``Stages (ignore)`` for the stage order; sheets
  with other names are classified by their headers);
- one ``.csv`` file holding nodes, edges or stage shares (detected from the file name, then the
  headers);
- one ``.parquet``, ``.feather``/``.arrow`` (Arrow IPC) or ``.arrows`` (IPC stream) file, the
  same way (:mod:`supplygraph.io.arrow`);
- a nodes/edges pair of such files (pass a list of paths);
- a folder of such files (``nodes.csv``, ``edges.parquet``, ``stage_shares.csv``,
  ``stages.csv`` ... or Kumu/Gephi/Flourish names).

Where the reading lives: header aliases and table kinds in :mod:`supplygraph.io.headers`, cell
rules in :mod:`supplygraph.io.cells`, CSV text in :mod:`supplygraph.io.csv_text`, raw rows in
:mod:`supplygraph.io.rows`, frames (and :class:`Tables`) in :mod:`supplygraph.io.frames`,
Parquet/Arrow and plain CSV through pyarrow in :mod:`supplygraph.io.arrow`; workbooks in
:mod:`supplygraph.io.xlsx`. This module puts them together.

It returns a :class:`Tables` whose frames use the schema's column names
(:data:`supplygraph.schema.NODE_COLUMNS`, :data:`~supplygraph.schema.EDGE_COLUMNS`), keep every
extra column under its original header, and carry three location columns -- ``_file``,
``_sheet`` and ``_row`` (1-based spreadsheet row, header = the row it is on) -- plus
``frame.attrs["columns"] = {schema name: original header}``, so every later problem names
file, sheet, row and column. Parquet and Arrow files have no header row: their ``_row`` is the
1-based record number.

Header aliases (sheet and column names are matched after Unicode NFKC, case-folding, ``_``/``-``
to space and whitespace collapsing; the first alias present wins, any other alias stays an extra
column under its own header):

=============================  =================================================================
schema column                  accepted headers
=============================  =================================================================
node ``id``                    ID, Id (Gephi), id (Flourish). Blank or missing: the Label is used
                               (Kumu's rule).
node ``label``                 Label, Name
edge ``source``/``target``     From/To (Kumu, ours); Source/Target (Gephi, Flourish)
edge ``flow``                  Flow, Weight (Gephi), Value (Flourish), Quantity, Strength (Kumu)
edge ``source_ref``            Source ref, Reference, Citation -- and ``Source`` **when the sheet
                               has From/To columns**: a Kumu-style Connections sheet (From, To,
                               Source) uses ``Source`` for provenance, a Gephi/Flourish edge table
                               (Source, Target) uses it for the supplier. The endpoints are decided
                               first: From/To when both are present, else Source/Target.
node ``source``                Source, Citation, Reference (nodes have no endpoints)
share ``share``                Share, Share %, Percent
=============================  =================================================================

Cells are read as they are stored: codes (country, HS) stay text -- ``"NA"`` is Namibia, never
missing; ``"0805"`` keeps its zero (every CSV cell is read as text: by pyarrow for a plain
file, by the :mod:`csv` module otherwise, with the same result). Typed Parquet/Arrow columns
keep their types: numbers stay numbers, integer ids become text.
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

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supplygraph.errors import InputError, Problem
from supplygraph.io.arrow import (
    ARROW_SUFFIXES,
    TABLE_SUFFIXES,
    ArrowTable,
    read_arrow_file,
    read_plain_csv,
)
from supplygraph.io.cells import parse_number
from supplygraph.io.csv_text import _read_csv_raw
from supplygraph.io.frames import (
    Tables,
    _collect,
    _concat,
    _empty_frame,
    _finish_nodes,
    _normalize_countries,
)
from supplygraph.io.headers import (
    _KIND_NAMES,
    EDGE_ALIASES,
    NODE_ALIASES,
    SHARE_ALIASES,
    SHARE_COLUMNS,
    _file_kind,
    _sheet_kind,
    normalize_header,
)
from supplygraph.io.rows import _peek_kind, _peek_sheet_kind, _RawTable

if TYPE_CHECKING:
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


def _xlsx_raws(
    path: Path, problems: list[Problem], notes: list[str], limits: ArchiveLimits | None
) -> tuple[list[tuple[str | None, _RawTable]], Any]:
    from supplygraph.io.xlsx import XlsxReader

    reader = XlsxReader(path, limits)
    raws: list[tuple[str | None, Any]] = []
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
    raws: list[tuple[str | None, Any]] = []

    if isinstance(path, str | Path):
        p = Path(path)
        if not p.exists():
            raise InputError("no such file or folder", file=str(p))
        if p.is_dir():
            files = sorted(f for f in p.iterdir() if f.is_file() and not f.name.startswith("."))
            tabular = [f for f in files if f.suffix.lower() in TABLE_SUFFIXES]
            for f in files:
                if f not in tabular:
                    notes.append(
                        f"{p.name}: file '{f.name}' is not a CSV, Parquet or Arrow table; not read"
                    )
            if not tabular:
                raise InputError(
                    "folder holds no table files (.csv, .parquet, .feather or .arrow)", file=str(p)
                )
            paths = tabular
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
            elif f.suffix.lower() in ARROW_SUFFIXES:
                arrow = ArrowTable(f.name, read_arrow_file(f), header_row=None)
                kind = _file_kind(f) or arrow.kind()
                if kind is None or kind == "ignore":
                    _unrecognised(f, isinstance(path, str | Path) and Path(path).is_dir(), notes)
                    continue
                raws.append((kind, arrow))
            elif (plain := read_plain_csv(f, _file_kind(f))) is not None:
                raws.append((plain[0], ArrowTable(f.name, plain[1], header_row=1)))
            else:
                raw = _read_csv_raw(f)
                kind = raw.kind_hint
                kind_h, raw = _peek_kind(raw)
                if kind is None or kind == "ignore":
                    kind = kind_h
                if kind is None:
                    _unrecognised(f, isinstance(path, str | Path) and Path(path).is_dir(), notes)
                    continue
                raws.append((kind, raw))
        unreadable: set[str] = set()
        nodes_l, edges_l, shares_l, stages = _collect(raws, problems, notes, counts, unreadable)
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
        unreadable=unreadable,
    )
    if validate:
        from supplygraph.validate_tables import validate_tables

        validate_tables(tables, strict=strict)
    return tables


def _unrecognised(f: Path, in_folder: bool, notes: list[str]) -> None:
    """A table that is neither nodes, edges, stage shares nor stages: skipped with a note in a
    folder, an error when it was named on its own."""
    if not in_folder:
        raise InputError(
            "cannot tell what this table holds: expected " + "; or ".join(_KIND_NAMES.values()),
            file=f.name,
        )
    notes.append(f"{f.name}: not recognised as nodes, edges, stage shares or stages; not read")


def _looks_zip(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(4) == b"PK\x03\x04"
    except OSError:
        return False
