"""A sweep: every combination of the values on some axes (models, harnesses, endpoints,
…), each one an ordinary run with its own artifact, tied together by ``sweep.json``.

Why ordinary runs: a cell is then resumable, comparable, showable and exportable like
any run, and a sweep adds only what a set of runs lacks: the axes, which run is which
cell, the order the cells may run in, and one answer across them
(:mod:`benchloop.sweep_stats`).

This module is the plan: the axes from flags or a matrix file, crossed into cells,
and the checks that refuse a sweep before any cell starts (every problem at once).
:mod:`benchloop.sweep_run` keeps ``sweep.json`` and runs the cells;
:mod:`benchloop.sweep_stats` gives the answer.
"""
from __future__ import annotations

import os

from benchloop.errors import BenchLoopError

DEFAULT_AXES = ("model", "harness", "endpoint", "provider", "profile")  # display order of the usual axes
EMBEDDED = "embedded"  # the scheduling group of every llamacpp cell: one model loaded at a time
# options that cannot be an axis or a per-cell setting: secrets, ids and the run store
NOT_AXES = ("api-key", "run-id", "runs-dir", "task")


class SweepError(BenchLoopError, ValueError):
    """A sweep that cannot start or continue; the message lists every problem."""


def problems_error(problems: list[str]) -> SweepError:
    uniq = list(dict.fromkeys(problems))
    if len(uniq) == 1:
        return SweepError(f"the sweep cannot start: {uniq[0]}")
    return SweepError(f"the sweep cannot start ({len(uniq)} problems):\n" + "\n".join(f"  - {p}" for p in uniq))


def split_list(value) -> list[str]:
    """``a,b`` / ``["a", "b"]`` / ``a`` as a list of non-empty strings."""
    if value is None:
        return []
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    return [str(v).strip() for v in items if str(v).strip()]


def _option_names() -> list[str]:
    from benchloop.options import OPTIONS

    return [name for name, *_ in OPTIONS]


# ------------------------------------------------------------------------------ the plan
def plan_from_flags(values: dict, axis_flags=DEFAULT_AXES) -> dict:
    """The plan of ``benchloop sweep --model a,b --harness raw,hermes …``: a comma list
    in one of ``axis_flags`` is an axis, every other given option is a setting of every
    cell. ``values`` are the parser's raw option values (:func:`options.given_values`)."""
    axes, settings = {}, {}
    for name, value in values.items():
        if value in (None, "", []) or name in ("resume", "api-key", "run-id", "runs-dir"):
            continue
        if name in axis_flags:
            items = split_list(value)
            if len(items) > 1:
                axes[name] = items
            elif items:
                settings[name] = items[0]
        else:
            settings[name] = value
    if "model" not in axes and "model" in settings:
        axes["model"] = [settings.pop("model")]
    return {"axes": axes, "per_value": {}, "settings": settings}


