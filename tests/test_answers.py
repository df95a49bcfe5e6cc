"""The one answer reader (benchloop.checkers.answers, values, datetimes): for each reader
the right value in the forms real models write is read, near-misses (a wrong value, a
hedge, a negation, two dates) are not, and no text, however hostile, makes it raise or
take long."""
from __future__ import annotations

import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchloop.checkers import answers as A
from benchloop.checkers.answers import (
    final_answer, find_json_object, hedged, negated, numbers_in, read_choice, read_date, read_money, read_number,
    read_time, single_number, strip_reasoning,
)
from benchloop.checkers.values import to_number

# --------------------------------------------------------------------------- reasoning


@pytest.mark.parametrize(
    "text, answer, reasoning",
    [
        ("<think>try 44</think>ANSWER: 50", "ANSWER: 50", "try 44"),
        ("<THINK>\ntry 44\n</THINK>\n\nANSWER: 50", "ANSWER: 50", "try 44"),
        ("<thinking>hm</thinking> 50", "50", "hm"),
        ("<think>still going, 44", "", "still going, 44"),
        ("the template opened it: 44\n</think>\nANSWER: 50", "ANSWER: 50", "the template opened it: 44"),
        ("a <think>b</think> c </think> d", "d", "b\na\nc"),
        ("<think>a</think>b<think>c</think>d", "bd", "a\nc"),
        ("no reasoning at all", "no reasoning at all", ""),
        ("", "", ""),
        (None, "", ""),
    ],
)
def test_strip_reasoning(text, answer, reasoning):
    assert strip_reasoning(text) == (answer, reasoning)


def test_final_answer_ignores_reasoning_and_takes_the_last_line():
    assert final_answer("work: 3*4\nANSWER: 12") == "12"
    assert final_answer("**Final answer:** 12") == "12"
    assert final_answer("ANSWER: 11\nchecking again\nANSWER: 12") == "12"
    assert final_answer("<think>ANSWER: 12</think>I don't know") == "I don't know"  # reasoning is never the answer
    assert final_answer("ANSWER: 12\n</think>\nno idea") == "no idea"
    assert final_answer(None) is None and final_answer("") is None


def test_final_answer_reads_the_conclusions_a_grader_accepts():
    """No ANSWER: line, but a conclusion a careful grader reads as the answer."""
    assert final_answer("3 + 4 = 7\nSo, the answer is 7.") == "7."
    assert final_answer("The final answer is: **Carla**") == "Carla"
    assert final_answer("steps...\n\\boxed{43.20}") == "43.20"
    assert final_answer("steps...\n#### 43.2") == "43.2"
    assert final_answer("Carla") == "Carla"  # a one-line reply is its own answer
    assert final_answer("the answer is 5\nANSWER: 7") == "7"  # an ANSWER line wins
    # never the last number of a long reply: working without a conclusion has no answer
    assert final_answer("First 3 + 4 = 7.\nThen 7 * 2 = 14.\nThe total cost is 14 dollars.") is None


def test_find_json_object_skips_reasoning():
    assert find_json_object('{"a": 1}\n</think>\n{"b": 2}') == {"b": 2}
    assert find_json_object('<think>{"a": 1}</think>') is None
    assert find_json_object('x {"a": [' + "[" * 50_000 + "]" * 50_000 + "]} y") is None


# --------------------------------------------------------------------------- numbers

@pytest.mark.parametrize(
    "text, want",
    [
        ("44", 44), ("ANSWER is 44 units.", 44), ("**44**", 44), ("\\boxed{44}", 44), ("44.0", 44),
        ("It comes to 44 (forty-four).", 44), ("No, it is 44.", 44),
        ("250g", 250), ("250 g", 250), ("45min", 45), ("45 minutes", 45), ("7.5kg", 7.5), ("7,5 kg", 7.5),
        ("1,234", 1234), ("1 234", 1234), ("1\u00a0234", 1234), ("1\u202f234", 1234), ("1'234", 1234), ("1.234,5", 1234.5),
        ("9 000", 9000), ("25,37", 25.37), ("−3", -3), ("-3 °C", -3), ("12.5%", 12.5), ("12.5 percent", 12.5),
        ("On 2025-04-09 at 14:30 there were 44.", 44), ("about 44", 44), (".5", 0.5), ("3/4", 0.75), ("-1/2 cup", -0.5),
    ],
)
def test_read_number_accepts(text, want):
    r = read_number(text)
    assert r.ok and r.value == pytest.approx(want), (text, r.why)


