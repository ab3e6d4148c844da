"""Slack adapter (slack-bolt AsyncApp, HTTP mode or Socket Mode)."""
