"""Run model-written Python (hostile input) against hidden tests, and pull code out of replies.

Two public entry points:

* :func:`extract_code` turns a chat reply into a Python source string (or ``""``).
* :func:`run_tests` executes that source plus a list of test snippets in a throw-away
  subprocess and returns a plain, JSON-able result dict.

Why a subprocess and not ``exec`` in-process: the candidate may loop forever, fork, allocate
10 GB, write files, read secrets from the environment or talk to the network. Each of those
is stopped by the kernel rather than by Python code the candidate could patch.

How one run is isolated (what is *attempted*; ``result["sandbox"]`` reports what took effect,
measured by the parent from ``/proc/<pid>`` of the started child, not claimed by it):

* interpreter ``sys.executable -s -S -P -B -u -c <runner>``: no user/site packages, no
  script directory on ``sys.path``; the whole standard library stays importable.
  (``-I`` is not used: it ignores ``PYTHONHASHSEED``, and the environment is ours anyway.)
* environment scrubbed to ``PATH=/usr/bin:/bin``, ``HOME=<tmpdir>``, ``LANG=C.UTF-8``,
  ``PYTHONHASHSEED=0``, ``PYTHONDONTWRITEBYTECODE=1``; nothing from ``os.environ`` leaks.
* stdin is ``/dev/null``; a fresh temp dir is the cwd and is deleted afterwards; the child
  starts a new session (its own process group).
* rlimits: CPU, AS (memory), FSIZE, NPROC, CORE=0, NOFILE=64; ``PR_SET_NO_NEW_PRIVS``.
* namespaces (``unshare`` in the child before ``exec``): a new network namespace (only a
  down loopback: no network at all, not even 127.0.0.1 of the host), a new PID namespace
  (when its first process exits the kernel kills every process left in it, including ones
  that called ``setsid()`` to leave the process group), and a new mount namespace in which
  every mount is remounted read-only except a small private tmpfs at the temp dir (so the
  candidate cannot write to ``/tmp``, ``/dev/shm`` or the project; disk use is bounded).
  As root these need no user namespace; as non-root a user namespace is tried first, and
  the run goes on without isolation when the kernel refuses it.
* privileges: as root, the child switches to a *fresh unprivileged uid/gid per run* (not
  the shared 65534 "nobody"): RLIMIT_NPROC is counted per uid, so a fork bomb in one run
  cannot exhaust the process budget of a concurrent run (pytest-xdist), and every process
  the run left behind can be found and killed by uid. If the interpreter lives under a
  directory that uid cannot traverse (``/root/.pyenv``), that directory is hidden behind an
  empty tmpfs in the child's mount namespace and only the Python installation is
  bind-mounted back, read-only. Without a mount namespace that is impossible and the run
  fails to start rather than running hostile code as root.
* cleanup: on timeout ``killpg(SIGKILL)`` the group, then kill whatever is left in the
  child's PID namespace or owned by the run's uid; the same sweep runs after a normal exit.

Result integrity: results never travel over stdout. The parent sends a random per-run key
through a pipe; the runner turns it into an HMAC object, drops the raw key, and writes one
JSON line per test, tagged with an HMAC over the line, to a second pipe. The parent accepts
only lines with a valid tag, the first result per known test name, and counts any test
without one as failed. Printing or writing forged result lines therefore does nothing.

Limits, honestly:

* The candidate's code and the test snippets run in the same interpreter. A candidate that
  deliberately introspects the runner (``gc.get_objects()``, frame locals, ``ctypes``) can
  find the HMAC object and sign a forged line, patch ``builtins`` or ``AssertionError``, or
  read the hidden test source from memory. The HMAC defeats naive forgery (printing result
  lines, writing JSON to inherited fds), not a targeted attack on the harness. A verdict
  that cannot be forged needs the tests to run outside the candidate's process (calling it
  over IPC), which test *snippets* do not allow.
* Files readable by every user (world-readable project files, possibly including task
  YAML with hidden tests) are readable by the candidate; ``/proc`` still shows the host's
  processes and their command lines (no fresh procfs is mounted).
* Without root and without user namespaces there is no network, PID or filesystem
  isolation: the candidate runs as the calling user, can write where that user can, and
  can read ``/proc/<pid>/environ`` of that user's processes. ``result["sandbox"]`` says so.
  As non-root, RLIMIT_NPROC counts all the user's processes; it is set to the number the
  user already runs plus ``max_procs``.
* ``preexec_fn`` is used (namespaces and mounts must be set up between ``fork`` and
  ``exec``); it only makes pre-resolved system calls, but like any ``preexec_fn`` it is not
  guaranteed safe when other threads of the caller hold C-level locks at fork time.
"""

from __future__ import annotations

import ast
import ctypes
import dataclasses
import functools
import hashlib
import hmac
import json
import os
import re
import resource
import secrets
import selectors
import shutil
import signal
import stat
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import time
import warnings
from dataclasses import dataclass

__all__ = ["SandboxLimits", "extract_code", "run_tests"]


# ---------------------------------------------------------------------------------------
# extract_code
# ---------------------------------------------------------------------------------------

