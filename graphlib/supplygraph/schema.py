"""The supplygraph graph schema: the one place that defines what a supply graph holds.

A supply graph is a :class:`networkx.DiGraph` whose nodes are (stage, country) producers -- or
firms, plants, end-use sectors -- and whose edges are material flows from supplier to customer.

Node attributes
---------------
``id`` (the node key, str)
    Unique identifier. The built-in dataset uses ``"<ISO3>:<stage>"`` (``"CHN:separation"``) and
    ``"<ISO3>:<end use>"`` for end uses (``"USA:defense"``); any string is allowed.
``label`` (str)
    Display name; defaults to the id.
``stage`` (str, required)
    The stage the node belongs to; one of ``G.graph["stages"]``.
``country`` (str)
    ISO 3166-1 alpha-3 code (``"CHN"``, ``"MMR"``), or a bloc/aggregate code such as ``"EU"``,
    ``"ROW"`` (rest of world) or ``"XXX"`` (unknown).
``value`` (float >= 0)
    Output or capacity per year, in the node's ``unit``. Used for stage shares.
``unit`` (str)
    Unit of ``value`` (e.g. ``"t REO/yr"``).
``capacity`` (float >= ``value``, optional, default ``value``)
    The most the node can produce per year, in the node's ``unit``. ``capacity - value`` is
    spare capacity, which only the supply responses (``rules``, ``optimal``; see
    :mod:`supplygraph.analysis.response`) use; the no-response models never exceed ``value``.
``ramp_days`` (float >= 0, optional, default 0)
    Days for the spare capacity to come fully online once it starts (linear ramp; timelines).
``ramp_delay_days`` (float >= 0, optional, default 0)
    Days before spare capacity starts to ramp (qualification, licensing, restart; timelines).
``external_input`` (float >= 0, optional, default 0)
    The part of the node's inputs that comes from outside the graph and is never shocked, in the
    same unit as its inbound flows (e.g. domestic stockpiles, recycling, unmapped suppliers).
``inventory_days`` (float >= 0, optional)
    Stock on hand, in days of normal use (time-to-shortage simulation).
``recovery_days`` (float >= 0, optional)
    Time to recover after a disruption (TTR), in days.
``end_use`` (str, optional)
    For end-use nodes, the sector: ``vehicles``, ``wind``, ``electronics``, ``industrial``,
    ``defense`` ...
``governance`` (float, optional)
    A governance score (e.g. rescaled WGI, 0-10, higher = riskier) for governance-weighted HHI.
``source``, ``year``, ``evidence`` (optional)
    Provenance of the node's numbers: a source id (a key of the dataset's ``sources.csv``) or a
    citation, the data year, and an evidence label (primary/secondary/derived/weak/assumption).

Any other attribute is kept as it is.

Ranges (uncertainty)
--------------------
Every numeric attribute ``x`` (node and edge) may carry a range: ``x_low`` and ``x_high``, in
the unit of ``x``, with ``x_low <= x <= x_high`` (a blank bound means that side equals ``x``;
a range needs ``x`` itself). Optional text columns ``x_dist`` (``triangular``, the default,
``uniform`` or ``pert``) and ``x_group`` (rows whose ``x`` ranges share a group name are drawn
together, from one quantile: one assumption driving many numbers). Monte Carlo draws
(:mod:`supplygraph.uncertainty`) replace ``x`` by a draw from
``triangular(x_low, x, x_high)`` (or the chosen distribution); every other analysis reads ``x``.

Edge attributes
---------------
``flow`` (float >= 0, required)
    Quantity per year moving from supplier to customer, in ``unit``.
``material`` (str, optional)
    The input group the flow belongs to under the Leontief model: inputs of one material
    substitute for each other, different materials are complements. When absent, the group is
    the supplier's stage. Use a separate column (e.g. ``product``) for a free-text description.
``unit`` (str, optional)
    Unit of ``flow``.
``lead_days`` (float >= 0, optional)
    Shipping/processing delay in days (time-to-shortage simulation).
``max_scale`` (float >= 1, optional, default unlimited)
    How far this existing link can grow under a supply response, as a multiple of its flow
    (``2`` = the supplier can sell this customer at most twice the usual amount).
``source_ref``, ``year``, ``evidence`` (optional)
    Provenance of the flow. Named ``source_ref`` (not ``source``) because ``source`` and
    ``target`` name the edge's endpoints in every edge table and exchange format.

Any other attribute is kept as it is.

Graph attributes
----------------
``stages`` (list[str])
    The stages in chain order, upstream first.
``stage_order_inferred`` (bool)
    True when ``stages`` was inferred from the edges (topological order of the stage graph)
    rather than given.
``name`` (str)
    Dataset name. ``description`` (str) optional.
``units`` (dict[str, str])
    Unit per stage, when known.
``provenance`` (dict)
    Where the graph came from: ``input`` (path or dataset name), ``sha256`` of the input files,
    ``assumptions`` (list of plain sentences, e.g. the pooled-market assumption).
``reserves`` (list[dict], optional)
    Reserves by country, records with ``country``, ``value``, ``unit``, ``year``, ``source``.
``sources`` (list[dict], optional)
    The dataset's source table, records with ``source_id``, ``title``, ``url``, ``year``,
    ``evidence``.

Self-loops and cycles (recycling, intra-stage trade) are legal. Validation warns about them and
never crashes.
"""

