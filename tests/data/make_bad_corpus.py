"""Generate the malformed-input corpus under ``tests/data/bad/`` with its expected problems.

Run ``python tests/data/make_bad_corpus.py`` to (re)write the files and ``expected.json``.
Each case is one file (or folder) built from a small valid rare-earth chain with one kind of
damage, following the categories of the reliability reference's bad-input catalogue (A file and
container, B XML/zip attacks, C sheet structure, D cell values, E missing/out-of-range values,
F shares, G topology, H countries). The expectations are written here by hand, next to the
damage they describe:

- ``input_error``: the whole file is refused with an :class:`InputError` whose message holds
  this text;
- otherwise ``problems``: the exact problem rows (sheet, row, column, severity, and a message
  substring) that validation must report -- no more, no fewer -- and ``nodes`` / ``edges`` /
  ``shares``: how many data rows every table must still hold (nothing silently dropped).
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import shutil
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "bad"

ELEMENTS = [
    ["ID", "Label", "Stage", "Country", "Value", "Unit"],
    ["CHN:mining", "China mining", "mining", "CHN", 270000, "t REO/yr"],
    ["USA:mining", "US mining", "mining", "USA", 45000, "t REO/yr"],
    ["CHN:separation", "China separation", "separation", "CHN", 254000, "t REO/yr"],
    ["MYS:separation", "Malaysia separation", "separation", "MYS", 10462, "t REO/yr"],
]
CONNECTIONS = [
    ["From", "To", "Flow", "Unit"],
    ["CHN:mining", "CHN:separation", 223000, "t REO/yr"],
    ["USA:mining", "CHN:separation", 41000, "t REO/yr"],
    ["USA:mining", "MYS:separation", 4000, "t REO/yr"],
]
STAGES = [["Stage", "Order"], ["mining", 1], ["separation", 2]]

_FIXED_TIME = dt.datetime(2025, 1, 1, 0, 0, 0)

CASES: dict[str, Callable[[Path], dict[str, Any]]] = {}


def case(
    name: str,
) -> Callable[[Callable[[Path], dict[str, Any]]], Callable[[Path], dict[str, Any]]]:
    def deco(fn: Callable[[Path], dict[str, Any]]) -> Callable[[Path], dict[str, Any]]:
        CASES[name] = fn
        return fn

    return deco


def P(sheet: str | None, row: int | None, column: str | None, severity: str, text: str) -> dict:
    """One expected problem."""
    return {"sheet": sheet, "row": row, "column": column, "severity": severity, "message": text}


def ok(nodes: int, edges: int, problems: list[dict] | None = None, shares: int | None = None):
    out: dict[str, Any] = {"problems": problems or [], "nodes": nodes, "edges": edges}
    if shares is not None:
        out["shares"] = shares
    return out


def base() -> dict[str, list[list[Any]]]:
    return {
        "Elements": copy.deepcopy(ELEMENTS),
        "Connections": copy.deepcopy(CONNECTIONS),
        "Stages (ignore)": copy.deepcopy(STAGES),
    }


def write_xlsx(
    path: Path,
    sheets: dict[str, list[list[Any]]],
    *,
    hidden: tuple[str, ...] = (),
    merged: dict[str, list[str]] | None = None,
    formulas: bool = True,
) -> Path:
    """Write a workbook with openpyxl (normal mode), one list of rows per sheet."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    wb.properties.created = _FIXED_TIME
    wb.properties.modified = _FIXED_TIME
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is None:
                    continue
                ws.cell(row=r, column=c, value=value)
        if name in hidden:
            ws.sheet_state = "hidden"
        for ref in (merged or {}).get(name, []):
            ws.merge_cells(ref)
    wb.save(path)
    return path


