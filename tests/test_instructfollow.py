"""instructfollow: prompt-level strict scoring, every frozen task's reference/wrong pair,
the cross-task matrix (a reply that fits every task answers none), gaming replies
(stuffed, keyword-only, echoes with light edits, empty, constant), the phrasings real
models write, each constraint type on its own, strict vs loose, fuzz and timing, and the
path through the drivers (benchloop.drivers.run_task)."""
from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchloop.checkers import instructfollow as ifc
from benchloop.tasks import load_suite

SUITE = load_suite("instructfollow")
TASKS = SUITE["tasks"]
IDS = [t["id"] for t in TASKS]
BY_ID = {t["id"]: t for t in TASKS}
CONSTANTS = ["", "  \n ", "I don't know", "{}", "OK", "ok", "Sure! Here you go.", "Lorem ipsum dolor sit amet.", "yes", "...",
             "As an AI language model, I will follow every instruction exactly."]
# Reference of one task scored against another that may legitimately pass: none so far.
# Add (reference_task, other_task): "why" here when a task pair truly shares a right answer.
MATRIX_EXCEPTIONS: dict = {}


def reply(content, reasoning=""):
    return {"content": content, "reasoning": reasoning, "tool_calls": []}


def ok(spec_type, text, **args):
    return ifc.evaluate(text, {"type": spec_type, **args})[0]


def score(task, text):
    return ifc.check(task, reply(text))["score"]


TOPIC = {"type": "topic", "n": 1, "new_words": 0, "words": ["harbour", "boat", "quay", "fishing"]}


def task_of(*specs, prompt="Write something."):
    return {"id": "if-999", "prompt": prompt, "check": {"constraints": [TOPIC, *specs]}}


def _all_zero(v):
    return v["score"] == 0.0 and v["loose_score"] == 0.0 and not v["passed"]


# --------------------------------------------------------------------------- frozen tasks

def test_suite_size_and_ids():
    assert len(TASKS) >= 20
    assert IDS == [f"if-{i:03d}" for i in range(1, len(TASKS) + 1)]
    quick = [t for t in TASKS if "quick" in (t.get("profiles") or [])]
    assert 4 <= len(quick) < len(TASKS)
    used = {s["type"] for t in TASKS for s in t["check"]["constraints"]}
    assert used == set(ifc.CONSTRAINTS) | {"topic"}, f"constraint types no task uses: {set(ifc.CONSTRAINTS) - used}"
    assert sum(1 for t in TASKS if len(t["check"]["constraints"]) >= 4) >= 10  # several at once
    assert ifc.CHECKER_VERSION == "instructfollow-4"


@pytest.mark.parametrize("task", TASKS, ids=IDS)
def test_reference_scores_100_and_wrong_0(task):
    ref = ifc.check(task, reply(task["reference"]))
    assert ref["score"] == 100.0 and ref["loose_score"] == 100.0 and ref["passed"], ref["reason"]
    assert ref["instruction_strict"] == ref["instruction_loose"] == 100.0
    assert all(c["ok"] and c["loose"] for c in ref["checks"])
    bad = ifc.check(task, reply(task["wrong"]))
    assert bad["score"] == 0.0 and not bad["passed"], bad["reason"]
    assert 0.0 <= bad["instruction_strict"] < 100.0


@pytest.mark.parametrize("task", TASKS, ids=IDS)
def test_reference_fits_no_other_task(task):
    """The cross-task matrix is diagonal: a reply written for one task answers no other."""
    for other in TASKS:
        if other is task or (task["id"], other["id"]) in MATRIX_EXCEPTIONS:
            continue
        v = ifc.check(other, reply(task["reference"]))
        assert v["score"] == 0.0, f"{task['id']}'s reference passes {other['id']}"


@pytest.mark.parametrize("task", TASKS, ids=IDS)
def test_reference_only_in_reasoning_scores_0(task):
    assert _all_zero(ifc.check(task, reply("", reasoning=task["reference"])))
    assert _all_zero(ifc.check(task, reply("<think>" + task["reference"] + "</think>")))


@pytest.mark.parametrize("task", TASKS, ids=IDS)
def test_lone_closing_think_before_the_answer_is_cut(task):
    """Chat templates that open the think block themselves leave only '</think>'."""
    v = ifc.check(task, reply("Let me plan: UPPERCASE? commas, JSON {x}.\n</think>\n\n" + task["reference"]))
    assert v["score"] == 100.0, v["reason"]


