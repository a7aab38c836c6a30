"""The ``supplygraph trade`` commands: ``flows``, ``hubs`` and ``build`` (BACI / Comtrade files)."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from supplygraph.cli import app
from supplygraph.cli._common import (
    FormatOpt,
    OutputFormat,
    emit_table,
    guarded,
    message,
)

if TYPE_CHECKING:
    import pandas as pd

    from supplygraph.trade.records import TradeData

trade_app = typer.Typer(
    help=(
        "Bilateral trade (CEPII BACI releases, UN Comtrade+ downloads) mapped to stages: flows, "
        "re-export hubs, and a dataset whose flows come from the trade data."
    ),
    no_args_is_help=True,
)
app.add_typer(trade_app, name="trade")


class FlowFormat(StrEnum):
    """How ``trade flows`` writes its table."""

    table = "table"
    json = "json"
    csv = "csv"
    parquet = "parquet"


PathArg = Annotated[
    Path,
    typer.Argument(
        help="A BACI release (folder, zip or yearly BACI_*.csv) or Comtrade+ data "
        "(CSV/TSV/.gz file, folder or zip).",
        show_default=False,
    ),
]
YearOpt = Annotated[int, typer.Option("--year", "-y", help="The data year.", show_default=False)]
MapOpt = Annotated[
    Path | None,
    typer.Option("--map", help="HS -> stage map CSV (default: the built-in map)."),
]
CountryOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--country",
        help="Re-map a code of the data, e.g. S19=TWN or 490=TWN (repeatable).",
    ),
]
CodesOpt = Annotated[
    Path | None,
    typer.Option(
        "--codes",
        help="Comtrade bulk files without ISO columns: a code file (BACI country_codes_V*.csv).",
    ),
]


class Prefer(StrEnum):
    """Whose record a Comtrade mirror pair keeps."""

    importer = "importer"
    exporter = "exporter"


PreferOpt = Annotated[
    Prefer,
    typer.Option("--prefer", help="Comtrade mirror pairs: keep the importer's or the exporter's."),
]


def _country_map(pairs: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise typer.BadParameter(f"expected CODE=ISO3, got {pair!r}", param_hint="--country")
        out[key.strip()] = value.strip()
    return out


def _read(
    path: Path,
    year: int,
    hs_map: Path | None,
    country: list[str] | None,
    codes: Path | None,
    prefer: Prefer,
) -> tuple[TradeData, Any]:
    from supplygraph.trade import read_hs_map, read_trade

    table = read_hs_map(hs_map)
    data = read_trade(
        path,
        year,
        table,
        country_map=_country_map(country),
        codes=codes,
        prefer="exporter" if prefer is Prefer.exporter else "importer",
    )
    for note in data.notes:
        message(f"note: {note}")
    return data, table


def _write(df: pd.DataFrame, fmt: FlowFormat, output: Path) -> None:
    from supplygraph.io.safe_text import atomic_path, neutralize_frame

    with atomic_path(output) as tmp:
        if fmt is FlowFormat.parquet:
            df.to_parquet(tmp, index=False)
        elif fmt is FlowFormat.json:
            df.to_json(tmp, orient="records", indent=2, force_ascii=False)
        else:
            neutralize_frame(df).to_csv(tmp, index=False, lineterminator="\n")


@trade_app.command("flows")
@guarded
def flows_cmd(
    path: PathArg,
    year: YearOpt,
    hs_map: MapOpt = None,
    country: CountryOpt = None,
    codes: CodesOpt = None,
    prefer: PreferOpt = Prefer.importer,
    fmt: Annotated[
        FlowFormat,
        typer.Option("--format", "-f", help="table, json, csv, or parquet (needs -o)."),
    ] = FlowFormat.table,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
    ] = None,
) -> None:
    """One record per exporter, importer, stage and HS code of YEAR (kUSD, tonnes).

    Columns: year, exporter, importer (ISO3 or the release's own code), stage, hs6 (text),
    value_kusd, quantity_t (empty when unknown), quantity_basis and basis_unit (the HS map's
    conversion to the stage's unit).
    """
    data, _ = _read(path, year, hs_map, country, codes, prefer)
    if fmt is FlowFormat.parquet and output is None:
        raise typer.BadParameter("parquet is binary: give a file with -o", param_hint="--format")
    if output is not None:
        _write(data.flows, fmt, output)
        message(f"wrote {output} ({len(data.flows)} rows)")
        return
    emit_table(data.flows, OutputFormat(fmt.value), index=False)


@trade_app.command("hubs")
@guarded
def hubs_cmd(
    path: PathArg,
    year: YearOpt,
    production: Annotated[
        str,
        typer.Option(
            "--production",
            help="A country,stage,value CSV, or a graph source (dataset name, folder, xlsx ...).",
            show_default=False,
        ),
    ],
    tolerance: Annotated[
        float,
        typer.Option("--tolerance", min=0.0, help="Hub when exports > (1 + tolerance) x supply."),
    ] = 0.05,
    min_coverage: Annotated[
        float,
        typer.Option(
            "--min-coverage", min=0.0, max=1.0, help="Least share of trade value with tonnes."
        ),
    ] = 0.5,
    hs_map: MapOpt = None,
    country: CountryOpt = None,
    codes: CodesOpt = None,
    prefer: PreferOpt = Prefer.importer,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Re-export hubs: ratio = exports / (production + imports) per country and stage.

    hub is true when the ratio exceeds 1 + TOLERANCE, empty when production plus imports is
    zero or too little of the trade has known tonnes. All quantities are in the HS map's unit
    for the stage (e.g. t REO); production must be in the same unit.
    """
    from supplygraph.trade import hub_table, read_production

    data, table = _read(path, year, hs_map, country, codes, prefer)
    result = hub_table(
        data,
        read_production(production),
        tolerance=tolerance,
        min_coverage=min_coverage,
        units=table.stage_units(),
    )
    emit_table(result, fmt, index=False)


@trade_app.command("build")
@guarded
def build_cmd(
    path: PathArg,
    year: YearOpt,
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="The dataset folder to write.", show_default=False),
    ],
    into: Annotated[
        str,
        typer.Option("--into", help="The stage-shares dataset to fill (name or folder)."),
    ] = "rare-earths-aggregate",
    tolerance: Annotated[
        float, typer.Option("--tolerance", min=0.0, help="Hub-test tolerance.")
    ] = 0.05,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the output folder if it exists.")
    ] = False,
    hs_map: MapOpt = None,
    country: CountryOpt = None,
    codes: CodesOpt = None,
    prefer: PreferOpt = Prefer.importer,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Write a dataset in which the trade data's bilateral flows replace pooled ones.

    Trade tonnes are converted to the graph's units by the HS map's factors; exports beyond a
    country's output are routed as re-exports of its imports; importers split their imports
    between their nodes as they drew before. Prints the coverage per stage (also written to
    DIR/coverage.csv); every command then runs on DIR.
    """
    from supplygraph.trade import build_trade_dataset

    data, table = _read(path, year, hs_map, country, codes, prefer)
    built = build_trade_dataset(
        data, into, output, hs_map=table, tolerance=tolerance, overwrite=force
    )
    G = built.graph
    for note in built.notes[len(data.notes) :]:
        message(f"note: {note}")
    message(
        f"wrote {built.folder}: {G.number_of_nodes()} nodes, {G.number_of_edges()} edges "
        f"({G.graph.get('name')})"
    )
    emit_table(built.coverage, fmt, index=False)
    sys.stdout.flush()
