"""Spreadsheet import/export: template round trip, other writers, codes as text, bombs, CLI."""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import shutil
import subprocess
import time
import tracemalloc
import zipfile
from pathlib import Path

import networkx as nx
import openpyxl
import pytest
from typer.testing import CliRunner

from supplygraph.cli import app
from supplygraph.errors import InputError, ValidationError
from supplygraph.io.archive import ENTITY_MESSAGE, ArchiveLimits, check_archive
from supplygraph.io.countries import to_iso3
from supplygraph.io.tables import parse_number, read_tables
from supplygraph.io.template import write_template, write_workbook
from supplygraph.loading import load

runner = CliRunner()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def graph_signature(G: nx.DiGraph) -> tuple[dict, dict, list]:
    nodes = {n: dict(d) for n, d in G.nodes(data=True)}
    edges = {(u, v): dict(d) for u, v, d in G.edges(data=True)}
    return nodes, edges, list(G.graph["stages"])


# ------------------------------------------------------------------------------ round trip


def fill_template(path: Path) -> None:
    """Fill the template like an analyst would: new rows, extra columns, tricky text."""
    wb = openpyxl.load_workbook(path)
    el, cn = wb["Elements"], wb["Connections"]
    headers = [c.value for c in el[1]]
    extra_col = len(headers) + 1
    el.cell(row=1, column=extra_col, value="HS Code")
    el.cell(row=1, column=extra_col + 1, value="Notes")
    rows = [
        ["NAM:mining", "Namibia (Lofdal)", "mining", "NA", 100, "t REO/yr"],
        ["CIV:separation", "Côte d’Ivoire test", "separation", "Côte d’Ivoire", 5, "t REO/yr"],
        ["CHN:magnets", '=HYPERLINK("http://evil","x")', "magnets", "PRC", 300000, "t/yr"],
        ["USA:end_use", "-US defense", "end_use", "United States", 1.5, "t/yr"],
    ]
    start = el.max_row + 1
    for i, rec in enumerate(rows):
        for j, v in enumerate(rec, start=1):
            cell = el.cell(row=start + i, column=j, value=v)
            if isinstance(v, str):
                cell.data_type = "s"  # typed text, never a formula
    el.cell(row=start, column=extra_col, value="0805").data_type = "s"
    el.cell(row=start + 1, column=extra_col + 1, value="@mention").data_type = "s"
    el.cell(row=2, column=extra_col + 1, value=42)
    inv = headers.index("Inventory days") + 1
    el.cell(row=start + 2, column=inv, value=60)
    cn.cell(row=1, column=len([c.value for c in cn[1]]) + 1, value="HS Code")
    hs_col = cn.max_column
    links = [
        ["NAM:mining", "CIV:separation", "concentrate", 80],
        ["CHN:separation", "CHN:magnets", "NdPr oxide", 60000.25],
        ["CHN:magnets", "USA:end_use", "NdFeB magnets", 1.5],
    ]
    start = cn.max_row + 1
    for i, rec in enumerate(links):
        for j, v in enumerate(rec):
            col = [1, 2, 3, 4][j]
            cn.cell(row=start + i, column=col, value=v)
    cn.cell(row=start, column=hs_col, value="253090").data_type = "s"
    cn.cell(row=start + 1, column=hs_col, value="284690").data_type = "s"
    wb.save(path)


