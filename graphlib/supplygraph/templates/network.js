// supplygraph network view. Data arrives as JSON (never as markup); tooltips and panel entries
// are DOM text nodes. Two levels of detail share this code: "full" (every node, vis items made
// by Python) and "overview" (country x stage cells made here from the compact graph, expanded
// in place, focus cones); vis-network only ever holds what is shown.
var sgData = JSON.parse(document.getElementById("sg-data").textContent);
var sgT0 = performance.now();
var sgFace = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif";

function sgTip(text) {
  var el = document.createElement("div");
  el.className = "sg-tip";
  el.textContent = text; // text, never HTML
  return el;
}

// ---------------------------------------------------------------- the compact graph
function sgDecode(v) {
  if (typeof v !== "string" || v.lastIndexOf("b64:", 0) !== 0) return v;
  var cut = v.indexOf(":", 4);
  var type = v.slice(4, cut);
  var raw = atob(v.slice(cut + 1));
  var bytes = new Uint8Array(raw.length);
  for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  var b = bytes.buffer;
  switch (type) {
    case "u1": return bytes;
    case "u2": return new Uint16Array(b);
    case "u4": return new Uint32Array(b);
    case "i4": return new Int32Array(b);
    case "f4": return new Float32Array(b);
    case "f8": return new Float64Array(b);
  }
  throw new Error("unknown array type " + type);
}

var SG = (function () {
  var g = JSON.parse(document.getElementById("sg-graph").textContent);
  Object.keys(g).forEach(function (k) { g[k] = sgDecode(g[k]); });
  var n = g.n, m = g.m, p, e;
  g.tgt = new Int32Array(m);
  for (p = 0; p < n; p++) for (e = g.inptr[p]; e < g.inptr[p + 1]; e++) g.tgt[e] = p;
  // out-CSR (edge indices grouped by supplier)
  g.outptr = new Int32Array(n + 1);
  for (e = 0; e < m; e++) g.outptr[g.src[e] + 1]++;
  for (p = 0; p < n; p++) g.outptr[p + 1] += g.outptr[p];
  g.outedge = new Int32Array(m);
  var fill = g.outptr.slice(0, n);
  for (e = 0; e < m; e++) g.outedge[fill[g.src[e]]++] = e;
  g.pos = new Map();
  for (p = 0; p < n; p++) g.pos.set(g.ids[p], p);
  g.nStages = sgData.stages.length;
  g.nCountries = g.country_name.length;
  g.stageTotal = new Float64Array(g.nStages);
  for (p = 0; p < n; p++) g.stageTotal[g.stage[p]] += g.qty[p];
  g.cpRank = new Int32Array(n);
  for (var i = 0; i < g.cp_pos.length; i++) g.cpRank[g.cp_pos[i]] = g.cp_rank[i];
  g.nCp = g.cp_pos.length;
  g.hlNode = new Int16Array(n).fill(-1);
  (sgData.highlight.nodes || []).forEach(function (x) { g.hlNode[x[0]] = x[1]; });
  g.hlEdge = new Map();
  (sgData.highlight.edges || []).forEach(function (x) { g.hlEdge.set(x[0] + "|" + x[1], x[2]); });
  return g;
})();

function sgLabel(p) { return SG.labels[p] !== undefined ? SG.labels[p] : SG.ids[p]; }
function sgUnit(p) { return SG.units.length === 1 ? SG.units[0] : SG.units[SG.unit[p]]; }
function sgCountryCode(c) { return SG.countries[c]; }

// number formatting as in Python's view (_fmt, _pct)
function sgFmt(x, unit) {
  if (x === null || x === undefined || !isFinite(x)) return "n/a";
  var t;
  if (x === 0) t = "0";
  else if (Math.abs(x) >= 1000) t = sgInt(x);
  else if (Math.abs(x) >= 1) t = String(Number(x.toPrecision(4)));
  else t = String(Number(x.toPrecision(3)));
  return unit ? t + " " + unit : t;
}
function sgInt(x) { return String(Math.round(x)).replace(/\B(?=(\d{3})+(?!\d))/g, ","); }
function sgPct(x) { return (100 * x).toFixed(1) + " %"; }
function sgShareText(x) { return x > 0 && x < 0.005 ? "<1 %" : Math.round(100 * x) + " %"; }
function sgSize(share) { return 5 + 17 * Math.sqrt(Math.max(0, share)); }
function sgRamp(x) {
  var r = sgData.ramp, t = Math.min(1, Math.max(0, x)) * (r.length - 1);
  var i = Math.min(Math.floor(t), r.length - 2), f = t - i;
  var a = r[i], b = r[i + 1], out = "#";
  for (var k = 1; k < 7; k += 2) {
    var c = Math.round(parseInt(a.substr(k, 2), 16) * (1 - f) + parseInt(b.substr(k, 2), 16) * f);
    out += (c < 16 ? "0" : "") + c.toString(16).toUpperCase();
  }
  return out;
}

// ---------------------------------------------------------------- view state
var sgFull = sgData.mode === "full";
var sgState = {
  expanded: [],          // open cells, oldest first
  shown: {},             // cell -> members shown when open
  pinned: new Set(),     // nodes shown on their own (search results)
  focus: null,           // {p, dir: "up"|"down"|"both", depth: 0 (all) | 1 | 2}
  stages: null,          // Set of stage indices kept by the filter (null: all)
  country: -1,           // country index kept by the filter (-1: all)
  minFlow: 0,
  selected: -1,
  remaining: SG.remaining || null, // h per position when a scenario is shown
  scale: null            // per-position capacity scale of the what-if panel (null: 1)
};
var sgItems = [];        // what is shown: {id, kind, p, cell, stage, qty, n, ...}
var sgItemOf = new Int32Array(SG.n); // item index per position (-1: not shown)
var sgLastMs = 0;

