"""Who may use the bot: open or closed mode, allow- and blocklists, invitation codes.

Every way in goes through ``Access.check``: ``AccountService.resolve`` calls it before an
account is created (so a refused stranger leaves no row behind) and on every later
lookup, and the ``Gate`` calls it in the admission transaction of every paid request.
Rules are read from the database at each check (one indexed query on a handful of
subjects), so an ``/allow`` or ``/block`` on one worker applies on every worker at once;
the settings' lists (``ACCESS_ALLOW``, ``ACCESS_BLOCK``, ``DISCORD_ALLOWED_ROLES``) add to
them. Admins (by role or ``BOT_ADMINS``) and the operator's console are never refused,
so nobody locks themselves out.

Subjects: a person as ``platform:[workspace/]user_id`` (the ``BOT_ADMINS`` form), an
account as ``#42``, a group or channel as ``telegram:chat:-100…``,
``discord:chat:<channel>``, ``slack:chat:<team>/<channel>``, a Discord server as
``discord:server:<guild>``, a Slack workspace as ``slack:workspace:<team>``, a Discord role
as ``discord:role:<id>``, and ``mode`` (``open`` / ``closed``, set by ``/access``)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable

from core.errors import AccessBlocked, BadArgument, InviteInvalid, PrivateBot
from core.ports import UnitOfWork
from core.services.config import CoreConfig
from core.services.requests import Caller
from core.types import Account, IdentityKey, Role

logger = logging.getLogger(__name__)

ALLOW, BLOCK = "allow", "block"
MODE = "mode"
OPEN, CLOSED = "open", "closed"
MAX_INVITE_USES = 10_000
# No 0/O, 1/I: codes are read aloud and typed on phones.
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_SERVER_WORD = {"slack": "workspace"}
# The console chat runs in the operator's own terminal: whoever can open it runs the bot.
LOCAL_CONSOLE = "console"

Refusal = Callable[[Caller], Awaitable[None]]


def server_subject(platform: str, server: str) -> str:
    return f"{platform}:{_SERVER_WORD.get(platform, 'server')}:{server}"


def chat_subject(platform: str, server: str, chat: str) -> str:
    # Discord channel ids are unique across guilds; Slack's are per team.
    scope = f"{server}/" if platform == "slack" and server else ""
    return f"{platform}:chat:{scope}{chat}"


def subjects_of(caller: Caller, account: Account | None) -> list[str]:
    """Every subject a rule about this caller could name."""
    key = caller.identity
    subjects = [str(key)]
    if account is not None:
        subjects.append(f"#{account.id}")
    venue = caller.venue
    server = venue.server if venue is not None else key.workspace
    if server:
        subjects.append(server_subject(key.platform, server))
    if venue is not None:
        if not venue.private:
            subjects.append(chat_subject(key.platform, venue.server, venue.chat))
        subjects.extend(f"{key.platform}:role:{role}" for role in venue.roles)
    return subjects


def new_invite_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))


class Access:
    def __init__(self, config: CoreConfig, on_refusal: Refusal | None = None) -> None:
        self._config = config
        self._on_refusal = on_refusal

    def set_refusal_hook(self, hook: Refusal) -> None:
        """Admin notices (closed_refusal) are wired after both services exist."""
        self._on_refusal = hook

    async def check(
        self, uow: UnitOfWork, caller: Caller, account: Account | None, *, quietly: bool = False
    ) -> None:
        """Raise ``AccessBlocked`` or ``PrivateBot`` unless the caller may go on.

        ``account`` None means a first contact: in closed mode only a listed person or a
        message from a listed chat (server, workspace, role) gets an account."""
        if (
            caller.identity in self._config.bootstrap_admins
            or (account is not None and account.role is Role.ADMIN)
            or caller.platform == LOCAL_CONSOLE
        ):
            return
        subjects = subjects_of(caller, account)
        stored = await uow.access.verdicts([*subjects, MODE])
        verdicts = {s: stored.get(s) for s in subjects}
        for subject in subjects:
            if subject in self._config.access_block:
                verdicts[subject] = BLOCK
            elif subject in self._config.access_allow and verdicts[subject] is None:
                verdicts[subject] = ALLOW
        if BLOCK in verdicts.values():
            private = caller.venue is None or caller.venue.private
            logger.info("refused %s: blocked", caller.identity)
            raise AccessBlocked(quiet=not private)
        mode = stored.get(MODE, self._config.access_mode)
        if mode == OPEN or account is not None or ALLOW in verdicts.values():
            return
        logger.info("refused %s: the bot is closed", caller.identity)
        if self._on_refusal is not None and not quietly:
            await self._on_refusal(caller)
        raise PrivateBot()

    async def invite_admits(self, uow: UnitOfWork, code: str) -> None:
        """Take one use of an invitation code (in the transaction creating the account)."""
        if not await uow.access.use_invite(code.strip().upper()):
            raise InviteInvalid()


MAX_SUBJECT = 300  # the column's width


def parse_subject(caller: Caller, ref: str) -> str | None:
    """A subject written out by an admin (``telegram:chat:-100…``, ``#42``,
    ``slack:T01/U02``), or a bare platform user id on the admin's own platform; None when
    ``ref`` is a name to look up (``@name``)."""
    ref = ref.strip()
    if len(ref) > MAX_SUBJECT - 40:  # room for the platform and workspace added below
        raise BadArgument(detail=f"at most {MAX_SUBJECT - 40} characters")
    if ref.startswith("#") and ref[1:].isdigit() or ref == MODE:
        return ref
    if ":" in ref:
        platform, _, rest = ref.partition(":")
        if not platform or not rest:
            raise BadArgument(detail="platform:id, #account, @name or a chat subject")
        return f"{platform.lower()}:{rest}"
    if ref and not ref.startswith("@"):
        return str(IdentityKey(caller.platform, caller.identity.workspace, ref))
    return None


def here_subject(caller: Caller) -> str:
    """The chat a bare ``/allow`` or ``/block`` was said in."""
    venue = caller.venue
    if venue is None or venue.private:
        raise BadArgument(detail="a person, #account, or a bare command inside a group")
    return chat_subject(caller.platform, venue.server, venue.chat)
