"""Checks of the element-resolved built-in ``rare-earths`` dataset against its own tables.

Headline figures (stage HHI, group shares, governance-weighted HHI, the April 2025 losses) are
re-derived here by hand from ``nodes.csv``, ``edges.csv`` and the published figures they cite,
never from the analysis code's output; the code's results are then compared with them.
"""

from __future__ import annotations

import csv
import json
import math
import tomllib
from collections import defaultdict
from pathlib import Path

import pytest
from typer.testing import CliRunner

DATA = Path(__file__).resolve().parents[1] / "datasets" / "rare_earths"
EVIDENCE = {"primary", "secondary", "derived", "weak", "assumption"}

# USGS MCS 2025, mine production 2024 (t REO); rare-earth-facts.md §1a; "Other" = ROW
USGS_MINING_2024 = {
    "CHN": 270_000, "USA": 45_000, "MMR": 31_000, "AUS": 13_000, "NGA": 13_000,
    "THA": 13_000, "IND": 2_900, "RUS": 2_500, "MDG": 2_000, "VNM": 300, "MYS": 130,
    "BRA": 20, "ROW": 1_100,
}  # fmt: skip
# WGI 2023, mean of the six estimates (element-facts.md §6)
WGI_MEAN6 = {
    "CHN": -0.29, "MMR": -1.67, "MYS": 0.45, "AUS": 1.54, "USA": 0.99, "JPN": 1.35,
    "VNM": -0.34, "BRA": -0.28, "IND": -0.07, "RUS": -1.09, "THA": -0.11, "NGA": -1.01,
    "MDG": -0.80, "EST": 1.26, "DEU": 1.32, "FRA": 1.02,
}  # fmt: skip


def rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


NODES = {r["id"]: r for r in rows("nodes.csv")}
EDGES = rows("edges.csv")
SOURCES = {r["source_id"]: r for r in rows("sources.csv")}


def num(x: str) -> float | None:
    return float(x) if x.strip() else None


def by_country(stage: str, material: str | None = None) -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)
    for r in NODES.values():
        if r["stage"] == stage and (material is None or r["material"] == material):
            out[r["country"]] += float(r["value"])
    return dict(out)


def hhi_by_hand(values: dict[str, float]) -> float:
    total = sum(values.values())
    return sum((v / total * 100) ** 2 for c, v in values.items() if c not in ("ROW", "XXX"))


@pytest.fixture(scope="module")
def G():
    from supplygraph.loading import load

    return load("rare-earths")


# -- provenance --------------------------------------------------------------------------


def test_manifest_stages_and_counts():
    manifest = tomllib.loads((DATA / "dataset.toml").read_text(encoding="utf-8"))
    assert manifest["name"] == "rare-earths"
    stages = manifest["stages"]
    assert stages.index("magnets") + 1 == stages.index("components")
    assert stages.index("components") + 1 == stages.index("end_use")
    assert manifest["summary"] == {"nodes": len(NODES), "edges": len(EDGES)}
    assert (DATA / "README.md").is_file()


def test_every_number_has_a_known_source_year_and_evidence_label():
    for r in NODES.values():
        where = f"nodes.csv {r['id']}"
        assert r["source"] in SOURCES, where
        assert r["evidence"] in EVIDENCE, where
        assert r["year"].strip(), where
        for col, src in (
            ("capacity", "capacity_source"),
            ("external_input", "external_input_source"),
            ("inventory_days", "inventory_days_source"),
            ("governance", "governance_source"),
        ):
            if r[col].strip():
                for sid in r[src].split("; "):
                    assert sid in SOURCES, f"{where} {src} {sid!r}"
        if r["capacity"].strip():
            assert r["capacity_evidence"] in EVIDENCE, where
        if r["inventory_days"].strip():
            assert r["inventory_days_evidence"] in EVIDENCE, where
    for e in EDGES:
        where = f"edges.csv {e['source']} -> {e['target']}"
        assert e["source_ref"] in SOURCES, where
        assert e["evidence"] in EVIDENCE, where
        assert e["year"].strip() and e["material"].strip(), where
        assert e["source"] in NODES and e["target"] in NODES, where
    for sid, s in SOURCES.items():
        assert s["evidence"] in EVIDENCE, sid
        if s["evidence"] == "assumption" or sid.startswith(("ASSUMPTION-", "CALC-")):
            assert s["note"].strip(), sid


