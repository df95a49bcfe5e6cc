"""The providers' HTTP/1.1 client: standard-library sockets, nothing else.

Why not ``requests``: importing it (with urllib3, charset_normalizer, idna and certifi)
took ~100 ms and ~11 MiB on every run, more than the rest of BenchLoop together
(issue 14), for a job that never changes: a JSON request to one server, its answer read
whole or line by line as it streams. This does that and no more:

- keep-alive, one idle connection per host (a stale one is noticed before reuse; a
  request a reused connection could not send goes once more on a fresh one, and a GET
  it sent but got no answer to as well; a POST that was sent is never repeated);
- ``Content-Length``, chunked and close-delimited bodies, gzip/deflate when a server
  compresses anyway (nothing asks it to);
- ``(connect, read)`` timeouts with requests' meaning: the read timeout bounds each wait
  for bytes, not the whole reply (the providers keep their own overall deadline);
- redirects (at most 5; the ``Authorization`` header never follows one to another host);
- TLS through :mod:`ssl`, imported only for an ``https`` endpoint.

No proxies: a local benchmark talks to its endpoint directly (requests was already used
with ``trust_env = False``). The server is untrusted: every failure is one of the four
exceptions below, header and line sizes are capped, and odd bytes (a bad chunk size, a
header without a colon, a line that never ends, a gzip bomb) raise ``ProtocolError``.
"""
from __future__ import annotations

import json as _json
import re
import select
import socket

MAX_HEAD = 64 * 1024  # status line and headers of one response
MAX_LINE = 32 * 1024 * 1024  # one streamed line (an SSE event, an NDJSON object)
MAX_BODY = 256 * 1024 * 1024  # a body read whole
MAX_REDIRECTS = 5
MAX_INTERIM = 10  # 1xx responses before the real one
MAX_TRAILERS = 100
_EOL = re.compile(rb"\r\n|\r|\n")
READ_SIZE = 65536
USER_AGENT = "benchloop"


class HTTPError(Exception):
    """Base of every error this client raises."""


class ConnectError(HTTPError):
    """No connection: refused, no such host, unreachable, TLS failed."""


class ConnectTimeout(ConnectError):
    """The connection (or TLS handshake) did not complete within the connect timeout."""


class ReadTimeout(HTTPError):
    """Connected, but no bytes came (or could be sent) within the read timeout."""


class ProtocolError(HTTPError):
    """The server broke HTTP: a malformed response, an oversized line, a cut body."""


class _NotReady(Exception):
    """Raised inside a non-blocking drain when the next bytes have not arrived yet."""


class Headers(dict):
    """Response headers keyed by lower-cased name (``get`` takes any case)."""

    def get(self, key, default=None):
        return super().get(key.lower(), default)

    def __getitem__(self, key):
        return super().__getitem__(key.lower())

    def __contains__(self, key):
        return super().__contains__(key.lower()) if isinstance(key, str) else False


def _safe_header(name: str, value) -> bytes:
    text = f"{name}: {value}"
    if "\r" in text or "\n" in text or "\x00" in text:
        raise ProtocolError(f"header {name!r} holds a line break")
    return text.encode("latin-1", "replace")