def test_template_fill_import_export_import_round_trip(tmp_path: Path) -> None:
    path = write_template(tmp_path / "chain.xlsx")
    fill_template(path)
    before = sha256(path)
    G1 = load(path)
    assert sha256(path) == before  # the input is never modified

    # the hand-filled values arrive as typed (independent expectations, not the code's output)
    assert G1.nodes["NAM:mining"]["country"] == "NAM"
    assert G1.nodes["NAM:mining"]["HS Code"] == "0805"
    assert G1.nodes["CIV:separation"]["country"] == "CIV"
    assert G1.nodes["CIV:separation"]["Notes"] == "@mention"
    assert G1.nodes["CHN:magnets"]["label"] == '=HYPERLINK("http://evil","x")'
    assert G1.nodes["CHN:magnets"]["country"] == "CHN"
    assert G1.nodes["CHN:magnets"]["inventory_days"] == 60.0
    assert G1.nodes["USA:end_use"]["label"] == "-US defense"
    assert G1.nodes["CHN:mining"]["Notes"] == 42
    assert G1.edges["CHN:separation", "CHN:magnets"]["flow"] == 60000.25
    assert G1.edges["NAM:mining", "CIV:separation"]["HS Code"] == "253090"
    assert G1.edges["USA:mining", "CHN:separation"]["source_ref"] == "example"
    assert G1.graph["stages"] == ["mining", "separation", "metal", "magnets", "end_use"]

    out = write_workbook(G1, tmp_path / "export.xlsx")
    G2 = load(out)
    assert graph_signature(G2) == graph_signature(G1)

    # the export is safe: no formula cells, text typed as strings
    with zipfile.ZipFile(out) as z:
        xml = "".join(
            z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/sheet")
        )
    assert "<f>" not in xml and 't="e"' not in xml
    wb = openpyxl.load_workbook(out)
    labels = [c.value for c in wb["Elements"]["B"]]
    assert '\'=HYPERLINK("http://evil","x")' in labels
    assert "'-US defense" in labels
    assert wb["Elements"].freeze_panes == "A2"


def test_template_itself_is_valid_and_has_the_promised_sheets(tmp_path: Path) -> None:
    path = write_template(tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [
        "Elements",
        "Connections",
        "StageShares",
        "README (ignore)",
        "Stages (ignore)",
        "Lists (ignore)",
    ]
    el = wb["Elements"]
    assert [c.value for c in el[1]][:4] == ["ID", "Label", "Stage", "Country"]
    formulas = {dv.formula1 for dv in el.data_validations.dataValidation}
    assert any("Stages (ignore)" in f for f in formulas)
    assert any("Lists (ignore)" in f for f in formulas)
    G = load(path)
    assert G.number_of_nodes() == 5 and G.number_of_edges() == 3
    assert G.nodes["CHN:mining"]["value"] == 270000.0


def test_write_workbook_keeps_extra_attributes_and_types(tmp_path: Path) -> None:
    G = nx.DiGraph(stages=["a", "b"], name="toy")
    G.add_node("x", stage="a", value=1.25, tags=["p", "q"], flag=True, code="007")
    G.add_node("y", stage="b", label="#N/A", country="NAM")
    G.add_edge("x", "y", flow=2.0, lead_days=30.0, note="+1", basis="pooled")
    t = read_tables(write_workbook(G, tmp_path / "g.xlsx"))
    row = t.nodes.set_index("id")
    assert row.loc["x", "tags"] == "p|q"
    assert row.loc["x", "flag"] is True or row.loc["x", "flag"] == True  # noqa: E712
    assert row.loc["x", "code"] == "007"
    assert row.loc["y", "label"] == "#N/A"  # a string, not an error cell
    assert row.loc["y", "country"] == "NAM"
    e = t.edges.iloc[0]
    assert (e["note"], e["basis"], e["lead_days"]) == ("+1", "pooled", 30.0)
    assert t.stages == ["a", "b"]


def test_write_is_atomic_and_refuses_control_characters(tmp_path: Path) -> None:
    G = nx.DiGraph(stages=["a"])
    G.add_node("x", stage="a", label="bad\x01label")
    target = tmp_path / "out.xlsx"
    target.write_bytes(b"previous")
    with pytest.raises(InputError, match="control character"):
        write_workbook(G, target)
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["out.xlsx"]


# ----------------------------------------------------------------------- other writers


def test_workbook_written_by_xlsxwriter_imports(tmp_path: Path) -> None:
    import xlsxwriter

    path = tmp_path / "xw.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    el = wb.add_worksheet("Elements")
    for r, row in enumerate(
        [
            ["ID", "Stage", "Country", "Value", "HS"],
            ["NAM:mining", "mining", "NA", 100, "0805"],
            ["CHN:separation", "separation", "China", 2000.5, "284690"],
        ]
    ):
        el.write_row(r, 0, row)
    cn = wb.add_worksheet("Connections")
    cn.write_row(0, 0, ["From", "To", "Flow"])
    cn.write_row(1, 0, ["NAM:mining", "CHN:separation"])
    cn.write_formula(1, 2, "=40*2", None, 80)  # a formula WITH a cached value
    wb.close()
    G = load(path)
    assert G.nodes["NAM:mining"]["country"] == "NAM"
    assert G.nodes["NAM:mining"]["HS"] == "0805"
    assert G.nodes["CHN:separation"]["value"] == 2000.5
    assert G.edges["NAM:mining", "CHN:separation"]["flow"] == 80.0


def _soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(
    _soffice() is None and os.environ.get("CI") != "true", reason="LibreOffice not installed"
)
def test_workbook_converted_by_libreoffice_imports(tmp_path: Path) -> None:
    soffice = _soffice()
    assert soffice is not None, "CI=true: LibreOffice must be installed for this test"
    csv_path = tmp_path / "Elements.csv"
    csv_path.write_text(
        "ID,Stage,Country,Value\nCHN:mining,mining,China,270000\nNAM:mining,mining,NA,5\n"
    )
    profile = tmp_path / "lo-profile"
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(tmp_path),
            str(csv_path),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    t = read_tables(tmp_path / "Elements.xlsx")
    nodes = t.nodes.set_index("id")
    assert nodes.loc["CHN:mining", "value"] == 270000.0
    assert nodes.loc["NAM:mining", "country"] == "NAM"
    assert list(t.nodes["_sheet"].unique()) == ["Elements"]


# ------------------------------------------------------------------------ codes as text


def test_na_is_namibia_and_hs_codes_keep_zeros_in_csv(tmp_path: Path) -> None:
    (tmp_path / "nodes.csv").write_text(
        "ID,Stage,Country,HS Code\nNAM:mining,mining,NA,0805\nX:mining,mining,CHN,2805.30\n"
    )
    (tmp_path / "edges.csv").write_text("From,To,Flow\nNAM:mining,X:mining,1\n")
    t = read_tables(tmp_path)
    nodes = t.nodes.set_index("id")
    assert nodes.loc["NAM:mining", "country"] == "NAM"
    assert nodes.loc["NAM:mining", "HS Code"] == "0805"
    assert nodes.loc["X:mining", "HS Code"] == "2805.30"
    assert to_iso3("NA") == "NAM"


def test_na_is_namibia_and_hs_codes_keep_zeros_in_xlsx(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Elements"
    ws.append(["ID", "Stage", "Country", "HS Code"])
    ws.append(["NAM:mining", "mining", "NA", "0805"])
    wb.save(tmp_path / "w.xlsx")
    t = read_tables(tmp_path / "w.xlsx")
    assert t.nodes.loc[0, "country"] == "NAM"
    assert t.nodes.loc[0, "HS Code"] == "0805"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,234.5", 1234.5),
        (" 12 ", 12.0),
        ("1 234", 1234.0),
        ("９０", 90.0),
        ("1e3", 1000.0),
        (".5", 0.5),
        ("-3", -3.0),
    ],
)
def test_parse_number_accepts(text: str, expected: float) -> None:
    number, percent, error = parse_number(text)
    assert error is None and not percent and number == expected


