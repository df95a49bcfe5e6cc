"""The one answer reader every suite uses: where the answer is, and what value it states.

Why one reader: each checker used to parse numbers, dates and times its own way, so "250g"
was a number in one suite and nothing in another, and a reply offering "44 or 50" passed
where any of its values was right. Here:

- :func:`strip_reasoning` is the one place reasoning is cut (``<think>`` blocks, an
  unclosed ``<think>`` to the end, and a lone ``</think>``: everything before it);
- :func:`final_answer` finds the ``ANSWER:`` line, :func:`find_json_object` the JSON object;
- ``read_number`` / ``read_money`` / ``read_time`` / ``read_date`` / ``read_choice`` read
  ONE value of their type from a final answer and return a :class:`Read` (value, or None
  and why). An answer that offers several values of the type is a hedge ("44 or 50",
  "between 44 and 50", "either Anna or Ben"), one that denies its value is negated ("not
  44", "it is not Anna; it was Ben"), one that gives a bound ("at least 44") is a hedge:
  all of them read as None, so they fail.

The scanning underneath lives in :mod:`benchloop.checkers.values` (numbers, units,
currencies) and :mod:`benchloop.checkers.datetimes` (dates, clock times). Model output is
hostile input: every regex is linear, texts are cut to a sane length, and nothing here
raises: huge numbers, NaN, inf and deep nesting are wrong answers, not crashes.
"""
from __future__ import annotations

import json
import re
import unicodedata

from benchloop.checkers.datetimes import parse_date, parse_datetime, parse_time, scan_dates, scan_times
from benchloop.checkers.values import (
    MAX_SCAN, Found, Read, convert, is_money_unit, negated_at, numbers_of, qualified_at, scan_numbers, to_number, unit_of,
)

__all__ = [
    "Found", "Read", "strip_reasoning", "strip_think", "final_answer", "find_json_object", "normalize_text",
    "read_number", "read_money", "read_time", "read_date", "read_choice", "hedged", "negated",
    "numbers_in", "single_number", "to_number", "unit_of", "parse_date", "parse_time", "parse_datetime",
    "scan_numbers", "scan_dates", "scan_times",
]

READER_VERSION = "answers-3"  # fold into a checker's CHECKER_VERSION: reading changes verdicts (3: conclusions and one-line replies)
MAX_TEXT = 200_000       # characters of a reply searched for the ANSWER line
MAX_JSON_TEXT = 60_000   # characters of a reply searched for a JSON object
MAX_JSON_ATTEMPTS = 200  # '{' positions tried
MAX_OPTIONS = 100

# --------------------------------------------------------------------------- where the answer is

_THINK_TAG = re.compile(r"<(/?)\s*think(?:ing)?\s*>", re.I)


def strip_reasoning(text) -> tuple[str, str]:
    """``(answer, reasoning)`` of a model's content: ``<think>…</think>`` blocks are
    reasoning, an unclosed ``<think>`` runs to the end, and a lone ``</think>`` (chat
    templates that open the block themselves) makes everything before it reasoning.
    Linear in the text; non-text is ``("", "")``."""
    if not isinstance(text, str) or not text:
        return "", ""
    answer: list[str] = []
    reasoning: list[str] = []
    pos, open_at = 0, None
    for m in _THINK_TAG.finditer(text):
        closing = bool(m.group(1))
        if open_at is None:
            if closing:  # a closer with no opener: what came before was thinking
                reasoning.extend(answer)
                reasoning.append(text[pos : m.start()])
                answer = []
            else:
                answer.append(text[pos : m.start()])
                open_at = m.end()
            pos = m.end()
        elif closing:
            reasoning.append(text[open_at : m.start()])
            open_at, pos = None, m.end()
    if open_at is not None:
        reasoning.append(text[open_at:])
    else:
        answer.append(text[pos:])
    return "".join(answer).strip(), "\n".join(r.strip() for r in reasoning if r.strip())


def strip_think(text) -> str:
    """The answer part of ``text`` (see :func:`strip_reasoning`)."""
    return strip_reasoning(text)[0]


