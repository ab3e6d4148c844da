"""Access rules, invitation codes and announcement opt-outs (core.ports.AccessRepository)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Executable, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from core.ports import AccessRule, Invite
from storage.repositories._base import SqlRepository
from storage.tables import AccessRuleRow, AnnouncementMuteRow, InviteRow, utcnow

# Every paid request checks the rules: the statement is built once ("expanding": the
# list of subjects is bound per call), not per request.
VERDICTS = select(AccessRuleRow.subject, AccessRuleRow.verdict).where(
    AccessRuleRow.subject.in_(bindparam("subjects", expanding=True))
)


class SqlAccessRepository(SqlRepository):
    async def verdicts(self, subjects: Sequence[str]) -> dict[str, str]:
        rows = await self._execute(VERDICTS, {"subjects": list(subjects)})
        return {row.subject: row.verdict for row in rows}

    async def set_rule(self, subject: str, verdict: str, actor_id: int | None) -> None:
        values = {
            "subject": subject,
            "verdict": verdict,
            "actor_account_id": actor_id,
            "created_at": utcnow(),
        }
        changes = {"verdict": verdict, "actor_account_id": actor_id, "created_at": utcnow()}
        statement: Executable
        if self._dialect == "postgresql":
            pg = postgresql.insert(AccessRuleRow).values(values)
            statement = pg.on_conflict_do_update(index_elements=["subject"], set_=changes)
        else:
            lite = sqlite.insert(AccessRuleRow).values(values)
            statement = lite.on_conflict_do_update(index_elements=["subject"], set_=changes)
        await self._execute(statement)

    async def remove_rule(self, subject: str) -> bool:
        statement = (
            delete(AccessRuleRow)
            .where(AccessRuleRow.subject == subject)
            .returning(AccessRuleRow.subject)
        )
        return (await self._execute(statement)).first() is not None

    async def rules(self) -> list[AccessRule]:
        statement = select(AccessRuleRow.subject, AccessRuleRow.verdict).order_by(
            AccessRuleRow.subject
        )
        return [AccessRule(row.subject, row.verdict) for row in await self._execute(statement)]

    async def add_invite(self, code: str, uses: int, actor_id: int) -> None:
        row = {"code": code, "uses_left": uses, "actor_account_id": actor_id}
        await self._insert_ignore(InviteRow, row, ["code"], InviteRow.code)

    async def invites(self, limit: int) -> list[Invite]:
        statement = (
            select(InviteRow.code, InviteRow.uses_left)
            .order_by(InviteRow.created_at.desc(), InviteRow.code)
            .limit(limit)
        )
        return [Invite(row.code, row.uses_left) for row in await self._execute(statement)]

    async def use_invite(self, code: str) -> bool:
        statement = (
            update(InviteRow)
            .where(InviteRow.code == code, InviteRow.uses_left > 0)
            .values(uses_left=InviteRow.uses_left - 1)
            .returning(InviteRow.uses_left)
        )
        return (await self._execute(statement)).first() is not None

    async def set_muted(self, account_id: int, muted: bool) -> None:
        if muted:
            row = {"account_id": account_id, "created_at": utcnow()}
            await self._insert_ignore(
                AnnouncementMuteRow, row, ["account_id"], AnnouncementMuteRow.account_id
            )
            return
        await self._execute(
            delete(AnnouncementMuteRow).where(AnnouncementMuteRow.account_id == account_id)
        )

    async def muted(self, account_ids: Sequence[int]) -> set[int]:
        statement = select(AnnouncementMuteRow.account_id).where(
            AnnouncementMuteRow.account_id.in_(list(account_ids))
        )
        return {int(row.account_id) for row in await self._execute(statement)}
