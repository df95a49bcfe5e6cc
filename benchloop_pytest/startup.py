"""Start-up, before any task runs (controller only): settings, the embedded engine or
the endpoint's preflight, the machine probe, ``meta.json`` and the secrets to redact.

Why its own module: start-up fails fast and in one line (a dead endpoint, an unknown
model, a bad flag) before anything is measured, and everything it decides is plain data
handed to the controller and, through ``workerinput``, to the xdist workers.
"""
from __future__ import annotations

import os
import time

import pytest

from benchloop.options import OptionError, resolve
from benchloop.providers.base import endpoint_secrets, safe_endpoint


def usage_error(msg: str) -> pytest.UsageError:
    return pytest.UsageError(f"benchloop: {msg}")


def read_settings(config):
    """Resolved settings (CLI > env > ini > default) and the run being resumed, if any."""
    from benchloop.options import from_pytest_config

    cli, ini = from_pytest_config(config)
    try:
        if config.getoption("benchloop_resume", None):
            from benchloop.resume import ResumeError, open_resume

            key = cli.get("api-key") or os.environ.get("BENCHLOOP_API_KEY") or None
            try:
                resume = open_resume(config.getoption("benchloop_resume"), cli, api_key=key, check_manifest=not hasattr(config, "workerinput"))
            except ResumeError as exc:
                raise OptionError(str(exc)) from None
            return resume.settings, resume
        return resolve(cli, ini=ini), None
    except OptionError as exc:
        raise usage_error(str(exc)) from None


def secret_values(settings, endpoint: str | None) -> list[str]:
    """Every key this process could send: redacted from records, artifacts and failure text."""
    keys = [v for v in (settings.api_key, os.environ.get("OPENAI_API_KEY"), os.environ.get("BENCHLOOP_API_KEY")) if v]
    return keys + endpoint_secrets(settings.endpoint) + endpoint_secrets(endpoint)


def make_provider(settings, endpoint: str):
    from benchloop.providers import make_provider as make

    return make(settings.provider, endpoint, api_key=settings.api_key, timeout=settings.timeout)


def xdist_workers(config) -> int:
    n = getattr(config.option, "numprocesses", None)
    if isinstance(n, int):
        return n
    if n in ("auto", "logical"):
        return os.cpu_count() or 1
    try:
        return int(n or 0)
    except (TypeError, ValueError):
        return 1


def open_model(settings, workers: int):
    """The model to talk to: (endpoint, engine or None, model facts, engine facts or None).
    The embedded engine is loaded here once; a remote endpoint gets its preflight."""
    facts = {"name": settings.model}
    if settings.provider == "llamacpp":
        from benchloop.engine import Engine, EngineError

        try:
            engine = Engine(settings.model, parallel=max(1, workers), threads=settings.threads).start()
        except EngineError as exc:
            raise usage_error(str(exc)) from None
        facts.update(engine.facts)
        info = {"kind": "xllamacpp", "model_path": str(engine.path), "parallel": engine.parallel, "ctx_per_slot": engine.ctx_per_slot, "threads": engine.threads, "load_ms": round(engine.load_ms, 1)}
        return engine.url, engine, facts, info
    provider = preflight(settings)
    try:
        facts.update(provider.describe_model(settings.model))
    except Exception:  # describing is best-effort
        pass
    finally:
        provider.close()
    return settings.endpoint, None, facts, None


EMBEDDED_HINT = "try the embedded model: --benchloop-provider llamacpp --benchloop-model smollm2-135m"


def preflight(settings):
    """Fail at once, in one line, on a dead endpoint or an unknown model. The line names
    pytest's flags (``--benchloop-endpoint``); ``benchloop run`` shows its own
    (``--endpoint``) in their place. Returns the provider it asked (its connection
    still open, for describing the model next)."""
    from benchloop.artifact import redact
    from benchloop.providers import ProviderError

    provider = make_provider(settings, settings.endpoint)
    where = safe_endpoint(settings.endpoint)
    try:
        if settings.provider == "ollama":
            models, entries = provider.list_models(), None
        else:
            entries = provider.model_entries()
            models = [str(m["id"]) for m in entries if isinstance(m, dict) and "id" in m]
    except ProviderError as exc:
        detail = str(exc).replace(f" at {where}", "").replace(f" to {where}", "").replace(f" from {where}", "").replace(" (list models)", "")
        if exc.kind == "http" and exc.status in (401, 403):
            msg = f"{where} refused the key (HTTP {exc.status}); pass a valid key with --benchloop-api-key or OPENAI_API_KEY"
        elif settings.provider == "ollama" and exc.kind == "connect":
            msg = f"no Ollama at {where} ({detail}); start it (ollama serve), or {EMBEDDED_HINT}"
        else:
            msg = f"cannot reach {where} ({detail}); start the server or pass --benchloop-endpoint URL"
        raise usage_error(redact(msg, secret_values(settings, None))) from None
    if settings.provider == "ollama":
        from benchloop.providers.ollama import OllamaProvider

        ok = OllamaProvider.matches(settings.model, models)
    else:
        from benchloop.providers.openai_compat import OpenAICompatProvider

        ok = OpenAICompatProvider.served_name(settings.model, entries) is not None
    if not ok:
        shown = ", ".join(models[:20]) + (" …" if len(models) > 20 else "")
        hint = f"; pull it (ollama pull {settings.model}) or pick one of those" if settings.provider == "ollama" else "; pass one of those with --benchloop-model"
        raise usage_error(f"model {settings.model!r} is not served at {where}; available: {shown or 'none'}{hint}")
    return provider


def new_meta(settings, *, run_id: str, remote: bool, model_facts: dict, engine_info, machine) -> dict:
    """What ``meta.json`` says before the first task: enough to know what a killed run was."""
    from benchloop import __version__
    from benchloop.artifact import utcnow

    s = settings
    return {
        "schema_version": 1,
        "run_id": run_id,
        "started_at": utcnow(),
        "benchloop_version": __version__,
        "model": model_facts,
        "provider": s.provider,
        "endpoint": "embedded" if s.provider == "llamacpp" else safe_endpoint(s.endpoint),
        "harness": s.harness,
        "remote": remote,
        "profile": s.profile,
        "sampling": {"temperature": s.temperature, "seed": s.seed, "max_tokens": s.max_tokens},
        "settings": s.public(),
        "engine": engine_info,
        "machine": machine,
    }


def catch_sigterm():
    """Make SIGTERM (``kill``, ``timeout``, a service manager stopping us) end the run
    like Ctrl-C: pytest unwinds, the session finishes and ``run.json`` says
    ``incomplete``, instead of the process vanishing with only ``tasks.jsonl`` left.
    Only when nobody else handles SIGTERM; returns the handler to put back, or None."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGTERM"):
        return None
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return None

    def stop(signum, frame):
        raise KeyboardInterrupt("SIGTERM")

    return signal.signal(signal.SIGTERM, stop)


class Background:
    """Run one function in a daemon thread; ``result()`` joins it and re-raises its error."""

    def __init__(self, fn):
        import threading

        self._box: dict = {}
        self.elapsed_ms = None

        def work():
            t0 = time.perf_counter()
            try:
                self._box["value"] = fn()
            except BaseException as exc:  # handed to the caller of result()
                self._box["error"] = exc
            self.elapsed_ms = (time.perf_counter() - t0) * 1000

        self._thread = threading.Thread(target=work, name="benchloop-probe", daemon=True)
        self._thread.start()

    def result(self):
        self._thread.join()
        if "error" in self._box:
            raise self._box["error"]
        return self._box.get("value")
