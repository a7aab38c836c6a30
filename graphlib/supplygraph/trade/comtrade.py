"""Read UN Comtrade+ downloads: UI/API CSV exports (comma) and bulk files (tab, often gzip).

Columns are found by name, case-insensitively (``cifvalue`` = ``CIFValue``). The fields used:
``reporterCode``/``partnerCode`` (Comtrade numeric codes) with ``reporterISO``/``partnerISO``
(or, for bulk files without them, a code file: BACI's ``country_codes_V*.csv`` uses the same
codes), ``flowCode``, ``cmdCode`` (text), ``refYear`` or ``period``, ``primaryValue`` (USD),
``netWgt`` (kg; else ``qty`` when ``qtyUnitCode`` is 8 = kg), ``classificationCode``, and the
slice columns ``partner2Code``, ``customsCode``, ``motCode``.

Rules (each one counted in :attr:`TradeData.notes`):

- **Canonical slice only**: ``partner2Code == 0``, ``customsCode == C00``, ``motCode == 0``; rows
  that break a flow down by second partner, customs procedure or transport mode repeat the same
  trade and are left out. A record repeated within that slice is an error.
- **Flows**: ``M`` (imports) and ``X`` (exports) make edges; ``RX`` (re-exports, part of ``X``)
  only gives each reporter's re-export share; other flow codes are left out.
- **Mirror pairs**: when both sides report a pair, the importer's record is used by default
  (importers name the true origin of goods re-exported through hubs; Fed IFDP 831), or the
  exporter's with ``prefer="exporter"``.
- **Partners that are not countries**: ``World`` (code 0) rows become the reporter's totals, and
  ``World`` minus the country partners is reported as unallocated; "nes" areas, bunkers, free
  zones and special categories never become edges. Code 490 "Other Asia, nes" keeps its alpha
  code ``S19`` (Taiwan's trade) unless the caller maps it.
- **Units**: USD / 1000 -> kUSD; kg / 1000 -> t; a missing or zero weight is unknown, never
  zero.
- **One HS revision**: rows of two classification codes (e.g. ``H5`` and ``H6``) are an error.
- Monthly records (``freqCode M``) are an error: download annual data.

Comtrade data may not be redistributed; supplygraph's tests use synthetic files in these layouts.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from supplygraph.errors import InputError
from supplygraph.trade.files import decode_utf8, read_bytes, read_head, zip_names

if TYPE_CHECKING:
    import pandas as pd

    from supplygraph.trade.hsmap import HSMap
    from supplygraph.trade.records import TradeData

__all__ = ["looks_like_comtrade", "read_comtrade"]

_NAMES = [
    "typeCode",
    "freqCode",
    "refYear",
    "period",
    "reporterCode",
    "reporterISO",
    "reporterDesc",
    "flowCode",
    "partnerCode",
    "partnerISO",
    "partnerDesc",
    "partner2Code",
    "classificationCode",
    "cmdCode",
    "customsCode",
    "motCode",
    "qtyUnitCode",
    "qty",
    "netWgt",
    "primaryValue",
    "cifvalue",
    "fobvalue",
]
_CANON = {n.lower(): n for n in _NAMES}
_REQUIRED = ("reporterCode", "flowCode", "partnerCode", "cmdCode")
_LEGACY = {"trade flow code", "reporter code", "commodity code"}
_NOT_COUNTRY = re.compile(
    r"\bnes\b|n\.e\.s|\bbunkers\b|free zones|special categories|\bworld\b", re.IGNORECASE
)
_SUFFIXES = (".csv", ".txt", ".tsv", ".gz")


def _files(path: Path) -> list[tuple[Path, str | None]]:
    if path.is_dir():
        found = sorted(
            p for p in path.iterdir() if p.is_file() and p.name.lower().endswith(_SUFFIXES)
        )
        if not found:
            raise InputError("no .csv, .txt, .tsv or .gz file in this folder", file=str(path))
        return [(p, None) for p in found]
    if zipfile.is_zipfile(path):
        members = [n for n in zip_names(path) if n.lower().endswith(_SUFFIXES)]
        if not members:
            raise InputError("no .csv, .txt, .tsv or .gz member in this zip", file=str(path))
        return [(path, m) for m in sorted(members)]
    return [(path, None)]


def _text(path: Path, member: str | None) -> tuple[str, str]:
    label = f"{path.name}!{member}" if member else str(path)
    return decode_utf8(read_bytes(path, member), label), label


def looks_like_comtrade(path: str | Path) -> bool:
    """Return True when the file (or the first file of a folder/zip) has Comtrade+ columns."""
    p = Path(path)
    try:
        first = _files(p)[0]
    except InputError:
        return False
    head = read_head(*first).decode("utf-8-sig", errors="replace")
    line = head.splitlines()[0] if head else ""
    names = {c.strip().strip('"').lower() for c in re.split("[,\t]", line)}
    return {"flowcode", "reportercode", "cmdcode"} <= names


def _frame(text: str, label: str) -> pd.DataFrame:
    import pandas as pd

    first = text.split("\n", 1)[0]
    sep = "\t" if "\t" in first else ","
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_values=[])
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        line = str(exc).strip().splitlines()[0] if str(exc).strip() else "empty file"
        raise InputError(f"not a readable CSV table: {line}", file=label) from None
    lower = {str(c).strip().lower(): c for c in df.columns}
    if set(lower) >= _LEGACY:
        msg = (
            "legacy comtrade.un.org layout ('Trade Flow Code', 'Reporter Code' ...); "
            "download the data from Comtrade+ instead"
        )
        raise InputError(msg, file=label)
    missing = [n for n in _REQUIRED if n.lower() not in lower]
    value_cols = [n for n in ("primaryvalue", "cifvalue", "fobvalue") if n in lower]
    if not missing and not value_cols:
        missing = ["primaryValue"]
    if not missing and "refyear" not in lower and "period" not in lower:
        missing = ["refYear"]
    if missing:
        msg = (
            f"not a Comtrade+ export: no column '{missing[0]}' "
            f"(found {', '.join(map(str, df.columns[:8]))}{' ...' if len(df.columns) > 8 else ''})"
        )
        raise InputError(msg, file=label)
    df = df.rename(columns={orig: _CANON[low] for low, orig in lower.items() if low in _CANON})
    df = df[[c for c in df.columns if c in _NAMES]].copy()
    for col in df.columns:
        df[col] = df[col].astype(str).str.strip()
    df["_file"] = label
    df["_row"] = range(2, len(df) + 2)
    return df


def _number(df: pd.DataFrame, col: str) -> pd.Series:
    import pandas as pd

    if col not in df.columns:
        return pd.Series(float("nan"), index=df.index)
    text = df[col]
    values = pd.to_numeric(text.where(text != ""), errors="coerce")
    bad = (values.isna() & (text != "")) | (values < 0)
    if bad.any():
        i = bad.to_numpy().nonzero()[0][0]
        raise InputError(
            "not a number >= 0",
            file=str(df["_file"].iloc[i]),
            row=int(df["_row"].iloc[i]),
            column=col,
            value=str(text.iloc[i]),
        )
    return values.astype(float)


def _code_table(codes: str | Path | None) -> dict[int, tuple[str | None, str]] | None:
    if codes is None:
        return None
    from supplygraph.trade.baci import read_country_codes

    p = Path(codes)
    return read_country_codes(decode_utf8(read_bytes(p), str(p)), str(p))


def _located_error(df: pd.DataFrame, mask: Any, column: str, message: str) -> InputError:
    i = mask.to_numpy().nonzero()[0][0]
    return InputError(
        message,
        file=str(df["_file"].iloc[i]),
        row=int(df["_row"].iloc[i]),
        column=column,
        value=str(df[column].iloc[i]) if column in df.columns else None,
    )


def _countries(
    df: pd.DataFrame,
    role: str,
    table: dict[int, tuple[str | None, str]] | None,
    overrides: dict[str, str],
) -> tuple[pd.Series, pd.Series]:
    """Return (alpha code or None for non-countries, is-country flag) for reporter/partner."""
    import pandas as pd

    code_col, iso_col, desc_col = f"{role}Code", f"{role}ISO", f"{role}Desc"
    codes = df[code_col]
    if (~codes.str.fullmatch(r"\d+")).any():
        raise _located_error(
            df, ~codes.str.fullmatch(r"\d+"), code_col, "country code is not a number"
        )
    num = codes.astype(int)
    if table is not None:
        known = num.isin(list(table)) | (num == 0)
        if (~known).any():
            msg = "country code is not in the code file"
            raise _located_error(df, ~known, code_col, msg)
        world = (None, "World")
        iso = num.map(lambda c: table.get(c, world)[0] or "")
        desc = num.map(lambda c: table.get(c, world)[1])
    elif iso_col in df.columns:
        iso = df[iso_col].str.upper()
        desc = df[desc_col] if desc_col in df.columns else pd.Series("", index=df.index)
    else:
        msg = (
            f"no '{iso_col}' column to map country codes; pass the code file of the same "
            "numbering (BACI's country_codes_V*.csv)"
        )
        raise InputError(msg, file=str(df["_file"].iloc[0]))
    named_out = desc.str.contains(_NOT_COUNTRY) | iso.isin(["W00", ""]) | (num == 0)
    is_country = ~named_out | (num == 490)
    iso = pd.Series(
        [
            overrides.get(str(n)) or overrides.get(a, a)
            for n, a in zip(num.tolist(), iso.tolist(), strict=True)
        ],
        index=df.index,
    )
    blank = is_country & (iso == "")
    if blank.any():
        raise _located_error(
            df, blank, code_col, "country has no alpha code; map it with an override"
        )
    return iso.where(is_country, None), is_country


def read_comtrade(
    path: str | Path,
    year: int,
    hs_map: HSMap | None = None,
    *,
    country_map: Mapping[str, str] | None = None,
    codes: str | Path | None = None,
    prefer: Literal["importer", "exporter"] = "importer",
) -> TradeData:
    """Read Comtrade+ CSV/TSV files (a file, a folder of them or a zip) for one year.

    Parameters
    ----------
    path
        A Comtrade+ UI/API export (comma) or bulk file (tab; ``.gz`` allowed), a folder or zip of
        such files.
    year
        The data year (``refYear``, or the first four digits of ``period``); other years are
        left out.
    hs_map
        HS -> stage map (the default map when None).
    country_map
        Alpha or numeric codes to re-map (``{"S19": "TWN"}``).
    codes
        A code file (BACI ``country_codes_V*.csv`` layout) for files without ISO columns.
    prefer
        Which side's record to use when both sides report a pair.

    Returns
    -------
    TradeData
        Flows in kUSD and tonnes; ``totals``, ``unallocated`` and ``reexports`` filled from the
        reporters' World and RX rows.

    Raises
    ------
    InputError
        Missing columns, monthly data, mixed HS revisions, a repeated record, non-numeric cells,
        no record for ``year``: one line naming file, row and column.
    """
    import numpy as np
    import pandas as pd

    from supplygraph.trade.hsmap import default_hs_map
    from supplygraph.trade.records import TradeData, finish_flows

    if prefer not in ("importer", "exporter"):
        raise InputError(f"prefer must be 'importer' or 'exporter', not {prefer!r}")
    hs_map = hs_map or default_hs_map()
    p = Path(path)
    if not p.exists():
        raise InputError("no such file or folder", file=str(p))
    frames = [_frame(*_text(f, m)) for f, m in _files(p)]
    df = pd.concat(frames, ignore_index=True)
    notes: list[str] = []
    if "typeCode" in df.columns and (df["typeCode"] != "C").any():
        notes.append(f"{int((df['typeCode'] != 'C').sum())} service (non-goods) rows left out")
        df = df[df["typeCode"] == "C"]
    if "freqCode" in df.columns and (df["freqCode"] == "M").any():
        raise _located_error(
            df,
            df["freqCode"] == "M",
            "freqCode",
            "monthly records; download annual data (freqCode A)",
        )
    years = df["refYear"] if "refYear" in df.columns else df["period"].str[:4]
    if (years != str(year)).any():
        others = sorted(set(years[years != str(year)]))
        if (years == str(year)).any():
            notes.append(
                f"{int((years != str(year)).sum())} rows of other years ({', '.join(others)}) left out"
            )
        else:
            msg = f"no records for {year} (years here: {', '.join(others)})"
            raise InputError(msg, file=str(p))
        df = df[years == str(year)]
    canon = pd.Series(True, index=df.index)
    for col, total in (("partner2Code", "0"), ("customsCode", "C00"), ("motCode", "0")):
        if col in df.columns:
            canon &= df[col].isin([total, ""])
    if (~canon).any():
        notes.append(
            f"{int((~canon).sum())} rows of sub-slices (second partner, customs procedure or "
            "transport mode) left out; only the total slice is used"
        )
        df = df[canon]
    if "classificationCode" in df.columns:
        revisions = sorted(set(df["classificationCode"]) - {""})
        if len(revisions) > 1:
            given = df[df["classificationCode"] != ""]
            head = given.iloc[0]
            other = given[given["classificationCode"] != head["classificationCode"]].iloc[0]
            msg = (
                f"mixed HS revisions {', '.join(revisions)} (this row has "
                f"{other['classificationCode']}, row {head['_row']} has "
                f"{head['classificationCode']}); one graph must use one revision"
            )
            raise InputError(
                msg, file=str(other["_file"]), row=int(other["_row"]), column="classificationCode"
            )
    flows_known = df["flowCode"].isin(["M", "X", "RX"])
    if (~flows_known).any():
        kinds = ", ".join(sorted(set(df.loc[~flows_known, "flowCode"])))
        notes.append(f"{int((~flows_known).sum())} rows of other flow codes ({kinds}) left out")
        df = df[flows_known]
    df = df.copy()
    df["code"] = df["cmdCode"]
    value_col = "primaryValue" if "primaryValue" in df.columns else None
    value = _number(df, value_col) if value_col else pd.Series(np.nan, index=df.index)
    if value_col is None or value.isna().any():
        fallback = _number(df, "cifvalue").fillna(_number(df, "fobvalue"))
        value = value.fillna(fallback)
    df["value_kusd"] = value / 1000.0
    weight = _number(df, "netWgt")
    if "qty" in df.columns and "qtyUnitCode" in df.columns:
        kg = _number(df, "qty").where(df["qtyUnitCode"] == "8")
        weight = weight.where(weight > 0, kg)
    df["quantity_t"] = weight.where(weight > 0) / 1000.0
    overrides = {
        str(k).strip().upper(): str(v).strip().upper() for k, v in (country_map or {}).items()
    }
    table = _code_table(codes)
    df["reporter"], rep_ok = _countries(df, "reporter", table, overrides)
    df["partner"], part_ok = _countries(df, "partner", table, overrides)
    if (~rep_ok).any():
        notes.append(f"{int((~rep_ok).sum())} rows reported by groups or areas left out")
        df, part_ok = df[rep_ok], part_ok[rep_ok]
    df["is_world"] = df["partnerCode"] == "0"
    key = ["reporter", "partnerCode", "flowCode", "code"]
    dup = df.duplicated(key, keep=False)
    if dup.any():
        rows = df[dup].sort_values("_row")
        a, b = rows.iloc[0], rows[rows[key].eq(rows.iloc[0][key]).all(axis=1)].iloc[1]
        msg = f"repeats the record on {a['_file']} row {a['_row']} (same reporter, partner, flow and code)"
        raise InputError(msg, file=str(b["_file"]), row=int(b["_row"]))

    edges_src = df[part_ok & df["flowCode"].isin(["M", "X"])]
    self_trade = edges_src["reporter"] == edges_src["partner"]
    if self_trade.any():
        notes.append(f"{int(self_trade.sum())} rows with the reporter as partner left out")
        edges_src = edges_src[~self_trade]
    is_m = edges_src["flowCode"] == "M"
    recs = pd.DataFrame(
        {
            "exporter": np.where(is_m, edges_src["partner"], edges_src["reporter"]),
            "importer": np.where(is_m, edges_src["reporter"], edges_src["partner"]),
            "code": edges_src["code"].to_numpy(),
            "value_kusd": edges_src["value_kusd"].to_numpy(),
            "quantity_t": edges_src["quantity_t"].to_numpy(),
            "by_importer": is_m.to_numpy(),
        }
    )
    pair = ["exporter", "importer", "code"]
    both = recs.groupby(pair)["by_importer"].transform("nunique") > 1
    if both.any():
        n_pairs = int(both.sum() // 2)
        notes.append(
            f"{n_pairs} pairs reported by both sides: the {prefer}'s record is used "
            "(mirror figures differ: CIF vs FOB values, weights)"
        )
        use_importer = prefer == "importer"
        recs = recs[~both | (recs["by_importer"] == use_importer)]
    records = recs.drop(columns="by_importer")
    flows = finish_flows(records, hs_map, year, notes)

    totals, unallocated = _totals(df, part_ok, hs_map)
    reexports = _reexports(df, hs_map)
    revision = (
        sorted(set(df["classificationCode"]) - {""}) if "classificationCode" in df.columns else []
    )
    source = {
        "kind": "Comtrade",
        "label": f"UN Comtrade+ {revision[0] if revision else 'HS'} {year}",
        "year": year,
        "hs_revision": revision[0] if revision else None,
        "files": sorted(set(df["_file"])),
        "prefer": prefer,
        "licence": "UN Comtrade terms: internal use; not for re-dissemination",
        "country_map": dict(overrides),
    }
    complete = set(df.loc[df["flowCode"] == "M", "reporter"].dropna())
    return TradeData(
        flows=flows,
        source=source,
        complete_importers=complete,
        totals=totals,
        unallocated=unallocated,
        reexports=reexports,
        notes=notes,
    )


def _stage_frame(df: pd.DataFrame, hs_map: HSMap, exporter: pd.Series) -> pd.DataFrame:
    mapped = hs_map.apply(exporter, df["code"])
    out = df.assign(stage=mapped["stage"].to_numpy(), factor=mapped["factor"].to_numpy())
    return out[out["stage"].notna()]


def _sum_known(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Sum value and quantity per key; the quantity is unknown when any part is."""
    g = frame.assign(unknown=frame["quantity_t"].isna()).groupby(keys, sort=True)
    out = g.agg(
        value_kusd=("value_kusd", "sum"),
        quantity_t=("quantity_t", "sum"),
        unknown=("unknown", "any"),
        factor=("factor", "first"),
    ).reset_index()
    out.loc[out["unknown"], "quantity_t"] = float("nan")
    out["quantity_basis"] = out["quantity_t"] * out["factor"]
    return out.drop(columns=["unknown", "factor"])


