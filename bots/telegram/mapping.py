"""Telegram updates in the core's terms: who asks (``Caller``), in which conversation
(``chat_id``, a forum topic being a conversation of its own), under which event id, and
whether a group message is addressed to the bot at all."""

from __future__ import annotations

from aiogram.types import Message, MessageEntity, Update, User

from core.services.requests import Caller, Quote, Venue
from core.text_input import clean_text
from core.types import IdentityKey

PLATFORM = "telegram"
# Anonymous group admins post as this user, channel posts forwarded into a linked group as
# 777000: neither is a person, so neither gets an account.
ANONYMOUS_ADMIN = 1087968824
TELEGRAM_SERVICE = 777000
SERVICE_SENDERS = frozenset({ANONYMOUS_ADMIN, TELEGRAM_SERVICE})


def event_id(update: Update, suffix: str = "") -> str:
    """``tg:<update_id>``; a suffix tells apart two paid requests of one update."""
    base = f"tg:{update.update_id}"
    return f"{base}:{suffix}" if suffix else base


def caller_of(user: User | None, venue: Venue | None = None) -> Caller | None:
    """The person behind an update, or None for service senders and bots."""
    if user is None or user.is_bot or user.id in SERVICE_SENDERS:
        return None
    return Caller(
        IdentityKey(PLATFORM, "", str(user.id)),
        # The username first: admins point at people with @name.
        display_name=user.username or user.full_name or None,
        locale=user.language_code,
        venue=venue,
    )


def message_caller(message: Message) -> Caller | None:
    """A message's sender; None when it was sent on behalf of a chat (``sender_chat``).
    The chat travels along for the access lists (an allowed group admits its members)."""
    if message.sender_chat is not None:
        return None
    venue = Venue(str(message.chat.id), private=message.chat.type == "private")
    return caller_of(message.from_user, venue)


def is_private(message: Message) -> bool:
    return message.chat.type == "private"


def topic_id(message: Message) -> int | None:
    """The forum topic a message belongs to (not a plain reply thread)."""
    if message.is_topic_message and message.message_thread_id:
        return message.message_thread_id
    return None


def conversation_id(message: Message) -> str:
    """The conversation (the core's ``chat_id``): ``<chat>`` or ``<chat>:<topic>`` in a
    forum. Not the relay's pacing key (``SinkLimits.chat_key``), which is per chat."""
    topic = topic_id(message)
    return f"{message.chat.id}:{topic}" if topic else str(message.chat.id)


def message_text(message: Message) -> str:
    """The text or caption, cleaned (a lone surrogate would break the UTF-16 entity
    offsets aiogram computes; U+FFFD keeps them, one code unit for one)."""
    return clean_text(message.text or message.caption or "")


def _entities(message: Message) -> list[MessageEntity]:
    return list(message.entities or message.caption_entities or [])


def replied_to_bot(message: Message, bot_id: int) -> bool:
    reply = message.reply_to_message
    if reply is None or reply.forum_topic_created is not None:
        return False  # in a forum every message "replies" to its topic's first message
    return reply.from_user is not None and reply.from_user.id == bot_id


def mentioned(message: Message, bot_id: int, username: str) -> bool:
    text = message_text(message)
    for entity in _entities(message):
        if entity.type == "text_mention" and entity.user and entity.user.id == bot_id:
            return True
        if entity.type == "mention":
            name = entity.extract_from(text)
            if name.lstrip("@").casefold() == username.casefold():
                return True
    return False


def without_mention(text: str, username: str) -> str:
    """The question with the bot's @name taken out."""
    mention = f"@{username}"
    lowered = text.casefold()
    at = lowered.find(mention.casefold())
    while at != -1:
        text = text[:at] + text[at + len(mention) :]
        lowered = text.casefold()
        at = lowered.find(mention.casefold())
    return text.strip(" ,:;\n")


def addressed_text(message: Message, bot_id: int, username: str) -> str | None:
    """What a group message asks the bot, or None when it is other people's chatter."""
    if replied_to_bot(message, bot_id) or mentioned(message, bot_id, username):
        return without_mention(message_text(message), username)
    return None


def reply_target(message: Message, bot_id: int) -> str | None:
    """The person a command points at by replying to their message."""
    reply = message.reply_to_message
    if reply is None or reply.forum_topic_created is not None or reply.sender_chat:
        return None
    user = reply.from_user
    if user is None or user.is_bot or user.id in SERVICE_SENDERS or user.id == bot_id:
        return None
    return str(user.id)


def is_channel_forward(message: Message) -> bool:
    origin = message.forward_origin
    return bool(message.is_automatic_forward) or (origin is not None and origin.type == "channel")


def quoted(message: Message, bot_id: int, depth: int) -> tuple[Quote, ...]:
    """The message this one replies to, as context for the question (Telegram hands a bot
    one level of reply, so at most one quote whatever ``depth`` allows). A partial quote
    the person selected wins over the whole message."""
    reply = message.reply_to_message
    if depth <= 0 or reply is None or reply.forum_topic_created is not None:
        return ()
    text = message.quote.text if message.quote is not None else message_text(reply)
    # A picture without a caption is still context: its image goes with the quote.
    pictured = bool(reply.photo) or (
        reply.document is not None and (reply.document.mime_type or "").startswith("image/")
    )
    if not text.strip() and not pictured:
        return ()
    user = reply.from_user
    if user is not None and user.id == bot_id:
        author: str | None = "assistant"
    elif reply.sender_chat is not None:
        author = reply.sender_chat.title
    else:
        author = (user.full_name or user.username) if user is not None else None
    return (Quote(text=text, author=author),)
