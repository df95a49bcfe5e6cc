"use strict";
(function () {
  const BL = window.BL;
  const { h, append, clear, fmt, ci, short, when, badge, link, runHash, taskHash, errorBox, json, textBlock, api, postStream, chartReady, PALETTE, destroyCharts, chartBox, drawChart, state, view, BOOT, TOKEN } = BL;
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

  Object.assign(BL.pages, { leaderboard: pageLeaderboard });
})();
