"""Collect every table of the chokepoint report into one :class:`ReportData` structure.

The builder runs the analyses (concentration, chokepoints, sweep, disruptions, origin tracing)
once and keeps their results as display-ready tables; the writers (:mod:`.markdown`,
:mod:`.html`, :mod:`~supplygraph.report.xlsx`, :mod:`.json`) only format them. Everything is ordered
deterministically, so the same input always gives the same report (apart from the date line).
"""

from __future__ import annotations

import datetime as _dt
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from supplygraph.wording import join_words

if TYPE_CHECKING:
    import networkx as nx

    from supplygraph.charts import Chart

__all__ = [
    "DATE_PREFIX",
    "DEMINIMIS_THRESHOLDS",
    "ReportData",
    "ScenarioSpec",
    "Table",
    "build_report_data",
    "country_name",
    "format_value",
    "source_details",
]

#: Every text output carries the report date on exactly one line starting with this text.
DATE_PREFIX = "Report date:"
#: Thresholds of the de-minimis comparison: the 0.1 % foreign-product rule and EAR-style 10/25 %.
DEMINIMIS_THRESHOLDS: tuple[float, ...] = (0.001, 0.10, 0.25)
#: Static scenario results apply every shock that starts within this many days (one year).
STATIC_HORIZON_DAYS = 365
#: How many rows of the ranked tables the text reports, charts and headlines show (the
#: workbook and JSON hold every row).
TOP_N = 10
#: At most this many countries get their own column in the stage x country share table.
MAX_SHARE_COUNTRIES = 7

#: Display headers for column names that the spreadsheet importer would take for input columns.
_SAFE_HEADERS = {
    "id": "node",
    "node id": "node",
    "label": "node label",
    "name": "node name",
    "from": "from node",
    "to": "to node",
    "source": "supplier",
    "target": "end use",
    "share": "share of stage",
    "percent": "percent share",
    "value": "quantity",
    "%": "percent share",
}

_COUNTRY_OVERRIDES = {
    "ROW": "Rest of world",
    "XXX": "Unknown",
    "EU": "European Union",
    "unknown": "unknown origin",
    "Other": "Other",
}


@dataclass
class Table:
    """One report table with display metadata.

    Attributes
    ----------
    key
        Machine name (the key in ``report.json``), e.g. ``"concentration"``.
    title
        Heading shown above the table.
    frame
        The data, index-free (every column is a column), rows in display order.
    formats
        Display kind per column: ``"pct"`` (fraction shown as percent), ``"int"`` (rounded,
        thousands separators), ``"num"`` (quantity), ``"bool"``, ``"text"``. Missing = text.
    headers
        Display header per column (defaults to the column name).
    scale
        Columns that get a colour scale (shares, losses) in the HTML and xlsx outputs.
    note
        One or two plain sentences shown under the table (method, units, thresholds).
    sheet
        Name of the xlsx sheet holding it, or None when it is not written to the workbook.
    in_text
        Whether the Markdown and HTML reports show it.
    """

    key: str
    title: str
    frame: pd.DataFrame
    formats: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    scale: tuple[str, ...] = ()
    note: str = ""
    sheet: str | None = None
    in_text: bool = True
    text_columns: tuple[str, ...] | None = None
    text_max_rows: int | None = None

    def text_view(self) -> Table:
        """Return the table restricted to ``text_columns`` (the Markdown/HTML view)."""
        if not self.text_columns and self.text_max_rows is None:
            return self
        cols = [c for c in self.text_columns or self.frame.columns if c in self.frame.columns]
        frame = self.frame[cols]
        note = self.note
        if self.text_max_rows is not None and len(frame) > self.text_max_rows:
            frame = frame.head(self.text_max_rows)
            note = (
                f"First {self.text_max_rows} of {len(self.frame)} rows; all rows are in "
                f"report.xlsx and report.json. {note}"
            ).strip()
        return Table(
            key=self.key,
            title=self.title,
            frame=frame,
            formats=self.formats,
            headers=self.headers,
            scale=self.scale,
            note=note,
            sheet=self.sheet,
            in_text=self.in_text,
        )

    def header(self, col: str) -> str:
        """Return the display header of column ``col``.

        Computed tables never use a header that the spreadsheet importer reads as an input
        column (``id``, ``label``, ``source``, ``target``, ``value``, ``share`` ...), so a report
        workbook re-imports as input from its Nodes/Edges sheets only.
        """
        if col in self.headers:
            return self.headers[col]
        text = str(col).replace("_", " ")
        return _SAFE_HEADERS.get(text.strip().lower(), text)

    def kind(self, col: str) -> str:
        """Return the display kind of column ``col`` (see ``formats``)."""
        return self.formats.get(col, "text")

    def display_rows(self) -> list[list[str]]:
        """Return the rows formatted as text, with :func:`format_value`."""
        cols = list(self.frame.columns)
        return [
            [format_value(v, self.kind(c)) for c, v in zip(cols, row, strict=True)]
            for row in self.frame.itertuples(index=False, name=None)
        ]


@dataclass
class ScenarioSpec:
    """A scenario as the report shows it: name, description, shocks and their sources."""

    name: str
    shocks: list[Any]
    description: str = ""
    model: str = "linear"
    sources: list[str] = field(default_factory=list)
    shock_text: list[str] = field(default_factory=list)
    obj: Any = None


@dataclass
class ReportData:
    """Everything a report shows, computed once, ready for the writers.

    Attributes
    ----------
    title
        Report title.
    dataset
        Dataset name (``G.graph["name"]``).
    date
        Report date, ISO format (``YYYY-MM-DD``).
    provenance
        Ordered key/value pairs: tool version, input, SHA-256, model, date.
    headline
        Headline findings, plain sentences generated from the numbers.
    tables
        Tables in display order, by key.
    charts
        Charts by file stem (``"concentration"`` -> ``charts/concentration.png``).
    chart_titles
        Alternative text / caption per chart.
    scenarios
        Scenario descriptions (name, description, model, shocks, sources).
    sources
        Source records (``source_id``, ``title``, ``url``, ``year``, ``evidence`` ...).
    assumptions
        Stated assumptions, plain sentences.
    notes
        Method notes (thresholds, conventions), plain sentences.
    network
        Whether a ``network.html`` view sits next to the report (the writers link to it).
    raw
        The analyses' own results (not written; used for charts and the network view).
    robustness
        With Monte Carlo draws: every headline finding with the share of draws in which it
        holds, robust or fragile, and what moves the fragile ones (the closing note).
    """

    title: str
    dataset: str
    date: str
    provenance: dict[str, str]
    headline: list[str]
    tables: dict[str, Table]
    charts: dict[str, Chart] = field(default_factory=dict)
    chart_titles: dict[str, str] = field(default_factory=dict)
    scenarios: list[dict[str, Any]] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    network: bool = False
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    robustness: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------------------------
# formatting


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    try:
        return bool(pd.isna(value)) if not isinstance(value, (list, tuple, dict)) else False
    except (TypeError, ValueError):
        return False


