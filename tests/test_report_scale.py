"""The report at scale: full ranked tables, the column-wise workbook writer, JSON, long tables.

Every expectation is derived from the DataFrame and the documented cell rules (numbers as
numbers with their kind's format, missing as ``n/a`` or blank, text neutralised and cut to
32,767 characters), never from an earlier writer's output. Workbooks are read back with
openpyxl and, where installed, opened by LibreOffice (``soffice --headless --convert-to csv``),
an independent implementation of the format.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supplygraph.report.build import ReportData, Table

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
LIMIT = 32_767
TRICKY_TEXT = [
    "=1+1",
    "+A1",
    "-2",
    "@x",
    "#N/A",
    "#DIV/0!",
    "\tTAB",
    "\rCR",
    "\nLF",
    "line one\nline two",
    "a\r\nb",
    "  padded  ",
    "<b>&amp;</b> \"q\" 'a'",
    "ünïcödé ✓ 中文 😀",
    "x" * 40_000,
    "=" + "y" * 40_000,
    "",
    "n/a",
    "TRUE",
    "1e5",
    "_x0041_",
]


# ------------------------------------------------------------------------------ helpers


def _data(tables: dict[str, Table]) -> ReportData:
    return ReportData(
        title="Scale test",
        dataset="scale",
        date="2025-01-01",
        provenance={"tool": "test"},
        headline=["One sentence."],
        tables=tables,
    )


def _table(frame: pd.DataFrame, formats: dict[str, str], key: str = "chokepoints") -> Table:
    sheet = {"chokepoints": "Chokepoints", "nodes": "Nodes", "edges": "Edges"}[key]
    return Table(key=key, title=sheet, frame=frame, formats=formats, sheet=sheet)


def _write(tmp_path: Path, frame: pd.DataFrame, formats=None, *, key="chokepoints", **kw) -> Path:
    from supplygraph.report.xlsx import write_xlsx

    path = tmp_path / "report.xlsx"
    write_xlsx(_data({key: _table(frame, formats or {}, key)}), path, **kw)
    return path


def _is_missing(v) -> bool:
    if v is None or v is pd.NA:
        return True
    return isinstance(v, float) and math.isnan(v)


def _expected(v, kind: str, *, input_sheet: bool):
    """(value, number format or None) a reader must find for frame value ``v``."""
    if isinstance(v, np.generic):
        v = v.item()
    if _is_missing(v):
        return (None, None) if input_sheet else ("n/a", None)
    if isinstance(v, bool):
        return v, None
    if isinstance(v, (int, float)):
        if not math.isfinite(v):
            return "n/a", None
        fmt = {"pct": "0.0%", "int": "#,##0", "num": "#,##0.###", "bool": "General"}.get(
            kind, "#,##0.###"
        )
        if kind == "num" and abs(v) >= 100:
            fmt = "#,##0"
        return v, fmt
    text = ", ".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v)
    if text.startswith(FORMULA_START):
        text = "'" + text
    if len(text) > LIMIT:
        text = text[: LIMIT - 1] + "…"
    return text, None


def _check_sheet(ws, frame: pd.DataFrame, formats: dict[str, str], *, input_sheet: bool):
    """Every data cell of ``ws`` (from row 2) against the frame, value, type and format."""
    assert ws.max_row == len(frame) + 1 or (len(frame) == 0 and ws.max_row == 1)
    for i, row in enumerate(frame.itertuples(index=False, name=None), start=2):
        for j, (col, v) in enumerate(zip(frame.columns, row, strict=True), start=1):
            cell = ws.cell(row=i, column=j)
            want, fmt = _expected(v, formats.get(col, "text"), input_sheet=input_sheet)
            where = (ws.title, cell.coordinate, v)
            if want is None:
                assert cell.value is None, where
            elif isinstance(want, bool):
                assert cell.value is want, where
                assert cell.data_type == "b", where
            elif isinstance(want, (int, float)):
                assert cell.data_type == "n" and not isinstance(cell.value, bool), where
                assert cell.value == want, where  # exact: shortest round-trip digits
                if isinstance(want, int):
                    assert isinstance(cell.value, int), where  # all digits, even above 2**53
                assert cell.number_format == fmt, where
            else:
                assert cell.data_type == "s", where
                assert cell.value == want, where


def _mixed_frame() -> pd.DataFrame:
    n = len(TRICKY_TEXT)
    rng = np.random.default_rng(3)
    floats = rng.normal(size=n) * 10.0 ** rng.integers(-8, 12, size=n)
    floats[:6] = [np.nan, np.inf, -np.inf, 0.1 + 0.2, 5e-324, -0.0]
    return pd.DataFrame(
        {
            "text": TRICKY_TEXT,
            "share": np.linspace(0, 1, n),
            "count": np.arange(n, dtype=np.int64) * 1_000_003 + 2**53 + 1,
            "quantity": floats,
            "flag": [bool(k % 2) for k in range(n)],
            "year": np.full(n, 2024, dtype=np.int64),
            "maybe": [None if k % 3 == 0 else f"v{k}" for k in range(n)],
            "mixed": [
                [1, "a"] if k == 0 else (k if k % 4 == 1 else (2.5 if k % 4 == 2 else f"={k}"))
                for k in range(n)
            ],
        }
    )


MIXED_FORMATS = {"share": "pct", "count": "int", "quantity": "num", "flag": "bool"}


# ------------------------------------------------------------------------------ the writer


@pytest.mark.parametrize("key", ["chokepoints", "nodes"])
def test_workbook_cells_match_the_frame(tmp_path, key):
    from openpyxl import load_workbook

    frame = _mixed_frame()
    path = _write(tmp_path, frame, MIXED_FORMATS, key=key)
    wb = load_workbook(path)
    ws = wb["Nodes" if key == "nodes" else "Chokepoints"]
    _check_sheet(ws, frame, MIXED_FORMATS, input_sheet=key == "nodes")
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:H{len(frame) + 1}"
    with zipfile.ZipFile(path) as z:
        xml = "".join(z.read(n).decode() for n in z.namelist() if "worksheets/sheet" in n)
    assert "<f>" not in xml and "<f " not in xml and 't="e"' not in xml
    assert f'<dimension ref="A1:H{len(frame) + 1}"/>' in xml


def test_missing_text_and_numbers(tmp_path):
    from openpyxl import load_workbook

    frame = pd.DataFrame(
        {
            "label": pd.Series(["a", None, "c"], dtype="str"),
            "value": [1.5, np.nan, np.inf],
            "obj": pd.Series([pd.NA, None, "x"], dtype=object),
        }
    )
    for key, blank in (("chokepoints", "n/a"), ("nodes", None)):
        path = _write(tmp_path, frame, {"value": "num"}, key=key)
        ws = load_workbook(path)["Nodes" if key == "nodes" else "Chokepoints"]
        assert [c.value for c in ws["A"]][1:] == ["a", blank, "c"]
        assert [c.value for c in ws["B"]][1:] == [1.5, blank, "n/a"]  # infinity: never blank
        assert [c.value for c in ws["C"]][1:] == [blank, blank, "x"]


def test_control_character_is_one_clear_error(tmp_path):
    from supplygraph.errors import SupplyGraphError

    frame = pd.DataFrame({"label": ["fine", "bad\x01cell"]})
    with pytest.raises(SupplyGraphError, match=r"sheet 'Chokepoints', row 3, column 'label'"):
        _write(tmp_path, frame)
    frame = pd.DataFrame({"label": pd.Series([1, "bad\x0bcell"], dtype=object)})
    with pytest.raises(SupplyGraphError, match="control character"):
        _write(tmp_path, frame)
    assert not list(tmp_path.iterdir())  # nothing written, not even a temporary file


def test_empty_and_single_row_tables(tmp_path):
    from openpyxl import load_workbook

    for frame in (pd.DataFrame({"a": pd.Series([], dtype=float)}), pd.DataFrame({"a": [2.0]})):
        ws = load_workbook(_write(tmp_path, frame, {"a": "num"}))["Chokepoints"]
        _check_sheet(ws, frame, {"a": "num"}, input_sheet=False)


_TEXT = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",),  # lone surrogates cannot be written as UTF-8
        blacklist_characters="\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f"
        "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\ufffe\uffff",
    ),
    max_size=12,
)


@st.composite
def _frames(draw):
    n = draw(st.integers(0, 8))
    floats = st.floats(allow_nan=True, allow_infinity=True)
    cols = {
        "f": pd.Series(draw(st.lists(floats, min_size=n, max_size=n)), dtype=float),
        "i": pd.Series(
            draw(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=n, max_size=n)),
            dtype=np.int64,
        ),
        "b": pd.Series(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool),
        "s": pd.Series(draw(st.lists(st.none() | _TEXT, min_size=n, max_size=n)), dtype="str"),
        "o": pd.Series(
            draw(
                st.lists(
                    st.none() | _TEXT | st.integers(-(10**20), 10**20) | floats | st.booleans(),
                    min_size=n,
                    max_size=n,
                )
            ),
            dtype=object,
        ),
    }
    kinds = draw(
        st.fixed_dictionaries(
            {c: st.sampled_from(["pct", "int", "num", "bool", "text"]) for c in cols}
        )
    )
    return pd.DataFrame(cols), kinds


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=_frames(), input_sheet=st.booleans())
def test_random_frames_round_trip(tmp_path, case, input_sheet):
    from openpyxl import load_workbook

    frame, kinds = case
    key = "nodes" if input_sheet else "chokepoints"
    path = _write(tmp_path, frame, kinds, key=key)
    ws = load_workbook(path)["Nodes" if input_sheet else "Chokepoints"]
    _check_sheet(ws, frame, kinds, input_sheet=input_sheet)


# ------------------------------------------------------------------------------ LibreOffice


def _libreoffice_csv(path: Path, out: Path, sheet: str) -> list[list[str]]:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    # all sheets, raw values (not as shown), UTF-8, comma-separated
    fmt = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
    profile = out / "profile"
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            fmt,
            "--outdir",
            str(out),
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    target = out / f"{path.stem}-{sheet}.csv"
    assert target.is_file(), sorted(p.name for p in out.iterdir())
    with target.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def test_libreoffice_opens_the_workbook(tmp_path):
    frame = _mixed_frame()
    frame = frame[~frame["text"].str.contains("\r", regex=False)]  # CSV rewrites line ends
    path = _write(tmp_path, frame, MIXED_FORMATS)
    rows = _libreoffice_csv(path, tmp_path, "Chokepoints")
    assert rows[0] == [_table(frame, {}).header(c) for c in frame.columns]
    assert len(rows) == len(frame) + 1
    for got, row in zip(rows[1:], frame.itertuples(index=False, name=None), strict=True):
        for text, col, v in zip(got, frame.columns, row, strict=True):
            want, _ = _expected(v, MIXED_FORMATS.get(col, "text"), input_sheet=False)
            if isinstance(want, bool):
                assert text == ("TRUE" if want else "FALSE"), (col, text)
            elif isinstance(want, (int, float)):
                pct = text.endswith("%")
                x = float(text[:-1]) / 100 if pct else float(text)
                # LibreOffice writes 15 significant digits, or a fixed number of decimals
                decimals = len(text.rstrip("%").partition(".")[2])
                tol = 10.0 ** -(decimals + (2 if pct else 0)) if decimals else 0.0
                assert math.isclose(x, want, rel_tol=1e-14, abs_tol=tol), (col, text, want)
            else:
                assert text == want, (col, text[:40], want[:40])


# ------------------------------------------------------------------------------ the report


def _graph(n: int):
    """A seeded graph from the benchmark generator (benchmarks/generate.py)."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "generate.py"
    spec = importlib.util.spec_from_file_location("sg_bench_generate_scale", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate_network(n, seed=7)


@pytest.fixture(scope="module")
def generated_report(tmp_path_factory):
    from supplygraph.report import write_report

    G = _graph(400)
    out = tmp_path_factory.mktemp("scale")
    files = write_report(G, out / "full", date="2025-01-01", network=False)
    cut = write_report(G, out / "cut", date="2025-01-01", network=False, max_sheet_rows=60)
    return G, out / "full", files, out / "cut", cut


def test_ranked_tables_hold_every_row_and_text_shows_the_top(generated_report):
    from supplygraph.analysis.chokepoints import chokepoints
    from supplygraph.analysis.disruption import sweep
    from supplygraph.report.build import TOP_N

    G, out, _, _, _ = generated_report
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    ends = {n for n, d in G.nodes(data=True) if d.get("stage") == G.graph["stages"][-1]}
    assert len(data["tables"]["chokepoints"]) == len(chokepoints(G))
    assert len(data["tables"]["sweep"]) == len(G) - len(ends)  # every supplier node
    assert [r["rank"] for r in data["tables"]["sweep"]] == list(range(1, len(G) - len(ends) + 1))
    losses = [r["weighted_loss"] for r in data["tables"]["sweep"]]
    assert losses == sorted(losses, reverse=True)
    assert {r["node"] for r in data["tables"]["sweep"]} == set(sweep(G)["node"]) - ends
    md = (out / "report.md").read_text(encoding="utf-8")
    n_choke = len(data["tables"]["chokepoints"])
    assert f"First {TOP_N} of {n_choke} rows; all rows are in report.xlsx and report.json" in md
    sweep_rows = len(data["tables"]["sweep"])
    assert f"First {TOP_N} of {sweep_rows} rows" in md


def test_workbook_sheets_equal_the_json_tables(generated_report):
    from openpyxl import load_workbook

    _, out, _, _, _ = generated_report
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    wb = load_workbook(out / "report.xlsx", read_only=True)
    for key, sheet in (("chokepoints", "Chokepoints"), ("sweep", "Sweep"), ("edges", "Edges")):
        rows = list(wb[sheet].iter_rows(min_row=2, values_only=True))
        assert len(rows) == len(data["tables"][key]), sheet
        for rec, row in zip(data["tables"][key], rows, strict=True):
            for v, cell in zip(rec.values(), row, strict=True):
                if isinstance(v, str):
                    assert cell == (("'" + v) if v.startswith(FORMULA_START) else v)
                elif v is None:
                    assert cell in (None, "n/a")
                else:
                    assert cell == v


def test_generated_report_reimports_as_the_same_graph(generated_report):
    import supplygraph as sg

    G, out, _, _, _ = generated_report
    H = sg.load(out / "report.xlsx")
    assert set(H.nodes) == set(G.nodes)
    for n, d in G.nodes(data=True):
        for attr in ("label", "stage", "country", "value"):
            assert H.nodes[n].get(attr) == d.get(attr), (n, attr)
    assert {(u, v): d["flow"] for u, v, d in H.edges(data=True)} == {
        (u, v): d["flow"] for u, v, d in G.edges(data=True)
    }


def test_long_tables_spill_to_parquet(generated_report):
    from openpyxl import load_workbook

    from supplygraph.report.build import build_report_data

    G, _, _, out, files = generated_report
    limit = 60
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    fresh = build_report_data(G, date="2025-01-01", charts=False)
    spilled = {k for k, t in fresh.tables.items() if t.sheet and len(t.frame) > limit - 1}
    assert {"nodes", "edges", "sweep", "chokepoints"} <= spilled
    assert set(data["table_files"]) == spilled
    wb = load_workbook(out / "report.xlsx", read_only=True)
    summary = " ".join(str(c) for r in wb["Summary"].iter_rows(values_only=True) for c in r)
    for key in spilled:
        rel = f"tables/{key}.parquet"
        assert rel in files and (out / rel).is_file()
        full = pd.read_parquet(out / rel)
        pd.testing.assert_frame_equal(
            full, fresh.tables[key].frame.reset_index(drop=True), check_dtype=False
        )
        info = data["table_files"][key]
        assert info == {"path": rel, "rows": len(full), "rows_in_report": limit - 2}
        assert len(data["tables"][key]) == limit - 2
        sheet = wb[fresh.tables[key].sheet]
        rows = list(sheet.iter_rows(values_only=True))
        assert len(rows) == limit  # header, limit - 2 data rows, the note
        assert rel in str(rows[-1][0]) and f"{len(full):,}" in str(rows[-1][0])
        assert rel in summary
        assert any(rel in note for note in data["notes"])
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "tables/edges.parquet" in md


def test_spill_keeps_mixed_columns_as_text(tmp_path):
    from supplygraph.report.sheetxml import spill_long_tables

    frame = pd.DataFrame({"id": ["a", "b", "c", "d"], "year": [2024, "2020s", None, 1.5]})
    data = _data({"nodes": _table(frame, {}, "nodes")})
    files = spill_long_tables(data, tmp_path, max_rows=4)
    assert list(files) == ["tables/nodes.parquet"]
    back = pd.read_parquet(tmp_path / "tables" / "nodes.parquet")
    assert back["id"].tolist() == ["a", "b", "c", "d"]
    assert back["year"].tolist()[:2] == ["2024", "2020s"] and back["year"].isna().tolist()[2]
    assert back["year"].tolist()[3] == "1.5"
    assert data.raw["table_files"]["nodes"] == {
        "path": "tables/nodes.parquet",
        "rows": 4,
        "rows_in_report": 2,
    }


# ------------------------------------------------------------------------------ JSON


def _old_json(data: ReportData) -> str:
    """The report's JSON as one ``json.dumps`` of records built cell by cell."""
    from supplygraph.report.json import _plain, table_records

    doc = {
        "title": data.title,
        "dataset": data.dataset,
        "date": data.date,
        "provenance": {k: v for k, v in data.provenance.items() if k != "date"},
        "headline": list(data.headline),
        "robustness": list(data.robustness),
        "scenarios": _plain(data.scenarios),
        "assumptions": list(data.assumptions),
        "notes": list(data.notes),
        "sources": _plain(data.sources),
        "tables": {k: table_records(t) for k, t in data.tables.items()},
        "table_titles": {k: t.title for k, t in data.tables.items()},
        "charts": {},
    }
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


@settings(max_examples=40, deadline=None)
@given(case=_frames())
def test_json_is_json_dumps_of_the_records(case):
    from supplygraph.report.json import render_json

    frame, kinds = case
    data = _data({"a": _table(frame, kinds), "b": _table(frame.iloc[:, :4], {})})
    assert render_json(data) == _old_json(data)


def test_json_of_the_generated_report(generated_report):
    from supplygraph.report.build import build_report_data
    from supplygraph.report.json import render_json

    G, _, _, _, _ = generated_report
    data = build_report_data(G, date="2025-01-01", charts=False)
    assert render_json(data) == _old_json(data)
