"""The supplygraph workbook: a fill-in template, and the same layout written from a graph.

Sheets (Kumu-style, so the same file can be dragged into Kumu, which skips ``(ignore)`` sheets):

``Elements``
    One row per producer/node: ID, Label, Stage, Country, Value, Unit, Capacity, Ramp days,
    Ramp delay days, External input, Inventory days, Recovery days, End use, Governance, Year,
    Source, Evidence, then any extra attributes.
``Connections``
    One row per flow: From, To, Material, Flow, Unit, Lead days, Max scale, Year, Source (the flow's
    provenance, ``source_ref``), Evidence, then extras.
``StageShares``
    For the shares-only case (no bilateral data): Stage, Country, Share, Value, Unit, Year,
    Source, Evidence. Used only when Elements is empty.
``README (ignore)``, ``Stages (ignore)``, ``Lists (ignore)``
    Instructions; the stage order (read back by supplygraph as the graph's stage list); the
    dropdown values (units, evidence labels).

Stage, Unit and Evidence cells have dropdowns, header rows are frozen, columns sized. Every
text cell goes through :func:`supplygraph.io.safe_text.neutralize_text` and is stored as a
string cell (never a formula or an error cell); the reader removes the neutralising apostrophe
again, so files round-trip. Files are written atomically.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supplygraph.errors import InputError
from supplygraph.io.safe_text import atomic_path, neutralize_text
from supplygraph.schema import (
    DEFAULT_STAGES,
    EDGE_COLUMNS,
    EVIDENCE_LABELS,
    NODE_COLUMNS,
    RANGE_ATTRS,
    range_columns,
)

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "CONNECTION_HEADERS",
    "ELEMENT_HEADERS",
    "SHARE_HEADERS",
    "UNITS",
    "write_template",
    "write_workbook",
]

#: schema node column -> header written in the Elements sheet.
ELEMENT_HEADERS: dict[str, str] = {
    "id": "ID",
    "label": "Label",
    "stage": "Stage",
    "country": "Country",
    "value": "Value",
    "unit": "Unit",
    "capacity": "Capacity",
    "ramp_days": "Ramp days",
    "ramp_delay_days": "Ramp delay days",
    "external_input": "External input",
    "inventory_days": "Inventory days",
    "recovery_days": "Recovery days",
    "end_use": "End use",
    "governance": "Governance",
    "year": "Year",
    "source": "Source",
    "evidence": "Evidence",
}
#: schema edge column -> header written in the Connections sheet.
CONNECTION_HEADERS: dict[str, str] = {
    "source": "From",
    "target": "To",
    "material": "Material",
    "flow": "Flow",
    "unit": "Unit",
    "lead_days": "Lead days",
    "max_scale": "Max scale",
    "year": "Year",
    "source_ref": "Source",
    "evidence": "Evidence",
}


def _with_range_headers(headers: dict[str, str], attrs: tuple[str, ...]) -> dict[str, str]:
    """``headers`` followed by ``"<Header> low"``/``"<Header> high"`` of each ranged attribute
    (after the other known columns, so the familiar columns keep their places)."""
    out = dict(headers)
    for key, text in headers.items():
        if key in attrs:
            low, high = range_columns(key)
            out[low], out[high] = f"{text} low", f"{text} high"
    return out


ELEMENT_HEADERS = _with_range_headers(ELEMENT_HEADERS, RANGE_ATTRS["nodes"])
CONNECTION_HEADERS = _with_range_headers(CONNECTION_HEADERS, RANGE_ATTRS["edges"])
#: The range columns the blank template shows (the others are written only when a graph has them).
TEMPLATE_RANGES: tuple[str, ...] = (
    *range_columns("value"),
    *range_columns("capacity"),
    *range_columns("inventory_days"),
    *range_columns("flow"),
)
_RANGE_KEYS = frozenset(
    c for attrs in RANGE_ATTRS.values() for a in attrs for c in range_columns(a)
)


def _shown(headers: dict[str, str], keep: Iterable[str]) -> dict[str, str]:
    """``headers`` without the range columns not in ``keep``."""
    kept = set(keep)
    return {k: h for k, h in headers.items() if k not in _RANGE_KEYS or k in kept}


#: stage-shares column -> header written in the StageShares sheet.
SHARE_HEADERS: dict[str, str] = {
    "stage": "Stage",
    "country": "Country",
    "share": "Share",
    "value": "Value",
    "unit": "Unit",
    "year": "Year",
    "source": "Source",
    "evidence": "Evidence",
}
#: Units offered in the Unit dropdowns (other text is accepted too).
UNITS: tuple[str, ...] = (
    "t REO/yr",
    "t oxide/yr",
    "t metal/yr",
    "t magnet/yr",
    "t/yr",
    "USD/yr",
)

_WIDTHS = {
    "ID": 18,
    "Label": 28,
    "Stage": 13,
    "Country": 9,
    "Source": 34,
    "Material": 18,
    "From": 18,
    "To": 18,
    "Evidence": 11,
    "Unit": 12,
}

_MAX_DROPDOWN_ROWS = 100_000

_SRC_USGS = "USGS Mineral Commodity Summaries 2025, Rare earths"
_SRC_QUOTA = "Mexico Business News (China 2024 quotas)"
_SRC_LYNAS = "Lynas FY2025 results (middle.news)"

_EXAMPLE_ELEMENTS: list[dict[str, Any]] = [
    {
        "id": "CHN:mining",
        "label": "China mining",
        "stage": "mining",
        "country": "CHN",
        "value": 270000,
        "unit": "t REO/yr",
        "year": 2024,
        "source": _SRC_USGS,
        "evidence": "primary",
    },
    {
        "id": "USA:mining",
        "label": "United States mining",
        "stage": "mining",
        "country": "USA",
        "value": 45000,
        "unit": "t REO/yr",
        "year": 2024,
        "source": _SRC_USGS,
        "evidence": "primary",
    },
    {
        "id": "MMR:mining",
        "label": "Myanmar mining",
        "stage": "mining",
        "country": "MMR",
        "value": 31000,
        "unit": "t REO/yr",
        "year": 2024,
        "source": _SRC_USGS,
        "evidence": "primary",
    },
    {
        "id": "CHN:separation",
        "label": "China separation",
        "stage": "separation",
        "country": "CHN",
        "value": 254000,
        "unit": "t REO/yr",
        "year": 2024,
        "source": _SRC_QUOTA,
        "evidence": "secondary",
    },
    {
        "id": "MYS:separation",
        "label": "Malaysia separation (Lynas)",
        "stage": "separation",
        "country": "MYS",
        "value": 10462,
        "unit": "t REO/yr",
        "year": 2025,
        "source": _SRC_LYNAS,
        "evidence": "secondary",
    },
]
_EXAMPLE_CONNECTIONS: list[dict[str, Any]] = [
    {
        "source": "CHN:mining",
        "target": "CHN:separation",
        "material": "REO concentrate",
        "flow": 223000,
        "unit": "t REO/yr",
        "year": 2024,
        "source_ref": "example",
        "evidence": "assumption",
    },
    {
        "source": "USA:mining",
        "target": "CHN:separation",
        "material": "REO concentrate",
        "flow": 41000,
        "unit": "t REO/yr",
        "year": 2024,
        "source_ref": "example",
        "evidence": "assumption",
    },
    {
        "source": "MMR:mining",
        "target": "CHN:separation",
        "material": "REO concentrate",
        "flow": 31000,
        "unit": "t REO/yr",
        "year": 2024,
        "source_ref": "example",
        "evidence": "assumption",
    },
]
_EXAMPLE_SHARES: list[dict[str, Any]] = [
    {
        "stage": "mining",
        "country": "CHN",
        "share": 0.692,
        "year": 2024,
        "source": _SRC_USGS,
        "evidence": "primary",
    },
    {
        "stage": "mining",
        "country": "USA",
        "share": 0.115,
        "year": 2024,
        "source": _SRC_USGS,
        "evidence": "primary",
    },
    {
        "stage": "mining",
        "country": "MMR",
        "share": 0.079,
        "year": 2024,
        "source": _SRC_USGS,
        "evidence": "primary",
    },
    {
        "stage": "mining",
        "country": "ROW",
        "share": 0.114,
        "year": 2024,
        "source": _SRC_USGS,
        "evidence": "derived",
    },
]

_README = [
    "supplygraph workbook",
    "",
    "Fill in either Elements + Connections (a supplier map), or StageShares (who produces "
    "what share of each stage, when no bilateral data exist).",
    "Elements: one row per producer. ID must be unique (blank ID: the Label is used). Stage must "
    "be one of the stages on the 'Stages (ignore)' sheet (edit that list to define your own chain, "
    "upstream first). Country: ISO 3166-1 alpha-3 (CHN, USA, MMR) or a name; EU, ROW (rest of "
    "world) and XXX (unknown) are accepted. Value: normal output per year in Unit. Capacity "
    "(optional): the most it can produce per year, at least Value; the spare capacity is what "
    "the supply responses (rules, optimal) may use. Ramp days / Ramp delay days (optional): how "
    "long spare capacity takes to come online, and the delay before it starts.",
    "Connections: one row per flow, From -> To, using Element IDs. Flow: quantity per year "
    "(>= 0) in Unit. Max scale (optional, >= 1): how far this link may grow under a supply "
    "response, as a multiple of Flow (blank: no limit but the supplier's capacity). Source: "
    "where the number comes from.",
    "StageShares: Share as a fraction (0.69) or a percentage (69 or 69 %); one basis per sheet. "
    "Used only when Elements is empty; supplygraph then assumes a pooled world market between "
    "stages.",
    "Ranges (optional): Value low / Value high, Capacity low / high, Inventory days low / high "
    "and Flow low / high bound an uncertain number (low <= value <= high; a blank bound equals "
    "the value). Monte Carlo draws (--draws) take each number from triangular(low, value, high); "
    "a column '<name>_dist' (triangular, uniform, pert) changes that, and rows sharing a "
    "'<name>_group' text are drawn together. Any numeric column may have a range.",
    "Extra columns are kept as attributes. Sheets whose name ends in (ignore) are notes for "
    "people and for Kumu; supplygraph reads only the stage list from 'Stages (ignore)'.",
    "The example rows come from the rare-earth chain (USGS MCS 2025 and others, see Source); "
    "replace them with your data. Check a file with: supplygraph validate FILE",
]


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _cell_value(value: Any, where: str) -> tuple[Any, bool]:
    """Return (value to write, is_text)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()  # numpy scalar
    if isinstance(value, bool | int):
        return value, False
    if isinstance(value, float):
        if math.isinf(value):
            return neutralize_text(str(value)), True
        return value, False
    if isinstance(value, list | tuple | set):
        value = "|".join(str(v) for v in value)
    elif isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    elif not isinstance(value, str):
        value = str(value)
    if ILLEGAL_CHARACTERS_RE.search(value):
        msg = f"{where}: text holds a control character, which .xlsx cannot store"
        raise InputError(msg)
    return neutralize_text(value), True


