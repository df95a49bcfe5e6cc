"""The one table of names: suites, profiles, providers and harnesses.

Every part that lists them (the task loader, the plugin, the CLI's flags and help, the
dashboard's forms) imports them from here instead of writing its own copy, so adding a
suite or a harness is one line. Plain strings only: this module is imported on every
run and must cost nothing.
"""
from __future__ import annotations

# suite -> (driver module, checker module, one line for `benchloop suites`)
SUITES: dict[str, tuple[str, str, str]] = {
    "speed": ("benchloop.drivers.speed", "benchloop.checkers.speed", "TTFR, TTFT, decode and prefill per scenario; roofline; opt-in concurrency sweep"),
    "toolcall": ("benchloop.drivers.toolround", "benchloop.checkers.toolcall", "choosing the right function and arguments, knowing when not to call"),
    "coding": ("benchloop.drivers.chat", "benchloop.checkers.coding", "practical Python functions graded by hidden tests in a sandbox"),
    "dataextract": ("benchloop.drivers.chat", "benchloop.checkers.dataextract", "messy text to one JSON object, field by field"),
    "instructfollow": ("benchloop.drivers.chat", "benchloop.checkers.instructfollow", "verifiable formatting and content instructions"),
    "reasonmath": ("benchloop.drivers.chat", "benchloop.checkers.reasonmath", "practical word problems with one final answer"),
    "agent": ("benchloop.drivers.agentloop", "benchloop.checkers.agent", "a real multi-turn tool loop over stateful tools"),
}
QUALITY_SUITES = tuple(s for s in SUITES if s != "speed")
PROFILES = ("quick", "core", "full")
PROVIDERS = ("ollama", "openai_compat", "llamacpp")
# harness -> "module:Class"
HARNESSES = {
    "raw": "benchloop.harnesses.raw:RawHarness",
    "hermes": "benchloop.harnesses.text:HermesHarness",
    "qwen": "benchloop.harnesses.text:QwenHarness",
    "pi": "benchloop.harnesses.text:PiHarness",
}