// ---- overview cells: the top countries of each stage, plus one "rest" cell per stage
var sgCells = (function () {
  if (sgFull) return null;
  var nS = SG.nStages, nC = SG.nCountries, K = sgData.limits.countries;
  var sum = new Float64Array(nS * nC), cnt = new Int32Array(nS * nC), p;
  for (p = 0; p < SG.n; p++) {
    var k = SG.stage[p] * nC + SG.country[p];
    sum[k] += SG.qty[p];
    cnt[k]++;
  }
  var cells = [], cellOfKey = new Int32Array(nS * nC).fill(-1);
  for (var s = 0; s < nS; s++) {
    var here = [];
    for (var c = 0; c < nC; c++) if (cnt[s * nC + c] > 0) here.push(c);
    here.sort(function (a, b) { return sum[s * nC + b] - sum[s * nC + a] || a - b; });
    var rest = null;
    here.forEach(function (c, i) {
      if (i < K || here.length === K + 1) {
        cellOfKey[s * nC + c] = cells.length;
        cells.push({ stage: s, country: c, qty: sum[s * nC + c], n: cnt[s * nC + c], countries: [c] });
      } else {
        if (rest === null) {
          rest = { stage: s, country: -1, qty: 0, n: 0, countries: [] };
          cells.push(rest);
        }
        cellOfKey[s * nC + c] = cells.length - 1;
        rest.qty += sum[s * nC + c];
        rest.n += cnt[s * nC + c];
        rest.countries.push(c);
      }
    });
  }
  var cellOf = new Int32Array(SG.n);
  for (p = 0; p < SG.n; p++) cellOf[p] = cellOfKey[SG.stage[p] * nC + SG.country[p]];
  cells.forEach(function (cell, i) {
    cell.index = i;
    cell.rank = 0;
    cell.cp = 0;
    cell.hl = -1;
  });
  for (p = 0; p < SG.n; p++) {
    if (SG.cpRank[p]) cells[cellOf[p]].cp++;
    if (SG.hlNode[p] >= 0 && cells[cellOf[p]].hl < 0) cells[cellOf[p]].hl = SG.hlNode[p];
  }
  // order within a stage: largest first, the rest cell last
  for (var st = 0; st < nS; st++) {
    var list = cells.filter(function (x) { return x.stage === st; });
    list.sort(function (a, b) { return (a.country < 0) - (b.country < 0) || b.qty - a.qty; });
    list.forEach(function (x, i) { x.rank = i; });
  }
  return { list: cells, cellOf: cellOf, members: {} };
})();

function sgMembers(cell) {
  // members of a cell, largest first (computed once per cell)
  var cached = sgCells.members[cell];
  if (cached) return cached;
  var out = [], cellOf = sgCells.cellOf;
  for (var p = 0; p < SG.n; p++) if (cellOf[p] === cell) out.push(p);
  out.sort(function (a, b) { return SG.qty[b] - SG.qty[a] || a - b; });
  sgCells.members[cell] = out;
  return out;
}

function sgCellName(cell) {
  var c = sgCells.list[cell];
  if (c.country >= 0) return sgCountryCode(c.country);
  return c.countries.length + " other countries";
}

// ---- focus cone: nodes upstream and/or downstream of p within depth (0 = all)
function sgCone(p0, dir, depth) {
  var mark = new Uint8Array(SG.n);
  mark[p0] = 1;
  function walk(up) {
    var frontier = [p0], level = 0, e, q, i;
    while (frontier.length && (depth === 0 || level < depth)) {
      var next = [];
      for (i = 0; i < frontier.length; i++) {
        var p = frontier[i];
        if (up) {
          for (e = SG.inptr[p]; e < SG.inptr[p + 1]; e++) {
            q = SG.src[e];
            if (!(mark[q] & 2)) { mark[q] |= 2; next.push(q); }
          }
        } else {
          for (var k = SG.outptr[p]; k < SG.outptr[p + 1]; k++) {
            q = SG.tgt[SG.outedge[k]];
            if (!(mark[q] & 4)) { mark[q] |= 4; next.push(q); }
          }
        }
      }
      frontier = next;
      level++;
    }
  }
  if (dir !== "down") walk(true);
  if (dir !== "up") walk(false);
  return mark;
}

// ---------------------------------------------------------------- building the shown set
function sgNodeItem(p, faded) {
  return { id: SG.ids[p], kind: "node", p: p, stage: SG.stage[p], qty: SG.qty[p], n: 1, faded: faded };
}

