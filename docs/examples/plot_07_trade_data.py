"""
Bilateral trade data in place of the pooled market
==================================================

The built-in dataset knows each country's share of each stage, and assumes a pooled world
market between stages: every customer buys the world mix. Where bilateral trade data exist
(CEPII BACI, UN Comtrade), ``supplygraph trade`` maps HS codes to stages, flags re-export hubs
and writes a dataset whose flows come from the trade data.

This example runs on the small synthetic BACI release shipped with the tests
(``tests/data/trade/BACI_HS17_V202401b``): it has the real file layout, but **every number in
it is invented**. Point the same calls at a real BACI zip (see :doc:`/howto/trade`).

From the command line::

    supplygraph trade flows tests/data/trade/BACI_HS17_V202401b --year 2022
    supplygraph trade hubs tests/data/trade/BACI_HS17_V202401b --year 2022 --production rare-earths-aggregate
    supplygraph trade build tests/data/trade/BACI_HS17_V202401b --year 2022 -o re-baci
    supplygraph deminimis re-baci --stage separation --compare
"""

# %%
# Read one year, mapped to stages
# -------------------------------
# :func:`supplygraph.trade.read_trade` streams the release, keeps the HS codes of the default
# map (one row per code: stage, conversion factor to the graph's unit) and returns the flows.
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

import supplygraph as sg
from supplygraph.trade import build_trade_dataset, hub_table, read_trade

here = Path(__file__).resolve() if "__file__" in globals() else Path.cwd() / "example.py"
root = next(p for p in here.parents if (p / "tests" / "data" / "trade").is_dir())
release = root / "tests" / "data" / "trade" / "BACI_HS17_V202401b"

trade = read_trade(release, 2022)
trade.flows.head(8)

# %%
# Re-export hubs
# --------------
# A country that exports more of a stage than it produces and imports (``ratio = X / (P + M)``
# above 1 plus a tolerance) passes goods on: its exports are not its own output.
pooled = sg.load("rare-earths-aggregate")  # the stage-shares chain that trade build starts from
hubs = hub_table(trade, pooled)
hubs[hubs["hub"].fillna(False).astype(bool)]

# %%
# Build a dataset from the trade
# ------------------------------
# :func:`supplygraph.trade.build_trade_dataset` starts from a stage-shares dataset (here the
# built-in ``rare-earths-aggregate``), writes a dataset folder with the same layout in which the
# trade flows replace the pooled market, records what it assumed, and loads it.
out = Path(tempfile.mkdtemp()) / "re-baci"
built = build_trade_dataset(trade, "rare-earths-aggregate", out)
print(sorted(p.name for p in out.iterdir()))
built.coverage

# %%
# What changes
# ------------
# With the pooled market every foreign end use carries the world mix of China-separated
# material. With bilateral flows, buyers differ, and so does what a content rule catches.
traded = sg.load(out)
shares = pd.DataFrame(
    {
        "pooled market": sg.origin_shares(pooled, stage="separation")["CHN"],
        "trade data": sg.origin_shares(traded, stage="separation")["CHN"],
    }
)
foreign_end_uses = [
    n for n, d in pooled.nodes(data=True) if d.get("end_use") and d.get("country") != "CHN"
]
shares = shares.loc[foreign_end_uses]
shares.round(3)

# %%
fig, ax = plt.subplots(figsize=(8, 4))
shares.plot.barh(ax=ax, width=0.8)
for threshold in (0.1, 0.25):
    ax.axvline(threshold, color="0.3", ls=":", lw=1)
    ax.text(threshold, len(shares) - 0.4, f" {threshold:.0%} rule", va="top", fontsize=8)
ax.set_xlim(0, 1)
ax.xaxis.set_major_formatter(lambda x, _: f"{x:.0%}")
ax.set_xlabel("share of the end use's material separated in China")
ax.set_ylabel("")
ax.legend(frameon=False, loc="lower right")
fig.tight_layout()

# %%
# The de-minimis comparison on both (foreign end-use nodes caught, with the whole output
# counted as material):
caught = {}
for label, graph in [("pooled market", pooled), ("trade data", traded)]:
    cmp = sg.deminimis_compare(graph, "CHN", stage="separation")
    caught[label] = cmp[cmp["stage"] == "end_use"].set_index("threshold")["nodes_caught"]
pd.DataFrame(caught)
