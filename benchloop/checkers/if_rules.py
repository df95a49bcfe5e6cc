"""instructfollow's constraint rules: how a reply's words, sentences, keywords, phrases,
lists and JSON are read, and one pure function per constraint type.

Why a module of its own: the checker (:mod:`benchloop.checkers.instructfollow`) decides
what a verdict is (prompt-level strict, substance, echo); this module only answers "does
this text meet this one rule?". Every rule reads text the way models really write it:

- keywords match whole words, case-insensitively, in their simple inflections ("bench"
  matches "benches", "seeds" matches "seed", "story" matches "stories");
- "Mr.", "Dr.", "e.g.", "i.e.", initials ("Ursula K. Le Guin") and decimals are not
  sentence ends;
- start and end phrases ignore case, line wraps, markdown emphasis and trailing emoji;
- smart quotes and apostrophes read as straight ones.

Text is bounded before any regex runs and every pattern is linear, so hostile output
cannot stall the checker; nothing here raises on odd text (``evaluate`` turns a slip on
odd input into a failed check).
"""
from __future__ import annotations

import json
import re
import unicodedata

from benchloop.checkers.answers import read_number

MAX_TEXT = 40_000
RELATIONS = ("at_least", "at_most", "exactly")

_WORD = re.compile(r"[^\W_]+(?:['\-][^\W_]+)*")
_SENT_END = re.compile(r"[.!?]+(?=[\s\"')\]*_]|$)")
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
_TITLE = re.compile(r"<<([^<>\n]{1,200})>>|《([^《》\n]{1,200})》")
_CAPS_WORD = re.compile(r"\b[A-Z]{2,}\b")
_FENCE = re.compile(r"^```[a-zA-Z]{0,12}[ \t]*\n(.*)\n```$", re.S)
_QUOTE_PAIRS = {'"': '"', "“": "”", "„": "“", "«": "»"}
_SMART = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "“": '"', "”": '"', "„": '"', "‐": "-", "‑": "-"})
# A period after these is not a sentence end (titles, Latin abbreviations, "No. 5").
_ABBREV = {"mr", "mrs", "ms", "dr", "prof", "st", "sr", "jr", "vs", "e.g", "i.e", "cf", "approx", "no", "fig", "ca", "inc", "ltd", "co", "mt"}
_TOKEN_BEFORE = re.compile(r"([A-Za-z](?:\.?[A-Za-z]){0,6})$")


# --------------------------------------------------------------------------- reading text

def plain(text: str) -> str:
    """Smart quotes, apostrophes and hyphens read as ASCII; NFKC; CRLF and CR line ends
    read as newlines (a Windows-style reply has the same paragraphs and lines)."""
    return unicodedata.normalize("NFKC", text.replace("\r\n", "\n").replace("\r", "\n")).translate(_SMART)


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def fold(word: str) -> str:
    return word.casefold()


def _is_abbrev_end(text: str, m) -> bool:
    """Is the period at ``m`` part of an abbreviation, an initial or a decimal?"""
    if m.group() != ".":
        return False
    tok = _TOKEN_BEFORE.search(text, max(0, m.start() - 12), m.start())
    if not tok:
        return False
    t = tok.group(1)
    before = text[tok.start() - 1] if tok.start() > 0 else " "
    if before.isalnum():
        return False
    after = text[m.end() : m.end() + 3].lstrip()
    if t.casefold() in ("etc", "a.m", "p.m"):  # these end a sentence only before a capital or the end
        return bool(after) and not after[0].isupper()
    if t.casefold() in _ABBREV:
        return True
    return len(t) == 1 and t.isupper() and bool(after) and after[0].isupper()  # an initial


def sentences(text: str) -> int:
    """Sentences = runs of text ending in . ! or ? (or the end), each with a word in it;
    abbreviations, initials and decimals ("2.5") do not end one."""
    n, start = 0, 0
    for m in _SENT_END.finditer(text):
        if _is_abbrev_end(text, m):
            continue
        if _WORD.search(text, start, m.start()):
            n += 1
        start = m.end()
    if _WORD.search(text, start):
        n += 1
    return n


def paragraphs(text: str) -> list[str]:
    return [p for p in _PARA_SPLIT.split(text.strip()) if p.strip()]


def norm(s: str) -> str:
    return " ".join(plain(s).casefold().split())


def _drop_decoration(s: str) -> str:
    """Case-folded, emphasis markers, emoji and other symbols removed, whitespace collapsed:
    the form start and end phrases are compared in."""
    s = plain(s).casefold()
    out = [" " if c in "*_`#>" else c for c in s if unicodedata.category(c) not in ("So", "Sk", "Cf", "Mn", "Co", "Cs")]
    return " ".join("".join(out).split())


