"""Analyses of supply graphs: concentration, chokepoints, propagation, dependency, disruptions,
sweeps, origin tracing, scenarios and timelines.

Each analysis lives in its own submodule (import it directly, e.g.
``from supplygraph.analysis.propagation import propagate``); this package imports nothing heavy.
"""
