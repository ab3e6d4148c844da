"""Exact credits, the models file, the message catalogs and the settings."""

from __future__ import annotations

import asyncio
import tomllib

import pytest

from bots.settings import SettingsError, load_settings
from core.i18n import Translator, available_languages, translate
from core.models_config import MODEL_KINDS, ModelsFileError, load_models_file, parse_models
from core.money import MICRO, PriceError, estimate_tokens, format_credits, price_of, to_micro
from core.services.billing import uncancellable
from core.types import Feature, Role
from tests.harness import MODELS_TOML


def test_prices_are_exact_and_charges_never_round_to_zero():
    assert to_micro("0.000001") == 1 and to_micro(10) == 10 * MICRO and to_micro(0.5) == MICRO // 2
    with pytest.raises(PriceError):
        to_micro("0.0000001")
    with pytest.raises(PriceError):
        to_micro("ten")
    assert price_of(1, 1) == 1  # 1/1000 of a sub-unit rounds up, not down
    assert price_of(1000, 10 * MICRO) == 10 * MICRO
    assert price_of(0, 10 * MICRO) == 0


def test_credits_display_with_two_decimals_and_small_amounts_are_visible():
    assert format_credits(100 * MICRO) == "100.00"
    assert format_credits(-1_234_567) == "-1.23"
    assert format_credits(3) == "<0.01"
    assert format_credits(0) == "0.00"


def test_token_estimate_never_zero_for_text():
    assert estimate_tokens("") == 0 and estimate_tokens("a") == 1
    assert estimate_tokens("привет мир") >= estimate_tokens("hello world")


def test_models_file_parses_prices_roles_and_defaults():
    catalog = parse_models(tomllib.loads(MODELS_TOML))
    chat = catalog.get("chat-a")
    assert chat is not None and chat.input_per_1k == 10 * MICRO and chat.fallbacks == ("chat-b",)
    assert catalog.default_for(Feature.IMAGE).name == "img"
    assert [m.name for m in catalog.usable(Role.GUEST, Feature.CHAT)] == ["chat-a", "chat-b"]
    assert catalog.providers["openai"].base_url is None


def test_the_output_limit_key_is_max_tokens_unless_the_model_says_otherwise():
    toml = '[models.old]\n[models.o3]\nlimit_parameter = "max_completion_tokens"'
    catalog = parse_models(tomllib.loads(toml))
    assert catalog.models["old"].limit_parameter == "max_tokens"
    assert catalog.models["o3"].limit_parameter == "max_completion_tokens"


def test_shipped_default_models_file_is_valid():
    from bots.settings import DEFAULT_MODELS_FILE

    catalog = load_models_file(DEFAULT_MODELS_FILE)
    assert catalog.default_for(Feature.CHAT).name == "gpt-4o-mini"
    assert {m.kind for m in catalog.models.values()} == set(MODEL_KINDS)


@pytest.mark.parametrize(
    ("toml", "names"),
    [
        ('[models.x]\nkind = "video"', "models.x.kind"),
        ('[models.x]\nkind = "files"', "models.x.kind"),  # a usage feature, no model kind
        ('[models.x]\nprovider = "nowhere"', "models.x.provider"),
        ('[models.x]\ninput_credits_per_1k = "abc"', "models.x.input_credits_per_1k"),
        ('[models.x]\nroles = ["king"]', "models.x.roles"),
        ('[models.x]\nfallbacks = ["y"]', "models.x.fallbacks"),
        ('default_chat_model = "zzz"', "default_chat_model"),
        ("[models.x]\nmax_output_tokens = 0", "models.x.max_output_tokens"),
        ('[models.x]\nlimit_parameter = "max_output_tokens"', "models.x.limit_parameter"),
        ("[models.x]\nlimit_parameter = 7", "models.x.limit_parameter"),
        ('[models.x]\nkind = "tts"\nlimit_parameter = "max_tokens"', "models.x.limit_parameter"),
    ],
)
def test_bad_models_file_names_the_key(toml, names):
    with pytest.raises(ModelsFileError, match=names.replace(".", r"\.")):
        parse_models(tomllib.loads(toml))


def test_catalogs_have_the_same_keys_and_russian_works():
    from core.i18n import _catalog

    assert set(available_languages()) >= {"en", "ru"}
    assert set(_catalog("ru")) == set(_catalog("en"))
    assert translate("ru_RU", "cmd.reset") == "Готово: этот разговор забыт."
    assert Translator("pt-BR")("cmd.reset") == "Done: this conversation is forgotten."
    assert "5" in Translator("en")("error.rate_limited", retry_after=5)


def test_bad_settings_stop_with_one_line_naming_them(monkeypatch):
    monkeypatch.setenv("CONTEXT_MESSAGES", "many")
    with pytest.raises(SettingsError, match="CONTEXT_MESSAGES"):
        load_settings()
    monkeypatch.delenv("CONTEXT_MESSAGES")
    for name, value in [
        ("BOT_ADMINS", "telegram"),
        ("WELCOME_CREDITS", "-1"),
        ("GATEWAY_FILE_CREDITS_PER_MB", "-0.5"),
        ("GATEWAY_FILE_CREDITS_PER_MB", "0.0000001"),  # finer than a micro-credit
        ("NEW_ACCOUNT_ROLE", "king"),
        ("RATE_LIMITS", "user:ten"),
        ("LOG_LEVEL", "LOUD"),
    ]:
        monkeypatch.setenv(name, value)
        with pytest.raises(SettingsError, match=name):
            load_settings()
        monkeypatch.delenv(name)
    settings = load_settings(bot_admins="telegram:1,slack:T1/U2", rate_limits="guest:5/1")
    assert {str(k) for k in settings.admins} == {"telegram:1", "slack:T1/U2"}
    assert settings.role_limits[Role.GUEST].per_minute == 5
    assert settings.gateway_file_micro_per_mb == 0  # uploads free unless priced
    assert load_settings(gateway_file_credits_per_mb="0.25").gateway_file_micro_per_mb == 250_000


async def test_uncancellable_finishes_its_work_then_reraises():
    finished = asyncio.Event()

    async def work() -> int:
        await asyncio.sleep(0.05)
        finished.set()
        return 1

    task = asyncio.create_task(uncancellable(work()))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert finished.is_set()
