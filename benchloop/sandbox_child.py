"""The code that runs *inside* the sandbox's child interpreter, and the plain-data codec
both sides share.

The parent (:mod:`benchloop.sandbox`) starts ``python -s -S -P -B -u -c <this file's
source> TOKEN_FD RESULT_FD``; nothing of ``benchloop`` is importable there, so this module
uses the standard library only, and only its C parts (``marshal``, ``_json``, ``_sha2``):
interpreter start-up is most of a sandbox run's cost. When imported (by the parent) it
only defines functions.

What the child does, in order: read the per-run HMAC key and the job (setup source,
candidate source, entry point, the *arguments* of each call) from the token pipe, fork
once (the fork is the PID namespace's init, so everything the candidate starts dies with
it), capture the few builtins it needs, import the candidate as module ``candidate``, and
for each call: build fresh arguments, call the entry point, and send back one tagged line
with the return value encoded as plain data, or the exception's builtin type names.

Why this cannot grade the candidate: expected values never enter this process. A
candidate that subverts everything here (patches builtins or ``json``, walks frames,
finds the HMAC key, writes its own result lines, exits early) can at most *report*
values of its choosing for the arguments it was given; the parent compares them with
answers the candidate never sees, using its own equality. Exiting early or hanging only
leaves calls without a result, and a call without a result fails.

Plain data (the codec): ``None``, ``bool``, ``int``, ``float`` (NaN and infinities
included), ``str`` and JSON arrays map to themselves; a ``tuple`` is ``{"tuple": [...]}``
and a ``dict`` (``str`` keys only) is ``{"dict": {...}}``, so every JSON object is a tag
and tuples survive the trip. Types are checked with ``type(x) is ...``: subclasses (an
``int`` whose ``__eq__`` always says yes) and any other object are not plain data, and no
method of the candidate's objects is ever called to encode them.
"""
import os
import sys

MAX_DEPTH = 64
MAX_VALUE_CHARS = 64 * 1024  # one encoded value; a bigger one fails its call
MAX_ERROR_CHARS = 2000


class NotPlain(Exception):
    """A value that is not plain data (or too big / too deep to send)."""


def _type_name(t) -> str:
    try:  # the real name, even if a metaclass overrides __name__
        name = type.__dict__["__name__"].__get__(t, type)
        return name if type(name) is str else "object"
    except BaseException:
        return "object"


def _escaper():
    """JSON string escaping from the C accelerator (no ``json``/``re`` import: the child's
    start-up time is most of a sandbox run)."""
    try:
        from _json import encode_basestring_ascii
        return encode_basestring_ascii
    except ImportError:  # pragma: no cover - CPython always has _json
        from json.encoder import py_encode_basestring_ascii
        return py_encode_basestring_ascii


def make_signer(key: bytes):
    """``sign(line) -> hex HMAC-SHA256(key, line)``, written out so the child needs neither
    ``hmac`` nor ``hashlib`` (same tag as ``hmac.new(key, line, "sha256")``)."""
    try:
        from _sha2 import sha256  # 3.12+
    except ImportError:
        try:
            from _sha256 import sha256
        except ImportError:  # pragma: no cover
            from hashlib import sha256
    key = key.ljust(64, b"\0")
    inner0 = sha256(bytes(b ^ 0x36 for b in key))
    outer0 = sha256(bytes(b ^ 0x5C for b in key))

    def sign(line: bytes) -> str:
        inner = inner0.copy()
        inner.update(line)
        outer = outer0.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    return sign


def make_encoder():
    """``encode(value) -> str``: strict plain-data JSON text. Built from references taken
    now, so later patching of ``json``, ``float`` or builtins does not reach it."""
    esc = _escaper()
    t_none, t_bool, t_int, t_float, t_str = type(None), bool, int, float, str
    t_list, t_tuple, t_dict = list, tuple, dict
    int_repr, float_repr, dict_items = int.__repr__, float.__repr__, dict.items
    inf = float("inf")
    exact_type = type

    def encode(value) -> str:
        out: list = []
        size = [0]

        def put(s: str) -> None:
            size[0] += len(s)
            if size[0] > MAX_VALUE_CHARS:
                raise NotPlain(f"value is over {MAX_VALUE_CHARS} characters of data")
            out.append(s)

        def enc(v, depth: int) -> None:
            if depth > MAX_DEPTH:
                raise NotPlain(f"value is nested deeper than {MAX_DEPTH}")
            t = exact_type(v)
            if t is t_none:
                put("null")
            elif t is t_bool:
                put("true" if v is True else "false")
            elif t is t_int:
                try:
                    put(int_repr(v))
                except ValueError:
                    raise NotPlain("integer too large to send") from None
            elif t is t_float:
                if v != v:
                    put("NaN")
                elif v == inf:
                    put("Infinity")
                elif v == -inf:
                    put("-Infinity")
                else:
                    put(float_repr(v))
            elif t is t_str:
                put(esc(v))
            elif t is t_list or t is t_tuple:
                put("[" if t is t_list else '{"tuple":[')
                for k in range(len(v)):
                    if k:
                        put(",")
                    enc(v[k], depth + 1)
                put("]" if t is t_list else "]}")
            elif t is t_dict:
                put('{"dict":{')
                first = True
                for key, item in list(dict_items(v)):
                    if exact_type(key) is not t_str:
                        raise NotPlain(f"dict key of type {_type_name(exact_type(key))}; only str keys are plain data")
                    if not first:
                        put(",")
                    first = False
                    put(esc(key) + ":")
                    enc(item, depth + 1)
                put("}}")
            else:
                raise NotPlain(f"a {_type_name(t)} is not plain data")

        try:
            enc(value, 0)
        except NotPlain:
            raise
        except BaseException as e:  # RecursionError, MemoryError, a list resized by a thread...
            raise NotPlain(f"value could not be read ({_type_name(exact_type(e))})") from None
        return "".join(out)

    return encode


