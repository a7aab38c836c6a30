"""
What would new capacity outside China change?
=============================================

Allied governments answered the 2025 controls with new separation and magnet capacity. The
built-in scenario ``allied-diversification`` adds that capacity (Lynas Malaysia, US separation
and magnets, an EU magnet plant; each figure with its source) and then applies the April 2025
licence regime. New capacity is *spare* capacity: whether it helps depends on who buys from it.
supplygraph answers under three supply responses (see :doc:`/concepts/models`):

- ``none``: nobody reacts, spare capacity stays idle (the lower bound, the first weeks);
- ``rules``: customers short of supply order more from suppliers with spare capacity, and
  those suppliers ration it (a behavioural estimate);
- ``optimal``: a linear program puts every unit of spare capacity where it helps most (the
  upper bound), and names what binds.

The same from the command line::

    supplygraph disrupt --scenario allied-diversification --response rules --table end-uses
    supplygraph disrupt --scenario allied-diversification --response optimal --table end-uses
"""

# %%
# The capacity the scenario adds
# ------------------------------
import textwrap

import matplotlib.pyplot as plt
import pandas as pd

import supplygraph as sg

G = sg.load("rare-earths")
sc = sg.get_scenario("allied-diversification")
H = sg.apply_capacity(G, sc)  # a copy of G with the scenario's [[capacity]] entries applied
added = pd.DataFrame(
    {
        "output": {n: H.nodes[n]["value"] for n in H if "capacity" in H.nodes[n]},
        "capacity": {n: H.nodes[n]["capacity"] for n in H if "capacity" in H.nodes[n]},
    }
)
added["capacity / output"] = added["capacity"] / added["output"]
added.round(2)

# %%
# Three responses, with and without the new capacity
# --------------------------------------------------
# The April regime on today's chain (``G``) and on the chain with the added capacity (``H``),
# each under the three responses. Each cell is the share of normal supply an end-use sector
# keeps. The new plants have no customers yet, so the scenario's ``[response]`` table lets a
# short customer buy from any supplier of the same stage and input group
# (``substitution = "stage"``); with ``"edges"`` (existing links only) the new capacity would
# sit idle by construction. The last two columns show that.
april = sg.get_scenario("april-2025-licences")
print(sc.response.describe())
rows = {}
for label, graph, shocks in [("today", G, april.shocks), ("with new capacity", H, sc.shocks)]:
    for response in ["none", "rules", "optimal"]:
        options = sg.Response.of(response, substitution=sc.response.substitution)
        result = sg.disrupt(graph, shocks, sc.model, response=options)
        rows[(label, response)] = result.by_end_use["remaining"]
for response in ["rules", "optimal"]:
    options = sg.Response.of(response, substitution="edges")
    result = sg.disrupt(H, sc.shocks, sc.model, response=options)
    rows[("new capacity, existing links only", response)] = result.by_end_use["remaining"]
kept = pd.DataFrame(rows)
kept.round(3)

# %%
# The same as a chart:
fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), sharey=True)
for ax, label in zip(axes, ["today", "with new capacity"], strict=True):
    kept[label].drop(index="total").plot.bar(ax=ax, width=0.8, rot=0)
    ax.set_title(label)
    ax.set_ylim(0, 1.05)
    ax.yaxis.set_major_formatter(lambda y, _: f"{y:.0%}")
    ax.set_xlabel("")
axes[0].set_ylabel("share of normal supply kept")
axes[1].legend(title="response", frameon=False, loc="lower right")
axes[0].get_legend().remove()
fig.tight_layout()

# %%
# What stops each end use
# -----------------------
# Under ``rules`` the binding column says where open orders ran into a limit; under
# ``optimal`` it names the capacities and shock caps with a positive shadow price, each
# confirmed by solving again with that constraint relaxed.
for response in ["rules", "optimal"]:
    options = sg.Response.of(response, substitution=sc.response.substitution)
    result = sg.disrupt(H, sc.shocks, sc.model, response=options)
    print(f"--- {response}")
    for end_use, row in result.by_end_use.drop(index="total").iterrows():
        print(textwrap.fill(f"{end_use}: {row.remaining:.1%}, {row.binding}", 100))

# %%
# Reading the bracket: the gap between ``none`` and ``optimal`` is what reaction could win
# at best; where even ``optimal`` stays short, capacity or a shock cap is the limit, and the
# sentences above say which. Where ``optimal`` is fully served but ``rules`` is not, the
# shortfall is about how supply is shared, not about capacity.
