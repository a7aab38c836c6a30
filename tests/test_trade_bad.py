"""Bad trade files: one precise error line each, exit code 1, and nothing written.

Every case runs ``supplygraph trade build ... -o OUT`` (the command that writes) and checks the
single stderr line, the exit code and that OUT was not created; the ``flows`` command is checked
for the same message.
"""

from __future__ import annotations

import gzip
import shutil
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from supplygraph.cli import app

DATA = Path(__file__).parent / "data" / "trade"
NEW = DATA / "BACI_HS17_V202401b"
COMTRADE = DATA / "comtrade_850511_2022.csv"
runner = CliRunner()


def _release(tmp_path: Path, data: str | bytes | None = None, codes: bytes | None = None) -> Path:
    folder = tmp_path / "release"
    shutil.copytree(NEW, folder)
    if data is not None:
        raw = data.encode() if isinstance(data, str) else data
        (folder / "BACI_HS17_Y2022_V202401b.csv").write_bytes(raw)
    if codes is not None:
        (folder / "country_codes_V202401b.csv").write_bytes(codes)
    return folder


def _fails(tmp_path: Path, path: Path, *extra: str) -> str:
    out = tmp_path / "out"
    for cmd in (["build", "-o", str(out)], ["flows"]):
        result = runner.invoke(
            app, ["trade", cmd[0], str(path), "--year", "2022", *cmd[1:], *extra]
        )
        assert result.exit_code == 1, result.output
        lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert len(lines) == 1, result.stderr
        assert "Traceback" not in result.output
        assert not out.exists()
    return lines[0]


def test_wrong_columns_baci(tmp_path):
    release = _release(tmp_path, "t,i,j,k,value,q\n2022,156,392,284690,1.0,1.0\n")
    line = _fails(tmp_path, release)
    assert "BACI_HS17_Y2022_V202401b.csv: not a BACI data file: no column 'v'" in line


def test_wrong_columns_comtrade(tmp_path):
    bad = tmp_path / "c.csv"
    text = COMTRADE.read_text(encoding="utf-8").replace("cmdCode", "commodity", 1)
    bad.write_text(text, encoding="utf-8")
    line = _fails(tmp_path, bad)
    assert "neither a BACI release" in line  # no cmdCode: not recognisably Comtrade


def test_comtrade_missing_value_column(tmp_path):
    bad = tmp_path / "c.csv"
    text = COMTRADE.read_text(encoding="utf-8")
    for col in ("cifvalue", "fobvalue", "primaryValue"):
        text = text.replace(col, f"x{col}", 1)
    bad.write_text(text, encoding="utf-8")
    assert "not a Comtrade+ export: no column 'primaryValue'" in _fails(tmp_path, bad)


def test_unknown_country_code(tmp_path):
    data = (NEW / "BACI_HS17_Y2022_V202401b.csv").read_text(encoding="utf-8")
    data = data.replace("2022,458,392,284690", "2022,999,392,284690")
    line = _fails(tmp_path, _release(tmp_path, data))
    assert "row 9, column 'i': country code 999 is not in country_codes_V202401b.csv" in line


def test_comtrade_code_missing_from_code_file(tmp_path):
    bulk = DATA / "COMTRADE-FINAL-CA3442022H6[2024-03-01].txt"
    codes = tmp_path / "codes.csv"
    codes.write_text("country_code,country_name,country_iso2,country_iso3\n156,China,CN,CHN\n")
    line = _fails(tmp_path, bulk, "--codes", str(codes))
    assert "column 'reporterCode': country code is not in the code file: '344'" in line


def test_mixed_hs_revisions_baci(tmp_path):
    release = _release(tmp_path)
    shutil.copy(release / "BACI_HS17_Y2022_V202401b.csv", release / "BACI_HS22_Y2022_V202401b.csv")
    line = _fails(tmp_path, release)
    assert "mixed HS revisions for 2022: HS17, HS22" in line


def test_mixed_hs_revisions_comtrade(tmp_path):
    bad = tmp_path / "c.csv"
    lines = COMTRADE.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace(",H6,", ",H5,")
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    line = _fails(tmp_path, bad)
    assert "row 4, column 'classificationCode': mixed HS revisions H5, H6" in line
    assert "(this row has H5, row 2 has H6)" in line


def test_zip_bomb_release(tmp_path):
    bomb = tmp_path / "BACI_HS17_V202401b.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(NEW / "country_codes_V202401b.csv", "country_codes_V202401b.csv")
        zf.writestr("BACI_HS17_Y2022_V202401b.csv", "t,i,j,k,v,q\n" + " " * 30_000_000)
    line = _fails(tmp_path, bomb)
    assert "BACI_HS17_V202401b.zip!BACI_HS17_Y2022_V202401b.csv: member inflates" in line
    assert "zip bomb" in line


def test_gzip_bomb_comtrade(tmp_path):
    bomb = tmp_path / "COMTRADE-FINAL-CA3442022H6[2024-03-01].gz"
    with gzip.open(bomb, "wb") as fh:
        fh.write(COMTRADE.read_bytes().splitlines(keepends=True)[0])
        fh.write(b" " * 30_000_000)
    assert "gzip content inflates more than 100:1" in _fails(tmp_path, bomb)


