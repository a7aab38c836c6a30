"""Concentration indices: hand-computed HHI/CR values, published reference values, invariants."""

from __future__ import annotations

import math

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supplygraph.analysis.concentration import (
    MERGER_GUIDELINES_2023,
    concentration,
    concentration_by_material,
    concentration_level,
    herfindahl_index,
    stage_shares,
)
from supplygraph.errors import InputError

# USGS MCS 2025, mine production 2024 (t REO), rare-earth-facts.md §1a; "Other" = 1,100 t
USGS_MINING_2024 = {
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
}
# USGS MCS 2025 reserves (t REO), rare-earth-facts.md §2; Burma etc. are "NA"
USGS_RESERVES_2025 = {
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


def one_stage(
    values: dict[str, float], stage: str = "mining", attrs: dict[str, dict] | None = None
) -> nx.DiGraph:
    G = nx.DiGraph(stages=[stage])
    for c, v in values.items():
        G.add_node(f"{c}:{stage}", stage=stage, country=c, value=v, **(attrs or {}).get(c, {}))
    return G


# -- herfindahl_index -------------------------------------------------------------------------


def test_hhi_four_country_table_by_hand():
    # 50² + 30² + 15² + 5² = 2,500 + 900 + 225 + 25
    assert herfindahl_index([0.5, 0.3, 0.15, 0.05]) == pytest.approx(3650.0)
    assert herfindahl_index({"A": 1.0}) == pytest.approx(10_000.0)
    assert herfindahl_index([0.25] * 4) == pytest.approx(2500.0)
    assert herfindahl_index([]) == 0.0


def test_hhi_rejects_percentages_and_negative_shares():
    with pytest.raises(InputError, match="fractions"):
        herfindahl_index([50, 30, 20])
    with pytest.raises(InputError, match="fractions"):
        herfindahl_index([0.5, -0.1])
    with pytest.raises(InputError, match="add up"):
        herfindahl_index([0.6, 0.6])


def test_hhi_reference_usgs_2024_mining_over_world_total():
    # rare-earth-facts.md §8: derived HHI 5,024 over the rounded 390,000 t world total,
    # "Other" excluded; top-3 share 88.7 %
    shares = {c: v / 390_000 for c, v in USGS_MINING_2024.items()}
    assert round(herfindahl_index(shares)) == 5024
    top3 = sorted(shares.values(), reverse=True)[:3]
    assert round(100 * sum(top3), 1) == 88.7


# -- concentration on graphs ----------------------------------------------------------------


def test_concentration_four_country_table():
    G = one_stage({"A": 50, "B": 30, "C": 15, "D": 5})
    row = concentration(G).loc["mining"]
    assert row["hhi"] == pytest.approx(3650.0)
    # (H - 1/n) / (1 - 1/n) = (0.365 - 0.25) / 0.75
    assert row["hhi_normalized"] == pytest.approx(0.115 / 0.75)
    assert row["cr1"] == pytest.approx(0.5)
    assert row["cr3"] == pytest.approx(0.95)
    assert row["top_country"] == "A"
    assert row["top_share"] == pytest.approx(0.5)
    assert row["n_countries"] == 4
    assert row["effective_suppliers"] == pytest.approx(10_000 / 3650)
    assert row["level"] == "highly concentrated"
    assert not row["eu_single_country_cap"]
    assert math.isnan(row["hhi_governance"])


def test_nodes_of_one_country_are_summed_first():
    G = nx.DiGraph(stages=["separation"])
    G.add_node("CHN:a", stage="separation", country="CHN", value=30.0)
    G.add_node("CHN:b", stage="separation", country="CHN", value=40.0)
    G.add_node("MYS:a", stage="separation", country="MYS", value=30.0)
    row = concentration(G).loc["separation"]
    # countries 70 / 30 -> 4,900 + 900 (not 900 + 1,600 + 900 by node)
    assert row["hhi"] == pytest.approx(5800.0)
    assert row["n_countries"] == 2
    assert row["eu_single_country_cap"]  # 70 % > 65 %


def test_value_missing_falls_back_to_outbound_then_inbound_flows():
    G = nx.DiGraph(stages=["mining", "end_use"])
    G.add_node("A:m", stage="mining", country="A")
    G.add_node("B:m", stage="mining", country="B", value=10.0)
    G.add_node("X:u", stage="end_use", country="X")
    G.add_edge("A:m", "X:u", flow=30.0)
    G.add_edge("B:m", "X:u", flow=10.0)
    G.add_edge("A:m", "A:m", flow=99.0)  # self-loop: not output to others
    s = stage_shares(G).set_index(["stage", "country"])
    assert s.loc[("mining", "A"), "value"] == pytest.approx(30.0)
    assert s.loc[("mining", "A"), "share"] == pytest.approx(0.75)
    assert s.loc[("end_use", "X"), "value"] == pytest.approx(40.0)  # sink: inbound flows


def test_aggregates_stay_in_totals_but_leave_the_index():
    G = one_stage({"A": 60, "B": 30, "ROW": 10})
    shares = stage_shares(G).set_index("country")
    assert shares.loc["ROW", "share"] == pytest.approx(0.1)
    assert bool(shares.loc["ROW", "aggregate"])
    row = concentration(G).loc["mining"]
    assert row["hhi"] == pytest.approx(3600 + 900)
    assert row["n_countries"] == 2
    assert row["cr3"] == pytest.approx(0.9)
    assert row["aggregate_share"] == pytest.approx(0.1)
    # a stage held mostly by aggregates: H below 1/n, normalized clipped at 0
    G2 = one_stage({"A": 10, "B": 10, "XXX": 80})
    assert concentration(G2).loc["mining", "hhi_normalized"] == 0.0
    assert concentration(G2).loc["mining", "top_country"] in {"A", "B"}


def test_usgs_2024_mining_graph_with_other_as_row():
    # rare-earth-facts.md §8: "with the sum of rows as denominator: 4,924"
    G = one_stage({**USGS_MINING_2024, "ROW": 1_100})
    row = concentration(G).loc["mining"]
    assert round(row["hhi"]) == 4924
    assert row["top_country"] == "CHN"
    assert row["eu_single_country_cap"]  # 68.5 % > 65 %
    assert row["n_countries"] == 12


def test_reserves_row_first_and_reference_hhi():
    G = one_stage({"A": 1.0}, stage="mining")
    G.graph["reserves"] = [
        {"country": c, "value": v, "unit": "t REO", "year": 2024, "source": "usgs"}
        for c, v in USGS_RESERVES_2025.items()
    ] + [{"country": "MMR", "value": None, "unit": "t REO", "year": 2024, "source": "usgs"}]
    out = concentration(G)
    assert list(out.index) == ["reserves", "mining"]
    # rare-earth-facts.md §8: reserves HHI over the listed countries, 3,017
    assert round(out.loc["reserves", "hhi"]) == 3017
    assert out.loc["reserves", "n_countries"] == 12  # the NA record is skipped
    assert out.loc["reserves", "unit"] == "t REO"
    assert stage_shares(G)["stage"].iloc[0] == "reserves"


def test_single_country_and_empty_stage():
    G = one_stage({"CHN": 5.0})
    G.graph["stages"] = ["mining", "magnets"]
    out = concentration(G)
    assert out.loc["mining", "hhi"] == pytest.approx(10_000.0)
    assert out.loc["mining", "hhi_normalized"] == 1.0  # monopoly: fully concentrated
    assert out.loc["mining", "effective_suppliers"] == pytest.approx(1.0)
    assert out.loc["mining", "eu_single_country_cap"]
    assert math.isnan(out.loc["magnets", "hhi"])
    assert out.loc["magnets", "level"] == "no data"
    assert out.loc["magnets", "n_countries"] == 0


def test_levels_2010_and_2023_guidelines():
    assert concentration_level(1499.99) == "unconcentrated"
    assert concentration_level(1500) == "moderately concentrated"
    assert concentration_level(2499.99) == "moderately concentrated"
    assert concentration_level(2500) == "highly concentrated"
    assert concentration_level(1200, MERGER_GUIDELINES_2023) == "moderately concentrated"
    assert concentration_level(1800, MERGER_GUIDELINES_2023) == "highly concentrated"
    assert concentration_level(float("nan")) == "no data"
    G = one_stage({"A": 40, "B": 30, "C": 30})  # 1,600 + 900 + 900 = 3,400
    assert concentration(G).loc["mining", "level"] == "highly concentrated"
    G = one_stage(dict.fromkeys("ABCDEFGH", 1.0))  # 1,250
    assert concentration(G).loc["mining", "level"] == "unconcentrated"
    assert (
        concentration(G, thresholds=MERGER_GUIDELINES_2023).loc["mining", "level"]
        == "moderately concentrated"
    )


def test_governance_weighted_hhi():
    # Σ s² · WGI · t = 0.25·2 + 0.25·6·1.2 = 0.5 + 1.8
    G = one_stage(
        {"A": 1.0, "B": 1.0},
        attrs={"A": {"governance": 2.0}, "B": {"governance": 6.0, "trade_factor": 1.2}},
    )
    assert concentration(G).loc["mining", "hhi_governance"] == pytest.approx(2.3)
    G.nodes["A:mining"].pop("governance")
    assert math.isnan(concentration(G).loc["mining", "hhi_governance"])


def test_stage_order_and_graph_untouched():
    G = nx.DiGraph(stages=["mining", "separation"])
    G.add_node("s", stage="separation", country="CHN", value=1.0)
    G.add_node("m", stage="mining", country="CHN", value=1.0)
    G.add_node("x", stage="extra", country="CHN", value=1.0)
    before = (dict(G.graph), {n: dict(d) for n, d in G.nodes(data=True)})
    assert list(concentration(G).index) == ["mining", "separation", "extra"]
    assert (dict(G.graph), {n: dict(d) for n, d in G.nodes(data=True)}) == before


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=1e-3, max_value=1e6, allow_nan=False), min_size=1, max_size=12))
def test_hhi_invariants(values):
    G = one_stage({f"C{i}": v for i, v in enumerate(values)})
    shares = stage_shares(G)["share"]
    assert ((shares >= 0) & (shares <= 1)).all()
    assert shares.sum() == pytest.approx(1.0)
    row = concentration(G).loc["mining"]
    n = len(values)
    assert 10_000 / n - 1e-6 <= row["hhi"] <= 10_000 + 1e-6
    assert 0.0 <= row["hhi_normalized"] <= 1.0
    assert row["cr1"] <= row["cr3"] + 1e-12 <= 1 + 1e-9
    assert 1 - 1e-9 <= row["effective_suppliers"] <= n + 1e-9
    assert row["hhi"] == pytest.approx(herfindahl_index(shares))


