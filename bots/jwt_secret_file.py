"""A JWT secret for a newcomer: with no ``JWT_SECRET`` set, ``run api`` makes a random one
once, keeps it in ``data/jwt_secret`` (owner-only) and reuses it after restarts, so signed-in
browsers stay signed in and nobody has to invent a secret before trying the web chat."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import SecretStr

from bots.jwt_tokens import MIN_SECRET_BYTES
from bots.settings import Settings, SettingsError

SECRET_FILE = Path("data") / "jwt_secret"
SECRET_BYTES = 48  # token_urlsafe(48): 64 characters, well above the 32-byte minimum


def read_or_create(path: Path) -> tuple[str, bool]:
    """(the secret, True when it was made now). O_EXCL: two workers starting together
    make one file; the loser reads the winner's."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip(), False
    secret = secrets.token_urlsafe(SECRET_BYTES)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(secret + "\n")
    return secret, True


def with_jwt_secret(settings: Settings, path: Path = SECRET_FILE) -> tuple[Settings, str | None]:
    """``settings`` unchanged when JWT_SECRET is set (a short one still stops start-up
    later, in the API runner); otherwise with the kept secret, and the one line to log
    once logging knows the secret (it redacts it)."""
    if settings.jwt_secret is not None:
        return settings, None
    secret, made = read_or_create(path)
    if len(secret.encode("utf-8")) < MIN_SECRET_BYTES:
        raise SettingsError(
            f"bad setting JWT_SECRET: not set, and {path} holds fewer than "
            f"{MIN_SECRET_BYTES} bytes (delete it to have a new one made)"
        )
    note = (
        f"JWT_SECRET is not set: made a random one, kept in {path} (mode 0600)"
        if made
        else f"JWT_SECRET is not set: using the one kept in {path}"
    )
    return settings.model_copy(update={"jwt_secret": SecretStr(secret)}), note