def test_non_utf8_country_codes(tmp_path):
    codes = (NEW / "country_codes_V202401b.csv").read_text(encoding="utf-8").encode("latin-1")
    line = _fails(tmp_path, _release(tmp_path, codes=codes))
    assert "country_codes_V202401b.csv, row 9: not UTF-8 text (byte 0xF4)" in line


def test_non_utf8_comtrade(tmp_path):
    bad = tmp_path / "c.csv"
    bad.write_bytes(COMTRADE.read_text(encoding="utf-8").replace("World", "Wörld").encode("cp1252"))
    assert "c.csv, row 2: not UTF-8 text (byte 0xF6)" in _fails(tmp_path, bad)


def test_non_utf8_baci_data_row(tmp_path):
    data = (NEW / "BACI_HS17_Y2022_V202401b.csv").read_bytes().replace(b"284690", b"28\xe9690", 1)
    line = _fails(tmp_path, _release(tmp_path, data))
    assert "BACI_HS17_Y2022_V202401b.csv, row 2: not UTF-8 text (byte 0xE9)" in line


@pytest.mark.parametrize(
    ("needle", "replacement", "expected"),
    [
        ("2022,156,392,284690,61000.000", "2022,156,392,284690,lots", "row 3, column 'v'"),
        ("       1200.000", "            abc", "row 3, column 'q': quantity (tonnes) must be"),
        ("2022,156,392,284690", "2021,156,392,284690", "row 3, column 't': year 2021"),
        ("2022,156,392,284690,61000.000,", "2022,15x,392,284690,61000.000,", "row 3, column 'i'"),
        ("2022,156,392,284690,61000.000,", "2022,156,392,284690,1,2,", "row 3: 7 fields"),
    ],
)
def test_bad_baci_cells(tmp_path, needle, replacement, expected):
    data = (NEW / "BACI_HS17_Y2022_V202401b.csv").read_text(encoding="utf-8")
    assert needle in data
    line = _fails(tmp_path, _release(tmp_path, data.replace(needle, replacement, 1)))
    assert expected in line


def test_year_not_in_release(tmp_path):
    result = runner.invoke(app, ["trade", "flows", str(NEW), "--year", "2019"])
    assert result.exit_code == 1
    assert "no BACI data file for 2019 (years here: 2021, 2022)" in result.stderr


def test_comtrade_repeated_and_monthly_records(tmp_path):
    lines = COMTRADE.read_text(encoding="utf-8").splitlines()
    bad = tmp_path / "c.csv"
    bad.write_text("\n".join([*lines, lines[1]]) + "\n", encoding="utf-8")
    line = _fails(tmp_path, bad)
    assert "row 9: repeats the record on" in line and "row 2" in line
    lines[3] = lines[3].replace("C,A,", "C,M,", 1)
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert "row 4, column 'freqCode': monthly records" in _fails(tmp_path, bad)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda t: t.replace("hs,stage,factor", "code,stage,factor"), "HS map has no 'hs' column"),
        (lambda t: t.replace("284610,separation,1,", "284610,separation,x,"), "row 2, column 'factor'"),
        (lambda t: t.replace("284610,separation,1,t REO,true", "284610,separation,1,t REO,maybe"),
         "row 2, column 'enabled': enabled must be true or false"),
        (lambda t: t.replace("280530,metal,1,t REE", "280530,metal,1,kg"),
         "stage 'metal' converts to"),
        (lambda t: t + "284690,separation,1,t REO,true,,dup,,,\n", "hs 284690 is already on row 3"),
    ],
)  # fmt: skip
def test_bad_hs_map(tmp_path, edit, expected):
    from supplygraph.trade.hsmap import DEFAULT_MAP

    path = tmp_path / "map.csv"
    path.write_text(edit(DEFAULT_MAP.read_text(encoding="utf-8")), encoding="utf-8")
    line = _fails(tmp_path, NEW, "--map", str(path))
    assert expected in line


def test_build_refuses_a_non_empty_folder_and_leaves_it(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine", encoding="utf-8")
    args = [
        "trade",
        "build",
        str(NEW),
        "--year",
        "2022",
        "--into",
        "rare-earths-aggregate",
        "-o",
        str(out),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "output folder exists and is not empty" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    assert runner.invoke(app, [*args, "--force"]).exit_code == 0
    assert (out / "dataset.toml").is_file() and not (out / "keep.txt").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_build_into_a_graph_without_the_map_stages(tmp_path):
    out = tmp_path / "out"
    args = ["trade", "build", str(NEW), "--year", "2022", "-o", str(out)]
    result = runner.invoke(app, [*args, "--into", str(DATA / "toy_chain")])
    assert result.exit_code == 1
    assert "the HS map sends trade to stage 'metal', which is not a stage of the graph" in (
        result.stderr
    )
    assert not out.exists()
