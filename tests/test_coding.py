"""coding suite: the frozen tasks, the checker, hostile code, and one run through the plugin.

Why: a coding score is only worth reading if a correct function earns 100, a plausible
bug earns less, and nothing else earns anything: not silence, not an echo of the prompt,
not a canned sentence, not a stub that returns a constant, not code hidden in reasoning.
And because the code is model output, every hostile program (hang, fork bomb, 10 GB,
writing outside its temp dir, reading the API key, opening a socket) must end as a failed
task while the run carries on; the last test proves that through pytest, the plugin and a
real HTTP endpoint.

Sandbox runs cost ~40-150 ms each on a loaded box, so per-task verdicts are computed once
per module in a thread pool of 2 and the parametrized tests only read them.
"""
from __future__ import annotations

import copy
import json
import os
import secrets
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from benchloop.checkers import coding
from benchloop.harnesses.base import task_messages
from benchloop.tasks import TaskFileError, load_suite, select
from benchloop.testing.scripted import Reply

ROOT = Path(__file__).resolve().parents[1]
SUITE_FILE = str(ROOT / "suites" / "test_coding.py")
TASKS = load_suite("coding")["tasks"]
IDS = [t["id"] for t in TASKS]
BY_ID = {t["id"]: t for t in TASKS}
CANNED = ["I cannot help with that.", "ANSWER: 42", "Sure! Here is the code you asked for."]
# Code that is the same whatever the task: it defines nothing the tests call.
CONSTANT_CODE = "```python\ndef solve(x):\n    return x\n```"
# Stubs that define the entry point but do no work; every hidden test must catch them.
# (Constant True/False/0/""/[]/{} stubs were checked too when the tasks were written; they
# cost a sandbox run each, so only the three commonest shapes of "no work" stay here.)
STUB_BODIES = ["return None", "raise ValueError('no')", "return args[0] if args else None"]


def pool_map(fn, items):
    with ThreadPoolExecutor(max_workers=2) as ex:
        return list(ex.map(fn, items))


def stub(entry_point: str, body: str) -> str:
    return f"Here you go:\n\n```python\ndef {entry_point}(*args, **kwargs):\n    {body}\n```\n"


def fast(task: dict, timeout_s: float = 2.0) -> dict:
    """The task with a short wall clock (CPU budget 1 s), so hangs end quickly in tests."""
    t = copy.deepcopy(task)
    t["check"]["timeout_s"] = timeout_s
    return t


@pytest.fixture(scope="module")
def ref_wrong() -> dict:
    """{task id: (reference verdict, wrong verdict)} for every task, computed in parallel."""
    jobs = [(t, kind) for t in TASKS for kind in ("reference", "wrong")]
    verdicts = pool_map(lambda job: coding.check(job[0], {"content": job[0][job[1]]}), jobs)
    out: dict = {}
    for (t, kind), v in zip(jobs, verdicts):
        out.setdefault(t["id"], {})[kind] = v
    return out


@pytest.fixture(scope="module")
def stub_scores() -> dict:
    """{task id: [score of each stub]} for every task and every stub in STUB_BODIES."""
    jobs = [(t, body) for t in TASKS for body in STUB_BODIES]
    scores = pool_map(lambda job: coding.check(job[0], {"content": stub(job[0]["check"]["entry_point"], job[1])})["score"], jobs)
    out: dict = {}
    for (t, _), s in zip(jobs, scores):
        out.setdefault(t["id"], []).append(s)
    return out


# ------------------------------------------------------------------ the frozen task file --
def test_suite_shape():
    assert len(TASKS) >= 20
    assert all(len(t["id"]) == 6 and t["id"].startswith("cd-") for t in TASKS)
    assert IDS == sorted(IDS)
    for t in TASKS:
        assert 5 <= len(t["check"]["tests"]) <= 10, t["id"]
        assert f"`{t['check']['entry_point']}(" in t["prompt"], t["id"]
        assert "```python" in t["reference"] and "```" in t["wrong"], t["id"]
    quick, core = select(TASKS, profile="quick"), select(TASKS, profile="core")
    assert 3 <= len(quick) < len(core) < len(TASKS)
    assert {t["id"] for t in quick} <= {t["id"] for t in core}


