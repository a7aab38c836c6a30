"""Bilateral trade data to supply-graph flows: CEPII BACI and UN Comtrade+ files.

Data flow: read (:mod:`~supplygraph.trade.baci`, :mod:`~supplygraph.trade.comtrade`, both
through :func:`read_trade`) -> map HS codes to stages (:mod:`~supplygraph.trade.hsmap`) ->
test for re-export hubs (:mod:`~supplygraph.trade.hubs`) -> write a dataset whose flows come from
the trade (:mod:`~supplygraph.trade.dataset`). The CLI is ``supplygraph trade flows|hubs|build``.

Examples
--------
>>> from supplygraph.trade import default_hs_map
>>> default_hs_map().match("MMR", "284690")["stage"]
'mining'
"""

from __future__ import annotations

import importlib
from typing import Any

_API: dict[str, str] = {
    "TradeData": "supplygraph.trade.records",
    "FLOW_COLUMNS": "supplygraph.trade.records",
    "read_trade": "supplygraph.trade.flows",
    "trade_flows": "supplygraph.trade.flows",
    "read_baci": "supplygraph.trade.baci",
    "read_comtrade": "supplygraph.trade.comtrade",
    "HSMap": "supplygraph.trade.hsmap",
    "read_hs_map": "supplygraph.trade.hsmap",
    "default_hs_map": "supplygraph.trade.hsmap",
    "hub_table": "supplygraph.trade.hubs",
    "read_production": "supplygraph.trade.hubs",
    "build_trade_dataset": "supplygraph.trade.dataset",
    "TradeBuild": "supplygraph.trade.dataset",
}

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        msg = f"module 'supplygraph.trade' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
