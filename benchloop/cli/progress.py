"""The progress bar of ``benchloop run``: part of the command, not of the library.

An object the CLI hands to ``pytest.main(plugins=[...])``, so it exists only in the
controller process. It learns the task count when collection ends (xdist workers'
collections included) and each finished task from the controller's ``listeners`` (the
same redacted record that goes to tasks.jsonl), falling back to pytest's reports when no
controller is there to listen to.

It draws only from those hooks, which pytest calls outside a test's output capture, and
never from a timer thread: a bar redrawn while a test runs would be captured into that
test's output instead of reaching the terminal.
"""
from __future__ import annotations

import os
import sys

import pytest


class Progress:
    def __init__(self, quiet: bool = False):
        self.quiet = quiet or not sys.stderr.isatty() and os.environ.get("BENCHLOOP_PROGRESS") != "1"
        self.total = 0
        self.done = 0
        self.passed = 0
        self.listening = False  # records come from the controller's listeners
        self.running: list[str] = []  # tasks started and not yet finished, oldest first
        self._bar = None
        self._job = None

    def _ensure(self):
        if self._bar is None and not self.quiet:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            self._bar = RichProgress(
                TextColumn("{task.description}"), BarColumn(bar_width=20), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                console=Console(stderr=True), transient=True, auto_refresh=False, redirect_stdout=False, redirect_stderr=False,
            )
            self._bar.start()
            self._job = self._bar.add_task("benchmarking · starting", total=self.total or None)

    def _draw(self, refresh: bool = True, **fields):
        self._ensure()
        if self._bar is not None:
            self._bar.update(self._job, **fields)
            if refresh:
                self._bar.refresh()

    def _finished_now(self) -> bool:
        """Redraw for a finished task only when no task start will follow to show it (every
        task started already: the last ones of a parallel run redraw at once): a
        task's end and the next one's start come a few ms apart, and one redraw of the bar
        for both halves the terminal work per task (issue 14)."""
        return not self.total or self.done + len(self.running) >= self.total

    def pytest_sessionstart(self, session):
        """Listen to the controller's records (it exists once the plugin has configured)."""
        from benchloop_pytest.plugin import SESSION_KEY

        controller = session.config.stash.get(SESSION_KEY, None)
        listeners = getattr(controller, "listeners", None)
        if isinstance(listeners, list):
            listeners.append(self.on_record)
            self.listening = True

    def pytest_collection_finish(self, session):
        self.total = max(self.total, len(session.items))
        self._draw(total=self.total)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids):
        self.total = max(self.total, len(ids))
        self._draw(total=self.total)

    def _label(self) -> str:
        """What is running now: the task (serial), or the oldest of those in flight and
        how many more (parallel)."""
        if not self.running:
            return f"benchmarking · {self.passed} passed"
        more = f" +{len(self.running) - 1}" if len(self.running) > 1 else ""
        return f"{self.running[0]}{more} · {self.passed} passed"

    @staticmethod
    def _task_of(nodeid: str) -> str:
        suite = nodeid.split("::")[0].rsplit("/", 1)[-1].removeprefix("test_").removesuffix(".py")
        return f"{suite}/{nodeid.split('[')[-1].rstrip(']')}" if "[" in nodeid else nodeid

    def pytest_runtest_logstart(self, nodeid, location):
        """A task starts (called before its setup, outside capture; xdist forwards the
        workers' to the controller): show its name while it runs."""
        self.running.append(self._task_of(nodeid))
        self._draw(description=self._label())

    def _finished(self, name: str) -> None:
        if name in self.running:
            self.running.remove(name)

    def on_record(self, rec: dict) -> None:
        """One finished task (a record dict, as tasks.jsonl keeps it)."""
        self.done += 1
        self.passed += bool(rec.get("passed"))
        self._finished(f"{rec.get('suite')}/{rec.get('task_id')}")
        self._draw(self._finished_now(), completed=self.done, description=self._label())

    def pytest_runtest_logfinish(self, nodeid, location):
        self._finished(self._task_of(nodeid))

    def pytest_runtest_logreport(self, report):
        if self.listening or (report.when != "call" and not (report.when == "setup" and report.failed)):
            return
        self.done += 1
        self._finished(self._task_of(report.nodeid))
        self._draw(self._finished_now(), completed=self.done, description=self._label())

    def close(self):
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