def plan_from_matrix(text: str, source: str = "matrix") -> dict:
    """The plan in a matrix file (YAML)::

        suites: reasonmath          # settings for every cell: any run option
        profile: quick
        axes:
          model:
            - qwen3:8b                                      # a plain value
            - smollm2-135m: {provider: llamacpp}            # a value with its own settings
            - big-model: {endpoint: http://desktop:11434}
          harness: [raw, hermes, qwen, pi]

    A value's settings apply to every cell with that value (a provider and endpoint per
    model). Secrets never go in files: the API key comes from the flag or environment."""
    import yaml

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SweepError(f"{source} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("axes"), dict) or not doc["axes"]:
        raise SweepError(f"{source} needs an 'axes:' mapping, e.g. axes: {{model: [a, b], harness: [raw, hermes]}}")
    problems, axes, per_value = [], {}, {}
    known = _option_names()
    for axis, items in doc["axes"].items():
        axis = str(axis)
        if not isinstance(items, list) or not items:
            problems.append(f"axis {axis!r} in {source} must be a list of values")
            continue
        axes[axis] = []
        for item in items:
            if isinstance(item, dict) and len(item) == 1:
                (value, own), = item.items()
                if not isinstance(own, dict):
                    problems.append(f"{axis} value {value!r}: its settings must be a mapping, e.g. {{provider: ollama}}")
                    own = {}
                bad = [k for k in own if str(k).replace("_", "-") not in known or str(k).replace("_", "-") in NOT_AXES]
                problems += [f"{axis} value {value!r}: {k!r} is not a setting a cell can have" for k in bad]
                per_value.setdefault(axis, {})[str(value)] = {str(k).replace("_", "-"): v for k, v in own.items() if k not in bad}
                axes[axis].append(str(value))
            elif isinstance(item, (str, int, float)) and not isinstance(item, bool):
                axes[axis].append(str(item))
            else:
                problems.append(f"axis {axis!r} in {source}: {item!r} is neither a value nor 'value: {{settings}}'")
    settings = {}
    for key, value in doc.items():
        key = str(key).replace("_", "-")
        if key == "axes":
            continue
        if key == "suites":
            settings["suites"] = ",".join(split_list(value))
        elif key not in known or key == "api-key":
            problems.append(f"{key!r} in {source} is not a run option" + (" (keys never go in files: pass --api-key or OPENAI_API_KEY)" if key == "api-key" else ""))
        else:
            settings[key] = value
    if problems:
        raise problems_error(problems)
    return {"axes": axes, "per_value": per_value, "settings": settings}


def expand(plan: dict) -> list[dict]:
    """Every combination of the axes' values, in axis order (the last axis varies
    fastest): ``{"name", "axes": {axis: value}, "values": {option: raw value}}``."""
    import itertools

    axes = plan["axes"]
    names = list(axes)
    cells = []
    for combo in itertools.product(*(axes[a] for a in names)):
        values = {k: v for k, v in plan["settings"].items() if k != "suites"}
        chosen = dict(zip(names, combo))
        for axis, value in chosen.items():
            if axis in _option_names():
                values[axis] = value
        for axis, value in chosen.items():  # a value's own settings win over the sweep's
            values.update((plan.get("per_value") or {}).get(axis, {}).get(value, {}))
        values.update({a: v for a, v in chosen.items() if a in _option_names()})  # the axis value itself wins last
        cells.append({"axes": chosen, "values": {k: (str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v) for k, v in values.items()}})
    _name_cells(cells, names)
    return cells


def _label(axis: str, value: str) -> str:
    if axis == "endpoint":
        from urllib.parse import urlparse

        u = urlparse(value)
        return u.netloc.rpartition("@")[2] or value  # never a password in a name
    if axis == "model" and (value.endswith(".gguf") or os.sep in value):
        return os.path.basename(value)
    return value


def _name_cells(cells: list[dict], axes: list[str]) -> None:
    """A short, unique name per cell from the axes that vary (``qwen3:8b/hermes``);
    ``slug`` is the same name made safe for a file name."""
    from benchloop.artifact import slug

    from benchloop.providers.base import safe_endpoint

    def shown(a, v):  # a key written into an endpoint URL never reaches a cell's name
        return safe_endpoint(v) if a == "endpoint" else v

    varying = [a for a in axes if len({c["axes"][a] for c in cells}) > 1] or axes[:1]
    for full in (False, True):
        for c in cells:
            c["name"] = "/".join(shown(a, c["axes"][a]) if full else _label(a, c["axes"][a]) for a in varying)
        if len({c["name"] for c in cells}) == len(cells):
            break
    seen = set()
    for i, c in enumerate(cells):
        s = "-".join(slug(c["axes"][a] if a != "endpoint" else _label(a, c["axes"][a]), 40) for a in varying)
        c["slug"] = s if s not in seen else f"{s}-{i}"
        seen.add(c["slug"])


def group_key(settings) -> str:
    """Cells with one key share hardware and run one after another: every embedded
    cell (one GGUF loaded at a time), else one server (scheme, host and port)."""
    if settings.provider == "llamacpp":
        return EMBEDDED
    from urllib.parse import urlparse

    u = urlparse(settings.endpoint)
    port = u.port or (443 if u.scheme == "https" else 80)
    return f"{u.scheme}://{(u.hostname or '').lower()}:{port}"


# ---------------------------------------------------------------------- the checks
def check(plan: dict, cells: list[dict], *, resolve_env=None) -> list[str]:
    """Every reason the sweep cannot run, before any cell starts: unknown axes, bad
    option values (an unknown harness or provider), suites that do not exist, models
    not served at their endpoint, dead endpoints, embedded models that are not there.
    Also sets each cell's ``group``. Endpoints are asked at the same time."""
    from benchloop.options import OptionError, parse_suites, resolve

    problems = []
    for axis in plan["axes"]:
        if axis not in _option_names() or axis in NOT_AXES:
            problems.append(f"{axis!r} cannot be an axis; use run options such as {', '.join(DEFAULT_AXES)}")
        dup = sorted({v for v in plan["axes"][axis] if plan["axes"][axis].count(v) > 1})
        if dup:
            problems.append(f"axis {axis!r} lists {dup[0]!r} twice")
    try:
        parse_suites(plan["settings"].get("suites"))
    except OptionError as exc:
        problems.append(str(exc))
    from benchloop.catalog import HARNESSES, PROFILES, PROVIDERS

    for name, allowed in (("harness", HARNESSES), ("provider", PROVIDERS), ("profile", PROFILES)):
        for value in dict.fromkeys(str(c["values"][name]) for c in cells if c["values"].get(name) is not None):
            if value not in allowed:
                problems.append(f"unknown {name} {value!r}; use one of: {', '.join(allowed)}")
    probes: dict[tuple, list[tuple[dict, object]]] = {}
    for cell in cells:
        try:
            s = resolve(cell["values"], env=resolve_env)
        except OptionError as exc:
            problems.append(str(exc))  # the same bad value in many cells is one problem
            continue
        if not s.model:
            problems.append("no model: pass --model a,b or list models under axes: in the matrix file")
            continue
        cell["group"] = group_key(s)
        key = (s.provider, s.endpoint) if s.provider != "llamacpp" else ("llamacpp", s.model)
        probes.setdefault(key, []).append((cell, s))
    problems += _unused_everywhere(plan, [s for found in probes.values() for _, s in found])
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=8) as pool:
        for found in pool.map(lambda item: _probe(*item), probes.items()):
            problems += found
    return list(dict.fromkeys(problems))


