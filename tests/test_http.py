"""The providers' HTTP/1.1 client (benchloop.providers.http) against servers that say
exactly what we script, byte for byte: raw sockets on 127.0.0.1, one thread per
accepted connection. The server is untrusted, so most of this is odd or hostile wire
input, and every failure must be one of the client's own exceptions (HTTPError and
its subclasses), never a ValueError or UnicodeError from deep inside.

Each case that once found a bug (a unicode digit in a status line, a lone CR held
back, select() past descriptor 1024, a raw-deflate body cut after one byte...) stays
here as a plain test.
"""
from __future__ import annotations

import base64
import functools
import gzip
import json
import os
import socket
import threading
import time
import tracemalloc
import zlib
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchloop.providers import ProviderError, make_provider
from benchloop.providers import http

T = (1.0, 1.0)  # (connect, read) for tests that expect no waiting at all
SHORT = (1.0, 0.3)  # for tests that expect a read timeout
PEER_WAIT = 2.0  # the scripted server's own patience, a safety net only


# --------------------------------------------------------------------------------------
# the scripted raw server
# --------------------------------------------------------------------------------------
class Peer:
    """One accepted connection, as the scripted server sees it."""

    def __init__(self, server: "RawServer", sock: socket.socket, index: int):
        self.server, self.sock, self.index = server, sock, index
        self.buf = b""
        sock.settimeout(PEER_WAIT)

    def read_request(self):
        """The next request on this connection, or None when the client closed it."""
        try:
            while b"\r\n\r\n" not in self.buf:
                data = self.sock.recv(65536)
                if not data:
                    return None
                self.buf += data
            head, self.buf = self.buf.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            method, path, version = lines[0].split(" ")
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            n = int(headers.get("content-length", 0))
            while len(self.buf) < n:
                data = self.sock.recv(65536)
                if not data:
                    return None
                self.buf += data
        except OSError:
            return None
        body, self.buf = self.buf[:n], self.buf[n:]
        req = SimpleNamespace(method=method, path=path, version=version, headers=headers, body=body, head=head, conn=self.index)
        self.server.requests.append(req)
        return req

    def send(self, *parts: bytes, pause: float = 0.0):
        for i, part in enumerate(parts):
            if i and pause:
                time.sleep(pause)
            self.sock.sendall(part)

    def wait_closed(self, timeout: float = PEER_WAIT) -> bool:
        """Read and drop bytes until the client closes (True) or ``timeout`` passes (False)."""
        self.sock.settimeout(timeout)
        try:
            while self.sock.recv(65536):
                pass
            return True
        except socket.timeout:
            return False
        except OSError:
            return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class RawServer:
    """Listens on 127.0.0.1:<free port>; runs ``handler(peer)`` for each connection."""

    def __init__(self, handler):
        self.handler = handler
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(32)
        self.lsock.settimeout(0.02)
        self.port = self.lsock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.accepted = 0
        self.requests: list = []
        self.peers: list[Peer] = []
        self.errors: list = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._accept_loop, daemon=True)]
        self._threads[0].start()

    def _accept_loop(self):
        while not self._stop.is_set():
            try:
                sock, _ = self.lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            peer = Peer(self, sock, self.accepted)
            self.accepted += 1
            self.peers.append(peer)
            t = threading.Thread(target=self._serve, args=(peer,), daemon=True)
            self._threads.append(t)
            t.start()

    def _serve(self, peer: Peer):
        try:
            self.handler(peer)
        except OSError:
            pass  # the client went away: many tests make it do so on purpose
        except Exception as exc:  # a mistake in the test's own script: report it
            self.errors.append(exc)
        finally:
            peer.close()

    def close(self):
        self._stop.set()
        for peer in list(self.peers):
            try:
                peer.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for t in self._threads:
            t.join(1.0)
        self.lsock.close()
        return self.errors


@pytest.fixture
def serve():
    """``serve(handler)`` starts a scripted server; all are stopped after the test."""
    servers = []

    def start(handler):
        s = RawServer(handler)
        servers.append(s)
        return s

    yield start
    errors = [e for s in servers for e in s.close()]
    assert not errors, f"the scripted server itself failed: {errors!r}"


@pytest.fixture
def session():
    s = http.Session()
    yield s
    s.close()


def replies(*items):
    """A handler answering each request, on whichever connection, with the next item:
    bytes are sent as they are; a callable is called with (peer, request) and may close
    the peer. The connection is closed once the items run out."""
    queue = list(items)
    lock = threading.Lock()

    def handler(peer: Peer):
        while True:
            req = peer.read_request()
            if req is None:
                return
            with lock:
                if not queue:
                    return
                item = queue.pop(0)
            if callable(item):
                item(peer, req)
            else:
                peer.send(item)

    return handler


def response(body: bytes = b"", status: str = "200 OK", headers=(), length: bool = True, version: str = "HTTP/1.1") -> bytes:
    lines = [f"{version} {status}", *headers]
    if length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"


def chunk(data: bytes, ext: bytes = b"") -> bytes:
    return b"%x%s\r\n%s\r\n" % (len(data), ext, data)


def chunked(*pieces: bytes, trailers=()) -> bytes:
    return b"".join(chunk(p) for p in pieces) + b"0\r\n" + b"".join(t + b"\r\n" for t in trailers) + b"\r\n"


def refused_port():
    """A port that refuses: bound (so nobody else takes it) but not listening."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    return s


# --------------------------------------------------------------------------------------
# a fake socket, for exact control of what each recv() returns (no server, no timing)
# --------------------------------------------------------------------------------------
class FakeSock:
    def __init__(self, pieces):
        self.pieces = [p for p in pieces if p]
        self.sent = bytearray()
        self.closed = False

    def recv(self, n):
        if not self.pieces:
            return b""
        p = self.pieces.pop(0)
        if len(p) > n:
            self.pieces.insert(0, p[n:])
            p = p[:n]
        return p

    def sendall(self, data):
        self.sent += data

    def settimeout(self, t):
        pass

    def setsockopt(self, *a):
        pass

    def close(self):
        self.closed = True


def fake_wire(mp: pytest.MonkeyPatch, pieces):
    """Make the client's next connection a FakeSock delivering ``pieces`` one per recv."""
    made = []

    def create_connection(address, timeout=None, *a, **kw):
        s = FakeSock(pieces)
        s.address = address
        made.append(s)
        return s

    mp.setattr(http.socket, "create_connection", create_connection)
    return made