class _Target:
    """What one URL means to this client: where to connect and what to ask for."""

    __slots__ = ("scheme", "host", "port", "host_header", "path", "basic")

    def __init__(self, url: str):
        from urllib.parse import quote, unquote, urlsplit

        try:
            p = urlsplit(url)
            port = p.port
        except ValueError:  # its text quotes the netloc, password included: never shown
            raise ProtocolError("unreadable URL (check the endpoint's host, port and characters)") from None
        if p.scheme not in ("http", "https"):
            raise ProtocolError(f"unsupported URL scheme {p.scheme!r} (use http:// or https://)")
        if not p.hostname:
            raise ProtocolError("URL without a host")
        self.scheme = p.scheme
        try:
            self.host = p.hostname.encode("idna").decode("ascii") if not p.hostname.isascii() else p.hostname
        except UnicodeError:
            raise ProtocolError("URL host is not a valid name") from None
        self.port = port or (443 if p.scheme == "https" else 80)
        shown = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if p.scheme == "https" else 80
        self.host_header = shown if self.port == default else f"{shown}:{self.port}"
        path = quote(p.path or "/", safe="/%:@!$&'()*+,;=-._~")
        self.path = path + (f"?{quote(p.query, safe='=&%:@!$()*+,;/?-._~')}" if p.query else "")
        self.basic = None
        if p.username is not None:
            import base64

            cred = f"{unquote(p.username)}:{unquote(p.password or '')}".encode()
            self.basic = "Basic " + base64.b64encode(cred).decode("ascii")

    @property
    def key(self) -> tuple:
        return (self.scheme, self.host, self.port)


_TLS = None


def _tls_context():
    """One verifying TLS context: the system's CAs plus certifi's when it is installed
    (requests trusted certifi's alone, so nothing it reached becomes unreachable)."""
    global _TLS
    if _TLS is None:
        import ssl

        ctx = ssl.create_default_context()
        try:
            import certifi

            ctx.load_verify_locations(certifi.where())
        except (ImportError, OSError):
            pass
        _TLS = ctx
    return _TLS


class _Conn:
    """One socket and what has been read from it but not yet used."""

    __slots__ = ("sock", "buf", "pos", "scan", "key", "reused")

    def __init__(self, target: _Target, connect_timeout: float | None):
        try:
            sock = socket.create_connection((target.host, target.port), timeout=connect_timeout)
        except socket.timeout:
            raise ConnectTimeout("timed out connecting") from None
        except socket.gaierror as exc:
            raise ConnectError(f"cannot resolve {target.host} ({exc.strerror or exc})") from None
        except UnicodeError:  # a label empty or over 63 characters: no name can be looked up
            raise ConnectError(f"cannot resolve {target.host[:80]} (not a valid host name)") from None
        except ConnectionRefusedError:
            raise ConnectError("connection refused") from None
        except OSError as exc:
            raise ConnectError(f"connection failed ({exc.strerror or exc})") from None
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        if target.scheme == "https":
            import ssl

            try:
                sock = _tls_context().wrap_socket(sock, server_hostname=target.host)
            except socket.timeout:
                sock.close()
                raise ConnectTimeout("timed out in the TLS handshake") from None
            except (ssl.SSLError, ssl.CertificateError, OSError) as exc:
                sock.close()
                raise ConnectError(f"TLS failed ({exc})") from None
        self.sock = sock
        self.buf = bytearray()
        self.pos = 0
        self.scan = 0
        self.key = target.key
        self.reused = False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def buffered(self) -> int:
        return len(self.buf) - self.pos

    def ready(self) -> bool:
        """Bytes can be had without waiting (buffered here, in TLS, or in the kernel)."""
        if self.buffered():
            return True
        pending = getattr(self.sock, "pending", None)
        if pending is not None and pending():
            return True
        return _readable(self.sock)

    def fill(self, block: bool = True) -> bool:
        """One receive into the buffer; False at the end of the stream."""
        if not block and not self.ready():
            raise _NotReady
        try:
            data = self.sock.recv(READ_SIZE)
        except socket.timeout:
            raise ReadTimeout("no bytes within the read timeout") from None
        except OSError as exc:
            raise ProtocolError(f"connection lost ({exc.strerror or type(exc).__name__})") from None
        if not data:
            return False
        if self.pos > READ_SIZE and self.pos * 2 > len(self.buf):
            del self.buf[: self.pos]
            self.scan -= self.pos
            self.pos = 0
        self.buf += data
        return True

    def readline(self, limit: int, block: bool = True) -> bytes | None:
        """The next line with its ending; the rest of the stream when it ends without
        one; None at the end of the stream."""
        while True:
            i = self.buf.find(b"\n", max(self.pos, self.scan))
            if i >= 0:
                line = bytes(self.buf[self.pos : i + 1])
                self.pos = self.scan = i + 1
                return line
            self.scan = len(self.buf)
            if self.buffered() > limit:
                raise ProtocolError(f"a line longer than {limit} bytes")
            if not self.fill(block):
                if not self.buffered():
                    return None
                line = bytes(self.buf[self.pos :])
                self.pos = self.scan = len(self.buf)
                return line

    def take(self, n: int, block: bool = True) -> bytes:
        """Up to ``n`` bytes (whatever is there, after at most one wait); b"" at the end."""
        if not self.buffered() and not self.fill(block):
            return b""
        end = min(self.pos + n, len(self.buf))
        out = bytes(self.buf[self.pos : end])
        self.pos = end
        self.scan = max(self.scan, end)
        return out

    def send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except socket.timeout:
            raise ReadTimeout("the request could not be sent within the read timeout") from None
        except OSError as exc:
            raise ConnectError(f"connection failed while sending ({exc.strerror or type(exc).__name__})") from None


