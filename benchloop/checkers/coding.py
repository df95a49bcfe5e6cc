"""coding: Python functions graded by calling them in the sandbox with hidden inputs.

Why hidden tests as *data*: a test snippet runs inside the candidate's interpreter, where
the candidate can rewrite it (patch ``builtins`` or ``AssertionError``, reach the caller's
frame, return an object whose ``__eq__`` is always true, print "PASS", exit early). So a
task's hidden tests are calls with literal arguments and the expected return value or
exception type, e.g. ``parse_duration("2h15m") == 8100`` or ``parse_duration("5x") raises
ValueError``, parsed here with :mod:`ast` (never executed). The sandbox
(:mod:`benchloop.sandbox`) gets the arguments only and sends back each return value as
plain data (``None``/``bool``/``int``/``float``/``str``/list/tuple/dict with str keys; any
other object fails its call); this module compares them with the expected values using
its own equality: exact types (``True`` is not ``1``, a tuple is not a list, an ``int``
subclass is not plain data), floats within a small tolerance, NaN equal to NaN. Where a
test needs more than one expected value, a named property (:data:`PROPERTIES`) is checked
here on the returned plain value; ``args_unchanged`` checks the arguments after the call.

Scoring is pass@1 (as HumanEval and EvalPlus report): 100 when every call of every hidden
test passes, else 0; the fractions of tests and calls passed go in the verdict's detail.
Code is taken from the answer content only, never from reasoning (``reply["reasoning"]``,
``<think>`` blocks, or everything before a lone ``</think>``). The hidden tests never appear
in the prompt (``validate`` refuses a task that leaks one). ``check`` never raises.
"""
from __future__ import annotations

import ast
import builtins
import functools
import math
import os
import re
from pathlib import Path

from benchloop import pyast
from benchloop.record import Verdict
from benchloop.sandbox import SandboxLimits, extract_code, run_calls

CHECKER_VERSION = "coding-2"

DEFAULT_TIMEOUT_S = 6.0  # wall clock for one task's whole sandbox run (startup included)
DEFAULT_CPU_S = 3  # CPU seconds: a busy loop is killed by the kernel well before the wall clock
MAX_REPLY_CHARS = 200_000  # longer content is cut before extraction (bounds the heuristics)
MAX_CODE_CHARS = 100_000  # extracted code above this is not run: the task fails
MAX_ERROR_CHARS = 300  # per-test failure text kept in the verdict
MAX_TESTS = 20
MAX_CALLS = 300
FLOAT_REL_TOL = 1e-9
FLOAT_ABS_TOL = 1e-9
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,79}$")
_TEST_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
_RAISES = re.compile(r"^(.*\S)\s+raises\s+([A-Za-z_][A-Za-z0-9_]*)\s*$", re.S)
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH", re.I)
_EXCEPTIONS = frozenset(n for n, c in vars(builtins).items() if isinstance(c, type) and issubclass(c, BaseException))


# ------------------------------------------------------------------ properties --
def _sums_to_total(args: list, kwargs: dict, value) -> str | None:
    """allocate(total, weights): non-negative int shares, one per weight, adding up to total."""
    total, weights = (list(args) + [kwargs.get("total_cents"), kwargs.get("weights")])[:2]
    if type(value) is not list or any(type(x) is not int for x in value):
        return "not a list of int"
    if len(value) != len(weights):
        return f"{len(value)} shares for {len(weights)} weights"
    if min(value, default=0) < 0:
        return "a negative share"
    if sum(value) != total:
        return f"shares add up to {sum(value)}, not {total}"
    return None


PROPERTIES = {"sums_to_total": _sums_to_total}
"""Named checks on a returned plain value: ``fn(args, kwargs, value) -> None | why not``."""


# ------------------------------------------------------------------ test data --
class BadCall(ValueError):
    pass


def _literal(node: ast.AST):
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as e:
        raise BadCall(f"not a literal: {ast.unparse(node)[:60]!r}") from e


def _plain(v, depth: int = 0) -> bool:
    if depth > 50:
        return False
    t = type(v)
    if v is None or t in (bool, int, float, str):
        return True
    if t in (list, tuple):
        return all(_plain(x, depth + 1) for x in v)
    if t is dict:
        return all(type(k) is str and _plain(x, depth + 1) for k, x in v.items())
    return False


