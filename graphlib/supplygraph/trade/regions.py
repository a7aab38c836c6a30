"""Trade countries to graph countries: the EU bloc and the rest of the world.

A graph lists some countries by ISO3 code and may group others as ``EU`` or ``ROW`` (see
:data:`supplygraph.schema.AGGREGATE_COUNTRIES`). A trade partner is placed in the graph as

- itself, when the graph has nodes of that country;
- ``EU``, when it is an EU member (:data:`EU27`) and the graph has ``EU`` nodes;
- itself otherwise: a country the graph does not list. :mod:`supplygraph.trade.dataset` gives it
  a node only to carry re-exports, and otherwise folds it into ``ROW``.

Trade between two partners placed in the same graph country (France to Germany inside ``EU``) is
internal to that graph country and never becomes an edge.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["EU27", "ROW", "graph_country"]

#: The 27 EU member states since 1 February 2020 (ISO 3166-1 alpha-3).
EU27: frozenset[str] = frozenset(
    {
        "AUT", "BEL", "BGR", "HRV", "CYP", "CZE", "DNK", "EST", "FIN", "FRA", "DEU", "GRC",
        "HUN", "IRL", "ITA", "LVA", "LTU", "LUX", "MLT", "NLD", "POL", "PRT", "ROU", "SVK",
        "SVN", "ESP", "SWE",
    }
)  # fmt: skip

#: The rest-of-world aggregate code.
ROW = "ROW"


def graph_country(country: str, graph_countries: Iterable[str]) -> str:
    """Return the graph country a trade partner belongs to.

    Parameters
    ----------
    country
        The partner's code (ISO3 or the release's own alpha code).
    graph_countries
        The countries of the graph's nodes.

    Returns
    -------
    str
        ``country`` itself, or ``"EU"`` for a member state the graph groups as ``EU``.

    Examples
    --------
    >>> graph_country("DEU", {"CHN", "EU"}), graph_country("DEU", {"DEU", "EU"})
    ('EU', 'DEU')
    >>> graph_country("HKG", {"CHN", "EU"})
    'HKG'
    """
    listed = set(graph_countries)
    if country in listed:
        return country
    if country in EU27 and "EU" in listed:
        return "EU"
    return country
