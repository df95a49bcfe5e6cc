"""instructfollow: prompts whose instructions can be verified by code.

Each task lists constraint specs under ``check.constraints``; every constraint is a pure
function of the reply text. The verdict's ``score`` is the strict fraction satisfied
(x100); ``loose_score`` forgives markdown emphasis and a first or last framing line
("Sure! Here is…", "Hope this helps"): a constraint counts as loosely met when any of
those variants of the reply meets it. ``checks`` carries both per constraint.

No free points. Many constraints are trivially met by nothing at all ("no commas",
"avoid the word X", "all lowercase"), so:

- every task must carry at least one *specific* constraint: positive (an empty reply
  fails it) and not a bare size count (any text of the right length meets "at least 3
  sentences", so a constant "Sure! Here you go." would); a reply scores 0 unless it meets
  at least one specific constraint;
- an empty reply, or one that is mostly the prompt echoed back, scores 0.

Constraint types (``type:`` and its arguments)::

    include_keywords {words}             forbid_keywords {words}
    keyword_count {word, relation, n}    word_count {relation, n}
    sentence_count {relation, n}         paragraph_count {n}
    bullet_count {relation, n, style}    highlight_count {relation, n}
    placeholder_count {relation, n}      caps_words {relation, n}
    lowercase {}  uppercase {}           starts_with {phrase}   ends_with {phrase}
    quoted {}     json_format {keys}     no_commas {}           title {exclude}
    sections {marker, n}                 postscript {marker}    parts {separator, n}

``relation`` is ``at_least``, ``at_most`` or ``exactly``. Keywords match whole words,
case-insensitively; start and end phrases ignore case and runs of whitespace (the point is
the wording, not the line wrap). Text is bounded before any
regex runs and every pattern is linear, so hostile output cannot stall the checker.
"""
from __future__ import annotations

import json
import re
import unicodedata

CHECKER_VERSION = "instructfollow-2"

MAX_TEXT = 40_000
RELATIONS = ("at_least", "at_most", "exactly")

_WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")
_SENT_END = re.compile(r"[.!?]+(?=[\s\"'”’)\]]|$)")
_PARA_SPLIT = re.compile(r"\n[ \t]*\n")
_BULLET = {
    "dash": re.compile(r"^[ \t]*-[ \t]+\S", re.M),
    "star": re.compile(r"^[ \t]*\*[ \t]+\S", re.M),
    "number": re.compile(r"^[ \t]*\d{1,3}[.)][ \t]+\S", re.M),
    "any": re.compile(r"^[ \t]*(?:[-*•]|\d{1,3}[.)])[ \t]+\S", re.M),
    "symbol": re.compile(r"^[ \t]*[-*•][ \t]+\S", re.M),
}
_BULLET_LINE = {k: re.compile(r.pattern + r"[^\n]{0,500}", re.M) for k, r in _BULLET.items()}
_BULLET_MARK = re.compile(r"^[ \t]*(?:[-*•]|\d{1,3}[.)])[ \t]+")
_HIGHLIGHT = re.compile(r"\*\*(?=[^\s*])[^*\n]{1,300}?(?<=[^\s*])\*\*|(?<!\*)\*(?=[^\s*])[^*\n]{1,300}?(?<=[^\s*])\*(?!\*)")
_PLACEHOLDER = re.compile(r"\[[^\[\]\n]{1,60}\](?!\()")
_TITLE = re.compile(r"<<[^<>\n]{1,200}>>")
_CAPS_WORD = re.compile(r"\b[A-Z]{2,}\b")
_FENCE = re.compile(r"^```[a-zA-Z]{0,12}[ \t]*\n(.*)\n```$", re.S)


# --------------------------------------------------------------------------- text helpers

def words(text: str) -> list[str]:
    return _WORD.findall(text)


def sentences(text: str) -> int:
    """Sentences = runs of text ending in . ! or ? (or the end), each with a word in it."""
    n, start = 0, 0
    for m in _SENT_END.finditer(text):
        if _WORD.search(text, start, m.start()):
            n += 1
        start = m.end()
    if _WORD.search(text, start):
        n += 1
    return n


def paragraphs(text: str) -> list[str]:
    return [p for p in _PARA_SPLIT.split(text.strip()) if p.strip()]


