"use strict";
(function () {
  const BL = window.BL;
  const { h, append, clear, fmt, ci, short, when, badge, link, runHash, taskHash, errorBox, json, textBlock, api, postStream, chartReady, PALETTE, destroyCharts, chartBox, drawChart, state, view, BOOT, TOKEN } = BL;
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
  // what a turn said and did, without its timings: equal signatures are repeats
  function turnSig(t) {
    if (!t || typeof t !== "object") return json(t);
    const calls = (t.tool_calls || t.calls || []).map((c) => [c && (c.name || (c.function || {}).name), c && (c.arguments ?? (c.function || {}).arguments), c && c.result]);
    return json([t.content ?? t.output ?? t.text ?? "", t.reasoning || "", calls, t.error || ""]);
  }
  function traceView(turns) {
    const wrap = h("div", { class: "trace" });
    let i = 0;
    while (i < turns.length) {
      let j = i + 1;
      while (j < turns.length && turnSig(turns[j]) === turnSig(turns[i])) j++;
      append(wrap, turnCard(turns[i], i));
      if (j - i > 1) {
        const more = h("details", { class: "repeats" }, h("summary", { text: `${j - i - 1} more identical turn${j - i - 1 === 1 ? "" : "s"} (turns ${i + 2}–${j})` }));
        for (let k = i + 1; k < j; k++) append(more, turnCard(turns[k], k));
        append(wrap, more);
      }
      i = j;
    }
    return wrap;
  }
  function turnCard(t, i) {
    const wrap = h("div");
    {
      if (!t || typeof t !== "object") return h("div", { class: "turn" }, textBlock(json(t)));
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
    }
    return wrap.firstChild;
  }
  async function pageTask(args, seq) {
    const [id, suite, taskId] = args;
    const data = await api(`/api/runs/${encodeURIComponent(id)}/tasks/${encodeURIComponent(suite)}/${encodeURIComponent(taskId)}`);
    if (seq !== state.routeSeq) return;
    const t = data.task;
    append(view, h("div", { class: "toolbar" }, link(runHash(id), "‹ Run " + short(id, 48))));
    append(view, h("h1", {}, h("span", { class: "mono", text: `${t.suite} / ${t.task_id}` }), " ", BL.verdict(Object.assign({ kind: t.error ? "error" : t.skipped ? "skipped" : t.passed ? "pass" : t.score ? "partial" : "wrong" }, t))));
    append(view, h("p", { class: "muted" }, h("span", { text: `${data.model || "?"} · harness ${data.harness || "?"}` })));
    append(view, h("div", { class: "cards" },
      [["score", t.skipped ? "skipped" : fmt(t.score)], ["latency ms", fmt(t.latency_ms, 0)], ["TTFT ms", fmt(t.ttft_ms, 0)], ["tokens", `${t.completion_tokens ?? "—"}${t.token_source ? " (" + t.token_source + ")" : ""}`], ["finish", t.finish_reason || "—"]].map(([k, v]) => h("div", { class: "card" }, h("div", { class: "label", text: k }), h("div", { class: "value", text: v })))));
    if (t.reason) append(view, h("div", { class: "info" }, h("strong", { text: "Checker: " }), h("span", { class: "reason", text: t.reason })));
    if (t.error) append(view, h("div", { class: "error", text: t.error }));
    const turns = Array.isArray(t.turns) ? t.turns : [];
    append(view, h("h2", { text: "Prompt" }), h("div", { class: "prompt" }, messageList(t.prompt)));
    if (turns.length) append(view, h("h2", { text: `Agent trace (${turns.length} turns)` }), traceView(turns));
    append(view, h("h2", { text: "Output" }), textBlock(t.output, "task-output"));
    if (t.reasoning) append(view, h("details", { open: true }, h("summary", { text: "Reasoning" }), textBlock(t.reasoning)));
    if (!turns.length && Array.isArray(t.tool_calls) && t.tool_calls.length) append(view, h("h2", { text: "Tool calls" }), t.tool_calls.map(toolCall));
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
        t.cells.map((c, i) => !c ? h("td", { class: "cell-missing", text: "—" }) : h("td", { class: "num cell-" + kindClass(c) }, link(taskHash(cmp.runs[i].run_id, t.suite, t.task_id), cellText(c)))))));
      drawSide();
      if (!tbody.firstChild) append(tbody, h("tr", {}, h("td", { colspan: 2 + cmp.runs.length, class: "muted", text: "No task differs: same scores, same errors." })));
    }
    const side = h("div", { class: "side-by-side" });
    function drawSide() {
      clear(side);
      const shown = cmp.tasks.filter((t) => !onlyDiff.checked || t.differs);
      shown.slice(0, 40).forEach((t) => append(side, h("div", { class: "panel side-task", "data-task": t.task_id }, h("div", { class: "toolbar" }, h("strong", { class: "mono", text: `${t.suite} / ${t.task_id}` })),
        h("div", { class: "side-grid" }, t.cells.map((c, i) => h("div", { class: "side-cell cell-" + (c ? kindClass(c) : "missing") },
          h("div", { class: "small" }, h("strong", { text: i === 0 ? "baseline " : `#${i + 1} ` }), c ? kindBadge(c) : badge("not run", "cancelled"), c && c.kind !== "error" ? h("span", { class: "muted", text: ` score ${fmt(c.score)}` }) : null),
          c && c.kind === "error" ? h("div", { class: "error small", text: c.error_text || "error" }) : null,
          c && c.kind !== "error" ? textBlock(c.output + (c.output_chars > c.output.length ? ` … [${c.output_chars - c.output.length} more characters]` : ""), "side-output") : null,
          c && c.reason && c.kind !== "pass" ? h("div", { class: "muted small reason", text: c.reason }) : null))))));
      if (shown.length > 40) append(side, h("p", { class: "muted small", text: `${shown.length - 40} more tasks: open them from the table above.` }));
    }
    onlyDiff.addEventListener("change", drawTasks);
    append(result, h("div", { class: "table-wrap" }, h("table", { class: "compare-tasks" }, h("thead", {}, h("tr", {}, h("th", { text: "suite" }), h("th", { text: "task" }), cmp.runs.map((r, i) => h("th", { text: i === 0 ? "baseline" : `#${i + 1}` })))), tbody)),
      h("h2", { text: "Outputs side by side" }), h("p", { class: "muted small", text: "An error means no answer came back (provider or harness failure); a wrong answer came back and the checker rejected it." }), side);
    drawTasks();
  }
  function kindClass(c) { return { error: "error", pass: "pass", partial: "partial", wrong: "fail", skipped: "missing" }[c.kind] || (c.error ? "error" : c.passed ? "pass" : c.score > 0 ? "partial" : "fail"); }
  function cellText(c) { return c.kind === "error" || c.error ? "error" : c.kind === "skipped" ? "skipped" : fmt(c.score); }
  function kindBadge(c) { return { error: badge("error: no answer", "broken"), wrong: badge("wrong answer", "fail"), partial: badge("partly right", "warn"), pass: badge("pass"), skipped: badge("skipped", "cancelled") }[c.kind] || badge(c.passed ? "pass" : "fail"); }

  Object.assign(BL.pages, { task: pageTask, compare: pageCompare });
})();
