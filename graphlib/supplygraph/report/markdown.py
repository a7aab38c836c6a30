"""Render a :class:`~supplygraph.report.build.ReportData` as GitHub-flavoured Markdown.

All text taken from the data is escaped: Markdown metacharacters (``\\ ` * _ [ ] < > | #``) get a
backslash and newlines in table cells become spaces, so a label such as
``<script>alert(1)</script>`` shows as literal text and never breaks a table.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from supplygraph.report.build import DATE_PREFIX, ReportData, Table, source_details

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["escape_md", "render_markdown"]

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#!~&])")


def escape_md(text: object) -> str:
    """Return ``text`` with Markdown metacharacters escaped and line breaks flattened.

    Examples
    --------
    >>> escape_md("<img src=x onerror=alert(1)>")
    '\\\\<img src=x onerror=alert(1)\\\\>'
    >>> escape_md("a|b\\nc")
    'a\\\\|b c'
    """
    s = str(text).replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    return _MD_SPECIAL.sub(r"\\\1", s)


def _table(t: Table, *, max_rows: int | None = None) -> list[str]:
    t = t.text_view()
    cols = list(t.frame.columns)
    if not cols:
        return ["_(no data)_", ""]
    rows = t.display_rows()
    if max_rows is not None:
        rows = rows[:max_rows]
    numeric = [t.kind(c) in ("pct", "int", "num") for c in cols]
    lines = [
        "| " + " | ".join(escape_md(t.header(c)) for c in cols) + " |",
        "|" + "|".join("---:" if n else ":---" for n in numeric) + "|",
    ]
    lines += ["| " + " | ".join(escape_md(v) for v in row) + " |" for row in rows]
    if not rows:
        lines.append("| " + " | ".join("" for _ in cols) + " |")
    lines.append("")
    if t.note:
        lines += [f"_{escape_md(t.note)}_", ""]
    return lines


def _url(value: object) -> str | None:
    text = str(value or "").strip()
    if re.fullmatch(r"https?://[^\s<>\"'`]+", text):
        return text
    return None


def render_markdown(data: ReportData, *, chart_dir: str = "charts") -> str:
    """Return the report as Markdown text.

    Parameters
    ----------
    data
        The report data.
    chart_dir
        Folder of the chart PNGs, relative to the Markdown file.

    Returns
    -------
    str
        The Markdown document (UTF-8 text, ``\\n`` line endings). The date appears on exactly
        one line, starting with :data:`~supplygraph.report.build.DATE_PREFIX`.
    """
    t = data.tables
    out: list[str] = [f"# {escape_md(data.title)}", ""]
    links = "interactive network: [network.html](network.html) · " if data.network else ""
    out += [
        f"{DATE_PREFIX} {escape_md(data.date)} · {escape_md(data.provenance.get('tool', ''))} · "
        f"{links}workbook: [report.xlsx](report.xlsx)",
        "",
        "## Headline findings",
        "",
    ]
    out += [f"- {escape_md(s)}" for s in data.headline] + [""]

    def chart(key: str) -> None:
        # chart_titles is filled when the chart is planned, before it is drawn
        if key in data.charts or key in data.chart_titles:
            alt = escape_md(data.chart_titles.get(key, key))
            out.extend([f"![{alt}]({chart_dir}/{key}.png)", ""])

    out += ["## Concentration by stage", ""]
    chart("concentration")
    if "concentration" in t:
        out += _table(t["concentration"])
    if "stage_shares" in t:
        out += [f"**{escape_md(t['stage_shares'].title)}**", ""]
        out += _table(t["stage_shares"])
    if "concentration_groups" in t:
        out += [f"**{escape_md(t['concentration_groups'].title)}**", ""]
        out += _table(t["concentration_groups"])
    out += ["## Chokepoints", ""]
    chart("chokepoints")
    if "chokepoints" in t:
        out += _table(t["chokepoints"])
    if "sweep" in t:
        out += [f"## {escape_md(t['sweep'].title)}", ""]
        out += _table(t["sweep"])
    out += ["## Scenarios", ""]
    if data.scenarios:
        for sc in data.scenarios:
            out += _scenario_md(sc)
        chart("scenarios")
        if "scenario_losses" in t:
            out += _table(t["scenario_losses"])
        if "scenario" in t and t["scenario"].in_text:
            out += [f"### {escape_md(t['scenario'].title)}", ""]
            chart("responses")
            out += _table(t["scenario"])
        chart("tornado")
    else:
        out += ["No scenario was given.", ""]
    if "origins" in t:
        out += ["## Origins and de-minimis reach", ""]
        if "deminimis" in t:
            out += [f"**{escape_md(t['deminimis'].title)}**", ""]
            out += _table(t["deminimis"])
        out += [f"**{escape_md(t['origins'].title)}**", ""]
        out += _table(t["origins"])
    if data.robustness:
        out += ["## How robust are the findings?", ""]
        out += [f"- {escape_md(x)}" for x in data.robustness] + [""]
    out += ["## Assumptions and method", ""]
    out += [f"- {escape_md(a)}" for a in data.assumptions]
    out += [f"- {escape_md(n)}" for n in data.notes] + [""]
    out += ["## Sources", ""]
    if data.sources:
        for rec in data.sources:
            out.append("- " + _source_md(rec))
        out.append("")
    else:
        out += ["No source table in the input.", ""]
    out += ["## Provenance", "", "| field | value |", "|:---|:---|"]
    for k, v in data.provenance.items():
        if k == "date":
            continue  # the date is on the one date line at the top
        out.append(f"| {escape_md(k)} | {escape_md(v)} |")
    out.append("")
    return "\n".join(out)


def _scenario_md(sc: Mapping[str, Any]) -> list[str]:
    lines = [f"**{escape_md(sc['name'])}** ({escape_md(sc.get('model', ''))} model)"]
    if sc.get("description"):
        lines[0] += f": {escape_md(sc['description'])}"
    shocks = sc.get("shocks") or []
    if shocks:
        lines.append("")
        lines.append("Shocks: " + ", ".join(f"`{_code(s)}`" for s in shocks))
    srcs = sc.get("sources") or []
    if srcs:
        lines.append("")
        lines.append("Sources: " + "; ".join(escape_md(s) for s in srcs))
    lines.append("")
    return lines


def _code(text: object) -> str:
    # inside a code span nothing is interpreted; backticks and newlines must not escape it
    return str(text).replace("`", "'").replace("\n", " ").replace("\r", " ")


def _source_md(rec: Mapping[str, object]) -> str:
    sid = rec.get("source_id") or rec.get("id") or ""
    title = rec.get("title") or ""
    parts = []
    if sid:
        parts.append(f"**{escape_md(sid)}**")
    if title:
        parts.append(escape_md(title))
    extra = [escape_md(v) for v in source_details(rec)]
    if extra:
        parts.append("(" + ", ".join(extra) + ")")
    url = _url(rec.get("url"))
    if url:
        parts.append(f"<{url}>")
    return " ".join(parts) if parts else escape_md(rec)