def split_at(data: bytes, cuts) -> list[bytes]:
    cuts = sorted({c for c in cuts if 0 < c < len(data)})
    return [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)])]


# ======================================================================================
# bodies: Content-Length, chunked, close-delimited; content, text, json
# ======================================================================================
def test_content_length_body_text_and_json(serve, session):
    body = json.dumps({"a": "é", "n": [1, 2]}).encode()
    srv = serve(replies(response(body, headers=["Content-Type: application/json"])))
    r = session.get(srv.url + "/x", timeout=T)
    assert r.status_code == 200 and r.reason == "OK"
    assert r.content == body
    assert r.json() == {"a": "é", "n": [1, 2]}
    assert r.headers["content-type"] == r.headers.get("Content-Type") == "application/json"
    assert "CONTENT-TYPE" in r.headers


def test_chunked_body_with_extensions_and_trailers_then_reuse(serve, session):
    wire = CHUNKED_HEAD + chunk(b"hello ", b";name=value") + chunk(b"world", b'; q="a;b"') + b"0;last\r\nX-Checksum: 1\r\nX-Other: 2\r\n\r\n"
    srv = serve(replies(wire, response(b"second")))
    assert session.get(srv.url, timeout=T).content == b"hello world"
    # the trailers were consumed exactly: the next response on the connection parses
    assert session.get(srv.url, timeout=T).content == b"second"
    assert srv.accepted == 1


def test_close_delimited_body(serve, session):
    def close_delimited(peer, req):
        peer.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n", b"no length ", b"at all", pause=0.02)
        peer.close()

    srv = serve(replies(close_delimited, response(b"next")))
    assert session.get(srv.url, timeout=T).text == "no length at all"
    assert session.get(srv.url, timeout=T).content == b"next"  # needs a new connection
    assert srv.accepted == 2


@pytest.mark.parametrize(
    "ctype, body, text",
    [
        ("text/plain; charset=iso-8859-1", b"caf\xe9", "café"),
        ('text/plain; charset="latin-1"', b"caf\xe9", "café"),
        ("text/plain; Charset=UTF-16-LE", "café".encode("utf-16-le"), "café"),
        ("text/plain", "café".encode(), "café"),  # utf-8 by default
        ("text/plain; charset=no-such-codec", "café".encode(), "café"),  # unknown: utf-8
        ("text/plain; charset=base64", b"caf\xc3\xa9", "café"),  # not a text codec: utf-8
        ("text/plain", b"caf\xff", "caf\ufffd"),  # undecodable bytes are replaced
    ],
)
def test_text_uses_the_charset(serve, session, ctype, body, text):
    srv = serve(replies(response(body, headers=[f"Content-Type: {ctype}"])))
    assert session.get(srv.url, timeout=T).text == text


@pytest.mark.parametrize("charset", ["undefined", "idna", "utf\x008"])
def test_text_with_a_hostile_charset_is_still_text(serve, session, charset):
    srv = serve(replies(response(b"oops \xff", headers=[f"Content-Type: text/plain; charset={charset}"])))
    r = session.get(srv.url, timeout=T)
    assert r.text.startswith("oops")


def test_json_errors_are_value_errors(serve, session):
    srv = serve(replies(response(b"not json"), response(b"[" * 200000), response(b'"\xff"')))
    for _ in range(3):
        r = session.get(srv.url, timeout=T)
        with pytest.raises(ValueError):
            r.json()


def test_head_204_and_304_have_no_body_and_keep_the_connection(serve, session):
    srv = serve(replies(
        b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n",  # HEAD: the length is not a body
        b"HTTP/1.1 204 No Content\r\n\r\n",
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n",
        response(b"last"),
    ))
    assert session.request("HEAD", srv.url, timeout=T).content == b""
    assert session.get(srv.url, timeout=T).status_code == 204
    assert session.get(srv.url, timeout=T).content == b""
    assert session.get(srv.url, timeout=T).content == b"last"
    assert srv.accepted == 1


def test_interim_1xx_responses_are_skipped(serve, session):
    wire = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
        + response(b"real", headers=["X-Final: yes"])
    )
    srv = serve(replies(wire, response(b"again")))
    r = session.get(srv.url, timeout=T)
    assert (r.status_code, r.content, r.headers.get("x-final")) == (200, b"real", "yes")
    assert "link" not in r.headers  # the interim response's headers are not the final ones
    assert session.get(srv.url, timeout=T).content == b"again"
    assert srv.accepted == 1


def test_header_folding_and_repeated_headers(serve, session):
    wire = b"HTTP/1.1 200 OK\r\nX-Fold: one\r\n  two\r\nX-Rep: a\r\nx-rep: b\r\nContent-Length: 2\r\n\r\nok"
    srv = serve(replies(wire))
    r = session.get(srv.url, timeout=T)
    assert r.headers["x-fold"] == "one two" and r.headers["X-Rep"] == "a, b" and r.content == b"ok"


def test_http10_response_is_not_kept(serve, session):
    srv = serve(replies(response(b"old", version="HTTP/1.0"), response(b"new")))
    assert session.get(srv.url, timeout=T).content == b"old"
    assert session.get(srv.url, timeout=T).content == b"new"
    assert srv.accepted == 2


# ======================================================================================
# iter_lines: SSE across arbitrary boundaries, each line as soon as it is complete
# ======================================================================================
def test_sse_lines_split_across_chunks(serve, session):
    pieces = [b"data: {\"a\"", b": 1}\r", b"\n\r\ndata: two\r", b"\rdata: three\n", b"\n", b"data: last"]
    srv = serve(replies(CHUNKED_HEAD + chunked(*pieces)))
    with session.get(srv.url, stream=True, timeout=T) as r:
        lines = list(r.iter_lines(chunk_size=None, decode_unicode=False))
    assert lines == [b'data: {"a": 1}', b"", b"data: two", b"", b"data: three", b"", b"data: last"]


