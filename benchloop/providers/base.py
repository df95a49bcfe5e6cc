"""The one small interface every provider implements, and what a call returns.

Timestamps are ``time.perf_counter()`` readings on the client (monotonic), kept raw so
the speed suite can compute TTFR/TTFT/decode itself. Token counts carry their source:
``server`` (the server's usage/eval counts) or ``counted`` (chunks that carried text,
a lower bound used only when the server said nothing).
"""
from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field


def safe_endpoint(url: str) -> str:
    """The endpoint as it may be shown or stored: scheme, host, port and path only.
    Credentials in the userinfo (``http://user:key@host``) and the query string
    (``?api-key=...``) never reach an error line, a record or the artifact."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
        netloc = parts.netloc.rsplit("@", 1)[-1]  # host[:port] as written: IPv6 keeps its brackets
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    except ValueError:
        return "<unparsable endpoint>"


def has_credentials(url: str | None) -> bool:
    """Whether ``url`` carries userinfo or a query string (which :func:`safe_endpoint` drops)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url or "")
    except ValueError:
        return False
    return "@" in parts.netloc or bool(parts.query)


KEY_PARAMS = ("key", "api-key", "api_key", "apikey", "token", "access_token", "auth", "sig", "signature", "code", "password")


def endpoint_secrets(url: str | None) -> list[str]:
    """The secret parts of an endpoint URL, for redaction: the password of its userinfo
    (or a lone user part long enough to be a key: ``https://KEY@host``) and the values of
    key-like query parameters. Redaction replaces a value everywhere, model output
    included, so user names and parameters such as ``api-version=2024-02-01`` stay out."""
    from urllib.parse import parse_qsl, unquote, urlsplit

    if not url:
        return []
    try:
        parts = urlsplit(url)
        user, password = unquote(parts.username or ""), unquote(parts.password or "")
        query = parse_qsl(parts.query)
    except ValueError:
        return []
    found = [password] if password else ([user] if len(user) >= 16 else [])
    found += [v for k, v in query if k.lower() in KEY_PARAMS]
    return [v for v in found if len(v) >= 8]


class ProviderError(Exception):
    """A provider failure turned into data: kind is connect | timeout | http | protocol | model."""

    def __init__(self, kind: str, message: str, status: int | None = None, retry_after_s: float | None = None):
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.retry_after_s = retry_after_s  # the server's Retry-After, in seconds, when it sent one

    def __str__(self):
        base = super().__str__()
        return f"{self.kind} error: {base}" if not base.startswith(self.kind) else base


@dataclass
class ChatResult:
    content: str = ""
    reasoning: str = ""
    tool_calls: list = field(default_factory=list)  # [{"id", "name", "arguments": dict|None, "arguments_raw": str}]
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    reasoning_tokens: int | None = None
    cached_tokens: int | None = None
    token_source: str = "none"  # server | counted | none
    t_sent: float = 0.0
    t_first_chunk: float | None = None  # first byte-level chunk of any kind (TTFR)
    t_first_token: float | None = None  # first content or reasoning text (TTFT)
    t_last_token: float | None = None
    t_done: float = 0.0
    content_chunks: int = 0
    server_timings: dict | None = None
    request: dict = field(default_factory=dict)  # the JSON body sent (no headers, so no key)
    response: object = None  # final JSON, or the list of streamed events (bounded)
    model: str | None = None

    def token_seen(self, now: float) -> None:
        """A chunk carried model output (text, reasoning or a tool call): TTFT/decode clocks."""
        if self.t_first_token is None:
            self.t_first_token = now
        self.t_last_token = now

    def add_text(self, text: str, think: str, now: float) -> None:
        """Append one chunk's answer and reasoning text; empty chunks count for nothing."""
        if text or think:
            self.token_seen(now)
            self.content_chunks += 1
            self.content += text
            self.reasoning += think

    @property
    def latency_ms(self) -> float:
        return (self.t_done - self.t_sent) * 1000.0

    @property
    def ttft_ms(self) -> float | None:
        return None if self.t_first_token is None else (self.t_first_token - self.t_sent) * 1000.0

    @property
    def ttfr_ms(self) -> float | None:
        return None if self.t_first_chunk is None else (self.t_first_chunk - self.t_sent) * 1000.0

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(latency_ms=self.latency_ms, ttft_ms=self.ttft_ms, ttfr_ms=self.ttfr_ms)
        return d


MAX_EVENTS = 4000  # raw streamed events kept per request; more are summarized


_THINK = re.compile(r"<think>(.*?)(?:</think>|$)", re.DOTALL | re.IGNORECASE)


def split_think(text: str) -> tuple[str, str]:
    """Separate ``<think>…</think>`` blocks (an unclosed one runs to the end) from the answer."""
    if not text or "<think" not in text.lower():
        return text or "", ""
    reasoning = "\n".join(m.strip() for m in _THINK.findall(text))
    answer = _THINK.sub("", text)
    answer = re.sub(r"</think>", "", answer, flags=re.IGNORECASE)
    return answer.strip(), reasoning


