"""Tests for benchloop.sandbox (and its sandbox_child / sandbox_isolation / sandbox_extract
parts): extract_code heuristics, the plain-data codec and the hostile-code runner.

Every hostile case must end as a *failed result* while this test process carries on; the
checks after each run (no file outside, no process left, no key in the output) are made
from outside the sandbox. Where an isolation feature is unavailable on the machine running
the tests, the assertion that depends on it is skipped with the reason, never silently.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import os
import pathlib
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchloop import sandbox, sandbox_child, sandbox_isolation
from benchloop.sandbox import SandboxLimits, extract_code, run_calls

IS_ROOT = os.geteuid() == 0
# Generous wall clock for runs that should finish on their own (a loaded 2-core CI box);
# runs that must be *stopped* use short limits and assert on elapsed time.
LIMITS = SandboxLimits(timeout_s=10)


def run(code: str, *snippets: str, **kw) -> dict:
    """Load ``code``, then run each snippet as one call (a call passes when it returns):
    the snippets are part of the candidate, as hostile code would be."""
    kw.setdefault("limits", LIMITS)
    src = f"{code}\n\n_BL_SNIPPETS = {list(snippets)!r}\n\ndef _bl_test(i):\n    exec(_BL_SNIPPETS[i], dict(globals()))\n"
    return run_calls(src, "_bl_test", [{"args": [i]} for i in range(len(snippets))], **kw)


def oks(result: dict) -> list[bool]:
    return [c["status"] == "returned" for c in result["calls"]]


def errors(result: dict) -> list:
    return [c["error"] for c in result["calls"]]


def live_pids(match) -> list[int]:
    """Non-zombie processes for which match(pid_str) is true."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status", "rb") as f:
                status = f.read()
            if b"\nState:\tZ" in status or b"\nState:\tX" in status:
                continue
            if match(name, status):
                out.append(int(name))
        except OSError:
            continue
    return out


def pids_of_uid(uid: int) -> list[int]:
    return live_pids(lambda name, status: any(
        line.split()[1:2] == [str(uid).encode()] for line in status.splitlines() if line.startswith(b"Uid:")))


def pids_with_arg(marker: str) -> list[int]:
    def match(name, status):
        with open(f"/proc/{name}/cmdline", "rb") as f:
            return marker.encode() in f.read()
    return live_pids(match)


def assert_nothing_left(result: dict) -> None:
    if IS_ROOT:  # the run had a uid of its own: any live process with it is a leftover
        assert pids_of_uid(result["sandbox"]["uid"]) == []


@pytest.fixture(scope="module")
def isolation() -> dict:
    """What this machine's kernel lets the sandbox do (probed once)."""
    r = run_calls("def f():\n    pass\n", "f", [])
    assert r["error"] is None, r
    return r["sandbox"]


# ---------------------------------------------------------------------------------------
# extract_code
# ---------------------------------------------------------------------------------------


def test_extract_single_fence_with_chat_around():
    reply = "Sure! Here you go:\n```python\ndef add(a, b):\n    return a + b\n```\nThis adds them."
    assert extract_code(reply, "add") == "def add(a, b):\n    return a + b\n"


def test_extract_prefers_last_fence_defining_entry_point_and_keeps_helper_blocks():
    reply = (
        "First a helper:\n```py\nimport math\n\ndef helper(x):\n    return math.floor(x)\n```\n"
        "A first try:\n```python\ndef solve(x):\n    return 0\n```\n"
        "Corrected:\n```python3\ndef solve(x):\n    return helper(x) + 1\n```\n"
        "Usage:\n```python\nprint(solve(2.5))\n```\n"
        "Install:\n```bash\npip install nothing\n```\n"
    )
    code = extract_code(reply, "solve")
    assert "return helper(x) + 1" in code
    assert "return 0" not in code  # the superseded attempt
    assert "def helper" in code  # a definitions-only block is kept
    assert "print(" not in code and "pip install" not in code
    ns: dict = {}
    exec(code, ns)
    assert ns["solve"](2.5) == 3


def test_extract_joins_python_fences_in_order_without_entry_point():
    reply = (
        "```python\nimport math\n```\ntext\n```\nx = math.pi\n```\n"
        "```json\n{\"a\": 1}\n```\n```text\nplain words here\n```\n"
    )
    assert extract_code(reply) == "import math\n\nx = math.pi\n"


