"""coding suite: the frozen tasks, the checker, hostile code, and one run through the plugin.

Why: a coding score is only worth reading if a correct function earns 100, a plausible
bug earns less, and nothing else earns anything: not silence, not an echo of the prompt,
not a canned sentence, not a stub that returns a constant, not code hidden in reasoning.
And because the code is model output, every hostile program (hang, fork bomb, 10 GB,
writing outside its temp dir, reading the API key, opening a socket) must end as a failed
task while the run carries on; the last test proves that through pytest, the plugin and a
real HTTP endpoint.

Hidden tests are data (calls with literal arguments and expected values); the gaming set
proves on every task that code which patches builtins, forges frames, returns always-equal
objects, prints fake results, exits early, hangs or floods scores 0.

Sandbox runs cost ~40-150 ms each on a loaded box, so per-task verdicts are computed once
per module in a thread pool and the parametrized tests only read them.
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
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchloop.checkers import coding
from benchloop.tasks import task_messages
from benchloop.tasks import TaskFileError, load_suite, select
from benchloop.record import Verdict
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
# ("return None" is what most of the gaming set below returns.)
STUB_BODIES = ["raise ValueError('no')", "return args[0] if args else None"]


def stub(entry_point: str, body: str) -> str:
    return f"Here you go:\n\n```python\ndef {entry_point}(*args, **kwargs):\n    {body}\n```\n"


def fast(task: dict, timeout_s: float = 2.0) -> dict:
    """The task with a short wall clock (CPU budget 1 s), so hangs end quickly in tests."""
    t = copy.deepcopy(task)
    t["check"]["timeout_s"] = timeout_s
    return t


def check_all(jobs, workers: int = 2) -> list:
    """coding.check for each (task, content) pair, in a small thread pool."""
    with ThreadPoolExecutor(max_workers=workers) as ex:
        return list(ex.map(lambda job: coding.check(job[0], {"content": job[1]}), jobs))


# ------------------------------------------------------------------ the frozen task file --
def test_suite_shape():
    assert len(TASKS) == 24
    assert all(len(t["id"]) == 6 and t["id"].startswith("cd-") for t in TASKS)
    assert IDS == sorted(IDS)
    for t in TASKS:
        assert 5 <= len(t["check"]["tests"]) <= 10, t["id"]
        assert f"`{t['check']['entry_point']}(" in t["prompt"], t["id"]
        assert "```python" in t["reference"] and "```" in t["wrong"], t["id"]
        for test in t["check"]["tests"]:  # data, never code
            assert all(not isinstance(c, str) or "assert" not in c for c in test["calls"]), (t["id"], test["name"])
    quick, core = select(TASKS, profile="quick"), select(TASKS, profile="core")
    assert 3 <= len(quick) < len(core) < len(TASKS)
    assert {t["id"] for t in quick} <= {t["id"] for t in core}


def test_checker_is_registered_and_versioned():
    from benchloop.checkers import registry

    assert registry.get("coding") is coding
    assert registry.version("coding") == coding.CHECKER_VERSION == "coding-2"


@pytest.mark.parametrize("tid", IDS)
def test_hidden_tests_never_appear_in_the_prompt(tid):
    task = BY_ID[tid]
    shown = coding._norm_ws("\n".join(m["content"] for m in task_messages(task)))
    for test in task["check"]["tests"]:
        for spec in test["calls"]:
            assert not coding.leaks(coding.parse_call(spec, task["check"]["entry_point"]), shown), (tid, spec)


# ------------------------------------------------------- reference 100, wrong 0, no free points --
@pytest.mark.parametrize("tid", IDS)
def test_reference_scores_100_and_wrong_scores_0(tid):
    ref, wrong = check_all([(BY_ID[tid], BY_ID[tid]["reference"]), (BY_ID[tid], BY_ID[tid]["wrong"])])
    assert ref.score == 100.0 and ref.passed, ref.reason
    assert all(c["ok"] and c["detail"] is None for c in ref.checks)
    assert [c["name"] for c in ref.checks] == [t["name"] for t in BY_ID[tid]["check"]["tests"]]
    assert ref.detail["fraction_passed"] == 1.0 and ref.detail["calls_passed"] == ref.detail["calls_total"]
    # pass@1: a plausible bug scores 0 even when most calls pass; the fraction is a detail
    assert wrong.score == 0.0 and not wrong.passed
    assert 0 <= wrong.detail["fraction_passed"] < 1
    assert "hidden tests" in wrong.reason and any(not c["ok"] and c["detail"] for c in wrong.checks)
    for v in (ref, wrong):
        assert not v.detail["sandbox"]["timed_out"] and not v.detail["sandbox"]["killed"]
        json.dumps(v.to_dict())  # plain data for the record


@pytest.mark.parametrize("tid", IDS)
def test_empty_echo_and_constant_replies_score_0(tid):
    task = BY_ID[tid]
    msgs = task_messages(task)
    replies = ["", "   \n", msgs[-1]["content"], "\n\n".join(m["content"] for m in msgs), *CANNED]
    for content in replies:
        v = coding.check(task, {"content": content})
        assert v.score == 0.0 and not v.passed, content[:60]
    v = coding.check(task, {"content": CONSTANT_CODE})
    assert v.score == 0.0 and "NameError" in v.reason and v.checks[0]["detail"] == "not run"


@pytest.mark.parametrize("tid", IDS)
def test_stubs_that_define_the_function_score_0(tid):
    task = BY_ID[tid]
    scores = [v.score for v in check_all([(task, stub(task["check"]["entry_point"], b)) for b in STUB_BODIES])]
    assert scores == [0.0] * len(STUB_BODIES), dict(zip(STUB_BODIES, scores))


@pytest.mark.parametrize("tid", IDS)
def test_code_only_in_reasoning_scores_0(tid):
    task = BY_ID[tid]
    ref = task["reference"]
    for reply in ({"content": "", "reasoning": ref},
                  {"content": "The function is described above.", "reasoning": ref},
                  {"content": f"<think>\n{ref}\n</think>\nDone, see my reasoning."},
                  {"content": f"<think>\n{ref}"},  # reasoning cut off by the token limit
                  {"content": f"{ref}\n</think>\nThat was my draft."}):  # a lone closing tag
        assert coding.check(task, reply).score == 0.0, reply


def test_last_corrected_fence_is_graded_and_helpers_are_kept():
    task = BY_ID["cd-003"]
    reply = ("First try:\n```python\ndef rle_encode(text):\n    return text\n```\n"
             "Oops, fixed:\n```python\nfrom itertools import groupby\n\ndef rle_encode(text):\n"
             "    return ''.join(_piece(c, g) for c, g in groupby(text))\n```\n"
             "with this helper:\n```python\ndef _piece(c, g):\n    return f'{len(list(g))}{c}'\n```\n")
    assert coding.check(task, {"content": reply}).score == 100.0
    # the answer after a lone </think> is graded; the draft before it is not
    assert coding.check(task, {"content": "draft: def rle_encode(t): return t\n</think>\n" + reply}).score == 100.0


def test_pass_at_1_with_the_fraction_in_detail():
    task = BY_ID["cd-024"]
    # right except for the two-element run rule -> exactly the tests that have such a run fail
    v = coding.check(task, {"content": task["wrong"]})
    failed = {c["name"] for c in v.checks if not c["ok"]}
    assert failed == {"basic", "pair_is_a_run"}
    assert v.score == 0.0 and v.detail["tests_passed"] == 5 and v.detail["tests_total"] == 7
    assert v.detail["fraction_passed"] == round(v.detail["calls_passed"] / v.detail["calls_total"], 4) == 0.75


def test_our_equality_is_strict_about_types_and_tolerant_about_floats():
    assert coding.same([(1, 2)], [(1, 2)]) is None
    assert coding.same([(1, 2)], [[1, 2]])  # a list is not a tuple
    assert coding.same(1, True) and coding.same(True, 1) and coding.same(1, 1.0)
    assert coding.same(0.3, 0.1 + 0.2) is None and coding.same(2.0, 2) is None and coding.same(0.3, 0.31)
    assert coding.same(float("nan"), float("nan")) is None and coding.same(float("nan"), 1.0)
    assert coding.same({"a": [None]}, {"a": [None]}) is None and coding.same({"a": 1}, {"a": 1, "b": 2})
    assert coding.same(float("inf"), 10 ** 400)  # no OverflowError, just different


def test_weird_replies_never_raise():
    task = BY_ID["cd-001"]
    for reply in ({}, {"content": None}, {"content": 12}, {"content": ["x"]}, {"content": "\x00" * 10}, None, 7,
                  {"content": "```python\n" + "(" * 5000 + "\n```"}, {"content": "def parse_duration(" * 20000}):
        v = coding.check(task, reply)
        assert v.score == 0.0 and not v.passed
        json.dumps(v.to_dict())
    assert coding.check({"id": "x"}, {"content": "x"}).score == 0.0  # a broken task: a verdict, not a crash


def test_extraction_from_200k_odd_characters_is_fast():
    task = BY_ID["cd-001"]
    for junk in ("<think>\n", "@\n", "    def f(x):\n    )\n", "import os\nfoo bar baz\n", "```\nx(\n", "def f(:\n"):
        content = (junk * (200_000 // len(junk) + 1))[:200_000]
        start = time.thread_time()  # the judge's own CPU: a loaded machine's wall clock says nothing about linearity
        v = coding.check(task, {"content": content})
        assert time.thread_time() - start < 1.0, junk
        assert v.score == 0.0


def test_huge_code_is_not_run():
    task = BY_ID["cd-001"]
    body = "x = 1\n" * 30_000 + "def parse_duration(text):\n    return 0\n"
    v = coding.check(task, {"content": f"```python\n{body}```"})
    assert v.score == 0.0 and "limit" in v.reason and "sandbox" not in v.detail


def test_errors_are_truncated_and_secrets_redacted(monkeypatch):
    key = "sk-redact-" + secrets.token_hex(12)
    monkeypatch.setenv("SOME_SERVICE_TOKEN", key)
    task = BY_ID["cd-001"]
    reply = ("```python\ndef parse_duration(text):\n"
             f"    return {key!r} + 'x' * 5000\n```")
    v = coding.check(task, {"content": reply})
    details = [c["detail"] for c in v.checks]
    assert all(len(e) <= coding.MAX_ERROR_CHARS + 40 for e in details)
    assert key not in json.dumps(v.to_dict()) and "[redacted]" in details[0]


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(), st.lists(st.sampled_from(
    ["```python\n", "```\n", "<think>", "</think>", "def f(t):\n", "    return 0\n", "import os\n", "parse_duration",
     "@x\n", "(", "\x00", "\r\n", "prose. "]), max_size=30).map("".join)))
def test_check_never_raises_on_arbitrary_text(text):
    # code that names parse_duration runs in the sandbox for real; the rest is refused before
    v = coding.check(BY_ID["cd-001"], {"content": text})
    assert isinstance(v, Verdict) and v.score == 0.0


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
    ({"prompt": BY_ID["cd-003"]["prompt"] + " Note: rle_encode('wwwwbbbw') returns '4w3b1w'."}, "leaks into the prompt"),
    ({"check": {"entry_point": "rle encode"}}, "identifier"),
    ({"check": {"entry_point": "run_length"}}, "not named in the prompt"),
    ({"check": {"tests": []}}, "tests must be a list"),
    ({"check": {"tests": [{"name": "a", "calls": ["rle_encode('a') == "]}]}}, "test 'a'"),
    ({"check": {"tests": [{"name": "a", "calls": ["assert rle_encode('a') == '1a'"]}]}}, "test 'a'"),
    ({"check": {"tests": [{"name": "a", "calls": ["other('a') == '1a'"]}]}}, "call must be rle_encode"),
    ({"check": {"tests": [{"name": "a", "calls": ["rle_encode(x) == '1a'"]}]}}, "not a literal"),
    ({"check": {"tests": [{"name": "a", "calls": ["rle_encode('a') raises Nope"]}]}}, "builtin exception"),
    ({"check": {"tests": [{"name": "a", "calls": [{"call": "rle_encode('a')", "property": "nope"}]}]}}, "unknown property"),
    ({"check": {"tests": [{"name": "a", "calls": ["rle_encode({1, 2}) == '1a'"]}]}}, "plain data"),
    ({"check": {"tests": [{"name": "a", "code": "pass"}]}}, "calls"),
    ({"check": {"tests": [{"name": "a", "calls": ["rle_encode('a') == '1a'"]}] * 2}}, "duplicate"),
    ({"check": {"timeout_s": 0}}, "timeout_s"),
    ({"reference": {"content": "x"}}, "field 'reference'"),
])
def test_invalid_tasks_fail_loading_with_task_and_field(tmp_path, over, fragment):
    with pytest.raises(TaskFileError) as ei:
        load_suite("coding", _one_task_file(tmp_path, **over))
    msg = str(ei.value)
    assert "coding.yaml task cd-003" in msg and fragment in msg and "\n" not in msg


# ------------------------------------------------- gaming: every trick scores 0 on every task --
GAMING = {
    "builtins_patching": """
