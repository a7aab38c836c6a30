"""Commands about scenarios and time: ``scenarios``, ``timeline``, ``stockpile``, ``deminimis``."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from supplygraph.cli import app
from supplygraph.cli._common import (
    DEFAULT_SOURCE,
    DistributionOpt,
    DrawsOpt,
    DrawWorkersOpt,
    FormatOpt,
    OutputFormat,
    PriorityOpt,
    RationingChoice,
    RationingOpt,
    ResponseChoice,
    SamplingChoice,
    SamplingOpt,
    SeedOpt,
    SourceArg,
    SubstitutionChoice,
    SubstitutionOpt,
    ThroughHubsOpt,
    draw_spec,
    draws_message,
    emit_table,
    guarded,
    load_source,
    message,
    response_options,
    scenario_dataset,
)

if TYPE_CHECKING:
    import networkx as nx

    from supplygraph.analysis.response_options import Response
    from supplygraph.analysis.scenarios import Scenario

TimelineResponseOpt = Annotated[
    ResponseChoice | None,
    typer.Option(
        "--response",
        "-r",
        help="none: nobody reacts (the default unless the scenario's response table says "
        "otherwise). rules: each day, customers short of supply re-source from suppliers with "
        "spare capacity, which ramps up over ramp_days after ramp_delay_days. optimal "
        "(timeline only): per end use the longest it could be kept whole, in weekly periods "
        "(an upper bound).",
        show_default=False,
    ),
]

EndUseOpt = Annotated[str | None, typer.Option("--end-use", help="Target sector, e.g. defense.")]
NodeOpt = Annotated[list[str] | None, typer.Option("--node", help="Target node id (repeatable).")]
MinOutputOpt = Annotated[
    float, typer.Option("--min-output", min=0.0, max=1.0, help="Required output fraction.")
]
DaysOpt = Annotated[int, typer.Option("--days", min=1, help="Days the target must hold.")]

ScenarioOpt = Annotated[
    str,
    typer.Option(
        "--scenario",
        "-s",
        help="A scenario .toml file, or the name of a built-in scenario "
        "(see `supplygraph scenarios`).",
    ),
]


class Level(StrEnum):
    """What the timeline table shows."""

    end_use = "end-use"
    node = "node"


def _scenario(G: nx.DiGraph, source: str, name: str) -> Scenario:
    from supplygraph.analysis.scenarios import get_scenario, validate_scenario

    sc = get_scenario(name, dataset=scenario_dataset(source))
    validate_scenario(G, sc)
    return sc


def _timeline_response(
    sc: Scenario,
    response: ResponseChoice | None,
    substitution: SubstitutionChoice | None,
    rationing: RationingChoice | None,
    priority: list[str] | None,
    *,
    optimal: bool = True,
) -> Response:
    """The response of a time command: options, else the scenario's (where the command has no
    optimal form, a scenario's optimal falls back to its rules counterpart, with a note)."""
    resp: Response = response_options(sc, response, substitution, rationing, priority)
    if resp.model == "optimal" and response is None and not optimal:
        message(
            "the scenario names the optimal response; the stockpile is sized against its "
            "rules counterpart (use mitigate for the optimum)"
        )
        import dataclasses

        resp = dataclasses.replace(resp, model="rules")
    return resp


