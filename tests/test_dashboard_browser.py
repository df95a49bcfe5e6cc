"""The dashboard in a real browser: Debian's headless Chromium driven by Playwright's
Python package (``executable_path``; Playwright never downloads a browser here).

One served dashboard per module, on a free loopback port with a temporary runs dir,
seeded with a hand-written agent run (a real trace), runs for the leaderboard, and a run
whose every text field is an XSS payload. The tests open every tab, start a benchmark
against the embedded SmolLM2 model and watch it finish in the UI, open its run page,
an agent trace and a comparison, and check that the hostile run renders inert. Each
step leaves a screenshot in ``artifacts/screenshots/`` (gitignored; CI keeps it).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from benchloop.dashboard.app import create_app
from benchloop.dashboard.demo import ServedApp, synthetic_run, task_record, write_run

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("BENCHLOOP_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
XSS = "<img src=x onerror=\"window.__xss=1;alert('img')\"><script>window.__xss=2;alert('script')</script>"
AGENT_RUN = "20260201-090000-qwen3-8b-agent"
XSS_RUN = "20260201-090500-xss-run"
BASE_RUN = "20260201-091000-smollm2-base"
SWEEP_RUN = "20260201-080002-qwen3-8b-raw"
REMOTE_RUN = "20260201-081000-gpt-4o-mini-remote"
N_RUNS = 8
OUR_SCRIPTS = (Path(__file__).resolve().parents[1] / "dashboard" / "static" / "index.html").read_text(encoding="utf-8").count("<script")


def agent_task() -> dict:
    """A realistic agent record, shaped as benchloop/checkers/agent.py writes it."""
    rec = task_record("agent", 3, passed=True, output="Done: the meeting with Dana moved to Thursday 2026-03-12 at 14:00, and you have no other events that afternoon.")
    rec["prompt"] = [
        {"role": "system", "content": "You are an assistant with tools for a calendar. Use them; answer briefly."},
        {"role": "user", "content": "Move my meeting with Dana from Wednesday to Thursday, same time, and tell me if Thursday afternoon is otherwise free."},
    ]
    rec["turns"] = [
        {"turn": 1, "messages": 2, "output": "", "reasoning": "Find the meeting first.", "finish_reason": "tool_calls", "latency_ms": 812.4, "ttft_ms": 120.2, "prompt_tokens": 412, "completion_tokens": 31, "token_source": "server",
         "calls": [{"turn": 1, "id": "call_0", "name": "calendar_search", "arguments": {"query": "Dana", "date": "2026-03-11"}, "arguments_raw": '{"query": "Dana", "date": "2026-03-11"}', "status": "ok",
                    "result": {"events": [{"event_id": "ev-7", "title": "1:1 with Dana", "date": "2026-03-11", "start": "14:00", "end": "14:30"}], "count": 1}}]},
        {"turn": 2, "messages": 4, "output": "", "reasoning": "", "finish_reason": "tool_calls", "latency_ms": 655.0, "ttft_ms": 98.7, "prompt_tokens": 498, "completion_tokens": 40, "token_source": "server",
         "calls": [{"turn": 2, "id": "call_1", "name": "calendar_move", "arguments": {"event_id": "ev-7", "date": "2026-03-12", "start": "14:00"}, "arguments_raw": '{"event_id": "ev-7", "date": "2026-03-12", "start": "14:00"}', "status": "ok",
                    "result": {"ok": True, "event": {"event_id": "ev-7", "title": "1:1 with Dana", "date": "2026-03-12", "start": "14:00", "end": "14:30"}}},
                   {"turn": 2, "id": "call_2", "name": "calendar_list", "arguments": {"date": "2026-03-12"}, "arguments_raw": '{"date": "2026-03-12"}', "status": "ok", "result": {"events": [{"event_id": "ev-7", "title": "1:1 with Dana", "start": "14:00", "end": "14:30"}], "count": 1}}]},
        {"turn": 3, "messages": 7, "output": rec["output"], "reasoning": "", "finish_reason": "stop", "latency_ms": 901.3, "ttft_ms": 101.0, "prompt_tokens": 610, "completion_tokens": 38, "token_source": "server", "calls": []},
    ]
    rec["tool_calls"] = [c for t in rec["turns"] for c in t["calls"]]
    rec["checks"] = [{"name": "state: ev-7 on 2026-03-12 14:00", "passed": True}, {"name": "answer mentions Thursday", "passed": True}, {"name": "required call calendar_move", "passed": True}]
    return rec


def xss_run() -> dict:
    rec = task_record("reasonmath", 1, passed=False, output=f"Here you go {XSS}\nANSWER: {XSS}")
    rec.update(reasoning=XSS, reason=f"expected 3, got {XSS}", error=None)
    rec["turns"] = [{"turn": 1, "output": XSS, "calls": [{"name": XSS, "arguments": {"q": XSS}, "status": XSS, "result": XSS}], "role": XSS}]
    rec["prompt"] = [{"role": "user", "content": XSS}]
    rec["checks"] = [{"name": XSS, "passed": False, "got": XSS}]
    err = task_record("reasonmath", 2, passed=False, error=f"connect error: {XSS}")
    run = synthetic_run(XSS_RUN, model=f"evil {XSS}", harness="raw", hardware=XSS, tasks=[rec, err], manifest_hash="c" * 64)
    return run


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from benchloop.testing.scripted import ScriptedEndpoint, Reply

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; install it with: apt-get install -y chromium (or set BENCHLOOP_CHROMIUM)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the browser tests need Playwright's Python package: pip install playwright (never 'playwright install': the system Chromium is used)")
    root = tmp_path_factory.mktemp("dash")
    runs = root / "runs"
    mp = pytest.MonkeyPatch()
    mp.setenv("BENCHLOOP_HOME", str(root / "home"))
    mp.delenv("OPENAI_API_KEY", raising=False)
    agent = synthetic_run(AGENT_RUN, model="qwen3:8b", suites={"agent": 0}, tasks=[agent_task(), task_record("agent", 1, passed=True), task_record("agent", 2, passed=False)], decode_tok_s=52.0)
    write_run(runs, agent)
    for i, (model, harness, tok, rate) in enumerate([("llama3.1:8b", "raw", 61.0, 0.7), ("gemma3:4b", "hermes", 96.0, 0.55), ("qwen3:8b", "raw", 52.0, 0.8), ("qwen3:8b", "hermes", 50.0, 0.75)]):
        write_run(runs, synthetic_run(f"20260201-08000{i}-{model.replace(':', '-')}-{harness}", model=model, harness=harness, seed=i, pass_rate=rate, decode_tok_s=tok, suites={"reasonmath": 12, "toolcall": 10}, concurrency=[1, 2, 4, 8] if i == 2 else None))
    write_run(runs, synthetic_run(REMOTE_RUN, model="gpt-4o-mini", provider="openai_compat", harness="raw", hardware="api.example.com", remote=True, seed=7, pass_rate=0.9, decode_tok_s=140.0, suites={"reasonmath": 12}))
    write_run(runs, xss_run())
    base = synthetic_run(BASE_RUN, model="smollm2-135m", provider="llamacpp", hardware="laptop CPU", manifest_hash="b" * 64, tasks=[task_record("reasonmath", 1, passed=True), task_record("reasonmath", 2, passed=True)])
    write_run(runs, base)
    chat_ep = ScriptedEndpoint(lambda req: Reply(content=f"Hello! {XSS} Here is a streamed reply.", token_delay_s=0.01), models=("chat-model",)).start()
    srv = ServedApp(create_app(runs, probe_defaults=False, extra_endpoints=[chat_ep.url], refresh_interval=0.2)).start()
    SHOTS.mkdir(parents=True, exist_ok=True)
    pw = sync_playwright().start()
    browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
    page = browser.new_page(viewport={"width": 1360, "height": 900})
    log = {"dialogs": [], "errors": [], "requests": []}
    page.on("dialog", lambda d: (log["dialogs"].append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: log["errors"].append(f"pageerror: {e}"))
    page.on("console", lambda m: log["errors"].append(f"console: {m.text}") if m.type == "error" else None)
    page.on("request", lambda r: log["requests"].append(r.url))
    site = {"url": srv.url, "page": page, "log": log, "runs": runs, "chat_url": chat_ep.url}
    yield site
    browser.close()
    pw.stop()
    srv.stop()
    chat_ep.stop()
    mp.undo()


def shot(page, name):
    """Full-page screenshot into artifacts/screenshots/; with BENCHLOOP_DOC_SHOTS=1 the
    README's pictures (docs/screenshots/) are refreshed too."""
    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    if os.environ.get("BENCHLOOP_DOC_SHOTS") == "1" and name in DOC_SHOTS:
        DOCS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS / f"{name}.png"), full_page=False)


