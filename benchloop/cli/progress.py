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
        self._bar = None
        self._job = None

    def _ensure(self):
        if self._bar is None and not self.quiet:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, TextColumn, TimeElapsedColumn

            self._bar = RichProgress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=Console(stderr=True), transient=True, auto_refresh=False, redirect_stdout=False, redirect_stderr=False,
            )
            self._bar.start()
            self._job = self._bar.add_task("benchmarking", total=self.total or None)

    def _draw(self, **fields):
        self._ensure()
        if self._bar is not None:
            self._bar.update(self._job, **fields)
            self._bar.refresh()

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

    def on_record(self, rec: dict) -> None:
        """One finished task (a record dict, as tasks.jsonl keeps it)."""
        self.done += 1
        self.passed += bool(rec.get("passed"))
        self._draw(completed=self.done, description=f"benchmarking {rec.get('suite')}/{rec.get('task_id')} · {self.passed} passed")

    def pytest_runtest_logreport(self, report):
        if self.listening or (report.when != "call" and not (report.when == "setup" and report.failed)):
            return
        self.done += 1
        self._draw(completed=self.done, description=f"benchmarking {report.nodeid.split('[')[-1].rstrip(']')}")

    def close(self):
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
