"""One table of run options, shared by the pytest plugin and the ``benchloop`` command.

Each option exists four ways: ``--benchloop-<name>`` on the pytest command line,
``--<name>`` on ``benchloop run``, ``BENCHLOOP_<NAME>`` in the environment and
``benchloop_<name>`` in an ini file. :func:`add_run_options` registers the table with
either argument parser, :func:`pytest_flags` turns the command's values back into
pytest flags by walking the same table, and :func:`resolve` applies the precedence
CLI > env > ini > default, so the command, the plugin and the tests agree on it. The
API key has no ini form: secrets never go in files.

The runs-directory rule (:func:`runs_dir`) lives here too: every command, resume and
the dashboard find runs the same way.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field

from benchloop.catalog import HARNESSES, PROFILES, PROVIDERS, SUITES
from benchloop.errors import BenchLoopError

DEFAULT_ENDPOINT = "http://localhost:11434"
DEFAULT_PROVIDER = "ollama"
PYTEST_PREFIX = "--benchloop-"
CLI_PREFIX = "--"

# name, help, default, kind ("str", "secret", "float", "int", "list")
OPTIONS: list[tuple[str, str, object, str]] = [
    ("model", "model to benchmark (a .gguf path with provider llamacpp); without it the plugin stays inactive", None, "str"),
    ("endpoint", f"server base URL (default {DEFAULT_ENDPOINT})", DEFAULT_ENDPOINT, "str"),
    ("provider", f"wire format: {', '.join(PROVIDERS)} (default {DEFAULT_PROVIDER})", DEFAULT_PROVIDER, "str"),
    ("harness", f"prompt/tool-call format: {', '.join(HARNESSES)} (default raw)", "raw", "str"),
    ("api-key", "bearer key for the endpoint (else OPENAI_API_KEY); never written to disk", None, "secret"),
    ("runs-dir", "where run directories go (default $BENCHLOOP_HOME/runs, ~/.bench-loop/runs)", None, "str"),
    ("task", "run only this task id (exact match, repeatable)", None, "list"),
    ("profile", f"task subset: {', '.join(PROFILES)} (default full)", "full", "str"),
    ("run-id", "use this run id instead of a generated one", None, "str"),
    ("temperature", "sampling temperature (default 0)", 0.0, "float"),
    ("seed", "sampling seed (default 42)", 42, "int"),
    ("max-tokens", "override every suite's output token budget", None, "int"),
    ("timeout", "seconds to wait for a reply to make progress (default 120)", 120.0, "float"),
    ("hardware", "describe the hardware yourself (e.g. 'RTX 4090 box')", None, "str"),
    ("gpu", "GPU name override", None, "str"),
    ("gpu-memory-gb", "GPU memory override in GB", None, "float"),
    ("trials", "most speed trials per scenario (default 5); a scenario stops earlier once decode and TTFT settle", 5, "int"),
    ("speed-budget", "seconds the speed suite may take in all (per worker); a scenario whose estimate does not fit is skipped with a note (default no cap)", None, "float"),
    ("concurrency", "speed suite concurrency sweep, e.g. 1,2,4 (default off)", None, "str"),
    ("model-bytes", "bytes read per generated token, for the roofline when the model file is unknown", None, "float"),
    ("retries", "retries per request for transient provider errors: refused connection, HTTP 429/502/503 (default 2)", 2, "int"),
    ("task-deadline", "wall-clock seconds one task may take, all its requests and retries together (default 10x --timeout)", None, "float"),
    ("deadline", "wall-clock seconds for the whole run; tasks not started by then are recorded as not run", None, "float"),
    ("threads", "embedded engine (llamacpp): CPU threads for llama.cpp (default: every core; fewer keeps decode steady on a busy machine)", None, "int"),
]
TYPES = {"float": float, "int": int}  # what the parsers convert; env and ini values are converted by resolve()
# Short forms exist only on `benchloop run`: pytest reserves lowercase short options.
SHORT = {"model": "-m"}
REMOTE_HELP = "treat the endpoint as remote (auto for non-loopback)"
LOCAL_HELP = "treat the endpoint as local"
RESUME_HELP = "continue an interrupted run (its directory or id) with its own settings; only unfinished tasks run"


def flag(name: str, prefix: str = PYTEST_PREFIX) -> str:
    return prefix + name


def dest(name: str, prefix: str = PYTEST_PREFIX) -> str:
    """The attribute an option lands in: ``benchloop_runs_dir`` for pytest (and the ini
    key), ``runs_dir`` for ``benchloop run``."""
    return (prefix.lstrip("-") + name).replace("-", "_")


def env_name(name: str) -> str:
    return "BENCHLOOP_" + name.replace("-", "_").upper()


def add_run_options(addoption, prefix: str = PYTEST_PREFIX, addini=None) -> None:
    """Register every run option through ``addoption`` (pytest's ``group.addoption`` or
    argparse's ``add_argument``): each entry of :data:`OPTIONS`, then ``remote`` /
    ``local`` and ``resume``. Numbers are parsed as numbers, the rest stays text (``None``
    when absent, a list for repeatable ones); :func:`resolve` checks them and fills the
    gaps from the environment and ini. With ``addini`` (pytest's ``parser.addini``)
    the ini forms ``benchloop_<name>`` are registered too, the API key excepted.

    Plugin: ``add_run_options(group.addoption, "--benchloop-", parser.addini)``;
    ``benchloop run``: ``add_run_options(sub.add_argument, "--")``."""
    for name, help_text, _default, kind in OPTIONS:
        names = [flag(name, prefix)]
        if prefix == CLI_PREFIX and name in SHORT:
            names.insert(0, SHORT[name])
        extra = {"action": "append"} if kind == "list" else {"type": TYPES[kind]} if kind in TYPES else {}
        addoption(*names, dest=dest(name, prefix), default=None, help=help_text, **extra)
        if addini is not None and kind != "secret":
            addini(dest(name), help_text, default=None)
    addoption(flag("remote", prefix), action="store_const", const=True, dest=dest("remote", prefix), default=None, help=REMOTE_HELP)
    addoption(flag("local", prefix), action="store_const", const=False, dest=dest("remote", prefix), help=LOCAL_HELP)
    addoption(flag("resume", prefix), dest=dest("resume", prefix), default=None, metavar="RUN", help=RESUME_HELP)
    if addini is not None:
        addini(dest("remote"), "treat the endpoint as remote (true/false)", default=None)


def given_values(namespace, prefix: str = CLI_PREFIX) -> dict:
    """The options a parser read, by option name (``runs-dir``), None where not given;
    ``remote`` and ``resume`` included. The input :func:`resolve` and
    :func:`pytest_flags` take."""
    out = {name: getattr(namespace, dest(name, prefix), None) for name, *_ in OPTIONS}
    for name in ("remote", "resume"):
        out[name] = getattr(namespace, dest(name, prefix), None)
    return out


def from_pytest_config(config) -> tuple[dict, dict]:
    """(flags, ini) as :func:`resolve` takes them, read from a pytest ``config`` on which
    :func:`add_run_options` registered the table (flags carry ``remote`` and ``resume``
    too; ini values that are empty are left out)."""
    cli = given_values(config.option, PYTEST_PREFIX)
    ini = {}
    for name, _h, _d, kind in OPTIONS:
        if kind != "secret":
            v = config.getini(dest(name))
            if v not in (None, "", []):
                ini[name] = v
    v = config.getini(dest("remote"))
    if v not in (None, ""):
        ini["remote"] = v
    return cli, ini


def pytest_flags(values: dict) -> list[str]:
    """``--benchloop-*`` flags for the given options (names as in :data:`OPTIONS`), in
    table order. The API key never goes on a command line (pass it in the environment);
    a repeatable option repeats its flag."""
    out = []
    for name, _help, _default, kind in OPTIONS:
        value = values.get(name)
        if kind == "secret" or value in (None, "", []):
            continue
        for item in value if isinstance(value, (list, tuple)) else [value]:
            out.append(f"{flag(name)}={item}")
    if values.get("remote") is not None:
        out.append(flag("remote" if values["remote"] else "local"))
    if values.get("resume"):
        out.append(f"{flag('resume')}={values['resume']}")
    return out


def runnable_suites() -> list[str]:
    """Suites this install can run, in the catalog's order (the default for ``--suites``)."""
    from benchloop.paths import suites_dir

    d = suites_dir()
    return [s for s in SUITES if (d / f"test_{s}.py").is_file()]


def parse_suites(text: str | None) -> list[str]:
    """``--suites`` (a comma list; empty = every runnable suite), checked against the catalog."""
    have = runnable_suites()
    asked = [s.strip() for s in (text or "").split(",") if s.strip()]
    for s in asked:
        if s not in have:
            raise OptionError(f"unknown suite {s!r}; available: {', '.join(have)}")
    return asked or have


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
    speed_budget: float | None = None
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


class OptionError(BenchLoopError, ValueError):
    """A bad option value; the message is one line that names the fix."""


def convert(name: str, kind: str, value):
    """One raw option value (a string from a flag, the environment or an ini file) as its
    kind's type; OptionError naming the flag when it is not one."""
    if value is None or kind in ("str", "secret"):
        return value
    try:
        if kind == "float":
            return float(value)
        if kind == "int":
            return int(value)
    except (TypeError, ValueError):
        raise OptionError(f"--{name}={value!r} is not a number; pass e.g. --{name}=1") from None
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
        out[name.replace("-", "_")] = convert(name, kind, value)
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
    if s.profile not in PROFILES:
        raise OptionError(f"unknown profile {s.profile!r}; use one of: {', '.join(PROFILES)}")
    if s.harness not in HARNESSES:
        raise OptionError(f"unknown harness {s.harness!r}; use one of: {', '.join(HARNESSES)}")
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
    if s.gpu_memory_gb is not None and not s.gpu:
        raise OptionError("--gpu-memory-gb describes a GPU you name: pass --gpu NAME with it (e.g. --gpu 'RTX 4090' --gpu-memory-gb 24)")
    if s.threads is not None and not 1 <= s.threads <= 1024:
        raise OptionError("--threads must be between 1 and 1024 (CPU threads for the embedded engine)")
    for name, v in (("task-deadline", s.task_deadline), ("deadline", s.deadline), ("speed-budget", s.speed_budget)):
        if v is not None and v <= 0:
            raise OptionError(f"--{name} must be a positive number of seconds")


def unused_options(s: Settings, suites: list[str] | None = None) -> dict[str, str]:
    """Options that are set but would change nothing in this run, by option name, each
    with one line saying why. ``benchloop run`` refuses them when given as flags and
    warns when they come from the environment or an ini file."""
    out = {}
    if s.threads is not None and s.provider != "llamacpp":
        out["threads"] = f"--threads sets the embedded engine's CPU threads; --provider {s.provider} talks to a server that has its own (drop --threads)"
    if s.provider == "llamacpp":
        if s.endpoint != DEFAULT_ENDPOINT:
            out["endpoint"] = "--endpoint is not used with --provider llamacpp (the embedded engine serves itself); drop it or use --provider openai_compat"
        if s.api_key:
            out["api-key"] = "--api-key is not used with --provider llamacpp (the embedded engine needs no key); drop it"
    if suites is not None and "speed" not in suites:
        for name, value, default in (("trials", s.trials, 5), ("speed-budget", s.speed_budget, None), ("concurrency", s.concurrency, None), ("model-bytes", s.model_bytes, None)):
            if value not in (None, default):
                out[name] = f"--{name} only changes the speed suite, which this run does not include (add speed to --suites or drop --{name})"
    return out


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
    from benchloop.paths import home as _home

    return _home()


def runs_dir(s: Settings | None = None, *, given: str | None = None) -> str:
    """Where runs live, the one rule every command and the dashboard share: an explicit
    ``--runs-dir`` (``given``), else the resolved setting (flag > env > ini), else
    ``BENCHLOOP_RUNS_DIR``, else ``<BENCHLOOP_HOME>/runs``."""
    chosen = given or (s.runs_dir if s is not None else None) or os.environ.get("BENCHLOOP_RUNS_DIR")
    return os.path.abspath(os.path.expanduser(chosen)) if chosen else os.path.join(home(), "runs")