_ANSWER_LINE = re.compile(r"^[ \t>*_#`-]*(?:final[ \t]+)?answer[ \t*_`]*[:：][ \t]*(.*)$", re.IGNORECASE | re.MULTILINE)


# Conclusions a careful grader reads as the final answer when no ANSWER: line was written
# ("So, the answer is 5.", "\boxed{43.20}", "#### 43.2"); the last one in the text wins.
_CONCLUSION = re.compile(r"\bthe[ \t]+(?:final[ \t]+|correct[ \t]+)?answer[ \t]+is[ \t]*:?[ \t]*([^\n]{1,200})|\\boxed\{([^{}\n]{1,200})\}|^[ \t]*####[ \t]*([^\n]{1,200})$", re.IGNORECASE | re.MULTILINE)
MAX_BARE_ANSWER = 120  # a reply of one short line is its own answer ("Carla", "$43.20")


def final_answer(text: str | None) -> str | None:
    """The final answer outside reasoning, stripped of markdown emphasis; None if absent.

    The last ``ANSWER:`` (or ``Final answer:``) line; failing that, the last conclusion a
    careful grader would read as the answer ("the answer is …", ``\boxed{…}``, ``#### …``);
    failing that, a reply that is one short line. Never "the last number anywhere": a
    reply that lists many values has no final answer."""
    text = strip_think(text)
    if not text:
        return None
    tail = text[-MAX_TEXT:]
    found = _ANSWER_LINE.findall(tail)
    if found:
        ans = found[-1]
    else:
        last = None
        for m in _CONCLUSION.finditer(tail):
            last = m
        if last is not None:
            ans = next(g for g in last.groups() if g is not None)
        elif "\n" not in tail.strip() and len(tail.strip()) <= MAX_BARE_ANSWER:
            ans = tail
        else:
            return None
    ans = re.sub(r"^[*_`]+|[*_`]+$", "", ans.strip()).strip()
    return ans or None


def _no_constants(name):
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_no_constants)


def find_json_object(text: str | None):
    """The first complete top-level JSON object in the answer part of ``text`` (bare or in
    a code fence). Tries ``raw_decode`` at each ``{`` in turn (at most
    ``MAX_JSON_ATTEMPTS``), so a brace in chat before the object does not hide it.
    Returns a dict or None; NaN/Infinity and absurdly deep nesting are rejected."""
    if not isinstance(text, str) or not text:
        return None
    text = strip_think(text)[:MAX_JSON_TEXT]
    pos = 0
    for _ in range(MAX_JSON_ATTEMPTS):
        j = text.find("{", pos)
        if j < 0:
            return None
        try:
            obj, _end = _DECODER.raw_decode(text, j)
        except (ValueError, RecursionError):
            obj = None
        if isinstance(obj, dict):
            return obj
        pos = j + 1
    return None


def normalize_text(s: str) -> str:
    """Case-folded, NFKC, whitespace collapsed, surrounding punctuation stripped."""
    s = unicodedata.normalize("NFKC", s if isinstance(s, str) else str(s)).casefold()
    return " ".join(s.split()).strip(" .!,;:\"'`*_")


# --------------------------------------------------------------------------- one value per answer

def _clean(text) -> str:
    if not isinstance(text, str):
        return ""
    return text[:MAX_SCAN].replace("\\boxed{", " ").replace("\\text{", " ")


