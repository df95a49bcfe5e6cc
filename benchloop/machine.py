"""Machine facts for the receipt: CPU, cores, RAM, OS, GPUs.

Hardware detection must never break or stall a run: every probe is wrapped and bounded
in time. NVIDIA: GPUtil first, imported lazily (1.4.0 imports distutils, gone in Python
3.12, and it calls ``nvidia-smi`` without a timeout, so it runs in a thread with one),
then ``nvidia-smi`` queried directly; AMD: ``rocm-smi``; Apple Silicon: ``sysctl``.
Only names, memory sizes and driver versions are kept — never GPU serials or UUIDs.

For a remote endpoint the local box is recorded as the *client* only: its GPUs go under
``client_gpus`` and ``hardware`` says the model's hardware is unknown, unless the user
states it (``--hardware`` / ``--gpu``).

The machine id is an HMAC of the OS machine id under a BenchLoop-specific key (as
systemd asks of applications), or a random id kept in BENCHLOOP_HOME; never a MAC
address or hostname.
"""
from __future__ import annotations

import csv
import hashlib
import hmac
import io
import os
import platform
import shutil
import subprocess
import threading

GPU_PROBE_TIMEOUT_S = 10.0
MACHINE_KEY = b"benchloop-machine-id-v1"
REMOTE_HARDWARE = "unknown (remote endpoint)"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    if platform.system() == "Darwin":
        out = _run(["sysctl", "-n", "machdep.cpu.brand_string"])
        if out:
            return out.strip()
    return platform.processor() or platform.machine()


def _ram_gb() -> float | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    out = _run(["sysctl", "-n", "hw.memsize"])
    if out and out.strip().isdigit():
        return round(int(out) / 1024**3, 1)
    return None


def _run(cmd, timeout=5) -> str | None:
    if not shutil.which(cmd[0]):
        return None
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        return p.stdout if p.returncode == 0 else None
    except (OSError, subprocess.SubprocessError, ValueError):
        return None


def _gputil_gpus() -> list[dict] | None:
    """GPUtil's view, or None when GPUtil is missing, fails, or hangs."""
    box: dict = {}

    def probe():
        try:
            import GPUtil  # noqa: N813 - the package's own name

            box["gpus"] = [{"name": str(g.name), "memory_gb": round(float(g.memoryTotal) / 1024, 1), "vendor": "nvidia", "driver": getattr(g, "driver", None)} for g in GPUtil.getGPUs()]
        except BaseException:  # ImportError (distutils on 3.12+), its parse errors, a warning turned error
            box["gpus"] = None

    t = threading.Thread(target=probe, name="benchloop-gputil", daemon=True)
    t.start()
    t.join(GPU_PROBE_TIMEOUT_S)
    return box.get("gpus") if not t.is_alive() else None


def nvidia_gpus() -> tuple[list[dict], str]:
    """(gpus, source). Tries GPUtil, then nvidia-smi; [] when neither works.

    GPUtil only wraps ``nvidia-smi``, so without one on PATH (outside Windows, where
    GPUtil also looks in a fixed install folder) it is not imported at all: importing it
    drags in distutils, a tenth of a second spent on every run of a GPU-less machine.
    """
    if shutil.which("nvidia-smi") or platform.system() == "Windows":
        gpus = _gputil_gpus()
        if gpus:
            return gpus, "gputil"
    out = _run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader,nounits"])
    gpus = []
    for line in (out or "").splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) >= 2 and parts[0]:
            try:
                mem = round(float(parts[1]) / 1024, 1)
            except ValueError:
                mem = None
            gpus.append({"name": parts[0], "memory_gb": mem, "vendor": "nvidia", "driver": parts[2] if len(parts) > 2 else None})
    return gpus, ("nvidia-smi" if gpus else "none")


def _rocm_csv(text: str | None) -> dict[str, dict]:
    """rocm-smi --csv output -> {device: row}; warning lines before the header are skipped."""
    lines = [ln for ln in (text or "").splitlines() if ln.strip()]
    start = next((i for i, ln in enumerate(lines) if ln.lower().startswith("device")), None)
    if start is None:
        return {}
    rows = {}
    for row in csv.DictReader(io.StringIO("\n".join(lines[start:]))):
        dev = (row.get("device") or "").strip()
        if dev:
            rows[dev] = {(k or "").strip(): (v or "").strip() if isinstance(v, str) else v for k, v in row.items()}
    return rows


