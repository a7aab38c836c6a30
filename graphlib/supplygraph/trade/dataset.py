"""``trade build``: a dataset folder in which bilateral trade replaces the pooled world market.

Input: one year of trade (:func:`supplygraph.trade.read_trade`) and a stage-shares dataset (the
built-in ``rare-earths-aggregate`` or a folder laid out the same way). Output: a new folder with the same
files (``dataset.toml``, ``stage_shares.csv``, ``flows.csv``, ``sources.csv``) plus
``coverage.csv``, which every command loads like the original.

Rules, per stage ``s`` the trade data cover, in the stage's graph unit:

1. **Conversion.** ``q = quantity_t * factor`` (the HS map's factor into the graph's unit, e.g.
   1 t REO per t of 2846 compounds). A record with unknown tonnes is given
   ``quantity_t = value_kusd * (sum of known quantity_t / sum of their value_kusd)`` of the same
   HS code and stage (its unit value), and its edges are labelled ``derived``; a code with no
   known tonnage or no factor is left out and counted.
2. **Places.** Partners become graph countries (:mod:`supplygraph.trade.regions`: EU members
   into ``EU`` when the graph has it); trade inside one graph country is left out. For each graph
   country ``c``: ``P`` = value of its node at ``s`` (0 without one), ``M`` = imports, ``X`` =
   exports.
3. **Re-exports.** Exports come from own production first; what exceeds it comes from imports::

       R = min(M, max(0, X - P))          rho = R / M  (share of imports passed on)

   A country with ``R > 0`` and no node at ``s`` gets one (``<c>:<s>``, value 0,
   ``hub`` = the hub test's flag), so what Hong Kong passes on keeps its origin.
4. **Suppliers.** Exports leave from the exporter's node at ``s``; an exporter without one and
   without imports ships from ``ROW:<s>`` when the graph has it (otherwise the tonnes are
   reported as unplaced).
5. **Customers.** An import ``q`` from ``a`` to ``b`` sends ``rho_b * q`` to ``b``'s node at
   ``s`` (re-exported later) and ``(1 - rho_b) * q`` to ``b``'s nodes drawing from ``s``, split in
   proportion to what each drew from ``s`` in the original graph (by value when it drew
   nothing); a country without such nodes uses ``ROW``'s.
6. **Coverage.** A stage is *complete* when the HS map has an enabled six-digit line for it
   that applies to every exporter (the default map's mining stage is not: ores trade under the
   2530.90 basket, which is off, so only Myanmar's and Laos's compounds are mapped there). At a
   complete stage, for every customer whose imports the data cover completely (every country in
   a BACI release; Comtrade reporters of imports), every foreign supplier without trade gets a
   flow of 0, so pooled flows the data contradict disappear. At other stages the trade only
   sets the pairs it names. Domestic pairs (``CHN:separation -> CHN:metal``) keep the original
   flows: trade data say nothing about them.

Every trade edge carries ``basis = bilateral``, ``source_ref`` = the release, ``year``,
``evidence`` (``secondary`` for BACI, ``primary`` for Comtrade, ``derived`` when split between
nodes or imputed), ``value_kusd`` and the HS codes.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supplygraph.errors import InputError

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd

    from supplygraph.trade.hsmap import HSMap
    from supplygraph.trade.records import TradeData

__all__ = ["COVERAGE_COLUMNS", "TradeBuild", "build_trade_dataset"]

COVERAGE_COLUMNS = [
    "stage",
    "unit",
    "records",
    "records_imputed",
    "records_no_tonnage",
    "trade",
    "placed",
    "internal",
    "no_supplier",
    "no_customer",
    "complete_stage",
    "edges",
    "edges_suppressed",
    "base_rows_replaced",
]


@dataclass
class TradeBuild:
    """What :func:`build_trade_dataset` wrote.

    Attributes
    ----------
    folder
        The dataset folder.
    graph
        The new graph, loaded from the folder.
    coverage
        One row per stage (:data:`COVERAGE_COLUMNS`): trade records, their quantity in the graph
        unit, how much became edges (``placed``), stayed inside one graph country
        (``internal``), had no supplier or customer node, and how many flows were set or set to 0.
    hubs
        The hub test on the original graph's production (:func:`supplygraph.trade.hub_table`).
    edges
        The trade rows written to ``flows.csv`` (suppressions included, with flow 0).
    notes
        Sentences about what was read and left out.
    """

    folder: Path
    graph: nx.DiGraph
    coverage: pd.DataFrame
    hubs: pd.DataFrame
    edges: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def _base_folder(source: str | Path) -> Path:
    from supplygraph.datasets import dataset_path, is_dataset_name

    p = Path(source)
    if not p.exists() and is_dataset_name(str(source)):
        return dataset_path(str(source))
    if p.is_dir() and (p / "dataset.toml").is_file():
        return p
    msg = (
        "trade build needs a stage-shares dataset: a built-in dataset name or a folder with "
        "dataset.toml, stage_shares.csv and flows.csv"
    )
    raise InputError(msg, file=str(source))


def _node_ids(shares: pd.DataFrame) -> list[str]:
    """The ids the stage-shares builder gives rows: ``id``, else ``<country>:<end_use|stage>``."""
    from supplygraph.validate import is_blank

    ids = []
    for _, row in shares.iterrows():
        if "id" in shares.columns and not is_blank(row.get("id")):
            ids.append(str(row["id"]).strip())
            continue
        tail = row.get("end_use") if not is_blank(row.get("end_use")) else row.get("stage")
        ids.append(f"{str(row['country']).strip()}:{str(tail).strip()}")
    return ids


def _upstream(shares: pd.DataFrame, ids: list[str], stages: list[str]) -> dict[str, str | None]:
    from supplygraph.validate import is_blank

    out: dict[str, str | None] = {}
    for node, (_, row) in zip(ids, shares.iterrows(), strict=True):
        src = row.get("inputs_from")
        if is_blank(src):
            stage = str(row["stage"]).strip()
            pos = stages.index(stage) if stage in stages else 0
            out[node] = stages[pos - 1] if pos > 0 else None
        else:
            out[node] = str(src).strip()
    return out


def _quantities(flows: pd.DataFrame, hs_map: HSMap, notes: list[str]) -> pd.DataFrame:
    """Convert to the graph unit; impute unknown tonnes by the code's unit value."""
    import numpy as np

    f = flows.copy()
    f["factor"] = hs_map.apply(f["exporter"], f["hs6"])["factor"].to_numpy()
    known = f["quantity_t"].notna() & (f["value_kusd"] > 0)
    per_code = f[known].groupby(["stage", "hs6"])[["quantity_t", "value_kusd"]].sum()
    tonnes_per_kusd = per_code["quantity_t"] / per_code["value_kusd"]
    unit_value = [
        tonnes_per_kusd.get((s, k), np.nan) for s, k in zip(f["stage"], f["hs6"], strict=True)
    ]
    f["imputed"] = f["quantity_t"].isna() & ~np.isnan(np.asarray(unit_value, dtype=float))
    f["quantity_t"] = f["quantity_t"].fillna(f["value_kusd"] * np.asarray(unit_value, dtype=float))
    f["q"] = f["quantity_t"] * f["factor"]
    if f["imputed"].any():
        notes.append(
            f"{int(f['imputed'].sum())} records without tonnes were given the tonnes of their "
            "value at their code's unit value (edges labelled derived)"
        )
    missing = f["q"].isna()
    if missing.any():
        codes = ", ".join(sorted(set(f.loc[missing, "hs6"])))
        notes.append(
            f"{int(missing.sum())} records left out: no tonnage and no unit value, or no factor "
            f"in the HS map (codes {codes})"
        )
    return f


