"""The package's import graph: data flows one way, no module imports one that imports it back."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).resolve().parents[1] / "graphlib" / "supplygraph"


def _import_graph() -> nx.DiGraph:
    """Module -> module it imports (any import: top level, in a function, under TYPE_CHECKING)."""
    root = PACKAGE.parent
    modules: dict[str, Path] = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(root).with_suffix("").parts)
        modules[name.removesuffix(".__init__")] = path
    G = nx.DiGraph()
    G.add_nodes_from(modules)
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            G.add_edges_from((name, t) for t in targets if t in modules and t != name)
    return G


def test_no_import_cycles_outside_the_cli_registration() -> None:
    G = _import_graph()
    assert G.has_edge("supplygraph.io.tables", "supplygraph.validate_tables")  # the graph is real
    cycles = [sorted(c) for c in nx.strongly_connected_components(G) if len(c) > 1]
    # the CLI package imports its command modules so they register on `app`, and they import
    # `app` from it: the one cycle by design
    allowed = [c for c in cycles if all(m.startswith("supplygraph.cli") for m in c)]
    assert [c for c in cycles if c not in allowed] == []


def test_readers_sit_below_validation_and_analysis_below_parallel() -> None:
    G = _import_graph()
    assert not nx.has_path(G, "supplygraph.validate_tables", "supplygraph.io.tables")
    assert not nx.has_path(G, "supplygraph.analysis.disruption", "supplygraph.parallel")
    assert nx.has_path(G, "supplygraph.parallel", "supplygraph.analysis.workers")