@pytest.mark.parametrize("text", ["0,5", "1.234,5", "abc", "1,23", "TRUE", "inf", "nan"])
def test_parse_number_rejects(text: str) -> None:
    value = True if text == "TRUE" else text
    assert parse_number(value)[2] is not None


def test_country_aliases_and_ambiguity() -> None:
    expected = {
        "PRC": "CHN",
        "Burma": "MMR",
        "UK": "GBR",
        "Turkey": "TUR",
        "Türkiye": "TUR",
        "DRC": "COD",
        "Congo (Kinshasa)": "COD",
        "Congo (Brazzaville)": "COG",
        "South Korea": "KOR",
        "Hong Kong": "HKG",
        "Taiwan": "TWN",
        "EU": "EU",
        "Rest of World": "ROW",
        "Swaziland": "SWZ",
        "Ivory Coast": "CIV",
        "  china ": "CHN",
    }
    assert {k: to_iso3(k) for k in expected} == expected
    for ambiguous in ("Korea", "Congo"):
        with pytest.raises(InputError, match="ambiguous"):
            to_iso3(ambiguous)


def test_share_scale_is_detected_and_stated(tmp_path: Path) -> None:
    frac = tmp_path / "stage_shares.csv"
    frac.write_text("Stage,Country,Share\nmining,CHN,0.7\nmining,USA,0.3\n")
    pct = tmp_path / "pct" / "stage_shares.csv"
    pct.parent.mkdir()
    pct.write_text("Stage,Country,Share\nmining,CHN,70\nmining,USA,30 %\n")
    a, b = read_tables(frac), read_tables(pct)
    assert list(a.shares["share"]) == pytest.approx([0.7, 0.3])
    assert list(b.shares["share"]) == pytest.approx([0.7, 0.3])
    assert any("fractions" in n for n in a.notes)
    assert any("percentages" in n for n in b.notes)