function sgBuildItems() {
  var items = [], itemOf = sgItemOf, budget = sgData.limits.visible, p, i;
  itemOf.fill(-1);
  if (sgFull) {
    for (p = 0; p < SG.n; p++) { itemOf[p] = p; items.push(sgNodeItem(p, false)); }
    sgItems = items;
    return;
  }
  var cells = sgCells.list, cellOf = sgCells.cellOf;
  var cellItem = new Int32Array(cells.length).fill(-1);
  function addCell(c, kind, faded, count, qty) {
    var it = { id: -(1 + c + cells.length * (kind === "cell" ? 0 : kind === "more" ? 1 : 2)),
      kind: kind, cell: c, stage: cells[c].stage, qty: qty, n: count, faded: faded };
    items.push(it);
    return items.length - 1;
  }
  if (sgState.focus) {
    var f = sgState.focus, mark = sgCone(f.p, f.dir, f.depth);
    var cone = [];
    for (p = 0; p < SG.n; p++) if (mark[p]) cone.push(p);
    cone.sort(function (a, b) { return (b === f.p) - (a === f.p) || SG.qty[b] - SG.qty[a] || a - b; });
    var own = Math.max(1, Math.min(sgData.limits.focus, budget - cells.length * 2));
    var restOf = new Int32Array(cells.length).fill(-1);
    var restN = new Int32Array(cells.length), restQ = new Float64Array(cells.length);
    // the largest nodes of the chain on their own, at most limits.focus_stage per stage so
    // that one tall column cannot squeeze the picture; the rest summed in their cells
    var perStage = new Int32Array(SG.nStages), drawn = 0, perMax = sgData.limits.focus_stage;
    cone.forEach(function (q) {
      var s = SG.stage[q];
      if (q === f.p || (drawn < own && perStage[s] < perMax)) {
        itemOf[q] = items.length; items.push(sgNodeItem(q, false)); perStage[s]++; drawn++;
      } else { restN[cellOf[q]]++; restQ[cellOf[q]] += SG.qty[q]; }
    });
    for (i = 0; i < cells.length; i++) {
      if (restN[i] > 0) restOf[i] = addCell(i, "rest", false, restN[i], restQ[i]);
    }
    var outN = new Int32Array(cells.length), outQ = new Float64Array(cells.length);
    for (p = 0; p < SG.n; p++) if (!mark[p]) { outN[cellOf[p]]++; outQ[cellOf[p]] += SG.qty[p]; }
    for (i = 0; i < cells.length; i++) if (outN[i] > 0) cellItem[i] = addCell(i, "cell", true, outN[i], outQ[i]);
    for (p = 0; p < SG.n; p++) {
      if (itemOf[p] >= 0) continue;
      itemOf[p] = mark[p] ? restOf[cellOf[p]] : cellItem[cellOf[p]];
    }
    sgItems = items;
    return;
  }
  // overview with open cells; collapse the oldest open cells while over budget
  function count() {
    var total = cells.length + sgState.pinned.size;
    sgState.expanded.forEach(function (c) { total += Math.min(sgState.shown[c], cells[c].n) + 1; });
    return total;
  }
  while (sgState.expanded.length > 1 && count() > budget) sgState.expanded.shift();
  var open = new Set(sgState.expanded);
  for (i = 0; i < cells.length; i++) {
    if (!open.has(i)) { cellItem[i] = addCell(i, "cell", false, cells[i].n, cells[i].qty); continue; }
    var members = sgMembers(i), k = Math.min(sgState.shown[i], members.length, budget);
    for (var j = 0; j < k; j++) { itemOf[members[j]] = items.length; items.push(sgNodeItem(members[j], false)); }
    if (k < members.length) {
      var q = 0;
      for (j = k; j < members.length; j++) q += SG.qty[members[j]];
      cellItem[i] = addCell(i, "more", false, members.length - k, q);
    }
  }
  sgState.pinned.forEach(function (q) {
    if (itemOf[q] < 0) { itemOf[q] = items.length; items.push(sgNodeItem(q, false)); }
  });
  for (p = 0; p < SG.n; p++) if (itemOf[p] < 0) itemOf[p] = cellItem[cellOf[p]];
  sgItems = items;
}

// flows between shown items (summed), the largest first, at most limits.edges
function sgBuildEdges() {
  var sums = new Map(), hl = new Map(), e, a, b, key;
  var S = sgState.scale;
  for (e = 0; e < SG.m; e++) {
    var u = SG.src[e], v = SG.tgt[e];
    a = sgItemOf[u];
    b = sgItemOf[v];
    if (a < 0 || b < 0 || a === b) continue;
    key = a * 65536 + b;
    var f = S ? SG.flow[e] * S[u] : SG.flow[e];
    sums.set(key, (sums.get(key) || 0) + f);
    if (SG.hlEdge.size) {
      var k = SG.hlEdge.get(u + "|" + v);
      if (k !== undefined && !hl.has(key)) hl.set(key, k);
    }
  }
  var list = [];
  sums.forEach(function (f, k) { list.push([k, f]); });
  list.sort(function (x, y) { return y[1] - x[1]; });
  var dropped = Math.max(0, list.length - sgData.limits.edges);
  if (dropped) list.length = sgData.limits.edges;
  return { list: list, hl: hl, dropped: dropped };
}

// ---------------------------------------------------------------- styles
function sgFaded(it) {
  if (it.faded) return true;
  if (sgState.stages && !sgState.stages.has(it.stage)) return true;
  if (sgState.country >= 0) {
    if (it.kind === "node") return SG.country[it.p] !== sgState.country;
    return sgCells.list[it.cell].countries.indexOf(sgState.country) < 0;
  }
  return false;
}

function sgCellRemaining() {
  // weighted remaining per shown aggregate, in one pass over the nodes
  var h = sgState.remaining, num = new Float64Array(sgItems.length), den = new Float64Array(sgItems.length);
  for (var p = 0; p < SG.n; p++) {
    var i = sgItemOf[p];
    if (i < 0) continue;
    var w = SG.qty[p] || 1e-12;
    num[i] += w * h[p];
    den[i] += w;
  }
  return function (i) { return den[i] > 0 ? num[i] / den[i] : 1; };
}

function sgItemText(it) {
  if (it.kind === "node") {
    var p = it.p, id = SG.ids[p], code = sgCountryCode(SG.country[p]), stage = sgData.stages[SG.stage[p]];
    var text = sgLabel(p), cut = id.indexOf(":");
    if (cut > 0 && id.slice(0, cut) === code && SG.labels[p] === undefined) {
      var tail = id.slice(cut + 1);
      text = tail === stage ? code : code + " " + tail.replace(/_/g, " ");
    } else if (text.length > 32) text = text.slice(0, 31) + "…";
    var tot = SG.stageTotal[SG.stage[p]];
    return tot > 0 ? text + " · " + sgShareText(SG.qty[p] / tot) : text;
  }
  var name = sgCellName(it.cell), total = SG.stageTotal[it.stage];
  var share = total > 0 ? " · " + sgShareText(it.qty / total) : "";
  if (it.kind === "more") return "+" + sgInt(it.n) + " more " + name + share;
  if (it.kind === "rest") return sgInt(it.n) + " more in chain · " + name + share;
  return name + share + (it.faded ? "" : "  (" + sgInt(it.n) + ")");
}

