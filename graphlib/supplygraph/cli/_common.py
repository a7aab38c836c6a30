"""Shared pieces of the command-line interface: arguments, output formats, error handling.

Every command prints data on stdout and messages on stderr, and exits 0 (ok), 1 (problems in
the input) or 2 (usage error, as typer/click do). Heavy modules are imported inside commands so
that ``supplygraph --help`` stays fast.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_SOURCE = "rare-earths"


class OutputFormat(StrEnum):
    """How a command prints a table."""

    table = "table"
    json = "json"
    csv = "csv"
    parquet = "parquet"


SourceArg = Annotated[
    str,
    typer.Argument(
        help="A built-in dataset name, a folder of CSVs, an .xlsx/.csv file, GraphML or JSON.",
        show_default=True,
    ),
]
FormatOpt = Annotated[
    OutputFormat,
    typer.Option(
        "--format",
        "-f",
        help="table (aligned text), json (a list of records), csv, or parquet (binary: to "
        "--output or a pipe).",
    ),
]
OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        help="Write the full table to this file (atomically) instead of stdout.",
        show_default=False,
    ),
]


class ResponseChoice(StrEnum):
    """How the chain reacts to a shock (see supplygraph.analysis.response)."""

    none = "none"
    rules = "rules"
    optimal = "optimal"


class SubstitutionChoice(StrEnum):
    """Where a short customer may buy more."""

    none = "none"
    edges = "edges"
    stage = "stage"


class RationingChoice(StrEnum):
    """How a supplier shares its spare output."""

    proportional = "proportional"
    priority = "priority"
    maxmin = "maxmin"


class FloorChoice(StrEnum):
    """What every target keeps at least in the optimal response."""

    no_response = "no-response"
    zero = "zero"


ResponseOpt = Annotated[
    ResponseChoice | None,
    typer.Option(
        "--response",
        "-r",
        help="none: no reaction (the propagation model; the lower bound). rules: customers short "
        "of supply order more from suppliers with spare capacity or withheld output, "
        "incumbents first. optimal: the linear-programming upper bound, with what binds. "
        "Default: the model in the scenario's response table, else none.",
        show_default=False,
    ),
]
SubstitutionOpt = Annotated[
    SubstitutionChoice | None,
    typer.Option(
        "--substitution",
        help="edges: existing supplier links only (default); stage: also any supplier of the "
        "same stage and input group that no shock blocks (no open model does this); none: no "
        "re-sourcing.",
        show_default=False,
    ),
]
RationingOpt = Annotated[
    RationingChoice | None,
    typer.Option(
        "--rationing",
        help="rules: how a supplier shares spare output among customers asking for more: "
        "proportional (default), priority (see --priority) or maxmin.",
        show_default=False,
    ),
]
PriorityOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--priority",
        help="rules: a customer class served first (repeat, first served first): 'domestic', "
        "a country code, a bloc named in the scenario's response.blocs, or 'end_use:<sector>'. "
        "Implies --rationing priority.",
        show_default=False,
    ),
]
FloorOpt = Annotated[
    FloorChoice | None,
    typer.Option(
        "--floor",
        help="optimal: no-response (default; no target ends below its no-response supply) or "
        "zero (the pure physical bound, where one end use may take what another had).",
        show_default=False,
    ),
]


class SamplingChoice(StrEnum):
    """How Monte Carlo draws cover the inputs' ranges."""

    sobol = "sobol"
    lhs = "lhs"
    random = "random"


class DistributionChoice(StrEnum):
    """The distribution every range is drawn from (overrides a range's own x_dist)."""

    triangular = "triangular"
    uniform = "uniform"
    pert = "pert"


DrawsOpt = Annotated[
    int | None,
    typer.Option(
        "--draws",
        help="Monte Carlo draws over the inputs' ranges (value_low/value_high, flow_low/"
        "flow_high ..., scenario ranges such as approval_rate = [0.25, 0.6]): adds 5th/50th/"
        "95th percentile and probability columns. Triangular(low, value, high) by default. "
        "A whole number >= 1.",
        show_default=False,
    ),
]
SeedOpt = Annotated[
    int,
    typer.Option("--seed", help="Seed of the draws (>= 0): the same seed gives the same output."),
]
SamplingOpt = Annotated[
    SamplingChoice,
    typer.Option(
        "--sampling",
        help="sobol: scrambled Sobol points (quasi-random, default); lhs: Latin hypercube; "
        "random: independent draws.",
    ),
]
DistributionOpt = Annotated[
    DistributionChoice | None,
    typer.Option(
        "--distribution",
        help="Draw every range from this distribution (default: each range's own x_dist, "
        "else triangular).",
        show_default=False,
    ),
]
DrawWorkersOpt = Annotated[
    int,
    typer.Option(
        "--draw-workers",
        min=1,
        help="Processes for the draws (the output does not depend on it).",
    ),
]


