"""Checks of the built-in ``rare-earths`` dataset against its sources.

The expected figures below are typed by hand from the reference material (USGS MCS 2025, IEA,
Eurostat ...), never read back from the dataset's own files. The first group of tests reads the
raw CSVs with pandas. The second group loads the graph with ``supplygraph.load``.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import networkx as nx
import pandas as pd
import pycountry
import pytest

DATA = Path(__file__).resolve().parents[1] / "datasets" / "rare_earths_aggregate"
STAGES = ["mining", "separation", "metal", "magnets", "end_use"]
EVIDENCE = {"primary", "secondary", "derived", "weak", "assumption"}
AGGREGATES = {"EU", "ROW"}
END_USES = {"vehicles", "wind", "electronics", "industrial", "defense"}

# USGS Mineral Commodity Summaries 2025, rare earths: 2024 mine production, t REO.
USGS_MINE_2024 = {
    "CHN": 270_000,
    "USA": 45_000,
    "MMR": 31_000,
    "AUS": 13_000,
    "NGA": 13_000,
    "THA": 13_000,
    "IND": 2_900,
    "RUS": 2_500,
    "MDG": 2_000,
    "VNM": 300,
    "MYS": 130,
    "BRA": 20,
    "ROW": 1_100,  # USGS "Other"
}
USGS_WORLD_2024 = 390_000  # USGS rounded world total
USGS_ROW_SUM_2024 = 393_950  # the country rows added up

# USGS MCS 2025 reserves, t REO (countries with a numeric estimate).
USGS_RESERVES_MCS2025 = {
    "CHN": 44_000_000,
    "BRA": 21_000_000,
    "IND": 6_900_000,
    "AUS": 5_700_000,
    "RUS": 3_800_000,
    "VNM": 3_500_000,
    "USA": 1_900_000,
    "GRL": 1_500_000,
    "TZA": 890_000,
    "ZAF": 860_000,
    "CAN": 830_000,
    "THA": 4_500,
}

# Numeric columns of each table and the columns that carry their provenance.
NUMERIC = {
    "stage_shares.csv": ["value", "external_input", "inventory_days", "recovery_days"],
    "flows.csv": ["flow", "lead_days"],
    "reserves.csv": ["value"],
}
SOURCE_COLUMN = {"stage_shares.csv": "source", "flows.csv": "source_ref", "reserves.csv": "source"}


def read(name: str) -> pd.DataFrame:
    """Read a dataset table as text, blank cells as None (``NA`` stays a code)."""
    df = pd.read_csv(DATA / name, dtype=str, keep_default_na=False, encoding="utf-8")
    return df.map(lambda v: v.strip() or None if isinstance(v, str) else v)


@pytest.fixture(scope="module")
def shares() -> pd.DataFrame:
    df = read("stage_shares.csv")
    df["value"] = pd.to_numeric(df["value"])
    return df


@pytest.fixture(scope="module")
def flows() -> pd.DataFrame:
    df = read("flows.csv")
    df["flow"] = pd.to_numeric(df["flow"])
    return df


@pytest.fixture(scope="module")
def reserves() -> pd.DataFrame:
    df = read("reserves.csv")
    df["value"] = pd.to_numeric(df["value"])
    return df


@pytest.fixture(scope="module")
def sources() -> pd.DataFrame:
    return read("sources.csv")


def value_of(shares: pd.DataFrame, node: str) -> float:
    rows = shares.loc[shares["id"] == node, "value"]
    assert len(rows) == 1, node
    return float(rows.iloc[0])


def stage_total(shares: pd.DataFrame, stage: str) -> float:
    return float(shares.loc[shares["stage"] == stage, "value"].sum())


def flow_of(flows: pd.DataFrame, source: str, target: str) -> float:
    rows = flows.loc[(flows["source"] == source) & (flows["target"] == target), "flow"]
    assert len(rows) == 1, (source, target)
    return float(rows.iloc[0])


# ---------------------------------------------------------------- manifest and structure


def test_manifest_names_stages_files_and_assumptions():
    manifest = tomllib.loads((DATA / "dataset.toml").read_text(encoding="utf-8"))
    assert manifest["name"] == "rare-earths-aggregate"
    assert manifest["stages"] == STAGES
    assert manifest["builder"] == "stage_shares"
    assert set(manifest["units"]) == set(STAGES)
    assert manifest["files"] == {
        "shares": "stage_shares.csv",
        "flows": "flows.csv",
        "reserves": "reserves.csv",
        "sources": "sources.csv",
    }
    for name in manifest["files"].values():
        assert (DATA / name).is_file(), name
    assumptions = manifest["assumptions"]
    assert len(assumptions) >= 10
    assert all(isinstance(a, str) and a.endswith(".") for a in assumptions)
    assert any("pooled" in a.lower() for a in assumptions)
    assert (DATA / "README.md").is_file()


def test_node_ids_are_unique_and_follow_the_convention(shares):
    assert shares["id"].is_unique
    assert set(shares["stage"]) == set(STAGES)
    for row in shares.itertuples():
        if row.stage == "end_use":
            assert row.end_use in END_USES, row.id
            # magnet-fed "other magnet uses" are <ISO3>:motors with end_use industrial
            suffix = "motors" if row.id.endswith(":motors") else row.end_use
            if suffix == "motors":
                assert row.end_use == "industrial"
            assert row.id == f"{row.country}:{suffix}"
        else:
            assert pd.isna(row.end_use), row.id
            assert row.id == f"{row.country}:{row.stage}"


def test_graph_is_small_and_covers_the_required_end_uses(shares):
    assert 40 <= len(shares) <= 80
    ids = set(shares["id"])
    for region in ("CHN", "USA", "EU", "JPN", "ROW"):
        assert f"{region}:vehicles" in ids
    assert set(shares["end_use"].dropna()) == END_USES


def test_inputs_from_names_an_upstream_stage(shares):
    rank = {s: i for i, s in enumerate(STAGES)}
    for row in shares.dropna(subset=["inputs_from"]).itertuples():
        assert rank[row.inputs_from] < rank[row.stage], row.id
    industrial = shares[shares["id"].str.endswith(":industrial")]
    assert len(industrial) == 5
    assert (industrial["inputs_from"] == "separation").all()


def test_country_codes_are_iso3_or_known_aggregates(shares, reserves):
    codes = set(shares["country"]) | set(reserves["country"])
    for code in codes:
        assert code in AGGREGATES or pycountry.countries.get(alpha_3=code) is not None, code


# ---------------------------------------------------------------- figures against sources


def test_china_2024_mine_share_matches_usgs(shares):
    china = value_of(shares, "CHN:mining")
    # Against the USGS world total (390,000 t, rounded), as the acceptance test states:
    assert china / USGS_WORLD_2024 == pytest.approx(0.6923, abs=5e-5)
    # The graph's denominator is the sum of the mining rows (393,950 t, incl. USGS "Other").
    total = stage_total(shares, "mining")
    assert total == USGS_ROW_SUM_2024
    assert china / total == pytest.approx(270_000 / 393_950, rel=1e-12)
    # The two differ only through USGS's rounding of the world total.
    assert abs(china / total - 270_000 / 390_000) < 0.01


def test_mine_production_matches_usgs_mcs_2025(shares):
    mining = shares[shares["stage"] == "mining"]
    assert dict(zip(mining["country"], mining["value"], strict=True)) == USGS_MINE_2024
    assert set(mining["source"]) == {"USGS-MCS-2025"}
    assert set(mining["year"]) == {"2024"}


def test_reserves_match_usgs_mcs_2025(reserves):
    assert dict(zip(reserves["country"], reserves["value"], strict=True)) == USGS_RESERVES_MCS2025
    assert set(reserves["edition"]) == {"MCS 2025"}
    assert set(reserves["unit"]) == {"t REO"}
    # China's share of the listed countries (MCS 2025): 44 / 90.8845 Mt = 48.4 %
    share = reserves.set_index("country")["value"]["CHN"] / reserves["value"].sum()
    assert share == pytest.approx(44_000_000 / 90_884_500)


def test_stage_shares_follow_the_cited_shares(shares):
    # separation: China's 2024 quota (254,000 t) is 91 % of the stage (IEA, Oct 2025)
    assert value_of(shares, "CHN:separation") == 254_000
    assert 254_000 / stage_total(shares, "separation") == pytest.approx(0.91, abs=5e-6)
    # metal: China 90 % (IDTechEx) of 93,000 t magnet rare earths (IEA GCMO 2024)
    assert stage_total(shares, "metal") == 93_000
    assert value_of(shares, "CHN:metal") == pytest.approx(0.90 * 93_000)
    # magnets: China 94 % (IEA, Oct 2025) of 93,000 t / 0.30 = 310,000 t; Japan below 9 % (Argus)
    assert stage_total(shares, "magnets") == pytest.approx(93_000 / 0.30)
    assert value_of(shares, "CHN:magnets") == pytest.approx(0.94 * 310_000)
    assert value_of(shares, "JPN:magnets") / 310_000 < 0.09
    # company and USGS tonnages
    assert value_of(shares, "MYS:separation") == 10_462  # Lynas FY2025 total REO
    assert value_of(shares, "USA:separation") == 1_300  # USGS compounds and metals 2024e
    assert value_of(shares, "USA:defense") == 175  # DoD 2012, t NdFeB
    assert value_of(shares, "EU:industrial") == 12_900  # Eurostat 2024 REE+ imports


def test_magnet_end_uses_follow_the_cited_splits(shares):
    magnet_uses = shares[(shares["stage"] == "end_use") & shares["inputs_from"].isna()]
    by_use = magnet_uses.groupby("end_use")["value"].sum()
    assert by_use["electronics"] == pytest.approx(0.30 * 310_000, abs=1)  # Heim & Vander Wal
    assert by_use["vehicles"] == pytest.approx(0.07 * 310_000, abs=1)  # IEA EV share 2023
    assert by_use["wind"] == pytest.approx(117_000 * 0.25 * 0.5, abs=1)  # GWEC x Roskill x Heim
    # China's own magnet use = its output - its 58,152 t of exports (Adamas, 2024)
    china = magnet_uses[magnet_uses["country"] == "CHN"]["value"].sum()
    assert china == pytest.approx(0.94 * 310_000 - 58_152, abs=2)


def test_known_bilateral_flows(flows):
    assert flow_of(flows, "USA:mining", "CHN:separation") == 43_000  # USGS exports 2024e
    assert flow_of(flows, "MMR:mining", "CHN:separation") == 31_000  # USGS, via China imports
    assert flow_of(flows, "AUS:mining", "MYS:separation") == 13_000  # Mt Weld -> Kuantan
    assert flow_of(flows, "MYS:separation", "CHN:metal") == 3_261  # Lynas NdPr to China
    assert flow_of(flows, "USA:separation", "CHN:metal") == 232  # MP NdPr to China
    assert flow_of(flows, "CHN:separation", "EU:industrial") == 6_000  # Eurostat 2024
    assert flow_of(flows, "MYS:separation", "EU:industrial") == 2_600  # Eurostat 2024
    # USGS 2020-23 US import sources applied to 8,090 t of 2024 imports
    us = {s: flow_of(flows, f"{s}:separation", "USA:industrial") for s in ("CHN", "MYS", "EST")}
    assert us["CHN"] / 8_090 == pytest.approx(0.70, abs=1e-3)
    assert us["MYS"] / 8_090 == pytest.approx(0.13, abs=1e-3)
    assert us["EST"] / 8_090 == pytest.approx(0.05, abs=1e-3)
    # Japan: 79.6 % from China (Japanese customs, H1 2024)
    jp = flow_of(flows, "CHN:separation", "JPN:metal")
    assert jp / (jp + flow_of(flows, "MYS:separation", "JPN:metal")) == pytest.approx(
        0.796, abs=1e-3
    )
    # China's ore is never shipped abroad
    assert flow_of(flows, "CHN:mining", "MYS:separation") == 0


def test_flows_reference_existing_nodes_and_run_downstream(shares, flows):
    ids = set(shares["id"])
    stage = dict(zip(shares["id"], shares["stage"], strict=True))
    rank = {s: i for i, s in enumerate(STAGES)}
    for row in flows.itertuples():
        assert row.source in ids, row.source
        assert row.target in ids, row.target
        assert rank[stage[row.source]] < rank[stage[row.target]], (row.source, row.target)
        assert row.flow >= 0
    assert not flows.duplicated(subset=["source", "target"]).any()


def test_pooled_intakes_add_up_to_the_upstream_stage(shares):
    """Nodes drawing from a stage hold values that add up to that stage's total output."""
    upstream = {s: STAGES[i - 1] for i, s in enumerate(STAGES) if i}
    draws = shares["inputs_from"].fillna(shares["stage"].map(upstream))
    # (the magnet stage draws from metal in other units, so only these two stages are comparable)
    for stage in ("separation", "magnets"):
        drawers = shares.loc[draws == stage, "value"].sum()
        assert drawers == pytest.approx(stage_total(shares, stage), abs=1), stage


