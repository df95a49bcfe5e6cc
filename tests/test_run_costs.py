"""What a run no longer pays for (issue 14), and that skipping it changes no result:
task files parsed once per content, the report without rich when it goes to a pipe."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap

import pytest

from benchloop import tasks as task_mod
from benchloop.tasks import TaskFileError, load_suite

DEMO = """\
suite: demo
tasks:
  - id: dm-001
    prompt: "What is 2 + 2?"
    check: {{type: number}}
    reference: "4"
    wrong: "5"
    note: {note}
"""


@pytest.fixture
def own_tasks(tmp_path, monkeypatch):
    """A task folder and a BenchLoop home of this test's own, and an empty memo."""
    d = tmp_path / "tasks"
    d.mkdir()
    monkeypatch.setenv("BENCHLOOP_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(task_mod, "_PARSED", {})
    monkeypatch.setattr(task_mod, "_LOADED", {})
    return d


def _cache_files(tmp_path):
    return sorted((tmp_path / "home" / "cache" / "tasks").glob("*.json"))


def test_a_task_file_is_parsed_once_per_content_and_an_edit_is_seen(own_tasks, tmp_path, monkeypatch):
    f = own_tasks / "demo.yaml"
    f.write_text(DEMO.format(note="first"))
    first = load_suite("demo", own_tasks)
    assert first["tasks"][0]["note"] == "first" and len(_cache_files(tmp_path)) == 1
    # from the cache file in a fresh process memo: same result, no YAML parse
    monkeypatch.setattr(task_mod, "_PARSED", {})
    monkeypatch.setattr(task_mod, "_LOADED", {})
    monkeypatch.setitem(sys.modules, "yaml", None)  # importing yaml now would raise
    assert load_suite("demo", own_tasks) == first
    monkeypatch.delitem(sys.modules, "yaml")
    f.write_text(DEMO.format(note="second"))
    edited = load_suite("demo", own_tasks)
    assert edited["tasks"][0]["note"] == "second" and edited["sha256"] != first["sha256"]
    assert len(_cache_files(tmp_path)) == 2


def test_a_caller_changing_its_tasks_does_not_change_the_next_load(own_tasks):
    (own_tasks / "demo.yaml").write_text(DEMO.format(note="kept"))
    a = load_suite("demo", own_tasks)
    a["tasks"][0]["note"] = "changed"
    a["tasks"].clear()
    b = load_suite("demo", own_tasks)
    assert b["tasks"][0]["note"] == "kept"


def test_broken_yaml_still_fails_after_a_good_version_was_cached(own_tasks):
    f = own_tasks / "demo.yaml"
    f.write_text(DEMO.format(note="fine"))
    load_suite("demo", own_tasks)
    f.write_text(DEMO.format(note="fine") + "  - id: [unclosed\n")
    with pytest.raises(TaskFileError, match="not valid YAML"):
        load_suite("demo", own_tasks)


def test_validation_runs_on_every_load_not_only_the_first(own_tasks):
    f = own_tasks / "demo.yaml"
    f.write_text(DEMO.format(note="fine"))
    load_suite("demo", own_tasks)
    f.write_text(DEMO.format(note="fine").replace('    wrong: "5"\n', ""))
    with pytest.raises(TaskFileError, match="wrong"):
        load_suite("demo", own_tasks)


def test_a_parse_json_would_change_is_not_cached(own_tasks, tmp_path):
    """YAML dates and integer keys do not survive JSON: such a file is parsed each time."""
    (own_tasks / "demo.yaml").write_text(DEMO.format(note="2024-01-31") + "    extra: {1: one}\n")
    got = load_suite("demo", own_tasks)
    assert str(got["tasks"][0]["note"]) == "2024-01-31" and not isinstance(got["tasks"][0]["note"], str)
    assert got["tasks"][0]["extra"] == {1: "one"}
    assert _cache_files(tmp_path) == []


def test_an_unwritable_home_only_costs_a_parse(own_tasks, tmp_path, monkeypatch):
    blocker = tmp_path / "blocked"
    blocker.write_text("a file where the home folder would be")
    monkeypatch.setenv("BENCHLOOP_HOME", str(blocker))
    (own_tasks / "demo.yaml").write_text(DEMO.format(note="ok"))
    assert load_suite("demo", own_tasks)["tasks"][0]["note"] == "ok"


def test_a_corrupt_cache_file_is_parsed_again(own_tasks, tmp_path):
    (own_tasks / "demo.yaml").write_text(DEMO.format(note="ok"))
    load_suite("demo", own_tasks)
    (cache,) = _cache_files(tmp_path)
    cache.write_text("{not json")
    task_mod._PARSED.clear()
    task_mod._LOADED.clear()
    assert load_suite("demo", own_tasks)["tasks"][0]["note"] == "ok"
    assert json.loads(cache.read_text())["suite"] == "demo"  # rewritten


# -- the report ------------------------------------------------------------------

RUN = {
    "run_id": "r1", "provider": "openai_compat", "harness": "raw", "status": "complete",
    "model": {"name": "evil\x1b[31mmodel\u202e"}, "machine": {"hardware": "CPU"},
    "manifest_hash": "abc123def4567890",
    "scores": {"overall": 55.5, "quality": 60.0, "speed": None, "reliability": 50.0, "formula": "local",
               "suites": {"reasonmath": {"score": 60.0, "n": 10, "ci95": [30.0, 85.5], "passed": 6, "errors": 1}}},
    "tasks": [{"error": "boom"}],
    "speed": {"scenarios": {"short": {"prompt_tokens": 128, "decode_tok_s": 85.25, "ttft_ms": 530.0, "status": "ok"}},
              "flags": ["error: HTTP 500 [/INST] \x07"], "notes": []},
}


def test_report_to_a_pipe_is_plain_aligned_text_with_hostile_text_stripped(monkeypatch):
    from benchloop.report import print_report

    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    print_report(RUN, run_dir="/runs/r1")
    text = out.getvalue()
    assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text
    assert "evil[31mmodel" in text and "[/INST]" in text and text.rstrip().endswith("run directory: /runs/r1")
    lines = text.splitlines()
    header = next(i for i, ln in enumerate(lines) if "score" in ln and "95% CI" in ln)
    rows = {ln.split()[0]: ln for ln in lines[header + 1: header + 6]}
    # right-aligned numbers end in one column, whatever their width
    assert rows["Overall"].index("55.5") + 4 == rows["reasonmath"].index("60.0") + 4 == lines[header].index("score") + 5
    assert "[30.0, 85.5]" in rows["reasonmath"]


def test_report_to_a_pipe_needs_no_rich_and_says_what_the_rich_one_says():
    code = textwrap.dedent(
        """
        import io, json, sys
        from benchloop.report import print_report, render_plain, report_blocks
        run = json.loads(sys.argv[1])
        print_report(run)
        assert "rich" not in sys.modules, "rich was imported for a pipe"
        from rich.console import Console
        buf = io.StringIO()
        print_report(run, console=Console(file=buf, width=300, force_terminal=False))
        words = lambda s: [w for w in s.split() if w.strip("─━!")]  # plain marks a warning with "!" where rich colours it
        assert words(buf.getvalue()) == words(render_plain(report_blocks(run))), (buf.getvalue(), render_plain(report_blocks(run)))
        """
    )
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    p = subprocess.run([sys.executable, "-c", code, json.dumps(RUN)], capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "BenchLoop" in p.stdout and "reasonmath" in p.stdout


# -- the quick exit -----------------------------------------------------------------

def _entry(tmp_path, script: str, *args):
    code = "import sys\nfrom benchloop.cli import entry\n" + textwrap.dedent(script) + "\nsys.argv = ['benchloop', *sys.argv[1:]]\nentry()\n"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env=dict(os.environ, BENCHLOOP_HOME=str(tmp_path / "home")))


def test_quick_exit_keeps_the_exit_code_the_output_and_the_atexit_handlers(tmp_path):
    mark = tmp_path / "atexit-ran"
    big = "print('x' * 100000, end='')"  # more than a pipe buffer, still in Python's buffer at the end
    p = _entry(tmp_path, f"import atexit\natexit.register(lambda: open({str(mark)!r}, 'w').write('yes'))\n{big}", "--version")
    assert p.returncode == 0 and p.stdout.endswith("benchloop " + __import__("benchloop").__version__ + "\n")
    assert p.stdout.startswith("x" * 100000) and mark.read_text() == "yes"
    bad = _entry(tmp_path, "", "run", "--harness", "hermez")
    assert bad.returncode == 2 and bad.stderr.strip().startswith("benchloop:")


def test_quick_exit_waits_for_a_thread_that_is_not_a_daemon(tmp_path):
    mark = tmp_path / "thread-finished"
    script = f"""
    import threading, time
    def late():
        time.sleep(0.5)
        open({str(mark)!r}, 'w').write('done')
    threading.Thread(target=late).start()
    """
    p = _entry(tmp_path, script, "--version")
    assert p.returncode == 0 and mark.read_text() == "done"


def test_run_blocks_pytest_plugins_no_suite_uses_but_keeps_junit_when_asked():
    from benchloop.cli.run import UNUSED_PYTEST_PLUGINS, pytest_args_for

    blocked = lambda args: {args[i + 1][3:] for i, a in enumerate(args) if a == "-p" and args[i + 1].startswith("no:")}  # noqa: E731
    plain = pytest_args_for({}, ["reasonmath"])
    assert set(UNUSED_PYTEST_PLUGINS) | {"junitxml", "cacheprovider", "terminal"} <= blocked(plain)
    junit = pytest_args_for({}, ["reasonmath"], junitxml="out.xml")
    assert "junitxml" not in blocked(junit) and "--junitxml=out.xml" in junit
    assert not {"capture", "faulthandler", "warnings", "skipping", "python", "runner"} & blocked(plain)


def test_every_parse_of_untrusted_python_goes_through_the_lock():
    """CPython 3.11's AST conversion fails under concurrent parses (SystemError 'AST
    constructor recursion depth mismatch'); checkers run in threads, so every parse in
    the library goes through benchloop.pyast.parse."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "benchloop"
    direct = [f"{p.relative_to(root)}:{i}" for p in root.rglob("*.py") if p.name != "pyast.py"
              for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if re.search(r"(?<![\w.])ast\.parse\(", line)]
    assert direct == []


def test_a_file_json_would_change_loads_the_same_every_time_in_one_process(own_tasks):
    """Integer keys ({3: [...]}) would come back as "3" from a JSON memo: the second load
    (the plugin's, after the command's check) must equal the first."""
    (own_tasks / "demo.yaml").write_text(DEMO.format(note="ok") + "    accept: {3: [three], true: [yes]}\n")
    first = load_suite("demo", own_tasks)
    second = load_suite("demo", own_tasks)
    assert first == second and second["tasks"][0]["accept"] == {3: ["three"], True: [True]}  # YAML 1.1: yes is true


def test_progress_redraws_a_finished_task_at_once_when_no_start_will_follow():
    from benchloop.cli.progress import Progress

    p = Progress(quiet=True)
    draws = []
    p._draw = lambda refresh=True, **f: draws.append(refresh)
    p.total = 3
    for name in ("s/t1", "s/t2"):  # two workers start t1 and t2; t3 is still to start
        p.running.append(name)
    p.on_record({"suite": "s", "task_id": "t1", "passed": True})
    assert draws[-1] is False  # t3's start will show it
    p.running.append("s/t3")
    p.on_record({"suite": "s", "task_id": "t3", "passed": True})
    assert draws[-1] is True  # t2 is still running but nothing more starts: draw now


def test_plain_report_marks_speed_warnings_apart_from_notes():
    from benchloop.report import render_plain, speed_blocks

    text = render_plain(speed_blocks({"scenarios": {}, "flags": ["TTFT unstable"], "notes": ["server reported timings"]}))
    assert "  ! TTFT unstable" in text and "  server reported timings" in text and "! server" not in text


def test_a_record_with_keys_json_cannot_sort_is_kept_as_json_would_keep_it():
    from benchloop_pytest.controller import Controller

    class Rep:
        nodeid = "suites/test_reasonmath.py::test_reasonmath[rm-001]"
        benchloop_record = {"suite": "reasonmath", "task_id": "rm-001", "detail": {1: "a", "1b": "b"}}

    c = Controller.__new__(Controller)
    c.marks, c.spent, c.lines, c.listeners, c.writer, c.model_wait_s = {}, {}, [], [], None, 0.0
    c.secret_values = lambda: []
    c.pytest_runtest_logreport(Rep())
    assert json.loads(c.lines[0])["detail"] == {"1": "a", "1b": "b"}
