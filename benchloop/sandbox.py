"""Run model-written Python (hostile input) in a throw-away child process and get back
the return values of calls to one of its functions, as plain data.

Public entry points: :func:`run_calls` and :func:`extract_code` (from
:mod:`benchloop.sandbox_extract`). The code is split by role: :mod:`benchloop.sandbox_child`
is what runs inside the child, :mod:`benchloop.sandbox_isolation` sets the child apart,
and this module starts the child, feeds it, reads its results and cleans up.

Why a subprocess and not ``exec`` in-process: the candidate may loop forever, fork, allocate
10 GB, write files, read secrets from the environment or talk to the network. Each of those
is stopped by the kernel rather than by Python code the candidate could patch.

How one run is isolated (what is *attempted*; ``result["sandbox"]`` reports what took effect,
measured by the parent from ``/proc/<pid>`` of the started child, not claimed by it):

* interpreter ``sys.executable -s -S -P -B -u -c <sandbox_child source>``: no user/site
  packages, no script directory on ``sys.path``; the standard library stays importable.
  (``-I`` is not used: it ignores ``PYTHONHASHSEED``, and the environment is ours anyway.
  The source is passed with ``-c`` rather than by path, so the child needs no access to
  the checkout, which it cannot see.)
* environment scrubbed to ``PATH=/usr/bin:/bin``, ``HOME=<tmpdir>``, ``LANG=C.UTF-8``,
  ``PYTHONHASHSEED=0``, ``PYTHONDONTWRITEBYTECODE=1``; nothing from ``os.environ`` leaks.
* stdin is ``/dev/null``; a fresh temp dir is the cwd and is deleted afterwards; the child
  starts a new session (its own process group).
* rlimits: CPU, AS (memory), FSIZE, NPROC, CORE=0, NOFILE=64; ``PR_SET_NO_NEW_PRIVS``.
* namespaces (``unshare`` in the child before ``exec``): a new network namespace (only a
  down loopback: no network at all), a new PID namespace (when its first process exits the
  kernel kills every process left in it, including ones that called ``setsid()``), and a
  new mount namespace in which every mount is read-only except a small private tmpfs at
  the temp dir, and the directories in ``hide`` (the task files with the expected answers,
  the checkout's git history) are covered by an empty tmpfs. As root these need no user
  namespace; as non-root a user namespace is tried first, and the run goes on without
  isolation when the kernel refuses it.
* privileges: as root, the child switches to a *fresh unprivileged uid/gid per run*:
  RLIMIT_NPROC is counted per uid, so a fork bomb in one run cannot exhaust the process
  budget of a concurrent run (pytest-xdist), and every process the run left behind can be
  found and killed by uid. A directory that uid cannot traverse but the interpreter lives
  under (``/root/.pyenv``) is hidden behind an empty tmpfs and only the Python
  installation is bind-mounted back, read-only. Without a mount namespace that is
  impossible and the run fails to start rather than running hostile code as root.
* cleanup: on timeout ``killpg(SIGKILL)`` the group, then kill whatever is left in the
  child's PID namespace or owned by the run's uid; the same sweep runs after a normal exit.

Why the verdict is out of the candidate's reach: the child is sent the *arguments* of each
call and nothing else; expected values stay in the parent, which compares with its own
equality (see :mod:`benchloop.checkers.coding`). Results travel over a pipe of their own,
one line per call tagged with an HMAC under a per-run key, never over stdout; the parent
takes the first tagged line per call. A candidate that defeats all of that from inside
its interpreter (it shares it with the child runner) can still only choose the values it
reports for its own arguments, which is what a correct function does anyway.

Limits, honestly:

* Files readable by every user outside the hidden directories (another copy of the task
  files, say) are readable by the candidate; ``/proc`` still shows the host's processes
  and their command lines.
* Without root and without user namespaces there is no network, PID or filesystem
  isolation: the candidate runs as the calling user, can write and read where that user
  can (the task files included). ``result["sandbox"]`` says so. As non-root,
  RLIMIT_NPROC counts all the user's processes; it is set to those plus ``max_procs``.
* ``preexec_fn`` is used (namespaces and mounts must be set up between ``fork`` and
  ``exec``); it only makes pre-resolved system calls, but like any ``preexec_fn`` it is not
  guaranteed safe when other threads of the caller hold C-level locks at fork time.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import hmac
import json
import marshal
import os
import secrets
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

from benchloop import sandbox_child
from benchloop import sandbox_isolation as iso
from benchloop.sandbox_extract import extract_code

__all__ = ["SandboxLimits", "extract_code", "run_calls"]

_DRAIN_GRACE_S = 0.5  # how long to keep draining pipes after the runner exited
MAX_CALLS = 500


@dataclass
class SandboxLimits:
    """Resource limits for one :func:`run_calls` call."""

    timeout_s: float = 10.0  # wall clock for the whole run, startup included
    cpu_s: int = 10  # RLIMIT_CPU per process (SIGKILL at the limit)
    memory_mb: int = 512  # RLIMIT_AS: a 10 GB allocation raises MemoryError
    file_mb: int = 8  # RLIMIT_FSIZE: a bigger write raises OSError(EFBIG); tmpfs is 4x this
    max_procs: int = 32  # RLIMIT_NPROC for the run's own uid (as non-root: on top of the user's)
    output_kb: int = 64  # captured stdout/stderr are each truncated to this


@functools.lru_cache(maxsize=1)
def _interpreter_argv() -> tuple[str, ...]:
    """This interpreter, by real path: a venv's ``bin/python`` may sit somewhere the
    sandbox uid cannot reach, and with ``-S`` the venv adds nothing anyway."""
    exe = os.path.realpath(sys.executable) if sys.executable else ""
    flags = ["-s", "-S", "-B", "-u"]
    if sys.version_info >= (3, 11):
        flags.insert(2, "-P")  # no cwd / script dir on sys.path
    with open(sandbox_child.__file__, encoding="utf-8") as f:  # once, before any thread asks
        return (exe, *flags, "-c", f.read())


def _encode_calls(calls) -> list[dict]:
    """Calls come from our own task data: anything malformed is a programming error."""
    if not isinstance(calls, (list, tuple)) or len(calls) > MAX_CALLS:
        raise TypeError(f"calls must be a list of at most {MAX_CALLS} {{'args': [...], 'kwargs': {{...}}}}")
    encode = sandbox_child.make_encoder()
    out = []
    for c in calls:
        if not isinstance(c, dict) or not isinstance(c.get("args", []), (list, tuple)) \
                or not isinstance(c.get("kwargs", {}), dict):
            raise TypeError(f"bad call {c!r}: need {{'args': list, 'kwargs': dict}}")
        try:
            args, kwargs = list(c.get("args", [])), dict(c.get("kwargs", {}))
            encode([args, kwargs])
        except sandbox_child.NotPlain as e:
            raise TypeError(f"call arguments must be plain data: {e}") from None
        # marshal keeps tuples and is decoded by the child without importing anything
        out.append({"args": marshal.dumps((args, kwargs)), "keep": bool(c.get("keep_args"))})
    return out


def _empty_result(n_calls: int, limits: SandboxLimits, error: str) -> dict:
    return {
        "loaded": False,
        "calls": [_missing(error) for _ in range(n_calls)],
        "timed_out": False,
        "killed": False,
        "returncode": None,
        "stdout": "",
        "stderr": "",
        "sandbox": {"network_isolated": False, "pid_isolated": False, "fs_isolated": False,
                    "uid": os.getuid(), "limits": dataclasses.asdict(limits), "notes": []},
        "error": error,
    }


def _missing(error: str) -> dict:
    return {"status": "missing", "value": None, "after": None, "types": [], "error": error}


def _truncate(data: bytes, dropped: int, limit: int) -> str:
    """Decode captured output (invalid UTF-8 replaced) and say how much was thrown away."""
    text = data[:limit].decode("utf-8", "replace")
    if dropped:
        text += f"\n[benchloop: output truncated, {dropped} more bytes]"
    return text


def run_calls(code: str, entry_point: str, calls: list[dict], *, setup: str = "",
              limits: SandboxLimits | None = None, hide: tuple[str, ...] = ()) -> dict:
    """Load ``code`` as module ``candidate`` in an isolated child and call ``entry_point``
    once per item of ``calls`` (``{"args": [...], "kwargs": {...}, "keep_args": bool}``,
    plain data only), each with fresh copies of its arguments.

    ``setup`` is trusted helper source run before the candidate in the same namespace.
    The candidate's ``if __name__ == "__main__":`` block does not run. Returns plain data:
    ``calls[i]`` is ``{"status", "value", "after", "types", "error"}`` where status is
    ``returned`` (``value`` decoded: tuples stay tuples), ``raised`` (``types``: the builtin
    exception classes it is an instance of), ``unplain`` (a value that is not plain data)
    or ``missing`` (no result: load failure, crash, exit, timeout); ``after`` holds
    ``[args, kwargs]`` after the call when ``keep_args`` asked for it.

    Hostile code never makes this raise; only malformed ``calls`` arguments do.
    """
    if not isinstance(code, str) or not isinstance(setup, str) or not isinstance(entry_point, str):
        raise TypeError("code, entry_point and setup must be str")
    job_calls = _encode_calls(calls)
    limits = limits or SandboxLimits()
    is_root = os.geteuid() == 0
    run_uid = iso.fresh_uid() if is_root else None
    result = _empty_result(len(job_calls), limits, "sandbox did not start")
    result["sandbox"]["uid"] = run_uid if is_root else os.getuid()
    notes: list[str] = result["sandbox"]["notes"]

    argv = _interpreter_argv()
    if not argv[0]:
        result["error"] = "sandbox did not start: sys.executable is unknown"
        return result
    key = secrets.token_bytes(32)
    job = {"setup": setup, "code": code, "entry_point": entry_point, "calls": job_calls}
    payload = key.hex().encode() + b"\n" + marshal.dumps(job)
    tmpdir = tempfile.mkdtemp(prefix="benchloop-sbx-")
    fds: list[int] = []
    proc = None
    try:
        if is_root:
            os.chown(tmpdir, run_uid, run_uid)
            nproc = limits.max_procs
        else:
            nproc = iso.count_user_procs(os.getuid()) + limits.max_procs
        tok_r, tok_w = os.pipe()
        res_r, res_w = os.pipe()
        diag_r, diag_w = os.pipe()
        fds += [tok_r, tok_w, res_r, res_w, diag_r, diag_w]
        preexec = iso.make_preexec(tmpdir=os.fsencode(tmpdir), uid=run_uid, limits=limits, nproc=nproc,
                                   mounts=iso.read_mounts(), binds=iso.hidden_binds(tuple(hide)),
                                   diag_fd=diag_w)
        env = {"PATH": "/usr/bin:/bin", "HOME": tmpdir, "LANG": "C.UTF-8",
               "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"}
        start_error = None
        try:
            proc = subprocess.Popen(
                [*argv, str(tok_r), str(res_w)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, cwd=tmpdir, env=env, pass_fds=(tok_r, res_w),
                start_new_session=True, preexec_fn=preexec, close_fds=True)
        except (OSError, subprocess.SubprocessError, ValueError) as e:
            start_error = f"{type(e).__name__}: {e}"
        os.close(diag_w)
        fds.remove(diag_w)
        notes.extend(iso.read_all_nonblocking(diag_r).decode("utf-8", "replace").splitlines())
        if proc is None:
            result["error"] = f"sandbox did not start: {start_error}" + (f" ({notes[-1]})" if notes else "")
            result["calls"] = [_missing(result["error"]) for _ in job_calls]
            return result
        for fd in (tok_r, res_w):
            os.close(fd)
            fds.remove(fd)
        # The runner is blocked reading the key, so its namespaces and uid can be checked now.
        pid = proc.pid
        sbx = result["sandbox"]
        sbx["network_isolated"] = iso.ns_id(f"/proc/{pid}/ns/net") not in (None, iso.ns_id("/proc/self/ns/net"))
        sbx["pid_isolated"], child_pidns = iso.probe_pidns(pid)
        sbx["fs_isolated"] = iso.fs_isolated(pid, os.fsencode(tmpdir))
        seen_uid = iso.proc_uid(pid)
        if seen_uid is not None:
            sbx["uid"] = seen_uid
        bufs, dropped, rc, timed_out = _communicate(proc, limits, payload, tok_w, res_r, fds, len(job_calls),
                                                    run_uid, sbx["pid_isolated"], child_pidns)
        _settle(result, limits, bufs, dropped, rc, timed_out, key, len(job_calls), proc, res_r)
        return result
    finally:
        if proc is not None and proc.returncode is None:
            iso.kill_leftovers(proc.pid, run_uid, None)
            proc.wait()
        for fd in fds:
            try:
                os.close(fd)
            except OSError:
                pass
        if proc is not None:
            for f in (proc.stdout, proc.stderr):
                if f is not None:
                    f.close()
        iso.rmtree(tmpdir)


_interpreter_argv()  # read the child's source at import: lru_cache does not lock


def _verify_lines(data: bytes, key: bytes, n_calls: int):
    """Parse the result pipe: ``(load, {call index: message})``, trusting only tagged lines.

    A line is ``<json>\t<hex HMAC-SHA256 of the json>``. Untagged or mis-tagged lines,
    unknown call indexes, malformed values and second results for a call are ignored (first
    one wins). ``load`` is ``(ok, error)`` (``ok`` exactly ``true``), or None if never reported.
    """
    load = None
    calls: dict[int, dict] = {}
    for raw in data.split(b"\n")[:-1]:  # the last piece is incomplete or empty
        body, sep, tag = raw.rpartition(b"\t")
        if not sep:
            continue
        good = hmac.new(key, body, hashlib.sha256).hexdigest().encode()
        if not hmac.compare_digest(good, tag):
            continue
        try:
            obj = json.loads(body)
        except (ValueError, RecursionError):
            continue
        if not isinstance(obj, dict):
            continue
        err = obj.get("error") if isinstance(obj.get("error"), str) else None
        if obj.get("t") == "load" and load is None:
            load = (obj.get("ok") is True, err)
        elif obj.get("t") == "call" and type(obj.get("i")) is int and 0 <= obj["i"] < n_calls and obj["i"] not in calls:
            msg = _call_message(obj, err)
            if msg is not None:
                calls[obj["i"]] = msg
    return load, calls


def _call_message(obj: dict, err: str | None) -> dict | None:
    status = obj.get("status")
    try:
        if status == "returned":
            after = sandbox_child.decode(obj["after"]) if "after" in obj else None
            return {"status": status, "value": sandbox_child.decode(obj.get("value")), "after": after,
                    "types": [], "error": None}
        if status == "raised":
            types = obj.get("types")
            types = [t for t in types if isinstance(t, str)] if isinstance(types, list) else []
            return {"status": status, "value": None, "after": None, "types": types, "error": err or "raised"}
        if status == "unplain":
            return {"status": status, "value": None, "after": None, "types": [], "error": err or "not plain data"}
    except (ValueError, RecursionError):
        return None
    return None


def _communicate(proc, limits, payload, tok_w, res_r, fds, n_calls, run_uid, pid_isolated, child_pidns):
    """Feed the job, drain stdout/stderr/results with caps, enforce the wall clock, clean up.
    Returns (buffers by fd, dropped bytes by fd, return code, timed out)."""
    cap = limits.output_kb * 1024
    res_cap = 64 * 1024 + (sandbox_child.MAX_VALUE_CHARS * 2 + 4096) * max(n_calls, 1)
    bufs = {proc.stdout.fileno(): bytearray(), proc.stderr.fileno(): bytearray(), res_r: bytearray()}
    dropped = dict.fromkeys(bufs, 0)
    caps = {proc.stdout.fileno(): cap, proc.stderr.fileno(): cap, res_r: res_cap}
    sel = selectors.DefaultSelector()
    for fd in bufs:
        os.set_blocking(fd, False)
        sel.register(fd, selectors.EVENT_READ)
    os.set_blocking(tok_w, False)
    sel.register(tok_w, selectors.EVENT_WRITE)
    pending = memoryview(payload)
    pidfd = None
    try:
        pidfd = os.pidfd_open(proc.pid)
        fds.append(pidfd)
        sel.register(pidfd, selectors.EVENT_READ)
    except (AttributeError, OSError):
        pass
    deadline = time.monotonic() + limits.timeout_s
    exited_at = None
    timed_out = False
    while True:
        now = time.monotonic()
        if pid_isolated and child_pidns is None and exited_at is None:
            child_pidns = iso.probe_pidns(proc.pid)[1]
        if exited_at is None and iso.has_exited(proc.pid):
            exited_at = now
            # Anything still holding our pipes is a leftover the candidate started.
            iso.kill_leftovers(proc.pid, run_uid, child_pidns)
        if not timed_out and exited_at is None and now >= deadline:
            timed_out = True
            iso.kill_leftovers(proc.pid, run_uid, child_pidns)
            proc.wait()
            exited_at = time.monotonic()
            iso.kill_leftovers(proc.pid, run_uid, child_pidns, group=False)
        readers = [fd for fd in bufs if fd in sel.get_map()]
        if exited_at is not None and (not readers or time.monotonic() - exited_at > _DRAIN_GRACE_S):
            break
        wait = (deadline if exited_at is None else exited_at + _DRAIN_GRACE_S) - time.monotonic()
        if pidfd is None and exited_at is None:
            wait = min(wait, 0.01)
        for sk, _ in sel.select(max(wait, 0)):
            fd = sk.fd
            if fd == pidfd:
                sel.unregister(fd)
                continue
            if fd == tok_w:
                try:
                    n = os.write(fd, pending[:65536])
                    pending = pending[n:]
                except BlockingIOError:
                    continue
                except OSError:  # the runner died before reading it all
                    pending = pending[:0]
                if not pending:
                    sel.unregister(fd)
                    os.close(fd)
                    fds.remove(fd)
                continue
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            if not chunk:
                sel.unregister(fd)
                continue
            room = caps[fd] - len(bufs[fd])
            bufs[fd] += chunk[:max(room, 0)]
            dropped[fd] += max(len(chunk) - max(room, 0), 0)
    sel.close()
    rc = proc.wait()  # leftovers were swept while the runner was still an unreaped zombie
    return bufs, dropped, rc, timed_out


def _settle(result, limits, bufs, dropped, rc, timed_out, key, n_calls, proc, res_r) -> None:
    """Turn what came back into the result: verified calls, the run's error, the output."""
    load, calls = _verify_lines(bytes(bufs[res_r]), key, n_calls)
    if timed_out:
        missing = f"no result: sandbox timed out after {limits.timeout_s:g}s"
        error = f"timed out after {limits.timeout_s:g}s"
    elif load is not None and not load[0]:
        error = load[1] or "candidate code failed to load"
        missing = f"not run: {error}"
    elif rc < 0:
        try:
            signame = signal.Signals(-rc).name
        except ValueError:
            signame = str(-rc)
        error = f"sandbox killed by {signame}"
        if -rc == signal.SIGKILL:
            error += f" (CPU limit of {limits.cpu_s}s, or out of memory)"
        missing = f"no result: {error}"
    elif load is None:
        error = f"sandbox exited with code {rc} before reporting results"
        missing = f"no result: {error}"
    else:
        error = None
        missing = f"no result reported (sandbox exited with code {rc})"
    if timed_out and load is not None and not load[0]:
        error = load[1]
    cap = limits.output_kb * 1024
    out_fd, err_fd = proc.stdout.fileno(), proc.stderr.fileno()
    result.update({
        "loaded": bool(load and load[0]),
        "calls": [calls.get(i) or _missing(missing) for i in range(n_calls)],
        "timed_out": timed_out,
        "killed": timed_out or rc < 0,
        "returncode": rc,
        "stdout": _truncate(bytes(bufs[out_fd]), dropped[out_fd], cap),
        "stderr": _truncate(bytes(bufs[err_fd]), dropped[err_fd], cap),
        "error": error,
    })
