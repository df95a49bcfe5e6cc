"use strict";
(function () {
  const BL = window.BL;
  const { h, append, clear, fmt, ci, when, badge, link, runHash, errorBox, api, state, view, BOOT } = BL;
  const MARKS = { best: "★ best", tied: "≈ tied", worse: "worse", untested: "untested", "no result": "no result" };
  const sweepHash = (id) => "#/sweep/" + encodeURIComponent(id);
  const axesText = (axes) => Object.entries(axes || {}).map(([k, v]) => `${k}: ${(v || []).join(", ")}`).join(" · ");
  // ------------------------------------------------------------------- list
  async function pageSweeps(_args, seq) {
    append(view, h("h1", { text: "Sweeps" }), h("p", { class: "muted lede" }, "Every combination of models × harnesses (× endpoints…), each cell an ordinary run, and one answer: which to pick, how sure that is, what it costs in speed. Start one on the ", link("#/benchmark", "Benchmark"), " tab or with ", h("code", { text: "benchloop sweep" }), "."));
    const data = await api("/api/sweeps");
    if (seq !== state.routeSeq) return;
    if (!data.sweeps.length) { append(view, h("div", { class: "panel empty", text: "No sweeps yet." })); return; }
    const rows = data.sweeps.map((s) => h("tr", { "data-sweep": s.sweep_id },
      h("td", { class: "mono clip" }, link(sweepHash(s.sweep_id), s.sweep_id)),
      h("td", {}, badge(s.running ? "running" : s.status)),
      h("td", { class: "num", text: `${s.complete} / ${s.cells}` }),
      h("td", { class: "clip", title: axesText(s.axes), text: axesText(s.axes) }),
      h("td", { class: "clip", text: s.best || "—" }),
      h("td", { class: "small nowrap", text: when(s.created_at) })));
    append(view, h("div", { class: "table-wrap" }, h("table", { class: "sweeps" }, h("thead", {}, h("tr", {}, ["sweep", "status", "cells done", "axes", "best", "started"].map((c) => h("th", { text: c })))), h("tbody", {}, rows))));
  }
  // ------------------------------------------------------------------ one sweep
  function heat(q) { return q === null || q === undefined ? "heat-none" : "heat-" + Math.max(0, Math.min(10, Math.round(q / 10))); }
  function cellBox(c, unfinished) {
    const mark = c.mark === "best" || c.mark === "tied" || c.mark === "worse" ? c.mark : null;
    const body = [
      h("div", { class: "hm-q" }, h("span", { class: "hm-label", text: "Q " }), h("span", { text: fmt(c.quality) }), mark === "best" ? h("span", { class: "hm-star", title: "best", text: " ★" }) : mark === "tied" ? h("span", { class: "hm-tie", title: "tied with the best", text: " ≈" }) : null),
      h("div", { class: "hm-ci small", text: ci(c.quality_ci95) || "" }),
      h("div", { class: "small", text: `overall ${fmt(c.overall)}` }),
      h("div", { class: "small", text: c.decode_tok_s === null || c.decode_tok_s === undefined ? "— tok/s" : `${fmt(c.decode_tok_s)} tok/s` }),
      h("div", { class: "hm-mark small" }, unfinished ? badge(c.status || "pending") : h("span", { text: (MARKS[c.mark] || c.mark || "") + (c.p_holm !== null && c.p_holm !== undefined && c.mark !== "best" ? (c.p_holm < 0.001 ? " p<0.001" : ` p=${fmt(c.p_holm, 3)}`) : "") + (c.n ? ` · n ${c.n}` : "") })),
    ];
    const attrs = { class: "hm-cell " + heat(c.quality) + (mark ? " mark-" + mark : "") + (unfinished ? " unfinished" : ""), "data-cell": c.name, title: c.name };
    if (c.run_id && c.run_exists) return h("a", Object.assign(attrs, { href: runHash(c.run_id) }), body);
    return h("div", attrs, body);
  }
  async function pageSweep(args, seq) {
    const id = args[0] || "";
    const top = h("div"), holder = h("div");
    append(view, h("p", { class: "small" }, link("#/sweeps", "‹ Sweeps")), top, holder);
    let timer = null;
    async function draw() {
      const s = await api("/api/sweeps/" + encodeURIComponent(id));
      if (seq !== state.routeSeq) return;
      clear(top); clear(holder);
      const live = !!s.running || s.status === "running";
      append(top, h("h1", {}, h("span", { class: "mono", text: s.sweep_id }), " ", badge(s.running ? "running" : s.status)));
      const settings = s.settings || {};
      const facts = [["axes", axesText(s.axes)], ["suites", s.suites || "all"], ["profile", settings.profile], ["provider", settings.provider], ["endpoint", settings.endpoint], ["started", when(s.created_at)], ["finished", s.finished_at ? when(s.finished_at) : null], ["benchloop", s.benchloop_version]];
      append(top, h("div", { class: "panel facts" }, facts.filter(([, v]) => v).map(([k, v]) => h("div", {}, h("span", { class: "k", text: k }), h("span", { class: "v", title: String(v), text: String(v) })))));
      if (s.running && BOOT.control !== false) {
        const cancel = h("button", { class: "danger", text: "Cancel sweep", onclick: async () => { cancel.disabled = true; try { await api(`/api/jobs/${encodeURIComponent(s.sweep_id)}/cancel`, { method: "POST" }); } catch (e) { append(top, errorBox(e)); } } });
        append(top, h("div", { class: "toolbar" }, h("span", { class: "muted", text: "This sweep is running; the matrix fills in as cells finish." }), h("span", { class: "spacer" }), cancel));
      }
      const r = s.result;
      if (!r) {
        const failed = s.job && s.job.state === "failed";
        append(holder, h("div", { class: failed ? "error" : "note", text: failed ? (s.job.message || "the sweep failed to start") : s.running ? "Starting: the endpoints are being checked…" : "No answer yet: no cell has a run." }));
        if (live) timer = setTimeout(() => { if (seq === state.routeSeq) draw().catch((e) => append(holder, errorBox(e))); }, 1000);
        return;
      }
      append(holder, h("div", { class: "panel sentence", id: "sweep-sentence", text: r.sentence || "" }));
      const byKey = new Map(r.cells.map((c) => [c.row + "\u0000" + c.col, c]));
      const thead = h("tr", {}, h("th", { class: "hm-corner", text: `${r.rows || ""} \\ ${r.cols || ""}` }), r.col_values.map((v) => h("th", { text: v })));
      const tbody = h("tbody", {}, r.row_values.map((rv) => h("tr", {}, h("th", { class: "hm-row", scope: "row", text: rv }), r.col_values.map((cv) => {
        const c = byKey.get(rv + "\u0000" + cv);
        return h("td", {}, c ? cellBox(c, c.status !== "complete") : h("div", { class: "hm-cell heat-none", text: "—" }));
      }))));
      append(holder, h("h2", { text: "Matrix" }), h("div", { class: "table-wrap heatmap-wrap" }, h("table", { class: "heatmap" }, h("thead", {}, thead), tbody)),
        h("p", { class: "small muted legend" }, "Colour: quality (0–100). ★ the best complete cell; ≈ cells it cannot be told from (", r.test || "paired tests", ", α ", String(r.alpha ?? 0.05), "). Click a cell to open its run."));
      const open = (s.cells || []).filter((c) => c.status !== "complete");
      if (open.length) {
        append(holder, h("h2", { text: `Unfinished cells (${open.length} of ${s.cells.length})` }), h("div", { class: "table-wrap" }, h("table", { class: "unfinished" }, h("thead", {}, h("tr", {}, ["cell", "status", "run", "attempts"].map((c) => h("th", { text: c })))),
          h("tbody", {}, open.map((c) => h("tr", { "data-cell": c.name }, h("td", { text: c.name }), h("td", {}, badge(c.status || "pending")), h("td", { class: "mono clip" }, c.run_id && c.run_exists ? link(runHash(c.run_id), c.run_id) : h("span", { class: "muted", text: c.run_id || "not started" })), h("td", { class: "num", text: (c.attempts || []).length })))))));
        if (!s.running) append(holder, h("p", { class: "small muted" }, "Finish them with ", h("code", { text: `benchloop sweep --resume ${s.sweep_id}` }), "."));
      }
      if (live) timer = setTimeout(() => { if (seq === state.routeSeq) draw().catch((e) => append(holder, errorBox(e))); }, 2000);
    }
    await draw();
    void timer;
  }
  Object.assign(BL.pages, { sweeps: pageSweeps, sweep: pageSweep });
})();