from __future__ import annotations

__all__ = [
    "AGGREGATE_COUNTRIES",
    "ALLOWED_VALUES",
    "DEFAULT_STAGES",
    "DISTRIBUTIONS",
    "EDGE_COLUMNS",
    "END_USES",
    "EVIDENCE_LABELS",
    "LOWER_BOUNDS",
    "NODE_COLUMNS",
    "RANGE_ATTRS",
    "RANGE_SUFFIXES",
    "REQUIRED_WITH",
    "UPPER_BOUNDS",
    "misplaced_ranges",
    "range_columns",
]

#: The rare-earth chain's stages, upstream first. Datasets may define their own.
DEFAULT_STAGES: list[str] = ["mining", "separation", "metal", "magnets", "end_use"]

#: The end-use sectors of the built-in dataset.
END_USES: list[str] = ["vehicles", "wind", "electronics", "industrial", "defense"]

#: Known node columns, in the order tables and exports write them. Extra columns follow.
NODE_COLUMNS: list[str] = [
    "id",
    "label",
    "stage",
    "country",
    "value",
    "unit",
    "capacity",
    "ramp_days",
    "ramp_delay_days",
    "external_input",
    "inventory_days",
    "recovery_days",
    "end_use",
    "governance",
    "source",
    "year",
    "evidence",
]

#: Known edge columns, in the order tables and exports write them. Extra columns follow.
EDGE_COLUMNS: list[str] = [
    "source",
    "target",
    "flow",
    "material",
    "unit",
    "lead_days",
    "max_scale",
    "source_ref",
    "year",
    "evidence",
]

#: The two bounds of a range, as column suffixes: ``value_low``, ``value_high``.
RANGE_SUFFIXES: tuple[str, str] = ("_low", "_high")

#: Distributions a range may be drawn from (``x_dist``); the first is the default.
DISTRIBUTIONS: tuple[str, ...] = ("triangular", "uniform", "pert")


def range_columns(attr: str) -> tuple[str, str]:
    """The ``(low, high)`` column names of an attribute's range.

    Examples
    --------
    >>> range_columns("flow")
    ('flow_low', 'flow_high')
    """
    return (attr + RANGE_SUFFIXES[0], attr + RANGE_SUFFIXES[1])


_BASE_NODE_NUMERIC: tuple[str, ...] = (
    "value",
    "capacity",
    "ramp_days",
    "ramp_delay_days",
    "external_input",
    "inventory_days",
    "recovery_days",
)
_BASE_EDGE_NUMERIC: tuple[str, ...] = ("flow", "lead_days", "max_scale")

#: Numeric attributes that may carry a range (``x_low``/``x_high``), per table.
RANGE_ATTRS: dict[str, tuple[str, ...]] = {
    "nodes": (*_BASE_NODE_NUMERIC, "governance"),
    "edges": _BASE_EDGE_NUMERIC,
}


def _with_ranges(columns: list[str], attrs: tuple[str, ...]) -> list[str]:
    """``columns`` with each ranged attribute followed by its ``_low``/``_high`` columns."""
    out: list[str] = []
    for c in columns:
        out.append(c)
        if c in attrs:
            out.extend(range_columns(c))
    return out


NODE_COLUMNS = _with_ranges(NODE_COLUMNS, RANGE_ATTRS["nodes"])
EDGE_COLUMNS = _with_ranges(EDGE_COLUMNS, RANGE_ATTRS["edges"])

#: Numeric node / edge attributes (must be numbers >= 0 when present), range bounds included.
NUMERIC_NODE_ATTRS: tuple[str, ...] = (
    *_BASE_NODE_NUMERIC,
    *(c for a in _BASE_NODE_NUMERIC for c in range_columns(a)),
)
NUMERIC_EDGE_ATTRS: tuple[str, ...] = (
    *_BASE_EDGE_NUMERIC,
    *(c for a in _BASE_EDGE_NUMERIC for c in range_columns(a)),
)

