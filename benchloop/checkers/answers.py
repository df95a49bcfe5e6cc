"""Shared parsing of final answers: the ``ANSWER: …`` line and typed values.

Model output is hostile input: everything here is bounded (no regex that can
backtrack badly, inputs cut to a sane length) and never raises on odd text.
"""
from __future__ import annotations

import re
import unicodedata

MAX_TEXT = 200_000
_ANSWER_LINE = re.compile(r"^[ \t>*_#`-]*answer[ \t*_`]*[:：][ \t]*(.*)$", re.IGNORECASE | re.MULTILINE)
_NUMBER = re.compile(r"(?<![\w.])[-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w])|(?<![\w.\d])[-−]?\.\d+")


def final_answer(text: str | None) -> str | None:
    """The text after the last ``ANSWER:`` line, stripped of markdown emphasis; None if absent."""
    if not text:
        return None
    text = text[-MAX_TEXT:]
    found = _ANSWER_LINE.findall(text)
    if not found:
        return None
    ans = found[-1].strip()
    ans = re.sub(r"^[*_`]+|[*_`]+$", "", ans).strip()
    return ans or None


def normalize_text(s: str) -> str:
    s = unicodedata.normalize("NFKC", s).casefold()
    s = re.sub(r"[\s]+", " ", s)
    return s.strip().strip(" .!,;:\"'`*_")


def numbers_in(s: str) -> list[float]:
    out = []
    for m in _NUMBER.findall(s[:2000]):
        m = m.replace(",", "").replace("−", "-")
        try:
            out.append(float(m))
        except ValueError:
            pass
    return out


def single_number(s: str) -> tuple[float | None, str]:
    """Exactly one distinct number in the answer, else (None, why). Hedging ("12 or 13") fails."""
    nums = numbers_in(s)
    if not nums:
        return None, "no number in the answer"
    distinct = sorted(set(nums))
    if len(distinct) > 1:
        return None, f"ambiguous answer with several numbers {distinct[:5]}"
    return distinct[0], ""
