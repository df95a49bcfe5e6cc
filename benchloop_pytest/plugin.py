"""The pytest11 entry point. pytest imports this module on *every* run in an
environment where BenchLoop is installed, so it stays thin: option registration,
fixtures and two hooks. Everything heavy is imported only once ``--benchloop-model``
(or its env/ini form) switches the plugin on; otherwise it does nothing.
"""
from __future__ import annotations

import json
import os

import pytest

SESSION_KEY = pytest.StashKey()  # -> benchloop_pytest.session.BenchSession
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
    from benchloop.options import OPTIONS, dest, flag

    group = parser.getgroup("benchloop", "BenchLoop LLM benchmark")
    for name, help_text, _default, kind in OPTIONS:
        if kind == "list":
            group.addoption(flag(name), action="append", dest=dest(name), default=None, help=help_text)
        else:
            group.addoption(flag(name), dest=dest(name), default=None, help=help_text)
        if kind != "secret":
            parser.addini(dest(name), help_text, default=None)
    group.addoption("--benchloop-remote", action="store_const", const=True, dest="benchloop_remote", default=None, help="treat the endpoint as remote (auto for non-loopback)")
    group.addoption("--benchloop-local", action="store_const", const=False, dest="benchloop_remote", help="treat the endpoint as local")
    group.addoption("--benchloop-resume", dest="benchloop_resume", default=None, metavar="RUN", help="continue an interrupted run (its directory or id) with its own settings; only unfinished tasks run")
    parser.addini("benchloop_remote", "treat the endpoint as remote (true/false)", default=None)
    parser.addini("benchloop_junit_properties", "add score/latency_ms/tokens properties to JUnit testcases", type="bool", default=False)


def _model_requested(config) -> bool:
    return bool(config.getoption("benchloop_model") or os.environ.get("BENCHLOOP_MODEL") or config.getini("benchloop_model") or config.getoption("benchloop_resume", None))


def pytest_configure(config):
    config.addinivalue_line("markers", "benchloop: a BenchLoop benchmark task (parametrized from tasks/<suite>.yaml)")
    if not _model_requested(config):
        return
    from benchloop_pytest.session import BenchSession

    session = BenchSession(config)
    config.stash[SESSION_KEY] = session
    config.pluginmanager.register(session, "benchloop-session")


def pytest_generate_tests(metafunc):
    suite = getattr(metafunc.module, "BENCHLOOP_SUITE", None)
    if suite is None or "task" not in metafunc.fixturenames:
        return
    session = metafunc.config.stash.get(SESSION_KEY, None)
    if session is None:
        return  # the task fixture skips with INACTIVE
    tasks = session.tasks_for(suite)
    metafunc.parametrize("task", tasks, ids=[t["id"] for t in tasks])
    metafunc.definition.add_marker(pytest.mark.benchloop)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    rec = item.stash.get(RECORD_KEY, None)
    if rec is not None and report.when == "call":
        # A JSON string: the one form that survives xdist's report serialization.
        report.benchloop_record = json.dumps(rec)
    elif report.when == "setup" and report.failed:
        session = item.config.stash.get(SESSION_KEY, None)
        task = getattr(getattr(item, "callspec", None), "params", {}).get("task")
        if session is not None and isinstance(task, dict):
            report.benchloop_record = json.dumps(session.setup_error_record(task, report))
    return report


@pytest.fixture
def task(request):
    """One frozen task (a dict from tasks/<suite>.yaml)."""
    if not hasattr(request, "param"):
        pytest.skip(INACTIVE)
    return request.param


@pytest.fixture(scope="session")
def provider(request):
    """The HTTP client for the model under test (one per worker process)."""
    session = request.config.stash.get(SESSION_KEY, None)
    if session is None:
        pytest.skip(INACTIVE)
    p = session.make_provider()
    yield p
    p.close()


@pytest.fixture(scope="session")
def harness(request):
    """How prompts and tools are put to the model (--benchloop-harness)."""
    session = request.config.stash.get(SESSION_KEY, None)
    if session is None:
        pytest.skip(INACTIVE)
    return session.make_harness()


@pytest.fixture
def recorder(request):
    """Runs a task and puts its record on the test report; fails the test with the checker's reason."""
    session = request.config.stash.get(SESSION_KEY, None)
    if session is None:
        pytest.skip(INACTIVE)
    from benchloop_pytest.session import Recorder

    return Recorder(session, request.node, RECORD_KEY)
