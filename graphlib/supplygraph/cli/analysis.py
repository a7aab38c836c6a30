"""Analysis commands: concentration, chokepoints, disrupt, sweep, trace.

Each command loads SOURCE (default: the built-in ``rare-earths`` dataset), runs one analysis
function of :mod:`supplygraph.analysis` and prints its table (``--format table|json|csv``; json is
a list of records). Exit codes: 0 ok, 1 bad input (one line on stderr), 2 usage error.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from supplygraph.cli import app
from supplygraph.cli._common import (
    DEFAULT_SOURCE,
    DistributionOpt,
    DrawsOpt,
    DrawWorkersOpt,
    FloorOpt,
    FormatOpt,
    OutputFormat,
    OutputOpt,
    PriorityOpt,
    RationingOpt,
    ResponseOpt,
    SamplingChoice,
    SamplingOpt,
    SeedOpt,
    SourceArg,
    SubstitutionOpt,
    ThroughHubsOpt,
    apply_scenario,
    draw_spec,
    draws_message,
    emit_table,
    guarded,
    load_source,
    message,
    response_options,
)


class Model(StrEnum):
    """Production model used to propagate a loss downstream."""

    linear = "linear"
    leontief = "leontief"


class SweepBy(StrEnum):
    """What a sweep removes, one at a time."""

    node = "node"
    country_stage = "country-stage"


class ChokepointKind(StrEnum):
    """Which rows the chokepoint ranking holds."""

    all = "all"
    node = "node"
    country_stage = "country-stage"


class DisruptTable(StrEnum):
    """Which table ``disrupt`` prints."""

    targets = "targets"
    end_uses = "end-uses"
    nodes = "nodes"


class Guidelines(StrEnum):
    """HHI band conventions of the US merger guidelines."""

    g2010 = "2010"
    g2023 = "2023"


ModelOpt = Annotated[
    Model,
    typer.Option(
        "--model",
        "-m",
        help="linear: output falls in proportion to lost inputs; leontief: within a supplier "
        "stage (or material) suppliers substitute, across stages the scarcest input binds.",
    ),
]
TopOpt = Annotated[
    int | None, typer.Option("--top", "-n", min=1, help="Show only the first N rows.")
]

SHOCK_HELP = """\
A shock: what is cut, optionally '=CUT' (fraction cut, 0-1; default 1 = full ban). Forms:
'CHN:separation' (one node id); 'CHN' (all of a country's nodes); 'CHN@separation' (a country
in one stage); '@separation' (a whole stage); 'CHN@magnets->USA' (flows from China's magnet
makers to the USA; also '->USA@end_use' or '@magnets->USA'). Example: 'CHN@magnets->USA=0.75'
cuts three quarters of those flows (a quarter of licences approved). Repeat --shock to combine.
"""


@app.command("concentration")
@guarded
def concentration_command(
    source: SourceArg = DEFAULT_SOURCE,
    guidelines: Annotated[
        Guidelines,
        typer.Option(
            "--guidelines",
            help="HHI bands for 'level': 2010 US merger guidelines (1,500 / 2,500) or 2023 "
            "(1,000 / 1,800).",
        ),
    ] = Guidelines.g2010,
    by_material: Annotated[
        bool,
        typer.Option(
            "--by-material",
            help="One row per stage and element group (the nodes' 'material', e.g. light and "
            "heavy rare earths) instead of one per stage.",
        ),
    ] = False,
    draws: DrawsOpt = None,
    seed: SeedOpt = 0,
    sampling: SamplingOpt = SamplingChoice.sobol,
    distribution: DistributionOpt = None,
    draw_workers: DrawWorkersOpt = 1,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Concentration of each stage (and of reserves): HHI, CR1/CR3, top country, EU 65 % check.

    HHI is on the 0-10,000 scale from country shares (nodes of one country summed; ROW/XXX
    aggregates kept in the totals but left out of the index). 'level' uses the US merger
    guidelines' bands; 'eu_single_country_cap' flags a country above 65 % of the stage (EU
    Critical Raw Materials Act benchmark); 'hhi_governance' is the EU governance-weighted HHI
    (0-10 scale) when nodes carry a 'governance' score. --by-material gives the same columns
    per stage and element group, with shares taken within the group.
    """
    from supplygraph.analysis.concentration import (
        MERGER_GUIDELINES_2010,
        MERGER_GUIDELINES_2023,
        concentration,
        concentration_by_material,
    )

    G = load_source(source)
    bands = MERGER_GUIDELINES_2023 if guidelines is Guidelines.g2023 else MERGER_GUIDELINES_2010
    spec = draw_spec(draws, seed, sampling, distribution)
    if spec is not None:
        from supplygraph.analysis.concentration import concentration_draws

        table, res = concentration_draws(
            G, spec, thresholds=bands, by_material=by_material, workers=draw_workers
        )
        emit_table(table, fmt, index=not by_material)
        draws_message(spec, res)
    elif by_material:
        emit_table(concentration_by_material(G, thresholds=bands), fmt, index=False)
    else:
        emit_table(concentration(G, thresholds=bands), fmt)


