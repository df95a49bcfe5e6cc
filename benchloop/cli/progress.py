"""The progress bar of ``benchloop run``: part of the command, not of the library.

An object the CLI hands to ``pytest.main(plugins=[...])``, so it exists only in the
controller process; xdist workers' reports reach the controller's hooks too. It hooks
only what pytest calls outside a test's output capture (collection finished, a
report logged), so the bar is drawn between tasks, never from inside one.
"""
from __future__ import annotations

import os
import sys

import pytest


class Progress:
    """A pytest plugin living only in the CLI's controller process: a rich progress bar
    fed by task reports (xdist workers' reports arrive here too)."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet or not sys.stderr.isatty() and os.environ.get("BENCHLOOP_PROGRESS") != "1"
        self.total = 0
        self.done = 0
        self._bar = None
        self._job = None
        self._plain_every = 1

    def _ensure(self):
        if self._bar is None and not self.quiet:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, TextColumn, TimeElapsedColumn

            self._bar = RichProgress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=Console(stderr=True), transient=True)
            self._bar.start()
            self._job = self._bar.add_task("benchmarking", total=self.total or None)

    def pytest_collection_finish(self, session):
        self.total = len(session.items)
        self._ensure()
        if self._bar is not None:
            self._bar.update(self._job, total=self.total)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids):
        self.total = max(self.total, len(ids))
        self._ensure()
        if self._bar is not None:
            self._bar.update(self._job, total=self.total)

    def pytest_runtest_logreport(self, report):
        if report.when != "call" and not (report.when == "setup" and report.failed):
            return
        self.done += 1
        if self._bar is not None:
            self._bar.update(self._job, completed=self.done, description=f"benchmarking {report.nodeid.split('[')[-1].rstrip(']')}")

    def close(self):
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
