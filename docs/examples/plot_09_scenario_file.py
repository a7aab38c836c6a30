"""
Write your own scenario file
============================

A scenario is a small TOML file: what is cut, by how much, for whom, from when, with its
sources, and optionally new capacity and the supply response to read it with. This example
writes one, shows the one-line error a mistake gets, and runs it. See :doc:`/howto/scenarios`
for every key.

From the command line::

    supplygraph disrupt --scenario my-scenario.toml --table end-uses
    supplygraph timeline --scenario my-scenario.toml
"""

# %%
# The file
# --------
# A partial ban: China's magnet exports to the United States cut by 90 % from day 30, and
# Japan's magnet makers doubling their output (an assumption, labelled as such).
import tempfile
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt

import supplygraph as sg
from supplygraph.errors import ScenarioError

TOML = """
name = "us-magnet-squeeze"
description = "China's magnet exports to the US cut by 90 % from day 30; Japan doubles its magnet output."
model = "linear"
sources = ["example: an invented what-if, not a forecast"]

[[shocks]]
from = "CHN@magnets"
to = "USA"
cut = 0.9
start_day = 30
label = "90 % of China's magnet exports to the US stopped"

[[capacity]]
country = "JPN"
stage = "magnets"
scale = 2.0
source = "assumption: Japan's magnet makers double their output"

[response]
model = "rules"
substitution = "edges"
"""
folder = Path(tempfile.mkdtemp())
path = folder / "us-magnet-squeeze.toml"
path.write_text(TOML, encoding="utf-8")

G = sg.load("rare-earths")
sc = sg.load_scenario(path)
sg.validate_scenario(sg.apply_capacity(G, sc), sc)  # every selector matches something
print(sc.name, "-", len(sc.shocks), "shock(s),", len(sc.capacity), "capacity change(s)")

# %%
# A mistake gets one line
# -----------------------
# A misspelt key, an unknown country, a cut outside [0, 1]: the error names the file, the
# line and the key, and nothing runs.
bad = folder / "typo.toml"
bad.write_text(TOML.replace("cut = 0.9", "cutt = 0.9"), encoding="utf-8")
try:
    sg.load_scenario(bad)
except ScenarioError as exc:
    print(exc)

# %%
# Run it
# ------
# Without a response, with the scenario's own (``rules``), and at the optimum:
H = sg.apply_capacity(G, sc)
for response in ["none", sc.response, "optimal"]:
    result = sg.disrupt(H, sc.shocks, sc.model, response=response)
    name = getattr(response, "model", response)
    us = result.targets[result.targets["country"] == "USA"]["remaining"]
    print(f"{name:>8}: " + ", ".join(f"{n} {v:.0%}" for n, v in us.items()))
    if name != "none":
        binding = result.by_end_use.loc["defense", "binding"]
        print(
            textwrap.fill(
                f"defense: {binding}", 100, initial_indent=" " * 10, subsequent_indent=" " * 10
            )
        )

# %%
# And day by day, on the graph with the new capacity (the timeline is the no-response model;
# the shock starts on day 30):
tl = sg.timeline(H, list(sc.shocks), horizon=180)
tl.end_uses[["time_to_shortage", "first_node", "depth"]]

# %%
fig, ax = plt.subplots(figsize=(8, 3.5))
tl.daily_end_uses.plot(ax=ax, drawstyle="steps-post")
ax.axvline(30, color="0.3", ls=":", lw=1)
ax.set_ylim(0, 1.05)
ax.yaxis.set_major_formatter(lambda y, _: f"{y:.0%}")
ax.set_xlabel("day")
ax.set_ylabel("output, share of normal")
ax.legend(loc="lower left", frameon=False, ncol=3)
fig.tight_layout()
