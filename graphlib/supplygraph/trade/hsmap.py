"""The HS -> stage map: which traded products belong to which stage, and how to convert them.

The map is a small CSV table, one row per HS line (six digits, or a national 8/10-digit line):

``hs``
    The code, as text (``"284690"``, ``"28469015"``); leading zeros kept.
``stage``
    The graph stage the product belongs to (``mining``, ``separation``, ``metal``, ``magnets``).
``factor``, ``unit``
    The conversion to the graph's unit: ``quantity_basis = quantity_t * factor`` in ``unit``
    (e.g. ``1`` ``t REO`` for oxides; ``0.36`` ``t REO`` per tonne of NdFeB magnet for a graph
    that counts magnets in REO). Blank when no factor is known: the line's tonnes are then never
    added to a graph.
``enabled``
    ``true``/``false``. Broad baskets (2530.90, 7202.99) are in the default map but off.
``exporter`` (optional)
    An ISO3 code: the row applies only to that exporter's records (Myanmar's 2846 exports are
    mine output, so ``284690,mining,...,MMR``).
``description``, ``source``, ``evidence``, ``note`` (optional)
    What the line holds and where the row's choice comes from.

**Matching rule.** A record with code ``k`` from exporter ``e`` takes the row whose ``hs`` is a
prefix of ``k`` and whose ``exporter`` is ``e`` or blank; among several, an exporter-specific row
beats a generic one, then the longest ``hs`` wins. A record whose best row is disabled, or that
matches no row, is not part of the chain. A six-digit record never matches an eight-digit row
(the record is broader than the line).

The default map (``hs_stages.csv`` in this package) covers the built-in stage ids; copy it with
``supplygraph trade flows --map`` in mind and edit it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supplygraph.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DEFAULT_MAP", "HSMap", "default_hs_map", "normalize_unit", "read_hs_map"]

#: The default map shipped with supplygraph.
DEFAULT_MAP = Path(__file__).with_name("hs_stages.csv")

_REQUIRED = ("hs", "stage", "factor", "unit", "enabled")
_OPTIONAL = ("exporter", "description", "source", "evidence", "note")
_TRUE = {"true", "yes", "1", "y"}
_FALSE = {"false", "no", "0", "n", ""}


def normalize_unit(unit: Any) -> str:
    """Return a unit without its per-year suffix, case-folded, for comparisons.

    Examples
    --------
    >>> normalize_unit("t REO/yr"), normalize_unit(" t  reo ")
    ('t reo', 't reo')
    """
    text = " ".join(str(unit or "").split()).casefold()
    for suffix in ("/yr", "/year", " per year", "/a"):
        if text.endswith(suffix):
            text = text[: -len(suffix)].strip()
    return text


@dataclass(frozen=True)
class HSMap:
    """A validated HS -> stage map.

    Attributes
    ----------
    rows
        One dict per row: ``hs``, ``stage``, ``factor`` (float or None), ``unit``, ``enabled``
        (bool), ``exporter`` (str or None), ``description``, ``source``, ``evidence``, ``note``,
        ``row`` (1-based line in the file, header = 1).
    file
        The file the map came from.
    """

    rows: tuple[dict[str, Any], ...]
    file: str

    def codes6(self) -> list[str]:
        """Return the six-digit codes a six-digit record must have to map to an enabled row."""
        return sorted({r["hs"] for r in self.rows if r["enabled"] and len(r["hs"]) == 6})

    def codes(self) -> list[str]:
        """Return every enabled code (six digits or longer)."""
        return sorted({r["hs"] for r in self.rows if r["enabled"]})

    def stage_units(self) -> dict[str, str]:
        """Return the unit each stage's enabled rows convert to (one per stage)."""
        return {r["stage"]: r["unit"] for r in self.rows if r["enabled"]}

    def match(self, exporter: str, code: str) -> dict[str, Any] | None:
        """Return the row a record from ``exporter`` with HS ``code`` takes (None: no row).

        Disabled rows are returned too (the caller drops their records); see the module's
        matching rule.

        Examples
        --------
        >>> m = default_hs_map()
        >>> m.match("CHN", "284690")["stage"], m.match("MMR", "284690")["stage"]
        ('separation', 'mining')
        >>> m.match("CHN", "253090")["enabled"], m.match("CHN", "010121") is None
        (False, True)
        """
        best: dict[str, Any] | None = None
        best_key = (-1, -1)
        for r in self.rows:
            if not code.startswith(r["hs"]):
                continue
            if r["exporter"] is not None and r["exporter"] != exporter:
                continue
            key = (int(r["exporter"] is not None), len(r["hs"]))
            if key > best_key:
                best, best_key = r, key
        return best

    def apply(self, exporters: pd.Series, codes: pd.Series) -> pd.DataFrame:
        """Map records to stages: one lookup per distinct (exporter, code) pair, not per row.

        Parameters
        ----------
        exporters, codes
            The records' exporter codes and HS codes (text), aligned.

        Returns
        -------
        pandas.DataFrame
            Aligned with the input: ``stage`` (None where no enabled row matches), ``factor``
            (NaN when the row has none), ``unit``.
        """
        import numpy as np
        import pandas as pd

        pairs = pd.DataFrame({"e": exporters.astype(str).to_numpy(), "k": codes.to_numpy()})
        uniq, inverse = np.unique(
            (pairs["e"] + "|" + pairs["k"].astype(str)).to_numpy(dtype=str), return_inverse=True
        )
        stage: list[Any] = []
        factor: list[float] = []
        unit: list[Any] = []
        for key in uniq.tolist():
            e, k = key.split("|")
            r = self.match(e, k)
            if r is None or not r["enabled"]:
                stage.append(None)
                factor.append(float("nan"))
                unit.append(None)
            else:
                stage.append(r["stage"])
                factor.append(float("nan") if r["factor"] is None else float(r["factor"]))
                unit.append(r["unit"])
        return pd.DataFrame(
            {
                "stage": np.array(stage, dtype=object)[inverse],
                "factor": np.array(factor, dtype=float)[inverse],
                "unit": np.array(unit, dtype=object)[inverse],
            },
            index=exporters.index,
        )