def forms(word: str) -> set[str]:
    """The simple inflections of one folded word: plural, possessive, -ed/-ing, y/ies."""
    w = fold(word)
    out = {w, w + "s", w + "es"}
    if w.endswith("s") and not w.endswith("ss") and len(w) > 3:
        out.add(w[:-1])
    if w.endswith("y") and len(w) > 2:
        out |= {w[:-1] + "ies", w[:-1] + "ied"}
    return out


def stems(word: str) -> set[str]:
    """Wider family for topic words: ``forms`` plus -ed, -ing, -er, -ly (e dropped where
    English drops it)."""
    w = fold(word)
    out = forms(w) | {w + x for x in ("ed", "ing", "er", "ers", "ly", "y")}
    if w.endswith("e"):
        out |= {w + "d", w + "r", w + "rs", w[:-1] + "ing"}
    return out


def keyword_re(phrase: str):
    """A keyword or phrase: whole words, any case, last word in its simple inflections."""
    parts = [fold(p) for p in words(plain(phrase))] or [re.escape(phrase.strip())]
    last = "|".join(re.escape(f) for f in sorted(forms(parts[-1]), key=len, reverse=True))
    head = "".join(re.escape(p) + r"[\s\-]+" for p in parts[:-1])
    return re.compile(rf"(?<![^\W_]){head}(?:{last})(?:'s)?(?![^\W_])", re.I)


def relate(got: int, relation: str, n: int) -> bool:
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
    missing = [w for w in spec["words"] if not keyword_re(w).search(text)]
    return not missing, f"missing {missing}" if missing else "all present"


def _c_forbid_keywords(text, spec):
    found = [w for w in spec["words"] if keyword_re(w).search(text)]
    return not found, f"used {found}" if found else "none used"


def _c_keyword_count(text, spec):
    got = len(keyword_re(spec["word"]).findall(text))
    return relate(got, spec["relation"], spec["n"]), f"{spec['word']!r} x{got}"


def _c_word_count(text, spec):
    got = len(words(text))
    return relate(got, spec["relation"], spec["n"]), f"{got} words"


def _c_sentence_count(text, spec):
    got = sentences(text)
    return relate(got, spec["relation"], spec["n"]), f"{got} sentences"


def _c_paragraph_count(text, spec):
    got = len(paragraphs(text))
    return got == spec["n"], f"{got} paragraphs"


def _c_bullet_count(text, spec):
    """Repeated items fail: a small model writing one line four times has not given four
    tips (seen on SmolLM2: three identical numbered questions)."""
    items = [norm(_BULLET_MARK.sub("", m)) for m in _BULLET_LINE[spec.get("style", "symbol")].findall(text)]
    if len(set(items)) != len(items):
        return False, f"{len(items)} bullets, only {len(set(items))} distinct"
    return relate(len(items), spec.get("relation", "exactly"), spec["n"]), f"{len(items)} bullets"


def _c_highlight_count(text, spec):
    got = len(_HIGHLIGHT.findall(text))
    return relate(got, spec.get("relation", "at_least"), spec["n"]), f"{got} highlighted"


def _c_placeholder_count(text, spec):
    got = len(_PLACEHOLDER.findall(text))
    return relate(got, spec.get("relation", "at_least"), spec["n"]), f"{got} placeholders"


def _c_caps_words(text, spec):
    got = len(_CAPS_WORD.findall(text))
    return relate(got, spec["relation"], spec["n"]), f"{got} all-caps words"


def _c_lowercase(text, spec):
    ok = any(c.isalpha() for c in text) and not any(c.isupper() for c in text)
    return ok, "all lowercase" if ok else "has capitals (or no letters)"


def _c_uppercase(text, spec):
    ok = any(c.isalpha() for c in text) and not any(c.islower() for c in text)
    return ok, "all capitals" if ok else "has lowercase letters (or no letters)"


def _c_starts_with(text, spec):
    ok = _drop_decoration(text).startswith(_drop_decoration(spec["phrase"]))
    return ok, f"starts {text.strip()[:40]!r}"


def _c_ends_with(text, spec):
    ok = _drop_decoration(text).endswith(_drop_decoration(spec["phrase"]))
    return ok, f"ends {text.strip()[-40:]!r}"


def _c_quoted(text, spec):
    t = text.strip()
    ok = len(t) >= 3 and _QUOTE_PAIRS.get(t[0]) == t[-1] and bool(words(t[1:-1]))
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


