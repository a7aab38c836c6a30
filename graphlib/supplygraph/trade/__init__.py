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

# the submodules import pandas, numpy and pyarrow inside their functions, so this is cheap
from supplygraph.trade.baci import read_baci
from supplygraph.trade.comtrade import read_comtrade
from supplygraph.trade.dataset import TradeBuild, build_trade_dataset
from supplygraph.trade.flows import read_trade, trade_flows
from supplygraph.trade.hsmap import HSMap, default_hs_map, read_hs_map
from supplygraph.trade.hubs import hub_table, read_production
from supplygraph.trade.records import FLOW_COLUMNS, TradeData

__all__ = [
    "FLOW_COLUMNS",
    "HSMap",
    "TradeBuild",
    "TradeData",
    "build_trade_dataset",
    "default_hs_map",
    "hub_table",
    "read_baci",
    "read_comtrade",
    "read_hs_map",
    "read_production",
    "read_trade",
    "trade_flows",
]