def _same_number(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def _show(values) -> str:
    return ", ".join(str(int(v)) if isinstance(v, float) and v.is_integer() else str(v) for v in values[:5])


def _judge(text: str, found: list[Found], kind: str, same=lambda a, b: a == b) -> Read:
    """One value of ``kind`` stated plainly, or None with why: none, out of range,
    negated, several distinct values (a hedge) or a bound next to the value."""
    found_t = tuple(found)
    if not found:
        return Read(None, f"none: no {kind} in the answer", found_t)
    if any(f.value is None for f in found):
        return Read(None, f"none: a {kind} out of range", found_t)
    for f in found:
        if negated_at(text, f.start, f.end):
            return Read(None, f"negated: {text[f.start:f.end]!r} is denied in the answer", found_t)
    distinct: list = []
    for f in found:
        if not any(same(f.value, d) for d in distinct):
            distinct.append(f.value)
    if len(distinct) > 1:
        return Read(None, f"hedge: several {kind}s ({_show(distinct)})", found_t)
    for f in found:
        bound = qualified_at(text, f.start, f.end)
        if bound:
            return Read(None, f"hedge: a bound ({bound!r}), not one {kind}", found_t)
    return Read(distinct[0], "", found_t)


def _when_spans(text: str) -> list[tuple[int, int]]:
    return [(f.start, f.end) for f in scan_dates(text)] + [(f.start, f.end) for f in scan_times(text)]


def read_number(text, *, unit: str | None = None, integer: bool = False) -> Read:
    """The one number a final answer states ("250g", "7.5 kg", "1,234", "25,37", "9 000",
    "−3", "12.5%"), not counting the parts of dates and clock times. With ``unit`` a value
    in another unit of the same family is converted ("7500 g" for kg is 7.5) and one of
    another family is not a candidate. With ``integer`` the value must be whole (25.0 is
    25) and comes back as an int."""
    text = _clean(text)
    found = scan_numbers(text, skip=_when_spans(text))
    if unit:
        want = unit_of(unit) or unit.lower()
        conv = []
        for f in found:
            v = convert(f.value, f.unit, want) if f.value is not None else None
            if f.value is not None and v is None:
                continue  # another kind of quantity: not a candidate
            conv.append(Found(v, f.start, f.end, want))
        found = conv
    r = _judge(text, found, "number", _same_number)
    if r.ok and integer:
        v = float(r.value)
        if abs(v - round(v)) > 1e-9:
            return Read(None, f"none: {v:g} is not a whole number", r.found)
        return Read(int(round(v)), "", r.found)
    return r


_CUR = re.compile(r"[$€£¥₹₽₩₺₪฿]|\b[A-Za-z]{3}\b(?=\s*$)|^\s*[A-Za-z]{3}\b")
_JOIN = re.compile(r"^\s*(?:or|to|and|and/or|-|–|—|/|~)\s*$", re.I)


def read_money(text, *, currency: str | None = None) -> Read:
    """The one amount a final answer states ("$1,234.50", "19.99USD", "€25,37", "25,37 €",
    "USD 44"), rounded to the cent. When some numbers carry a currency, bare numbers
    beside them ("for 4 items") are not amounts, unless joined to one by "or"/"to"/"-"
    (a hedge). With ``currency`` (a code or symbol) amounts in another currency are ignored."""
    text = _clean(text)
    found = scan_numbers(text, skip=_when_spans(text))
    want = (unit_of(currency) or currency.lower()) if currency else None
    if want:
        found = [f for f in found if f.unit in (None, want) or not is_money_unit(f.unit)]
    tagged = [f for f in found if is_money_unit(f.unit)]
    if tagged:
        joined = [
            b for b in found if not is_money_unit(b.unit)
            and any(_JOIN.match(_CUR.sub("", text[min(a.end, b.end) : max(a.start, b.start)])) for a in tagged)
        ]
        found = sorted(tagged + joined, key=lambda f: f.start)
    found = [f for f in found if f.unit is None or is_money_unit(f.unit) or f.value is None]
    r = _judge(text, found, "amount", lambda a, b: round(a * 100) == round(b * 100))
    return Read(round(r.value, 2), "", r.found) if r.ok else r


def read_time(text) -> Read:
    """The one clock time a final answer states ("11:45 AM", "7pm", "19:30", "19h30",
    "noon"), as ``HH:MM:SS``."""
    text = _clean(text)
    return _judge(text, scan_times(text), "time")


def _same_date(a: str, b: str) -> bool:
    return a[-5:] == b[-5:] and (a.startswith("--") or b.startswith("--") or a[:4] == b[:4])


def read_date(text, *, numeric_order: str | None = None, year: int | None = None) -> Read:
    """The one date a final answer states ("2025-03-03", "3 March 2025", "March 3, 2025",
    "3rd of March", "03.03.2025"), as ``YYYY-MM-DD``. A date written without a year is
    ``--MM-DD`` unless ``year`` fills it in. Ambiguous numeric dates are not read unless
    ``numeric_order`` ("mdy"/"dmy") is given."""
    text = _clean(text)
    found = scan_dates(text, numeric_order=numeric_order)
    r = _judge(text, found, "date", _same_date)
    if not r.ok:
        return r
    dated = [f.value for f in found if not f.value.startswith("--")]
    value = dated[0] if dated else r.value
    if value.startswith("--") and year is not None:
        value = parse_date(f"{int(year):04d}{value[1:]}") if 0 < int(year) < 10000 else None
        if value is None:
            return Read(None, f"none: no such date in {year}", r.found)
    return Read(value, "", r.found)


def _options(options) -> dict:
    """``{canonical: [aliases]}`` from a list of names or a mapping to alternatives."""
    if isinstance(options, dict):
        items = list(options.items())[:MAX_OPTIONS]
        return {str(k): [str(k), *[str(a) for a in (v if isinstance(v, (list, tuple)) else [v]) if a is not None]] for k, v in items}
    return {str(o): [str(o)] for o in list(options or [])[:MAX_OPTIONS]}


def read_choice(text, options, *, whole: bool = False) -> Read:
    """Which one of ``options`` (names, enum values; a list, or a mapping of each option
    to its other spellings) the answer names, case-insensitive and word-bounded: "Anna",
    "It was Anna.", "Oslo, Norway" for Oslo. Naming two options is a hedge, denying one
    ("not Anna") a negation. With ``whole`` the entire answer must be the option (an enum
    value in a JSON field), so "ANNA" matches and "Anna Smith" does not."""
    text = _clean(text)
    opts = _options(options)
    by_norm = {}
    for canon, aliases in opts.items():
        for a in aliases:
            n = normalize_text(a)[:200]
            if n:
                by_norm.setdefault(n, canon)
    if not by_norm or not text.strip():
        return Read(None, "none: no option named", ())
    if whole:
        canon = by_norm.get(normalize_text(text))
        return Read(canon, "" if canon else f"none: {text[:60]!r} is not one of the options", ())
    alts = sorted(by_norm, key=len, reverse=True)
    rx = re.compile(r"(?<!\w)(?:" + "|".join(r"\s+".join(map(re.escape, a.split())) for a in alts) + r")(?!\w)", re.I)
    found = []
    for m in rx.finditer(text):
        canon = by_norm.get(normalize_text(m.group()))
        if canon is not None:
            found.append(Found(canon, m.start(), m.end()))
        if len(found) >= MAX_OPTIONS:
            break
    return _judge(text, found, "option")


def hedged(text, kind: str = "number", **kw) -> str:
    """Why the answer is a hedge (several values of ``kind`` or a bound), or ''.
    ``kind`` is number, money, time, date or choice (pass ``options=``)."""
    why = _reader(kind)(text, **kw).why
    return why if why.startswith("hedge") else ""


def negated(text, kind: str = "number", **kw) -> str:
    """Why the answer denies its value ("not 44", "it is not Anna; it was Ben"), or ''."""
    why = _reader(kind)(text, **kw).why
    return why if why.startswith("negated") else ""


def _reader(kind: str):
    return {"number": read_number, "money": read_money, "time": read_time, "date": read_date, "choice": read_choice}[kind]


# --------------------------------------------------------------------------- older names

def numbers_in(s: str) -> list[float]:
    """Every in-range number in ``s`` (units and currencies allowed, "1,234" is 1234),
    not counting the parts of dates and clock times."""
    s = _clean(s)
    return numbers_of(s, skip=_when_spans(s))


def single_number(s: str) -> tuple[float | None, str]:
    """Exactly one distinct number in the answer, else (None, why): see :func:`read_number`."""
    r = read_number(s)
    return (float(r.value), "") if r.ok else (None, r.why)