function sgNodeTitle(p) {
  var stage = sgData.stages[SG.stage[p]], code = sgCountryCode(SG.country[p]);
  var lines = [sgLabel(p) + " — " + stage];
  if (SG.labels[p] !== undefined) lines.push("Node: " + SG.ids[p]);
  var cname = SG.country_name[SG.country[p]];
  lines.push("Country: " + code + (cname ? " (" + cname + ")" : ""));
  lines.push("Stage: " + stage + " (column " + (SG.stage[p] + 1) + " of " + SG.nStages + ")");
  lines.push("Value: " + sgFmt(SG.qty[p], sgUnit(p)));
  var tot = SG.stageTotal[SG.stage[p]];
  if (tot > 0) lines.push("Share of stage: " + sgPct(SG.qty[p] / tot));
  var hhi = SG.hhi[SG.stage[p]];
  if (hhi && hhi[0] !== null) lines.push("Stage HHI: " + sgFmt(hhi[0]) + (hhi[1] ? " (" + hhi[1] + ")" : ""));
  if (SG.has_metrics) {
    var t = SG.dep_target[p];
    if (t >= 0 && SG.dep[p] > 0) lines.push("Dependency: " + sgPct(SG.dep[p] / 65535) + " of " + SG.ids[t] + " output relies on this node");
    else lines.push("Dependency: no downstream output relies on this node");
    lines.push("Loss if removed: " + sgPct(SG.loss[p] / 65535) + " of end-use output");
  }
  if (SG.cpRank[p]) lines.push("Chokepoint " + SG.cpRank[p] + " of " + SG.nCp);
  if (sgState.remaining) lines.push("After the shock: " + sgPct(sgState.remaining[p]) + " of output remains");
  if (SG.hlNode[p] >= 0) lines.push("Highlighted: " + sgData.highlight.labels[SG.hlNode[p]]);
  if (SG.prov) lines.push("Source: " + SG.prov[SG.prov_code[p]]);
  return lines.join("\n");
}

function sgCellTitle(it, remaining) {
  var cell = sgCells.list[it.cell], stage = sgData.stages[cell.stage], total = SG.stageTotal[cell.stage];
  var names = cell.countries.slice(0, 12).map(sgCountryCode).join(", ") + (cell.countries.length > 12 ? " …" : "");
  var what = it.kind === "more" ? "Not yet shown: " : it.kind === "rest" ? "Rest of the focused chain in " : "";
  var lines = [what + sgCellName(it.cell) + " — " + stage];
  if (cell.country < 0) lines.push("Countries: " + names);
  else if (SG.country_name[cell.country]) lines.push("Country: " + SG.country_name[cell.country]);
  lines.push("Nodes: " + sgInt(it.n));
  lines.push("Output: " + sgFmt(it.qty, SG.units.length === 1 ? SG.units[0] : ""));
  if (total > 0) lines.push("Share of stage: " + sgPct(it.qty / total));
  if (it.kind === "cell" && cell.cp) lines.push("Chokepoints inside: " + cell.cp);
  if (remaining !== null) lines.push("After the shock: " + sgPct(remaining) + " of output remains");
  if (it.kind === "cell" && cell.hl >= 0) lines.push("Holds highlighted nodes: " + sgData.highlight.labels[cell.hl]);
  lines.push(it.kind === "rest" ? "" : it.faded ? "" : "Click to " + (it.kind === "more" ? "show more members" : "open"));
  return lines.join("\n").replace(/\n$/, "");
}

function sgColorOf(it) {
  if (it.kind === "node") return SG.country_color[SG.country[it.p]];
  var c = sgCells.list[it.cell];
  return c.country >= 0 ? SG.country_color[c.country] : sgData.other_color;
}

function sgVisNode(it, i, rem) {
  var isNode = it.kind === "node", p = it.p;
  var total = SG.stageTotal[it.stage];
  var size = sgSize(total > 0 ? it.qty / total : 0);
  var country = sgColorOf(it), faded = sgFaded(it);
  var cp = isNode ? SG.cpRank[p] > 0 : it.kind === "cell" && sgCells.list[it.cell].cp > 0;
  var hl = isNode ? SG.hlNode[p] : it.kind === "cell" ? sgCells.list[it.cell].hl : -1;
  var fill = country, border = cp ? sgData.chokepoint_border : "#FFFFFF", bw = cp ? 4 : 1.5;
  var r = rem === null ? null : rem(i);
  if (r !== null) {
    fill = sgRamp(r);
    border = cp ? sgData.chokepoint_border : country;
    bw = cp ? 4 : 3;
    size = Math.max(size, 8);
  }
  if (hl >= 0) { border = sgData.highlight.colors[hl]; bw = 5; }
  var node = {
    id: it.id, x: it.x, y: it.y, size: Math.round(size * 100) / 100,
    shape: isNode ? (cp ? "diamond" : "dot") : it.kind === "cell" ? (cp ? "diamond" : "dot") : "square",
    borderWidth: bw, opacity: faded ? 0.15 : 1,
    color: { background: fill, border: border, highlight: { background: fill, border: "#000000" }, hover: { background: fill, border: "#000000" } }
  };
  if (it.kind === "more" || it.kind === "rest") node.shapeProperties = { borderDashes: [4, 3] };
  return node;
}

