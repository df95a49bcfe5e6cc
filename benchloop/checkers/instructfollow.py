"""instructfollow: prompts whose instructions can be verified by code.

Each task lists constraint specs under ``check.constraints``; every constraint is a pure
function of the reply text (the rules live in :mod:`benchloop.checkers.if_rules`).

Score (IFEval's headline metric, prompt-level strict): 100 when the reply meets EVERY
constraint of its task, else 0. Beside it, in the verdict's detail: ``loose_score``
(prompt-level loose: a constraint also counts when the reply meets it without markdown
emphasis or without a first/last framing line such as "Sure! Here is…"), and
``instruction_strict`` / ``instruction_loose``, the percentage of constraints met.

A reply that would fit every task answers none. Formatting alone is cheap (a text
stuffed with every keyword and every marker meets many of them), so:

- every task has a ``topic`` constraint, its substance: the reply must use at least
  ``n`` words of the task's subject vocabulary that the prompt does NOT contain (validate
  rejects a vocabulary word the prompt gives away, and at run time any word the prompt
  holds is ignored), and at least ``new_words`` distinct content words of its own. The
  prompt's keywords, however often repeated, never make a reply count as on topic.
  Without substance every figure of the verdict is 0;
- every task bounds its size (``word_count`` at most/exactly, or a JSON object with
  only the asked keys), so a reply cannot carry every task's vocabulary at once; tasks
  also ask for formats that exclude each other (lowercase/capitals, JSON/prose, quotes,
  exact list lengths, one opening phrase);
- an echo of the prompt scores 0 under light edits: the reply's words are compared as
  case-folded tokens (commas, case and line breaks gone), and the reply is an echo when
  at least half of its tokens sit in a word pair the prompt (with the system message)
  also has. Reordered sentences keep their pairs, and a prefix or suffix dilutes little.

Reasoning is never graded: ``<think>`` blocks and everything before a lone ``</think>``
are cut by the shared reader (:func:`benchloop.checkers.answers.strip_reasoning`).

Constraint types (``type:`` and its arguments)::

    topic {words, n, new_words}          include_keywords {words}   forbid_keywords {words}
    keyword_count {word, relation, n}    word_count {relation, n}   sentence_count {relation, n}
    paragraph_count {n}                  bullet_count {relation, n, style}
    highlight_count {relation, n}        placeholder_count {relation, n}  caps_words {relation, n}
    lowercase {}  uppercase {}           starts_with {phrase}       ends_with {phrase}
    quoted {}     no_commas {}           title {exclude}            sections {marker, n}
    postscript {marker, words}           parts {separator, n, words}
    json_format {keys, only_keys, numbers: {key: [low, high]}, list: {key, n, item_keys}}

``relation`` is ``at_least``, ``at_most`` or ``exactly``.
"""
from __future__ import annotations

from benchloop.checkers.answers import strip_reasoning
from benchloop.checkers.if_rules import (  # noqa: F401  (re-exported: the suite's own names)
    CONSTRAINTS, MAX_TEXT, RELATIONS, evaluate, fold, forms, keyword_re, loose_variants, norm, paragraphs,
    parse_json_reply, plain, sentences, stems, strip_markdown, words,
)
from benchloop.record import Verdict

CHECKER_VERSION = "instructfollow-4"  # with the shared reader, answers.READER_VERSION

ECHO_SHARE = 0.5      # share of a reply's tokens inside a word pair of the prompt: an echo
NEW_WORDS = 5         # distinct content words a reply needs beyond the prompt's (default)
MIN_TOPIC_LEXICON = 4
STOPWORDS = frozenset(
    "the and for are but not you your with this that from have has was were will would can could should "
    "its it's our out all any one two who what when where which why how into onto over under than then "
    "them they their there here also just very more most some such only own same too may might must "
    "been being did does doing had him his her hers she he we us me my mine yes no nor off per via about "
    "sure okay ok hope helps let lets".split()
)
_SIZE_BOUNDS = ("at_most", "exactly")


# --------------------------------------------------------------------------- substance