def test_validate_every_task_has_substance_and_a_size_bound():
    for t in TASKS:
        topics = [s for s in t["check"]["constraints"] if s["type"] == "topic"]
        assert len(topics) == 1
        vocab = ifc.prompt_vocabulary(ifc._prompt_text(t))
        assert not [w for w in topics[0]["words"] if ifc.given_away(w, vocab)], t["id"]


# --------------------------------------------------------------------------- gaming replies

def _universal_stuffed() -> str:
    """Every keyword and topic word of every task, every format marker, every phrase."""
    kws, phrases = [], []
    for t in TASKS:
        for s in t["check"]["constraints"]:
            kws += s.get("words") or []
            kws += [s["word"]] if s.get("word") else []
            phrases += [s["phrase"]] if s.get("phrase") else []
            phrases += [s["marker"] + " 1", s["marker"] + " 2", s["marker"] + " 3"] if s["type"] == "sections" else []
    body = " ".join(dict.fromkeys(kws))
    lines = [phrases[0], "<<A Fine Title>>", "# HEADING", *phrases[1:], body,
             "- " + " ".join(kws[:5]), "- " + " ".join(kws[5:10]), "* " + " ".join(kws[10:15]), "1. " + " ".join(kws[15:20]),
             "**BOLD PHRASE** and *em phrase* [Name] [Date] [Company]", "WE ARE READY NOW TOGETHER TEAM",
             "******", "bike ride fix", '"quoted text"', '{"city": "Lisbon", "country": "Portugal", "books": []}',
             "P.S. sunscreen towel hat", phrases[-1]]
    return "\n".join(lines)


def _gaming_replies(task) -> list[str]:
    stuffed = _universal_stuffed()
    out = [stuffed, stuffed.lower(), stuffed.upper(), '"' + stuffed.replace(",", "") + '"', "```json\n{" + stuffed[:200] + "}\n```"]
    mine = [w for s in task["check"]["constraints"] if s["type"] != "topic" for w in (s.get("words") or []) + ([s["word"]] if s.get("word") else [])]
    if mine:  # keyword-only replies: the prompt's keywords, bare, repeated, in a sentence
        out += [" ".join(mine), "\n".join(f"- {w}" for w in mine * 3), f"Here are the words: {', '.join(mine)}.", (" ".join(mine) + ". ") * 10]
    prompt = task["prompt"]
    sentences = [x.strip() for x in prompt.replace("\n", " ").split(". ") if x.strip()]
    out += [  # echoes with light edits
        prompt, prompt.upper(), prompt.lower(), prompt.replace(",", ""), ". ".join(reversed(sentences)),
        "Sure! Here is what you asked for:\n\n" + prompt, prompt + "\n\nHope this helps!",
        f'You asked: "{prompt}"', task["system"] + "\n" + prompt, "\n".join(f"- {x}" for x in sentences),
        "<<Answer>>\n" + prompt.lower().replace(",", "") + "\nP.S. done",
    ]
    return out + CONSTANTS


@pytest.mark.parametrize("task", TASKS, ids=IDS)
def test_gaming_replies_score_0(task):
    for text in _gaming_replies(task):
        v = ifc.check(task, reply(text))
        assert v["score"] == 0.0 and not v["passed"], (task["id"], text[:80], v["reason"])


@pytest.mark.parametrize("task", TASKS, ids=IDS)
def test_keywords_the_prompt_names_never_count_as_topic(task):
    """Every word of the prompt, repeated and shuffled, is still off topic."""
    words = ifc.words(task["prompt"])
    text = " ".join(sorted(set(words), key=str.casefold)) + ". " + " ".join(reversed(words)) + "."
    v = ifc.check(task, reply(text))
    assert _all_zero(v) and v["instruction_strict"] == 0.0, v["reason"]


def test_echo_detection():
    p = "Write a poem about the sea in lowercase, using the word tide three times."
    assert ifc.is_echo(p, p) and ifc.is_echo("  " + p.upper() + " ", p)
    assert ifc.is_echo("Write a poem about the sea", p)  # a chunk of it
    assert ifc.is_echo(f"Prompt: {p}\nOK", p)
    assert ifc.is_echo(p.replace(",", "").replace("tide", "TIDE"), p)
    assert ifc.is_echo("using the word tide three times. Write a poem about the sea in lowercase", p)  # reordered
    assert not ifc.is_echo("the tide comes in, the tide goes out, the tide is the sea's slow breath.", p)
    assert not ifc.is_echo(p + "\n\n" + "the tide rolls in over the stones " * 10, p)


# --------------------------------------------------------------------------- constraint types

