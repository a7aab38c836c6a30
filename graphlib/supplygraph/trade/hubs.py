"""Re-export hubs: countries that export more of a stage's product than they make and import.

For a country ``c`` and stage ``s``, in one basis (the HS map's unit for ``s``, e.g. t REO)::

    P = production of s in c          (a country,stage,value table, or the graph's node values)
    M = imports of s into c           (sum over partners; a reporter's own World total if given)
    X = exports of s from c           (likewise)
    ratio = X / (P + M)
    hub   = ratio > 1 + tolerance     (null when P + M = 0 or when quantity coverage is thin)

A country that ships out more than it can have made or bought is passing on goods it imported
(and mis-timed or mis-recorded them): the Hong Kong pattern. ``coverage`` is the share of the
country's trade value at that stage whose tonnage is known; below ``min_coverage`` the sums are
too incomplete to say, and ``hub`` is null. ``rx_share`` is the reporter's own re-export share
(Comtrade ``RX / X``) where the data carry it: independent evidence of re-exporting.

Countries the graph groups as ``EU`` are summed into ``EU`` when production comes from a graph
with ``EU`` nodes (:mod:`supplygraph.trade.regions`); trade inside the bloc then drops out.
A country missing from the production table produces nothing at that stage.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from supplygraph.errors import InputError

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd

    from supplygraph.trade.records import TradeData

__all__ = ["HUB_COLUMNS", "hub_table", "production_table", "read_production"]

HUB_COLUMNS = [
    "country",
    "stage",
    "unit",
    "production",
    "imports",
    "exports",
    "ratio",
    "hub",
    "coverage",
    "rx_share",
]


def production_table(G: nx.DiGraph) -> pd.DataFrame:
    """Return a graph's production per country and stage: ``country``, ``stage``, ``value``, ``unit``.

    Examples
    --------
    >>> from supplygraph.loading import load
    >>> p = production_table(load("rare-earths"))
    >>> p[(p["country"] == "CHN") & (p["stage"] == "magnets")]["value"].tolist()
    [291400.0]
    """
    import pandas as pd

    rows = []
    for _, d in G.nodes(data=True):
        value = d.get("value")
        if d.get("country") is None or d.get("stage") is None or value is None:
            continue
        rows.append(
            {
                "country": str(d["country"]),
                "stage": str(d["stage"]),
                "value": float(value),
                "unit": d.get("unit"),
            }
        )
    df = pd.DataFrame(rows, columns=["country", "stage", "value", "unit"])
    agg = df.groupby(["country", "stage"], sort=True).agg(
        value=("value", "sum"), unit=("unit", "first")
    )
    return agg.reset_index()


def read_production(source: str | Path) -> pd.DataFrame | nx.DiGraph:
    """Read production as a ``country,stage,value[,unit]`` CSV table, or load a graph source.

    Parameters
    ----------
    source
        A CSV file with ``country``, ``stage`` and ``value`` columns (and no ``id``), or anything
        :func:`supplygraph.load` accepts (a dataset name, folder, workbook ...).

    Returns
    -------
    pandas.DataFrame or networkx.DiGraph
        The table (``country`` as ISO3, ``stage``, ``value`` summed per country and stage,
        ``unit``), or the loaded graph (:func:`hub_table` takes either).

    Raises
    ------
    InputError
        A table cell that is not a number >= 0, or a country name that is unknown or ambiguous
        (file, row and column named).
    """
    import pandas as pd

    from supplygraph.io.countries import to_iso3
    from supplygraph.loading import load, read_csv_table

    p = Path(source)
    if p.is_file() and p.suffix.lower() == ".csv":
        df = read_csv_table(p)
        cols = {c.lower(): c for c in df.columns if not c.startswith("_")}
        if {"country", "stage", "value"} <= set(cols) and "id" not in cols:
            rows = []
            for line, rec in zip(df["_row"], df.to_dict("records"), strict=True):
                raw = rec[cols["value"]]
                number = pd.to_numeric(raw, errors="coerce")
                if not number >= 0:
                    raise InputError(
                        "not a number >= 0", file=str(p), row=int(line), column=cols["value"],
                        value=str(raw),
                    )  # fmt: skip
                try:
                    country = to_iso3(str(rec[cols["country"]] or ""))
                except InputError as exc:
                    raise InputError(
                        exc.problem.message, file=str(p), row=int(line), column=cols["country"]
                    ) from None
                unit = rec.get(cols["unit"]) if "unit" in cols else None
                rows.append((country, str(rec[cols["stage"]]).strip(), float(number), unit))
            out = pd.DataFrame(rows, columns=["country", "stage", "value", "unit"])
            agg = out.groupby(["country", "stage"], sort=True).agg(
                value=("value", "sum"), unit=("unit", "first")
            )
            return agg.reset_index()
    return load(source)


def _check_units(production: pd.DataFrame, units: dict[str, str], file: str) -> None:
    from supplygraph.trade.hsmap import normalize_unit

    for stage, unit in units.items():
        given = production.loc[production["stage"] == stage, "unit"].dropna()
        for u in set(given.astype(str)):
            if u and normalize_unit(u) != normalize_unit(unit):
                msg = (
                    f"production of stage '{stage}' is in '{u}' but the HS map converts trade "
                    f"to '{unit}'; compare in one basis (edit the map's factor and unit)"
                )
                raise InputError(msg, file=file)


def hub_table(
    trade: TradeData,
    production: pd.DataFrame | nx.DiGraph,
    *,
    tolerance: float = 0.05,
    min_coverage: float = 0.5,
    units: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Flag re-export hubs per country and stage (see the module's equations).

    Parameters
    ----------
    trade
        Flows of one year (:func:`supplygraph.trade.read_trade`).
    production
        A ``country``, ``stage``, ``value`` (and optional ``unit``) table, or a supply graph
        (node values; EU members grouped as the graph groups them).
    tolerance
        Relative slack before a country counts as a hub (0.05: exports more than 5 % above
        production plus imports).
    min_coverage
        Least share of trade value with known tonnage for a flag.
    units
        Stage -> basis unit (from the HS map); production units are checked against it.

    Returns
    -------
    pandas.DataFrame
        :data:`HUB_COLUMNS`, one row per country and stage with trade, sorted by stage then
        ratio (highest first). ``hub`` is True, False or None (cannot say).

    Examples
    --------
    Hong Kong imports 500 t of magnets and ships 560 t; it makes none (ratio 1.12):

    >>> import pandas as pd
    >>> from supplygraph.trade.records import TradeData
    >>> flows = pd.DataFrame({"exporter": ["CHN", "HKG", "HKG"], "importer": ["HKG", "USA", "DEU"],
    ...                       "stage": "magnets", "value_kusd": [30.0, 21.0, 18.0],
    ...                       "quantity_basis": [500.0, 300.0, 260.0], "basis_unit": "t magnet"})
    >>> prod = pd.DataFrame({"country": ["CHN"], "stage": ["magnets"], "value": [1000.0]})
    >>> t = hub_table(TradeData(flows=flows, source={"year": 2022}), prod)
    >>> row = t.set_index("country").loc["HKG"]
    >>> round(float(row["ratio"]), 4), row["hub"]
    (1.12, True)
    """
    import networkx as nx
    import numpy as np
    import pandas as pd

    from supplygraph.schema import DEFAULT_STAGES
    from supplygraph.trade.regions import graph_country

    if isinstance(production, nx.DiGraph):
        prod = production_table(production)
        grouped = True
    else:
        prod = production.copy()
        if "unit" not in prod.columns:
            prod["unit"] = None
        grouped = False
    flows = trade.flows
    if units:
        _check_units(prod, units, "production")
    listed = set(prod["country"]) if grouped else set()

    def place(codes: pd.Series) -> pd.Series:
        if not grouped:
            return codes
        return codes.map(lambda c: graph_country(c, listed))

    f = flows.assign(exporter=place(flows["exporter"]), importer=place(flows["importer"]))
    f = f[f["exporter"] != f["importer"]]
    f = f.assign(known_value=f["value_kusd"].where(f["quantity_basis"].notna(), 0.0))
    sums: dict[tuple[str, str], dict[str, float]] = {}
    for side, name in (("importer", "imports"), ("exporter", "exports")):
        g = f.groupby([side, "stage"], sort=True)[["quantity_basis", "value_kusd", "known_value"]]
        for (country, stage), row in g.sum().iterrows():
            rec = sums.setdefault(
                (country, stage), {"imports": 0.0, "exports": 0.0, "value": 0.0, "known": 0.0}
            )
            rec[name] = float(row["quantity_basis"])
            rec["value"] += float(row["value_kusd"])
            rec["known"] += float(row["known_value"])
    totals = trade.totals
    if totals is not None and not totals.empty:
        # a reporter's own World totals include partners the file leaves out: use them
        own = totals.groupby(["country", "flow", "stage"])["quantity_basis"].sum(min_count=1)
        for (country, flow, stage), q in own.dropna().items():
            if place(pd.Series([country])).iloc[0] != country:
                continue
            rec = sums.setdefault(
                (country, stage), {"imports": 0.0, "exports": 0.0, "value": 0.0, "known": 0.0}
            )
            rec["imports" if flow == "M" else "exports"] = float(q)
    out = pd.DataFrame(
        [{"country": c, "stage": s, **rec} for (c, s), rec in sorted(sums.items())],
        columns=["country", "stage", "imports", "exports", "value", "known"],
    )
    out["coverage"] = np.where(
        out["value"] > 0, out["known"] / out["value"].where(out["value"] > 0, 1.0), 1.0
    )
    unit_of = dict(units or {})
    for stage, unit in f.groupby("stage")["basis_unit"].first().items():
        unit_of.setdefault(stage, unit)
    out["unit"] = out["stage"].map(unit_of)
    p = prod.groupby(["country", "stage"])["value"].sum()
    out["production"] = [
        float(p.get((c, s), 0.0)) for c, s in zip(out["country"], out["stage"], strict=True)
    ]
    supply = out["production"] + out["imports"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["ratio"] = np.where(supply > 0, out["exports"] / supply.where(supply > 0, 1.0), np.nan)
    hub: list[Any] = []
    for ratio, coverage in zip(out["ratio"], out["coverage"], strict=True):
        if ratio != ratio or coverage < min_coverage:
            hub.append(None)
        else:
            hub.append(bool(ratio > 1.0 + tolerance))
    out["hub"] = pd.Series(hub, dtype=object)
    rx = trade.reexports
    if rx is not None and not rx.empty:
        share = rx.set_index(["country", "stage"])["rx_share"]
        out["rx_share"] = [
            share.get((c, s), np.nan) for c, s in zip(out["country"], out["stage"], strict=True)
        ]
    else:
        out["rx_share"] = np.nan
    order = {s: i for i, s in enumerate(DEFAULT_STAGES)}
    out["_o"] = out["stage"].map(lambda s: order.get(s, len(order)))
    out = out.sort_values(
        ["_o", "ratio", "country"], ascending=[True, False, True], na_position="last"
    )
    return out[HUB_COLUMNS].reset_index(drop=True)