#: Numeric columns that may be negative (e.g. raw WGI governance scores run from -2.5 to 2.5).
SIGNED_NODE_ATTRS: tuple[str, ...] = ("governance", *range_columns("governance"))

#: Cross-column rules: (table, column, reference, message). A cell breaks the rule when both
#: cells hold numbers and ``column < reference`` (a number reference is a constant).
LOWER_BOUNDS: tuple[tuple[str, str, str | float, str], ...] = (
    (
        "nodes",
        "capacity",
        "value",
        "capacity is below value (capacity is the most the node can "
        "produce, so it is at least its output)",
    ),
    (
        "edges",
        "max_scale",
        1.0,
        "max_scale is below 1 (the link must at least carry its usual flow)",
    ),
    *(
        (
            table,
            range_columns(attr)[1],
            attr,
            f"{attr}_high is below {attr} (a range runs {attr}_low <= {attr} <= {attr}_high)",
        )
        for table, attrs in RANGE_ATTRS.items()
        for attr in attrs
    ),
    *(
        (
            "edges",
            col,
            1.0,
            f"{col} is below 1 (the link must at least carry its usual flow)",
        )
        for col in range_columns("max_scale")
    ),
)

#: Cross-column rules the other way round: (table, column, reference, message). A cell breaks
#: the rule when both cells hold numbers and ``column > reference``.
UPPER_BOUNDS: tuple[tuple[str, str, str | float, str], ...] = tuple(
    (
        table,
        range_columns(attr)[0],
        attr,
        f"{attr}_low is above {attr} (a range runs {attr}_low <= {attr} <= {attr}_high)",
    )
    for table, attrs in RANGE_ATTRS.items()
    for attr in attrs
)

#: Country codes that are not ISO 3166-1 but are accepted as aggregates.
AGGREGATE_COUNTRIES: dict[str, str] = {
    "EU": "European Union (bloc)",
    "ROW": "Rest of world",
    "XXX": "Unknown / unattributed",
}

#: Evidence labels used in provenance columns.
EVIDENCE_LABELS: tuple[str, ...] = ("primary", "secondary", "derived", "weak", "assumption")

#: Cells that other cells of their row need: (table, column, dependent columns, message). A
#: blank ``column`` while any dependent column holds something breaks the rule (a range needs
#: its value); the problem is reported once, at ``column``.
REQUIRED_WITH: tuple[tuple[str, str, tuple[str, ...], str], ...] = tuple(
    (
        table,
        attr,
        range_columns(attr),
        f"{attr} is blank but {attr}_low/{attr}_high are given (a range needs its value: "
        "the most likely number)",
    )
    for table, attrs in RANGE_ATTRS.items()
    for attr in attrs
)

#: Text columns with a fixed vocabulary: (table, column, allowed values, what they are).
ALLOWED_VALUES: tuple[tuple[str, str, tuple[str, ...], str], ...] = tuple(
    (table, f"{attr}_dist", DISTRIBUTIONS, "distribution")
    for table, attrs in RANGE_ATTRS.items()
    for attr in attrs
)


def misplaced_ranges(table: str, columns: list[str]) -> list[tuple[str, str]]:
    """Range columns (``x_low``/``x_high``) whose ``x`` is a known column that is not numeric.

    Parameters
    ----------
    table
        ``"nodes"`` or ``"edges"``.
    columns
        The table's column names (schema names).

    Returns
    -------
    list of (column, message)
        One entry per misplaced range column (a range on ``stage`` or ``country`` means
        nothing), in column order.

    Examples
    --------
    >>> misplaced_ranges("nodes", ["id", "stage", "stage_low", "value_low", "note_high"])
    [('stage_low', "a range needs a numeric column, and 'stage' is not one (ranges: value, capacity, ramp_days, ramp_delay_days, external_input, inventory_days, recovery_days, governance)")]
    """
    known = {"nodes": NODE_COLUMNS, "edges": EDGE_COLUMNS}.get(table, [])
    numeric = RANGE_ATTRS.get(table, ())
    out: list[tuple[str, str]] = []
    for col in columns:
        for suffix in RANGE_SUFFIXES:
            base = str(col)[: -len(suffix)] if str(col).endswith(suffix) else None
            if base and base in known and base not in numeric:
                out.append(
                    (
                        str(col),
                        f"a range needs a numeric column, and {base!r} is not one "
                        f"(ranges: {', '.join(numeric)})",
                    )
                )
    return out