def test_checker_is_registered_and_versioned():
    from benchloop.checkers import registry

    assert registry.get("coding") is coding
    assert registry.version("coding") == coding.CHECKER_VERSION


@pytest.mark.parametrize("tid", IDS)
def test_hidden_tests_never_appear_in_the_prompt(tid):
    task = BY_ID[tid]
    shown = coding._norm_ws("\n".join(m["content"] for m in task_messages(task)))
    for test in task["check"]["tests"]:
        assert coding._norm_ws(test["code"]) not in shown
        for line in test["code"].splitlines():
            line = coding._norm_ws(line).removeprefix("assert ")
            if len(line) >= 12:
                assert line not in shown, (tid, test["name"], line)


# ------------------------------------------------------- reference 100, wrong less, no free points --
@pytest.mark.parametrize("tid", IDS)
def test_reference_scores_100_and_wrong_scores_less(tid, ref_wrong):
    ref, wrong = ref_wrong[tid]["reference"], ref_wrong[tid]["wrong"]
    assert ref["score"] == 100.0 and ref["passed"], ref["reason"]
    assert all(c["ok"] and c["error"] is None for c in ref["checks"])
    assert [c["name"] for c in ref["checks"]] == [t["name"] for t in BY_ID[tid]["check"]["tests"]]
    assert wrong["score"] < 100.0 and not wrong["passed"]
    assert wrong["score"] == round(100 * wrong["tests_passed"] / wrong["tests_total"], 2)
    assert "hidden tests" in wrong["reason"] and any(not c["ok"] and c["error"] for c in wrong["checks"])
    for v in (ref, wrong):
        assert not v["sandbox"]["timed_out"] and not v["sandbox"]["killed"]
        json.dumps(v)  # plain data for the record


@pytest.mark.parametrize("tid", IDS)
def test_empty_echo_and_constant_replies_score_0(tid):
    task = BY_ID[tid]
    msgs = task_messages(task)
    replies = ["", "   \n", msgs[-1]["content"], "\n\n".join(m["content"] for m in msgs), *CANNED]
    for content in replies:
        v = coding.check(task, {"content": content})
        assert v["score"] == 0.0 and not v["passed"], content[:60]
    v = coding.check(task, {"content": CONSTANT_CODE})
    assert v["score"] == 0.0 and "NameError" in v["checks"][0]["error"]


@pytest.mark.parametrize("tid", IDS)
def test_stubs_that_define_the_function_score_0(tid, stub_scores):
    assert stub_scores[tid] == [0.0] * len(STUB_BODIES), dict(zip(STUB_BODIES, stub_scores[tid]))


@pytest.mark.parametrize("tid", IDS)
def test_code_only_in_reasoning_scores_0(tid):
    task = BY_ID[tid]
    ref = task["reference"]
    for reply in ({"content": "", "reasoning": ref},
                  {"content": "The function is described above.", "reasoning": ref},
                  {"content": f"<think>\n{ref}\n</think>\nDone, see my reasoning."},
                  {"content": f"<think>\n{ref}"},  # reasoning cut off by the token limit
                  {"content": f"{ref}\n</think>\nThat was my draft."}):
        assert coding.check(task, reply)["score"] == 0.0, reply


def test_last_corrected_fence_is_graded_and_helpers_are_kept():
    task = BY_ID["cd-003"]
    reply = ("First try:\n```python\ndef rle_encode(text):\n    return text\n```\n"
             "Oops, fixed:\n```python\nfrom itertools import groupby\n\ndef rle_encode(text):\n"
             "    return ''.join(_piece(c, g) for c, g in groupby(text))\n```\n"
             "with this helper:\n```python\ndef _piece(c, g):\n    return f'{len(list(g))}{c}'\n```\n")
    assert coding.check(task, {"content": reply})["score"] == 100.0


def test_partial_credit_is_the_fraction_of_hidden_tests():
    task = BY_ID["cd-024"]
    # right except for the two-element run rule -> exactly the tests that have such a run fail
    v = coding.check(task, {"content": task["wrong"]})
    failed = {c["name"] for c in v["checks"] if not c["ok"]}
    assert failed == {"basic", "pair_is_a_run"}
    assert v["score"] == round(100 * 5 / 7, 2) and v["tests_passed"] == 5


