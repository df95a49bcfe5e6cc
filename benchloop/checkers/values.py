"""Numbers as people write them, found in model text: the scanning half of the answer reader.

``scan_numbers`` finds every number with its unit or currency ("250g", "7.5 kg",
"$1,234.50", "25,37 €", "9 000", "1.234,5", "−3", "12.5%"); ``to_number`` reads one JSON
value or string as a number. The readers that judge a whole final answer (one value, no
hedge, no negation) live in :mod:`benchloop.checkers.answers`, built on these scanners.

Model output is hostile input: every regex here is linear (no nested quantifiers that can
backtrack), texts are cut to ``MAX_SCAN`` characters, a number longer than ``MAX_DIGITS``
digits or beyond ``MAX_ABS`` is out of range (a ``Found`` whose value is None), and nothing
raises: ``1e309``, a 400-digit integer, NaN and inf are wrong answers, never crashes.
"""
from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass, field

MAX_SCAN = 20_000       # characters of one text scanned for values
MAX_DIGITS = 30         # digits in one written number (more is out of range)
MAX_ABS = 1e15          # larger magnitudes are out of range (cents of it still fit a float)
MAX_FOUND = 200         # values kept per scan


@dataclass(frozen=True)
class Found:
    """One value written in a text: ``value`` (None when out of range), where it is, its unit."""

    value: object
    start: int
    end: int
    unit: str | None = None
    """Canonical unit or currency code: ``g``, ``kg``, ``min``, ``usd``, ``%``... (None if bare)."""


@dataclass(frozen=True)
class Read:
    """What a reader made of an answer: the value, or None and why not."""

    value: object = None
    why: str = ""
    found: tuple = field(default=(), compare=False)
    """Every candidate seen (for diagnostics)."""

    @property
    def ok(self) -> bool:
        return self.value is not None

    def __bool__(self) -> bool:
        return self.value is not None


# --------------------------------------------------------------------------- units

_UNIT_TABLE = {
    # canonical: (family, factor to the family's base, aliases)
    "mg": ("mass", 0.001, ("milligram", "milligrams")),
    "g": ("mass", 1.0, ("gr", "gram", "grams", "gramme", "grammes")),
    "kg": ("mass", 1000.0, ("kgs", "kilo", "kilos", "kilogram", "kilograms")),
    "ms": ("time", 0.001, ("millisecond", "milliseconds", "msec")),
    "s": ("time", 1.0, ("sec", "secs", "second", "seconds")),
    "min": ("time", 60.0, ("mins", "minute", "minutes")),
    "h": ("time", 3600.0, ("hr", "hrs", "hour", "hours")),
    "d": ("time", 86400.0, ("day", "days")),
    "mm": ("length", 0.001, ("millimeter", "millimeters", "millimetre", "millimetres")),
    "cm": ("length", 0.01, ("centimeter", "centimeters", "centimetre", "centimetres")),
    "m": ("length", 1.0, ("meter", "meters", "metre", "metres")),
    "km": ("length", 1000.0, ("kms", "kilometer", "kilometers", "kilometre", "kilometres")),
    "ml": ("volume", 0.001, ("milliliter", "milliliters", "millilitre", "millilitres")),
    "l": ("volume", 1.0, ("liter", "liters", "litre", "litres", "ltr")),
    "oz": ("mass", 28.349523125, ("ounce", "ounces")),
    "lb": ("mass", 453.59237, ("lbs",)),
    "ft": ("length", 0.3048, ("feet", "foot")),
    "mi": ("length", 1609.344, ("mile", "miles")),
    "%": ("percent", 1.0, ("percent", "pct", "per cent")),
    # temperatures are affine, not proportional: convert() handles the family itself
    "degc": ("temperature", 1.0, ("°c", "ºc", "celsius", "centigrade")),
    "degf": ("temperature", 1.0, ("°f", "ºf", "fahrenheit")),
    "k": ("temperature", 1.0, ("kelvin",)),
    "usd": ("money", 1.0, ("dollar", "dollars", "us$")),
    "eur": ("money", 1.0, ("euro", "euros")),
    "gbp": ("money", 1.0, ("pound", "pounds", "quid")),
    "jpy": ("money", 1.0, ("yen",)),
    "inr": ("money", 1.0, ("rupee", "rupees")),
}
CURRENCY_CODES = ("usd", "eur", "gbp", "jpy", "chf", "cad", "aud", "nzd", "sek", "nok", "dkk", "pln", "czk",
                  "huf", "inr", "cny", "rmb", "rub", "brl", "mxn", "zar", "krw", "try", "sgd", "hkd")