@app.command("scenarios")
@guarded
def scenarios_cmd(
    source: SourceArg = DEFAULT_SOURCE,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """List the built-in scenarios of a dataset and check each against its graph.

    Each scenario is a TOML file of sourced shocks (see the `timeline` command and the
    scenario-format docs in supplygraph.analysis.scenarios).
    """
    from supplygraph.analysis.scenarios import get_scenario, list_scenarios, validate_scenario
    from supplygraph.errors import SupplyGraphError

    table = list_scenarios(source)
    G = load_source(source)
    checks = []
    for name in table["name"]:
        try:
            validate_scenario(G, get_scenario(name, dataset=source))
            checks.append("ok")
        except SupplyGraphError as exc:
            checks.append(f"error: {exc}")
    table["check"] = checks
    if fmt is OutputFormat.table:
        table["sources"] = [len(s.split("; ")) if s else 0 for s in table["sources"]]
        table = table.drop(columns=["file"])
    emit_table(table, fmt, index=False)


@app.command("timeline")
@guarded
def timeline_cmd(
    scenario: ScenarioOpt,
    source: SourceArg = DEFAULT_SOURCE,
    horizon: Annotated[
        int, typer.Option("--horizon", min=1, help="Days to simulate from day 0.")
    ] = 365,
    level: Annotated[
        Level, typer.Option("--level", help="end-use (one row per sector) or node.")
    ] = Level.end_use,
    daily: Annotated[
        bool,
        typer.Option("--daily", help="Print output per day (rows) and end use (columns) instead."),
    ] = False,
    response: TimelineResponseOpt = None,
    substitution: SubstitutionOpt = None,
    rationing: RationingOpt = None,
    priority: PriorityOpt = None,
    draws: DrawsOpt = None,
    seed: SeedOpt = 0,
    sampling: SamplingOpt = SamplingChoice.sobol,
    distribution: DistributionOpt = None,
    draw_workers: DrawWorkersOpt = 1,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Simulate a scenario day by day: when does each end use run short, how deep, how long.

    Nodes draw down their inventory_days to cover shortfalls and cut output only when empty;
    flows arrive after their lead_days. TTS = first day output < 100 %; depth = lowest output
    fraction; cumulative_lost = value x lost days / 365 in the node's unit; time_to_recovery =
    the day supply (before stock) is back at 100 % for good; short_before_recovery = the stock
    runs out first. With --response rules, spare capacity ramps up and short customers
    re-source day by day.
    """
    from supplygraph.analysis.timeline import timeline

    G = load_source(source)
    sc = _scenario(G, source, scenario)
    resp = _timeline_response(sc, response, substitution, rationing, priority)
    spec = draw_spec(draws, seed, sampling, distribution)
    if spec is not None and resp.model != "none" and response is None:
        message(
            f"draws: the intervals are for no response (the scenario names {resp.model}; "
            "the timeline draws its no-response model only)"
        )
        from supplygraph.analysis.response_options import Response

        resp = Response()
    res = timeline(
        G, sc, horizon=horizon, daily=False, response=resp, draws=spec, workers=draw_workers
    )
    day0 = f", day 0 = {sc.start_date.isoformat()}" if sc.start_date else ""
    message(
        f"scenario {sc.name}: {len(sc.shocks)} shocks, horizon {horizon} days{day0}, "
        f"response {resp.describe()}"
    )
    if daily:
        emit_table(res.daily_end_uses.round(6), fmt)
    elif level is Level.node:
        cols = [
            "stage",
            "country",
            "end_use",
            "inventory_days",
            "recovery_days",
            "time_to_shortage",
            "depth",
            "lost_days",
            "cumulative_lost",
            "unit",
            "tts_lt_ttr",
            "time_to_recovery",
            "short_before_recovery",
        ]
        emit_table(res.summary[cols], fmt)
    else:
        emit_table(res.end_uses, fmt)
    if spec is not None:
        draws_message(spec, res.uncertainty)
        p = res.end_uses["p_tts_lt_60"]
        message("P(time to shortage < 60 days): " + ", ".join(f"{k} {v:.0%}" for k, v in p.items()))


@app.command("stockpile")
@guarded
def stockpile_cmd(
    scenario: ScenarioOpt,
    source: SourceArg = DEFAULT_SOURCE,
    end_use: EndUseOpt = None,
    node: NodeOpt = None,
    min_output: MinOutputOpt = 0.9,
    days: DaysOpt = 180,
    stage: Annotated[
        str | None,
        typer.Option("--stage", help="Hold the stock at every node of this stage instead."),
    ] = None,
    response: TimelineResponseOpt = None,
    substitution: SubstitutionOpt = None,
    rationing: RationingOpt = None,
    priority: PriorityOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Smallest added stock (days of normal use) that keeps a target up through a scenario.

    Example: `supplygraph stockpile --scenario full-separation-ban --end-use defense
    --min-output 0.9 --days 180` sizes each defense node's own stockpile; add `--stage magnets`
    to hold it at the magnet stage.
    """
    from supplygraph.analysis.stockpile import stockpile

    G = load_source(source)
    sc = _scenario(G, source, scenario)
    resp = _timeline_response(sc, response, substitution, rationing, priority, optimal=False)
    df = stockpile(
        G,
        sc,
        target_nodes=node or None,
        end_use=end_use,
        min_output=min_output,
        days=days,
        stage=stage,
        response=resp,
    )
    message(f"stock sized against the {resp.describe()} response")
    emit_table(df, fmt, index=False)


@app.command("deminimis")
@guarded
def deminimis_cmd(
    source: SourceArg = DEFAULT_SOURCE,
    origin: Annotated[str, typer.Option("--origin", help="Controlled origin country.")] = "CHN",
    threshold: Annotated[
        float,
        typer.Option(
            "--threshold", min=0.0, max=1.0, help="Content share that triggers the rule (0.001)."
        ),
    ] = 0.001,
    stage: Annotated[
        str | None,
        typer.Option("--stage", help="Stage where origin is attributed (default: source stage)."),
    ] = None,
    compare: Annotated[
        bool,
        typer.Option("--compare", help="Compare 0.1 % with the EAR's 10 % and 25 % per stage."),
    ] = False,
    by_country: Annotated[
        bool, typer.Option("--by-country", help="Sum the output subject to licensing per country.")
    ] = False,
    content_share: Annotated[
        float,
        typer.Option(
            "--content-share",
            min=0.0,
            max=1.0,
            help="Share of an end-use product's value that is rare-earth material (default 1).",
        ),
    ] = 1.0,
    through_hubs: ThroughHubsOpt = False,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Which foreign products a content rule on ORIGIN catches (MOFCOM No. 61: 0.1 %).

    A node is caught when it is foreign and the share of its output traced to ORIGIN is at least
    THRESHOLD; its whole output is then subject to licensing.
    """
    from supplygraph.analysis.deminimis import (
        EAR_THRESHOLDS,
        deminimis_by_country,
        deminimis_compare,
        deminimis_reach,
    )

    G = load_source(source)
    share = {"end_use": content_share} if content_share != 1.0 else 1.0
    if compare:
        thresholds = sorted({float(threshold), *EAR_THRESHOLDS})
        table = deminimis_compare(
            G, origin, thresholds, stage, content_share=share, through_hubs=through_hubs
        )
        emit_table(table, fmt, index=False)
        return
    reach = deminimis_reach(
        G, origin, threshold, stage, content_share=share, through_hubs=through_hubs
    )
    if by_country:
        emit_table(deminimis_by_country(reach), fmt, index=False)
    else:
        emit_table(reach, fmt, index=False)


@app.command("mitigate")
@guarded
def mitigate_cmd(
    scenario: ScenarioOpt,
    source: SourceArg = DEFAULT_SOURCE,
    end_use: EndUseOpt = None,
    node: NodeOpt = None,
    min_output: MinOutputOpt = 0.9,
    days: DaysOpt = 365,
    options: Annotated[
        str | None,
        typer.Option(
            "--options",
            help="A CSV or xlsx table of options: node, lever (stock | capacity), unit_cost, "
            "and optional maximum, ramp_days, start_day. Default: stock at the targets and "
            "capacity at every uncut node upstream, all at cost 1 (placeholders).",
            show_default=False,
        ),
    ] = None,
    step: Annotated[
        int, typer.Option("--step", min=1, help="Period length of the program, in days.")
    ] = 7,
    substitution: SubstitutionOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Least-cost mix of added stock and added capacity that keeps a target up through a scenario.

    A linear program over time (periods of --step days) picks amounts of each option, with
    spare and new capacity ramping up and stocks drawn down; the plan is then run day by day
    under the rules (and with no response), and its stock raised until it holds there.
    Example: supplygraph mitigate --scenario april-2025-licences --end-use defense
    --min-output 0.9 --days 365
    """
    from supplygraph.analysis.mitigation import mitigate

    G = load_source(source)
    sc = _scenario(G, source, scenario)
    resp = response_options(sc, None, substitution, None, None)
    plan = mitigate(
        G,
        sc,
        end_use=end_use,
        target_nodes=node or None,
        min_output=min_output,
        days=days,
        options=options,
        step=step,
        response=resp,
    )
    what = end_use or ", ".join(node or []) or "every end use"
    if not plan.feasible:
        message(
            f"no mix of the options keeps {what} at {min_output:.0%} for {days} days; at best "
            f"{plan.best_min_output:.1%}"
        )
    else:
        message(f"plan for {what} at {min_output:.0%} for {days} days: cost {plan.total_cost:,.6g}")
        for phrase in plan.binding:
            message(f"  what binds: {phrase}")
    for a in plan.assumptions:
        message(f"  note: {a}")
    for rec in plan.check.to_dict("records"):
        tts = rec["time_to_shortage"]
        when = f"short from day {int(tts)}" if tts == tts else "never short"
        message(
            f"  check ({rec['response']}, {rec['plan']}): lowest output "
            f"{rec['lowest_output']:.1%}, {when}"
        )
    emit_table(plan.plan, fmt, index=False)