def draw_spec(
    draws: int | None,
    seed: int,
    sampling: SamplingChoice,
    distribution: DistributionChoice | None,
) -> Any:
    """The :class:`~supplygraph.uncertainty.sampling.DrawSpec` of a command's options, or None."""
    if draws is None:
        return None
    from supplygraph.uncertainty.sampling import DrawSpec

    return DrawSpec(
        draws, seed, sampling.value, distribution.value if distribution is not None else None
    )


def draws_message(spec: Any, result: Any) -> None:
    """Say on stderr how the draws were made (the provenance of the percentile columns)."""
    if spec is None or result is None:
        return
    message(f"draws: {result.describe()}")
    for note in result.notes[1:]:
        message(f"  {note}")


def response_options(
    scenario: Any,
    response: ResponseChoice | None,
    substitution: SubstitutionChoice | None,
    rationing: RationingChoice | None,
    priority: list[str] | None,
    floor: FloorChoice | None = None,
) -> Any:
    """The :class:`~supplygraph.analysis.response_options.Response` of a command's options.

    Options override the scenario's ``[response]`` table one by one (``--response optimal`` on
    a scenario with ``substitution = "stage"`` keeps the stage substitution); without either,
    ``none``.
    """
    from supplygraph.analysis.response_options import Response

    base = getattr(scenario, "response", None)
    model = response.value if response is not None else None
    # a --response only swaps the model: the scenario's substitution, rationing, priority,
    # blocs and qualification delay still apply unless given too
    return Response.of(
        base if base is not None else (model or "none"),
        model=model if base is not None else None,
        substitution=substitution.value if substitution is not None else None,
        rationing=rationing.value if rationing is not None else None,
        priority=list(priority) if priority else None,
        floor=floor.value if floor is not None else None,
    )


_state: dict[str, bool] = {"verbose": False}


def set_verbose(verbose: bool) -> None:
    """Remember whether tracebacks should be shown (``--verbose``)."""
    _state["verbose"] = verbose


def message(text: str) -> None:
    """Print a message for the user on stderr."""
    typer.echo(text, err=True)