def _readable(sock) -> bool:
    """Whether a read would return at once (data, the end, or an error). poll, not
    select: select cannot watch a descriptor numbered 1024 or more."""
    try:
        if hasattr(select, "poll"):
            p = select.poll()
            p.register(sock, select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP)
            return bool(p.poll(0))
        return bool(select.select([sock], [], [], 0)[0])  # Windows: no poll, no such limit
    except (OSError, ValueError):
        return True  # a broken socket: reading says how


class _Decoder:
    """gzip/deflate decoding of a compressed body, capped per input chunk so a small
    bomb cannot become gigabytes in one call."""

    def __init__(self, coding: str):
        import zlib

        self._zlib = zlib
        self._head = b"" if coding == "deflate" else None  # deflate: zlib-wrapped or raw, told by its first 2 bytes
        self._d = zlib.decompressobj(16 + zlib.MAX_WBITS) if coding == "gzip" else None

    def feed(self, data: bytes, cap: int) -> bytes:
        if self._d is None:
            self._head += data
            if len(self._head) < 2:
                return b""
            cmf, flg = self._head[0], self._head[1]
            wrapped = cmf & 0x0F == 8 and (cmf * 256 + flg) % 31 == 0
            self._d = self._zlib.decompressobj(self._zlib.MAX_WBITS if wrapped else -self._zlib.MAX_WBITS)
            data, self._head = self._head, None
        try:
            out = self._d.decompress(data, cap + 1)
        except self._zlib.error:
            raise ProtocolError("the compressed body is corrupt") from None
        if len(out) > cap or self._d.unconsumed_tail:
            raise ProtocolError("the compressed body expands beyond what a reply can be")
        return out