CURRENCY_SYMBOLS = {"$": "usd", "€": "eur", "£": "gbp", "¥": "jpy", "₹": "inr", "₽": "rub", "₩": "krw", "₺": "try", "₪": "ils", "฿": "thb"}
_ALIAS = {}
for _canon, (_fam, _f, _aliases) in _UNIT_TABLE.items():
    _ALIAS[_canon] = _canon
    for _a in _aliases:
        _ALIAS[_a] = _canon
for _c in CURRENCY_CODES:
    _ALIAS.setdefault(_c, _c)
_ORDINALS = ("st", "nd", "rd", "th")


def unit_of(word: str | None) -> str | None:
    """The canonical unit for a written unit word or symbol (``kilos`` -> ``kg``); None if unknown."""
    if not word:
        return None
    w = word.strip().lower()
    return CURRENCY_SYMBOLS.get(w) or _ALIAS.get(w)


def is_money_unit(unit: str | None) -> bool:
    return bool(unit) and (unit in CURRENCY_CODES or unit in CURRENCY_SYMBOLS.values())


def convert(value: float, unit: str | None, want: str | None):
    """``value`` in ``unit`` expressed in ``want``: the same value when the units agree or
    either is unknown/bare, converted within a family (g -> kg), None across families."""
    if value is None or want is None or unit is None or unit == want:
        return value
    a, b = _UNIT_TABLE.get(unit), _UNIT_TABLE.get(unit_of(want) or want)
    if a is None or b is None:
        if is_money_unit(unit) and is_money_unit(unit_of(want) or want):
            return None  # another currency is another amount
        return None if (a or is_money_unit(unit)) and (b or is_money_unit(unit_of(want) or want)) else value
    if a[0] != b[0]:
        return None
    if a[0] == "temperature":
        return _from_celsius(_to_celsius(value, unit), unit_of(want) or want)
    return value * a[1] / b[1]


def _to_celsius(v: float, unit: str) -> float:
    return (v - 32.0) * 5.0 / 9.0 if unit == "degf" else v - 273.15 if unit == "k" else v


def _from_celsius(v: float, unit: str) -> float:
    return v * 9.0 / 5.0 + 32.0 if unit == "degf" else v + 273.15 if unit == "k" else v


# --------------------------------------------------------------------------- scanning

_SPACES = " \u00a0\u202f\u2009'’"
_RUN = re.compile(r"[-−+]?(?:\d+(?:[.,'’ \u00a0\u202f\u2009]\d+)*|\.\d+)(?:[eE][-+]?\d+(?![A-Za-z]))?")
_FRACTION = re.compile(r"/(\d{1,6})(?![\d/]|[.,-]\d)")
_SEP = re.compile(r"[.,'’ \u00a0\u202f\u2009]")
_WORD_AFTER = re.compile(r"[ \u00a0\u202f\u2009]{0,2}(per cent|[°º]?[A-Za-z]{1,12}|%|[$€£¥₹₽₩₺₪฿])(?![A-Za-z])")
_GLUED_AFTER = re.compile(r"[^\W\d_]{1,12}")
_CUR_BEFORE = re.compile(r"([A-Za-z]{2,3}\$|[A-Za-z]{3}|[$€£¥₹₽₩₺₪฿])[ \u00a0\u202f\u2009]{0,2}$")


def _grouped(groups: list[str]) -> bool:
    return 1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])


def _interpret(core: str):
    """A run of digits and separators as one number: float, or None when it is not one
    well-formed number (the caller then reads its pieces as separate numbers)."""
    if core.startswith("."):
        return float("0" + core)
    seps = _SEP.findall(core)
    groups = _SEP.split(core)
    if not seps:
        return float(core)
    puncts = [s for s in seps if s in ".,"]
    spaces = [s for s in seps if s not in ".,"]
    if not puncts:
        return float("".join(groups)) if _grouped(groups) else None
    last = seps[-1]
    if last not in ".,":
        # a punctuation mark before space groups: only valid as the same thousands mark
        return None
    if len(set(puncts)) == 2:
        if puncts.count(last) != 1:
            return None
        thou = set(seps[:-1])
        if len(thou) != 1 or not _grouped(groups[:-1]):
            return None
        return float("".join(groups[:-1]) + "." + groups[-1])
    # one kind of punctuation mark
    if puncts.count(last) > 1:
        if spaces or not _grouped(groups):
            return None
        return float("".join(groups))  # 1,234,567 or 1.234.567
    whole, frac = groups[:-1], groups[-1]
    if spaces and not _grouped(whole):
        return None
    if last == "," and len(frac) == 3 and not spaces and whole[0] != "0":
        return float("".join(whole) + frac)  # "1,234" is 1234
    return float("".join(whole) + "." + frac)  # "25,37" is 25.37, "7.5" is 7.5


