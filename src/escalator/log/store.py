"""The decision log's storage: SQLAlchemy Core over SQLite (default) or PostgreSQL.

SQLAlchemy Core (not the ORM: rows are written once and read in bulk) gives one
table definition and one query for both databases; PostgreSQL goes through
psycopg 3, the maintained driver. A log is named by a URL:

    decisions.db, sqlite:///decisions.db      an embedded SQLite file (WAL mode)
    postgresql://user@host:5432/db            a PostgreSQL server

Every append is one transaction: a batch of decisions is logged wholly or not at
all, and a failure raises `LogWriteError` (the service answers 503, or counts it).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import fields
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine as SqlEngine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from escalator.errors import EscalatorError, Problem
from escalator.log.record import LogRecord

metadata = sa.MetaData()

decisions = sa.Table(
    "escalator_decisions", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.String(64), nullable=False),
    sa.Column("logged_at", sa.String(32), nullable=False, index=True),
    sa.Column("case_id", sa.String(200), nullable=False, index=True),
    sa.Column("policy_id", sa.String(64), nullable=False),
    sa.Column("policy_version", sa.String(40), nullable=False),
    sa.Column("policy_digest", sa.String(80), nullable=False),
    sa.Column("policy_set", sa.String(80), nullable=False),
    sa.Column("handler", sa.String(64), nullable=False),
    sa.Column("at", sa.String(32)),
    sa.Column("locale", sa.String(35)),
    sa.Column("masked", sa.Text(), nullable=False),
    sa.Column("case_json", sa.Text(), nullable=False),
    sa.Column("decision_json", sa.Text(), nullable=False),
)

policy_sets = sa.Table(
    "escalator_policy_sets", metadata,
    sa.Column("digest", sa.String(80), primary_key=True),
    sa.Column("stored_at", sa.String(32), nullable=False),
    sa.Column("files", sa.JSON(), nullable=False),
)

RECORD_FIELDS = tuple(f.name for f in fields(LogRecord) if f.name != "id")


class LogError(EscalatorError):
    """The decision log cannot be opened or read (bad URL, unreachable server, not a log)."""


class LogWriteError(LogError):
    """A decision could not be recorded."""


def engine_url(url: str) -> str:
    """A log URL as SQLAlchemy wants it: a bare path is SQLite, postgresql:// uses psycopg 3."""
    if "://" not in url:
        return f"sqlite:///{url}"
    scheme, rest = url.split("://", 1)
    if scheme in ("postgresql", "postgres"):
        return f"postgresql+psycopg://{rest}"
    if scheme in ("sqlite", "postgresql+psycopg"):
        return url
    raise LogError(Problem(f"unsupported log URL scheme {scheme!r}", path="--log",
                           hint="use a file path, sqlite:///FILE or postgresql://USER@HOST:PORT/DB"))


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; safe with WAL
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return sa.engine.make_url(engine_url(url)).render_as_string(hide_password=True)
    except Exception:
        return "<log URL>"


class DecisionLog:
    """An append-only decision log. Thread-safe; open it once and share it."""

    def __init__(self, url: str, *, create: bool = True):
        self.url = url
        try:
            self.engine: SqlEngine = sa.create_engine(engine_url(url), pool_pre_ping=True)
            self.sqlite = self.engine.dialect.name == "sqlite"
            if self.sqlite:
                sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            if create:
                metadata.create_all(self.engine)
            elif not sa.inspect(self.engine).has_table(decisions.name):
                raise LogError(Problem(f"{safe_url(url)} holds no escalator decision log", path="URL"))
        except SQLAlchemyError as exc:
            raise LogError(Problem(f"cannot open the decision log {safe_url(url)}: {_short(exc)}", path="URL")) from None
        # SQLite has one writer at a time: queue writers here instead of on its file lock
        self._write_lock = threading.Lock() if self.sqlite else None

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "DecisionLog":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ------------------------------------------------------------------
    def append(self, records: Sequence[LogRecord]) -> None:
        """Write every record in one transaction, or raise LogWriteError (nothing written)."""
        if not records:
            return
        rows = [{name: getattr(r, name) for name in RECORD_FIELDS} for r in records]
        try:
            if self._write_lock is not None:
                with self._write_lock, self.engine.begin() as conn:
                    conn.execute(decisions.insert(), rows)
            else:
                with self.engine.begin() as conn:
                    conn.execute(decisions.insert(), rows)
        except SQLAlchemyError as exc:
            raise LogWriteError(f"cannot write the decision log: {_short(exc)}") from None

    def store_policy_set(self, digest: str, files: dict[str, str]) -> None:
        """Keep the files of a policy set (once per digest), so replay can rebuild it."""
        from escalator.log.record import now_iso

        try:
            with self.engine.begin() as conn:
                if conn.execute(sa.select(policy_sets.c.digest).where(policy_sets.c.digest == digest)).first():
                    return
                conn.execute(policy_sets.insert(), {"digest": digest, "stored_at": now_iso(), "files": files})
        except IntegrityError:
            return  # another process stored the same set first
        except SQLAlchemyError as exc:
            raise LogWriteError(f"cannot write the decision log: {_short(exc)}") from None

    # -- reading ------------------------------------------------------------------
    def policy_set_files(self, digest: str) -> dict[str, str] | None:
        with self._reading() as conn:
            row = conn.execute(sa.select(policy_sets.c.files).where(policy_sets.c.digest == digest)).first()
        return None if row is None else dict(row[0])

    def records(self, since: str | None = None, until: str | None = None, batch: int = 1000) -> Iterator[LogRecord]:
        """Rows in log order (id), `since <= logged_at < until` (ISO 8601 UTC prefixes), in pages."""
        last = 0
        while True:
            query = sa.select(decisions).where(decisions.c.id > last).order_by(decisions.c.id).limit(batch)
            if since is not None:
                query = query.where(decisions.c.logged_at >= since)
            if until is not None:
                query = query.where(decisions.c.logged_at < until)
            with self._reading() as conn:
                rows = conn.execute(query).mappings().all()
            for row in rows:
                yield LogRecord(**dict(row))
            if len(rows) < batch:
                return
            last = rows[-1]["id"]

    def count(self) -> int:
        with self._reading() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(decisions)).scalar_one())

    def _reading(self) -> Any:
        try:
            return self.engine.connect()
        except SQLAlchemyError as exc:
            raise LogError(f"cannot read the decision log {safe_url(self.url)}: {_short(exc)}") from None


def _short(exc: BaseException) -> str:
    """The driver's message, first line only (no SQL, no parameters: they may hold case data)."""
    original = getattr(exc, "orig", None) or exc
    return str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__