def test_extract_ignores_think_blocks():
    reply = ("<think>Maybe:\n```python\ndef f():\n    return 'draft'\n```\n</think>\n"
             "Final:\n```python\ndef f():\n    return 'final'\n```")
    assert "final" in extract_code(reply, "f") and "draft" not in extract_code(reply, "f")
    # template put <think> in the prompt: only the part after the stray closing tag counts
    assert extract_code("thinking... def f(): return 1\n</think>\n```python\ndef f():\n    return 2\n```", "f") \
        == "def f():\n    return 2\n"
    # reasoning cut off by the token limit: nothing was answered
    assert extract_code("<think>\n```python\ndef f():\n    return 1\n```\nstill thinking") == ""


def test_extract_unterminated_final_fence():
    reply = "Here:\n```python\ndef f(x):\n    return x * 2\n"
    assert extract_code(reply, "f") == "def f(x):\n    return x * 2\n"
    assert extract_code("```python\ndef f(x): return 1```", "f") == "def f(x): return 1\n"


def test_extract_without_fence_whole_text_or_best_region():
    assert extract_code("def f(x):\n    return x\n") == "def f(x):\n    return x\n"
    reply = ("Sure! Here is the code:\nimport math\ndef f(x):\n    return math.sqrt(x)\n\n"
             "This works because sqrt is monotonic.\nHope it helps!")
    assert extract_code(reply, "f") == "import math\ndef f(x):\n    return math.sqrt(x)\n"
    indented = "The answer is\n\n    def f(x):\n        return x + 1\n\nas shown."
    assert extract_code(indented, "f") == "def f(x):\n    return x + 1\n"


@pytest.mark.parametrize("garbage", [
    "", "   \n", "I don't know.", "hello", "42", "from the above we can see it works",
    "```bash\nls -la\n```", "<think>only reasoning</think>", "\x00\x01\x02", "((((((((",
])
def test_extract_garbage_gives_empty_string(garbage):
    assert extract_code(garbage) == ""


_FRAGMENTS = st.sampled_from([
    "```python\n", "```\n", "```py", "~~~\n", "<think>", "</think>", "<thinking>", "def f(x):\n",
    "    return x\n", "import os\n", "from a import b\n", "class A:\n", "@dec\n", "prose words. ",
    "\n", "\t", "(", ")", "'''", '"', "\\", "\x00", "\r\n", "    ", "print(f(1))\n", "async def g():\n",
])


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(), st.lists(st.one_of(_FRAGMENTS, st.text(max_size=8)), max_size=40).map("".join)),
       st.one_of(st.none(), st.sampled_from(["f", "g", "", "a(b"])))
def test_extract_code_never_raises(text, entry_point):
    out = extract_code(text, entry_point)
    assert isinstance(out, str)
    assert out == "" or out.endswith("\n")


# ---------------------------------------------------------------------------------------
# run_calls: good code
# ---------------------------------------------------------------------------------------


def test_return_values_come_back_as_plain_data(isolation):
    code = "def f(a, b=0):\n    return (a, b, [1.5, None, float('nan')], {'k': a}, a + 1 if type(a) is int else a)\n"
    r = run_calls(code, "f", [{"args": [1]}, {"args": [(2, 3)], "kwargs": {"b": {"x": [True]}}}])
    assert r["error"] is None and r["loaded"] and not r["timed_out"] and not r["killed"] and r["returncode"] == 0
    first, second = r["calls"]
    assert first["status"] == "returned" and first["value"][:2] == (1, 0) and first["value"][4] == 2
    assert first["value"][2][2] != first["value"][2][2]  # NaN survives
    assert second["value"][0] == (2, 3) and type(second["value"][0]) is tuple  # tuples stay tuples
    assert second["value"][1] == {"x": [True]} and second["value"][1]["x"][0] is True


