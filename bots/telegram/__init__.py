"""Telegram adapter: aiogram routers, mapping to core types, and rendering replies."""