@pytest.mark.parametrize(
    "text, why",
    [
        ("44 or 50", "hedge"), ("between 44 and 50", "hedge"), ("44-50", "hedge"), ("either 44 or 45", "hedge"),
        ("at least 44", "hedge"), ("44 or more", "hedge"), ("up to 44", "hedge"), ("44+", "hedge"),
        ("not 44", "negated"), ("It is not 44; it was 50", "negated"), ("44 is wrong", "negated"),
        ("It isn't 44.", "negated"), ("no number here", "none"), ("", "none"),
        ("1e309", "none"), ("1" * 400, "none"), ("1/0", "none"), ("NaN", "none"), ("inf", "none"), ("CO2", "none"),
    ],
)
def test_read_number_rejects(text, why):
    r = read_number(text)
    assert r.value is None and r.why.startswith(why), (text, r)


def test_read_number_units_and_integers():
    assert read_number("7.5 kg (7500 g)", unit="kg").value == pytest.approx(7.5)
    assert read_number("7500 g", unit="kg").value == pytest.approx(7.5)
    assert read_number("1.5 h", unit="min").value == pytest.approx(90)
    assert read_number("7.5 lb", unit="kg").value == pytest.approx(3.4019, abs=1e-3)
    assert read_number("7.5 min", unit="kg").value is None
    assert read_number("7.5 kg (7500 g)").value is None  # without a unit two values are two answers
    assert read_number("25.0", integer=True).value == 25 and isinstance(read_number("25.0", integer=True).value, int)
    assert read_number("25.5", integer=True).value is None
    assert read_number("44", unit="kg").value == 44  # a bare number is taken in the asked unit


def test_wrong_number_is_read_as_what_it_is():
    assert read_number("45").value != 44
    assert read_number("4.4").value != 44
    assert read_number("440").value != 44


@pytest.mark.parametrize(
    "text, want",
    [
        ("$1,234.50", 1234.5), ("€25,37", 25.37), ("25,37 €", 25.37), ("19.99USD", 19.99), ("USD 19.99", 19.99),
        ("EUR25", 25), ("1 234,50 €", 1234.5), ("It costs $44 for 4 items.", 44), ("£7.5", 7.5), ("44.00 dollars", 44),
        ("$44.00 (44 dollars)", 44),
    ],
)
def test_read_money_accepts(text, want):
    r = read_money(text)
    assert r.ok and r.value == pytest.approx(want), (text, r.why)


@pytest.mark.parametrize("text", ["$44 or $50", "44 or $50", "$40-$50", "not $44", "at least $44", "$1e309", "$" + "9" * 400, "free"])
def test_read_money_rejects(text):
    assert read_money(text).value is None, text


def test_read_money_currency():
    assert read_money("€40 ($44)", currency="usd").value == 44
    assert read_money("€40 ($44)", currency="$").value == 44
    assert read_money("€40 ($44)").value is None


# --------------------------------------------------------------------------- times and dates

@pytest.mark.parametrize(
    "text, want",
    [
        ("11:45", "11:45:00"), ("11:45 AM", "11:45:00"), ("11:45am", "11:45:00"), ("11.45 a.m.", "11:45:00"),
        ("It leaves at 11:45.", "11:45:00"), ("7pm", "19:00:00"), ("7 PM", "19:00:00"), ("19:00", "19:00:00"),
        ("19h30", "19:30:00"), ("7:30 p.m.", "19:30:00"), ("noon", "12:00:00"), ("12 noon", "12:00:00"),
        ("midnight", "00:00:00"), ("12 am", "00:00:00"), ("The film starts at 19:25 on 3 March 2025.", "19:25:00"),
    ],
)
def test_read_time_accepts(text, want):
    r = read_time(text)
    assert r.value == want, (text, r.why)


