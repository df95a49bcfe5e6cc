"""The pytest plugin, driven through real pytest subprocesses (pytester)."""
import json
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from benchloop.tasks import load_suite
from benchloop.testing.scripted import Reply

ROOT = Path(__file__).resolve().parents[1]
SUITE = str(ROOT / "suites" / "test_reasonmath.py")
TASKS = load_suite("reasonmath")["tasks"]
BY_PROMPT = {t["prompt"]: t for t in TASKS}
VOLATILE = {"latency_ms", "ttft_ms", "ttfr_ms", "wall_ms", "server_timings", "response", "nodeid", "model_wait_ms"}


def reference_responder(req):
    task = BY_PROMPT.get(req["messages"][-1]["content"])
    return task["reference"] if task else "no idea"


def run_pytest(pytester, *args, env=None):
    for k, v in (env or {}).items():
        pytester._monkeypatch.setenv(k, v)
    return pytester.runpytest_subprocess(SUITE, "-p", "no:cacheprovider", *args)


def bench_args(ep, runs, *extra):
    return ("--benchloop-provider=openai_compat", f"--benchloop-endpoint={ep.url}", "--benchloop-model=scripted-model", f"--benchloop-runs-dir={runs}", *extra)


def only_run(runs: Path) -> dict:
    dirs = [d for d in runs.iterdir() if d.is_dir()]
    assert len(dirs) == 1, dirs
    return json.loads((dirs[0] / "run.json").read_text()), dirs[0]


def stable(run: dict) -> dict:
    tasks = [{k: v for k, v in t.items() if k not in VOLATILE} for t in run["tasks"]]
    return {"tasks": tasks, "scores": run["scores"], "manifest_hash": run["manifest_hash"], "status": run["status"]}


def test_inactive_without_model_skips_with_reason(pytester):
    res = run_pytest(pytester, "-rs")
    res.assert_outcomes(skipped=1)
    res.stdout.fnmatch_lines(["*--benchloop-model*"])


def test_unrelated_project_is_untouched(pytester):
    pytester.makeconftest("import pytest\n@pytest.fixture\ndef task():\n    return 'mine'\n")
    pytester.makepyfile(test_other="def test_a(task):\n    assert task == 'mine'\n")
    res = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    res.assert_outcomes(passed=1)
    assert "BenchLoop" not in res.stdout.str()


def test_reference_replies_score_100_and_artifact_is_complete(pytester, scripted, tmp_path):
    ep = scripted(reference_responder)
    runs = tmp_path / "runs"
    res = run_pytest(pytester, *bench_args(ep, runs))
    res.assert_outcomes(passed=len(TASKS))
    run, d = only_run(runs)
    assert run["status"] == "complete" and run["schema_version"] == 1
    assert run["scores"]["suites"]["reasonmath"] == {**run["scores"]["suites"]["reasonmath"], "score": 100.0, "n": len(TASKS)}
    for key in ("run_id", "model", "provider", "endpoint", "harness", "machine", "manifest_hash", "scores", "tasks"):
        assert key in run
    lines = (d / "tasks.jsonl").read_text().splitlines()
    assert len(lines) == len(TASKS)
    t = run["tasks"][0]
    for key in ("suite", "task_id", "score", "passed", "error", "latency_ms", "ttft_ms", "prompt_tokens", "completion_tokens", "output", "checks"):
        assert key in t
    assert t["prompt"][-1]["content"] in BY_PROMPT
    tm = run["timings_ms"]  # where the session's time went, in order
    assert 0 < tm["started"] <= tm["collected"] <= tm["first_task_done"] <= tm["last_task_done"] <= tm["assembled"]
    assert abs(tm["assembled"] - 1000 * run["wall_s"]) <= 0.6  # the same instant, rounded apart


def test_xdist_gives_the_same_artifact(pytester, scripted, tmp_path):
    ep = scripted(reference_responder)
    a, b = tmp_path / "a", tmp_path / "b"
    run_pytest(pytester, *bench_args(ep, a)).assert_outcomes(passed=len(TASKS))
    run_pytest(pytester, *bench_args(ep, b), "-n", "2").assert_outcomes(passed=len(TASKS))
    ra, _ = only_run(a)
    rb, _ = only_run(b)
    assert stable(ra) == stable(rb)


