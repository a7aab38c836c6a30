"""Trade readers, HS map and hub test on synthetic files in the real BACI / Comtrade+ layouts.

Every expected number below is worked out by hand from the fixture rows in tests/data/trade/
(see the comments), never taken from an earlier run of the code.
"""

from __future__ import annotations

import gzip
import math
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supplygraph.trade import (
    default_hs_map,
    hub_table,
    read_hs_map,
    read_production,
    read_trade,
    trade_flows,
)
from supplygraph.trade.baci import read_country_codes
from supplygraph.trade.hsmap import DEFAULT_MAP

DATA = Path(__file__).parent / "data" / "trade"
NEW = DATA / "BACI_HS17_V202401b"
OLD = DATA / "BACI_HS17_V202301"
COMTRADE = DATA / "comtrade_850511_2022.csv"
BULK = DATA / "COMTRADE-FINAL-CA3442022H6[2024-03-01].txt"
CODES = NEW / "country_codes_V202401b.csv"

# BACI 2022 fixture, default map: (exporter, importer, stage, hs6, value kUSD, tonnes)
# - 253090 (CHN->JPN, broad basket) is off by default; 010121 (NAM->CHN) is not in the map;
# - MMR's 284690 is mine output (exporter override); DEU->FRA stays (two countries here);
# - CHN->USA 280530 has q = NA: unknown, never 0.
EXPECTED_2022 = [
    ("CHN", "DEU", "metal", "280530", 1500.0, 30.0),
    ("CHN", "DEU", "separation", "284690", 12000.0, 2000.0),
    ("CHN", "HKG", "magnets", "850511", 30000.0, 500.0),
    ("CHN", "JPN", "metal", "280530", 3000.0, 60.0),
    ("CHN", "JPN", "separation", "284690", 61000.0, 1200.0),
    ("CHN", "THA", "magnets", "850511", 6000.0, 100.0),
    ("CHN", "USA", "metal", "280530", 4500.0, None),
    ("CHN", "USA", "separation", "284690", 700.0, 100.0),
    ("CHN", "VNM", "separation", "284690", 3000.0, 500.0),
    ("DEU", "FRA", "magnets", "850511", 5000.0, 80.0),
    ("EST", "DEU", "separation", "284690", 300.0, 50.0),
    ("HKG", "DEU", "magnets", "850511", 18000.0, 260.0),
    ("HKG", "USA", "magnets", "850511", 21000.0, 300.0),
    ("JPN", "USA", "magnets", "850511", 24000.0, 400.0),
    ("MMR", "CHN", "mining", "284690", 52000.0, 9000.0),
    ("MYS", "FRA", "separation", "284690", 5000.0, 800.0),
    ("MYS", "JPN", "separation", "284690", 30000.0, 4800.0),
    ("MYS", "USA", "separation", "284690", 11000.0, 1900.0),
    ("S19", "USA", "magnets", "850511", 900.0, 12.0),
]


def _rows(flows: pd.DataFrame) -> list[tuple]:
    out = []
    for r in flows.itertuples():
        q = None if pd.isna(r.quantity_t) else float(r.quantity_t)
        out.append((r.exporter, r.importer, r.stage, r.hs6, float(r.value_kusd), q))
    return out


def test_baci_new_layout_year_2022_hand_computed():
    data = read_trade(NEW, 2022)
    flows = data.flows
    assert _rows(flows) == EXPECTED_2022
    assert set(flows["year"]) == {2022}
    assert all(isinstance(k, str) for k in flows["hs6"])  # codes stay text
    assert data.source["version"] == "202401b"
    assert data.source["release_date"] == "2024 04 09"
    assert data.source["hs_revision"] == "HS17"
    # quoted names with commas parse: 344 is Hong Kong, 490 keeps the release's own S19
    assert "HKG" in set(flows["exporter"]) and "S19" in set(flows["exporter"])
    assert "TWN" not in set(flows["exporter"])


def test_baci_second_year_is_read_alone():
    flows = read_trade(NEW, 2021).flows
    assert _rows(flows) == [
        ("CHN", "HKG", "magnets", "850511", 25000.0, 450.0),
        ("CHN", "JPN", "separation", "284690", 50000.0, 1000.0),
        ("HKG", "USA", "magnets", "850511", 20000.0, 440.0),
        ("MMR", "CHN", "mining", "284690", 40000.0, 8000.0),
    ]