def test_weird_replies_never_raise():
    task = BY_ID["cd-001"]
    for reply in ({}, {"content": None}, {"content": 12}, {"content": ["x"]}, {"content": "\x00" * 10},
                  {"content": "```python\n" + "(" * 5000 + "\n```"}, {"content": "def parse_duration(" * 20000}):
        v = coding.check(task, reply)
        assert v["score"] == 0.0 and not v["passed"]
        json.dumps(v)


def test_huge_code_is_not_run():
    task = BY_ID["cd-001"]
    body = "x = 1\n" * 30_000 + "def parse_duration(text):\n    return 0\n"
    v = coding.check(task, {"content": f"```python\n{body}```"})
    assert v["score"] == 0.0 and "limit" in v["reason"] and "sandbox" not in v


def test_errors_are_truncated_and_secrets_redacted(monkeypatch):
    key = "sk-redact-" + secrets.token_hex(12)
    monkeypatch.setenv("SOME_SERVICE_TOKEN", key)
    task = BY_ID["cd-001"]
    reply = ("```python\ndef parse_duration(text):\n"
             f"    raise RuntimeError({key!r} + 'x' * 5000)\n```")
    v = coding.check(task, {"content": reply})
    errors = [c["error"] for c in v["checks"]]
    assert all(len(e) <= coding.MAX_ERROR_CHARS + 40 for e in errors)
    assert key not in json.dumps(v) and "[redacted]" in errors[0]


# ----------------------------------------------------------------------- validation --
def _one_task_file(tmp_path, **over):
    import yaml

    task = copy.deepcopy(BY_ID["cd-003"])
    task.pop("suite", None)
    task.pop("system", None)
    for k, v in over.items():
        if k == "check":
            task["check"].update(v)
        else:
            task[k] = v
    (tmp_path / "coding.yaml").write_text(yaml.safe_dump({"suite": "coding", "tasks": [task]}))
    return tmp_path


@pytest.mark.parametrize("over, fragment", [
    ({"prompt": BY_ID["cd-003"]["prompt"] + ' Note: rle_encode("wwwwbbbw") == "4w3b1w".'}, "leaks into the prompt"),
    ({"check": {"entry_point": "rle encode"}}, "identifier"),
    ({"check": {"entry_point": "run_length"}}, "not named in the prompt"),
    ({"check": {"tests": []}}, "tests must be a list"),
    ({"check": {"tests": [{"name": "a", "code": "assert ("}]}}, "not valid Python"),
    ({"check": {"tests": [{"name": "a", "code": "pass"}, {"name": "a", "code": "pass"}]}}, "duplicate"),
    ({"check": {"timeout_s": 0}}, "timeout_s"),
    ({"reference": {"content": "x"}}, "field 'reference'"),
])
def test_invalid_tasks_fail_loading_with_task_and_field(tmp_path, over, fragment):
    with pytest.raises(TaskFileError) as ei:
        load_suite("coding", _one_task_file(tmp_path, **over))
    msg = str(ei.value)
    assert "coding.yaml task cd-003" in msg and fragment in msg and "\n" not in msg


# ----------------------------------------------------------- hostile code, at checker level --
def hostile(entry_point: str, body: str, prelude: str = "") -> str:
    """A chat reply whose function (the task's entry point) does something hostile."""
    body = "\n".join("    " + line for line in body.strip("\n").splitlines())
    return f"Sure:\n\n```python\n{prelude}\ndef {entry_point}(*args, **kwargs):\n{body}\n```\n"


FORK_BOMB = "import os\nwhile True:\n    os.fork()"
BUSY_LOOP = "while True:\n    pass"
BIG_ALLOC = "block = bytearray(10 * 1024 ** 3)\nreturn len(block)"
KEY_HUNT = """
import os
found = os.environ.get("OPENAI_API_KEY", "")
for pid in os.listdir("/proc"):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            data = f.read().decode("latin-1")
    except OSError:
        continue
    if "OPENAI_API_KEY" in data:
        found += data
raise RuntimeError(f"leak:{len(found)}:{found}")
"""