# ---------------------------------------------------------------------------- safety


def _measure(func):
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        func()
    finally:
        elapsed = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return elapsed, peak


def test_billion_laughs_workbook_rejected_fast(tmp_path: Path) -> None:
    path = Path(__file__).parent / "data" / "bad" / "b01_billion_laughs.xlsx"

    def go():
        with pytest.raises(InputError, match=ENTITY_MESSAGE):
            read_tables(path)

    elapsed, peak = _measure(go)
    assert elapsed < 2.0
    assert peak < 200 * 1024 * 1024


def test_entity_after_long_prolog_still_rejected(tmp_path: Path) -> None:
    """A DOCTYPE hidden behind 100 KB of comments: the pre-scan refuses to guess."""
    src = tmp_path / "base.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Elements"
    wb.active.append(["ID", "Stage"])
    wb.save(src)
    out = tmp_path / "hidden.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = data.split(b"?>", 1)[1] if data.startswith(b"<?xml") else data
                data = (
                    b'<?xml version="1.0"?>\n'
                    + b"<!--"
                    + b" " * 100_000
                    + b"-->"
                    + b'<!DOCTYPE x [<!ENTITY e "x">]>'
                    + body
                )
            zout.writestr(info, data)
    with pytest.raises(InputError) as info:
        read_tables(out)
    assert "root element" in str(info.value) or ENTITY_MESSAGE in str(info.value)