# ---------------------------------------------------------------- provenance


def test_evidence_labels_are_in_the_allowed_set(shares, flows, reserves, sources):
    for name, df in {
        "stage_shares.csv": shares,
        "flows.csv": flows,
        "reserves.csv": reserves,
        "sources.csv": sources,
    }.items():
        for col in [c for c in df.columns if c == "evidence" or c.endswith("_evidence")]:
            assert set(df[col].dropna()) <= EVIDENCE, (name, col)


def test_sources_table_is_complete(sources):
    assert sources["source_id"].is_unique
    for row in sources.itertuples():
        assert row.title and row.publisher, row.source_id
        assert row.evidence in EVIDENCE, row.source_id
        assert row.year is not None and 1990 <= int(row.year) <= 2030, row.source_id
        if row.evidence in ("primary", "secondary", "weak") and row.source_id != "SEED-000":
            assert str(row.url).startswith("http"), row.source_id
    assumptions = sources[sources["source_id"].str.startswith("ASSUMPTION-")]
    assert "ASSUMPTION-POOLED-MARKET" in set(assumptions["source_id"])
    assert (assumptions["evidence"] == "assumption").all()


def test_every_numeric_cell_carries_a_source_year_and_evidence(shares, flows, reserves, sources):
    known = set(sources["source_id"])
    tables = {"stage_shares.csv": shares, "flows.csv": flows, "reserves.csv": reserves}
    checked = 0
    for name, df in tables.items():
        for col in NUMERIC[name]:
            if col not in df.columns:
                continue
            src_col = f"{col}_source" if f"{col}_source" in df.columns else SOURCE_COLUMN[name]
            ev_col = f"{col}_evidence" if f"{col}_evidence" in df.columns else "evidence"
            year_col = f"{col}_year" if f"{col}_year" in df.columns else "year"
            for idx, cell in df[col].items():
                if cell is None or (isinstance(cell, float) and math.isnan(cell)):
                    continue
                assert float(cell) >= 0, (name, idx, col)
                where = (name, idx + 2, col)
                assert df.at[idx, src_col] in known, where
                assert df.at[idx, ev_col] in EVIDENCE, where
                assert 1990 <= int(df.at[idx, year_col]) <= 2030, where
                checked += 1
    # 44 node values + 17 end-use inventories + 40 flows + 12 reserves
    assert checked == 44 + 17 + 40 + 12