def test_crlf_split_between_two_packets_is_one_line_end(serve, session):
    def slow(peer, req):
        peer.send(CHUNKED_HEAD + chunk(b"data: 1\r"), chunk(b"\ndata: 2\r"), chunk(b"\n") + b"0\r\n\r\n", pause=0.05)

    srv = serve(replies(slow))
    with session.get(srv.url, stream=True, timeout=T) as r:
        assert list(r.iter_lines()) == [b"data: 1", b"data: 2"]


LINE_CASES = [
    pytest.param(b"data: 1\n", b"data: 2\n", [b"data: 1", b"data: 2"], id="lf"),
    pytest.param(b"data: 1\r\n\r\n", b"data: 2\r\n\r\n", [b"data: 1", b"", b"data: 2", b""], id="crlf-event"),
    pytest.param(b"data: 1\n", b"data: 2", [b"data: 1", b"data: 2"], id="no-final-newline"),
    pytest.param(
        b"data: 1\rdata: 2", b"\r", [b"data: 1", b"data: 2"], id="lone-cr",
    ),
]


@pytest.mark.parametrize("framing", ["length", "chunked", "close"])
@pytest.mark.parametrize("first, rest, expected", LINE_CASES)
def test_each_line_arrives_as_soon_as_it_is_complete(serve, session, framing, first, rest, expected):
    got_first, rest_sent = threading.Event(), threading.Event()

    def stream(peer, req):
        if framing == "length":
            head, a, b = response(b"", headers=[f"Content-Length: {len(first) + len(rest)}"], length=False), first, rest
        elif framing == "chunked":
            head, a, b = CHUNKED_HEAD, chunk(first), chunked(rest)
        else:
            head, a, b = response(b"", length=False), first, rest
        peer.send(head + a)
        got_first.wait(0.3)  # the client must have line one before the rest is even sent
        rest_sent.set()
        peer.send(b)
        if framing == "close":
            peer.close()

    srv = serve(replies(stream))
    with session.get(srv.url, stream=True, timeout=T) as r:
        it = r.iter_lines()
        line = next(it)
        early = not rest_sent.is_set()
        got_first.set()
        lines = [line, *it]
    assert lines == expected
    assert early, "the first line only came after the server had sent more"


def test_lone_cr_lines_do_not_add_up_to_one_long_line(serve, session, monkeypatch):
    monkeypatch.setattr(http, "MAX_LINE", 64)
    srv = serve(replies(CHUNKED_HEAD + chunked(b"data: x\r" * 40)))
    with session.get(srv.url, stream=True, timeout=T) as r:
        assert list(r.iter_lines()) == [b"data: x"] * 40


def test_empty_lines_ended_by_lone_cr_at_the_end_are_kept(serve, session):
    srv = serve(replies(response(b"a\r\r")))
    with session.get(srv.url, stream=True, timeout=T) as r:
        assert list(r.iter_lines()) == [b"a", b""]


