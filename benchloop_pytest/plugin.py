"""The pytest11 entry point. pytest imports this module on *every* run in an
environment where BenchLoop is installed, so it stays thin: option registration,
fixtures and two hooks. Everything heavy is imported only once ``--benchloop-model``
(or its env/ini form) switches the plugin on; otherwise it does nothing.
"""
from __future__ import annotations

import json
import os

import pytest

SESSION_KEY = pytest.StashKey()  # -> benchloop_pytest.controller.Controller (controller process only)
WORKER_KEY = pytest.StashKey()  # -> benchloop_pytest.worker.Worker (every process that runs tasks)
RECORD_KEY = pytest.StashKey()  # -> dict, the task record of one test
INACTIVE = "BenchLoop suites need a model: pass --benchloop-model=NAME (or set BENCHLOOP_MODEL)"


def _stop_rewriting_library(pluginmanager) -> None:
    """Keep pytest's assertion rewriting off the BenchLoop library.

    pytest marks every top-level package of a distribution with a pytest11 entry point
    for rewriting, which for ``benchloop-cli`` means all of ``benchloop`` (providers,
    checkers, engine...), not just this plugin. A rewritten module is parsed and compiled
    by pytest instead of loaded from the bytecode pip wrote, and where pytest cannot cache
    its own bytecode (read-only site-packages, PYTHONDONTWRITEBYTECODE) that happens on
    every run: about 10 ms a module, most of a benchmark's start-up. The library holds no
    test asserts, so nothing is lost. This touches pytest's private state; if it is not
    there, nothing changes.
    """
    hook = getattr(pluginmanager, "rewrite_hook", None)
    marked = getattr(hook, "_must_rewrite", None)
    if isinstance(marked, set) and "benchloop" in marked:
        marked.discard("benchloop")
        cache = getattr(hook, "_marked_for_rewrite_cache", None)
        if isinstance(cache, dict):
            cache.clear()


def pytest_addoption(parser, pluginmanager):
    _stop_rewriting_library(pluginmanager)
    from benchloop.options import add_run_options

    add_run_options(parser.getgroup("benchloop", "BenchLoop LLM benchmark").addoption, addini=parser.addini)
    parser.addini("benchloop_junit_properties", "add score/latency_ms/tokens properties to JUnit testcases", type="bool", default=False)


def _model_requested(config) -> bool:
    return bool(config.getoption("benchloop_model") or os.environ.get("BENCHLOOP_MODEL") or config.getini("benchloop_model") or config.getoption("benchloop_resume", None))


def pytest_configure(config):
    config.addinivalue_line("markers", "benchloop: a BenchLoop benchmark task (parametrized from tasks/<suite>.yaml)")
    if not _model_requested(config):
        return
    from benchloop_pytest.startup import read_settings
    from benchloop_pytest.worker import Worker

    settings, resume = read_settings(config)
    if hasattr(config, "workerinput"):  # an xdist worker: the controller already started everything
        info = config.workerinput.get("benchloop") or {}
    else:
        from benchloop.options import is_remote
        from benchloop_pytest.controller import Controller

        controller = Controller(config, settings, resume, is_remote(settings))
        config.stash[SESSION_KEY] = controller
        config.pluginmanager.register(controller, "benchloop-controller")
        info = controller.handover()
    worker = Worker(settings, info)
    config.stash[WORKER_KEY] = worker
    config.pluginmanager.register(worker, "benchloop-worker")


def pytest_generate_tests(metafunc):
    suite = getattr(metafunc.module, "BENCHLOOP_SUITE", None)
    if suite is None or "task" not in metafunc.fixturenames:
        return
    worker = metafunc.config.stash.get(WORKER_KEY, None)
    if worker is None:
        return  # the task fixture skips with INACTIVE
    tasks = worker.tasks_for(suite)
    metafunc.parametrize("task", tasks, ids=[t["id"] for t in tasks])
    metafunc.definition.add_marker(pytest.mark.benchloop)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Carry the task's record on its report (from an xdist worker a JSON string: the one
    form that survives xdist's serialization). A test that failed before it recorded anything (a setup
    error, a bug in the suite module) still yields a record, as a harness error."""
    report = yield
    rec = item.stash.get(RECORD_KEY, None)
    if rec is not None and (report.when == "call" or (report.when == "setup" and report.failed)):
        # in one process the controller takes the dict itself: no JSON round trip a task
        report.benchloop_record = json.dumps(rec) if hasattr(item.config, "workerinput") else rec
    elif rec is None and report.failed and report.when in ("setup", "call"):
        task = getattr(getattr(item, "callspec", None), "params", {}).get("task")
        if item.config.stash.get(WORKER_KEY, None) is not None and isinstance(task, dict):
            from benchloop.record import TaskRecord

            msg = str(getattr(report, "longreprtext", "") or f"{report.when} failed").strip().splitlines()
            err = f"harness error: {msg[-1][:300] if msg else report.when + ' failed'}"
            rec = TaskRecord.failed(task, err, "harness", reason=f"{report.when} failed").to_dict()
            item.stash[RECORD_KEY] = rec
            report.benchloop_record = json.dumps(rec)
    return report


def _worker(request):
    worker = request.config.stash.get(WORKER_KEY, None)
    if worker is None:
        pytest.skip(INACTIVE)
    return worker


@pytest.fixture
def task(request):
    """One frozen task (a dict from tasks/<suite>.yaml)."""
    if not hasattr(request, "param"):
        pytest.skip(INACTIVE)
    return request.param


@pytest.fixture(scope="session")
def provider(request):
    """The HTTP client for the model under test (one per worker process)."""
    p = _worker(request).make_provider()
    yield p
    p.close()


@pytest.fixture(scope="session")
def harness(request):
    """How prompts and tools are put to the model (--benchloop-harness)."""
    return _worker(request).make_harness()


@pytest.fixture
def conversation(request, task, provider, harness):
    """The model behind the harness, with retries and deadlines, for one task. A task
    the run's deadline left no time for is recorded as not run and never sent."""
    worker = _worker(request)
    if worker.out_of_time():
        from benchloop.record import NOT_RUN, TaskRecord

        rec = TaskRecord.failed(task, "run deadline exceeded", NOT_RUN, reason="run deadline exceeded; task not run").to_dict()
        rec["retries"] = []
        _keep(request.node, rec, worker)
    return worker.conversation(provider, harness, task["suite"])


@pytest.fixture
def record(request, task, conversation):
    """``record(exchange, verdict)``: the task's TaskRecord, put on the test report for
    the controller; fails the test with the error or the checker's reason."""

    def keep(ex, verdict):
        import time

        from benchloop.record import TaskRecord

        rec = TaskRecord.build(task, ex, verdict, wall_ms=(time.perf_counter() - ex.t0) * 1000, max_tokens=conversation.max_tokens(task))
        _keep(request.node, rec.to_dict(), _worker(request))
        return rec

    return keep


def _keep(item, rec: dict, worker) -> None:
    from benchloop_pytest.worker import record_on_item

    record_on_item(item, rec, RECORD_KEY, worker.secret_values())
