"""Write nodes.csv and edges.csv of the element-resolved rare-earth dataset.

Run from the repository root: ``python datasets/rare_earths/derive.py``. Every input figure is a
row of ``FIGURES`` with its source id (a key of ``sources.csv``), data year and evidence label;
every node and edge written names the figures it comes from, and derived numbers state their
formula in ``note``. The tables this writes are the dataset; this script only documents and
reproduces how they were computed (``tests/test_dataset.py`` checks the tables, not the script).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Figure:
    value: float
    source: str
    year: str
    evidence: str
    low: float | None = None
    high: float | None = None


F = {
    # --- mining: USGS MCS 2025, 2024 estimates (t REO) -----------------------------------
    "mine_CHN": Figure(270_000, "USGS-MCS-2025", "2024", "primary"),
    "mine_USA": Figure(45_000, "USGS-MCS-2025", "2024", "primary"),
    "mine_MMR": Figure(31_000, "USGS-MCS-2025", "2024", "primary"),
    "mine_AUS": Figure(13_000, "USGS-MCS-2025", "2024", "primary"),
    "mine_NGA": Figure(13_000, "USGS-MCS-2025", "2024", "primary"),
    "mine_THA": Figure(13_000, "USGS-MCS-2025", "2024", "primary"),
    "mine_IND": Figure(2_900, "USGS-MCS-2025", "2024", "primary"),
    "mine_RUS": Figure(2_500, "USGS-MCS-2025", "2024", "primary"),
    "mine_MDG": Figure(2_000, "USGS-MCS-2025", "2024", "primary"),
    "mine_VNM": Figure(300, "USGS-MCS-2025", "2024", "primary"),
    "mine_MYS": Figure(130, "USGS-MCS-2025", "2024", "primary"),
    "mine_BRA": Figure(20, "USGS-MCS-2025", "2024", "primary"),
    "mine_ROW": Figure(1_100, "USGS-MCS-2025", "2024", "primary"),
    "us_conc_exports": Figure(43_000, "USGS-MCS-2025", "2024", "primary"),
    # China's ionic-adsorption (medium/heavy) quota, unchanged 2020-2023
    "ionic_quota": Figure(19_150, "INN-2023-QUOTA", "2023", "secondary"),
    # Mountain Pass feed: NdPr 15.7 % of TREO
    "mp_ndpr_content": Figure(0.157, "MP-10K-2021", "2021", "primary"),
    # --- separation -------------------------------------------------------------------
    "chn_sep_quota": Figure(254_000, "MBN-2024-QUOTAS", "2024", "secondary"),
    "chn_ndpr_oxide": Figure(106_000, "ARGUS-2024-VIEWPOINT", "2024", "secondary", 91_000, 106_000),
    "chn_ndpr_from_quota": Figure(45_000, "METALNOMIST-2024-SEA", "2024", "secondary"),
    "chn_ndpr_from_imports": Figure(20_500, "METALNOMIST-2024-SEA", "2024", "secondary"),
    "sea_ore_imports": Figure(60_000, "METALNOMIST-2024-SEA", "2024", "secondary"),
    "chn_dy_oxide": Figure(3_500, "ARGUS-2024-VIEWPOINT", "2024", "secondary", 2_580, 3_500),
    "chn_tb_oxide": Figure(650, "ARGUS-2024-VIEWPOINT", "2024", "secondary", 490, 650),
    "rec_ndpr": Figure(26_504, "ARGUS-2025-RECYCLING", "2024", "secondary"),
    "rec_dy": Figure(710, "ARGUS-2025-RECYCLING", "2024", "secondary"),
    "rec_tb": Figure(160, "ARGUS-2025-RECYCLING", "2024", "secondary"),
    # Myanmar / China quota / Laos shares of China's ionic-clay heavy feed (2023, derived)
    "heavy_feed_MMR": Figure(0.58, "CALC-HEAVY-FEED", "2023", "derived", 0.50, 0.69),
    "heavy_feed_CHN": Figure(0.26, "CALC-HEAVY-FEED", "2023", "derived"),
    "heavy_feed_LAO": Figure(0.16, "CALC-HEAVY-FEED", "2023", "derived"),
    "sm_world": Figure(2_500, "RAREEARTHINVESTING-SM", "2024", "weak", 1_500, 3_500),
    "lynas_total": Figure(10_462, "LYNAS-FY2025", "2025", "secondary"),
    "lynas_ndpr": Figure(6_558, "LYNAS-FY2025", "2025", "secondary"),
    "lynas_ndpr_cap": Figure(10_500, "LYNAS-FY2025", "2025", "secondary"),
    "lynas_heavy": Figure(36, "ARGUS-2025-LYNAS-3Q", "2025", "secondary"),
    "us_sep": Figure(1_300, "USGS-MCS-2025", "2024", "primary"),
    "mp_ndpr_cap": Figure(6_000, "ADAMAS-2022-MP", "2022", "secondary"),
    "est_sep": Figure(1_000, "ASSUMPTION-EST-SEPARATION", "2024", "assumption", 400, 3_000),
    "row_sep": Figure(12_359, "CALC-SEPARATION-BASIS", "2024", "derived"),
    # --- metal (light: NdPr metal) ------------------------------------------------------
    "chn_ndpr_metal": Figure(88_000, "ARGUS-2024-VIEWPOINT", "2024", "secondary"),
    "jpn_metal": Figure(4_000, "ASSUMPTION-METAL-SPLIT", "2024", "assumption", 2_000, 6_000),
    "vnm_metal": Figure(3_000, "ASSUMPTION-METAL-SPLIT", "2024", "assumption", 1_000, 5_000),
    "row_metal": Figure(2_300, "ASSUMPTION-METAL-SPLIT", "2024", "assumption", 500, 4_000),
    "lynas_ndpr_to_chn": Figure(3_261, "TREO-2025", "2024", "secondary"),
    "mp_ndpr_to_chn": Figure(232, "TREO-2025", "2024", "secondary"),
    "jpn_from_chn": Figure(0.796, "METALNOMIST-2024", "2024", "secondary"),
    # --- magnets (t magnet) --------------------------------------------------------------
    "mag_CHN": Figure(291_400, "IEA-2025-COMMENTARY", "2025", "derived", 260_000, 300_000),
    "mag_JPN": Figure(14_900, "CALC-MAGNET-BASIS", "2024", "derived"),
    "mag_VNM": Figure(2_200, "COURAGE-2022", "2022", "weak"),
    "mag_EU": Figure(1_000, "ASSUMPTION-MAGNET-MINOR", "2024", "assumption", 500, 2_000),
    "mag_USA": Figure(500, "ASSUMPTION-MAGNET-MINOR", "2024", "assumption", 200, 1_500),
    "smco_CHN": Figure(2_400, "ADAMAS-2019", "2019", "secondary"),
    "smco_USA": Figure(100, "ASSUMPTION-SMCO", "2024", "assumption", 50, 500),
    "mag_exports": Figure(58_152, "ADAMAS-2025", "2024", "secondary"),
    "exp_EU": Figure(0.38, "SCMP-2025-07", "2025", "secondary"),
    "exp_USA": Figure(0.11, "SCMP-2025-07", "2025", "secondary"),
    "nonchina_cap": Figure(23_750, "PROJECTBLUE-2025", "2025", "secondary"),
    "kor_cap": Figure(1_000, "ARGUS-2023-KOREA", "2023", "secondary"),
    "mp_mag_cap": Figure(1_000, "PMREVIEW-2025-MP", "2025", "primary"),
    "evac_cap": Figure(2_000, "FASTMARKETS-EVAC", "2025", "secondary"),
    "neo_cap": Figure(2_000, "AUTOWORLD-NEO-2025", "2025", "secondary"),
    "re_in_magnet": Figure(0.30, "HEIM-2023", "2023", "secondary"),
    "dytb_in_magnet": Figure(0.03, "MAINRICH-2021", "2021", "weak"),
    # --- demand (t magnet) --------------------------------------------------------------
    "world_magnets": Figure(310_000, "CALC-MAGNET-BASIS", "2023", "derived"),
    "ev_share": Figure(0.07, "IEA-GCMO-2024", "2023", "secondary"),
    "wind_magnets": Figure(14_625, "CALC-WIND", "2023", "derived", 11_700, 29_835),
    "electronics_share": Figure(0.30, "HEIM-2023", "2023", "secondary"),
    "defense_ndfeb": Figure(175, "DOD-2012", "2012", "secondary"),
    # Dy/Tb-bearing share of each kind of component's NdFeB
    "dy_ev": Figure(1.0, "ASSUMPTION-DY-SHARE", "2025", "assumption", 0.85, 1.0),
    "dy_wind": Figure(1.0, "HEIM-2023", "2023", "secondary", 0.7, 1.0),
    "dy_defense": Figure(1.0, "ASSUMPTION-DY-SHARE", "2025", "assumption", 0.8, 1.0),
    "dy_motors": Figure(0.5, "ASSUMPTION-DY-SHARE", "2025", "assumption", 0.3, 0.7),
    "dy_electronics": Figure(0.1, "ASSUMPTION-DY-SHARE", "2025", "assumption", 0.0, 0.25),
    "imports_from_chn": Figure(
        0.10, "ASSUMPTION-COMPONENT-IMPORTS", "2025", "assumption", 0.0, 0.3
    ),
    # --- non-magnet industrial use of the rest group (t REO) ----------------------------
    "ind_USA": Figure(8_090, "USGS-MCS-2025", "2024", "derived"),
    "ind_EU": Figure(12_900, "EUROSTAT-2025", "2024", "primary"),
    "ind_JPN": Figure(15_796, "METALNOMIST-2024", "2024", "derived"),
    "ind_ROW": Figure(18_703, "METALNOMIST-2025", "2024", "derived"),
}

#: 0-10 governance risk per country, 5 - 2 x (mean of the six WGI 2023 estimates), as derived in
#: the reference table from the unrounded estimates (WGI-2023, ASSUMPTION-WGI-RESCALE).
GOVERNANCE = {
    "CHN": 5.58, "MMR": 8.33, "MYS": 4.11, "AUS": 1.91, "USA": 3.01, "JPN": 2.30, "VNM": 5.68,
    "BRA": 5.56, "IND": 5.13, "RUS": 7.18, "THA": 5.22, "NGA": 7.01, "MDG": 6.60, "EST": 2.49,
    "DEU": 2.36, "FRA": 2.95,
}  # fmt: skip


def governance(country: str) -> float | None:
    """The country's 0-10 score; the EU bloc takes the mean of Germany and France."""
    if country == "EU":
        return round((GOVERNANCE["DEU"] + GOVERNANCE["FRA"]) / 2, 3)
    return GOVERNANCE.get(country)


