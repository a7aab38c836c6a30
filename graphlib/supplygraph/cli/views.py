"""View commands: ``supplygraph visualize`` writes the interactive network view (one HTML file).

The file is self-contained and works offline: open it in any browser, forward it by e-mail.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from supplygraph.cli import app
from supplygraph.cli._common import (
    DEFAULT_SOURCE,
    SourceArg,
    apply_scenario,
    guarded,
    load_source,
    message,
)


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
) -> None:
    """Write the interactive network view: one offline HTML file, stages as columns.

    Colour: country. Size: share of the stage. Edge width: flow. Diamonds: chokepoints.

    With --shock or --scenario, the fill shows the share of output each node keeps.

    Example: supplygraph visualize -o network.html --shock "CHN@separation"
    """
    from supplygraph.view import visualize

    G = load_source(source)
    shocks: list[object] = []
    chosen = model.value if model is not None else None
    if shock:
        from supplygraph.analysis.shocks import parse_shock

        shocks.extend(parse_shock(text) for text in shock)
    if scenario is not None:
        G, sc = apply_scenario(G, source, scenario)
        shocks.extend(sc.shocks)
        chosen = chosen or sc.model
        if title is None:
            title = f"{G.graph.get('name') or source}: {sc.name}"
    path = visualize(
        G,
        output,
        shocks=shocks or None,
        model=chosen or "linear",
        title=title,
        threshold=threshold,
    )
    message(
        f"wrote {path} ({G.number_of_nodes():,} nodes, {G.number_of_edges():,} flows); "
        "open it in a browser (works offline)"
    )
