// supplygraph what-if panel: the linear model of supplygraph.analysis.propagation, run live over
// the embedded arrays (see supplygraph/whatif.py for the equations), one slider per shock
// (approval rate) and per capacity scale; precomputed points for models the page cannot run.
var sgWhatIf = (function () {
  var W = sgData.whatif;
  var root = document.getElementById("sg-whatif");
  if (!W || !W.scenarios.length || !root) return null;
  var n = SG.n, m = SG.m;
  var valueOf = new Float64Array(n).fill(NaN), extOf = new Float64Array(n), i;
  for (i = 0; i < SG.value_pos.length; i++) valueOf[SG.value_pos[i]] = SG.value[i];
  for (i = 0; i < SG.ext_pos.length; i++) extOf[SG.ext_pos[i]] = SG.ext_in[i];
  var cur = -1, rates = [], scales = [];
  var el = {
    select: document.getElementById("sg-wi-scenario"),
    sliders: document.getElementById("sg-wi-sliders"),
    note: document.getElementById("sg-wi-note"),
    table: document.getElementById("sg-wi-results"),
    toml: document.getElementById("sg-wi-toml")
  };

  // ---- the model
  function nodeScale(sc) {
    var S = null, j, k;
    function get() { return S || (S = new Float64Array(n).fill(1)); }
    W.baked.forEach(function (b) { for (k = 0; k < b.nodes.length; k++) get()[b.nodes[k]] /= b.scale; });
    sc.capacity.forEach(function (c, j) {
      if (c.response) return;
      for (k = 0; k < c.nodes.length; k++) get()[c.nodes[k]] *= scales[j];
    });
    return S;
  }

  function combine(arr, idx, cut) {
    // independent cuts: c = 1 - (1 - c1)(1 - c2), as supplygraph.analysis.shocks
    arr[idx] = isNaN(arr[idx]) ? cut : Math.min(1, Math.max(0, 1 - (1 - arr[idx]) * (1 - cut)));
  }

  function run(sc, S) {
    var nodeCut = new Float64Array(n).fill(NaN), edgeCut = null, p, e, k;
    sc.shocks.forEach(function (s, j) {
      var cut = 1 - rates[j];
      for (k = 0; k < s.nodes.length; k++) combine(nodeCut, s.nodes[k], cut);
      if (s.edges.length && edgeCut === null) edgeCut = new Float64Array(m).fill(NaN);
      for (k = 0; k < s.edges.length; k++) combine(edgeCut, s.edges[k], cut);
    });
    var cap = new Float64Array(n), keep = null;
    for (p = 0; p < n; p++) cap[p] = isNaN(nodeCut[p]) ? 1 : 1 - nodeCut[p];
    if (edgeCut !== null) {
      keep = new Float64Array(m);
      for (e = 0; e < m; e++) keep[e] = isNaN(edgeCut[e]) ? 1 : 1 - edgeCut[e];
    }
    // input shares from the (scaled) flows: a = f / (sum f + external input)
    var share = new Float64Array(m), inflow = new Float64Array(n), ext = new Float64Array(n);
    for (p = 0; p < n; p++) {
      var sum = 0;
      for (e = SG.inptr[p]; e < SG.inptr[p + 1]; e++) {
        var f = S ? SG.flow[e] * S[SG.src[e]] : SG.flow[e];
        share[e] = f;
        sum += f;
      }
      var x = S ? extOf[p] * S[p] : extOf[p];
      inflow[p] = sum + x;
      for (e = SG.inptr[p]; e < SG.inptr[p + 1]; e++) share[e] = share[e] / inflow[p];
      ext[p] = inflow[p] > 0 ? x / inflow[p] : 1;
    }
    var h = new Float64Array(n), blocks = SG.blocks, bi = 0;
    p = 0;
    while (p < n) {
      if (bi < blocks.length && blocks[bi][0] === p) {
        solveBlock(blocks[bi], h, cap, keep, share, ext);
        p += blocks[bi][1];
        bi++;
        continue;
      }
      var s = 0;
      if (keep === null) for (e = SG.inptr[p]; e < SG.inptr[p + 1]; e++) s += share[e] * h[SG.src[e]];
      else for (e = SG.inptr[p]; e < SG.inptr[p + 1]; e++) s += share[e] * keep[e] * h[SG.src[e]];
      h[p] = cap[p] * (s + ext[p]);
      p++;
    }
    for (p = 0; p < n; p++) h[p] = Math.min(1, Math.max(0, h[p]));
    return { h: h, inflow: inflow };
  }

  // one cyclic component [a, a + k): closed -> 1 unless cut, else (I - M) x = rhs exactly
  function solveBlock(block, h, cap, keep, share, ext) {
    var a = block[0], k = block[1], p, e, i, j, q;
    if (block[2]) {
      var hit = false;
      for (p = a; p < a + k; p++) {
        if (cap[p] < 1) hit = true;
        if (keep !== null) for (e = SG.inptr[p]; e < SG.inptr[p + 1]; e++) if (keep[e] < 1) hit = true;
      }
      for (p = a; p < a + k; p++) h[p] = hit ? 0 : 1;
      return;
    }
    var A = new Float64Array(k * k), rhs = new Float64Array(k);
    for (i = 0; i < k; i++) {
      p = a + i;
      A[i * k + i] = 1;
      var known = 0;
      for (e = SG.inptr[p]; e < SG.inptr[p + 1]; e++) {
        q = SG.src[e];
        var w = keep === null ? share[e] : share[e] * keep[e];
        if (q >= a && q < a + k) A[i * k + (q - a)] -= cap[p] * w;
        else known += w * h[q];
      }
      rhs[i] = cap[p] * (known + ext[p]);
    }
    var x = k <= 400 ? luSolve(A, rhs, k) : gaussSeidel(A, rhs, k);
    for (i = 0; i < k; i++) h[a + i] = x[i];
  }

  function luSolve(A, b, k) {
    // Gaussian elimination with partial pivoting (dense; components are small)
    var i, j, r, piv, t;
    for (j = 0; j < k; j++) {
      piv = j;
      for (r = j + 1; r < k; r++) if (Math.abs(A[r * k + j]) > Math.abs(A[piv * k + j])) piv = r;
      if (piv !== j) {
        for (i = 0; i < k; i++) { t = A[j * k + i]; A[j * k + i] = A[piv * k + i]; A[piv * k + i] = t; }
        t = b[j]; b[j] = b[piv]; b[piv] = t;
      }
      for (r = j + 1; r < k; r++) {
        var f = A[r * k + j] / A[j * k + j];
        if (f === 0) continue;
        for (i = j; i < k; i++) A[r * k + i] -= f * A[j * k + i];
        b[r] -= f * b[j];
      }
    }
    var x = new Float64Array(k);
    for (j = k - 1; j >= 0; j--) {
      var s = b[j];
      for (i = j + 1; i < k; i++) s -= A[j * k + i] * x[i];
      x[j] = s / A[j * k + j];
    }
    return x;
  }

  function gaussSeidel(A, b, k) {
    var x = new Float64Array(k), it, i, j;
    for (it = 0; it < 100000; it++) {
      var delta = 0;
      for (i = 0; i < k; i++) {
        var s = b[i];
        for (j = 0; j < k; j++) if (j !== i) s -= A[i * k + j] * x[j];
        var v = s / A[i * k + i];
        delta = Math.max(delta, Math.abs(v - x[i]));
        x[i] = v;
      }
      if (delta <= 1e-15) return x;
    }
    throw new Error("the linear model did not converge on a cyclic component of " + k + " nodes");
  }

  // per target and end use, weighted as supplygraph.disrupt (output weights, or equal ones)
  function summarise(hOf, S, inflow) {
    var T = SG.targets, base = new Float64Array(T.length), total = 0, t, k, e;
    for (k = 0; k < T.length; k++) {
      t = T[k];
      var v = valueOf[t];
      if (!isNaN(v)) base[k] = S ? v * S[t] : v;
      else if (inflow[t] > 0) base[k] = inflow[t];
      else {
        var out = 0;
        for (e = SG.outptr[t]; e < SG.outptr[t + 1]; e++) out += SG.flow[SG.outedge[e]];
        base[k] = S ? out * S[t] : out;
      }
      if (!isFinite(base[k])) base[k] = 0;
      total += base[k];
    }
    var w = new Float64Array(T.length);
    for (k = 0; k < T.length; k++) w[k] = SG.weight_basis === "equal" ? 1 / Math.max(T.length, 1) : base[k] / total;
    function group(ix) {
      var sw = 0, sl = 0, mean = 0;
      ix.forEach(function (k) { sw += w[k]; sl += w[k] * (1 - hOf(k)); mean += 1 - hOf(k); });
      return 1 - (sw > 0 ? sl / sw : mean / ix.length);
    }
    var members = SG.groups.map(function () { return []; }), all = [];
    for (k = 0; k < T.length; k++) { members[SG.target_group[k]].push(k); all.push(k); }
    return {
      groups: SG.groups.map(function (name, g) { return { name: name, members: members[g], remaining: members[g].length ? group(members[g]) : 1 }; }),
      total: all.length ? group(all) : 1,
      hOf: hOf
    };
  }

  // ---- precomputed points: exact match, else multilinear on a full grid
  function pointValue(sc) {
    var pts = sc.points || [];
    if (!pts.length) return null;
    var dims = rates.slice(), pv = function (pt) { return pt.approval.slice(); };
    sc.capacity.forEach(function (c, j) {
      if (c.response) return;
      dims.push(scales[j]);
      var prev = pv;
      pv = function (pt) { var v = prev(pt); v.push(pt.scale && pt.scale[j] !== null && pt.scale[j] !== undefined ? pt.scale[j] : scales[j]); return v; };
    });
    var vecs = pts.map(pv);
    for (var i = 0; i < pts.length; i++) {
      var same = vecs[i].every(function (x, d) { return Math.abs(x - dims[d]) <= 1e-9; });
      if (same) return { get: function (id) { return pts[i].remaining[id]; }, label: pts[i].label, exact: true };
    }
    // full grid?
    var axes = dims.map(function (_, d) {
      var vals = [];
      vecs.forEach(function (v) { if (vals.indexOf(v[d]) < 0) vals.push(v[d]); });
      return vals.sort(function (x, y) { return x - y; });
    });
    var size = axes.reduce(function (a, ax) { return a * ax.length; }, 1);
    if (size !== pts.length) return null;
    var lo = [], frac = [];
    for (var d = 0; d < dims.length; d++) {
      var ax = axes[d];
      if (ax.length === 1) { if (Math.abs(ax[0] - dims[d]) > 1e-9) return null; lo.push(0); frac.push(0); continue; }
      var j = 0;
      while (j < ax.length - 2 && dims[d] > ax[j + 1]) j++;
      if (dims[d] < ax[0] - 1e-12 || dims[d] > ax[ax.length - 1] + 1e-12) return null;
      lo.push(j);
      frac.push((dims[d] - ax[j]) / (ax[j + 1] - ax[j]));
    }
    var index = new Map();
    vecs.forEach(function (v, k) { index.set(v.join("|"), k); });
    var corners = [];
    for (var mask = 0; mask < 1 << dims.length; mask++) {
      var wgt = 1, key = [];
      for (d = 0; d < dims.length; d++) {
        var up = (mask >> d) & 1;
        if (axes[d].length === 1 && up) { wgt = 0; break; }
        wgt *= up ? frac[d] : 1 - frac[d];
        key.push(axes[d][lo[d] + up]);
      }
      if (wgt > 0) corners.push([index.get(key.join("|")), wgt]);
    }
    return {
      get: function (id) {
        var s = 0;
        corners.forEach(function (c) { s += c[1] * pts[c[0]].remaining[id]; });
        return s;
      },
      label: "interpolated between " + corners.length + " precomputed points (approximate)",
      exact: false
    };
  }

  // ---- the panel
  function pct(x) { return (100 * x).toFixed(1) + " %"; }
  function text(tag, t, cls) {
    var x = document.createElement(tag);
    x.textContent = t;
    if (cls) x.className = cls;
    return x;
  }

  function slider(kind, j, label, value, min, max, src) {
    var box = document.createElement("div"), input = document.createElement("input"), out = document.createElement("output");
    box.className = "slider";
    var head = text("div", label);
    box.appendChild(head);
    input.type = "range";
    input.min = String(min);
    input.max = String(max);
    input.step = "any";
    input.value = String(value);
    input.dataset[kind === "shock" ? "shockIndex" : "capacityIndex"] = String(j);
    input.setAttribute("aria-label", label);
    box.appendChild(input);
    var line = document.createElement("div");
    line.appendChild(document.createTextNode(kind === "shock" ? "approval rate " : "capacity scale ×"));
    line.appendChild(out);
    if (src) line.appendChild(text("span", " — " + src, "name"));
    box.appendChild(line);
    function show() { out.textContent = kind === "shock" ? Math.round(100 * Number(input.value)) + " %" : Number(input.value).toFixed(2); }
    show();
    input.addEventListener("input", function () {
      var v = Number(input.value);
      if (kind === "shock") rates[j] = v; else scales[j] = v;
      show();
      update();
    });
    return box;
  }

  function build() {
    el.sliders.textContent = "";
    el.toml.hidden = true;
    if (cur < 0) { el.table.textContent = ""; el.note.textContent = "Pick a scenario to see its shocks as sliders."; apply(null, null); return; }
    var sc = W.scenarios[cur];
    rates = sc.shocks.map(function (s) { return s.rate; });
    scales = sc.capacity.map(function (c) { return c.response ? null : c.scale; });
    sc.shocks.forEach(function (s, j) { el.sliders.appendChild(slider("shock", j, s.label || s.text, s.rate, 0, 1, s.label ? s.text : "")); });
    sc.capacity.forEach(function (c, j) {
      if (c.response) {
        el.sliders.appendChild(text("p", "Capacity of " + c.selector + ": adds spare capacity, which the no-response figures here " +
          "cannot use by construction; run " + sc.command + " --response rules (or optimal) to see what it changes.", "note warn"));
        return;
      }
      el.sliders.appendChild(slider("capacity", j, "capacity of " + c.selector + (c.label ? ": " + c.label : ""), c.scale, 0.05, Math.max(2, 2 * c.scale), ""));
    });
    update();
  }

  function update() {
    var sc = W.scenarios[cur], t0 = performance.now();
    var S = nodeScale(sc), ran = run(sc, S), res, note = "";
    if (sc.live) {
      res = summarise(function (k) { return ran.h[SG.targets[k]]; }, S, ran.inflow);
      note = "Live: linear model, recomputed in this page.";
    } else {
      var pt = pointValue(sc);
      var how = "Model " + sc.model + ": this page runs only the linear model.";
      if (pt) {
        res = summarise(function (k) { return pt.get(SG.ids[SG.targets[k]]); }, S, ran.inflow);
        note = how + " Showing " + (pt.exact ? "a precomputed point (" + pt.label + ")" : pt.label) + ".";
      } else {
        res = null;
        note = how + " For these settings run: " + sc.command + " (save the scenario below first).";
      }
    }
    el.note.textContent = note;
    table(res);
    window.sgWhatIfMs = performance.now() - t0;
    apply(sc.live ? ran.h : null, S);
  }

  function table(res) {
    var tb = el.table;
    tb.textContent = "";
    var head = document.createElement("tr");
    ["end use / target", "remaining", ""].forEach(function (h) { head.appendChild(text("th", h)); });
    tb.appendChild(head);
    function row(name, value, attrs, cls) {
      var tr = document.createElement("tr");
      if (cls) tr.className = cls;
      Object.keys(attrs).forEach(function (k) { tr.setAttribute(k, attrs[k]); });
      tr.appendChild(text("td", name));
      tr.appendChild(text("td", value === null ? "–" : pct(value), "num"));
      var bar = document.createElement("td"), b = document.createElement("div"), s = document.createElement("span");
      b.className = "bar";
      s.style.width = value === null ? "0" : Math.round(100 * value) + "%";
      b.appendChild(s);
      bar.appendChild(b);
      tr.appendChild(bar);
      tb.appendChild(tr);
    }
    if (res === null) {
      SG.groups.forEach(function (g) { row(g, null, { "data-end-use": g }, "group"); });
      return;
    }
    res.groups.forEach(function (g) {
      row(g.name, g.remaining, { "data-end-use": g.name, "data-remaining": String(g.remaining) }, "group");
      g.members.forEach(function (k) {
        var t = SG.targets[k], h = res.hOf(k);
        row("  " + sgLabel(t), h, { "data-target": SG.ids[t], "data-remaining": String(h) }, "");
      });
    });
    row("total (output-weighted)", res.total, { "data-total": "", "data-remaining": String(res.total) }, "group");
  }

  var pending = null;
  function apply(h, S) {
    sgState.remaining = h;
    sgState.scale = S;
    var legend = document.getElementById("sg-ramp-legend");
    if (legend) legend.hidden = h === null && !SG.remaining;
    if (h === null && cur >= 0 && cur === W.initial) sgState.remaining = SG.remaining || null;
    if (sgFull) sgRecolour = h !== null;
    if (pending === null) pending = requestAnimationFrame(function () { pending = null; sgRefresh(); });
  }

  function toml() {
    var sc = W.scenarios[cur], parts = [sc.header];
    sc.capacity.forEach(function (c, j) {
      if (c.response) parts.push(c.toml);
      else parts.push(c.toml + "\nscale = " + String(scales[j]));
    });
    sc.shocks.forEach(function (s, j) { parts.push(s.toml + "\napproval_rate = " + String(rates[j])); });
    return parts.join("\n\n") + "\n";
  }

  if (W.initial < 0) el.select.appendChild(text("option", "— no scenario —"));
  W.scenarios.forEach(function (sc, j) {
    var o = text("option", sc.name + (sc.live ? "" : " (" + sc.model + ")"));
    o.value = String(j);
    el.select.appendChild(o);
  });
  el.select.value = W.initial < 0 ? el.select.options[0].value : String(W.initial);
  el.select.addEventListener("change", function () {
    cur = el.select.value === "" || isNaN(Number(el.select.value)) ? -1 : Number(el.select.value);
    if (el.select.selectedIndex === 0 && W.initial < 0) cur = -1;
    build();
  });
  document.getElementById("sg-wi-reset").addEventListener("click", build);
  document.getElementById("sg-wi-copy").addEventListener("click", function () {
    if (cur < 0) return;
    el.toml.value = toml();
    el.toml.hidden = false;
    el.toml.select();
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(el.toml.value).catch(function () { /* file:// pages may not write */ });
    }
  });
  cur = W.initial;
  build();
  return { toml: function () { return cur < 0 ? "" : toml(); }, update: update, scenario: function () { return cur; } };
})();
window.sgWhatIf = sgWhatIf;