_PY_TAGS = frozenset({"python", "py", "python3", "py3", "ipython", "python2", "sage"})
_THINK_PAIR_RE = re.compile(r"<(think|thinking|reasoning)>.*?</\1\s*>", re.S | re.I)
_THINK_CLOSE_RE = re.compile(r"</(?:think|thinking|reasoning)\s*>", re.I)
_THINK_OPEN_RE = re.compile(r"<(?:think|thinking|reasoning)>", re.I)
_FENCE_OPEN_RE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([^\s`]*)")
_CODE_START_RE = re.compile(r"^[ \t]*(?:async[ \t]+def[ \t]|def[ \t]|class[ \t]|import[ \t]|from[ \t]|@)")
_MAX_REGION_PARSES = 400  # bounds the no-fence search on very long replies


def _parse(src: str) -> ast.Module | None:
    """ast.parse that never raises (SyntaxError, null bytes, deep nesting, warnings-as-errors)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(src)
    except Exception:  # SyntaxError, ValueError, RecursionError, MemoryError, OverflowError
        return None


def _syntax_error_line(src: str) -> int | None:
    """1-based line of the first syntax error, 0 when it has none, None when unknowable."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(src)
        return 0
    except SyntaxError as e:
        return e.lineno if isinstance(e.lineno, int) else None
    except Exception:
        return None


def _looks_like_code(tree: ast.Module | None) -> bool:
    """True unless the module is empty or only bare expressions without calls.

    Prose such as ``hello`` or ``42`` parses as Python; a reply made only of those is not
    usable code. ``print(f(3))`` counts (it has a call).
    """
    if tree is None or not tree.body:
        return False
    for node in tree.body:
        if not isinstance(node, ast.Expr):
            return True
        if any(isinstance(n, (ast.Call, ast.Await, ast.Lambda)) for n in ast.walk(node)):
            return True
    return False


def _definitions_only(tree: ast.Module | None) -> bool:
    """Imports, defs, classes and call-free assignments only: a helper block, safe to keep
    next to the chosen one (unlike a usage example that prints, asserts or reads input)."""
    if tree is None or not tree.body:
        return False
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and not any(isinstance(n, ast.Call) for n in ast.walk(node)):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            continue
        return False
    return True


def _strip_reasoning(text: str) -> str:
    """Drop reasoning: it must never be scored as the answer (see STYLE.md).

    ``<think>…</think>`` pairs are removed; a stray closing tag (chat templates that put the
    opening tag in the prompt) means everything before it was reasoning; an unterminated
    opening tag (reasoning cut off by the token limit) means everything after it is.
    """
    text = _THINK_PAIR_RE.sub("", text)
    last_close = None
    for last_close in _THINK_CLOSE_RE.finditer(text):
        pass
    if last_close is not None:
        text = text[last_close.end():]
    m = _THINK_OPEN_RE.search(text)
    if m:
        text = text[: m.start()]
    return text


def _fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(language, body) for every ``` / ~~~ fence, in order; an unterminated last fence
    runs to the end of the text. A closing ``` glued to the end of a code line (a habit of
    small models) also closes the block."""
    blocks: list[tuple[str, str]] = []
    lines = text.split("\n")
    i, n = 0, len(lines)
    while i < n:
        m = _FENCE_OPEN_RE.match(lines[i])
        if not m:
            i += 1
            continue
        fence = m.group(1)
        lang = m.group(2).strip("{}.").split(":")[0].lower()
        body: list[str] = []
        i += 1
        while i < n:
            line = lines[i]
            stripped = line.strip()
            if stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
                i += 1
                break
            if fence[0] == "`" and line.rstrip().endswith("```"):
                body.append(line.rstrip()[:-3])
                i += 1
                break
            body.append(line)
            i += 1
        blocks.append((lang, textwrap.dedent("\n".join(body)).strip("\n")))
    return blocks


def _defines(src: str, name: str) -> bool:
    return re.search(rf"^[ \t]*(?:async[ \t]+)?def[ \t]+{re.escape(name)}[ \t]*\(", src, re.M) is not None


def _best_region(text: str, entry_point: str | None) -> str:
    """Longest parsable run of lines starting at a def/class/import/from/@ line.

    For each start line the end is found by cutting just before the reported syntax error
    and re-parsing; an indented start (a markdown indented code block) ends at the first
    less-indented line. Regions defining ``entry_point`` win over longer ones that don't.
    """
    lines = text.split("\n")
    n = len(lines)
    budget = _MAX_REGION_PARSES
    best: tuple[bool, int, str] | None = None
    covered_until = -1
    for i, line in enumerate(lines):
        if budget <= 0:
            break
        if i < covered_until or not _CODE_START_RE.match(line):
            continue
        indent = line[: len(line) - len(line.lstrip())]
        end = n
        if indent:
            for k in range(i + 1, n):
                if lines[k].strip() and not lines[k].startswith(indent):
                    end = k
                    break
        j = end
        found = None
        while j > i and budget > 0:
            budget -= 1
            src = textwrap.dedent("\n".join(lines[i:j])).strip("\n")
            err = _syntax_error_line(src)
            if err == 0:
                found = src
                break
            new_j = i + err - 1 if err else j - 1
            j = new_j if i < new_j < j else j - 1
        if found is None or not _looks_like_code(_parse(found)):
            continue
        covered_until = j
        key = (bool(entry_point) and _defines(found, entry_point), len(found.strip()), found)
        if best is None or key[:2] > best[:2]:
            best = key
    return best[2] if best else ""


def extract_code(text: str, entry_point: str | None = None) -> str:
    """Pull Python code out of a chat reply; ``""`` when nothing usable is there. Never raises.

    Order of preference:

    1. ``<think>`` reasoning is removed first.
    2. Fenced blocks tagged python/py/python3 (or bare fences whose body parses as code):
       the *last* block defining ``def entry_point(`` (models often show a first attempt and
       then the corrected one), keeping other blocks that only hold imports/defs/classes
       (helpers split into their own block) but not usage examples; without such a block,
       all python-looking blocks joined in order.
    3. No usable fence: the whole text if it parses as code, else the longest parsable
       region starting at a ``def``/``class``/``import``/``from``/decorator line.
    """
    try:
        return _extract_code(text, entry_point)
    except Exception:  # a heuristic must never take a benchmark run down
        return ""


def _extract_code(text: str, entry_point: str | None) -> str:
    if not isinstance(text, str) or not text.strip():
        return ""
    text = _strip_reasoning(text.replace("\r\n", "\n").replace("\r", "\n"))
    if not text.strip():
        return ""
    py_blocks = []
    for lang, body in _fenced_blocks(text):
        if not body.strip():
            continue
        if lang in _PY_TAGS or (lang == "" and _looks_like_code(_parse(body))):
            py_blocks.append(body)
    if py_blocks:
        if entry_point:
            defining = [b for b in py_blocks if _defines(b, entry_point)]
            if defining:
                chosen = defining[-1]
                keep = [b for b in py_blocks if b is chosen or (
                    not _defines(b, entry_point) and _definitions_only(_parse(b)))]
                return "\n\n".join(keep) + "\n"
        return "\n\n".join(py_blocks) + "\n"
    whole = textwrap.dedent(text).strip("\n")
    if _looks_like_code(_parse(whole)):
        return whole + "\n"
    region = _best_region(text, entry_point)
    return region + "\n" if region else ""


# ---------------------------------------------------------------------------------------
# run_tests
# ---------------------------------------------------------------------------------------


@dataclass
class SandboxLimits:
    """Resource limits for one :func:`run_tests` call."""

    timeout_s: float = 10.0  # wall clock for the whole run, startup included
    cpu_s: int = 10  # RLIMIT_CPU per process (SIGKILL at the limit)
    memory_mb: int = 512  # RLIMIT_AS: a 10 GB allocation raises MemoryError
    file_mb: int = 8  # RLIMIT_FSIZE: a bigger write raises OSError(EFBIG); tmpfs is 4x this
    max_procs: int = 32  # RLIMIT_NPROC for the run's own uid (as non-root: on top of the user's)
    output_kb: int = 64  # captured stdout/stderr are each truncated to this


# Linux constants (not exposed by the os module on 3.10/3.11).
_CLONE_NEWNS = 0x00020000
_CLONE_NEWUSER = 0x10000000
_CLONE_NEWPID = 0x20000000
_CLONE_NEWNET = 0x40000000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 1, 2, 4, 8
_MS_REMOUNT, _MS_NOATIME, _MS_NODIRATIME, _MS_BIND = 32, 1024, 2048, 4096
_MS_REC, _MS_PRIVATE, _MS_RELATIME, _MS_STRICTATIME = 16384, 1 << 18, 1 << 21, 1 << 24
_PR_SET_NO_NEW_PRIVS = 38
_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
_O_PATH = getattr(os, "O_PATH", 0o10000000)
_KEEP_FLAGS = {
    "nosuid": _MS_NOSUID, "nodev": _MS_NODEV, "noexec": _MS_NOEXEC, "noatime": _MS_NOATIME,
    "nodiratime": _MS_NODIRATIME, "relatime": _MS_RELATIME, "strictatime": _MS_STRICTATIME,
}
_UID_BASE, _UID_SPAN = 1_900_000_000, 100_000_000  # fresh per-run uids, far from real users
_DRAIN_GRACE_S = 0.5  # how long to keep draining pipes after the runner exited


def _load_libc():
    """libc with the few calls the child needs, resolved in the parent (never after fork)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.unshare.argtypes = [ctypes.c_int]
        libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
        libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
        return libc
    except (OSError, AttributeError):
        return None


_LIBC = _load_libc()


def _unshare(flags: int) -> bool:
    return _LIBC is not None and _LIBC.unshare(flags) == 0


def _mount(src: bytes | None, target: bytes, fstype: bytes | None, flags: int, data: bytes | None) -> bool:
    return _LIBC is not None and _LIBC.mount(src, target, fstype, flags, data) == 0


def _prctl(option: int, arg: int, arg3: int = 0) -> bool:
    return _LIBC is not None and _LIBC.prctl(option, arg, arg3, 0, 0) == 0


# The runner executed by the child interpreter. It never trusts anything but its own pipe.
_RUNNER = r'''
import os, sys
def _main():
    tok_fd, res_fd = int(sys.argv[1]), int(sys.argv[2])
    chunks = []
    while True:
        b = os.read(tok_fd, 1 << 16)
        if not b:
            break
        chunks.append(b)
    os.close(tok_fd)
    data = b"".join(chunks)
    del chunks
    # Fork once: in a new PID namespace the child is its init, so when it exits the kernel
    # kills everything the candidate left behind. This process only waits.
    try:
        pid = os.fork()
    except OSError as e:
        os.write(2, ("benchloop sandbox: fork failed: %s\n" % e).encode())
        os._exit(75)
    if pid:
        del data
        os.close(res_fd)
        _, st = os.waitpid(pid, 0)
        if os.WIFSIGNALED(st):
            import signal
            sig = os.WTERMSIG(st)
            try:
                signal.signal(sig, signal.SIG_DFL)
            except (OSError, ValueError, RuntimeError):
                pass
            os.kill(os.getpid(), sig)
            os._exit(128 + sig)
        os._exit(os.WEXITSTATUS(st) if os.WIFEXITED(st) else 70)
    import hmac, hashlib, json
    key_hex, _, payload = data.partition(b"\n")
    mac = hmac.new(bytes.fromhex(key_hex.decode()), digestmod=hashlib.sha256)
    del data, key_hex
    job = json.loads(payload)
    del payload
    me = os.getpid()
    sys.argv[:] = [sys.argv[0]]

    def emit(obj):
        if os.getpid() != me:  # a process the candidate forked never reports
            os._exit(0)
        line = json.dumps(obj, ensure_ascii=True).encode()
        m = mac.copy()
        m.update(line)
        out = line + b"\t" + m.hexdigest().encode() + b"\n"
        try:
            while out:
                out = out[os.write(res_fd, out):]
        except OSError:
            pass

    sources = {"<setup>": job["setup"], "<candidate>": job["code"]}

    def describe(e):
        try:
            name = type(e).__name__
            if not isinstance(name, str):
                name = "Exception"
        except BaseException:
            name = "Exception"
        try:
            msg = str(e)
        except BaseException:
            msg = "<unprintable>"
        s = name + ": " + msg if msg else name
        try:
            where = None
            tb = e.__traceback__
            while tb is not None:
                fn = tb.tb_frame.f_code.co_filename
                if fn in sources:
                    where = (fn, tb.tb_lineno)
                tb = tb.tb_next
            if where and not isinstance(e, SyntaxError):
                src = sources[where[0]].splitlines()
                text = src[where[1] - 1].strip() if 0 < where[1] <= len(src) else ""
                s += " [%s line %d: %s]" % (where[0].strip("<>"), where[1], text[:200])
        except BaseException:
            pass
        return s[:2000]

    def finish(code=0):
        for f in (sys.stdout, sys.stderr):
            try:
                f.flush()
            except BaseException:
                pass
        os._exit(code)

    g = {"__name__": "candidate", "__builtins__": __builtins__}
    for fn in ("<setup>", "<candidate>"):
        try:
            if sources[fn]:
                exec(compile(sources[fn], fn, "exec"), g)
        except BaseException as e:
            prefix = "setup failed: " if fn == "<setup>" else ""
            emit({"t": "load", "ok": False, "error": prefix + describe(e)})
            finish(0)
    emit({"t": "load", "ok": True, "error": None})
    for t in job["tests"]:
        fn = "<test %s>" % t["name"]
        sources[fn] = t["code"]
        try:
            exec(compile(t["code"], fn, "exec"), dict(g))
            ok, err = True, None
        except BaseException as e:
            ok, err = False, describe(e)
        emit({"t": "test", "name": t["name"], "ok": ok, "error": err})
    finish(0)
_main()
'''


@functools.lru_cache(maxsize=1)
def _interpreter_argv() -> tuple[str, ...]:
    """This interpreter, by real path: a venv's ``bin/python`` may sit somewhere the
    sandbox uid cannot reach, and with ``-S`` the venv adds nothing anyway."""
    exe = os.path.realpath(sys.executable) if sys.executable else ""
    flags = ["-s", "-S", "-B", "-u"]
    if sys.version_info >= (3, 11):
        flags.insert(2, "-P")  # no cwd / script dir on sys.path
    return (exe, *flags, "-c", _RUNNER)


def _unescape_mount_path(s: str) -> bytes:
    """mountinfo escapes space, tab, newline and backslash as \\ooo octal."""
    return re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), s.encode("utf-8", "surrogateescape"))


def _read_mounts(pid: str = "self") -> list[tuple[bytes, int, bool]]:
    """(mount point, per-mount flags worth keeping, is read-only) from /proc/<pid>/mountinfo."""
    out = []
    try:
        with open(f"/proc/{pid}/mountinfo", encoding="utf-8", errors="surrogateescape") as f:
            for line in f:
                parts = line.split()
                if len(parts) < 6:
                    continue
                opts = parts[5].split(",")
                flags = 0
                for o in opts:
                    flags |= _KEEP_FLAGS.get(o, 0)
                out.append((_unescape_mount_path(parts[4]), flags, "ro" in opts))
    except OSError:
        pass
    return out


@functools.lru_cache(maxsize=1)
def _hidden_python_binds() -> tuple[tuple[bytes, tuple[bytes, ...]], ...]:
    """Directories that other users cannot traverse but the interpreter lives under.

    Returns [(blocker dir, [python paths below it to bind back])]. E.g. pyenv under /root
    (mode 0700): the child hides /root behind an empty tmpfs and binds only the Python
    installation back, so an unprivileged uid can run it without seeing the rest of /root.
    """
    needed = set()
    for p in (sys.executable, sys.base_prefix, sys.base_exec_prefix,
              sysconfig.get_path("stdlib"), sysconfig.get_path("platstdlib")):
        if p:
            needed.add(os.path.realpath(p))
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as f:
            for line in f:
                path = line.rstrip("\n").split(None, 5)[-1]
                if "libpython" in path and path.startswith("/"):
                    needed.add(os.path.dirname(os.path.realpath(path)))
    except OSError:
        pass
    exe = os.path.realpath(sys.executable) if sys.executable else ""
    needed = {os.path.dirname(p) if p == exe else p for p in needed}
    # keep only outermost paths
    outer = sorted(p for p in needed if not any(p != q and p.startswith(q.rstrip("/") + "/") for q in needed))
    groups: dict[str, list[str]] = {}
    for p in outer:
        cur = ""
        for part in p.strip("/").split("/")[:-1]:
            cur += "/" + part
            try:
                mode = os.stat(cur).st_mode
            except OSError:
                break
            if not mode & stat.S_IXOTH:
                groups.setdefault(cur, []).append(p)
                break
    return tuple((os.fsencode(b), tuple(os.fsencode(p) for p in ps)) for b, ps in groups.items())


def _fresh_uid() -> int:
    """A uid no process runs as: the sweep after the run kills every process with it."""
    for _ in range(8):
        uid = _UID_BASE + secrets.randbelow(_UID_SPAN)
        if _count_user_procs(uid) == 0:
            return uid
    return uid


def _count_user_procs(uid: int) -> int:
    n = 0
    for name in os.listdir("/proc"):
        if name.isdigit() and _proc_uid(name) == uid:
            n += 1
    return n


def _proc_uid(pid: str | int, *, live_only: bool = False) -> int | None:
    """Real uid from /proc/<pid>/status (not the dir owner: a non-dumpable process shows
    root). With ``live_only``, zombies and dying tasks give None: killing them does nothing."""
    uid = None
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if live_only and line.startswith(b"State:") and line.split()[1] in (b"Z", b"X"):
                    return None
                if line.startswith(b"Uid:"):
                    uid = int(line.split()[1])
                    break
    except (OSError, ValueError, IndexError):
        pass
    return uid


def _ns_id(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
        return (st.st_dev, st.st_ino)
    except OSError:
        return None


def _make_preexec(*, tmpdir: bytes, uid: int | None, limits: SandboxLimits, nproc: int,
                  mounts: list[tuple[bytes, int, bool]], binds: tuple[tuple[bytes, tuple[bytes, ...]], ...],
                  diag_fd: int):
    """Build the function run in the child between fork and exec.

    Optional steps (namespaces, mounts) record a note and go on; dropping root is mandatory
    and raises, which makes Popen fail in the parent instead of running hostile code as root.
    Everything here is plain system calls on values computed in the parent.
    """
    root = uid is not None
    real_uid, real_gid = os.getuid(), os.getgid()

    def note(msg: str) -> None:
        try:
            os.write(diag_fd, msg.encode("utf-8", "replace")[:500] + b"\n")
        except OSError:
            pass

    def setup_userns() -> None:
        # Map our own uid/gid (not root) so files created in the tmpfs have an owner and
        # the exec'd interpreter keeps no capabilities.
        for path, data in (("/proc/self/setgroups", b"deny"), ("/proc/self/uid_map", b"%d %d 1" % (real_uid, real_uid)),
                           ("/proc/self/gid_map", b"%d %d 1" % (real_gid, real_gid))):
            try:
                fd = os.open(path, os.O_WRONLY)
                try:
                    os.write(fd, data)
                finally:
                    os.close(fd)
            except OSError as e:
                note(f"userns: writing {path} failed: {e}")

    def setup_mounts() -> None:
        if not _mount(None, b"/", None, _MS_REC | _MS_PRIVATE, None):
            # Without private propagation our mounts would leak into the host: do nothing.
            note(f"mount: making / private failed (errno {ctypes.get_errno()}); no filesystem isolation")
            return
        # Handles to what the overmounts below will hide. Opened after unshare: a bind
        # source must be a mount of the caller's own (new) mount namespace.
        fds: dict[bytes, int] = {}
        for blocker, _ in binds:
            try:
                fds[blocker] = os.open(blocker, _O_PATH | os.O_DIRECTORY)
            except OSError as e:
                note(f"mount: cannot open {blocker!r}: {e}")
        extra_ro: list[tuple[bytes, int]] = []
        for blocker, paths in binds:
            if blocker not in fds:
                continue
            if not _mount(b"tmpfs", blocker, b"tmpfs", _MS_NOSUID | _MS_NODEV, b"mode=0755,size=1m,nr_inodes=1024"):
                note(f"mount: tmpfs over {blocker!r} failed (errno {ctypes.get_errno()})")
                continue
            extra_ro.append((blocker, _MS_NOSUID | _MS_NODEV))
            for p in paths:
                src = b"/proc/self/fd/%d%s" % (fds[blocker], p[len(blocker):])
                try:
                    os.makedirs(p, exist_ok=True)
                except OSError as e:
                    note(f"mount: mkdir {p!r}: {e}")
                    continue
                if _mount(src, p, None, _MS_BIND | _MS_REC, None):
                    extra_ro.append((p, 0))
                else:
                    note(f"mount: bind {p!r} failed (errno {ctypes.get_errno()})")
        for fd in fds.values():
            os.close(fd)
        size_mb = max(4 * limits.file_mb, 16)
        opts = b"size=%dm,nr_inodes=4096,mode=0700" % size_mb
        if root:
            opts += b",uid=%d,gid=%d" % (uid, uid)
        try:
            os.makedirs(tmpdir, exist_ok=True)  # may sit below a hidden directory
        except OSError:
            pass
        if not _mount(b"tmpfs", tmpdir, b"tmpfs", _MS_NOSUID | _MS_NODEV, opts):
            note(f"mount: tmpfs at temp dir failed (errno {ctypes.get_errno()}); using the plain dir")
            # Its own mount point, so the read-only remount of its parent spares it.
            if not _mount(tmpdir, tmpdir, None, _MS_BIND, None):
                note(f"mount: bind of temp dir failed (errno {ctypes.get_errno()})")
        for target, keep in [(m, f) for m, f, ro in mounts if not ro] + extra_ro:
            if target == tmpdir:
                continue
            if not _mount(None, target, None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY | keep, None):
                note(f"mount: read-only remount of {target!r} failed (errno {ctypes.get_errno()})")

    def preexec() -> None:
        if root:
            ns = _CLONE_NEWNS | _CLONE_NEWNET | _CLONE_NEWPID
            if not _unshare(ns):
                ns = 0
                for flag in (_CLONE_NEWNET, _CLONE_NEWPID, _CLONE_NEWNS):
                    if _unshare(flag):
                        ns |= flag
                    else:
                        note(f"unshare {flag:#x} failed (errno {ctypes.get_errno()})")
        else:
            ns = 0
            for attempt in (_CLONE_NEWUSER | _CLONE_NEWNS | _CLONE_NEWNET | _CLONE_NEWPID,
                            _CLONE_NEWUSER | _CLONE_NEWNET):
                if _unshare(attempt):
                    ns = attempt
                    break
                note(f"unshare {attempt:#x} failed (errno {ctypes.get_errno()})")
            if ns:
                setup_userns()
        if ns & _CLONE_NEWNS:
            setup_mounts()
        try:
            os.chdir(tmpdir)
        except OSError as e:
            note(f"chdir to temp dir failed: {e}")
        _prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL)
        if root:
            try:
                os.setgroups([])
                os.setgid(uid)
                os.setuid(uid)
            except OSError as e:
                note(f"could not drop root privileges: {e}")
                raise
            if os.getuid() == 0 or os.geteuid() == 0:
                note("could not drop root privileges")
                raise PermissionError("still root")
        _prctl(_PR_SET_NO_NEW_PRIVS, 1)
        # rlimits last: the forked copy of a large parent may already exceed RLIMIT_AS or
        # hold fds above 64, and the Python code above must still be able to allocate.
        for res, soft, hard in (
            (resource.RLIMIT_CORE, 0, 0),
            # soft == hard: SIGKILL at the limit. SIGXCPU would be ignored by the PID
            # namespace init (the kernel shields it from default-action signals).
            (resource.RLIMIT_CPU, limits.cpu_s, limits.cpu_s),
            (resource.RLIMIT_FSIZE, limits.file_mb * 1024 * 1024, limits.file_mb * 1024 * 1024),
            (resource.RLIMIT_NPROC, nproc, nproc),
            (resource.RLIMIT_NOFILE, 64, 64),
            (resource.RLIMIT_AS, limits.memory_mb * 1024 * 1024, limits.memory_mb * 1024 * 1024),
        ):
            try:
                resource.setrlimit(res, (soft, hard))
            except (OSError, ValueError) as e:
                note(f"setrlimit {res} failed: {e}")

    return preexec


def _empty_result(tests: list[dict], limits: SandboxLimits, error: str) -> dict:
    return {
        "passed": 0,
        "total": len(tests),
        "results": [{"name": t["name"], "ok": False, "error": error} for t in tests],
        "timed_out": False,
        "killed": False,
        "returncode": None,
        "stdout": "",
        "stderr": "",
        "sandbox": {"network_isolated": False, "pid_isolated": False, "fs_isolated": False,
                    "uid": os.getuid(), "limits": dataclasses.asdict(limits), "notes": []},
        "error": error,
    }


def _validate_tests(tests) -> list[dict]:
    """Tests come from our own task files: malformed input is a programming error, so raise."""
    if not isinstance(tests, (list, tuple)):
        raise TypeError("tests must be a list of {'name': str, 'code': str}")
    out, seen = [], set()
    for t in tests:
        if not isinstance(t, dict) or not isinstance(t.get("name"), str) or not isinstance(t.get("code"), str):
            raise TypeError(f"bad test entry {t!r}: need {{'name': str, 'code': str}}")
        if t["name"] in seen:
            raise ValueError(f"duplicate test name {t['name']!r}: results are keyed by name")
        seen.add(t["name"])
        out.append({"name": t["name"], "code": t["code"]})
    return out


def _kill_leftovers(pgid: int, uid: int | None, pidns: tuple[int, int] | None, *, group: bool = True) -> int:
    """SIGKILL the process group, then anything in the run's PID namespace or with its uid.

    ``group=False`` once the runner has been reaped: its pid, and so the group id, may then
    belong to an unrelated new process group. A fork bomb keeps forking while we kill, so
    sweep until a pass finds nothing (bounded: RLIMIT_NPROC caps how many can exist).
    """
    if group:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except OSError:
            pass
    if uid is None and pidns is None:
        return 0
    killed = 0
    skip = {str(os.getpid()), str(pgid)}  # ourselves; the runner (reaped by the caller)
    for _ in range(50):
        found = 0
        for name in os.listdir("/proc"):
            if not name.isdigit() or name in skip:
                continue
            owner = _proc_uid(name, live_only=True)  # None: gone, or a zombie (unkillable)
            hit = owner is not None and ((uid is not None and owner == uid) or (
                pidns is not None and _ns_id(f"/proc/{name}/ns/pid") == pidns))
            if hit:
                found += 1
                try:
                    os.kill(int(name), signal.SIGKILL)
                except OSError:
                    pass
        killed += found
        if not found:
            break
        time.sleep(0.005)
    return killed


def _rmtree(path: str) -> None:
    def retry(func, p, _exc):
        try:  # a candidate may chmod 000 its dirs; we own them again as root or as the user
            os.chmod(os.path.dirname(p), 0o700)
            os.chmod(p, 0o700)
            func(p)
        except OSError:
            pass

    try:
        if sys.version_info >= (3, 12):
            shutil.rmtree(path, onexc=retry)
        else:
            shutil.rmtree(path, onerror=retry)
    except OSError:
        pass
    if os.path.exists(path):
        shutil.rmtree(path, ignore_errors=True)


def _truncate(data: bytes, dropped: int, limit: int) -> str:
    """Decode captured output (invalid UTF-8 replaced) and say how much was thrown away."""
    text = data[:limit].decode("utf-8", "replace")
    if dropped:
        text += f"\n[benchloop: output truncated, {dropped} more bytes]"
    return text


def run_tests(code: str, tests: list[dict], *, setup: str = "", limits: SandboxLimits | None = None) -> dict:
    """Run ``code`` and then each test snippet in a fresh copy of its globals, isolated.

    ``setup`` is trusted helper source (e.g. ``from typing import List`` that a prompt
    promised) executed *before* the candidate in the same namespace. The candidate runs as
    module ``candidate`` (not ``__main__``) so its ``if __name__ == "__main__":`` demo block,
    which often calls ``input()``, does not run. A test passes iff it raises nothing.

    Hostile code never makes this raise; only malformed ``tests``/``code`` arguments do.
    """
    if not isinstance(code, str) or not isinstance(setup, str):
        raise TypeError("code and setup must be str")
    tests = _validate_tests(tests)
    limits = limits or SandboxLimits()
    names = [t["name"] for t in tests]
    is_root = os.geteuid() == 0
    run_uid = _fresh_uid() if is_root else None
    result = _empty_result(tests, limits, "sandbox did not start")
    result["sandbox"]["uid"] = run_uid if is_root else os.getuid()
    notes: list[str] = result["sandbox"]["notes"]

    argv = _interpreter_argv()
    if not argv[0]:
        result["error"] = "sandbox did not start: sys.executable is unknown"
        return result
    key = secrets.token_bytes(32)
    payload = key.hex().encode() + b"\n" + json.dumps({"setup": setup, "code": code, "tests": tests}).encode()
    tmpdir = tempfile.mkdtemp(prefix="benchloop-sbx-")
    fds: list[int] = []
    proc = None
    try:
        if is_root:
            os.chown(tmpdir, run_uid, run_uid)
            nproc = limits.max_procs
        else:
            nproc = _count_user_procs(os.getuid()) + limits.max_procs
        tok_r, tok_w = os.pipe()
        res_r, res_w = os.pipe()
        diag_r, diag_w = os.pipe()
        fds += [tok_r, tok_w, res_r, res_w, diag_r, diag_w]
        preexec = _make_preexec(tmpdir=os.fsencode(tmpdir), uid=run_uid, limits=limits, nproc=nproc,
                                mounts=_read_mounts(), binds=_hidden_python_binds(),
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
        notes.extend(_read_all_nonblocking(diag_r).decode("utf-8", "replace").splitlines())
        if proc is None:
            result["error"] = f"sandbox did not start: {start_error}" + (f" ({notes[-1]})" if notes else "")
            for r in result["results"]:
                r["error"] = result["error"]
            return result
        for fd in (tok_r, res_w):
            os.close(fd)
            fds.remove(fd)
        # The runner is blocked reading the key, so its namespaces and uid can be checked now.
        pid = proc.pid
        sbx = result["sandbox"]
        sbx["network_isolated"] = _ns_id(f"/proc/{pid}/ns/net") not in (None, _ns_id("/proc/self/ns/net"))
        sbx["pid_isolated"], child_pidns = _probe_pidns(pid)
        sbx["fs_isolated"] = _fs_isolated(pid, os.fsencode(tmpdir))
        seen_uid = _proc_uid(pid)
        if seen_uid is not None:
            sbx["uid"] = seen_uid
        _communicate(proc, result, limits, payload, tok_w, res_r, fds, key, names,
                     run_uid, sbx["pid_isolated"], child_pidns)
        return result
    finally:
        if proc is not None and proc.returncode is None:
            _kill_leftovers(proc.pid, run_uid, None)
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
        _rmtree(tmpdir)


def _read_all_nonblocking(fd: int) -> bytes:
    os.set_blocking(fd, False)
    out = b""
    while True:
        try:
            b = os.read(fd, 65536)
        except BlockingIOError:
            return out
        if not b:
            return out
        out += b


def _probe_pidns(pid: int) -> tuple[bool, tuple[int, int] | None]:
    """(child has its own PID namespace, that namespace's id if it can be read yet).

    ``ns/pid_for_children`` reads ENOENT until the namespace has an init (the runner's
    first fork), which itself shows that ``unshare(CLONE_NEWPID)`` took effect.
    """
    try:
        ns = _ns_id_strict(f"/proc/{pid}/ns/pid_for_children")
    except FileNotFoundError:
        return _ns_id(f"/proc/{pid}/ns/pid") is not None, None
    except OSError:
        return False, None
    return ns != _ns_id("/proc/self/ns/pid"), ns


def _ns_id_strict(path: str) -> tuple[int, int]:
    st = os.stat(path)
    return (st.st_dev, st.st_ino)


def _has_exited(pid: int) -> bool:
    """Exit check that does not reap: the pid (our process-group id) stays reserved until
    the leftovers in its group have been killed, so killpg can never hit a recycled pid."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _fs_isolated(pid: int, tmpdir: bytes) -> bool:
    """True when, in the child's own mount table, every mount except the temp dir is ro."""
    if _ns_id(f"/proc/{pid}/ns/mnt") in (None, _ns_id("/proc/self/ns/mnt")):
        return False
    top: dict[bytes, bool] = {}
    for m, _, ro in _read_mounts(str(pid)):
        top[m] = ro  # a later entry for the same mount point shadows the earlier one
    return bool(top) and all(ro for m, ro in top.items() if m != tmpdir)


def _verify_lines(data: bytes, key: bytes, names: list[str]):
    """Parse the result pipe: ``(load, {name: (ok, error)})``, trusting only tagged lines.

    A line is ``<json>\t<hex HMAC-SHA256 of the json>``. Untagged or mis-tagged lines,
    unknown test names and second results for a name are ignored (first one wins);
    ``ok`` must be exactly ``true``. ``load`` is ``(ok, error)`` or None if never reported.
    """
    load = None
    verdicts: dict[str, tuple[bool, str | None]] = {}
    wanted = set(names)
    for raw in data.split(b"\n")[:-1]:  # the last piece is incomplete or empty
        body, sep, tag = raw.rpartition(b"\t")
        if not sep:
            continue
        good = hmac.new(key, body, hashlib.sha256).hexdigest().encode()
        if not hmac.compare_digest(good, tag):
            continue
        try:
            obj = json.loads(body)
        except ValueError:
            continue
        if not isinstance(obj, dict):
            continue
        err = obj.get("error") if isinstance(obj.get("error"), str) else None
        if obj.get("t") == "load" and load is None:
            load = (obj.get("ok") is True, err)
        elif obj.get("t") == "test" and obj.get("name") in wanted and obj["name"] not in verdicts:
            verdicts[obj["name"]] = (obj.get("ok") is True, err)
    return load, verdicts


def _communicate(proc, result, limits, payload, tok_w, res_r, fds, key, names, run_uid,
                 pid_isolated, child_pidns) -> None:
    """Feed the job, drain stdout/stderr/results with caps, enforce the wall clock, clean up."""
    cap = limits.output_kb * 1024
    res_cap = 64 * 1024 + 4096 * max(len(names), 1)
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
            child_pidns = _probe_pidns(proc.pid)[1]
        if exited_at is None and _has_exited(proc.pid):
            exited_at = now
            # Anything still holding our pipes is a leftover the candidate started.
            _kill_leftovers(proc.pid, run_uid, child_pidns)
        if not timed_out and exited_at is None and now >= deadline:
            timed_out = True
            _kill_leftovers(proc.pid, run_uid, child_pidns)
            proc.wait()
            exited_at = time.monotonic()
            _kill_leftovers(proc.pid, run_uid, child_pidns, group=False)
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

    load, verdicts = _verify_lines(bytes(bufs[res_r]), key, names)

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
    results = []
    for name in names:
        ok, err = verdicts.get(name, (False, missing))
        results.append({"name": name, "ok": ok, "error": None if ok else (err or "failed")})
    result.update({
        "passed": sum(r["ok"] for r in results),
        "results": results,
        "timed_out": timed_out,
        "killed": timed_out or rc < 0,
        "returncode": rc,
        "stdout": _truncate(bytes(bufs[proc.stdout.fileno()]), dropped[proc.stdout.fileno()], cap),
        "stderr": _truncate(bytes(bufs[proc.stderr.fileno()]), dropped[proc.stderr.fileno()], cap),
        "error": error,
    })
