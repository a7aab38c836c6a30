"""
Who controls each stage of the rare-earth chain?
================================================

China mines most of the world's rare earths, but it separates and turns into magnets an even
larger share. This example measures that with the built-in ``rare-earths`` dataset: country
shares per stage, the Herfindahl-Hirschman index (HHI) and the chokepoints everything passes
through. Every number below is computed from the dataset when this page is built.

The same tables come from the command line::

    supplygraph concentration
    supplygraph chokepoints --top 10
"""

# %%
# Load the chain
# --------------
# :func:`supplygraph.load` returns a validated :class:`networkx.DiGraph` whose nodes are
# (country, stage) producers and end uses, and whose edges are material flows.
import matplotlib.pyplot as plt

import supplygraph as sg

G = sg.load("rare-earths")
print(G.number_of_nodes(), "nodes,", G.number_of_edges(), "edges")
print("stages, upstream first:", " -> ".join(G.graph["stages"]))

# %%
# Country shares per stage
# ------------------------
# :func:`supplygraph.concentration` gives one row per stage (and one for reserves, a stock
# rather than a flow): the HHI on the 0-10,000 scale, the largest supplier's share (CR1), the
# three largest (CR3), the equivalent number of equal suppliers (10,000 / HHI), the 2010 US
# merger-guidelines band and whether one country holds more than the EU's 65 % benchmark.
conc = sg.concentration(G)
columns = ["top_country", "cr1", "cr3", "hhi", "effective_suppliers", "level"]
conc[[*columns, "eu_single_country_cap"]].dropna(subset=["hhi"]).round(3)

# %%
# The headline, from the table rather than typed in:
top = conc.dropna(subset=["cr1"])
for stage, row in top.iterrows():
    print(f"{stage:>11}: {row.top_country} {row.cr1:6.1%}   HHI {row.hhi:6,.0f}   ({row.level})")

# %%
# A chart in the IEA style: each stage's production split by country, the five largest
# suppliers of the chain named and the rest summed (stages whose units do not add up, such as
# the end uses, have no index and are left out).
shares = sg.stage_shares(G)
table = shares.pivot_table(index="stage", columns="country", values="share", aggfunc="sum")
order = [s for s in conc.dropna(subset=["hhi"]).index if s in table.index]
table = table.loc[order].fillna(0.0)
named = table.max().sort_values(ascending=False).index[:5]
plot = table[named].copy()
plot["other"] = 1 - plot.sum(axis=1)

fig, ax = plt.subplots(figsize=(8, 3.6))
plot.iloc[::-1].plot.barh(stacked=True, ax=ax, width=0.7, colormap="tab10")
ax.set_xlim(0, 1)
ax.xaxis.set_major_formatter(lambda x, _: f"{x:.0%}")
ax.set_xlabel("share of the stage's world total")
ax.set_ylabel("")
ax.legend(ncol=6, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
fig.tight_layout()

# %%
# Chokepoints
# -----------
# Concentration alone does not say what breaks downstream. :func:`supplygraph.chokepoints`
# removes each node (and each country-stage group) in turn and measures what the end uses lose
# (``max_dependency``: the worst-hit end use; ``weighted_loss``: the output-weighted average
# over all end uses), flags dominators (nodes every supply path of some end use passes through)
# and writes a one-line reason.
choke = sg.chokepoints(G, top=10)
choke[["stage", "country", "stage_share", "max_dependency", "weighted_loss", "reason"]].round(3)

# %%
# The ranking as a chart: the output-weighted share of all end-use supply lost without each of
# the ten first chokepoints.
fig, ax = plt.subplots(figsize=(8, 3.6))
choke["weighted_loss"].iloc[::-1].plot.barh(ax=ax, color="#b2182b")
ax.xaxis.set_major_formatter(lambda x, _: f"{x:.0%}")
ax.set_xlabel("end-use supply lost without it (output-weighted)")
ax.set_ylabel("")
fig.tight_layout()
