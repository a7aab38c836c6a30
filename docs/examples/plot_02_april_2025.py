"""
The April 2025 licence regime, and how soon it bites
====================================================

On 4 April 2025 China made exports of seven medium and heavy rare earths, their compounds,
metals and the magnets that contain them subject to licences; European suppliers reported that
about a quarter of their applications had been approved by June. The built-in scenario
``april-2025-licences`` encodes that rule with its sources. This example asks what it costs each
end use once it has settled, *when* each end use runs short given its stocks, and what stock
would keep US defense production up.

The same from the command line::

    supplygraph disrupt --scenario april-2025-licences --table end-uses
    supplygraph timeline --scenario april-2025-licences
    supplygraph stockpile --scenario april-2025-licences --end-use defense --min-output 0.9 --days 365
"""

# %%
# The scenario
# ------------
# A scenario is a small TOML file (see :doc:`/howto/scenarios`); every shock in it carries its
# source and a plain-English label.
import matplotlib.pyplot as plt

import supplygraph as sg

G = sg.load("rare-earths")
sc = sg.get_scenario("april-2025-licences")
print(sc.description)
print()
for spec in sc.shock_specs:
    print("-", spec.get("label", spec))

# %%
# What each end use keeps once the regime has settled
# ---------------------------------------------------
# :func:`supplygraph.disrupt` propagates the shocks downstream. ``remaining`` is the fraction of
# normal output each end-use sector keeps (no supply response: nobody re-sources; see
# :doc:`/concepts/models`).
result = sg.disrupt(G, sc.shocks, sc.model)
result.by_end_use[["n_targets", "baseline", "unit", "remaining", "loss_share"]].round(3)

# %%
# The hardest-hit end-use node, computed:
worst = result.targets.sort_values("remaining").iloc[0]
print(f"{worst.name} keeps {worst.remaining:.0%} of its normal supply")

# %%
# Time to shortage
# ----------------
# Plants stop when their stock runs out, not on the day a licence is refused.
# :func:`supplygraph.timeline` simulates the scenario day by day with each node's
# ``inventory_days`` (stock in days of normal use) and reports, per end use, the first day
# output falls below normal (``time_to_shortage``), how deep it falls and the calendar date.
tl = sg.timeline(G, sc, horizon=365)
tl.end_uses[["time_to_shortage", "shortage_date", "first_node", "depth", "lost_days"]].round(3)

# %%
# Day by day, per end-use sector:
fig, ax = plt.subplots(figsize=(8, 4))
tl.daily_end_uses.plot(ax=ax, drawstyle="steps-post")
ax.set_ylim(0, 1.05)
ax.yaxis.set_major_formatter(lambda y, _: f"{y:.0%}")
ax.set_xlabel(f"days after {sc.start_date}")
ax.set_ylabel("output, share of normal")
ax.set_title("April 2025 licence regime: output of each end use")
ax.legend(loc="lower left", frameon=False)
fig.tight_layout()

# %%
# How much stock would keep defense running?
# ------------------------------------------
# :func:`supplygraph.stockpile` finds by bisection the smallest number of added days of stock
# that keeps a target at or above ``min_output`` for a whole period.
need = sg.stockpile(G, sc, end_use="defense", min_output=0.9, days=365)
need

# %%
row = need.iloc[0]
print(
    f"{row.target}: without added stock its output falls to {row.baseline_min_output:.0%}; "
    f"{row.added_days:.0f} more days of stock ({row.stock:,.0f} {row.unit}) keep it at "
    f"{row.achieved_min_output:.0%} or more for a year."
)