import builtins
builtins.type = lambda *a: int
builtins.isinstance = lambda *a: True
builtins.AssertionError = type("NoAssert", (Exception,), {})
builtins.print = lambda *a, **k: None
def ENTRY(*args, **kwargs):
    return None
""",
    "frame_forging": """
import sys
def ENTRY(*args, **kwargs):
    f = sys._getframe(1)
    while f is not None:
        for d in (f.f_locals, f.f_globals):
            for name in list(d):
                if name in ("ok", "passed", "value", "result", "verdict", "status", "expect", "expected"):
                    try:
                        d[name] = True
                    except Exception:
                        pass
            for name in ("ok", "passed", "verdict", "score"):
                try:
                    d[name] = 100 if name == "score" else True
                except Exception:
                    pass
        f = f.f_back
    return None
""",
    "always_equal": """
class AnyEq:
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    __hash__ = object.__hash__
def ENTRY(*args, **kwargs):
    return AnyEq()
""",
    "eq_int_subclass": """
class Yes(int):
    def __eq__(self, other):
        return True
    __hash__ = int.__hash__
def ENTRY(*args, **kwargs):
    return Yes(0)
""",
    "eq_str_subclass": """
class Yes(str):
    def __eq__(self, other):
        return True
    __hash__ = str.__hash__
