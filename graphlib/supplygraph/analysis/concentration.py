"""Concentration of supply by country: stage shares, HHI, concentration ratios, EU checks.

Every index here is computed per stage from *country* shares: the nodes of one country in a
stage are summed first, so a country with three plants counts once.

Conventions
-----------
Shares
    A node's quantity is its ``value`` attribute (output or capacity per year); where a node has
    no ``value``, the sum of its outbound flows (self-loops excluded); where it has neither (a
    sink such as an end use), the sum of its inbound flows. A country's share of a stage is its
    quantity divided by the stage total, aggregates included.
Aggregates
    ``"ROW"`` (rest of world) and ``"XXX"`` (unknown) stand for many small or unattributed
    producers, not for one supplier. They stay in the stage total (so named countries' shares
    are shares of the whole stage) and in :func:`stage_shares`, but they are *left out* of the
    sum of squares, of CR1/CR3, of ``top_country`` and of ``n_countries``. This is how
    published derived HHIs treat an "Other" row (e.g. the USGS 2024 mine-production HHI of
    5,024 over the 390,000 t world total). ``"EU"`` is a bloc with one trade policy and counts
    as one supplier.
HHI
    ``10,000 · Σ s_c²`` with ``s_c`` the country share as a fraction: the antitrust convention
    (equivalently, the sum of squared percentage shares), 10,000 for a single supplier.
Element groups
    :func:`concentration_by_material` computes the same indices per stage and per node
    ``material`` (the group a node produces, e.g. ``"light"`` and ``"heavy"`` separation):
    shares are of the group's total within the stage, so China's 99 % of separated Dy/Tb is
    not diluted by its lower share of La/Ce.
Concentration level
    The 2010 US DOJ/FTC Horizontal Merger Guidelines (§5.3): *unconcentrated* below 1,500,
    *moderately concentrated* from 1,500 to 2,500, *highly concentrated* above 2,500 (an HHI of
    exactly 2,500 is highly concentrated here). The 2023 Merger Guidelines lowered the bands
    to 1,000 and 1,800; pass ``thresholds=MERGER_GUIDELINES_2023`` to use them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from supplygraph.errors import InputError

if TYPE_CHECKING:
    import networkx as nx

    from supplygraph.uncertainty.montecarlo import MonteCarloResult
    from supplygraph.uncertainty.sampling import DrawSpec

__all__ = [
    "EU_SINGLE_COUNTRY_CAP",
    "HHI_EXCLUDED",
    "MERGER_GUIDELINES_2010",
    "MERGER_GUIDELINES_2023",
    "RESERVES",
    "concentration",
    "concentration_by_material",
    "concentration_draws",
    "concentration_level",
    "herfindahl_index",
    "node_quantities",
    "stage_shares",
]

#: Aggregate country codes left out of the HHI sum of squares (kept in the stage totals).
HHI_EXCLUDED: frozenset[str] = frozenset({"ROW", "XXX"})

#: HHI bands (moderate from, high from) of the 2010 US Horizontal Merger Guidelines. Default.
MERGER_GUIDELINES_2010: tuple[float, float] = (1500.0, 2500.0)

#: HHI bands (moderate from, high from) of the 2023 US Merger Guidelines.
MERGER_GUIDELINES_2023: tuple[float, float] = (1000.0, 1800.0)

#: EU Critical Raw Materials Act benchmark (Regulation (EU) 2024/1252): no more
#: than 65 % of the Union's annual consumption of a strategic raw material, at any processing
#: stage, from a single third country.
EU_SINGLE_COUNTRY_CAP: float = 0.65

#: The pseudo-stage name used for ``G.graph["reserves"]``.
RESERVES = "reserves"

_UNKNOWN_COUNTRY = "XXX"


def _number(x: Any) -> float | None:
    """Return ``x`` as a finite float, or None when it is missing / not a number."""
    if x is None or isinstance(x, bool):
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _country(attrs: Mapping[str, Any]) -> str:
    c = attrs.get("country")
    if c is None or (isinstance(c, float) and math.isnan(c)) or str(c).strip() == "":
        return _UNKNOWN_COUNTRY
    return str(c).strip()


def _stage_order(G: nx.DiGraph) -> list[str]:
    """Stages in chain order: ``G.graph["stages"]`` first, then any other stage seen on nodes."""
    stages = [str(s) for s in G.graph.get("stages") or []]
    seen = set(stages)
    for _, attrs in G.nodes(data=True):
        s = attrs.get("stage")
        if s is not None and str(s) not in seen:
            seen.add(str(s))
            stages.append(str(s))
    return stages


def node_quantities(G: nx.DiGraph) -> pd.Series:
    """Return each node's quantity used for shares (its ``value``, else its flows).

    Parameters
    ----------
    G
        A supply graph (see :mod:`supplygraph.schema`).

    Returns
    -------
    pandas.Series
        Index = node ids, float values in the node's unit per year: the ``value`` attribute when
        present; otherwise the sum of outbound ``flow`` (self-loops excluded); for nodes without
        outbound edges (sinks), the sum of inbound ``flow``. 0.0 when none is known.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_node("a", stage="mining", country="CHN")
    >>> G.add_node("b", stage="separation", country="CHN", value=5.0)
    >>> G.add_edge("a", "b", flow=3.0)
    >>> node_quantities(G).to_dict()
    {'a': 3.0, 'b': 5.0}
    """
    return pd.Series(_quantities(G), dtype=float)


def _quantities(G: nx.DiGraph) -> dict[Any, float]:
    out: dict[Any, float] = {}
    for n, attrs in G.nodes(data=True):
        v = _number(attrs.get("value"))
        if v is None:
            outflow = [
                _number(d.get("flow")) or 0.0 for _, t, d in G.out_edges(n, data=True) if t != n
            ]
            if outflow:
                v = float(sum(outflow))
            else:
                v = float(
                    sum(
                        _number(d.get("flow")) or 0.0
                        for s, _, d in G.in_edges(n, data=True)
                        if s != n
                    )
                )
        out[n] = max(v, 0.0)
    return out


def _reserve_rows(G: nx.DiGraph) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for i, rec in enumerate(G.graph.get("reserves") or []):
        if not isinstance(rec, Mapping):
            raise InputError(f"reserves record {i + 1} is not a record: {rec!r}")
        v = _number(rec.get("value"))
        if v is None:  # "NA" in USGS tables: no estimate, not zero
            continue
        if v < 0:
            raise InputError(f"reserves record {i + 1}: negative value {v!r}")
        rows.append({"stage": RESERVES, "country": _country(rec), "value": v})
    return rows


def stage_shares(G: nx.DiGraph, *, include_reserves: bool = True) -> pd.DataFrame:
    """Return each country's quantity and share of every stage (and of reserves).

    Parameters
    ----------
    G
        A supply graph. Node quantities come from :func:`node_quantities`; nodes of one country
        in one stage are summed. A node without ``country`` counts as ``"XXX"`` (unknown).
    include_reserves
        Add rows with stage ``"reserves"`` (first) from ``G.graph["reserves"]`` when present.
        Records without a numeric value (``NA``) are skipped.

    Returns
    -------
    pandas.DataFrame
        Columns ``stage``, ``country``, ``value`` (quantity per year in the stage's unit; tonnes
        for reserves), ``share`` (fraction 0-1 of the stage total, aggregates included; NaN when
        the stage total is 0) and ``aggregate`` (True for ``ROW``/``XXX``, which the HHI leaves
        out). Stages in chain order, countries by decreasing share.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph(stages=["mining"])
    >>> G.add_node("CHN:mining", stage="mining", country="CHN", value=3.0)
    >>> G.add_node("USA:mining", stage="mining", country="USA", value=1.0)
    >>> stage_shares(G)[["country", "share"]].to_dict("list")
    {'country': ['CHN', 'USA'], 'share': [0.75, 0.25]}
    """
    cols = ["stage", "country", "value", "share", "aggregate"]
    rows: list[tuple[str, str, float, float, bool]] = []
    for stage, by_country in _stage_country_values(G, include_reserves=include_reserves).items():
        total = sum(by_country.values())
        ranked = sorted(by_country.items(), key=lambda kv: (-kv[1], kv[0]))
        for country, value in ranked:
            share = value / total if total > 0 else float("nan")
            rows.append((stage, country, value, share, country in HHI_EXCLUDED))
    df = pd.DataFrame(rows, columns=cols)
    return df.astype({"value": float, "share": float, "aggregate": bool})


def _stage_country_values(
    G: nx.DiGraph, *, include_reserves: bool = True, qty: Mapping[Any, float] | None = None
) -> dict[str, dict[str, float]]:
    """``stage -> country -> summed quantity``, stages in chain order (reserves first)."""
    qty = _quantities(G) if qty is None else qty
    has_reserves = include_reserves and bool(G.graph.get("reserves"))
    out: dict[str, dict[str, float]] = {RESERVES: {}} if has_reserves else {}
    for stage in _stage_order(G):
        if stage != RESERVES:
            out.setdefault(stage, {})
    if has_reserves:
        for row in _reserve_rows(G):
            acc = out[RESERVES]
            acc[row["country"]] = acc.get(row["country"], 0.0) + row["value"]
    for n, attrs in G.nodes(data=True):
        stage = attrs.get("stage")
        if stage is None:
            continue
        acc = out.setdefault(str(stage), {})
        c = _country(attrs)
        acc[c] = acc.get(c, 0.0) + float(qty[n])
    return out


def herfindahl_index(shares: Iterable[float] | Mapping[Any, float] | pd.Series) -> float:
    """Return the Herfindahl-Hirschman index of market shares on the 0-10,000 scale.

    ``HHI = 10,000 · Σ s_i²`` with ``s_i`` the shares as fractions (the sum of squared percentage
    shares). One supplier gives 10,000; ``n`` equal suppliers give ``10,000 / n``.

    Parameters
    ----------
    shares
        Fractions in [0, 1] (not percentages), one per supplier: a sequence, a mapping or a
        Series. NaN entries are ignored. They are *not* renormalised, so shares of a stage
        whose remainder is an excluded aggregate ("Other") give that stage's HHI over the
        whole-stage total. Their sum may exceed 1 by at most 1 % (rounded published totals).

    Returns
    -------
    float
        HHI in [0, 10,000]; 0.0 for no shares.

    Raises
    ------
    InputError
        When a share is negative or above 1, or the shares add up to more than 1.01.

    Examples
    --------
    >>> herfindahl_index([0.5, 0.3, 0.15, 0.05])
    3650.0
    >>> herfindahl_index({"CHN": 1.0})
    10000.0
    """
    values = shares.values() if isinstance(shares, Mapping) else shares
    arr = np.asarray(list(values) if not isinstance(values, pd.Series) else values, dtype=float)
    arr = arr[~np.isnan(arr)]
    if arr.size == 0:
        return 0.0
    if (arr < 0).any() or (arr > 1 + 1e-12).any():
        bad = arr[(arr < 0) | (arr > 1 + 1e-12)][0]
        raise InputError(
            f"shares must be fractions in [0, 1] (divide percentages by 100); got {bad:g}"
        )
    if arr.sum() > 1.01:
        raise InputError(f"shares add up to {arr.sum():.4g}, more than 1")
    return float(10_000.0 * np.sum(arr * arr))


def concentration_level(
    hhi: float, thresholds: tuple[float, float] = MERGER_GUIDELINES_2010
) -> str:
    """Return the concentration band of an HHI (0-10,000 scale).

    Parameters
    ----------
    hhi
        The index; NaN gives ``"no data"``.
    thresholds
        ``(moderate_from, high_from)``; default the 2010 US Horizontal Merger Guidelines
        ``(1500, 2500)``; :data:`MERGER_GUIDELINES_2023` is ``(1000, 1800)``.

    Returns
    -------
    str
        ``"unconcentrated"``, ``"moderately concentrated"``, ``"highly concentrated"`` or
        ``"no data"``.

    Examples
    --------
    >>> concentration_level(1499.9), concentration_level(1500), concentration_level(2500)
    ('unconcentrated', 'moderately concentrated', 'highly concentrated')
    """
    if hhi is None or not math.isfinite(hhi):
        return "no data"
    moderate, high = thresholds
    if hhi >= high:
        return "highly concentrated"
    if hhi >= moderate:
        return "moderately concentrated"
    return "unconcentrated"


def _governance_by_country(
    G: nx.DiGraph, qty: Mapping[Any, float]
) -> dict[tuple[str | None, str], float]:
    """Value-weighted mean governance score per (stage, country) and per (None, country)."""
    acc: dict[tuple[str | None, str], list[float]] = {}
    for n, attrs in G.nodes(data=True):
        g = _number(attrs.get("governance"))
        if g is None:
            continue
        t = _number(attrs.get("trade_factor"))
        g *= 1.0 if t is None else t
        w = float(qty[n])
        c = _country(attrs)
        for key in ((str(attrs.get("stage")), c), (None, c)):
            s = acc.setdefault(key, [0.0, 0.0, 0.0, 0.0])
            s[0] += w * g
            s[1] += w
            s[2] += g
            s[3] += 1
    out: dict[tuple[Any, str], float] = {}
    for group, (wg, w, g, k) in acc.items():
        out[group] = wg / w if w > 0 else g / k
    return out


def _stage_row(
    by_country: Mapping[str, float],
    governance: Mapping[str, float],
    thresholds: tuple[float, float],
) -> dict[str, Any]:
    """One row of :func:`concentration` from a stage's ``country -> quantity``."""
    total = float(sum(by_country.values()))
    named = sorted(
        ((c, v) for c, v in by_country.items() if c not in HHI_EXCLUDED and v > 0),
        key=lambda kv: (-kv[1], kv[0]),
    )
    n = len(named)
    nan = float("nan")
    hhi = norm = cr1 = cr3 = top_share = eff = gov = nan
    top: str | None = None
    if total > 0 and n:
        s = np.asarray([v for _, v in named], dtype=float) / total
        hhi = float(10_000.0 * np.sum(s * s))
        h = hhi / 10_000.0
        # a monopoly is fully concentrated; aggregates may push h below 1/n, hence the clip
        norm = 1.0 if n == 1 else float(min(max((h - 1.0 / n) / (1.0 - 1.0 / n), 0.0), 1.0))
        cr1 = top_share = float(s[0])
        cr3 = float(s[:3].sum())
        top = named[0][0]
        eff = 10_000.0 / hhi
        gvals = [governance.get(c) for c, _ in named]
        if all(g is not None for g in gvals):
            gov = float(np.sum(s * s * np.asarray(gvals, dtype=float)))
    agg = sum(v for c, v in by_country.items() if c in HHI_EXCLUDED)
    return {
        "hhi": hhi,
        "hhi_normalized": norm,
        "cr1": cr1,
        "cr3": cr3,
        "top_country": top,
        "top_share": top_share,
        "n_countries": n,
        "effective_suppliers": eff,
        "level": concentration_level(hhi, thresholds),
        "eu_single_country_cap": bool(
            math.isfinite(top_share) and top_share > EU_SINGLE_COUNTRY_CAP
        ),
        "hhi_governance": gov,
        "aggregate_share": agg / total if total > 0 else nan,
        "total": total,
    }


