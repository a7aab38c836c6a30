"""View commands: ``supplygraph visualize`` (the interactive network view, one HTML file) and
``supplygraph sankey`` (flows by stage and country, one SVG or HTML file).

The files are self-contained and work offline: open them in any browser, forward them by e-mail.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from supplygraph.cli import app
from supplygraph.cli._common import (
    DEFAULT_SOURCE,
    ResponseOpt,
    SourceArg,
    SubstitutionOpt,
    apply_scenario,
    guarded,
    load_source,
    message,
    response_options,
    scenario_dataset,
)


class Detail(StrEnum):
    """Level of detail the view opens on."""

    auto = "auto"
    full = "full"
    overview = "overview"


class ViewModel(StrEnum):
    """Production model used for dependency, chokepoints and shocks."""

    linear = "linear"
    leontief = "leontief"


@app.command("visualize")
@guarded
def visualize_command(
    source: SourceArg = DEFAULT_SOURCE,
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="The HTML file to write.", dir_okay=False),
    ] = Path("network.html"),
    shock: Annotated[
        list[str] | None,
        typer.Option(
            "--shock",
            "-s",
            help="Shade nodes by the output they keep after this shock: 'CHN@separation', "
            "'CHN:separation', 'CHN', '@separation', 'CHN@magnets->USA', each optionally '=CUT' "
            "(0-1, default 1 = ban). Repeat to combine; see 'supplygraph disrupt --help'.",
            show_default=False,
        ),
    ] = None,
    scenario: Annotated[
        str | None,
        typer.Option(
            "--scenario",
            help="A scenario .toml file, or the name of a built-in scenario of the dataset; its "
            "shocks (ignoring time windows) are added to any --shock.",
        ),
    ] = None,
    model: Annotated[
        ViewModel | None,
        typer.Option(
            "--model",
            "-m",
            help="linear or leontief; default: the scenario's model, else linear.",
            show_default=False,
        ),
    ] = None,
    threshold: Annotated[
        float,
        typer.Option(
            "--threshold",
            "-t",
            min=0.0,
            max=1.0,
            help="Draw a node as a chokepoint when some end use would lose at least this "
            "fraction of its output without it.",
        ),
    ] = 0.5,
    title: Annotated[
        str | None, typer.Option("--title", help="Page title (default: the dataset name).")
    ] = None,
    detail: Annotated[
        Detail,
        typer.Option(
            "--detail",
            help="full: every node; overview: one cell per country and stage, opened by "
            "clicking; auto: full up to 300 nodes.",
        ),
    ] = Detail.auto,
    whatif: Annotated[
        list[str] | None,
        typer.Option(
            "--whatif",
            help="More scenarios (names or .toml files) for the what-if panel; repeat.",
            show_default=False,
        ),
    ] = None,
    response: ResponseOpt = None,
    substitution: SubstitutionOpt = None,
) -> None:
    """Write the interactive network view: one offline HTML file, stages as columns.

    Colour: country. Size: share of the stage. Edge width: flow. Diamonds: chokepoints.

    With --shock or --scenario, the fill shows the share of output each node keeps; add
    --response optimal (or rules) to colour what limits the end uses: the capacities and shock
    caps that bind at the optimum (or that the rules' orders run into, and spare capacity left
    idle for lack of inputs).

    Example: supplygraph visualize -o network.html --shock "CHN@separation"
    """
    from supplygraph.view import visualize

    G = load_source(source)
    shocks: list[object] = []
    chosen = model.value if model is not None else None
    if shock:
        from supplygraph.analysis.shocks import parse_shock

        shocks.extend(parse_shock(text) for text in shock)
    shown: object = shocks or None
    if scenario is not None:
        import dataclasses

        _, sc = apply_scenario(G, source, scenario)  # checks the scenario against the graph
        # the view applies the capacity changes itself, so its panel can vary them
        shown = dataclasses.replace(sc, shocks=(*shocks, *sc.shocks)) if shocks else sc
        chosen = chosen or sc.model
        if title is None:
            title = f"{G.graph.get('name') or source}: {sc.name}"
    highlight = None
    if shown is not None:
        resp = response_options(
            sc if scenario is not None else None, response, substitution, None, None
        )
        if resp.model != "none":
            from supplygraph.analysis.disruption import disrupt
            from supplygraph.analysis.limits import highlight_limits
            from supplygraph.analysis.scenarios import apply_capacity

            H = apply_capacity(G, sc) if scenario is not None else G
            all_shocks = [*shocks, *(sc.shocks if scenario is not None else ())]
            result = disrupt(H, all_shocks, model=chosen or "linear", response=resp, detail=False)
            highlight = highlight_limits(result.binding)
            message(
                f"highlighted what limits the end uses under the {resp.describe()} response: "
                f"{len(highlight)} nodes and links"
            )
    extra = []
    if whatif:
        from supplygraph.analysis.scenarios import get_scenario

        extra = [get_scenario(name, dataset=scenario_dataset(source)) for name in whatif]
    path = visualize(
        G,
        output,
        shocks=shown,
        model=chosen or "linear",
        title=title,
        threshold=threshold,
        detail=detail.value,
        whatif=extra,
        source_text=source,
        highlight=highlight,
    )
    message(
        f"wrote {path} ({G.number_of_nodes():,} nodes, {G.number_of_edges():,} flows); "
        "open it in a browser (works offline)"
    )


@app.command("sankey")
@guarded
def sankey_command(
    source: SourceArg = DEFAULT_SOURCE,
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="The .svg or .html file to write.", dir_okay=False),
    ] = Path("sankey.svg"),
    top: Annotated[
        int,
        typer.Option("--top", min=1, max=40, help="Countries per stage with their own node."),
    ] = 8,
    title: Annotated[
        str | None, typer.Option("--title", help="Heading (default: the dataset name).")
    ] = None,
) -> None:
    """Write a Sankey of the flows by stage and country: one static, offline SVG or HTML file.

    Columns are stages, bands are summed flows coloured by the supplier's country; flows back
    to an earlier stage (recycling) are drawn as dashed bands under the columns.

    Example: supplygraph sankey -o flows.svg --top 6
    """
    from supplygraph.errors import InputError
    from supplygraph.sankey import sankey_diagram

    if output.suffix.lower() not in (".svg", ".html", ".htm"):
        msg = f"{output}: the Sankey is written as .svg or .html"
        raise InputError(msg)
    G = load_source(source)
    path = sankey_diagram(G, output, top=top, title=title)
    message(f"wrote {path}; open it in a browser (works offline)")