def rewrite_member(path: Path, member: str, edit: Callable[[str], str]) -> None:
    """Rewrite one XML member of a zip file in place (used to forge hostile content)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == member:
                data = edit(data.decode("utf-8")).encode("utf-8")
            zout.writestr(info, data)
    path.write_bytes(buf.getvalue())


def sheet_member(path: Path, sheet: str) -> str:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    index = wb.sheetnames.index(sheet) + 1
    wb.close()
    return f"xl/worksheets/sheet{index}.xml"


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# ----------------------------------------------------------------- A. file and container


@case("a03_empty.xlsx")
def _a03(p: Path) -> dict:
    p.write_bytes(b"")
    return {"input_error": "file is empty"}


@case("a04_csv_renamed.xlsx")
def _a04(p: Path) -> dict:
    write_csv(p, "From,To,Flow\na,b,1\n")
    return {"input_error": "no ZIP signature"}


@case("a05_legacy_or_encrypted.xlsx")
def _a05(p: Path) -> dict:
    p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    return {"input_error": "legacy .xls"}


@case("a06_uppercase_suffix.XLSX")
def _a06(p: Path) -> dict:
    write_xlsx(p, base())
    return ok(4, 3)


@case("a07_plain_zip.xlsx")
def _a07(p: Path) -> dict:
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("data.txt", "hello")
    return {"input_error": "not an Office Open XML package"}


@case("a08_truncated.xlsx")
def _a08(p: Path) -> dict:
    write_xlsx(p, base())
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    return {"input_error": "corrupt or truncated"}


# ----------------------------------------------------------------- B. XML and zip attacks

_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]>\n"
)


@case("b01_billion_laughs.xlsx")
def _b01(p: Path) -> dict:
    write_xlsx(p, base())
    member = sheet_member(p, "Elements")

    def edit(xml: str) -> str:
        body = xml.split("?>", 1)[1] if xml.startswith("<?xml") else xml
        return _LAUGHS + body.replace("China mining", "&lol9;", 1)

    rewrite_member(p, member, edit)
    return {"input_error": "XML entity declarations"}


@case("b03_xxe.xlsx")
def _b03(p: Path) -> dict:
    write_xlsx(p, base())

    def edit(xml: str) -> str:
        body = xml.split("?>", 1)[1] if xml.startswith("<?xml") else xml
        return (
            '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + body
        )

    rewrite_member(
        p, "xl/sharedStrings.xml" if _has(p, "xl/sharedStrings.xml") else "xl/workbook.xml", edit
    )
    return {"input_error": "XML entity declarations"}


@case("b04_benign_entity.xlsx")
def _b04(p: Path) -> dict:
    write_xlsx(p, base())

    def edit(xml: str) -> str:
        body = xml.split("?>", 1)[1] if xml.startswith("<?xml") else xml
        return '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e "expanded">]>' + body

    rewrite_member(p, "xl/workbook.xml", edit)
    return {"input_error": "XML entity declarations"}


def _has(path: Path, member: str) -> bool:
    with zipfile.ZipFile(path) as z:
        return member in z.namelist()


@case("b07_forged_dimension.xlsx")
def _b07(p: Path) -> dict:
    write_xlsx(p, base())
    for sheet in ("Elements", "Connections"):
        member = sheet_member(p, sheet)

        def edit(xml: str) -> str:
            import re

            return re.sub(r'<dimension ref="[^"]*"\s*/>', '<dimension ref="A1:XFD1048576"/>', xml)

        rewrite_member(p, member, edit)
    return ok(4, 3)


# ----------------------------------------------------------------- C. sheet structure


@case("c01_no_tables.xlsx")
def _c01(p: Path) -> dict:
    write_xlsx(p, {"Sheet1": [["Foo", "Bar"], [1, 2]]})
    return {"input_error": "no nodes, edges or stage-shares table found"}


@case("c02_sheet_names_case.xlsx")
def _c02(p: Path) -> dict:
    b = base()
    write_xlsx(p, {" elements ": b["Elements"], "CONNECTIONS": b["Connections"]})
    return ok(4, 3)


@case("c03_hidden_sheet.xlsx")
def _c03(p: Path) -> dict:
    b = base()
    sheets = {"Nodes": [["ID", "Stage"], ["stale", "mining"]], **b}
    write_xlsx(p, sheets, hidden=("Nodes",))
    return ok(4, 3, [P("Nodes", None, None, "warning", "hidden sheet skipped")])


@case("c04_title_rows.xlsx")
def _c04(p: Path) -> dict:
    b = base()
    b["Connections"] = [["Rare-earth flows 2024"], ["(t REO per year)"], *b["Connections"]]
    b["Connections"][4][2] = -41000  # USA:mining -> CHN:separation, now on row 5
    write_xlsx(p, b)
    return ok(4, 3, [P("Connections", 5, "Flow", "error", "negative number")])


@case("c05_missing_flow_column.xlsx")
def _c05(p: Path) -> dict:
    b = base()
    b["Connections"] = [[r[0], r[1], r[3]] for r in b["Connections"]]
    write_xlsx(p, b)
    return ok(4, 3, [P("Connections", None, None, "error", "no Flow column")])


@case("c06_duplicate_headers.xlsx")
def _c06(p: Path) -> dict:
    b = base()
    for r in b["Connections"]:
        r.append(r[2] if r[2] != "Flow" else "Flow")
    write_xlsx(p, b)
    return ok(4, 3, [P("Connections", 1, "Flow", "error", "duplicate column header")])


@case("c07_header_whitespace_case.xlsx")
def _c07(p: Path) -> dict:
    b = base()
    b["Connections"][0] = [" from ", "TO", "flow ", "Unit"]
    b["Elements"][0] = ["id", "LABEL", " Stage", "country", "VALUE", "unit"]
    write_xlsx(p, b)
    return ok(4, 3)


@case("c08_headerless_column.xlsx")
def _c08(p: Path) -> dict:
    b = base()
    b["Connections"][2].append("stray note")  # row 3, column E (no header)
    write_xlsx(p, b)
    return ok(4, 3, [P("Connections", 3, "E", "error", "has no header")])


@case("c09_merged_cells.xlsx")
def _c09(p: Path) -> dict:
    b = base()
    b["Elements"][2][3] = None  # USA row: country left to the merge
    b["Elements"][1][3] = "CHN"
    write_xlsx(p, b, merged={"Elements": ["D2:D3"]})
    return ok(4, 3, [P("Elements", 2, "Country", "error", "merged cells D2:D3")])


@case("c10_blank_rows.xlsx")
def _c10(p: Path) -> dict:
    b = base()
    rows = b["Connections"]
    rows[3:3] = [[], [], []]  # rows 4-6 blank; the third connection moves to row 7
    rows[6][1] = "MYS:separaton"
    write_xlsx(p, b)
    return ok(
        4,
        3,
        [P("Connections", 7, "To", "error", "did you mean 'MYS:separation'")],
    )


@case("c12_header_only.xlsx")
def _c12(p: Path) -> dict:
    write_xlsx(p, {"Elements": [ELEMENTS[0]], "Connections": [CONNECTIONS[0]]})
    return ok(0, 0, [P(None, None, None, "error", "no data rows")])


@case("c13_edges_only.csv")
def _c13(p: Path) -> dict:
    write_csv(p, "Source,Target,Weight\na,b,1\nb,c,2\n")
    return ok(0, 2, [P(None, None, None, "error", "no nodes table")])


@case("c14_ragged_row.csv")
def _c14(p: Path) -> dict:
    write_csv(p, "ID,Stage,Country\nCHN:mining,mining,CHN\nUSA:mining,mining,USA,extra\n")
    return ok(2, 0, [P(None, 3, "D", "error", "has no header")])


@case("c15_latin1.csv")
def _c15(p: Path) -> dict:
    write_csv(p, "ID,Label,Stage\nCIV:mining,Côte d'Ivoire,mining\n", encoding="latin-1")
    return {"input_error": "not UTF-8"}


@case("c16_nul_bytes.csv")
def _c16(p: Path) -> dict:
    p.write_bytes(b"ID,Stage\nA\x00B,mining\n")
    return {"input_error": "NUL bytes"}


@case("c17_gephi_pair")
def _c17(p: Path) -> dict:
    p.mkdir()
    write_csv(p / "nodes.csv", "Id,Label,stage,country\nm,Mine,mining,AUS\ns,Sep,separation,MYS\n")
    write_csv(p / "edges.csv", "Source,Target,Weight,Type\nm,s,12000,Directed\n")
    return ok(2, 1)


@case("c18_flourish.xlsx")
def _c18(p: Path) -> dict:
    write_xlsx(
        p,
        {
            "Points": [
                ["id", "stage", "country"],
                ["m", "mining", "AUS"],
                ["s", "separation", "MYS"],
            ],
            "Links": [["source", "target", "value"], ["m", "s", 12000]],
        },
    )
    return ok(2, 1)


@case("c19_kumu_label_keys.xlsx")
def _c19(p: Path) -> dict:
    write_xlsx(
        p,
        {
            "Elements": [
                ["Label", "Stage", "Country"],
                ["Mine", "mining", "AUS"],
                ["Sep", "separation", "MYS"],
            ],
            "Connections": [
                ["From", "To", "Strength", "Source"],
                ["Mine", "Sep", 5, "Lynas report"],
            ],
        },
    )
    return ok(2, 1)


# ----------------------------------------------------------------- D. cell values


@case("d02_formula_no_cached_value.xlsx")
def _d02(p: Path) -> dict:
    b = base()
    b["Connections"][2][2] = "=C2*0.2"  # openpyxl stores a formula and no cached value
    write_xlsx(p, b)
    return ok(4, 3, [P("Connections", 3, "Flow", "error", "formula without a computed value")])


@case("d03_error_cells.xlsx")
def _d03(p: Path) -> dict:
    b = base()
    b["Connections"][1][2] = "#N/A"
    b["Connections"][3][2] = "#DIV/0!"
    b["Elements"][4][4] = "#REF!"
    write_xlsx(p, b)
    return ok(
        4,
        3,
        [
            P("Elements", 5, "Value", "error", "Excel error cell #REF!"),
            P("Connections", 2, "Flow", "error", "Excel error cell #N/A"),
            P("Connections", 4, "Flow", "error", "Excel error cell #DIV/0!"),
        ],
    )


@case("d04_numbers_as_text.xlsx")
def _d04(p: Path) -> dict:
    b = base()
    b["Connections"][1][2] = " 223000 "
    b["Connections"][2][2] = "41,000"
    b["Connections"][3][2] = "4 000.5"
    write_xlsx(p, b)
    return ok(4, 3)


@case("d05_decimal_comma.csv")
def _d05(p: Path) -> dict:
    write_csv(p, "Stage;Country;Share\nmining;CHN;0,7\nmining;USA;0,3\n")
    return ok(
        0,
        0,
        [
            P(None, 2, "Share", "error", "decimal comma"),
            P(None, 3, "Share", "error", "decimal comma"),
        ],
        shares=2,
    )


@case("d07_hs_codes_text.csv")
def _d07(p: Path) -> dict:
    write_csv(
        p, "ID,Stage,Country,HS Code\nNAM:mining,mining,NA,0805\nCHN:mining,mining,CHN,280530\n"
    )
    return ok(2, 0)


@case("d08_bool_in_number.xlsx")
def _d08(p: Path) -> dict:
    b = base()
    b["Elements"][3][4] = True
    write_xlsx(p, b)
    return ok(4, 3, [P("Elements", 4, "Value", "error", "TRUE is not a number")])


@case("d09_date_in_number.xlsx")
def _d09(p: Path) -> dict:
    b = base()
    b["Connections"][3][2] = dt.datetime(2024, 1, 2)
    write_xlsx(p, b)
    return ok(4, 3, [P("Connections", 4, "Flow", "error", "a date is not a number")])


@case("d11_not_a_number.xlsx")
def _d11(p: Path) -> dict:
    b = base()
    b["Connections"][1][2] = "abc"
    b["Elements"][2][4] = "lots"
    write_xlsx(p, b)
    return ok(
        4,
        3,
        [
            P("Elements", 3, "Value", "error", "not a number"),
            P("Connections", 2, "Flow", "error", "not a number"),
        ],
    )


@case("d12_control_character.csv")
def _d12(p: Path) -> dict:
    write_csv(p, "ID,Label,Stage\nCHN:mining,China\x01mining,mining\n")
    return ok(1, 0, [P(None, 2, "Label", "error", "control character")])


@case("d14_na_strings.csv")
def _d14(p: Path) -> dict:
    write_csv(
        p,
        "ID,Stage,Country\n"
        "NAM:mining,mining,NA\n"
        "X1:mining,mining,N/A\n"
        "X2:mining,mining,None\n"
        "X3:mining,mining,null\n"
        "X4:mining,mining,nan\n",
    )
    return ok(
        5,
        0,
        [
            P(None, 3, "Country", "error", "'N/A' is not a country"),
            P(None, 4, "Country", "error", "'None' is not a country"),
            P(None, 5, "Country", "error", "'null' is not a country"),
            P(None, 6, "Country", "error", "'nan' is not a country"),
        ],
    )


@case("d15_formula_text.csv")
def _d15(p: Path) -> dict:
    write_csv(p, 'ID,Label,Stage\nCHN:mining,"=HYPERLINK(""http://evil"",""x"")",mining\n')
    return ok(1, 0, [P(None, 2, "Label", "warning", "looks like a formula")])


@case("d16_percent_in_flow")
def _d16(p: Path) -> dict:
    p.mkdir()
    write_csv(p / "nodes.csv", "ID,Stage\na,mining\nb,separation\n")
    write_csv(p / "edges.csv", "From,To,Flow\na,b,50%\n")
    return ok(2, 1, [P(None, 2, "Flow", "error", "percentage is only accepted")])


# ----------------------------------------------------------------- E. missing / out of range


@case("e02_negative_numbers.xlsx")
def _e02(p: Path) -> dict:
    b = base()
    b["Elements"][1][4] = -270000
    b["Connections"][3][2] = -4000
    write_xlsx(p, b)
    return ok(
        4,
        3,
        [
            P("Elements", 2, "Value", "error", "negative number"),
            P("Connections", 4, "Flow", "error", "negative number"),
        ],
    )


@case("e06_missing_ends_and_flow.xlsx")
def _e06(p: Path) -> dict:
    b = base()
    b["Connections"][1][1] = None
    b["Connections"][2][0] = "   "
    b["Connections"][3][2] = None
    write_xlsx(p, b)
    return ok(
        4,
        3,
        [
            P("Connections", 2, "To", "error", "empty required cell"),
            P("Connections", 3, "From", "error", "empty required cell"),
            P("Connections", 4, "Flow", "error", "empty required cell"),
        ],
    )


@case("e07_missing_stage_and_id.xlsx")
def _e07(p: Path) -> dict:
    b = base()
    b["Elements"][2][2] = None
    b["Elements"].append([None, None, "mining", "AUS", 13000, "t REO/yr"])
    write_xlsx(p, b)
    return ok(
        5,
        3,
        [
            P("Elements", 3, "Stage", "error", "every node needs a stage"),
            P("Elements", 6, "ID", "error", "no ID and no Label"),
        ],
    )


# ----------------------------------------------------------------- F. shares


@case("f01_shares_sum_off.csv")
def _f01(p: Path) -> dict:
    write_csv(
        p,
        "Stage,Country,Share\nmining,CHN,0.6\nmining,USA,0.2\nseparation,CHN,0.9\nseparation,MYS,0.1\n",
    )
    return ok(0, 0, [P(None, 2, "Share", "warning", "sum to 80.0 %")], shares=4)


@case("f02_shares_percent.csv")
def _f02(p: Path) -> dict:
    write_csv(p, "Stage,Country,Share\nmining,CHN,69.2\nmining,USA,11.5\nmining,ROW,19.3\n")
    return ok(0, 0, [], shares=3)


@case("f03_shares_percent_strings.csv")
def _f03(p: Path) -> dict:
    write_csv(p, "Stage,Country,Share\nmining,CHN,69.2 %\nmining,USA,11.5%\nmining,ROW,0.193\n")
    return ok(0, 0, [], shares=3)


@case("f04_share_above_100.csv")
def _f04(p: Path) -> dict:
    write_csv(p, "Stage,Country,Share\nmining,CHN,130\nmining,USA,20\n")
    return ok(
        0,
        0,
        [
            P(None, 2, "Share", "error", "share above 100 %"),
        ],
        shares=2,
    )


@case("f05_mixed_basis.csv")
def _f05(p: Path) -> dict:
    write_csv(p, "Stage,Country,Share,Value\nmining,CHN,0.7,\nmining,USA,,45000\n")
    return ok(0, 0, [P(None, 3, "Value", "error", "mixes rows with a Share")], shares=2)


@case("f06_duplicate_country.csv")
def _f06(p: Path) -> dict:
    write_csv(p, "Stage,Country,Share\nmining,CHN,0.6\nmining,china,0.4\n")
    return ok(0, 0, [P(None, 3, "Country", "error", "listed twice")], shares=2)


@case("f07_negative_share.csv")
def _f07(p: Path) -> dict:
    write_csv(p, "Stage,Country,Share\nmining,CHN,0.9\nmining,USA,-0.1\nmining,AUS,0.2\n")
    return ok(0, 0, [P(None, 3, "Share", "error", "negative number")], shares=3)


# ----------------------------------------------------------------- G. topology


@case("g01_self_loop.xlsx")
def _g01(p: Path) -> dict:
    b = base()
    b["Connections"].append(["CHN:separation", "CHN:separation", 500, "t REO/yr"])
    write_xlsx(p, b)
    return ok(4, 4, [P("Connections", 5, None, "warning", "self-loop")])


@case("g03_backwards.xlsx")
def _g03(p: Path) -> dict:
    b = base()
    b["Connections"].append(["MYS:separation", "USA:mining", 100, "t REO/yr"])
    write_xlsx(p, b)
    return ok(4, 4, [P("Connections", 5, None, "warning", "runs backwards across stages")])


@case("g04_unknown_node.xlsx")
def _g04(p: Path) -> dict:
    b = base()
    b["Connections"][1][0] = "Chnia:mining"
    b["Connections"][2][1] = "China separation"  # a Label, not the ID
    b["Connections"][3][1] = "mys:separation"  # wrong case
    write_xlsx(p, b)
    return ok(
        4,
        3,
        [
            P("Connections", 2, "From", "error", "did you mean 'CHN:mining'"),
            P("Connections", 3, "To", "error", "that is the Label of 'CHN:separation'"),
            P("Connections", 4, "To", "error", "IDs are case-sensitive"),
        ],
    )


@case("g05_duplicate_connection.xlsx")
def _g05(p: Path) -> dict:
    b = base()
    b["Connections"].append(["USA:mining", "CHN:separation", 1000, "t REO/yr"])
    write_xlsx(p, b)
    return ok(4, 4, [P("Connections", 5, None, "warning", "duplicate connection")])


@case("g07_duplicate_ids.xlsx")
def _g07(p: Path) -> dict:
    b = base()
    b["Elements"].append(["chn:MINING ", "dup", "mining", "CHN", 1, "t REO/yr"])
    b["Elements"].append(["CHN:mining", "dup2", "mining", "CHN", 1, "t REO/yr"])
    write_xlsx(p, b)
    return ok(
        6,
        3,
        [
            P("Elements", 6, "ID", "error", "duplicate ID (same as row 2"),
            P("Elements", 7, "ID", "error", "duplicate ID (same as row 2"),
        ],
    )


@case("g09_stage_not_in_list.xlsx")
def _g09(p: Path) -> dict:
    b = base()
    b["Elements"][3][2] = "separaton"
    b["Elements"][4][2] = "SEPARATION"  # case only: rewritten, not an error
    write_xlsx(p, b)
    return ok(4, 3, [P("Elements", 4, "Stage", "error", "did you mean 'separation'")])


# ----------------------------------------------------------------- H. countries


@case("h02_ambiguous_countries.csv")
def _h02(p: Path) -> dict:
    write_csv(
        p,
        "ID,Stage,Country\nA:mining,mining,Korea\nB:mining,mining,Congo\nC:mining,mining,UK\n",
    )
    return ok(
        3,
        0,
        [
            P(None, 2, "Country", "error", "ambiguous country 'Korea'"),
            P(None, 3, "Country", "error", "ambiguous country 'Congo'"),
        ],
    )


@case("h03_country_aliases.csv")
def _h03(p: Path) -> dict:
    write_csv(
        p,
        "ID,Stage,Country\n"
        "a,mining,Turkey\nb,mining,Burma\nc,mining,Swaziland\nd,mining,PRC\n"
        "e,mining,DRC\nf,mining,Congo (Kinshasa)\ng,mining,Côte d’Ivoire\nh,mining, china \n"
        "i,mining,Rest of World\nj,mining,EU\nk,mining,Taiwan\nl,mining,Türkiye\n",
    )
    return ok(12, 0)


@case("h04_unknown_countries.csv")
def _h04(p: Path) -> dict:
    write_csv(p, "ID,Stage,Country\na,mining,Chnia\nb,mining,156\nc,mining,World\n")
    return ok(
        3,
        0,
        [
            P(None, 2, "Country", "error", "unknown country 'Chnia'"),
            P(None, 3, "Country", "error", "numeric country code"),
            P(None, 4, "Country", "error", "world total is not a country"),
        ],
    )


# ----------------------------------------------------------------- everything at once


@case("z01_many_problems.xlsx")
def _z01(p: Path) -> dict:
    b = base()
    b["Elements"][1][3] = "Korea"
    b["Elements"][2][4] = -1
    b["Connections"][1][2] = "#N/A"
    b["Connections"][2][0] = "nowhere"
    b["Connections"][3][2] = "1.500,5"
    write_xlsx(p, b)
    return ok(
        4,
        3,
        [
            P("Elements", 2, "Country", "error", "ambiguous country"),
            P("Elements", 3, "Value", "error", "negative number"),
            P("Connections", 2, "Flow", "error", "Excel error cell #N/A"),
            P("Connections", 3, "From", "error", "unknown node"),
            P("Connections", 4, "Flow", "error", "decimal comma"),
        ],
    )


def build(out: Path = OUT) -> dict[str, Any]:
    """Write every case into ``out`` (emptied first) and ``out/expected.json``; return it."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    expected: dict[str, Any] = {}
    for name, fn in CASES.items():
        expected[name] = fn(out / name)
    (out / "expected.json").write_text(
        json.dumps(expected, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8"
    )
    return expected


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    result = build(target)
    print(f"wrote {len(result)} cases to {target}")