class Provider:
    """chat / list_models / describe_model. Subclasses speak one wire format."""

    name = "base"

    def __init__(self, endpoint: str, *, api_key: str | None = None, timeout: float = 120.0, connect_timeout: float = 5.0):
        self.endpoint = endpoint.rstrip("/")
        self.shown_endpoint = safe_endpoint(self.endpoint)  # what error text may say
        self._api_key = api_key
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self._session = None

    @property
    def session(self):
        if self._session is None:
            from benchloop.providers.http import Session

            self._session = Session()  # direct to the endpoint: a local benchmark uses no proxy
            if self._api_key:
                # every wire format sends a key it was given (Ollama behind a proxy or a
                # hosted Ollama takes a bearer key too); the client drops it on a redirect
                # to another host, so it only ever reaches the endpoint it was given for
                self._session.headers["Authorization"] = f"Bearer {self._api_key}"
        return self._session

    def chat(self, model, messages, *, tools=None, stream=True, max_tokens=512, temperature=0.0, seed=None, extra=None, on_delta=None) -> ChatResult:
        """One chat request. ``on_delta(text, reasoning)``, when given, is called with the
        new answer text and the new reasoning text (either may be empty) of every
        streamed chunk that carried some, as it arrives; a non-streamed reply calls it
        once with the whole text. Exceptions it raises end the request (raise
        ``ProviderError`` to stop a stream early). Timings and parsing are unchanged."""
        raise NotImplementedError

    def list_models(self) -> list[str]:
        raise NotImplementedError

    def describe_model(self, model: str) -> dict:
        return {"name": model}

    def close(self):
        if self._session is not None:
            self._session.close()
            self._session = None

    # shared helpers -------------------------------------------------------
    def _wrap(self, fn, what: str):
        from benchloop.providers import http

        try:
            return fn()
        except ProviderError:
            raise
        except http.ConnectTimeout:
            raise ProviderError("connect", f"timed out connecting to {self.shown_endpoint} ({what})") from None
        except http.ConnectError as exc:
            msg = "refused" if "refused" in str(exc).lower() else "failed"
            raise ProviderError("connect", f"connection {msg} at {self.shown_endpoint} ({what})") from None
        except http.ReadTimeout:
            raise ProviderError("timeout", f"no progress from {self.shown_endpoint} for {self.timeout:g}s ({what})") from None
        except http.ProtocolError as exc:
            raise ProviderError("protocol", f"{str(exc)[:200]} talking to {self.shown_endpoint} ({what})") from None


def json_reply(r, res: ChatResult) -> dict:
    """A non-streamed chat reply's JSON body, with the client timestamps around reading it."""
    res.t_first_chunk = time.perf_counter()
    try:
        data = r.json()
    except ValueError:
        raise ProviderError("protocol", "chat reply was not JSON") from None
    res.t_done = time.perf_counter()
    res.response = data
    return data


def emit_delta(on_delta, text: str, think: str) -> None:
    """Hand one chunk's new text to a caller's ``on_delta`` (nothing when both are empty)."""
    if on_delta is not None and (text or think):
        on_delta(text, think)


def settle(res: ChatResult) -> ChatResult:
    """Close a chat result the same way for every provider: an end time even after an
    error, and ``<think>`` text moved out of the answer into ``reasoning``."""
    res.t_done = res.t_done or time.perf_counter()
    content, think = split_think(res.content)
    if think:
        res.content = content
        res.reasoning = (res.reasoning + "\n" + think).strip() if res.reasoning else think
    return res


def http_error(resp, what: str) -> ProviderError:
    detail = ""
    try:
        body = resp.json()
        err = body.get("error") if isinstance(body, dict) else None
        if isinstance(err, dict):
            detail = str(err.get("message", ""))
        elif err:
            detail = str(err)
    except ValueError:
        detail = resp.text[:200]
    return ProviderError("http", f"HTTP {resp.status_code} from {what}: {detail[:300]}".rstrip(": "), status=resp.status_code, retry_after_s=retry_after(resp.headers.get("Retry-After")))


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """A Retry-After header (delay-seconds or an HTTP date) as seconds from now; None
    when absent or unreadable. A date in the past means "now" (0)."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def parse_arguments(raw) -> tuple[dict | None, str]:
    """Tool-call arguments as (dict or None when unparsable, raw text)."""
    import json

    if isinstance(raw, dict):
        return raw, json.dumps(raw, sort_keys=True)
    if raw is None or raw == "":
        return {}, ""
    text = str(raw)
    try:
        val = json.loads(text)
    except (ValueError, RecursionError):
        return None, text
    from benchloop.record import nesting_exceeds

    return (val if isinstance(val, dict) and not nesting_exceeds(val) else None), text