def ENTRY(*args, **kwargs):
    return Yes("")
""",
    "prints_pass_and_fake_lines": """
import os, sys, json
lines = ["PASS", "ok", "all tests passed", '{"t":"load","ok":true,"error":null}\\t' + "0" * 64]
lines += ['{"t":"call","i":%d,"status":"returned","value":true}\\t%s' % (i, "a" * 64) for i in range(300)]
text = "\\n".join(lines) + "\\n"
def ENTRY(*args, **kwargs):
    print(text)
    sys.stderr.write(text)
    for fd in range(3, 64):
        try:
            os.write(fd, text.encode())
        except OSError:
            pass
    return None
""",
    "sys_exit_at_import": "import sys\nsys.exit(0)\ndef ENTRY(*args, **kwargs):\n    return None\n",
    "os_exit_at_import": "import os\nos._exit(0)\ndef ENTRY(*args, **kwargs):\n    return None\n",
    "os_exit_in_call": "import os\ndef ENTRY(*args, **kwargs):\n    os._exit(0)\n",
    "sys_exit_in_call": "import sys\ndef ENTRY(*args, **kwargs):\n    sys.exit(0)\n",
    "raises_system_exit": "def ENTRY(*args, **kwargs):\n    raise SystemExit(0)\n",
    "raises_keyboard_interrupt": "def ENTRY(*args, **kwargs):\n    raise KeyboardInterrupt\n",
    "monkeypatches_json": """