def v(key: str) -> float:
    return F[key].value


NODE_COLS = [
    "id", "label", "stage", "country", "material", "end_use", "value", "value_low",
    "value_high", "unit", "capacity", "capacity_low", "capacity_high", "ramp_days",
    "ramp_delay_days", "capacity_source", "capacity_evidence", "external_input",
    "external_input_source", "inventory_days", "inventory_days_low", "inventory_days_high",
    "inventory_days_group", "inventory_days_source", "inventory_days_evidence", "governance", "governance_source",
    "deposit", "source", "year", "evidence", "note",
]  # fmt: skip
EDGE_COLS = [
    "source", "target", "flow", "flow_low", "flow_high", "flow_group", "unit", "material",
    "max_scale", "basis",
    "source_ref", "year", "evidence", "note",
]  # fmt: skip

UNITS = {
    "mining": "t REO/yr",
    "separation": "t REO/yr",
    "metal": "t REE/yr",
    "magnets": "t magnet/yr",
    "components": "t magnet/yr",
}

nodes: dict[str, dict[str, object]] = {}
edges: dict[tuple[str, str], dict[str, object]] = {}


def r(x: float, nd: int = 0) -> float:
    out = round(x, nd)
    return int(out) if nd == 0 else out


def node(nid: str, label: str, stage: str, country: str, value: float, fig: Figure | str,
         note: str, *, material: str = "", end_use: str = "", unit: str | None = None,
         low: float | None = None, high: float | None = None,
         **extra: object) -> None:  # fmt: skip
    if isinstance(fig, str):
        src, year, evidence = fig.split("|")
    else:
        src, year, evidence = fig.source, fig.year, fig.evidence
        low = fig.low if low is None and fig.low is not None else low
        high = fig.high if high is None and fig.high is not None else high
    gov = governance(country)
    nodes[nid] = {
        "id": nid, "label": label, "stage": stage, "country": country, "material": material,
        "end_use": end_use, "value": value, "value_low": low, "value_high": high,
        "unit": unit or UNITS.get(stage, "t magnet/yr"), "governance": gov,
        "governance_source": "WGI-2023" if gov is not None else None,
        "source": src, "year": year, "evidence": evidence, "note": note, **extra,
    }  # fmt: skip


