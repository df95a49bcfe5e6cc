"""Hardware facts: every probe falls back cleanly, overrides win, a remote endpoint's
run never claims this box's GPU as the model's, and the machine id reveals nothing."""
from __future__ import annotations

import platform
import re
import sys
import time
import types

import pytest

from benchloop import machine


@pytest.fixture
def no_tools(monkeypatch):
    """A box without nvidia-smi, rocm-smi or sysctl, and without GPUtil."""
    monkeypatch.setattr(machine.shutil, "which", lambda name: None)
    monkeypatch.setitem(sys.modules, "GPUtil", None)  # "import GPUtil" raises ImportError


def _fake_run(outputs):
    """machine._run replacement: command name -> stdout (None = tool missing/failing)."""

    def run(cmd, timeout=5):
        key = " ".join(cmd[:2]) if cmd[0] == "rocm-smi" else cmd[0]
        return outputs.get(key)

    return run


def _fake_gputil(monkeypatch, get, *, nvidia_smi=True):
    mod = types.ModuleType("GPUtil")
    mod.getGPUs = get
    monkeypatch.setitem(sys.modules, "GPUtil", mod)
    if nvidia_smi:  # GPUtil is only consulted where nvidia-smi exists
        monkeypatch.setattr(machine.shutil, "which", lambda name: "/usr/bin/nvidia-smi" if name == "nvidia-smi" else None)


def test_gputil_is_not_imported_without_nvidia_smi(monkeypatch):
    calls = []
    _fake_gputil(monkeypatch, lambda: calls.append(1) or [], nvidia_smi=False)
    monkeypatch.setattr(machine.shutil, "which", lambda name: None)
    monkeypatch.setattr(machine.platform, "system", lambda: "Linux")
    assert machine.nvidia_gpus() == ([], "none")
    assert calls == []


def test_no_gpu_tools_at_all_is_a_cpu_box(no_tools):
    facts = machine.collect()
    assert facts["gpus"] == [] and facts["gpu_source"] == "none"
    assert facts["hardware"] == facts["cpu"] and facts["role"] == "host"
    assert facts["cores"] and facts["os"]


def test_gputil_failing_to_import_falls_back_to_nvidia_smi(monkeypatch):
    monkeypatch.setitem(sys.modules, "GPUtil", None)
    monkeypatch.setattr(machine, "_run", _fake_run({"nvidia-smi": "NVIDIA GeForce RTX 4090, 24564, 550.54\n"}))
    gpus, source = machine.nvidia_gpus()
    assert source == "nvidia-smi"
    assert gpus == [{"name": "NVIDIA GeForce RTX 4090", "memory_gb": 24.0, "vendor": "nvidia", "driver": "550.54"}]


def test_gputil_raising_or_hanging_falls_back(monkeypatch):
    def boom():
        raise ValueError("could not parse nvidia-smi output")

    _fake_gputil(monkeypatch, boom)
    monkeypatch.setattr(machine, "_run", _fake_run({"nvidia-smi": "Tesla T4, [N/A], 535.1\n"}))
    gpus, source = machine.nvidia_gpus()
    assert source == "nvidia-smi" and gpus[0]["name"] == "Tesla T4" and gpus[0]["memory_gb"] is None

    _fake_gputil(monkeypatch, lambda: time.sleep(5) or [])
    monkeypatch.setattr(machine, "GPU_PROBE_TIMEOUT_S", 0.2)
    monkeypatch.setattr(machine, "_run", _fake_run({}))
    t0 = time.monotonic()
    assert machine.nvidia_gpus() == ([], "none")
    assert time.monotonic() - t0 < 2


def test_gputil_when_it_works_keeps_no_serials(monkeypatch):
    gpu = types.SimpleNamespace(name="NVIDIA A100-SXM4-80GB", memoryTotal=81920.0, driver="535.1", serial="1324", uuid="GPU-abc")
    _fake_gputil(monkeypatch, lambda: [gpu])
    facts = machine.collect()
    assert facts["gpu_source"] == "gputil" and facts["gpus"] == [{"name": "NVIDIA A100-SXM4-80GB", "memory_gb": 80.0, "vendor": "nvidia", "driver": "535.1"}]
    assert "1324" not in str(facts) and "GPU-abc" not in str(facts)