DOCS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
DOC_SHOTS = {"leaderboard-1280", "leaderboard-390", "run-1280", "compare-1280", "model-1280"}


def goto(site, hash_, ready):
    page = site["page"]
    if not page.url.startswith(site["url"]):  # this worker's first visit (under xdist any test can come first)
        page.goto(site["url"] + "/" + hash_)
    page.evaluate("h => { location.hash = h }", hash_)
    page.wait_for_function("n => document.getElementById('view').dataset.ready === n", arg=ready, timeout=30000)
    return page


def assert_inert(site):
    """No payload ran, no element came out of data: no <img> at all (the UI has none),
    only our own <script> elements, no dialog, no __xss marker."""
    page = site["page"]
    assert page.evaluate("() => window.__xss") is None
    assert page.evaluate("() => document.querySelectorAll('img, iframe, object, embed').length") == 0
    assert page.evaluate("() => document.querySelectorAll('script').length") == OUR_SCRIPTS
    assert page.evaluate("() => [...document.querySelectorAll('*')].filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length") == 0
    assert site["log"]["dialogs"] == []


def no_page_scroll(page):
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def test_leaderboard_is_one_table_per_board_painted_from_the_page_itself(site):
    page = site["page"]
    page.set_viewport_size({"width": 1280, "height": 800})
    site["log"]["requests"].clear()
    page.goto(site["url"] + "/")
    page.wait_for_selector("table.leaderboard tbody tr", timeout=15000)
    assert not [u for u in site["log"]["requests"] if "/api/" in u]  # painted from the page's own data
    assert page.locator("section.board").count() == 2  # local and remote never ranked together
    local = page.locator("table.leaderboard[data-board=local]")
    rows = local.locator("tbody tr")
    pairs = [(m, hn) for m, hn in zip(rows.locator("td.key0 a").all_inner_texts(), rows.locator("td.key1").all_inner_texts())]
    assert ("qwen3:8b", "raw") in pairs and ("qwen3:8b", "hermes") in pairs  # both harnesses: rows of one table
    assert "gpt-4o-mini" not in " ".join(m for m, _ in pairs)
    assert page.locator("table.leaderboard[data-board=remote] tbody tr").count() == 1
    overall = [float(x) for x in local.locator("td.key2").all_inner_texts()]
    assert overall == sorted(overall, reverse=True)
    assert "quick · 3 suites" in local.inner_text() and "quick · reasonmath" in local.inner_text() and "aaaaaaaa" not in local.inner_text()
    assert local.locator("tr[data-model='llama3.1:8b'] td[data-suite=agent]").inner_text() == ""  # blank where a run did not run it
    # sortable: tok/s ascending after two clicks
    local.locator("th[data-key=decode_tok_s]").click()
    local.locator("th[data-key=decode_tok_s]").click()
    toks = [float(x) for x in page.locator("table.leaderboard[data-board=local] tbody tr td:nth-child(7)").all_inner_texts() if x != "—"]
    assert toks == sorted(toks)
    # one click on Overall puts the board back in rank order (and the pictures show it so)
    local.locator("th[data-key=overall]").click()
    ranks = [int(x.split(".")[0]) for x in local.locator("td.key0").all_inner_texts()]
    assert ranks == sorted(ranks)
    # the key columns stay visible when the table scrolls sideways at 1280 px
    page.evaluate("() => { const w = document.querySelector('section[data-board=local] .table-wrap'); w.scrollLeft = w.scrollWidth; }")
    box = page.locator("table.leaderboard[data-board=local] th[data-key=overall]").bounding_box()
    wrap = page.locator("section[data-board=local] .table-wrap").bounding_box()
    assert wrap["x"] <= box["x"] and box["x"] + box["width"] <= wrap["x"] + wrap["width"]
    # search and filters
    page.fill("input.board-search", "hermes")
    assert set(page.locator("table.leaderboard[data-board=local] td.key1").all_inner_texts()) == {"hermes"}
    page.fill("input.board-search", "")
    page.select_option("select[data-filter=board]", "remote")
    assert page.locator("section.board[data-board=local]").is_hidden()
    page.select_option("select[data-filter=board]", "")
    page.wait_for_function("() => window.__benchloop.charts.length >= 2")
    labels = page.evaluate("() => window.__benchloop.charts[0].data.datasets.map(d => d.pointLabel)")
    colors = page.evaluate("() => window.__benchloop.charts[0].data.datasets.map(d => d.backgroundColor + d.pointStyle)")
    assert all(labels) and len(set(colors)) == len(colors)  # distinct, labelled points
    shot(page, "leaderboard-1280")
    assert_inert(site)