// ---------------------------------------------------------------- layout (overview levels)
var sgColSep = 400;
function sgLayout() {
  var byStage = [], i, s;
  for (s = 0; s < SG.nStages; s++) byStage.push([]);
  sgItems.forEach(function (it, idx) { it.index = idx; byStage[it.stage].push(it); });
  var rankOf = function (it) { return it.kind === "node" ? sgCells.list[sgCells.cellOf[it.p]].rank : sgCells.list[it.cell].rank; };
  var sub = { node: 0, more: 1, rest: 1, cell: 2 };
  for (s = 0; s < SG.nStages; s++) {
    var col = byStage[s];
    col.sort(function (a, b) {
      return rankOf(a) - rankOf(b) || sub[a.kind] - sub[b.kind] || b.qty - a.qty || (a.p || 0) - (b.p || 0);
    });
    var heights = col.map(function (it) {
      var tot = SG.stageTotal[it.stage];
      return Math.max(2 * sgSize(tot > 0 ? it.qty / tot : 0), sgData.font) + (it.kind === "node" ? 14 : 34);
    });
    var total = heights.reduce(function (a, b) { return a + b; }, 0), y = -total / 2;
    for (i = 0; i < col.length; i++) {
      col[i].x = s * sgColSep;
      col[i].y = Math.round(y + heights[i] / 2);
      y += heights[i];
    }
  }
}

// ---------------------------------------------------------------- vis network
(function () {
  var i;
  for (i = 0; i < sgData.nodes.length; i++) {
    if (typeof sgData.nodes[i].title === "string") sgData.nodes[i].title = sgTip(sgData.nodes[i].title);
  }
  for (i = 0; i < sgData.edges.length; i++) {
    if (typeof sgData.edges[i].title === "string") sgData.edges[i].title = sgTip(sgData.edges[i].title);
  }
})();

var nodes = new vis.DataSet(sgFull ? sgData.nodes : []);
var edges = new vis.DataSet(sgFull ? sgData.edges : []);
var network = new vis.Network(
  document.getElementById("sg-network"),
  { nodes: nodes, edges: edges },
  sgData.options
);
window.network = network;
var sgOriginal = sgFull ? new Map(sgData.nodes.map(function (n) { return [n.id, n]; })) : null;
var sgOriginalEdges = sgFull ? sgData.edges.slice() : null;
var sgShown = new Map(); // vis id -> signature of what vis holds (overview levels)
var sgShownEdges = new Map();
var sgLabels = [];       // [{id, text, size}] drawn right of the nodes
var sgDroppedEdges = 0;

function sgRefresh() {
  var t0 = performance.now();
  sgBuildItems();
  var rem = sgState.remaining ? sgCellRemaining() : null;
  if (sgFull) sgRestyleFull(rem);
  else sgRenderOverview(rem);
  sgColumns = null;
  sgStatus();
  sgLastMs = performance.now() - t0;
  window.sgLastMs = sgLastMs;
}

function sgRenderOverview(rem) {
  sgLayout();
  var want = new Map(), add = [], upd = [], labels = [];
  sgItems.forEach(function (it, i) {
    var node = sgVisNode(it, i, rem), sig = JSON.stringify(node);
    node.level = it.stage;
    want.set(it.id, true);
    labels.push({ id: it.id, text: sgItemText(it), size: node.size, faded: node.opacity < 1 });
    if (sgShown.get(it.id) === sig) return;
    sgShown.set(it.id, sig);
    var r = rem === null ? null : rem(i);
    node.title = sgTip(it.kind === "node" ? sgNodeTitle(it.p) : sgCellTitle(it, r));
    (nodes.get(it.id) ? upd : add).push(node);
  });
  var gone = [];
  sgShown.forEach(function (_, id) { if (!want.has(id)) gone.push(id); });
  gone.forEach(function (id) { sgShown.delete(id); });
  sgLabels = labels;
  var ed = sgBuildEdges(), maxFlow = ed.list.length ? ed.list[0][1] : 0;
  sgDroppedEdges = ed.dropped;
  var ewant = new Map(), eadd = [], eupd = [];
  var grey = sgState.remaining !== null;
  ed.list.forEach(function (x) {
    var a = sgItems[Math.floor(x[0] / 65536)], b = sgItems[x[0] % 65536], f = x[1];
    if (f < sgState.minFlow) return;
    var id = a.id + ">" + b.id, hl = ed.hl.get(x[0]);
    var col = hl !== undefined ? sgData.highlight.colors[hl] : grey ? "#7B8794" : sgColorOf(a);
    var faded = sgFaded(a) || sgFaded(b);
    var edge = {
      id: id, from: a.id, to: b.id,
      width: Math.round((1 + 11 * (maxFlow > 0 ? f / maxFlow : 0)) * 100) / 100 + (hl !== undefined ? 3 : 0),
      color: { color: col, highlight: col, hover: col, opacity: faded ? 0.06 : hl !== undefined ? 1 : 0.45 }
    };
    var sig = JSON.stringify(edge);
    ewant.set(id, true);
    if (sgShownEdges.get(id) === sig) return;
    sgShownEdges.set(id, sig);
    edge.title = sgTip(sgItemText(a).split(" · ")[0] + " → " + sgItemText(b).split(" · ")[0] +
      "\nFlow: " + sgFmt(f, SG.units.length === 1 ? SG.units[0] : "") +
      (hl !== undefined ? "\nHighlighted: " + sgData.highlight.labels[hl] : ""));
    (edges.get(id) ? eupd : eadd).push(edge);
  });
  var egone = [];
  sgShownEdges.forEach(function (_, id) { if (!ewant.has(id)) egone.push(id); });
  egone.forEach(function (id) { sgShownEdges.delete(id); });
  // few DataSet calls: each one makes vis re-process its whole body
  if (egone.length) edges.remove(egone);
  if (gone.length) nodes.remove(gone);
  if (upd.length || add.length) nodes.update(upd.concat(add));
  if (eupd.length || eadd.length) edges.update(eupd.concat(eadd));
}

