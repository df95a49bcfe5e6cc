"""Pull Python code out of a chat reply: :func:`extract_code`.

The reply is model output, so this is hostile input parsed in the judge's own process:
every step is linear in the reply's length (no regex that rescans from each position,
no per-line dedent of the rest of the text) and the parsing work has a fixed budget, so
200,000 characters of odd lines take well under a second and nothing here can raise.
"""
from __future__ import annotations

import ast
import re
import textwrap
import warnings

from benchloop import pyast

__all__ = ["extract_code", "strip_reasoning"]

_PY_TAGS = frozenset({"python", "py", "python3", "py3", "ipython", "python2", "sage"})
_THINK_TAG_RE = re.compile(r"<(/?)(think|thinking|reasoning)(\s*)>", re.I)
_FENCE_OPEN_RE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([^\s`]*)")
_CODE_START_RE = re.compile(r"^[ \t]*(?:async[ \t]+def[ \t]|def[ \t]|class[ \t]|import[ \t]|from[ \t]|@)")
_MAX_PARSES = 3000  # parse calls for the no-fence search (~25 us each when they fail fast)
_PARSE_CHARS_FACTOR = 6  # ... and at most this many times the reply's length in parsed text
_MAX_MERGE = 3  # an incomplete top-level block may borrow this many following blocks


class _Budget:
    def __init__(self, text_len: int):
        self.parses = _MAX_PARSES
        self.chars = _PARSE_CHARS_FACTOR * text_len + 100_000

    def parse(self, src: str) -> tuple[ast.Module | None, bool]:
        """(tree or None, whether the source merely ended too early). Never raises."""
        self.parses -= 1
        self.chars -= len(src)
        try:
            return pyast.parse(src), False
        except SyntaxError as e:
            msg = str(e.msg or "")
            return None, ("never closed" in msg or "EOF" in msg or "expected an indented block" in msg)
        except Exception:  # ValueError (null bytes), RecursionError, MemoryError, OverflowError
            return None, False

    @property
    def left(self) -> bool:
        return self.parses > 0 and self.chars > 0


def _parse(src: str, budget: _Budget | None = None) -> ast.Module | None:
    if budget is not None:
        if not budget.left:
            return None
        return budget.parse(src)[0]
    return _Budget(0).parse(src)[0]


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


def strip_reasoning(text: str) -> str:
    """Drop reasoning: it must never be graded as the answer (see STYLE.md). Linear time.

    ``<think>…</think>`` pairs are removed; a stray closing tag (chat templates that put the
    opening tag in the prompt) means everything before it was reasoning; an unterminated
    opening tag (reasoning cut off by the token limit) means everything after it is.
    """
    tags = [(m.start(), m.end(), bool(m.group(1)), m.group(2).lower(), bool(m.group(3)))
            for m in _THINK_TAG_RE.finditer(text)]
    if not tags:
        return text
    # next closing tag of each name after position k (one backwards pass)
    nxt: list[int | None] = [None] * len(tags)
    seen: dict[str, int] = {}
    for k in range(len(tags) - 1, -1, -1):
        nxt[k] = seen.get(tags[k][3])
        if tags[k][2]:
            seen[tags[k][3]] = k
    kept: list[str] = []
    left: list[tuple[int, int, bool]] = []  # tags that survive pair removal, in kept-text offsets
    pos, out_len, k = 0, 0, 0
    while k < len(tags):
        start, end, closing, _name, spaced = tags[k]
        if not closing and not spaced and nxt[k] is not None:
            piece = text[pos:start]
            kept.append(piece)
            out_len += len(piece)
            pos = tags[nxt[k]][1]
            k = nxt[k] + 1
            continue
        if closing or not spaced:  # "<think >" is not an opening tag
            left.append((out_len + start - pos, out_len + end - pos, closing))
        k += 1
    kept.append(text[pos:])
    out = "".join(kept)
    closes = [t for t in left if t[2]]
    if closes:
        cut = closes[-1][1]
        out = out[cut:]
        left = [(s - cut, e - cut, c) for s, e, c in left if s >= cut]
    opens = [t for t in left if not t[2]]
    if opens:
        out = out[: opens[0][0]]
    return out


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


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _blocks(lines: list[str]) -> list[tuple[int, int, int]]:
    """Split lines into top-level blocks ``(first, end, indent)``: a block is a non-blank
    line plus the deeper-indented and blank lines after it, where deeper lines can only
    continue a line that opens a body (``:``) or a bracket; otherwise they start a block
    of their own (a markdown indented code block after a prose line)."""
    out: list[tuple[int, int, int]] = []
    cur: list = []  # [first, indent, open_body]
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        ind = _indent(line)
        tail = line.rstrip()
        if cur and ind > cur[1] and cur[2]:
            cur[2] = True
            continue
        if cur:
            out.append((cur[0], i, cur[1]))
        cur = [i, ind, tail.endswith((":", "(", "[", "{", ",", "\\"))]
    if cur:
        out.append((cur[0], len(lines), cur[1]))
    return out


def _block_src(lines: list[str], first: int, end: int, indent: int) -> str:
    chunk = lines[first:end]
    if indent:
        chunk = [ln[indent:] if ln[:indent].strip() == "" else ln.lstrip() for ln in chunk]
    return "\n".join(chunk).rstrip()


def _best_region(text: str, entry_point: str | None, budget: _Budget) -> str:
    """Longest run of top-level blocks that parse, starting at a def/class/import/from/@
    line; a run defining ``entry_point`` wins over a longer one that does not.

    Each block is parsed on its own (a decorator or an unclosed bracket may borrow the next
    few blocks), so the work is linear in the reply and bounded by a parse budget.
    """
    lines = text.split("\n")
    blocks = _blocks(lines)
    best: tuple[bool, int, str] | None = None
    run: list[str] = []
    run_started = False

    def close_run():
        nonlocal best, run, run_started
        if run:
            src = "\n".join(run).strip("\n")
            if _looks_like_code(_parse(src)):
                key = (bool(entry_point) and _defines(src, entry_point), len(src.strip()), src)
                if best is None or key[:2] > best[:2]:
                    best = key
        run, run_started = [], False

    b = 0
    while b < len(blocks) and budget.left:
        first, end, ind = blocks[b]
        starts = bool(_CODE_START_RE.match(lines[first]))
        if not run_started and not starts:
            b += 1
            continue
        src = _block_src(lines, first, end, ind)
        tree, short = budget.parse(src)
        used = 1
        while tree is None and used <= _MAX_MERGE and b + used < len(blocks) and budget.left and (
                short or src.lstrip().startswith("@")):
            nf, ne, ni = blocks[b + used]
            src = src + "\n" + _block_src(lines, nf, ne, ni)
            tree, short = budget.parse(src)
            used += 1
        if tree is None:
            close_run()
            b += 1
            continue
        run.append(src)
        run_started = True
        b += used
    close_run()
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
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _extract_code(text, entry_point)
    except Exception:  # a heuristic must never take a benchmark run down
        return ""


def _extract_code(text: str, entry_point: str | None) -> str:
    if not isinstance(text, str) or not text.strip():
        return ""
    text = strip_reasoning(text.replace("\r\n", "\n").replace("\r", "\n"))
    if not text.strip():
        return ""
    budget = _Budget(len(text))
    py_blocks = []
    for lang, body in _fenced_blocks(text):
        if not body.strip():
            continue
        if lang in _PY_TAGS or (lang == "" and _looks_like_code(_parse(body, budget))):
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
    region = _best_region(text, entry_point, budget)
    return region + "\n" if region else ""
