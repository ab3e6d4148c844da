"""``python -m bots run [telegram|discord|slack|api ...]``, ``console``, ``migrate``,
``backup [--out FILE]``, ``restore FILE``."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from bots import event_loop
from bots.jwt_secret_file import with_jwt_secret
from bots.logging_setup import configure_logging
from bots.runners import ADAPTERS, run_adapters, run_console_app
from bots.settings import Settings, SettingsError, load_settings
from core.errors import StorageUnavailable
from core.models_config import ModelsFileError
from core.services.personas import PersonasFileError

logger = logging.getLogger("bots")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bots", description="Switchboard AI assistant")
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="run adapters (all with credentials set; console if none)")
    run.add_argument("adapters", nargs="*", metavar="ADAPTER", help=", ".join(ADAPTERS))
    sub.add_parser("console", help="chat in this terminal")
    sub.add_parser("migrate", help="apply database migrations and exit")
    backup = sub.add_parser("backup", help="write a compressed backup of the database")
    backup.add_argument("--out", type=Path, help="the file (default: a dated name in BACKUP_DIR)")
    restore = sub.add_parser("restore", help="restore a backup into an empty database")
    restore.add_argument("file", type=Path)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    note = None
    try:
        settings = load_settings()
        if args.command == "run" and "api" in args.adapters:
            settings, note = with_jwt_secret(settings)
    except SettingsError as exc:
        print(f"switchboard: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.secret_values(), settings.log_format)
    if note:
        logger.info("%s", note)
    try:
        return event_loop.run(_dispatch(args, settings))
    except (SettingsError, ModelsFileError, PersonasFileError, StorageUnavailable) as exc:
        print(f"switchboard: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


async def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "migrate":
        from storage.migrate import migrate

        await migrate(settings.effective_database_url)
        print("migrations applied")
        return 0
    if args.command in {"backup", "restore"}:
        from bots.backup_cli import run_backup_command

        return await run_backup_command(args, settings)
    if args.command == "console":
        await run_console_app(settings)
        return 0
    if args.command == "run":
        await run_adapters(settings, args.adapters)
        return 0
    _parser().print_help()
    return 1


if __name__ == "__main__":
    sys.exit(main())