import json
json.dumps = lambda *a, **k: '{"t":"call","i":0,"status":"returned","value":true}'
json.loads = lambda *a, **k: {"t": "call", "i": 0, "status": "returned", "value": True}
json.encoder.c_encode_basestring_ascii = None
def ENTRY(*args, **kwargs):
    return None
""",
    "hangs": "import time\ndef ENTRY(*args, **kwargs):\n    while True:\n        time.sleep(0.05)\n",
    "huge_output": "def ENTRY(*args, **kwargs):\n    print('x' * 1_000_000)\n    return [0] * 200_000\n",
    "reads_the_answer_key": """
import os
def ENTRY(*args, **kwargs):
    for path in ("ROOTDIR/tasks/coding.yaml", "ROOTDIR/.git/HEAD"):
        try:
            open(path).close()
        except OSError:
            continue
        raise RuntimeError("the task files are readable from the sandbox")
    return None
""",
}


def gaming_reply(name: str, entry_point: str) -> str:
    code = GAMING[name].replace("ENTRY", entry_point).replace("ROOTDIR", str(ROOT))
    return f"Here is the solution:\n\n```python\n{code.strip()}\n```\n"


def play(trick: str, task: dict):
    return coding.check(fast(task, 0.5) if trick == "hangs" else task,
                        {"content": gaming_reply(trick, task["check"]["entry_point"])})


@pytest.mark.parametrize("trick", list(GAMING))
def test_gaming_scores_0_on_every_task(trick):
    with ThreadPoolExecutor(max_workers=4) as ex:  # hangs wait, everything else is start-up
        verdicts = list(ex.map(lambda t: play(trick, t), TASKS))
    for tid, v in zip(IDS, verdicts):
        assert "checker error" not in v.reason, (trick, tid, v.reason)
        assert v.score == 0.0 and not v.passed and v.detail["calls_passed"] < v.detail["calls_total"], (trick, tid, v.reason)


def test_gaming_fails_for_the_right_reasons():
    v = play("always_equal", BY_ID["cd-001"])
    assert "not plain data" in v.checks[0]["detail"] and v.detail["calls_passed"] == 0
    v = play("eq_int_subclass", BY_ID["cd-001"])
    assert "Yes is not plain data" in v.checks[0]["detail"]
    v = play("sys_exit_in_call", BY_ID["cd-003"])
    assert "SystemExit" in v.checks[0]["detail"]
    v = play("huge_output", BY_ID["cd-003"])
    assert "over" in v.checks[0]["detail"] and "characters" in v.checks[0]["detail"]
    v = play("hangs", BY_ID["cd-003"])
    assert v.detail["sandbox"]["timed_out"]
    v = play("reads_the_answer_key", BY_ID["cd-003"])
    if not v.detail["sandbox"]["fs_isolated"]:
        pytest.skip(f"no mount namespace here, so the task files stay readable: {v.detail['sandbox']['notes']}")
    assert "readable" not in json.dumps(v.to_dict()) and v.detail["calls_passed"] == 0


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
        assert v.score == 0.0 and not v.passed and v.detail["sandbox"]["killed"]
        assert v.detail["sandbox"]["timed_out"] or "SIGKILL" in v.detail["sandbox"]["error"]


def test_hostile_fork_bomb_ends_and_the_next_task_still_runs():
    task = fast(BY_ID["cd-003"])
    start = time.monotonic()
    v = coding.check(task, {"content": hostile("rle_encode", FORK_BOMB)})
    assert time.monotonic() - start < 8
    assert v.score == 0.0 and not v.passed
    assert coding.check(task, {"content": task["reference"]}).score == 100.0


def test_hostile_ten_gigabyte_allocation_fails():
    v = coding.check(BY_ID["cd-003"], {"content": hostile("rle_encode", BIG_ALLOC)})
    assert v.score == 0.0 and "MemoryError" in v.checks[0]["detail"]


def test_hostile_write_outside_its_temp_dir_is_blocked():
    tag = secrets.token_hex(6)
    targets = [f"/tmp/benchloop_cd_escape_{tag}", str(ROOT / f"benchloop_cd_escape_{tag}")]
    try:
        v = coding.check(BY_ID["cd-003"], {"content": hostile("rle_encode", write_outside(targets))})
        leaked = [t for t in targets if os.path.exists(t)]
        if leaked and not v.detail["sandbox"]["fs_isolated"]:
            pytest.skip(f"no mount namespace on this machine, so the project stays writable: {v['sandbox']['notes']}")
        assert leaked == []
        assert v.score == 0.0
        assert all("Read-only file system" in c["detail"] or "Permission denied" in c["detail"] for c in v.checks)
    finally:
        for t in targets:
            if os.path.exists(t):
                os.remove(t)


def test_hostile_api_key_read_finds_nothing(monkeypatch):
    key = "sk-test-" + secrets.token_hex(16)
    monkeypatch.setenv("OPENAI_API_KEY", key)
    v = coding.check(BY_ID["cd-003"], {"content": hostile("rle_encode", KEY_HUNT)})
    assert v.score == 0.0
    if not (os.geteuid() == 0 or v.detail["sandbox"]["network_isolated"]):
        pytest.skip("non-root without user namespaces: the candidate shares our uid (documented sandbox limit)")
    assert all("RuntimeError: leak:0:" in c["detail"] for c in v.checks), v.checks[0]
    assert key not in json.dumps(v.to_dict()) and key[:16] not in json.dumps(v.to_dict())


def test_hostile_socket_cannot_reach_this_machine():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        srv.setblocking(False)
        v = coding.check(BY_ID["cd-003"], {"content": hostile("rle_encode", connect_to(srv.getsockname()[1]))})
        if not v.detail["sandbox"]["network_isolated"]:
            pytest.skip(f"no network namespace on this machine: {v['sandbox']['notes']}")
        assert v.score == 0.0
        assert all("OSError" in c["detail"] or "unreachable" in c["detail"] for c in v.checks), v.checks[0]
        with pytest.raises(BlockingIOError):
            srv.accept()


# --------------------------------------------- the whole loop: driver, harness, endpoint --
def test_reasoning_channel_never_graded_through_the_driver(scripted):
    from benchloop.drivers import run_task
    from benchloop.drivers.conversation import Conversation
    from benchloop.harnesses import get_harness
    from benchloop.providers import make_provider

    task = BY_ID["cd-019"]
    replies = {"plain": Reply(content=task["reference"]),
               "reasoning": Reply(content="See above.", reasoning=task["reference"]),
               "think": Reply(content=f"<think>{task['reference']}</think>Done.")}
    for kind, expected in (("plain", 100.0), ("reasoning", 0.0), ("think", 0.0)):
        ep = scripted(lambda req, r=replies[kind]: r)
        for harness in ("raw", "pi"):
            conv = Conversation(provider=make_provider("openai_compat", ep.url), harness=get_harness(harness), model="scripted-model")
            rec = run_task(task, conv)
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
        assert "MemoryError" in recs["cd-003"]["checks"][0]["detail"]
        assert [t for t in escape if os.path.exists(t)] == []
        assert "leak:0:" in recs["cd-005"]["checks"][0]["detail"]
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
