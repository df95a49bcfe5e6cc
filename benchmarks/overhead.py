"""What does BenchLoop cost over a plain streaming loop? Measured in one run, as ratios.

The workload: 40 chat requests (26 reasonmath + 14 instructfollow tasks), streamed from a
timed scripted endpoint on 127.0.0.1 (``benchloop.testing.scripted``) that answers each
with the task's reference reply spread over ~150 ms (first chunk after 30 ms, the rest
evenly). Two arms, each a fresh process timed from launch to exit:

- **plain**: ``python -c`` with ``requests``, a Session, the same 40 request bodies
  BenchLoop sent (captured from the endpoint during the warm-up), ``iter_lines`` and a
  ``json.loads`` per event: the least a client can do and still read the stream.
- **benchloop**: ``benchloop run --provider openai_compat ...`` (pytest, the plugin, the
  checkers, ``tasks.jsonl`` with fsync, ``run.json``, the report), output to /dev/null.

One untimed run of each comes first (it writes bytecode and captures the bodies), then
``--pairs`` interleaved pairs (plain, benchloop, plain, benchloop ...) so drift in the
machine's load hits both arms alike. Reported:

1. **added share**: (median benchloop wall - median plain wall) / median benchloop wall
   (target <= 5%), with each pair's own share beside it.
2. **fixed cost per launch**: launch -> first chat request reaching the endpoint, plus the
   end of the last reply -> process exit (target <= 0.25 s), for both arms; and the
   per-task cost seen from outside: the gap between consecutive requests beyond the reply
   time itself.
3. **peak RSS** of the benchloop process (``os.wait4``'s ``ru_maxrss`` of that child
   alone; target <= 40 MiB), the plain loop's beside it.
4. **breakdown**: interpreter start (``python -c pass``), pytest import, imports grouped
   by package (``-X importtime`` of one extra run, inflated by the tracing itself), and
   the phases the controller writes to ``run.json`` ``timings_ms`` (machine probe,
   manifest, time spent keeping records, finish).

The machine's load is printed with the numbers: on a busy machine every absolute figure
grows, the ratios less so.

``--terminal`` adds a third arm: the same run on a pseudo-terminal, where it draws its
progress bar and the rich report (a pipe gets the plain one), to show what a person at a
terminal pays beyond a CI log.

Usage: python benchmarks/overhead.py [--pairs 3] [--requests 40] [--reply-ms 150] [--terminal] [--json]
       python benchmarks/overhead.py --tiny   (2 requests, 1 pair: checks the script works)
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MODEL = "scripted-model"
FIRST_DELAY_S = 0.03

PLAIN_LOOP = r"""
import json, sys
import requests
bodies = json.load(open(sys.argv[1]))
url = sys.argv[2] + "/v1/chat/completions"
s = requests.Session()
s.trust_env = False
for body in bodies:
    with s.post(url, json=body, stream=True, timeout=60) as r:
        r.raise_for_status()
        text = []
        for line in r.iter_lines():
            if line.startswith(b"data: ") and line != b"data: [DONE]":
                for ch in json.loads(line[6:]).get("choices") or []:
                    text.append((ch.get("delta") or {}).get("content") or "")
        "".join(text)
"""


def workload(n: int) -> list[dict]:
    """The first ``n`` tasks of reasonmath then instructfollow (40 = 26 + 14)."""
    from benchloop.tasks import load_suite

    out = []
    for suite in ("reasonmath", "instructfollow"):
        out += load_suite(suite)["tasks"]
    if n > len(out):
        raise SystemExit(f"only {len(out)} tasks in the workload's suites")
    return out[:n]


def timed_reply(text: str, reply_s: float):
    """The task's reference reply, streamed so it takes ``reply_s`` from request to last chunk."""
    from benchloop.testing.scripted import Reply, tokenize

    n = max(len(tokenize(text)), 1)
    first = min(FIRST_DELAY_S, reply_s)
    return Reply(content=text, first_delay_s=first, token_delay_s=(reply_s - first) / max(n - 1, 1), role_chunk_first=True)