def test_keywords():
    assert ok("include_keywords", "The Bamboo lid is cold.", words=["bamboo", "cold"])
    assert not ok("include_keywords", "bamboozled and colder", words=["bamboo", "cold"])  # whole words only
    assert ok("include_keywords", "say thank you", words=["thank you"])
    assert ok("forbid_keywords", "every day", words=["very"])
    assert not ok("forbid_keywords", "a VERY long day", words=["very"])
    assert ok("keyword_count", "tide, tide; Tide!", word="tide", relation="exactly", n=3)
    assert ok("keyword_count", "tide tides tidal", word="tide", relation="exactly", n=2)  # plural yes, tidal no
    assert ok("include_keywords", "Two old benches.", words=["bench"]) and ok("include_keywords", "one seed", words=["seeds"])
    assert ok("include_keywords", "short stories", words=["story"]) and ok("include_keywords", "**bamboo**", words=["bamboo"])
    assert ok("keyword_count", "one leak-proof lid", word="leak-proof", relation="exactly", n=1)


def test_counts_of_words_sentences_paragraphs():
    assert ifc.words("It's a well-known fact, isn't it? 42 times.") == ["It's", "a", "well-known", "fact", "isn't", "it", "42", "times"]
    assert ok("word_count", "one two three", relation="exactly", n=3)
    assert ok("word_count", "one two three", relation="at_most", n=3) and not ok("word_count", "one two three", relation="at_least", n=4)
    assert ifc.sentences("One. Two! Three? ...") == 3
    assert ifc.sentences("Version 2.5 is out. It costs $3.50 now") == 2
    assert ifc.sentences('He said "stop." Then left.') == 2
    assert ifc.sentences("") == 0
    assert ok("sentence_count", "A b. C d.", relation="exactly", n=2)
    assert ok("paragraph_count", "a\n\nb\n \nc", n=3)
    assert not ok("paragraph_count", "a\nb\nc", n=3)
    assert ok("paragraph_count", "\n\na\n\n\n\nb\n\n", n=2)


def test_bullets_highlights_placeholders_caps():
    text = "- one\n* two\n  - three\n1. four\n2) five\n-not a bullet\n**bold** line\n***"
    assert ok("bullet_count", text, n=3, style="symbol")
    assert ok("bullet_count", text, n=2, style="dash")
    assert ok("bullet_count", text, n=1, style="star")
    assert ok("bullet_count", text, n=2, style="number")
    assert ok("bullet_count", text, n=5, style="any")
    # repeated items are not n items (a real SmolLM2 reply to if-016)
    smol = "1. What is the warranty for wireless speakers?\n" * 3
    assert not ok("bullet_count", smol, n=3, style="number")
    assert not ok("bullet_count", "- tip\n-  Tip \n- other", n=3) and ok("bullet_count", "- tip\n- top\n- other", n=3)
    assert ok("highlight_count", "a *one* and **two** but not * this * or 2*3*4 ok", relation="exactly", n=3)
    assert not ok("highlight_count", "* item one\n* item two", n=1)
    assert ok("placeholder_count", "Dear [Name], see [link](http://x) at [Address].", relation="exactly", n=2)
    assert ok("caps_words", "We WIN TOGETHER, A team.", relation="exactly", n=2)


def test_case_constraints_need_letters():
    assert ok("lowercase", "all small 123") and not ok("lowercase", "One capital") and not ok("lowercase", "123 !")
    assert ok("uppercase", "ALL BIG 123") and not ok("uppercase", "ALMOST all") and not ok("uppercase", "")


def test_start_end_quote_commas_title():
    assert ok("starts_with", "  short   ANSWER: yes", phrase="Short answer:")
    assert not ok("starts_with", "Well. Short answer: yes", phrase="Short answer:")
    assert ok("ends_with", "Bye.\nAny other questions?  \n", phrase="Any other questions?")
    assert not ok("ends_with", "Any other questions? Bye.", phrase="Any other questions?")
    assert ok("quoted", '  "Hello there."  ') and ok("quoted", "“Curly”")
    assert not ok("quoted", '"Hello" there') and not ok("quoted", '""') and not ok("quoted", '"')
    assert ok("no_commas", "No commas here.") and not ok("no_commas", "a, b") and not ok("no_commas", "a，b")
    assert ok("title", "<<A Title>>\nBody") and not ok("title", "<A Title>") and not ok("title", "<<>>")
    # the prompt's own example title does not count (a real SmolLM2 reply to if-010)
    assert not ok("title", "<<My Title>>\nBody", exclude=["My Title"])
    assert ok("title", "<<my title>>\n<<Libraries Now>>", exclude=["My Title"])


