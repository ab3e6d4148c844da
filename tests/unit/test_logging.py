"""The redaction filter in front of every log handler."""

from __future__ import annotations

import io
import logging

from bots.logging_setup import RedactSecrets
from tests.known_secrets import TEST_API_KEY


def test_secrets_are_replaced_in_messages_args_and_tracebacks():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets([TEST_API_KEY]))
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("key in args: %s", TEST_API_KEY)
        try:
            raise RuntimeError(f"bad key {TEST_API_KEY}")
        except RuntimeError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert TEST_API_KEY not in text
    assert text.count("***") == 2


def test_the_whole_suite_log_scan_sees_records_from_any_logger():
    from tests.conftest import LOG_SCAN

    logging.getLogger("core.services.chat").info("probe %s", "for the scan")
    assert any("probe for the scan" in line for line in LOG_SCAN[-1].lines)


async def test_binding_a_request_names_it_in_every_later_log_line():
    import asyncio

    from core.observability import bind_request_id, request_id_var
    from core.services.requests import ChatRequest
    from tests.harness import caller

    async def adapter_handler() -> tuple[str, str]:
        request = ChatRequest(caller=caller("1"), chat_id="c", text="hi")
        bind_request_id(request.request_id)  # where the adapter builds the request
        seen_by_a_task = await asyncio.create_task(asyncio.sleep(0, request_id_var.get()))
        return request.request_id, seen_by_a_task

    request_id, seen = await asyncio.create_task(adapter_handler())
    assert seen == request_id != "-"


def test_log_to_file_keeps_warnings_on_the_terminal(tmp_path):
    from bots.logging_setup import log_to_file, make_handler

    secret = "a-local-secret-0042"  # not a suite secret: the records here do contain it
    terminal = io.StringIO()
    root = logging.getLogger()
    stream_handler = make_handler([secret], stream=terminal)
    root.addHandler(stream_handler)
    level = root.level
    root.setLevel(logging.INFO)
    file_handler = log_to_file(tmp_path / "data" / "console.log", [secret])
    try:
        log = logging.getLogger("test.console_file")
        log.info("routine %s", secret)
        log.warning("look at this")
    finally:
        root.removeHandler(stream_handler)
        root.removeHandler(file_handler)
        file_handler.close()
        root.setLevel(level)
    written = (tmp_path / "data" / "console.log").read_text(encoding="utf-8")
    assert "routine ***" in written and "look at this" in written
    assert secret not in written
    assert "look at this" in terminal.getvalue() and "routine" not in terminal.getvalue()
