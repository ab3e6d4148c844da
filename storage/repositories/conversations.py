"""Conversation messages: the context window sent upstream and the /history archive."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, insert, or_, select, update
from sqlalchemy.orm import aliased

from core.types import ConversationKey, Exchange, StoredMessage
from storage.repositories._base import SqlRepository
from storage.tables import MessageRow, utcnow


class SqlConversationRepository(SqlRepository):
    async def append(self, conversation: ConversationKey, *messages: StoredMessage) -> None:
        if not messages:
            return
        now = utcnow()
        rows = [
            {
                "platform": conversation.platform,
                "chat_id": conversation.chat_id,
                "account_id": conversation.account_id,
                "role": message.role,
                "content": message.content,
                "request_id": message.request_id,
                "in_window": True,
                "created_at": message.created_at or now,
            }
            for message in messages
        ]
        # A multi-row VALUES keeps the order of ``messages`` in the ids.
        await self._execute(insert(MessageRow).values(rows))

    async def window(self, conversation: ConversationKey, limit: int) -> list[StoredMessage]:
        if limit <= 0:
            return []
        statement = (
            select(MessageRow)
            .where(
                MessageRow.platform == conversation.platform,
                MessageRow.chat_id == conversation.chat_id,
                MessageRow.account_id == conversation.account_id,
                MessageRow.in_window.is_(True),
            )
            .order_by(MessageRow.id.desc())
            .limit(limit)
        )
        rows = list((await self._execute(statement)).all())
        return _oldest_first(rows)

    async def latest_chat(self, conversation: ConversationKey) -> str | None:
        statement = (
            select(MessageRow.chat_id)
            .where(
                MessageRow.platform == conversation.platform,
                _chat_and_its_threads(conversation),
                MessageRow.account_id == conversation.account_id,
                MessageRow.in_window.is_(True),
            )
            .order_by(MessageRow.id.desc())
            .limit(1)
        )
        found = (await self._execute(statement)).scalar_one_or_none()
        return None if found is None else str(found)

    async def transcript(self, conversation: ConversationKey, limit: int) -> list[StoredMessage]:
        if limit <= 0:
            return []
        statement = (
            select(MessageRow)
            .where(
                MessageRow.platform == conversation.platform,
                _chat_and_its_threads(conversation),
                MessageRow.account_id == conversation.account_id,
            )
            .order_by(MessageRow.id.desc())
            .limit(limit)
        )
        rows = list((await self._execute(statement)).all())
        return _oldest_first(rows)

    async def reset(self, conversation: ConversationKey) -> None:
        await self._execute(
            update(MessageRow)
            .where(
                MessageRow.platform == conversation.platform,
                MessageRow.chat_id == conversation.chat_id,
                MessageRow.account_id == conversation.account_id,
                MessageRow.in_window.is_(True),
            )
            .values(in_window=False)
        )

    async def leave_out(self, conversation: ConversationKey, request_id: str) -> None:
        await self._execute(
            update(MessageRow)
            .where(
                MessageRow.platform == conversation.platform,
                MessageRow.chat_id == conversation.chat_id,
                MessageRow.account_id == conversation.account_id,
                MessageRow.request_id == request_id,
                MessageRow.in_window.is_(True),
            )
            .values(in_window=False)
        )

    async def history(self, account_id: int, limit: int) -> list[Exchange]:
        if limit <= 0:
            return []
        question, answer = aliased(MessageRow), aliased(MessageRow)
        statement = (
            select(question.request_id, question.content, answer.content, question.created_at)
            .join(
                answer,
                and_(
                    answer.request_id == question.request_id,
                    answer.account_id == question.account_id,
                    answer.role == "assistant",
                ),
            )
            .where(question.account_id == account_id, question.role == "user")
            .order_by(question.id.desc(), answer.id.desc())
            .limit(limit)
        )
        result = await self._execute(statement)
        return [
            Exchange(request_id=rid, question=asked, answer=said, created_at=at)
            for rid, asked, said, at in result.all()
        ]

    async def move_account(self, from_account: int, to_account: int) -> None:
        await self._execute(
            update(MessageRow)
            .where(MessageRow.account_id == from_account)
            .values(account_id=to_account)
        )

    async def questions_since(self, since: datetime, limit: int) -> list[str]:
        if limit <= 0:
            return []
        statement = (
            select(MessageRow.content)
            .where(MessageRow.role == "user", MessageRow.created_at >= since)
            .order_by(MessageRow.id.desc())
            .limit(limit)
        )
        return [str(content) for content in (await self._execute(statement)).scalars().all()]


def _chat_and_its_threads(conversation: ConversationKey) -> ColumnElement[bool]:
    """The chat itself and its threads/topics (``<chat>:<thread>``); a chat whose id only
    starts the same (``C1`` vs ``C10``) is not one of them."""
    return or_(
        MessageRow.chat_id == conversation.chat_id,
        MessageRow.chat_id.startswith(f"{conversation.chat_id}:", autoescape=True),
    )


def _oldest_first(rows: list[Row[Any]]) -> list[StoredMessage]:
    """Rows read newest first (to take the last N), returned in conversation order."""
    return [
        StoredMessage(
            role=row.role,
            content=row.content,
            request_id=row.request_id,
            created_at=row.created_at,
        )
        for row in reversed(rows)
    ]
