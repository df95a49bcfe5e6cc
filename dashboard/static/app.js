/* BenchLoop dashboard UI.
 *
 * Rules this file keeps:
 * - every piece of data (model output, model names, errors, run ids) reaches the page
 *   through textContent or a text node built by h(); innerHTML is never used;
 * - every state-changing request carries the page's token (X-BenchLoop-Token);
 * - the leaderboard is painted first, from data embedded in the page, before any
 *   other request is made.
 */
"use strict";
(function () {
  const TOKEN = (document.querySelector('meta[name="benchloop-token"]') || {}).content || "";
  let BOOT = {};
  try { BOOT = JSON.parse(document.getElementById("boot").textContent || "{}"); } catch (e) { BOOT = {}; }
  const view = document.getElementById("view");
  const state = { charts: [], es: null, chatAbort: null, models: null, suites: null, prefill: null, compareIds: [], runsQuery: { sort: "started_at", order: "desc", offset: 0, limit: 50, filters: {} }, routeSeq: 0 };
  window.__benchloop = state; // for tests and debugging; holds no secret

  // ------------------------------------------------------------------ helpers
  function h(tag, attrs) {
    const el = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v === null || v === undefined || (v === false && k !== "text")) continue;
        if (k === "text") el.textContent = String(v);
        else if (k === "class") el.className = v;
        else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
        else if (k === "value") el.value = v;
        else if (k === "checked" || k === "disabled" || k === "selected") el[k] = !!v;
        else el.setAttribute(k, v === true ? "" : String(v));
      }
    }
    for (let i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }
  function append(el) {
    for (let i = 1; i < arguments.length; i++) {
      const kid = arguments[i];
      if (kid === null || kid === undefined || kid === false) continue;
      if (Array.isArray(kid)) { kid.forEach((k) => append(el, k)); continue; }
      el.appendChild(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
  }
  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); }
  function fmt(v, d) {
    if (v === null || v === undefined || v === "" || Number.isNaN(v)) return "—";
    if (typeof v !== "number") return String(v);
    return v.toFixed(d === undefined ? 1 : d);
  }
  function ci(c) { return Array.isArray(c) && c.length === 2 && c[0] !== null ? `[${fmt(c[0])}, ${fmt(c[1])}]` : ""; }
  function short(s, n) { s = s === null || s === undefined ? "" : String(s); return s.length > n ? s.slice(0, n - 1) + "…" : s; }
  function when(s) { if (!s) return "—"; const d = new Date(s); return isNaN(d) ? String(s) : d.toLocaleString(); }
  function badge(text, cls) { return h("span", { class: "badge " + (cls || String(text || "").toLowerCase()), text: text === null || text === undefined ? "—" : text }); }
  function link(hash, text, cls) { return h("a", { href: hash, class: cls || null, text: text }); }
  function runHash(id) { return "#/run/" + encodeURIComponent(id); }
  function taskHash(id, suite, task) { return "#/task/" + [id, suite, task].map(encodeURIComponent).join("/"); }
  function errorBox(e) { return h("div", { class: "error", text: String(e && e.message ? e.message : e) }); }
  function json(v, limit) {
    let s;
    try { s = JSON.stringify(v, null, 2); } catch (e) { s = String(v); }
    if (s === undefined) s = "";
    limit = limit || 200000;
    return s.length > limit ? s.slice(0, limit) + `\n… [${s.length - limit} more characters]` : s;
  }
  function textBlock(s, cls) { return h("pre", { class: "text " + (cls || "") , text: s === null || s === undefined ? "" : String(s) }); }

  async function api(path, opts) {
    opts = opts || {};
    const init = { method: opts.method || "GET", headers: { Accept: "application/json" }, signal: opts.signal };
    if (init.method !== "GET") init.headers["X-BenchLoop-Token"] = TOKEN;
    if (opts.body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(opts.body); }
    const r = await fetch(path, init);
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    if (!r.ok) {
      let msg = `HTTP ${r.status}`;
      if (data && typeof data.detail === "string") msg = data.detail;
      else if (data && Array.isArray(data.detail)) msg = data.detail.map((d) => `${(d.loc || []).join(".")}: ${d.msg}`).join("; ");
      throw new Error(msg);
    }
    return data;
  }

  // Server-Sent Events over fetch (POST bodies, token header): calls onEvent(name, data).
  async function postStream(path, body, onEvent, signal) {
    const r = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json", "X-BenchLoop-Token": TOKEN, Accept: "text/event-stream" }, body: JSON.stringify(body), signal: signal });
    if (!r.ok) {
      let msg = `HTTP ${r.status}`;
      try { const d = await r.json(); if (typeof d.detail === "string") msg = d.detail; } catch (e) { /* not JSON */ }
      throw new Error(msg);
    }
    const reader = r.body.getReader();
    const dec = new TextDecoder();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let i;
      while ((i = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        let ev = "message", data = "";
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) ev = line.slice(6).trim();
          else if (line.startsWith("data:")) data += line.slice(5).trim();
        }
        if (!data) continue;
        let parsed = null;
        try { parsed = JSON.parse(data); } catch (e) { continue; }
        onEvent(ev, parsed);
      }
    }
  }

  // ------------------------------------------------------------------- charts
  const chartReady = new Promise((resolve) => {
    if (window.Chart) { resolve(window.Chart); return; }
    const s = document.getElementById("chartjs");
    if (s) s.addEventListener("load", () => resolve(window.Chart));
    window.addEventListener("load", () => resolve(window.Chart));
  });
  const PALETTE = ["#2563eb", "#f97316", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#ca8a04", "#db2777"];
  function destroyCharts() { state.charts.forEach((c) => { try { c.destroy(); } catch (e) { /* gone */ } }); state.charts = []; }
  function chartBox(cls) { const canvas = h("canvas"); const box = h("div", { class: "chart-box " + (cls || "") }, canvas); return { box, canvas }; }
  async function drawChart(canvas, config, seq) {
    const Chart = await chartReady;
    if (!Chart || seq !== state.routeSeq || !canvas.isConnected) return null;
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options || {});
    const c = new Chart(canvas, config);
    state.charts.push(c);
    return c;
  }

  // ------------------------------------------------------------------- router
  function setTab(name) {
    document.querySelectorAll("#tabs a").forEach((a) => a.classList.toggle("active", a.dataset.tab === name));
  }
  async function route() {
    const seq = ++state.routeSeq;
    destroyCharts();
    if (state.es) { state.es.close(); state.es = null; }
    if (state.chatAbort) { state.chatAbort.abort(); state.chatAbort = null; }
    const parts = (location.hash || "#/leaderboard").replace(/^#\/?/, "").split("/").map((p) => { try { return decodeURIComponent(p); } catch (e) { return p; } });
    const name = parts[0] || "leaderboard";
    const tab = { run: "runs", task: "runs" }[name] || name;
    setTab(tab);
    clear(view);
    const page = { leaderboard: pageLeaderboard, runs: pageRuns, run: pageRun, task: pageTask, compare: pageCompare, models: pageModels, benchmark: pageBenchmark, chat: pageChat }[name] || pageLeaderboard;
    view.dataset.page = name;
    delete view.dataset.ready;
    try {
      await page(parts.slice(1), seq);
    } catch (e) {
      if (seq === state.routeSeq) append(view, errorBox(e));
    }
    if (seq === state.routeSeq) view.dataset.ready = name;
  }
  window.addEventListener("hashchange", route);

  // -------------------------------------------------------------- leaderboard
  async function pageLeaderboard(_args, seq) {
    let lb = BOOT.leaderboard;
    BOOT.leaderboard = null; // embedded data serves the first paint only
    if (!lb) lb = await api("/api/leaderboard");
    if (seq !== state.routeSeq) return;
    append(view, h("h1", { text: "Leaderboard" }), h("p", { class: "muted", text: "The best complete run of each model × harness × hardware × profile. Only runs of the same task set (equal manifest hash: tasks, checkers, scoring) stand side by side." }));
    const groups = lb.groups || [];
    if (!groups.length) {
      append(view, h("div", { class: "panel empty" }, h("p", { text: "No complete runs yet." }), h("p", {}, "Start one on the ", link("#/benchmark", "Benchmark"), " tab, or run ", h("code", { text: "benchloop run --provider llamacpp --model smollm2-135m --suites reasonmath" }), ".")));
      return;
    }
    groups.forEach((g, gi) => {
      const sec = h("section", { class: "panel", "data-group": g.manifest_hash });
      append(sec, h("div", { class: "toolbar" }, h("strong", { text: `Task set ${short(g.manifest_hash, 13)}` }), h("span", { class: "muted", text: `suites: ${g.suites.join(", ") || "—"} · profile: ${g.profiles.join(", ") || "—"} · ${g.n_runs} run${g.n_runs === 1 ? "" : "s"}` })));
      const suiteCols = g.suites;
      const head = h("tr", {}, h("th", { class: "num", text: "#" }), h("th", { text: "Model" }), h("th", { text: "Harness" }), h("th", { text: "Hardware" }), h("th", { text: "Profile" }), h("th", { class: "num", text: "Overall" }), h("th", { class: "num", text: "Quality" }), h("th", { class: "num", text: "Speed" }), h("th", { class: "num", text: "Reliability" }), h("th", { class: "num", text: "tok/s" }), suiteCols.map((s) => h("th", { class: "num", text: s })), h("th", { class: "num", text: "runs" }));
      const body = h("tbody");
      g.rows.forEach((r) => {
        append(body, h("tr", { "data-run": r.run_id },
          h("td", { class: "num", text: r.rank }),
          h("td", { class: "clip" }, link(runHash(r.run_id), r.model || "?")),
          h("td", { text: r.harness || "—" }), h("td", { class: "clip", text: r.hardware || "—" }), h("td", { text: r.profile || "—" }),
          h("td", { class: "num" }, h("strong", { text: fmt(r.overall) })), h("td", { class: "num", text: fmt(r.quality) }), h("td", { class: "num", text: fmt(r.speed) }), h("td", { class: "num", text: fmt(r.reliability) }), h("td", { class: "num", text: fmt(r.decode_tok_s) }),
          suiteCols.map((s) => { const v = (r.suites || {})[s]; return h("td", { class: "num", title: v ? `n=${v.n} 95% CI ${ci(v.ci95)}` : null, text: v ? fmt(v.score) : "—" }); }),
          h("td", { class: "num", text: r.n_runs })));
      });
      append(sec, h("div", { class: "table-wrap" }, h("table", { class: "leaderboard" }, h("thead", {}, head), body)));
      if (gi === 0) {
        const { box, canvas } = chartBox();
        append(sec, h("h3", { text: "Quality vs speed" }));
        const pts = g.rows.filter((r) => r.quality !== null && (r.decode_tok_s !== null || r.speed !== null));
        if (pts.length) {
          append(sec, box);
          const useTok = pts.every((r) => r.decode_tok_s !== null);
          drawChart(canvas, {
            type: "scatter",
            data: { datasets: pts.map((r, i) => ({ label: `${r.model} · ${r.harness}`, data: [{ x: useTok ? r.decode_tok_s : r.speed, y: r.quality }], backgroundColor: PALETTE[i % PALETTE.length], pointRadius: 7 })) },
            options: { scales: { x: { title: { display: true, text: useTok ? "decode tokens / s" : "speed score" }, beginAtZero: true, grace: "8%" }, y: { title: { display: true, text: "quality" }, min: 0, max: 100 } } },
          }, seq);
        } else {
          append(sec, h("p", { class: "muted small", text: "No run in this task set measured speed yet (run the speed suite to place models on the quality-vs-speed plane). Quality per model:" }));
          append(sec, box);
          drawChart(canvas, { type: "bar", data: { labels: g.rows.map((r) => `${r.model} · ${r.harness}`), datasets: [{ label: "quality", data: g.rows.map((r) => r.quality), backgroundColor: PALETTE[0] }] }, options: { indexAxis: "y", scales: { x: { min: 0, max: 100 } } } }, seq);
        }
      }
      append(view, sec);
    });
    if (lb.unranked) append(view, h("p", { class: "muted small", text: `${lb.unranked} complete run(s) have no manifest hash and are not ranked.` }));
    if (BOOT.submissions === "on") submissions(seq);
  }
  async function submissions(seq) {
    const data = await api("/api/submissions");
    if (seq !== state.routeSeq) return;
    const rows = data.submissions || [];
    const sec = h("section", { class: "panel submissions" }, h("h2", { text: "Submitted runs" }), h("p", { class: "muted small", text: "Runs published to this server with benchloop publish. Each was re-scored here from its raw outputs with this server's own tasks and checkers before it was accepted." }));
    if (!rows.length) append(sec, h("p", { class: "muted", text: "No submissions yet." }));
    else append(sec, h("div", { class: "table-wrap" }, h("table", {}, h("thead", {}, h("tr", {}, ["model", "harness", "hardware", "overall", "quality", "speed", "reliability", "task set", "received"].map((c) => h("th", { text: c })))),
      h("tbody", {}, rows.map((r) => { const sc = r.scores || {}; return h("tr", {}, h("td", { class: "clip", text: r.model || "?" }), h("td", { text: r.harness || "—" }), h("td", { class: "clip", text: r.hardware || "—" }), h("td", { class: "num", text: fmt(sc.overall) }), h("td", { class: "num", text: fmt(sc.quality) }), h("td", { class: "num", text: fmt(sc.speed) }), h("td", { class: "num", text: fmt(sc.reliability) }), h("td", { class: "mono small", text: short(r.manifest_hash, 13) }), h("td", { class: "small", text: when(r.received_at) })); })))));
    append(view, sec);
  }

  // --------------------------------------------------------------------- runs
  async function pageRuns(_args, seq) {
    const q = state.runsQuery;
    append(view, h("h1", { text: "Runs" }));
    const filterBar = h("div", { class: "toolbar" });
    const tableHolder = h("div");
    const compareBtn = h("button", { class: "primary", text: "Compare selected", disabled: true });
    append(view, filterBar, tableHolder);
    const facets = await api("/api/runs/facets");
    if (seq !== state.routeSeq) return;
    for (const key of ["model", "harness", "provider", "hardware", "profile", "status"]) {
      const sel = h("select", { "aria-label": key, "data-filter": key, onchange: () => { q.filters[key] = sel.value || null; q.offset = 0; load(); } }, h("option", { value: "", text: `any ${key}` }), (facets[key] || []).map((v) => h("option", { value: v, text: short(v, 60), selected: q.filters[key] === v })));
      append(filterBar, sel);
    }
    append(filterBar, h("button", { text: "Clear", onclick: () => { q.filters = {}; q.offset = 0; route(); } }), h("span", { class: "spacer" }), compareBtn);
    const selected = new Set();
    compareBtn.addEventListener("click", () => { location.hash = "#/compare/" + [...selected].map(encodeURIComponent).join(","); });
    const cols = [["", null], ["Run", "run_id"], ["Status", "status"], ["Model", "model"], ["Provider", "provider"], ["Harness", "harness"], ["Hardware", "hardware"], ["Profile", "profile"], ["Overall", "overall"], ["Quality", "quality"], ["Speed", "speed"], ["Reliability", "reliability"], ["Tasks", "n_tasks"], ["Started", "started_at"]];
    async function load() {
      const params = new URLSearchParams({ sort: q.sort, order: q.order, limit: q.limit, offset: q.offset });
      for (const [k, v] of Object.entries(q.filters)) if (v) params.append(k, v);
      const data = await api("/api/runs?" + params.toString());
      if (seq !== state.routeSeq) return;
      clear(tableHolder);
      if (!data.total) { append(tableHolder, h("div", { class: "panel empty", text: "No runs match." })); return; }
      const head = h("tr", {}, cols.map(([label, key]) => {
        const th = h("th", { class: (key ? "sortable " : "") + (["overall", "quality", "speed", "reliability", "n_tasks"].includes(key) ? "num " : "") + (q.sort === key ? "sorted-" + q.order : ""), text: label });
        if (key) th.addEventListener("click", () => { if (q.sort === key) q.order = q.order === "asc" ? "desc" : "asc"; else { q.sort = key; q.order = ["model", "harness", "provider", "hardware", "profile", "status", "run_id"].includes(key) ? "asc" : "desc"; } q.offset = 0; load(); });
        return th;
      }));
      const body = h("tbody");
      data.items.forEach((r) => {
        const cb = h("input", { type: "checkbox", "aria-label": "select " + r.run_id, checked: selected.has(r.run_id), disabled: r.status === "broken", onchange: () => { if (cb.checked) selected.add(r.run_id); else selected.delete(r.run_id); compareBtn.disabled = selected.size < 2; } });
        append(body, h("tr", { "data-run": r.run_id },
          h("td", {}, cb),
          h("td", { class: "mono clip" }, link(runHash(r.run_id), r.run_id)),
          h("td", {}, badge(r.status), r.error ? h("div", { class: "small muted clip", title: r.error, text: r.error }) : null),
          h("td", { class: "clip", text: r.model || "—" }), h("td", { text: r.provider || "—" }), h("td", { text: r.harness || "—" }), h("td", { class: "clip", text: r.hardware || "—" }), h("td", { text: r.profile || "—" }),
          h("td", { class: "num", text: fmt(r.overall) }), h("td", { class: "num", text: fmt(r.quality) }), h("td", { class: "num", text: fmt(r.speed) }), h("td", { class: "num", text: fmt(r.reliability) }), h("td", { class: "num", text: r.n_tasks === null ? "—" : r.n_tasks }), h("td", { class: "small", text: when(r.started_at) })));
      });
      const pager = h("div", { class: "toolbar" },
        h("span", { class: "muted", text: `${data.offset + 1}–${data.offset + data.items.length} of ${data.total}` }),
        h("button", { text: "‹ Prev", disabled: data.offset === 0, onclick: () => { q.offset = Math.max(0, q.offset - q.limit); load(); } }),
        h("button", { text: "Next ›", disabled: data.offset + data.items.length >= data.total, onclick: () => { q.offset += q.limit; load(); } }));
      append(tableHolder, h("div", { class: "table-wrap" }, h("table", { class: "runs" }, h("thead", {}, head), body)), pager);
    }
    await load();
  }

  // ---------------------------------------------------------------------- run
  function suiteChart(run, seq) {
    const suites = Object.entries((run.scores || {}).suites || {}).filter(([, v]) => v && v.score !== null && v.score !== undefined);
    if (!suites.length) return null;
    const { box, canvas } = chartBox();
    drawChart(canvas, {
      type: "bar",
      data: {
        labels: suites.map(([k]) => k),
        datasets: [
          { label: "95% interval", data: suites.map(([, v]) => (Array.isArray(v.ci95) && v.ci95[0] !== null ? [v.ci95[0], v.ci95[1]] : null)), backgroundColor: "rgba(249,115,22,.45)", borderColor: "#c2410c", borderWidth: 1, barPercentage: 0.18, maxBarThickness: 16, grouped: false, order: 0 },
          { label: "score", data: suites.map(([, v]) => v.score), backgroundColor: "rgba(37,99,235,.8)", maxBarThickness: 90, grouped: false, order: 1 },
        ],
      },
      options: { scales: { y: { min: 0, max: 100, title: { display: true, text: "score (0–100)" } } } },
    }, seq);
    return box;
  }
  function speedChart(run, seq) {
    const sc = ((run.speed || {}).scenarios) || {};
    const names = Object.keys(sc);
    if (!names.length) return null;
    const { box, canvas } = chartBox();
    drawChart(canvas, {
      type: "bar",
      data: {
        labels: names,
        datasets: [
          { label: "decode tok/s", data: names.map((n) => (sc[n] || {}).decode_tok_s ?? null), backgroundColor: PALETTE[0], yAxisID: "y" },
          { label: "TTFT ms", data: names.map((n) => (sc[n] || {}).ttft_ms ?? null), backgroundColor: PALETTE[1], yAxisID: "y1" },
        ],
      },
      options: { scales: { y: { beginAtZero: true, title: { display: true, text: "tokens / s" } }, y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false }, title: { display: true, text: "ms" } } } },
    }, seq);
    return box;
  }
  async function pageRun(args, seq) {
    const id = args[0];
    const run = await api("/api/runs/" + encodeURIComponent(id));
    if (seq !== state.routeSeq) return;
    const model = (run.model && typeof run.model === "object") ? run.model.name : run.model;
    append(view, h("div", { class: "toolbar" }, link("#/runs", "‹ Runs"), h("span", { class: "spacer" }),
      h("button", { text: "Compare with…", onclick: () => { state.compareIds = [id]; location.hash = "#/compare/" + encodeURIComponent(id); } }),
      h("a", { class: "button", href: "/api/runs/" + encodeURIComponent(id) + "/artifact", download: id + ".json", text: "run.json" }),
      BOOT.control === false ? null : h("button", { class: "danger", text: "Delete run", onclick: async () => {
        if (!confirm(`Delete run ${id}? Its directory is removed from disk.`)) return;
        try { await api("/api/runs/" + encodeURIComponent(id), { method: "DELETE" }); location.hash = "#/runs"; } catch (e) { append(view, errorBox(e)); }
      } })));
    append(view, h("h1", {}, h("span", { class: "model-name", text: model || "?" }), " ", badge(run.status)));
    if (run.status === "broken") { append(view, h("div", { class: "error", text: "This run's artifact cannot be read: " + (run.error || "") })); return; }
    if (run.status === "running") append(view, h("div", { class: "info" }, "This run is in progress. ", link("#/benchmark/" + encodeURIComponent(id), "Watch it live")));
    const m = run.machine || {};
    const sc = run.scores || {};
    const facts = [["run id", run.run_id], ["provider", run.provider], ["endpoint", run.endpoint], ["harness", run.harness], ["profile", run.profile], ["hardware", run.remote && m.model_hardware ? m.model_hardware : m.hardware], ["cpu", m.cpu], ["ram", m.ram_gb ? m.ram_gb + " GB" : null], ["os", m.os], ["started", when(run.started_at)], ["finished", when(run.finished_at)], ["manifest", run.manifest_hash], ["formula", sc.formula], ["benchloop", run.benchloop_version], ["quantization", (run.model || {}).quantization], ["parameters", (run.model || {}).parameters]];
    append(view, h("div", { class: "panel facts" }, facts.filter(([, v]) => v !== null && v !== undefined && v !== "").map(([k, v]) => h("div", {}, h("span", { class: "k", text: k }), h("span", { class: "v mono", title: String(v), text: String(v) })))));
    append(view, h("div", { class: "cards" }, ["overall", "quality", "speed", "reliability"].map((k) => h("div", { class: "card" }, h("div", { class: "label", text: k }), h("div", { class: "value", text: fmt(sc[k]) })))));
    if (run.missing_tasks && run.missing_tasks.length) append(view, h("div", { class: "note", text: `${run.missing_tasks.length} task(s) have no result: ${run.missing_tasks.slice(0, 10).join(", ")}` }));
    const charts = h("div", { class: "row" });
    const sb = suiteChart(run, seq);
    if (sb) append(charts, h("div", { class: "grow panel" }, h("h3", { text: "Per-suite score with 95% interval" }), sb));
    const sp = speedChart(run, seq);
    if (sp) append(charts, h("div", { class: "grow panel" }, h("h3", { text: "Speed per scenario" }), sp));
    append(view, charts);
    const suites = Object.entries(sc.suites || {});
    if (suites.length) {
      append(view, h("h2", { text: "Suites" }), h("div", { class: "table-wrap" }, h("table", {}, h("thead", {}, h("tr", {}, ["suite", "score", "n", "95% CI", "passed", "errors"].map((c) => h("th", { text: c })))), h("tbody", {}, suites.map(([name, v]) => h("tr", {}, h("td", { text: name }), h("td", { class: "num", text: fmt(v.score) }), h("td", { class: "num", text: v.n }), h("td", { text: ci(v.ci95) }), h("td", { class: "num", text: v.passed ?? "—" }), h("td", { class: "num", text: v.errors ?? "—" })))))));
    }
    append(view, h("h2", { text: `Tasks (${(run.tasks || []).length})` }));
    const rows = (run.tasks || []).map((t) => h("tr", { "data-task": t.task_id },
      h("td", { text: t.suite }), h("td", { class: "mono" }, link(taskHash(id, t.suite, t.task_id), t.task_id)),
      h("td", { class: "num", text: fmt(t.score) }), h("td", {}, t.error ? badge("error", "broken") : badge(t.passed ? "pass" : "fail")),
      h("td", { class: "num", text: fmt(t.latency_ms, 0) }), h("td", { class: "num", text: fmt(t.ttft_ms, 0) }), h("td", { class: "num", text: t.completion_tokens ?? "—" }), h("td", { text: t.finish_reason || "—" }), h("td", { class: "num", text: t.n_turns || "" }),
      h("td", { class: "clip output-preview", title: t.reason || "", text: t.error ? t.error : t.output_preview })));
    append(view, h("div", { class: "table-wrap" }, h("table", { class: "tasks" }, h("thead", {}, h("tr", {}, ["suite", "task", "score", "verdict", "latency ms", "TTFT ms", "tokens", "finish", "turns", "output"].map((c) => h("th", { text: c })))), h("tbody", {}, rows))));
  }

  // --------------------------------------------------------------------- task
  function messageList(msgs) {
    if (!Array.isArray(msgs) || !msgs.length) return h("p", { class: "muted", text: "—" });
    return h("div", {}, msgs.map((m) => h("div", { class: "turn" }, h("div", { class: "head" }, h("span", { text: (m && m.role) || "?" })), textBlock(m && typeof m.content === "string" ? m.content : json(m && m.content)), m && m.tool_calls ? textBlock(json(m.tool_calls)) : null)));
  }
  function toolCall(c) {
    c = c && typeof c === "object" ? c : {};
    const fn = c.function && typeof c.function === "object" ? c.function : c;
    const args = fn.arguments !== undefined && fn.arguments !== null ? fn.arguments : c.arguments_raw;
    const el = h("div", { class: "call" }, h("span", { class: "name", text: String(fn.name || c.name || "?") }), " ", c.status ? badge(c.status, c.status === "ok" ? "pass" : "fail") : null,
      textBlock(typeof args === "string" ? args : json(args)));
    if ("result" in c) append(el, h("div", { class: "result" }, h("span", { class: "name mono", text: "→ result" }), textBlock(typeof c.result === "string" ? c.result : json(c.result))));
    return el;
  }
  const TURN_KNOWN = ["turn", "index", "role", "content", "output", "text", "reasoning", "tool_calls", "calls", "tool_results", "results", "observations", "latency_ms", "ttft_ms", "completion_tokens", "prompt_tokens", "reasoning_tokens", "token_source", "finish_reason", "error", "messages"];
  function traceView(turns) {
    const wrap = h("div", { class: "trace" });
    turns.forEach((t, i) => {
      if (!t || typeof t !== "object") { append(wrap, h("div", { class: "turn" }, textBlock(json(t)))); return; }
      const n = t.turn ?? t.index ?? i + 1;
      const timing = [t.latency_ms !== undefined && t.latency_ms !== null ? `${fmt(t.latency_ms, 0)} ms` : null, t.ttft_ms ? `TTFT ${fmt(t.ttft_ms, 0)} ms` : null, t.completion_tokens ? `${t.completion_tokens} tokens` : null, t.finish_reason ? `finish ${t.finish_reason}` : null, typeof t.messages === "number" ? `${t.messages} messages in context` : null].filter(Boolean).join(" · ");
      const card = h("div", { class: "turn", "data-turn": String(n) }, h("div", { class: "head" }, h("span", { text: `Turn ${n}` }), t.role ? badge(t.role, "role") : null, h("span", { class: "muted small", text: timing })));
      const text = t.content ?? t.output ?? t.text;
      if (text !== undefined && text !== null && text !== "") append(card, textBlock(typeof text === "string" ? text : json(text)));
      if (t.reasoning) append(card, h("details", {}, h("summary", { text: "reasoning" }), textBlock(t.reasoning)));
      const calls = t.tool_calls || t.calls;
      if (Array.isArray(calls)) calls.forEach((c) => append(card, toolCall(c)));
      const results = t.tool_results || t.results || t.observations;
      if (Array.isArray(results)) results.forEach((r) => append(card, h("div", { class: "result" }, h("span", { class: "name mono", text: "→ " + ((r && (r.name || r.tool)) || "result") }), textBlock(r && typeof r === "object" && "content" in r ? (typeof r.content === "string" ? r.content : json(r.content)) : (r && typeof r === "object" && "result" in r ? json(r.result) : json(r))))));
      if (t.error) append(card, h("div", { class: "error", text: String(t.error) }));
      const rest = Object.fromEntries(Object.entries(t).filter(([k]) => !TURN_KNOWN.includes(k)));
      if (Object.keys(rest).length) append(card, h("details", {}, h("summary", { text: "more" }), textBlock(json(rest))));
      append(wrap, card);
    });
    return wrap;
  }
  async function pageTask(args, seq) {
    const [id, suite, taskId] = args;
    const data = await api(`/api/runs/${encodeURIComponent(id)}/tasks/${encodeURIComponent(suite)}/${encodeURIComponent(taskId)}`);
    if (seq !== state.routeSeq) return;
    const t = data.task;
    append(view, h("div", { class: "toolbar" }, link(runHash(id), "‹ Run " + short(id, 48))));
    append(view, h("h1", {}, h("span", { class: "mono", text: `${t.suite} / ${t.task_id}` }), " ", t.error ? badge("error", "broken") : badge(t.passed ? "pass" : "fail")));
    append(view, h("p", { class: "muted" }, h("span", { text: `${data.model || "?"} · harness ${data.harness || "?"}` })));
    append(view, h("div", { class: "cards" },
      [["score", fmt(t.score)], ["latency ms", fmt(t.latency_ms, 0)], ["TTFT ms", fmt(t.ttft_ms, 0)], ["tokens", `${t.completion_tokens ?? "—"}${t.token_source ? " (" + t.token_source + ")" : ""}`], ["finish", t.finish_reason || "—"]].map(([k, v]) => h("div", { class: "card" }, h("div", { class: "label", text: k }), h("div", { class: "value", text: v })))));
    if (t.reason) append(view, h("div", { class: "info" }, h("strong", { text: "Checker: " }), h("span", { class: "reason", text: t.reason })));
    if (t.error) append(view, h("div", { class: "error", text: t.error }));
    const turns = Array.isArray(t.turns) ? t.turns : [];
    if (turns.length) append(view, h("h2", { text: `Agent trace (${turns.length} turns)` }), traceView(turns));
    append(view, h("h2", { text: "Output" }), textBlock(t.output, "task-output"));
    if (t.reasoning) append(view, h("details", { open: true }, h("summary", { text: "Reasoning" }), textBlock(t.reasoning)));
    if (!turns.length && Array.isArray(t.tool_calls) && t.tool_calls.length) append(view, h("h2", { text: "Tool calls" }), t.tool_calls.map(toolCall));
    append(view, h("h2", { text: "Prompt" }), messageList(t.prompt));
    if (Array.isArray(t.checks) && t.checks.length) {
      const keys = [...new Set(t.checks.flatMap((c) => (c && typeof c === "object" ? Object.keys(c) : [])))].slice(0, 8);
      append(view, h("h2", { text: "Checks" }), h("div", { class: "table-wrap" }, h("table", {}, h("thead", {}, h("tr", {}, keys.map((k) => h("th", { text: k })))), h("tbody", {}, t.checks.map((c) => h("tr", {}, keys.map((k) => { const v = c ? c[k] : null; return h("td", { class: typeof v === "boolean" ? (v ? "cell-pass" : "cell-fail") : "", text: typeof v === "object" && v !== null ? json(v, 2000) : v ?? "—" }); })))))));
    }
    if (t.detail) append(view, h("details", {}, h("summary", { text: "Checker detail" }), textBlock(json(t.detail))));
    append(view, h("details", {}, h("summary", { text: "Raw request" }), textBlock(json(t.request))));
    append(view, h("details", {}, h("summary", { text: "Raw response" }), textBlock(json(t.response))));
    if (t.server_timings) append(view, h("details", {}, h("summary", { text: "Server timings" }), textBlock(json(t.server_timings))));
  }

  // ------------------------------------------------------------------ compare
  async function pageCompare(args, seq) {
    const ids = (args[0] || "").split(",").filter(Boolean);
    append(view, h("h1", { text: "Compare runs" }), h("p", { class: "muted", text: "Side by side per suite and per task. The first run is the baseline; a difference is called significant only when the test says so." }));
    const picker = h("div", { class: "panel" });
    const result = h("div");
    append(view, picker, result);
    const chosen = new Set(ids.length ? ids : state.compareIds);
    const list = await api("/api/runs?limit=100&sort=started_at&order=desc");
    if (seq !== state.routeSeq) return;
    const go = h("button", { class: "primary", text: "Compare", onclick: () => { location.hash = "#/compare/" + [...chosen].map(encodeURIComponent).join(","); } });
    append(picker, h("div", { class: "toolbar" }, h("strong", { text: "Pick two or more runs" }), h("span", { class: "spacer" }), go));
    const opts = h("div", { class: "checks compare-picker" });
    list.items.filter((r) => r.status !== "broken").forEach((r) => {
      const cb = h("input", { type: "checkbox", value: r.run_id, checked: chosen.has(r.run_id), onchange: () => { if (cb.checked) chosen.add(r.run_id); else chosen.delete(r.run_id); } });
      append(opts, h("label", { class: "inline" }, cb, h("span", { text: `${r.model || "?"} · ${r.harness || "?"} · ${fmt(r.overall)} · ` }), h("span", { class: "mono small", text: r.run_id })));
    });
    append(picker, opts);
    if (ids.length < 2) { append(result, h("p", { class: "muted", text: "Choose at least two runs." })); return; }
    const params = new URLSearchParams();
    ids.forEach((i) => params.append("runs", i));
    const cmp = await api("/api/compare?" + params.toString());
    if (seq !== state.routeSeq) return;
    if (cmp.comparable) append(result, h("div", { class: "info comparable", text: "Comparable: every run has the same manifest (tasks, checkers, scoring)." }));
    else if (!(cmp.banners || []).length) append(result, h("div", { class: "note not-comparable", text: "Not comparable: these runs used different task sets, checkers or scoring (manifest hashes differ). Differences are shown, but they are not like for like." }));
    (cmp.banners || []).forEach((b) => append(result, h("div", { class: "note not-comparable", text: b })));
    if (cmp.quality_tests && cmp.quality_tests.length) {
      append(result, h("div", { class: "panel quality-tests" }, h("strong", { text: "Quality, paired test: " }), cmp.quality_tests.map((q, i) => h("div", {},
        h("span", { text: `#${i + 2} vs baseline: Δ ${q.diff === null || q.diff === undefined ? "—" : (q.diff > 0 ? "+" : "") + fmt(q.diff)} ${ci(q.ci95)}, p=${fmt(q.p_value, 4)} · ` }),
        q.comparable === false ? badge("not comparable", "cancelled") : q.p_value === null || q.p_value === undefined ? badge(q.verdict || "no test", "cancelled") : q.p_value < 0.05 ? badge(q.verdict || "significant", "warn") : badge(q.verdict || "not significant", "cancelled")))));
    }
    append(result, h("h2", { text: "Runs" }), h("div", { class: "table-wrap" }, h("table", {}, h("thead", {}, h("tr", {}, ["", "run", "model", "harness", "hardware", "overall", "quality", "speed", "reliability"].map((c) => h("th", { text: c })))),
      h("tbody", {}, cmp.runs.map((r, i) => h("tr", {}, h("td", { text: i === 0 ? "baseline" : `#${i + 1}` }), h("td", { class: "mono clip" }, link(runHash(r.run_id), r.run_id)), h("td", { class: "clip", text: r.model || "—" }), h("td", { text: r.harness || "—" }), h("td", { class: "clip", text: r.hardware || "—" }), h("td", { class: "num", text: fmt(r.overall) }), h("td", { class: "num", text: fmt(r.quality) }), h("td", { class: "num", text: fmt(r.speed) }), h("td", { class: "num", text: fmt(r.reliability) })))))));
    append(result, h("h2", { text: "Per suite" }), h("p", { class: "muted small", text: `Significance: ${cmp.method}.` }));
    const shead = h("tr", {}, h("th", { text: "suite" }), cmp.runs.map((r, i) => h("th", { text: i === 0 ? "baseline" : `#${i + 1}` })), cmp.runs.slice(1).map((r, i) => h("th", { text: `Δ #${i + 2}` })));
    const sbody = h("tbody", {}, cmp.suites.map((s) => h("tr", { "data-suite": s.suite }, h("td", { text: s.suite }),
      s.cells.map((c) => h("td", { class: "num" }, c ? [h("strong", { text: fmt(c.score) }), h("span", { class: "muted small", text: ` ${ci(c.ci95)} n=${c.n ?? "?"}` })] : "—")),
      s.vs_baseline.map((d) => h("td", { class: "num" }, d.delta === null ? "—" : [h("span", { text: (d.delta > 0 ? "+" : "") + fmt(d.delta) + " " }), d.significant === null || d.significant === undefined ? badge(d.verdict || "no test", "cancelled") : d.significant ? badge("significant", "warn") : badge("not significant", "cancelled"), d.p_value !== null && d.p_value !== undefined ? h("span", { class: "muted small", text: ` p=${fmt(d.p_value, 3)}` }) : null])))));
    append(result, h("div", { class: "table-wrap" }, h("table", { class: "compare-suites" }, h("thead", {}, shead), sbody)));
    if (cmp.suites.length) {
      const { box, canvas } = chartBox();
      append(result, h("div", { class: "panel" }, h("h3", { text: "Per-suite scores" }), box));
      drawChart(canvas, { type: "bar", data: { labels: cmp.suites.map((s) => s.suite), datasets: cmp.runs.map((r, i) => ({ label: `${r.model} · ${r.harness} (${i === 0 ? "baseline" : "#" + (i + 1)})`, data: cmp.suites.map((s) => (s.cells[i] ? s.cells[i].score : null)), backgroundColor: PALETTE[i % PALETTE.length] })) }, options: { scales: { y: { min: 0, max: 100 } } } }, seq);
    }
    const tc = cmp.task_changes || { better: [], worse: [] };
    append(result, h("h2", { text: "Per task" }), h("p", { class: "muted small", text: cmp.runs.slice(1).map((r, i) => `#${i + 2} vs baseline: ${tc.better[i] || 0} better, ${tc.worse[i] || 0} worse`).join(" · ") }));
    const onlyDiff = h("input", { type: "checkbox", checked: true });
    append(result, h("label", { class: "inline" }, onlyDiff, "only tasks whose scores differ"));
    const tbody = h("tbody");
    function drawTasks() {
      clear(tbody);
      cmp.tasks.filter((t) => !onlyDiff.checked || t.differs).forEach((t) => append(tbody, h("tr", { "data-task": t.task_id }, h("td", { text: t.suite }), h("td", { class: "mono", text: t.task_id }),
        t.cells.map((c, i) => !c ? h("td", { class: "cell-missing", text: "—" }) : h("td", { class: "num " + (c.error ? "cell-fail" : c.passed ? "cell-pass" : c.score > 0 ? "cell-partial" : "cell-fail") }, link(taskHash(cmp.runs[i].run_id, t.suite, t.task_id), c.error ? "error" : fmt(c.score)))))));
      if (!tbody.firstChild) append(tbody, h("tr", {}, h("td", { colspan: 2 + cmp.runs.length, class: "muted", text: "No task scores differ." })));
    }
    onlyDiff.addEventListener("change", drawTasks);
    drawTasks();
    append(result, h("div", { class: "table-wrap" }, h("table", { class: "compare-tasks" }, h("thead", {}, h("tr", {}, h("th", { text: "suite" }), h("th", { text: "task" }), cmp.runs.map((r, i) => h("th", { text: i === 0 ? "baseline" : `#${i + 1}` })))), tbody)));
  }

  // ------------------------------------------------------------------- models
  async function loadModels(refresh) {
    if (!state.models || refresh) state.models = await api("/api/models" + (refresh ? "?refresh=1" : ""));
    return state.models;
  }
  function modelChoices() {
    const out = [];
    const m = state.models || {};
    (m.embedded || []).forEach((e) => out.push({ provider: "llamacpp", endpoint: "", model: e.model, label: "embedded" }));
    (m.endpoints || []).forEach((e) => (e.models || []).forEach((name) => out.push({ provider: e.provider, endpoint: e.url, model: name, label: e.label })));
    return out;
  }
  function useModel(choice, where) { state.prefill = choice; location.hash = "#/" + where; }
  async function pageModels(_args, seq) {
    append(view, h("h1", { text: "Models" }), h("p", { class: "muted", text: "The embedded engine, and models served on this machine by Ollama (11434), LM Studio (1234), llama-server / vLLM (8000, 8080), Jan (1337) and any endpoint you add." }));
    const holder = h("div", {}, h("p", { class: "muted", text: "Looking for local servers…" }));
    const addUrl = h("input", { type: "url", placeholder: "http://127.0.0.1:8081", "aria-label": "endpoint URL" });
    const addProv = h("select", { "aria-label": "provider" }, h("option", { value: "openai_compat", text: "OpenAI-compatible" }), h("option", { value: "ollama", text: "Ollama" }));
    append(view, h("div", { class: "toolbar" }, h("button", { text: "Refresh", onclick: async () => { await loadModels(true); draw(); } }), h("span", { class: "spacer" }), addUrl, addProv, h("button", { text: "Add endpoint", onclick: async () => {
      try { await api("/api/endpoints", { method: "POST", body: { url: addUrl.value, provider: addProv.value } }); await loadModels(true); draw(); } catch (e) { append(holder, errorBox(e)); }
    } })), holder);
    function actions(choice) {
      return h("span", {}, h("button", { text: "Benchmark", onclick: () => useModel(choice, "benchmark") }), " ", h("button", { text: "Chat", onclick: () => useModel(choice, "chat") }));
    }
    function draw() {
      if (seq !== state.routeSeq) return;
      clear(holder);
      const m = state.models || {};
      if (m.note) append(holder, h("div", { class: "note", text: m.note }));
      append(holder, h("h2", { text: "Embedded (llama.cpp in-process)" }));
      append(holder, h("div", { class: "table-wrap" }, h("table", {}, h("thead", {}, h("tr", {}, ["model", "parameters", "quantization", "state", ""].map((c) => h("th", { text: c })))), h("tbody", {}, (m.embedded || []).map((e) => h("tr", { "data-model": e.model }, h("td", { class: "mono", text: e.model }), h("td", { text: e.parameters || "—" }), h("td", { text: e.quantization || "—" }), h("td", {}, !e.engine ? badge("xllamacpp not installed", "fail") : e.downloaded ? badge("ready", "pass") : badge("downloads on first use", "warn")), h("td", {}, actions({ provider: "llamacpp", endpoint: "", model: e.model }))))))));
      append(holder, h("h2", { text: "Servers" }));
      append(holder, h("div", { class: "table-wrap" }, h("table", {}, h("thead", {}, h("tr", {}, ["server", "URL", "provider", "state", "models"].map((c) => h("th", { text: c })))), h("tbody", {}, (m.endpoints || []).map((e) => h("tr", { "data-endpoint": e.url }, h("td", { text: e.label }), h("td", { class: "mono", text: e.url }), h("td", { text: e.provider }), h("td", {}, e.reachable ? badge(`${e.models.length} model(s)`, "pass") : badge("not running", "cancelled"), e.error && e.reachable ? h("div", { class: "small muted", text: e.error }) : null),
        h("td", {}, (e.models || []).map((name) => h("div", { class: "toolbar" }, h("span", { class: "mono", text: name }), actions({ provider: e.provider, endpoint: e.url, model: name }))))))))));
    }
    try { await loadModels(false); } catch (e) { clear(holder); append(holder, errorBox(e)); return; }
    draw();
  }

  // ---------------------------------------------------------------- benchmark
  function field(label, input) { return h("label", {}, label, input); }
  function providerFields(prefill) {
    const provider = h("select", { name: "provider", "aria-label": "provider" }, ["llamacpp", "ollama", "openai_compat"].map((p) => h("option", { value: p, text: { llamacpp: "embedded (llama.cpp)", ollama: "Ollama", openai_compat: "OpenAI-compatible" }[p] })));
    const endpoint = h("input", { name: "endpoint", type: "url", placeholder: "http://127.0.0.1:11434" });
    const model = h("input", { name: "model", list: "model-choices", placeholder: "smollm2-135m", autocomplete: "off" });
    const key = h("input", { name: "api_key", type: "password", autocomplete: "off", placeholder: "only for a remote endpoint" });
    const dl = h("datalist", { id: "model-choices" });
    function sync() {
      const emb = provider.value === "llamacpp";
      endpoint.disabled = emb;
      key.disabled = emb;
      if (!emb && !endpoint.value) endpoint.value = provider.value === "ollama" ? "http://127.0.0.1:11434" : "http://127.0.0.1:8080";
      clear(dl);
      modelChoices().filter((c) => c.provider === provider.value && (emb || !endpoint.value || c.endpoint === endpoint.value.replace(/\/$/, ""))).forEach((c) => append(dl, h("option", { value: c.model })));
    }
    provider.addEventListener("change", () => { endpoint.value = ""; sync(); });
    endpoint.addEventListener("change", sync);
    const p = prefill || { provider: "llamacpp", endpoint: "", model: "smollm2-135m" };
    provider.value = p.provider; endpoint.value = p.endpoint || ""; model.value = p.model || "";
    sync();
    loadModels(false).then(sync).catch(() => {});
    return { provider, endpoint, model, key, dl, values: () => ({ provider: provider.value, endpoint: provider.value === "llamacpp" ? null : endpoint.value || null, model: model.value.trim(), api_key: key.value || null }) };
  }
  async function pageBenchmark(args, seq) {
    append(view, h("h1", { text: "Benchmark" }));
    const pf = providerFields(state.prefill);
    state.prefill = null;
    const form = h("div", { class: "panel" });
    const progress = h("div", { id: "job" });
    const jobsBox = h("div");
    append(view, form, progress, jobsBox);
    const suites = state.suites || (state.suites = await api("/api/suites"));
    if (seq !== state.routeSeq) return;
    const harness = h("select", { name: "harness", "aria-label": "harness" }, suites.harnesses.map((x) => h("option", { value: x, text: x })));
    const profile = h("select", { name: "profile", "aria-label": "profile" }, h("option", { value: "", text: "full (every task)" }), h("option", { value: "quick", text: "quick" }), h("option", { value: "core", text: "core" }), h("option", { value: "full", text: "full" }));
    const tasks = h("input", { name: "tasks", placeholder: "e.g. rm-001, rm-002 (optional)" });
    const maxTokens = h("input", { name: "max_tokens", type: "number", min: 1, placeholder: "suite default" });
    const suiteBoxes = suites.suites.filter((s) => !s.error).map((s) => h("input", { type: "checkbox", name: "suite", value: s.suite, checked: true }));
    const start = h("button", { class: "primary", text: "Start benchmark", id: "start-benchmark" });
    append(form, pf.dl, h("div", { class: "form" }, field("Provider", pf.provider), field("Endpoint", pf.endpoint), field("Model", pf.model), field("API key (remote only; never stored)", pf.key), field("Harness", harness), field("Profile", profile), field("Task ids", tasks), field("Max tokens per reply", maxTokens)),
      h("h3", { text: "Suites" }), h("div", { class: "checks" }, suites.suites.filter((s) => !s.error).map((s, i) => h("label", { class: "inline" }, suiteBoxes[i], h("span", { text: `${s.suite} (${s.full} tasks; quick ${s.quick}, core ${s.core})` })))),
      h("div", { class: "toolbar" }, h("span", { class: "spacer" }), start));
    start.addEventListener("click", async () => {
      const v = pf.values();
      const body = Object.assign(v, { harness: harness.value, profile: profile.value || null, suites: suiteBoxes.filter((b) => b.checked).map((b) => b.value), tasks: tasks.value.split(/[\s,]+/).filter(Boolean), max_tokens: maxTokens.value ? parseInt(maxTokens.value, 10) : null });
      start.disabled = true;
      try {
        const job = await api("/api/jobs", { method: "POST", body });
        pf.key.value = "";
        location.hash = "#/benchmark/" + encodeURIComponent(job.run_id);
      } catch (e) { clear(progress); append(progress, errorBox(e)); } finally { start.disabled = false; }
    });
    async function drawJobs() {
      const jl = await api("/api/jobs");
      if (seq !== state.routeSeq) return;
      clear(jobsBox);
      if (!jl.jobs.length) return;
      const jrows = jl.jobs.map((j) => h("tr", {},
        h("td", { class: "mono clip" }, link("#/benchmark/" + encodeURIComponent(j.run_id), j.run_id)),
        h("td", { text: j.spec.model }), h("td", {}, badge(j.state)),
        h("td", { class: "num", text: `${j.done}${j.total ? " / " + j.total : ""}` }),
        h("td", { class: "small", text: when(j.started_at) }),
        h("td", {}, j.state === "running" ? null : link(runHash(j.run_id), "open run"))));
      const jhead = h("tr", {}, ["run", "model", "state", "tasks", "started", ""].map((c) => h("th", { text: c })));
      append(jobsBox, h("h2", { text: "Benchmarks started here" }), h("div", { class: "table-wrap" }, h("table", { class: "jobs" }, h("thead", {}, jhead), h("tbody", {}, jrows))));
    }
    if (args[0]) watchJob(args[0], progress, seq, drawJobs);
    await drawJobs();
  }
  function watchJob(runId, box, seq, onEnd) {
    clear(box);
    const bar = h("div");
    const prog = h("div", { class: "progress" }, bar);
    const counter = h("span", { class: "counter", text: "starting…" });
    const stateBadge = h("span", { class: "job-state" }, badge("running"));
    const cancel = h("button", { class: "danger", text: "Cancel", onclick: async () => { cancel.disabled = true; try { await api(`/api/jobs/${encodeURIComponent(runId)}/cancel`, { method: "POST" }); } catch (e) { append(box, errorBox(e)); } } });
    const message = h("div", { class: "job-message" });
    const logBody = h("tbody");
    append(box, h("div", { class: "panel", "data-job": runId }, h("div", { class: "toolbar" }, h("strong", { text: "Run " }), h("span", { class: "mono", text: runId }), stateBadge, h("span", { class: "spacer" }), counter, cancel), prog, message,
      h("div", { class: "tasklog table-wrap" }, h("table", {}, h("thead", {}, h("tr", {}, ["suite", "task", "score", "verdict", "latency ms", "tokens"].map((c) => h("th", { text: c })))), logBody))));
    let total = null, done = 0;
    function paint() {
      counter.textContent = total ? `${done} / ${total} tasks` : `${done} tasks`;
      bar.style.width = total ? `${Math.min(100, (100 * done) / total)}%` : (done ? "50%" : "3%");
    }
    const es = new EventSource(`/api/jobs/${encodeURIComponent(runId)}/events`);
    state.es = es;
    es.addEventListener("start", (e) => { const d = JSON.parse(e.data); total = d.total; done = 0; clear(logBody); paint(); });
    es.addEventListener("task", (e) => {
      const t = JSON.parse(e.data);
      done += 1;
      append(logBody, h("tr", { "data-task": t.task_id }, h("td", { text: t.suite }), h("td", { class: "mono" }, link(taskHash(runId, t.suite, t.task_id), t.task_id)), h("td", { class: "num", text: fmt(t.score) }), h("td", {}, t.error ? badge("error", "broken") : badge(t.passed ? "pass" : "fail")), h("td", { class: "num", text: fmt(t.latency_ms, 0) }), h("td", { class: "num", text: t.completion_tokens ?? "—" })));
      paint();
    });
    es.addEventListener("end", (e) => {
      const d = JSON.parse(e.data);
      es.close();
      total = total || d.done;
      done = d.done;
      paint();
      clear(stateBadge); append(stateBadge, badge(d.state));
      prog.classList.add(d.state === "complete" ? "done" : "failed");
      bar.style.width = "100%";
      cancel.disabled = true;
      clear(message);
      append(message, h("p", {}, h("span", { text: d.message || "" }), " ", d.state === "failed" ? null : link(runHash(runId), "Open the run ›", "open-run")));
      if (d.state === "failed") append(message, h("div", { class: "error", text: d.message || "the benchmark failed to start" }));
      if (onEnd) onEnd().catch(() => {});
    });
    es.onerror = () => { if (es.readyState === EventSource.CLOSED && seq === state.routeSeq) { clear(message); append(message, h("div", { class: "error", text: "Lost the progress stream; reload to reconnect." })); } };
  }

  // --------------------------------------------------------------------- chat
  async function pageChat(_args, seq) {
    append(view, h("h1", { text: "Chat" }), h("p", { class: "muted", text: "Talk to any model BenchLoop can reach. Replies stream in and are shown as plain text." }));
    const pf = providerFields(state.prefill);
    state.prefill = null;
    const temp = h("input", { type: "number", step: "0.1", min: 0, max: 2, value: "0.7", "aria-label": "temperature" });
    const maxTok = h("input", { type: "number", min: 1, max: 16384, value: "512", "aria-label": "max tokens" });
    const system = h("textarea", { placeholder: "System prompt (optional)", rows: 2 });
    const log = h("div", { class: "chat-log", id: "chat-log" });
    const input = h("textarea", { placeholder: "Message… (Ctrl+Enter to send)", rows: 3, id: "chat-input" });
    const send = h("button", { class: "primary", text: "Send", id: "chat-send" });
    const stop = h("button", { text: "Stop", disabled: true });
    const history = [];
    append(view, h("div", { class: "panel" }, pf.dl, h("div", { class: "form" }, field("Provider", pf.provider), field("Endpoint", pf.endpoint), field("Model", pf.model), field("API key (remote only; never stored)", pf.key), field("Temperature", temp), field("Max tokens", maxTok)), h("div", { class: "toolbar" }, system)),
      h("div", { class: "panel" }, log, input, h("div", { class: "toolbar" }, h("button", { text: "Clear", onclick: () => { history.length = 0; clear(log); } }), h("span", { class: "spacer" }), stop, send)));
    function bubble(role, text) {
      const body = h("div", { class: "body", text: text || "" });
      const el = h("div", { class: "msg " + role }, h("div", { class: "role", text: role }), body);
      append(log, el);
      log.scrollTop = log.scrollHeight;
      return { el, body };
    }
    async function doSend() {
      const text = input.value.trim();
      const v = pf.values();
      if (!text || !v.model) return;
      input.value = "";
      history.push({ role: "user", content: text });
      bubble("user", text);
      const b = bubble("assistant", "");
      const reasoning = h("details", {}, h("summary", { text: "reasoning" }), h("div", { class: "small" }));
      let reasoningText = "";
      const stats = h("div", { class: "stats" });
      append(b.el, stats);
      send.disabled = true; stop.disabled = false;
      const ctl = new AbortController();
      state.chatAbort = ctl;
      stop.onclick = () => ctl.abort();
      const msgs = (system.value.trim() ? [{ role: "system", content: system.value.trim() }] : []).concat(history);
      let content = "";
      try {
        await postStream("/api/chat", Object.assign(v, { messages: msgs, temperature: parseFloat(temp.value || "0.7"), max_tokens: parseInt(maxTok.value || "512", 10) }), (ev, d) => {
          if (ev === "status") stats.textContent = d.message || "";
          else if (ev === "delta") {
            if (d.content) { content += d.content; b.body.textContent = content; }
            if (d.reasoning) { reasoningText += d.reasoning; reasoning.lastChild.textContent = reasoningText; if (!reasoning.isConnected) b.el.insertBefore(reasoning, b.body); }
            log.scrollTop = log.scrollHeight;
          } else if (ev === "done") {
            content = d.content || "";
            b.body.textContent = content;
            if (d.reasoning) { reasoning.lastChild.textContent = d.reasoning; if (!reasoning.isConnected) b.el.insertBefore(reasoning, b.body); }
            stats.textContent = [d.ttft_ms !== null ? `TTFT ${fmt(d.ttft_ms, 0)} ms` : null, d.decode_tok_s ? `${fmt(d.decode_tok_s)} tok/s` : null, d.completion_tokens ? `${d.completion_tokens} tokens (${d.token_source})` : null, d.finish_reason ? `finish ${d.finish_reason}` : null].filter(Boolean).join(" · ");
          } else if (ev === "error") {
            append(b.el, h("div", { class: "error", text: d.message || "error" }));
          }
        }, ctl.signal);
      } catch (e) {
        if (e.name !== "AbortError") append(b.el, errorBox(e));
      } finally {
        send.disabled = false; stop.disabled = true; state.chatAbort = null;
      }
      if (content) history.push({ role: "assistant", content });
    }
    send.addEventListener("click", doSend);
    input.addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) doSend(); });
  }

  // ---------------------------------------------------------------------- go
  document.getElementById("version").textContent = BOOT.version ? "v" + BOOT.version : "";
  route();
})();
