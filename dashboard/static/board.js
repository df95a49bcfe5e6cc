/* The leaderboard (one table per board: local and remote formulas are never ranked
 * together) and a model's history across its runs. Text goes in as text only. */
"use strict";
(function () {
  const BL = window.BL;
  const { h, append, clear, fmt, ci, short, when, badge, link, runHash, api, chartBox, drawChart, state, view, BOOT } = BL;

  // ------------------------------------------------------- distinct series style
  const SHAPES = ["circle", "triangle", "rect", "rectRot", "star", "crossRot", "rectRounded", "cross"];
  function seriesColor(i, n) {
    if (i < BL.PALETTE.length) return BL.PALETTE[i];
    return `hsl(${Math.round((i * 137.508) % 360)}, 65%, ${i % 2 ? 38 : 50}%)`; // golden angle: no repeats
  }
  function seriesStyle(i, n) { return { color: seriesColor(i, n), shape: SHAPES[Math.floor(i / BL.PALETTE.length) % SHAPES.length] }; }
  // Draws each point's series label next to it (canvas text: inert), never over another
  // label or another point. Greedy, in dataset order (a board's rank order, so the best
  // rows are labelled first): a label takes the first spot that lies inside the plot and
  // touches nothing placed: right of the point and above it, left, then below; failing
  // that its shorter forms (`pointLabelShort`) are tried the same way; failing that the
  // point goes unlabelled and keeps its tooltip and legend entry (on a phone, most do).
  // The boxes drawn are kept on the chart (`$pointLabels`) for the tests.
  const LABEL_FONT = "11px system-ui, sans-serif";
  const GAP = 9, RISE = 7;
  const hits = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
  const pointLabels = {
    id: "pointLabels",
    afterDatasetsDraw(chart) {
      const ctx = chart.ctx, area = chart.chartArea;
      const points = [];
      chart.data.datasets.forEach((ds, i) => {
        const meta = chart.getDatasetMeta(i);
        if (!meta.hidden) meta.data.forEach((pt) => { if (!pt.skip && Number.isFinite(pt.x) && Number.isFinite(pt.y)) points.push({ ds, pt }); });
      });
      const marks = points.map(({ pt }) => { const r = (pt.options && pt.options.radius) || 3; return { x: pt.x - r, y: pt.y - r, w: 2 * r, h: 2 * r }; });
      const placed = [];
      ctx.save();
      ctx.font = LABEL_FONT;
      ctx.fillStyle = "#1d2430";
      ctx.textAlign = "left";
      ctx.textBaseline = "alphabetic";
      points.forEach(({ ds, pt }, k) => {
        const texts = [ds.pointLabel].concat(ds.pointLabelShort || []).filter((t, j, all) => t && all.indexOf(t) === j);
        for (const text of texts) {
          const m = ctx.measureText(text);
          const asc = m.fontBoundingBoxAscent || 10, desc = m.fontBoundingBoxDescent || 3, w = m.width;
          const spots = [[pt.x + GAP, pt.y - RISE], [pt.x - GAP - w, pt.y - RISE], [pt.x + GAP, pt.y + RISE + asc], [pt.x - GAP - w, pt.y + RISE + asc]];
          const fit = spots.map(([x, base]) => ({ x, y: base - asc, w, h: asc + desc, base }))
            .find((b) => b.x >= area.left && b.x + b.w <= area.right && b.y >= area.top && b.y + b.h <= area.bottom && !placed.some((o) => hits(b, o)) && !marks.some((o, j) => j !== k && hits(b, o)));
          if (fit) { ctx.fillText(text, fit.x, fit.base); placed.push({ text, x: fit.x, y: fit.y, w: fit.w, h: fit.h }); break; }
        }
      });
      ctx.restore();
      chart.$pointLabels = placed;
    },
  };
  BL.seriesStyle = seriesStyle;
  BL.pointLabels = pointLabels;

  // ------------------------------------------------------------------ the board
  const NUM = ["rank", "overall", "quality", "speed", "reliability", "decode_tok_s", "n_runs"];
  function cols(board) {
    return [["Model", "model"], ["Harness", "harness"], ["Overall", "overall"], ["Quality", "quality"], ["Speed", "speed"], ["Reliability", "reliability"], ["tok/s", "decode_tok_s"]]
      .concat(board.suites.map((s) => [s, "suite:" + s]))
      .concat([["Size", "parameters"], ["Quant", "quantization"], ["Hardware", "hardware"], ["Provider", "provider"], ["Task set", "task_set"], ["Runs", "n_runs"]]);
  }
  function value(r, key) {
    if (key.startsWith("suite:")) { const v = (r.suites || {})[key.slice(6)]; return v ? v.score : null; }
    return r[key];
  }
  function compare(a, b, key, order) {
    const x = value(a, key), y = value(b, key);
    if (x === null || x === undefined || x === "") return (y === null || y === undefined || y === "") ? 0 : 1; // blanks last
    if (y === null || y === undefined || y === "") return -1;
    const c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y), undefined, { numeric: true });
    return order === "asc" ? c : -c;
  }
  const board = { q: "", filters: {}, sort: {} };
  function matches(r) {
    const f = board.filters;
    for (const k of ["harness", "hardware", "provider", "task_set"]) if (f[k] && r[k] !== f[k]) return false;
    if (board.q) {
      const hay = [r.model, r.harness, r.hardware, r.provider, r.task_set, r.quantization, r.parameters].join(" ").toLowerCase();
      if (!board.q.toLowerCase().split(/\s+/).filter(Boolean).every((w) => hay.includes(w))) return false;
    }
    return true;
  }
  function boardTable(b, body) {
    const sort = board.sort[b.board] || { key: "rank", order: "asc" };
    const columns = cols(b);
    const rows = b.rows.filter(matches).sort((x, y) => sort.key === "rank" ? x.rank - y.rank : compare(x, y, sort.key, sort.order) || x.rank - y.rank);
    const head = h("tr", {}, columns.map(([label, key], i) => {
      const th = h("th", { class: "sortable " + (NUM.includes(key) || key.startsWith("suite:") ? "num " : "") + (i < 3 ? `key key${i} ` : "") + (sort.key === key ? "sorted-" + sort.order : ""), text: label, "data-key": key, tabindex: 0 });
      const go = () => { const cur = board.sort[b.board]; board.sort[b.board] = { key, order: cur && cur.key === key && cur.order === "desc" ? "asc" : (NUM.includes(key) || key.startsWith("suite:") ? "desc" : "asc") }; boardTable(b, body); };
      th.addEventListener("click", go);
      th.addEventListener("keydown", (e) => { if (e.key === "Enter") go(); });
      return th;
    }));
    const tbody = h("tbody", {}, rows.map((r) => h("tr", { "data-run": r.run_id, "data-model": r.model || "" },
      h("td", { class: "key key0 clip" }, h("span", { class: "rank muted", text: `${r.rank}. ` }), link("#/model/" + encodeURIComponent(r.model || ""), r.model || "?", "model-link")),
      h("td", { class: "key key1", text: r.harness || "—" }),
      h("td", { class: "key key2 num" }, link(runHash(r.run_id), fmt(r.overall), "overall")),
      ["quality", "speed", "reliability"].map((k) => h("td", { class: "num", text: fmt(r[k]) })),
      h("td", { class: "num", text: fmt(r.decode_tok_s) }),
      b.suites.map((s) => { const v = (r.suites || {})[s]; return h("td", { class: "num", "data-suite": s, title: v ? `n=${v.n ?? "?"} · 95% CI ${ci(v.ci95)}` : "not run", text: v ? fmt(v.score) : "" }); }),
      h("td", { text: r.parameters || "" }), h("td", { text: r.quantization || "" }), h("td", { class: "clip", title: r.hardware || "", text: r.hardware || "—" }),
      h("td", { text: r.provider || "—" }), h("td", { class: "nowrap", text: r.task_set }), h("td", { class: "num", text: r.n_runs }))));
    clear(body);
    append(body, h("table", { class: "leaderboard", "data-board": b.board }, h("thead", {}, head), tbody));
    if (!rows.length) append(body, h("p", { class: "muted empty", text: "No row matches the search and filters." }));
  }
  function scatter(b, seq) {
    const sec = h("div", { class: "panel" }, h("h3", { text: "Quality vs speed" }));
    const placed = b.rows.filter((r) => r.quality !== null && r.quality !== undefined && (r.decode_tok_s !== null || r.speed !== null));
    if (!placed.length) { append(sec, h("p", { class: "muted small", text: "No row on this board measured speed yet: run the speed suite to place models on the quality-vs-speed plane." })); return sec; }
    const useTok = placed.every((r) => r.decode_tok_s !== null);
    const allZero = placed.every((r) => !r.quality);
    if (allZero) append(sec, h("p", { class: "note small all-zero", text: "Every quality score on this board is 0: the points sit on the bottom line. Open a run to see why its answers were rejected." }));
    const { box, canvas } = chartBox("tall");
    append(sec, box);
    const left = b.rows.length - placed.length;
    if (left) append(sec, h("p", { class: "muted small", text: `${left} row(s) without a speed measurement are not placed.` }));
    drawChart(canvas, {
      type: "scatter",
      data: { datasets: placed.map((r, i) => { const st = seriesStyle(i, placed.length); const base = `${r.model} · ${r.harness}`; const label = placed.filter((o) => `${o.model} · ${o.harness}` === base).length > 1 ? `${base} · ${r.task_set}` : base; return { label, pointLabel: label, pointLabelShort: [base, r.model], data: [{ x: useTok ? r.decode_tok_s : r.speed, y: r.quality }], backgroundColor: st.color, borderColor: st.color, pointStyle: st.shape, pointRadius: 7, pointHoverRadius: 9 }; }) },
      options: { plugins: { legend: { display: placed.length <= 12, position: "bottom" } }, scales: { x: { title: { display: true, text: useTok ? "decode tokens / s" : "speed score" }, beginAtZero: true, grace: "12%" }, y: { title: { display: true, text: "quality (0–100)" }, min: allZero ? -5 : 0, max: 100 } } },
      plugins: [pointLabels],
    }, seq);
    return sec;
  }
  function filterBar(boards, redraw) {
    const all = boards.flatMap((b) => b.rows);
    const bar = h("div", { class: "toolbar board-filters" });
    const search = h("input", { type: "search", placeholder: "Search model, harness, hardware…", "aria-label": "search the leaderboard", class: "board-search", value: board.q });
    search.addEventListener("input", () => { board.q = search.value; redraw(); });
    append(bar, search);
    for (const [key, label] of [["harness", "harness"], ["hardware", "hardware"], ["provider", "provider"], ["task_set", "task set"]]) {
      const vals = [...new Set(all.map((r) => r[key]).filter(Boolean))].sort();
      if (vals.length < 2 && !board.filters[key]) continue;
      const sel = h("select", { "aria-label": label, "data-filter": key }, h("option", { value: "", text: `any ${label}` }), vals.map((v) => h("option", { value: v, text: short(v, 48), selected: board.filters[key] === v })));
      sel.addEventListener("change", () => { board.filters[key] = sel.value || null; redraw(); });
      append(bar, sel);
    }
    if (boards.length > 1) {
      const sel = h("select", { "aria-label": "local or remote", "data-filter": "board" }, h("option", { value: "", text: "local and remote boards" }), boards.map((b) => h("option", { value: b.board, text: b.board + " only", selected: board.filters.board === b.board })));
      sel.addEventListener("change", () => { board.filters.board = sel.value || null; redraw(); });
      append(bar, sel);
    }
    return bar;
  }
  async function pageLeaderboard(_args, seq) {
    let lb = BOOT.leaderboard;
    BOOT.leaderboard = null; // embedded data serves the first paint only
    if (!lb) lb = await api("/api/leaderboard");
    if (seq !== state.routeSeq) return;
    append(view, h("h1", { text: "Leaderboard" }), h("p", { class: "muted lede", text: "The best complete run of each model × harness × hardware × task set. Local and remote endpoints are scored by different formulas, so each has its own board. Click a header to sort; a blank suite cell means that run did not run the suite." }));
    const boards = lb.boards || [];
    if (!boards.length) {
      append(view, h("div", { class: "panel empty" }, h("p", { text: "No complete runs yet." }), h("p", {}, "Start one on the ", link("#/benchmark", "Benchmark"), " tab, or run ", h("code", { text: "benchloop run --provider llamacpp --model smollm2-135m --suites reasonmath" }), ".")));
    } else {
      const holder = h("div");
      const redraw = () => boards.forEach((b) => { const sec = holder.querySelector(`section[data-board="${b.board}"]`); sec.hidden = !!board.filters.board && board.filters.board !== b.board; boardTable(b, sec.querySelector(".table-wrap")); });
      append(view, filterBar(boards, redraw), holder);
      boards.forEach((b) => {
        const sec = h("section", { class: "panel board", "data-board": b.board }, h("h2", { text: b.board === "remote" ? "Remote endpoints" : "Local" }), h("p", { class: "muted small", text: b.title + ` · ${b.rows.length} row(s) · task sets: ${b.task_sets.join("; ")}` }), h("div", { class: "table-wrap board-wrap" }));
        append(holder, sec);
      });
      redraw();
      boards.forEach((b) => append(holder.querySelector(`section[data-board="${b.board}"]`), scatter(b, seq)));
    }
    if (lb.unranked) append(view, h("p", { class: "muted small", text: `${lb.unranked} complete run(s) have no manifest hash and are not ranked.` }));
    if (BOOT.submissions === "on") submissions(seq);
  }
  async function submissions(seq) {
    const data = await api("/api/submissions");
    if (seq !== state.routeSeq) return;
    const rows = data.submissions || [];
    const sec = h("section", { class: "panel submissions" }, h("h2", { text: "Submitted runs" }), h("p", { class: "muted small", text: "Runs published to this server with benchloop publish. Each was re-scored here from its raw outputs with this server's own tasks and checkers before it was accepted." }));
    if (!rows.length) append(sec, h("p", { class: "muted", text: "No submissions yet." }));
    else append(sec, h("div", { class: "table-wrap" }, h("table", {}, h("thead", {}, h("tr", {}, ["model", "harness", "hardware", "overall", "quality", "speed", "reliability", "received"].map((c) => h("th", { text: c })))),
      h("tbody", {}, rows.map((r) => { const sc = r.scores || {}; return h("tr", {}, h("td", { class: "clip", text: r.model || "?" }), h("td", { text: r.harness || "—" }), h("td", { class: "clip", text: r.hardware || "—" }), h("td", { class: "num", text: fmt(sc.overall) }), h("td", { class: "num", text: fmt(sc.quality) }), h("td", { class: "num", text: fmt(sc.speed) }), h("td", { class: "num", text: fmt(sc.reliability) }), h("td", { class: "small", text: when(r.received_at) })); })))));
    append(view, sec);
  }

  // -------------------------------------------------------------- model history
  async function pageModel(args, seq) {
    const name = args[0] || "";
    const data = await api("/api/runs?" + new URLSearchParams({ model: name, sort: "started_at", order: "asc", limit: 500 }).toString());
    if (seq !== state.routeSeq) return;
    append(view, h("div", { class: "toolbar" }, link("#/leaderboard", "‹ Leaderboard")), h("h1", {}, h("span", { class: "model-name", text: name })), h("p", { class: "muted", text: `${data.total} run(s) of this model, oldest first. Each line is one harness on one hardware.` }));
    const runs = data.items.filter((r) => r.status === "complete");
    if (!runs.length) { append(view, h("div", { class: "panel empty", text: "No complete runs of this model yet." })); return; }
    const series = {};
    runs.forEach((r) => { const k = `${r.harness || "?"} · ${r.hardware || "?"}`; (series[k] = series[k] || []).push(r); });
    const labels = runs.map((r) => when(r.started_at));
    const mk = (key) => Object.entries(series).map(([k, rs], i) => { const st = seriesStyle(i); return { label: k, data: runs.map((r) => (rs.includes(r) ? r[key] : null)), borderColor: st.color, backgroundColor: st.color, pointStyle: st.shape, pointRadius: 5, spanGaps: true }; });
    const row = h("div", { class: "row" });
    const a = chartBox(), b = chartBox();
    append(row, h("div", { class: "grow panel" }, h("h3", { text: "Overall and quality across runs" }), a.box), h("div", { class: "grow panel" }, h("h3", { text: "Decode tokens / s across runs" }), b.box));
    append(view, row);
    drawChart(a.canvas, { type: "line", data: { labels, datasets: mk("overall").concat(mk("quality").map((d) => Object.assign(d, { label: d.label + " (quality)", borderDash: [5, 4] }))) }, options: { scales: { y: { min: 0, max: 100, title: { display: true, text: "score" } } }, plugins: { legend: { position: "bottom" } } } }, seq);
    drawChart(b.canvas, { type: "line", data: { labels, datasets: mk("decode_tok_s") }, options: { scales: { y: { beginAtZero: true, title: { display: true, text: "tokens / s" } } }, plugins: { legend: { position: "bottom" } } } }, seq);
    append(view, h("h2", { text: "Runs" }), h("div", { class: "table-wrap" }, h("table", { class: "history" }, h("thead", {}, h("tr", {}, ["Started", "Overall", "Harness", "Quality", "tok/s", "Hardware", "Profile", "Run"].map((c) => h("th", { text: c })))),
      h("tbody", {}, runs.slice().reverse().map((r) => h("tr", { "data-run": r.run_id }, h("td", { class: "nowrap", text: when(r.started_at) }), h("td", { class: "num" }, h("strong", { text: fmt(r.overall) })), h("td", { text: r.harness || "—" }), h("td", { class: "num", text: fmt(r.quality) }), h("td", { class: "num", text: fmt(r.decode_tok_s) }), h("td", { class: "clip", text: r.hardware || "—" }), h("td", { text: r.profile || "—" }), h("td", { class: "mono clip" }, link(runHash(r.run_id), r.run_id))))))));
    append(view, h("p", {}, badge(`${runs.length} complete`, "complete")));
  }

  Object.assign(BL.pages, { leaderboard: pageLeaderboard, model: pageModel });
})();
