"""Spreadsheet commands: write the fill-in template, validate a workbook or CSV tables."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from supplygraph.cli import app
from supplygraph.cli._common import FormatOpt, OutputFormat, emit_table, guarded, message

PROBLEM_COLUMNS = ["file", "sheet", "row", "column", "value", "message", "severity"]


@app.command("template")
@guarded
def template_command(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write the workbook (.xlsx).")
    ] = Path("chain.xlsx"),
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite the file when it exists.")
    ] = False,
) -> None:
    """Write a workbook to fill in: Elements, Connections, StageShares, with dropdowns and examples.

    Check the filled-in file with `supplygraph validate FILE`, then use it as SOURCE anywhere.
    """
    from supplygraph.errors import InputError
    from supplygraph.io.template import write_template

    if output.exists() and not force:
        msg = "file exists; use --force to overwrite it"
        raise InputError(msg, file=str(output))
    path = write_template(output)
    typer.echo(str(path))
    message(f"wrote {path}: fill in Elements + Connections (or StageShares), then validate it")


@app.command("validate")
@guarded
def validate_command(
    file: Annotated[
        Path,
        typer.Argument(
            help="An .xlsx workbook, a .csv table or a folder of CSV tables.",
            exists=True,
            file_okay=True,
            dir_okay=True,
            readable=True,
        ),
    ],
    strict: Annotated[bool, typer.Option("--strict", help="Treat warnings as errors.")] = False,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Check a workbook or CSV tables and list EVERY problem (file, sheet, row, column, value).

    Exits 1 when any problem is an error (with --strict: any problem at all), 0 otherwise.
    What the reader assumed (share scales, country names rewritten, blank rows skipped) is
    printed on stderr.
    """
    import pandas as pd

    from supplygraph.io.tables import read_tables
    from supplygraph.validate_tables import validate_tables

    tables = read_tables(file, strict=strict, validate=False)
    problems = validate_tables(tables, strict=strict, raise_errors=False)
    for note in tables.notes:
        message(f"note: {note}")
    table = pd.DataFrame([p.as_dict() for p in problems], columns=PROBLEM_COLUMNS)
    table["row"] = table["row"].astype("Int64")
    n_err = sum(p.severity == "error" for p in problems)
    n_warn = sum(p.severity == "warning" for p in problems)
    if fmt is OutputFormat.table:
        table = table.astype(object).where(table.notna(), "")
    if problems or fmt is not OutputFormat.table:
        emit_table(table, fmt, index=False)
    counts = f"{len(tables.nodes)} nodes, {len(tables.edges)} connections"
    if tables.shares is not None:
        counts += f", {len(tables.shares)} stage-share rows"
    message(
        f"{file.name}: {n_err} error{'s' * (n_err != 1)}, {n_warn} warning{'s' * (n_warn != 1)} "
        f"({counts})"
    )
    if n_err:
        raise typer.Exit(code=1)
