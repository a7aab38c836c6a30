"""Render a :class:`~supplygraph.report.build.ReportData` as one self-contained HTML file.

Inline CSS, charts as inline SVG, no script, no external resource of any kind (no CDN, no web
font); print-friendly via ``@media print``. Every piece of text that comes from the data goes
through :func:`html.escape`; the only links to other hosts are plain ``<a>`` anchors to the
dataset's ``http(s)`` source URLs.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

from supplygraph.report.build import DATE_PREFIX, ReportData, Table, source_details

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["render_html"]

_CSS = """
:root { --ink: #1f2328; --muted: #59636e; --rule: #d0d7de; --accent: #b2182b; --bg-alt: #f6f8fa; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1080px; margin: 0 auto; padding: 32px 28px 64px; }
h1 { font-size: 28px; margin: 0 0 4px; line-height: 1.2; }
h2 { font-size: 20px; margin: 40px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--ink); }
h3 { font-size: 16px; margin: 24px 0 8px; }
p.meta { color: var(--muted); margin: 0 0 20px; font-size: 13px; }
p.note { color: var(--muted); font-size: 12.5px; margin: 6px 0 18px; }
a { color: #0b5cad; }
nav.toc { font-size: 13px; margin: 0 0 8px; }
nav.toc a { margin-right: 14px; text-decoration: none; }
section.headline { background: #fff6f5; border-left: 5px solid var(--accent); padding: 12px 20px;
  margin: 16px 0 8px; }
section.headline ul { margin: 6px 0; padding-left: 20px; }
section.headline li { margin: 6px 0; }
figure { margin: 14px 0 4px; }
figure svg { width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 12px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 6px 0 4px;
  font-variant-numeric: tabular-nums; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--rule); text-align: left;
  vertical-align: top; }
th { background: var(--bg-alt); font-weight: 600; border-bottom: 2px solid #8c959f;
  vertical-align: bottom; }
