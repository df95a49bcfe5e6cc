"""Providers: one wire format each, one small interface (see base.Provider)."""
from __future__ import annotations

from benchloop.providers.base import ChatResult, Provider, ProviderError  # noqa: F401


def make_provider(provider: str, endpoint: str, *, api_key=None, timeout: float = 120.0) -> "Provider":
    """Build a client. ``llamacpp`` is a running embedded engine reached over its
    OpenAI-compatible endpoint, so it shares the OpenAI client (and needs no key). An
    explicitly given ``api_key`` goes to ``endpoint`` whatever the wire format;
    ``OPENAI_API_KEY`` is a fallback for ``openai_compat`` only."""
    import os

    if provider == "ollama":
        from benchloop.providers.ollama import OllamaProvider

        return OllamaProvider(endpoint, api_key=api_key, timeout=timeout)  # only a key given for it; never OPENAI_API_KEY
    if provider in ("openai_compat", "llamacpp"):
        from benchloop.providers.openai_compat import OpenAICompatProvider

        if provider == "openai_compat" and not api_key:
            api_key = os.environ.get("OPENAI_API_KEY") or None
        p = OpenAICompatProvider(endpoint, api_key=api_key if provider == "openai_compat" else None, timeout=timeout)
        p.name = provider
        return p
    raise ValueError(f"unknown provider {provider!r}; use ollama, openai_compat or llamacpp")