def start_endpoint(tasks: list[dict], reply_s: float):
    """A scripted endpoint that answers each task's prompt with its reference reply."""
    from benchloop.tasks import task_messages
    from benchloop.testing.scripted import Reply, ScriptedEndpoint

    by_prompt = {task_messages(t)[-1]["content"]: timed_reply(t.get("reference") or "ok", reply_s) for t in tasks}
    fallback = timed_reply("ok", reply_s)

    def responder(req: dict) -> Reply:
        user = [m.get("content") for m in req["messages"] if isinstance(m, dict) and m.get("role") == "user"]
        return by_prompt.get(user[-1] if user else None, fallback)

    return ScriptedEndpoint(responder, models=(MODEL,)).start()


def child_env(home: str) -> dict:
    env = dict(os.environ, BENCHLOOP_HOME=home)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # measure what an installed package finds: bytecode
    for k in ("BENCHLOOP_MODEL", "BENCHLOOP_ENDPOINT", "BENCHLOOP_PROVIDER", "PYTEST_ADDOPTS"):
        env.pop(k, None)
    return env


def launch(cmd: list[str], env: dict, cwd: str | None = None) -> dict:
    """Run ``cmd`` to its end: wall seconds, exit code, peak RSS (MiB) of that child alone."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    end = time.monotonic()
    p.returncode = os.waitstatus_to_exitcode(status)
    p.stderr.close()
    return {"t0": t0, "end": end, "wall_s": end - t0, "rc": p.returncode, "rss_mib": usage.ru_maxrss / 1024, "stderr": stderr.decode(errors="replace")[-2000:]}


def launch_in_terminal(cmd: list[str], env: dict) -> dict:
    """``launch`` with stdout and stderr on a pseudo-terminal 100 columns wide, drained
    as a terminal would be: the run draws its progress bar and the rich report."""
    import pty
    import threading

    master, slave = pty.openpty()
    try:
        import fcntl
        import struct
        import termios

        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
    except (ImportError, OSError):
        pass

    def drain():
        while True:
            try:
                if not os.read(master, 65536):
                    break
            except OSError:
                break

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, env=dict(env, COLUMNS="100", TERM="xterm-256color"), stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
    os.close(slave)
    _, status, usage = os.wait4(p.pid, 0)
    end = time.monotonic()
    reader.join(timeout=5)
    os.close(master)
    rc = os.waitstatus_to_exitcode(status)
    return {"t0": t0, "end": end, "wall_s": end - t0, "rc": rc, "rss_mib": usage.ru_maxrss / 1024, "stderr": ""}


def benchloop_cmd(url: str, tasks: list[dict], extra: tuple = ()) -> list[str]:
    suites = ",".join(dict.fromkeys(t["suite"] for t in tasks))
    cmd = [sys.executable, *extra, "-m", "benchloop", "run", "--provider", "openai_compat", "--endpoint", url, "--model", MODEL, "--suites", suites]
    for t in tasks:
        cmd += ["--task", t["id"]]
    return cmd


def chat_requests(ep, since: int) -> list[dict]:
    return [r for r in ep.received[since:] if r["path"].split("?")[0].endswith("/chat/completions")]


def outside_view(run: dict, reqs: list[dict], reply_s: float) -> dict:
    """What the endpoint saw of one launch (pure: tested on made-up times): start-up
    (launch -> first request), finish (end of the last reply -> exit), and the per-task
    cost (the gap between consecutive requests beyond the reply's own time)."""
    n = len(reqs)
    out = {"wall_s": run["wall_s"], "rss_mib": run["rss_mib"], "requests": n}
    if n:
        first, last = reqs[0]["received_at"], reqs[-1]["received_at"]
        out["start_up_s"] = first - run["t0"]
        out["finish_s"] = run["end"] - (last + reply_s)
        out["fixed_s"] = out["start_up_s"] + out["finish_s"]
        out["per_task_s"] = (last - first - (n - 1) * reply_s) / (n - 1) if n > 1 else None
    return out


def added_share(bl_wall: float, plain_wall: float) -> float:
    """The share of BenchLoop's wall time a plain loop would not have spent, in percent."""
    return 100.0 * (bl_wall - plain_wall) / bl_wall if bl_wall > 0 else float("nan")


def import_groups(lines: list[str]) -> dict:
    """Cumulative import time (s) of each top-level import in ``-X importtime`` output,
    grouped by its root package (BenchLoop's own modules as ``benchloop``)."""
    out: dict[str, float] = {}
    for ln in lines:
        if not ln.startswith("import time:") or "|" not in ln:
            continue
        parts = ln[len("import time:"):].split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        name = parts[2].rstrip("\n")
        if len(name) - len(name.lstrip(" ")) != 1:  # nested (deeper indent): counted in its top-level parent
            continue
        root = name.strip().split(".")[0].lstrip("_")
        root = "benchloop" if root.startswith("benchloop") else ("pytest" if root in ("pytest", "pluggy", "iniconfig") else root)
        out[root] = out.get(root, 0.0) + int(parts[1]) / 1e6
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def median_of(values):
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def breakdown(url: str, tasks: list[dict], env: dict, ep) -> dict:
    """Where BenchLoop's time goes: interpreter, pytest import, imports by package, and
    the controller's own phases from the last run's ``timings_ms``."""
    py = median_of(launch([sys.executable, "-c", "pass"], env)["wall_s"] for _ in range(3))
    pt = median_of(launch([sys.executable, "-c", "import pytest"], env)["wall_s"] for _ in range(3))
    p = subprocess.run(benchloop_cmd(url, tasks, ("-X", "importtime")), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    floor = launch([sys.executable, "-c", "import pytest"], env)["rss_mib"]  # what any pytest run holds before it does anything
    res = {"python_pass_s": py, "pytest_import_s": pt - py, "rss_floor_mib": floor, "imports_s": import_groups(p.stderr.splitlines())}
    runs = sorted(Path(env["BENCHLOOP_HOME"], "runs").glob("*/run.json"), key=lambda q: q.stat().st_mtime)
    if runs:
        rj = json.loads(runs[-1].read_text())
        res["timings_ms"] = rj.get("timings_ms") or {}
        res["run_wall_s"] = rj.get("wall_s")
        res["task_record_bytes"] = round(sum(len(json.dumps(t)) for t in rj["tasks"]) / max(len(rj["tasks"]), 1))
    return res


def measure(n_requests: int = 40, pairs: int = 3, reply_s: float = 0.15, with_breakdown: bool = True, terminal: bool = False) -> dict:
    tasks = workload(n_requests)
    ep = start_endpoint(tasks, reply_s)
    try:
        with tempfile.TemporaryDirectory() as home:
            env = child_env(home)
            warm = launch(benchloop_cmd(ep.url, tasks), env)  # untimed: bytecode, file cache
            if warm["rc"] != 0:
                raise SystemExit(f"benchloop run failed (exit {warm['rc']}): {warm['stderr']}")
            bodies = [r["body"] for r in chat_requests(ep, 0)]
            if len(bodies) != n_requests:
                raise SystemExit(f"expected {n_requests} chat requests, the endpoint saw {len(bodies)}")
            body_file = Path(home, "bodies.json")
            body_file.write_text(json.dumps(bodies))
            plain_cmd = [sys.executable, "-c", PLAIN_LOOP, str(body_file), ep.url]
            launch(plain_cmd, env)  # untimed
            arms: dict[str, list[dict]] = {"plain": [], "benchloop": []}
            order = [("plain", plain_cmd, launch), ("benchloop", benchloop_cmd(ep.url, tasks), launch)]
            if terminal:
                arms["terminal"] = []
                order.append(("terminal", benchloop_cmd(ep.url, tasks), launch_in_terminal))
            for _ in range(pairs):
                for arm, cmd, how in order:
                    since = len(ep.received)
                    r = how(cmd, env)
                    if r["rc"] != 0:
                        raise SystemExit(f"{arm} run failed (exit {r['rc']}): {r['stderr']}")
                    arms[arm].append(outside_view(r, chat_requests(ep, since), reply_s))
            res = summarize(arms, reply_s)
            if with_breakdown:
                res["breakdown"] = breakdown(ep.url, tasks, env, ep)
    finally:
        ep.stop()
    res["cpus"] = os.cpu_count()
    res["load_avg"] = [round(x, 2) for x in os.getloadavg()]
    return res


def summarize(arms: dict, reply_s: float) -> dict:
    """Medians per arm and the added share (pure: tested on made-up runs)."""
    med = {arm: {k: median_of(r.get(k) for r in runs) for k in ("wall_s", "start_up_s", "finish_s", "fixed_s", "per_task_s", "rss_mib")} for arm, runs in arms.items()}
    pairs = [added_share(b["wall_s"], p["wall_s"]) for p, b in zip(arms["plain"], arms["benchloop"])]
    extra = {}
    if arms.get("terminal"):
        extra["terminal_share_pct"] = added_share(med["terminal"]["wall_s"], med["plain"]["wall_s"])
    return {
        **extra,
        "requests": arms["benchloop"][0]["requests"] if arms["benchloop"] else 0,
        "reply_s": reply_s,
        "pairs": len(pairs),
        "added_share_pct": added_share(med["benchloop"]["wall_s"], med["plain"]["wall_s"]),
        "pair_shares_pct": pairs,
        "median": med,
        "runs": arms,
    }


def fmt_s(v, digits=3):
    return "—" if v is None else f"{v:.{digits}f} s"


def report(res: dict) -> str:
    m = res["median"]
    bl, pl = m["benchloop"], m["plain"]
    lines = [
        f"workload: {res['requests']} streamed chat requests, {res['reply_s'] * 1000:.0f} ms each, {res['pairs']} interleaved pairs; {res['cpus']} CPUs, load {res['load_avg']}",
        f"wall (median): plain loop {fmt_s(pl['wall_s'])}, benchloop {fmt_s(bl['wall_s'])}",
        f"BenchLoop adds {res['added_share_pct']:.1f}% of its wall time over the plain loop (target <= 5%); per pair: {', '.join(f'{x:.1f}%' for x in res['pair_shares_pct'])}",
        f"fixed cost per launch: benchloop {fmt_s(bl['fixed_s'])} (start-up to first request {fmt_s(bl['start_up_s'])}, last reply to exit {fmt_s(bl['finish_s'])}); plain loop {fmt_s(pl['fixed_s'])}, so {fmt_s(None if bl['fixed_s'] is None or pl['fixed_s'] is None else bl['fixed_s'] - pl['fixed_s'])} more (target <= 0.25 s)",
        f"per task beyond the reply: benchloop {fmt_s(bl['per_task_s'], 4)}, plain loop {fmt_s(pl['per_task_s'], 4)}",
        f"peak RSS: benchloop {bl['rss_mib']:.1f} MiB, plain loop {pl['rss_mib']:.1f} MiB (target <= 40 MiB)",
    ]
    if "terminal" in m:
        t = m["terminal"]
        lines.append(f"in a terminal (pty, 100 columns: progress bar and rich report): adds {res['terminal_share_pct']:.1f}%, fixed cost {fmt_s(t['fixed_s'])}, peak RSS {t['rss_mib']:.1f} MiB")
    b = res.get("breakdown")
    if b:
        lines.append(f"breakdown: python -c pass {fmt_s(b['python_pass_s'])}; import pytest adds {fmt_s(b['pytest_import_s'])}; peak RSS of python -c 'import pytest' alone {b['rss_floor_mib']:.1f} MiB")
        lines.append("  imports (-X importtime, top-level, cumulative): " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in list(b["imports_s"].items())[:10]))
        t = b.get("timings_ms") or {}
        keys = ("started", "machine_probe", "collected", "manifest", "records", "fsync", "last_task_done", "assembled")
        lines.append("  run.json timings_ms: " + ", ".join(f"{k} {t[k]:.1f}" for k in keys if k in t) + f"; session wall {fmt_s(b.get('run_wall_s'))}; {b.get('task_record_bytes')} bytes a record")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--requests", type=int, default=40)
    ap.add_argument("--reply-ms", type=float, default=150.0)
    ap.add_argument("--no-breakdown", action="store_true")
    ap.add_argument("--tiny", action="store_true", help="2 requests, 1 pair (with the terminal arm), 20 ms replies, no breakdown: checks the script works")
    ap.add_argument("--terminal", action="store_true", help="also time benchloop on a pseudo-terminal (progress bar, rich report) in each pair")
    ap.add_argument("--json", action="store_true", help="print the full result as JSON too")
    a = ap.parse_args(argv)
    if a.tiny:
        a.pairs, a.requests, a.reply_ms, a.no_breakdown, a.terminal = 1, 2, 20.0, True, True
    res = measure(a.requests, a.pairs, a.reply_ms / 1000, with_breakdown=not a.no_breakdown, terminal=a.terminal)
    if a.json:
        print(json.dumps(res, indent=1, default=str))
    print(report(res))
    return res


if __name__ == "__main__":
    main()