def edge(u: str, w: str, flow: float, material: str, ref: str, year: str, evidence: str,
         note: str, *, basis: str = "bilateral", low: float | None = None,
         high: float | None = None, max_scale: float | None = None,
         group: str | None = None) -> None:  # fmt: skip
    if flow <= 0:
        return
    if material == ORE and max_scale is None:
        # a mine's ore carries every element group at once (co-products in fixed proportions):
        # the content bound for one separation line grows only with the mine's own output, so
        # a response cannot turn one group's content into another's (ASSUMPTION-CO-PRODUCTS)
        cap = nodes[u].get("capacity")
        max_scale = r(float(cap) / float(nodes[u]["value"]), 3) if cap else 1.0
        note = (
            f"{note}; max_scale {max_scale:g}: the ore's element groups are co-products, so "
            "this group's content grows only with the mine's output (ASSUMPTION-CO-PRODUCTS)"
        )
    edges[(u, w)] = {
        "source": u, "target": w, "flow": r(flow, 1), "flow_low": low, "flow_high": high,
        "flow_group": group,
        "unit": nodes[u]["unit"], "material": material, "max_scale": max_scale, "basis": basis, "source_ref": ref,
        "year": year, "evidence": evidence, "note": note,
    }  # fmt: skip


# ================================================================================ mining
MINES = {  # id suffix -> (country, figure, deposit, material)
    "USA:mining": ("USA", "mine_USA", "bastnaesite (Mountain Pass)", "light-ore"),
    "MMR:mining": ("MMR", "mine_MMR", "ionic-adsorption clay", "ionic-clay"),
    "AUS:mining": ("AUS", "mine_AUS", "carbonatite (Mt Weld)", "light-ore"),
    "NGA:mining": ("NGA", "mine_NGA", "monazite", "light-ore"),
    "THA:mining": ("THA", "mine_THA", "monazite", "light-ore"),
    "IND:mining": ("IND", "mine_IND", "monazite (beach sands)", "light-ore"),
    "RUS:mining": ("RUS", "mine_RUS", "loparite", "light-ore"),
    "MDG:mining": ("MDG", "mine_MDG", "monazite", "light-ore"),
    "VNM:mining": ("VNM", "mine_VNM", "not stated", "light-ore"),
    "MYS:mining": ("MYS", "mine_MYS", "not stated", "light-ore"),
    "BRA:mining": ("BRA", "mine_BRA", "not stated", "light-ore"),
    "ROW:mining": ("ROW", "mine_ROW", "not stated (USGS 'Other')", "light-ore"),
}
ionic = v("ionic_quota")
rock = v("mine_CHN") - ionic
node("CHN:mining:rock", "China mine production, rock-type ores (Bayan Obo and others)",
     "mining", "CHN", rock, "CALC-CHN-MINING|2024|derived",
     f"USGS 270,000 t (China's 2024 quota) - {ionic:,.0f} t ionic-clay quota = {rock:,.0f} t",
     material="light-ore", deposit="bastnaesite/monazite (rock type)")  # fmt: skip
node("CHN:mining:ionic", "China mine production, ionic-adsorption clays (South China)",
     "mining", "CHN", ionic, F["ionic_quota"],
     "China's ionic (medium/heavy) mining quota, 19,150 t REO (2020-2023 notices); "
     "part of the USGS 270,000 t", material="ionic-clay",
     deposit="ionic-adsorption clay")  # fmt: skip
for nid, (c, key, deposit, mat) in MINES.items():
    node(nid, f"{c} mine production", "mining", c, v(key), F[key],
         f"USGS MCS 2025 estimate for 2024; {deposit}", material=mat,
         deposit=deposit)  # fmt: skip

# ============================================================================ separation
ndpr = v("chn_ndpr_oxide")
heavy = v("chn_dy_oxide") + v("chn_tb_oxide")
sm = v("sm_world")
rest_chn = v("chn_sep_quota") - ndpr - heavy - sm
rec_heavy = v("rec_dy") + v("rec_tb")
mmr_share_sea = v("mine_MMR") / v("sea_ore_imports")
ndpr_mmr = v("chn_ndpr_from_imports") * mmr_share_sea
ndpr_sea_other = v("chn_ndpr_from_imports") - ndpr_mmr
ndpr_usa = v("us_conc_exports") * v("mp_ndpr_content")
monazite = {"NGA:mining": v("mine_NGA"), "THA:mining": v("mine_THA"),
            "MDG:mining": v("mine_MDG"), "MYS:mining": v("mine_MYS")}  # fmt: skip
ndpr_gap = ndpr - v("rec_ndpr") - v("chn_ndpr_from_quota") - v("chn_ndpr_from_imports") - ndpr_usa
heavy_mines = heavy - rec_heavy
node("CHN:separation:light", "China separation, NdPr oxide", "separation", "CHN", ndpr,
     F["chn_ndpr_oxide"],
     "China's PrNd oxide output 2024 (Argus); the sourced components add to 91-93 kt "
     "(quota ore 45 kt, imported ore 20.5 kt, recycling 26.5 kt), hence the low end",
     material="light", external_input=r(v("rec_ndpr") + ndpr_sea_other),
     external_input_source="ARGUS-2025-RECYCLING; METALNOMIST-2024-SEA",
     capacity=None)  # fmt: skip
nodes["CHN:separation:light"]["note"] += (
    f"; external input = recycled PrNd 26,504 t + PrNd from Laos/Malaysian ore "
    f"{ndpr_sea_other:,.0f} t (20,500 x (1 - 31,000 / 60,000))"
)
node("CHN:separation:heavy", "China separation, Dy and Tb oxides", "separation", "CHN", heavy,
     "ARGUS-2024-VIEWPOINT|2024|secondary",
     "Dy oxide ~3,500 t + Tb oxide ~650 t (Argus, 2024); low = SMM monthly x 12 "
     "(Dy 2,580 + Tb 490); external input = recycled Dy 710 + Tb 160 t (Argus) + "
     "the Laos share (16 %) of the mined heavy feed",
     material="heavy", low=2_580 + 490, high=heavy,
     external_input=r(rec_heavy + heavy_mines * v("heavy_feed_LAO")),
     external_input_source="ARGUS-2025-RECYCLING; CALC-HEAVY-FEED")  # fmt: skip
node("CHN:separation:samarium", "China separation, samarium oxide", "separation", "CHN", sm,
     F["sm_world"],
     "world Sm output ~2,500 t/yr (weak); China makes the whole world's samarium metal "
     "(NYT 2025), so the world figure is used for China; range assumed +-40 %",
     material="samarium")  # fmt: skip
node("CHN:separation:rest", "China separation, La, Ce, Y, Gd and other oxides",
     "separation", "CHN", rest_chn, "CALC-CHN-SEPARATION|2024|derived",
     f"residual: 2024 separation quota 254,000 t - NdPr {ndpr:,.0f} - Dy/Tb {heavy:,.0f} - "
     f"Sm {sm:,.0f} = {rest_chn:,.0f} t, so China's separation total stays at its quota "
     "(China 91 % of the stage, IEA 2025)", material="rest")  # fmt: skip