def test_baci_old_country_layout_and_country_overrides():
    flows = read_trade(OLD, 2021).flows
    assert _rows(flows) == [
        ("CHN", "HKG", "magnets", "850511", 24000.0, 430.0),
        ("CIV", "USA", "separation", "284610", 120.0, 30.5),  # "Côte d'Ivoire" row, UTF-8
        ("HKG", "USA", "magnets", "850511", 19000.0, None),  # NA right-aligned
        ("S19", "USA", "magnets", "850511", 800.0, 11.0),
    ]
    for mapping in ({"S19": "TWN"}, {"490": "TWN"}):
        mapped = read_trade(OLD, 2021, country_map=mapping).flows
        assert set(mapped["exporter"]) == {"CHN", "CIV", "HKG", "TWN"}


def test_country_code_files_both_layouts_map_the_same_codes():
    new = read_country_codes(CODES.read_text(encoding="utf-8"), "new")
    old = read_country_codes((OLD / "country_codes_V202301.csv").read_text(encoding="utf-8"), "old")
    for code in (156, 344, 384, 490, 516, 842):
        assert new[code][0] == old[code][0]
    assert new[842][0] == "USA"  # 842, not ISO 840
    assert new[516] == ("NAM", "Namibia")  # empty ISO2 does not matter
    assert new[344][1] == "China, Hong Kong SAR"


def test_baci_zip_and_single_file_read_like_the_folder(tmp_path):
    archive = tmp_path / "BACI_HS17_V202401b.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in NEW.iterdir():
            zf.write(f, f.name)
    folder = read_trade(NEW, 2022).flows
    pd.testing.assert_frame_equal(read_trade(archive, 2022).flows, folder)
    single = read_trade(NEW / "BACI_HS17_Y2022_V202401b.csv", 2022).flows
    pd.testing.assert_frame_equal(single, folder)


def test_map_override_off_sends_myanmar_to_separation(tmp_path):
    text = DEFAULT_MAP.read_text("utf-8")
    no_override = "\n".join(line for line in text.splitlines() if ",MMR," not in line)
    path = tmp_path / "map.csv"
    path.write_text(no_override + "\n", encoding="utf-8")
    flows = read_trade(NEW, 2022, hs_map=path).flows
    mmr = flows[flows["exporter"] == "MMR"]
    assert mmr["stage"].tolist() == ["separation"]


def test_broad_basket_only_when_enabled(tmp_path):
    text = DEFAULT_MAP.read_text("utf-8")
    text = text.replace("253090,mining,,t REO,false", "253090,mining,0.05,t REO,true")
    path = tmp_path / "map.csv"
    path.write_text(text, encoding="utf-8")
    flows = read_trade(NEW, 2022, hs_map=path).flows
    basket = flows[flows["hs6"] == "253090"]
    assert _rows(basket) == [("CHN", "JPN", "mining", "253090", 800.0, 3000.0)]
    assert basket["quantity_basis"].tolist() == [pytest.approx(150.0)]  # 3000 t x 0.05


def test_map_matching_rule_exporter_then_longest_code():
    m = default_hs_map()
    assert m.match("CHN", "28469015")["hs"] == "28469015"  # national Dy-oxide line
    assert m.match("MMR", "28469015")["stage"] == "mining"  # exporter rows win
    assert m.match("CHN", "25309020")["enabled"] is True  # national RE-ore line is on
    assert m.match("CHN", "253090")["enabled"] is False  # the HS6 basket is off
    assert m.match("CHN", "850519")["enabled"] is False
    assert m.match("USA", "8505110070")["stage"] == "magnets"
    assert m.codes6() == ["280530", "284610", "284690", "850511"]
    assert m.stage_units()["magnets"] == "t magnet"


