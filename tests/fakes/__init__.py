"""Fakes for the tests: in-memory ports and fake servers on 127.0.0.1 that behave like
the real thing (same JSON shapes, same error bodies, limits enforced)."""
