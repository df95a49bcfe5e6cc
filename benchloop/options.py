"""One table of run options, shared by the pytest plugin and the CLI.

Each option exists three ways: ``--benchloop-<name>`` on the pytest command line,
``BENCHLOOP_<NAME>`` in the environment and ``benchloop_<name>`` in an ini file. The
precedence is CLI > env > ini > default, resolved in :func:`resolve` so the CLI, the
plugin and the tests agree on it. The API key has no ini form: secrets never go in
files.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field

DEFAULT_ENDPOINT = "http://localhost:11434"
DEFAULT_PROVIDER = "ollama"
PROVIDERS = ("ollama", "openai_compat", "llamacpp")

# name, help, default, kind ("str", "float", "int", "list", "bool", "tristate")
OPTIONS: list[tuple[str, str, object, str]] = [
    ("model", "model to benchmark; without it the plugin stays inactive", None, "str"),
    ("endpoint", f"server base URL (default {DEFAULT_ENDPOINT})", DEFAULT_ENDPOINT, "str"),
    ("provider", f"one of {', '.join(PROVIDERS)} (default {DEFAULT_PROVIDER})", DEFAULT_PROVIDER, "str"),
    ("harness", "prompt/tool-call format: raw, hermes, qwen, pi (default raw)", "raw", "str"),
    ("api-key", "bearer key for the endpoint (else OPENAI_API_KEY); never written to disk", None, "secret"),
    ("runs-dir", "where run directories go (default $BENCHLOOP_HOME/runs, ~/.bench-loop/runs)", None, "str"),
    ("task", "run only this task id (exact match, repeatable)", None, "list"),
    ("profile", "task profile: quick, core, full (default full)", "full", "str"),
    ("run-id", "use this run id instead of a generated one", None, "str"),
    ("temperature", "sampling temperature (default 0)", 0.0, "float"),
    ("seed", "sampling seed (default 42)", 42, "int"),
    ("max-tokens", "override every suite's output token budget", None, "int"),
    ("timeout", "seconds to wait for a reply to make progress (default 120)", 120.0, "float"),
    ("hardware", "describe the hardware yourself (e.g. 'RTX 4090 box')", None, "str"),
    ("gpu", "GPU name override", None, "str"),
    ("gpu-memory-gb", "GPU memory override in GB", None, "float"),
    ("trials", "speed suite repetitions per scenario (default 5)", 5, "int"),
    ("concurrency", "speed suite concurrency sweep, e.g. 1,2,4 (default off)", None, "str"),
    ("model-bytes", "bytes read per generated token, for the roofline when the model file is unknown", None, "float"),
    ("retries", "retries per request for transient provider errors: refused connection, HTTP 429/502/503 (default 2)", 2, "int"),
    ("task-deadline", "wall-clock seconds one task may take, all its requests and retries together (default 10x --timeout)", None, "float"),
    ("deadline", "wall-clock seconds for the whole run; tasks not started by then are recorded as not run", None, "float"),
    ("threads", "embedded engine (llamacpp): CPU threads for llama.cpp (default: every core; fewer keeps decode steady on a busy machine)", None, "int"),
]


def flag(name: str) -> str:
    return f"--benchloop-{name}"


def dest(name: str) -> str:
    return "benchloop_" + name.replace("-", "_")


def env_name(name: str) -> str:
    return "BENCHLOOP_" + name.replace("-", "_").upper()


@dataclass
class Settings:
    """Resolved options as plain data (crosses to xdist workers and into the artifact)."""

    model: str | None = None
    endpoint: str = DEFAULT_ENDPOINT
    provider: str = DEFAULT_PROVIDER
    harness: str = "raw"
    api_key: str | None = field(default=None, repr=False)
    runs_dir: str | None = None
    task: list[str] = field(default_factory=list)
    profile: str = "full"
    run_id: str | None = None
    temperature: float = 0.0
    seed: int = 42
    max_tokens: int | None = None
    timeout: float = 120.0
    hardware: str | None = None
    gpu: str | None = None
    gpu_memory_gb: float | None = None
    trials: int = 5
    concurrency: str | None = None
    model_bytes: float | None = None
    retries: int = 2
    task_deadline: float | None = None
    deadline: float | None = None
    threads: int | None = None
    remote: bool | None = None  # None = auto-detect from the endpoint

    def public(self) -> dict:
        """Everything but the secrets, for the artifact and for logs: no API key, and
        the endpoint without credentials a user may have written into its URL."""
        from benchloop.providers.base import has_credentials, safe_endpoint

        d = asdict(self)
        d.pop("api_key", None)
        if d.get("endpoint"):
            if has_credentials(d["endpoint"]):
                d["endpoint_credentials"] = True  # stripped here: a resume must be given them again
            d["endpoint"] = safe_endpoint(d["endpoint"])
        return d


class OptionError(ValueError):
    """A bad option value; the message is one line that names the fix."""


def _convert(name: str, kind: str, value):
    if value is None or kind in ("str", "secret"):
        return value
    try:
        if kind == "float":
            return float(value)
        if kind == "int":
            return int(value)
    except (TypeError, ValueError):
        raise OptionError(f"{flag(name)}={value!r} is not a number; pass e.g. {flag(name)}=1") from None
    if kind == "list":
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return [str(v) for v in value]
    return value


def resolve(cli: dict, env: dict | None = None, ini: dict | None = None) -> Settings:
    """Resolve options. ``cli``/``ini`` map option names (``runs-dir``) to raw values;
    None means "not given". Environment variables fill what the CLI left open."""
    env = os.environ if env is None else env
    ini = ini or {}
    out = {}
    for name, _help, default, kind in OPTIONS:
        value = cli.get(name)
        if value in (None, [], ""):
            value = env.get(env_name(name)) or None
        if value in (None, [], "") and kind != "secret":
            value = ini.get(name) or None
        if value in (None, [], ""):
            value = default
        out[name.replace("-", "_")] = _convert(name, kind, value)
    if out["task"] is None:
        out["task"] = []
    remote = cli.get("remote")
    if remote is None:
        raw = env.get("BENCHLOOP_REMOTE") or ini.get("remote")
        if raw not in (None, ""):
            remote = str(raw).lower() in ("1", "true", "yes", "remote")
    out["remote"] = remote
    s = Settings(**out)
    validate(s)
    return s


def validate(s: Settings) -> None:
    if s.provider not in PROVIDERS:
        raise OptionError(f"unknown provider {s.provider!r}; use one of: {', '.join(PROVIDERS)}")
    if s.profile not in ("quick", "core", "full"):
        raise OptionError(f"unknown profile {s.profile!r}; use quick, core or full")
    if s.provider != "llamacpp" and not s.endpoint.startswith(("http://", "https://")):
        raise OptionError(f"endpoint {s.endpoint!r} must start with http:// or https://")
    if s.max_tokens is not None and s.max_tokens <= 0:
        raise OptionError("--max-tokens must be a positive number of tokens")
    if s.timeout <= 0:
        raise OptionError("--timeout must be a positive number of seconds")
    if s.trials < 1:
        raise OptionError("--trials must be at least 1")
    if not 0 <= s.retries <= 10:
        raise OptionError("--retries must be between 0 and 10")
    if s.threads is not None and not 1 <= s.threads <= 1024:
        raise OptionError("--threads must be between 1 and 1024 (CPU threads for the embedded engine)")
    for name, v in (("task-deadline", s.task_deadline), ("deadline", s.deadline)):
        if v is not None and v <= 0:
            raise OptionError(f"--{name} must be a positive number of seconds")


def is_loopback(endpoint: str) -> bool:
    from urllib.parse import urlparse

    host = (urlparse(endpoint).hostname or "").lower()
    return host in ("localhost", "::1") or host.startswith("127.") or host == "0.0.0.0"


def is_remote(s: Settings) -> bool:
    """--remote/--local win; otherwise a non-loopback endpoint is remote."""
    if s.remote is not None:
        return s.remote
    if s.provider == "llamacpp":
        return False
    return not is_loopback(s.endpoint)


def home() -> str:
    return os.environ.get("BENCHLOOP_HOME") or os.path.join(os.path.expanduser("~"), ".bench-loop")


def runs_dir(s: Settings | None = None, *, given: str | None = None) -> str:
    """Where runs live, the one rule every command and the dashboard share: an explicit
    ``--runs-dir`` (``given``), else the resolved setting (flag > env > ini), else
    ``BENCHLOOP_RUNS_DIR``, else ``<BENCHLOOP_HOME>/runs``."""
    chosen = given or (s.runs_dir if s is not None else None) or os.environ.get("BENCHLOOP_RUNS_DIR")
    return os.path.abspath(os.path.expanduser(chosen)) if chosen else os.path.join(home(), "runs")
