"""Pictures and documents with a question: the file-kind table, downscaling, text
extraction and its limits, and the chat use case over the fake LLM: what reaches the
upstream, what is stored, what is charged, and the refusals that cost nothing."""

from __future__ import annotations

import base64
import io
import tomllib
from dataclasses import replace

import pytest
from PIL import Image
from pypdf.errors import LimitReachedError

from core.errors import (
    BadDocument,
    BadImage,
    DocumentHasNoText,
    DocumentTooManyPages,
    EmptyInput,
    FileTooLarge,
    UnsupportedFile,
    VisionUnavailable,
    VisionUnsupported,
)
from core.models_config import ModelsFileError, parse_models
from core.money import MICRO, estimate_tokens
from core.services import Core
from core.services.attachments import (
    FileKind,
    Prepared,
    image_tokens,
    kind_of,
    size_refusal,
    stored_marker,
)
from core.services.config import DEFAULT_SYSTEM_PROMPT, CoreConfig
from core.services.documents import DocumentText, extract_text
from core.services.images_in import downscale
from core.services.requests import Attachment, ChatRequest
from core.types import ImagePart, Notice, Role, TextDone
from tests.fakes.llm_server import FakeLLM
from tests.fakes.memory import MemoryStore, memory_uow_factory
from tests.harness import MODELS_TOML, OPEN_LIMITS, caller, collect, core_on
from tests.sample_files import pdf, picture, pixel_bomb

# chat-a (the default) takes text only; chat-b can see pictures.
VISION_TOML = MODELS_TOML.replace('[models."chat-pro"]', 'vision = true\n[models."chat-pro"]')


@pytest.fixture
async def llm():
    async with FakeLLM() as server:
        yield server


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


def catalog(toml: str = VISION_TOML):
    return parse_models(tomllib.loads(toml))


def ask(text: str, *files: Attachment, model: str | None = "chat-b") -> ChatRequest:
    return ChatRequest(caller=caller("7"), chat_id="c", text=text, attachments=files, model=model)


async def balance(core: Core) -> int:
    return (await core.accounts.resolve(caller("7"))).balance


# ---- the table -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "mime", "kind"),
    [
        ("photo.jpg", "image/jpeg", FileKind.IMAGE),
        ("x.bin", "image/webp", FileKind.IMAGE),
        ("scan.PNG", None, FileKind.IMAGE),
        ("drawing.svg", "image/svg+xml", FileKind.OTHER),
        ("report.pdf", "application/octet-stream", FileKind.DOCUMENT),
        ("notes.md", None, FileKind.DOCUMENT),
        ("data.csv", "text/csv", FileKind.DOCUMENT),
        ("main.py", "application/octet-stream", FileKind.DOCUMENT),
        ("config", "application/json", FileKind.DOCUMENT),
        ("voice.ogg", "audio/ogg", FileKind.AUDIO),
        ("clip.mp4", "video/mp4", FileKind.OTHER),
        ("setup.exe", "application/x-msdownload", FileKind.OTHER),
    ],
)
def test_kind_of(name: str, mime: str | None, kind: FileKind) -> None:
    assert kind_of(name, mime) is kind


def test_size_refusal_uses_the_declared_size() -> None:
    config = CoreConfig(max_image_bytes=2 * 2**20, max_document_bytes=2**20)
    assert size_refusal("a.jpg", "image/jpeg", 2 * 2**20, config) is None
    too_big = size_refusal("a.jpg", "image/jpeg", 100 * 2**20, config)
    assert isinstance(too_big, FileTooLarge) and too_big.params == {
        "size_mb": "100.0",
        "limit_mb": "2",
    }
    assert isinstance(size_refusal("a.pdf", None, 2 * 2**20, config), FileTooLarge)
    assert isinstance(size_refusal("a.exe", None, 10, config), UnsupportedFile)


def test_models_file_vision_flag() -> None:
    models = catalog()
    assert models.models["chat-b"].vision and not models.models["chat-a"].vision
    assert models.vision_model_for(Role.GUEST) is models.models["chat-b"]
    assert catalog(MODELS_TOML).vision_model_for(Role.ADMIN) is None
    with pytest.raises(ModelsFileError, match="vision"):
        catalog(MODELS_TOML.replace('kind = "image"', 'kind = "image"\nvision = true'))


# ---- pictures --------------------------------------------------------------------------


