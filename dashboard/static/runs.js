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

  Object.assign(BL.pages, { runs: pageRuns, run: pageRun });
})();
