/* BenchLoop dashboard: the router. The pages live in board.js, runs.js, task.js and
 * bench.js; the shared helpers in core.js (see its header for the rules every file keeps). */
"use strict";
(function () {
  const BL = window.BL;
  const { h, append, clear, fmt, ci, short, when, badge, link, runHash, taskHash, errorBox, json, textBlock, api, postStream, chartReady, PALETTE, destroyCharts, chartBox, drawChart, state, view, BOOT, TOKEN } = BL;
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
    const tab = { run: "runs", task: "runs", model: "leaderboard", sweep: "sweeps" }[name] || name;
    setTab(tab);
    clear(view);
    const page = BL.pages[name] || BL.pages.leaderboard;
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

  BL.route = route;
  // ---------------------------------------------------------------------- go
  document.getElementById("version").textContent = BOOT.version ? "v" + BOOT.version : "";
  route();
})();
