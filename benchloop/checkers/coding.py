"""coding: Python functions graded by hidden tests run in the sandbox.

Why hidden tests in a subprocess: a coding score should say whether the function *works*,
which only running it can tell, and the code is model output, i.e. hostile input (it may
loop forever, fork, allocate 10 GB, write files, read API keys or open sockets). The
sandbox (:mod:`benchloop.sandbox`) turns every one of those into failed tests; this
module only decides what to run and how to score it.

Rules that keep the score honest:

* code is taken from the answer content only, never from reasoning (``reply["reasoning"]``
  or ``<think>`` blocks), with :func:`benchloop.sandbox.extract_code`;
* score = 100 x (hidden tests passed / hidden tests), so code that fails everything, or a
  reply without code, scores 0 (no free points for empty, echoed or canned replies);
* the hidden tests never appear in the prompt (``validate`` refuses a task that leaks one);
* the verdict lists every test's name, ok and a truncated error, plus the sandbox facts
  (timeouts, kills, which isolation took effect), and never the candidate's stdout/stderr;
  secrets in this process's environment are redacted from it all the same (defence in
  depth for a machine where isolation could not be set up).
"""
from __future__ import annotations

import ast
import math
import os
import re

from benchloop.sandbox import SandboxLimits, extract_code, run_tests

CHECKER_VERSION = "coding-1"

DEFAULT_TIMEOUT_S = 6.0  # wall clock for one task's whole sandbox run (startup included)
DEFAULT_CPU_S = 3  # CPU seconds: a busy loop is killed by the kernel well before the wall clock
MAX_REPLY_CHARS = 200_000  # longer content is cut before extraction (bounds the heuristics)
MAX_CODE_CHARS = 100_000  # extracted code above this is not run: the task fails
MAX_ERROR_CHARS = 300  # per-test error text kept in the verdict
MAX_TESTS = 20
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,79}$")
_TEST_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH", re.I)
_LEAK_MIN_CHARS = 12  # test lines at least this long must not appear in the prompt


def _compiles(src: str) -> bool:
    try:
        ast.parse(src)
        return True
    except (SyntaxError, ValueError):
        return False


def _prompt_text(task: dict) -> str:
    parts = [task.get("system") or "", task.get("prompt") or ""]
    for m in task.get("messages") or []:
        if isinstance(m, dict) and isinstance(m.get("content"), str):
            parts.append(m["content"])
    return "\n".join(parts)


def _norm_ws(s: str) -> str:
    return " ".join(s.split())


def validate(task: dict):
    """``None`` when the task is usable, else ``(field, why)`` for the loader's one-line error."""
    chk = task.get("check")
    if not isinstance(chk, dict):
        return ("check", "must be a mapping with entry_point and tests")
    ep = chk.get("entry_point")
    if not isinstance(ep, str) or not _IDENT.match(ep):
        return ("check", "entry_point must be a Python identifier")
    if ep not in _prompt_text(task):
        return ("check", f"entry_point {ep!r} is not named in the prompt: the model cannot know it")
    tests = chk.get("tests")
    if not isinstance(tests, list) or not 1 <= len(tests) <= MAX_TESTS:
        return ("check", f"tests must be a list of 1 to {MAX_TESTS} {{name, code}} items")
    seen = set()
    prompt = _norm_ws(_prompt_text(task))
    for t in tests:
        if not isinstance(t, dict) or not isinstance(t.get("name"), str) or not isinstance(t.get("code"), str):
            return ("check", "each test needs a 'name' and a 'code' string")
        if not _TEST_NAME.match(t["name"]):
            return ("check", f"test name {t['name']!r} must be letters, digits, _ . - (at most 64)")
        if t["name"] in seen:
            return ("check", f"duplicate test name {t['name']!r}")
        seen.add(t["name"])
        if not t["code"].strip() or not _compiles(t["code"]):
            return ("check", f"test {t['name']!r} is empty or not valid Python")
        for line in t["code"].splitlines():
            line = _norm_ws(line)
            if line.startswith("assert "):  # "f(x) == y" in the prompt leaks as much as "assert f(x) == y"
                line = line[len("assert "):]
            if len(line) >= _LEAK_MIN_CHARS and line in prompt:
                return ("check", f"test {t['name']!r} leaks into the prompt: {line[:60]!r}")
    setup = chk.get("setup", "")
    if not isinstance(setup, str) or not _compiles(setup):
        return ("check", "setup must be valid Python source")
    timeout = chk.get("timeout_s", DEFAULT_TIMEOUT_S)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0.5 <= timeout <= 60:
        return ("check", "timeout_s must be a number of seconds between 0.5 and 60")
    for f in ("reference", "wrong"):
        if not isinstance(task.get(f), str) or not task[f].strip():
            return (f, "must be a chat reply (text with a ```python fence)")
    return None