def test_every_tab_opens(site):
    page = goto(site, "#/runs", "runs")
    assert page.locator("table.runs tbody tr").count() == N_RUNS
    page.select_option("select[data-filter=model]", "qwen3:8b")
    page.wait_for_function("() => document.querySelectorAll('table.runs tbody tr').length === 3")
    shot(page, "02-runs-filtered")
    page.click("text=Clear")
    page.wait_for_function(f"() => document.querySelectorAll('table.runs tbody tr').length === {N_RUNS}")

    page = goto(site, "#/models", "models")
    page.wait_for_selector("tr[data-model='smollm2-135m']")
    page.wait_for_selector(f"tr[data-endpoint='{site['chat_url']}'] >> text=chat-model")
    shot(page, "03-models")

    page = goto(site, "#/compare", "compare")
    assert page.locator(".compare-picker input[type=checkbox]").count() == N_RUNS
    page = goto(site, "#/model/qwen3:8b", "model")
    page.wait_for_function("() => window.__benchloop.charts.length === 2")
    assert page.locator("table.history tbody tr").count() == 3
    shot(page, "model-1280")


def test_run_page_charts_filters_and_skipped_tasks(site):
    page = goto(site, f"#/run/{SWEEP_RUN}", "run")
    page.wait_for_function("() => window.__benchloop.charts.length === 3")  # suites, speed vs prompt length, concurrency sweep
    assert page.locator(".speed-chart").count() == 2
    assert page.locator("tr[data-task=sp-002] .badge").inner_text() != "skipped"  # this run swept
    page = goto(site, f"#/run/{AGENT_RUN}", "run")
    skipped = page.locator("tr[data-task=sp-002]")
    assert skipped.locator(".badge").inner_text() == "skipped" and "0.0" not in skipped.inner_text()
    page.select_option("select[data-filter=kind]", "failures")
    assert page.locator("table.tasks tbody tr").count() == 1 and page.locator("table.tasks tbody tr[data-task=ag-002]").count() == 1
    page.select_option("select[data-filter=kind]", "")
    page.fill("input.task-search", "ag-003")
    assert page.locator("table.tasks tbody tr").count() == 1
    page = goto(site, f"#/run/{XSS_RUN}", "run")
    page.select_option("select[data-filter=kind]", "errors")
    assert page.locator("table.tasks tbody tr").all() and page.locator("table.tasks tbody tr[data-kind=error]").count() == 1
    page = goto(site, f"#/task/{AGENT_RUN}/agent/ag-003", "task")
    order = page.evaluate("() => [...document.querySelectorAll('#view h2')].map(e => e.textContent)")
    assert order.index("Prompt") < next(i for i, t in enumerate(order) if t.startswith("Agent trace"))