def test_json_format():
    assert ok("json_format", '{"a": 1}')
    assert ok("json_format", '```json\n{"a": 1, "b": [1]}\n```', keys=["a", "b"])
    assert not ok("json_format", '{"a": 1}', keys=["a", "b"])
    assert not ok("json_format", '{"a": "", "b": 1}', keys=["a", "b"])  # present but empty
    assert not ok("json_format", 'Sure: {"a": 1}')
    assert not ok("json_format", '{"a": NaN}')
    assert not ok("json_format", "[" * 50_000 + "]" * 50_000, keys=["a"])
    assert ok("json_format", "[1, 2]") and not ok("json_format", "[1, 2]", keys=["a"])


def test_sections_postscript_parts():
    plan = "SECTION 1\nfoo\nSECTION 2\nbar\n## SECTION 3\nbaz"
    assert ok("sections", plan, marker="SECTION", n=3)
    assert not ok("sections", plan, marker="SECTION", n=2)
    assert not ok("sections", "SECTION 1\nSECTION 3", marker="SECTION", n=2)
    assert not ok("sections", "the section 1 is here", marker="SECTION", n=1)
    assert ok("postscript", "Hi.\n\nP.S. see you", marker="P.S.")
    assert ok("postscript", "hi.\n\np.s. see you", marker="P.S.")
    assert not ok("postscript", "Hi.\nP.S.", marker="P.S.")  # nothing after the marker
    assert not ok("postscript", "See the P.S. below", marker="P.S.")
    assert ok("parts", "one slogan\n******\nanother slogan", separator="******", n=2)
    assert not ok("parts", "same\n******\nsame", separator="******", n=2)
    assert not ok("parts", "one\n******\n", separator="******", n=2)


# --------------------------------------------------------------------------- strict vs loose

def test_prompt_level_strict_with_instruction_and_loose_fractions_beside_it():
    t = task_of({"type": "starts_with", "phrase": "Short answer:"}, {"type": "ends_with", "phrase": "Any other questions?"})
    body = "Short answer: the harbour is busy. Boats come and go. Any other questions?"
    assert score(t, body) == 100.0
    framed = "Sure! Here is my reply.\n" + body + "\nHope this helps!"
    v = ifc.check(t, reply(framed))
    assert v["score"] == 0.0 and v["loose_score"] == 100.0
    assert [c["ok"] for c in v["checks"]] == [True, False, False] and all(c["loose"] for c in v["checks"])
    assert v["instruction_strict"] == pytest.approx(100 / 3, abs=1e-3) and v["instruction_loose"] == 100.0
    half = ifc.check(t, reply("Short answer: the harbour is busy."))
    assert half["score"] == 0.0 and half["instruction_strict"] == pytest.approx(200 / 3, abs=1e-3)


def test_loose_variants_are_the_ifeval_kind():
    vs = ifc.loose_variants("Intro\n**body** text\nOutro")
    assert "**body** text" in vs and "body text" in vs and "Intro\nbody text\nOutro" in vs
    assert ifc.loose_variants("single line") == ["single line"]


# --------------------------------------------------------------------------- substance gate

def test_off_topic_replies_earn_nothing_even_when_the_form_is_right():
    t = task_of({"type": "no_commas"}, {"type": "lowercase"}, {"type": "include_keywords", "words": ["calm"]})
    v = ifc.check(t, reply("just some calm lowercase words here"))
    assert _all_zero(v) and v["instruction_strict"] == 0.0 and "off topic" in v["reason"]
    assert score(t, "the harbour is calm") == 100.0
    assert score(t, "The harbour is calm") == 0.0


def test_topic_words_the_prompt_gives_are_ignored_and_own_words_are_needed():
    spec = {"type": "topic", "n": 1, "new_words": 3, "words": ["harbour", "boat", "quay", "gull"]}
    t = {"id": "if-999", "prompt": "Describe a harbour at dawn.", "check": {"constraints": [spec, {"type": "word_count", "relation": "at_most", "n": 50}]}}
    assert score(t, "Harbour harbour harbours at dawn dawn.") == 0.0  # the prompt's word, not the reply's
    assert score(t, "A boat.") == 0.0  # topic word but no content of its own
    assert score(t, "Gulls circle while the first boat slips past the quay.") == 100.0