def guarded(func: F) -> F:
    """Wrap a command so input problems end as one line on stderr and exit code 1.

    ``KeyboardInterrupt`` exits 130. With ``--verbose`` the traceback is shown as well.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from supplygraph.errors import SupplyGraphError, ValidationError

        try:
            return func(*args, **kwargs)
        except ValidationError as exc:
            if _state["verbose"]:
                raise
            for problem in exc.problems:
                message(f"{problem.severity}: {problem}")
            raise typer.Exit(code=1) from None
        except SupplyGraphError as exc:
            if _state["verbose"]:
                raise
            message(f"error: {exc}")
            raise typer.Exit(code=1) from None
        except KeyboardInterrupt:
            message("interrupted")
            raise typer.Exit(code=130) from None

    return wrapper  # type: ignore[return-value]


def load_source(source: str) -> nx.DiGraph:
    """Load a graph for a command (see :func:`supplygraph.load`)."""
    from supplygraph.loading import load

    return load(source)


def scenario_dataset(source: str) -> str:
    """Return the built-in dataset whose scenarios a scenario *name* refers to.

    The source itself when it is a built-in dataset, else the default dataset.
    """
    from supplygraph.datasets import is_dataset_name

    return source if is_dataset_name(source) else DEFAULT_SOURCE


def apply_scenario(G: nx.DiGraph, source: str, scenario: str) -> tuple[nx.DiGraph, Any]:
    """Load a scenario (name or file), apply its capacity changes and check it against ``G``.

    Returns
    -------
    (graph, Scenario)
        A copy of ``G`` with the scenario's capacity changes applied (``G`` itself when it has
        none), and the scenario, whose shocks have been checked to match something in it.
    """
    from supplygraph.analysis.scenarios import apply_capacity, get_scenario, validate_scenario

    sc = get_scenario(scenario, dataset=scenario_dataset(source))
    H = apply_capacity(G, sc)
    validate_scenario(H, sc)
    return H, sc


def _jsonable(value: Any) -> Any:
    import math

    import numpy as np

    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


def records(df: pd.DataFrame, *, index: bool = True) -> list[dict[str, Any]]:
    """Return a DataFrame as a list of JSON-safe records (NaN becomes null)."""
    frame = df.reset_index() if index and df.index.name is not None else df
    return [{str(k): _jsonable(v) for k, v in row.items()} for row in frame.to_dict("records")]


def emit_table(
    df: pd.DataFrame, fmt: OutputFormat, *, index: bool = True, output: Path | None = None
) -> None:
    """Print a DataFrame on stdout (or write it to ``output``) in the chosen format.

    ``json`` prints a list of records (the index becomes a column when it has a name); ``csv``
    prints RFC 4180 CSV with text cells neutralised against formula injection; ``parquet``
    writes Parquet (to ``output``, or to stdout when it is not a terminal); ``table`` prints
    aligned text. JSON, CSV and Parquet are written a chunk of rows at a time
    (:mod:`supplygraph.io.outputs`); a file is replaced only once it is complete.
    """
    import pandas as pd

    from supplygraph.io.outputs import csv_chunks, json_chunks, save_table, write_parquet

    frame = df.reset_index() if index and df.index.name is not None else df
    if output is not None:
        if fmt is OutputFormat.table:
            from supplygraph.io.safe_text import atomic_write

            atomic_write(output, _as_text(frame) + "\n")
        else:
            save_table(frame, output, fmt.value)
        message(f"wrote {output} ({len(frame):,} rows)")
        return
    if fmt is OutputFormat.parquet:
        if sys.stdout.isatty():
            raise typer.BadParameter(
                "parquet is binary: give --output FILE or redirect stdout to a file",
                param_hint="'--format'",
            )
        sys.stdout.flush()
        write_parquet(frame, sys.stdout.buffer)
        sys.stdout.buffer.flush()
    elif fmt is OutputFormat.json:
        for piece in json_chunks(frame):
            sys.stdout.write(piece)
    elif fmt is OutputFormat.csv:
        for piece in csv_chunks(frame):
            sys.stdout.write(piece)
    else:
        with pd.option_context(
            "display.max_rows", None, "display.max_columns", None, "display.width", 200
        ):
            typer.echo(_as_text(frame))


def _as_text(frame: pd.DataFrame) -> str:
    """Aligned text of a table (as ``--format table`` prints it)."""
    import pandas as pd

    with pd.option_context(
        "display.max_rows", None, "display.max_columns", None, "display.width", 200
    ):
        return str(frame.to_string(index=False, float_format=_fmt_float))


def emit_records(records_: list[dict[str, Any]], fmt: OutputFormat, columns: list[str]) -> None:
    """Print plain records like :func:`emit_table`, without importing pandas (fast commands)."""
    import csv

    from supplygraph.io.safe_text import neutralize_text

    if fmt is OutputFormat.json:
        sys.stdout.write(json.dumps(records_, indent=2, ensure_ascii=False) + "\n")
        return
    if fmt is OutputFormat.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        for rec in records_:
            writer.writerow([neutralize_text(rec.get(c, "")) for c in columns])
        return
    cells = [[("" if r.get(c) is None else str(r.get(c))) for c in columns] for r in records_]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]
    typer.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for row in cells:
        typer.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def _fmt_float(x: float) -> str:
    if x != x:  # NaN
        return ""
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.4g}"


#: ``--through-hubs`` of ``trace`` and ``deminimis`` (see supplygraph.analysis.origins).
ThroughHubsOpt = Annotated[
    bool,
    typer.Option(
        "--through-hubs",
        help="Re-attribute what a re-export hub (an origin-stage node fed by other origin-stage "
        "nodes, e.g. Hong Kong's magnets after 'trade build') passes on to the origins of its "
        "imports, in proportion to its inflows; its own output keeps its country.",
    ),
]
