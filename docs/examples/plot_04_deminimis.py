"""
What would a 0.1 % content rule reach?
======================================

China's MOFCOM Announcement No. 61 of October 2025 (suspended by No. 70 until November 2026)
would require a licence for foreign-made items containing China-origin controlled rare-earth
material worth at least **0.1 %** of the item's value. The US export rules use a de-minimis
share of 25 % (10 % for embargoed destinations). This example traces where each foreign
product's rare earths were separated and asks which thresholds catch it.

The same from the command line::

    supplygraph trace --origin CHN --threshold 0.001
    supplygraph deminimis --origin CHN --stage separation --compare
"""

# %%
# Where was the material in each product separated?
# --------------------------------------------------
# :func:`supplygraph.origin_shares` mixes origins through the input shares (each node's output
# carries its inputs' origins in proportion): one row per node, one column per origin country,
# rows sum to 1. With ``stage="separation"`` the origin is the country that separated the
# oxide.
import matplotlib.pyplot as plt
import pandas as pd

import supplygraph as sg
from supplygraph.analysis.deminimis import EAR_THRESHOLDS

G = sg.load("rare-earths")
origins = sg.origin_shares(G, stage="separation")
end_uses = [n for n, d in G.nodes(data=True) if d.get("end_use") and d.get("country") != "CHN"]
origins.loc[end_uses].round(3)

# %%
# The rule's test
# ---------------
# A foreign node is caught when ``traced share x content share >= threshold``, where the
# content share is the fraction of the item's *value* that is rare-earth material.
# :func:`supplygraph.deminimis_compare` applies the thresholds to every stage with the whole
# output counted as material (content share 1, the upper bound):
print("thresholds compared:", ", ".join(f"{t:.1%}" for t in EAR_THRESHOLDS))
compare = sg.deminimis_compare(G, "CHN", stage="separation")
compare.pivot_table(index="stage", columns="threshold", values="nodes_caught", sort=False)

# %%
# Finished goods are mostly something else than rare earths, so the content share decides.
# Rather than guess it, compute the largest content share at which each product would still
# *escape* each rule: ``threshold / traced share``. A product whose rare-earth material is
# worth more than that share of its value is caught.
traced = origins.loc[end_uses, "CHN"]
escape = pd.DataFrame({f"{t:.1%} rule": t / traced for t in EAR_THRESHOLDS})
escape.insert(0, "traced CHN share", traced)
escape.round(4)

# %%
fig, ax = plt.subplots(figsize=(8, 4))
escape.drop(columns="traced CHN share").plot.barh(ax=ax, logx=True, width=0.8)
ax.set_xlabel("caught when rare-earth content exceeds this share of the item's value")
ax.xaxis.set_major_formatter(lambda x, _: f"{x:.1%}")
ax.set_ylabel("")
ax.legend(frameon=False, loc="lower right")
fig.tight_layout()

# %%
# Read the figure: each bar is the content share above which that product is caught. Under the
# 0.1 % rule it is about a thousandth of the item's value; under the 10 % and 25 % rules it
# is a hundred and two hundred and fifty times larger. Compare it with the share of a
# product's price that its magnets or rare-earth compounds make up.
#
# Where a dataset pools a stage's world market, every buyer of that stage carries the world
# mix; bilateral trade data tell the buyers apart (see the trade-data example,
# :ref:`sphx_glr_auto_examples_plot_07_trade_data.py`).