def test_validate_rejects_tasks_without_substance_or_with_bad_specs():
    good = {"id": "if-999", "prompt": "Describe a harbour.", "check": {"constraints": [
        {"type": "topic", "n": 2, "words": ["boat", "quay", "gull", "tide"]}, {"type": "word_count", "relation": "at_most", "n": 50}]}}
    assert ifc.validate(good) is None
    assert ifc.validate(TASKS[0]) is None
    topic = {"type": "topic", "n": 2, "words": ["boat", "quay", "gull", "tide"]}
    bound = {"type": "word_count", "relation": "at_most", "n": 50}
    bad = [
        [],
        [{"type": "no_commas"}, bound],                                   # no topic
        [topic],                                                          # no size bound
        [topic, topic, bound],                                            # two topics
        [{"type": "topic", "n": 2, "words": ["boat", "harbour", "gull", "tide"]}, bound],  # the prompt gives "harbour" away
        [{"type": "topic", "n": 3, "words": ["boat", "quay", "gull", "tide"]}, bound],     # lexicon under twice n
        [{"type": "topic", "n": 0, "new_words": 2, "words": []}, bound],
        [topic, bound, {"type": "rhymes"}],
        [topic, bound, {"type": "include_keywords"}],
        [topic, bound, {"type": "include_keywords", "words": []}],
        [topic, {"type": "word_count", "relation": "about", "n": 3}],
        [topic, bound, {"type": "bullet_count", "n": -1}],
        [topic, bound, {"type": "bullet_count", "n": 2, "style": "roman"}],
        [topic, bound, {"type": "title", "exclude": "My Title"}],
    ]
    for specs in bad:
        assert ifc.validate({"id": "if-999", "prompt": "Describe a harbour.", "check": {"constraints": specs}}) is not None, specs


# --------------------------------------------------------------------------- phrasing