td.n, th.n { text-align: right; }
td.n { white-space: nowrap; }
tbody tr:nth-child(even) td { background-color: #fbfcfd; }
td.hot { font-weight: 600; }
dl.scen dt { font-weight: 600; margin-top: 10px; }
dl.scen dd { margin: 2px 0 0 18px; }
code { font: 12.5px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  background: var(--bg-alt); padding: 1px 4px; border-radius: 3px; }
ol.sources { font-size: 13px; padding-left: 22px; }
ol.sources li { margin: 3px 0; }
table.prov td:first-child { color: var(--muted); width: 160px; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
@media print {
  @page { size: A4; margin: 14mm 12mm; }
  body { font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  nav.toc { display: none; }
  h2 { break-after: avoid; page-break-after: avoid; }
  figure, table, section.headline { break-inside: avoid; page-break-inside: avoid; }
  tr { break-inside: avoid; }
  .scroll { overflow: visible; }
  table { font-size: 8.5pt; }
  th, td { padding: 3px 5px; }
  a { color: inherit; text-decoration: none; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _heat(value: object) -> str:
    """Return an inline background style for a fraction in [0, 1] (white to red)."""
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    if x != x or x <= 0.0:
        return ""
    x = min(x, 1.0)
    # white (255,255,255) -> #f09a7c (240,154,124): light enough for black text
    r = round(255 - (255 - 240) * x)
    g = round(255 - (255 - 154) * x)
    b = round(255 - (255 - 124) * x)
    return f' style="background-color:#{r:02x}{g:02x}{b:02x}"'


def _table(t: Table, *, max_rows: int | None = None) -> str:
    t = t.text_view()
    cols = list(t.frame.columns)
    if not cols:
        return "<p><em>(no data)</em></p>\n"
    rows = t.display_rows()
    raw = list(t.frame.itertuples(index=False, name=None))
    if max_rows is not None:
        rows, raw = rows[:max_rows], raw[:max_rows]
    numeric = [t.kind(c) in ("pct", "int", "num") for c in cols]
    scale = set(t.scale)
    parts = ['<div class="scroll"><table>\n<thead><tr>']
    for c, n in zip(cols, numeric, strict=True):
        cls = ' class="n"' if n else ""
        parts.append(f'<th{cls} scope="col">{_e(t.header(c))}</th>')
    parts.append("</tr></thead>\n<tbody>\n")
    for row, vals in zip(rows, raw, strict=True):
        parts.append("<tr>")
        for c, n, text, v in zip(cols, numeric, row, vals, strict=True):
            style = _heat(v) if c in scale else ""
            cls = ' class="n"' if n else ""
            parts.append(f"<td{cls}{style}>{_e(text)}</td>")
        parts.append("</tr>\n")
    parts.append("</tbody></table></div>\n")
    if t.note:
        parts.append(f'<p class="note">{_e(t.note)}</p>\n')
    return "".join(parts)


_SVG_DROP = (
    re.compile(r"<metadata>.*?</metadata>\s*", re.S),
    re.compile(r'\s+xmlns(:\w+)?="[^"]*"'),
)


def _inline_svg(svg: str, title: str) -> str:
    """Strip the prolog, metadata and namespace declarations (implied in HTML) from an SVG."""
    text = svg[svg.find("<svg") :] if "<svg" in svg else svg
    for pat in _SVG_DROP:
        text = pat.sub("", text)
    text = text.replace("<svg ", f'<svg role="img" aria-label="{_e(title)}" ', 1)
    return text.strip()


def _url(value: object) -> str | None:
    text = str(value or "").strip()
    if re.fullmatch(r"https?://[^\s<>\"'`]+", text):
        return text
    return None


def render_html(data: ReportData) -> str:
    """Return the report as one self-contained HTML5 document.

    Parameters
    ----------
    data
        The report data (charts are inlined from their SVG text).

    Returns
    -------
    str
        The HTML text. The date appears on exactly one line, which starts with
        :data:`~supplygraph.report.build.DATE_PREFIX` inside a ``<p class="meta">``.
    """
    t = data.tables
    o: list[str] = [
        "<!DOCTYPE html>\n",
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n',
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
        f"<title>{_e(data.title)}</title>\n",
        f"<style>{_CSS}</style>\n</head>\n<body>\n<main>\n",
        f"<h1>{_e(data.title)}</h1>\n",
        f'<p class="meta">{_e(DATE_PREFIX)} {_e(data.date)}</p>\n',
        f'<p class="meta">{_e(data.provenance.get("tool", ""))} · input '
        f"<code>{_e(data.provenance.get('input', ''))}</code> · "
        + (
            'interactive network: <a href="network.html">network.html</a> · '
            if data.network
            else ""
        )
        + 'workbook: <a href="report.xlsx">report.xlsx</a></p>\n',
        '<nav class="toc"><a href="#concentration">Concentration</a>'
        '<a href="#chokepoints">Chokepoints</a><a href="#scenarios">Scenarios</a>'
        '<a href="#origins">Origins</a><a href="#method">Method</a>'
        '<a href="#sources">Sources</a><a href="#provenance">Provenance</a></nav>\n',
        '<section class="headline">\n<h2 style="border:0;margin:4px 0">Headline findings</h2>\n<ul>\n',
    ]
    o += [f"<li>{_e(s)}</li>\n" for s in data.headline]
    o.append("</ul>\n</section>\n")

    def chart(key: str) -> None:
        if key in data.charts:
            title = data.chart_titles.get(key, key)
            o.append(f"<figure>{_inline_svg(data.charts[key].svg, title)}</figure>\n")

    o.append('<h2 id="concentration">Concentration by stage</h2>\n')
    chart("concentration")
    if "concentration" in t:
        o.append(_table(t["concentration"]))
    if "stage_shares" in t:
        o.append(f"<h3>{_e(t['stage_shares'].title)}</h3>\n")
        o.append(_table(t["stage_shares"]))
    if "concentration_groups" in t:
        o.append(f"<h3>{_e(t['concentration_groups'].title)}</h3>\n")
        o.append(_table(t["concentration_groups"]))
    if "sankey_svg" in data.raw:  # supplygraph.sankey: flows by stage and country
        o.append(
            f"<figure>{_inline_svg(data.raw['sankey_svg'], 'Flows by stage and country')}</figure>\n"
        )
    o.append('<h2 id="chokepoints">Chokepoints</h2>\n')
    chart("chokepoints")
    if "chokepoints" in t:
        o.append(_table(t["chokepoints"]))
    if "sweep" in t:
        o.append(f"<h3>{_e(t['sweep'].title)}</h3>\n")
        o.append(_table(t["sweep"]))
    o.append('<h2 id="scenarios">Scenarios</h2>\n')
    if data.scenarios:
        o.append('<dl class="scen">\n')
        for sc in data.scenarios:
            o.append(_scenario_html(sc))
        o.append("</dl>\n")
        chart("scenarios")
        if "scenario_losses" in t:
            o.append(_table(t["scenario_losses"]))
        if "scenario" in t and t["scenario"].in_text:
            o.append(f"<h3>{_e(t['scenario'].title)}</h3>\n")
            chart("responses")
            o.append(_table(t["scenario"]))
        chart("tornado")
    else:
        o.append("<p>No scenario was given.</p>\n")
    o.append('<h2 id="origins">Origins and de-minimis reach</h2>\n')
    if "deminimis" in t:
        o.append(f"<h3>{_e(t['deminimis'].title)}</h3>\n")
        o.append(_table(t["deminimis"]))
    if "origins" in t:
        o.append(f"<h3>{_e(t['origins'].title)}</h3>\n")
        o.append(_table(t["origins"]))
    else:
        o.append("<p>No origin tracing for this input.</p>\n")
    if data.robustness:
        o.append('<h2 id="robustness">How robust are the findings?</h2>\n<ul class="robustness">\n')
        o += [f"<li>{_e(x)}</li>\n" for x in data.robustness]
        o.append("</ul>\n")
    o.append('<h2 id="method">Assumptions and method</h2>\n<ul>\n')
    o += [f"<li>{_e(a)}</li>\n" for a in data.assumptions]
    o += [f"<li>{_e(n)}</li>\n" for n in data.notes]
    o.append("</ul>\n")
    o.append('<h2 id="sources">Sources</h2>\n')
    if data.sources:
        o.append('<ol class="sources">\n')
        o += [f"<li>{_source_html(r)}</li>\n" for r in data.sources]
        o.append("</ol>\n")
    else:
        o.append("<p>No source table in the input.</p>\n")
    o.append('<h2 id="provenance">Provenance</h2>\n<table class="prov"><tbody>\n')
    for k, v in data.provenance.items():
        if k == "date":
            continue
        o.append(f"<tr><td>{_e(k)}</td><td><code>{_e(v)}</code></td></tr>\n")
    o.append("</tbody></table>\n")
    o.append(
        "<footer>Generated by supplygraph. Numbers are computed from the input's tables; "
        "see the sources and assumptions above.</footer>\n</main>\n</body>\n</html>\n"
    )
    return "".join(o)


def _scenario_html(sc: Mapping[str, Any]) -> str:
    parts = [f"<dt>{_e(sc['name'])}</dt>\n"]
    desc = _e(sc.get("description") or "")
    parts.append(f"<dd>{desc} <em>({_e(sc.get('model', ''))} model)</em></dd>\n")
    shocks = sc.get("shocks") or []
    if shocks:
        codes = ", ".join(f"<code>{_e(s)}</code>" for s in shocks)
        parts.append(f"<dd>Shocks: {codes}</dd>\n")
    srcs = sc.get("sources") or []
    if srcs:
        parts.append(f"<dd>Sources: {_e('; '.join(str(s) for s in srcs))}</dd>\n")
    return "".join(parts)


def _source_html(rec: Mapping[str, object]) -> str:
    sid = rec.get("source_id") or rec.get("id") or ""
    title = rec.get("title") or ""
    parts = []
    if sid:
        parts.append(f"<strong>{_e(sid)}</strong>")
    url = _url(rec.get("url"))
    if title and url:
        parts.append(f'<a href="{_e(url)}" rel="noopener noreferrer">{_e(title)}</a>')
    elif title:
        parts.append(_e(title))
    elif url:
        parts.append(f'<a href="{_e(url)}" rel="noopener noreferrer">{_e(url)}</a>')
    extra = [_e(v) for v in source_details(rec)]
    if extra:
        parts.append("(" + ", ".join(extra) + ")")
    return " ".join(parts) if parts else _e(rec)