def test_ranges_bracket_the_values():
    for r in NODES.values():
        for col in ("value", "capacity", "inventory_days"):
            x, lo, hi = num(r[col]), num(r.get(f"{col}_low", "")), num(r.get(f"{col}_high", ""))
            if x is None:
                continue
            assert lo is None or lo <= x, (r["id"], col)
            assert hi is None or x <= hi, (r["id"], col)
        if num(r["capacity"]) is not None:
            assert float(r["capacity"]) >= float(r["value"]), r["id"]
    for e in EDGES:
        f, lo, hi = float(e["flow"]), num(e["flow_low"]), num(e["flow_high"])
        assert lo is None or lo <= f + 1e-6, (e["source"], e["target"])
        assert hi is None or f <= hi + 1e-6, (e["source"], e["target"])


def test_derived_and_assumed_nodes_explain_themselves():
    for r in NODES.values():
        if r["evidence"] in ("derived", "assumption", "weak"):
            assert len(r["note"]) > 20, r["id"]


# -- headline figures by hand ------------------------------------------------------------


def test_mining_is_exactly_usgs_2024_and_reproduces_hhi_4924(G):
    from supplygraph.analysis.concentration import concentration

    assert by_country("mining") == pytest.approx(USGS_MINING_2024)
    # rare-earth-facts.md §8: 4,924 with the sum of rows as denominator, "Other" left out
    hand = hhi_by_hand(USGS_MINING_2024)
    assert round(hand) == 4924
    assert concentration(G).loc["mining", "hhi"] == pytest.approx(hand)


def test_stage_shares_keep_the_aggregate_figures(G):
    from supplygraph.analysis.concentration import concentration

    sep = by_country("separation")
    assert sep["CHN"] == 254_000  # the 2024 separation quota
    assert sep["CHN"] / sum(sep.values()) == pytest.approx(0.91, abs=1e-4)  # IEA 2025
    mag = by_country("magnets")
    assert mag["CHN"] / sum(mag.values()) == pytest.approx(0.94, abs=1e-3)  # IEA 2025
    out = concentration(G)
    for stage, values in (("separation", sep), ("magnets", mag)):
        assert out.loc[stage, "hhi"] == pytest.approx(hhi_by_hand(values))


def test_group_shares_by_hand(G):
    from supplygraph.analysis.concentration import concentration_by_material

    heavy = by_country("separation", "heavy")
    light = by_country("separation", "light")
    # element-facts.md §1d/§7: China ~99.1 % of separated Dy+Tb, HHI ~9,830
    assert heavy == {"CHN": 3_500 + 650, "MYS": 36}
    assert heavy["CHN"] / sum(heavy.values()) == pytest.approx(0.991, abs=1e-3)
    assert round(hhi_by_hand(heavy), -1) == 9830
    # §2/§7: NdPr oxide China 93.1 % (Argus 106 kt, Lynas 6,558 t, MP ~1,300 t), HHI ~8,700
    assert light["CHN"] / sum(light.values()) == pytest.approx(0.931, abs=1e-3)
    assert round(hhi_by_hand(light), -2) == 8700
    # ionic clays: Myanmar (USGS 31,000 t) out-mines China's 19,150 t ionic quota
    ionic = by_country("mining", "ionic-clay")
    assert ionic == {"MMR": 31_000, "CHN": 19_150}
    out = concentration_by_material(G).set_index(["stage", "material"])
    for key, values in (
        (("separation", "heavy"), heavy),
        (("separation", "light"), light),
        (("mining", "ionic-clay"), ionic),
    ):
        assert out.loc[key, "hhi"] == pytest.approx(hhi_by_hand(values))
    assert out.loc[("mining", "ionic-clay"), "top_country"] == "MMR"
    assert out.loc[("separation", "samarium"), "top_share"] == 1.0