def concentration(
    G: nx.DiGraph,
    *,
    thresholds: tuple[float, float] = MERGER_GUIDELINES_2010,
    draws: Any = None,
    seed: int | None = None,
) -> pd.DataFrame:
    """Return concentration indices per stage (and for reserves), from country shares.

    Parameters
    ----------
    G
        A supply graph. Shares as in :func:`stage_shares`; ``ROW``/``XXX`` aggregates are in
        the stage totals but not in the indices (see the module docstring).
    thresholds
        HHI bands for ``level``: default the 2010 US Horizontal Merger Guidelines
        ``(1500, 2500)``; use :data:`MERGER_GUIDELINES_2023` for ``(1000, 1800)``.
    draws, seed
        Monte Carlo draws over the graph's ranges (a count, or a
        :class:`~supplygraph.uncertainty.sampling.DrawSpec`) and their seed: adds
        ``hhi_p5``, ``hhi_p50``, ``hhi_p95``, ``top_share_p5`` ... ``p_top_country`` and
        ``p_highly_concentrated`` (see :func:`concentration_draws`).

    Returns
    -------
    pandas.DataFrame
        Index ``stage``: ``"reserves"`` first when ``G.graph["reserves"]`` exists, then
        ``G.graph["stages"]`` in order (then any other stage found on nodes). Columns:

        - ``hhi``: 10,000 · Σ s_c² over named countries (0-10,000).
        - ``hhi_normalized``: (H − 1/n)/(1 − 1/n) with H = hhi/10,000 and n = ``n_countries``,
          clipped to [0, 1]; 1.0 for a single country (a monopoly is fully concentrated).
        - ``cr1``, ``cr3``: the largest and the three largest named shares (fractions 0-1).
        - ``top_country``, ``top_share``: the largest named supplier and its share.
        - ``n_countries``: named countries with a positive share.
        - ``effective_suppliers``: 10,000 / hhi, the number of equal suppliers with that HHI.
        - ``level``: concentration band (see :func:`concentration_level`).
        - ``eu_single_country_cap``: True when one country holds more than 65 % of the stage,
          the EU CRMA benchmark (Regulation (EU) 2024/1252). The Act caps a third country's
          share of *EU consumption*; this applies it to the stage's world shares.
        - ``hhi_governance``: the EU-style governance-weighted HHI, Σ s_c² · WGI_c · t_c with s_c
          fractions, WGI_c the node attribute ``governance`` (0-10, higher = riskier;
          value-weighted mean over a country's nodes) and t_c the optional node attribute
          ``trade_factor`` (default 1): on the EU's 0-10 scale, *not* 0-10,000. NaN unless
          every named country in the stage has a score. For reserves, a record's own
          ``governance`` or the country's mean score over all nodes.
        - ``aggregate_share``: the share held by ``ROW``/``XXX`` (left out of the indices).
        - ``total``, ``unit``: the stage total and its unit (``G.graph["units"]``; for reserves
          the records' unit, a stock rather than a flow per year).

        All index values are NaN (``level`` "no data") for a stage with a zero total, and
        (``level`` "not comparable (mixed units)") for a stage whose nodes carry different
        ``unit`` attributes: shares of a sum of unlike quantities mean nothing.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph(stages=["mining"])
    >>> for c, v in {"A": 50, "B": 30, "C": 15, "D": 5}.items():
    ...     G.add_node(f"{c}:mining", stage="mining", country=c, value=v)
    >>> row = concentration(G).loc["mining"]
    >>> round(row["hhi"]), float(row["cr1"]), round(float(row["cr3"]), 2), row["level"]
    (3650, 0.5, 0.95, 'highly concentrated')
    """
    if draws is not None:
        from supplygraph.uncertainty.sampling import DrawSpec

        return concentration_draws(G, DrawSpec.of(draws, seed), thresholds=thresholds)[0]
    qty = _quantities(G)
    values = _stage_country_values(G, include_reserves=True, qty=qty)
    gov_all = _governance_by_country(G, qty)
    reserve_gov = {
        _country(r): _number(r.get("governance"))
        for r in G.graph.get("reserves") or []
        if isinstance(r, Mapping)
    }
    units = {str(k): v for k, v in (G.graph.get("units") or {}).items()}
    reserve_units = {
        r.get("unit") for r in G.graph.get("reserves") or [] if isinstance(r, Mapping)
    } - {None}
    if len(reserve_units) == 1:
        units[RESERVES] = reserve_units.pop()
    node_units: dict[str, set[str]] = {}
    for _, data in G.nodes(data=True):
        if data.get("unit") is not None:
            node_units.setdefault(str(data.get("stage")), set()).add(str(data["unit"]))
    rows: dict[str, dict[str, Any]] = {}
    for stage, by_country in values.items():
        mixed = sorted(node_units.get(stage, ())) if stage != RESERVES else []
        if len(mixed) > 1:
            # shares of a sum of tonnes of magnets and tonnes of oxide mean nothing
            rows[stage] = _stage_row({}, {}, thresholds)
            rows[stage]["level"] = "not comparable (mixed units)"
            rows[stage]["unit"] = "mixed: " + "; ".join(mixed)
            continue
        if stage == RESERVES and G.graph.get("reserves"):
            gov = {c: g for (s, c), g in gov_all.items() if s is None}
            gov.update({c: g for c, g in reserve_gov.items() if g is not None})
        else:
            gov = {c: g for (s, c), g in gov_all.items() if s == stage}
        rows[stage] = _stage_row(by_country, gov, thresholds)
        rows[stage]["unit"] = units.get(stage)
    columns = [*_stage_row({}, {}, thresholds), "unit"]
    out = pd.DataFrame.from_dict(rows, orient="index", columns=columns)
    out.index.name = "stage"
    return out


