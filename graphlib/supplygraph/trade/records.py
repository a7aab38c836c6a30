"""Trade records after reading: one table of bilateral flows per stage and HS code, with metadata.

Both readers (:mod:`~supplygraph.trade.baci`, :mod:`~supplygraph.trade.comtrade`) end in
:func:`finish_flows`, which maps each record to a stage through the HS map and sums it per
(exporter, importer, stage, HS code). The result, :class:`TradeData`, is what ``trade flows``
prints and what the hub test and ``trade build`` use.

Units: ``value_kusd`` is thousands of current US dollars (BACI's unit; Comtrade's USD / 1000),
``quantity_t`` metric tonnes of the traded product (Comtrade's kg / 1000), null when unknown --
never zero. ``quantity_basis = quantity_t * factor`` is the same quantity in the stage's basis
unit from the HS map (``basis_unit``, e.g. ``t REO``); null when the quantity or the factor is
unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from supplygraph.trade.hsmap import HSMap

__all__ = ["BASIS_COLUMNS", "FLOW_COLUMNS", "TradeData", "finish_flows"]

#: The columns of ``trade flows``, in order.
FLOW_COLUMNS: list[str] = [
    "year",
    "exporter",
    "importer",
    "stage",
    "hs6",
    "value_kusd",
    "quantity_t",
]
#: Extra columns: the quantity in the stage's basis unit (HS map factor) and that unit.
BASIS_COLUMNS: list[str] = ["quantity_basis", "basis_unit"]


@dataclass
class TradeData:
    """Bilateral trade of one year, mapped to stages.

    Attributes
    ----------
    flows
        One row per exporter, importer, stage and HS code: :data:`FLOW_COLUMNS` then
        :data:`BASIS_COLUMNS`.
    source
        Provenance: ``kind`` (``"BACI"`` or ``"Comtrade"``), ``label`` (e.g.
        ``"CEPII BACI HS17 V202401b"``), ``year``, ``hs_revision``, ``files``, ``version``,
        ``release_date``, ``citation``, ``licence`` (where known).
    complete_importers
        Countries whose imports of the mapped codes are complete in the data (every importer in a
        BACI release; Comtrade reporters of imports), so a partner missing from their imports
        really sent nothing.
    totals
        Reporters' own totals (Comtrade ``World`` partner rows): ``country``, ``flow`` (``M``/``X``),
        ``stage``, ``hs6``, ``value_kusd``, ``quantity_t``, ``quantity_basis``; empty for BACI.
    unallocated
        For those totals: ``World`` minus the sum over country partners (trade with "nes" areas,
        suppressed partners, partners left out of the file), same columns.
    reexports
        Comtrade re-export rows summed per ``country`` and ``stage``: ``rx_quantity_t``,
        ``x_quantity_t`` (the matching exports, partner World) and ``rx_share``.
    notes
        Plain sentences on what was dropped or chosen (duplicate slices, World rows, mirror pairs,
        unmapped codes).
    """

    flows: pd.DataFrame
    source: dict[str, Any]
    complete_importers: set[str] = field(default_factory=set)
    totals: pd.DataFrame | None = None
    unallocated: pd.DataFrame | None = None
    reexports: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def year(self) -> int:
        """The data year."""
        return int(self.source["year"])


def finish_flows(records: pd.DataFrame, hs_map: HSMap, year: int, notes: list[str]) -> pd.DataFrame:
    """Map records to stages and sum them per exporter, importer, stage and HS code.

    Parameters
    ----------
    records
        Columns ``exporter``, ``importer`` (codes), ``code`` (HS code text), ``value_kusd``,
        ``quantity_t`` (NaN = unknown).
    hs_map
        The HS -> stage map.
    year
        The data year.
    notes
        Receives a sentence about records no enabled map row takes.

    Returns
    -------
    pandas.DataFrame
        :data:`FLOW_COLUMNS` + :data:`BASIS_COLUMNS`, sorted by exporter, importer, stage, code.
        A summed quantity is unknown when any of its parts is.

    Examples
    --------
    >>> import pandas as pd
    >>> from supplygraph.trade.hsmap import default_hs_map
    >>> recs = pd.DataFrame({"exporter": ["MMR", "CHN"], "importer": ["CHN", "JPN"],
    ...                      "code": ["284690", "284690"], "value_kusd": [5.0, 6.0],
    ...                      "quantity_t": [9.0, float("nan")]})
    >>> out = finish_flows(recs, default_hs_map(), 2022, [])
    >>> out[["exporter", "stage", "quantity_t"]].values.tolist()
    [['CHN', 'separation', nan], ['MMR', 'mining', 9.0]]
    """
    import numpy as np
    import pandas as pd

    if records.empty:
        return pd.DataFrame(columns=[*FLOW_COLUMNS, *BASIS_COLUMNS])
    mapped = hs_map.apply(records["exporter"], records["code"])
    keep = mapped["stage"].notna().to_numpy()
    if (~keep).any():
        dropped = sorted(set(records.loc[~keep, "code"].astype(str)))
        shown = ", ".join(dropped[:8]) + (" ..." if len(dropped) > 8 else "")
        notes.append(
            f"{int((~keep).sum())} records with codes no enabled map row takes were left out "
            f"({shown})"
        )
    frame = records.loc[keep, ["exporter", "importer", "code", "value_kusd", "quantity_t"]].copy()
    frame["stage"] = mapped.loc[keep, "stage"].to_numpy()
    frame["factor"] = mapped.loc[keep, "factor"].to_numpy()
    frame["basis_unit"] = mapped.loc[keep, "unit"].to_numpy()
    frame["unknown_q"] = frame["quantity_t"].isna()
    keys = ["exporter", "importer", "stage", "code"]
    grouped = frame.groupby(keys, sort=True, dropna=False).agg(
        value_kusd=("value_kusd", "sum"),
        quantity_t=("quantity_t", "sum"),
        unknown_q=("unknown_q", "any"),
        factor=("factor", "first"),
        basis_unit=("basis_unit", "first"),
    )
    grouped = grouped.reset_index()
    grouped.loc[grouped["unknown_q"], "quantity_t"] = np.nan
    grouped["quantity_basis"] = grouped["quantity_t"] * grouped["factor"]
    grouped.insert(0, "year", int(year))
    out = grouped.rename(columns={"code": "hs6"})
    return out[[*FLOW_COLUMNS, *BASIS_COLUMNS]].reset_index(drop=True)
