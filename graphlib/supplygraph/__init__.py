"""supplygraph: where does my supply chain break, and what happens downstream when it does?

A supply chain is a :class:`networkx.DiGraph` of (stage, country) producers joined by material
flows (see :mod:`supplygraph.schema`). supplygraph loads one (built-in datasets, CSV, Excel,
GraphML, JSON), measures how concentrated each stage is, finds chokepoints, and propagates bans,
partial licence regimes and lost suppliers downstream to the end uses.

The public API is importable from the top level; heavy modules load on first use, so
``import supplygraph`` (and the CLI's ``--help``) stay fast.

Examples
--------
>>> import supplygraph as sg
>>> G = sg.load("rare-earths")
>>> G.graph["stages"]
['mining', 'separation', 'metal', 'magnets', 'end_use']
"""

from __future__ import annotations

import importlib
from typing import Any

from supplygraph._version import __version__

# public name -> module that defines it
_API: dict[str, str] = {
    "load": "supplygraph.loading",
    "TrackedDiGraph": "supplygraph.tracked",
    "list_datasets": "supplygraph.datasets",
    "dataset_path": "supplygraph.datasets",
    "graph_from_frames": "supplygraph.build",
    "graph_from_stage_shares": "supplygraph.build",
    "graph_to_frames": "supplygraph.build",
    "validate_graph": "supplygraph.validate",
    "export_graph": "supplygraph.io.exports",
    "stage_shares": "supplygraph.analysis.concentration",
    "herfindahl_index": "supplygraph.analysis.concentration",
    "concentration": "supplygraph.analysis.concentration",
    "chokepoints": "supplygraph.analysis.chokepoints",
    "dependency": "supplygraph.analysis.dependency",
    "propagate": "supplygraph.analysis.propagation",
    "parse_shock": "supplygraph.analysis.shocks",
    "Shock": "supplygraph.analysis.shocks",
    "disrupt": "supplygraph.analysis.disruption",
    "sweep": "supplygraph.analysis.disruption",
    "Response": "supplygraph.analysis.response_options",
    "origin_shares": "supplygraph.analysis.origins",
    "load_scenario": "supplygraph.analysis.scenarios",
    "timeline": "supplygraph.analysis.timeline",
    "stockpile": "supplygraph.analysis.stockpile",
    "mitigate": "supplygraph.analysis.mitigation",
    "deminimis_reach": "supplygraph.analysis.deminimis",
    "flow_throughput": "supplygraph.analysis.dependency",
    "resolve_shocks": "supplygraph.analysis.shocks",
    "DisruptionResult": "supplygraph.analysis.disruption",
    "get_scenario": "supplygraph.analysis.scenarios",
    "list_scenarios": "supplygraph.analysis.scenarios",
    "validate_scenario": "supplygraph.analysis.scenarios",
    "apply_capacity": "supplygraph.analysis.scenarios",
    "deminimis_compare": "supplygraph.analysis.deminimis",
    "visualize": "supplygraph.view",
    "network_html": "supplygraph.view",
    "sankey_diagram": "supplygraph.sankey",
    "write_report": "supplygraph.report",
    "write_template": "supplygraph.io.template",
    "write_workbook": "supplygraph.io.template",
    "validate_tables": "supplygraph.validate_tables",
    "read_tables": "supplygraph.io.tables",
    "DrawSpec": "supplygraph.uncertainty.sampling",
    "drivers": "supplygraph.uncertainty.sensitivity",
}

__all__ = ["__version__", *sorted(_API)]


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        msg = f"module 'supplygraph' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