// full detail: Python made the items; fade, recolour and highlight them in place
function sgRestyleFull(rem) {
  var focusMark = sgState.focus ? sgCone(sgState.focus.p, sgState.focus.dir, sgState.focus.depth) : null;
  var upd = [];
  sgItems.forEach(function (it, i) {
    var orig = sgOriginal.get(it.id);
    var faded = sgFaded(it) || (focusMark !== null && !focusMark[it.p]);
    var node = { id: it.id, opacity: faded ? 0.15 : 1 };
    var hl = SG.hlNode[it.p], cp = SG.cpRank[it.p] > 0;
    if (rem !== null && sgRecolour) {
      var fill = sgRamp(rem(i)), country = SG.country_color[SG.country[it.p]];
      var border = hl >= 0 ? sgData.highlight.colors[hl] : cp ? sgData.chokepoint_border : country;
      node.color = { background: fill, border: border, highlight: { background: fill, border: "#000000" }, hover: { background: fill, border: "#000000" } };
      node.borderWidth = hl >= 0 ? 5 : cp ? 4 : 3;
      node.size = Math.max(orig.size, 8);
    } else {
      node.color = orig.color;
      node.borderWidth = orig.borderWidth;
      node.size = orig.size;
      if (hl >= 0) {
        node.color = JSON.parse(JSON.stringify(orig.color));
        node.color.border = sgData.highlight.colors[hl];
        node.borderWidth = 5;
      }
    }
    upd.push(node);
  });
  nodes.update(upd);
  var eupd = [];
  sgOriginalEdges.forEach(function (e) {
    var a = SG.pos.get(e.from), b = SG.pos.get(e.to);
    var hl = SG.hlEdge.get(a + "|" + b);
    var faded = (focusMark !== null && !(focusMark[a] && focusMark[b])) ||
      sgFaded(sgItems[a]) || sgFaded(sgItems[b]) || (sgState.minFlow > 0 && sgEdgeFlow(a, b) < sgState.minFlow);
    var col = hl !== undefined ? sgData.highlight.colors[hl] : null;
    var color = col ? { color: col, highlight: col, hover: col, opacity: 1 } : JSON.parse(JSON.stringify(e.color));
    if (faded) color.opacity = 0.06;
    var edge = { id: e.id, color: color };
    if (col) edge.width = Math.max(e.width, 4);
    eupd.push(edge);
  });
  edges.update(eupd);
  sgLabels = sgItems.map(function (it) {
    var o = sgOriginal.get(it.id);
    return { id: it.id, text: o.text, size: o.size, faded: sgFaded(it) || (focusMark !== null && !focusMark[it.p]) };
  });
}
var sgRecolour = sgState.remaining !== null && !sgFull; // full detail: Python already shaded

function sgEdgeFlow(a, b) {
  for (var e = SG.inptr[b]; e < SG.inptr[b + 1]; e++) if (SG.src[e] === a) return SG.flow[e];
  return 0;
}

// ---------------------------------------------------------------- canvas: labels, columns, halos
var sgColumns = null;
function sgComputeColumns() {
  var ids = sgLabels.map(function (l) { return l.id; });
  var pos = network.getPositions(ids);
  var levels = {}, minY = Infinity;
  ids.forEach(function (id) {
    var p = pos[id], n = network.body.nodes[id];
    if (!p || !n) return;
    var lv = n.options.level;
    var c = levels[lv] || (levels[lv] = { sum: 0, n: 0 });
    c.sum += p.x;
    c.n += 1;
    if (p.y < minY) minY = p.y;
  });
  sgColumns = [];
  Object.keys(levels).forEach(function (lv) {
    var name = sgData.stages[Number(lv)];
    if (name !== undefined) sgColumns.push({ x: levels[lv].sum / levels[lv].n, name: String(name).replace(/_/g, " ") });
  });
  sgColumns.top = minY;
}