def limits_for(task: dict) -> SandboxLimits:
    """The task's sandbox limits: a wall clock (``check.timeout_s``) and a CPU budget of
    at most half of it, so a busy loop dies by the CPU limit and a sleeping one by the clock."""
    timeout = float(task["check"].get("timeout_s", DEFAULT_TIMEOUT_S))
    cpu = max(1, min(DEFAULT_CPU_S, math.ceil(timeout / 2)))
    return SandboxLimits(timeout_s=timeout, cpu_s=cpu)


def _secrets() -> list[str]:
    """Values of this process's secret-looking environment variables, longest first."""
    vals = {v for k, v in os.environ.items() if _SECRET_NAME.search(k) and isinstance(v, str) and len(v) >= 8}
    return sorted(vals, key=len, reverse=True)


def _clean(text, limit: int = MAX_ERROR_CHARS, secrets: list[str] | None = None):
    if text is None:
        return None
    s = str(text)
    for v in secrets or ():
        if v in s:
            s = s.replace(v, "[redacted]")
    return s if len(s) <= limit else s[:limit] + f"…[{len(s) - limit} more]"


def _verdict(score: float, passed: bool, reason: str, checks: list, **extra) -> dict:
    return {"score": score, "passed": passed, "reason": reason, "checks": checks, **extra}


def check(task: dict, reply: dict) -> dict:
    """Extract the code from the reply's content and run the task's hidden tests on it."""
    chk = task["check"]
    tests = [{"name": t["name"], "code": t["code"]} for t in chk["tests"]]
    content = reply.get("content") if isinstance(reply, dict) else None
    content = content[:MAX_REPLY_CHARS] if isinstance(content, str) else ""
    code = extract_code(content, chk["entry_point"])
    not_run = [{"name": t["name"], "ok": False, "error": "not run"} for t in tests]
    if not code.strip():
        return _verdict(0.0, False, "no Python code in the reply content", not_run, code_chars=0, tests_total=len(tests), tests_passed=0)
    if len(code) > MAX_CODE_CHARS:
        return _verdict(0.0, False, f"extracted code is {len(code)} characters, over the {MAX_CODE_CHARS} limit",
                        not_run, code_chars=len(code), tests_total=len(tests), tests_passed=0)
    result = run_tests(code, tests, setup=chk.get("setup", "") or "", limits=limits_for(task))
    secrets = _secrets()
    checks = [{"name": r["name"], "ok": bool(r["ok"]), "error": _clean(r["error"], secrets=secrets)} for r in result["results"]]
    total = len(checks)
    n_ok = sum(c["ok"] for c in checks)
    score = round(100.0 * n_ok / total, 2) if total else 0.0
    sbx = result.get("sandbox") or {}
    facts = {
        "timed_out": bool(result.get("timed_out")),
        "killed": bool(result.get("killed")),
        "returncode": result.get("returncode"),
        "error": _clean(result.get("error"), secrets=secrets),
        "network_isolated": bool(sbx.get("network_isolated")),
        "pid_isolated": bool(sbx.get("pid_isolated")),
        "fs_isolated": bool(sbx.get("fs_isolated")),
        "limits": dict(sbx.get("limits") or {}),
        "notes": [_clean(n, 200, secrets) for n in (sbx.get("notes") or [])][:10],
    }
    if n_ok == total:
        reason = f"all {total} hidden tests passed"
    else:
        first = next(c for c in checks if not c["ok"])
        reason = f"passed {n_ok}/{total} hidden tests; first failure {first['name']}: {first['error']}"
        if facts["error"] and facts["error"] not in reason:
            reason += f" (sandbox: {facts['error']})"
    return _verdict(score, n_ok == total, reason, checks, sandbox=facts, code_chars=len(code),
                    tests_total=total, tests_passed=n_ok)
