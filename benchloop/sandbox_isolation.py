"""How the sandbox isolates one child: namespaces, mounts, a fresh uid, rlimits, and the
sweep that kills whatever the child left behind. Used by :mod:`benchloop.sandbox`, which
documents what each step buys and what it does not.

Everything that runs between ``fork`` and ``exec`` (:func:`make_preexec`) makes plain
system calls on values computed in the parent; the libc functions are resolved at import.
"""
from __future__ import annotations

import ctypes
import functools
import os
import re
import resource
import secrets
import shutil
import signal
import stat
import sys
import sysconfig
import time

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


def unshare(flags: int) -> bool:
    return _LIBC is not None and _LIBC.unshare(flags) == 0


def _mount(src: bytes | None, target: bytes, fstype: bytes | None, flags: int, data: bytes | None) -> bool:
    return _LIBC is not None and _LIBC.mount(src, target, fstype, flags, data) == 0


def _prctl(option: int, arg: int, arg3: int = 0) -> bool:
    return _LIBC is not None and _LIBC.prctl(option, arg, arg3, 0, 0) == 0


def _unescape_mount_path(s: str) -> bytes:
    """mountinfo escapes space, tab, newline and backslash as \\ooo octal."""
    return re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), s.encode("utf-8", "surrogateescape"))


def read_mounts(pid: str = "self") -> list[tuple[bytes, int, bool]]:
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
def _python_paths() -> tuple[str, ...]:
    """The outermost directories the interpreter needs (binary, stdlib, libpython)."""
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
    return tuple(sorted(p for p in needed if not any(p != q and p.startswith(q.rstrip("/") + "/") for q in needed)))


def _below(path: str, top: str) -> bool:
    return path == top or path.startswith(top.rstrip("/") + "/")


@functools.lru_cache(maxsize=8)
def hidden_binds(hide: tuple[str, ...] = ()) -> tuple[tuple[bytes, tuple[bytes, ...]], ...]:
    """Directories to cover with an empty tmpfs in the child, each with the Python paths
    below it to bind back: ``[(blocker dir, [python paths below it])]``.

    Blockers are (a) directories other users cannot traverse but the interpreter lives
    under, e.g. pyenv under /root (mode 0700): an unprivileged uid can then run Python
    without seeing the rest of /root; and (b) the directories in ``hide`` (the task files
    with their expected answers, the checkout's history), which the candidate must not read.
    """
    groups: dict[str, list[str]] = {}
    for p in _python_paths():
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
    for h in hide:
        h = os.path.realpath(h)
        if not os.path.isdir(h) or h == "/" or any(_below(b, h) or _below(h, b) for b in groups):
            continue  # already covered, or it would cover a blocker
        groups[h] = [p for p in _python_paths() if _below(p, h) and p != h]
        if any(_below(h, p) for p in _python_paths()):
            del groups[h]  # inside the interpreter's own tree: hiding it could break Python
    return tuple((os.fsencode(b), tuple(os.fsencode(p) for p in ps)) for b, ps in groups.items())


def fresh_uid() -> int:
    """A uid no process runs as: the sweep after the run kills every process with it."""
    for _ in range(8):
        uid = _UID_BASE + secrets.randbelow(_UID_SPAN)
        if count_user_procs(uid) == 0:
            return uid
    return uid


def count_user_procs(uid: int) -> int:
    n = 0
    for name in os.listdir("/proc"):
        if name.isdigit() and proc_uid(name) == uid:
            n += 1
    return n


def proc_uid(pid: str | int, *, live_only: bool = False) -> int | None:
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


def ns_id(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
        return (st.st_dev, st.st_ino)
    except OSError:
        return None


def make_preexec(*, tmpdir: bytes, uid: int | None, limits, nproc: int,
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
            if not unshare(ns):
                ns = 0
                for flag in (_CLONE_NEWNET, _CLONE_NEWPID, _CLONE_NEWNS):
                    if unshare(flag):
                        ns |= flag
                    else:
                        note(f"unshare {flag:#x} failed (errno {ctypes.get_errno()})")
        else:
            ns = 0
            for attempt in (_CLONE_NEWUSER | _CLONE_NEWNS | _CLONE_NEWNET | _CLONE_NEWPID,
                            _CLONE_NEWUSER | _CLONE_NEWNET):
                if unshare(attempt):
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


def kill_leftovers(pgid: int, uid: int | None, pidns: tuple[int, int] | None, *, group: bool = True) -> int:
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
            owner = proc_uid(name, live_only=True)  # None: gone, or a zombie (unkillable)
            hit = owner is not None and ((uid is not None and owner == uid) or (
                pidns is not None and ns_id(f"/proc/{name}/ns/pid") == pidns))
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


def rmtree(path: str) -> None:
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


def read_all_nonblocking(fd: int) -> bytes:
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


def probe_pidns(pid: int) -> tuple[bool, tuple[int, int] | None]:
    """(child has its own PID namespace, that namespace's id if it can be read yet).

    ``ns/pid_for_children`` reads ENOENT until the namespace has an init (the runner's
    first fork), which itself shows that ``unshare(CLONE_NEWPID)`` took effect.
    """
    try:
        ns = ns_id_strict(f"/proc/{pid}/ns/pid_for_children")
    except FileNotFoundError:
        return ns_id(f"/proc/{pid}/ns/pid") is not None, None
    except OSError:
        return False, None
    return ns != ns_id("/proc/self/ns/pid"), ns


def ns_id_strict(path: str) -> tuple[int, int]:
    st = os.stat(path)
    return (st.st_dev, st.st_ino)


def has_exited(pid: int) -> bool:
    """Exit check that does not reap: the pid (our process-group id) stays reserved until
    the leftovers in its group have been killed, so killpg can never hit a recycled pid."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def fs_isolated(pid: int, tmpdir: bytes) -> bool:
    """True when, in the child's own mount table, every mount except the temp dir is ro."""
    if ns_id(f"/proc/{pid}/ns/mnt") in (None, ns_id("/proc/self/ns/mnt")):
        return False
    top: dict[bytes, bool] = {}
    for m, _, ro in read_mounts(str(pid)):
        top[m] = ro  # a later entry for the same mount point shadows the earlier one
    return bool(top) and all(ro for m, ro in top.items() if m != tmpdir)