def _totals(
    df: pd.DataFrame, part_ok: pd.Series, hs_map: HSMap
) -> tuple[pd.DataFrame, pd.DataFrame]:
    import pandas as pd

    cols = ["country", "flow", "stage", "hs6", "value_kusd", "quantity_t", "quantity_basis"]
    mx = df[df["flowCode"].isin(["M", "X"])]
    exporter = mx["reporter"].where(mx["flowCode"] == "X", "")
    staged = _stage_frame(mx, hs_map, exporter.fillna(""))
    staged = staged.rename(columns={"reporter": "country", "flowCode": "flow", "code": "hs6"})
    world = staged[staged["is_world"]]
    if world.empty:
        empty = pd.DataFrame(columns=cols)
        return empty, empty.copy()
    keys = ["country", "flow", "stage", "hs6"]
    totals = _sum_known(world, keys)[cols]
    partners = staged[
        ~staged["is_world"] & part_ok.reindex(staged.index).fillna(False).astype(bool)
    ]
    parts = _sum_known(partners, keys) if not partners.empty else pd.DataFrame(columns=cols)
    merged = totals.merge(parts, on=keys, how="left", suffixes=("", "_p"))
    unalloc = merged[keys].copy()
    for col in ("value_kusd", "quantity_t", "quantity_basis"):
        unalloc[col] = merged[col] - merged[f"{col}_p"].fillna(0.0)
    return totals.reset_index(drop=True), unalloc.reset_index(drop=True)


def _reexports(df: pd.DataFrame, hs_map: HSMap) -> pd.DataFrame:
    """Re-export share per reporter and stage: RX over X on the partners that have both."""
    import numpy as np
    import pandas as pd

    cols = ["country", "stage", "rx_quantity_t", "x_quantity_t", "rx_share"]
    rx = df[df["flowCode"] == "RX"]
    if rx.empty:
        return pd.DataFrame(columns=cols)
    key = ["reporter", "partnerCode", "code"]
    x = df[df["flowCode"] == "X"]
    pairs = rx[[*key, "quantity_t"]].merge(x[[*key, "quantity_t"]], on=key, suffixes=("_rx", "_x"))
    pairs = _stage_frame(pairs, hs_map, pairs["reporter"].fillna(""))
    table = pairs.groupby(["reporter", "stage"], sort=True)[["quantity_t_rx", "quantity_t_x"]].sum(
        min_count=1
    )
    table = table.reset_index().rename(
        columns={
            "reporter": "country",
            "quantity_t_rx": "rx_quantity_t",
            "quantity_t_x": "x_quantity_t",
        }
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        table["rx_share"] = table["rx_quantity_t"] / table["x_quantity_t"]
    return table[cols].reset_index(drop=True)