def test_amd_through_rocm_smi(monkeypatch, no_tools):
    names = (
        "WARNING: some rocm warning\n"
        "device,Card series,Card model,Card vendor,Card SKU\n"
        'card0,Radeon RX 7900 XTX,0x744c,"Advanced Micro Devices, Inc. [AMD/ATI]",D70701\n'
    )
    mem = "device,VRAM Total Memory (B),VRAM Total Used Memory (B)\ncard0,25753026560,1000\n"
    monkeypatch.setattr(machine, "_run", _fake_run({"rocm-smi --showproductname": names, "rocm-smi --showmeminfo": mem}))
    facts = machine.collect()
    assert facts["gpu_source"] == "amd"
    assert facts["gpus"] == [{"name": "Radeon RX 7900 XTX", "memory_gb": 24.0, "vendor": "amd"}]
    monkeypatch.setattr(machine, "_run", _fake_run({"rocm-smi --showproductname": "garbage, no header"}))
    assert machine.amd_gpus() == []


def test_apple_silicon_through_sysctl(monkeypatch, no_tools):
    monkeypatch.setattr(platform, "system", lambda: "Darwin")
    monkeypatch.setattr(machine, "_run", _fake_run({"sysctl": "Apple M2 Pro\n"}))
    gpus = machine.apple_gpu()
    assert len(gpus) == 1 and gpus[0]["vendor"] == "apple" and gpus[0]["name"].startswith("Apple M2 Pro")
    monkeypatch.setattr(machine, "_run", _fake_run({"sysctl": "Intel(R) Core(TM) i9\n"}))
    assert machine.apple_gpu() == []


def test_user_overrides_win(no_tools):
    facts = machine.collect(hardware="my 4090 box", gpu="RTX 4090", gpu_memory_gb=24)
    assert facts["hardware"] == "my 4090 box" and facts["hardware_source"] == "override"
    assert facts["gpus"] == [{"name": "RTX 4090", "memory_gb": 24, "vendor": "user"}] and facts["gpu_source"] == "override"


def test_a_remote_endpoint_claims_no_local_hardware(monkeypatch):
    monkeypatch.setattr(machine, "nvidia_gpus", lambda: ([{"name": "RTX 3060", "memory_gb": 12.0, "vendor": "nvidia", "driver": "1"}], "gputil"))
    local = machine.collect(remote=False)
    assert local["hardware"] == "RTX 3060" and local["gpus"]
    remote = machine.collect(remote=True)
    assert remote["role"] == "client" and remote["gpus"] == [] and remote["client_gpus"][0]["name"] == "RTX 3060"
    assert "RTX 3060" not in remote["hardware"] and remote["model_hardware"] == machine.REMOTE_HARDWARE
    stated = machine.collect(remote=True, gpu="H100", hardware="provider's H100 node")
    assert stated["model_hardware"] == "provider's H100 node" and stated["gpus"][0]["name"] == "H100"


def test_the_machine_id_is_a_keyed_hash_never_a_mac_or_hostname(monkeypatch, tmp_path):
    import uuid

    mid = machine.machine_id()
    assert re.fullmatch(r"[0-9a-f]{24}", mid) and mid == machine.machine_id()
    mac = f"{uuid.getnode():012x}"
    assert mac not in mid
    try:
        with open("/etc/machine-id") as f:
            raw = f.read().strip()
        assert raw and raw[:24] != mid
    except OSError:
        pass

    # without an OS machine id: a random id kept in BENCHLOOP_HOME, never the hostname
    real_open = open

    def no_machine_id(path, *a, **k):
        if str(path) in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
            raise FileNotFoundError(path)
        return real_open(path, *a, **k)

    monkeypatch.setattr("builtins.open", no_machine_id)
    monkeypatch.setenv("BENCHLOOP_HOME", str(tmp_path / "h1"))
    a = machine.machine_id()
    assert a == machine.machine_id() and (tmp_path / "h1" / "machine-id").exists()
    assert platform.node() not in (tmp_path / "h1" / "machine-id").read_text()
    monkeypatch.setenv("BENCHLOOP_HOME", str(tmp_path / "h2"))
    assert machine.machine_id() != a