def _check_units(
    hs_map: HSMap, stages: list[str], units: dict[str, str], trade_stages: set[str]
) -> None:
    from supplygraph.trade.hsmap import normalize_unit

    for stage in sorted(trade_stages):
        if stage not in stages:
            msg = (
                f"the HS map sends trade to stage '{stage}', which is not a stage of the graph "
                f"({', '.join(stages)}); use a map with the graph's stage ids"
            )
            raise InputError(msg, file=hs_map.file)
        want = units.get(stage)
        have = hs_map.stage_units().get(stage)
        if want and have and normalize_unit(want) != normalize_unit(have):
            msg = (
                f"the HS map converts stage '{stage}' to '{have}' but the graph counts it in "
                f"'{want}'; set the map's factor and unit for that stage"
            )
            raise InputError(msg, file=hs_map.file)


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.3g}"


class _Stage:
    """Routing of one stage's trade onto the graph (rules 2-6 of the module)."""

    def __init__(self, ctx: _Context, stage: str) -> None:
        self.ctx = ctx
        self.stage = stage
        self.own = {c: n for (c, s), n in ctx.node_at.items() if s == stage}
        self.customers: dict[str, list[str]] = {}
        for node, up in ctx.upstream.items():
            if up == stage:
                self.customers.setdefault(ctx.country[node], []).append(node)
        self.created: dict[str, str] = {}

    def supplier(self, c: str, imports: float) -> str | None:
        if c in self.own:
            return self.own[c]
        if imports > 0:
            node = f"{c}:{self.stage}"
            self.created[c] = node
            return node
        return self.own.get("ROW")

    def country_of(self, node: str) -> str:
        made = {n: c for c, n in self.created.items()}
        return made.get(node) or self.ctx.country[node]

    def customers_of(self, c: str) -> list[str]:
        return self.customers.get(c) or self.customers.get("ROW", [])

    def weights(self, nodes: list[str]) -> list[float]:
        drawn = [self.ctx.intake.get((n, self.stage), 0.0) for n in nodes]
        if sum(drawn) <= 0:
            drawn = [max(self.ctx.value.get(n, 0.0), 0.0) for n in nodes]
        if sum(drawn) <= 0:
            drawn = [1.0] * len(nodes)
        total = sum(drawn)
        return [d / total for d in drawn]