@pytest.mark.parametrize("text", ["7pm or 8pm", "between 19:00 and 20:00", "not 7pm", "25:00", "13 pm", "at seven", "11:45 or 11:50", ""])
def test_read_time_rejects(text):
    assert read_time(text).value is None, text


@pytest.mark.parametrize(
    "text, want",
    [
        ("2025-03-03", "2025-03-03"), ("3 March 2025", "2025-03-03"), ("March 3, 2025", "2025-03-03"),
        ("3rd of March 2025", "2025-03-03"), ("Monday, 3 March 2025", "2025-03-03"), ("Mon, Mar 3rd 2025", "2025-03-03"),
        ("03.03.2025", "2025-03-03"), ("03/03/2025", "2025-03-03"), ("25/03/2025", "2025-03-25"),
        ("It is due on 2025/03/03.", "2025-03-03"), ("3 March 2025 (2025-03-03)", "2025-03-03"),
    ],
)
def test_read_date_accepts(text, want):
    r = read_date(text)
    assert r.value == want, (text, r.why)


def test_read_date_without_a_year_and_with_an_order():
    assert read_date("the 3rd of March").value == "--03-03"
    assert read_date("3rd of March", year=2025).value == "2025-03-03"
    assert read_date("March 3rd", year=2025).value == "2025-03-03"
    assert read_date("29 February", year=2025).value is None
    assert read_date("03/04/2025").value is None  # ambiguous
    assert read_date("03/04/2025", numeric_order="dmy").value == "2025-04-03"
    assert read_date("03/04/2025", numeric_order="mdy").value == "2025-03-04"


@pytest.mark.parametrize(
    "text",
    ["3 March 2025 or 4 March 2025", "2025-03-03 or 2025-03-04", "either March 3 or March 4, 2025", "not 3 March 2025",
     "2025-02-30", "3 March 2025 and 3 March 2024", "you may 5 go", "sometime in March"],
)
def test_read_date_rejects(text):
    assert read_date(text).value is None, text


# --------------------------------------------------------------------------- choices

OPTS = ["Anna", "Ben", "Carla"]


@pytest.mark.parametrize("text", ["Anna", "anna", "ANNA", "It was Anna.", "**Anna** won the vote", "The winner: Anna (with 12 votes)"])
def test_read_choice_accepts(text):
    assert read_choice(text, OPTS).value == "Anna", text


@pytest.mark.parametrize("text", ["either Anna or Ben", "Anna or Ben", "Anna and Ben", "not Anna", "It is not Ben; it was Anna",
                                  "Annabel", "Dora", ""])
def test_read_choice_rejects(text):
    assert read_choice(text, OPTS).value is None, text


def test_read_choice_aliases_and_whole_values():
    cities = {"Oslo": ["Oslo, Norway"], "New York": ["NYC", "New York City"], "York": []}
    assert read_choice("Oslo, Norway", cities).value == "Oslo"
    assert read_choice("oslo", cities).value == "Oslo"
    assert read_choice("They moved to New York.", cities).value == "New York"
    assert read_choice("NYC", cities).value == "New York"
    assert read_choice("York", cities).value == "York"
    assert read_choice("ACTIVE", ["active", "inactive"], whole=True).value == "active"
    assert read_choice("inactive", ["active", "inactive"], whole=True).value == "inactive"
    assert read_choice("active or inactive", ["active", "inactive"], whole=True).value is None


def test_hedged_and_negated_say_why():
    assert hedged("44 or 50") and not negated("44 or 50")
    assert negated("not 44") and not hedged("not 44")
    assert hedged("either Anna or Ben", "choice", options=OPTS)
    assert negated("it is not Anna; it was Ben", "choice", options=OPTS)
    assert hedged("3 March or 4 March 2025", "date")
    assert hedged("7pm or 8pm", "time")
    assert not hedged("44") and not negated("44")


