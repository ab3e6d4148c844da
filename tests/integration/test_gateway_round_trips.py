"""The database round trips of one paid /v1 request on Postgres, counted on the engine:
the credential and its account (one SELECT), the access rules (one SELECT), the hold's
opening and its settlement (one function call each): four statements, and none of them
inside a transaction (no BEGIN, no COMMIT). A messenger's request with an event id keeps
its transaction: the event's record and the hold commit together."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from core.services.requests import ChatRequest
from core.types import TextDone
from tests.e2e.api_harness import Api, running_api
from tests.harness import caller, collect

pytestmark = [pytest.mark.postgres]

CHAT = "/v1/chat/completions"
QUESTION = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Capital?"}]}
COMMIT = "<commit>"


def _name(statement: str) -> str:
    for function in ("switchboard_open_hold", "switchboard_close_hold"):
        if function in statement:
            return function
    return statement.split(None, 1)[0].upper()


@dataclass(eq=False)  # hashable: SQLAlchemy keeps listeners in sets
class Statements:
    """Every statement any engine of this process sends (name, full text), whether the
    connection was inside a transaction right after it (True: a BEGIN was sent), and
    each COMMIT sent."""

    seen: list[tuple[str, str]] = field(default_factory=list)
    in_transaction: list[bool] = field(default_factory=list)

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.seen.append((_name(statement), statement))
        self.in_transaction.append(conn.connection.driver_connection.is_in_transaction())

    def committed(self, conn: Any) -> None:
        # SQLAlchemy tells of a commit in AUTOCOMMIT mode too, where none is sent: only a
        # driver inside a transaction sends one.
        if conn.connection.driver_connection.is_in_transaction():
            self.seen.append((COMMIT, ""))
            self.in_transaction.append(True)

    def names(self) -> list[str]:
        return [name for name, _ in self.seen]

    def clear(self) -> None:
        self.seen.clear()
        self.in_transaction.clear()


@pytest.fixture
def statements() -> Iterator[Statements]:
    counter = Statements()
    event.listen(Engine, "after_cursor_execute", counter)
    event.listen(Engine, "commit", counter.committed)
    yield counter
    event.remove(Engine, "commit", counter.committed)
    event.remove(Engine, "after_cursor_execute", counter)


async def _ask(api: Api, bearer: str) -> None:
    status, body = await api.call("POST", CHAT, bearer, json=QUESTION)
    assert status == 200, body


async def _key(api: Api, token: str) -> str:
    status, body = await api.call("POST", "/api-keys", token, json={"budget_micro": 10**12})
    assert status == 201, body
    return str(body["key"])


def _assert_four_round_trips(statements: Statements) -> None:
    names = statements.names()
    assert names == ["SELECT", "SELECT", "switchboard_open_hold", "switchboard_close_hold"], (
        statements.seen
    )
    auth, access = statements.seen[0][1], statements.seen[1][1]
    assert "credentials" in auth and "accounts" in auth, auth
    assert "access" in access, access
    assert statements.in_transaction == [False] * 4  # no BEGIN was sent


async def test_a_chat_request_by_key_or_token_is_four_statements_outside_a_transaction(
    pg_url: str, statements: Statements
) -> None:
    async with running_api(pg_url, welcome_credits="1000") as api:
        _, token = await api.user("alice")
        key = await _key(api, token)
        for bearer in (key, token):
            for _ in range(3):  # warm: first contact, prepared statements, caches
                await _ask(api, bearer)
            statements.clear()
            await _ask(api, bearer)
            _assert_four_round_trips(statements)


async def test_the_probe_sees_a_transaction(pg_url: str, statements: Statements) -> None:
    """The check above could fail: a statement of an ordinary (atomic) unit of work is
    seen inside its transaction, and its commit is seen."""
    async with running_api(pg_url) as api:
        statements.clear()
        async with api.app.uow() as tx:
            assert await tx.accounts.get(10**9) is None
            await tx.commit()
        assert statements.in_transaction[0] is True
        assert statements.names()[-1] == COMMIT


async def test_a_messenger_request_keeps_its_event_and_hold_in_one_transaction(
    pg_url: str, statements: Statements
) -> None:
    async with running_api(pg_url, welcome_credits="1000") as api:
        chat = api.app.core.chat

        async def ask(event_id: str) -> None:
            request = ChatRequest(caller=caller("7"), chat_id="c", text="hi", event_id=event_id)
            done = (await collect(chat.ask(request)))[-1]
            assert isinstance(done, TextDone)

        await ask("e-0")  # first contact: the account is created
        statements.clear()
        await ask("e-1")
        names = statements.names()
        assert names.count("switchboard_open_hold") == 1, statements.seen
        events = [i for i, (_, sql) in enumerate(statements.seen) if "processed_events" in sql]
        assert events, statements.seen
        first, hold = events[0], names.index("switchboard_open_hold")
        assert first < hold
        # The event's record and the hold: in a transaction, and no commit between them.
        assert COMMIT not in names[first:hold], statements.seen
        assert all(statements.in_transaction[first : hold + 1]), statements.seen
        assert COMMIT in names[hold:]