class _Sheet:
    """A write-only sheet with a styled, frozen header."""

    def __init__(self, wb: Any, title: str, headers: Sequence[str]) -> None:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font, PatternFill

        self.ws = wb.create_sheet(title)
        self.headers = list(headers)
        self.title = title
        self.ws.freeze_panes = "A2"
        for i, h in enumerate(self.headers, start=1):
            letter = _letter(i)
            width = _WIDTHS.get(h, max(10, min(40, len(h) + 4)))
            self.ws.column_dimensions[letter].width = width
        self._WriteOnlyCell = WriteOnlyCell
        bold = Font(bold=True)
        fill = PatternFill("solid", fgColor="DDEBF7")
        row = []
        for h in self.headers:
            c = WriteOnlyCell(self.ws, value=neutralize_text(h))
            c.data_type = "s"
            c.font = bold
            c.fill = fill
            row.append(c)
        self.rows = 1
        self._pending_header = row

    def validation(self, header: str, formula: str, prompt: str) -> None:
        from openpyxl.worksheet.datavalidation import DataValidation

        if header not in self.headers:
            return
        col = _letter(self.headers.index(header) + 1)
        dv = DataValidation(
            type="list",
            formula1=formula,
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="warning",
            error=f"Not in the list; see {prompt}.",
            errorTitle=header,
        )
        dv.add(f"{col}2:{col}{_MAX_DROPDOWN_ROWS}")
        self.ws.data_validations.append(dv)

    def start(self) -> None:
        self.ws.append(self._pending_header)

    def append(self, values: Sequence[Any], where: str) -> None:
        row: list[Any] = []
        for header, value in zip(self.headers, values, strict=True):
            if _is_missing(value):
                row.append(None)
                continue
            v, is_text = _cell_value(value, f"{where}, {header}")
            if is_text:
                c = self._WriteOnlyCell(self.ws, value=v)
                c.data_type = "s"
                row.append(c)
            else:
                row.append(v)
        self.ws.append(row)
        self.rows += 1