@pytest.fixture(scope="module")
def zip_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ~1 MB workbook whose sheet XML inflates to 210 MB (ratio ~200:1)."""
    folder = tmp_path_factory.mktemp("bomb")
    base = folder / "base.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Connections"
    wb.active.append(["From", "To", "Flow"])
    wb.save(base)
    row = (
        b'<row><c t="inlineStr"><is><t>CHN:mining</t></is></c>'
        b'<c t="inlineStr"><is><t>USA:magnets</t></is></c><c><v>1</v></c></row>'
    )
    block = row * (1024 * 1024 // len(row))
    bomb = folder / "bomb.xlsx"
    with zipfile.ZipFile(base) as zin, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                zout.writestr(info, zin.read(info.filename))
                continue
            with zout.open(info.filename, "w", force_zip64=True) as fh:
                fh.write(
                    b'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns='
                    b'"http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
                )
                for _ in range(210):
                    fh.write(block)
                fh.write(b"</sheetData></worksheet>")
        zout.writestr(
            "xl/media/image1.png",
            random.Random(0).randbytes(300_000),
            compress_type=zipfile.ZIP_STORED,
        )
    return bomb


def test_zip_bomb_rejected_fast(zip_bomb: Path) -> None:
    size = zip_bomb.stat().st_size
    with zipfile.ZipFile(zip_bomb) as z:
        inflated = sum(i.file_size for i in z.infolist())
    assert 0.5e6 < size < 2e6
    assert inflated >= 200 * 1024 * 1024
    assert inflated / size > 100
    before = sha256(zip_bomb)

    def go():
        with pytest.raises(InputError, match="zip bomb"):
            read_tables(zip_bomb)

    elapsed, peak = _measure(go)
    assert elapsed < 2.0
    assert peak < 200 * 1024 * 1024
    assert sha256(zip_bomb) == before


def test_archive_limits_are_configurable(tmp_path: Path) -> None:
    path = write_template(tmp_path / "t.xlsx")
    check_archive(path)  # the defaults accept a real workbook
    with pytest.raises(InputError, match="members"):
        check_archive(path, ArchiveLimits(max_members=3))
    with pytest.raises(InputError, match="inflates"):
        read_tables(path, limits=ArchiveLimits(max_total_bytes=10_000))


def test_forged_dimension_does_not_pad_rows() -> None:
    path = Path(__file__).parent / "data" / "bad" / "b07_forged_dimension.xlsx"
    from supplygraph.io.xlsx import XlsxReader

    with XlsxReader(path) as reader:
        widths = [max(c for c, _ in cells) for _, cells in reader.iter_rows("Elements") if cells]
    assert max(widths) == 6


# ------------------------------------------------------------------------------- CLI


def test_cli_template_and_validate(tmp_path: Path) -> None:
    out = tmp_path / "chain.xlsx"
    result = runner.invoke(app, ["template", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.exists()
    again = runner.invoke(app, ["template", "-o", str(out)])
    assert again.exit_code == 1 and "--force" in again.output
    ok = runner.invoke(app, ["validate", str(out), "--format", "json"])
    assert ok.exit_code == 0, ok.output
    assert "0 errors" in ok.output


def test_cli_validate_lists_every_problem_and_exits_1() -> None:
    path = Path(__file__).parent / "data" / "bad" / "z01_many_problems.xlsx"
    result = runner.invoke(app, ["validate", str(path), "--format", "csv"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = [ln for ln in result.output.splitlines() if ln.startswith("z01_many_problems.xlsx,")]
    assert len(lines) == 5
    assert "5 errors" in result.output


def test_cli_validate_strict_turns_warnings_into_errors() -> None:
    path = Path(__file__).parent / "data" / "bad" / "g01_self_loop.xlsx"
    assert runner.invoke(app, ["validate", str(path)]).exit_code == 0
    strict = runner.invoke(app, ["validate", str(path), "--strict", "-f", "json"])
    assert strict.exit_code == 1
    start = strict.output.index("[")
    records = json.loads(strict.output[start : strict.output.rindex("]") + 1])
    assert [r["severity"] for r in records] == ["error"]


def test_cli_validate_bad_file_is_one_clean_line() -> None:
    path = Path(__file__).parent / "data" / "bad" / "a04_csv_renamed.xlsx"
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "no ZIP signature" in result.output
    missing = runner.invoke(app, ["validate", "/nonexistent/file.xlsx"])
    assert missing.exit_code == 2


# ------------------------------------------------------------------------------ scale


def _big_connections(path: Path, n: int) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    el = wb.add_worksheet("Elements")
    el.write_row(0, 0, ["ID", "Stage", "Country", "Value"])
    for i in range(1000):
        el.write_row(i + 1, 0, [f"S{i}", "mining", "CHN", 100.0 + i])
        el.write_row(i + 1001, 0, [f"C{i}", "separation", "MYS", 50.0])
    cn = wb.add_worksheet("Connections")
    cn.write_row(0, 0, ["From", "To", "Material", "Flow", "Unit", "Year", "Source"])
    for k in range(n):
        cn.write_row(
            k + 1,
            0,
            [f"S{k % 1000}", f"C{(k // 1000 + k) % 1000}", "REO", 1.5 + k % 10, "t", 2024, "syn"],
        )
    wb.close()


@pytest.mark.slow
def test_100k_row_connections_sheet_imports(tmp_path: Path) -> None:
    path = tmp_path / "big.xlsx"
    _big_connections(path, 100_000)
    t0 = time.perf_counter()
    t = read_tables(path)
    elapsed = time.perf_counter() - t0  # tracemalloc slows Python down; time without it
    _, peak = _measure(lambda: read_tables(path))
    assert len(t.edges) == 100_000 and len(t.nodes) == 2000
    assert t.edges["_row"].iloc[-1] == 100_001
    assert math.isclose(t.edges["flow"].sum(), sum(1.5 + k % 10 for k in range(100_000)))
    print(f"100k-row import: {elapsed:.1f} s, tracemalloc peak {peak / 1e6:.0f} MB")
    assert peak < 1024 * 1024 * 1024


def test_nothing_lost_accounting(tmp_path: Path) -> None:
    """Rows read = rows in the tables + blank rows counted, for every sheet."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Connections"
    ws.append(["From", "To", "Flow"])
    rows = [["a", "b", 1], [], ["a", "c", "x"], [None, None, None], ["", "b", 2], ["c", "a", -1]]
    for r in rows:
        ws.append(r)
    el = wb.create_sheet("Elements")
    el.append(["ID", "Stage"])
    for n in "abc":
        el.append([n, "s"])
    wb.save(tmp_path / "acc.xlsx")
    t = read_tables(tmp_path / "acc.xlsx", validate=False)
    counts = t.counts["acc.xlsx/Connections"]
    assert counts["rows"] + counts["blank"] == 6
    assert counts["rows"] == len(t.edges) == 4
    assert list(t.edges["_row"]) == [2, 4, 6, 7]
    with pytest.raises(ValidationError) as info:
        read_tables(tmp_path / "acc.xlsx")
    places = sorted((p.row, p.column) for p in info.value.problems)
    assert places == [(4, "Flow"), (6, "From"), (7, "Flow")]