def write_outside(targets) -> str:
    # writes, then returns the right answer: only a blocked write can fail the tests
    lines = [f"open({t!r}, 'w').write('pwned')" for t in targets]
    return "\n".join(lines) + "\nfrom itertools import groupby\nreturn ''.join(f'{len(list(g))}{c}' for c, g in groupby(args[0]))"


def connect_to(port: int) -> str:
    return ("import socket\n"
            f"socket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'hi')\n"
            "from itertools import groupby\nreturn ''.join(f'{len(list(g))}{c}' for c, g in groupby(args[0]))")


def test_hostile_infinite_loops_end_as_failed_tasks():
    task = fast(BY_ID["cd-003"], timeout_s=1.0)
    for body in (BUSY_LOOP, "import time\nwhile True:\n    time.sleep(0.05)"):
        start = time.monotonic()
        v = coding.check(task, {"content": hostile("rle_encode", body)})
        assert time.monotonic() - start < 8
        assert v["score"] == 0.0 and not v["passed"] and v["sandbox"]["killed"]
        assert v["sandbox"]["timed_out"] or "SIGKILL" in v["sandbox"]["error"]


def test_hostile_fork_bomb_ends_and_the_next_task_still_runs():
    task = fast(BY_ID["cd-003"])
    start = time.monotonic()
    v = coding.check(task, {"content": hostile("rle_encode", FORK_BOMB)})
    assert time.monotonic() - start < 8
    assert v["score"] == 0.0 and not v["passed"]
    assert coding.check(task, {"content": task["reference"]})["score"] == 100.0


def test_hostile_ten_gigabyte_allocation_fails():
    v = coding.check(BY_ID["cd-003"], {"content": hostile("rle_encode", BIG_ALLOC)})
    assert v["score"] == 0.0 and "MemoryError" in v["checks"][0]["error"]


def test_hostile_write_outside_its_temp_dir_is_blocked():
    tag = secrets.token_hex(6)
    targets = [f"/tmp/benchloop_cd_escape_{tag}", str(ROOT / f"benchloop_cd_escape_{tag}")]
    try:
        v = coding.check(BY_ID["cd-003"], {"content": hostile("rle_encode", write_outside(targets))})
        leaked = [t for t in targets if os.path.exists(t)]
        if leaked and not v["sandbox"]["fs_isolated"]:
            pytest.skip(f"no mount namespace on this machine, so the project stays writable: {v['sandbox']['notes']}")
        assert leaked == []
        assert v["score"] == 0.0
        assert all("Read-only file system" in c["error"] or "Permission denied" in c["error"] for c in v["checks"])
    finally:
        for t in targets:
            if os.path.exists(t):
                os.remove(t)


def test_hostile_api_key_read_finds_nothing(monkeypatch):
    key = "sk-test-" + secrets.token_hex(16)
    monkeypatch.setenv("OPENAI_API_KEY", key)
    v = coding.check(BY_ID["cd-003"], {"content": hostile("rle_encode", KEY_HUNT)})
    assert v["score"] == 0.0
    if not (os.geteuid() == 0 or v["sandbox"]["network_isolated"]):
        pytest.skip("non-root without user namespaces: the candidate shares our uid (documented sandbox limit)")
    assert all("RuntimeError: leak:0:" in c["error"] for c in v["checks"]), v["checks"][0]
    assert key not in json.dumps(v) and key[:16] not in json.dumps(v)


def test_hostile_socket_cannot_reach_this_machine():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        srv.setblocking(False)
        v = coding.check(BY_ID["cd-003"], {"content": hostile("rle_encode", connect_to(srv.getsockname()[1]))})
        if not v["sandbox"]["network_isolated"]:
            pytest.skip(f"no network namespace on this machine: {v['sandbox']['notes']}")
        assert v["score"] == 0.0
        assert all("OSError" in c["error"] or "unreachable" in c["error"] for c in v["checks"]), v["checks"][0]
        with pytest.raises(BlockingIOError):
            srv.accept()


