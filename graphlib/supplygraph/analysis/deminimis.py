"""De-minimis reach: which foreign products a content-based export rule catches.

China's MOFCOM Announcement No. 61 [2025] (suspended by No. 70 until 10 Nov 2026) would require a
licence for foreign-made items that contain China-origin controlled rare-earth items worth at
least **0.1 %** of the item's value. The US EAR's de-minimis rule (15 CFR 734.4) uses **25 %**
(10 % for embargoed destinations). This module applies such a rule to a supply graph.

Method
------
The traced share ``s[v]`` of a node is the share of its output whose material traces back to the
origin country's nodes at the chosen stage (:func:`supplygraph.analysis.origins.origin_shares`:
linear mixing through input shares; external input counts as unknown origin, i.e. not the
origin). The rule's share is a *value* share of the whole item, so the traced share is multiplied
by ``content_share``, the fraction of the item's value that is rare-earth material (default 1:
the node's output *is* the material, an upper bound for finished goods such as vehicles). A node
is **caught** when it is foreign (its country is not the origin) and
``s[v] * content_share >= threshold``. Its whole output ``value`` is then subject to licensing.

Limits: shares are mass-weighted averages over a (stage, country) aggregate, so a caught node
means "this country's output at this stage carries, on average, at least the threshold"; single
products mix differently. Unknown-origin external input makes the traced share a lower bound.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from supplygraph.errors import ScenarioError

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["EAR_THRESHOLDS", "deminimis_by_country", "deminimis_compare", "deminimis_reach"]

#: Thresholds compared by default: China's 0.1 % (MOFCOM No. 61/2025), the US EAR's 10 % and 25 %.
EAR_THRESHOLDS: tuple[float, ...] = (0.001, 0.10, 0.25)

_COLUMNS = [
    "node",
    "stage",
    "country",
    "end_use",
    "traced_share",
    "rule_share",
    "value",
    "unit",
    "foreign",
    "caught",
    "subject_value",
]


def _num(x: Any) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return float("nan")
    return v


def _content(content_share: float | Mapping[str, float], stage: Any) -> float:
    if isinstance(content_share, Mapping):
        return float(content_share.get(str(stage), 1.0))
    return float(content_share)


def deminimis_reach(
    G: nx.DiGraph,
    origin: str = "CHN",
    threshold: float = 0.001,
    stage: str | None = None,
    *,
    content_share: float | Mapping[str, float] = 1.0,
    include_origin: bool = False,
    through_hubs: bool = False,
) -> pd.DataFrame:
    """List the nodes and end uses a de-minimis rule on ``origin`` content catches.

    Parameters
    ----------
    G
        The supply graph.
    origin
        Country whose content is controlled (``"CHN"``).
    threshold
        Minimum share of the item's value (0-1): 0.001 is MOFCOM No. 61's 0.1 %; 0.25 the EAR's.
    stage
        Stage at which origin is attributed (passed to
        :func:`~supplygraph.analysis.origins.origin_shares`; None = its default, the source
        stage). ``"separation"`` asks "separated in China", closer to the rule's "China-origin
        controlled items" than mining origin.
    content_share
        Fraction of an item's value that is rare-earth material, as one number or per stage
        (``{"end_use": 0.005}``); the traced share is multiplied by it. Default 1.
    include_origin
        Also list the origin country's own nodes (never "caught": the rule covers foreign-made
        items; the origin's own exports fall under direct licensing instead).
    through_hubs
        Trace what re-export hubs pass on to the origins of their imports
        (:func:`~supplygraph.analysis.origins.origin_shares`); default False.

    Returns
    -------
    pandas.DataFrame
        One row per node with a traced share > 0 (foreign nodes unless ``include_origin``),
        sorted by stage order then traced share: ``node``, ``stage``, ``country``, ``end_use``,
        ``traced_share`` (0-1), ``rule_share`` (traced x content share), ``value``, ``unit``,
        ``foreign``, ``caught``, ``subject_value`` (``value`` when caught, else 0).

    Raises
    ------
    ScenarioError
        For a threshold outside [0, 1] or an origin that no node has.

    Examples
    --------
    >>> from supplygraph.loading import load
    >>> reach = deminimis_reach(load("rare-earths"), "CHN", 0.001, stage="separation")
    >>> bool(reach["caught"].any())
    True
    """
    from supplygraph.analysis.origins import origin_shares

    if not 0.0 <= float(threshold) <= 1.0:
        msg = f"threshold must be a share in [0, 1] (0.001 = 0.1 %), got {threshold!r}"
        raise ScenarioError(msg)
    countries = {str(d.get("country")) for _, d in G.nodes(data=True)}
    if origin not in countries:
        msg = f"origin {origin!r} is not a country of the graph"
        raise ScenarioError(msg)
    shares = origin_shares(G, level="country", stage=stage, through_hubs=through_hubs)
    traced = shares[origin] if origin in shares.columns else pd.Series(0.0, index=shares.index)
    order = {s: i for i, s in enumerate(G.graph.get("stages", []))}
    rows = []
    for node, share in traced.items():
        d = G.nodes[node]
        foreign = str(d.get("country")) != origin
        if share <= 0 or (not foreign and not include_origin):
            continue
        rule = float(share) * _content(content_share, d.get("stage"))
        caught = foreign and rule >= float(threshold) - 1e-15
        value = _num(d.get("value"))
        rows.append(
            {
                "node": node,
                "stage": d.get("stage"),
                "country": d.get("country"),
                "end_use": d.get("end_use"),
                "traced_share": float(share),
                "rule_share": rule,
                "value": value,
                "unit": d.get("unit"),
                "foreign": foreign,
                "caught": bool(caught),
                "subject_value": value if caught and np.isfinite(value) else 0.0,
                "_order": order.get(d.get("stage"), len(order)),
            }
        )
    df = pd.DataFrame(rows, columns=[*_COLUMNS, "_order"])
    df = df.sort_values(["_order", "traced_share"], ascending=[True, False], kind="stable")
    return df.drop(columns="_order").reset_index(drop=True)


def deminimis_by_country(reach: pd.DataFrame) -> pd.DataFrame:
    """Sum the output subject to licensing per country and stage.

    Parameters
    ----------
    reach
        A table from :func:`deminimis_reach`.

    Returns
    -------
    pandas.DataFrame
        ``country``, ``stage``, ``unit``, ``nodes_caught``, ``subject_value`` (sum of caught
        nodes' ``value``), ``total_value`` (all listed nodes of that country and stage),
        ``subject_share`` (subject / total), sorted by ``subject_value`` descending.
    """
    if reach.empty:
        cols = ["country", "stage", "unit", "nodes_caught", "subject_value", "total_value"]
        return pd.DataFrame(columns=[*cols, "subject_share"])
    frame = reach.assign(unit=reach["unit"].fillna(""))
    grouped = frame.groupby(["country", "stage", "unit"], dropna=False, sort=False).agg(
        nodes_caught=("caught", "sum"),
        subject_value=("subject_value", "sum"),
        total_value=("value", "sum"),
    )
    grouped = grouped.reset_index()
    with np.errstate(divide="ignore", invalid="ignore"):
        grouped["subject_share"] = np.where(
            grouped["total_value"] > 0, grouped["subject_value"] / grouped["total_value"], np.nan
        )
    grouped["nodes_caught"] = grouped["nodes_caught"].astype(int)
    return grouped.sort_values("subject_value", ascending=False, kind="stable").reset_index(
        drop=True
    )


def deminimis_compare(
    G: nx.DiGraph,
    origin: str = "CHN",
    thresholds: Sequence[float] = EAR_THRESHOLDS,
    stage: str | None = None,
    *,
    content_share: float | Mapping[str, float] = 1.0,
    through_hubs: bool = False,
) -> pd.DataFrame:
    """Compare the reach of several de-minimis thresholds (default 0.1 %, 10 %, 25 %).

    Parameters
    ----------
    G, origin, stage, content_share, through_hubs
        As :func:`deminimis_reach`.
    thresholds
        Value-share thresholds to compare.

    Returns
    -------
    pandas.DataFrame
        One row per threshold and stage with foreign nodes: ``threshold``, ``stage``,
        ``nodes_caught``, ``foreign_nodes``, ``subject_value``, ``foreign_value``,
        ``subject_share`` (of the stage's foreign output), ``end_uses_caught`` (sectors, joined).

    Examples
    --------
    >>> from supplygraph.loading import load
    >>> cmp = deminimis_compare(load("rare-earths"), "CHN", stage="separation")
    >>> sorted(cmp["threshold"].unique().tolist())
    [0.001, 0.1, 0.25]
    """
    base = deminimis_reach(
        G, origin, 0.0, stage, content_share=content_share, through_hubs=through_hubs
    )
    # all foreign nodes, including those with no traced content, for the denominators
    foreign = [
        (n, d)
        for n, d in G.nodes(data=True)
        if str(d.get("country")) != origin and d.get("stage") is not None
    ]
    stage_values: dict[Any, float] = {}
    stage_counts: dict[Any, int] = {}
    for _, d in foreign:
        v = _num(d.get("value"))
        stage_values[d["stage"]] = stage_values.get(d["stage"], 0.0) + (v if np.isfinite(v) else 0)
        stage_counts[d["stage"]] = stage_counts.get(d["stage"], 0) + 1
    stages = [s for s in G.graph.get("stages", []) if s in stage_counts] or sorted(
        stage_counts, key=str
    )
    rows = []
    for t in thresholds:
        caught = base[base["rule_share"] >= float(t) - 1e-15]
        for s in stages:
            sub = caught[caught["stage"] == s]
            total = stage_values.get(s, 0.0)
            subject = float(np.nansum(sub["value"].to_numpy(dtype=float)))
            uses = sorted({str(u) for u in sub["end_use"].dropna()})
            rows.append(
                {
                    "threshold": float(t),
                    "stage": s,
                    "nodes_caught": len(sub),
                    "foreign_nodes": stage_counts.get(s, 0),
                    "subject_value": subject,
                    "foreign_value": total,
                    "subject_share": subject / total if total > 0 else np.nan,
                    "end_uses_caught": ", ".join(uses),
                }
            )
    return pd.DataFrame(rows)