def test_compare_shows_outputs_side_by_side_with_errors_marked(site):
    page = goto(site, f"#/compare/{BASE_RUN},{XSS_RUN}", "compare")
    err = page.locator(".side-task[data-task=rm-002]")
    assert "error: no answer" in err.inner_text()
    wrong = page.locator(".side-task[data-task=rm-001]")
    assert "wrong answer" in wrong.inner_text() and "<img src=x" in wrong.inner_text()
    shot(page, "compare-1280")
    assert_inert(site)


def test_benchmark_refuses_a_dead_endpoint_before_any_job_exists(site):
    page = goto(site, "#/benchmark", "benchmark")
    before = page.evaluate("() => fetch('/api/jobs').then(r => r.json()).then(d => d.jobs.length)")
    page.select_option("select[name=provider]", "openai_compat")
    page.fill("input[name=endpoint]", "http://127.0.0.1:9")
    page.fill("input[name=model]", "anything")
    page.wait_for_function("() => /task/.test(document.getElementById('bench-plan').textContent)", timeout=15000)
    page.click("#start-benchmark")
    page.wait_for_selector(".bench-message .error", timeout=15000)
    msgs = page.locator(".bench-message").inner_text()
    assert msgs.count("Nothing answers at http://127.0.0.1:9") == 1 and "--" not in msgs and "benchloop" not in msgs
    assert page.evaluate("() => fetch('/api/jobs').then(r => r.json()).then(d => d.jobs.length)") == before
    assert page.input_value("input[name=model]") == "anything"  # the form keeps its values
    for name in ("trials", "concurrency", "parallel", "timeout"):
        assert page.locator(f"input[name={name}]").count() == 1
    # the refused POST is the browser's only complaint (a 400 it logs itself)
    assert all("status of 400" in e for e in site["log"]["errors"]), site["log"]["errors"]
    site["log"]["errors"].clear()


def test_chat_streams_and_shows_model_output_as_text(site):
    page = goto(site, "#/models", "models")
    page.wait_for_selector(f"tr[data-endpoint='{site['chat_url']}'] >> text=chat-model")
    page.locator(f"tr[data-endpoint='{site['chat_url']}'] button:has-text('Chat')").click()
    page.wait_for_function("() => document.getElementById('view').dataset.ready === 'chat'")
    assert page.input_value("input[name=model]") == "chat-model"
    page.fill("#chat-input", "Say hello")
    page.click("#chat-send")
    page.wait_for_function("() => (document.querySelector('.msg.assistant .stats') || {}).textContent?.includes('tok')", timeout=30000)
    text = page.locator(".msg.assistant .body").inner_text()
    assert text == f"Hello! {XSS} Here is a streamed reply."
    shot(page, "05-chat")
    assert_inert(site)


def test_every_select_offers_the_catalogs_names_in_the_order_the_forms_always_had(site):
    """The providers, profiles and harnesses of the forms come from benchloop.catalog
    (through the page's boot data), not from lists in the scripts."""
    from benchloop.catalog import HARNESSES, PROFILES, PROVIDERS
    from benchloop.dashboard.bench_api import PROVIDER_LABELS
    from benchloop.tasks import suite_overview

    page = site["page"]
    page.set_viewport_size({"width": 1280, "height": 800})
    goto(site, "#/runs", "runs")
    page.evaluate("() => localStorage.clear()")  # a saved form would pick other values
    page = goto(site, "#/benchmark", "benchmark")

    def options(sel):
        return page.evaluate("s => [...document.querySelector(s).options].map(o => [o.value, o.textContent])", sel)

    label = lambda names: [[n, PROVIDER_LABELS[n]] for n in names]
    assert options("select[name=provider]") == label(sorted(PROVIDERS))  # llamacpp, ollama, openai_compat
    assert page.input_value("select[name=provider]") == "llamacpp" and page.input_value("input[name=model]") == "smollm2-135m"
    page.select_option("select[name=provider]", "ollama")
    assert page.input_value("input[name=endpoint]") == "http://127.0.0.1:11434"
    page.select_option("select[name=provider]", "openai_compat")
    assert page.input_value("input[name=endpoint]") == "http://127.0.0.1:8080"
    assert options("select[name=sweep-add-provider]") == label(["openai_compat", "ollama", "llamacpp"])  # a server first, embedded last
    assert options("select[name=harness]") == [[x, x] for x in HARNESSES]
    assert [b.get_attribute("value") for b in page.locator("input[name=sweep-harness]").all()] == list(HARNESSES)
    assert options("select[name=profile]") == [["", f"{PROFILES[-1]} (every task)"]] + [[x, x] for x in PROFILES]
    assert options("select[name=sweep-profile]") == [[x, x] for x in PROFILES]
    rm = next(r for r in suite_overview() if r["suite"] == "reasonmath")
    assert f"reasonmath ({rm['full']} tasks; quick {rm['quick']}, core {rm['core']})" in page.locator(".bench-form .checks").inner_text()  # the counts, per profile
    page.select_option("select[name=provider]", "llamacpp")
    page = goto(site, "#/models", "models")
    assert options("#view .toolbar select[aria-label=provider]") == label(["openai_compat", "ollama"])  # servers only: probed at a URL
    page = goto(site, "#/chat", "chat")
    assert options("select[name=provider]") == label(sorted(PROVIDERS))
    assert site["log"]["errors"] == [], site["log"]["errors"]