def parse_call(spec, entry_point: str) -> dict:
    """One hidden call from the task file, parsed without executing anything.

    ``spec`` is ``"f(ARGS) == LITERAL"``, ``"f(ARGS) raises ExceptionName"`` or a mapping
    ``{call: "f(ARGS)", returns: "LITERAL" | raises: Name | property: name,
    args_unchanged: bool}``. Raises BadCall when malformed."""
    if isinstance(spec, str):
        m = _RAISES.match(spec)
        if m:
            spec = {"call": m.group(1), "raises": m.group(2)}
        else:
            try:
                tree = pyast.parse(spec.strip(), mode="eval").body
            except (SyntaxError, ValueError, MemoryError, RecursionError) as e:
                raise BadCall(f"not 'f(...) == value' or 'f(...) raises Error': {spec[:60]!r}") from e
            if not (isinstance(tree, ast.Compare) and len(tree.ops) == 1 and isinstance(tree.ops[0], ast.Eq)):
                raise BadCall(f"not 'f(...) == value' or 'f(...) raises Error': {spec[:60]!r}")
            spec = {"call": ast.unparse(tree.left), "returns": ast.unparse(tree.comparators[0])}
    if not isinstance(spec, dict) or not isinstance(spec.get("call"), str):
        raise BadCall("a call must be a string or a mapping with 'call'")
    unknown = set(spec) - {"call", "returns", "raises", "property", "args_unchanged"}
    if unknown:
        raise BadCall(f"unknown keys {sorted(unknown)}")
    try:
        node = pyast.parse(spec["call"].strip(), mode="eval").body
    except (SyntaxError, ValueError, MemoryError, RecursionError) as e:
        raise BadCall(f"call is not Python: {spec['call'][:60]!r}") from e
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == entry_point):
        raise BadCall(f"call must be {entry_point}(...): {spec['call'][:60]!r}")
    if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
        raise BadCall("no *args or **kwargs in a call")
    args = [_literal(a) for a in node.args]
    kwargs = {k.arg: _literal(k.value) for k in node.keywords}
    if not _plain(args) or not _plain(list(kwargs.values())):
        raise BadCall(f"arguments must be plain data: {spec['call'][:60]!r}")
    kinds = [k for k in ("returns", "raises", "property") if k in spec]
    if len(kinds) != 1:
        raise BadCall("a call needs exactly one of returns / raises / property")
    out = {"text": spec["call"].strip(), "args": args, "kwargs": kwargs,
           "args_unchanged": spec.get("args_unchanged") is True, "kind": kinds[0]}
    if kinds[0] == "returns":
        val = spec["returns"]
        if isinstance(val, str):
            try:
                val = _literal(pyast.parse(val.strip(), mode="eval").body)
            except (SyntaxError, ValueError, MemoryError, RecursionError) as e:
                raise BadCall(f"returns is not a literal: {spec['returns'][:60]!r}") from e
        if not _plain(val):
            raise BadCall("returns must be plain data")
        out["expect"] = val
    elif kinds[0] == "raises":
        if spec["raises"] not in _EXCEPTIONS:
            raise BadCall(f"raises must name a builtin exception, not {spec['raises']!r}")
        out["expect"] = spec["raises"]
    else:
        if spec["property"] not in PROPERTIES:
            raise BadCall(f"unknown property {spec['property']!r}; known: {sorted(PROPERTIES)}")
        out["expect"] = spec["property"]
    return out