lynas_rest = v("lynas_total") - v("lynas_ndpr") - v("lynas_heavy")
node("MYS:separation:light", "Malaysia separation (Lynas Kuantan), NdPr oxide", "separation",
     "MYS", v("lynas_ndpr"), F["lynas_ndpr"], "Lynas NdPr output FY2025 (Jul 2024-Jun 2025)",
     material="light", capacity=v("lynas_ndpr_cap"), capacity_source="LYNAS-FY2025",
     capacity_evidence="secondary", ramp_days=90)  # fmt: skip
nodes["MYS:separation:light"]["note"] += (
    "; capacity = the 10,500 t/yr NdPr nameplate (62 % used in FY2025); ramp_days 90 is an "
    "assumption (ASSUMPTION-RAMP): output rose from 1,509 t to 2,080 t in one quarter in 2025"
)
node("MYS:separation:heavy", "Malaysia separation (Lynas Kuantan), Dy and Tb oxides",
     "separation", "MYS", v("lynas_heavy"), F["lynas_heavy"],
     "9 t of Dy+Tb in Jul-Sep 2025 x 4 (first separated Dy May 2025, Tb June 2025); the only "
     "commercial heavy separation outside China", material="heavy")  # fmt: skip
node("MYS:separation:rest", "Malaysia separation (Lynas Kuantan), other oxides", "separation",
     "MYS", lynas_rest, "LYNAS-FY2025|2025|derived",
     f"Lynas total REO 10,462 t - NdPr 6,558 - Dy/Tb 36 = {lynas_rest:,.0f} t",
     material="rest")  # fmt: skip
node("USA:separation:light", "United States separation (MP Materials), NdPr oxide",
     "separation", "USA", v("us_sep"), F["us_sep"],
     "US compounds and metals produced 2024e (USGS); MP reported 1,294 t NdPr oxide",
     material="light", capacity=v("mp_ndpr_cap"), capacity_source="ADAMAS-2022-MP",
     capacity_evidence="secondary", ramp_days=180)  # fmt: skip
nodes["USA:separation:light"]["note"] += (
    "; capacity 'upwards of 6,000 t/yr' NdPr (Adamas site visit, 2022); Q3 2025 run rate "
    "~2,900 t/yr; ramp_days 180 is an assumption (ASSUMPTION-RAMP)"
)
node("EST:separation:rest", "Estonia separation (NPM Silmet)", "separation", "EST",
     v("est_sep"), F["est_sep"],
     "no tonnage found; order of magnitude; range 400 t (5 % of US imports) to 3,000 t "
     "(capacity, Argus); fed with mixed carbonate from US monazite (Energy Fuels, CEFIC-2022), "
     "which is outside the USGS mine table, so its feed is external input",
     material="rest", external_input=v("est_sep"),
     external_input_source="CEFIC-2022")  # fmt: skip
row_feed = sum(v(k) for k in ("mine_IND", "mine_RUS", "mine_VNM", "mine_BRA", "mine_ROW"))
node("ROW:separation:rest", "Rest of world separation (India, Russia and others)",
     "separation", "ROW", v("row_sep"), F["row_sep"],
     "residual of the aggregate dataset: 279,121 t world - China 254,000 - Malaysia 10,462 - "
     "US 1,300 - Estonia 1,000; fed by the Indian, Russian, Vietnamese, Brazilian and other "
     f"mines ({row_feed:,.0f} t); the rest of its feed is unmapped external input",
     material="rest", external_input=r(v("row_sep") - row_feed),
     external_input_source="CALC-SEPARATION-BASIS")  # fmt: skip

ORE = "ore concentrate"
china_light_mines = {
    "CHN:mining:rock": rock, "USA:mining": v("us_conc_exports"), **monazite,
}  # fmt: skip
china_all_mines = {**china_light_mines, "CHN:mining:ionic": ionic, "MMR:mining": v("mine_MMR")}
# light (NdPr) feed
q = v("chn_ndpr_from_quota")
edge("CHN:mining:rock", "CHN:separation:light", q * rock / v("mine_CHN"), ORE,
     "METALNOMIST-2024-SEA", "2024", "derived",
     "PrNd from China's mining quota ~45,000 t (Metalnomist), split rock/ionic by quota "
     "tonnage (assumption); t NdPr oxide content")  # fmt: skip
edge(
    "CHN:mining:ionic",
    "CHN:separation:light",
    q * ionic / v("mine_CHN"),
    ORE,
    "METALNOMIST-2024-SEA",
    "2024",
    "derived",
    "PrNd from China's mining quota, ionic-clay part by quota tonnage (assumption)",
)
edge("MMR:mining", "CHN:separation:light", ndpr_mmr, ORE, "METALNOMIST-2024-SEA", "2024",
     "derived", "PrNd from imported SE Asian ore 20,500 t x Myanmar's 31,000 / 60,000 t "
     "of that ore (USGS; Metalnomist)")  # fmt: skip
edge("USA:mining", "CHN:separation:light", ndpr_usa, ORE, "MP-10K-2021", "2024", "derived",
     "US concentrate exports 43,000 t REO (USGS 2024) x NdPr 15.7 % of TREO (MP 10-K); "
     "shipments stopped 17 Apr 2025 (MP-10Q-2025)")  # fmt: skip
tot_mz = sum(monazite.values())
for mid, t in monazite.items():
    edge(mid, "CHN:separation:light", ndpr_gap * t / tot_mz, ORE, "GITI-2023", "2024",
         "assumption",
         f"gap between Argus's 106,000 t and the sourced PrNd components ({ndpr_gap:,.0f} t) "
         "attributed to monazite and Malaysian imports by mine tonnage; China's monazite "
         "imports come from Madagascar, Nigeria and Thailand (GITI, customs 2023)",
         low=0.0)  # fmt: skip
# heavy feed (ionic clays)
edge("MMR:mining", "CHN:separation:heavy", heavy_mines * v("heavy_feed_MMR"), ORE,
     "CALC-HEAVY-FEED", "2023", "derived",
     "Myanmar ~58 % of the mined ionic-clay feed of China's heavy separation (range 50-69 %), "
     f"x {heavy_mines:,.0f} t Dy+Tb not from recycling",
     low=r(heavy_mines * 0.50), high=r(heavy_mines * 0.69))  # fmt: skip
edge("CHN:mining:ionic", "CHN:separation:heavy", heavy_mines * v("heavy_feed_CHN"), ORE,
     "CALC-HEAVY-FEED", "2023", "derived",
     "China's own ionic quota ~26 % of the mined heavy feed")  # fmt: skip