def decode(tree, depth: int = 0):
    """Tagged JSON (already parsed) -> Python values; ValueError on anything else."""
    if depth > MAX_DEPTH + 2:
        raise ValueError("nested too deep")
    t = type(tree)
    if tree is None or t is bool or t is int or t is float or t is str:
        return tree
    if t is list:
        return [decode(x, depth + 1) for x in tree]
    if t is dict and len(tree) == 1:
        if type(tree.get("tuple")) is list:
            return tuple(decode(x, depth + 1) for x in tree["tuple"])
        if type(tree.get("dict")) is dict:
            return {k: decode(v, depth + 1) for k, v in tree["dict"].items()}
    raise ValueError("not a tagged plain value")


def main() -> None:
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
    _serve(data, res_fd)


def _serve(data: bytes, res_fd: int) -> None:
    import builtins
    import marshal

    key_hex, _, payload = data.partition(b"\n")
    sign = make_signer(bytes.fromhex(key_hex.decode()))
    del data, key_hex
    job = marshal.loads(payload)  # from the parent, before any candidate code exists
    del payload
    encode = make_encoder()
    esc = _escaper()
    loads = marshal.loads
    write, getpid, exit_now, exact_type = os.write, os.getpid, os._exit, type
    mro_of = type.__dict__["__mro__"].__get__
    builtin_exc = {c: n for n, c in vars(builtins).items()
                   if isinstance(c, type) and issubclass(c, BaseException)}
    me = getpid()
    sys.argv[:] = [sys.argv[0]]

    def emit(body: str) -> None:
        if getpid() != me:  # a process the candidate forked never reports
            exit_now(0)
        line = body.encode("ascii", "backslashreplace")
        out = line + b"\t" + sign(line).encode() + b"\n"
        try:
            while out:
                out = out[write(res_fd, out):]
        except OSError:
            pass

    sources = {"<setup>": job["setup"], "<candidate>": job["code"]}

    def describe(e) -> str:
        name = _type_name(exact_type(e))
        try:
            msg = str(e)
            msg = msg if exact_type(msg) is str else ""
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
        return s[:MAX_ERROR_CHARS]

    def finish(code: int = 0) -> None:
        for f in (sys.stdout, sys.stderr):
            try:
                f.flush()
            except BaseException:
                pass
        exit_now(code)

    g = {"__name__": "candidate", "__builtins__": builtins}
    for fn in ("<setup>", "<candidate>"):
        try:
            if sources[fn]:
                exec(compile(sources[fn], fn, "exec"), g)
        except BaseException as e:
            prefix = "setup failed: " if fn == "<setup>" else ""
            emit('{"t":"load","ok":false,"error":%s}' % esc(prefix + describe(e)))
            finish(0)
    entry = job["entry_point"]
    func = g.get(entry) if exact_type(g) is dict else None
    if not callable(func):
        emit('{"t":"load","ok":false,"error":%s}' % esc(
            "NameError: the code does not define a function %r" % entry))
        finish(0)
    emit('{"t":"load","ok":true,"error":null}')
    for i, call in enumerate(job["calls"]):
        try:
            args, kwargs = loads(call["args"])  # fresh objects for every call
        except BaseException as e:  # only if the candidate broke the runner
            emit('{"t":"call","i":%d,"status":"raised","types":[],"error":%s}' % (i, esc(describe(e))))
            continue
        try:
            value = func(*args, **kwargs)
        except BaseException as e:  # SystemExit and KeyboardInterrupt too: a failed call
            try:
                names = [builtin_exc[c] for c in mro_of(exact_type(e)) if c in builtin_exc]
            except BaseException:
                names = []
            emit('{"t":"call","i":%d,"status":"raised","types":[%s],"error":%s}' % (
                i, ",".join(esc(n) for n in names), esc(describe(e))))
            continue
        try:
            body = '{"t":"call","i":%d,"status":"returned","value":%s' % (i, encode(value))
            if call.get("keep"):
                body += ',"after":%s' % encode([args, kwargs])
            emit(body + "}")
        except NotPlain as e:
            emit('{"t":"call","i":%d,"status":"unplain","error":%s}' % (i, esc(str(e.args[0]))))
    finish(0)


if __name__ == "__main__":
    main()