@app.command("chokepoints")
@guarded
def chokepoints_command(
    source: SourceArg = DEFAULT_SOURCE,
    threshold: Annotated[
        float,
        typer.Option(
            "--threshold",
            "-t",
            min=0.0,
            max=1.0,
            help="Count the targets that would lose at least this fraction of their output.",
        ),
    ] = 0.5,
    top: TopOpt = None,
    model: ModelOpt = Model.linear,
    kind: Annotated[
        ChokepointKind,
        typer.Option(
            "--kind",
            help="node, country-stage (all of a country's nodes in a stage together), or all "
            "(both; groups of a single node are shown as that node).",
        ),
    ] = ChokepointKind.all,
    response: ResponseOpt = None,
    substitution: SubstitutionOpt = None,
    rationing: RationingOpt = None,
    priority: PriorityOpt = None,
    floor: FloorOpt = None,
    draws: DrawsOpt = None,
    seed: SeedOpt = 0,
    sampling: SamplingOpt = SamplingChoice.sobol,
    distribution: DistributionOpt = None,
    draw_workers: DrawWorkersOpt = 1,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Rank chokepoints: what the end uses would lose without each node or country-stage.

    Ranked by output-weighted loss over the targets (the end uses), with the stage share and
    HHI, the worst-hit target, whether every supply path to some target runs through it
    (dominator), and a one-line reason.
    """
    from supplygraph.analysis.chokepoints import chokepoints

    G = load_source(source)
    resp = response_options(None, response, substitution, rationing, priority, floor)
    spec = draw_spec(draws, seed, sampling, distribution)
    table = chokepoints(
        G,
        threshold=threshold,
        model=model.value,
        top=top,
        kind=kind.value,
        response=resp,
        draws=spec,
        workers=draw_workers,
    )
    emit_table(table, fmt)
    if spec is not None:
        message(f"draws: {spec.describe()}; robust = keeps its rank or better in >= 90 % of draws")


@app.command("disrupt")
@guarded
def disrupt_command(
    source: SourceArg = DEFAULT_SOURCE,
    shock: Annotated[
        list[str] | None,
        typer.Option("--shock", "-s", help=SHOCK_HELP, show_default=False),
    ] = None,
    scenario: Annotated[
        str | None,
        typer.Option(
            "--scenario",
            help="A scenario .toml file, or the name of a built-in scenario of the dataset; its "
            "shocks (all of them, ignoring time windows) are added to any --shock.",
        ),
    ] = None,
    model: Annotated[
        Model | None,
        typer.Option(
            "--model",
            "-m",
            help="linear or leontief; default: the scenario's model, else linear.",
            show_default=False,
        ),
    ] = None,
    table: Annotated[
        DisruptTable,
        typer.Option(
            "--table",
            help="targets: one row per target (end use node); end-uses: targets summed by "
            "end-use sector, with a total row; nodes: every node.",
        ),
    ] = DisruptTable.targets,
    response: ResponseOpt = None,
    substitution: SubstitutionOpt = None,
    rationing: RationingOpt = None,
    priority: PriorityOpt = None,
    floor: FloorOpt = None,
    draws: DrawsOpt = None,
    seed: SeedOpt = 0,
    sampling: SamplingOpt = SamplingChoice.sobol,
    distribution: DistributionOpt = None,
    draw_workers: DrawWorkersOpt = 1,
    fmt: FormatOpt = OutputFormat.table,
    output: OutputOpt = None,
) -> None:
    """Propagate one or more shocks downstream and print what each end use loses.

    Shock syntax (repeat --shock):

    \b
      CHN:separation          one node (its id)
      CHN                     every node of a country
      CHN@separation          a country's nodes in one stage
      @separation             a whole stage
      CHN@magnets->USA        flows from China's magnet makers to the USA
      CHN@magnets->USA@end_use, @magnets->USA   (destination stage / any origin country)
      ...=0.75                cut 75 % (default 1 = full ban)

    Example: supplygraph disrupt --shock "CHN@separation" --shock "CHN@magnets->USA=0.75"
    """
    if not shock and scenario is None:
        message(
            "error: give at least one --shock (or --scenario); see 'supplygraph disrupt --help'"
        )
        raise typer.Exit(code=2)
    from supplygraph.analysis.disruption import disrupt
    from supplygraph.analysis.shocks import parse_shock

    shocks = [parse_shock(text) for text in shock or []]
    G = load_source(source)
    chosen = model.value if model is not None else None
    sc = None
    if scenario is not None:
        G, sc = apply_scenario(G, source, scenario)
        shocks.extend(sc.shocks)
        chosen = chosen or sc.model
    resp = response_options(sc, response, substitution, rationing, priority, floor)
    spec = draw_spec(draws, seed, sampling, distribution)
    result = disrupt(
        G,
        shocks,
        model=chosen or "linear",
        response=resp,
        draws=spec,
        scenario=sc,
        workers=draw_workers,
    )
    frames = {
        DisruptTable.targets: result.targets,
        DisruptTable.end_uses: result.by_end_use,
        DisruptTable.nodes: result.nodes,
    }
    emit_table(frames[table], fmt, output=output)
    what = "; ".join(str(s) for s in shocks[: len(shock or [])])
    if sc is not None:
        what = f"{what}; scenario {sc.name}" if what else f"scenario {sc.name}"
    units = set(result.targets["unit"].fillna("").astype(str))
    basis = (
        "output-weighted"
        if len(units) == 1
        else "each end use weighted equally, as their units differ"
    )
    how = result.model if resp.model == "none" else f"{result.model}, response {resp.describe()}"
    message(f"{what} ({how}): {result.total_loss_share:.1%} of end-use output lost ({basis})")
    if resp.model == "optimal":
        message(
            "optimal: each target's and end use's figure is the most it alone could get; the "
            "total is the best for all together"
        )
        for name, row in result.by_end_use.iterrows():
            if name != "total" and row["loss_share"] > 1e-9:
                message(f"  {name}: {row['binding']}")
    if spec is not None:
        draws_message(spec, result.uncertainty)
        by = result.by_end_use
        p = [f"{k} {v:.0%}" for k, v in by["p_loss_ge_50"].items() if k != "total"]
        message("P(an end use loses >= 50 %): " + ", ".join(p))


@app.command("sweep")
@guarded
def sweep_command(
    source: SourceArg = DEFAULT_SOURCE,
    by: Annotated[
        SweepBy,
        typer.Option("--by", help="Remove one node at a time, or one country-stage at a time."),
    ] = SweepBy.node,
    model: ModelOpt = Model.linear,
    top: TopOpt = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            "-j",
            min=1,
            help="Processes for the leontief sweep (the linear sweep is one solve).",
        ),
    ] = 1,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Run the leontief sweep on a Dask cluster at this address "
            "(tcp://host:8786; needs the supplygraph[dask] extra). Overrides --workers.",
            show_default=False,
        ),
    ] = None,
    response: ResponseOpt = None,
    substitution: SubstitutionOpt = None,
    rationing: RationingOpt = None,
    priority: PriorityOpt = None,
    floor: FloorOpt = None,
    draws: DrawsOpt = None,
    seed: SeedOpt = 0,
    sampling: SamplingOpt = SamplingChoice.sobol,
    distribution: DistributionOpt = None,
    fmt: FormatOpt = OutputFormat.table,
    output: OutputOpt = None,
) -> None:
    """Remove every node (or country-stage) in turn; rank by output-weighted loss at the targets.

    With --response, each removal's loss is taken after the supply response (with --top, the
    response is evaluated only until the top rows are certain).
    """
    from supplygraph.analysis.disruption import sweep

    G = load_source(source)
    resp = response_options(None, response, substitution, rationing, priority, floor)
    table = sweep(
        G,
        model=model.value,
        by=by.value,
        workers=workers,
        scheduler=scheduler or None,
        response=resp,
        top=top if resp.model != "none" else None,
        draws=draw_spec(draws, seed, sampling, distribution),
    )
    if top is not None:
        table = table.head(top)
    emit_table(table, fmt, output=output)
    if draws is not None:
        spec = draw_spec(draws, seed, sampling, distribution)
        message(f"draws: {spec.describe()}; robust = keeps its rank or better in >= 90 % of draws")


@app.command("trace")
@guarded
def trace_command(
    source: SourceArg = DEFAULT_SOURCE,
    origin: Annotated[
        str,
        typer.Option(
            "--origin", "-o", help="Origin country code (ISO3, e.g. CHN).", show_default=False
        ),
    ] = ...,  # type: ignore[assignment]
    stage: Annotated[
        str | None,
        typer.Option(
            "--stage",
            help="Attribute origin at this stage (e.g. 'separation': where the oxide was "
            "separated); default: the first stage (where it was mined).",
        ),
    ] = None,
    threshold: Annotated[
        float,
        typer.Option(
            "--threshold",
            "-t",
            min=0.0,
            max=1.0,
            help="List nodes whose output traces back to ORIGIN for at least this fraction "
            "(0.001 = 0.1 %, the MOFCOM No. 61/2025 de-minimis level).",
        ),
    ] = 0.001,
    through_hubs: ThroughHubsOpt = False,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """List the nodes whose output traces back to an origin country, largest share first."""
    import pandas as pd

    from supplygraph.analysis.origins import origin_shares
    from supplygraph.errors import InputError

    G = load_source(source)
    code = origin.strip().upper()
    shares = origin_shares(G, level="country", stage=stage, through_hubs=through_hubs)
    if code not in shares.columns:
        known = ", ".join(str(c) for c in shares.columns)
        msg = f"origin {origin!r} is not an origin country of this graph (origins: {known})"
        raise InputError(msg)
    col = shares[code].astype(float)
    hit = col[col >= threshold].sort_values(ascending=False, kind="stable")
    table = pd.DataFrame(
        {
            "node": [str(n) for n in hit.index],
            "stage": [G.nodes[n].get("stage") if n in G else None for n in hit.index],
            "country": [G.nodes[n].get("country") if n in G else None for n in hit.index],
            "origin_share": hit.to_numpy(),
        }
    )
    emit_table(table, fmt, index=False)