network.on("afterDrawing", function (ctx) {
  if (sgColumns === null) sgComputeColumns();
  var scale = network.getScale();
  var view = network.DOMtoCanvas({ x: 0, y: 0 });
  var viewEnd = network.DOMtoCanvas({
    x: ctx.canvas.clientWidth || ctx.canvas.width,
    y: ctx.canvas.clientHeight || ctx.canvas.height
  });
  var bodyNodes = network.body.nodes, i, d, n;
  ctx.save();
  // highlight halos (drawn over the nodes, under the labels)
  if (sgData.highlight.labels.length) {
    ctx.lineWidth = 5;
    for (i = 0; i < sgLabels.length; i++) {
      d = sgLabels[i];
      n = bodyNodes[d.id];
      if (!n) continue;
      var k = typeof d.id === "number" ? (sgItems[i] && sgItems[i].kind === "cell" ? sgCells.list[sgItems[i].cell].hl : -1) : SG.hlNode[SG.pos.get(d.id)];
      if (k === undefined || k < 0) continue;
      ctx.strokeStyle = sgData.highlight.colors[k];
      ctx.globalAlpha = 0.55;
      ctx.beginPath();
      ctx.arc(n.x, n.y, (d.size || 10) + 7, 0, 2 * Math.PI);
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
  }
  // node labels: skipped when too small to read (under 5 px on screen)
  if (sgData.font * scale >= 5) {
    ctx.font = sgData.font + "px " + sgFace;
    ctx.textAlign = "left";
    ctx.textBaseline = "middle";
    ctx.lineJoin = "round";
    ctx.lineWidth = 4;
    ctx.strokeStyle = "rgba(255,255,255,0.9)";
    for (i = 0; i < sgLabels.length; i++) {
      d = sgLabels[i];
      n = bodyNodes[d.id];
      if (!n || !d.text) continue;
      if (n.y < view.y - 40 || n.y > viewEnd.y + 40 || n.x > viewEnd.x || n.x < view.x - 600) continue;
      ctx.fillStyle = d.faded ? "rgba(31,41,51,0.3)" : "#1f2933";
      var x = n.x + (d.size || 10) + 6;
      ctx.strokeText(d.text, x, n.y);
      ctx.fillText(d.text, x, n.y);
    }
  }
  // stage headers: constant on-screen size, kept in view when scrolling down a tall graph
  var fs = 15 / scale;
  ctx.font = "600 " + fs + "px " + sgFace;
  ctx.textAlign = "center";
  ctx.textBaseline = "bottom";
  var y = Math.max(sgColumns.top - 28 / scale, view.y + 24 / scale);
  sgColumns.forEach(function (c) {
    var w = ctx.measureText(c.name).width;
    ctx.fillStyle = "rgba(255,255,255,0.85)";
    ctx.fillRect(c.x - w / 2 - 6 / scale, y - fs - 3 / scale, w + 12 / scale, fs + 6 / scale);
    ctx.fillStyle = "#52606d";
    ctx.fillText(c.name, c.x, y);
  });
  ctx.restore();
});

// fit the whole picture, labels included (vis's own fit only sees the nodes)
function sgFit() {
  var pos = network.getPositions(sgLabels.map(function (l) { return l.id; }));
  var box = { x0: Infinity, x1: -Infinity, y0: Infinity, y1: -Infinity };
  sgLabels.forEach(function (n) {
    var p = pos[n.id];
    if (!p) return;
    var r = n.size || 10;
    var right = p.x + r + (n.text ? 6 + n.text.length * sgData.font * 0.55 : 0); // no measureText: fast
    box.x0 = Math.min(box.x0, p.x - r);
    box.x1 = Math.max(box.x1, right);
    box.y0 = Math.min(box.y0, p.y - r);
    box.y1 = Math.max(box.y1, p.y + r);
  });
  if (!isFinite(box.x0)) return;
  var el = document.getElementById("sg-network");
  var w = el.clientWidth || 800;
  var h = el.clientHeight || 600;
  var top = 48; // room for the stage names above the columns ...
  var left = 56; // ... and for the first one's overhang
  var scale = Math.min((w - 32 - left) / (box.x1 - box.x0 || 1), (h - top - 24) / (box.y1 - box.y0 || 1));
  scale = Math.max(0.02, Math.min(scale, 1.5));
  network.moveTo({
    position: { x: (box.x0 + box.x1) / 2 - left / 2 / scale, y: (box.y0 + box.y1) / 2 - top / 2 / scale },
    scale: scale,
    animation: false
  });
}

// ---------------------------------------------------------------- interaction
function sgStatus(text) {
  var el = document.getElementById("sg-status");
  if (!el) return;
  if (text) { el.textContent = text; return; }
  var shown = nodes.length, f = sgState.focus;
  var parts = [];
  if (f) {
    var dir = f.dir === "up" ? "upstream" : f.dir === "down" ? "downstream" : "up- and downstream";
    parts.push("Focus: " + SG.ids[f.p] + ", " + dir + (f.depth ? ", depth " + f.depth : "") + ".");
  } else if (!sgFull) {
    parts.push("Overview of " + sgInt(SG.n) + " nodes: " + sgCells.list.length + " country × stage cells" +
      (sgState.expanded.length ? ", " + sgState.expanded.length + " open" : "") + ".");
  }
  parts.push(sgInt(shown) + " shown" + (sgDroppedEdges ? "; " + sgInt(sgDroppedEdges) + " smaller flows not drawn" : "") + ".");
  if (sgState.selected >= 0) parts.push("Selected: " + sgLabel(sgState.selected) + ".");
  el.textContent = parts.join(" ");
}

function sgExpand(cell) {
  var i = sgState.expanded.indexOf(cell);
  if (i >= 0) { sgState.expanded.splice(i, 1); sgRefresh(); return; }
  sgState.shown[cell] = sgData.limits.expand;
  sgState.expanded.push(cell);
  sgRefresh();
}

function sgMore(cell) {
  if (sgState.expanded.indexOf(cell) < 0) return sgExpand(cell);
  sgState.shown[cell] = (sgState.shown[cell] || 0) + sgData.limits.expand;
  sgRefresh();
}

function sgFocus(p, dir, depth) {
  sgState.focus = { p: p, dir: dir || "both", depth: depth || 0 };
  sgState.selected = p;
  sgRefresh();
  if (!sgFull) sgFit();
  network.selectNodes([SG.ids[p]]);
}

function sgReset() {
  sgState.focus = null;
  sgState.expanded = [];
  sgState.pinned.clear();
  sgState.stages = null;
  sgState.country = -1;
  sgState.minFlow = 0;
  document.querySelectorAll("#sg-filter-stages input").forEach(function (x) { x.checked = true; });
  var cf = document.getElementById("sg-filter-country");
  if (cf) cf.value = "";
  var mf = document.getElementById("sg-min-flow");
  if (mf) mf.value = "0";
  sgRefresh();
  sgFit();
}

// show one node (a search hit): open its cell or pin it, select it and centre it
function sgShowNode(p) {
  if (!sgFull && sgItemOf[p] >= 0 && sgItems[sgItemOf[p]].kind !== "node") {
    if (sgState.focus) sgState.focus = null;
    sgState.pinned.add(p);
    sgRefresh();
  }
  sgState.selected = p;
  network.selectNodes([SG.ids[p]]);
  network.focus(SG.ids[p], { scale: Math.max(network.getScale(), 0.6), animation: false });
  sgStatus();
}

var sgLower = null;
function sgSearch(q) {
  var t0 = performance.now();
  q = String(q || "").trim().toLowerCase();
  var hits = [];
  if (q) {
    if (sgLower === null) {
      sgLower = new Array(SG.n);
      for (var p = 0; p < SG.n; p++) sgLower[p] = (SG.ids[p] + "\u0001" + sgLabel(p)).toLowerCase();
    }
    for (var k = 0; k < SG.n && hits.length < 20; k++) if (sgLower[k].indexOf(q) >= 0) hits.push(k);
  }
  window.sgLastSearchMs = performance.now() - t0;
  return hits;
}

function sgCellIndexOf(id) {
  // vis id of an aggregate -> [kind, cell]
  var k = -id - 1, nC = sgCells.list.length;
  return [k < nC ? "cell" : k < 2 * nC ? "more" : "rest", k % nC];
}

network.on("click", function (params) {
  if (!params.nodes.length) return;
  var id = params.nodes[0];
  if (typeof id === "number") {
    var kc = sgCellIndexOf(id);
    if (kc[0] === "cell" && !sgState.focus) sgExpand(kc[1]);
    else if (kc[0] === "more") sgMore(kc[1]);
    return;
  }
  sgState.selected = SG.pos.get(id);
  sgStatus();
});
network.on("doubleClick", function (params) {
  if (!params.nodes.length || typeof params.nodes[0] === "number") return;
  sgFocus(SG.pos.get(params.nodes[0]), "both", Number(document.getElementById("sg-depth").value));
});

(function controls() {
  var box = document.getElementById("sg-filter-stages");
  sgData.stages.forEach(function (name, s) {
    var label = document.createElement("label"), input = document.createElement("input");
    input.type = "checkbox";
    input.checked = true;
    input.dataset.stage = String(s);
    input.addEventListener("change", function () {
      var keep = new Set();
      box.querySelectorAll("input").forEach(function (x) { if (x.checked) keep.add(Number(x.dataset.stage)); });
      sgState.stages = keep.size === sgData.stages.length ? null : keep;
      sgRefresh();
    });
    label.appendChild(input);
    label.appendChild(document.createTextNode(String(name).replace(/_/g, " ")));
    box.appendChild(label);
  });
  var sel = document.getElementById("sg-filter-country");
  for (var c = 0; c < SG.nCountries; c++) {
    var opt = document.createElement("option");
    opt.value = String(c);
    opt.textContent = sgCountryCode(c) + (SG.country_name[c] ? " — " + SG.country_name[c] : "");
    sel.appendChild(opt);
  }
  sel.addEventListener("change", function () {
    sgState.country = sel.value === "" ? -1 : Number(sel.value);
    sgRefresh();
  });
  document.getElementById("sg-min-flow").addEventListener("change", function (ev) {
    sgState.minFlow = Math.max(0, Number(ev.target.value) || 0);
    sgRefresh();
  });
  document.querySelectorAll("[data-focus]").forEach(function (b) {
    b.addEventListener("click", function () {
      if (sgState.selected < 0) { sgStatus("Select a node first: click one, or search."); return; }
      sgFocus(sgState.selected, b.dataset.focus, Number(document.getElementById("sg-depth").value));
    });
  });
  document.getElementById("sg-reset-view").addEventListener("click", sgReset);
  var input = document.getElementById("sg-search"), list = document.getElementById("sg-search-results");
  var timer = null;
  function show() {
    list.textContent = "";
    sgSearch(input.value).forEach(function (p, i) {
      var li = document.createElement("li");
      li.textContent = sgLabel(p) + (SG.labels[p] !== undefined ? " (" + SG.ids[p] + ")" : "") + " — " +
        sgData.stages[SG.stage[p]] + ", " + sgCountryCode(SG.country[p]);
      li.dataset.p = String(p);
      if (i === 0) li.className = "on";
      li.addEventListener("click", function () { sgShowNode(p); });
      list.appendChild(li);
    });
  }
  input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(show, 60); });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter") {
      show();
      var first = list.querySelector("li");
      if (first) sgShowNode(Number(first.dataset.p));
    } else if (ev.key === "Escape") { input.value = ""; list.textContent = ""; }
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape" && ev.target === document.body) sgReset();
  });
})();