class Response:
    """A response whose body is read on demand (``iter_lines``) or at once (``content``)."""

    def __init__(self, session: "Session", conn: _Conn, target: _Target, method: str):
        self._session = session
        self._conn = conn
        self.url = f"{target.scheme}://{target.host_header}{target.path}"
        self.status_code, self.reason, version, self.headers = self._read_head(conn)
        self._content: bytes | None = None
        te = (self.headers.get("transfer-encoding") or "").lower()
        codings = [c.strip() for c in te.split(",") if c.strip() not in ("", "identity")]  # identity is no coding
        conn_hdr = (self.headers.get("connection") or "").lower()
        self._reusable = "close" not in conn_hdr and (version == "HTTP/1.1" or "keep-alive" in conn_hdr)
        self._left = 0
        self._trailers = 0
        if method == "HEAD" or self.status_code in (204, 304):
            self._state = "done"
        elif codings:
            if codings != ["chunked"]:
                raise ProtocolError(f"unsupported transfer-encoding {te[:60]!r} (only chunked)")
            self._state = "size"
        elif self.headers.get("content-length") is not None:
            values = {v.strip() for v in self.headers["content-length"].split(",")}
            only = next(iter(values))
            if len(values) != 1 or not (only.isascii() and only.isdigit()) or len(only) > 15:
                raise ProtocolError(f"bad Content-Length {self.headers['content-length'][:40]!r}")
            self._left = int(only)
            self._state = "length"
        else:
            self._state = "close"
            self._reusable = False
        coding = (self.headers.get("content-encoding") or "").strip().lower()
        self._decoder = _Decoder(coding) if coding in ("gzip", "x-gzip", "deflate") else None
        if self._decoder is not None and coding == "x-gzip":
            self._decoder = _Decoder("gzip")
        if self._state == "done":
            self._release()

    @staticmethod
    def _read_head(conn: _Conn):
        for _ in range(MAX_INTERIM + 1):  # 1xx interim responses (103 Early Hints) come before the real one
            first = conn.readline(MAX_HEAD)
            if first is None:
                raise ProtocolError("the server closed the connection without a response")
            parts = first.decode("latin-1").strip().split(" ", 2)
            if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not (parts[1].isascii() and parts[1].isdigit() and len(parts[1]) == 3):
                raise ProtocolError(f"not an HTTP/1.x status line: {first[:60]!r}")
            status = int(parts[1])
            headers = Headers()
            size = len(first)
            last = None
            while True:
                line = conn.readline(MAX_HEAD)
                if line is None:
                    raise ProtocolError("the connection ended inside the response headers")
                size += len(line)
                if size > MAX_HEAD:
                    raise ProtocolError("response headers over 64 KiB")
                text = line.decode("latin-1").rstrip("\r\n")
                if not text:
                    break
                if text[0] in " \t" and last is not None:  # an obsolete folded continuation
                    headers[last] = dict.__getitem__(headers, last) + " " + text.strip()
                    continue
                name, sep, value = text.partition(":")
                if not sep or not name.strip() or name != name.strip():
                    raise ProtocolError(f"malformed header line {text[:60]!r}")
                last = name.lower()
                old = dict.get(headers, last)
                headers[last] = value.strip() if old is None else f"{old}, {value.strip()}"
            if status >= 200 or status == 101:
                return status, (parts[2] if len(parts) > 2 else ""), parts[0], headers
        raise ProtocolError(f"more than {MAX_INTERIM} interim (1xx) responses")

    # body -----------------------------------------------------------------
    def _next_raw(self, block: bool = True) -> bytes:
        """The next piece of the body as sent (before content decoding); b"" at its end."""
        c = self._conn
        while True:
            st = self._state
            if st == "done":
                return b""
            if st == "length" or st == "data":
                if self._left == 0:
                    if st == "length":
                        self._release()
                        return b""
                    self._state = "crlf"
                    continue
                data = c.take(self._left, block)
                if not data:
                    raise ProtocolError("the connection ended before the body did")
                self._left -= len(data)
                return data
            if st == "close":
                data = c.take(READ_SIZE, block)
                if not data:
                    self._release()
                return data
            line = c.readline(4096, block)
            if st == "size":
                if line is None:
                    raise ProtocolError("the connection ended inside a chunked body")
                size = line.split(b";", 1)[0].strip()
                if not size or len(size) > 15 or size.strip(b"0123456789abcdefABCDEF"):
                    raise ProtocolError(f"bad chunk size {line[:40]!r}")
                self._left = int(size, 16)
                self._state = "data" if self._left else "trailers"
            elif st == "crlf":
                if line is None or line.strip():
                    raise ProtocolError("a chunk did not end where its size said")
                self._state = "size"
            else:  # trailers: skipped up to the blank line that ends the body
                if line is None:
                    self._reusable = False
                if line is None or not line.strip():
                    self._release()
                    return b""
                self._trailers += 1
                if self._trailers > MAX_TRAILERS:
                    raise ProtocolError(f"more than {MAX_TRAILERS} trailer lines")

    def iter_content(self):
        """The body in decoded pieces, each as soon as it arrives."""
        if self._content is not None:  # read already (a request made without stream=True)
            if self._content:
                yield self._content
            return
        total = 0
        while True:
            raw = self._next_raw()
            if not raw:
                return
            data = self._decoder.feed(raw, MAX_BODY - total) if self._decoder else raw
            total += len(data)
            if data:
                yield data

    def iter_lines(self, chunk_size=None, decode_unicode=False):
        """The body's lines without their endings (``\\n``, ``\\r\\n`` or a lone ``\\r``),
        each as soon as its ending arrives. The arguments are requests' and change nothing."""
        pending: list[bytes] = []  # pieces of a line not yet ended (joined once, not per piece)
        size = 0
        after_cr = False  # the last piece ended in CR: a LF opening the next one belongs to it
        for data in self.iter_content():
            if after_cr and data.startswith(b"\n"):
                data = data[1:]
            after_cr = data.endswith(b"\r")
            start = 0
            for m in _EOL.finditer(data):
                line = data[start : m.start()]
                if pending:
                    line = b"".join(pending) + line
                    pending, size = [], 0
                yield line
                start = m.end()
            if start < len(data):
                pending.append(data[start:])
                size += len(data) - start
                if size > MAX_LINE:
                    raise ProtocolError(f"a streamed line longer than {MAX_LINE} bytes")
        if pending:
            yield b"".join(pending)

    @property
    def content(self) -> bytes:
        if self._content is None:
            parts, total = [], 0
            for data in self.iter_content():
                total += len(data)
                if total > MAX_BODY:
                    self.close()
                    raise ProtocolError(f"a body over {MAX_BODY} bytes")
                parts.append(data)
            self._content = b"".join(parts)
        return self._content

    @property
    def text(self) -> str:
        ctype = self.headers.get("content-type") or ""
        charset = "utf-8"
        for part in ctype.split(";")[1:]:
            k, _, v = part.strip().partition("=")
            if k.lower() == "charset" and v:
                charset = v.strip("\"' ")
        try:
            return self.content.decode(charset, "replace")
        except (LookupError, ValueError):  # no such codec, or one that cannot decode (idna, undefined)
            return self.content.decode("utf-8", "replace")

    def json(self):
        """The body as JSON; ``ValueError`` for anything else (nesting too deep included)."""
        try:
            return _json.loads(self.content)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None

    # connection -----------------------------------------------------------
    def _release(self):
        self._state = "done"
        conn, self._conn = self._conn, None
        if conn is not None:
            if self._reusable and not conn.buffered():
                self._session._idle(conn)
            else:
                conn.close()

    def close(self):
        """Done with this response. What is left of the body is read only if it is
        already here (a stream's closing chunk after ``[DONE]``), so the connection can
        be kept; otherwise the connection is closed rather than waited on."""
        if self._conn is None:
            return
        if not self._reusable:
            self._conn.close()
            self._conn = None
            self._state = "done"
            return
        try:
            self._conn.sock.settimeout(0)  # never wait here: a read that would wait fails instead
            for _ in range(64):
                if not self._next_raw(block=False):
                    break
        except (_NotReady, HTTPError, OSError):
            pass
        if self._conn is not None:
            self._conn.close()
            self._conn = None
            self._state = "done"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        conn = getattr(self, "_conn", None)
        if conn is not None:
            conn.close()