# ------------------------------------------------------------------ equality --
def same(expected, actual, depth: int = 0) -> str | None:
    """None when ``actual`` equals ``expected`` by our rules, else a short reason.

    Exact types (bool is not int, tuple is not list); an int is accepted where a float is
    expected (Python's ``2 == 2.0``), compared within the tolerance; NaN equals NaN."""
    if depth > 60:
        return "nested too deep"
    te, ta = type(expected), type(actual)
    if te is float:
        if ta not in (float, int):
            return f"expected a float, got {ta.__name__}"
        try:
            a = float(actual)
        except OverflowError:
            return "number too large"
        if math.isnan(expected) or math.isnan(a):
            return None if math.isnan(expected) and math.isnan(a) else f"expected {expected!r}, got {actual!r}"
        if math.isinf(expected) or math.isinf(a):
            return None if expected == a else f"expected {expected!r}, got {actual!r}"
        ok = math.isclose(expected, a, rel_tol=FLOAT_REL_TOL, abs_tol=FLOAT_ABS_TOL)
        return None if ok else f"expected {expected!r}, got {_short(actual)}"
    if te is not ta:
        return f"expected a {te.__name__}, got a {ta.__name__}: {_short(actual)}"
    if te in (list, tuple):
        if len(expected) != len(actual):
            return f"expected {len(expected)} items, got {len(actual)}: {_short(actual)}"
        for i, (e, a) in enumerate(zip(expected, actual)):
            why = same(e, a, depth + 1)
            if why:
                return f"item {i}: {why}"
        return None
    if te is dict:
        if set(expected) != set(actual):
            missing, extra = sorted(set(expected) - set(actual)), sorted(set(actual) - set(expected))
            return f"keys differ (missing {missing[:5]}, unexpected {extra[:5]})"
        for k in expected:
            why = same(expected[k], actual[k], depth + 1)
            if why:
                return f"key {k!r}: {why}"
        return None
    return None if expected == actual else f"expected {_short(expected)}, got {_short(actual)}"


def _short(v, n: int = 80) -> str:
    try:
        s = repr(v)
    except Exception:  # our own plain values only; defensive all the same
        s = "<value>"
    return s if len(s) <= n else s[:n] + "…"


def judge_call(call: dict, got: dict) -> str | None:
    """None when the sandbox's result for one call passes, else why it failed."""
    status = got.get("status")
    if call["kind"] == "raises":
        if status == "raised" and call["expect"] in (got.get("types") or []):
            return None
        if status == "raised":
            return f"expected {call['expect']}, raised {got.get('error')}"
        if status == "returned":
            return f"expected {call['expect']}, returned {_short(got.get('value'))}"
        return got.get("error") or "no result"
    if status != "returned":
        return got.get("error") or "no result"
    value = got.get("value")
    if call["kind"] == "returns":
        why = same(call["expect"], value)
    else:
        why = PROPERTIES[call["expect"]](call["args"], call["kwargs"], value)
    if why is None and call["args_unchanged"]:
        after = got.get("after")
        if same([call["args"], call["kwargs"]], after if after is not None else [None]) is not None:
            why = "modified its arguments"
    return why


# ------------------------------------------------------------------ task checks --
def _prompt_text(task: dict) -> str:
    parts = [task.get("system") or "", task.get("prompt") or ""]
    for m in task.get("messages") or []:
        if isinstance(m, dict) and isinstance(m.get("content"), str):
            parts.append(m["content"])
    return "\n".join(parts)


def _norm_ws(s: str) -> str:
    return " ".join(s.split())


def _compiles(src: str) -> bool:
    try:
        pyast.parse(src)
        return True
    except (SyntaxError, ValueError):
        return False


def leaks(call: dict, prompt: str) -> bool:
    """True when the prompt shows this call together with its expected value."""
    text = _norm_ws(call["text"])
    if len(text) < 8 or text not in prompt:
        return False
    return call["kind"] != "returns" or _norm_ws(repr(call["expect"])) in prompt


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
        return ("check", f"tests must be a list of 1 to {MAX_TESTS} {{name, calls}} items")
    seen, n_calls = set(), 0
    prompt = _norm_ws(_prompt_text(task))
    for t in tests:
        if not isinstance(t, dict) or not isinstance(t.get("name"), str) or not isinstance(t.get("calls"), list) \
                or not t["calls"]:
            return ("check", "each test needs a 'name' and a non-empty list of 'calls'")
        if not _TEST_NAME.match(t["name"]):
            return ("check", f"test name {t['name']!r} must be letters, digits, _ . - (at most 64)")
        if t["name"] in seen:
            return ("check", f"duplicate test name {t['name']!r}")
        seen.add(t["name"])
        for spec in t["calls"]:
            try:
                call = parse_call(spec, ep)
            except BadCall as e:
                return ("check", f"test {t['name']!r}: {e}")
            if leaks(call, prompt):
                return ("check", f"test {t['name']!r} leaks into the prompt: {call['text'][:60]!r}")
            n_calls += 1
    if n_calls > MAX_CALLS:
        return ("check", f"at most {MAX_CALLS} calls per task, found {n_calls}")
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


