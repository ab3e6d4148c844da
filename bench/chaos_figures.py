"""The chaos suite's figures: one row per scenario, how a Telegram chat is classified
(complete / partial / silent), and which figures fail the run."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.chaos_world import BOT_ID, World
from tests.fakes.telegram_server import FakeTelegramServer


@dataclass
class Row:
    scenario: str
    people: int = 0
    complete: int = 0  # the whole answer arrived
    partial: int = 0  # no whole answer, but the person was told (a notice)
    silent: int = 0  # neither a whole answer nor a notice
    open_holds: int = 0  # holds still open once the lease TTL (+ margin) has passed
    free: int = 0  # answers a person saw that were not charged
    double: int = 0  # charges beyond the answers a person saw
    ledger_ok: bool = True  # every balance equals its ledger
    tracebacks: int = 0
    too_many: int = 0  # 429s from the fake platform
    locked: bool = False  # a normal request was not answered in normal time afterwards
    notes: list[str] = field(default_factory=list)
    error: str = ""  # the scenario could not run

    def failures(self) -> list[str]:
        why = [f"could not run ({self.error})"] if self.error else []
        if self.silent:
            why.append(f"{self.silent} silent")
        if self.free:
            why.append(f"{self.free} free answers")
        if self.open_holds:
            why.append(f"{self.open_holds} holds open past the lease")
        if self.tracebacks:
            why.append(f"{self.tracebacks} tracebacks")
        if self.locked:
            why.append("database left locked")
        if not self.ledger_ok:
            why.append("ledger != balances")
        return why


HEADER = (
    f"{'scenario':<16} {'people':>6} {'complete':>8} {'partial':>7} {'silent':>6}"
    f" {'open holds':>10} {'free':>4} {'double':>6} {'ledger=bal':>10} {'tracebacks':>10}"
    f" {'429s':>4} {'locked':>6}  verdict"
)


def format_row(row: Row) -> str:
    failures = row.failures()
    verdict = "ok" if not failures else "FAIL: " + ", ".join(failures)
    return (
        f"{row.scenario:<16} {row.people:>6} {row.complete:>8} {row.partial:>7} {row.silent:>6}"
        f" {row.open_holds:>10} {row.free:>4} {row.double:>6}"
        f" {'yes' if row.ledger_ok else 'NO':>10} {row.tracebacks:>10} {row.too_many:>4}"
        f" {'YES' if row.locked else 'no':>6}  {verdict}"
    )


# ---- Telegram chats ---------------------------------------------------------------------


def bot_texts(server: FakeTelegramServer, chat_id: int) -> list[str]:
    """The bot's messages in a chat as they stand now, oldest first."""
    return [
        str(m["text"]).strip()
        for (chat, _), m in sorted(server.messages.items())
        if chat == chat_id and "text" in m and m["from"].get("id") == BOT_ID
    ]


def is_answer_part(text: str, answer: str) -> bool:
    """A streamed answer as it stands: a beginning of the answer and nothing else."""
    return bool(text) and answer.startswith(text)


def streaming(server: FakeTelegramServer, chat_id: int, answer: str) -> bool:
    """Part of the answer is visible in the chat (more than its first words)."""
    return any(
        is_answer_part(t, answer) and len(t) > 20 or t == answer for t in bot_texts(server, chat_id)
    )


def complete(server: FakeTelegramServer, chat_id: int, answer: str) -> bool:
    return answer in bot_texts(server, chat_id)


def told(server: FakeTelegramServer, chat_id: int, answer: str) -> bool:
    """Something that is not (a part of) the answer: a notice, an error, "(stopped)"."""
    return any(not is_answer_part(t, answer) for t in bot_texts(server, chat_id))


def settled(server: FakeTelegramServer, chat_id: int, answer: str) -> bool:
    return complete(server, chat_id, answer) or told(server, chat_id, answer)


def answers_seen(server: FakeTelegramServer, chat_id: int, answer: str) -> int:
    """Messages that carry (part of) the answer, each one answer a person saw."""
    first_word = answer.split()[0]
    return sum(t.split()[:1] == [first_word] for t in bot_texts(server, chat_id))


async def telegram_row(row: Row, here: World, chats: list[int], answer: str) -> Row:
    """Fill the per-person figures of a Telegram scenario (people, complete, partial,
    silent, free, double) and the shared ones."""
    server = here.telegram
    charges = await here.charges("telegram")
    row.people = len(chats)
    for chat in chats:
        if complete(server, chat, answer):
            row.complete += 1
        elif told(server, chat, answer):
            row.partial += 1
        else:
            row.silent += 1
        mine = charges.get(str(chat), [])
        charged = sum(1 for c in mine if c)
        still_open = sum(1 for c in mine if c is None)
        seen = answers_seen(server, chat, answer)
        row.free += max(0, seen - charged - still_open)
        row.double += max(0, charged - seen)
    row.too_many = server.too_many_requests
    return await shared_figures(row, here)


async def shared_figures(row: Row, here: World) -> Row:
    row.open_holds = await here.open_holds()
    if row.open_holds:
        owners = await here.open_hold_owners()
        row.notes.append(f"open holds: {', '.join(owners[:12])}")
    row.ledger_ok = await here.ledger_matches_balances()
    return row
