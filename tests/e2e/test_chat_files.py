"""Pictures and documents on Discord, Slack and the console: what reaches the fake LLM,
what the person sees, and refusals (before any download) that cost nothing."""

from __future__ import annotations

import base64
import io
from pathlib import Path

from aiohttp import FormData
from PIL import Image

from bots.bootstrap import open_app
from bots.console.runner import run
from bots.settings import Settings
from tests.e2e.api_harness import running_api
from tests.e2e.discord_harness import WELCOME, discord_env, eventually
from tests.e2e.slack_harness import DM, slack_stack
from tests.e2e.slack_harness import eventually as slack_eventually
from tests.fakes.llm_server import FakeLLM
from tests.harness import caller
from tests.sample_files import pdf, picture


def sent_picture(url: str) -> Image.Image:
    assert url.startswith("data:image/jpeg;base64,")
    return Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))


# ---- Discord ---------------------------------------------------------------------------


async def test_discord_image_attachment_goes_to_the_model(sqlite_url: str) -> None:
    async with discord_env(sqlite_url) as env:
        fake, dm = env.fake, env.dm_channel_id
        image = fake.store_file(dm, "cat.png", "image/png", picture(2048, 1024))
        await fake.user_message(env.alice, "what animal?", channel_id=dm, attachments=[image])
        await eventually(lambda: len(fake.channel_messages(dm)) == 1)
        (request,) = env.llm.requests_to("/chat/completions")
        text, part = request.body["messages"][-1]["content"]
        assert text == {"type": "text", "text": "what animal?"}
        with sent_picture(part["image_url"]["url"]) as seen:
            assert seen.size == (1024, 512)
        assert fake.channel_messages(dm)[0]["content"] == "Echo: what animal?"
        assert await env.balance(env.alice) < WELCOME


async def test_discord_document_and_a_too_large_file(sqlite_url: str) -> None:
    async with discord_env(sqlite_url) as env:
        fake, dm = env.fake, env.dm_channel_id
        doc = fake.store_file(dm, "plan.pdf", "application/pdf", pdf(["Launch on Friday"]))
        await fake.user_message(env.alice, "when?", channel_id=dm, attachments=[doc])
        await eventually(lambda: len(fake.channel_messages(dm)) == 1)
        question = env.llm.requests_to("/chat/completions")[0].body["messages"][-1]["content"]
        assert "Launch on Friday" in question and question.startswith("when?")
        charged = await env.balance(env.alice)

        # 100 MB declared by Discord: refused without touching the CDN, nothing charged.
        reads = len(fake.cdn_reads)
        big = fake.store_file(dm, "huge.png", "image/png", b"\x89PNG")
        big["size"] = 100 * 2**20
        await fake.user_message(env.alice, "look", channel_id=dm, attachments=[big])
        await eventually(lambda: len(fake.channel_messages(dm)) == 2)
        assert "too large (100.0 MB; the limit is 10 MB)" in fake.channel_messages(dm)[1]["content"]
        assert len(fake.cdn_reads) == reads
        assert await env.balance(env.alice) == charged
        assert len(env.llm.requests_to("/chat/completions")) == 1


async def test_discord_slash_ask_with_a_file(sqlite_url: str) -> None:
    async with discord_env(sqlite_url) as env:
        fake, channel = env.fake, env.channel_id
        notes = fake.store_file(channel, "todo.txt", "text/plain", b"buy milk\ncall mum\n")
        asked = await env.slash("ask", {"prompt": "what is first?", "file": notes})
        await eventually(lambda: env.settled(asked) and bool(fake.answer(asked)))
        question = env.llm.requests_to("/chat/completions")[0].body["messages"][-1]["content"]
        assert question.startswith("what is first?") and "buy milk" in question

        # Too large by its declared size: one ephemeral response, never a public "thinking".
        big = fake.store_file(channel, "raw.png", "image/png", b"\x89PNG")
        big["size"] = 100 * 2**20
        refused = await env.slash("ask", {"prompt": "look", "file": big})
        await eventually(lambda: fake.interactions[refused].acked is not None)
        state = fake.interactions[refused]
        assert state.acked == 4 and state.ephemeral
        original = fake.original(refused)
        assert original is not None and "too large (100.0 MB" in original["content"]
        assert int(big["id"]) not in fake.cdn_reads
        assert len(env.llm.requests_to("/chat/completions")) == 1


# ---- Slack -----------------------------------------------------------------------------