# For each task: right answers in the forms real models write (all 100) and near-misses
# (all 0). The forms: markdown emphasis, a lone </think> before the answer, smart quotes,
# plurals of a required keyword, abbreviations and decimals inside sentences, emoji or
# trailing whitespace after a closing phrase, a code fence around JSON, numbers as text.
PHRASINGS = {
    "if-019": (
        [
            "Short answer: yes. Botanically a tomato is a fruit because it grows from the flower and holds the seeds. Cooks still call it a vegetable.",
            "**Short answer:** Yes, botanically speaking. A tomato develops from the flower of the plant and carries its seed, e.g. the little pale ones inside. Dr. Mendel would agree, since 2.5 of every 3 kitchen debates end there.",
            "Short answer: yes!\n\nA botanist calls any ripened ovary that holds seeds a fruit. The tomato fits that definition. In the kitchen, i.e. in culinary terms, it is treated as a vegetable.",
            "<think>The user wants a short answer first.</think>Short answer: yes. It forms from the plant’s flower and contains seeds. That makes it a botanical fruit, though we cook it like a vegetable.",
            "Let me think about botany.\n</think>\nShort answer:   yes — botanically it is a fruit. Its seeds sit inside the fleshy ovary of the flower. Mr. and Mrs. Average still put it in a salad as a vegetable.",
        ],
        [
            "Yes, botanically a tomato is a fruit. It grows from the flower and holds the seeds. Cooks still call it a vegetable.",
            "Short answer: yes. Botanically a tomato is a fruit because it grows from the flower and holds the seeds.",
            "Short answer: yes. Botanically it is a fruit. It grows from a flower. Cooks call it a vegetable.",
        ],
    ),
    "if-022": (
        [
            "Python is a great first choice. Its syntax is simple and readable. The community has tutorials for every beginner problem. Any other questions?",
            "Python is a great first choice. Its syntax is simple and readable. The community has tutorials for every beginner problem. **Any other questions?**",
            "Python is a great first choice. Its syntax is simple and readable. The community has tutorials for every beginner problem.\n\nAny other questions? 😊",
            "I'd say Python. It reads almost like English, e.g. `print(\"hi\")` just works. Beginners find tutorials and libraries everywhere. Any other questions?   \n",
            "Python is a great first choice. Its syntax is simple and readable. The community has tutorials for every beginner problem.\nAny other\nquestions?",
        ],
        [
            "Python is a great first choice. Its syntax is simple and readable. The community has tutorials for every beginner problem. Any other questions? Good luck!",
            "Python is a great first choice because its syntax is simple and readable. Any other questions?",
            "JavaScript is a great first choice. Its syntax is simple and readable. The community has tutorials for every beginner. Any other questions?",
        ],
    ),
    "if-008": (
        [
            "The park wakes slowly. Dew sits on the grass and the air smells of blossom. Two joggers pass the pond where a heron stands still. An old man feeds sparrows on a green bench by the gate. Children on scooters race along the path while parents sip coffee and talk about the week. A gardener rakes the beds near the fountain.",
            "The park wakes slowly. Dew sits on the grass and the air smells of blossom. Two joggers pass the pond where a heron stands still. Two old men feed sparrows from the **benches** by the gate. Children on scooters race along the path while parents sip coffee and talk about the week. A gardener rakes the beds near the fountain.",
            "<think>no commas!</think>\nThe park wakes slowly. Dew sits on the grass and the air smells of blossom. Two joggers pass the pond where a heron stands still. An old man feeds sparrows on a green bench by the gate. Children on scooters race along the path while parents sip coffee and talk about the week. A gardener rakes the beds near the fountain.",
            "Spring morning in the park. Birds sing in the cherry trees and tulips open along the path. A dog chases a ball across the wet grass. Mr. Patel reads his paper on a bench near the pond while two ducks argue over a crust of bread. The sun climbs over the roofs and the whole place smells fresh and new.",
            "The park wakes slowly. Dew sits on the grass and the air smells of blossom. Two joggers pass the pond where a heron stands still. An old man feeds sparrows on a green bench by the gate. Children on scooters race along the path while parents sip coffee and talk about the week. A gardener rakes the beds near the fountain.   \n",
        ],
        [
            "The park wakes slowly. Dew sits on the grass, and the air smells of blossom. Two joggers pass the pond where a heron stands still. An old man feeds sparrows on a green bench by the gate. Children on scooters race along the path while parents sip coffee and talk about the week. A gardener rakes the beds near the fountain.",
            "The park wakes slowly. Dew sits on the grass and the air smells of blossom. Two joggers pass the pond where a heron stands still. An old man feeds sparrows by the gate. Children on scooters race along the path while parents sip coffee and talk about the week. A gardener rakes the beds near the fountain.",
            "The park wakes slowly. Dew sits on the grass and the air smells of blossom near a bench.",
        ],
    ),
    "if-005": (
        [
            '{"city": "Lisbon", "country": "Portugal", "population_estimate": 545000}',
            '```json\n{"city": "Lisbon", "country": "Portugal", "population_estimate": 545000}\n```',
            '{\n  "city": "Lisbon",\n  "country": "Portugal",\n  "population_estimate": "about 550,000"\n}',
            '{"city": "Lisbon", "country": "Portugal", "population_estimate": 2900000.0}',
            'Thinking about the metro area...</think>{"city": "Lisbon", "country": "Portugal", "population_estimate": "2.9 million"}',
        ],
        [
            '{"city": "Lisbon", "country": "Spain", "population_estimate": 545000}',
            '{"city": "Lisbon", "country": "Portugal", "population_estimate": 545}',
            '{"city": "Lisbon", "country": "Portugal", "population_estimate": 545000, "mayor": "unknown"}',
            'Here it is: {"city": "Lisbon", "country": "Portugal", "population_estimate": 545000}',
        ],
    ),
    "if-024": (
        [
            '"GOOD MORNING PORT ELLIS! LIGHT RAIN UNTIL NOON THEN SUNNY SPELLS AND A WEST WIND. HIGHS OF 17 DEGREES."',
            "“GOOD MORNING PORT ELLIS! LIGHT RAIN UNTIL NOON THEN SUNNY SPELLS AND A WEST WIND. HIGHS OF 17 DEGREES.”",
            '  "SHOWERS AND RAIN ALL MORNING IN GULLHAVEN. CLOUDS CLEAR BY 3 P.M. WITH A COOL BREEZE. LOW OF 9 DEGREES TONIGHT."  \n',
            '</think>"RAIN BY DAWN IN SALTCOMBE. STRONG WIND AT THE HARBOUR AND A HIGH TIDE AT 6 A.M. BRING AN UMBRELLA."',
            '«HEAVY RAIN AND STORM WARNINGS FOR LITTLE BAY TODAY. WIND GUSTS UP TO 60 KM/H. TEMPERATURE 12 DEGREES.»',
        ],
        [
            "GOOD MORNING PORT ELLIS! LIGHT RAIN UNTIL NOON THEN SUNNY SPELLS AND A WEST WIND. HIGHS OF 17 DEGREES.",
            '"Good morning Port Ellis! Light rain until noon then sunny spells and a west wind. Highs of 17 degrees."',
            '"GOOD MORNING PORT ELLIS! SUNNY SPELLS AND A WEST WIND. HIGHS OF 17 DEGREES."',
        ],
    ),
    "if-013": (
        [
            "Flat tyre? Your bike is back on the road tonight.\n******\nWe fix the bike. You enjoy the ride.",
            "**Flat tyre? Your bike is back on the road tonight.**\n******\n**We fix the bike. You enjoy the ride.**",
            "Flat tyres fixed fast: bikes back on the road by tonight.\n******\nEvery bike deserves a smooth chain and true wheels.",
            "</think>Flat tyre? Your bike is back on the road tonight. 🚲\n******\nWe fix the bike. You enjoy the ride. 🔧",
            "“Flat tyre? Your bike is back on the road tonight.”\n******\n“We fix the bike. You enjoy the ride.”",
        ],
        [
            "Flat tyre? Your bike is back on the road tonight.\nWe fix the bike. You enjoy the ride.",
            "Flat tyre? Your bike is back on the road tonight.\n******\nWe fix it. You enjoy the ride.",
            "Flat tyre? Your bike is back on the road tonight.\n******\nFlat tyre? Your bike is back on the road tonight.",
        ],
    ),
}