@functools.lru_cache(maxsize=4)
def _hidden_dirs(tasks_dir: str) -> tuple[str, ...]:
    """What the candidate must not read: the task files (expected answers) and, in a
    checkout, the whole checkout (its git history and build copies hold them too)."""
    d = Path(tasks_dir).resolve()
    root = d.parent
    if (root / "pyproject.toml").exists() and (root / "benchloop").is_dir():
        return (str(root),)
    return (str(d),)


def hidden_dirs() -> tuple[str, ...]:
    from benchloop.paths import tasks_dir

    try:
        return _hidden_dirs(str(tasks_dir()))
    except (OSError, RuntimeError):
        return ()


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


def check(task: dict, reply) -> Verdict:
    """Extract the code from the reply's content and call it with the hidden inputs. Never raises."""
    try:
        return _check(task, reply)
    except Exception as exc:  # a checker bug must not look like a model's failure, nor end the run
        return Verdict(0.0, False, f"checker error: {type(exc).__name__}: {str(exc)[:200]}",
                       detail={"tests_total": 0, "tests_passed": 0, "calls_total": 0, "calls_passed": 0,
                               "fraction_passed": 0.0, "code_chars": 0})


def _check(task: dict, reply) -> Verdict:
    chk = task["check"]
    ep = chk["entry_point"]
    tests = [(t["name"], [parse_call(c, ep) for c in t["calls"]]) for t in chk["tests"]]
    calls = [c for _, cs in tests for c in cs]
    content = reply.get("content") if isinstance(reply, dict) else reply
    content = content[:MAX_REPLY_CHARS] if isinstance(content, str) else ""
    code = extract_code(content, ep)
    detail = {"tests_total": len(tests), "tests_passed": 0, "calls_total": len(calls), "calls_passed": 0,
              "fraction_passed": 0.0, "code_chars": len(code)}
    why = None
    if not code.strip():
        why = "no Python code in the reply content"
    elif len(code) > MAX_CODE_CHARS:
        why = f"extracted code is {len(code)} characters, over the {MAX_CODE_CHARS} limit"
    elif not re.search(rf"(?<![A-Za-z0-9_]){re.escape(ep)}(?![A-Za-z0-9_])", code):
        # not run: code that never names the function cannot define it (saves a sandbox run)
        why = f"NameError: the code does not define a function {ep!r}"
    if why:
        return Verdict(0.0, False, why, [{"name": n, "ok": False, "detail": "not run"} for n, _ in tests], detail)
    result = run_calls(code, ep, [{"args": c["args"], "kwargs": c["kwargs"], "keep_args": c["args_unchanged"]}
                                  for c in calls],
                       setup=chk.get("setup", "") or "", limits=limits_for(task), hide=hidden_dirs())
    secrets = _secrets()
    got = iter(result["calls"])
    checks, calls_ok = [], 0
    for name, cs in tests:
        first_fail = None
        for c in cs:
            why = judge_call(c, next(got))
            if why is None:
                calls_ok += 1
            elif first_fail is None:
                first_fail = f"{c['text'][:80]}: {why}"
        checks.append({"name": name, "ok": first_fail is None, "detail": _clean(first_fail, secrets=secrets)})
    n_ok = sum(c["ok"] for c in checks)
    sbx = result.get("sandbox") or {}
    detail.update({
        "tests_passed": n_ok, "calls_passed": calls_ok,
        "fraction_passed": round(calls_ok / len(calls), 4) if calls else 0.0,
        "sandbox": {
            "timed_out": bool(result.get("timed_out")),
            "killed": bool(result.get("killed")),
            "returncode": result.get("returncode"),
            "error": _clean(result.get("error"), secrets=secrets),
            "network_isolated": bool(sbx.get("network_isolated")),
            "pid_isolated": bool(sbx.get("pid_isolated")),
            "fs_isolated": bool(sbx.get("fs_isolated")),
            "limits": dict(sbx.get("limits") or {}),
            "notes": [_clean(n, 200, secrets) for n in (sbx.get("notes") or [])][:10],
        },
    })
    passed = bool(calls) and calls_ok == len(calls)
    if passed:
        reason = f"all {len(tests)} hidden tests passed ({len(calls)} calls)"
    else:
        first = next(c for c in checks if not c["ok"])
        reason = f"passed {n_ok}/{len(tests)} hidden tests; first failure {first['name']}: {first['detail']}"
        err = detail["sandbox"]["error"]
        if err and err not in reason:
            reason += f" (sandbox: {err})"
    return Verdict(100.0 if passed else 0.0, passed, reason, checks, detail)
