"""reasonmath phrasing: the right answer in the forms real models write scores 100, and
near-misses score 0, for every kind of answer the suite has (issue 11, item 7)."""
import pytest

from benchloop.checkers import reasonmath
from benchloop.tasks import load_suite

TASKS = {t["id"]: t for t in load_suite("reasonmath")["tasks"]}

# (task, kind, right answers as models write them, near-misses)
CASES = [
    ("rm-025", "number with unit (kg)",
     ["7.5kg", "7.5 kg", "7,5 kg", "7.50 kg", "7.5 kilos", "**7.5 kg**", "The packed rucksack weighs 7.5 kilograms.", "7.5"],
     ["7 kg", "7kg", "8 kg", "7.6 kg", "75 kg", "6.3 kg", "7.5 lb", "7500 g", "about 7 or 8 kg", "7.5 kg or more"]),
    ("rm-004", "number with unit (g)",
     ["750g", "750 g", "750 grams", "750 g of flour", "You need 750 g.", "**750g**"],
     ["450 g", "75 g", "0.75 kg", "754 g", "750 g or 450 g", "not 750 g"]),
    ("rm-003", "number with unit (min)",
     ["90min", "90 min", "90 minutes", "90 mins", "The ride takes 90 minutes.", "90"],
     ["1.5", "1.5 hours", "45min", "60 minutes", "90 or 95 minutes", "at least 90 minutes"]),
    ("rm-002", "money",
     ["$25.37", "25.37USD", "25,37 €", "€25,37", "USD 25.37", "25.37 dollars", "Each person pays $25.37.", "**$25.37**", "25.37"],
     ["$25.36", "$25.38", "25", "$25.4", "$21.50", "$101.48", "$25.37 or $21.50", "not $25.37"]),
    ("rm-013", "money (thousands)",
     ["$2,121.80", "$2121.80", "2 121,80 €", "2.121,80 €", "$2 121.80", "2121.8", "USD 2,121.80"],
     ["$2,120.00", "$2,121.00", "$212.18", "$2,121.81", "$2,121.80 to $2,122.00"]),
    ("rm-007", "time",
     ["11:45", "11:45 AM", "11:45am", "11h45", "It ends at 11:45.", "**11:45**", "11:45 (24-hour)"],
     ["11:45 PM", "23:45", "11:25", "11:40", "12:45", "11:45 or 11:25", "not 11:45", "125 minutes"]),
    ("rm-017", "time (after midnight)",
     ["02:15", "2:15", "2:15 AM", "02:15 the next day", "The train arrives at 02:15."],
     ["26:15", "2:15 PM", "14:15", "01:15", "02:15 or 26:15"]),
    ("rm-014", "name",
     ["Carla", "carla", "CARLA", "**Carla**", "Carla is the youngest.", "The youngest of the four is Carla."],
     ["Ben", "Dev", "Ana", "Carlos", "Carla or Ben", "It is not Carla.", "Ana, Ben, Carla, Dev"]),
    ("rm-022", "name (pack)",
     ["16-pack", "the 16-pack", "16 pack", "The pack of 16", "**16-pack**"],
     ["30-pack", "10-pack", "16-pack or 10-pack", "not the 16-pack"]),
    ("rm-023", "plain number",
     ["13.5", "13.5 °C", "13.5°C", "+13.5 °C", "**13.5**", "The temperature was 13.5 °C at 13:00."],
     ["21.5", "13", "-13.5", "17.5", "13.5 or 21.5", "not 13.5"]),
    ("rm-008", "plain integer",
     ["9000", "9 000", "9,000", "9000 seconds", "9000.0", "9000 s", "**9,000**", "There are 9,000 seconds."],
     ["900", "90000", "9000.5", "150", "9001", "2.5 hours", "150 minutes", "9000 or 900"]),
    ("rm-021", "plain integer (count)",
     ["5", "5 buses", "5.0", "**5**", "They must book 5 buses."],
     ["4", "4.7", "6", "4 or 5", "at least 5"]),
]
IDS = [f"{c[0]}-{c[1].split(' (')[0].replace(' ', '_')}" for c in CASES]


def test_every_answer_kind_of_the_suite_is_covered():
    kinds = {reasonmath_kind(t) for t in TASKS.values()}
    covered = {reasonmath_kind(TASKS[c[0]]) for c in CASES}
    assert kinds - {"pairs"} <= covered  # pairs: see test_pairs_forms


def reasonmath_kind(task):
    chk = task["check"]
    if chk["type"] == "number":
        return "number-unit" if chk.get("unit") else ("integer" if chk.get("integer") else "number")
    return chk["type"]


@pytest.mark.parametrize("task_id, kind, right, near", CASES, ids=IDS)
def test_right_answer_in_real_model_forms_scores_100(task_id, kind, right, near):
    task = TASKS[task_id]
    assert len(right) >= 5
    for form in right:
        for content in (f"Working...\nANSWER: {form}", f"**Final answer:** {form}", f"draft ANSWER: 0\n</think>\nANSWER: {form}"):
            v = reasonmath.check(task, {"content": content})
            assert v.score == 100 and v.passed, (kind, content, v.reason)


@pytest.mark.parametrize("task_id, kind, right, near", CASES, ids=IDS)
def test_near_misses_score_0(task_id, kind, right, near):
    task = TASKS[task_id]
    for form in near:
        v = reasonmath.check(task, {"content": f"ANSWER: {form}"})
        assert v.score == 0 and not v.passed, (kind, form, v.reason)


def test_pairs_forms():
    task = TASKS["rm-010"]
    for form in ["red=24, blue=40", "blue=40, red=24", "red: 24, blue: 40", "Red = 24 marbles, Blue = 40 marbles", "red is 24 and blue is 40", "**red=24, blue=40**"]:
        assert reasonmath.check(task, {"content": f"ANSWER: {form}"}).score == 100, form
    for form in ["red=40, blue=24", "red=24", "red=24, blue=41", "red=24 or 40, blue=40", "not red=24, blue=40", "red=24, blue=40, red=40"]:
        assert reasonmath.check(task, {"content": f"ANSWER: {form}"}).score == 0, form