# samarium (SEG fraction of light ores) and rest: by REO tonnage reaching China
tot_light = sum(china_light_mines.values())
for mid, t in china_light_mines.items():
    edge(mid, "CHN:separation:samarium", sm * t / tot_light, ORE, "ASSUMPTION-FEED-SPLIT",
         "2024", "assumption",
         "Sm comes from the SEG fraction of light-REE ores (MP: SEG+ 1.8 % of TREO); split "
         "by REO tonnage reaching China")  # fmt: skip
tot_all = sum(china_all_mines.values())
for mid, t in china_all_mines.items():
    edge(mid, "CHN:separation:rest", rest_chn * t / tot_all, ORE, "ASSUMPTION-FEED-SPLIT",
         "2024", "assumption", "La, Ce, Y and other oxides: split by REO tonnage reaching "
         "China (USGS mine output; US exports 43,000 t)")  # fmt: skip
for sep, val in (("MYS:separation:light", v("lynas_ndpr")),
                 ("MYS:separation:heavy", v("lynas_heavy")),
                 ("MYS:separation:rest", lynas_rest)):  # fmt: skip
    edge(
        "AUS:mining",
        sep,
        val,
        ORE,
        "LYNAS-AR-2022",
        "2025",
        "derived",
        "Mt Weld concentrate shipped Fremantle -> Kuantan; flow = Lynas's output of the group",
    )
edge(
    "USA:mining",
    "USA:separation:light",
    v("us_sep"),
    ORE,
    "USGS-MCS-2025",
    "2024",
    "derived",
    "Mountain Pass concentrate separated on site (45,000 - 43,000 t exported)",
)
for mid in ("IND:mining", "RUS:mining", "VNM:mining", "BRA:mining", "ROW:mining"):
    edge(mid, "ROW:separation:rest", nodes[mid]["value"], ORE, "ASSUMPTION-ORE-ROUTING",
         "2024", "assumption", "separated in the mining country (IREL, Solikamsk) or the "
         "rest of the world")  # fmt: skip

# ================================================================================= metal
node("CHN:metal:light", "China NdPr metal", "metal", "CHN", v("chn_ndpr_metal"),
     F["chn_ndpr_metal"], "China's PrNd metal output 2024 (Argus); 90.4 % of the light metal "
     "stage, against IDTechEx's 90 % of RE metal refining", material="light")  # fmt: skip
for c, key, label in (("JPN", "jpn_metal", "Japan"), ("VNM", "vnm_metal", "Vietnam"),
                      ("ROW", "row_metal", "Rest of world (LCM UK, MP Fort Worth, others)")):  # fmt: skip
    node(f"{c}:metal:light", f"{label} NdPr metal", "metal", c, v(key), F[key],
         "no country tonnage found (Estonia, Japan and Vietnam); the aggregate dataset's "
         "split of the non-China 10 % of metal making", material="light")  # fmt: skip
OX = "NdPr oxide"
edge(
    "MYS:separation:light",
    "CHN:metal:light",
    v("lynas_ndpr_to_chn"),
    OX,
    "TREO-2025",
    "2024",
    "secondary",
    "Lynas Malaysia NdPr to China per China's import data",
)
edge(
    "USA:separation:light",
    "CHN:metal:light",
    v("mp_ndpr_to_chn"),
    OX,
    "TREO-2025",
    "2024",
    "secondary",
    "MP Materials NdPr to China per China's import data",
)
edge("CHN:separation:light", "CHN:metal:light",
     v("chn_ndpr_metal") - v("lynas_ndpr_to_chn") - v("mp_ndpr_to_chn"), OX,
     "ARGUS-2024-VIEWPOINT", "2024", "derived",
     "China's NdPr metal 88,000 t less the imported oxide (t oxide = t metal, as in the "
     "aggregate dataset)")  # fmt: skip
for sep, share, ref, ev in (("CHN:separation:light", v("jpn_from_chn"), "METALNOMIST-2024",
                             "derived"),
                            ("MYS:separation:light", 1 - v("jpn_from_chn"),
                             "ASSUMPTION-JAPAN-NONCHINA", "assumption")):  # fmt: skip
    edge(sep, "JPN:metal:light", v("jpn_metal") * share, OX, ref, "2024", ev,
         f"{share:.3f} x 4,000 t: Japan's RE imports H1 2024 were 79.6 % from China; "
         "the rest attributed to Lynas")  # fmt: skip
light_sep = {k: n["value"] for k, n in nodes.items()
             if n["stage"] == "separation" and n["material"] == "light"}  # fmt: skip
tot_ls = sum(light_sep.values())  # type: ignore[arg-type]
for met in ("VNM:metal:light", "ROW:metal:light"):
    for sep, t in light_sep.items():
        edge(sep, met, nodes[met]["value"] * t / tot_ls, OX, "ASSUMPTION-POOLED-MARKET",  # type: ignore[operator]
             "2024", "assumption", "pooled NdPr-oxide market (shares of the light "
             "separation nodes)", basis="pooled")  # fmt: skip

# =============================================================================== magnets
smco_total = v("smco_CHN") + v("smco_USA")
ndfeb_world = v("world_magnets") - smco_total
ev = v("world_magnets") * v("ev_share")
wind = v("wind_magnets")
electronics = v("world_magnets") * v("electronics_share")
defense_smco = v("smco_USA")
motors = v("world_magnets") - ev - wind - electronics - v("defense_ndfeb") - defense_smco
dy_total = (ev * v("dy_ev") + wind * v("dy_wind") + v("defense_ndfeb") * v("dy_defense")
            + (motors - v("smco_CHN")) * v("dy_motors") + electronics * v("dy_electronics"))  # fmt: skip
D = dy_total / ndfeb_world
MAG_NDFEB = {"CHN": v("mag_CHN") - v("smco_CHN"), "JPN": v("mag_JPN"), "VNM": v("mag_VNM"),
             "EU": v("mag_EU"), "USA": v("mag_USA") - v("smco_USA")}  # fmt: skip