@pytest.mark.parametrize("task_id", sorted(PHRASINGS))
def test_right_answers_in_real_forms_score_100_and_near_misses_0(task_id):
    rights, misses = PHRASINGS[task_id]
    assert len(rights) >= 5
    for text in rights:
        v = ifc.check(BY_ID[task_id], reply(text))
        assert v["score"] == 100.0, (text[:60], v["reason"])
    for text in misses:
        v = ifc.check(BY_ID[task_id], reply(text))
        assert v["score"] == 0.0, (text[:60], v["reason"])


def test_sentence_ends_are_not_abbreviations_initials_or_decimals():
    assert ifc.sentences("One. Two! Three? ...") == 3
    assert ifc.sentences("Version 2.5 is out. It costs $3.50 now") == 2
    assert ifc.sentences('He said "stop." Then left.') == 2
    assert ifc.sentences("Mr. Smith met Dr. Jones at 3.5 p.m. today. They talked, e.g. about cats, i.e. pets.") == 2
    assert ifc.sentences("Ursula K. Le Guin wrote it. Fruits etc. are fine. I like pens, etc. Then I left at 5 p.m. It rained.") == 5
    assert ifc.sentences("See No. 5 on St. Mark's road, vs. the old one.") == 1


def test_closing_and_opening_phrases_in_the_forms_models_write():
    end = "Any other questions?"
    for text in ("x. Any other questions?", "x. **Any other questions?**", "x. Any other questions? 😊", "x. Any other questions?  \n\n",
                 "x.\n_Any other questions?_ 👍🏽", "x. any other\nquestions?"):
        assert ok("ends_with", text, phrase=end), text
    for text in ("x. Any other questions? Bye.", "x. Any questions?", "Any other questions? x"):
        assert not ok("ends_with", text, phrase=end), text
    for text in ("**Short answer:** yes", "## Short answer: yes", "> Short answer: yes", "  short   ANSWER: yes"):
        assert ok("starts_with", text, phrase="Short answer:"), text
    assert not ok("starts_with", "Well. Short answer: yes", phrase="Short answer:")


# --------------------------------------------------------------------------- properties

def _timed_check(task, r):
    """The verdict and the check's CPU time in this thread, the least of up to three
    tries: a garbage-collection pause on a loaded machine is not the checker's cost."""
    best = None
    for _ in range(3):
        t0 = time.thread_time()
        v = ifc.check(task, r)
        spent = time.thread_time() - t0
        best = spent if best is None else min(best, spent)
        if best < 0.05:
            break
    return v, best


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=2000))
def test_checker_never_raises_and_is_fast_on_arbitrary_text(text):
    for task in TASKS:
        v, spent = _timed_check(task, reply(text))
        assert spent < 0.05
        assert v["score"] in (0.0, 100.0) and v["score"] <= v["loose_score"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet="*-_#<>[]\"{}\n .,!?P.S.aA1<>/thinkSECTIONPart\u201c\u201d\u2019😊", max_size=600))
def test_loose_is_never_below_strict_on_markup_heavy_text(text):
    for task in TASKS:
        v, spent = _timed_check(task, reply(text))
        assert spent < 0.05
        for c in v["checks"]:
            assert c["loose"] or not c["ok"]


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4), max_leaves=20))
@settings(max_examples=150, deadline=None)
def test_any_json_reply_never_raises(value):
    import json

    text = json.dumps(value)
    for task_id in ("if-005", "if-020"):
        assert ifc.check(BY_ID[task_id], reply(text))["score"] in (0.0, 100.0)
    assert ifc.check(BY_ID["if-005"], {"content": value})["score"] == 0.0  # content that is not text