def test_exceptions_report_their_builtin_types_and_the_failing_line():
    code = "import sys\nclass MyErr(KeyError):\n    pass\ndef f(x):\n    if x == 1:\n        raise MyErr('no')\n    sys.exit(0)\n"
    r = run_calls(code, "f", [{"args": [1]}, {"args": [2]}])
    a, b = r["calls"]
    assert a["status"] == "raised" and a["types"] == ["KeyError", "LookupError", "Exception", "BaseException"]
    assert "MyErr" in a["error"] and "raise MyErr('no')" in a["error"]
    assert b["status"] == "raised" and b["types"][0] == "SystemExit"  # a failed call, not the end of the run


def test_values_that_are_not_plain_data_fail_their_call():
    code = (
        "class Yes(int):\n    def __eq__(self, other):\n        return True\n"
        "class AnyEq:\n    def __eq__(self, other):\n        return True\n"
        "def f(i):\n    return [Yes(1), AnyEq(), {1, 2}, {1: 2}, b'x', [Yes(2)], (1, AnyEq()), 10 ** 5000, 'ok'][i]\n"
    )
    r = run_calls(code, "f", [{"args": [i]} for i in range(9)])
    assert [c["status"] for c in r["calls"]] == ["unplain"] * 8 + ["returned"]
    assert "Yes is not plain data" in r["calls"][0]["error"] and "str keys" in r["calls"][3]["error"]


def test_each_call_gets_fresh_arguments_and_can_report_them_after():
    code = "def f(xs):\n    xs.append(len(xs))\n    return len(xs)\n"
    r = run_calls(code, "f", [{"args": [[]], "keep_args": True}, {"args": [[]]}])
    assert [c["value"] for c in r["calls"]] == [1, 1]
    assert r["calls"][0]["after"] == [[[0]], {}] and r["calls"][1]["after"] is None


def test_codec_round_trip_and_refusals():
    enc = sandbox_child.make_encoder()
    value = [None, True, 0, -3, 2.5, float("inf"), "é\n\x00", (1, [2]), {"a": {"b": ()}}]
    assert sandbox_child.decode(json.loads(enc(value))) == value
    for bad in ([[]] * 0 + [object()], {1: 2}, set(), [1] * 100_000):
        with pytest.raises(sandbox_child.NotPlain):
            enc(bad)
    deep: list = []
    for _ in range(200):
        deep = [deep]
    with pytest.raises(sandbox_child.NotPlain):
        enc(deep)
    for bad in ({"set": [1]}, {"tuple": 1}, {"a": 1, "b": 2}):
        with pytest.raises(ValueError):
            sandbox_child.decode(bad)


def test_standard_library_is_importable():
    code = (
        "import json, re, itertools, collections, datetime, decimal, fractions, heapq, statistics\n"
        "import functools, math, string, typing, dataclasses, bisect, random, csv, io, enum, copy\n"
        "import operator, array, struct, zlib, hashlib, textwrap, sqlite3, asyncio, tempfile, subprocess\n"
    )
    r = run(code,
            "assert json.loads(json.dumps({'a': [1]})) == {'a': [1]}",
            "assert re.match(r'a+', 'aaa') and list(itertools.accumulate([1, 2])) == [1, 3]",
            "assert collections.Counter('aab')['a'] == 2 and heapq.nsmallest(1, [3, 1]) == [1]",
            "assert decimal.Decimal('0.1') + decimal.Decimal('0.2') == decimal.Decimal('0.3')",
            "assert fractions.Fraction(1, 3) * 3 == 1 and statistics.mean([1, 2, 3]) == 2",
            "assert datetime.date(2024, 2, 29).isoformat() == '2024-02-29'",
            "assert sqlite3.connect(':memory:').execute('select 1').fetchone() == (1,)",
            "asyncio.run(asyncio.sleep(0))",
            "with tempfile.TemporaryFile() as f:\n    f.write(b'x')",
            "assert subprocess.run(['true']).returncode == 0")
    assert r["error"] is None, r
    assert oks(r) == [True] * 10, r["calls"]


def test_setup_runs_before_the_candidate():
    r = run("def total(xs: List[int]) -> int:\n    return sum(xs)\n", "assert total([1, 2]) == 3",
            setup="from typing import List")
    assert sum(oks(r)) == 1
    r = run("def f():\n    return 1\n", "assert f() == 1", setup="raise RuntimeError('bad fixture')")
    assert sum(oks(r)) == 0 and r["error"].startswith("setup failed: RuntimeError")