def test_factor_converts_to_the_stage_basis(tmp_path):
    text = DEFAULT_MAP.read_text("utf-8")
    text = text.replace("850511,magnets,1,t magnet,true", "850511,magnets,0.36,t REO,true")
    text = "\n".join(
        line.replace(",t magnet,", ",t REO,") if line.split(",")[1:2] == ["magnets"] else line
        for line in text.splitlines()
    )
    path = tmp_path / "map.csv"
    path.write_text(text + "\n", encoding="utf-8")
    flows = read_trade(NEW, 2022, hs_map=read_hs_map(path)).flows
    hk = flows[(flows["exporter"] == "HKG") & (flows["importer"] == "USA")]
    assert hk["quantity_basis"].tolist() == [pytest.approx(300 * 0.36)]
    assert hk["basis_unit"].tolist() == ["t REO"]


def test_comtrade_export_canonical_slice_mirror_world_and_units():
    data = read_trade(COMTRADE, 2022)
    # HK's M from China: 498,000 kg -> 498 t, USD 30.8 m -> 30,800 kUSD.
    # HK->USA: the USA's import (290 t, CIF 21.9 m) beats HK's export (310 t) by default;
    # the motCode 2100 (sea) copy of HK's export, the RX row, the World row and the 2021 row
    # make no edges.
    assert _rows(data.flows) == [
        ("CHN", "HKG", "magnets", "850511", 30800.0, 498.0),
        ("HKG", "USA", "magnets", "850511", 21900.0, 290.0),
    ]
    exporter_side = read_trade(COMTRADE, 2022, prefer="exporter").flows
    assert _rows(exporter_side)[1] == ("HKG", "USA", "magnets", "850511", 21500.0, 310.0)
    totals = data.totals.set_index(["country", "flow"])
    assert totals.loc[("HKG", "X"), "quantity_t"] == 575.0
    # unallocated HK exports: World 575 t - partners 310 t (HK's own X to the USA)
    un = data.unallocated.set_index(["country", "flow"])
    assert un.loc[("HKG", "X"), "quantity_t"] == pytest.approx(265.0)
    assert un.loc[("HKG", "X"), "value_kusd"] == pytest.approx(40300.0 - 21500.0)
    rx = data.reexports.set_index("country")
    assert rx.loc["HKG", "rx_share"] == pytest.approx(305 / 310)
    assert data.complete_importers == {"HKG", "USA"}
    assert any("sub-slices" in n for n in data.notes)
    assert any("other years (2021)" in n for n in data.notes)


def test_comtrade_bulk_tab_file_plain_and_gzip(tmp_path):
    # bulk files have no *ISO/*Desc columns: codes come from the BACI code file
    flows = read_trade(BULK, 2022, codes=CODES).flows
    assert _rows(flows) == [
        ("CHN", "HKG", "magnets", "850511", 30800.0, 498.0),
        ("HKG", "USA", "magnets", "850511", 21500.0, 310.0),  # HK's own X: no mirror here
    ]
    gz = tmp_path / "COMTRADE-FINAL-CA3442022H6[2024-03-01].gz"
    with gzip.open(gz, "wb") as fh:
        fh.write(BULK.read_bytes())
    pd.testing.assert_frame_equal(read_trade(gz, 2022, codes=CODES).flows, flows)
    folder = tmp_path / "bulk"
    folder.mkdir()
    shutil.copy(gz, folder / gz.name)
    pd.testing.assert_frame_equal(trade_flows(folder, 2022, codes=CODES), flows)


def _production(tmp_path: Path, rows: str) -> pd.DataFrame | object:
    path = tmp_path / "production.csv"
    path.write_text("country,stage,value,unit\n" + rows, encoding="utf-8")
    return read_production(path)


