"""Data commands: list built-in datasets, describe a source, export it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from supplygraph.cli import app
from supplygraph.cli._common import (
    DEFAULT_SOURCE,
    FormatOpt,
    OutputFormat,
    SourceArg,
    emit_records,
    emit_table,
    guarded,
    load_source,
    message,
)


@app.command("datasets")
@guarded
def datasets_command(fmt: FormatOpt = OutputFormat.table) -> None:
    """List the built-in datasets with their size and description."""
    from supplygraph.datasets import dataset_summaries

    columns = ["name", "nodes", "edges", "stages", "description"]
    emit_records(dataset_summaries(), fmt, columns)


@app.command("info")
@guarded
def info_command(
    source: SourceArg = DEFAULT_SOURCE,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Describe a source: stages in order, node/edge counts, countries, validation warnings.

    Exits 1 when the source cannot be loaded (the problems are printed on stderr).
    """
    import pandas as pd

    from supplygraph.validate import validate_graph

    G = load_source(source)
    stages = list(G.graph.get("stages", []))
    warnings = [*G.graph.get("warnings", []), *(str(p) for p in validate_graph(G))]
    rows = []
    for stage in stages:
        members = [d for _, d in G.nodes(data=True) if d.get("stage") == stage]
        countries = sorted({str(d.get("country")) for d in members if d.get("country")})
        rows.append(
            {
                "stage": stage,
                "nodes": len(members),
                "countries": len(countries),
                "unit": G.graph.get("units", {}).get(stage, ""),
                "examples": ", ".join(countries[:6]) + (" ..." if len(countries) > 6 else ""),
            }
        )
    table = pd.DataFrame(rows, columns=["stage", "nodes", "countries", "unit", "examples"])
    summary = {
        "name": G.graph.get("name"),
        "description": G.graph.get("description", ""),
        "nodes": G.number_of_nodes(),
        "edges": G.number_of_edges(),
        "stages": stages,
        "stage_order": "inferred from the edges"
        if G.graph.get("stage_order_inferred")
        else "given",
        "countries": sorted({str(d["country"]) for _, d in G.nodes(data=True) if "country" in d}),
        "warnings": warnings,
    }
    if fmt is OutputFormat.json:
        summary["stage_table"] = table.to_dict("records")
        sys.stdout.write(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
        return
    if fmt is OutputFormat.csv:
        emit_table(table, fmt, index=False)
    else:
        typer.echo(f"{summary['name']}: {summary['description']}".rstrip(": "))
        typer.echo(
            f"{summary['nodes']} nodes, {summary['edges']} edges, "
            f"{len(summary['countries'])} countries"
        )
        typer.echo(f"stages ({summary['stage_order']}): {' -> '.join(stages)}")
        typer.echo("")
        emit_table(table, fmt, index=False)
    for warning in warnings:
        message(f"warning: {warning}")


@app.command("export")
@guarded
def export_command(
    source: SourceArg = DEFAULT_SOURCE,
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="Output file: .graphml, .gexf, .json (node-link) or .xlsx."
        ),
    ] = Path("graph.graphml"),
) -> None:
    """Export a source to GraphML, GEXF, node-link JSON or the xlsx template (by suffix)."""
    from supplygraph.io.exports import export_graph

    G = load_source(source)
    path = export_graph(G, output)
    message(f"wrote {path} ({G.number_of_nodes()} nodes, {G.number_of_edges()} edges)")