def _letter(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(i)


def _new_workbook() -> Any:
    import openpyxl

    return openpyxl.Workbook(write_only=True)


def _add_readme(wb: Any, extra: Iterable[str] = ()) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font

    ws = wb.create_sheet("README (ignore)")
    ws.column_dimensions["A"].width = 120
    for i, line in enumerate([*_README, *extra]):
        c = WriteOnlyCell(ws, value=neutralize_text(line))
        c.data_type = "s"
        c.alignment = Alignment(wrap_text=True, vertical="top")
        if i == 0:
            c.font = Font(bold=True, size=14)
        ws.append([c])


def _add_stages(wb: Any, stages: Sequence[str]) -> None:
    sheet = _Sheet(wb, "Stages (ignore)", ["Stage", "Order"])
    sheet.start()
    for i, s in enumerate(stages, start=1):
        sheet.append([s, i], "Stages")


def _add_lists(wb: Any, units: Sequence[str]) -> None:
    sheet = _Sheet(wb, "Lists (ignore)", ["Unit", "Evidence"])
    sheet.start()
    n = max(len(units), len(EVIDENCE_LABELS))
    for i in range(n):
        unit = units[i] if i < len(units) else None
        ev = EVIDENCE_LABELS[i] if i < len(EVIDENCE_LABELS) else None
        sheet.append([unit, ev], "Lists")


def _dropdowns(sheet: _Sheet, n_stages: int, n_units: int) -> None:
    sheet.validation(
        "Stage", f"'Stages (ignore)'!$A$2:$A${max(n_stages, 1) + 1}", "sheet 'Stages (ignore)'"
    )
    sheet.validation("Unit", f"'Lists (ignore)'!$A$2:$A${max(n_units, 1) + 1}", "'Lists (ignore)'")
    sheet.validation(
        "Evidence",
        f"'Lists (ignore)'!$B$2:$B${len(EVIDENCE_LABELS) + 1}",
        "sheet 'Lists (ignore)'",
    )


def _discard(wb: Any) -> None:
    """Close the write-only sheets of an abandoned workbook (their temp files and streams)."""
    import contextlib

    for ws in getattr(wb, "_sheets", []):
        with contextlib.suppress(Exception):
            if not ws.closed:
                ws.close()


def _save(wb: Any, path: str | Path) -> Path:
    target = Path(path)
    if target.suffix.lower() not in (".xlsx", ".xlsm"):
        msg = f"{target.name}: a workbook must be named .xlsx"
        raise InputError(msg)
    with atomic_path(target) as tmp:
        wb.save(tmp)
    return target


def write_template(path: str | Path = "chain.xlsx", *, stages: Sequence[str] | None = None) -> Path:
    """Write an empty-but-for-examples workbook an analyst can fill in without reading docs.

    Parameters
    ----------
    path
        Where to write the ``.xlsx`` (written atomically; parent folders are created).
    stages
        The stage list for the ``Stages (ignore)`` sheet and the Stage dropdowns; defaults to
        the rare-earth chain (:data:`supplygraph.schema.DEFAULT_STAGES`).

    Returns
    -------
    pathlib.Path
        The written file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = write_template(pathlib.Path(tempfile.mkdtemp()) / "chain.xlsx")
    >>> import openpyxl
    >>> openpyxl.load_workbook(p, read_only=True).sheetnames
    ['Elements', 'Connections', 'StageShares', 'README (ignore)', 'Stages (ignore)', 'Lists (ignore)']
    """
    stages = list(stages or DEFAULT_STAGES)
    wb = _new_workbook()
    element_headers = _shown(ELEMENT_HEADERS, TEMPLATE_RANGES)
    elements = _Sheet(wb, "Elements", list(element_headers.values()))
    _dropdowns(elements, len(stages), len(UNITS))
    elements.start()
    for rec in _EXAMPLE_ELEMENTS:
        elements.append([rec.get(k) for k in element_headers], "Elements")
    connection_headers = _shown(CONNECTION_HEADERS, TEMPLATE_RANGES)
    conns = _Sheet(wb, "Connections", list(connection_headers.values()))
    _dropdowns(conns, len(stages), len(UNITS))
    conns.start()
    for rec in _EXAMPLE_CONNECTIONS:
        conns.append([rec.get(k) for k in connection_headers], "Connections")
    shares = _Sheet(wb, "StageShares", list(SHARE_HEADERS.values()))
    _dropdowns(shares, len(stages), len(UNITS))
    shares.start()
    for rec in _EXAMPLE_SHARES:
        shares.append([rec.get(k) for k in SHARE_HEADERS], "StageShares")
    _add_readme(wb)
    _add_stages(wb, stages)
    _add_lists(wb, UNITS)
    return _save(wb, path)


def _ordered_extras(records: Iterable[dict[str, Any]], known: Iterable[str]) -> list[str]:
    known_set = set(known)
    extras: dict[str, None] = {}
    for rec in records:
        for k in rec:
            if k not in known_set and not str(k).startswith("_"):
                extras.setdefault(str(k), None)
    return list(extras)


def write_workbook(G: nx.DiGraph, path: str | Path) -> Path:
    """Write a graph in the template's layout, so the file reads back as the same graph.

    Parameters
    ----------
    G
        A supply graph (see :mod:`supplygraph.schema`); not modified.
    path
        The ``.xlsx`` to write (atomically).

    Returns
    -------
    pathlib.Path
        The written file.

    Notes
    -----
    Every node attribute becomes a column of ``Elements`` (schema columns first, then extras
    in order of first appearance); every edge attribute a column of ``Connections``.
    ``G.graph["stages"]`` goes to ``Stages (ignore)``. Lists are joined with ``|``, dicts are
    written as JSON text. Text cells are neutralised against formula injection.

    Examples
    --------
    >>> import networkx as nx, tempfile, pathlib
    >>> G = nx.DiGraph(stages=["mine", "mill"])
    >>> G.add_node("a", stage="mine", value=3.0); G.add_node("b", stage="mill")
    >>> G.add_edge("a", "b", flow=2.0, note="=1+1")
    >>> p = write_workbook(G, pathlib.Path(tempfile.mkdtemp()) / "g.xlsx")
    >>> from supplygraph.io.tables import read_tables
    >>> t = read_tables(p)
    >>> t.stages, t.edges.loc[0, "note"]
    (['mine', 'mill'], '=1+1')
    """
    stages = [str(s) for s in (G.graph.get("stages") or [])]
    node_records = [dict(d) for _, d in G.nodes(data=True)]
    edge_records = [dict(d) for _, _, d in G.edges(data=True)]
    node_extras = _ordered_extras(node_records, NODE_COLUMNS)
    edge_extras = _ordered_extras(edge_records, [*EDGE_COLUMNS, "source", "target"])

    units = list(UNITS)
    for rec in [*node_records, *edge_records]:
        u = rec.get("unit")
        if isinstance(u, str) and u and u not in units:
            units.append(u)

    wb = _new_workbook()
    try:
        _fill_workbook(wb, G, stages, units, node_extras, edge_extras)
    except BaseException:
        _discard(wb)
        raise
    return _save(wb, path)


def _fill_workbook(
    wb: Any,
    G: nx.DiGraph,
    stages: list[str],
    units: list[str],
    node_extras: list[str],
    edge_extras: list[str],
) -> None:
    # range columns only where the graph has them
    used_nodes = {k for _, d in G.nodes(data=True) for k in d if k in _RANGE_KEYS}
    used_edges = {k for _, _, d in G.edges(data=True) for k in d if k in _RANGE_KEYS}
    element_headers = _shown(ELEMENT_HEADERS, used_nodes)
    connection_headers = _shown(CONNECTION_HEADERS, used_edges)
    elements = _Sheet(wb, "Elements", [*element_headers.values(), *node_extras])
    _dropdowns(elements, len(stages), len(units))
    elements.start()
    for node, data in G.nodes(data=True):
        row = [node if k == "id" else data.get(k) for k in element_headers]
        row += [data.get(k) for k in node_extras]
        elements.append(row, f"node {node}")
    conns = _Sheet(wb, "Connections", [*connection_headers.values(), *edge_extras])
    _dropdowns(conns, len(stages), len(units))
    conns.start()
    for u, v, data in G.edges(data=True):
        row = []
        for k in connection_headers:
            row.append(u if k == "source" else v if k == "target" else data.get(k))
        row += [data.get(k) for k in edge_extras]
        conns.append(row, f"edge {u} -> {v}")
    name = G.graph.get("name")
    _add_readme(wb, [f"Written by supplygraph from the graph '{name}'."] if name else [])
    _add_stages(wb, stages)
    _add_lists(wb, units)
