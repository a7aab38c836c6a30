"""Write a :class:`~supplygraph.report.build.ReportData` as a formatted Excel workbook.

Sheets: ``Summary`` (headline findings, provenance, scenarios, assumptions), the computed tables
(``Concentration``, ``Chokepoints``, ``Sweep``, ``Scenario``, ``Origins``, ``De-minimis``), then
the input tables (``Nodes``, ``Edges``, ``Sources``) laid out as the import expects, so the
workbook can be read back as input: the computed sheets are separate and are not input sheets.

Formatting: bold header row on a dark fill, frozen header, autofilter, number formats (``0.0%``
for shares, ``#,##0`` for counts and quantities), colour scales on shares and losses. Every text
cell goes through :func:`supplygraph.io.safe_text.neutralize_text` and is stored with the string
type, so a label such as ``=HYPERLINK(...)`` or ``#N/A`` is never a formula or an error value.

The tables' data rows are built a column at a time and spliced into the workbook openpyxl
writes (:mod:`supplygraph.report.sheetxml`), with the same cells :func:`_put` writes one at a
time; a table longer than a sheet holds keeps its first rows and a last row naming the Parquet
file with all of them (:func:`supplygraph.report.sheetxml.spill_long_tables`).
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from supplygraph.io.safe_text import atomic_path, neutralize_text
from supplygraph.report.build import DATE_PREFIX, ReportData, Table
from supplygraph.report.sheetxml import (
    MAX_CELL_CHARS,
    MAX_SHEET_ROWS,
    MISSING,
    SheetRows,
    formats_of,
    number_format,
)

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

__all__ = ["write_xlsx"]

HEADER_FILL = "1F3A5F"


def _text(value: Any) -> str:
    s = neutralize_text(str(value))
    if len(s) > MAX_CELL_CHARS:
        s = s[: MAX_CELL_CHARS - 1] + "…"
    return str(s)


def _put(
    ws: Worksheet,
    row: int,
    col: int,
    value: Any,
    kind: str = "text",
    *,
    blank_missing: bool = False,
) -> Any:
    """Write one cell safely: numbers as numbers, text as neutralised string cells."""
    cell = ws.cell(row=row, column=col)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        if not blank_missing:
            cell.value = MISSING
            cell.data_type = "s"
        return cell
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (AttributeError, ValueError):
            value = str(value)
    if isinstance(value, bool):
        cell.value = value
    elif isinstance(value, (int, float)):
        x = float(value)
        if not math.isfinite(x):
            cell.value = MISSING
            cell.data_type = "s"
            return cell
        cell.value = value
        cell.number_format = number_format(kind, x)
    else:
        if isinstance(value, (list, tuple)):
            value = ", ".join(str(v) for v in value)
        cell.value = _text(value)
        cell.data_type = "s"  # never a formula ('f') or an error value ('e')
    return cell


def _style_header(ws: Worksheet, row: int, ncols: int) -> None:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    fill = PatternFill("solid", start_color=HEADER_FILL, end_color=HEADER_FILL)
    font = Font(bold=True, color="FFFFFF")
    border = Border(bottom=Side(style="thin", color="000000"))
    for c in range(1, ncols + 1):
        cell = ws.cell(row=row, column=c)
        cell.fill = fill
        cell.font = font
        cell.border = border
        cell.alignment = Alignment(vertical="center", wrap_text=True)


def _widths(ws: Worksheet, t: Table, rows: list[list[str]]) -> None:
    from openpyxl.utils import get_column_letter

    for j, col in enumerate(t.frame.columns, start=1):
        longest = max([len(t.header(col)), *(len(r[j - 1]) for r in rows[:500])], default=8)
        ws.column_dimensions[get_column_letter(j)].width = max(8, min(60, longest + 2))


def input_headers(key: str) -> dict[str, str]:
    """Return the spreadsheet template's header per schema column for an input table.

    The report's ``Nodes`` and ``Edges`` sheets use the headers of the template's ``Elements``
    and ``Connections`` sheets (:mod:`supplygraph.io.template`: ``ID``, ``Label`` ... and
    ``From``, ``To``, ``Flow`` ...), so the workbook reads back as input; other tables keep
    their column names.
    """
    try:
        from supplygraph.io.template import CONNECTION_HEADERS, ELEMENT_HEADERS
    except ImportError:  # pragma: no cover - the template module is optional here
        return {}
    return {"nodes": ELEMENT_HEADERS, "edges": CONNECTION_HEADERS}.get(key, {})


def _write_table(
    ws: Worksheet,
    t: Table,
    *,
    input_sheet: bool = False,
    max_rows: int = MAX_SHEET_ROWS,
    rest_in: str | None = None,
) -> SheetRows | None:
    """Lay out ``t``'s sheet: header in row 1 (frozen), filters, colour scales, widths.

    The data rows (from row 2) are returned, for :func:`supplygraph.report.sheetxml.splice`
    to write; row 2 holds one template cell per number format until then, whose style ids the
    spliced cells use. A table longer than ``max_rows - 1`` rows keeps its first
    ``max_rows - 2`` and a last row saying that the rest is in ``rest_in``.
    """
    from openpyxl.formatting.rule import ColorScaleRule
    from openpyxl.utils import get_column_letter

    cols = list(t.frame.columns)
    names = input_headers(t.key) if input_sheet else {}
    for j, col in enumerate(cols, start=1):
        # input sheets use the import's column names so that the workbook re-imports
        _put(ws, 1, j, names.get(str(col), str(col)) if input_sheet else t.header(col))
    if not cols:
        return None
    _style_header(ws, 1, len(cols))
    kinds = [t.kind(c) for c in cols]
    frame, note = t.frame, ""
    if len(frame) > max_rows - 1:
        frame = frame.head(max_rows - 2)
        note = (
            f"Rows {max_rows - 1:,} to {len(t.frame):,} of this table are not in this sheet "
            f"(a sheet holds {max_rows:,} rows): "
            + (f"all {len(t.frame):,} rows are in {rest_in}." if rest_in else "see report.json.")
        )
    styles = {}
    for j, fmt in enumerate(formats_of(kinds), start=1):
        cell = ws.cell(row=2, column=j, value=0)
        cell.number_format = fmt
        styles[fmt] = int(cell.style_id)
    n = len(frame)
    ws.freeze_panes = "A2"
    last = get_column_letter(len(cols))
    ws.auto_filter.ref = f"A1:{last}{max(n + 1, 1)}"
    if n:
        for j, col in enumerate(cols, start=1):
            if col in t.scale:
                letter = get_column_letter(j)
                ws.conditional_formatting.add(
                    f"{letter}2:{letter}{n + 1}",
                    ColorScaleRule(
                        start_type="num",
                        start_value=0,
                        start_color="FFFFFF",
                        end_type="num",
                        end_value=1,
                        end_color="E7846D",
                    ),
                )
    _widths(ws, t, dataclasses.replace(t, frame=t.frame.head(500)).display_rows())
    return SheetRows(ws.title, frame, kinds, styles, blank_missing=input_sheet, note=note)


def _summary(ws: Worksheet, data: ReportData) -> int:
    from openpyxl.styles import Alignment, Font

    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 110
    r = 1
    _put(ws, r, 1, data.title).font = Font(bold=True, size=14)
    r += 1
    _put(ws, r, 1, f"{DATE_PREFIX} {data.date}")
    r += 2
    _put(ws, r, 1, "Headline findings").font = Font(bold=True, size=12)
    r += 1
    for s in data.headline:
        c = _put(ws, r, 2, s)
        c.alignment = Alignment(wrap_text=True, vertical="top")
        r += 1
    if data.robustness:
        r += 1
        _put(ws, r, 1, "How robust are the findings?").font = Font(bold=True, size=12)
        r += 1
        for s in data.robustness:
            c = _put(ws, r, 2, s)
            c.alignment = Alignment(wrap_text=True, vertical="top")
            r += 1
    r += 1
    _put(ws, r, 1, "Provenance").font = Font(bold=True, size=12)
    r += 1
    for k, v in data.provenance.items():
        if k == "date":
            continue  # on the one date line above
        _put(ws, r, 1, k).font = Font(bold=True)
        _put(ws, r, 2, v)
        r += 1
    if data.scenarios:
        r += 1
        _put(ws, r, 1, "Scenarios").font = Font(bold=True, size=12)
        r += 1
        for sc in data.scenarios:
            _put(ws, r, 1, sc["name"]).font = Font(bold=True)
            desc = str(sc.get("description") or "")
            shocks = "; ".join(str(s) for s in sc.get("shocks") or [])
            text = f"{desc} Model: {sc.get('model', '')}. Shocks: {shocks}".strip()
            c = _put(ws, r, 2, text)
            c.alignment = Alignment(wrap_text=True, vertical="top")
            r += 1
    r += 1
    _put(ws, r, 1, "Assumptions and method").font = Font(bold=True, size=12)
    r += 1
    for a in [*data.assumptions, *data.notes]:
        c = _put(ws, r, 2, a)
        c.alignment = Alignment(wrap_text=True, vertical="top")
        r += 1
    r += 1
    _put(ws, r, 1, "Sheets").font = Font(bold=True, size=12)
    r += 1
    _put(
        ws,
        r,
        2,
        "Computed results: Concentration, Chokepoints, Sweep, Scenario, Origins, De-minimis. "
        "Input as analysed: Nodes, Edges, Sources and Stages (ignore), in the layout of the "
        "supplygraph template, so this workbook reads back as input (results are not read).",
    ).alignment = Alignment(wrap_text=True)
    for key, spilled in (data.raw.get("table_files") or {}).items():
        r += 1
        _put(
            ws,
            r,
            2,
            f"{data.tables[key].sheet}: the first {spilled['rows_in_report']:,} of "
            f"{spilled['rows']:,} rows; all of them are in {spilled['path']} (Parquet).",
        ).alignment = Alignment(wrap_text=True)
    return r + 2


def write_xlsx(
    data: ReportData,
    path: str | os.PathLike[str],
    *,
    await_charts: Callable[[], None] | None = None,
    max_rows: int | None = None,
) -> os.PathLike[str] | str:
    """Write the report workbook atomically.

    Parameters
    ----------
    data
        The report data.
    path
        Target ``.xlsx`` path (written through a temporary file and renamed).
    await_charts
        Called once every cell is laid out and before ``data.charts`` is read: a caller whose
        charts are still drawing elsewhere fills them in here, having overlapped the wait with
        building the workbook.
    max_rows
        Rows a sheet holds, the header included (default: Excel's 1,048,576, or the limit
        :func:`~supplygraph.report.sheetxml.spill_long_tables` spilled the data with).

    Returns
    -------
    path
        The path written.
    """
    import io

    from openpyxl import Workbook

    from supplygraph.report.sheetxml import splice

    if max_rows is None:
        max_rows = int(data.raw.get("max_sheet_rows") or MAX_SHEET_ROWS)
    files = data.raw.get("table_files") or {}
    rows: dict[str, SheetRows] = {}
    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    last = _summary(ws, data)
    order = [
        ("concentration", False),
        ("concentration_groups", False),
        ("chokepoints", False),
        ("sweep", False),
        ("scenario", False),
        ("origins", False),
        ("deminimis", False),
        ("nodes", True),
        ("edges", True),
        ("sources", True),
    ]
    for key, is_input in order:
        t = data.tables.get(key)
        if t is None or t.sheet is None:
            continue
        sheet = wb.create_sheet(t.sheet)
        rest_in = files.get(key, {}).get("path")
        laid = _write_table(sheet, t, input_sheet=is_input, max_rows=max_rows, rest_in=rest_in)
        if laid is not None:
            rows[sheet.title] = laid
        if is_input:
            sheet.sheet_properties.tabColor = "8C959F"
    stages = data.raw.get("stages") or []
    if stages:
        # the stage order, as the template writes it, so the re-import keeps it
        sheet = wb.create_sheet("Stages (ignore)")
        for j, head in enumerate(("Stage", "Order"), start=1):
            _put(sheet, 1, j, head)
        _style_header(sheet, 1, 2)
        for i, stage in enumerate(stages, start=1):
            _put(sheet, i + 1, 1, str(stage))
            _put(sheet, i + 1, 2, i, "int")
        sheet.freeze_panes = "A2"
        sheet.sheet_properties.tabColor = "8C959F"
    import datetime as _dt

    try:
        stamp = _dt.datetime.fromisoformat(data.date)
    except ValueError:
        stamp = None
    if stamp is not None:
        wb.properties.created = stamp.replace(tzinfo=None)
    wb.properties.creator = "supplygraph"
    wb.properties.title = data.title
    if await_charts is not None:
        await_charts()
    if "concentration" in data.charts:
        _add_image(ws, data.charts["concentration"].png, f"B{last}")
    skeleton = io.BytesIO()
    wb.save(skeleton)
    with atomic_path(path) as tmp:
        splice(skeleton.getvalue(), tmp, rows)
    return path


def _add_image(ws: Worksheet, png: bytes, anchor: str) -> None:
    import io

    try:
        from openpyxl.drawing.image import Image
    except ImportError:  # pragma: no cover - Pillow missing
        return
    img = Image(io.BytesIO(png))
    img.width = int(img.width * 0.5)
    img.height = int(img.height * 0.5)
    ws.add_image(img, anchor)
