"use strict";
(function () {
  const BL = window.BL;
  const { h, append, clear, fmt, ci, short, when, badge, link, runHash, taskHash, errorBox, json, textBlock, api, postStream, chartReady, PALETTE, destroyCharts, chartBox, drawChart, state, view, BOOT, TOKEN } = BL;
  // the providers, profiles and harnesses every form offers: benchloop.catalog's, put in
  // the page by the server (pages.py, bench_api.catalog_payload); never typed out here
  const CATALOG = Object.assign({ providers: [], profiles: [], harnesses: [] }, BOOT.catalog);
  const providerOf = (name) => CATALOG.providers.find((p) => p.name === name) || { name, label: name, endpoint: null };
  const EVERY = CATALOG.profiles[CATALOG.profiles.length - 1]; // profiles go smallest first; the last is every task
  const hasEndpoint = (name) => providerOf(name).endpoint !== null; // else the model runs in-process (embedded)
  // a provider <select> in the catalog's order; a form for adding a server leads with its
  // default (`first`), then the providers that take a URL, the embedded one last
  function providerSelect(attrs, opts) {
    const { first, urlOnly } = opts || {};
    let list = CATALOG.providers.filter((p) => !urlOnly || p.endpoint !== null);
    if (first) list = list.slice().sort((a, b) => (a.endpoint === null) - (b.endpoint === null) || (b.name === first) - (a.name === first));
    return h("select", attrs, list.map((p) => h("option", { value: p.name, text: p.label })));
  }
  // ------------------------------------------------------------------- models
  async function loadModels(refresh) {
    if (!state.models || refresh) state.models = await api("/api/models" + (refresh ? "?refresh=1" : ""));
    return state.models;
  }
  function modelChoices() {
    const out = [];
    const m = state.models || {};
    (m.embedded || []).forEach((e) => out.push({ provider: e.provider, endpoint: "", model: e.model, label: "embedded" }));
    (m.endpoints || []).forEach((e) => (e.models || []).forEach((name) => out.push({ provider: e.provider, endpoint: e.url, model: name, label: e.label })));
    return out;
  }
  function useModel(choice, where) { state.prefill = choice; location.hash = "#/" + where; }
  async function pageModels(_args, seq) {
    append(view, h("h1", { text: "Models" }), h("p", { class: "muted", text: "The embedded engine, and models served on this machine by Ollama (11434), LM Studio (1234), llama-server / vLLM (8000, 8080), Jan (1337) and any endpoint you add." }));
    const holder = h("div", {}, h("p", { class: "muted", text: "Looking for local servers…" }));
    const addUrl = h("input", { type: "url", placeholder: "http://127.0.0.1:8081", "aria-label": "endpoint URL" });
    const addProv = providerSelect({ "aria-label": "provider" }, { first: "openai_compat", urlOnly: true });
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
      append(holder, h("div", { class: "table-wrap" }, h("table", {}, h("thead", {}, h("tr", {}, ["model", "parameters", "quantization", "state", ""].map((c) => h("th", { text: c })))), h("tbody", {}, (m.embedded || []).map((e) => h("tr", { "data-model": e.model }, h("td", { class: "mono", text: e.model }), h("td", { text: e.parameters || "—" }), h("td", { text: e.quantization || "—" }), h("td", {}, !e.engine ? badge("xllamacpp not installed", "fail") : e.downloaded ? badge("ready", "pass") : badge("downloads on first use", "warn")), h("td", {}, actions({ provider: e.provider, endpoint: "", model: e.model }))))))));
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
    const provider = providerSelect({ name: "provider", "aria-label": "provider" });
    const endpoint = h("input", { name: "endpoint", type: "url", placeholder: "http://127.0.0.1:11434" });
    const model = h("input", { name: "model", list: "model-choices", placeholder: "smollm2-135m", autocomplete: "off" });
    const key = h("input", { name: "api_key", type: "password", autocomplete: "off", placeholder: "only for a remote endpoint" });
    const dl = h("datalist", { id: "model-choices" });
    function sync() {
      const emb = !hasEndpoint(provider.value);
      endpoint.disabled = emb;
      key.disabled = emb;
      if (!emb && !endpoint.value) endpoint.value = providerOf(provider.value).endpoint;
      clear(dl);
      modelChoices().filter((c) => c.provider === provider.value && (emb || !endpoint.value || c.endpoint === endpoint.value.replace(/\/$/, ""))).forEach((c) => append(dl, h("option", { value: c.model })));
    }
    provider.addEventListener("change", () => { endpoint.value = ""; sync(); });
    endpoint.addEventListener("change", sync);
    const p = prefill || { provider: "llamacpp", endpoint: "", model: "smollm2-135m" };
    provider.value = p.provider; endpoint.value = p.endpoint || ""; model.value = p.model || "";
    sync();
    loadModels(false).then(sync).catch(() => {});
    return { provider, endpoint, model, key, dl, values: () => ({ provider: provider.value, endpoint: hasEndpoint(provider.value) ? endpoint.value || null : null, model: model.value.trim(), api_key: key.value || null }) };
  }
  // the form's last values (never the key): restored after Start, a reload or a restart
  const FORM_KEY = "benchloop.benchmark-form";
  function savedForm() { try { return JSON.parse(localStorage.getItem(FORM_KEY) || "null") || {}; } catch (e) { return {}; } }
  function saveForm(v) { try { const c = Object.assign({}, v); delete c.api_key; localStorage.setItem(FORM_KEY, JSON.stringify(c)); } catch (e) { /* storage off */ } }
  function duration(s) { if (s === null || s === undefined) return "unknown"; if (s < 90) return `about ${Math.max(5, Math.round(s / 5) * 5)} s`; if (s < 5400) return `about ${Math.round(s / 60)} min`; return `about ${(s / 3600).toFixed(1)} h`; }
  async function pageBenchmark(args, seq) {
    append(view, h("h1", { text: "Benchmark" }));
    const saved = savedForm();
    const pf = providerFields(state.prefill || (saved.provider ? { provider: saved.provider, endpoint: saved.endpoint || "", model: saved.model || "" } : null));
    state.prefill = null;
    const form = h("div", { class: "panel bench-form" });
    const progress = h("div", { id: "job" });
    const jobsBox = h("div");
    const sweepBox = h("div");
    append(view, form, progress, sweepBox, jobsBox);
    const suites = state.suites || (state.suites = await api("/api/suites"));
    if (seq !== state.routeSeq) return;
    sweepForm(sweepBox, suites, seq);
    const num = (name, attrs) => h("input", Object.assign({ name, type: "number", placeholder: "default" }, attrs));
    const harness = h("select", { name: "harness", "aria-label": "harness" }, CATALOG.harnesses.map((x) => h("option", { value: x, text: x })));
    const profile = h("select", { name: "profile", "aria-label": "profile" }, h("option", { value: "", text: `${EVERY} (every task)` }), CATALOG.profiles.map((x) => h("option", { value: x, text: x })));
    const tasks = h("input", { name: "tasks", placeholder: "e.g. rm-001, rm-002 (optional)" });
    const maxTokens = num("max_tokens", { min: 1, placeholder: "suite default" });
    const trials = num("trials", { min: 1, max: 50, placeholder: "5 (speed suite)" });
    const concurrency = h("input", { name: "concurrency", placeholder: "e.g. 1,2,4 (speed sweep; off)" });
    const parallel = num("parallel", { min: 0, max: 16, placeholder: "0 (serial)" });
    const timeout = num("timeout", { min: 1, max: 3600, step: "any", placeholder: "120 s" });
    const avail = suites.suites.filter((s) => !s.error);
    const suiteBoxes = avail.map((s) => h("input", { type: "checkbox", name: "suite", value: s.suite, checked: !saved.suites || !saved.suites.length || saved.suites.includes(s.suite) }));
    if (saved.harness) harness.value = saved.harness;
    profile.value = saved.profile || "";
    tasks.value = (saved.tasks || []).join(", ");
    [[maxTokens, "max_tokens"], [trials, "trials"], [concurrency, "concurrency"], [parallel, "parallel"], [timeout, "timeout"]].forEach(([el, k]) => { if (saved[k] !== null && saved[k] !== undefined) el.value = saved[k]; });
    const start = h("button", { class: "primary", text: "Start benchmark", id: "start-benchmark" });
    const plan = h("div", { class: "plan small", id: "bench-plan" });
    const message = h("div", { class: "bench-message" });
    append(form, pf.dl, h("div", { class: "form" }, field("Provider", pf.provider), field("Endpoint", pf.endpoint), field("Model", pf.model), field("API key (remote only; never stored)", pf.key), field("Harness", harness), field("Profile", profile), field("Task ids", tasks), field("Max tokens per reply", maxTokens),
      field("Trials (speed)", trials), field("Concurrency sweep (speed)", concurrency), field("Parallel workers", parallel), field("Timeout per reply (s)", timeout)),
      h("h3", { text: "Suites" }), h("div", { class: "checks" }, avail.map((s, i) => h("label", { class: "inline" }, suiteBoxes[i], h("span", { text: `${s.suite} (${s[EVERY]} tasks; ${CATALOG.profiles.filter((x) => x !== EVERY).map((x) => `${x} ${s[x]}`).join(", ")})` })))),
      message, h("div", { class: "toolbar" }, plan, h("span", { class: "spacer" }), start));
    const int = (el) => (el.value === "" ? null : parseInt(el.value, 10));
    function body() {
      return Object.assign(pf.values(), { harness: harness.value, profile: profile.value || null, suites: suiteBoxes.filter((b) => b.checked).map((b) => b.value), tasks: tasks.value.split(/[\s,]+/).filter(Boolean),
        max_tokens: int(maxTokens), trials: int(trials), parallel: int(parallel), concurrency: concurrency.value.trim() || null, timeout: timeout.value === "" ? null : parseFloat(timeout.value) });
    }
    let running = null, checkSeq = 0, timer = null;
    function say(text, cls) { clear(message); if (text) append(message, h("div", { class: cls || "error", text })); }
    async function check() {
      const my = ++checkSeq;
      plan.textContent = "checking…";
      try {
        const c = await api("/api/jobs/check", { method: "POST", body: body() });
        if (my !== checkSeq || seq !== state.routeSeq) return;
        plan.textContent = `${c.total ?? "?"} task${c.total === 1 ? "" : "s"} · ${duration(c.estimate_s)} (${c.estimate_basis})`;
        say(c.ok ? "" : c.message, "note");
        running = c.running;
        syncStart();
      } catch (e) { if (my === checkSeq) { plan.textContent = ""; say(e.message || String(e), "note"); } }
    }
    function later() { clearTimeout(timer); timer = setTimeout(check, 350); }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    function syncStart() {
      start.disabled = !!running;
      start.title = running ? "A benchmark is running; one runs at a time." : "";
      if (running) say(`A benchmark is running (${running}); Start is available again when it ends.`, "info");
    }
    start.addEventListener("click", async () => {
      const b = body();
      saveForm(b);
      start.disabled = true;
      say("");
      try {
        const job = await api("/api/jobs", { method: "POST", body: b });
        pf.key.value = "";
        location.hash = "#/benchmark/" + encodeURIComponent(job.run_id);
      } catch (e) { say(e.message || String(e)); start.disabled = false; }
    });
    async function drawJobs() {
      const jl = await api("/api/jobs");
      if (seq !== state.routeSeq) return;
      clear(jobsBox);
      running = (jl.jobs.find((j) => j.state === "running") || {}).run_id || null;
      syncStart();
      if (!jl.jobs.length) return;
      const sweepLink = (j) => "#/sweep/" + encodeURIComponent(j.run_id);
      const jrows = jl.jobs.map((j) => j.kind === "sweep" ? h("tr", { "data-sweep-job": j.run_id },
        h("td", { class: "clip", text: "sweep: " + (j.spec.models || []).map((m) => m.model).join(", ") + " × " + (j.spec.harnesses || []).join(", ") }), h("td", {}, badge(j.state), j.state === "failed" && j.message ? h("div", { class: "small muted", text: j.message }) : null),
        h("td", { class: "num", text: `${j.done}${j.total ? " / " + j.total : ""} cells` }),
        h("td", { class: "small nowrap", text: when(j.started_at) }),
        h("td", {}, link(sweepLink(j), "open sweep")),
        h("td", { class: "mono clip" }, link(sweepLink(j), j.run_id))) : h("tr", {},
        h("td", { text: j.spec.model }), h("td", {}, badge(j.state)),
        h("td", { class: "num", text: `${j.done}${j.total ? " / " + j.total : ""}` }),
        h("td", { class: "small nowrap", text: when(j.started_at) }),
        h("td", {}, j.state === "running" || j.state === "failed" ? link("#/benchmark/" + encodeURIComponent(j.run_id), "progress") : link(runHash(j.run_id), "open run")),
        h("td", { class: "mono clip" }, link("#/benchmark/" + encodeURIComponent(j.run_id), j.run_id))));
      const jhead = h("tr", {}, ["model", "state", "tasks", "started", "", "run"].map((c) => h("th", { text: c })));
      append(jobsBox, h("h2", { text: "Benchmarks started here" }), h("div", { class: "table-wrap" }, h("table", { class: "jobs" }, h("thead", {}, jhead), h("tbody", {}, jrows))));
    }
    if (args[0]) watchJob(args[0], progress, seq, drawJobs);
    await drawJobs();
    check();
  }
  // ------------------------------------------------------------ sweep form
  // every picked model × every picked harness; the server plans it with benchloop.sweep
  // and says, before Start, how many cells, tasks and minutes that is, or what cannot run
  function sweepForm(box, suites, seq) {
    const extra = state.sweepExtra || (state.sweepExtra = []);
    const picked = new Set();
    const list = h("div", { class: "models", id: "sweep-models" }, h("span", { class: "muted small", text: "Looking for models…" }));
    const harnessBoxes = CATALOG.harnesses.map((x) => h("input", { type: "checkbox", name: "sweep-harness", value: x, checked: x === "raw" }));
    const avail = suites.suites.filter((s) => !s.error);
    const suiteBoxes = avail.map((s) => h("input", { type: "checkbox", name: "sweep-suite", value: s.suite, checked: s.suite === "reasonmath" }));
    const profile = h("select", { name: "sweep-profile", "aria-label": "sweep profile" }, CATALOG.profiles.map((x) => h("option", { value: x, text: x })));
    const tasks = h("input", { name: "sweep-tasks", placeholder: "e.g. rm-001, rm-002 (optional)" });
    const maxTokens = h("input", { name: "sweep-max_tokens", type: "number", min: 1, placeholder: "suite default" });
    const key = h("input", { name: "sweep-api_key", type: "password", autocomplete: "off", placeholder: "remote endpoints only" });
    const addProv = providerSelect({ name: "sweep-add-provider", "aria-label": "provider" }, { first: "openai_compat" });
    const addUrl = h("input", { name: "sweep-add-endpoint", placeholder: "http://host:8080", "aria-label": "endpoint" });
    const addModel = h("input", { name: "sweep-add-model", placeholder: "model name", "aria-label": "model" });
    const plan = h("div", { class: "plan small", id: "sweep-plan" });
    const message = h("div", { class: "sweep-message" });
    const start = h("button", { class: "primary", text: "Start sweep", id: "start-sweep", disabled: true });
    const keyOf = (c) => [c.provider, c.endpoint || "", c.model].join("\u0000");
    function choices() { return modelChoices().concat(extra).filter((c, i, all) => all.findIndex((d) => keyOf(d) === keyOf(c)) === i); }
    function drawList() {
      clear(list);
      const all = choices();
      if (!all.length) append(list, h("span", { class: "muted small", text: "No model found; add one below." }));
      all.forEach((c) => {
        const k = keyOf(c);
        const cb = h("input", { type: "checkbox", name: "sweep-model", value: c.model, "data-endpoint": c.endpoint || "", "data-provider": c.provider, checked: picked.has(k), onchange: () => { if (cb.checked) picked.add(k); else picked.delete(k); later(); } });
        append(list, h("label", { class: "inline" }, cb, h("span", { class: "mono", text: c.model }), h("span", { class: "muted small", text: !hasEndpoint(c.provider) ? "embedded" : c.label && !String(c.label).startsWith("--endpoint") ? `${c.label} · ${c.endpoint}` : c.endpoint })));
      });
    }
    function body() {
      const all = choices();
      return { kind: "sweep", models: all.filter((c) => picked.has(keyOf(c))).map((c) => ({ model: c.model, provider: c.provider, endpoint: hasEndpoint(c.provider) ? c.endpoint || null : null })),
        harnesses: harnessBoxes.filter((b) => b.checked).map((b) => b.value), suites: suiteBoxes.filter((b) => b.checked).map((b) => b.value), profile: profile.value,
        tasks: tasks.value.split(/[\s,]+/).filter(Boolean), max_tokens: maxTokens.value === "" ? null : parseInt(maxTokens.value, 10), api_key: key.value || null };
    }
    function say(text, cls) { clear(message); if (text) append(message, h("div", { class: cls || "error", text })); }
    let checkSeq = 0, timer = null;
    async function check() {
      const my = ++checkSeq;
      const b = body();
      if (!b.models.length || !b.harnesses.length) { plan.textContent = "Pick at least one model and one harness."; start.disabled = true; say(""); return; }
      plan.textContent = "checking…";
      try {
        const c = await api("/api/jobs/check", { method: "POST", body: b });
        if (my !== checkSeq || seq !== state.routeSeq) return;
        const dims = `${c.axes.model.length} model${c.axes.model.length === 1 ? "" : "s"} × ${c.axes.harness.length} harness${c.axes.harness.length === 1 ? "" : "es"}`;
        plan.textContent = `${c.cells} cell${c.cells === 1 ? "" : "s"} (${dims}) · ${c.tasks_per_cell ?? "?"} tasks per cell, ${c.total ?? "?"} in all · ${duration(c.estimate_s)} (${c.estimate_basis})`;
        say(c.ok ? "" : c.message, "note");
        start.disabled = !c.ok || !!c.running;
        if (c.running) say(`A benchmark is running (${c.running}); Start is available again when it ends.`, "info");
      } catch (e) { if (my === checkSeq) { plan.textContent = ""; start.disabled = true; say(e.message || String(e), "note"); } }
    }
    function later() { clearTimeout(timer); timer = setTimeout(check, 350); }
    start.addEventListener("click", async () => {
      start.disabled = true;
      say("");
      try {
        const job = await api("/api/jobs", { method: "POST", body: body() });
        key.value = "";
        location.hash = "#/sweep/" + encodeURIComponent(job.run_id);
      } catch (e) { say(e.message || String(e)); start.disabled = false; }
    });
    const add = h("button", { text: "Add model", onclick: () => {
      const c = { provider: addProv.value, endpoint: hasEndpoint(addProv.value) ? addUrl.value.trim().replace(/\/+$/, "") : "", model: addModel.value.trim(), label: "added" };
      if (!c.model) return;
      extra.push(c); picked.add(keyOf(c)); addModel.value = ""; drawList(); later();
    } });
    const panel = h("div", { class: "panel sweep-form" },
      h("h2", { text: "Sweep: every model × harness" }),
      h("p", { class: "small muted", text: "Each combination is one ordinary run; the sweep page shows the matrix and which to pick. Cells on one server run one after another, servers side by side." }),
      h("h3", { text: "Models" }), list,
      h("div", { class: "toolbar" }, addProv, addUrl, addModel, add),
      h("h3", { text: "Harnesses" }), h("div", { class: "checks" }, harnessBoxes.map((b) => h("label", { class: "inline" }, b, h("span", { text: b.value })))),
      h("h3", { text: "Suites" }), h("div", { class: "checks" }, avail.map((s, i) => h("label", { class: "inline" }, suiteBoxes[i], h("span", { text: s.suite })))),
      h("div", { class: "form" }, field("Profile", profile), field("Task ids", tasks), field("Max tokens per reply", maxTokens), field("API key (remote only; never stored)", key)),
      message, h("div", { class: "toolbar" }, plan, h("span", { class: "spacer" }), start));
    panel.addEventListener("change", later);
    panel.addEventListener("input", (e) => { if (!String(e.target.name || "").startsWith("sweep-add")) later(); });
    append(box, panel);
    drawList();
    loadModels(false).then(() => { if (seq === state.routeSeq) { drawList(); later(); } }).catch(() => {});
    later();
  }
  async function finalScores(runId, box, seq) {
    const run = await api("/api/runs/" + encodeURIComponent(runId));
    if (seq !== state.routeSeq) return;
    const sc = run.scores || {};
    append(box, h("div", { class: "cards final-scores" }, ["overall", "quality", "speed", "reliability"].map((k) => h("div", { class: "card" }, h("div", { class: "label", text: k }), h("div", { class: "value", text: fmt(sc[k]) })))),
      h("p", { class: "small" }, Object.entries(sc.suites || {}).map(([name, v]) => h("span", { class: "suite-score", text: `${name} ${fmt(v.score)}  ` }))));
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
    append(box, h("div", { class: "panel", "data-job": runId }, h("div", { class: "toolbar" }, h("strong", { text: "Run " }), h("span", { class: "mono clip", text: runId }), stateBadge, h("span", { class: "spacer" }), counter, cancel), prog, message,
      h("div", { class: "tasklog table-wrap" }, h("table", {}, h("thead", {}, h("tr", {}, ["task", "verdict", "score", "suite", "latency ms", "tokens"].map((c) => h("th", { text: c })))), logBody))));
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
      append(logBody, h("tr", { "data-task": t.task_id }, h("td", { class: "mono" }, link(taskHash(runId, t.suite, t.task_id), t.task_id)), h("td", {}, t.error ? badge("error", "broken") : badge(t.passed ? "pass" : "fail")), h("td", { class: "num", text: fmt(t.score) }), h("td", { text: t.suite }), h("td", { class: "num", text: fmt(t.latency_ms, 0) }), h("td", { class: "num", text: t.completion_tokens ?? "—" })));
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
      if (d.state === "failed") append(message, h("div", { class: "error", text: d.message || "the benchmark failed to start" }));
      else {
        append(message, h("p", {}, h("span", { text: d.message || "" }), " ", link(runHash(runId), "Open the run ›", "open-run")));
        finalScores(runId, message, seq).catch(() => {});
      }
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

  Object.assign(BL.pages, { models: pageModels, benchmark: pageBenchmark, chat: pageChat });
})();