def test_downscale_fits_the_longer_side_and_reencodes() -> None:
    part = downscale(picture(3000, 1500), 1024)
    assert (part.width, part.height) == (1024, 512) and part.mime == "image/jpeg"
    with Image.open(io.BytesIO(part.data)) as sent:
        assert sent.size == (1024, 512) and sent.format == "JPEG"
    small = downscale(picture(300, 200, "JPEG"), 1024)
    assert (small.width, small.height) == (300, 200)  # never enlarged
    transparent = downscale(picture(800, 800, mode="RGBA"), 512)
    assert transparent.mime == "image/png" and transparent.width == 512


@pytest.mark.parametrize(
    "data",
    [b"not a picture at all", picture(50, 50)[:60], pixel_bomb()],
    ids=["garbage", "truncated", "pixel-bomb"],
)
def test_unreadable_pictures_are_refused(data: bytes) -> None:
    with pytest.raises(BadImage):
        downscale(data, 1024)


def test_image_tokens_follow_the_tile_rule() -> None:
    assert image_tokens(ImagePart(b"", "image/jpeg", 512, 512)) == 85 + 170
    assert image_tokens(ImagePart(b"", "image/jpeg", 1024, 1024)) == 85 + 170 * 4


# ---- documents ---------------------------------------------------------------------------


def test_pdf_text_is_extracted_page_by_page() -> None:
    doc = extract_text(Attachment("r.pdf", pdf(["Revenue grew 12%", "Costs fell"])), CoreConfig())
    assert "Revenue grew 12%" in doc.text and "Costs fell" in doc.text and not doc.trimmed


def test_long_text_is_trimmed_to_the_budget() -> None:
    text = "word " * 10_000
    doc = extract_text(Attachment("a.txt", text.encode()), CoreConfig(document_tokens=100))
    assert doc.trimmed and text.startswith(doc.text) and 90 <= doc.tokens <= 100
    assert estimate_tokens(text[: len(doc.text) + 8]) > 100  # the longest prefix that fits
    short = extract_text(Attachment("b.txt", b"just this"), CoreConfig(document_tokens=100))
    assert not short.trimmed and short.text == "just this"


@pytest.mark.parametrize(
    ("item", "error"),
    [
        (Attachment("scan.pdf", pdf(["", ""])), DocumentHasNoText),
        (Attachment("big.pdf", pdf(["page"] * 6)), DocumentTooManyPages),
        (Attachment("broken.pdf", b"%PDF-1.4\n garbage"), BadDocument),
        (Attachment("bin.txt", b"\x00\x01\x02binary"), BadDocument),
    ],
    ids=["scanned", "too-many-pages", "broken", "binary-as-text"],
)
def test_unusable_documents_are_refused(item: Attachment, error: type[Exception]) -> None:
    with pytest.raises(error):
        extract_text(item, CoreConfig(max_document_pages=5))


def test_a_pdf_bomb_is_refused_not_inflated() -> None:
    """Each page's stream inflates to 300 MB of spaces. pypdf caps what one stream may
    inflate to (75 MB), so the document is refused as unreadable instead of filling memory."""
    bomb = pdf(["hello"] * 2, compress_pad=300 * 2**20)
    assert len(bomb) < 2 * 2**20
    with pytest.raises(BadDocument) as refused:
        extract_text(Attachment("bomb.pdf", bomb), CoreConfig())
    assert isinstance(refused.value.__cause__, LimitReachedError)


# ---- through the chat use case ---------------------------------------------------------


async def test_picture_goes_as_an_image_part_and_is_stored_as_a_marker(llm, store) -> None:
    llm.script(reply="A red square.")
    uow = memory_uow_factory(store)
    async with core_on(uow, llm.base_url, models=catalog()) as core:
        events = await collect(core.chat.ask(ask("What is it?", Attachment("p.png", picture()))))
        follow_up = await collect(core.chat.ask(ask("And its colour again?")))
    done = events[-1]
    assert isinstance(done, TextDone) and done.text == "A red square."
    first, second = (r.body["messages"] for r in llm.requests_to("/chat/completions"))
    text_part, image_part = first[-1]["content"]
    assert text_part == {"type": "text", "text": "What is it?"}
    url = image_part["image_url"]["url"]
    assert url.startswith("data:image/jpeg;base64,")
    with Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) as sent:
        assert sent.size == (1024, 768)  # 2000×1500, downscaled
    # The follow-up carries the marker and the caption, not the picture.
    assert second[1] == {"role": "user", "content": "[image: p.png] What is it?"}
    assert all(isinstance(m["content"], str) for m in second)
    # Priced from the upstream's usage: the fake counts 85 tokens for a picture.
    system_words = len(DEFAULT_SYSTEM_PROMPT.split())
    assert done.usage.prompt_tokens == (system_words + 3) + (3 + 3 + 85)
    charges = done.credits + follow_up[-1].credits
    assert await balance(core) == 100 * MICRO - charges


