"""One entry point for trade files: BACI releases and Comtrade+ downloads, told apart by content.

:func:`read_trade` looks at the path: a folder, zip or file with ``BACI_*_Y*_V*.csv`` data files
is a BACI release (:mod:`supplygraph.trade.baci`); a file, folder or zip whose header has the
Comtrade+ columns (``flowCode``, ``reporterCode``, ``cmdCode``) is read by
:mod:`supplygraph.trade.comtrade`. :func:`trade_flows` returns just the flow table.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from supplygraph.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from supplygraph.trade.hsmap import HSMap
    from supplygraph.trade.records import TradeData

__all__ = ["read_trade", "trade_flows", "trade_kind"]

_BACI = re.compile(r"BACI_HS\d\d_Y\d{4}_V\w+\.csv$", re.IGNORECASE)


def trade_kind(path: str | Path) -> Literal["BACI", "Comtrade"]:
    """Return which reader a path needs.

    Raises
    ------
    InputError
        When the path does not exist or is neither a BACI release nor Comtrade+ data.
    """
    from supplygraph.trade.comtrade import looks_like_comtrade
    from supplygraph.trade.files import zip_names

    p = Path(path)
    if not p.exists():
        raise InputError("no such file or folder", file=str(p))
    if p.is_dir():
        names = [q.name for q in p.iterdir()]
    elif zipfile.is_zipfile(p):
        names = [n.rsplit("/", 1)[-1] for n in zip_names(p)]
    else:
        names = [p.name]
    if any(_BACI.search(n) for n in names):
        return "BACI"
    if looks_like_comtrade(p):
        return "Comtrade"
    msg = (
        "neither a BACI release (BACI_HS??_Y????_V*.csv files) nor Comtrade+ data "
        "(columns flowCode, reporterCode, cmdCode ...)"
    )
    raise InputError(msg, file=str(p))


def read_trade(
    path: str | Path,
    year: int,
    hs_map: HSMap | str | Path | None = None,
    *,
    country_map: Mapping[str, str] | None = None,
    codes: str | Path | None = None,
    prefer: Literal["importer", "exporter"] = "importer",
) -> TradeData:
    """Read one year of BACI or Comtrade+ trade, mapped to stages.

    Parameters
    ----------
    path
        A BACI release (folder, zip or yearly file) or Comtrade+ data (file, folder or zip).
    year
        The data year.
    hs_map
        An :class:`~supplygraph.trade.hsmap.HSMap`, a path to a map CSV, or None for the default.
    country_map
        Codes to re-map (``{"S19": "TWN"}``).
    codes
        Comtrade only: a code file for bulk files without ISO columns.
    prefer
        Comtrade only: whose record a mirror pair keeps.

    Returns
    -------
    TradeData

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "BACI_HS17_Y2022_V202401b.csv").write_text(
    ...     "t,i,j,k,v,q\\n2022,104,156,284690,52000.000,       9000.000\\n")
    >>> _ = (d / "country_codes_V202401b.csv").write_text(
    ...     "country_code,country_name,country_iso2,country_iso3\\n104,Myanmar,MM,MMR\\n"
    ...     "156,China,CN,CHN\\n")
    >>> flows = read_trade(d, 2022).flows
    >>> flows[["exporter", "importer", "stage", "hs6", "quantity_t"]].values.tolist()
    [['MMR', 'CHN', 'mining', '284690', 9000.0]]
    """
    from supplygraph.trade.hsmap import HSMap, read_hs_map

    table = hs_map if isinstance(hs_map, HSMap) else read_hs_map(hs_map)
    if trade_kind(path) == "BACI":
        from supplygraph.trade.baci import read_baci

        return read_baci(path, year, table, country_map=country_map)
    from supplygraph.trade.comtrade import read_comtrade

    return read_comtrade(path, year, table, country_map=country_map, codes=codes, prefer=prefer)


def trade_flows(
    path: str | Path,
    year: int,
    hs_map: HSMap | str | Path | None = None,
    **options: object,
) -> pd.DataFrame:
    """Return the bilateral flows of one year: one row per exporter, importer, stage and code.

    Parameters
    ----------
    path, year, hs_map, options
        As :func:`read_trade`.

    Returns
    -------
    pandas.DataFrame
        ``year``, ``exporter``, ``importer`` (ISO3 or the release's own alpha code), ``stage``,
        ``hs6`` (text), ``value_kusd`` (thousand USD), ``quantity_t`` (tonnes, NaN when
        unknown), ``quantity_basis`` and ``basis_unit`` (the map's conversion).
    """
    return read_trade(path, year, hs_map, **options).flows  # type: ignore[arg-type]