def test_flourish_csv_pair(tmp_path: Path) -> None:
    nodes = tmp_path / "points.csv"
    edges = tmp_path / "links.csv"
    nodes.write_text("id,stage\nm,mining\ns,separation\n")
    edges.write_text("source,target,value\nm,s,3\n")
    t = read_tables([nodes, edges])
    assert len(t.nodes) == 2 and t.edges.loc[0, "flow"] == 3.0


# ------------------------------------------------------------- column-wise reading = cell by cell

_CLEAN_IDS = [f"n{i}" for i in range(60)]
_BAD_TEXT = ["", " ", "'=x", "'+1", "=SUM(A1)", " =x", "x\x01y", "'abc", "x" * 33_000, "\u00a0"]
_BAD_NUMBER = ["1,234.5", "1 234.5", "0,5", "1.234,5", "90 %", "abc", "1e400", "nan", "inf", "TRUE"]
_BAD_NUMBER += ["", " ", "１２", "\u200b5", "+.5", "5.", "-3", "0x10", "1_000", "'=1", " 2.5 "]
_BAD_COUNTRY = ["China", "cn", "NA", "XX", "Congo", "123", "", "usa "]


def _mixed_rows(rng: random.Random, bad: float) -> tuple[list[list[str]], list[list[str]]]:
    """Node and edge rows (header first): mostly clean cells, a share ``bad`` of bad ones."""

    def pick(clean: str, pool: list[str]) -> str:
        return rng.choice(pool) if rng.random() < bad else clean

    nodes = [["ID", "Label", "Stage", "Country", "Value", "Unit", "Year", "Notes"]]
    for i, nid in enumerate(_CLEAN_IDS):
        nodes.append(
            [
                pick(nid if rng.random() > bad / 2 else nid.upper(), _BAD_TEXT),
                pick(f"Node {i}", _BAD_TEXT),
                pick(rng.choice(["mining", "separation", "metal"]), [*_BAD_TEXT, "Mining"]),
                pick(rng.choice(["CHN", "USA", "NAM", "AUS"]), _BAD_COUNTRY),
                pick(f"{rng.uniform(0, 100):.6g}", _BAD_NUMBER),
                pick("t", _BAD_TEXT),
                pick("2020", ["2020-23", " 2021 ", "2020.0", "abc", "٢٠٢٠", ""]),
                pick("", _BAD_TEXT),
            ]
        )
        if rng.random() < bad / 2:
            nodes[-1].append("stray")  # a value right of the header
        if rng.random() < bad / 3:
            nodes.append([" ", ""])  # a blank row
    edges = [["From", "To", "Flow", "Lead days", "Source"]]
    for _ in range(200):
        u = rng.choice(_CLEAN_IDS) if rng.random() > bad / 2 else rng.choice(["zz", "N1", "Node 1"])
        v = rng.choice(_CLEAN_IDS) if rng.random() > bad / 2 else rng.choice(["", "n2 ", "x"])
        edges.append([u, v, pick(f"{rng.uniform(0, 50):.4f}", _BAD_NUMBER), pick("", _BAD_NUMBER)])
        edges[-1].append(pick(rng.choice(["", "USGS"]), _BAD_TEXT))
        if rng.random() < bad / 3:
            edges.append(list(edges[-1]))  # a duplicate connection
    return nodes, edges