def _empty(v) -> bool:
    return v is None or (isinstance(v, (str, list, dict)) and not (v.strip() if isinstance(v, str) else v))


def json_number(v) -> float | None:
    """A number as models write it in JSON: 545000, 545000.0, "545,000", "2.9 million"."""
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v) if abs(v) < 1e300 else None
    if not isinstance(v, str) or len(v) > 80:
        return None
    scale = next((f for w, f in (("billion", 1e9), ("million", 1e6), ("thousand", 1e3)) if w in v.casefold()), 1.0)
    r = read_number(re.sub(r"(?i)\b(billion|million|thousand)\b", "", v))
    return None if r.value is None else r.value * scale


def _c_json_format(text, spec):
    """``keys`` must be present and non-empty; ``only_keys`` forbids others; ``numbers``
    maps a key to ``[low, high]``; ``list`` = ``{key, n, item_keys}``: exactly n distinct
    objects holding exactly those keys, each non-empty."""
    ok, value = parse_json_reply(text)
    if not ok:
        return False, "not valid JSON"
    keys = spec.get("keys") or []
    if not keys:
        return True, "valid JSON"
    if not isinstance(value, dict):
        return False, "JSON is not an object"
    missing = [k for k in keys if _empty(value.get(k))]
    if missing:
        return False, f"missing or empty keys {missing}"
    if spec.get("only_keys") and set(value) - set(keys):
        return False, f"keys not asked for {sorted(set(value) - set(keys))[:5]}"
    for key, (lo, hi) in (spec.get("numbers") or {}).items():
        x = json_number(value.get(key))
        if x is None or not lo <= x <= hi:
            return False, f"{key} is not a number in [{lo}, {hi}]"
    lst = spec.get("list")
    if lst:
        items = value.get(lst["key"])
        want = set(lst.get("item_keys") or [])
        if not isinstance(items, list) or len(items) != lst["n"]:
            return False, f"{lst['key']} is not a list of {lst['n']}"
        if not all(isinstance(i, dict) and set(i) == want and not any(_empty(x) or not isinstance(x, str) for x in i.values()) for i in items):
            return False, f"every item needs exactly {sorted(want)}, as text"
        if len({norm(json.dumps(i, sort_keys=True)) for i in items}) != len(items):
            return False, "repeated items"
    return True, "valid JSON"


def _c_no_commas(text, spec):
    ok = "," not in text and "，" not in text
    return ok, "no commas" if ok else "has commas"


def _c_title(text, spec):
    """``exclude`` lists titles that do not count, e.g. the prompt's own example."""
    excluded = {_drop_decoration(x) for x in spec.get("exclude") or []}
    titles = [_drop_decoration(a or b) for a, b in _TITLE.findall(text)]
    if any(t and t not in excluded for t in titles):
        return True, "has <<title>>"
    return False, "only the example title" if titles else "no <<title>>"


def _c_sections(text, spec):
    marker = re.escape(spec["marker"])
    nums = [int(x) for x in re.findall(rf"^[ \t#*_>]*{marker}[ \t*_:]*(\d{{1,3}})\b", text, flags=re.M | re.I)]
    ok = nums == list(range(1, spec["n"] + 1))
    return ok, f"section numbers {nums[:10]}"


def _c_postscript(text, spec):
    """A line starting with the marker, text after it; ``words`` must be in that text."""
    marker = re.escape(spec["marker"])
    m = None
    for m in re.finditer(rf"^[ \t*_]*{marker}[ \t*_:]*(?=[^\W_])", text, flags=re.M | re.I):
        pass
    if m is None:
        return False, f"no line starting {spec['marker']!r}"
    missing = [w for w in spec.get("words") or [] if not keyword_re(w).search(text, m.end())]
    return not missing, f"postscript lacks {missing}" if missing else "postscript found"


def _c_parts(text, spec):
    """Exactly n distinct parts between separators; ``words`` must be in every part."""
    parts = [p.strip() for p in text.split(spec["separator"])]
    ok = len(parts) == spec["n"] and all(words(p) for p in parts) and len(set(map(norm, parts))) == len(parts)
    if ok and spec.get("words"):
        ok = all(keyword_re(w).search(p) for p in parts for w in spec["words"])
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


def evaluate(text: str, spec: dict) -> tuple[bool, str]:
    """One constraint on one text; a checker slip on odd text reads as a failed check."""
    fn = CONSTRAINTS[spec["type"]][0]
    try:
        return fn(text, spec)
    except (ValueError, TypeError, KeyError, IndexError, RecursionError, OverflowError) as exc:
        return False, f"could not check: {type(exc).__name__}"