def concentration_by_material(
    G: nx.DiGraph,
    *,
    thresholds: tuple[float, float] = MERGER_GUIDELINES_2010,
    draws: Any = None,
    seed: int | None = None,
) -> pd.DataFrame:
    """Return concentration indices per stage and element group (the node attribute ``material``).

    Parameters
    ----------
    G
        A supply graph whose nodes carry ``material`` (what the node produces: an element group
        such as ``"light"``, ``"heavy"``, a magnet kind, a deposit type). Nodes without it are
        left out. Quantities as in :func:`node_quantities`; nodes of one country in one
        (stage, material) are summed.
    thresholds
        HHI bands for ``level``, as in :func:`concentration`.
    draws, seed
        Monte Carlo draws and their seed, as in :func:`concentration`.

    Returns
    -------
    pandas.DataFrame
        One row per (stage, material), stages in chain order and materials in order of first
        appearance; columns ``stage``, ``material``, then the columns of :func:`concentration`
        (``hhi``, ``cr1``, ``top_country``, ``top_share``, ``hhi_governance`` ...), computed
        from the country shares *within the group*: ``hhi = 10,000 * sum_c (q_c / Q_g)^2`` over
        named countries, ``Q_g`` the group's total (aggregates included), and
        ``hhi_governance = sum_c (q_c / Q_g)^2 * WGI_c`` (0-10 scale).

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph(stages=["separation"])
    >>> G.add_node("a", stage="separation", country="CHN", material="heavy", value=99.0)
    >>> G.add_node("b", stage="separation", country="MYS", material="heavy", value=1.0)
    >>> G.add_node("c", stage="separation", country="CHN", material="light", value=90.0)
    >>> G.add_node("d", stage="separation", country="MYS", material="light", value=10.0)
    >>> df = concentration_by_material(G)
    >>> df[["material", "top_share"]].to_dict("list")
    {'material': ['heavy', 'light'], 'top_share': [0.99, 0.9]}
    >>> round(df.loc[0, "hhi"])
    9802
    """
    if draws is not None:
        from supplygraph.uncertainty.sampling import DrawSpec

        spec = DrawSpec.of(draws, seed)
        return concentration_draws(G, spec, thresholds=thresholds, by_material=True)[0]
    qty = _quantities(G)
    groups: dict[tuple[str, str], dict[str, float]] = {}
    units: dict[tuple[str, str], set[str]] = {}
    gov_acc: dict[tuple[str, str, str], list[float]] = {}
    for n, attrs in G.nodes(data=True):
        material, stage = attrs.get("material"), attrs.get("stage")
        if material is None or stage is None or str(material).strip() == "":
            continue
        key = (str(stage), str(material).strip())
        c = _country(attrs)
        acc = groups.setdefault(key, {})
        acc[c] = acc.get(c, 0.0) + float(qty[n])
        if attrs.get("unit") is not None:
            units.setdefault(key, set()).add(str(attrs["unit"]))
        g = _number(attrs.get("governance"))
        if g is not None:
            t = _number(attrs.get("trade_factor"))
            g *= 1.0 if t is None else t
            s = gov_acc.setdefault((*key, c), [0.0, 0.0, 0.0, 0.0])
            w = float(qty[n])
            s[0] += w * g
            s[1] += w
            s[2] += g
            s[3] += 1
    order = {stage: i for i, stage in enumerate(_stage_order(G))}
    keys = sorted(groups, key=lambda k: order.get(k[0], len(order)))  # stable: first appearance
    columns = ["stage", "material", *_stage_row({}, {}, thresholds), "unit"]
    rows = []
    for key in keys:
        gov = {
            c: (wg / w if w > 0 else g / k)
            for (st, mt, c), (wg, w, g, k) in gov_acc.items()
            if (st, mt) == key
        }
        found = sorted(units.get(key, ()))
        if len(found) > 1:
            row = _stage_row({}, {}, thresholds)
            row["level"] = "not comparable (mixed units)"
            unit: str | None = "mixed: " + "; ".join(found)
        else:
            row = _stage_row(groups[key], gov, thresholds)
            unit = found[0] if found else None
        rows.append({"stage": key[0], "material": key[1], **row, "unit": unit})
    return pd.DataFrame(rows, columns=columns)