def _value(text: str) -> float | None:
    """A finite float within MAX_ABS, or None."""
    digits = sum(c.isdigit() for c in text)
    if digits > MAX_DIGITS and "e" not in text.lower():
        return None
    try:
        v = _interpret(text) if "e" not in text.lower() else float(text)
    except (ValueError, OverflowError):
        return None
    if v is None or not math.isfinite(v) or abs(v) > MAX_ABS:
        return None
    return v


def scan_numbers(text: str, *, skip=()) -> list[Found]:
    """Every number written in ``text`` with its unit or currency, in order.

    ``skip`` is a list of (start, end) spans to ignore (dates and times, so the 09 of
    2025-04-09 is not the number 9). A number glued to letters that run into more digits
    ("A4B5", "CO2", "3x4") is an identifier, not a number. Out-of-range numbers come back
    with ``value`` None, so a reader can refuse them instead of reading around them.
    """
    if not isinstance(text, str) or not text:
        return []
    text = text[:MAX_SCAN]
    merged: list[list[int]] = []
    for a, b in sorted(skip):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    starts = [a for a, _b in merged]
    out: list[Found] = []
    taken = 0
    for m in _RUN.finditer(text):
        if len(out) >= MAX_FOUND:
            break
        start, end = m.span()
        if start < taken:
            continue  # the denominator of a fraction already read
        i = bisect.bisect_left(starts, end) - 1
        if i >= 0 and merged[i][1] > start:
            continue  # inside a date or a time
        raw = m.group()
        sign = ""
        if raw[0] in "-−+":
            before = text[start - 1] if start else " "
            if before.isalnum() or before in ")]":
                raw, start = raw[1:], start + 1  # a hyphen or range dash, not a sign
            else:
                sign = "-" if raw[0] in "-−" else ""
                raw = raw[1:]
        body_start = end - len(raw)
        before = text[body_start - 1] if body_start else " "
        unit = None
        if before.isalpha() or before == "_":
            cur = _CUR_BEFORE.search(text, max(0, body_start - 6), body_start)
            code = cur.group(1).lower() if cur else ""
            if code.endswith("$"):
                unit = "usd"
            elif code in CURRENCY_CODES and not (cur.start() > 0 and text[cur.start() - 1].isalpha()):
                unit = code
            else:
                continue  # "abc123", "A4": part of a word
        elif body_start:
            cur = _CUR_BEFORE.search(text, max(0, body_start - 6), body_start)
            if cur:
                code = cur.group(1).lower()
                lead = text[cur.start() - 1] if cur.start() else " "
                if code.endswith("$") or code in CURRENCY_SYMBOLS:
                    unit = "usd" if code.endswith("$") else CURRENCY_SYMBOLS[code]
                elif code in CURRENCY_CODES and not lead.isalpha():
                    unit = code
        if text[end : end + 1] == "/" and raw.isdigit() and len(raw) <= 6 and before != "/":
            fm = _FRACTION.match(text, end)
            if fm:  # "3/4" is 0.75 (a date's slashes were skipped above)
                den = int(fm.group(1))
                v = (-1 if sign else 1) * int(raw) / den if den else None
                out.append(Found(v, body_start - len(sign), fm.end(), None))
                taken = fm.end()
                continue
        after = text[end : end + 1]
        if after.isalpha():
            g = _GLUED_AFTER.match(text, end)
            if g is None:
                continue
            nxt = text[g.end() : g.end() + 1]
            if nxt.isdigit():
                continue  # "3x4", "19h30", "A4B5"
            word = g.group().lower()
            unit = unit_of(word) or (None if word in _ORDINALS else word)
        elif after.isdigit():
            continue
        else:
            w = _WORD_AFTER.match(text, end)
            if w:
                u = unit_of(w.group(1))
                if u:
                    unit = u
        v = _value(raw)
        if v is None and not any(c in raw for c in "eE") and sum(c.isdigit() for c in raw) <= MAX_DIGITS and _SEP.search(raw):
            # not one number: its pieces are separate numbers ("1, 2, 3" written "1,2,3")
            pos = body_start
            for piece in _SEP.split(raw):
                out.append(Found(float(piece), pos, pos + len(piece), None))
                pos += len(piece) + 1
            continue
        if v is not None and sign:
            v = -v
        out.append(Found(v, body_start - len(sign), end, unit))
    return out