def format_value(value: Any, kind: str = "text") -> str:
    """Format one cell for the Markdown and HTML reports (fixed, locale-free formatting).

    Parameters
    ----------
    value
        The cell value.
    kind
        ``"pct"`` (a fraction, shown with one decimal as a percentage), ``"int"``, ``"num"``,
        ``"bool"`` or ``"text"``.

    Returns
    -------
    str
        The text; missing values (None, NaN) become ``"–"``.

    Examples
    --------
    >>> format_value(0.9, "pct"), format_value(8123.4, "int"), format_value(True, "bool")
    ('90.0 %', '8,123', 'yes')
    >>> format_value(270000.0, "num"), format_value(1.23456, "num"), format_value(None)
    ('270,000', '1.23', '–')
    """
    if _is_missing(value):
        return "–"
    if kind == "bool":
        return "yes" if bool(value) else "no"
    if (
        kind in ("pct", "int", "num")
        and isinstance(value, (int, float))
        and not isinstance(value, bool)
    ):
        x = float(value)
        if not math.isfinite(x):
            return "–"
        if kind == "pct":
            return f"{100.0 * x:.1f} %"
        if kind == "int":
            return f"{x:,.0f}"
        return _fmt_num(x)
    if isinstance(value, float):
        return _fmt_num(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def _fmt_num(x: float) -> str:
    if x == 0:
        return "0"
    ax = abs(x)
    if ax >= 100:
        return f"{x:,.0f}"
    if ax >= 1:
        return f"{x:,.2f}".rstrip("0").rstrip(".")
    return f"{x:.3g}"


def pct(x: float, digits: int = 1) -> str:
    """Return a fraction as a percentage string with ``digits`` decimals (``0.9`` -> ``90.0 %``)."""
    if x is None or not math.isfinite(float(x)):
        return "n/a"
    return f"{100.0 * float(x):.{digits}f} %"


def source_details(rec: Mapping[str, Any]) -> list[str]:
    """Return a source record's publisher, year and evidence label as display texts.

    Examples
    --------
    >>> source_details({"publisher": "USGS", "year": 2025.0, "evidence": "primary"})
    ['USGS', '2025', 'primary']
    """
    out = []
    for key in ("publisher", "year", "evidence"):
        v = rec.get(key)
        if v is None or _is_missing(v) or str(v).strip() == "":
            continue
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        out.append(str(v))
    return out


def _pct_whole(x: float) -> str:
    """Whole percent, with small non-zero values shown as "< 1 %" rather than "0 %"."""
    if 0 < x < 0.005:
        return "< 1 %"
    return pct(x, 0)


def country_name(code: Any) -> str:
    """Return a display name for an ISO 3166-1 alpha-3 code (or an aggregate code).

    Examples
    --------
    >>> country_name("CHN"), country_name("ROW"), country_name("ZZZ")
    ('China', 'Rest of world', 'ZZZ')
    """
    text = str(code)
    if text in _COUNTRY_OVERRIDES:
        return _COUNTRY_OVERRIDES[text]
    if len(text) == 3 and text.isalpha() and text.isupper():
        try:
            import pycountry

            rec = pycountry.countries.get(alpha_3=text)
        except (ImportError, KeyError, LookupError):
            rec = None
        if rec is not None:
            return str(getattr(rec, "common_name", None) or rec.name)
    return text


def _stage_label(stage: Any) -> str:
    return str(stage).replace("_", " ")


# ------------------------------------------------------------------------------------------------
# inputs


def _report_date(date: Any) -> str:
    if date is None:
        epoch = os.environ.get("SOURCE_DATE_EPOCH")
        if epoch and epoch.strip().isdigit():
            return _dt.datetime.fromtimestamp(int(epoch), tz=_dt.UTC).date().isoformat()
        return _dt.datetime.now(tz=_dt.UTC).date().isoformat()
    if isinstance(date, _dt.datetime):
        return date.date().isoformat()
    if isinstance(date, _dt.date):
        return date.isoformat()
    return str(date)


def _shock_text(shock: Any) -> str:
    """Return a shock in the text syntax, with its filters and window when it has any."""
    if isinstance(shock, str):
        return shock
    text = str(shock)
    extra = []
    for attr, what in (
        ("destination", "to"),
        ("except_destination", "except to"),
        ("end_use", "end use"),
    ):
        val = getattr(shock, attr, None)
        if val:
            vals = (
                sorted(str(v) for v in val)
                if isinstance(val, (set, frozenset, list, tuple))
                else [str(val)]
            )
            extra.append(f"{what} {'/'.join(vals)}")
    start = getattr(shock, "start_day", 0) or 0
    end = getattr(shock, "end_day", None)
    if start or end is not None:
        extra.append(f"days {start:g}–{end:g}" if end is not None else f"from day {start:g}")
    return f"{text} ({', '.join(extra)})" if extra else text


def _scenario_specs(
    scenarios: Iterable[Any] | None, shocks: Sequence[Any] | None, model: str
) -> list[ScenarioSpec]:
    """Normalise scenario objects / files and loose shocks into :class:`ScenarioSpec` records."""
    specs: list[ScenarioSpec] = []
    for sc in scenarios or []:
        if isinstance(sc, ScenarioSpec):
            specs.append(sc)
            continue
        if isinstance(sc, (str, os.PathLike)):
            from supplygraph.analysis.scenarios import load_scenario

            sc = load_scenario(Path(sc))
        every = list(getattr(sc, "shocks", []) or [])
        sh = [x for x in every if float(getattr(x, "start_day", 0) or 0) < STATIC_HORIZON_DAYS]
        desc = str(getattr(sc, "description", "") or "")
        if len(sh) < len(every):
            k = len(every) - len(sh)
            desc += (
                f" ({k} shock{'s' * (k > 1)} starting on day {STATIC_HORIZON_DAYS} or later "
                f"{'are' if k > 1 else 'is'} left out of the static result.)"
            )
        specs.append(
            ScenarioSpec(
                name=str(getattr(sc, "name", "scenario")),
                shocks=sh,
                description=desc.strip(),
                model=str(getattr(sc, "model", None) or model),
                sources=[str(s) for s in (getattr(sc, "sources", None) or [])],
                shock_text=[_shock_text(s) for s in sh],
                obj=sc,
            )
        )
    if shocks:
        texts = [_shock_text(s) for s in shocks]
        specs.append(
            ScenarioSpec(
                name="Shock: " + "; ".join(texts),
                shocks=list(shocks),
                description="Shocks passed to the report (--shock), applied together.",
                model=model,
                shock_text=texts,
            )
        )
    seen: dict[str, int] = {}
    for spec in specs:
        n = seen.get(spec.name, 0)
        seen[spec.name] = n + 1
        if n:
            spec.name = f"{spec.name} ({n + 1})"
    return specs


# ------------------------------------------------------------------------------------------------
# tables


def _end_use_nodes(G: nx.DiGraph) -> list[str]:
    """Return the sinks that represent end uses, sorted (end-use stage first, else all sinks)."""
    stages = list(G.graph.get("stages") or [])
    last = stages[-1] if stages else None
    ends = [
        n
        for n, d in G.nodes(data=True)
        if d.get("end_use") not in (None, "") or (last is not None and d.get("stage") == last)
    ]
    if not ends:
        ends = [n for n in G.nodes if G.out_degree(n) == 0]
    return sorted(ends, key=str)


def _is_end_use_stage(G: nx.DiGraph, stage: str) -> bool:
    nodes = [n for n, d in G.nodes(data=True) if d.get("stage") == stage]
    if not nodes:
        return False
    return stage == "end_use" or all(
        G.nodes[n].get("end_use") not in (None, "") or G.out_degree(n) == 0 for n in nodes
    )


def _concentration_tables(G: nx.DiGraph) -> tuple[Table, pd.DataFrame, pd.DataFrame]:
    """Return the concentration table, the stage x country share matrix and the raw indices."""
    from supplygraph.analysis.concentration import concentration, stage_shares

    conc = concentration(G)
    shares = stage_shares(G)
    has_data = conc["hhi"].astype(float).notna()
    stages = [s for s in conc.index if has_data[s] and not _is_end_use_stage(G, str(s))]
    sub = shares[shares["stage"].isin(stages) & ~shares["aggregate"].astype(bool)]
    # countries: the largest in any stage, ordered by their largest share then by total
    stats = (
        sub.groupby("country")["share"]
        .agg(["max", "sum"])
        .reset_index()
        .sort_values(["max", "sum", "country"], ascending=[False, False, True], kind="stable")
    )
    keep = [c for c, m in zip(stats["country"], stats["max"], strict=True) if m >= 0.03]
    keep = keep[:MAX_SHARE_COUNTRIES]
    matrix = (
        shares[shares["stage"].isin(stages)]
        .pivot_table(index="stage", columns="country", values="share", aggfunc="sum", sort=False)
        .reindex(index=stages)
        .fillna(0.0)
    )
    wide = pd.DataFrame(index=matrix.index)
    for c in keep:
        wide[c] = matrix[c] if c in matrix.columns else 0.0
    wide["Other"] = (1.0 - wide.sum(axis=1)).clip(lower=0.0)
    wide.loc[(wide["Other"] < 1e-9), "Other"] = 0.0
    wide.index.name = "stage"

    frame = pd.DataFrame({"stage": [str(s) for s in conc.index]})
    frame["hhi"] = conc["hhi"].to_numpy(dtype=float)
    frame["level"] = conc["level"].to_numpy()
    frame["top_country"] = [
        country_name(c) if c is not None and not _is_missing(c) else None
        for c in conc["top_country"]
    ]
    frame["cr1"] = conc["cr1"].to_numpy(dtype=float)
    frame["cr3"] = conc["cr3"].to_numpy(dtype=float)
    frame["n_countries"] = conc["n_countries"].to_numpy()
    frame["effective_suppliers"] = conc["effective_suppliers"].to_numpy(dtype=float)
    frame["eu_single_country_cap"] = conc["eu_single_country_cap"].to_numpy(dtype=bool)
    frame["hhi_governance"] = conc["hhi_governance"].to_numpy(dtype=float)
    for c in [*keep, "Other"]:
        frame[f"share_{c}"] = [
            float(wide.loc[s, c]) if s in wide.index else float("nan") for s in conc.index
        ]
    formats = {
        "hhi": "int",
        "cr1": "pct",
        "cr3": "pct",
        "n_countries": "int",
        "effective_suppliers": "num",
        "eu_single_country_cap": "bool",
        "hhi_governance": "num",
        **{f"share_{c}": "pct" for c in [*keep, "Other"]},
    }
    headers = {
        "hhi": "HHI",
        "level": "level",
        "top_country": "top country",
        "cr1": "top-1 share",
        "cr3": "top-3 share",
        "n_countries": "countries",
        "effective_suppliers": "effective suppliers",
        "eu_single_country_cap": "> 65 % one country",
        "hhi_governance": "governance-weighted HHI (0-10)",
        **{f"share_{c}": f"{c} share" for c in [*keep, "Other"]},
    }
    table = Table(
        key="concentration",
        title="Concentration by stage",
        frame=frame,
        formats=formats,
        headers=headers,
        scale=("cr1", "cr3", *[f"share_{c}" for c in [*keep, "Other"]]),
        note=(
            "Shares of each stage's output by country (reserves: share of world reserves). "
            "HHI = 10,000 · Σ share² over named countries (ROW/unknown aggregates excluded); "
            "bands from the 2010 US Horizontal Merger Guidelines (highly concentrated > 2,500). "
            "'> 65 % one country' flags the EU Critical Raw Materials Act single-country benchmark. "
            "Governance-weighted HHI = Σ share² · governance score (0-10, higher = riskier; EU "
            "criticality method), blank unless every named country has a score."
        ),
        sheet="Concentration",
        text_columns=(
            "stage",
            "hhi",
            "level",
            "top_country",
            "cr1",
            "cr3",
            "effective_suppliers",
            "eu_single_country_cap",
            "hhi_governance",
        ),
    )
    return table, wide, conc


def _group_concentration_table(G: nx.DiGraph) -> Table | None:
    """Return the concentration of each stage by element group, or None without groups."""
    from supplygraph.analysis.concentration import concentration_by_material

    conc = concentration_by_material(G)
    conc = conc[
        conc["hhi"].astype(float).notna()
        & ~conc["stage"].map(lambda s: _is_end_use_stage(G, str(s)))
    ]
    if conc.empty or conc.groupby("stage").size().max() < 2:
        return None
    frame = pd.DataFrame(
        {
            "stage": conc["stage"].astype(str).to_numpy(),
            "material": conc["material"].astype(str).to_numpy(),
            "top_country": [country_name(c) for c in conc["top_country"]],
            "cr1": conc["cr1"].to_numpy(dtype=float),
            "hhi": conc["hhi"].to_numpy(dtype=float),
            "hhi_governance": conc["hhi_governance"].to_numpy(dtype=float),
            "total": conc["total"].to_numpy(dtype=float),
            "unit": conc["unit"].to_numpy(),
        }
    )
    return Table(
        key="concentration_groups",
        title="Concentration by element group",
        frame=frame,
        formats={"cr1": "pct", "hhi": "int", "hhi_governance": "num", "total": "num"},
        headers={
            "material": "group",
            "top_country": "top country",
            "cr1": "top-1 share",
            "hhi": "HHI",
            "hhi_governance": "governance-weighted HHI (0-10)",
            "total": "total",
        },
        scale=("cr1",),
        note=(
            "The same indices within each stage's element group (node attribute 'material': "
            "e.g. separated NdPr vs Dy/Tb, magnet kinds): shares are of the group's total, so a "
            "heavy-rare-earth chokepoint is not diluted by light rare earths."
        ),
        sheet="Concentration by group",
        text_columns=("stage", "material", "top_country", "cr1", "hhi", "hhi_governance"),
    )


def _group_sentences(groups: Table | None) -> list[str]:
    """Headline: each stage whose element groups differ (top country, or HHI by 1,000 or more),
    its groups listed from the most concentrated; at most two stages, upstream first."""
    if groups is None:
        return []
    out: list[str] = []
    for stage, part in groups.frame.groupby("stage", sort=False):
        hhi = part["hhi"].astype(float)
        if len(part) < 2 or (part["top_country"].nunique() < 2 and hhi.max() - hhi.min() < 1000):
            continue
        items = []
        for _, row in part.sort_values("hhi", ascending=False, kind="stable").iterrows():
            gov = (
                ""
                if _is_missing(row["hhi_governance"])
                else f", governance-weighted {float(row['hhi_governance']):.2f}"
            )
            items.append(
                f"{row['material']} {row['top_country']} {pct(float(row['cr1']))} "
                f"(HHI {format_value(row['hhi'], 'int')}{gov})"
            )
        out.append(f"{_stage_label(stage).capitalize()} by element group: {'; '.join(items)}.")
    return out[:2]


def _share_table(wide: pd.DataFrame) -> Table:
    frame = wide.reset_index()
    frame.columns = [str(c) for c in frame.columns]
    countries = [c for c in frame.columns if c != "stage"]
    return Table(
        key="stage_shares",
        title="Share of each stage by country",
        frame=frame,
        formats=dict.fromkeys(countries, "pct"),
        headers={c: country_name(c) for c in countries},
        scale=tuple(countries),
        note="Rows: stages upstream first (reserves: share of world reserves). Other = all remaining countries and aggregates.",
        sheet=None,
    )


def _node_frame_cols(df: pd.DataFrame, G: nx.DiGraph, id_col: str) -> pd.DataFrame:
    """Add label/stage/country columns for a column of node ids when they are missing."""
    out = df.copy()
    if id_col not in out.columns:
        return out
    pos = list(out.columns).index(id_col) + 1
    ids = out[id_col].tolist()  # one bulk conversion: iterating an Arrow-backed column is slow
    attrs = dict(G.nodes(data=True))
    records = [
        None if n is None or (isinstance(n, float) and math.isnan(n)) else attrs.get(n) for n in ids
    ]
    for attr in ("label", "stage", "country"):
        if attr in out.columns:
            continue
        vals = [None if d is None else d.get(attr) for d in records]
        if attr == "label" and all(v is None or v == n for v, n in zip(vals, ids, strict=True)):
            continue
        if all(v is None for v in vals):
            continue
        out.insert(pos, attr, vals)
        pos += 1
    return out


_PCT_HINTS = ("share", "loss", "lost", "dependency", "remaining", "fraction", "cr1", "cr3")


def _guess_formats(df: pd.DataFrame) -> dict[str, str]:
    formats: dict[str, str] = {}
    for col in df.columns:
        s = df[col]
        name = str(col).lower()
        if pd.api.types.is_bool_dtype(s):
            formats[col] = "bool"
        elif pd.api.types.is_integer_dtype(s):
            formats[col] = "int"
        elif pd.api.types.is_float_dtype(s):
            finite = s[pd.notna(s)]
            in_unit = (
                bool(((finite >= -1e-12) & (finite <= 1 + 1e-9)).all()) if len(finite) else True
            )
            if name.startswith("hhi") and "normal" not in name:
                formats[col] = "int"
            elif any(h in name for h in _PCT_HINTS) and in_unit and "quantity" not in name:
                formats[col] = "pct"
            elif name.startswith(("n_", "num_")):
                formats[col] = "int"
            else:
                formats[col] = "num"
    return formats


def _reset(df: pd.DataFrame, default_name: str = "node") -> pd.DataFrame:
    if isinstance(df.index, pd.RangeIndex) and df.index.name is None:
        return df.reset_index(drop=True)
    name = df.index.name or default_name
    out = df.copy()
    out.index.name = name
    if name in out.columns:
        out = out.drop(columns=name)
    return out.reset_index()


def _chokepoints_table(G: nx.DiGraph, model: str) -> tuple[Table, pd.DataFrame]:
    from supplygraph.analysis.chokepoints import chokepoints

    raw = chokepoints(G, model=model)
    df = _reset(raw, "id")
    id_col = next((c for c in ("id", "node", "group") if c in df.columns), df.columns[0])
    df = _node_frame_cols(df, G, id_col)
    if "rank" not in df.columns:
        df.insert(0, "rank", range(1, len(df) + 1))
    else:
        df = df[["rank", *[c for c in df.columns if c != "rank"]]]
    formats = {"rank": "int", **_guess_formats(df.drop(columns="rank"))}
    formats.update({"stage_hhi": "int", "members": "int"})
    scale = tuple(c for c in ("stage_share", "max_dependency", "weighted_loss") if c in df.columns)
    headers = {
        "id": "chokepoint",
        "stage_share": "share of stage",
        "stage_hhi": "stage HHI",
        "max_dependency": "max dependency",
        "max_dependency_target": "most dependent end use",
        "n_targets_at_threshold": "end uses ≥ 50 %",
        "weighted_loss": "end-use output lost",
        "n_dominated_targets": "dominated end uses",
    }
    return (
        Table(
            key="chokepoints",
            title="Chokepoints",
            frame=df,
            formats=formats,
            headers=headers,
            scale=scale,
            note=(
                "Nodes and country-stage groups ranked by the share of total end-use output lost "
                "if they were removed (weighted over end uses: by output when they share one unit, "
                "otherwise each end use counts equally); max dependency is the "
                "largest loss of a single end use. A dominator lies on every supply path to at "
                "least one end use."
            ),
            sheet="Chokepoints",
            text_columns=(
                "rank",
                "id",
                "stage_share",
                "weighted_loss",
                "max_dependency",
                "max_dependency_target",
                "n_targets_at_threshold",
                "dominator",
            ),
            text_max_rows=TOP_N,
        ),
        raw,
    )


def _insert_after(frame: pd.DataFrame, after: str, columns: dict[str, Any]) -> None:
    """Insert ``columns`` (name -> values) after column ``after`` (at the end without it)."""
    at = list(frame.columns).index(after) + 1 if after in frame.columns else len(frame.columns)
    for i, (name, values) in enumerate(columns.items()):
        frame.insert(at + i, name, values)


def _text_after(table: Table, after: str, names: Sequence[str]) -> None:
    """Show ``names`` after ``after`` in the Markdown/HTML view of ``table``."""
    cols = list(table.text_columns or table.frame.columns)
    at = cols.index(after) + 1 if after in cols else len(cols)
    table.text_columns = (*cols[:at], *names, *cols[at:])


def _draw_columns(conc_table: Table, choke: Table, rd: Any) -> None:
    """Interval and robustness columns of the concentration and chokepoint tables."""
    mc = rd.concentration
    stages = conc_table.frame["stage"].tolist()
    _insert_after(
        conc_table.frame,
        "hhi",
        {
            "hhi_p5": mc["hhi_p5"].reindex(stages).to_numpy(dtype=float),
            "hhi_p95": mc["hhi_p95"].reindex(stages).to_numpy(dtype=float),
        },
    )
    _insert_after(
        conc_table.frame,
        "top_country",
        {"p_top_country": mc["p_top_country"].reindex(stages).to_numpy(dtype=float)},
    )
    conc_table.formats.update({"hhi_p5": "int", "hhi_p95": "int", "p_top_country": "pct"})
    conc_table.headers.update(
        {"hhi_p5": "HHI, 5th pct", "hhi_p95": "HHI, 95th pct", "p_top_country": "top in"}
    )
    _text_after(conc_table, "hhi", ["hhi_p5", "hhi_p95"])
    _text_after(conc_table, "top_country", ["p_top_country"])
    conc_table.note += (
        " HHI 5th/95th pct: the 90 % interval over the Monte Carlo draws; 'top in': the share "
        "of draws in which the top country stays the largest supplier."
    )
    cp = rd.chokepoints
    ids = choke.frame["id"].tolist()
    cols = {
        c: cp[c].reindex(ids).to_numpy()
        for c in ("weighted_loss_p5", "weighted_loss_p95", "p_rank_1", "p_keeps_rank", "robustness")
    }
    _insert_after(
        choke.frame,
        "weighted_loss",
        {k: cols[k] for k in ("weighted_loss_p5", "weighted_loss_p95")},
    )
    for k in ("p_rank_1", "p_keeps_rank", "robustness"):
        choke.frame[k] = cols[k]
    choke.formats.update(
        {
            "weighted_loss_p5": "pct",
            "weighted_loss_p95": "pct",
            "p_rank_1": "pct",
            "p_keeps_rank": "pct",
            "robustness": "text",
        }
    )
    choke.headers.update(
        {
            "weighted_loss_p5": "lost, 5th pct",
            "weighted_loss_p95": "lost, 95th pct",
            "p_rank_1": "first in",
            "p_keeps_rank": "at this rank or higher in",
        }
    )
    _text_after(choke, "weighted_loss", ["weighted_loss_p5", "weighted_loss_p95"])
    choke.text_columns = (*(choke.text_columns or ()), "p_keeps_rank", "robustness")
    choke.note += (
        " With draws: the 90 % interval of the output lost, the share of draws in which the row "
        "is the top chokepoint ('first in') and in which it keeps its rank or a higher one; "
        "robust when that share is at least 90 %."
    )


def _sweep_table(G: nx.DiGraph, model: str, rd: Any = None) -> Table:
    from supplygraph.analysis.disruption import sweep

    raw = sweep(G, model=model)
    df = _reset(raw)
    id_col = next((c for c in ("node", "id", "group") if c in df.columns), df.columns[0])
    # removing an end use only loses that end use: rank the suppliers
    ends = set(_end_use_nodes(G))
    df = df[~df[id_col].isin(ends)].reset_index(drop=True)
    if "rank" in df.columns:
        df["rank"] = range(1, len(df) + 1)
    id_col = next((c for c in ("node", "id", "group") if c in df.columns), df.columns[0])
    df = _node_frame_cols(df, G, id_col)
    if "rank" not in df.columns:
        df.insert(0, "rank", range(1, len(df) + 1))
    else:
        df = df[["rank", *[c for c in df.columns if c != "rank"]]]
    text_cols: tuple[str, ...] = (
        "rank",
        "node",
        "label",
        "weighted_loss",
        "max_loss",
        "max_loss_target",
        "n_targets_hit",
    )
    if rd is not None and id_col in df.columns:
        sw = rd.sweep.set_index("node")
        keys = df[id_col].tolist()
        _insert_after(
            df,
            "weighted_loss",
            {
                c: sw[c].reindex(keys).to_numpy(dtype=float)
                for c in ("weighted_loss_p5", "weighted_loss_p95")
            },
        )
        text_cols = (*text_cols[:4], "weighted_loss_p5", "weighted_loss_p95", *text_cols[4:])
    formats = {"rank": "int", **_guess_formats(df.drop(columns="rank"))}
    formats.update(
        {
            k: v
            for k, v in {
                "weighted_loss": "pct",
                "weighted_loss_p5": "pct",
                "weighted_loss_p95": "pct",
                "max_loss": "pct",
                "lost": "num",
                "n_targets_hit": "int",
                "n_nodes": "int",
            }.items()
            if k in df.columns
        }
    )
    return Table(
        key="sweep",
        title="Single removals, worst first",
        frame=df,
        formats=formats,
        headers={
            "node": "removed node",
            "weighted_loss": "end-use output lost",
            "lost": "lost output per year",
            "max_loss": "max loss of one end use",
            "max_loss_target": "hardest-hit end use",
            "n_targets_hit": "end uses hit",
            "weighted_loss_p5": "lost, 5th pct",
            "weighted_loss_p95": "lost, 95th pct",
        },
        scale=tuple(c for c in ("weighted_loss", "max_loss") if c in df.columns),
        text_columns=text_cols,
        text_max_rows=TOP_N,
        note=(
            "Every supplier node removed one at a time (end uses themselves left out), ranked by "
            "the share of total end-use output lost (weighted over end uses: by output when they "
            "share one unit, otherwise each end use counts equally; the "
            "supply-chain analogue of a systemic-risk index)."
        ),
        sheet="Sweep",
    )


#: The responses every scenario is shown under, lower bound first.
REPORT_RESPONSES = ("none", "rules", "optimal")


def _responses(spec: ScenarioSpec) -> dict[str, Any]:
    """The three responses of a scenario: its own [response] options for rules and optimal."""
    from supplygraph.analysis.response_options import Response

    own = getattr(spec.obj, "response", None) if spec.obj is not None else None
    opts = {}
    if own is not None:
        opts = {"substitution": own.substitution}
    rules = Response.of("rules", **opts)
    if own is not None and own.model == "rules":
        rules = own
    optimal = Response.of("optimal", **opts)
    if own is not None and own.model == "optimal":
        optimal = own
    return {"none": Response(), "rules": rules, "optimal": optimal}


def _scenario_rows(G: nx.DiGraph, spec: ScenarioSpec) -> pd.DataFrame:
    """Run one scenario under each response; rows per end use (and a ``total`` row, last).

    Columns: ``baseline`` and ``lost`` (no response), ``lost_share`` (no response),
    ``lost_share_rules``, ``lost_share_optimal`` and ``binding`` (what limits the end use at
    the optimum, one sentence).
    """
    from supplygraph.analysis.disruption import disrupt

    graph = G
    if spec.obj is not None and getattr(spec.obj, "capacity", None):
        from supplygraph.analysis.scenarios import apply_capacity

        graph = apply_capacity(G, spec.obj)
    results = {
        name: disrupt(graph, list(spec.shocks), model=spec.model, response=resp, detail=False)
        for name, resp in _responses(spec).items()
    }
    by = results["none"].by_end_use
    rows = pd.DataFrame(
        {
            "end_use": [str(i) for i in by.index],
            "baseline": by["baseline"].astype(float).to_numpy(),
            "lost": by["lost"].astype(float).to_numpy(),
            "lost_share": by["loss_share"].astype(float).to_numpy(),
        }
    )
    for name in ("rules", "optimal"):
        other = results[name].by_end_use
        rows[f"lost_share_{name}"] = other["loss_share"].reindex(by.index).astype(float).to_numpy()
    for name, col in (("optimal", "binding"), ("rules", "stall")):
        other = results[name].by_end_use
        rows[col] = [str(other.loc[i, "binding"]) if i != "total" else "" for i in by.index]
    is_total = rows["end_use"] == "total"
    rows = pd.concat([rows[~is_total].sort_values("end_use", kind="stable"), rows[is_total]])
    rows.insert(0, "scenario", spec.name)
    rows.attrs["responses"] = {k: v.describe() for k, v in _responses(spec).items()}
    return rows.reset_index(drop=True)


TOTAL_LABEL = "all end uses"


def _scenario_tables(
    G: nx.DiGraph, specs: list[ScenarioSpec], rd: Any = None
) -> tuple[Table, Table, pd.DataFrame, pd.DataFrame]:
    cols = [
        "scenario",
        "end_use",
        "baseline",
        "lost",
        "lost_share",
        "lost_share_rules",
        "lost_share_optimal",
        "stall",
        "binding",
    ]
    parts = [_scenario_rows(G, spec) for spec in specs]
    if parts:
        long = pd.concat(parts, ignore_index=True)[cols]
    else:
        long = pd.DataFrame(
            {
                c: pd.Series(
                    dtype=object if c in ("scenario", "end_use", "stall", "binding") else float
                )
                for c in cols
            }
        )
    if rd is not None and len(long):
        lo, hi, pp = [], [], []
        for name, eu in zip(long["scenario"], long["end_use"], strict=True):
            by = rd.scenarios[name].by_end_use
            lo.append(1.0 - float(by.loc[eu, "remaining_p95"]))
            hi.append(1.0 - float(by.loc[eu, "remaining_p5"]))
            pp.append(float(by.loc[eu, "p_loss_ge_50"]))
        _insert_after(
            long, "lost_share", {"lost_share_p5": lo, "lost_share_p95": hi, "p_loss_ge_50": pp}
        )
    long["end_use"] = long["end_use"].replace({"total": TOTAL_LABEL})
    uses = list(dict.fromkeys(long["end_use"]))
    uses = [u for u in uses if u != TOTAL_LABEL] + ([TOTAL_LABEL] if TOTAL_LABEL in uses else [])
    wide = pd.DataFrame(index=pd.Index(uses, name="end_use"))
    for spec in specs:
        part = long[long["scenario"] == spec.name].set_index("end_use")["lost_share"]
        wide[spec.name] = part.reindex(uses).to_numpy(dtype=float)
    shares = ("lost_share", "lost_share_rules", "lost_share_optimal")
    intervals = ("lost_share_p5", "lost_share_p95", "p_loss_ge_50")
    drawn = "lost_share_p5" in long.columns
    long_table = Table(
        key="scenario",
        title="Scenario results per end use, by supply response",
        frame=long,
        formats={
            "baseline": "num",
            "lost": "num",
            **dict.fromkeys(shares, "pct"),
            **(dict.fromkeys(intervals, "pct") if drawn else {}),
        },
        headers={
            "end_use": "end use",
            "lost": "lost output (no response)",
            "lost_share_p5": "lost, 5th pct",
            "lost_share_p95": "lost, 95th pct",
            "p_loss_ge_50": "P(loses ≥ 50 %)",
            "lost_share": "lost, no response",
            "lost_share_rules": "lost, rules",
            "lost_share_optimal": "lost, optimal",
            "stall": "what stops the rules",
            "binding": "what binds (optimal)",
        },
        scale=shares,
        note=(
            "Baseline and lost output per year in the end-use unit, with no response. Lost "
            "shares under three supply responses: none (nobody reacts: the lower bound), rules "
            "(customers short of supply order more from suppliers with spare capacity or "
            "withheld output; incumbents keep their share) and optimal (the most each end use "
            "could get by reallocating without leaving any end use below its no-response "
            "supply; the all-end-uses row is the best for all together). What stops the rules: "
            "the capacities and shock caps the end use's open orders ran into, traced upstream, "
            "downstream first, and spare capacity left idle for lack of inputs. What binds: the "
            "capacities and shock caps that limit the end use at the optimum, each confirmed by "
            "solving again with it relaxed."
        ),
        sheet="Scenario",
        text_columns=(
            "scenario",
            "end_use",
            "lost_share",
            *(intervals if drawn else ()),
            "lost_share_rules",
            "lost_share_optimal",
            "stall",
            "binding",
        ),
    )
    if drawn:
        long_table.note += (
            " With draws: the no-response loss's 90 % interval over the Monte Carlo draws and "
            "the share of draws in which the end use loses half or more of its output."
        )
    wframe = wide.T.reset_index()
    wframe.columns = ["scenario", *[str(u) for u in wide.index]]
    wide_table = Table(
        key="scenario_losses",
        title="End-use output lost per scenario",
        frame=wframe,
        formats={str(u): "pct" for u in wide.index},
        headers={str(u): _stage_label(u) for u in wide.index},
        scale=tuple(str(u) for u in wide.index),
        note="Share of each end use's baseline output lost under each scenario with no supply "
        "response (static result); see the next table for the rules and optimal responses.",
        sheet=None,
    )
    return long_table, wide_table, wide, long


def _origin_choice(
    G: nx.DiGraph, choke_raw: pd.DataFrame, conc: pd.DataFrame
) -> tuple[str, str] | None:
    """Return (origin country, stage) for origin tracing: the top chokepoint's country and stage.

    Falls back to the top country of the most concentrated non-end-use stage.
    """
    if len(choke_raw) and {"country", "stage"} <= set(choke_raw.columns):
        row = choke_raw.iloc[0]
        c, s = row["country"], row["stage"]
        if not _is_missing(c) and not _is_missing(s) and not _is_end_use_stage(G, str(s)):
            return str(c), str(s)
    stages = [s for s in conc.index if s != "reserves" and not _is_end_use_stage(G, str(s))]
    if not stages:
        return None
    cr1 = conc.loc[stages, "cr1"].astype(float).fillna(-1.0)
    stage = str(cr1.idxmax())
    origin = conc.loc[stage, "top_country"]
    if origin is None or _is_missing(origin):
        return None
    return str(origin), stage


def _origin_tables(
    G: nx.DiGraph, choke_raw: pd.DataFrame, conc: pd.DataFrame
) -> tuple[Table, Table, str, str] | None:
    """Return the origin-share table, the de-minimis reach table, the origin country and stage."""
    from supplygraph.analysis.deminimis import deminimis_compare
    from supplygraph.analysis.origins import origin_shares

    choice = _origin_choice(G, choke_raw, conc)
    if choice is None:
        return None
    origin, stage = choice
    shares = origin_shares(G, level="country", stage=stage)
    ends = [n for n in _end_use_nodes(G) if n in shares.index]
    sub = shares.loc[ends].astype(float)
    cols = [c for c in sub.columns if str(c) != "unknown"]
    weights = pd.Series({n: _node_output(G, n) for n in ends}, dtype=float)
    wsum = float(weights.sum())
    mean = sub[cols].mul(weights, axis=0).sum() / wsum if wsum > 0 else sub[cols].mean()
    mean = mean[mean > 0]
    top = sorted(mean.index, key=lambda c: (-float(mean[c]), str(c)))[:5]
    if origin in sub.columns and origin not in top:
        top = [origin, *top[:4]]
    # largest end uses first (ties by id), so a long table shows the ones that matter
    ends = sorted(ends, key=lambda n: (-float(weights[n]), str(n)))
    sub = sub.loc[ends]
    frame = pd.DataFrame({"node": [str(n) for n in ends]})
    frame = _node_frame_cols(frame, G, "node")
    frame["output"] = [weights[n] for n in ends]
    for c in top:
        frame[str(c)] = sub[c].to_numpy()
    rest = [c for c in cols if c not in top]
    if rest:
        frame["other"] = sub[rest].sum(axis=1).to_numpy()
    if "unknown" in sub.columns:
        frame["unknown"] = sub["unknown"].to_numpy()
    first = frame.columns.get_loc("output") + 1
    formats = {"output": "num", **dict.fromkeys(frame.columns[first:], "pct")}
    headers = {"output": "output", "other": "other origins", "unknown": "unknown origin"}
    origin_table = Table(
        key="origins",
        title=f"Where each end use's {_stage_label(stage)} supply comes from",
        frame=frame,
        formats=formats,
        headers=headers,
        scale=tuple(c for c, k in formats.items() if k == "pct"),
        note=(
            f"Share of each end use's supply that traces back to each country's "
            f"{_stage_label(stage)} output (linear mixing through input shares; external inputs "
            "count as unknown origin). Output in the end-use unit per year."
        ),
        sheet="Origins",
        text_columns=tuple(c for c in frame.columns if c not in ("stage", "country")),
        text_max_rows=25,
    )
    dm = deminimis_compare(G, origin, DEMINIMIS_THRESHOLDS, stage=stage)
    order = list(G.graph.get("stages") or [])
    if "stage" in dm.columns and stage in order:
        later = set(order[order.index(stage) + 1 :])
        dm = dm[dm["stage"].isin(later)]
    dm = dm.reset_index(drop=True)
    dm_formats = {
        "threshold": "pct",
        "nodes_caught": "int",
        "foreign_nodes": "int",
        "subject_value": "num",
        "foreign_value": "num",
        "subject_share": "pct",
    }
    dm_table = Table(
        key="deminimis",
        title=(
            f"De-minimis reach of a licence rule on {country_name(origin)}-origin "
            f"{_stage_label(stage)} content"
        ),
        frame=dm,
        formats={**_guess_formats(dm), **dm_formats},
        headers={
            "nodes_caught": "foreign nodes caught",
            "foreign_nodes": "foreign nodes",
            "subject_value": "output needing a licence",
            "foreign_value": "foreign output",
            "subject_share": "share of foreign output caught",
            "end_uses_caught": "end uses caught",
        },
        scale=("subject_share",),
        text_columns=(
            "threshold",
            "stage",
            "nodes_caught",
            "foreign_nodes",
            "subject_value",
            "subject_share",
        ),
        note=(
            f"A foreign node is caught when at least the threshold share of its content traces "
            f"back to {country_name(origin)}'s {_stage_label(stage)} output; its whole output then "
            "needs a licence. 0.1 % is China's October 2025 foreign-product rule (MOFCOM No. 61, "
            "suspended); 10 % and 25 % are the US EAR de-minimis levels, for comparison."
        ),
        sheet="De-minimis",
    )
    return origin_table, dm_table, origin, stage


def _node_output(G: nx.DiGraph, n: Any) -> float:
    d = G.nodes[n]
    v = d.get("value")
    try:
        if v is not None and math.isfinite(float(v)):
            return float(v)
    except (TypeError, ValueError):
        pass
    inflow = sum(float(e.get("flow", 0) or 0) for _, _, e in G.in_edges(n, data=True))
    return inflow + float(d.get("external_input", 0) or 0)


def _input_tables(G: nx.DiGraph) -> tuple[Table, Table, Table]:
    from supplygraph.build import graph_to_frames

    nodes, edges = graph_to_frames(G)
    nodes = nodes.reset_index(drop=True)
    edges = edges.reset_index(drop=True)
    if "id" in nodes.columns:
        nodes = nodes.sort_values("id", key=lambda s: s.astype(str), kind="stable")
    if {"source", "target"} <= set(edges.columns):
        edges = edges.sort_values(["source", "target"], key=lambda s: s.astype(str), kind="stable")
    nodes = nodes.reset_index(drop=True)
    edges = edges.reset_index(drop=True)
    src = pd.DataFrame(list(G.graph.get("sources") or []))
    if len(src) and "source_id" in src.columns:
        src = src.sort_values("source_id", key=lambda s: s.astype(str), kind="stable")
    src = src.reset_index(drop=True)
    return (
        Table(
            key="nodes",
            title="Nodes (input)",
            frame=nodes,
            formats={c: "num" for c in nodes.columns if pd.api.types.is_float_dtype(nodes[c])},
            sheet="Nodes",
            in_text=False,
        ),
        Table(
            key="edges",
            title="Edges (input)",
            frame=edges,
            formats={c: "num" for c in edges.columns if pd.api.types.is_float_dtype(edges[c])},
            sheet="Edges",
            in_text=False,
        ),
        Table(key="sources", title="Sources", frame=src, sheet="Sources", in_text=False),
    )


# ------------------------------------------------------------------------------------------------
# headline sentences


def _concentration_sentences(
    conc_table: Table, wide: pd.DataFrame, focus: tuple[str, str] | None, rd: Any = None
) -> list[str]:
    out: list[str] = []
    df = conc_table.frame.set_index("stage")
    stages = list(wide.index)
    named = [c for c in wide.columns if c != "Other"]
    if not stages or not named:
        return out
    lead = _lead_country(wide)
    if not _leads_most(wide, lead):
        tops = []
        for s in stages:
            row = wide.loc[s, named].astype(float)
            top = str(row.idxmax())
            tops.append(f"{_stage_label(s)}: {country_name(top)} ({pct(float(row[top]))})")
        out.append(f"The largest supplier differs by stage: {'; '.join(tops)}.")
        best = None
    else:
        parts = []
        for s in stages:
            share = float(wide.loc[s, lead])
            if share <= 0:
                continue
            what = "of world reserves" if s == "reserves" else f"of {_stage_label(s)}"
            parts.append(f"{pct(share)} {what}")
        text = f"{country_name(lead)} holds {join_words(parts)}"
        if rd is not None:
            led = [s for s in stages if str(wide.loc[s, named].astype(float).idxmax()) == lead]
            p_lead = rd.p_leads(lead, led)
            rd.add(f"{country_name(lead)} is the largest supplier of every stage it leads", p_lead)
            text += f" (the largest supplier of each: {rd.tag(p_lead)})"
        out.append(text + ".")
        best = _focus_stage(wide, lead, focus)
    if "reserves" in stages and best is not None:
        r, b = float(wide.loc["reserves", lead]), float(wide.loc[best, lead])
        if b > r:
            out.append(
                f"Geology is not the bottleneck: {country_name(lead)} has {pct(r, 0)} of world "
                f"reserves but {pct(b, 0)} of {_stage_label(best)}."
            )
    ranked = df.loc[[s for s in stages if s != "reserves"]]
    if len(ranked):
        hhi = ranked["hhi"].astype(float)
        if hhi.notna().any():
            top = str(hhi.idxmax())
            text = (
                f"The most concentrated stage is {_stage_label(top)}: HHI "
                f"{format_value(hhi[top], 'int')} ({df.loc[top, 'level']}), "
                f"{df.loc[top, 'top_country']} {pct(float(df.loc[top, 'cr1']))}"
            )
            if rd is not None:
                lo, hi = rd.hhi_interval(top)
                p_top = rd.p_most_concentrated(top, [str(x) for x in ranked.index])
                rd.add(f"{_stage_label(top).capitalize()} is the most concentrated stage", p_top)
                text += (
                    f" (HHI {format_value(lo, 'int')}–{format_value(hi, 'int')} in 90 % of "
                    f"draws; the most concentrated stage: {rd.tag(p_top)})"
                )
            out.append(text + ".")
        flagged = [s for s in ranked.index if bool(ranked.loc[s, "eu_single_country_cap"])]
        n = len(ranked)
        if flagged:
            verb = "has" if len(flagged) == 1 else "have"
            out.append(
                f"{len(flagged)} of {n} stages {verb} a single country above the EU Critical Raw "
                f"Materials Act benchmark of 65 %: {join_words([_stage_label(s) for s in flagged])}."
            )
        else:
            out.append(f"No stage has a single country above the EU's 65 % benchmark ({n} stages).")
    return out


def _lead_country(wide: pd.DataFrame) -> str:
    """Return the country that leads the most stages (ties: larger total share, then code)."""
    named = [c for c in wide.columns if c != "Other"]
    tops = [str(wide.loc[s, named].astype(float).idxmax()) for s in wide.index]
    return min(named, key=lambda c: (-tops.count(c), -float(wide[c].sum()), str(c)))


def _leads_most(wide: pd.DataFrame, lead: str) -> bool:
    """Whether ``lead`` is the largest supplier of more than half of the stages."""
    named = [c for c in wide.columns if c != "Other"]
    tops = [str(wide.loc[s, named].astype(float).idxmax()) for s in wide.index]
    return tops.count(lead) * 2 > len(tops)


def _focus_stage(wide: pd.DataFrame, lead: str, focus: tuple[str, str] | None) -> str | None:
    """Return the stage to contrast with reserves: the top chokepoint's, else the lead's largest."""
    chain = [s for s in wide.index if s != "reserves"]
    if not chain:
        return None
    if focus is not None and focus[0] == lead and focus[1] in chain:
        return focus[1]
    return max(chain, key=lambda s: (float(wide.loc[s, lead]), -chain.index(s)))


def _name(G: nx.DiGraph, n: Any) -> str:
    """A node's label, or "China separation" for a country-stage group ``"CHN@separation"``."""
    if n in G:
        lab = G.nodes[n].get("label")
        if lab not in (None, "") and not _is_missing(lab):
            return str(lab)
    text = str(n)
    country, at, stage = text.partition("@")
    if at and country and stage and n not in G:
        return f"{country_name(country)} {_stage_label(stage)} as a whole"
    return text


def _chokepoint_sentences(G: nx.DiGraph, table: Table, rd: Any = None) -> list[str]:
    df = table.frame
    if not len(df):
        return ["No chokepoints were found."]
    id_col = next((c for c in ("id", "node", "group") if c in df.columns), df.columns[1])
    items = []
    for i, (_, row) in enumerate(df.head(3).iterrows()):
        text = _name(G, row[id_col])
        bits = []
        if "stage_share" in df.columns and not _is_missing(row["stage_share"]):
            bits.append(f"{pct(float(row['stage_share']), 0)} of {_stage_label(row['stage'])}")
        if "weighted_loss" in df.columns and not _is_missing(row["weighted_loss"]):
            bits.append(f"{pct(float(row['weighted_loss']), 0)} of end-use output lost without it")
        if rd is not None and "p_keeps_rank" in df.columns:
            p_rank = float(row["p_keeps_rank"])
            what = "the top chokepoint" if i == 0 else f"among the top {i + 1} chokepoints"
            rd.add(f"{_name(G, row[id_col])} is {what}", p_rank)
            bits.append(f"{what.removeprefix('among the ')}: {rd.tag(p_rank)}")
        if bits:
            text += f" ({'; '.join(bits)})"
        items.append(text)
    return [f"The top chokepoints are {join_words(items)}."]


def _sweep_sentences(G: nx.DiGraph, table: Table) -> list[str]:
    df = table.frame.head(TOP_N)
    if not len(df) or "weighted_loss" not in df.columns:
        return []
    id_col = next((c for c in ("node", "id", "group") if c in df.columns), df.columns[1])
    loss = df["weighted_loss"].astype(float)
    big = df[loss >= 0.5]
    if len(big):
        n = len(big)
        count = f"at least {n}" if n == len(df) else str(n)
        names = [_name(G, x) for x in big[id_col]]
        if n == 1:
            return [f"One single removal would cut half or more of all end-use output: {names[0]}."]
        return [
            f"{count.capitalize()} single removals would each cut half or more of all end-use "
            f"output: {join_words(names)}."
        ]
    first = df.iloc[0]
    return [
        f"No single removal cuts half of all end-use output; the worst, "
        f"{_name(G, first[id_col])}, cuts {pct(float(first['weighted_loss']), 0)}."
    ]


def _response_sentences(long: pd.DataFrame, rd: Any = None) -> list[str]:
    """One short sentence per scenario: the share of end-use output lost with no response, under
    the rules and at the optimum; the end use worst hit even at best and what limits it; what
    stops the rules for the end use they leave shortest (with draws: how often the no-response
    finding holds). Per-end-use figures and every limit are in the scenario table."""
    out = []
    for name, part in long.groupby("scenario", sort=False):
        tot = part[part["end_use"] == TOTAL_LABEL]
        ends = part[part["end_use"] != TOTAL_LABEL]
        if not len(tot) or not len(ends):
            continue
        t = tot.iloc[0]
        none, rules, best = (
            float(t[c]) for c in ("lost_share", "lost_share_rules", "lost_share_optimal")
        )
        text = (
            f"{name}: {_pct_whole(none)} of end-use output lost with no response, "
            f"{_pct_whole(rules)} under the rules, {_pct_whole(best)} at best"
        )
        short = ends[ends["lost_share_optimal"] > 1e-9]
        if len(short):
            w = short.sort_values("lost_share_optimal", ascending=False, kind="stable").iloc[0]
            text += (
                f"; {_stage_label(w['end_use'])} is hit hardest even at best "
                f"({_pct_whole(float(w['lost_share_optimal']))} lost), "
                f"{_first_phrases(str(w['binding']), 1)}"
            )
        elif rules > 1e-9:
            text += (
                "; at best every end use could be served in full: what the rules leave short "
                "comes from how supply is shared, not from a lack of capacity"
            )
        worst = ends.sort_values("lost_share_rules", ascending=False, kind="stable").iloc[0]
        stall = str(worst["stall"]).removeprefix("limited by ")
        if float(worst["lost_share_rules"]) > 1e-9 and stall and stall != "no single limit found":
            text += (
                f"; under the rules {_stage_label(worst['end_use'])} stays short: "
                f"{_first_phrases(stall, 1)}"
            )
        findings = (
            rd.scenario_findings(str(name)) if rd is not None and str(name) in rd.scenarios else []
        )
        if findings:
            parts = [
                f"{f.text.split(': ', 1)[1].removesuffix(' of its output')} "
                f"({rd.tag(f.p, f.drivers)})"
                for f in findings
            ]
            text += f". Over the draws with no response: {'; '.join(parts)}"
        out.append(text + ".")
    return out


def _first_phrases(sentence: str, limit: int = 3) -> str:
    """The first ``limit`` phrases of a limits sentence (phrases are separated by ``"; "``),
    spare capacity left idle first."""
    parts = sentence.split("; ")
    parts = [p for p in parts if "left idle" in p] + [p for p in parts if "left idle" not in p]
    if len(parts) <= limit:
        return "; ".join(parts)
    return "; ".join(parts[:limit]) + " (and more: see the scenario table)"


def _deminimis_sentences(G: nx.DiGraph, dm: Table, origin: str, stage: str) -> list[str]:
    df = dm.frame
    need = {"threshold", "nodes_caught", "foreign_nodes", "subject_share"}
    if not len(df) or not need <= set(df.columns):
        return []
    stages = list(G.graph.get("stages") or [])
    last = stages[-1] if stages else None
    if "stage" in df.columns and last is not None and (df["stage"] == last).any():
        df = df[df["stage"] == last]
        what = "foreign end-use nodes"
    else:
        what = "foreign downstream nodes"
    parts = []
    for t, part in df.groupby("threshold", sort=True):
        caught = int(part["nodes_caught"].sum())
        total = int(part["foreign_nodes"].sum())
        digits = 1 if float(t) < 0.01 else 0
        parts.append(f"{caught} of {total} at {pct(float(t), digits)}")
    if not parts:
        return []
    return [
        f"A licence rule on foreign products with {country_name(origin)}-origin "
        f"{_stage_label(stage)} content would catch {join_words(parts)} ({what})."
    ]


# ------------------------------------------------------------------------------------------------
# entry point


def build_report_data(
    G: nx.DiGraph,
    *,
    scenarios: Iterable[Any] | None = None,
    shocks: Sequence[Any] | None = None,
    model: str = "linear",
    date: Any = None,
    charts: bool = True,
    on_chart: Callable[[str, tuple[str, tuple[Any, ...], dict[str, Any]]], None] | None = None,
    draws: Any = None,
    seed: int | None = None,
) -> ReportData:
    """Run the analyses on ``G`` and collect the report's tables, sentences and charts.

    Parameters
    ----------
    G
        A validated supply graph (never modified).
    scenarios
        Scenario objects (:func:`supplygraph.analysis.scenarios.load_scenario`) or paths of
        scenario files, reported in the given order.
    shocks
        Loose shocks (shock strings or :class:`~supplygraph.analysis.shocks.Shock`), reported
        together as one extra scenario.
    model
        Production model for the chokepoint, sweep and shock analyses: ``"linear"`` or
        ``"leontief"`` (a scenario's own ``model`` takes precedence for that scenario).
    date
        Report date (``datetime.date``/``datetime`` or ISO text); default today (UTC), or the
        ``SOURCE_DATE_EPOCH`` environment variable when set.
    charts
        Render the charts (PNG and SVG).
    on_chart
        Called with ``(stem, job)`` for each chart as soon as its tables exist, before the
        remaining analyses run: a caller can start drawing it in a worker meanwhile
        (:func:`supplygraph.charts.render_jobs` with ``wait=False``).
    draws, seed
        Monte Carlo draws over the inputs' ranges (a count or a
        :class:`~supplygraph.uncertainty.sampling.DrawSpec`) and their seed: interval columns
        in the tables, interval bars in the charts, "robust" or "fragile" next to each
        chokepoint and headline finding, a tornado chart for the scenario whose result varies
        most, and the closing note (:mod:`supplygraph.report.robustness`).

    Returns
    -------
    ReportData
        Tables, headline sentences, charts and provenance.

    Examples
    --------
    >>> import supplygraph as sg  # doctest: +SKIP
    >>> data = build_report_data(sg.load("rare-earths"), date="2025-01-01")  # doctest: +SKIP
    >>> data.headline[0]  # doctest: +SKIP
    'China holds ...'
    """
    from supplygraph._version import __version__

    report_date = _report_date(date)
    specs = _scenario_specs(scenarios, shocks, model)
    name = str(G.graph.get("name") or "supply graph")
    prov_in = G.graph.get("provenance") or {}

    plans: list[ChartPlan] = []

    def plan(p: ChartPlan | None) -> None:
        if p is not None:
            plans.append(p)
            if on_chart is not None:
                on_chart(p[0], p[1])

    rd = None
    if draws is not None:
        from supplygraph.report.robustness import report_draws
        from supplygraph.uncertainty.sampling import DrawSpec

        rd = report_draws(G, specs, model, DrawSpec.of(draws, seed))
    # in the order the writer needs the charts: the workbook, written first, shows the
    # concentration chart (whose title needs the origin analysis)
    conc_table, wide, conc = _concentration_tables(G)
    choke, choke_raw = _chokepoints_table(G, model)
    if rd is not None:
        _draw_columns(conc_table, choke, rd)
    origins = _origin_tables(G, choke_raw, conc)
    focus = origins[2:] if origins is not None else None
    plan(_concentration_chart_plan(wide, conc, focus, rd))
    plan(_chokepoints_chart_plan(choke))
    scen_long, scen_wide_t, scen_wide, scen_frame = _scenario_tables(G, specs, rd)
    plan(_scenario_chart_plan(scen_wide, scen_frame if rd is not None else None))
    plan(_response_chart_plan(scen_frame))
    if rd is not None:
        plan(_tornado_chart_plan(rd))
    sweep_t = _sweep_table(G, model, rd)
    nodes_t, edges_t, sources_t = _input_tables(G)

    groups_t = _group_concentration_table(G)
    headline = _concentration_sentences(conc_table, wide, focus, rd)
    headline += _group_sentences(groups_t)
    headline += _chokepoint_sentences(G, choke, rd)
    headline += _sweep_sentences(G, sweep_t)
    headline += _response_sentences(scen_frame, rd)
    tables: dict[str, Table] = {
        "concentration": conc_table,
        "stage_shares": _share_table(wide),
        **({"concentration_groups": groups_t} if groups_t is not None else {}),
        "chokepoints": choke,
        "sweep": sweep_t,
    }
    if specs:
        tables["scenario_losses"] = scen_wide_t
        tables["scenario"] = scen_long
    if origins is not None:
        o_table, dm_table, origin, ostage = origins
        headline += _deminimis_sentences(G, dm_table, origin, ostage)
        tables["origins"] = o_table
        tables["deminimis"] = dm_table
    tables.update({"nodes": nodes_t, "edges": edges_t, "sources": sources_t})

    scen_records = [
        {
            "name": s.name,
            "description": s.description,
            "model": s.model,
            "responses": {k: v.describe() for k, v in _responses(s).items()},
            "shocks": list(s.shock_text),
            "sources": list(s.sources),
        }
        for s in specs
    ]
    provenance = {
        "tool": f"supplygraph {__version__}",
        "dataset": name,
        "input": str(prov_in.get("input") or name),
        "sha256": str(prov_in.get("sha256") or "n/a"),
        "model": model,
        "nodes": str(G.number_of_nodes()),
        "edges": str(G.number_of_edges()),
        "date": report_date,
    }
    if rd is not None:
        provenance["draws"] = f"{rd.spec.n:,}"
        provenance["seed"] = str(rd.spec.seed)
        provenance["sampling"] = rd.spec.sampling
        provenance["uncertainty"] = rd.describe
    assumptions = [str(a) for a in (prov_in.get("assumptions") or [])]
    notes = [
        "Shares are computed per country: the nodes of one country in one stage are summed first.",
        "HHI bands follow the 2010 US Horizontal Merger Guidelines: unconcentrated below 1,500, "
        "moderately concentrated to 2,500, highly concentrated above.",
        "The chokepoint threshold is the EU Critical Raw Materials Act benchmark: no more than "
        "65 % of a stage from a single third country.",
        f"Disruptions propagate downstream with the {model} production model: each node's output "
        "scales with the share of its inputs that still arrives.",
        "Spreadsheet outputs neutralise text that starts with =, +, -, @ or a control character "
        "by prefixing an apostrophe, so no cell is ever read as a formula.",
    ]
    if specs:
        notes.insert(
            -1,
            f"Scenario results are static: every shock that starts within the first "
            f"{STATIC_HORIZON_DAYS} days applies at full strength at once, with no inventories; "
            "time to shortage is left to the timeline analysis.",
        )
        notes.insert(
            -1,
            "Each scenario is shown under three supply responses: none (the lower bound: "
            "nobody reacts, spare capacity is never used), rules (a behavioural estimate: "
            "customers keep their usual share of each supplier and order what they still lack "
            "from suppliers with spare capacity or output an export rule withholds, which share "
            "it in proportion to the orders) and optimal (an upper bound from a linear program: "
            "the most each end use could get if spare capacity and withheld output went where "
            "they help it most, without leaving any end use below its no-response supply).",
        )
    if rd is not None:
        notes.insert(
            -1,
            f"Monte Carlo draws ({rd.spec.describe()}): every ranged input (value_low/"
            "value_high, flow_low/flow_high ..., and scenario ranges such as an approval rate) "
            "is drawn, ranges sharing a group from one quantile; intervals are the 5th to 95th "
            "percentiles over the draws (90 %). A finding is robust when it holds in at least "
            "90 % of the draws, else fragile; a fragile finding names the inputs with the "
            "largest tornado swing among those most rank-correlated with it. Scenario "
            "intervals are for no supply response.",
        )
    data = ReportData(
        title=f"Chokepoint report: {name}",
        dataset=name,
        date=report_date,
        provenance=provenance,
        headline=headline,
        tables=tables,
        scenarios=scen_records,
        sources=[dict(r) for r in (G.graph.get("sources") or [])],
        assumptions=assumptions,
        notes=notes,
        raw={
            "chokepoints": choke_raw,
            "shares": wide,
            "concentration": conc,
            "scenario_losses": scen_wide,
            "scenario_responses": scen_frame,
            "focus": focus,
            "stages": [str(x) for x in (G.graph.get("stages") or [])],
            "draws": rd,
        },
        robustness=[f.sentence() for f in rd.findings] if rd is not None else [],
    )
    data.chart_titles.update({stem: title for stem, _, title in plans})
    if charts:
        from supplygraph.charts import render_jobs

        data.charts.update(render_jobs({stem: job for stem, job, _ in plans}))
    return data


ChartPlan = tuple[str, tuple[str, tuple[Any, ...], dict[str, Any]], str]


def _concentration_chart_plan(
    wide: pd.DataFrame | None,
    conc: pd.DataFrame | None,
    focus: tuple[str, str] | None,
    rd: Any = None,
) -> ChartPlan | None:
    """(stem, job, title) of the concentration chart, or None when there is nothing to draw."""
    if wide is None or conc is None or not len(wide):
        return None
    title = _chart_headline(wide, focus)
    names = {c: country_name(c) for c in wide.columns}
    hhi = conc["hhi"].astype(float)
    kwargs: dict[str, Any] = {"hhi": hhi, "title": title, "names": names}
    if rd is not None:
        mc = rd.concentration
        first = str(wide.columns[0])
        kwargs["hhi_interval"] = {
            str(s): (float(mc.loc[s, "hhi_p5"]), float(mc.loc[s, "hhi_p95"]))
            for s in wide.index
            if s in mc.index
        }
        # the first country's share interval, where it is the stage's largest supplier
        kwargs["share_interval"] = {
            str(s): (float(mc.loc[s, "top_share_p5"]), float(mc.loc[s, "top_share_p95"]))
            for s in wide.index
            if s in mc.index and mc.loc[s, "top_country"] == first
        }
        title += " · bars: 90 % of draws"
    job = ("concentration_chart", (wide,), kwargs)
    return "concentration", job, title


def _chokepoints_chart_plan(choke: Table | None) -> ChartPlan | None:
    """(stem, job, title) of the top-chokepoints chart, or None."""
    df = choke.frame.head(TOP_N) if choke is not None else pd.DataFrame()
    loss_col = next((c for c in ("weighted_loss", "max_dependency") if c in df.columns), None)
    if choke is None or not len(df) or loss_col is None:
        return None
    id_col = next((c for c in ("id", "node", "group") if c in df.columns), df.columns[1])
    losses = df[loss_col].astype(float).fillna(0.0)
    title = "Top chokepoints"
    job = (
        "chokepoints_chart",
        ([str(x) for x in df[id_col]], losses.tolist()),
        {
            "title": title,
            "xlabel": f"{choke.header(loss_col)} if removed (red: 50 % or more)",
            "highlight": [bool(v >= 0.5) for v in losses],
        },
    )
    return "chokepoints", job, f"{title}, by {choke.header(loss_col)}"


def _scenario_chart_plan(
    scen_wide: pd.DataFrame | None, long: pd.DataFrame | None = None
) -> ChartPlan | None:
    """(stem, job, title) of the end-use losses per scenario chart, or None."""
    if scen_wide is None or not len(scen_wide) or not len(scen_wide.columns):
        return None
    title = "End-use output lost per scenario"
    kwargs: dict[str, Any] = {"title": title}
    if long is not None and "lost_share_p5" in long.columns:
        for col, key in (("lost_share_p5", "low"), ("lost_share_p95", "high")):
            grid = pd.DataFrame(index=scen_wide.index)
            for name in scen_wide.columns:
                part = long[long["scenario"] == name].set_index("end_use")[col]
                grid[name] = part.reindex(scen_wide.index).to_numpy(dtype=float)
            kwargs[key] = grid
        title += " (with 90 % of draws)"
        kwargs["title"] = title
    return "scenarios", ("scenario_chart", (scen_wide,), kwargs), title


def _tornado_chart_plan(rd: Any) -> ChartPlan | None:
    """(stem, job, title) of the tornado chart of the scenario whose result varies most."""
    if rd is None or rd.tornado is None:
        return None
    name, end_use, frame = rd.tornado
    title = f"What moves the {_stage_label(end_use)} loss under {name}"
    job = (
        "tornado_chart",
        (frame,),
        {
            "base": float(frame.attrs.get("base", 0.0)),
            "title": title,
            "xlabel": f"share of {_stage_label(end_use)} output lost (no response)",
        },
    )
    return "tornado", job, title + " (each input at its 5th / 95th percentile)"


def _response_chart_plan(long: pd.DataFrame | None) -> ChartPlan | None:
    """(stem, job, title) of the loss-by-response chart (one row per scenario and end use)."""
    if long is None or not len(long):
        return None
    rows = long[long["end_use"] != TOTAL_LABEL]
    if not len(rows):
        return None
    labels = [
        f"{s} · {_stage_label(u)}" for s, u in zip(rows["scenario"], rows["end_use"], strict=True)
    ]
    frame = pd.DataFrame(
        {
            "no response": rows["lost_share"].to_numpy(dtype=float),
            "rules": rows["lost_share_rules"].to_numpy(dtype=float),
            "optimal": rows["lost_share_optimal"].to_numpy(dtype=float),
        },
        index=pd.Index(labels, name="scenario · end use"),
    )
    title = "End-use output lost under each supply response"
    kwargs: dict[str, Any] = {"title": title}
    if "lost_share_p5" in rows.columns:
        kwargs["interval"] = pd.DataFrame(
            {
                "low": rows["lost_share_p5"].to_numpy(dtype=float),
                "high": rows["lost_share_p95"].to_numpy(dtype=float),
            },
            index=frame.index,
        )
    return "responses", ("response_chart", (frame,), kwargs), title


def _chart_headline(wide: pd.DataFrame, focus: tuple[str, str] | None = None) -> str:
    named = [c for c in wide.columns if c != "Other"]
    if not named or not len(wide):
        return "Concentration by stage"
    lead = _lead_country(wide)
    best = _focus_stage(wide, lead, focus)
    if best is None or not _leads_most(wide, lead):
        return "Concentration by stage"
    b = float(wide.loc[best, lead])
    if "reserves" in wide.index:
        r = float(wide.loc["reserves", lead])
        if b > r:
            return (
                f"{country_name(lead)}: {pct(r, 0)} of reserves but {pct(b, 0)} of "
                f"{_stage_label(best)}"
            )
    return f"Concentration by stage ({country_name(lead)}: {pct(b, 0)} of {_stage_label(best)})"
