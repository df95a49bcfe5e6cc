"""``benchloop export`` / ``benchloop import``: move runs between machines with their
full receipts (meta.json, tasks.jsonl, run.json, byte for byte).

The format is JSON Lines (gzip-compressed when the file name ends in ``.gz``), specified
in docs/export-format.md: a header line, one line per run holding each file's text and
sha256, and an end line that proves the file was not cut short. A file named ``.json``
gets the same content as one JSON document instead (the header's fields, the run
entries under ``entries``), so a ``.json`` name always holds JSON; import reads both.

An export file is untrusted input on import: the run id must be a plain id (no path
separators, no ``..``), only the three known file names are written, every hash is
checked, sizes are bounded, and an existing run is never overwritten.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import secrets as _secrets
import sys
from pathlib import Path

from benchloop.errors import BenchLoopError

FORMAT = "benchloop-export"
VERSION = 1
FILES = ("meta.json", "tasks.jsonl", "run.json")  # the receipts, in the order written
MAX_LINE_BYTES = 512 * 1024 * 1024  # one run's files together
MAX_TOTAL_BYTES = 4 * 1024 * 1024 * 1024


class ExportError(BenchLoopError, ValueError):
    """The export file is not usable; one line saying why."""


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def secrets_from_env() -> list[str]:
    """API keys in the environment, to be redacted from anything that leaves the machine."""
    return [v for k in ("OPENAI_API_KEY", "BENCHLOOP_API_KEY") if (v := os.environ.get(k)) and len(v) >= 4]


def run_entry(run_dir: Path, secret_values: list[str] | None = None) -> dict:
    """One run directory as an export line. Secrets still in the environment are
    redacted once more here, in case an old artifact predates redaction."""
    files = {}
    for name in FILES:
        p = run_dir / name
        if p.is_file():
            text = p.read_bytes().decode("utf-8", "replace")  # byte-exact, no newline translation
            for s in secret_values or []:
                text = text.replace(s, "[REDACTED]")
            files[name] = text
    if not files:
        raise ExportError(f"{run_dir} holds no run files ({', '.join(FILES)})")
    return {"type": "run", "run_id": run_dir.name, "files": files, "sha256": {k: _sha(v) for k, v in files.items()}}


def export_runs(run_dirs: list[Path], out, *, secret_values: list[str] | None = None) -> int:
    """Write an export of ``run_dirs`` to the text stream ``out``; returns the run count."""
    from benchloop import __version__
    from benchloop.artifact import utcnow

    header = {"format": FORMAT, "version": VERSION, "created_at": utcnow(), "benchloop_version": __version__, "runs": [d.name for d in run_dirs], "files": list(FILES)}
    out.write(json.dumps(header, sort_keys=True, ensure_ascii=False) + "\n")
    for d in run_dirs:
        out.write(json.dumps(run_entry(d, secret_values), sort_keys=True, ensure_ascii=False) + "\n")
    out.write(json.dumps({"type": "end", "runs": len(run_dirs)}) + "\n")
    return len(run_dirs)


def _open_text(path: Path):
    raw = open(path, "rb")
    magic = raw.read(2)
    raw.seek(0)
    stream = gzip.GzipFile(fileobj=raw) if magic == b"\x1f\x8b" else raw
    return stream


def read_export(path: str | Path) -> tuple[dict, list[dict]]:
    """(header, run entries) of an export file, JSON Lines or one JSON document, or
    ExportError. Bounded reads: a hostile file cannot make this hold more than
    MAX_LINE_BYTES per line (MAX_TOTAL_BYTES for a document) or read forever."""
    try:
        stream = _open_text(Path(path))
    except OSError as exc:
        raise ExportError(f"cannot open {path}: {exc.strerror or exc}") from None
    with stream:
        first = _readline(stream, path)
        try:
            obj = json.loads(first) if first.strip() else None
        except ValueError:
            obj = None
        if (obj is None and first.lstrip()[:1] in (b"{", b"[")) or (isinstance(obj, dict) and "entries" in obj):
            try:
                rest = stream.read(MAX_TOTAL_BYTES + 1 - len(first))
            except (OSError, EOFError, gzip.BadGzipFile) as exc:
                raise ExportError(f"{path} is damaged ({type(exc).__name__}); export it again") from None
            return _read_document(path, first + rest)
        return _read_lines(path, stream, first)


def _readline(stream, path) -> bytes:
    try:
        return stream.readline(MAX_LINE_BYTES + 1)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise ExportError(f"{path} is damaged ({type(exc).__name__}); export it again") from None


def _check_header(path, obj: dict) -> dict:
    if obj.get("format") != FORMAT:
        raise ExportError(f"{path} is not a BenchLoop export (no '{FORMAT}' header)")
    v = obj.get("version")
    if not isinstance(v, int) or isinstance(v, bool) or v < 1:
        raise ExportError(f"{path} has an invalid format version {v!r}")
    if v > VERSION:
        raise ExportError(f"{path} is format version {v}; this BenchLoop reads up to {VERSION} — upgrade benchloop-cli")
    return obj


def _read_document(path, data: bytes) -> tuple[dict, list[dict]]:
    """An export written as one JSON document (``--output runs.json``)."""
    if len(data) > MAX_TOTAL_BYTES:
        raise ExportError(f"{path} is over the import size limit; it is not a BenchLoop export")
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        raise ExportError(f"{path} is not JSON; the file is damaged or not an export") from None
    if not isinstance(doc, dict):
        raise ExportError(f"{path} is not a BenchLoop export (not a JSON object)")
    header = _check_header(path, doc)
    entries = doc.get("entries")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ExportError(f"{path} has no list of run entries; export it again")
    runs = [e for e in entries if e.get("type") == "run"]  # later minor additions skipped
    if isinstance(header.get("runs"), list) and len(header["runs"]) != len(runs):
        raise ExportError(f"{path} names {len(header['runs'])} runs but holds {len(runs)}")
    return {k: v for k, v in header.items() if k != "entries"}, runs


def _read_lines(path, stream, first: bytes) -> tuple[dict, list[dict]]:
    """An export written as JSON Lines: header, one line per run, end line."""
    entries, header, ended, total = [], None, False, 0
    line = first
    while line:
        total += len(line)
        if len(line) > MAX_LINE_BYTES or total > MAX_TOTAL_BYTES:
            raise ExportError(f"{path} has a line or total size over the import limit; it is not a BenchLoop export")
        if line.strip():
            try:
                obj = json.loads(line)
            except (ValueError, RecursionError):
                raise ExportError(f"{path} line {len(entries) + 2 if header else 1} is not JSON; the file is damaged or not an export") from None
            if not isinstance(obj, dict):
                raise ExportError(f"{path} holds a line that is not a JSON object")
            if header is None:
                header = _check_header(path, obj)
            elif ended:
                raise ExportError(f"{path} has data after its end line")
            elif obj.get("type") == "end":
                ended = True
                if obj.get("runs") != len(entries):
                    raise ExportError(f"{path} says {obj.get('runs')} runs but holds {len(entries)}")
            elif obj.get("type") == "run":
                entries.append(obj)
            # any other type: a later minor addition; skipped, never written
        line = _readline(stream, path)
    if header is None:
        raise ExportError(f"{path} is empty")
    if not ended:
        raise ExportError(f"{path} is cut short (no end line); copy or export it again")
    return header, entries


def check_entry(entry: dict) -> tuple[str, dict[str, str]]:
    """(run_id, files) of a valid entry, else ExportError naming the problem."""
    from benchloop.artifact import valid_run_id

    rid = entry.get("run_id")
    if not isinstance(rid, str) or not valid_run_id(rid) or "/" in rid or "\\" in rid or rid.startswith("."):
        raise ExportError(f"run id {str(rid)[:80]!r} is not a plain run id (letters, digits, '.', '_', '-'); refused")
    files = entry.get("files")
    sums = entry.get("sha256") or {}
    if not isinstance(files, dict) or not files:
        raise ExportError(f"run {rid}: no files")
    for name, text in files.items():
        if name not in FILES:
            raise ExportError(f"run {rid}: unexpected file name {str(name)[:80]!r}; only {', '.join(FILES)} are imported")
        if not isinstance(text, str):
            raise ExportError(f"run {rid}: {name} is not text")
        if sums.get(name) != _sha(text):
            raise ExportError(f"run {rid}: {name} does not match its sha256 (edited or damaged)")
    if "meta.json" not in files and "run.json" not in files:
        raise ExportError(f"run {rid}: neither meta.json nor run.json; not a run")
    for name in ("meta.json", "run.json"):
        if name in files:
            try:
                doc = json.loads(files[name])
            except ValueError:
                raise ExportError(f"run {rid}: {name} is not JSON") from None
            if not isinstance(doc, dict):
                raise ExportError(f"run {rid}: {name} is not a JSON object")
            if doc.get("run_id") not in (None, rid):
                raise ExportError(f"run {rid}: {name} names another run ({str(doc.get('run_id'))[:80]!r})")
    return rid, files


def import_entry(entry: dict, runs_root: Path) -> tuple[str, str]:
    """Import one entry; returns (status, message) with status imported | identical |
    conflict | invalid. Never overwrites: the run directory is claimed with an exclusive
    mkdir, and an existing one is only compared."""
    try:
        rid, files = check_entry(entry)
    except ExportError as exc:
        return "invalid", str(exc)
    runs_root.mkdir(parents=True, exist_ok=True)
    dest = runs_root / rid
    if dest.resolve().parent != runs_root.resolve():
        return "invalid", f"run {rid}: would land outside {runs_root}; refused"
    try:
        os.mkdir(dest)
    except FileExistsError:
        same = all((dest / n).is_file() and (dest / n).read_bytes().decode("utf-8", "replace") == t for n, t in files.items())
        if same:
            return "identical", f"{rid}: already here, identical"
        return "conflict", f"{rid}: a different run with this id already exists in {runs_root}; not overwritten (import into another --runs-dir or move it away)"
    for name in FILES:
        if name in files:
            tmp = dest / f".{name}.{_secrets.token_hex(4)}.tmp"
            with open(tmp, "w", encoding="utf-8", newline="") as f:
                f.write(files[name])
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, dest / name)
    return "imported", f"{rid}: imported"


def import_file(path: str | Path, runs_root: str | Path) -> list[tuple[str, str]]:
    _header, entries = read_export(path)
    return [import_entry(e, Path(runs_root)) for e in entries]


# ------------------------------------------------------------- what the commands call
def select_runs(root: Path, refs: list[str], *, every: bool = False) -> list[Path]:
    """The run directories to export: ``refs`` (ids or paths) resolved under ``root``;
    with no refs (or ``every``) every run there. Raises BenchLoopError naming the fix."""
    from benchloop.artifact import RunNotFound, resolve_run

    if every or not refs:
        return sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".") and any((d / n).is_file() for n in FILES)) if root.is_dir() else []
    out = []
    for ref in refs:
        try:
            out.append(resolve_run(ref, root))
        except RunNotFound as exc:
            raise BenchLoopError(str(exc)) from None
    return out


def default_export_name() -> str:
    from benchloop.artifact import utcnow

    return f"benchloop-export-{utcnow()[:19].replace(':', '').replace('-', '').replace('T', '-')}.jsonl.gz"


def is_document_name(target: str | Path) -> bool:
    """Whether ``target`` names a JSON document (``x.json``, ``x.json.gz``) rather than
    JSON Lines (``x.jsonl``, anything else)."""
    name = Path(str(target)).name.lower()
    return name.removesuffix(".gz").endswith(".json")


def export_document(run_dirs: list[Path], out, *, secret_values: list[str] | None = None) -> int:
    """Like :func:`export_runs`, as one JSON document: the header's fields, the run
    entries under ``entries``."""
    from benchloop import __version__
    from benchloop.artifact import utcnow

    doc = {"format": FORMAT, "version": VERSION, "created_at": utcnow(), "benchloop_version": __version__, "runs": [d.name for d in run_dirs], "files": list(FILES)}
    doc["entries"] = [run_entry(d, secret_values) for d in run_dirs]
    json.dump(doc, out, sort_keys=True, ensure_ascii=False, indent=1)
    out.write("\n")
    return len(run_dirs)


def write_export(run_dirs: list[Path], target: str | Path) -> int:
    """Export ``run_dirs`` to the file ``target`` (one JSON document when it is named
    ``.json``, JSON Lines otherwise; gzip when it ends in ``.gz``; ``-`` is stdout, as
    JSON Lines), redacting keys still in the environment. Never replaces an existing
    file. Returns the number of runs written."""
    secret_values = secrets_from_env()
    if str(target) == "-":
        return export_runs(run_dirs, sys.stdout, secret_values=secret_values)
    path = Path(target)
    write = export_document if is_document_name(path) else export_runs
    try:
        raw = open(path, "xb")  # never replace an existing file
    except FileExistsError:
        raise BenchLoopError(f"{path} already exists; pick another --output") from None
    with raw:
        if path.name.endswith(".gz"):
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz, io.TextIOWrapper(gz, encoding="utf-8", newline="\n") as out:
                return write(run_dirs, out, secret_values=secret_values)
        with io.TextIOWrapper(raw, encoding="utf-8", newline="\n") as out:
            return write(run_dirs, out, secret_values=secret_values)