def numbers_of(text: str, *, skip=()) -> list[float]:
    """The in-range values of :func:`scan_numbers`."""
    return [f.value for f in scan_numbers(text, skip=skip) if f.value is not None]


_TOKEN = re.compile(r"[A-Za-z$€£¥₹₽₩₺₪฿%]+|[^\sA-Za-z$€£¥₹₽₩₺₪฿%.,]")


def to_number(value, *, coerce: bool = False, unit: str | None = None):
    """A JSON number (never a bool) as a float; with ``coerce`` also a string holding exactly
    one number ("$1,234.50", "7.5kg", "25,37 €", "9 000"). ``unit`` converts within a
    family ("7500 g" with unit ``kg`` is 7.5) and refuses another family. Anything else,
    non-finite or out-of-range values -> None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return float(value) if abs(value) <= MAX_ABS else None
    if isinstance(value, float):
        return value if math.isfinite(value) and abs(value) <= MAX_ABS else None
    if coerce and isinstance(value, str) and len(value) <= 60:
        found = scan_numbers(value)
        if len(found) != 1 or found[0].value is None:
            return None
        f = found[0]
        for tok in _TOKEN.findall(value[: f.start] + " " + value[f.end :]):
            if not unit_of(tok):
                return None  # other words around the number: not a numeric string
        return convert(f.value, f.unit, unit) if unit else f.value
    return None


def cents(value) -> int | None:
    """An amount in whole cents, or None when it is not a finite amount in range."""
    v = to_number(value)
    if v is None:
        return None
    return int(round(v * 100))


# --------------------------------------------------------------------------- hedges and negations

_BOUNDARY = re.compile(r"[;!?\n:—]|[.,](?=\s)|\s-\s|\b(?:but|however|instead|rather|whereas)\b", re.I)
_NEG_BEFORE = re.compile(r"\b(?:not|never|no|neither|nor|none)\b|n[’']t\b|\bisnt\b|\bwasnt\b", re.I)
_NEG_AFTER = re.compile(r"\b(?:is|was|are|were|would be)\s+(?:not|never|wrong|incorrect)\b|\b(?:is|was|are|were)n[’']t\b", re.I)
# "up to" is a bound, except where it means "equals": "adds up to 19", "comes up to $40"
_QUAL_BEFORE = re.compile(r"(?:\b(?:at least|at most|more than|less than|fewer than|(?<!add )(?<!adds )(?<!added )(?<!sum )(?<!sums )(?<!come )(?<!comes )(?<!came )up to|no more than|no less than|over|under|above|below|between|from)|[<>≤≥])\s*$", re.I)
_QUAL_AFTER = re.compile(r"^\s*(?:or (?:more|less|fewer|so|higher|lower|later|earlier|above|below)\b|\+(?!\d)|-ish\b|or thereabouts\b|at (?:least|most)\b)", re.I)
WINDOW = 80


def clause_before(text: str, start: int) -> str:
    """The words of ``start``'s clause that come before it (up to WINDOW characters)."""
    lo = max(0, start - WINDOW)
    chunk = text[lo:start]
    cut = 0
    for m in _BOUNDARY.finditer(chunk):
        cut = m.end()
    return chunk[cut:]


def clause_after(text: str, end: int) -> str:
    chunk = text[end : end + WINDOW]
    m = _BOUNDARY.search(chunk)
    return chunk[: m.start()] if m else chunk


def negated_at(text: str, start: int, end: int) -> bool:
    """Whether the value at ``text[start:end]`` is denied in its own clause
    ("not 44", "it isn't Anna", "44 is wrong")."""
    return bool(_NEG_BEFORE.search(clause_before(text, start)) or _NEG_AFTER.search(clause_after(text, end)))


_LEAD = re.compile(r"(?:\s|[$€£¥₹₽₩₺₪฿]|\b[A-Z]{3}\b)*$")


def qualified_at(text: str, start: int, end: int) -> str:
    """A bound next to the value ("at least 44", "44 or more", "up to $44"): the bound's
    words, or '' when the value is stated as a point. ("about 44" is a point.)"""
    before = clause_before(text, start)[-40:]
    m = _QUAL_BEFORE.search(before[: _LEAD.search(before).start()])
    if m:
        return m.group().strip()
    m = _QUAL_AFTER.match(text[end : end + 30])
    return m.group().strip() if m else ""
