"""The report with Monte Carlo draws: interval columns and bars, robust/fragile labels, the
tornado chart, the closing note and the provenance; the committed draws report regenerates."""

from __future__ import annotations

import json
import re
from pathlib import Path

import openpyxl
import pytest

import supplygraph as sg
from supplygraph.report import write_report
from supplygraph.uncertainty.sampling import DrawSpec

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "reports" / "rare-earths-draws" / "report.md"
DATE = "2025-06-01"


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    G = sg.load("rare-earths")
    scen = [sg.get_scenario("april-2025-licences"), sg.get_scenario("full-separation-ban")]
    out = tmp_path_factory.mktemp("draws")
    files = write_report(
        G, out / "a", scenarios=scen, date=DATE, network=False, draws=DrawSpec(256, seed=3)
    )
    again = write_report(
        G, out / "b", scenarios=scen, date=DATE, network=False, draws=DrawSpec(256, seed=3)
    )
    return out / "a", files, out / "b", again


def test_tables_gain_interval_and_robustness_columns(drawn):
    out, _, _, _ = drawn
    doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
    conc = doc["tables"]["concentration"]
    sep = next(r for r in conc if r["stage"] == "separation")
    assert sep["hhi_p5"] <= sep["hhi_p95"] and 0.9 <= sep["p_top_country"] <= 1.0
    choke = doc["tables"]["chokepoints"]
    assert all(r["robustness"] in ("robust", "fragile") for r in choke)
    assert all(r["weighted_loss_p5"] <= r["weighted_loss_p95"] + 1e-12 for r in choke)
    rows = doc["tables"]["scenario"]
    april = {r["end_use"]: r for r in rows if r["scenario"] == "april-2025-licences"}
    # the approval rate ranges from 0.25 (the value) up to 0.6: losses can only be lower
    assert april["vehicles"]["lost_share_p5"] < april["vehicles"]["lost_share"]
    assert 0 <= april["vehicles"]["p_loss_ge_50"] <= 1
    assert doc["provenance"]["draws"] == "256" and doc["provenance"]["seed"] == "3"
    assert "independent inputs drive" in doc["provenance"]["uncertainty"]


def test_headline_and_closing_note_label_every_finding(drawn):
    out, _, _, _ = drawn
    md = (out / "report.md").read_text(encoding="utf-8")
    head = md.split("## Headline findings", 1)[1].split("\n## ", 1)[0]
    choke_line = next(x for x in head.splitlines() if x.startswith("- The top chokepoints"))
    assert choke_line.count("robust") + choke_line.count("fragile") == 3
    april_line = next(x for x in head.splitlines() if x.startswith("- april-2025-licences"))
    assert "Over the draws with no response" in april_line
    note = md.split("## How robust are the findings?", 1)[1].split("\n## ", 1)[0]
    items = [x for x in note.splitlines() if x.startswith("- ")]
    assert len(items) >= 6
    assert all(re.search(r": (robust|fragile), in ", x) for x in items)
    fragile = [x for x in items if ": fragile" in x]
    assert fragile and all("moved most by" in x for x in fragile)
    assert any("licence approval rate" in x for x in fragile)
    assert "tornado.png" in md


def test_charts_show_intervals_and_the_tornado(drawn):
    out, files, _, _ = drawn
    assert "charts/tornado.png" in files
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="robustness"' in html and "90 %" in html
    assert html.count("<svg") >= 5  # concentration, chokepoints, scenarios, responses, tornado
    wb = openpyxl.load_workbook(out / "report.xlsx", read_only=True)
    headers = [c.value for c in next(wb["Chokepoints"].iter_rows(max_row=1))]
    assert "lost, 5th pct" in headers and "robustness" in headers
    summary = [r[1] for r in wb["Summary"].iter_rows(values_only=True) if len(r) > 1 and r[1]]
    assert any("robust, in" in str(x) for x in summary)


def test_same_seed_same_report(drawn):
    a, _, b, _ = drawn
    for name in ("report.md", "report.json"):
        assert (a / name).read_text(encoding="utf-8") == (b / name).read_text(encoding="utf-8")


def test_report_without_draws_has_no_robustness_section(tmp_path):
    G = sg.load("rare-earths")
    write_report(G, tmp_path, shocks=["CHN@separation"], date=DATE, network=False)
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "How robust" not in md and "hhi_p5" not in md and "draws" not in md


def test_committed_draws_report_regenerates(tmp_path):
    from typer.testing import CliRunner

    from supplygraph.cli import app
    from supplygraph.report.build import DATE_PREFIX

    if not COMMITTED.is_file():
        pytest.skip("reports/rare-earths-draws/report.md is not committed yet")
    out = tmp_path / "r"
    args = ["report", "-o", str(out), "--draws", "1024", "--seed", "0", "--no-network"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output

    def strip(text: str) -> str:
        return "\n".join(
            x
            for x in text.splitlines()
            if DATE_PREFIX not in x and "interactive network" not in x and "| sha256 |" not in x
        )

    fresh = (out / "report.md").read_text(encoding="utf-8")
    assert strip(fresh) == strip(COMMITTED.read_text(encoding="utf-8"))
