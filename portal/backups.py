"""Backups: an online copy of the database, and putting one back.

SQLite: the sqlite3 online backup API copies a consistent snapshot while the site
keeps running (a plain file copy of a WAL database can be torn), then the copy is
checked with ``PRAGMA integrity_check``. PostgreSQL: ``pg_dump --format=custom``
(restored with ``pg_restore --clean``); both tools come with the PostgreSQL client.
"""

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from portal.extensions import db


class BackupError(Exception):
    pass


def _sqlite_path() -> str:
    return make_url(str(db.engine.url)).database


def _pg_args() -> tuple[list[str], dict]:
    """Connection arguments for the PostgreSQL tools (the password through the environment only)."""
    url = make_url(str(db.engine.url))
    args = ["--host", url.host or "localhost", "--port", str(url.port or 5432), "--dbname", url.database]
    if url.username:
        args += ["--username", url.username]
    env = {"PGPASSWORD": url.password} if url.password else {}
    return args, env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} was not found: install the PostgreSQL client (Debian: postgresql-client).")
    return found


def _run(command: list[str], env: dict) -> None:
    done = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {done.stderr.strip()[:500]}")


def backup_database(path: str, force: bool = False) -> str:
    target = Path(path)
    if target.exists() and not force:
        raise BackupError(f"{target} exists: choose another path or add --force.")
    db.session.remove()
    if db.engine.dialect.name == "postgresql":
        args, env = _pg_args()
        _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(target), *args], env)
        return f"PostgreSQL dump written to {target} ({target.stat().st_size} bytes)."
    partial = target.with_name(target.name + ".partial")
    source = sqlite3.connect(_sqlite_path())
    copy = sqlite3.connect(partial)
    try:
        source.backup(copy)
        verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        copy.close()
        source.close()
    if verdict != "ok":
        partial.unlink(missing_ok=True)
        raise BackupError(f"The copy failed its integrity check: {verdict}")
    partial.replace(target)
    return f"SQLite backup written to {target} ({target.stat().st_size} bytes, integrity ok)."


def restore_database(path: str) -> str:
    source_path = Path(path)
    db.session.remove()
    db.engine.dispose()
    if db.engine.dialect.name == "postgresql":
        args, env = _pg_args()
        _run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", *args, str(source_path)], env)
        return f"PostgreSQL database restored from {source_path}."
    backup = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    try:
        verdict = backup.execute("PRAGMA integrity_check").fetchone()[0]
        if verdict != "ok":
            raise BackupError(f"The backup failed its integrity check: {verdict}")
        live = sqlite3.connect(_sqlite_path())
        try:
            backup.backup(live)
        finally:
            live.close()
    finally:
        backup.close()
    return f"SQLite database restored from {source_path}."
