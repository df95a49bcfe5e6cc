"""Resume, Ctrl-C, run/task deadlines and retries, through real processes and sockets.

The promise under test: a run killed at any point (kill -9, Ctrl-C) is continued by
``--resume`` to the same artifact an uninterrupted run gives, every task exactly once;
a run whose task files changed meanwhile is refused, not silently mixed.
"""
from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest

from receipts_helpers import Answers, bench, cli, comparable_view, env_for, load_json, run_args, task_keys, wait_for_lines

from benchloop.artifact import read_tasks_jsonl
from benchloop.tasks import load_suite
from benchloop.testing.scripted import Reply

REPO = Path(__file__).resolve().parents[1]
N_TASKS = len(load_suite("reasonmath")["tasks"])  # reasonmath, full profile
N_QUICK = sum(1 for t in load_suite("reasonmath")["tasks"] if "quick" in (t.get("profiles") or []))


def passing(tid: str) -> bool:
    return int(tid[-3:]) % 3 != 0  # two in three pass: the scores are not trivially 100 or 0


def chat_requests(ep) -> int:
    return sum(1 for r in ep.received if r["path"].endswith("/chat/completions"))


def test_kill_9_then_resume_equals_an_uninterrupted_run(scripted, tmp_path):
    answers = Answers(passing, delay_s=0.15)
    ep = scripted(answers)
    home = tmp_path / "home"
    run_dir = home / "runs" / "killed"
    proc = subprocess.Popen(run_args(ep.url, "--run-id", "killed"), env=env_for(home), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_lines(run_dir / "tasks.jsonl", 4, proc)
    finally:
        proc.kill()  # SIGKILL: no handler, no artifact
        proc.wait(timeout=30)
    assert not (run_dir / "run.json").exists()
    before = read_tasks_jsonl(run_dir / "tasks.jsonl")
    assert 4 <= len(before) < N_TASKS
    # a write torn by the kill: resume must cut it, not glue the next record onto it
    with open(run_dir / "tasks.jsonl", "ab") as f:
        f.write(b'{"suite": "reasonmath", "task_id": "rm-0')

    answers.delay_s = 0.0
    sent_before = chat_requests(ep)
    res = bench([sys.executable, "-m", "benchloop", "run", "--resume", "killed", "-n", "2"], home)
    assert res.returncode == 0, res.stdout + res.stderr
    resumed = load_json(run_dir / "run.json")
    assert resumed["status"] == "complete" and resumed["missing_tasks"] == []
    keys = task_keys(resumed)
    assert len(keys) == len(set(keys)) == N_TASKS
    jsonschema.validate(resumed, json.loads((REPO / "docs" / "run.schema.json").read_text()))
    # only the unfinished tasks were sent again
    assert chat_requests(ep) - sent_before == N_TASKS - len(before)
    assert resumed["resumed"][0]["finished_before"] == len(before)
    # the task log is whole again: every line parses, every task once
    lines = (run_dir / "tasks.jsonl").read_text(encoding="utf-8").splitlines()
    recs = [json.loads(line) for line in lines]
    assert sorted((r["suite"], r["task_id"]) for r in recs) == sorted(keys)

    straight = bench(run_args(ep.url, "--run-id", "straight"), home)
    assert straight.returncode == 0, straight.stderr
    clean = load_json(home / "runs" / "straight" / "run.json")
    assert comparable_view(resumed) == comparable_view(clean)
    assert clean["scores"]["suites"]["reasonmath"]["passed"] == sum(passing(t) for t in {k[1] for k in keys})


def _interrupt_after(proc, tasks_path: Path, n: int) -> int:
    try:
        wait_for_lines(tasks_path, n, proc)
        proc.send_signal(signal.SIGINT)
        return proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_ctrl_c_in_the_cli_leaves_an_incomplete_artifact_that_resumes(scripted, tmp_path):
    answers = Answers(passing, delay_s=0.15)
    ep = scripted(answers)
    home = tmp_path / "home"
    run_dir = home / "runs" / "ctrlc"
    proc = subprocess.Popen(run_args(ep.url, "--run-id", "ctrlc", "--retries", "1"), env=env_for(home), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert _interrupt_after(proc, run_dir / "tasks.jsonl", 2) == 130
    partial = load_json(run_dir / "run.json")
    assert partial["status"] == "incomplete"
    assert partial["missing_tasks"] and len(partial["tasks"]) + len(partial["missing_tasks"]) == N_TASKS
    assert partial["settings"]["retries"] == 1

    answers.delay_s = 0.0
    res = cli("run", "--resume", "ctrlc", home=home)
    assert res.returncode == 0, res.stderr
    done = load_json(run_dir / "run.json")
    assert done["status"] == "complete" and len(set(task_keys(done))) == len(done["tasks"]) == N_TASKS
    assert done["settings"]["retries"] == 1  # the stored settings, not the defaults
    assert [t["score"] for t in done["tasks"]] == [100.0 if passing(t["task_id"]) else 0.0 for t in done["tasks"]]

    again = cli("run", "--resume", "ctrlc", home=home)
    assert again.returncode == 2 and "already complete" in again.stderr


def test_sigterm_ends_the_run_with_an_artifact_like_ctrl_c(scripted, tmp_path):
    """kill, timeout(1) and service managers send SIGTERM: the run still writes run.json."""
    ep = scripted(Answers(passing, delay_s=0.15))
    home = tmp_path / "home"
    run_dir = home / "runs" / "termed"
    proc = subprocess.Popen(run_args(ep.url, "--run-id", "termed"), env=env_for(home), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_lines(run_dir / "tasks.jsonl", 2, proc)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
    partial = load_json(run_dir / "run.json")
    assert partial["status"] == "incomplete" and partial["missing_tasks"]
    assert len(partial["tasks"]) >= 2 and len(partial["tasks"]) + len(partial["missing_tasks"]) == N_TASKS


def test_ctrl_c_under_plain_pytest_then_resume_with_the_plugin_option(scripted, tmp_path):
    answers = Answers(passing, delay_s=0.15)
    ep = scripted(answers)
    home = tmp_path / "home"
    base = [sys.executable, "-m", "pytest", "suites/test_reasonmath.py", "-p", "no:cacheprovider", "-q"]
    proc = subprocess.Popen(
        [*base, "--benchloop-provider=openai_compat", f"--benchloop-endpoint={ep.url}", "--benchloop-model=scripted-model", "--benchloop-run-id=plain"],
        cwd=REPO, env=env_for(home), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    run_dir = home / "runs" / "plain"
    assert _interrupt_after(proc, run_dir / "tasks.jsonl", 2) == pytest.ExitCode.INTERRUPTED
    partial = load_json(run_dir / "run.json")
    assert partial["status"] == "incomplete" and partial["missing_tasks"]
    n_done = len(partial["tasks"])

    answers.delay_s = 0.0
    res = subprocess.run([*base, f"--benchloop-resume={run_dir}"], cwd=REPO, env=env_for(home), capture_output=True, text=True, timeout=120)
    assert f"{n_done} deselected" in res.stdout, res.stdout[-2000:]
    done = load_json(run_dir / "run.json")
    assert done["status"] == "complete" and len(set(task_keys(done))) == N_TASKS == len(done["tasks"])

    conflict = subprocess.run([*base, f"--benchloop-resume={run_dir}", "--benchloop-model=other"], cwd=REPO, env=env_for(home), capture_output=True, text=True, timeout=60)
    assert conflict.returncode == pytest.ExitCode.USAGE_ERROR


def test_run_deadline_records_the_rest_fast_and_a_changed_task_file_refuses_resume(scripted, tmp_path):
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    shutil.copy(REPO / "tasks" / "reasonmath.yaml", tasks / "reasonmath.yaml")
    answers = Answers(passing, delay_s=0.5)
    ep = scripted(answers)
    home = tmp_path / "home"
    res = bench(run_args(ep.url, "--run-id", "late", "--deadline", "2"), home, BENCHLOOP_TASKS_DIR=tasks)
    run_dir = home / "runs" / "late"
    late = load_json(run_dir / "run.json")
    not_run = [t for t in late["tasks"] if t["error"] == "run deadline exceeded"]
    assert res.returncode == 3 and late["status"] == "incomplete" and len(late["tasks"]) == N_TASKS
    # at 0.5 s a reply, at most 4 tasks fit in 2 s (fewer on a loaded machine); the rest
    # were recorded at once and never sent to the model
    assert len(not_run) >= N_TASKS - 4 and all(t["latency_ms"] is None and t["wall_ms"] == 0.0 for t in not_run)
    assert chat_requests(ep) == N_TASKS - len(not_run)
    assert sorted(late["missing_tasks"]) == sorted(f"reasonmath/{t['task_id']}" for t in not_run)

    original = (tasks / "reasonmath.yaml").read_text(encoding="utf-8")
    (tasks / "reasonmath.yaml").write_text(original.replace("A lamp costs $40.00", "A lamp costs $50.00"), encoding="utf-8")
    answers.delay_s = 0.0
    refused = cli("run", "--resume", "late", home=home, BENCHLOOP_TASKS_DIR=tasks)
    assert refused.returncode == 2
    line = refused.stderr.strip()
    assert "\n" not in line and "tasks/reasonmath.yaml differs" in line and "start a new run" in line

    (tasks / "reasonmath.yaml").write_text(original, encoding="utf-8")
    ok = cli("run", "--resume", "late", home=home, BENCHLOOP_TASKS_DIR=tasks)
    assert ok.returncode == 0, ok.stderr
    done = load_json(run_dir / "run.json")
    assert done["status"] == "complete" and len(done["tasks"]) == N_TASKS
    assert not any(t["error"] for t in done["tasks"])


def test_resume_keeps_the_runs_settings_and_refuses_what_it_cannot_continue(scripted, tmp_path):
    home = tmp_path / "home"
    run_dir = home / "runs" / "r1"
    run_dir.mkdir(parents=True)
    meta = {"run_id": "r1", "settings": {"model": "scripted-model", "provider": "openai_compat", "endpoint": "http://127.0.0.1:9", "temperature": 0.0, "harness": "raw", "profile": "full"}}
    (run_dir / "meta.json").write_text(json.dumps(meta))
    no_plan = cli("run", "--resume", "r1", home=home)
    assert no_plan.returncode == 2 and "before its task list was recorded" in no_plan.stderr
    changed = cli("run", "--resume", "r1", "--temperature", "0.7", home=home)
    assert changed.returncode == 2 and "temperature" in changed.stderr and "keeps the run's settings" in changed.stderr
    other = cli("run", "--resume", "r1", "--model", "other", home=home)
    assert other.returncode == 2 and "--model" in other.stderr
    missing = cli("run", "--resume", "nope", home=home)
    assert missing.returncode == 2 and "no run 'nope'" in missing.stderr
    hostile = cli("run", "--resume", "../../etc", home=home)
    assert hostile.returncode == 2


# ---------------------------------------------------------------- retries and task deadlines
def _ctx(ep, **kw):
    from benchloop.harnesses import get_harness
    from benchloop.providers import make_provider
    from benchloop.drivers.conversation import Conversation

    from benchloop.tasks import load_suite

    suite = load_suite("reasonmath")
    ctx = Conversation(provider=make_provider("openai_compat", ep.url, timeout=5), harness=get_harness("raw"), model="scripted-model", suite_defaults=suite["defaults"], backoff_s=0.01, **kw)
    return ctx, suite["tasks"][0]


def _script(*replies):
    """A responder that plays ``replies`` in order, then the task's reference answer forever."""
    queue = list(replies)
    answer = Answers()

    def responder(req):
        return queue.pop(0) if queue else answer(req)

    return responder


@pytest.mark.parametrize("status", [429, 502, 503])
def test_transient_http_errors_are_retried_and_recorded(scripted, status):
    from benchloop.drivers import run_task

    ep = scripted(_script(Reply(status=status), Reply(status=status)))
    ctx, task = _ctx(ep, retries=2)
    rec = run_task(task, ctx)
    assert rec["passed"] and rec["error"] is None
    assert [(r["kind"], r["status"]) for r in rec["retries"]] == [("http", status), ("http", status)]
    assert [r["wait_s"] for r in rec["retries"]] == [0.01, 0.02]  # exponential backoff


def test_retries_are_bounded_and_permanent_errors_are_not_retried(scripted):
    from benchloop.drivers import run_task

    ep = scripted(_script(*[Reply(status=503)] * 5))
    ctx, task = _ctx(ep, retries=2)
    rec = run_task(task, ctx)
    assert rec["error_kind"] == "http" and "503" in rec["error"] and len(rec["retries"]) == 2

    ep = scripted(_script(Reply(status=400)))
    ctx, task = _ctx(ep, retries=2)
    rec = run_task(task, ctx)
    assert rec["error_kind"] == "http" and rec["retries"] == []
    assert sum(1 for r in ep.received if r["path"].endswith("/chat/completions")) == 1


def test_a_refused_connection_is_retried_then_reported(scripted):
    from benchloop.drivers import run_task

    ep = scripted(Answers())
    ep.kill()  # nothing listens any more: ECONNREFUSED
    ctx, task = _ctx(ep, retries=3)
    rec = run_task(task, ctx)
    assert rec["error_kind"] == "connect" and "refused" in rec["error"]
    assert [r["kind"] for r in rec["retries"]] == ["connect"] * 3


def test_the_task_deadline_bounds_retries_and_backoff(scripted):
    from benchloop.drivers import run_task

    ep = scripted(_script(*[Reply(status=503)] * 50))
    ctx, task = _ctx(ep, retries=10, task_deadline_s=0.5)
    ctx.backoff_s = 0.1
    t0 = time.monotonic()
    rec = run_task(task, ctx)
    assert time.monotonic() - t0 < 0.9
    assert rec["error"] and len(rec["retries"]) < 10
    assert sum(r["wait_s"] for r in rec["retries"]) < 0.5

    ctx, task = _ctx(ep, run_deadline_at=time.time() - 1)
    rec = run_task(task, ctx)
    assert rec["error_kind"] == "deadline" and "deadline" in rec["error"]


def test_transient_classification():
    from benchloop.providers.base import ProviderError
    from benchloop.drivers.conversation import transient

    assert transient(ProviderError("connect", "connection refused at http://x (chat)"))
    assert not transient(ProviderError("connect", "timed out connecting to http://x"))
    assert not transient(ProviderError("timeout", "no progress for 5s"))
    assert not transient(ProviderError("protocol", "stream ended before the reply finished"))
    assert transient(ProviderError("http", "HTTP 429", status=429))
    assert not transient(ProviderError("http", "HTTP 500", status=500))
    assert not transient(ProviderError("http", "HTTP 401", status=401))


# ---------------------------------------------------------------- two runs, one runs directory
def _meet_first(responder, parties: int = 2, timeout: float = 60.0):
    """``responder``, but the first ``parties`` requests wait for each other: runs that each
    ask one question at a time are then all in flight together, however late the machine
    starts one of them."""
    import threading

    barrier, lock, seen = threading.Barrier(parties, timeout=timeout), threading.Lock(), [0]

    def meet(req):
        with lock:
            seen[0] += 1
            first = seen[0] <= parties
        if first:
            barrier.wait()
        return responder(req)

    return meet


def test_two_runs_at_once_into_one_runs_directory_both_land_intact(scripted, tmp_path):
    ep = scripted(_meet_first(Answers(passing, delay_s=0.02)))
    home = tmp_path / "home"
    quick = ["--profile", "quick"]
    a = subprocess.Popen(run_args(ep.url, *quick), env=env_for(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    b = subprocess.Popen(run_args(ep.url, *quick), env=env_for(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    outs = [p.communicate(timeout=120) for p in (a, b)]
    assert a.returncode == 0 and b.returncode == 0, outs
    dirs = sorted(d for d in (home / "runs").iterdir() if d.is_dir())
    assert len(dirs) == 2 and dirs[0].name != dirs[1].name
    runs = [load_json(d / "run.json") for d in dirs]
    for d, run in zip(dirs, runs):
        assert run["run_id"] == d.name and run["status"] == "complete" and len(run["tasks"]) == N_QUICK
        recs = read_tasks_jsonl(d / "tasks.jsonl")
        assert sorted(task_keys(run)) == sorted((r["suite"], r["task_id"]) for r in recs)  # no record strayed
    # they really overlapped in time
    (s0, f0), (s1, f1) = [(r["started_at"], r["finished_at"]) for r in runs]
    assert s0 < f1 and s1 < f0
    assert comparable_view(runs[0]) == comparable_view(runs[1])

    # a run asking for an id that is taken is refused, and the existing run is untouched
    twin = cli("run", "--provider", "openai_compat", "--endpoint", ep.url, "--model", "scripted-model", "--suites", "reasonmath", "--run-id", dirs[0].name, home=home)
    assert twin.returncode == 2 and "already exists" in (twin.stdout + twin.stderr)
    assert load_json(dirs[0] / "run.json") == runs[0]


def test_a_run_being_written_cannot_be_resumed_at_the_same_time(tmp_path):
    """The lock is per open file description, so a second open in this process stands in
    for a second process; the kernel drops it when the holder dies (kill -9 included)."""
    from benchloop.resume import RunLocked, lock_run

    d = tmp_path / "r"
    d.mkdir()
    held = lock_run(d)
    with pytest.raises(RunLocked, match="being written by another benchloop process"):
        lock_run(d)
    held.close()
    lock_run(d).close()


def test_retry_after_is_honoured_and_an_excessive_one_fails_the_task(scripted):
    from benchloop.drivers import run_task

    ep = scripted(_script(Reply(status=429, retry_after="1")))
    ctx, task = _ctx(ep, retries=2)
    t0 = time.perf_counter()
    rec = run_task(task, ctx)
    assert rec["passed"] and [r["wait_s"] for r in rec["retries"]] == [1.0]  # not the 0.01 s backoff
    assert time.perf_counter() - t0 >= 1.0

    ep = scripted(_script(Reply(status=503, retry_after="3600")))
    ctx, task = _ctx(ep, retries=2)
    t0 = time.perf_counter()
    rec = run_task(task, ctx)
    assert rec["error_kind"] == "http" and "503" in rec["error"] and rec["retries"] == []
    assert time.perf_counter() - t0 < 5


def test_retry_after_header_forms():
    from benchloop.providers.base import retry_after

    assert retry_after("\u00b2") is None  # a digit to str.isdigit, not to float()
    assert retry_after("7") == 7.0 and retry_after(None) is None and retry_after("soon") is None
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0  # already past