jpn_cap = v("nonchina_cap") - v("mag_VNM") - v("mag_EU") - v("mag_USA") - v("kor_cap")
CAPS = {
    "JPN": (
        jpn_cap,
        0,
        0,
        "PROJECTBLUE-2025",
        "derived",
        f"capacity = 23,750 t/yr non-Chinese NdFeB capacity ('largely in Japan', Project "
        f"Blue 2025) - Vietnam 2,200 - EU 1,000 - US 500 - Korea (Seonglim) 1,000 = "
        f"{jpn_cap:,.0f} t",
    ),
    "USA": (
        v("mag_USA") + v("mp_mag_cap") + v("evac_cap"),
        365,
        240,
        "PMREVIEW-2025-MP; FASTMARKETS-EVAC",
        "secondary",
        "capacity = 500 t assumed output + MP Independence 1,000 t/yr (commercial output "
        "end-2025) + eVAC Sumter 2,000 t/yr (first shipment Dec 2025): delay 240 days from "
        "4 Apr 2025, ramp 365 days (assumption, ASSUMPTION-RAMP)",
    ),
    "EU": (
        v("mag_EU") + v("neo_cap"),
        365,
        170,
        "AUTOWORLD-NEO-2025",
        "secondary",
        "capacity = 1,000 t assumed output + Neo Narva Phase 1 2,000 t/yr (inaugurated Sept "
        "2025, commercial ramp 2026): delay 170 days from 4 Apr 2025, ramp 365 days "
        "(assumption, ASSUMPTION-RAMP)",
    ),
}
for c, total in MAG_NDFEB.items():
    base = {"CHN": "mag_CHN", "JPN": "mag_JPN", "VNM": "mag_VNM", "EU": "mag_EU",
            "USA": "mag_USA"}[c]  # fmt: skip
    fig = F[base]
    for kind, frac, label in (("ndfeb-dytb", D, "Dy/Tb-bearing NdFeB magnets"),
                              ("ndfeb", 1 - D, "Dy-free NdFeB magnets")):  # fmt: skip
        extra: dict[str, object] = {}
        if c in CAPS:
            cap, ramp, delay, csrc, cev, cnote = CAPS[c]
            extra = {"capacity": r(cap * frac), "ramp_days": ramp or None,
                     "ramp_delay_days": delay or None, "capacity_source": csrc,
                     "capacity_evidence": cev}  # fmt: skip
        node(f"{c}:magnets:{kind}", f"{c} {label}", "magnets", c, r(total * frac),
             f"CALC-MAGNET-KINDS|{fig.year}|derived",
             f"{c}'s NdFeB output {total:,.0f} t ({fig.source}, {fig.evidence}) x "
             f"{'Dy/Tb-bearing' if kind == 'ndfeb-dytb' else 'Dy-free'} share "
             f"{frac:.3f} of world NdFeB demand (CALC-MAGNET-KINDS)"
             + (f"; {CAPS[c][5]} (split by the same share)" if c in CAPS else ""),
             material=kind,
             low=r(fig.low * frac) if fig.low else None,
             high=r(fig.high * frac) if fig.high else None, **extra)  # fmt: skip
node("CHN:magnets:smco", "China SmCo magnets", "magnets", "CHN", v("smco_CHN"), F["smco_CHN"],
     "China's SmCo magnet alloy output 2019 (Adamas; no later figure found)",
     material="smco")  # fmt: skip
node("USA:magnets:smco", "United States SmCo magnets (Arnold, Electron Energy)", "magnets",
     "USA", v("smco_USA"), F["smco_USA"],
     "no tonnage found for non-Chinese SmCo makers; order of magnitude assumed; made from "
     "Chinese samarium (NYT 2025: China makes the whole world's samarium metal)",
     material="smco")  # fmt: skip
NDPR_METAL, DYTB, SM = "NdPr metal", "Dy/Tb", "samarium"
light_metal = {k: n["value"] for k, n in nodes.items() if n["stage"] == "metal"}
tot_lm = sum(light_metal.values())  # type: ignore[arg-type]
heavy_sep = {k: n["value"] for k, n in nodes.items()
             if n["stage"] == "separation" and n["material"] == "heavy"}  # fmt: skip
tot_hs = sum(heavy_sep.values())  # type: ignore[arg-type]
for c in MAG_NDFEB:
    for kind in ("ndfeb-dytb", "ndfeb"):
        m = f"{c}:magnets:{kind}"
        mval = float(nodes[m]["value"])  # type: ignore[arg-type]
        need = mval * v("re_in_magnet")
        if c == "CHN":
            edge("CHN:metal:light", m, need, NDPR_METAL, "ASSUMPTION-DOMESTIC-METAL", "2024",
                 "assumption", "Chinese magnet makers use Chinese NdPr metal; flow = magnets "
                 "x 30 % RE content (HEIM-2023)")  # fmt: skip
        else:
            for met, t in light_metal.items():
                edge(met, m, need * t / tot_lm, NDPR_METAL, "ASSUMPTION-POOLED-MARKET",  # type: ignore[operator]
                     "2024", "assumption", "pooled NdPr-metal market (shares of the metal "
                     "nodes); flow = magnets x 30 % RE content (HEIM-2023)",
                     basis="pooled")  # fmt: skip
        if kind != "ndfeb-dytb":
            continue
        dyneed = mval * v("dytb_in_magnet")
        if c == "CHN":
            edge("CHN:separation:heavy", m, dyneed, DYTB, "ASSUMPTION-DOMESTIC-METAL", "2024",
                 "assumption", "Chinese magnet makers use Chinese Dy/Tb; flow = magnets x "
                 "3 % Dy+Tb (>= 3 % for H grade and above, MAINRICH-2021)")  # fmt: skip
        elif c == "JPN":
            edge("CHN:separation:heavy", m, dyneed, DYTB, "TRENDFORCE-2025", "2025", "secondary",
                 "METI (Jan 2025): Japan depends on China for 100 % of its heavy rare earths; "
                 "flow = magnets x 3 % Dy+Tb")  # fmt: skip
        else:
            for sep, t in heavy_sep.items():
                edge(sep, m, dyneed * t / tot_hs, DYTB, "ASSUMPTION-POOLED-MARKET", "2025",  # type: ignore[operator]
                     "assumption", "pooled Dy/Tb market (shares of the heavy separation "
                     "nodes); flow = magnets x 3 % Dy+Tb", basis="pooled")  # fmt: skip
for m in ("CHN:magnets:smco", "USA:magnets:smco"):
    edge("CHN:separation:samarium", m, float(nodes[m]["value"]) * 0.3, SM, "NYT-2025-SAMARIUM",  # type: ignore[arg-type]
         "2025", "secondary", "China makes the whole world's samarium metal (NYT 2025); flow "
         "= SmCo x 0.3 Sm mass fraction (assumption, ASSUMPTION-SMCO)")  # fmt: skip

