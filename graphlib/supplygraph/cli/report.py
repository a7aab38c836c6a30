"""``supplygraph report``: the chokepoint report, the tool's main job."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Annotated

import typer

from supplygraph.cli import app
from supplygraph.cli._common import (
    DEFAULT_SOURCE,
    DistributionOpt,
    DrawsOpt,
    SamplingChoice,
    SamplingOpt,
    SeedOpt,
    SourceArg,
    draw_spec,
    guarded,
    load_source,
    message,
)


def _default_out(source: str) -> Path:
    from supplygraph.datasets import is_dataset_name

    if is_dataset_name(source):
        name = source
    else:
        p = Path(source)
        name = p.stem if p.suffix else p.name
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "report"
    return Path("reports") / name


def _builtin_scenarios(source: str) -> list[Path]:
    from supplygraph.datasets import is_dataset_name

    if not is_dataset_name(source):
        return []
    from supplygraph.analysis.scenarios import scenario_folder
    from supplygraph.errors import SupplyGraphError

    try:
        folder = scenario_folder(source)
    except SupplyGraphError:
        return []
    return sorted(folder.glob("*.toml")) if folder.is_dir() else []


@app.command("report")
@guarded
def report_cmd(
    source: SourceArg = DEFAULT_SOURCE,
    scenario: Annotated[
        list[str] | None,
        typer.Option(
            "--scenario",
            "-s",
            help=(
                "Scenario file (TOML) or built-in scenario name; repeat for several. "
                "Default for a built-in dataset: all of its built-in scenarios."
            ),
        ),
    ] = None,
    shock: Annotated[
        list[str] | None,
        typer.Option(
            "--shock",
            help=(
                'Extra shock, reported as one more scenario: "CHN:separation", "CHN", '
                '"CHN@separation", "@separation", "CHN@magnets->USA"; "=0.75" cuts 75 %.'
            ),
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Output folder (default: reports/<dataset>/)."),
    ] = None,
    model: Annotated[
        str, typer.Option("--model", "-m", help="Production model: linear or leontief.")
    ] = "linear",
    date: Annotated[
        str | None,
        typer.Option("--date", help="Report date (YYYY-MM-DD) instead of today."),
    ] = None,
    no_scenarios: Annotated[
        bool,
        typer.Option("--no-scenarios", help="Skip the dataset's built-in scenarios."),
    ] = False,
    network: Annotated[
        bool, typer.Option("--network/--no-network", help="Also write network.html.")
    ] = True,
    draws: DrawsOpt = None,
    seed: SeedOpt = 0,
    sampling: SamplingOpt = SamplingChoice.sobol,
    distribution: DistributionOpt = None,
) -> None:
    """Write the chokepoint report: report.md, report.html, report.xlsx, report.json,
    network.html and charts/*.png, into one folder.

    With no arguments it runs on the built-in rare-earths dataset and its built-in scenarios
    and writes reports/rare-earths/. With --draws, every table gets 90 % intervals over Monte
    Carlo draws of the inputs' ranges, each chokepoint and headline finding is marked robust
    (holds in >= 90 % of draws) or fragile with what moves it, and a tornado chart shows what
    drives the most uncertain scenario result.
    """
    if model not in ("linear", "leontief"):
        raise typer.BadParameter(f"model must be 'linear' or 'leontief', got {model!r}")
    if date is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
        raise typer.BadParameter(f"date must look like 2025-01-31, got {date!r}")
    t0 = time.perf_counter()
    from supplygraph.charts import start_worker

    start_worker()  # matplotlib loads in parallel with the data and the analyses
    from supplygraph.analysis.scenarios import get_scenario
    from supplygraph.report import write_report

    G = load_source(source)
    if scenario:
        scenarios = [get_scenario(s, dataset=source) for s in scenario]
    elif no_scenarios or shock:
        scenarios = []
    else:
        scenarios = [get_scenario(p) for p in _builtin_scenarios(source)]
    shocks = None
    if shock:
        from supplygraph.analysis.shocks import parse_shock

        shocks = [parse_shock(s) for s in shock]
    target = out if out is not None else _default_out(source)
    spec = draw_spec(draws, seed, sampling, distribution)
    files = write_report(
        G,
        target,
        scenarios=scenarios,
        shocks=shocks,
        model=model,
        date=date,
        network=network,
        draws=spec,
    )
    for name in sorted(files):
        typer.echo(str(files[name]))
    message(f"report written to {target}/ in {time.perf_counter() - t0:.1f} s")
