"""Header and sheet names: which column of a table is which schema column, and what a table holds.

Sheet and column names are matched after Unicode NFKC, case-folding, ``_``/``-`` to space and
whitespace collapsing (:func:`normalize_header`). The alias tables list, per schema column, the
accepted headers in priority order (the first alias present wins; any other stays an extra
column under its own header); see :mod:`supplygraph.io.tables` for the full list with the
Kumu/Gephi/Flourish conventions. Every reader (CSV, xlsx, Parquet/Arrow) maps its headers here.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

from supplygraph.schema import (
    NUMERIC_EDGE_ATTRS,
    NUMERIC_NODE_ATTRS,
    RANGE_ATTRS,
    SIGNED_NODE_ATTRS,
    range_columns,
)

__all__ = [
    "EDGE_ALIASES",
    "HEADER_SCAN_ROWS",
    "NODE_ALIASES",
    "SHARE_ALIASES",
    "SHARE_COLUMNS",
    "SHEET_KINDS",
    "column_letter",
    "normalize_header",
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


def _file_kind(path: Path) -> str | None:
    return SHEET_KINDS.get(normalize_header(path.stem)) or SHEET_KINDS.get(
        normalize_header(path.stem).replace(" ", "")
    )
