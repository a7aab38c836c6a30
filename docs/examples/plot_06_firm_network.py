"""
A 100,000-firm supply network
=============================

Country-level chains have tens of nodes; firm-level supplier maps have tens or hundreds of
thousands. This example generates a synthetic firm network of 100,000 nodes with the
repository's seeded generator, loads it from CSV the way you would load your own, and runs the
whole-network questions: every single removal ranked by what the end uses lose, the
chokepoints, and the same sweep under the Leontief model on two local processes and on a Dask
cluster. Timings are measured on the machine that built this page.

From a clone of the repository::

    python benchmarks/generate.py 100000 -o net100k
    supplygraph sweep net100k --top 20
    supplygraph chokepoints net100k --top 10
    supplygraph sweep net100k --model leontief --workers 2 --top 20
"""

# %%
# Generate and load
# -----------------
# The generator writes ``nodes.csv`` and ``edges.csv``: firms in five tiers (raw material to
# assembly) and twenty end-use sinks, 1-5 suppliers per firm with power-law popularity, a few
# links that skip a tier, and a few reverse links and self-loops (cycles).
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import supplygraph as sg
from supplygraph import parallel

N_NODES = 100_000
here = Path(__file__).resolve() if "__file__" in globals() else Path.cwd() / "example.py"
root = next(p for p in here.parents if (p / "benchmarks" / "generate.py").is_file())
folder = Path(tempfile.mkdtemp()) / "net100k"
command = [sys.executable, str(root / "benchmarks" / "generate.py"), str(N_NODES)]
print(
    subprocess.run([*command, "-o", str(folder)], check=True, capture_output=True, text=True).stdout
)

timings = {}
start = time.perf_counter()
G = sg.load(folder)
timings["load from CSV"] = time.perf_counter() - start
print(f"{G.number_of_nodes():,} nodes, {G.number_of_edges():,} edges")
print("stages:", " -> ".join(G.graph["stages"]))

# %%
# Every single removal, ranked
# ----------------------------
# :func:`supplygraph.sweep` removes each node in turn and measures the output-weighted loss at
# the end uses. Under the linear model all 100,000 removals come from one sparse solve.
start = time.perf_counter()
ranked = sg.sweep(G)
timings["sweep, linear, every node"] = time.perf_counter() - start
ranked.head(10)

# %%
# The end-use sinks top the ranking (removing a sink loses its own output). Among firms, the
# losses are heavy-tailed: a few hubs carry much of the network.
firms = ranked[~ranked["node"].map(lambda n: G.nodes[n]["stage"] == "end_use")]
firms.head(10)

# %%
loss = firms["weighted_loss"].to_numpy()
fig, ax = plt.subplots(figsize=(7, 4))
ax.loglog(np.arange(1, len(loss) + 1), np.sort(loss)[::-1], lw=1.5)
ax.set_xlabel("firm rank")
ax.set_ylabel("end-use output lost (output-weighted share)")
ax.set_title(f"{len(loss):,} firms, each removed alone")
fig.tight_layout()

# %%
# Chokepoints
# -----------
# Dependency, dominators (firms every supply path of some end use runs through) and
# country-stage groups together:
start = time.perf_counter()
choke = sg.chokepoints(G, top=10)
timings["chokepoints (nodes and country-stage groups)"] = time.perf_counter() - start
choke[["kind", "stage", "country", "max_dependency", "weighted_loss", "dominator", "reason"]]

# %%
# The Leontief model, in parallel
# -------------------------------
# Under Leontief (complementary input groups) no superposition holds and each removal is its
# own scenario. :func:`supplygraph.parallel.sweep` splits the scenarios into contiguous chunks
# over local processes; the result is identical to one process.
start = time.perf_counter()
one = sg.sweep(G, model="leontief")
timings["sweep, Leontief, 1 process"] = time.perf_counter() - start
start = time.perf_counter()
two = parallel.sweep(G, model="leontief", workers=2)
timings["sweep, Leontief, 2 processes"] = time.perf_counter() - start
print("identical to one process:", two.equals(one))

# %%
# On a Dask cluster
# -----------------
# The same call takes a Dask scheduler address (``tcp://host:8786``), a ``Client`` or a
# cluster. The compiled graph is sent to the workers once and each chunk is one task. Here a
# cluster of two in-process workers stands in for a real one (``pip install
# "supplygraph[dask]"`` on the client and on every worker of a real cluster).
from dask.distributed import Client, LocalCluster

with (
    LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster,
    Client(cluster) as client,
):
    start = time.perf_counter()
    on_dask = parallel.sweep(G, model="leontief", scheduler=client)
    timings["sweep, Leontief, Dask (2 in-process workers)"] = time.perf_counter() - start
print("identical to one process:", on_dask.equals(one))

# %%
# Timings on the machine that built this page (wall time, seconds):
for step, seconds in timings.items():
    print(f"{step:>45}: {seconds:6.2f} s")
