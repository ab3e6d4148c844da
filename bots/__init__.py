"""Adapters for the messengers and the HTTP API, and the composition root."""