def test_hub_flags_baci_hand_computed(tmp_path):
    data = read_trade(NEW, 2022)
    prod = _production(tmp_path, "China,magnets,1000,t magnet/yr\nJapan,magnets,50,t magnet/yr\n")
    table = hub_table(data, prod, tolerance=0.05).set_index(["country", "stage"])
    hk = table.loc[("HKG", "magnets")]
    # HK: P = 0, M = 500 (from CHN), X = 300 + 260 = 560 -> 560 / 500 = 1.12
    assert (hk["production"], hk["imports"], hk["exports"]) == (0.0, 500.0, 560.0)
    assert hk["ratio"] == pytest.approx(1.12)
    assert hk["hub"] is True
    loose = hub_table(data, prod, tolerance=0.15).set_index(["country", "stage"])
    assert loose.loc[("HKG", "magnets"), "hub"] is False
    # Japan: P 50, M 0, X 400 -> 8.0: a hub by the numbers (its real output is missing here)
    assert table.loc[("JPN", "magnets"), "ratio"] == pytest.approx(8.0)
    # S19 exports 12 t with neither production nor imports: cannot say
    assert table.loc[("S19", "magnets"), "hub"] is None
    assert math.isnan(table.loc[("S19", "magnets"), "ratio"])
    # CHN metal: 4,500 of 9,000 kUSD has no tonnes -> coverage 0.5
    assert table.loc[("CHN", "metal"), "coverage"] == pytest.approx(0.5)
    thin = hub_table(data, prod, min_coverage=0.6).set_index(["country", "stage"])
    assert thin.loc[("CHN", "metal"), "hub"] is None


def test_hub_flags_comtrade_use_reporter_totals_and_rx(tmp_path):
    data = read_trade(COMTRADE, 2022)
    table = hub_table(data, _production(tmp_path, "CHN,magnets,1000,t magnet\n"))
    hk = table.set_index("country").loc["HKG"]
    # P = 0, M = 498, X = HK's World total 575 -> 1.1546; RX/X = 305/310
    assert hk["ratio"] == pytest.approx(575 / 498)
    assert hk["hub"] is True
    assert hk["rx_share"] == pytest.approx(305 / 310)


def test_hub_production_unit_must_match_the_map(tmp_path):
    from supplygraph.errors import InputError

    prod = _production(tmp_path, "CHN,magnets,1000,t REO/yr\n")
    with pytest.raises(InputError, match="production of stage 'magnets' is in 't REO/yr'"):
        hub_table(read_trade(NEW, 2022), prod, units=default_hs_map().stage_units())


def test_hubs_from_a_graph_group_eu_members():
    from supplygraph.loading import load

    table = hub_table(read_trade(NEW, 2022), load("rare-earths"))
    countries = set(table["country"])
    assert "EU" in countries and "DEU" not in countries and "FRA" not in countries
    eu = table.set_index(["country", "stage"]).loc[("EU", "magnets")]
    # DEU's 260 t from HK count as EU imports; DEU->FRA (80 t) is inside the bloc
    assert eu["imports"] == pytest.approx(260.0)
    assert eu["exports"] == 0.0


ROW = st.tuples(
    st.sampled_from([104, 156, 344, 392, 458, 842]),
    st.sampled_from([156, 276, 392, 842]),
    st.sampled_from(["284690", "280530", "850511", "253090", "010121"]),
    st.integers(1, 10**7),
    st.one_of(st.none(), st.integers(0, 10**6)),
)


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(ROW, min_size=1, max_size=25, unique_by=lambda r: r[:3]))
def test_flows_sum_like_an_independent_pandas_reading(tmp_path_factory, rows):
    folder = tmp_path_factory.mktemp("rel")
    shutil.copy(CODES, folder / CODES.name)
    lines = ["t,i,j,k,v,q"]
    for i, j, k, v, q in rows:
        qtext = "NA" if q is None else f"{q / 1000:.3f}"
        lines.append(f"2022,{i},{j},{k},{v / 1000:.3f},{qtext:>15}")
    (folder / "BACI_HS17_Y2022_V202401b.csv").write_text("\n".join(lines) + "\n", "utf-8")
    flows = read_trade(folder, 2022).flows
    raw = pd.read_csv(
        folder / "BACI_HS17_Y2022_V202401b.csv", dtype={"k": str, "q": str}, keep_default_na=False
    )
    raw = raw[(raw["i"] != raw["j"]) & raw["k"].isin(["284690", "280530", "850511"])]
    assert len(flows) == len(raw)
    assert flows["value_kusd"].sum() == pytest.approx(raw["v"].sum())
    known = raw["q"].str.strip() != "NA"
    assert int(flows["quantity_t"].isna().sum()) == int((~known).sum())
    assert flows["quantity_t"].sum() == pytest.approx(raw.loc[known, "q"].astype(float).sum())