LABEL_BOXES = """() => window.__benchloop.charts.filter(c => c.config.type === 'scatter').map(c => {
  const ctx = document.createElement('canvas').getContext('2d');
  ctx.font = '11px system-ui, sans-serif';
  const points = c.data.datasets.flatMap((d, i) => c.getDatasetMeta(i).data.map(p => ({ x: p.x, y: p.y, r: p.options.radius, label: d.pointLabel })));
  const naive = points.map(p => { const w = ctx.measureText(p.label).width, right = p.x < c.chartArea.right - 120; return { x: right ? p.x + 9 : p.x - 9 - w, y: p.y - 17, w, h: 13 }; });
  return { area: c.chartArea, points, naive, labels: (c.$pointLabels || []).map(l => Object.assign({ measured: ctx.measureText(l.text).width }, l)) };
})"""


@pytest.mark.parametrize("width,height", [(390, 844), (1280, 800)])
def test_quality_vs_speed_labels_never_overlap(site, width, height):
    """Each label sits inside the plot, on no other label and no other point; a label
    that finds no free spot is shortened or left out, its point and tooltip kept."""
    hit = lambda a, b: a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]
    page = site["page"]
    page.set_viewport_size({"width": width, "height": height})
    goto(site, "#/runs", "runs")
    page = goto(site, "#/leaderboard", "leaderboard")
    page.wait_for_function("() => window.__benchloop.charts.filter(c => c.config.type === 'scatter' && c.$pointLabels).length === 2")
    local, remote = page.evaluate(LABEL_BOXES)
    assert len(local["points"]) == 5 and len(remote["points"]) == 1  # every measured row keeps its point
    for chart in (local, remote):
        labels, area = chart["labels"], chart["area"]
        assert labels, chart
        for i, a in enumerate(labels):
            assert abs(a["w"] - a["measured"]) < 0.5 and a["h"] >= 11  # the box is the text's own size
            assert area["left"] <= a["x"] and a["x"] + a["w"] <= area["right"] and area["top"] <= a["y"] and a["y"] + a["h"] <= area["bottom"], a
            assert not any(hit(a, b) for b in labels[i + 1:]), (a, labels)
            marks = [{"x": p["x"] - p["r"], "y": p["y"] - p["r"], "w": 2 * p["r"], "h": 2 * p["r"]} for p in chart["points"]]
            assert sum(hit(a, m) for m in marks) == 0, (a, chart["points"])
    full = {p["label"] for p in local["points"]}
    if width == 1280:  # wide enough: every point carries its whole label, as it always did
        assert {l["text"] for l in local["labels"]} == full
    else:  # the old placement would have piled these labels up: the check above has work to do
        naive = local["naive"]
        assert any(hit(a, b) for i, a in enumerate(naive) for b in naive[i + 1:])
        assert len(local["labels"]) >= 2
    shot(page, f"leaderboard-labels-{width}")
    page.set_viewport_size({"width": 1280, "height": 800})