# ============================================================================ components
exports = v("mag_exports")
consumption = {
    "CHN": v("mag_CHN") - exports,
    "EU": v("exp_EU") * exports + v("mag_EU"),
    "USA": v("exp_USA") * exports + v("mag_USA"),
    "JPN": v("mag_JPN"),
    "ROW": (1 - v("exp_EU") - v("exp_USA")) * exports + v("mag_VNM"),
}
world_cons = sum(consumption.values())
share = {c: x / world_cons for c, x in consumption.items()}
# where each region's magnets come from (by magnet-making country)
supply_mix = {
    "CHN": {"CHN": 1.0},
    "EU": {"CHN": v("exp_EU") * exports / consumption["EU"], "EU": v("mag_EU") / consumption["EU"]},
    "USA": {"CHN": v("exp_USA") * exports / consumption["USA"],
            "USA": v("mag_USA") / consumption["USA"]},
    "JPN": {"JPN": 1.0},
    "ROW": {"CHN": (1 - v("exp_EU") - v("exp_USA")) * exports / consumption["ROW"],
            "VNM": v("mag_VNM") / consumption["ROW"]},
}  # fmt: skip
# Product lines: each uses one magnet kind, so a Dy-free magnet never stands in for a
# Dy/Tb-bearing one (not even under a response's re-sourcing); an end use sums its lines.
# line -> (label, end use, end-use suffix, world t, dy figure, Dy/Tb-bearing?, inventory days)
HT = "high-temperature magnets"  # Dy/Tb-bearing NdFeB, or SmCo
DF = "Dy-free NdFeB"
motors_ndfeb = motors - v("smco_CHN")
LINES = {
    "ev-traction": ("EV traction motors", "vehicles", "vehicles", ev, "dy_ev", True, 30),
    "wind": ("wind-turbine generators", "wind", "wind", wind, "dy_wind", True, 90),
    "motors-dytb": ("high-temperature industrial motors (Dy/Tb NdFeB or SmCo)", "industrial",
                    "motors", motors_ndfeb * v("dy_motors"), "dy_motors", True, 60),
    "motors": ("industrial motors and appliances with Dy-free magnets", "industrial", "motors",
               motors_ndfeb * (1 - v("dy_motors")), "dy_motors", False, 60),
    "electronics-dytb": ("electronics parts with Dy/Tb magnets", "electronics", "electronics",
                         electronics * v("dy_electronics"), "dy_electronics", True, 60),
    "electronics": ("electronics parts with Dy-free magnets (speakers, vibration motors)",
                    "electronics", "electronics", electronics * (1 - v("dy_electronics")),
                    "dy_electronics", False, 60),
}  # fmt: skip
REGION_LABEL = {"CHN": "China", "EU": "European Union", "USA": "United States", "JPN": "Japan",
                "ROW": "Rest of world"}  # fmt: skip
for c in consumption:
    for line, (label, _, _, world_t, dyk, dy, _) in LINES.items():
        comp = f"{c}:components:{line}"
        val = world_t * share[c]
        smco = v("smco_CHN") * share[c] if line == "motors-dytb" else 0.0
        fig = F[dyk]
        frac = fig.value if dy else 1 - fig.value
        lo_f = (fig.low if dy else 1 - (fig.high or 0)) if fig.low is not None else None
        hi_f = (fig.high if dy else 1 - (fig.low or 0)) if fig.high is not None else None
        node(comp, f"{REGION_LABEL[c]} {label}", "components", c, r(val + smco),
             "CALC-COMPONENTS|2024|derived",
             f"world magnets of this line {world_t:,.0f} t (the kind's demand x its "
             f"{'Dy/Tb-bearing' if dy else 'Dy-free'} share {frac:g}, {fig.source}) x "
             f"{REGION_LABEL[c]}'s share of magnet consumption {share[c]:.4f} "
             "(CALC-MAGNET-CONSUMPTION)" + (" + China's SmCo by the same share" if smco else "")
             + "; made where the magnets are built in",
             material=line, unit="t magnet/yr",
             low=r(val / frac * lo_f + smco) if lo_f is not None and frac else None,
             high=r(val / frac * hi_f + smco) if hi_f is not None and frac else None)  # fmt: skip
        mk = "ndfeb-dytb" if dy else "ndfeb"
        for maker, ms in supply_mix[c].items():
            edge(f"{maker}:magnets:{mk}", comp, val * ms, HT if dy else DF, fig.source, "2025",
                 fig.evidence,
                 f"the line's NdFeB x {maker}'s share of {c}'s magnet supply {ms:.3f} "
                 "(CALC-MAGNET-CONSUMPTION); max_scale 1: the line's designs set how much of "
                 "this magnet kind it uses", max_scale=1)  # fmt: skip
        if smco:
            edge("CHN:magnets:smco", comp, smco, HT, "ADAMAS-2019", "2019", "derived",
                 "China's SmCo in high-temperature motors, sensors and aerospace parts, split "
                 "by magnet consumption (assumption); substitutes Dy/Tb NdFeB at high "
                 "temperature", max_scale=1)  # fmt: skip
node("USA:components:defense", "United States defense subsystems (actuators, guidance, "
     "motors)", "components", "USA", v("defense_ndfeb") + defense_smco,
     "DOD-2012|2012|secondary",
     "US weapon systems use ~175 t/yr NdFeB (DoD 2012) + 100 t/yr SmCo (ASSUMPTION-SMCO; "
     "F-35 carries ~22 kg SmCo, NYT 2025)", material="defense",
     unit="t magnet/yr")  # fmt: skip
for maker, ms in supply_mix["USA"].items():
    edge(f"{maker}:magnets:ndfeb-dytb", "USA:components:defense", v("defense_ndfeb") * ms,
         HT, "DOD-2012", "2012", "derived",
         f"175 t NdFeB x {maker}'s share of US magnet supply {ms:.3f}; high-temperature "
         "grades (ASSUMPTION-DY-SHARE)")  # fmt: skip
edge(
    "USA:magnets:smco",
    "USA:components:defense",
    defense_smco,
    "SmCo magnets",
    "ASSUMPTION-SMCO",
    "2025",
    "assumption",
    "US defense SmCo made by US makers; SmCo and NdFeB are complements in a weapon system",
)

# ============================================================================== end uses
INV_LOW_HIGH = {30: (14, 30), 60: (30, 90), 90: (45, 135)}
END_LABEL = {"vehicles": "vehicles (EV traction)", "wind": "wind turbines",
             "electronics": "consumer electronics",
             "motors": "industrial motors, appliances and other magnet uses"}  # fmt: skip