def test_main_block_of_the_candidate_does_not_run():
    r = run("def f():\n    return 1\n\nif __name__ == '__main__':\n    print(f(input()))\n", "assert f() == 1")
    assert sum(oks(r)) == 1


def test_hash_seed_is_fixed():
    a = run("print(hash('benchloop'), set('abcdefgh'))")
    b = run("print(hash('benchloop'), set('abcdefgh'))")
    assert a["stdout"] == b["stdout"] != ""


def test_result_is_plain_json_with_a_sandbox_report(isolation):
    limits = SandboxLimits(timeout_s=9, output_kb=32)
    r = run("print('hi')", "assert True", limits=limits)
    assert json.loads(json.dumps(r)) == r
    assert set(r) == {"loaded", "calls", "timed_out", "killed", "returncode",
                      "stdout", "stderr", "sandbox", "error"}
    assert r["stdout"] == "hi\n" and r["stderr"] == ""
    assert r["sandbox"]["limits"] == dataclasses.asdict(limits)
    assert isinstance(r["sandbox"]["network_isolated"], bool)
    if IS_ROOT:
        assert r["sandbox"]["uid"] != 0
    else:
        assert r["sandbox"]["uid"] == os.getuid()


def test_bad_call_lists_are_programming_errors():
    with pytest.raises(TypeError, match="plain data"):
        run_calls("pass", "f", [{"args": [object()]}])
    with pytest.raises(TypeError):
        run_calls("pass", "f", [{"args": 3}])


# ---------------------------------------------------------------------------------------
# run_calls: broken and hostile code
# ---------------------------------------------------------------------------------------


def test_syntax_error_fails_every_test():
    r = run("def f(:\n    return 1\n", "assert f() == 1", "pass")
    assert sum(oks(r)) == 0 and oks(r) == [False, False]
    assert r["error"].startswith("SyntaxError")
    assert all("SyntaxError" in x["error"] for x in r["calls"])


def test_import_error_fails_every_test():
    r = run("import no_such_module_benchloop\ndef f():\n    return 1\n", "assert f() == 1")
    assert sum(oks(r)) == 0 and "ModuleNotFoundError" in r["error"]


def test_infinite_loop_times_out_and_is_killed():
    start = time.monotonic()
    r = run("def f():\n    return 1\n", "assert f() == 1", "while True:\n    pass", "pass",
            limits=SandboxLimits(timeout_s=1.0))
    elapsed = time.monotonic() - start
    assert r["timed_out"] and r["killed"] and r["error"].startswith("timed out")
    assert oks(r) == [True, False, False]  # results reported before the hang are kept
    assert "timed out" in r["calls"][1]["error"]
    assert elapsed < 4
    assert_nothing_left(r)


def test_cpu_limit_kills_a_busy_loop():
    start = time.monotonic()
    r = run("while True:\n    pass", "pass", limits=SandboxLimits(timeout_s=10, cpu_s=1))
    assert time.monotonic() - start < 6
    assert r["killed"] and not r["timed_out"] and sum(oks(r)) == 0
    assert "SIGKILL" in r["error"]


def test_fork_bomb_ends_quickly_and_leaves_nothing():
    start = time.monotonic()
    r = run("import os\nwhile True:\n    os.fork()\n", "pass", "pass")
    assert time.monotonic() - start < 5
    assert sum(oks(r)) == 0 and oks(r) == [False, False]
    assert "BlockingIOError" in r["error"] or r["killed"]
    assert_nothing_left(r)


def test_fork_bomb_that_swallows_errors_is_killed_on_timeout():
    code = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    start = time.monotonic()
    r = run(code, "pass", limits=SandboxLimits(timeout_s=1.0))
    assert time.monotonic() - start < 5
    assert r["timed_out"] and r["killed"] and sum(oks(r)) == 0
    assert_nothing_left(r)


