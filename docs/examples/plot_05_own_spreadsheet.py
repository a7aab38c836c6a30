"""
Your own supplier map from a spreadsheet
========================================

You do not need the built-in dataset: any supplier map in a workbook becomes a supply graph.
This example plays the analyst at a (made-up) motor maker. It writes the template, fills it in
the way you would in Excel, makes the two mistakes people make most, reads the problem list,
fixes them, and then asks the same questions as the rare-earth examples. All company names and
numbers below are invented for the example.

From the command line::

    supplygraph template -o chain.xlsx      # fill it in, then:
    supplygraph validate chain.xlsx
    supplygraph chokepoints chain.xlsx
    supplygraph disrupt chain.xlsx --shock CHN
"""

# %%
# Write the template
# ------------------
# :func:`supplygraph.write_template` writes a workbook with the sheets ``Elements`` (one row
# per producer), ``Connections`` (one row per supplier link) and ``StageShares`` (when you
# only know each country's share of a stage), with dropdowns and example rows.
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import openpyxl
import pandas as pd

import supplygraph as sg
from supplygraph.errors import ValidationError

folder = Path(tempfile.mkdtemp())
path = sg.write_template(folder / "motors.xlsx", stages=["mining", "magnets", "motors"])
print(openpyxl.load_workbook(path, read_only=True).sheetnames)

# %%
# Fill it in
# ----------
# Here with openpyxl; in practice in Excel or LibreOffice. The example rows go, our rows come
# in. Two mistakes slip in: "Korea" (North or South?) and a link to a supplier ID that is not
# in the Elements sheet.
ELEMENTS = [
    # ID, Label, Stage, Country, Value (t/yr), Unit
    ("mine-a", "Mine A", "mining", "China", 900, "t/yr"),
    ("mine-b", "Mine B", "mining", "Australia", 300, "t/yr"),
    ("mag-1", "Magnet maker 1", "magnets", "CHN", 500, "t/yr"),
    ("mag-2", "Magnet maker 2", "magnets", "Japan", 200, "t/yr"),
    ("mag-3", "Magnet maker 3", "magnets", "Korea", 100, "t/yr"),
    ("plant-de", "Motor plant Germany", "motors", "DEU", 450, "t/yr"),
    ("plant-us", "Motor plant Ohio", "motors", "USA", 250, "t/yr"),
]
CONNECTIONS = [
    # From, To, Flow (t/yr)
    ("mine-a", "mag-1", 500),
    ("mine-a", "mag-2", 100),
    ("mine-b", "mag-2", 100),
    ("mine-b", "mag-3", 100),
    ("mag-1", "plant-de", 300),
    ("mag-2", "plant-de", 150),
    ("mag-1", "plant-us", 150),
    ("mag-3", "plant-us", 100),
    ("mag-4", "plant-us", 20),
]


def fill(path, elements, connections):
    wb = openpyxl.load_workbook(path)
    for sheet in ("Elements", "Connections", "StageShares"):
        ws = wb[sheet]
        ws.delete_rows(2, ws.max_row)
    for row in elements:  # the first six columns: ID, Label, Stage, Country, Value, Unit
        wb["Elements"].append(list(row))
    for src, dst, flow in connections:  # From, To, Material, Flow, Unit
        wb["Connections"].append([src, dst, None, flow, "t/yr"])
    wb.save(path)


fill(path, ELEMENTS, CONNECTIONS)

# %%
# Read the problem list
# ---------------------
# :func:`supplygraph.load` validates everything before it builds anything, and reports every
# problem at once with its sheet, row and column (``supplygraph validate`` prints the same
# list). It never guesses: "Korea" stays an error until you say which one.
try:
    sg.load(path)
except ValidationError as exc:
    problems = exc.table()
problems[["sheet", "row", "column", "value", "message", "severity"]]

# %%
# Fix the two rows and read it again:
ELEMENTS[4] = ("mag-3", "Magnet maker 3", "magnets", "KOR", 100, "t/yr")
CONNECTIONS[-1] = ("mag-2", "plant-us", 20)
fill(path, ELEMENTS, CONNECTIONS)
G = sg.load(path)
print(G.number_of_nodes(), "nodes,", G.number_of_edges(), "edges; stages:", G.graph["stages"])

# %%
# Ask the questions
# -----------------
# Concentration per stage, and the chokepoints of our two plants:
sg.concentration(G)[["top_country", "cr1", "hhi", "level"]].round(3)

# %%
sg.chokepoints(G)[["stage", "country", "max_dependency", "max_dependency_target", "reason"]]

# %%
# What our plants keep if Chinese supply stops (every Chinese node shut), and if only Chinese
# magnets to the US are cut by three quarters:
kept = pd.DataFrame(
    {shock: sg.disrupt(G, shock).targets["remaining"] for shock in ["CHN", "CHN@magnets->USA=0.75"]}
)
kept.round(3)

# %%
fig, ax = plt.subplots(figsize=(7, 3))
kept.T.plot.barh(ax=ax, width=0.7)
ax.set_xlim(0, 1)
ax.xaxis.set_major_formatter(lambda x, _: f"{x:.0%}")
ax.set_xlabel("share of normal supply kept")
ax.legend(title="plant", frameon=False, loc="lower right")
fig.tight_layout()

# %%
# The interactive view
# --------------------
# :func:`supplygraph.visualize` without a path returns a view that displays inline, in a
# notebook or on this page (drag, zoom, click a node; the page is offline).
sg.visualize(G)