def _norm(s: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", s).casefold().split())


def _keyword_re(word: str):
    w = re.escape(word.strip())
    return re.compile(rf"(?<![^\W_]){w}(?![^\W_])", re.I)


def _relate(got: int, relation: str, n: int) -> bool:
    if relation == "at_least":
        return got >= n
    if relation == "at_most":
        return got <= n
    return got == n


def strip_markdown(text: str) -> str:
    """Emphasis markers and heading hashes removed (the loose variant)."""
    text = text.replace("**", "").replace("__", "")
    text = re.sub(r"(?<![\w*])\*(?=\S)([^*\n]{1,300}?)(?<=\S)\*(?!\w)", r"\1", text)
    text = re.sub(r"^[ \t]*#{1,6}[ \t]+", "", text, flags=re.M)
    return text


def loose_variants(text: str) -> list[str]:
    """The reply, without emphasis, without its first line, its last line, or both."""
    lines = text.strip().split("\n")
    bases = [text]
    if len(lines) > 1:
        bases += ["\n".join(lines[1:]), "\n".join(lines[:-1])]
    if len(lines) > 2:
        bases.append("\n".join(lines[1:-1]))
    out = []
    for b in bases:
        for v in (b, strip_markdown(b)):
            v = v.strip()
            if v not in out:
                out.append(v)
    return out


# --------------------------------------------------------------------------- constraints

def _c_include_keywords(text, spec):
    missing = [w for w in spec["words"] if not _keyword_re(w).search(text)]
    return not missing, f"missing {missing}" if missing else "all present"


def _c_forbid_keywords(text, spec):
    found = [w for w in spec["words"] if _keyword_re(w).search(text)]
    return not found, f"used {found}" if found else "none used"


def _c_keyword_count(text, spec):
    got = len(_keyword_re(spec["word"]).findall(text))
    return _relate(got, spec["relation"], spec["n"]), f"{spec['word']!r} x{got}"


def _c_word_count(text, spec):
    got = len(words(text))
    return _relate(got, spec["relation"], spec["n"]), f"{got} words"


def _c_sentence_count(text, spec):
    got = sentences(text)
    return _relate(got, spec["relation"], spec["n"]), f"{got} sentences"


def _c_paragraph_count(text, spec):
    got = len(paragraphs(text))
    return got == spec["n"], f"{got} paragraphs"


def _c_bullet_count(text, spec):
    """Repeated items fail: a small model writing one line four times has not given four
    tips (seen on SmolLM2: three identical numbered questions)."""
    items = [_norm(_BULLET_MARK.sub("", m)) for m in _BULLET_LINE[spec.get("style", "symbol")].findall(text)]
    if len(set(items)) != len(items):
        return False, f"{len(items)} bullets, only {len(set(items))} distinct"
    return _relate(len(items), spec.get("relation", "exactly"), spec["n"]), f"{len(items)} bullets"


def _c_highlight_count(text, spec):
    got = len(_HIGHLIGHT.findall(text))
    return _relate(got, spec.get("relation", "at_least"), spec["n"]), f"{got} highlighted"


def _c_placeholder_count(text, spec):
    got = len(_PLACEHOLDER.findall(text))
    return _relate(got, spec.get("relation", "at_least"), spec["n"]), f"{got} placeholders"


def _c_caps_words(text, spec):
    got = len(_CAPS_WORD.findall(text))
    return _relate(got, spec["relation"], spec["n"]), f"{got} all-caps words"


def _c_lowercase(text, spec):
    ok = any(c.isalpha() for c in text) and not any(c.isupper() for c in text)
    return ok, "all lowercase" if ok else "has capitals (or no letters)"


def _c_uppercase(text, spec):
    ok = any(c.isalpha() for c in text) and not any(c.islower() for c in text)
    return ok, "all capitals" if ok else "has lowercase letters (or no letters)"


def _c_starts_with(text, spec):
    ok = _norm(text).startswith(_norm(spec["phrase"]))
    return ok, f"starts {text.strip()[:40]!r}"


def _c_ends_with(text, spec):
    ok = _norm(text).endswith(_norm(spec["phrase"]))
    return ok, f"ends {text.strip()[-40:]!r}"


def _c_quoted(text, spec):
    t = text.strip()
    ok = len(t) >= 3 and ((t[0] == '"' and t[-1] == '"') or (t[0] == "“" and t[-1] == "”")) and bool(t[1:-1].strip())
    return ok, "wrapped in quotes" if ok else "not wrapped in double quotes"


def parse_json_reply(text: str):
    """The whole reply as JSON (one surrounding code fence allowed); (ok, value)."""
    t = text.strip()
    m = _FENCE.match(t)
    if m:
        t = m.group(1).strip()
    if not t or len(t) > MAX_TEXT:
        return False, None
    try:
        return True, json.loads(t, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return False, None


def _no_constant(name):
    raise ValueError(name)


def _c_json_format(text, spec):
    ok, value = parse_json_reply(text)
    if not ok:
        return False, "not valid JSON"
    keys = spec.get("keys") or []
    if keys:
        if not isinstance(value, dict):
            return False, "JSON is not an object"
        missing = [k for k in keys if k not in value or value[k] in (None, "", [], {})]
        if missing:
            return False, f"missing or empty keys {missing}"
    return True, "valid JSON"


def _c_no_commas(text, spec):
    ok = "," not in text and "，" not in text
    return ok, "no commas" if ok else "has commas"


def _c_title(text, spec):
    """``exclude`` lists titles that do not count, e.g. the prompt's own example."""
    excluded = {_norm(x) for x in spec.get("exclude") or []}
    titles = [t[2:-2] for t in _TITLE.findall(text)]
    if any(_norm(t) and _norm(t) not in excluded for t in titles):
        return True, "has <<title>>"
    return False, "only the example title" if titles else "no <<title>>"


def _c_sections(text, spec):
    marker = re.escape(spec["marker"])
    nums = [int(x) for x in re.findall(rf"^[ \t#*]*{marker}[ \t]+(\d{{1,3}})\b", text, flags=re.M)]
    ok = nums == list(range(1, spec["n"] + 1))
    return ok, f"section numbers {nums[:10]}"


def _c_postscript(text, spec):
    marker = re.escape(spec["marker"])
    ok = bool(re.search(rf"^[ \t*_]*{marker}[ \t*_:]*[^\W_]", text, flags=re.M | re.I))
    return ok, "postscript found" if ok else f"no line starting {spec['marker']!r}"


def _c_parts(text, spec):
    parts = [p.strip() for p in text.split(spec["separator"])]
    ok = len(parts) == spec["n"] and all(words(p) for p in parts) and len(set(map(_norm, parts))) == len(parts)
    return ok, f"{len(parts)} parts"


CONSTRAINTS = {
    "include_keywords": (_c_include_keywords, ("words",)),
    "forbid_keywords": (_c_forbid_keywords, ("words",)),
    "keyword_count": (_c_keyword_count, ("word", "relation", "n")),
    "word_count": (_c_word_count, ("relation", "n")),
    "sentence_count": (_c_sentence_count, ("relation", "n")),
    "paragraph_count": (_c_paragraph_count, ("n",)),
    "bullet_count": (_c_bullet_count, ("n",)),
    "highlight_count": (_c_highlight_count, ("n",)),
    "placeholder_count": (_c_placeholder_count, ("n",)),
    "caps_words": (_c_caps_words, ("relation", "n")),
    "lowercase": (_c_lowercase, ()),
    "uppercase": (_c_uppercase, ()),
    "starts_with": (_c_starts_with, ("phrase",)),
    "ends_with": (_c_ends_with, ("phrase",)),
    "quoted": (_c_quoted, ()),
    "json_format": (_c_json_format, ()),
    "no_commas": (_c_no_commas, ()),
    "title": (_c_title, ()),
    "sections": (_c_sections, ("marker", "n")),
    "postscript": (_c_postscript, ("marker",)),
    "parts": (_c_parts, ("separator", "n")),
}
# Met by an empty reply, so they can never be the only thing a reply gets right.
_NEGATIVE = {"forbid_keywords", "no_commas", "lowercase", "uppercase"}


def is_positive(spec: dict) -> bool:
    """Does an empty reply fail this constraint? Only those count as substance."""
    t = spec.get("type")
    if t in _NEGATIVE:
        return False
    if t in ("keyword_count", "word_count", "sentence_count", "bullet_count", "highlight_count", "placeholder_count", "caps_words"):
        rel = spec.get("relation", "exactly" if t == "bullet_count" else "at_least")
        return rel != "at_most" and int(spec.get("n", 0)) >= 1
    if t == "paragraph_count":
        return int(spec.get("n", 0)) >= 1
    return t in CONSTRAINTS


_GENERIC = {"word_count", "sentence_count", "paragraph_count"}


def is_specific(spec: dict) -> bool:
    """Positive and about this task's content or form, not only its length."""
    return is_positive(spec) and spec.get("type") not in _GENERIC


def evaluate(text: str, spec: dict) -> tuple[bool, str]:
    """One constraint on one text; a checker bug on odd text reads as a failed check."""
    fn = CONSTRAINTS[spec["type"]][0]
    try:
        return fn(text, spec)
    except (ValueError, TypeError, KeyError, IndexError, RecursionError) as exc:
        return False, f"could not check: {type(exc).__name__}"


# --------------------------------------------------------------------------- interface

def validate(task: dict):
    chk = task.get("check")
    if not isinstance(chk, dict) or not isinstance(chk.get("constraints"), list) or not chk["constraints"]:
        return ("check", "must be a mapping with a non-empty 'constraints' list")
    for i, spec in enumerate(chk["constraints"]):
        if not isinstance(spec, dict) or spec.get("type") not in CONSTRAINTS:
            return ("check", f"constraint #{i + 1}: type must be one of {', '.join(sorted(CONSTRAINTS))}")
        for arg in CONSTRAINTS[spec["type"]][1]:
            if arg not in spec:
                return ("check", f"constraint #{i + 1} ({spec['type']}) needs {arg!r}")
        if "relation" in spec and spec["relation"] not in RELATIONS:
            return ("check", f"constraint #{i + 1}: relation must be one of {', '.join(RELATIONS)}")
        if "n" in spec and (not isinstance(spec["n"], int) or isinstance(spec["n"], bool) or spec["n"] < 0):
            return ("check", f"constraint #{i + 1}: n must be a non-negative integer")
        if "words" in spec and not (isinstance(spec["words"], list) and spec["words"] and all(isinstance(w, str) and w.strip() for w in spec["words"])):
            return ("check", f"constraint #{i + 1}: words must be a non-empty list of text")
        if "exclude" in spec and not (isinstance(spec["exclude"], list) and all(isinstance(x, str) for x in spec["exclude"])):
            return ("check", f"constraint #{i + 1}: exclude must be a list of text")
        if spec.get("style", "symbol") not in _BULLET:
            return ("check", f"constraint #{i + 1}: style must be one of {', '.join(_BULLET)}")
    if not any(is_specific(s) for s in chk["constraints"]):
        return ("check", "needs at least one specific constraint (one an empty reply and bare length cannot meet)")
    return None


def _user_prompt(task: dict) -> str:
    if task.get("prompt"):
        return str(task["prompt"])
    return "\n".join(str(m.get("content") or "") for m in task.get("messages") or [] if m.get("role") == "user")


def is_echo(reply: str, prompt: str) -> bool:
    """Mostly the prompt repeated: its normalized text makes up at least half the reply."""
    r, p = _norm(reply), _norm(prompt)
    if not r or not p:
        return False
    if r in p:
        return len(r) >= 0.5 * len(p) or len(words(r)) >= 5
    return p in r and len(p) >= 0.5 * len(r)


def check(task: dict, reply: dict) -> dict:
    """Strict and loose scores of ``reply["content"]`` (reasoning is never read)."""
    specs = task["check"]["constraints"]
    content = reply.get("content") if isinstance(reply, dict) else None
    text = content[:MAX_TEXT] if isinstance(content, str) else ""
    if not text.strip():
        return _zero(specs, "empty reply")
    if is_echo(text, _user_prompt(task)):
        return _zero(specs, "the reply repeats the prompt")
    variants = loose_variants(text)
    checks = []
    for spec in specs:
        ok, why = evaluate(text, spec)
        loose = ok or any(evaluate(v, spec)[0] for v in variants[1:])
        checks.append({"name": spec["type"], "ok": ok, "loose": loose, "specific": is_specific(spec), "detail": why})
    n = len(checks)
    strict = 100.0 * sum(c["ok"] for c in checks) / n
    loose = 100.0 * sum(c["loose"] for c in checks) / n
    reason = []
    if not any(c["ok"] and c["specific"] for c in checks):
        strict = 0.0
        reason.append("no specific constraint met (strict)")
    if not any(c["loose"] and c["specific"] for c in checks):
        loose = 0.0
    failed = [c["name"] for c in checks if not c["ok"]]
    if failed:
        reason.append(f"failed: {', '.join(failed)}")
    return {
        "score": round(strict, 4),
        "passed": strict >= 100.0,
        "reason": "; ".join(reason) or "all constraints met",
        "checks": checks,
        "loose_score": round(loose, 4),
    }


def _zero(specs, why: str) -> dict:
    return {
        "score": 0.0,
        "passed": False,
        "reason": why,
        "checks": [{"name": s.get("type"), "ok": False, "loose": False, "specific": is_specific(s), "detail": why} for s in specs],
        "loose_score": 0.0,
    }