def _unused_everywhere(plan: dict, settings: list) -> list[str]:
    """A sweep-wide flag that changes nothing in any cell is refused as ``benchloop run``
    refuses it (``--threads`` without an embedded cell); one that matters in some cells
    (``--threads`` beside a server) is fine."""
    from benchloop.options import parse_suites, unused_options

    try:
        suites = parse_suites(plan["settings"].get("suites"))
    except ValueError:
        return []
    given = [k for k in plan["settings"] if k != "suites"]
    reasons = [unused_options(s, suites) for s in settings]
    return [reasons[0][k] for k in given if reasons and all(k in r for r in reasons)]


def _probe(key: tuple, cells: list) -> list[str]:
    """Problems of one endpoint (reachable? which models?) or one embedded model."""
    provider, where = key
    s = cells[0][1]
    if provider == "llamacpp":
        import importlib.util

        from benchloop.engine import KNOWN_MODELS, EngineError, resolve_model

        out = []
        if importlib.util.find_spec("xllamacpp") is None:
            out.append("the embedded engine (provider llamacpp) needs xllamacpp; run: pip install 'benchloop-cli[local]'")
        if where not in KNOWN_MODELS:
            try:
                resolve_model(where, fetch=False)
            except EngineError as exc:
                out.append(str(exc))
        return out
    from benchloop.providers import ProviderError, make_provider
    from benchloop.providers.base import safe_endpoint
    from benchloop.providers.ollama import OllamaProvider

    shown = safe_endpoint(where)
    try:
        models = make_provider(provider, where, api_key=s.api_key, timeout=min(s.timeout, 15.0)).list_models()
    except ProviderError as exc:
        hint = "pass a valid key with --api-key or OPENAI_API_KEY" if exc.status in (401, 403) else "start the server or fix the endpoint"
        from benchloop.artifact import redact
        from benchloop.providers.base import endpoint_secrets

        return [redact(f"cannot reach {shown} ({exc}); {hint}", endpoint_secrets(where))]
    out = []
    for model in dict.fromkeys(c[1].model for c in cells):
        ok = OllamaProvider.matches(model, models) if provider == "ollama" else (model in models or not models)
        if not ok:
            listed = ", ".join(models[:20]) + (" …" if len(models) > 20 else "")
            out.append(f"model {model!r} is not served at {shown}; available: {listed or 'none'}")
    return out