def test_hostile_sizes_are_bounded():
    big = ("*a " * 200_000) + ("[x" * 100_000) + ("<<" * 100_000) + ("Mr. " * 50_000) + ("</think>" * 10_000)
    for task in TASKS:
        t0 = time.thread_time()
        ifc.check(task, reply(big))
        assert time.thread_time() - t0 < 2.0, task["id"]


# --------------------------------------------------------------------------- scoring and runner

def test_suite_score_reports_loose_mean_only_when_present():
    from benchloop.scoring import suite_score

    tasks = [
        {"score": 0.0, "passed": False, "detail": {"loose_score": 100.0}},
        {"score": 0.0, "passed": False, "error": "timeout"},
        {"score": 100.0, "passed": True, "detail": {"loose_score": 100.0}},
    ]
    s = suite_score(tasks)
    assert s["score"] == pytest.approx(33.33, abs=0.01) and s["loose_score"] == pytest.approx(200 / 3, abs=0.01)
    assert "loose_score" not in suite_score([{"score": 100.0, "passed": True}])


def test_runner_records_strict_and_loose(scripted):
    from benchloop.harnesses.raw import RawHarness
    from benchloop.providers.openai_compat import OpenAICompatProvider
    from benchloop.drivers import run_task
    from benchloop.drivers.conversation import Conversation
    from benchloop.scoring import score_run
    from benchloop.testing.scripted import Reply

    task = next(t for t in TASKS if t["id"] == "if-019")
    answers = iter([task["reference"], "Sure thing!\n" + task["reference"], task["prompt"]])
    ep = scripted(lambda req: Reply(content=next(answers)), models=("m",))
    ctx = Conversation(provider=OpenAICompatProvider(ep.url), harness=RawHarness(), model="m", suite_defaults=SUITE["defaults"], retries=0)
    recs = [run_task(task, ctx) for _ in range(3)]
    n = len(task["check"]["constraints"])
    assert [r["score"] for r in recs] == [100.0, 0.0, 0.0]  # a framing line misses "begin with"
    assert [r["detail"]["loose_score"] for r in recs] == [100.0, 100.0, 0.0]
    assert recs[1]["detail"]["instruction_strict"] == pytest.approx(100 * (n - 1) / n, abs=1e-3)
    assert all(len(r["checks"]) == n and {"ok", "loose"} <= set(r["checks"][0]) for r in recs)
    scores = score_run({"tasks": recs})
    assert scores["suites"]["instructfollow"]["loose_score"] == pytest.approx(200 / 3, abs=0.01)
    assert scores["suites"]["instructfollow"]["score"] == pytest.approx(33.33, abs=0.01)


@pytest.mark.e2e
def test_real_smollm_reply_is_scored_and_rescored_offline(smollm_engine):
    """The real model's reply is scored strict and loose without error, and the recorded
    output alone reproduces both (offline re-scoring)."""
    from benchloop.harnesses.raw import RawHarness
    from benchloop.providers import make_provider
    from benchloop.drivers import run_task
    from benchloop.drivers.conversation import Conversation

    task = next(t for t in TASKS if t["id"] == "if-005")
    ctx = Conversation(make_provider("llamacpp", smollm_engine.url), RawHarness(), model="smollm2-135m",
                     suite_defaults=SUITE["defaults"], max_tokens_override=32, retries=0)
    rec = run_task(task, ctx)
    assert rec["error"] is None and rec["completion_tokens"] > 0 and rec["output"]
    again = ifc.check(task, {"content": rec["output"]})
    assert (again["score"], again["loose_score"]) == (rec["score"], rec["detail"]["loose_score"])
    assert rec["score"] <= rec["detail"]["loose_score"]


def test_topic_words_count_in_their_derived_forms_but_never_from_the_prompt():
    """A careful grader reads "cardiovascular" as about the heart and "activity" as being
    active; the prompt's own words still never count (an echo stays off topic)."""
    task = next(t for t in TASKS if t["id"] == "if-015")
    right = "Cycling to work improves cardiovascular health and physical activity. It saves money on fuel and parking. It also cuts emissions."
    assert ifc.check(task, reply(right))["score"] == 100.0
    assert not ifc._derived("sun", {"sunday"}) and ifc._derived("cardio", {"cardiovascular"}) and ifc._derived("active", {"activity"})
    prompt = task["prompt"]
    assert ifc.check(task, reply(prompt))["score"] == 0.0