def test_every_source_column_names_a_known_source(shares, flows, reserves, sources):
    known = set(sources["source_id"])
    for df in (shares, flows, reserves):
        for col in [
            c for c in df.columns if c in ("source", "source_ref") or c.endswith("_source")
        ]:
            if col == "source" and df is flows:
                continue  # the edge's supplier node, not a reference
            assert set(df[col].dropna()) <= known, col


def test_derived_and_assumed_numbers_explain_themselves(shares, flows):
    for df in (shares, flows):
        for row in df.itertuples():
            if row.evidence in ("derived", "assumption"):
                assert row.note and len(row.note) > 20, row


# ---------------------------------------------------------------- the built graph


@pytest.fixture(scope="module")
def graph() -> nx.DiGraph:
    from supplygraph.loading import load

    return load("rare-earths-aggregate")


def test_loaded_graph_has_every_node_and_stage_order(graph):
    assert graph.number_of_nodes() == 44
    assert graph.graph["stages"] == STAGES
    assert graph.graph["name"] == "rare-earths-aggregate"
    assert not graph.graph.get("warnings")
    assert nx.is_directed_acyclic_graph(graph)
    assumptions = graph.graph["provenance"]["assumptions"]
    assert any("pooled" in a.lower() for a in assumptions)


def test_stage_shares_sum_to_one_after_the_build(graph):
    for stage in STAGES:
        values = [d["value"] for _, d in graph.nodes(data=True) if d["stage"] == stage]
        shares = [v / sum(values) for v in values]
        assert sum(shares) == pytest.approx(1.0)
    mining = {d["country"]: d["value"] for _, d in graph.nodes(data=True) if d["stage"] == "mining"}
    assert mining["CHN"] / sum(mining.values()) == pytest.approx(270_000 / 393_950)