@dataclass
class _Context:
    country: dict[str, str]
    value: dict[str, float]
    upstream: dict[str, str | None]
    node_at: dict[tuple[str, str], str]
    intake: dict[tuple[str, str], float]
    graph_countries: set[str]


def _context(G: nx.DiGraph, upstream: dict[str, str | None], where: str) -> _Context:
    country = {n: str(d.get("country")) for n, d in G.nodes(data=True)}
    value = {n: float(d.get("value") or 0.0) for n, d in G.nodes(data=True)}
    node_at: dict[tuple[str, str], str] = {}
    for n, d in G.nodes(data=True):
        if d.get("end_use"):
            continue
        key = (country[n], str(d.get("stage")))
        if key in node_at:
            msg = (
                f"the graph has two nodes of {key[0]} at stage '{key[1]}' ({node_at[key]}, {n}); "
                "trade build needs one node per country and stage"
            )
            raise InputError(msg, file=where)
        node_at[key] = n
    intake: dict[tuple[str, str], float] = {}
    for u, v, d in G.edges(data=True):
        key = (v, str(G.nodes[u].get("stage")))
        intake[key] = intake.get(key, 0.0) + float(d.get("flow") or 0.0)
    return _Context(
        country=country,
        value=value,
        upstream=upstream,
        node_at=node_at,
        intake=intake,
        graph_countries=set(country.values()),
    )