# -- the built-in dataset -------------------------------------------------------------------


def test_rare_earths_concentration_rises_down_the_chain():
    from supplygraph.loading import load

    out = concentration(load("rare-earths-aggregate"))
    assert list(out.index[:2]) == ["reserves", "mining"]
    hhi = out["hhi"]
    assert hhi["reserves"] < hhi["mining"] < hhi["separation"] < hhi["magnets"]
    # the dataset's USGS 2024 mine rows reproduce the derived HHI (sum of rows, "Other" as ROW)
    assert round(hhi["mining"]) == 4924
    assert round(hhi["reserves"]) == 3017
    assert (out.loc[["mining", "separation", "metal", "magnets"], "top_country"] == "CHN").all()
    assert out.loc[["mining", "separation", "magnets"], "eu_single_country_cap"].all()
    assert not out.loc["reserves", "eu_single_country_cap"]  # China holds 48 % of reserves


# -- by element group --------------------------------------------------------------------


def grouped_graph():
    G = nx.DiGraph(stages=["separation", "magnets"])
    rows = [
        ("CHN:sep:light", "separation", "CHN", "light", 90.0, 5.58),
        ("CHN:sep:light2", "separation", "CHN", "light", 3.0, 5.58),
        ("MYS:sep:light", "separation", "MYS", "light", 7.0, 4.11),
        ("CHN:sep:heavy", "separation", "CHN", "heavy", 99.0, 5.58),
        ("MYS:sep:heavy", "separation", "MYS", "heavy", 1.0, 4.11),
        ("ROW:sep:heavy", "separation", "ROW", "heavy", 0.5, None),
        ("JPN:mag", "magnets", "JPN", "ndfeb", 10.0, 2.30),
        ("CHN:mag", "magnets", "CHN", "ndfeb", 30.0, 5.58),
        ("CHN:unlabelled", "magnets", "CHN", None, 1000.0, 5.58),
    ]
    for n, stage, c, m, v, g in rows:
        attrs = {"stage": stage, "country": c, "value": v}
        if m is not None:
            attrs["material"] = m
        if g is not None:
            attrs["governance"] = g
        G.add_node(n, **attrs)
    return G


