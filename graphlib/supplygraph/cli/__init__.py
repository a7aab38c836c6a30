"""The ``supplygraph`` command line: a thin layer over the Python API.

Commands are grouped by concern in submodules (``data``, ``analysis``, ``views``, ``time``);
each registers its commands on :data:`app` when imported. Heavy libraries are imported inside
commands, so ``supplygraph --help`` returns quickly.
"""

from __future__ import annotations

from typing import Annotated

import typer

from supplygraph._version import __version__
from supplygraph.cli._common import set_verbose

app = typer.Typer(
    name="supplygraph",
    help=(
        "Where does my supply chain break, and what happens downstream when it does? "
        "Chokepoints, concentration and disruption propagation on supply graphs. "
        "SOURCE defaults to the built-in 'rare-earths' dataset everywhere."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit


@app.callback()
def _root(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show tracebacks for errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    set_verbose(verbose)


# command modules register themselves on `app` when imported (keep these imports light)
# -- further command modules are added below this line --
from supplygraph.cli import analysis as _analysis  # noqa: E402,F401
from supplygraph.cli import data as _data  # noqa: E402,F401
from supplygraph.cli import report as _report  # noqa: E402,F401
from supplygraph.cli import spreadsheets as _spreadsheets  # noqa: E402,F401
from supplygraph.cli import time as _time  # noqa: E402,F401
from supplygraph.cli import trade as _trade  # noqa: E402,F401
from supplygraph.cli import views as _views  # noqa: E402,F401


def main() -> None:
    """Run the CLI (the ``supplygraph`` console script)."""
    try:
        app()
    finally:
        # the process ends right after: let the interpreter's shutdown skip traversing every
        # object of pandas, scipy and networkx for cycles (about 0.2 s after a report)
        import gc

        gc.freeze()