@st.composite
def line_bodies(draw):
    """(lines, body): lines without CR/LF, each ended by LF, CRLF or a lone CR (the last
    maybe by nothing), never a lone CR right before a LF (that would be a CRLF)."""
    lines = draw(st.lists(st.binary(max_size=12).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")), max_size=12))
    ends = [draw(st.sampled_from([b"\n", b"\r\n", b"\r"])) for _ in lines]
    if lines and lines[-1] and draw(st.booleans()):
        ends[-1] = b""
    for i in range(len(lines) - 1):
        if ends[i] == b"\r" and lines[i + 1] == b"" and ends[i + 1] == b"\n":
            ends[i] = b"\r\n"
    return lines, b"".join(l + e for l, e in zip(lines, ends))


@st.composite
def framed(draw, body: bytes):
    """Wire bytes of a response carrying ``body``, and how recv() cuts them."""
    framing = draw(st.sampled_from(["chunked", "length", "close"]))
    if framing == "chunked":
        pieces = [p for p in split_at(body, draw(st.lists(st.integers(0, max(len(body), 1)), max_size=8))) if p]
        exts = [draw(st.sampled_from([b"", b";x=1", b'; n="v;w"', b" ;e"])) for _ in pieces]
        trailers = draw(st.lists(st.sampled_from([b"X-T: 1", b"Digest: abc"]), max_size=2))
        wire = CHUNKED_HEAD + b"".join(chunk(p, e) for p, e in zip(pieces, exts)) + b"0\r\n" + b"".join(t + b"\r\n" for t in trailers) + b"\r\n"
    elif framing == "length":
        wire = response(body)
    else:
        wire = response(body, length=False)
    return split_at(wire, draw(st.lists(st.integers(0, len(wire)), max_size=12)))


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_iter_lines_returns_exactly_the_lines_whatever_the_chunking(data):
    lines, body = data.draw(line_bodies())
    recvs = data.draw(framed(body))
    with pytest.MonkeyPatch.context() as mp:
        made = fake_wire(mp, recvs)
        with http.Session() as s:
            with s.get("http://example.test/events", stream=True, timeout=T) as r:
                got = list(r.iter_lines())
    assert got == lines
    assert bytes(made[0].sent).startswith(b"GET /events HTTP/1.1\r\n")


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_content_is_exactly_the_body_whatever_the_chunking(data):
    body = data.draw(st.binary(max_size=300))
    recvs = data.draw(framed(body))
    with pytest.MonkeyPatch.context() as mp:
        fake_wire(mp, recvs)
        with http.Session() as s:
            assert s.get("http://example.test/", timeout=T).content == body


# ======================================================================================
# keep-alive
# ======================================================================================
def test_two_requests_share_one_connection(serve, session):
    srv = serve(replies(response(b"one"), response(b"two")))
    assert session.get(srv.url, timeout=T).content == b"one"
    assert session.post(srv.url, json={"k": 1}, timeout=T).content == b"two"
    assert srv.accepted == 1 and [r.conn for r in srv.requests] == [0, 0]


def test_connection_close_is_not_reused(serve, session):
    # a sloppy server that says close but would go on answering: the client must not
    srv = serve(replies(response(b"one", headers=["Connection: close"]), response(b"two")))
    assert session.get(srv.url, timeout=T).content == b"one"
    assert session.get(srv.url, timeout=T).content == b"two"
    assert srv.accepted == 2


def test_stale_idle_connection_is_noticed_before_reuse(serve, session):
    closed = threading.Event()

    def answer_then_close(peer, req):
        peer.send(response(b"one"))
        peer.close()
        closed.set()

    srv = serve(replies(answer_then_close, response(b"two")))
    assert session.get(srv.url, timeout=T).content == b"one"
    assert closed.wait(1)
    time.sleep(0.02)
    assert session.get(srv.url, timeout=T).content == b"two"
    assert srv.accepted == 2 and len(srv.requests) == 2


def test_request_on_a_connection_closed_unnoticed_goes_again_on_a_fresh_one(serve, session, monkeypatch):
    # the race the readiness check cannot see: the server closes just as the request goes
    closed = threading.Event()

    def answer_then_close(peer, req):
        peer.send(response(b"one"))
        peer.close()
        closed.set()

    srv = serve(replies(answer_then_close, response(b"two")))
    assert session.get(srv.url, timeout=T).content == b"one"
    assert closed.wait(1)
    time.sleep(0.02)
    monkeypatch.setattr(http._Conn, "ready", lambda self: False)
    assert session.get(srv.url, timeout=T).content == b"two"
    assert srv.accepted == 2


def test_stream_closed_early_with_the_end_already_here_keeps_the_connection(serve, session):
    all_sent = threading.Event()

    def stream(peer, req):
        peer.send(CHUNKED_HEAD + chunk(b"data: 1\n\n") + chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")
        all_sent.set()
        req2 = peer.read_request()
        if req2 is not None:
            peer.send(response(b"second"))
        peer.wait_closed()

    srv = serve(replies(stream))
    with session.get(srv.url, stream=True, timeout=T) as r:
        for line in r.iter_lines():
            assert line == b"data: 1"
            assert all_sent.wait(1)
            time.sleep(0.02)
            break
    assert session.get(srv.url, timeout=T).content == b"second"
    assert srv.accepted == 1


def test_stream_closed_early_with_more_to_come_closes_the_connection(serve, session):
    saw_close = []

    def stream(peer, req):
        peer.send(CHUNKED_HEAD + chunk(b"data: 1\n\n"))
        saw_close.append(peer.wait_closed(1.0))  # the rest never comes; the client must hang up

    srv = serve(replies(stream, response(b"second")))
    with session.get(srv.url, stream=True, timeout=T) as r:
        it = r.iter_lines()
        assert next(it) == b"data: 1"
        t0 = time.perf_counter()
    assert time.perf_counter() - t0 < 0.8  # closing did not wait for the rest (that would be the 1 s read timeout)
    assert session.get(srv.url, timeout=T).content == b"second"
    assert srv.accepted == 2
    for _ in range(50):
        if saw_close:
            break
        time.sleep(0.01)
    assert saw_close == [True]


def test_leftover_bytes_after_a_response_mean_no_reuse(serve, session):
    srv = serve(replies(response(b"one") + b"GARBAGE", response(b"two")))
    assert session.get(srv.url, timeout=T).content == b"one"
    assert session.get(srv.url, timeout=T).content == b"two"
    assert srv.accepted == 2


def test_keep_alive_with_many_open_descriptors(serve, session):
    resource = pytest.importorskip("resource")
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1200:
        pytest.skip("cannot open 1100 descriptors here")
    pipes = []
    try:
        while not pipes or pipes[-1][1] < 1100:
            pipes.append(os.pipe())
        srv = serve(replies(response(b"one"), response(b"two")))
        assert session.get(srv.url, timeout=T).content == b"one"
        assert session.get(srv.url, timeout=T).content == b"two"
        assert srv.accepted == 1
    finally:
        for a, b in pipes:
            os.close(a)
            os.close(b)


# ======================================================================================
# errors map to the client's exception classes
# ======================================================================================
def test_connection_refused(session):
    s = refused_port()
    try:
        with pytest.raises(http.ConnectError, match="refused") as e:
            session.get(f"http://127.0.0.1:{s.getsockname()[1]}/", timeout=T)
        assert not isinstance(e.value, http.ConnectTimeout)
    finally:
        s.close()


@pytest.mark.parametrize(
    "raised, cls, words",
    [
        (socket.timeout("timed out"), http.ConnectTimeout, "timed out"),
        (socket.gaierror(-2, "Name or service not known"), http.ConnectError, "resolve"),
        (OSError(101, "Network is unreachable"), http.ConnectError, "unreachable"),
    ],
)
def test_connect_failures(session, monkeypatch, raised, cls, words):
    def create_connection(*a, **kw):
        raise raised

    monkeypatch.setattr(http.socket, "create_connection", create_connection)
    with pytest.raises(cls, match=words):
        session.get("http://blackhole.test:81/", timeout=T)


@pytest.mark.parametrize("host", ["a" * 64 + ".example", "a..example"])
def test_unencodable_host_is_a_connect_error(session, host):
    with pytest.raises(http.ConnectError):
        session.get(f"http://{host}/", timeout=T)


def _stall(*parts):
    def handler(peer):
        if peer.read_request() is not None:
            peer.send(*parts)
            peer.wait_closed()

    return handler


@pytest.mark.parametrize(
    "wire",
    [
        b"",  # nothing at all
        b"HTTP/1.1 200 OK\r\nContent-Le",  # inside the headers
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789",  # mid-body
        CHUNKED_HEAD + chunk(b"data: 1\n") + b"5\r\nda",  # mid-chunk
    ],
    ids=["before-status", "in-headers", "mid-body", "mid-chunk"],
)
def test_server_stalls_is_read_timeout(serve, session, wire):
    srv = serve(_stall(wire))
    t0 = time.perf_counter()
    with pytest.raises(http.ReadTimeout):
        session.get(srv.url, timeout=SHORT)
    assert 0.25 <= time.perf_counter() - t0 < 1.8  # the 0.3 s read timeout, not the server's 2 s patience


def test_stall_mid_stream_is_read_timeout_after_the_lines_so_far(serve, session):
    srv = serve(_stall(CHUNKED_HEAD + chunk(b"data: 1\n")))
    got = []
    with pytest.raises(http.ReadTimeout):
        with session.get(srv.url, stream=True, timeout=SHORT) as r:
            for line in r.iter_lines():
                got.append(line)
    assert got == [b"data: 1"]


def _cut(*parts):
    def handler(peer):
        if peer.read_request() is not None:
            peer.send(*parts)

    return handler  # returning closes the connection


@pytest.mark.parametrize(
    "wire",
    [
        b"",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nonly5",
        CHUNKED_HEAD + b"a\r\nonly5",
        CHUNKED_HEAD + chunk(b"whole"),
        CHUNKED_HEAD + b"5\r\nwhole",
        CHUNKED_HEAD + b"5",
    ],
    ids=["no-response", "in-headers", "short-length", "mid-chunk", "after-chunk", "before-chunk-crlf", "in-size-line"],
)
def test_server_closes_early_is_protocol_error(serve, session, wire):
    srv = serve(_cut(wire))
    with pytest.raises(http.ProtocolError):
        session.get(srv.url, timeout=T)
    srv2 = serve(_cut(wire))
    with pytest.raises(http.ProtocolError):  # the same, read as a stream
        with session.get(srv2.url, stream=True, timeout=T) as r:
            list(r.iter_lines())


BAD_HEADS = {
    "garbage": b"garbage\r\n\r\n",
    "ssh-banner": b"SSH-2.0-OpenSSH_9.6\r\n",
    "http2": b"HTTP/2 200 OK\r\n\r\n",
    "icy": b"ICY 200 OK\r\n\r\n",
    "short-status": b"HTTP/1.1 20 OK\r\n\r\n",
    "long-status": b"HTTP/1.1 2000 OK\r\n\r\n",
    "alpha-status": b"HTTP/1.1 abc OK\r\n\r\n",
    "no-status": b"HTTP/1.1\r\n\r\n",
    "binary": b"\x00\xff\xfe\r\n\r\n",
    "blank-first": b"\r\nHTTP/1.1 200 OK\r\n\r\n",
    "no-colon": b"HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n",
    "empty-name": b"HTTP/1.1 200 OK\r\n: value\r\n\r\n",
    "space-before-colon": b"HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok",
    "fold-first": b"HTTP/1.1 200 OK\r\n folded: x\r\n\r\n",
    "cl-conflict": b"HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello!",
    "cl-twice": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    "cl-negative": b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
    "cl-alpha": b"HTTP/1.1 200 OK\r\nContent-Length: 1e3\r\n\r\n",
    "cl-empty": b"HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n",
    "cl-huge": b"HTTP/1.1 200 OK\r\nContent-Length: 9999999999999999999999\r\n\r\n",
    "te-unknown": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
    "cl-unicode-digit": pytest.param(
        b"HTTP/1.1 200 OK\r\nContent-Length: \xb2\r\n\r\nab",
    ),
    "status-unicode-digit": pytest.param(
        b"HTTP/1.1 2\xb20 OK\r\nContent-Length: 0\r\n\r\n",
    ),
}


@pytest.mark.parametrize("wire", list(BAD_HEADS.values()), ids=list(BAD_HEADS))
def test_malformed_response_head_is_protocol_error(serve, session, wire):
    srv = serve(_cut(wire))
    with pytest.raises(http.ProtocolError):
        session.get(srv.url, timeout=T)


def test_repeated_equal_content_lengths_are_fine(serve, session):
    srv = serve(replies(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2, 2\r\n\r\nok"))
    assert session.get(srv.url, timeout=T).content == b"ok"


@pytest.mark.parametrize(
    "size_line",
    [b"zz", b"-1", b"0x10", b"1" * 20, b"f" * 16, b"", b" ", b"1_0", b"+5", b"5 5", b"a" * 5000, b"5\x00"],
    ids=["zz", "-1", "0x10", "20-digits", "16-digits", "empty", "space", "underscore", "plus", "two-numbers", "endless", "nul"],
)
def test_bad_chunk_size_is_protocol_error(serve, session, size_line):
    srv = serve(_stall(CHUNKED_HEAD + size_line + b"\r\nhello\r\n0\r\n\r\n"))
    with pytest.raises(http.ProtocolError):
        session.get(srv.url, timeout=T)


def test_chunk_longer_than_its_size_is_protocol_error(serve, session):
    srv = serve(_stall(CHUNKED_HEAD + b"5\r\nhello, world\r\n0\r\n\r\n"))
    with pytest.raises(http.ProtocolError):
        session.get(srv.url, timeout=T)


def test_headers_just_under_64k_are_fine_over_64k_are_not(serve, session):
    pad = [f"X-Pad-{i:03d}: " + "a" * 1000 for i in range(60)]
    srv = serve(replies(response(b"ok", headers=pad)))
    assert session.get(srv.url, timeout=T).content == b"ok"
    pad = [f"X-Pad-{i:03d}: " + "a" * 1000 for i in range(70)]
    srv = serve(_stall(response(b"ok", headers=pad)))
    with pytest.raises(http.ProtocolError, match="64 KiB"):
        session.get(srv.url, timeout=T)


@pytest.mark.parametrize("start", [b"HTTP/1.1 200 OK\r\nX-Endless: ", b"HTTP/1.1 200 "])
def test_endless_head_line_is_protocol_error_without_waiting_for_its_end(serve, session, start):
    def endless(peer):
        peer.read_request()
        peer.send(start)
        for _ in range(40):  # never a newline; the server keeps the connection open
            peer.send(b"x" * 4096)
        peer.wait_closed()

    srv = serve(endless)
    with pytest.raises(http.ProtocolError):
        session.get(srv.url, timeout=T)


@pytest.mark.parametrize("framing", ["chunked", "close"])
def test_endless_streamed_line_over_max_line_is_protocol_error(serve, session, monkeypatch, framing):
    monkeypatch.setattr(http, "MAX_LINE", 1024)

    def endless(peer):
        peer.read_request()
        peer.send(CHUNKED_HEAD if framing == "chunked" else response(length=False))
        peer.send(chunk(b"data: short\n") if framing == "chunked" else b"data: short\n")
        for _ in range(16):  # 8 KiB, never a newline; the server keeps the connection open
            peer.send(chunk(b"y" * 512) if framing == "chunked" else b"y" * 512)
        peer.wait_closed()

    srv = serve(endless)
    got = []
    with pytest.raises(http.ProtocolError, match="longer than"):
        with session.get(srv.url, stream=True, timeout=T) as r:
            for line in r.iter_lines():
                got.append(line)
    assert got == [b"data: short"]


# ======================================================================================
# compressed bodies
# ======================================================================================
TEXT = b"".join(b"data: line %d\n" % i for i in range(300))


def _raw_deflate(data: bytes) -> bytes:
    c = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return c.compress(data) + c.flush()


@pytest.mark.parametrize(
    "coding, packed",
    [
        ("gzip", gzip.compress(TEXT)),
        ("x-gzip", gzip.compress(TEXT)),
        ("GZip", gzip.compress(TEXT)),
        ("deflate", zlib.compress(TEXT)),  # zlib-wrapped, as the RFC says
        ("deflate", _raw_deflate(TEXT)),  # raw, as some servers send it
    ],
    ids=["gzip", "x-gzip", "GZip", "deflate-zlib", "deflate-raw"],
)
def test_compressed_bodies_decode(serve, session, coding, packed):
    srv = serve(replies(
        response(packed, headers=[f"Content-Encoding: {coding}"]),
        CHUNKED_HEAD.replace(b"\r\n\r\n", f"\r\nContent-Encoding: {coding}\r\n\r\n".encode()) + chunked(*split_at(packed, range(7, len(packed), 7))),
    ))
    assert session.get(srv.url, timeout=T).content == TEXT
    with session.get(srv.url, stream=True, timeout=T) as r:
        assert list(r.iter_lines()) == TEXT.splitlines()


def test_raw_deflate_whose_first_piece_is_one_byte(serve, session):
    packed = _raw_deflate(TEXT)
    head = CHUNKED_HEAD.replace(b"\r\n\r\n", b"\r\nContent-Encoding: deflate\r\n\r\n")
    srv = serve(replies(head + chunked(packed[:1], packed[1:])))
    assert session.get(srv.url, timeout=T).content == TEXT


def test_gzip_transfer_coding_is_decoded_or_refused(serve, session):
    srv = serve(replies(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" + chunked(gzip.compress(TEXT))))
    try:
        content = session.get(srv.url, timeout=T).content
    except http.ProtocolError:
        return
    assert content == TEXT


def test_corrupt_compressed_body_is_protocol_error(serve, session):
    bad = gzip.compress(TEXT)[:20] + b"\xff" * 50
    srv = serve(replies(response(bad, headers=["Content-Encoding: gzip"]), response(b"\x00\x01\x02garbage", headers=["Content-Encoding: deflate"])))
    with pytest.raises(http.ProtocolError):
        session.get(srv.url, timeout=T)
    with pytest.raises(http.ProtocolError):
        session.get(srv.url, timeout=T)


@functools.lru_cache(maxsize=1)
def _bomb() -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    mb = bytes(1 << 20)
    return b"".join(c.compress(mb) for _ in range(50)) + c.flush()  # 50 MiB of zeros in ~50 KiB


@pytest.mark.parametrize("stream", [False, True])
def test_gzip_bomb_is_protocol_error_not_memory(serve, session, monkeypatch, stream):
    monkeypatch.setattr(http, "MAX_BODY", 1 << 20)
    bomb = _bomb()
    assert len(bomb) < 100_000
    srv = serve(replies(response(bomb, headers=["Content-Encoding: gzip"])))
    tracemalloc.start()
    try:
        with pytest.raises(http.ProtocolError):
            r = session.get(srv.url, stream=stream, timeout=T)
            for _ in r.iter_lines():
                pass
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, f"{peak} bytes at peak"


def test_plain_body_over_max_body_is_protocol_error(serve, session, monkeypatch):
    monkeypatch.setattr(http, "MAX_BODY", 1000)
    srv = serve(replies(response(b"x" * 5000)))
    with pytest.raises(http.ProtocolError):
        session.get(srv.url, timeout=T)


# ======================================================================================
# redirects
# ======================================================================================
def redirect(status: str, location: str) -> bytes:
    return response(b"moved", status=status, headers=[f"Location: {location}"])


@pytest.mark.parametrize("status", ["307 Temporary Redirect", "308 Permanent Redirect"])
def test_307_and_308_keep_method_and_body(serve, session, status):
    srv = serve(replies(redirect(status, "/b"), response(b"done")))
    r = session.post(srv.url + "/a", data=b"payload", timeout=T)
    assert r.content == b"done" and r.url == srv.url + "/b"
    first, second = srv.requests
    assert (second.method, second.path, second.body) == ("POST", "/b", b"payload")
    assert second.headers["content-length"] == "7"


@pytest.mark.parametrize("status", ["301 Moved Permanently", "302 Found", "303 See Other"])
def test_301_302_303_turn_post_into_get(serve, session, status):
    srv = serve(replies(redirect(status, "/b?x=1"), response(b"done")))
    assert session.post(srv.url + "/a", json={"k": 1}, timeout=T).content == b"done"
    second = srv.requests[1]
    assert (second.method, second.path, second.body) == ("GET", "/b?x=1", b"")
    assert "content-length" not in second.headers


def test_authorization_follows_a_redirect_to_the_same_host_only(serve, session):
    other = serve(replies(response(b"other")))
    srv = serve(replies(redirect("302 Found", "/same"), response(b"same"), redirect("307 Temporary Redirect", other.url + "/x"), redirect("302 Found", "/again")))
    session.headers["Authorization"] = "Bearer session-key"
    assert session.get(srv.url, headers={"X-Keep": "1"}, timeout=T).content == b"same"
    assert [r.headers.get("authorization") for r in srv.requests] == ["Bearer session-key"] * 2
    # same host name, another port: another server; the key stays behind (per-request header too)
    del session.headers["Authorization"]
    assert session.post(srv.url, data=b"p", headers={"authorization": "Bearer request-key", "X-Keep": "1"}, timeout=T).content == b"other"
    assert srv.requests[2].headers["authorization"] == "Bearer request-key"
    (seen,) = other.requests
    assert "authorization" not in seen.headers and seen.headers["x-keep"] == "1" and seen.body == b"p"


def test_userinfo_basic_auth_follows_a_same_host_redirect(serve, session):
    srv = serve(replies(redirect("301 Moved Permanently", "/v1/"), response(b"ok")))
    url = srv.url.replace("http://", "http://user:pw@") + "/v1"
    assert session.get(url, timeout=T).content == b"ok"
    assert [r.headers.get("authorization") for r in srv.requests] == ["Basic " + base64.b64encode(b"user:pw").decode()] * 2


def test_at_most_five_redirects(serve, session):
    def hop(peer, req):
        n = int(req.path.strip("/") or 0)
        peer.send(redirect("302 Found", f"/{n + 1}") if n < 5 else response(b"arrived"))

    srv = serve(replies(*[hop] * 6))
    assert session.get(srv.url + "/0", timeout=T).content == b"arrived"  # five redirects: fine

    srv = serve(replies(*[lambda peer, req: peer.send(redirect("302 Found", "/loop"))] * 10))
    with pytest.raises(http.ProtocolError, match="redirects"):
        session.get(srv.url, timeout=T)
    assert len(srv.requests) == 6


@pytest.mark.parametrize("location", ["ftp://127.0.0.1/x", "http://127.0.0.1:99999/", "http:///nohost"])
def test_redirect_to_an_unusable_url_is_protocol_error(serve, session, location):
    srv = serve(replies(redirect("302 Found", location)))
    with pytest.raises(http.ProtocolError):
        session.get(srv.url, timeout=T)


def test_redirect_to_an_unparsable_url_is_protocol_error(serve, session):
    srv = serve(replies(redirect("302 Found", "http://[oops/")))
    with pytest.raises(http.ProtocolError):
        session.get(srv.url, timeout=T)


def test_redirect_without_location_is_the_response(serve, session):
    srv = serve(replies(response(b"no location", status="302 Found")))
    r = session.get(srv.url, timeout=T)
    assert (r.status_code, r.content) == (302, b"no location")


# ======================================================================================
# the request side
# ======================================================================================
@pytest.mark.parametrize("value", ["a\r\nX-Injected: 1", "a\nX-Injected: 1", "a\rb", "a\x00b"])
def test_header_value_with_a_line_break_is_refused_before_anything_is_sent(serve, session, value):
    srv = serve(replies(response(b"one"), response(b"two")))
    with pytest.raises(http.ProtocolError):
        session.get(srv.url, headers={"X-Evil": value}, timeout=T)
    assert srv.accepted == 0
    assert session.get(srv.url, timeout=T).content == b"one"
    session.headers["X-Evil"] = value  # the same through the session's own headers
    with pytest.raises(http.ProtocolError):
        session.get(srv.url, timeout=T)
    del session.headers["X-Evil"]
    assert session.get(srv.url, timeout=T).content == b"two"  # the kept connection is intact
    assert srv.accepted == 1 and len(srv.requests) == 2
    assert all("x-injected" not in r.headers and "x-evil" not in r.headers for r in srv.requests)


def test_line_breaks_in_the_url_do_not_split_the_request(serve, session):
    srv = serve(replies(response(b"ok")))
    assert session.get(srv.url + "/a b\r\nX-Injected: 1/ü?q=x y", timeout=T).content == b"ok"
    (req,) = srv.requests  # one request whose request line split into exactly three parts
    assert "x-injected" not in req.headers and req.version == "HTTP/1.1"
    assert req.path.startswith("/a%20b") and "%C3%BC" in req.path and req.path.endswith("?q=x%20y")


def test_basic_auth_from_userinfo_and_host_with_port(serve, session):
    srv = serve(replies(response(b"a"), response(b"b"), response(b"c")))
    base = srv.url.replace("http://", "http://us%40er:p%3Ass@")
    assert session.get(base + "/x", timeout=T).content == b"a"
    assert session.get(srv.url.replace("http://", "http://only@"), timeout=T).content == b"b"
    assert session.get(base, headers={"Authorization": "Bearer explicit"}, timeout=T).content == b"c"
    a, b, c = srv.requests
    assert a.headers["authorization"] == "Basic " + base64.b64encode(b"us@er:p:ss").decode()
    assert b.headers["authorization"] == "Basic " + base64.b64encode(b"only:").decode()
    assert c.headers["authorization"] == "Bearer explicit"  # an explicit header wins
    assert a.headers["host"] == f"127.0.0.1:{srv.port}" and a.path == "/x"
    assert a.headers["user-agent"] == "benchloop" and a.headers["connection"] == "keep-alive"


@pytest.mark.parametrize(
    "url, host",
    [
        ("http://example.test/", "example.test"),
        ("http://example.test:80/", "example.test"),
        ("http://example.test:8080/", "example.test:8080"),
        ("http://[::1]:8080/", "[::1]:8080"),
        ("http://bücher.example/", "xn--bcher-kva.example"),
    ],
)
def test_host_header(url, host, monkeypatch):
    made = fake_wire(monkeypatch, [response(b"ok")])
    with http.Session() as s:
        assert s.get(url, timeout=T).content == b"ok"
    head = bytes(made[0].sent).decode("latin-1")
    assert f"\r\nHost: {host}\r\n" in head


def test_body_length_of_a_unicode_body(serve, session):
    text = "héllo ☃ 😀"
    srv = serve(replies(response(b"1"), response(b"2"), response(b"3")))
    session.post(srv.url, data=text, timeout=T)
    session.post(srv.url, json={"t": text}, timeout=T)
    session.post(srv.url, timeout=T)
    a, b, c = srv.requests
    assert a.body == text.encode() and a.headers["content-length"] == str(len(text.encode())) != str(len(text))
    assert json.loads(b.body) == {"t": text} and b.headers["content-type"] == "application/json"
    assert c.headers["content-length"] == "0" and c.body == b""


@pytest.mark.parametrize("url", ["ftp://example.test/", "http://", "http://example.test:port/", "example.test/x"])
def test_unusable_urls_are_protocol_errors(session, url):
    with pytest.raises(http.ProtocolError):
        session.get(url, timeout=T)


# ======================================================================================
# provider level: the client's errors become ProviderError kinds
# ======================================================================================
@pytest.fixture
def no_env_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def test_provider_refused_is_connect_error(no_env_key):
    s = refused_port()
    try:
        p = make_provider("openai_compat", f"http://127.0.0.1:{s.getsockname()[1]}")
        with pytest.raises(ProviderError) as e:
            p.list_models()
    finally:
        s.close()
    assert e.value.kind == "connect" and "refused" in str(e.value)


@pytest.mark.parametrize("wire", [b"SSH-2.0-OpenSSH_9.6\r\n", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"])
def test_provider_garbage_is_protocol_error(serve, no_env_key, wire):
    srv = serve(_cut(wire))
    p = make_provider("openai_compat", srv.url)
    with pytest.raises(ProviderError) as e:
        p.list_models()
    assert e.value.kind == "protocol"
    p.close()


def test_provider_stall_is_timeout_error(serve, no_env_key):
    srv = serve(_stall(CHUNKED_HEAD + chunk(b'data: {"choices": []}\n\n')))
    p = make_provider("openai_compat", srv.url, timeout=0.3)
    with pytest.raises(ProviderError) as e:
        p.chat("m", [{"role": "user", "content": "hi"}])
    assert e.value.kind == "timeout"
    p.close()


def test_provider_error_reply_with_hostile_charset_is_http_error(serve, no_env_key):
    srv = serve(replies(response(b"<html>bad gateway</html>", status="502 Bad Gateway", headers=["Content-Type: text/html; charset=undefined"])))
    p = make_provider("openai_compat", srv.url)
    with pytest.raises(ProviderError) as e:
        p.list_models()
    assert e.value.kind == "http" and e.value.status == 502
    p.close()


# -- TLS ----------------------------------------------------------------------------

@pytest.fixture
def tls_server(tmp_path):
    """An HTTPS server on 127.0.0.1 with a self-signed certificate made by openssl."""
    import shutil
    import ssl
    import subprocess
    import threading

    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: no certificate to test TLS with")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(8)
    stop = threading.Event()

    def serve():
        lsock.settimeout(0.2)
        while not stop.is_set():
            try:
                raw, _ = lsock.accept()
            except OSError:
                continue
            try:
                with ctx.wrap_socket(raw, server_side=True) as s:
                    s.settimeout(2)
                    data = b""
                    while b"\r\n\r\n" not in data:
                        chunk = s.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                    s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\nConnection: close\r\n\r\nhello, tls!\n")
            except (OSError, ssl.SSLError):
                pass

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield f"https://127.0.0.1:{lsock.getsockname()[1]}", cert
    stop.set()
    t.join(timeout=2)
    lsock.close()


def test_https_verifies_the_certificate_and_trusts_what_the_system_is_told_to(tls_server, monkeypatch):
    url, cert = tls_server
    monkeypatch.setattr(http, "_TLS", None)
    with pytest.raises(http.ConnectError, match="TLS failed"):
        http.Session().get(url + "/v1/models", timeout=(2, 2))
    # the way a user trusts a private CA: SSL_CERT_FILE, read by the system's default paths
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    monkeypatch.setattr(http, "_TLS", None)
    r = http.Session().get(url + "/v1/models", timeout=(2, 2))
    assert r.status_code == 200 and r.text == "hello, tls!\n"
    monkeypatch.setattr(http, "_TLS", None)


def test_a_post_that_was_sent_is_never_sent_again(serve, session, monkeypatch):
    """The keep-alive race once more, now for a chat request: the server read the POST and
    closed. Sending it again could generate the reply twice, so it is an error instead."""
    def answer_then_read_and_close(peer, req):
        peer.send(response(b"one"))
        peer.read_request()
        peer.close()

    srv = serve(replies(answer_then_read_and_close, response(b"never")))
    assert session.get(srv.url, timeout=T).content == b"one"
    monkeypatch.setattr(http._Conn, "ready", lambda self: False)
    with pytest.raises(http.ProtocolError):
        session.post(srv.url + "/v1/chat/completions", data='{"x": 1}', timeout=T)
    time.sleep(0.05)
    assert [r.method for r in srv.requests].count("POST") <= 1 and srv.accepted == 1


def test_transfer_encoding_identity_alone_means_the_length_decides(serve, session):
    srv = serve(replies(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\nContent-Length: 2\r\n\r\nok"))
    assert session.get(srv.url, timeout=T).content == b"ok"


def test_one_header_per_name_whatever_its_case(serve, session):
    srv = serve(replies(response(b"a")))
    session.headers["Authorization"] = "Bearer session"
    session.get(srv.url, headers={"authorization": "Bearer request"}, timeout=T)
    (req,) = srv.requests
    assert req.headers["authorization"] == "Bearer request" and req.head.lower().count(b"authorization:") == 1


def test_an_unreadable_url_never_quotes_its_password():
    with pytest.raises(http.ProtocolError) as ei:
        http.Session().get("http://user:s3cr3t\uff03key@127.0.0.1:9/v1/models", timeout=(1, 1))
    assert "s3cr3t" not in str(ei.value) and "unreadable URL" in str(ei.value)