def test_governance_scores_and_weighted_hhi_by_hand(G):
    from supplygraph.analysis.concentration import concentration, concentration_by_material

    def score(c: str) -> float:
        if c == "EU":
            return (score("DEU") + score("FRA")) / 2
        return 5 - 2 * WGI_MEAN6[c]

    for r in NODES.values():
        if r["country"] != "ROW":
            # the reference table rounds from unrounded estimates: agree within 0.02
            assert float(r["governance"]) == pytest.approx(score(r["country"]), abs=0.02)
    heavy = by_country("separation", "heavy")
    total = sum(heavy.values())
    hand = sum(
        (v / total) ** 2 * float(NODES[f"{c}:separation:heavy"]["governance"])
        for c, v in heavy.items()
    )
    got = concentration_by_material(G).set_index(["stage", "material"])
    assert got.loc[("separation", "heavy"), "hhi_governance"] == pytest.approx(hand)
    assert hand == pytest.approx(0.9914**2 * 5.58 + 0.0086**2 * 4.11, abs=0.01)
    # mining: every named country has a score, so the EU-style index is filled
    mine = concentration(G).loc["mining", "hhi_governance"]
    gov = {
        r["country"]: float(r["governance"])
        for r in NODES.values()
        if r["stage"] == "mining" and r["country"] != "ROW"
    }
    tot = sum(USGS_MINING_2024.values())
    assert mine == pytest.approx(sum((USGS_MINING_2024[c] / tot) ** 2 * g for c, g in gov.items()))


# -- the April 2025 regime ---------------------------------------------------------------


def _flow(u: str, v: str) -> float:
    return next(float(e["flow"]) for e in EDGES if e["source"] == u and e["target"] == v)


def april_loss_by_hand(end_use_node: str) -> float:
    """Leontief, no response: a foreign end use takes its product lines' components, made at
    home from Chinese and local magnets, or imported from China (not licensed). Each line uses
    one magnet kind, so within a line the magnets substitute (a weighted mean)."""

    def dy_level(magnet: str) -> float:
        # a non-Chinese Dy/Tb magnet: the Dy/Tb group binds (NdPr is not licensed)
        heavy_in = {
            e["source"]: float(e["flow"])
            for e in EDGES
            if e["target"] == magnet and e["material"] == "Dy/Tb"
        }
        kept = sum((0.25 if u.startswith("CHN:") else 1.0) * f for u, f in heavy_in.items())
        return kept / sum(heavy_in.values())

    def line_level(comp: str) -> float:
        if comp.startswith("CHN:"):
            return 1.0  # China's own magnets reach China's component makers
        inputs = {e["source"]: float(e["flow"]) for e in EDGES if e["target"] == comp}
        avail = 0.0
        for u, f in inputs.items():
            if u in ("CHN:magnets:ndfeb-dytb", "CHN:magnets:smco"):
                avail += 0.25 * f  # licensed, one quarter approved
            elif u.endswith(":magnets:ndfeb-dytb"):
                avail += dy_level(u) * f
            else:
                avail += f  # Dy-free NdFeB is not licensed
        return avail / sum(inputs.values())

    into = {e["source"]: float(e["flow"]) for e in EDGES if e["target"] == end_use_node}
    return 1 - sum(f * line_level(u) for u, f in into.items()) / sum(into.values())


@pytest.mark.parametrize("region", ["EU", "USA", "JPN", "ROW"])
def test_april_foreign_ev_traction_loses_far_more_than_electronics(G, region):
    from supplygraph.analysis.disruption import disrupt
    from supplygraph.analysis.scenarios import get_scenario

    sc = get_scenario("april-2025-licences")
    ev_hand = april_loss_by_hand(f"{region}:vehicles")
    el_hand = april_loss_by_hand(f"{region}:electronics")
    assert april_loss_by_hand(f"{region}:motors") == pytest.approx(
        disrupt(G, sc.shocks, model="leontief").targets["loss_share"][f"{region}:motors"]
    )
    assert ev_hand > 5 * el_hand
    res = {}
    for r in ("none", "rules", "optimal"):
        res[r] = disrupt(G, sc.shocks, model="leontief", response=r).targets["loss_share"]
    assert res["none"][f"{region}:vehicles"] == pytest.approx(ev_hand, abs=1e-9)
    assert res["none"][f"{region}:electronics"] == pytest.approx(el_hand, abs=1e-9)
    for r, loss in res.items():
        assert (
            loss[f"{region}:vehicles"] > 3 * loss[f"{region}:electronics"]
            or loss[f"{region}:electronics"] == 0
        ), r
        # a response never loses more than no response
        assert loss[f"{region}:vehicles"] <= res["none"][f"{region}:vehicles"] + 1e-9, r
    # China's own users are spared
    assert res["none"]["CHN:vehicles"] == 0.0


