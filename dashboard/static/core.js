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
  const BL = window.BL = { pages: {} };

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
  const PALETTE = ["#2563eb", "#f97316", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#ca8a04", "#db2777", "#4b5563", "#65a30d"];
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

  Object.assign(BL, { h, append, clear, fmt, ci, short, when, badge, link, runHash, taskHash, errorBox, json, textBlock, api, postStream, chartReady, PALETTE, destroyCharts, chartBox, drawChart, state, view, BOOT, TOKEN });
})();
