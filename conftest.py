"""Shared fixtures for BenchLoop's own tests (not loaded by installed users).

- ``scripted``: a factory for the scripted OpenAI/Ollama endpoint (protocol and fault tests).
- ``smollm_engine``: the real embedded SmolLM2-135M behind llama.cpp's HTTP server,
  started once per test session (end-to-end tests use it, never a fake).
- ``bl_home``: an isolated BENCHLOOP_HOME so tests never touch ~/.bench-loop.
"""
from __future__ import annotations

import os

import pytest


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

    eng = Engine("smollm2-135m", parallel=2, ctx_per_slot=4096).start()
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
