"""reasonmath: practical word problems answered on a final ``ANSWER:`` line.

Typed checks, so that formatting does not decide the score but the value does:
``number`` (absolute or relative tolerance), ``money`` (exact to the cent),
``pairs`` (``key=value`` items, order-free), ``phrase`` (one of the accepted phrases,
case/whitespace/punctuation-insensitive). Reasoning text is never looked at: the
caller passes the answer content only.
"""
from __future__ import annotations

import re

from benchloop.checkers.answers import final_answer, normalize_text, numbers_in, single_number

CHECKER_VERSION = "reasonmath-1"
TYPES = ("number", "money", "pairs", "phrase")


def validate(task: dict):
    chk = task.get("check")
    if not isinstance(chk, dict) or chk.get("type") not in TYPES:
        return ("check", f"must be a mapping with type one of {', '.join(TYPES)}")
    if "value" not in chk:
        return ("check", "needs a 'value'")
    t = chk["type"]
    if t in ("number", "money") and not isinstance(chk["value"], (int, float)):
        return ("check", "value must be a number")
    if t == "pairs" and not (isinstance(chk["value"], dict) and chk["value"]):
        return ("check", "value must be a mapping of key: value")
    if t == "phrase" and not (isinstance(chk["value"], str) and chk["value"].strip()):
        return ("check", "value must be text")
    return None


def _verdict(ok: bool, reason: str, answer, checks=None) -> dict:
    return {
        "score": 100.0 if ok else 0.0,
        "passed": ok,
        "reason": reason,
        "answer": answer,
        "checks": checks or [{"name": "answer", "ok": ok, "detail": reason}],
    }


def _check_number(chk, ans):
    got, why = single_number(ans)
    if got is None:
        return False, why
    want = float(chk["value"])
    tol = float(chk.get("tolerance", 0) or 0)
    rel = float(chk.get("rel_tolerance", 0) or 0)
    ok = abs(got - want) <= max(tol, rel * abs(want), 1e-9)
    return ok, f"expected {want:g}, got {got:g}"


def _check_money(chk, ans):
    got, why = single_number(ans.replace("$", " ").replace("€", " ").replace("£", " "))
    if got is None:
        return False, why
    want = float(chk["value"])
    ok = round(got * 100) == round(want * 100)
    return ok, f"expected {want:.2f}, got {got:.2f}"


_PAIR = re.compile(r"([A-Za-z][\w ]{0,40}?)\s*[=:]\s*([^,;\n]+)")


def _check_pairs(chk, ans):
    found = {}
    for k, v in _PAIR.findall(ans[:4000]):
        found[normalize_text(k)] = v.strip()
    want = {normalize_text(str(k)): v for k, v in chk["value"].items()}
    if set(found) != set(want):
        missing = sorted(set(want) - set(found))
        extra = sorted(set(found) - set(want))
        return False, f"keys differ (missing {missing}, unexpected {extra})"
    for k, v in want.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            nums = numbers_in(found[k])
            if len(set(nums)) != 1 or abs(nums[0] - float(v)) > float(chk.get("tolerance", 0) or 1e-9):
                return False, f"{k}: expected {v}, got {found[k]!r}"
        elif normalize_text(found[k]) != normalize_text(str(v)):
            return False, f"{k}: expected {v!r}, got {found[k]!r}"
    return True, "all pairs match"


def _check_phrase(chk, ans):
    accepted = [chk["value"], *chk.get("accept", [])]
    got = normalize_text(ans)
    ok = any(got == normalize_text(str(a)) for a in accepted)
    return ok, f"expected {chk['value']!r}, got {ans[:80]!r}"


def check(task: dict, reply: dict) -> dict:
    content = reply.get("content") or ""
    ans = final_answer(content)
    if ans is None:
        return _verdict(False, "no 'ANSWER:' line in the reply", None)
    chk = task["check"]
    fn = {"number": _check_number, "money": _check_money, "pairs": _check_pairs, "phrase": _check_phrase}[chk["type"]]
    ok, why = fn(chk, ans)
    return _verdict(ok, why if not ok else "correct", ans)