def _write_mixed(folder: Path, nodes: list[list[str]], edges: list[list[str]], how: str) -> Path:
    import csv

    folder.mkdir()
    if how == "xlsx":  # typed cells too: numbers, booleans, formulas without a value
        wb = openpyxl.Workbook()
        for name, rows in (("Elements", nodes), ("Connections", edges)):
            ws = wb.create_sheet(name)
            for r, row in enumerate(rows, start=1):
                for c, value in enumerate(row, start=1):
                    typed: object = value
                    if r > 1 and value.strip() and not value.strip().isalpha():
                        try:
                            typed = float(value)
                            typed = int(typed) if typed.is_integer() and r % 2 else typed
                        except (ValueError, OverflowError):
                            pass
                    if typed == "TRUE":
                        typed = True
                    elif isinstance(typed, str) and "\x01" in typed:
                        typed = "=1+1"  # control characters cannot be stored in xlsx
                    elif isinstance(typed, float) and not math.isfinite(typed):
                        typed = value
                    if value != "":
                        ws.cell(row=r, column=c, value=typed)
        del wb["Sheet"]
        wb.save(folder / "mixed.xlsx")
        return folder / "mixed.xlsx"
    for name, rows in (("nodes.csv", nodes), ("edges.csv", edges)):
        with open(folder / name, "w", newline="", encoding="utf-8") as fh:
            if how == "quoted":  # csv.writer quotes some cells: the csv-module path
                csv.writer(fh, quoting=csv.QUOTE_MINIMAL).writerows(rows)
            else:  # no quotes, ";" separated: the line-splitting path
                fh.write("\n".join(";".join(r) for r in rows) + "\n")
    return folder


def _read_and_validate(path: Path) -> tuple[object, list]:
    from supplygraph.validate_tables import validate_tables

    tables = read_tables(path, validate=False)
    raw_problems = [p.as_dict() for p in tables.problems]
    problems = validate_tables(tables, raise_errors=False)
    return tables, [raw_problems, [p.as_dict() for p in problems], tables.notes, tables.counts]


@pytest.mark.parametrize("how", ["plain", "quoted", "xlsx"])
@pytest.mark.parametrize("bad", [0.0, 0.05, 0.3])
def test_column_wise_reading_equals_cell_by_cell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str, bad: float
) -> None:
    import pandas as pd

    import supplygraph.io.arrow as arrow_module
    import supplygraph.io.frames as frames_module
    import supplygraph.validate_tables as validate_module

    nodes, edges = _mixed_rows(random.Random(f"{how}{bad}"), bad)
    if how == "plain":  # ";" separates the cells, so no cell may hold one
        assert not any(";" in c or "\n" in c for r in nodes + edges for c in r)
    path = _write_mixed(tmp_path / "in", nodes, edges, how)
    fast, fast_out = _read_and_validate(path)
    monkeypatch.setattr(frames_module, "_FAST", False)
    monkeypatch.setattr(arrow_module, "_FAST", False)
    monkeypatch.setattr(arrow_module, "_CSV_FAST", False)
    monkeypatch.setattr(validate_module, "_FAST", False)
    slow, slow_out = _read_and_validate(path)
    assert fast_out == slow_out
    for a, b in ((fast.nodes, slow.nodes), (fast.edges, slow.edges)):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
        assert list(a.dtypes) == list(b.dtypes)
        assert a.attrs == b.attrs
        for col in a.columns:  # same Python types cell by cell (e.g. int years, None)
            assert [type(x) for x in a[col].tolist()] == [type(x) for x in b[col].tolist()]
    if bad >= 0.3:  # the table really mixes problems of many kinds
        assert len({p["message"][:25] for p in fast_out[1]}) >= 12
    if bad == 0.0:
        assert all(p["severity"] == "warning" for p in fast_out[1])


def test_plain_csv_lines_split_as_the_csv_module_reads() -> None:
    import csv
    import io

    from supplygraph.io.csv_text import _plain_csv_lines
    from supplygraph.io.rows import _RawTable

    rng = random.Random(7)
    alphabet = ["a", "b", ",", ";", "\t", "\n", "\r\n", "\r", " ", "\u2028", "\x0b", "é", '"']
    checked = 0
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 25)))
        lines = _plain_csv_lines(text)
        if lines is None:
            assert '"' in text or "\r" in text.replace("\r\n", "")
            continue
        for delim in (",", ";", "\t"):
            expected = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim))
            raw = _RawTable("f.csv", None, None, lines=lines, delim=delim)
            assert list(raw.iter_rows()) == list(
                _RawTable("f.csv", None, None, records=expected).iter_rows()
            )
            checked += 1
    assert checked > 1000