def test_processes_left_behind_are_killed_even_after_setsid(isolation):
    in_group, detached = f"{secrets.randbelow(10**6) + 1000}.25", f"{secrets.randbelow(10**6) + 1000}.75"
    sleep = shutil.which("sleep", path="/usr/bin:/bin")
    code = (
        "import os, time\n"
        f"if os.fork() == 0:\n    os.execv({sleep!r}, ['sleep', {in_group!r}])\n"
        f"if os.fork() == 0:\n    os.setsid()\n    os.execv({sleep!r}, ['sleep', {detached!r}])\n"
        "time.sleep(0.3)\n"
    )
    try:
        r = run(code, "pass")
        assert sum(oks(r)) == 1 and not r["timed_out"]
        assert pids_with_arg(in_group) == []
        if not (isolation["pid_isolated"] or IS_ROOT):
            pytest.skip("no PID namespace and no per-run uid here: a setsid() escapee cannot be found")
        assert pids_with_arg(detached) == []
    finally:
        for pid in pids_with_arg(in_group) + pids_with_arg(detached):
            os.kill(pid, 9)


def test_ten_gigabyte_allocation_fails_the_test_only():
    r = run("def f():\n    return 1\n", "x = bytearray(10 * 1024 ** 3)", "assert f() == 1")
    assert oks(r) == [False, True]
    assert "MemoryError" in r["calls"][0]["error"]


def test_hundred_megabyte_file_is_stopped_by_fsize():
    r = run("pass", "with open('big', 'wb') as f:\n    f.write(b'x' * (100 * 1024 * 1024))",
            "import os\nassert os.path.getsize('big') <= 8 * 1024 * 1024",
            "open('small', 'w').write('ok')\nassert open('small').read() == 'ok'")
    assert oks(r) == [False, True, True], r["calls"]
    assert "File too large" in r["calls"][0]["error"] or "MemoryError" in r["calls"][0]["error"]


def test_cannot_write_outside_its_temp_dir(isolation):
    tag = secrets.token_hex(6)
    targets = [f"/tmp/benchloop_escape_{tag}", f"/var/tmp/benchloop_escape_{tag}",
               f"/dev/shm/benchloop_escape_{tag}", os.path.join(os.getcwd(), f"benchloop_escape_{tag}")]
    try:
        r = run("pass", *[f"open({t!r}, 'w').write('pwned')" for t in targets])
        leaked = [t for t in targets if os.path.exists(t)]
        if leaked and not isolation["fs_isolated"]:
            pytest.skip(f"no mount namespace here, so world-writable dirs stay writable: {isolation['notes']}")
        assert leaked == []
        assert oks(r) == [False] * len(targets)
        assert all("Read-only file system" in x["error"] or "Permission denied" in x["error"] for x in r["calls"])
    finally:
        for t in targets:
            if os.path.exists(t):
                os.remove(t)


def test_runs_in_a_fresh_temp_dir_that_is_deleted_afterwards():
    r = run("import os\nprint(os.getcwd())\nprint(os.listdir('.'))\nprint(os.environ['HOME'])")
    cwd, listing, home = r["stdout"].splitlines()
    assert listing == "[]" and home == cwd and os.path.basename(cwd).startswith("benchloop-sbx-")
    assert not os.path.exists(cwd)


def test_api_key_in_the_environment_is_not_visible(monkeypatch):
    key = "sk-test-" + secrets.token_hex(16)
    monkeypatch.setenv("OPENAI_API_KEY", key)
    r = run("import os\nprint(dict(os.environ))\n",
            "assert os.environ['OPENAI_API_KEY'].startswith('sk-test')",
            f"assert {key[:12]!r} in str(os.environ)",
            "assert set(os.environ) == {'PATH', 'HOME', 'LANG', 'PYTHONHASHSEED', 'PYTHONDONTWRITEBYTECODE'}")
    assert oks(r) == [False, False, True]
    assert key not in json.dumps(r)
    assert "OPENAI_API_KEY" not in r["stdout"]


def test_parent_environment_is_unreadable_through_proc(monkeypatch, isolation):
    if not IS_ROOT and not isolation["network_isolated"]:
        pytest.skip("non-root without user namespaces: the candidate shares the caller's uid and "
                    "can read its /proc/<pid>/environ (documented limit)")
    key = "sk-test-" + secrets.token_hex(16)
    monkeypatch.setenv("OPENAI_API_KEY", key)
    r = run("pass", f"print(open('/proc/{os.getpid()}/environ', 'rb').read())",
            "print(open('/etc/shadow').read())" if os.path.exists("/etc/shadow") else "raise OSError('no shadow')")
    assert oks(r) == [False, False]
    assert key not in json.dumps(r)