def _prompt_text(task: dict) -> str:
    """What the model was given: the system message and the user turns."""
    if task.get("prompt"):
        return f"{task.get('system') or ''}\n{task['prompt']}"
    return "\n".join(str(m.get("content") or "") for m in task.get("messages") or [] if m.get("role") in ("user", "system"))


def _tokens(text: str) -> list[str]:
    return [fold(w) for w in words(plain(text)[:MAX_TEXT])]


def prompt_vocabulary(prompt: str) -> set[str]:
    """Every word of the prompt in its simple inflections (what the prompt gives away)."""
    vocab: set[str] = set()
    for w in set(_tokens(prompt)):
        vocab |= forms(w)
    return vocab


def given_away(entry: str, vocab: set[str]) -> bool:
    """Does the prompt already hold this topic word (in any of its forms)?"""
    return bool(stems(entry) & vocab)


def _derived(word: str, tokens: set[str]) -> bool:
    """A longer topic word also counts in its derived forms ("cardio" in "cardiovascular",
    "active" in "activity", "exercise" in "exercising"): a root of five letters or more
    that starts a reply word. Short words ("sun", "fit") keep their simple inflections
    only, so "sun" never matches "sunday"."""
    w = fold(word)
    root = w[:-1] if len(w) >= 6 and w[-1] in "eys" else w
    return len(root) >= 5 and any(t.startswith(root) for t in tokens)


def substance(text: str, spec: dict, vocab: set[str]) -> tuple[bool, str]:
    """The ``topic`` constraint: subject words the prompt does not give, and own words."""
    reply = set(_tokens(text))
    lexicon = [w for w in spec.get("words") or [] if not given_away(w, vocab)]
    own = reply - vocab  # a topic word counts only from the reply's own words, never the prompt's
    hits = [w for w in lexicon if stems(w) & own or _derived(w, own)]
    new = {w for w in reply - vocab if len(w) >= 3 and w not in STOPWORDS}
    need_new = spec.get("new_words", NEW_WORDS)
    ok = len(hits) >= spec.get("n", 1) and len(new) >= need_new
    return ok, f"topic words {hits[:8]} (need {spec.get('n', 1)}), {len(new)} own words (need {need_new})"


def is_echo(reply: str, prompt: str) -> bool:
    """Mostly the prompt repeated: at least ``ECHO_SHARE`` of the reply's tokens sit in a
    word pair the prompt also has (case, commas, line breaks and order of sentences do
    not matter; a short prefix or suffix does not dilute it below half)."""
    r, p = _tokens(reply), _tokens(prompt)
    if len(r) < 3 or len(p) < 2:
        return bool(r) and len(r) >= 2 and " ".join(r) in " ".join(p)
    pairs = set(zip(p, p[1:]))
    covered = [False] * len(r)
    for i in range(len(r) - 1):
        if (r[i], r[i + 1]) in pairs:
            covered[i] = covered[i + 1] = True
    return sum(covered) >= ECHO_SHARE * len(r)


# --------------------------------------------------------------------------- interface

def _spec_problem(i: int, spec) -> str | None:
    if not isinstance(spec, dict) or (spec.get("type") not in CONSTRAINTS and spec.get("type") != "topic"):
        return f"constraint #{i}: type must be topic or one of {', '.join(sorted(CONSTRAINTS))}"
    for arg in CONSTRAINTS[spec["type"]][1] if spec["type"] in CONSTRAINTS else ("words", "n"):
        if arg not in spec:
            return f"constraint #{i} ({spec['type']}) needs {arg!r}"
    if "relation" in spec and spec["relation"] not in RELATIONS:
        return f"constraint #{i}: relation must be one of {', '.join(RELATIONS)}"
    for key in ("n", "new_words"):
        v = spec.get(key, 0)
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            return f"constraint #{i}: {key} must be a non-negative integer"
    for key in ("words", "exclude"):
        if key in spec and not (isinstance(spec[key], list) and all(isinstance(w, str) and w.strip() for w in spec[key])):
            return f"constraint #{i}: {key} must be a list of text"
    if "words" in spec and not spec["words"] and spec["type"] != "topic":
        return f"constraint #{i}: words must not be empty"
    if spec.get("style", "symbol") not in ("dash", "star", "number", "any", "symbol"):
        return f"constraint #{i}: unknown bullet style"
    return None