def test_pooled_and_bilateral_edges_have_hand_computed_flows(graph):
    # pooled: Nigeria's ore reaches Chinese separation in proportion to China's separation value:
    # 13,000 t x 254,000 / 279,121 (world separation) = 11,830.0 t
    edge = graph.edges["NGA:mining", "CHN:separation"]
    assert edge["flow"] == pytest.approx(13_000 * 254_000 / 279_121)
    assert edge["basis"] == "pooled"
    # pooled: Japanese magnets to US defense = 14,900 / 310,000 x 175 t
    assert graph.edges["JPN:magnets", "USA:defense"]["flow"] == pytest.approx(
        14_900 / 310_000 * 175
    )
    # bilateral rows replace the pooled flow, and a 0 removes the pair
    assert graph.edges["USA:mining", "CHN:separation"]["flow"] == 43_000
    assert graph.edges["USA:mining", "CHN:separation"]["basis"] == "bilateral"
    assert graph.edges["USA:mining", "CHN:separation"]["source_ref"] == "USGS-MCS-2025"
    assert not graph.has_edge("CHN:mining", "MYS:separation")
    assert not graph.has_edge("MMR:mining", "USA:separation")
    assert all(d["flow"] > 0 for _, _, d in graph.edges(data=True))


def test_graph_carries_reserves_and_sources(graph):
    reserves = {r["country"]: r["value"] for r in graph.graph["reserves"]}
    assert reserves["CHN"] == 44_000_000
    ids = {s["source_id"] for s in graph.graph["sources"]}
    for _, data in graph.nodes(data=True):
        assert data["source"] in ids
    for _, _, data in graph.edges(data=True):
        if data.get("basis") == "bilateral":
            assert data["source_ref"] in ids


