"""Shared fixtures for BenchLoop's own tests (not loaded by installed users).

- ``scripted``: a factory for the scripted OpenAI/Ollama endpoint (protocol and fault tests).
- ``smollm_engine``: the real embedded SmolLM2-135M behind llama.cpp's HTTP server,
  started once per test session (end-to-end tests use it, never a fake).
- ``bl_home``: an isolated BENCHLOOP_HOME so tests never touch ~/.bench-loop.
"""
from __future__ import annotations

import os

import pytest


def pytest_configure(config):
    """Give each test worker's real model its share of the cores. Under ``-n 2`` two
    tests may each run llama.cpp at once; with every engine taking every core, their
    spinning threads starve each other (an 8 s end-to-end test took 280 s). Set before
    xdist starts its workers, so they and the ``benchloop`` processes they spawn inherit it.
    Only for BenchLoop's own tests: a benchmark run from this checkout keeps its default."""
    from benchloop_pytest.plugin import _model_requested

    workers = getattr(config.option, "numprocesses", None)
    benchmarking = _model_requested(config)
    if isinstance(workers, int) and workers > 1 and not benchmarking and "BENCHLOOP_THREADS" not in os.environ:
        os.environ["BENCHLOOP_THREADS"] = str(max(1, (os.cpu_count() or 1) // workers))


@pytest.fixture
def scripted():
    from benchloop.testing.scripted import ScriptedEndpoint

    started = []

    def make(responder=None, **kw):
        ep = ScriptedEndpoint(responder, **kw).start()
        started.append(ep)
        return ep

    yield make
    for ep in started:
        ep.stop()


@pytest.fixture(scope="session")
def smollm_engine():
    from benchloop.engine import Engine

    eng = Engine("smollm2-135m", parallel=2, ctx_per_slot=4096, threads=int(os.environ.get("BENCHLOOP_THREADS") or 0) or None).start()
    yield eng
    eng.stop()


@pytest.fixture
def bl_home(tmp_path, monkeypatch):
    home = tmp_path / "blhome"
    monkeypatch.setenv("BENCHLOOP_HOME", str(home))
    # the models dir is shared so the SmolLM2 file is not fetched again per test
    real = os.environ.get("BENCHLOOP_MODELS_DIR")
    if real:
        monkeypatch.setenv("BENCHLOOP_MODELS_DIR", real)
    return home