async def test_album_sends_every_picture_in_one_question(llm, store) -> None:
    files = [Attachment(f"{n}.jpg", picture(600, 400, "JPEG"), "image/jpeg") for n in range(3)]
    async with core_on(memory_uow_factory(store), llm.base_url, models=catalog()) as core:
        await collect(core.chat.ask(ask("", *files)))
    (request,) = llm.requests_to("/chat/completions")
    parts = request.body["messages"][-1]["content"]
    assert [p["type"] for p in parts] == ["image_url"] * 3  # no caption: pictures only


async def test_document_text_is_sent_trimmed_with_a_note(llm, store) -> None:
    config = CoreConfig(document_tokens=50)
    long_text = "The secret number is 42. " + "filler " * 500
    notes = Attachment("notes.md", long_text.encode())
    async with core_on(
        memory_uow_factory(store), llm.base_url, models=catalog(), config=with_limits(config)
    ) as core:
        events = await collect(core.chat.ask(ask("What is the number?", notes, model=None)))
    sent = llm.requests_to("/chat/completions")[0].body["messages"][-1]["content"]
    assert sent.startswith('What is the number?\n\n<document name="notes.md">\n')
    assert "The secret number is 42." in sent and "[trimmed:" in sent
    document = sent.split('<document name="notes.md">\n', 1)[1].split("\n</document>")[0]
    assert long_text.startswith(document) and estimate_tokens(document) <= 50
    assert len(document) >= 150  # 50 tokens' worth, not an empty cut
    notice = events[0]
    assert isinstance(notice, Notice) and notice.key == "reply.document_trimmed"
    assert notice.params == {"name": "notes.md", "tokens": "50"}


async def test_text_only_model_refuses_a_picture_naming_one_that_can(llm, store) -> None:
    async with core_on(memory_uow_factory(store), llm.base_url, models=catalog()) as core:
        with pytest.raises(VisionUnsupported) as refused:
            await core.chat.start(ask("hi", Attachment("p.png", picture(10, 10)), model=None))
        assert refused.value.params == {"model": "chat-a", "vision_model": "chat-b"}
        with pytest.raises(VisionUnavailable):
            async with core_on(
                memory_uow_factory(store), llm.base_url, models=catalog(MODELS_TOML)
            ) as plain:
                await plain.chat.start(ask("hi", Attachment("p.png", picture(10, 10)), model=None))
        # The refusals held nothing and left the rate-limit slot free.
        assert await balance(core) == 100 * MICRO
        await collect(core.chat.ask(ask("just text", model=None)))
    assert len(llm.requests_to("/chat/completions")) == 1


@pytest.mark.parametrize(
    ("item", "error"),
    [
        (Attachment("p.jpg", b"\xff\xd8 corrupt"), BadImage),
        (Attachment("scan.pdf", pdf([""])), DocumentHasNoText),
        (Attachment("huge.png", b"\x00" * (3 * 2**20)), FileTooLarge),
        (Attachment("tool.exe", b"MZ"), UnsupportedFile),
    ],
    ids=["corrupt-image", "scanned-pdf", "too-large", "unsupported"],
)
async def test_bad_files_cost_nothing(llm, store, item: Attachment, error: type) -> None:
    config = with_limits(CoreConfig(max_image_bytes=2 * 2**20))
    async with core_on(
        memory_uow_factory(store), llm.base_url, models=catalog(), config=config
    ) as core:
        with pytest.raises(error):
            await core.chat.start(ask("look", item))
        assert await balance(core) == 100 * MICRO
    assert llm.requests_to("/chat/completions") == []


async def test_files_without_words_are_not_empty_input(llm, store) -> None:
    async with core_on(memory_uow_factory(store), llm.base_url, models=catalog()) as core:
        with pytest.raises(EmptyInput):
            await core.chat.start(ask("  "))


def with_limits(config: CoreConfig) -> CoreConfig:
    return replace(config, role_limits=OPEN_LIMITS, stop_poll_s=0.05)


def test_file_names_cannot_break_out_of_their_label() -> None:
    files = Prepared(documents=(DocumentText('a"><x>\n.txt', "hi", False, 1),))
    assert '<document name="a___x__.txt">' in files.prompt_text("q")
    marker = stored_marker((Attachment("[evil].png", b""),), "what")
    assert marker == "[image: _evil_.png] what"