def validate(task: dict):
    chk = task.get("check")
    if not isinstance(chk, dict) or not isinstance(chk.get("constraints"), list) or not chk["constraints"]:
        return ("check", "must be a mapping with a non-empty 'constraints' list")
    specs = chk["constraints"]
    for i, spec in enumerate(specs, 1):
        problem = _spec_problem(i, spec)
        if problem:
            return ("check", problem)
    topics = [s for s in specs if s["type"] == "topic"]
    if len(topics) != 1:
        return ("check", "needs exactly one topic constraint (the reply's substance)")
    vocab = prompt_vocabulary(_prompt_text(task))
    topic = topics[0]
    leaked = [w for w in topic["words"] if given_away(w, vocab)]
    if leaked:
        return ("check", f"topic words the prompt already gives away: {leaked}")
    if topic["words"] and (topic["n"] < 1 or len(topic["words"]) < max(MIN_TOPIC_LEXICON, 2 * topic["n"])):
        return ("check", f"topic needs n >= 1 and at least {MIN_TOPIC_LEXICON} words, twice n, so honest phrasings can meet it")
    if not topic["words"] and topic.get("new_words", NEW_WORDS) < 6:
        return ("check", "a topic without words needs new_words >= 6")
    bounded = any(
        (s["type"] == "word_count" and s["relation"] in _SIZE_BOUNDS) or (s["type"] == "json_format" and s.get("only_keys"))
        for s in specs
    )
    if not bounded:
        return ("check", "needs a size bound (word_count at_most/exactly, or json_format only_keys)")
    return None


def check(task: dict, reply: dict) -> Verdict:
    """Prompt-level strict score of ``reply["content"]`` with its reasoning cut out."""
    specs = task["check"]["constraints"]
    content = reply.get("content") if isinstance(reply, dict) else None
    text = plain(strip_reasoning(content[: 4 * MAX_TEXT] if isinstance(content, str) else "")[0][:MAX_TEXT])
    if not text.strip():
        return _zero(specs, "empty reply")
    prompt = _prompt_text(task)
    if is_echo(text, prompt):
        return _zero(specs, "the reply repeats the prompt")
    vocab = prompt_vocabulary(prompt)
    variants = loose_variants(text)
    checks = []
    for spec in specs:
        if spec["type"] == "topic":
            ok, why = substance(text, spec, vocab)
            loose = ok
        else:
            ok, why = evaluate(text, spec)
            loose = ok or any(evaluate(v, spec)[0] for v in variants[1:])
        checks.append({"name": spec["type"], "ok": ok, "loose": loose, "detail": why})
    if not next(c for c in checks if c["name"] == "topic")["ok"]:
        return _zero(specs, "off topic: " + next(c for c in checks if c["name"] == "topic")["detail"], checks)
    n = len(checks)
    strict_all, loose_all = all(c["ok"] for c in checks), all(c["loose"] for c in checks)
    failed = [c["name"] for c in checks if not c["ok"]]
    return Verdict(
        100.0 if strict_all else 0.0,
        strict_all,
        f"failed: {', '.join(failed)}" if failed else "all constraints met",
        checks,
        {
            "loose_score": 100.0 if loose_all else 0.0,
            "instruction_strict": round(100.0 * sum(c["ok"] for c in checks) / n, 4),
            "instruction_loose": round(100.0 * sum(c["loose"] for c in checks) / n, 4),
        },
    )


def _zero(specs, why: str, checks=None) -> Verdict:
    if checks is None:
        checks = [{"name": s.get("type"), "ok": False, "loose": False, "detail": why} for s in specs]
    return Verdict(0.0, False, why, checks, {"loose_score": 0.0, "instruction_strict": 0.0, "instruction_loose": 0.0})