# ----------------------------------------------------------------- Monte Carlo draws
def concentration_draws(
    G: nx.DiGraph,
    spec: DrawSpec,
    *,
    thresholds: tuple[float, float] | None = None,
    by_material: bool = False,
    workers: int = 1,
) -> tuple[pd.DataFrame, MonteCarloResult]:
    """Concentration per stage (or per stage and element group) with Monte Carlo intervals.

    Node quantities are drawn from the ``value`` ranges (and the ``flow`` ranges of nodes
    without a value, whose quantity is their outflow or inflow); each draw gives every stage's
    country shares and indices exactly as :func:`~supplygraph.analysis.concentration.
    concentration` computes them.

    Returns
    -------
    (table, result)
        The deterministic table plus ``hhi_p5``, ``hhi_p50``, ``hhi_p95``, ``top_share_p5``,
        ``top_share_p50``, ``top_share_p95``, ``p_top_country`` (the share of draws in which
        ``top_country`` stays the largest supplier) and ``p_highly_concentrated`` (HHI at or
        above the upper band).
    """
    from supplygraph.compiled import compile_graph
    from supplygraph.uncertainty.kernels import DrawPlan, incidence
    from supplygraph.uncertainty.montecarlo import (
        Experiment,
        factor_notes,
        percentile_columns,
        run,
    )
    from supplygraph.uncertainty.ranges import collect

    bands = thresholds or MERGER_GUIDELINES_2010
    if by_material:
        table = concentration_by_material(G, thresholds=bands)
        row_names = list(zip(table["stage"], table["material"], strict=True))
    else:
        table = concentration(G, thresholds=bands)
        row_names = list(table.index)
    factors = collect(G, drawn=("value", "flow"), distribution=spec.distribution)
    cg = compile_graph(G)
    plan = DrawPlan(G, cg, factors)
    attrs = [G.nodes[v] for v in cg.nodes]
    countries = [_country(d) for d in attrs]
    if by_material:
        keys: list[Any] = [
            (str(d.get("stage")), str(d.get("material")).strip())
            if d.get("material") is not None and str(d.get("material")).strip()
            else None
            for d in attrs
        ]
    else:
        keys = [str(d.get("stage")) if d.get("stage") is not None else None for d in attrs]
    row_index = {r: i for i, r in enumerate(row_names)}
    comparable = np.array(
        [not str(table.iloc[i]["level"]).startswith("not comparable") for i in range(len(table))]
    )
    # (row, country) cells, countries in name order (ties of the largest go to the first name)
    cells: dict[tuple[int, str], int] = {}
    node_cell = np.full(cg.n, -1, dtype=np.int64)
    for p, (key, c) in enumerate(zip(keys, countries, strict=True)):
        r = row_index.get(key) if key is not None else None
        if r is None or not comparable[r]:
            continue
        node_cell[p] = cells.setdefault((r, c), len(cells))
    order = sorted(cells, key=lambda rc: (rc[0], rc[1]))
    cell_row = np.array([rc[0] for rc in order], dtype=np.int64)
    cell_named = np.array([rc[1] not in HHI_EXCLUDED for rc in order], dtype=bool)
    remap = np.empty(len(cells), dtype=np.int64)
    for new, rc in enumerate(order):
        remap[cells[rc]] = new
    has = node_cell >= 0
    node_cell = np.where(has, remap[np.maximum(node_cell, 0)], -1)
    agg = incidence(node_cell[has], len(order), int(has.sum()))
    R = len(row_names)
    slot = np.zeros(len(order), dtype=np.int64)
    for i in range(1, len(order)):
        slot[i] = slot[i - 1] + 1 if cell_row[i] == cell_row[i - 1] else 0
    width = int(slot.max()) + 1 if len(order) else 1
    names_by_slot = [[""] * width for _ in range(R)]
    for i, rc in enumerate(order):
        names_by_slot[rc[0]][slot[i]] = rc[1]
    det_top = table["top_country"].tolist()
    top_slot = np.array(
        [
            names_by_slot[r].index(t) if isinstance(t, str) and t in names_by_slot[r] else -1
            for r, t in enumerate(det_top)
        ]
    )
    nosink = ~cg.is_sink
    loops = cg.src == cg.tgt
    t_out = incidence(cg.src[~loops], cg.n, int((~loops).sum()))
    t_in = incidence(cg.tgt[~loops], cg.n, int((~loops).sum()))
    fixed = table["hhi"].to_numpy(dtype=float)
    fixed_top = table["top_share"].to_numpy(dtype=float)
    has_rows = np.zeros(R, dtype=bool)
    has_rows[np.unique(cell_row)] = True

    def evaluate(u: np.ndarray) -> dict[str, np.ndarray]:
        A = plan.arrays(u)
        B = u.shape[0]
        flow = A.flow[~loops]
        out = np.asarray(t_out @ flow)
        inn = np.asarray(t_in @ flow)
        q = np.where(~np.isnan(A.value), A.value, np.where(nosink[:, None], out, inn))
        q = np.maximum(q, 0.0)
        Q = np.asarray(agg @ q[has])  # (cells, B)
        tot = np.zeros((R, B))
        np.add.at(tot, cell_row, Q)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = Q / tot[cell_row]
        named_share = np.where(cell_named[:, None] & (Q > 0), share, 0.0)
        hhi = np.zeros((R, B))
        np.add.at(hhi, cell_row, 10_000.0 * named_share**2)
        pad = np.full((R, width, B), -1.0)
        pad[cell_row, slot] = np.where(cell_named[:, None] & (Q > 0), share, -1.0)
        best = pad.max(axis=1)
        arg = pad.argmax(axis=1)
        none = best <= 0
        hhi = np.where(none | ~has_rows[:, None], np.nan, hhi)
        top = np.where(none, np.nan, best)
        # rows without draws (reserves, mixed units) keep their deterministic numbers
        keep = ~has_rows
        hhi[keep] = fixed[keep, None]
        top[keep] = fixed_top[keep, None]
        same = (arg == top_slot[:, None]).astype(float)
        same[keep] = 1.0
        return {"hhi": hhi, "top_share": top, "same_top": same}

    exp = Experiment(
        factors=factors,
        evaluate=evaluate,
        rows={"hhi": row_names, "top_share": row_names, "same_top": row_names},
        cells=3 * (cg.n + cg.m) + len(order) * 4 + R * width,
    )
    res = run(exp, spec, workers=workers, notes=factor_notes(factors, plan.skipped))
    out = table.copy()
    percentile_columns(out, "hhi", res.percentiles("hhi"), "hhi")
    percentile_columns(out, "top_share", res.percentiles("top_share"), "top_share")
    out["p_top_country"] = res.probability("same_top", lambda x: x > 0.5)
    high = float(bands[1])
    p_high = res.probability("hhi", lambda x: x >= high)
    out["p_highly_concentrated"] = np.where(np.isnan(fixed), np.nan, p_high)
    return out, res
