"use strict";
(function () {
  const BL = window.BL;
  const { h, append, clear, fmt, ci, short, when, badge, link, runHash, taskHash, errorBox, json, textBlock, api, postStream, chartReady, PALETTE, destroyCharts, chartBox, drawChart, state, view, BOOT, TOKEN } = BL;
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
    append(filterBar, h("button", { text: "Clear", onclick: () => { q.filters = {}; q.offset = 0; BL.route(); } }), h("span", { class: "spacer" }), compareBtn);
    const selected = new Set();
    compareBtn.addEventListener("click", () => { location.hash = "#/compare/" + [...selected].map(encodeURIComponent).join(","); });
    const cols = [["", null], ["Model", "model"], ["Overall", "overall"], ["Status", "status"], ["Harness", "harness"], ["Quality", "quality"], ["Speed", "speed"], ["Reliability", "reliability"], ["Provider", "provider"], ["Hardware", "hardware"], ["Profile", "profile"], ["Tasks", "n_tasks"], ["Started", "started_at"], ["Run", "run_id"]];
    async function load() {
      const params = new URLSearchParams({ sort: q.sort, order: q.order, limit: q.limit, offset: q.offset });
      for (const [k, v] of Object.entries(q.filters)) if (v) params.append(k, v);
      const data = await api("/api/runs?" + params.toString());
      if (seq !== state.routeSeq) return;
      clear(tableHolder);
      if (!data.total) {
        const filtered = Object.values(q.filters).some(Boolean);
        append(tableHolder, filtered ? h("div", { class: "panel empty", text: "No runs match these filters." }) : h("div", { class: "panel empty" }, h("p", { text: "No runs yet." }), h("p", {}, "Start one on the ", link("#/benchmark", "Benchmark"), " tab.")));
        return;
      }
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
          h("td", { class: "clip" }, link(runHash(r.run_id), r.model || "—")),
          h("td", { class: "num" }, h("strong", { text: fmt(r.overall) })),
          h("td", {}, badge(r.status), r.error ? h("div", { class: "small muted clip", title: r.error, text: r.error }) : null),
          h("td", { text: r.harness || "—" }), h("td", { class: "num", text: fmt(r.quality) }), h("td", { class: "num", text: fmt(r.speed) }), h("td", { class: "num", text: fmt(r.reliability) }),
          h("td", { text: r.provider || "—" }), h("td", { class: "clip", text: r.hardware || "—" }), h("td", { text: r.profile || "—" }),
          h("td", { class: "num", text: r.n_tasks === null ? "—" : r.n_tasks }), h("td", { class: "small nowrap", text: when(r.started_at) }),
          h("td", { class: "mono clip" }, link(runHash(r.run_id), r.run_id))));
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
  // error bars drawn on the canvas: an interval is a thin whisker, never a bar that could read as the score
  const whiskers = {
    id: "whiskers",
    afterDatasetsDraw(chart) {
      const ds = chart.data.datasets[0];
      const meta = chart.getDatasetMeta(0);
      const y = chart.scales.y;
      const ctx = chart.ctx;
      ctx.save();
      ctx.strokeStyle = "#7c2d12";
      ctx.lineWidth = 1.5;
      (ds.intervals || []).forEach((iv, i) => {
        const bar = meta.data[i];
        if (!iv || !bar) return;
        const x = bar.x, lo = y.getPixelForValue(iv[0]), hi = y.getPixelForValue(iv[1]);
        ctx.beginPath(); ctx.moveTo(x, lo); ctx.lineTo(x, hi); ctx.moveTo(x - 6, lo); ctx.lineTo(x + 6, lo); ctx.moveTo(x - 6, hi); ctx.lineTo(x + 6, hi); ctx.stroke();
      });
      ctx.fillStyle = "#1d2430"; ctx.font = "bold 12px system-ui, sans-serif"; ctx.textAlign = "center";
      ds.data.forEach((v, i) => { const bar = meta.data[i]; if (bar && v !== null) ctx.fillText(fmt(v), bar.x + (ds.intervals && ds.intervals[i] ? 16 : 0), Math.min(bar.y, y.getPixelForValue(0)) - 4); });
      ctx.restore();
    },
  };
  function suiteChart(run, seq) {
    const suites = Object.entries((run.scores || {}).suites || {}).filter(([, v]) => v && v.score !== null && v.score !== undefined);
    if (!suites.length) return null;
    const { box, canvas } = chartBox();
    drawChart(canvas, {
      type: "bar",
      data: { labels: suites.map(([k]) => k), datasets: [{ label: "score (the line is its 95% interval)", data: suites.map(([, v]) => v.score), intervals: suites.map(([, v]) => (Array.isArray(v.ci95) && v.ci95[0] !== null ? v.ci95 : null)), backgroundColor: "rgba(37,99,235,.8)", maxBarThickness: 70 }] },
      options: { layout: { padding: { top: 18 } }, scales: { y: { min: 0, max: 100, title: { display: true, text: "score (0–100)" } } } },
      plugins: [whiskers],
    }, seq);
    return box;
  }
  function speedCharts(run, seq) {
    const out = [];
    const sc = Object.entries(((run.speed || {}).scenarios) || {}).filter(([, v]) => v && typeof v === "object").sort((a, b) => (a[1].prompt_tokens || 0) - (b[1].prompt_tokens || 0));
    if (sc.length) {
      const byLen = sc.every(([, v]) => typeof v.prompt_tokens === "number");
      const { box, canvas } = chartBox();
      const pts = (key) => sc.map(([n, v]) => (byLen ? { x: v.prompt_tokens, y: v[key] ?? null, name: n } : v[key] ?? null));
      drawChart(canvas, {
        type: "line",
        data: { labels: byLen ? undefined : sc.map(([n]) => n), datasets: [
          { label: "decode tok/s", data: pts("decode_tok_s"), borderColor: PALETTE[0], backgroundColor: PALETTE[0], yAxisID: "y", pointRadius: 5 },
          { label: "prefill tok/s", data: pts("prefill_tok_s"), borderColor: PALETTE[1], backgroundColor: PALETTE[1], yAxisID: "y1", pointStyle: "triangle", pointRadius: 6, borderDash: [5, 4] }] },
        options: { plugins: { tooltip: { callbacks: { title: (items) => (items[0] && items[0].raw && items[0].raw.name) || (items[0] && items[0].label) || "" } } },
          scales: { x: byLen ? { type: "logarithmic", title: { display: true, text: "prompt length (tokens)" } } : { title: { display: true, text: "scenario" } }, y: { beginAtZero: true, title: { display: true, text: "decode tok/s" } }, y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false }, title: { display: true, text: "prefill tok/s" } } } },
      }, seq);
      out.push(["Decode and prefill speed against prompt length", box]);
    }
    const conc = (run.speed || {}).concurrency;
    const levels = conc && Array.isArray(conc.levels) ? conc.levels.filter((l) => l && typeof l.concurrency === "number") : [];
    if (levels.length) {
      const { box, canvas } = chartBox();
      drawChart(canvas, {
        type: "line",
        data: { labels: levels.map((l) => String(l.concurrency)), datasets: [
          { label: "aggregate tok/s", data: levels.map((l) => l.aggregate_tok_s ?? null), borderColor: PALETTE[2], backgroundColor: PALETTE[2], yAxisID: "y", pointRadius: 5 },
          { label: "per-stream tok/s", data: levels.map((l) => l.per_stream_tok_s ?? null), borderColor: PALETTE[0], backgroundColor: PALETTE[0], yAxisID: "y", pointStyle: "rect", pointRadius: 5 },
          { label: "TTFT p90 ms", data: levels.map((l) => l.ttft_p90_ms ?? null), borderColor: PALETTE[4], backgroundColor: PALETTE[4], yAxisID: "y1", pointStyle: "triangle", pointRadius: 6, borderDash: [5, 4] }] },
        options: { scales: { x: { title: { display: true, text: "concurrent streams" } }, y: { beginAtZero: true, title: { display: true, text: "tokens / s" } }, y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false }, title: { display: true, text: "TTFT p90 (ms)" } } } },
      }, seq);
      out.push(["Concurrency sweep", box]);
    }
    return out;
  }
  function verdict(t) {
    const kind = t.kind || (t.error ? "error" : t.skipped ? "skipped" : t.passed ? "pass" : "fail");
    return { error: badge("error", "broken"), skipped: badge("skipped", "cancelled"), pass: badge("pass"), partial: badge("partial", "warn"), wrong: badge("fail"), fail: badge("fail") }[kind] || badge(kind);
  }
  BL.verdict = verdict;
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
    speedCharts(run, seq).forEach(([title, box]) => append(charts, h("div", { class: "grow panel speed-chart" }, h("h3", { text: title }), box)));
    append(view, charts);
    const suites = Object.entries(sc.suites || {});
    if (suites.length) {
      append(view, h("h2", { text: "Suites" }), h("div", { class: "table-wrap" }, h("table", {}, h("thead", {}, h("tr", {}, ["suite", "score", "n", "95% CI", "passed", "errors"].map((c) => h("th", { text: c })))), h("tbody", {}, suites.map(([name, v]) => h("tr", {}, h("td", { text: name }), h("td", { class: "num", text: fmt(v.score) }), h("td", { class: "num", text: v.n }), h("td", { text: ci(v.ci95) }), h("td", { class: "num", text: v.passed ?? "—" }), h("td", { class: "num", text: v.errors ?? "—" })))))));
    }
    const all = run.tasks || [];
    append(view, h("h2", { text: `Tasks (${all.length})` }));
    const f = { kind: "", q: "" };
    const search = h("input", { type: "search", placeholder: "Search task id, output, reason…", "aria-label": "search tasks", class: "task-search" });
    const kinds = h("select", { "aria-label": "show", "data-filter": "kind" }, h("option", { value: "", text: "all tasks" }), h("option", { value: "failures", text: `failures only (${all.filter((t) => t.kind === "wrong" || t.kind === "partial" || t.kind === "error").length})` }), h("option", { value: "errors", text: `errors only (${all.filter((t) => t.kind === "error").length})` }));
    const count = h("span", { class: "muted small task-count" });
    const tbody = h("tbody");
    const colsT = ["task", "verdict", "score", "suite", "latency ms", "TTFT ms", "tokens", "finish", "turns", "output"];
    function drawTasks() {
      clear(tbody);
      const words = f.q.toLowerCase().split(/\s+/).filter(Boolean);
      const shown = all.filter((t) => (f.kind !== "failures" || ["wrong", "partial", "error"].includes(t.kind)) && (f.kind !== "errors" || t.kind === "error") && (!words.length || words.every((w) => [t.task_id, t.suite, t.output_preview, t.reason, t.error].join(" ").toLowerCase().includes(w))));
      count.textContent = `${shown.length} of ${all.length}`;
      shown.forEach((t) => append(tbody, h("tr", { "data-task": t.task_id, "data-kind": t.kind || "" },
        h("td", { class: "mono" }, link(taskHash(id, t.suite, t.task_id), t.task_id)), h("td", {}, verdict(t)),
        h("td", { class: "num", text: t.kind === "skipped" ? "—" : fmt(t.score) }), h("td", { text: t.suite }),
        h("td", { class: "num", text: fmt(t.latency_ms, 0) }), h("td", { class: "num", text: fmt(t.ttft_ms, 0) }), h("td", { class: "num", text: t.completion_tokens ?? "—" }), h("td", { text: t.finish_reason || "—" }), h("td", { class: "num", text: t.n_turns || "" }),
        h("td", { class: "clip output-preview", title: t.reason || "", text: t.error ? t.error : t.kind === "skipped" ? (t.reason || "skipped") : t.output_preview }))));
      if (!shown.length) append(tbody, h("tr", {}, h("td", { colspan: colsT.length, class: "muted", text: "No task matches." })));
    }
    search.addEventListener("input", () => { f.q = search.value; drawTasks(); });
    kinds.addEventListener("change", () => { f.kind = kinds.value; drawTasks(); });
    append(view, h("div", { class: "toolbar" }, kinds, search, count), h("div", { class: "table-wrap" }, h("table", { class: "tasks" }, h("thead", {}, h("tr", {}, colsT.map((c) => h("th", { text: c })))), tbody)));
    drawTasks();
  }

  Object.assign(BL.pages, { runs: pageRuns, run: pageRun });
})();
