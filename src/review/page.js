// whocan review page: draws the table from the embedded data with
// textContent and SVG elements (never innerHTML), keeps the reviewer's
// decisions in memory and saves them as CSV through a Blob. No network.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("review-data").textContent);
  var S = data.strings;
  var PAGE = 500;
  var SVGNS = "http://www.w3.org/2000/svg";
  var rows = data.rows.map(function (r, n) {
    return {
      n: n,
      isrc: S[r[0]], iid: S[r[1]], identity: S[r[2]], employee: S[r[3]],
      tsrc: S[r[4]], tid: S[r[5]], target: S[r[6]], ttype: S[r[7]],
      permission: S[r[8]],
      providers: r[9].map(function (i) { return S[i]; }),
      findings: r[10].map(function (i) { return data.findings[i]; }),
      paths: r[11]
    };
  });
  var RANK = { critical: 5, high: 4, medium: 3, low: 2, info: 1 };
  // A row's filter text and worst severity are made the first time a
  // filter or a sort needs them, not before the first rows are drawn: on a
  // page of 100,000 rows they were most of the time to interactive.
  function worst(r) {
    if (r.worst === undefined) {
      r.worst = r.findings.reduce(function (w, f) { return Math.max(w, RANK[f[0]] || 0); }, 0);
    }
    return r.worst;
  }
  function text(r) {
    if (r.text === undefined) {
      r.text = [r.identity, r.iid, r.isrc, r.employee, r.target, r.tid, r.tsrc, r.permission,
        r.providers.join(" "), r.findings.map(function (f) { return f[1]; }).join(" ")].join("\n").toLowerCase();
    }
    return r.text;
  }
  var decisions = {};
  var state = { filter: "", finding: "", sort: null, dir: 1, page: 0, open: {} };
  var body = document.getElementById("rows-body");
  var pager = document.getElementById("pager");
  var progress = document.getElementById("progress");

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function svg(tag, attrs) {
    var e = document.createElementNS(SVGNS, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }
  function sortValue(r, col) {
    switch (col) {
      case "identity": return r.identity + "\u0000" + r.iid;
      case "employee": return r.employee;
      case "target": return r.target + "\u0000" + r.tid;
      case "permission": return r.permission;
      case "providers": return r.providers.join(", ");
      case "findings": return String.fromCharCode(70 - worst(r)) + r.findings.length;
      case "decision": return (decisions[r.n] && decisions[r.n].decision) || "~";
    }
    return "";
  }
  function visible() {
    var q = state.filter.toLowerCase();
    var out = rows.filter(function (r) {
      if (q && text(r).indexOf(q) < 0) return false;
      if (state.finding === "*" && r.findings.length === 0) return false;
      if (state.finding && state.finding !== "*" &&
          !r.findings.some(function (f) { return f[1] === state.finding; })) return false;
      return true;
    });
    if (state.sort) {
      var col = state.sort, dir = state.dir;
      out = out.map(function (r) { return [sortValue(r, col), r]; });
      out.sort(function (a, b) { return a[0] < b[0] ? -dir : a[0] > b[0] ? dir : a[1].n - b[1].n; });
      out = out.map(function (p) { return p[1]; });
    }
    return out;
  }

  function drawPaths(r) {
    var rowH = 56, boxW = 170, gap = 46, boxH = 34;
    var longest = r.paths.reduce(function (w, p) { return Math.max(w, p.length + 1); }, 2);
    var width = longest * boxW + (longest - 1) * gap + 20;
    var s = svg("svg", { "class": "path", width: width, height: r.paths.length * rowH + 10,
      role: "img", "aria-label": "Paths from " + r.identity + " to " + r.target });
    var defs = svg("defs", {});
    var marker = svg("marker", { id: "arrow-" + r.n, viewBox: "0 0 10 10", refX: 10, refY: 5,
      markerWidth: 7, markerHeight: 7, orient: "auto" });
    marker.appendChild(svg("path", { d: "M0,0 L10,5 L0,10 z", "class": "arrowhead" }));
    defs.appendChild(marker);
    s.appendChild(defs);
    r.paths.forEach(function (p, k) {
      var y = 10 + k * rowH;
      var nodes = [];
      p.forEach(function (ei, j) {
        var e = data.edges[ei];
        if (j === 0) nodes.push([S[e[0]], S[e[1]]]);
        nodes.push([S[e[2]], S[e[3]]]);
      });
      nodes.forEach(function (nd, j) {
        var x = 10 + j * (boxW + gap);
        var g = svg("g", { "class": "node kind-" + nd[1], "data-label": nd[0] });
        var t = svg("title", {}); t.textContent = nd[1] + ": " + nd[0]; g.appendChild(t);
        g.appendChild(svg("rect", { x: x, y: y, width: boxW, height: boxH, rx: 5 }));
        var label = nd[0].length > 24 ? nd[0].slice(0, 23) + "…" : nd[0];
        var tx = svg("text", { x: x + boxW / 2, y: y + boxH / 2 + 4, "text-anchor": "middle" });
        tx.textContent = label;
        g.appendChild(tx);
        s.appendChild(g);
      });
      p.forEach(function (ei, j) {
        var e = data.edges[ei];
        var x1 = 10 + j * (boxW + gap) + boxW, x2 = x1 + gap;
        var g = svg("g", { "class": e[5] ? "edge" : "edge false", "data-at": S[e[6]] });
        var t = svg("title", {});
        t.textContent = S[e[4]] + (e[5] ? "" : " = false (not held)") + " at " + S[e[6]];
        g.appendChild(t);
        g.appendChild(svg("line", { x1: x1, y1: y + boxH / 2, x2: x2 - 2, y2: y + boxH / 2,
          "marker-end": "url(#arrow-" + r.n + ")" }));
        var lt = svg("text", { x: (x1 + x2) / 2, y: y + boxH / 2 - 6, "text-anchor": "middle", "class": "perm" });
        lt.textContent = S[e[4]].length > 8 ? S[e[4]].slice(0, 7) + "…" : S[e[4]];
        g.appendChild(lt);
        s.appendChild(g);
      });
    });
    return s;
  }

  function decide(r, what, buttons) {
    var d = decisions[r.n] || (decisions[r.n] = { decision: "", comment: "" });
    d.decision = d.decision === what ? "" : what;
    d.time = new Date().toISOString();
    buttons.forEach(function (b) { b.setAttribute("aria-pressed", String(b.dataset.decision === d.decision)); });
    buttons[0].closest("tr").dataset.decision = d.decision;
    count();
  }

  function rowElement(r) {
    var tr = el("tr");
    tr.dataset.row = r.n;
    if (decisions[r.n]) tr.dataset.decision = decisions[r.n].decision;
    var open = el("td", "expand");
    var ob = el("button", "expand", state.open[r.n] ? "▾" : "▸");
    ob.type = "button";
    ob.setAttribute("aria-expanded", String(!!state.open[r.n]));
    ob.setAttribute("aria-label", "Show the path from " + r.identity + " to " + r.target);
    open.appendChild(ob);
    tr.appendChild(open);
    var id = el("td", "identity");
    id.appendChild(el("span", "name", r.identity));
    id.appendChild(el("span", "key", r.isrc + "/" + r.iid));
    tr.appendChild(id);
    tr.appendChild(el("td", "employee", r.employee));
    var tg = el("td", "target");
    tg.appendChild(el("span", "name", r.target));
    tg.appendChild(el("span", "key", r.ttype + " " + r.tsrc + "/" + r.tid));
    tr.appendChild(tg);
    tr.appendChild(el("td", "permission", r.permission));
    tr.appendChild(el("td", "providers", r.providers.join(", ")));
    var fd = el("td", "findings");
    r.findings.forEach(function (f) {
      var b = el("span", "sev sev-" + f[0], f[0] + " " + f[1]);
      b.title = f[2] + ": " + f[3];
      fd.appendChild(b);
    });
    tr.appendChild(fd);
    var dc = el("td", "decision");
    var buttons = ["keep", "revoke"].map(function (what) {
      var b = el("button", "decide " + what, what === "keep" ? "Keep" : "Revoke");
      b.type = "button";
      b.dataset.decision = what;
      b.setAttribute("aria-pressed", String(!!decisions[r.n] && decisions[r.n].decision === what));
      dc.appendChild(b);
      return b;
    });
    buttons.forEach(function (b) { b.addEventListener("click", function () { decide(r, b.dataset.decision, buttons); }); });
    dc.appendChild(el("span", "printed", decisions[r.n] ? decisions[r.n].decision : ""));
    tr.appendChild(dc);
    var cc = el("td", "comment");
    var ci = el("input", "comment");
    ci.type = "text";
    ci.setAttribute("aria-label", "Comment on " + r.identity + " " + r.permission + " " + r.target);
    ci.value = decisions[r.n] ? decisions[r.n].comment : "";
    ci.addEventListener("input", function () {
      var d = decisions[r.n] || (decisions[r.n] = { decision: "", comment: "" });
      d.comment = ci.value;
      d.time = new Date().toISOString();
      count();
    });
    cc.appendChild(ci);
    tr.appendChild(cc);
    var frag = [tr];
    if (state.open[r.n]) {
      var dt = el("tr", "detail");
      var td = el("td");
      td.colSpan = 9;
      td.appendChild(drawPaths(r));
      dt.appendChild(td);
      frag.push(dt);
    }
    ob.addEventListener("click", function () {
      state.open[r.n] = !state.open[r.n];
      render();
      var again = body.querySelector('tr[data-row="' + r.n + '"] button.expand');
      if (again) again.focus();
    });
    return frag;
  }

  function render() {
    var list = visible();
    var pages = Math.max(1, Math.ceil(list.length / PAGE));
    if (state.page >= pages) state.page = pages - 1;
    body.textContent = "";
    list.slice(state.page * PAGE, (state.page + 1) * PAGE).forEach(function (r) {
      rowElement(r).forEach(function (e) { body.appendChild(e); });
    });
    pager.textContent = "";
    var info = el("span", "info", list.length + " of " + rows.length + " rows · page " + (state.page + 1) + " of " + pages);
    info.id = "pager-info";
    pager.appendChild(info);
    [["first", 0], ["previous", state.page - 1], ["next", state.page + 1], ["last", pages - 1]].forEach(function (p) {
      var b = el("button", "page " + p[0], p[0]);
      b.type = "button";
      b.disabled = p[1] < 0 || p[1] >= pages || p[1] === state.page;
      b.addEventListener("click", function () { state.page = p[1]; render(); });
      pager.appendChild(b);
    });
    document.querySelectorAll("th[data-col]").forEach(function (th) {
      th.setAttribute("aria-sort", th.dataset.col === state.sort ? (state.dir > 0 ? "ascending" : "descending") : "none");
    });
    count();
  }

  function count() {
    var decided = 0, revoked = 0;
    for (var k in decisions) {
      if (decisions[k].decision) decided++;
      if (decisions[k].decision === "revoke") revoked++;
    }
    progress.textContent = decided + " of " + rows.length + " decided, " + revoked + " to revoke";
  }

  // reference: whocan's CSV reports put ' before a leading = + - @ tab CR
  // or ', and `review decisions` removes it.
  function cell(v) {
    v = String(v);
    if (/^[=+\-@\t\r']/.test(v)) v = "'" + v;
    return '"' + v.replace(/"/g, '""') + '"';
  }
  function csv() {
    var reviewer = document.getElementById("reviewer").value;
    var lines = ["page_digest,scope,reviewer,identity_source,identity_id,target_source,target_id,permission,decision,comment,time"];
    rows.forEach(function (r) {
      var d = decisions[r.n];
      if (!d || (!d.decision && !d.comment)) return;
      lines.push([data.meta.digest, data.meta.scope, reviewer, r.isrc, r.iid, r.tsrc, r.tid, r.permission,
        d.decision, d.comment, d.time].map(cell).join(","));
    });
    return lines.join("\r\n") + "\r\n";
  }
  document.getElementById("download").addEventListener("click", function () {
    var blob = new Blob([csv()], { type: "text/csv" });
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = "decisions-" + data.meta.file.replace(/\.html$/, "") + ".csv";
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(a.href); }, 10000);
  });
  var filter = document.getElementById("filter");
  var timer = null;
  filter.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { state.filter = filter.value; state.page = 0; render(); }, 120);
  });
  document.getElementById("finding").addEventListener("change", function (ev) {
    state.finding = ev.target.value; state.page = 0; render();
  });
  document.querySelectorAll("button.sort").forEach(function (b) {
    b.addEventListener("click", function () {
      if (state.sort === b.dataset.col) state.dir = -state.dir; else { state.sort = b.dataset.col; state.dir = 1; }
      render();
    });
  });
  window.addEventListener("beforeunload", function (ev) {
    if (Object.keys(decisions).length) { ev.preventDefault(); ev.returnValue = ""; }
  });
  window.whocanReview = { csv: csv, rows: rows.length };
  render();
  document.body.dataset.readyMs = String(Math.round(performance.now()));
  document.body.dataset.ready = "true";
})();
