"""The task side of a run: what every process that runs tasks needs (the xdist workers,
and the controller itself without ``-n``): the settings, the endpoint, the task files,
the Conversation a suite's driver talks through, and the records it hands back.

A worker never writes the run directory; its records ride the test reports (as JSON
strings) to the controller, which keeps them.
"""
from __future__ import annotations

import time

import pytest

from benchloop.options import is_remote

KEPT = pytest.StashKey()  # -> the stash key a record was kept under on this item

class Worker:
    """One per process. ``info`` is the controller's plain-data hand-over: endpoint,
    run id, the run's deadline and the tasks a resumed run already finished."""

    def __init__(self, settings, info: dict):
        self.settings = settings
        self.remote = is_remote(settings)
        self.endpoint = info.get("endpoint") or settings.endpoint
        self.run_id = info.get("run_id")
        self.run_deadline_at = info.get("run_deadline_at")
        self.done = {tuple(k) for k in info.get("done") or []}
        self._suites: dict[str, dict] = {}
        self._public: dict | None = None  # the settings a driver may see, worked out once

    # ---- tasks -----------------------------------------------------------------------
    def suite(self, name: str) -> dict:
        """A suite's task file, loaded and validated once per process."""
        if name not in self._suites:
            from benchloop.tasks import TaskFileError, load_suite

            try:
                self._suites[name] = load_suite(name)
            except TaskFileError as exc:
                # a collection error whose text is just this line (no traceback)
                raise pytest.Collector.CollectError(f"benchloop: {exc}") from None
        return self._suites[name]

    def tasks_for(self, name: str) -> list[dict]:
        from benchloop.tasks import select

        return select(self.suite(name)["tasks"], profile=self.settings.profile, only=self.settings.task)

    def pytest_collection_modifyitems(self, session, config, items):
        """Resume: deselect tasks the interrupted run already finished. Every process does
        it from the controller's list, so all xdist workers collect the same items."""
        if not self.done:
            return
        keep, drop = [], []
        for item in items:
            task = getattr(getattr(item, "callspec", None), "params", {}).get("task")
            key = (task.get("suite"), task.get("id")) if isinstance(task, dict) else None
            (drop if key in self.done else keep).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep

    # ---- the model ------------------------------------------------------------------
    def make_provider(self):
        from benchloop_pytest.startup import make_provider

        return make_provider(self.settings, self.endpoint)

    def make_harness(self):
        from benchloop.harnesses import get_harness

        try:
            return get_harness(self.settings.harness)
        except ValueError as exc:
            raise pytest.UsageError(f"benchloop: {exc}") from None

    def conversation(self, provider, harness, suite: str):
        from benchloop.drivers.conversation import Conversation

        s = self.settings
        return Conversation(
            provider=provider,
            harness=harness,
            model=s.model,
            temperature=s.temperature,
            seed=s.seed,
            max_tokens_override=s.max_tokens,
            suite_defaults=self.suite(suite)["defaults"],
            settings=dict(self.public_settings()),
            retries=s.retries,
            task_deadline_s=s.task_deadline or s.timeout * 10,
            run_deadline_at=self.run_deadline_at,
        )

    def public_settings(self) -> dict:
        """``Settings.public()`` plus ``remote``, once per process (it walks the settings
        and parses the endpoint; every task's conversation gets a copy)."""
        if self._public is None:
            self._public = self.settings.public() | {"remote": self.remote}
        return self._public

    def out_of_time(self) -> bool:
        return self.run_deadline_at is not None and time.time() >= self.run_deadline_at

    def secret_values(self) -> list[str]:
        """The same for every task of the run: worked out once."""
        if getattr(self, "_secrets", None) is None:
            from benchloop_pytest.startup import secret_values

            self._secrets = secret_values(self.settings, self.endpoint)
        return self._secrets

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_teardown(self, item, nextitem):
        """Drop the parsed record from the item once its reports are made: it has gone to
        the controller as a JSON string, and kept here (the streamed events and all, ~40
        kB a task) it would stay in memory to the end of the session."""
        key = item.stash.get(KEPT, None)
        if key is not None:
            if key in item.stash:
                del item.stash[key]
            del item.stash[KEPT]


def record_on_item(item, rec: dict, key, secrets: list[str]) -> None:
    """Put a finished record on the test item (the report carries it to the controller),
    add the opt-in JUnit properties, and fail the test with the error or the reason
    (with any key removed: the failure text reaches JUnit and the terminal)."""
    item.stash[key] = rec
    item.stash[KEPT] = key
    if item.config.getini("benchloop_junit_properties"):
        item.user_properties.append(("score", f"{rec.get('score', 0):.1f}"))
        item.user_properties.append(("latency_ms", "" if rec.get("latency_ms") is None else f"{rec['latency_ms']:.1f}"))
        item.user_properties.append(("tokens", str(rec.get("completion_tokens") or 0)))
    if rec.get("error") or not rec.get("passed"):
        from benchloop.artifact import redact

        from benchloop.report import safe_text

        # the reason can quote model output: no control characters reach the terminal or JUnit
        pytest.fail(safe_text(redact(rec.get("error") or rec.get("reason") or f"score {rec.get('score')}", secrets), 2000), pytrace=False)