@pytest.mark.timeout(600)
def test_benchmark_runs_on_the_embedded_model_then_run_page_trace_and_compare(site):
    page = goto(site, "#/benchmark", "benchmark")
    page.select_option("select[name=provider]", "llamacpp")
    page.fill("input[name=model]", "smollm2-135m")
    for box in page.locator("input[name=suite]").all():
        if box.get_attribute("value") != "reasonmath":
            box.uncheck()
    page.fill("input[name=tasks]", "rm-001, rm-002")
    page.fill("input[name=max_tokens]", "8")
    page.wait_for_function("() => /^2 tasks/.test(document.getElementById('bench-plan').textContent)", timeout=15000)
    page.click("#start-benchmark")
    page.wait_for_selector("[data-job] .progress", timeout=15000)
    run_id = page.locator("[data-job]").get_attribute("data-job")
    # the form kept its values after Start
    assert page.input_value("input[name=tasks]") == "rm-001, rm-002" and page.input_value("input[name=max_tokens]") == "8"
    assert [b.get_attribute("value") for b in page.locator("input[name=suite]:checked").all()] == ["reasonmath"]
    page.wait_for_selector("[data-job] .job-state .badge.complete", timeout=420000)  # minutes only on a crowded machine
    assert page.locator("[data-job] .counter").inner_text() == "2 / 2 tasks"
    assert page.locator("[data-job] tbody tr").count() == 2
    page.wait_for_selector("[data-job] .final-scores .card")
    shot(page, "06-benchmark-finished")

    page.click("a.open-run")
    page.wait_for_function("() => document.getElementById('view').dataset.ready === 'run'")
    assert page.locator("table.tasks tbody tr").count() == 2
    assert page.locator("h1 .model-name").inner_text() == "smollm2-135m"
    assert (site["runs"] / run_id / "run.json").exists()
    shot(page, "run-1280")
    page.click("table.tasks a:has-text('rm-001')")
    page.wait_for_function("() => document.getElementById('view').dataset.ready === 'task'")
    assert page.locator("pre.task-output").count() == 1
    shot(page, "08-task-page")

    page = goto(site, f"#/task/{AGENT_RUN}/agent/ag-003", "task")
    assert page.locator(".trace .turn").count() == 3
    names = page.locator(".trace .call .name").all_inner_texts()
    assert names[:3] == ["calendar_search", "→ result", "calendar_move"]
    assert "Thursday 2026-03-12" in page.locator("pre.task-output").inner_text()
    shot(page, "09-agent-trace")

    page = goto(site, f"#/compare/{BASE_RUN},{run_id}", "compare")
    assert page.locator("table.compare-suites tbody tr").count() == 1
    page.locator("text=only tasks whose scores differ").click()
    assert page.locator("table.compare-tasks tbody tr").count() == 2
    page.wait_for_function("() => window.__benchloop.charts.length >= 1")
    shot(page, "10-compare")

    page = goto(site, "#/runs", "runs")
    assert page.locator(f"tr[data-run='{run_id}'] .badge.complete").count() == 1
    assert_inert(site)


PAGES = [("#/leaderboard", "leaderboard"), ("#/runs", "runs"), (f"#/run/{SWEEP_RUN}", "run"), (f"#/task/{AGENT_RUN}/agent/ag-003", "task"), (f"#/compare/{BASE_RUN},{XSS_RUN}", "compare"),
         ("#/model/qwen3:8b", "model"), ("#/models", "models"), ("#/benchmark", "benchmark"), ("#/chat", "chat"), (f"#/run/{XSS_RUN}", "run")]


@pytest.mark.parametrize("width,height", [(1280, 800), (390, 844)])
def test_every_page_fits_the_screen_without_sideways_page_scroll(site, width, height, tmp_path):
    page = site["page"]
    page.set_viewport_size({"width": width, "height": height})
    too_wide = []
    for hash_, ready in PAGES:
        page = goto(site, hash_, ready)
        page.wait_for_timeout(150)
        name = f"{ready}-{width}" if hash_ in ("#/leaderboard", f"#/run/{SWEEP_RUN}") else f"{hash_.strip('#/').replace('/', '_').replace(':', '-')[:60]}-{width}"
        page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
        shot(page, name)
        if not no_page_scroll(page):
            too_wide.append((hash_, page.evaluate("() => document.documentElement.scrollWidth")))
    assert too_wide == [], too_wide
    if width == 390:  # model and overall come first; the navigation wraps instead of overflowing
        page = goto(site, "#/leaderboard", "leaderboard")
        heads = page.locator("table.leaderboard[data-board=local] thead th").all_inner_texts()
        assert heads[:3] == ["Model", "Harness", "Overall"]
        nav = page.locator("nav#tabs").bounding_box()
        assert nav["x"] + nav["width"] <= width
    page.set_viewport_size({"width": 1280, "height": 800})


def test_an_empty_store_says_no_runs_yet(site, tmp_path):
    srv = ServedApp(create_app(tmp_path / "empty", probe_defaults=False, refresh_interval=0.2)).start()
    try:
        page = site["page"]
        page.goto(srv.url + "/#/runs")
        page.wait_for_function("() => document.getElementById('view').dataset.ready === 'runs'")
        assert "No runs yet" in page.locator("#view").inner_text() and "No runs match" not in page.locator("#view").inner_text()
    finally:
        page.goto(site["url"] + "/")
        srv.stop()