for c in consumption:
    for suffix in ("vehicles", "wind", "electronics", "motors"):
        lines = [k for k, spec in LINES.items() if spec[2] == suffix]
        end_use, inv = LINES[lines[0]][1], LINES[lines[0]][6]
        val = sum(float(nodes[f"{c}:components:{k}"]["value"]) for k in lines)  # type: ignore[arg-type]
        eu = f"{c}:{suffix}"
        lo, hi = INV_LOW_HIGH[inv]
        node(eu, f"{REGION_LABEL[c]} {END_LABEL[suffix]}", "end_use", c, r(val),
             "CALC-COMPONENTS|2024|derived",
             "end-use demand = the region's components of its product lines (t magnet "
             "embedded)", end_use=end_use, unit="t magnet/yr", inventory_days=inv,
             inventory_days_low=lo, inventory_days_high=hi,
             inventory_days_group=f"inventory days of {end_use}",
             inventory_days_source="MBI-2025" if inv == 30 else "ASSUMPTION-INVENTORY",
             inventory_days_evidence="weak" if inv == 30 else "assumption")  # fmt: skip
        imp = 0.0 if c == "CHN" else v("imports_from_chn")
        for k in lines:
            comp = f"{c}:components:{k}"
            cv = float(nodes[comp]["value"])  # type: ignore[arg-type]
            edge(comp, eu, cv * (1 - imp), "components", "ASSUMPTION-COMPONENT-IMPORTS",
                 "2025", "assumption", f"made in the region: 1 - {imp:g} imported from China",
                 max_scale=1)  # fmt: skip
            if imp:
                edge(f"CHN:components:{k}", eu, cv * imp, "components",
                     "ASSUMPTION-COMPONENT-IMPORTS", "2025", "assumption",
                     f"{imp:g} of the region's {LINES[k][0]} imported from China (range "
                     "0-0.3, so max_scale 3); rotor/stator assemblies with embedded magnets "
                     "are outside the April 2025 licence list (MOFCOM FAQ, MAGSEES-2025)",
                     low=0.0, high=r(cv * 0.3, 1), max_scale=3,
                     group="component imports from China")  # fmt: skip
node("USA:defense", "United States defense", "end_use", "USA",
     nodes["USA:components:defense"]["value"], "DOD-2012|2012|secondary",
     "US weapon systems' magnets (NdFeB 175 t, DoD 2012; SmCo 100 t assumed)",
     end_use="defense", unit="t magnet/yr", inventory_days=180, inventory_days_low=90,
     inventory_days_high=365, inventory_days_source="SEED-000",
     inventory_days_evidence="weak")  # fmt: skip
edge("USA:components:defense", "USA:defense", float(nodes["USA:defense"]["value"]),  # type: ignore[arg-type]
     "components", "ASSUMPTION-COMPONENT-IMPORTS", "2025", "assumption",
     "defense subsystems made in the US")  # fmt: skip

ind_vals = {"USA": v("ind_USA"), "EU": v("ind_EU"), "JPN": v("ind_JPN"), "ROW": v("ind_ROW")}
rest_sep = {k: float(n["value"]) for k, n in nodes.items()  # type: ignore[arg-type]
            if n["stage"] == "separation" and n["material"] == "rest"}  # fmt: skip
ind_vals["CHN"] = sum(rest_sep.values()) - sum(ind_vals.values())
IND_NOTES = {
    "USA": ("USGS-MCS-2025", "derived", "US imports 2024e: compounds 8,000 + metals 90 t REO"),
    "EU": ("EUROSTAT-2025", "primary", "EU-27 imports of REE+ (CN 2805 30) 2024"),
    "JPN": ("METALNOMIST-2024", "derived", "2 x 9,898 t (Japan's RE imports H1 2024) - "
            "4,000 t for the JPN:metal node"),
    "ROW": ("METALNOMIST-2025", "derived", "24 % of China's 55,431 t RE exports 2024 + India "
            "2,900 + Russia 2,500 t mined"),
    "CHN": ("CALC-INDUSTRIAL", "derived", "residual: rest-group separation total - the other "
            "regions' industrial nodes"),
}  # fmt: skip
for c, val in ind_vals.items():
    src, ev_, note = IND_NOTES[c]
    node(f"{c}:industrial", f"{REGION_LABEL[c]} catalysts, glass, polishing, metallurgy "
         "(non-magnet)", "end_use", c, r(val), f"{src}|2024|{ev_}",
         note + "; La, Ce and the other non-magnet oxides", end_use="industrial",
         unit="t REO/yr", inventory_days=60, inventory_days_low=30, inventory_days_high=90,
         inventory_days_group="inventory days of industrial",
         inventory_days_source="ASSUMPTION-INVENTORY",
         inventory_days_evidence="assumption")  # fmt: skip
RE = "separated oxides"
for sep, x, ref, ev_ in (("CHN:separation:rest", 0.70, "USGS-MCS-2025", "derived"),
                         ("MYS:separation:rest", 0.13, "USGS-MCS-2025", "derived"),
                         ("EST:separation:rest", 0.05, "USGS-MCS-2025", "derived"),
                         ("ROW:separation:rest", 0.12, "USGS-MCS-2025", "derived")):  # fmt: skip
    edge(
        sep,
        "USA:industrial",
        v("ind_USA") * x,
        RE,
        ref,
        "2024",
        ev_,
        f"US import sources of compounds and metals 2020-23: {x:.0%} x 8,090 t",
    )
for sep, x, ev_ in (("CHN:separation:rest", 6_000, "primary"),
                    ("MYS:separation:rest", 2_600, "primary"),
                    ("ROW:separation:rest", 4_300, "derived")):  # fmt: skip
    edge(
        sep,
        "EU:industrial",
        x,
        RE,
        "EUROSTAT-2025",
        "2024",
        ev_,
        "EU-27 imports 2024 by source (Russia 3,700 + 600 unallocated in ROW)",
    )
for sep, x, ref, ev_ in (("CHN:separation:rest", 0.796, "METALNOMIST-2024", "derived"),
                         ("MYS:separation:rest", 0.204, "ASSUMPTION-JAPAN-NONCHINA",
                          "assumption")):  # fmt: skip
    edge(
        sep,
        "JPN:industrial",
        v("ind_JPN") * x,
        RE,
        ref,
        "2024",
        ev_,
        f"Japan's RE imports H1 2024: {x:.1%}",
    )
edge(
    "CHN:separation:rest",
    "CHN:industrial",
    ind_vals["CHN"],
    RE,
    "ASSUMPTION-ORE-ROUTING",
    "2024",
    "assumption",
    "China's non-magnet users buy Chinese oxides",
)
tot_rest = sum(rest_sep.values())
for sep, t in rest_sep.items():
    edge(
        sep,
        "ROW:industrial",
        v("ind_ROW") * t / tot_rest,
        RE,
        "ASSUMPTION-POOLED-MARKET",
        "2024",
        "assumption",
        "pooled market for the other oxides",
        basis="pooled",
    )


def fmt(x: object) -> object:
    if isinstance(x, float):
        return int(x) if x.is_integer() else round(x, 4)
    return "" if x is None else x


def write(path: Path, cols: list[str], rows: list[dict[str, object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        for row in rows:
            w.writerow({c: fmt(row.get(c)) for c in cols})


if __name__ == "__main__":
    for n in nodes.values():
        if isinstance(n["value"], float):
            n["value"] = r(n["value"])
    write(HERE / "nodes.csv", NODE_COLS, list(nodes.values()))
    write(HERE / "edges.csv", EDGE_COLS, list(edges.values()))
    print(f"{len(nodes)} nodes, {len(edges)} edges; Dy/Tb-bearing share of NdFeB D = {D:.4f}")