def test_socket_to_a_port_on_this_machine_fails(isolation):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        srv.setblocking(False)
        port = srv.getsockname()[1]
        r = run("import socket", f"socket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'hi')")
        if not r["sandbox"]["network_isolated"]:
            pytest.skip(f"network namespace unavailable here, the sandbox has the host's network: {r['sandbox']['notes']}")
        assert oks(r) == [False]
        assert "OSError" in r["calls"][0]["error"] or "unreachable" in r["calls"][0]["error"]
        with pytest.raises(BlockingIOError):
            srv.accept()


def test_forged_result_lines_are_ignored():
    forged = json.dumps({"t": "call", "i": 0, "status": "returned", "value": None})
    code = (
        "import os, sys\n"
        f"line = {forged!r} + '\\t' + '0' * 64 + '\\n'\n"
        "print(line)\nsys.stderr.write(line)\n"
        "for fd in range(3, 64):\n"
        "    try:\n        os.write(fd, line.encode())\n    except OSError:\n        pass\n"
    )
    r = run(code, "assert False, 'genuinely failing'", "pass")
    assert oks(r) == [False, True] and sum(oks(r)) == 1
    assert "genuinely failing" in r["calls"][0]["error"]
    assert forged in r["stdout"]  # it was printed, and ignored


def test_os_exit_before_tests_fails_them_all():
    r = run("import os\nos._exit(0)\n", "pass", "pass")
    assert sum(oks(r)) == 0 and oks(r) == [False, False]
    assert "before reporting" in r["error"] and r["returncode"] == 0


def test_exit_inside_a_test_fails_it_and_later_ones():
    r = run("import os, sys", "pass", "sys.exit(0)", "pass", "os._exit(0)", "pass")
    assert oks(r) == [True, False, True, False, False]
    assert "SystemExit" in r["calls"][1]["error"]


def test_output_is_truncated():
    r = run("print('x' * 1_000_000)\nimport sys\nsys.stderr.write('y' * 1_000_000)", "pass",
            limits=SandboxLimits(timeout_s=10, output_kb=4))
    assert sum(oks(r)) == 1
    for stream in ("stdout", "stderr"):
        assert 4096 <= len(r[stream]) < 4096 + 200 and "truncated" in r[stream]


def test_only_tagged_first_results_for_known_calls_count():
    key = secrets.token_bytes(32)

    def line(obj, k=key):
        body = json.dumps(obj).encode()
        return body + b"\t" + hmac.new(k, body, hashlib.sha256).hexdigest().encode() + b"\n"

    data = (line({"t": "call", "i": 0, "status": "returned", "value": 1}, k=b"wrong key")
            + b'{"t": "call", "i": 0, "status": "returned", "value": 1}\n'
            + line({"t": "load", "ok": True, "error": None})
            + line({"t": "call", "i": 0, "status": "raised", "types": ["ValueError"], "error": "boom"})
            + line({"t": "call", "i": 0, "status": "returned", "value": 1})  # second result: ignored
            + line({"t": "call", "i": 1, "status": "returned", "value": {"set": [1]}})  # not a tagged value
            + line({"t": "call", "i": 1, "status": "returned", "value": {"tuple": [1]}})
            + line({"t": "call", "i": 7, "status": "returned", "value": 1})  # unknown call
            + line({"t": "call", "i": True, "status": "returned", "value": 1})  # not an index
            + b"[" * 100_000 + b"\t" + hmac.new(key, b"[" * 100_000, hashlib.sha256).hexdigest().encode() + b"\n"
            + line({"t": "call", "i": 2, "status": "returned", "value": 1})[:-1])  # unterminated
    load, calls = sandbox._verify_lines(data, key, 3)
    assert load == (True, None)
    assert set(calls) == {0, 1}
    assert calls[0]["status"] == "raised" and calls[0]["types"] == ["ValueError"]
    assert calls[1]["value"] == (1,)


# ---------------------------------------------------------------------------------------
# run_calls: isolation steps that fail must not take the caller down
# ---------------------------------------------------------------------------------------


