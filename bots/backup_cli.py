"""``python -m bots backup [--out FILE]`` and ``python -m bots restore FILE``: the command
line around ``storage.backup``, printing one line of result (or of refusal)."""

from __future__ import annotations

import argparse
import sys

from bots.settings import Settings
from storage.backup import BackupError, backup_database, restore_database
from storage.backup.schedule import backup_name


async def run_backup_command(args: argparse.Namespace, settings: Settings) -> int:
    url = settings.effective_database_url
    try:
        if args.command == "backup":
            path = args.out or settings.backup_dir / backup_name()
            header = await backup_database(url, path)
            verb = f"backed up to {path}"
        else:
            path = args.file
            header = await restore_database(url, path)
            verb = f"restored from {path}"
    except BackupError as exc:
        print(f"switchboard: {exc}", file=sys.stderr)
        return 2
    tables = ", ".join(f"{t.name} {t.rows}" for t in header.tables)
    print(f"{verb}: {header.total_rows} rows at schema revision {header.revision} ({tables})")
    return 0