def test_by_material_rows_by_hand():
    out = concentration_by_material(grouped_graph())
    assert list(zip(out["stage"], out["material"], strict=True)) == [
        ("separation", "light"),
        ("separation", "heavy"),
        ("magnets", "ndfeb"),
    ]
    light, heavy, ndfeb = (out.iloc[i] for i in range(3))
    # light: CHN 93 of 100 (two nodes summed), MYS 7
    assert light["hhi"] == pytest.approx(93**2 + 7**2)
    assert light["top_country"] == "CHN" and light["top_share"] == pytest.approx(0.93)
    assert light["hhi_governance"] == pytest.approx(0.93**2 * 5.58 + 0.07**2 * 4.11)
    # heavy: ROW stays in the total (100.5) but leaves the sum of squares
    assert heavy["total"] == pytest.approx(100.5)
    assert heavy["hhi"] == pytest.approx(10_000 * ((99 / 100.5) ** 2 + (1 / 100.5) ** 2))
    assert heavy["aggregate_share"] == pytest.approx(0.5 / 100.5)
    assert heavy["n_countries"] == 2
    # nodes without a material are left out of the group rows
    assert ndfeb["total"] == pytest.approx(40.0)
    assert ndfeb["hhi"] == pytest.approx(75**2 + 25**2)
    assert ndfeb["hhi_governance"] == pytest.approx(0.75**2 * 5.58 + 0.25**2 * 2.30)


def test_by_material_groups_add_up_to_the_stage_totals_when_every_node_has_one():
    G = grouped_graph()
    G.remove_node("CHN:unlabelled")
    by_group = concentration_by_material(G).groupby("stage")["total"].sum()
    stage = concentration(G)["total"]
    for name, total in by_group.items():
        assert total == pytest.approx(stage[name])


def test_by_material_mixed_units_are_not_comparable():
    G = grouped_graph()
    G.nodes["CHN:sep:heavy"]["unit"] = "t REO/yr"
    G.nodes["MYS:sep:heavy"]["unit"] = "t metal/yr"
    row = concentration_by_material(G).set_index("material").loc["heavy"]
    assert row["level"] == "not comparable (mixed units)"
    assert math.isnan(row["hhi"])