def test_refused_namespaces_do_not_crash_the_parent(monkeypatch):
    monkeypatch.setattr(sandbox_isolation, "unshare", lambda flags: False)
    r = run("import os\nprint(os.getuid())", "pass")
    assert r["sandbox"]["network_isolated"] is False and r["sandbox"]["pid_isolated"] is False
    assert any("unshare" in n for n in r["sandbox"]["notes"])
    if r["error"] is None:  # it could run without namespaces: never as root
        assert sum(oks(r)) == 1 and r["stdout"].strip() != "0"
    else:  # e.g. the interpreter lives under /root and cannot be reached without a mount ns
        assert r["error"].startswith("sandbox did not start") and sum(oks(r)) == 0


def test_failing_to_drop_root_refuses_to_run(monkeypatch):
    if not IS_ROOT:
        pytest.skip("only root has privileges to drop")

    def no_setuid(uid):
        raise PermissionError(1, "Operation not permitted (simulated)")

    monkeypatch.setattr(os, "setuid", no_setuid)
    r = run("print('ran')", "pass")
    assert sum(oks(r)) == 0 and r["stdout"] == ""
    assert r["error"].startswith("sandbox did not start") and "drop root" in r["error"]


def test_non_root_caller():
    """The non-root branch (user namespaces instead of root's setuid), run for real by
    starting a helper as uid 65534 with this interpreter bind-mounted somewhere it can reach."""
    if not IS_ROOT or not shutil.which("unshare") or not shutil.which("setpriv"):
        pytest.skip("needs root plus util-linux unshare/setpriv to start a non-root caller")
    prefix = os.path.realpath(sys.base_prefix)
    rel = os.path.relpath(os.path.realpath(sys.executable), prefix)
    if rel.startswith(".."):
        pytest.skip("interpreter is not inside sys.base_prefix")
    tmp_path = pathlib.Path(tempfile.mkdtemp(prefix="benchloop-nonroot-"))  # pytest's tmp is 0700
    tmp_path.chmod(0o755)
    (tmp_path / "benchloop").mkdir()  # the repo may sit under /root: copy the sandbox out
    (tmp_path / "benchloop" / "__init__.py").write_text("")
    for mod in (sandbox, sandbox_child, sandbox_isolation, sandbox.extract_code.__module__, "benchloop.pyast"):
        src = sys.modules[mod].__file__ if isinstance(mod, str) else mod.__file__
        shutil.copy(src, tmp_path / "benchloop")
    tag = secrets.token_hex(6)
    (tmp_path / "helper.py").write_text(
        "import json, sys\nsys.path.insert(0, sys.argv[1])\nfrom benchloop import sandbox as s\n"
        f"r = s.run_calls('import os\\nprint(os.getuid())\\ndef f(w):\\n    if w:\\n"
        f"        open(\"/tmp/benchloop_nonroot_{tag}\", \"w\")\\n', 'f', [{{'args': [0]}}, {{'args': [1]}}])\n"
        "print(json.dumps(r))\n")
    script = (f"mkdir -p {tmp_path}/py && mount --bind {prefix} {tmp_path}/py && "
              f"exec setpriv --reuid 65534 --regid 65534 --clear-groups {tmp_path}/py/{rel} -s -S "
              f"{tmp_path}/helper.py {tmp_path}")
    try:
        proc = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script],
                              capture_output=True, text=True, timeout=60)
        if proc.returncode != 0 and "unshare failed" in proc.stderr:
            pytest.skip(f"cannot create a mount namespace for the helper: {proc.stderr.strip()}")
        assert proc.returncode == 0, proc.stderr
        r = json.loads(proc.stdout.splitlines()[-1])
        assert r["sandbox"]["uid"] == 65534 and r["stdout"].strip() == "65534"
        assert r["calls"][0]["status"] == "returned"
        if r["sandbox"]["fs_isolated"]:
            assert not os.path.exists(f"/tmp/benchloop_nonroot_{tag}") and r["calls"][1]["status"] == "raised"
    finally:
        if os.path.exists(f"/tmp/benchloop_nonroot_{tag}"):
            os.remove(f"/tmp/benchloop_nonroot_{tag}")
        shutil.rmtree(tmp_path, ignore_errors=True)
