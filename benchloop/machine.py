"""Machine facts for the receipt: CPU, cores, RAM, OS, GPUs.

Hardware detection must never break a run: every probe is wrapped, GPUtil is imported
lazily (1.4.0 imports distutils, gone in Python 3.12), and ``nvidia-smi`` is queried
directly as the fallback. For a remote endpoint the local box is recorded as the
client only; it is not claimed as the model's hardware.
"""
from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess


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
    except (OSError, subprocess.SubprocessError):
        return None


def nvidia_gpus() -> tuple[list[dict], str]:
    """(gpus, source). Tries GPUtil, then nvidia-smi; [] when neither works."""
    try:
        import GPUtil  # noqa: N813 - the package's own name

        gpus = GPUtil.getGPUs()
        if gpus:
            return [{"name": g.name, "memory_gb": round(g.memoryTotal / 1024, 1), "vendor": "nvidia", "driver": getattr(g, "driver", None)} for g in gpus], "gputil"
    except Exception:  # ImportError (distutils on 3.12+), or GPUtil's own failures
        pass
    out = _run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader,nounits"])
    gpus = []
    for line in (out or "").splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) >= 2:
            try:
                mem = round(float(parts[1]) / 1024, 1)
            except ValueError:
                mem = None
            gpus.append({"name": parts[0], "memory_gb": mem, "vendor": "nvidia", "driver": parts[2] if len(parts) > 2 else None})
    return gpus, ("nvidia-smi" if gpus else "none")


def amd_gpus() -> list[dict]:
    out = _run(["rocm-smi", "--showproductname", "--csv"])
    gpus = []
    for line in (out or "").splitlines()[1:]:
        parts = [p.strip() for p in line.split(",")]
        if len(parts) >= 2 and parts[1]:
            gpus.append({"name": parts[1], "memory_gb": None, "vendor": "amd"})
    return gpus


def apple_gpu() -> list[dict]:
    if platform.system() != "Darwin":
        return []
    brand = _run(["sysctl", "-n", "machdep.cpu.brand_string"]) or ""
    if "Apple" in brand:
        return [{"name": brand.strip() + " (integrated GPU, unified memory)", "memory_gb": _ram_gb(), "vendor": "apple"}]
    return []


def machine_id() -> str:
    """A salted hash that identifies this machine without exposing it (never a MAC)."""
    raw = ""
    for p in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            raw = open(p).read().strip()
            break
        except OSError:
            continue
    raw = raw or platform.node()
    return hashlib.sha256(("benchloop-machine-v1:" + raw).encode()).hexdigest()[:24]


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
    gpus, source = (nvidia_gpus() if probe_gpus else ([], "skipped"))
    if probe_gpus and not gpus:
        gpus = amd_gpus() or apple_gpu()
        source = gpus[0]["vendor"] if gpus else source
    if gpu:
        gpus = [{"name": gpu, "memory_gb": gpu_memory_gb, "vendor": "user"}]
        source = "override"
    elif gpu_memory_gb is not None and gpus:
        gpus[0]["memory_gb"] = gpu_memory_gb
    facts["gpus"] = gpus
    facts["gpu_source"] = source
    facts["hardware"] = hardware or (gpus[0]["name"] if gpus else facts["cpu"])
    facts["hardware_source"] = "override" if hardware else "detected"
    facts["role"] = "client" if remote else "host"
    if remote:
        facts["model_hardware"] = hardware or "unknown (remote endpoint)"
    return facts