# --------------------------------------------- the whole loop: runner, harness, endpoint --
def test_reasoning_channel_never_graded_through_the_runner(scripted):
    from benchloop.harnesses import get_harness
    from benchloop.providers import make_provider
    from benchloop.runner import RunContext, run_task

    task = BY_ID["cd-019"]
    replies = {"plain": Reply(content=task["reference"]),
               "reasoning": Reply(content="See above.", reasoning=task["reference"]),
               "think": Reply(content=f"<think>{task['reference']}</think>Done.")}
    for kind, expected in (("plain", 100.0), ("reasoning", 0.0), ("think", 0.0)):
        ep = scripted(lambda req, r=replies[kind]: r)
        for harness in ("raw", "pi"):
            ctx = RunContext(provider=make_provider("openai_compat", ep.url), harness=get_harness(harness), model="scripted-model")
            rec = run_task(task, ctx)
            assert rec["error"] is None and rec["score"] == expected, (kind, harness, rec["reason"])


def test_hostile_run_through_the_plugin_carries_on(pytester, scripted, tmp_path):
    """pytest + plugin + HTTP endpoint: six hostile tasks fail, the reference task scores
    100, the run completes with every record, and the API key reaches no file."""
    key = "sk-test-" + secrets.token_hex(16)
    tag = secrets.token_hex(6)
    escape = [f"/tmp/benchloop_cd_e2e_{tag}", str(ROOT / f"benchloop_cd_e2e_{tag}")]
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.setblocking(False)
    plan = {
        "cd-001": BUSY_LOOP,
        "cd-002": FORK_BOMB,
        "cd-003": BIG_ALLOC,
        "cd-004": write_outside(escape),
        "cd-005": KEY_HUNT,
        "cd-006": connect_to(listener.getsockname()[1]),
    }
    ids = [*plan, "cd-019"]
    by_prompt = {BY_ID[tid]["prompt"]: tid for tid in ids}

    def responder(req):
        tid = by_prompt.get(req["messages"][-1]["content"])
        if tid == "cd-019":
            return BY_ID[tid]["reference"]
        if tid is None:
            return "no idea"
        return hostile(BY_ID[tid]["check"]["entry_point"], plan[tid])

    ep = scripted(responder)
    runs = tmp_path / "runs"
    pytester._monkeypatch.setenv("OPENAI_API_KEY", key)
    try:
        start = time.monotonic()
        res = pytester.runpytest_subprocess(
            SUITE_FILE, "-p", "no:cacheprovider", "--benchloop-provider=openai_compat",
            f"--benchloop-endpoint={ep.url}", "--benchloop-model=scripted-model", f"--benchloop-runs-dir={runs}",
            *[f"--benchloop-task={tid}" for tid in ids])
        elapsed = time.monotonic() - start
        res.assert_outcomes(passed=1, failed=len(plan))
        (run_dir,) = [d for d in runs.iterdir() if d.is_dir()]
        run_text = (run_dir / "run.json").read_text()
        lines = (run_dir / "tasks.jsonl").read_text()
        run = json.loads(run_text)
        assert run["status"] == "complete" and len(run["tasks"]) == len(ids) == len(lines.splitlines())
        recs = {t["task_id"]: t for t in run["tasks"]}
        assert recs["cd-019"]["score"] == 100.0 and recs["cd-019"]["passed"]
        for tid in plan:
            rec = recs[tid]
            # a failed task, graded by the checker: not a provider or harness error
            assert rec["score"] == 0.0 and not rec["passed"] and rec["error"] is None, (tid, rec["reason"])
            assert len(rec["checks"]) == len(BY_ID[tid]["check"]["tests"])
        assert recs["cd-001"]["detail"]["sandbox"]["killed"]
        assert "MemoryError" in recs["cd-003"]["checks"][0]["error"]
        assert [t for t in escape if os.path.exists(t)] == []
        assert "leak:0:" in recs["cd-005"]["checks"][0]["error"]
        with pytest.raises(BlockingIOError):
            listener.accept()
        # the key really was in the run's environment (the client sent it) and is on no disk
        assert any(r["headers"].get("authorization") == f"Bearer {key}" for r in ep.received)
        assert key not in run_text and key not in lines
        assert elapsed < 60
    finally:
        listener.close()
        for t in escape:
            if os.path.exists(t):
                os.remove(t)
