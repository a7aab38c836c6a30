"""
The network view, a what-if panel and a Sankey
==============================================

Three ways to look at a chain, each an offline file you can send to someone (no server, no
internet connection needed to open it). On this page they are shown inline, as in a notebook:
the views below are live. Drag a slider in the what-if panel to change a licence approval
rate; the results table recomputes the linear model in the page.

From the command line::

    supplygraph visualize -o network.html
    supplygraph visualize --scenario april-2025-licences -o whatif.html
    supplygraph sankey -o flows.svg
"""

# %%
# The network view with a what-if panel
# -------------------------------------
# Stages are columns, colour is the country, size the share of the stage, diamonds the
# chokepoints and edge width the flow. Given shocks (here the April 2025 scenario), nodes are
# shaded by the share of normal output they keep and the panel opens on those shocks.
import supplygraph as sg

G = sg.load("rare-earths")
april = sg.get_scenario("april-2025-licences")
sg.visualize(G, shocks=april, title="The April 2025 licence regime")

# %%
# Highlight nodes
# ---------------
# ``highlight`` colours chosen nodes (or edges) with a legend entry per label: here the three
# first chokepoints of the ranking.
top = sg.chokepoints(G, kind="node", top=3)
sg.visualize(G, highlight=dict.fromkeys(top.index, "top-3 chokepoint"))

# %%
# The Sankey
# ----------
# Columns are stages, one node per country (the eight largest per stage, the rest as
# "others"), bands are summed flows coloured by the supplier's country. A static SVG, about
# 30 KB: it goes into reports and slides as it is.
sg.sankey_diagram(G)