// a small API for scripts and tests (the page's CSP forbids eval, not function calls)
window.sgApi = {
  refresh: sgRefresh,
  expand: function (stage, country) {
    var cells = sgCells ? sgCells.list : [];
    for (var i = 0; i < cells.length; i++) {
      var c = cells[i];
      if (sgData.stages[c.stage] === stage && (country === null ? c.country < 0 : sgCountryCode(c.country) === country)) {
        sgExpand(i);
        return i;
      }
    }
    return -1;
  },
  focus: function (id, dir, depth) { sgFocus(SG.pos.get(id), dir, depth); },
  search: function (q) { return sgSearch(q).map(function (p) { return SG.ids[p]; }); },
  show: function (id) { sgShowNode(SG.pos.get(id)); },
  reset: sgReset,
  filter: function (f) {
    if (f.stages !== undefined) sgState.stages = f.stages === null ? null : new Set(f.stages.map(function (s) { return sgData.stages.indexOf(s); }));
    if (f.country !== undefined) sgState.country = f.country === null ? -1 : SG.countries.indexOf(f.country);
    if (f.minFlow !== undefined) sgState.minFlow = f.minFlow;
    sgRefresh();
  },
  shownNodeIds: function () { return nodes.getIds().filter(function (id) { return typeof id === "string"; }); },
  fadedIds: function () { return nodes.get({ filter: function (n) { return n.opacity !== undefined && n.opacity < 1; } }).map(function (n) { return n.id; }); },
  lastMs: function () { return sgLastMs; }
};

sgRefresh();
sgFit();
network.once("afterDrawing", function () {
  window.sgLoadMs = performance.now() - sgT0;
  window.sgReady = true;
});
if (nodes.length === 0) {
  window.sgLoadMs = performance.now() - sgT0;
  window.sgReady = true;
}