# --------------------------------------------------------------------------- older names

def test_older_names_keep_working():
    assert numbers_in("250g and 1,234 and 7.5kg") == [250.0, 1234.0, 7.5]
    assert numbers_in("on 2025-04-09 at 14:30") == []
    assert numbers_in("1e309 and " + "9" * 400) == []
    assert single_number("ANSWER 44") == (44.0, "")
    assert single_number("12 or 13")[0] is None
    assert A.normalize_text("  Hello,  World! ") == "hello, world"


def test_to_number_for_json_values():
    assert to_number(25) == 25.0 and to_number(25.5) == 25.5
    assert to_number(True) is None and to_number(None) is None and to_number("25") is None
    assert to_number(10**400) is None and to_number(float("nan")) is None and to_number(float("inf")) is None
    assert to_number("7.5kg", coerce=True) == 7.5 and to_number("7500 g", coerce=True, unit="kg") == 7.5
    assert to_number("about 7.5", coerce=True) is None


# --------------------------------------------------------------------------- never raises, never slow

def _clock() -> float:
    """CPU time of this thread: the budgets are about the reader's work, not about other
    processes sharing the machine (xdist workers, a busy CI box)."""
    return time.thread_time()


READERS = [
    strip_reasoning, final_answer, find_json_object, numbers_in, single_number, read_number, read_money, read_time,
    read_date, lambda t: read_choice(t, OPTS), lambda t: read_number(t, unit="kg", integer=True),
    lambda t: read_date(t, numeric_order="dmy", year=2025), lambda t: to_number(t, coerce=True),
]
_numberish = st.text(alphabet="0123456789 .,:'-+−$€%e kgAPMampmh/\u00a0<>think{}[]\"", max_size=200)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=300), _numberish))
def test_any_text_never_raises_and_is_fast(text):
    for fn in READERS:
        spent = []
        for _ in range(3):  # the least of three: a GC pause on a loaded machine is not the reader's cost
            t0 = _clock()
            fn(text)
            spent.append(_clock() - t0)
            if spent[-1] < 0.05:
                break
        assert min(spent) < 0.05, fn


@settings(max_examples=100, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4), max_leaves=20))
def test_any_json_value_never_raises(value):
    assert to_number(value) is None or isinstance(to_number(value), float)
    for fn in READERS:
        fn(json.dumps(value))
        fn(value)  # not even a string


ODD_LINES = [
    "12:30 " * 20, "1 " * 50, "<" + " " * 50, "{" * 30 + "[" * 30, "2025-03-03 " * 10, "$1,2,3,4,5 " * 10,
    "3 March " * 10, "x" * 300, "1e" + "9" * 200 + "x", "not 44 or 50, " * 10, "</think>" * 5, "ANSWER: " * 10,
    "9" * 400, "1.1.1.1.1." * 20, "−" * 100, "Jan 1st, " * 20, "\u00a0" * 100 + "1",
]


@pytest.mark.parametrize("seed", range(3))
def test_200k_characters_of_odd_lines_under_a_second(seed):
    import random

    rnd = random.Random(seed)
    text = "\n".join(rnd.choice(ODD_LINES) for _ in range(3000))[:200_000]
    t0 = _clock()
    for fn in READERS:
        fn(text)
    assert _clock() - t0 < 1.0


PATHOLOGICAL = {"spaced-digits": "1 " * 100_000, "digits": "9" * 200_000, "lt": "<" * 200_000, "braces": "{" * 200_000,
                "dotted": "1." * 100_000, "colons": "12:" * 60_000, "months": "March " * 30_000, "think": "<think>" * 25_000,
                "brackets": "[" * 200_000, "slashes": "1/" * 100_000, "minus": "-1" * 100_000}


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_single_pathological_inputs_under_a_second(name):
    text = PATHOLOGICAL[name]
    t0 = _clock()
    for fn in READERS:
        fn(text)
    assert _clock() - t0 < 1.0