def amd_gpus() -> list[dict]:
    names = _rocm_csv(_run(["rocm-smi", "--showproductname", "--csv"]))
    if not names:
        return []
    mem = _rocm_csv(_run(["rocm-smi", "--showmeminfo", "vram", "--csv"]))
    gpus = []
    for dev, row in names.items():
        name = row.get("Card series") or row.get("Card Series") or row.get("Card model") or row.get("Card SKU") or dev
        total = next((v for k, v in (mem.get(dev) or {}).items() if "total" in k.lower() and "used" not in k.lower()), None)
        try:
            gb = round(int(total) / 1024**3, 1) if total else None
        except (TypeError, ValueError):
            gb = None
        gpus.append({"name": name, "memory_gb": gb, "vendor": "amd"})
    return gpus


def apple_gpu() -> list[dict]:
    if platform.system() != "Darwin":
        return []
    brand = _run(["sysctl", "-n", "machdep.cpu.brand_string"]) or ""
    if "Apple" in brand:
        return [{"name": brand.strip() + " (integrated GPU, unified memory)", "memory_gb": _ram_gb(), "vendor": "apple"}]
    return []


def _home() -> str:
    from benchloop.paths import home

    return home()


def machine_id() -> str:
    """A keyed hash of the OS machine id: stable, but says nothing about the machine."""
    raw = ""
    for p in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            with open(p) as f:
                raw = f.read().strip()
            if raw:
                break
        except OSError:
            continue
    if not raw:
        raw = _local_random_id()
    return hmac.new(MACHINE_KEY, raw.encode(), hashlib.sha256).hexdigest()[:24]


def _local_random_id() -> str:
    """No OS machine id (macOS, Windows, containers): a random id kept in BENCHLOOP_HOME,
    created once. Never the hostname (guessable) or a MAC address (a hardware id)."""
    import secrets

    path = os.path.join(_home(), "machine-id")
    try:
        with open(path, encoding="ascii") as f:
            value = f.read().strip()
        if len(value) >= 32:
            return value
    except (OSError, ValueError):
        pass
    value = secrets.token_hex(16)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "x", encoding="ascii") as f:
            f.write(value)
    except FileExistsError:  # another process won the race: use its id
        try:
            with open(path, encoding="ascii") as f:
                return f.read().strip() or value
        except OSError:
            return value
    except OSError:
        pass
    return value


def collect(*, hardware: str | None = None, gpu: str | None = None, gpu_memory_gb: float | None = None, remote: bool = False, probe_gpus: bool = True) -> dict:
    facts = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gb": _ram_gb(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "arch": platform.machine(),
        "machine_id": machine_id(),
    }
    source = "skipped"
    gpus: list[dict] = []
    if probe_gpus:
        try:
            gpus, source = nvidia_gpus()
            if not gpus:
                gpus = amd_gpus() or apple_gpu()
                source = gpus[0]["vendor"] if gpus else "none"
        except Exception:  # a probe must never break a run
            gpus, source = [], "none"
    if gpu:
        gpus = [{"name": gpu, "memory_gb": gpu_memory_gb, "vendor": "user"}]
        source = "override"
    elif gpu_memory_gb is not None and gpus:
        gpus[0]["memory_gb"] = gpu_memory_gb
    facts["role"] = "client" if remote else "host"
    if remote and source != "override":
        # the model runs elsewhere: this box's GPUs are the client's, not the model's
        facts["client_gpus"] = gpus
        facts["gpus"] = []
        facts["gpu_source"] = "remote"
        facts["hardware"] = hardware or REMOTE_HARDWARE
    else:
        facts["gpus"] = gpus
        facts["gpu_source"] = source
        facts["hardware"] = hardware or (gpus[0]["name"] if gpus else facts["cpu"])
    facts["hardware_source"] = "override" if (hardware or source == "override") else ("remote" if remote else "detected")
    if remote:
        facts["model_hardware"] = hardware or (gpus[0]["name"] if source == "override" and gpus else REMOTE_HARDWARE)
    return facts
