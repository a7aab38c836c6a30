"""``supplygraph trade flows|hubs``: output formats, a real Parquet file, options."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from supplygraph.cli import app

DATA = Path(__file__).parent / "data" / "trade"
NEW = DATA / "BACI_HS17_V202401b"
runner = CliRunner()


def _run(*args: str):
    result = runner.invoke(app, ["trade", *args])
    assert result.exit_code == 0, result.output
    return result


def test_flows_json_and_csv_agree():
    as_json = json.loads(_run("flows", str(NEW), "--year", "2022", "-f", "json").stdout)
    as_csv = list(
        csv.DictReader(io.StringIO(_run("flows", str(NEW), "-y", "2022", "-f", "csv").stdout))
    )
    assert len(as_json) == len(as_csv) == 19
    first = as_json[0]
    assert list(first)[:7] == [
        "year", "exporter", "importer", "stage", "hs6", "value_kusd", "quantity_t",
    ]  # fmt: skip
    na = next(r for r in as_json if r["hs6"] == "280530" and r["importer"] == "USA")
    assert na["quantity_t"] is None  # unknown, not 0
    assert (
        next(r for r in as_csv if r["hs6"] == "280530" and r["importer"] == "USA")["quantity_t"]
        == ""
    )


def test_flows_parquet_file_keeps_types(tmp_path):
    out = tmp_path / "flows.parquet"
    result = _run("flows", str(NEW), "--year", "2022", "-f", "parquet", "-o", str(out))
    assert "wrote" in result.stderr
    table = pq.read_table(out)
    assert table.num_rows == 19
    assert str(table.schema.field("hs6").type) in ("string", "large_string")
    assert table.column("quantity_t").null_count == 1


def test_flows_parquet_needs_a_file():
    result = runner.invoke(app, ["trade", "flows", str(NEW), "--year", "2022", "-f", "parquet"])
    assert result.exit_code == 2
    assert "parquet is binary" in result.output


def test_country_option_maps_s19():
    rows = json.loads(
        _run("flows", str(NEW), "-y", "2022", "--country", "S19=TWN", "-f", "json").stdout
    )
    assert "TWN" in {r["exporter"] for r in rows} and "S19" not in {r["exporter"] for r in rows}
    bad = runner.invoke(app, ["trade", "flows", str(NEW), "-y", "2022", "--country", "S19"])
    assert bad.exit_code == 2


def test_hubs_command_with_a_production_table(tmp_path):
    prod = tmp_path / "p.csv"
    prod.write_text("country,stage,value\nCHN,magnets,1000\n", encoding="utf-8")
    rows = json.loads(
        _run("hubs", str(NEW), "-y", "2022", "--production", str(prod), "-f", "json").stdout
    )
    hk = next(r for r in rows if r["country"] == "HKG" and r["stage"] == "magnets")
    assert hk["hub"] is True and abs(hk["ratio"] - 1.12) < 1e-12
    strict = json.loads(
        _run(
            "hubs", str(NEW), "-y", "2022", "--production", str(prod), "--tolerance", "0.15",
            "-f", "json",
        ).stdout
    )  # fmt: skip
    assert next(r for r in strict if r["country"] == "HKG")["hub"] is False


def test_hubs_command_with_a_graph_source():
    rows = json.loads(
        _run("hubs", str(NEW), "-y", "2022", "--production", "rare-earths", "-f", "json").stdout
    )
    assert {"EU", "HKG"} <= {r["country"] for r in rows}