def test_jobs_survive_a_restart_and_one_runs_at_a_time(tmp_path):
    import json

    from benchloop.dashboard.jobs import Job, JobBusy, JobManager

    jm = JobManager(tmp_path)
    done = Job(run_id="20260301-000000-done", runs_dir=jm.runs_dir, spec={"model": "m"}, argv=[], total=2, log_path="", state="complete", message="run complete")
    live = Job(run_id="20260301-000001-live", runs_dir=jm.runs_dir, spec={"model": "m"}, argv=[], total=2, log_path="", pid=os.getpid())
    jm.jobs = {done.run_id: done, live.run_id: live}
    jm._save()
    with pytest.raises(JobBusy):
        jm.start({"model": "m", "provider": "llamacpp", "harness": "raw"})
    saved = json.loads((tmp_path / ".jobs" / "jobs.json").read_text())
    assert {j["run_id"] for j in saved["jobs"]} == {done.run_id, live.run_id} and "api_key" not in json.dumps(saved)
    again = JobManager(tmp_path)  # a restarted dashboard
    assert again.jobs[done.run_id].state == "complete"
    assert again.jobs[live.run_id].state == "running" and again.busy() == live.run_id  # its process still runs: followed again


def test_hostile_run_renders_inert_in_every_view(site):
    page = site["page"]
    page.goto(site["url"] + "/")
    page.wait_for_selector("table.leaderboard")
    assert_inert(site)
    for hash_, ready in (("#/runs", "runs"), (f"#/run/{XSS_RUN}", "run"), (f"#/task/{XSS_RUN}/reasonmath/rm-001", "task"), (f"#/task/{XSS_RUN}/reasonmath/rm-002", "task"), (f"#/compare/{XSS_RUN},{BASE_RUN}", "compare"), ("#/leaderboard", "leaderboard"), (f"#/model/evil {XSS}", "model")):
        page = goto(site, hash_, ready)
        page.wait_for_timeout(100)
        assert_inert(site)
        if ready in ("run", "task"):
            assert "<img src=x onerror=" in page.locator("#view").inner_text()  # shown, as text
    page = goto(site, f"#/task/{XSS_RUN}/reasonmath/rm-001", "task")
    shot(page, "11-xss-task-inert")
    assert site["log"]["errors"] == [], site["log"]["errors"]


# ------------------------------------------------------------------------ sweeps
DEMO_SWEEP = "sweep-20260201-070000-d3m0ab"
XSS_SWEEP = "sweep-20260201-060000-evil00"


