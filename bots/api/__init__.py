"""HTTP API adapter (aiohttp.web): JWT accounts, SSE streaming, an OpenAI-compatible gateway."""