def _cell_bool(value: str, file: str, row: int) -> bool:
    key = value.strip().casefold()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise InputError(
        "enabled must be true or false", file=file, row=row, column="enabled", value=value
    )


def _parse_rows(text: str, file: str) -> tuple[dict[str, Any], ...]:
    from supplygraph.schema import EVIDENCE_LABELS

    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise InputError("empty HS map", file=file) from None
    missing = [c for c in _REQUIRED if c not in header]
    if missing:
        msg = (
            f"HS map has no '{missing[0]}' column (columns must be "
            f"{', '.join(_REQUIRED)}; optional {', '.join(_OPTIONAL)})"
        )
        raise InputError(msg, file=file)
    col = {name: header.index(name) for name in (*_REQUIRED, *_OPTIONAL) if name in header}
    rows: list[dict[str, Any]] = []
    seen: dict[tuple[str, str | None], int] = {}
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            msg = f"{len(cells)} fields where the header has {len(header)}"
            raise InputError(msg, file=file, row=line)

        def cell(name: str, cells: list[str] = cells) -> str:
            return cells[col[name]].strip() if name in col else ""

        hs = cell("hs").replace(".", "").replace(" ", "")
        if not (hs.isdigit() and len(hs) in (6, 8, 10)):
            msg = "hs must be an HS code of 6, 8 or 10 digits (text, leading zeros kept)"
            raise InputError(msg, file=file, row=line, column="hs", value=cell("hs"))
        stage = cell("stage")
        if not stage:
            raise InputError("stage is empty", file=file, row=line, column="stage")
        factor: float | None = None
        if cell("factor"):
            try:
                factor = float(cell("factor"))
            except ValueError:
                factor = -1.0
            if not factor >= 0 or factor != factor:
                msg = "factor must be a number >= 0 (graph units per tonne) or blank"
                raise InputError(msg, file=file, row=line, column="factor", value=cell("factor"))
        unit = cell("unit")
        if not unit:
            raise InputError("unit is empty", file=file, row=line, column="unit")
        exporter = cell("exporter").upper() or None
        if exporter is not None and not (len(exporter) == 3 and exporter.isalnum()):
            msg = "exporter must be a three-letter country code (ISO3 or the release's own)"
            raise InputError(msg, file=file, row=line, column="exporter", value=exporter)
        evidence = cell("evidence")
        if evidence and evidence not in EVIDENCE_LABELS:
            msg = f"evidence must be one of {', '.join(EVIDENCE_LABELS)}"
            raise InputError(msg, file=file, row=line, column="evidence", value=evidence)
        key = (hs, exporter)
        if key in seen:
            msg = f"hs {hs}{' for ' + exporter if exporter else ''} is already on row {seen[key]}"
            raise InputError(msg, file=file, row=line, column="hs")
        seen[key] = line
        rows.append(
            {
                "hs": hs,
                "stage": stage,
                "factor": factor,
                "unit": unit,
                "enabled": _cell_bool(cell("enabled"), file, line),
                "exporter": exporter,
                "description": cell("description"),
                "source": cell("source"),
                "evidence": evidence,
                "note": cell("note"),
                "row": line,
            }
        )
    units: dict[str, tuple[str, int]] = {}
    for r in rows:
        if not r["enabled"]:
            continue
        first = units.setdefault(r["stage"], (r["unit"], r["row"]))
        if normalize_unit(first[0]) != normalize_unit(r["unit"]):
            msg = (
                f"stage '{r['stage']}' converts to '{first[0]}' on row {first[1]} but to "
                f"'{r['unit']}' here; one unit per stage"
            )
            raise InputError(msg, file=file, row=r["row"], column="unit")
    if not any(r["enabled"] for r in rows):
        raise InputError("the HS map enables no row", file=file)
    return tuple(rows)


def read_hs_map(path: str | Path | None = None) -> HSMap:
    """Read and check an HS -> stage map (the default map when ``path`` is None).

    Parameters
    ----------
    path
        A CSV file with the columns described in this module, UTF-8.

    Returns
    -------
    HSMap

    Raises
    ------
    InputError
        One precise line for the first problem: missing column, bad code, factor, flag,
        exporter or evidence label, a duplicate row, or two units for one stage.

    Examples
    --------
    >>> m = read_hs_map()
    >>> m.codes6()
    ['280530', '284610', '284690', '850511']
    """
    from supplygraph.trade.files import decode_utf8

    p = DEFAULT_MAP if path is None else Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError("HS map not found", file=str(p)) from None
    except IsADirectoryError:
        raise InputError("HS map is a folder, not a CSV file", file=str(p)) from None
    name = p.name if path is None else str(p)
    return HSMap(rows=_parse_rows(decode_utf8(data, name), name), file=name)


def default_hs_map() -> HSMap:
    """Return the default map shipped with supplygraph (``hs_stages.csv``)."""
    return read_hs_map(None)