async def test_slack_shared_picture_and_refusals(sqlite_url: str) -> None:
    async with slack_stack(sqlite_url) as s:
        event = s.message_event("what colour?", channel=DM)
        event["subtype"] = "file_share"
        event["files"] = [s.slack.host_file("red.jpg", picture(1500, 300, "JPEG"), "image/jpeg")]
        await s.poster.event(event)
        await slack_eventually(
            lambda: [m for m in s.slack.bot_messages(DM) if m.text == "Echo: what colour?"],
            what="the answer",
        )
        (request,) = s.llm.requests_to("/chat/completions")
        text, part = request.body["messages"][-1]["content"]
        assert text["text"] == "what colour?"
        with sent_picture(part["image_url"]["url"]) as seen:
            assert seen.size == (1024, 205)
        assert len(s.slack.downloads) == 1

        # A 100-MB file and a corrupt picture: told, nothing downloaded (the first) or asked.
        big = s.slack.host_file("scan.pdf", b"%PDF", "application/pdf")
        big["size"] = 100 * 2**20
        corrupt = s.slack.host_file("broken.png", b"\x89PNG broken", "image/png")
        for item in (big, corrupt):
            again = s.message_event("read it", channel=DM)
            again["subtype"] = "file_share"
            again["files"] = [item]
            await s.poster.event(again)

        def refusals() -> list[str]:  # in a DM "privately" is the DM itself
            return [m.text for m in s.slack.bot_messages(DM) if "Nothing was charged" in m.text]

        await slack_eventually(lambda: len(refusals()) == 2, what="two refusals")
        told = refusals()
        assert "too large (100.0 MB; the limit is 10 MB)" in told[0]
        assert "couldn't open that picture" in told[1]
        assert len(s.slack.downloads) == 2  # only the corrupt one was fetched
        assert len(s.llm.requests_to("/chat/completions")) == 1


# ---- console ---------------------------------------------------------------------------


async def test_console_file_command(sqlite_url: str, tmp_path: Path) -> None:
    notes = tmp_path / "my notes.md"
    notes.write_text("# Plan\nShip the vision feature.\n")
    lines = iter(
        [
            f'/file "{notes}" what is the plan?',
            f"/file {tmp_path / 'missing.png'}",
            f"/file {tmp_path / 'my notes.md'}",  # unquoted: the path ends at the space
            "/quit",
        ]
    )
    out = io.StringIO()
    async with FakeLLM() as llm:
        settings = Settings(database_url=sqlite_url, openai_base_url=llm.base_url)
        async with open_app(settings) as app:
            await run(
                app,
                read_line=lambda _p: next(lines),
                out=out,
                media_dir=tmp_path,
                caller=caller("me", platform="console"),
            )
        (request,) = llm.requests_to("/chat/completions")
    question = request.body["messages"][-1]["content"]
    assert question.startswith('what is the plan?\n\n<document name="my notes.md">')
    assert "Ship the vision feature." in question
    assert out.getvalue().count("Expected: /file <path> [question]") == 2


# ---- HTTP API --------------------------------------------------------------------------


def upload(text: str, *files: tuple[str, bytes, str], **fields: str) -> FormData:
    form = FormData()
    form.add_field("text", text)
    for name, value in fields.items():
        form.add_field(name, value)
    for filename, data, mime in files:
        form.add_field("file", data, filename=filename, content_type=mime)
    return form


async def test_api_ask_files_multipart(sqlite_url: str) -> None:
    async with running_api(sqlite_url, max_image_mb="1", document_tokens="50") as api:
        _, token = await api.user("viewer")
        status, body = await api.call(
            "POST",
            "/ask/files",
            token,
            data=upload(
                "compare them",
                ("a.png", picture(1200, 1200), "image/png"),
                ("notes.csv", b"name,score\nada,10\n", "text/csv"),
            ),
        )
        assert status == 200, body
        assert body["text"].startswith("Echo: compare them") and "ada,10" in body["text"]
        (request,) = api.llm.requests_to("/chat/completions")
        text, part = request.body["messages"][-1]["content"]
        assert "ada,10" in text["text"]
        with sent_picture(part["image_url"]["url"]) as seen:
            assert seen.size == (1024, 1024)
        assert body["charge_micro"] > 0
        _, before = await api.call("GET", "/balance", token)

        refusals = {
            "file_too_large": ("big.png", b"\x89PNG" + b"\0" * (2 * 2**20), "image/png"),
            "unsupported_file": ("app.exe", b"MZ", "application/x-msdownload"),
            "bad_image": ("broken.jpg", b"\xff\xd8 nope", "image/jpeg"),
            "document_no_text": ("scan.pdf", pdf([""]), "application/pdf"),
        }
        for code, item in refusals.items():
            status, body = await api.call("POST", "/ask/files", token, data=upload("x", item))
            assert body["error"]["code"] == code, body
            assert status == (413 if code == "file_too_large" else 422)
        _, after = await api.call("GET", "/balance", token)
        assert after == before  # nothing charged for any refusal
        assert len(api.llm.requests_to("/chat/completions")) == 1

        # A long document: trimmed, and the answer says so (JSON, and SSE before the text).
        long_doc = ("log.txt", b"line of the log\n" * 500, "text/plain")
        status, body = await api.call("POST", "/ask/files", token, data=upload("why?", long_doc))
        assert status == 200 and body["notices"] == [
            "log.txt is long: only its first 50 tokens or so were sent with your question."
        ]
        headers = {"Accept": "text/event-stream"}
        status, raw = await api.call(
            "POST", "/ask/files", token, data=upload("why?", long_doc), headers=headers
        )
        events = [block.split("\n")[0] for block in raw.decode().split("\n\n") if block]
        assert status == 200 and events[0] == "event: notice" and events[-1] == "event: done"
