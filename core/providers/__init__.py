"""Clients for model servers. ``OpenAICompatibleProvider`` implements
``core.ports.ModelProvider`` for any server that speaks the OpenAI HTTP API (OpenAI,
OpenRouter, Ollama, vLLM) directly over aiohttp, turning its failures into the core's
typed ``Upstream*`` errors."""

from core.providers.openai_compat import OpenAICompatibleProvider

__all__ = ["OpenAICompatibleProvider"]