def _route(
    f: pd.DataFrame, ctx: _Context, trade: TradeData, hubs: pd.DataFrame, unit_of: dict[str, str]
) -> tuple[dict[tuple[str, str], dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Return trade edges, created nodes and one coverage row per stage."""
    from supplygraph.trade.regions import graph_country

    label = trade.source.get("label", trade.source.get("kind", "trade"))
    kind_evidence = "secondary" if trade.source.get("kind") == "BACI" else "primary"
    place = {
        c: graph_country(c, ctx.graph_countries) for c in set(f["exporter"]) | set(f["importer"])
    }
    hub_flag = {(r.country, r.stage): r.hub for r in hubs.itertuples()}
    edges: dict[tuple[str, str], dict[str, Any]] = {}
    created: list[dict[str, Any]] = []
    coverage: list[dict[str, Any]] = []
    for stage, part in f.groupby("stage", sort=False):
        stage = str(stage)
        st = _Stage(ctx, stage)
        usable = part[part["q"].notna()]
        a = usable.assign(C=usable["exporter"].map(place), D=usable["importer"].map(place))
        internal = float(a.loc[a["C"] == a["D"], "q"].sum())
        a = a[a["C"] != a["D"]]
        pairs = a.groupby(["C", "D"], sort=True).agg(
            q=("q", "sum"),
            value=("value_kusd", "sum"),
            codes=("hs6", lambda s: ";".join(sorted(set(s)))),
            imputed=("imputed", "any"),
        )
        M = pairs.groupby(level="D")["q"].sum().to_dict()
        X = pairs.groupby(level="C")["q"].sum().to_dict()
        rho = {}
        for c in set(M) | set(X):
            P = ctx.value.get(st.own[c], 0.0) if c in st.own else 0.0
            m, x = M.get(c, 0.0), X.get(c, 0.0)
            R = min(m, max(0.0, x - P))
            rho[c] = R / m if m > 0 else 0.0
        suppliers = {c: st.supplier(c, M.get(c, 0.0) if rho.get(c, 0.0) > 0 else 0.0) for c in X}
        no_supplier = no_customer = placed = 0.0
        for (C, D), row in pairs.iterrows():
            q = float(row["q"])
            sup = suppliers.get(str(C))
            if sup is None:
                no_supplier += q
                continue
            targets: list[tuple[str, float]] = []
            if rho.get(str(D), 0.0) > 0:
                hub_node = st.supplier(str(D), M[D])
                if hub_node is not None:
                    targets.append((hub_node, rho[D]))
            rest = 1.0 - rho.get(str(D), 0.0)
            if rest > 0:
                custs = st.customers_of(str(D))
                if not custs:
                    no_customer += q * rest
                for node, w in zip(custs, st.weights(custs), strict=True):
                    targets.append((node, rest * w))
            for node, share in targets:
                if share <= 0:
                    continue
                if st.country_of(node) == st.country_of(sup):
                    internal += q * share
                    continue
                placed += q * share
                e = edges.setdefault(
                    (sup, node),
                    {"flow": 0.0, "value_kusd": 0.0, "codes": set(), "parts": [], "derived": False},
                )
                e["flow"] += q * share
                e["value_kusd"] += float(row["value"]) * share
                e["codes"].update(str(row["codes"]).split(";"))
                e["derived"] |= bool(row["imputed"]) or share < 1.0
                e["parts"].append(f"{C}->{D} {_fmt(q)} x {share:.3g}")
                e["stage"] = stage
        for c, node in sorted(st.created.items()):
            flag = hub_flag.get((c, stage))
            created.append(
                {
                    "id": node,
                    "label": f"{c} {stage} (re-exports)",
                    "stage": stage,
                    "country": c,
                    "value": 0,
                    "unit": unit_of.get(stage),
                    "hub": "" if flag is None else str(bool(flag)).lower(),
                    "note": (
                        f"no {stage} output in the graph; carries re-exports of imports "
                        f"({label} {trade.year})"
                    ),
                }
            )
        coverage.append(
            {
                "stage": stage,
                "unit": unit_of.get(stage),
                "records": len(part),
                "records_imputed": int(part["imputed"].sum()),
                "records_no_tonnage": int(part["q"].isna().sum()),
                "trade": float(usable["q"].sum()),
                "placed": placed,
                "internal": internal,
                "no_supplier": no_supplier,
                "no_customer": no_customer,
                "_stage": st,
            }
        )
    for e in edges.values():
        e["evidence"] = "derived" if e["derived"] else kind_evidence
    return edges, created, coverage


def _complete_stages(hs_map: HSMap) -> set[str]:
    """Stages with an enabled six-digit line that applies to every exporter (rule 6)."""
    return {
        r["stage"]
        for r in hs_map.rows
        if r["enabled"] and r["exporter"] is None and len(r["hs"]) == 6
    }


def _suppressions(
    ctx: _Context, trade: TradeData, edges: dict[tuple[str, str], dict[str, Any]], stage: str
) -> list[tuple[str, str]]:
    """Foreign supplier -> covered customer pairs at ``stage`` that the data leave empty."""
    from supplygraph.trade.regions import graph_country

    if trade.source.get("kind") == "BACI":

        def covered(c: str) -> bool:
            return True
    else:
        complete = {graph_country(c, ctx.graph_countries) for c in trade.complete_importers}
        complete -= {"EU", "ROW"}

        def covered(c: str) -> bool:
            return c in complete

    suppliers = [n for (c, s), n in ctx.node_at.items() if s == stage]
    out = []
    for v, up in ctx.upstream.items():
        if up != stage or not covered(ctx.country[v]):
            continue
        for u in suppliers:
            if ctx.country[u] != ctx.country[v] and (u, v) not in edges:
                out.append((u, v))
    return out


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[\n" + "".join(f"    {_toml_value(v)},\n" for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def _manifest_text(data: dict[str, Any]) -> str:
    lines = []
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    for key, value in data.items():
        if not isinstance(value, dict):
            lines.append(f"{key} = {_toml_value(value)}")
    for key, table in tables.items():
        lines.append("")
        lines.append(f"[{key}]")
        for k, v in table.items():
            if v is not None:
                lines.append(f"{json.dumps(str(k))} = {_toml_value(v)}")
    return "\n".join(lines) + "\n"


def build_trade_dataset(
    trade: TradeData,
    source: str | Path = "rare-earths-aggregate",
    out: str | Path = "trade-dataset",
    *,
    hs_map: HSMap | None = None,
    tolerance: float = 0.05,
    overwrite: bool = False,
) -> TradeBuild:
    """Write a dataset folder in which bilateral trade replaces pooled flows (module rules).

    Parameters
    ----------
    trade
        One year of trade (:func:`supplygraph.trade.read_trade`).
    source
        A stage-shares dataset: a built-in name or a folder with ``dataset.toml``.
    out
        The folder to write (must not exist, or be empty, unless ``overwrite``).
    hs_map
        The map the trade was read with (for factors and units); the default map when None.
    tolerance
        Hub-test tolerance (:func:`supplygraph.trade.hub_table`), stored on created nodes.
    overwrite
        Replace an existing folder.

    Returns
    -------
    TradeBuild
        The folder, the loaded graph, the coverage table, the hub table and the trade rows.

    Raises
    ------
    InputError
        A source that is not a stage-shares dataset, a map stage or unit the graph does not
        have, an existing output folder; nothing is written then.
    ValidationError
        When the new tables would not load (nothing is written).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from supplygraph.trade import read_trade
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "BACI_HS17_Y2022_V202401b.csv").write_text(
    ...     "t,i,j,k,v,q\\n2022,458,392,284690,30000.000,       4800.000\\n")
    >>> _ = (d / "country_codes_V202401b.csv").write_text(
    ...     "country_code,country_name,country_iso2,country_iso3\\n"
    ...     "458,Malaysia,MY,MYS\\n392,Japan,JP,JPN\\n")
    >>> built = build_trade_dataset(read_trade(d, 2022), "rare-earths-aggregate", d / "out")
    >>> G = built.graph
    >>> round(G.edges["MYS:separation", "JPN:metal"]["flow"] + G.edges["MYS:separation", "JPN:industrial"]["flow"])
    4800
    >>> G.has_edge("CHN:separation", "JPN:metal")  # the data show no Chinese supply
    False
    """
    import pandas as pd

    from supplygraph.datasets import read_manifest
    from supplygraph.io.safe_text import neutralize_frame
    from supplygraph.loading import load, read_csv_table
    from supplygraph.trade.hsmap import default_hs_map
    from supplygraph.trade.hubs import hub_table

    target = Path(out)
    if target.exists() and not overwrite and (not target.is_dir() or any(target.iterdir())):
        msg = "output folder exists and is not empty; choose another or pass overwrite (--force)"
        raise InputError(msg, file=str(target))
    hs_map = hs_map or default_hs_map()
    folder = _base_folder(source)
    manifest = read_manifest(folder)
    if manifest.builder != "stage_shares":
        msg = "trade build needs a stage-shares dataset (builder = 'stage_shares' in dataset.toml)"
        raise InputError(msg, file=str(folder / "dataset.toml"))
    G0 = load(folder)
    stages = list(G0.graph["stages"])
    units = dict(manifest.units)
    trade_stages = set(trade.flows["stage"])
    _check_units(hs_map, stages, units, trade_stages)
    shares_path = manifest.file("shares")
    assert shares_path is not None
    shares = read_csv_table(shares_path)
    ids = _node_ids(shares)
    ctx = _context(G0, _upstream(shares, ids, stages), str(shares_path))
    notes = list(trade.notes)
    f = _quantities(trade.flows, hs_map, notes)
    hubs = hub_table(trade, G0, tolerance=tolerance, units=hs_map.stage_units())
    unit_of = {s: units.get(s) or hs_map.stage_units().get(s, "") for s in stages}
    edges, created, coverage = _route(f, ctx, trade, hubs, unit_of)

    label = trade.source.get("label", "trade")
    year = trade.year
    source_id = "-".join(str(label).replace("CEPII ", "").replace("UN ", "").split()) + f"-{year}"
    source_id = source_id.upper().replace("+", "PLUS")
    rows = []
    for (u, v), e in sorted(edges.items()):
        rows.append(
            {
                "source": u,
                "target": v,
                "flow": round(e["flow"], 6),
                "unit": unit_of.get(e["stage"]),
                "product": "HS " + ", ".join(sorted(e["codes"])),
                "source_ref": source_id,
                "year": year,
                "evidence": e["evidence"],
                "basis": "bilateral",
                "value_kusd": round(e["value_kusd"], 3),
                "hs": ";".join(sorted(e["codes"])),
                "note": f"{label} {year}, tonnes x share: "
                + "; ".join(e["parts"][:6])
                + ("; ..." if len(e["parts"]) > 6 else ""),
            }
        )
    for cov in coverage:
        st = cov.pop("_stage")
        complete = st.stage in _complete_stages(hs_map)
        cov["complete_stage"] = complete
        pairs = _suppressions(ctx, trade, edges, st.stage) if complete else []
        cov["edges"] = sum(1 for e in edges.values() if e["stage"] == st.stage)
        cov["edges_suppressed"] = len(pairs)
        for u, v in pairs:
            rows.append(
                {
                    "source": u,
                    "target": v,
                    "flow": 0,
                    "unit": unit_of.get(st.stage),
                    "product": "",
                    "source_ref": source_id,
                    "year": year,
                    "evidence": "derived",
                    "basis": "bilateral",
                    "value_kusd": None,
                    "hs": "",
                    "note": f"no trade from {ctx.country[u]} to {ctx.country[v]} in {label} {year}",
                }
            )
    trade_rows = pd.DataFrame(rows)
    set_pairs = set(zip(trade_rows["source"], trade_rows["target"], strict=True)) if rows else set()

    flows_path = manifest.file("flows")
    base_flows = read_csv_table(flows_path) if flows_path is not None else pd.DataFrame()
    base_flows = base_flows.drop(columns=[c for c in base_flows.columns if c.startswith("_")])
    replaced = pd.Series(
        [
            (u, v) in set_pairs
            for u, v in zip(base_flows.get("source", []), base_flows.get("target", []), strict=True)
        ],
        index=base_flows.index,
        dtype=bool,
    )
    stage_of = {n: str(d.get("stage")) for n, d in G0.nodes(data=True)}
    for cov in coverage:
        cov["base_rows_replaced"] = int(
            sum(1 for u in base_flows.loc[replaced, "source"] if stage_of.get(u) == cov["stage"])
        )
    kept = base_flows[~replaced].copy()
    if "basis" not in kept.columns:
        kept["basis"] = "bilateral"
    new_flows = pd.concat([kept, trade_rows], ignore_index=True)
    ordered = [c for c in kept.columns if c in new_flows.columns]
    new_flows = new_flows[ordered + [c for c in new_flows.columns if c not in ordered]]

    shares_out = shares.drop(columns=[c for c in shares.columns if c.startswith("_")])
    if created:
        add = pd.DataFrame(created)
        add["source"] = source_id
        add["year"] = year
        add["evidence"] = "derived"
        shares_out = pd.concat([shares_out, add], ignore_index=True)
    hub_of = {(r.country, r.stage): r.hub for r in hubs.itertuples() if r.hub is not None}
    if "hub" not in shares_out.columns:
        shares_out["hub"] = None
    for i, node in enumerate(_node_ids(shares_out)):
        key = (
            ctx.country.get(node, str(shares_out.at[i, "country"])),
            str(shares_out.at[i, "stage"]),
        )
        if key in hub_of and ctx.node_at.get(key, node) == node:
            shares_out.at[i, "hub"] = str(bool(hub_of[key])).lower()

    sources_path = manifest.file("sources")
    sources = read_csv_table(sources_path) if sources_path is not None else pd.DataFrame()
    sources = sources.drop(columns=[c for c in sources.columns if c.startswith("_")])
    src = trade.source
    release_row = {
        "source_id": source_id,
        "title": f"{label}: bilateral trade {year} ({', '.join(sorted(trade_stages))})",
        "publisher": "CEPII" if src.get("kind") == "BACI" else "UN Statistics Division",
        "url": src.get("url", ""),
        "year": year,
        "evidence": "secondary" if src.get("kind") == "BACI" else "primary",
        "note": "; ".join(
            str(x)
            for x in (
                src.get("citation"),
                src.get("licence"),
                f"release date {src['release_date']}" if src.get("release_date") else None,
                f"files: {', '.join(map(str, src.get('files', [])))}",
                f"HS map: {hs_map.file}",
            )
            if x
        ),
    }
    sources = pd.concat([sources, pd.DataFrame([release_row])], ignore_index=True)

    coverage_df = pd.DataFrame(coverage, columns=COVERAGE_COLUMNS)
    conversions = sorted(
        {
            f"{r['stage']}: HS {r['hs']}{' from ' + r['exporter'] if r['exporter'] else ''} x "
            f"{r['factor']:g} {r['unit']} per t"
            for r in hs_map.rows
            if r["enabled"] and r["factor"] is not None and r["stage"] in trade_stages
        }
    )
    assumptions = [
        *manifest.assumptions,
        f"Bilateral trade from {label} ({year}) replaces the pooled and listed flows between "
        "countries at the stages it covers: every importer the data cover completely gets the "
        "recorded flows and 0 from every other foreign supplier; domestic flows are unchanged.",
        "Trade tonnes are converted to the graph's units by the HS map's factors (gross tonnes "
        "to REO or element content): " + "; ".join(conversions) + ".",
        "Exports come from the exporter's own production first; exports beyond it, up to its "
        "imports, are re-exports of those imports (R = min(M, max(0, X - P))), and countries "
        "without output that pass goods on get a node of value 0 that carries them.",
        "An importer's imports are split between its nodes drawing from the stage in proportion "
        "to what each drew in the original graph; partners the graph does not list are folded "
        "into EU (members) or ROW.",
    ]
    name = f"{manifest.name}+{str(src.get('kind', 'trade')).lower()}-{year}"
    manifest_data: dict[str, Any] = {
        "name": name,
        "description": (
            f"{manifest.name} with bilateral flows from {label} ({year}) replacing the pooled "
            "world market where the trade data cover a pair."
        ),
        "stages": stages,
        "builder": "stage_shares",
        "assumptions": assumptions,
        "units": dict(manifest.units),
        "files": {
            "shares": "stage_shares.csv",
            "flows": "flows.csv",
            **({"reserves": "reserves.csv"} if manifest.file("reserves") else {}),
            "sources": "sources.csv",
            "coverage": "coverage.csv",
        },
        "trade": {
            "source_id": source_id,
            "label": label,
            "year": year,
            "kind": src.get("kind"),
            "hs_revision": src.get("hs_revision"),
            "base": manifest.name,
            "hs_map": hs_map.file,
            "tolerance": tolerance,
        },
    }

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        neutralize_frame(shares_out).to_csv(
            tmp / "stage_shares.csv", index=False, lineterminator="\n"
        )
        neutralize_frame(new_flows).to_csv(tmp / "flows.csv", index=False, lineterminator="\n")
        neutralize_frame(sources).to_csv(tmp / "sources.csv", index=False, lineterminator="\n")
        coverage_df.to_csv(tmp / "coverage.csv", index=False, lineterminator="\n")
        reserves = manifest.file("reserves")
        if reserves is not None:
            shutil.copyfile(reserves, tmp / "reserves.csv")
        (tmp / "dataset.toml").write_text(_manifest_text(manifest_data), encoding="utf-8")
        G = load(tmp)
        manifest_data["summary"] = {"nodes": G.number_of_nodes(), "edges": G.number_of_edges()}
        (tmp / "dataset.toml").write_text(_manifest_text(manifest_data), encoding="utf-8")
        tmp.chmod(0o755)
        if target.exists():
            old = target.with_name(f".{target.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            target.rename(old)
            tmp.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    G.graph["provenance"]["input"] = str(target)
    return TradeBuild(
        folder=target, graph=G, coverage=coverage_df, hubs=hubs, edges=trade_rows, notes=notes
    )
