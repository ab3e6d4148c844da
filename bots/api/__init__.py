"""HTTP API adapter (aiohttp.web): JWT accounts, chat as JSON or SSE, an OpenAI-compatible
gateway under /v1, Swagger UI at /docs. Handlers check the request against its pydantic
model, call one use case of the core, and render a response model."""
