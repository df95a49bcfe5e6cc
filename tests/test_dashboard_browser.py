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
    for i, (model, harness, tok, rate) in enumerate([("llama3.1:8b", "raw", 61.0, 0.7), ("gemma3:4b", "hermes", 96.0, 0.55), ("qwen3:8b", "raw", 52.0, 0.8)]):
        write_run(runs, synthetic_run(f"20260201-08000{i}-{model.replace(':', '-')}-{harness}", model=model, harness=harness, seed=i, pass_rate=rate, decode_tok_s=tok, suites={"reasonmath": 12, "toolcall": 10}))
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
    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def goto(site, hash_, ready):
    page = site["page"]
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


def test_leaderboard_is_painted_first_from_the_page_itself(site):
    page = site["page"]
    site["log"]["requests"].clear()
    page.goto(site["url"] + "/")
    page.wait_for_selector("table.leaderboard tbody tr", timeout=15000)
    # painted from data embedded in the page: no API request was needed for it
    assert not [u for u in site["log"]["requests"] if "/api/" in u]
    first = page.locator("section[data-group]").first
    assert first.get_attribute("data-group") == "a" * 64  # the largest comparable set comes first
    models = first.locator("tbody tr td:nth-child(2)").all_inner_texts()
    assert sorted(models) == ["gemma3:4b", "llama3.1:8b", "qwen3:8b"]  # one row per model × harness × hardware × profile
    overall = [float(x) for x in first.locator("tbody tr td:nth-child(6)").all_inner_texts()]
    assert overall == sorted(overall, reverse=True)
    page.wait_for_function("() => window.__benchloop.charts.length >= 1")
    assert page.locator("section[data-group] canvas").count() >= 1
    shot(page, "01-leaderboard")
    assert_inert(site)


def test_every_tab_opens(site):
    page = goto(site, "#/runs", "runs")
    assert page.locator("table.runs tbody tr").count() == 6
    page.select_option("select[data-filter=model]", "qwen3:8b")
    page.wait_for_function("() => document.querySelectorAll('table.runs tbody tr').length === 2")
    shot(page, "02-runs-filtered")
    page.click("text=Clear")
    page.wait_for_function("() => document.querySelectorAll('table.runs tbody tr').length === 6")

    page = goto(site, "#/models", "models")
    page.wait_for_selector("tr[data-model='smollm2-135m']")
    page.wait_for_selector(f"tr[data-endpoint='{site['chat_url']}'] >> text=chat-model")
    shot(page, "03-models")

    page = goto(site, "#/compare", "compare")
    assert page.locator(".compare-picker input[type=checkbox]").count() == 6
    page = goto(site, "#/benchmark", "benchmark")
    assert page.locator("input[name=suite]").count() >= 1
    shot(page, "04-benchmark-form")


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
    page.click("#start-benchmark")
    page.wait_for_selector("[data-job] .progress", timeout=15000)
    run_id = page.locator("[data-job]").get_attribute("data-job")
    page.wait_for_selector("[data-job] .job-state .badge.complete", timeout=420000)  # minutes only on a crowded machine
    assert page.locator("[data-job] .counter").inner_text() == "2 / 2 tasks"
    assert page.locator("[data-job] tbody tr").count() == 2
    shot(page, "06-benchmark-finished")

    page.click("a.open-run")
    page.wait_for_function("() => document.getElementById('view').dataset.ready === 'run'")
    assert page.locator("table.tasks tbody tr").count() == 2
    assert page.locator("h1 .model-name").inner_text() == "smollm2-135m"
    assert (site["runs"] / run_id / "run.json").exists()
    shot(page, "07-run-page")
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
    assert page.locator(".not-comparable").count() >= 1  # hand-made baseline vs a real manifest
    page.locator("text=only tasks whose scores differ").click()
    assert page.locator("table.compare-tasks tbody tr").count() == 2
    page.wait_for_function("() => window.__benchloop.charts.length >= 1")
    shot(page, "10-compare")

    page = goto(site, "#/runs", "runs")
    assert page.locator(f"tr[data-run='{run_id}'] .badge.complete").count() == 1
    assert_inert(site)


def test_hostile_run_renders_inert_in_every_view(site):
    page = site["page"]
    page.goto(site["url"] + "/")
    page.wait_for_selector("table.leaderboard")
    assert_inert(site)
    for hash_, ready in (("#/runs", "runs"), (f"#/run/{XSS_RUN}", "run"), (f"#/task/{XSS_RUN}/reasonmath/rm-001", "task"), (f"#/task/{XSS_RUN}/reasonmath/rm-002", "task"), (f"#/compare/{XSS_RUN},{BASE_RUN}", "compare"), ("#/leaderboard", "leaderboard")):
        page = goto(site, hash_, ready)
        page.wait_for_timeout(100)
        assert_inert(site)
        if ready in ("run", "task"):
            assert "<img src=x onerror=" in page.locator("#view").inner_text()  # shown, as text
    page = goto(site, f"#/task/{XSS_RUN}/reasonmath/rm-001", "task")
    shot(page, "11-xss-task-inert")
    assert site["log"]["errors"] == [], site["log"]["errors"]