def test_myanmar_stop_hits_heavy_far_more_than_light(G):
    from supplygraph.analysis.disruption import disrupt
    from supplygraph.analysis.scenarios import get_scenario

    res = disrupt(G, get_scenario("myanmar-feedstock-stop").shocks, model="leontief")
    h = res.nodes["level"] if "level" in res.nodes else 1 - res.nodes["loss_share"]
    sep = "CHN:separation:heavy"
    ins = [e for e in EDGES if e["target"] == sep]
    ext = float(NODES[sep]["external_input"])
    mmr = sum(float(e["flow"]) for e in ins if e["source"] == "MMR:mining")
    # linear mix within one input group, external input never shocked
    assert h[sep] == pytest.approx(1 - mmr / (sum(float(e["flow"]) for e in ins) + ext))
    assert 1 - h[sep] > 3 * (1 - h["CHN:separation:light"])


def test_mine_links_are_co_products_so_no_response_makes_dy_from_ndpr(G):
    """A mine's links to the element-group separation lines are co-products: each carries at
    most its baseline x the mine's capacity ratio (ASSUMPTION-CO-PRODUCTS). So even the optimal
    response cannot feed China's heavy line more than what its own mines still send once
    Myanmar stops: the heavy line stays at its no-response level, computed by hand above."""
    from supplygraph.analysis.disruption import disrupt
    from supplygraph.analysis.scenarios import get_scenario

    for e in EDGES:
        src = NODES[e["source"]]
        if src["stage"] == "mining" and NODES[e["target"]]["stage"] == "separation":
            cap = float(src["capacity"]) / float(src["value"]) if src["capacity"] else 1.0
            assert float(e["max_scale"]) == pytest.approx(cap), (e["source"], e["target"])
    sep = "CHN:separation:heavy"
    ins = [e for e in EDGES if e["target"] == sep]
    ext = float(NODES[sep]["external_input"])
    mmr = sum(float(e["flow"]) for e in ins if e["source"] == "MMR:mining")
    by_hand = 1 - mmr / (sum(float(e["flow"]) for e in ins) + ext)
    shocks = get_scenario("myanmar-feedstock-stop").shocks
    best = disrupt(G, shocks, model="leontief", response="optimal")
    assert best.nodes.loc[sep, "output"] <= by_hand + 1e-9


# -- the CLI -------------------------------------------------------------------------------


def test_info_json_has_components_between_magnets_and_end_use():
    from supplygraph.cli import app

    out = CliRunner().invoke(app, ["info", "--format", "json"])
    assert out.exit_code == 0, out.output
    stages = json.loads(out.stdout)["stages"]
    assert stages[-3:] == ["magnets", "components", "end_use"]


def test_deminimis_lists_foreign_made_motors():
    from supplygraph.cli import app

    out = CliRunner().invoke(app, ["deminimis", "--origin", "CHN", "--format", "json"])
    assert out.exit_code == 0, out.output
    caught = {r["node"] for r in json.loads(out.stdout) if r["caught"]}
    for region in ("EU", "USA", "JPN", "ROW"):
        assert f"{region}:components:ev-traction" in caught
        assert f"{region}:components:motors" in caught
    assert not any(n.startswith("CHN:") for n in caught)


def test_concentration_by_material_cli():
    from supplygraph.cli import app

    out = CliRunner().invoke(app, ["concentration", "--by-material", "--format", "json"])
    assert out.exit_code == 0, out.output
    got = {(r["stage"], r["material"]): r for r in json.loads(out.stdout)}
    assert math.isclose(got[("separation", "heavy")]["top_share"], 4150 / 4186, rel_tol=1e-9)


def test_report_shows_groups_and_governance(G):
    from supplygraph.report.build import build_report_data

    data = build_report_data(G, date="2025-01-01")
    groups = data.tables["concentration_groups"].frame.set_index(["stage", "material"])
    assert groups.loc[("separation", "heavy"), "cr1"] == pytest.approx(4150 / 4186)
    assert groups.loc[("separation", "light"), "top_country"] == "China"
    conc = data.tables["concentration"].frame.set_index("stage")
    assert conc.loc["mining", "hhi_governance"] > 0
    heavy = next(s for s in data.headline if s.startswith("Separation by element group"))
    assert "heavy China 99.1 %" in heavy and "light China 93.1 %" in heavy
