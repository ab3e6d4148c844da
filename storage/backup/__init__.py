"""Backups: a consistent, compressed, versioned export of every table, from SQLite or
Postgres, and its restore into an empty database of either kind.

``backup_database(url, path)`` and ``restore_database(url, path)`` are the entry points
(``python -m bots backup`` / ``restore`` call them); ``schedule.run_backups`` writes one
every ``BACKUP_INTERVAL`` seconds and keeps the newest ``BACKUP_KEEP``. The file format
is described in ``codec``."""

from storage.backup.codec import BackupError, Header, TableInfo, verify
from storage.backup.export import backup_database, snapshot
from storage.backup.restore import restore_database

__all__ = [
    "BackupError",
    "Header",
    "TableInfo",
    "backup_database",
    "restore_database",
    "snapshot",
    "verify",
]