def _remaining(G: nx.DiGraph, removed: set[str]) -> dict[str, float]:
    """Linear propagation, re-derived here: a node keeps the flow-weighted share of its inputs."""
    h: dict[str, float] = {}
    for node in nx.topological_sort(G):
        if node in removed:
            h[node] = 0.0
            continue
        preds = list(G.predecessors(node))
        if not preds:
            h[node] = 1.0
            continue
        inflow = sum(G.edges[u, node]["flow"] for u in preds)
        h[node] = sum(G.edges[u, node]["flow"] * h[u] for u in preds) / inflow
    return h


def test_china_separation_is_the_chokepoint_of_every_magnet_use(graph):
    h = _remaining(graph, {"CHN:separation"})
    magnet_uses = [
        n for n, d in graph.nodes(data=True) if d["stage"] == "end_use" and ":industrial" not in n
    ]
    assert len(magnet_uses) == 12
    for node in magnet_uses:
        # ~China's 91 % of separation, slightly diluted by Japan's 79.6 % China-sourced metal
        assert 1 - h[node] == pytest.approx(0.905, abs=0.01), node
    # industrial users follow their sourced import mixes
    assert 1 - h["USA:industrial"] == pytest.approx(0.70, abs=0.01)  # USGS 70 % from China
    assert 1 - h["JPN:industrial"] == pytest.approx(0.796, abs=0.001)  # Japanese customs
    assert 1 - h["EU:industrial"] == pytest.approx(6_000 / 12_900, abs=0.01)  # Eurostat


def test_myanmar_stop_cuts_chinese_separation_by_its_tonnage_share(graph):
    h = _remaining(graph, {"MMR:mining"})
    inflow = sum(
        graph.edges[u, "CHN:separation"]["flow"] for u in graph.predecessors("CHN:separation")
    )
    assert 1 - h["CHN:separation"] == pytest.approx(31_000 / inflow)
    assert 0.05 < 1 - h["CHN:separation"] < 0.10