def test_junit_one_testcase_per_task_with_checker_reason(pytester, scripted, tmp_path):
    wrong = {t["prompt"]: t["wrong"] for t in TASKS}
    ep = scripted(lambda req: wrong.get(req["messages"][-1]["content"], ""))
    xml = tmp_path / "out.xml"
    pytester.makeini("[pytest]\nbenchloop_junit_properties = true\n")
    res = run_pytest(pytester, *bench_args(ep, tmp_path / "runs", "--benchloop-task=rm-001", "--benchloop-task=rm-010"), f"--junitxml={xml}", "-c", str(pytester.path / "tox.ini"))
    res.assert_outcomes(failed=2)
    cases = ET.parse(xml).getroot().iter("testcase")
    cases = {c.get("name"): c for c in cases}
    assert set(cases) == {"test_reasonmath[rm-001]", "test_reasonmath[rm-010]"}
    fail = cases["test_reasonmath[rm-001]"].find("failure")
    assert "expected 43.20" in fail.get("message")
    props = {p.get("name"): p.get("value") for p in cases["test_reasonmath[rm-001]"].iter("property")}
    assert props["score"] == "0.0" and "latency_ms" in props and "tokens" in props


def test_endpoint_dying_mid_run(pytester, scripted, tmp_path):
    served = []
    holder = {}

    def responder(req):
        served.append(1)
        if len(served) == 4:  # die while answering the 4th task
            threading.Timer(0.1, holder["ep"].kill).start()
            return Reply(content=reference_responder(req), first_delay_s=1.0)
        return reference_responder(req)

    ep = holder["ep"] = scripted(responder)
    res = run_pytest(pytester, *bench_args(ep, tmp_path / "runs"))
    outcomes = res.parseoutcomes()
    assert outcomes.get("passed", 0) == 3 and outcomes.get("failed", 0) == len(TASKS) - 3
    run, d = only_run(tmp_path / "runs")
    assert run["status"] == "complete"
    errored = [t for t in run["tasks"] if t["error"]]
    assert len(errored) == len(TASKS) - 3
    assert all("connect" in t["error"] or "protocol" in t["error"] for t in errored)
    assert run["scores"]["reliability"] < 30
    assert len(run["tasks"]) == len(TASKS)


def test_broken_task_file_fails_collection_naming_file_task_field(pytester, tmp_path):
    bad = tmp_path / "tasks"
    bad.mkdir()
    (bad / "reasonmath.yaml").write_text("suite: reasonmath\ntasks:\n - {id: rm-001, prompt: hi, check: {type: number}, reference: a, wrong: b}\n")
    res = run_pytest(pytester, "--benchloop-model=m", "--benchloop-provider=openai_compat", "--benchloop-endpoint=http://127.0.0.1:9", env={"BENCHLOOP_TASKS_DIR": str(bad)})
    assert res.ret != 0
    # the endpoint check comes first; make the endpoint reachable to reach collection
    assert "cannot reach" in res.stderr.str()


def test_broken_task_file_message(pytester, scripted, tmp_path):
    bad = tmp_path / "tasks"
    bad.mkdir()
    (bad / "reasonmath.yaml").write_text("suite: reasonmath\ntasks:\n - {id: rm-001, prompt: hi, check: {type: number}, reference: a, wrong: b}\n")
    ep = scripted(lambda r: "x")
    res = run_pytest(pytester, *bench_args(ep, tmp_path / "runs"), env={"BENCHLOOP_TASKS_DIR": str(bad)})
    assert res.ret == pytest.ExitCode.INTERRUPTED  # a collection error
    res.stdout.fnmatch_lines(["benchloop: reasonmath.yaml task rm-001: field 'check' needs a 'value'"])
    assert "Traceback" not in res.stdout.str()
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_unknown_model_lists_available(pytester, scripted, tmp_path):
    ep = scripted(lambda r: "x", models=("alpha", "beta"))
    res = run_pytest(pytester, "--benchloop-provider=openai_compat", f"--benchloop-endpoint={ep.url}", "--benchloop-model=gamma", f"--benchloop-runs-dir={tmp_path}")
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    res.stderr.fnmatch_lines(["*model 'gamma' is not served*available: alpha, beta*"])


def test_env_configures_like_flags(pytester, scripted, tmp_path):
    ep = scripted(reference_responder)
    env = {"BENCHLOOP_MODEL": "scripted-model", "BENCHLOOP_PROVIDER": "openai_compat", "BENCHLOOP_ENDPOINT": ep.url, "BENCHLOOP_RUNS_DIR": str(tmp_path / "r"), "BENCHLOOP_TASK": "rm-003"}
    res = run_pytest(pytester, env=env)
    res.assert_outcomes(passed=1)
    run, _ = only_run(tmp_path / "r")
    assert [t["task_id"] for t in run["tasks"]] == ["rm-003"]