@pytest.fixture(scope="module")
def sweep_site(site, tmp_path_factory):
    """A dashboard of its own (its runs would change the main store's counts): a demo
    sweep with unfinished cells, a sweep whose model name is hostile, and a scripted
    endpoint serving a reference model and a wrong one for the sweep form."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from receipts_helpers import Answers

    from benchloop.dashboard.demo import synthetic_sweep
    from benchloop.testing.scripted import ScriptedEndpoint

    runs = tmp_path_factory.mktemp("sweeps") / "runs"
    synthetic_sweep(runs, DEMO_SWEEP, unfinished={"llama3.1:8b/pi": "running", "llama3.1:8b/qwen": "pending"})
    synthetic_sweep(runs, XSS_SWEEP, models=(f"evil {XSS}", "plain"), harnesses=("raw", "hermes"), pass_rates={}, suites={"reasonmath": 6})
    ep = ScriptedEndpoint(Answers(by_model={"ref": lambda tid: True, "wrong": lambda tid: False}), models=("ref", "wrong")).start()
    srv = ServedApp(create_app(runs, probe_defaults=False, extra_endpoints=[ep.url], refresh_interval=0.2)).start()
    yield {**site, "url": srv.url, "runs": runs, "ep_url": ep.url}
    site["page"].goto(site["url"] + "/")
    srv.stop()
    ep.stop()


def open_hash(s, hash_, ready):
    page = s["page"]
    if not page.url.startswith(s["url"]):
        page.goto(s["url"] + "/" + hash_)
        page.wait_for_function("n => document.getElementById('view').dataset.ready === n", arg=ready, timeout=30000)
        return page
    return goto(s, hash_, ready)


@pytest.mark.parametrize("width,height", [(1280, 800), (390, 844)])
def test_sweep_page_draws_the_matrix_as_a_heatmap_and_a_cell_opens_its_run(sweep_site, width, height):
    page = sweep_site["page"]
    page.set_viewport_size({"width": width, "height": height})
    page = open_hash(sweep_site, "#/sweeps", "sweeps")
    assert page.locator("nav#tabs a.active").inner_text() == "Sweeps"
    assert page.locator("table.sweeps tbody tr").count() == 2
    assert "6 / 8" in page.locator(f"tr[data-sweep='{DEMO_SWEEP}']").inner_text()
    shot(page, f"sweeps-{width}")
    assert no_page_scroll(page)
    page.click(f"a:has-text('{DEMO_SWEEP}')")
    page.wait_for_function("() => document.getElementById('view').dataset.ready === 'sweep'")
    hm = page.locator("table.heatmap")
    assert hm.locator("thead th").all_inner_texts()[1:] == ["raw", "hermes", "qwen", "pi"]
    assert hm.locator("th.hm-row").all_inner_texts() == ["qwen3:8b", "llama3.1:8b"]
    best = hm.locator(".hm-cell.mark-best")
    assert best.count() == 1 and best.get_attribute("data-cell") == "qwen3:8b/qwen" and "★" in best.inner_text()
    assert "Q 90.8" in best.inner_text() and "overall 88.0" in best.inner_text() and "66.0 tok/s" in best.inner_text()
    assert sorted(e.get_attribute("data-cell") for e in hm.locator(".hm-cell.mark-tied").all()) == ["qwen3:8b/hermes", "qwen3:8b/raw"]
    assert all("≈" in e.inner_text() for e in hm.locator(".hm-cell.mark-tied").all())
    assert "worse" in hm.locator("[data-cell='llama3.1:8b/raw']").inner_text()
    assert "pending" in hm.locator("[data-cell='llama3.1:8b/qwen']").inner_text() and hm.locator("div[data-cell='llama3.1:8b/qwen']").count() == 1  # no run: not a link
    assert "running" in hm.locator("[data-cell='llama3.1:8b/pi']").inner_text()
    assert page.locator("table.unfinished tbody tr").count() == 2
    assert page.locator("#sweep-sentence").inner_text().startswith("Pick qwen3:8b/qwen")
    assert page.locator(".heatmap-wrap").count() == 1
    shot(page, f"sweep-{width}")
    assert no_page_scroll(page)
    if width == 390:  # the matrix scrolls inside its box, not the page
        assert page.evaluate("() => { const w = document.querySelector('.heatmap-wrap'); return w.scrollWidth > w.clientWidth; }")
    best.click()
    page.wait_for_function("() => document.getElementById('view').dataset.ready === 'run'")
    assert page.locator("h1 .model-name").inner_text() == "qwen3:8b" and "qwen" in page.locator(".facts").inner_text()
    page.set_viewport_size({"width": 1280, "height": 800})


def test_a_hostile_sweep_renders_inert(sweep_site):
    page = open_hash(sweep_site, "#/sweeps", "sweeps")
    page = goto(sweep_site, f"#/sweep/{XSS_SWEEP}", "sweep")
    page.wait_for_timeout(100)
    assert "<img src=x onerror=" in page.locator("table.heatmap").inner_text()
    assert_inert(sweep_site)


@pytest.mark.timeout(400)
def test_sweep_form_shows_cells_and_estimate_refuses_what_cannot_run_then_runs(sweep_site):
    page = sweep_site["page"]
    page.set_viewport_size({"width": 1280, "height": 800})
    page = open_hash(sweep_site, "#/benchmark", "benchmark")
    page.wait_for_selector("input[name=sweep-model][value=ref]", timeout=15000)
    page.check("input[name=sweep-model][value=ref]")
    page.check("input[name=sweep-model][value=wrong]")
    page.check("input[name=sweep-harness][value=hermes]")
    assert [b.get_attribute("value") for b in page.locator("input[name=sweep-suite]:checked").all()] == ["reasonmath"]
    page.fill("input[name=sweep-tasks]", "rm-001, rm-002")
    page.wait_for_function("() => /^4 cells \\(2 models × 2 harnesses\\) · 2 tasks per cell, 8 in all · about/.test(document.getElementById('sweep-plan').textContent)", timeout=15000)
    assert "a guess" in page.locator("#sweep-plan").inner_text()
    assert page.locator("#start-sweep").is_enabled()
    # a model the server does not offer: refused before Start, in words
    page.select_option("select[name=sweep-add-provider]", "openai_compat")
    page.fill("input[name=sweep-add-endpoint]", sweep_site["ep_url"])
    page.fill("input[name=sweep-add-model]", "ghost")
    page.click("button:has-text('Add model')")
    page.wait_for_selector(".sweep-message .note", timeout=15000)
    assert "'ghost' is not served" in page.locator(".sweep-message").inner_text() and "6 cells" in page.locator("#sweep-plan").inner_text()
    assert page.locator("#start-sweep").is_disabled()
    shot(page, "sweep-form-refused-1280")
    page.uncheck("input[name=sweep-model][value=ghost]")
    page.wait_for_function("() => /^4 cells/.test(document.getElementById('sweep-plan').textContent) && !document.querySelector('#start-sweep').disabled", timeout=15000)
    shot(page, "sweep-form-1280")
    page.click("#start-sweep")
    page.wait_for_function("() => document.getElementById('view').dataset.ready === 'sweep'", timeout=15000)
    page.wait_for_selector("#view h1 .badge.complete", timeout=300000)
    hm = page.locator("table.heatmap")
    assert hm.locator(".hm-cell").count() == 4 and hm.locator("th.hm-row").all_inner_texts() == ["ref", "wrong"]
    best = hm.locator(".hm-cell.mark-best")
    assert best.count() == 1 and best.get_attribute("data-cell").startswith("ref/") and "Q 100.0" in best.inner_text()
    assert all("Q 0.0" in hm.locator(f"[data-cell='wrong/{x}']").inner_text() for x in ("raw", "hermes"))
    shot(page, "sweep-finished-1280")
    best.click()
    page.wait_for_function("() => document.getElementById('view').dataset.ready === 'run'")
    assert page.locator("h1 .model-name").inner_text() == "ref"
    page = goto(sweep_site, "#/benchmark", "benchmark")
    page.wait_for_selector("tr[data-sweep-job] .badge.complete", timeout=15000)
    assert "4 / 4 cells" in page.locator("tr[data-sweep-job]").inner_text()
