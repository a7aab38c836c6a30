// supplygraph network view. Data arrives as JSON (never as markup); tooltips are DOM text nodes.
var sgData = JSON.parse(document.getElementById("sg-data").textContent);
var sgT0 = performance.now();

function sgTip(text) {
  var el = document.createElement("div");
  el.className = "sg-tip";
  el.textContent = text; // text, never HTML
  return el;
}

(function () {
  var i;
  for (i = 0; i < sgData.nodes.length; i++) {
    if (typeof sgData.nodes[i].title === "string") sgData.nodes[i].title = sgTip(sgData.nodes[i].title);
  }
  for (i = 0; i < sgData.edges.length; i++) {
    if (typeof sgData.edges[i].title === "string") sgData.edges[i].title = sgTip(sgData.edges[i].title);
  }
})();

var nodes = new vis.DataSet(sgData.nodes);
var edges = new vis.DataSet(sgData.edges);
var network = new vis.Network(
  document.getElementById("sg-network"),
  { nodes: nodes, edges: edges },
  sgData.options
);
window.network = network;

// node labels (right of each node) and stage names over the columns, drawn on the canvas as
// text -- never as HTML
var sgFace = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif";
var sgColumns = null;
function sgComputeColumns() {
  var pos = network.getPositions();
  var levels = {};
  var minY = Infinity;
  sgData.nodes.forEach(function (n) {
    var p = pos[n.id];
    if (!p) return;
    var c = levels[n.level] || (levels[n.level] = { sum: 0, n: 0 });
    c.sum += p.x;
    c.n += 1;
    if (p.y < minY) minY = p.y;
  });
  sgColumns = [];
  Object.keys(levels).forEach(function (lv) {
    var name = sgData.stages[Number(lv)];
    if (name !== undefined) {
      sgColumns.push({ x: levels[lv].sum / levels[lv].n, name: String(name).replace(/_/g, " ") });
    }
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
  ctx.save();
  // node labels: skipped when too small to read (under 5 px on screen)
  if (sgData.font * scale >= 5) {
    ctx.font = sgData.font + "px " + sgFace;
    ctx.textAlign = "left";
    ctx.textBaseline = "middle";
    ctx.lineJoin = "round";
    ctx.lineWidth = 4;
    ctx.strokeStyle = "rgba(255,255,255,0.9)";
    ctx.fillStyle = "#1f2933";
    var bodyNodes = network.body.nodes;
    for (var i = 0; i < sgData.nodes.length; i++) {
      var d = sgData.nodes[i];
      var n = bodyNodes[d.id];
      if (!n || !d.text) continue;
      if (n.y < view.y - 40 || n.y > viewEnd.y + 40 || n.x > viewEnd.x || n.x < view.x - 600) continue;
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
  var pos = network.getPositions();
  var ctx = document.createElement("canvas").getContext("2d");
  ctx.font = sgData.font + "px " + sgFace;
  var box = { x0: Infinity, x1: -Infinity, y0: Infinity, y1: -Infinity };
  sgData.nodes.forEach(function (n) {
    var p = pos[n.id];
    if (!p) return;
    var r = n.size || 10;
    var right = p.x + r + (n.text ? 6 + ctx.measureText(n.text).width : 0);
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
  var scale = Math.min(
    (w - 32 - left) / (box.x1 - box.x0 || 1),
    (h - top - 24) / (box.y1 - box.y0 || 1)
  );
  scale = Math.max(0.02, Math.min(scale, 1.5));
  network.moveTo({
    position: {
      x: (box.x0 + box.x1) / 2 - left / 2 / scale,
      y: (box.y0 + box.y1) / 2 - top / 2 / scale
    },
    scale: scale,
    animation: false
  });
}
sgFit();

network.once("afterDrawing", function () {
  window.sgLoadMs = performance.now() - sgT0;
  window.sgReady = true;
});
if (sgData.nodes.length === 0) {
  window.sgLoadMs = performance.now() - sgT0;
  window.sgReady = true;
}