class Session:
    """Requests to any number of servers, one idle keep-alive connection kept per server.
    Not shared between threads (each thread makes its own, as with requests)."""

    def __init__(self):
        self.headers: dict[str, str] = {}
        self._pool: dict[tuple, _Conn] = {}

    def _idle(self, conn: _Conn):
        old = self._pool.pop(conn.key, None)
        if old is not None:
            old.close()
        conn.reused = True
        self._pool[conn.key] = conn

    def _connect(self, target: _Target, connect_timeout):
        conn = self._pool.pop(target.key, None)
        if conn is not None:
            if not conn.ready():  # an idle connection with bytes (or EOF) waiting is dead
                return conn
            conn.close()
        return _Conn(target, connect_timeout)

    def request(self, method: str, url: str, *, data=None, json=None, headers=None, stream: bool = False, timeout=None) -> Response:
        if json is not None:
            data = _json.dumps(json)
            headers = {"Content-Type": "application/json", **(headers or {})}
        body = data.encode("utf-8") if isinstance(data, str) else (data or b"")
        connect_timeout, read_timeout = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        first_host = basic = None
        for _ in range(MAX_REDIRECTS + 1):
            target = _Target(url)
            if first_host is None:
                first_host, basic = target.key, target.basic
            elif target.key == first_host and target.basic is None:
                target.basic = basic  # the URL's user:password still holds on its own server
            merged: dict[str, tuple] = {}  # by lower-cased name: a later spelling replaces an earlier one
            for k, v in [*self.headers.items(), *(headers or {}).items()]:
                merged[k.lower()] = (k, v)
            hdrs = dict(merged.values())
            if target.key != first_host:  # a key never follows a redirect to another server
                hdrs = {k: v for k, v in hdrs.items() if k.lower() != "authorization"}
            r = self._send(method, target, hdrs, body, connect_timeout, read_timeout)
            if r.status_code not in (301, 302, 303, 307, 308) or not r.headers.get("location"):
                if not stream:
                    r.content  # noqa: B018 - read now, the connection goes back to the pool
                return r
            r.close()
            from urllib.parse import urljoin

            try:
                url = urljoin(r.url, r.headers["location"])
            except ValueError:
                raise ProtocolError(f"a redirect to an unreadable Location {r.headers['location'][:80]!r}") from None
            if r.status_code in (301, 302, 303) and method != "HEAD":
                method, body = "GET", b""
        raise ProtocolError(f"more than {MAX_REDIRECTS} redirects")

    def _send(self, method, target: _Target, hdrs: dict, body: bytes, connect_timeout, read_timeout) -> Response:
        lines = [f"{method} {target.path} HTTP/1.1".encode("ascii"), _safe_header("Host", target.host_header)]
        names = {k.lower() for k in hdrs}
        defaults = {"User-Agent": USER_AGENT, "Accept": "*/*", "Connection": "keep-alive"}
        for k, v in defaults.items():
            if k.lower() not in names:
                lines.append(_safe_header(k, v))
        if target.basic and "authorization" not in names:
            lines.append(_safe_header("Authorization", target.basic))
        for k, v in hdrs.items():
            if k.lower() not in ("host", "content-length", "transfer-encoding"):
                lines.append(_safe_header(k, v))
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(b"Content-Length: %d" % len(body))
        wire = b"\r\n".join(lines) + b"\r\n\r\n" + body
        for attempt in (0, 1):
            conn = self._connect(target, connect_timeout)
            try:
                conn.sock.settimeout(read_timeout)
                conn.send(wire)
                return Response(self, conn, target, method)
            except (ConnectError, ProtocolError) as exc:
                conn.close()
                # a kept connection the server had just closed: a request that could not be
                # sent on it goes once more on a new connection; one that was sent is only
                # repeated when repeating is harmless (GET, HEAD): a chat request is never
                # generated twice behind the caller's back
                unsent = isinstance(exc, ConnectError)
                if attempt == 0 and conn.reused and (unsent or method in ("GET", "HEAD")):
                    continue
                raise
            except BaseException:
                conn.close()
                raise
        raise ProtocolError("unreachable")  # pragma: no cover

    def get(self, url, **kw) -> Response:
        return self.request("GET", url, **kw)

    def post(self, url, **kw) -> Response:
        return self.request("POST", url, **kw)

    def close(self):
        for conn in self._pool.values():
            conn.close()
        self._pool.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
