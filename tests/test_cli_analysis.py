"""Analysis commands: concentration, chokepoints, disrupt, sweep, trace (typer CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from supplygraph.cli import app

runner = CliRunner()

NODES = """id,stage,country,value,end_use
CHN:mining,mining,CHN,80,
AUS:mining,mining,AUS,20,
CHN:separation,separation,CHN,90,
MYS:separation,separation,MYS,10,
JPN:magnets,magnets,JPN,100,
USA:vehicles,end_use,USA,60,vehicles
DEU:wind,end_use,DEU,40,wind
"""
EDGES = """source,target,flow
CHN:mining,CHN:separation,80
AUS:mining,CHN:separation,10
AUS:mining,MYS:separation,10
CHN:separation,JPN:magnets,90
MYS:separation,JPN:magnets,10
JPN:magnets,USA:vehicles,60
JPN:magnets,DEU:wind,40
"""


@pytest.fixture
def toy(tmp_path: Path) -> str:
    (tmp_path / "nodes.csv").write_text(NODES, encoding="utf-8")
    (tmp_path / "edges.csv").write_text(EDGES, encoding="utf-8")
    return str(tmp_path)


def records(args: list[str]) -> list[dict]:
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert isinstance(data, list)
    assert all(isinstance(r, dict) for r in data)
    return data


def test_concentration_json(toy):
    rows = records(["concentration", toy])
    assert [r["stage"] for r in rows] == ["mining", "separation", "magnets", "end_use"]
    mining = rows[0]
    assert mining["hhi"] == pytest.approx(6800.0)  # 80² + 20²
    assert mining["top_country"] == "CHN"
    assert mining["eu_single_country_cap"] is True
    assert mining["hhi_governance"] is None  # NaN -> null
    rows = records(["concentration", toy, "--guidelines", "2023"])
    assert rows[0]["level"] == "highly concentrated"


def test_concentration_table_and_csv(toy):
    result = runner.invoke(app, ["concentration", toy])
    assert result.exit_code == 0
    assert "separation" in result.stdout
    result = runner.invoke(app, ["concentration", toy, "--format", "csv"])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].startswith("stage,hhi,")


def test_chokepoints_json(toy):
    rows = records(["chokepoints", toy, "--top", "2"])
    assert [r["id"] for r in rows] == ["JPN:magnets", "CHN:separation"]
    assert rows[0]["dominator"] is True
    assert rows[1]["max_dependency"] == pytest.approx(0.9)
    assert "90 % of separation" in rows[1]["reason"]
    rows = records(["chokepoints", toy, "--kind", "country-stage", "--threshold", "0.95"])
    assert rows[0]["id"] == "JPN@magnets"
    assert all(r["kind"] == "country-stage" for r in rows)


def test_disrupt_json(toy):
    rows = records(["disrupt", toy, "--shock", "CHN@separation"])
    assert len(rows) >= 2
    text = json.dumps(rows)
    assert "USA:vehicles" in text or "vehicles" in text
    rows = records(["disrupt", toy, "--shock", "CHN@separation=0.5", "--table", "nodes"])
    assert any("CHN:separation" in json.dumps(r) for r in rows)
    rows = records(["disrupt", toy, "-s", "CHN@separation", "--table", "end-uses"])
    assert rows


def test_sweep_json(toy):
    rows = records(["sweep", toy, "--top", "3"])
    assert len(rows) == 3
    rows = records(["sweep", toy, "--by", "country-stage", "--model", "leontief"])
    assert rows


def test_trace_json(toy):
    rows = records(["trace", toy, "--origin", "CHN", "--threshold", "0.5"])
    assert rows
    assert all(r["origin_share"] >= 0.5 for r in rows)
    shares = [r["origin_share"] for r in rows]
    assert shares == sorted(shares, reverse=True)
    nodes = {r["node"] for r in rows}
    assert "CHN:separation" in nodes
    assert "MYS:separation" not in nodes  # fed only by Australian ore


def test_bad_shock_is_one_line_exit_1(toy):
    result = runner.invoke(app, ["disrupt", toy, "--shock", "CHN@separation=1.7"])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.output
    result = runner.invoke(app, ["disrupt", toy, "--shock", "FRA@separation"])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1


def test_unknown_origin_exit_1(toy):
    result = runner.invoke(app, ["trace", toy, "--origin", "FRA"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error:")


@pytest.mark.parametrize(
    "args",
    [
        ["chokepoints", "--model", "quadratic"],
        ["chokepoints", "--threshold", "1.5"],
        ["sweep", "--by", "plant"],
        ["sweep", "--top", "0"],
        ["trace"],  # --origin is required
        ["disrupt"],  # no shock
        ["concentration", "--no-such-option"],
    ],
)
def test_usage_errors_exit_2(toy, args):
    result = runner.invoke(app, [args[0], toy, *args[1:]])
    assert result.exit_code == 2


def test_disrupt_builtin_scenario_and_unknown_scenario():
    rows = records(["disrupt", "--scenario", "full-separation-ban", "--table", "end-uses"])
    assert rows[-1]["end_use"] == "total"
    assert 0 < rows[-1]["loss_share"] < 1
    result = runner.invoke(app, ["disrupt", "--scenario", "no-such-scenario"])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
