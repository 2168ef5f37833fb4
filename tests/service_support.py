"""Helpers for the service and decision-log tests: policy copies, an in-process ASGI
client (httpx), the PostgreSQL URL of the server .ci/run starts, and case data."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from escalator.language.yamlio import load_file

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "cases"
KEY = "k" * 32
PG_ENV = "ESCALATOR_TEST_POSTGRES"


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):  # a JSON number when a float holds it exactly, else text
        return float(value) if Decimal(repr(float(value))) == value else str(value)
    return value.isoformat().replace("+00:00", "Z")  # YAML timestamps


def example(name: str) -> dict[str, Any]:
    """An example case as plain JSON data (what support software would send)."""
    data = load_file(EXAMPLES / name).data
    return json.loads(json.dumps(data, default=_plain))


def all_examples() -> list[dict[str, Any]]:
    return [example(p.name) for p in sorted(EXAMPLES.iterdir()) if p.suffix in (".yaml", ".json")]


def policy_copy(root: Path, mask: list[str] | None = None) -> tuple[Path, Path]:
    """The bundled policies and rules copied under `root`; `mask` goes into base.yaml (inherited)."""
    shutil.copytree(ROOT / "policies", root / "policies", ignore=shutil.ignore_patterns("tests"))
    shutil.copytree(ROOT / "rules", root / "rules")
    if mask:
        with open(root / "policies" / "base.yaml", "a", encoding="utf-8") as out:
            out.write("\nlog:\n  mask: [" + ", ".join(mask) + "]\n")
    return root / "policies", root / "rules"


class Client:
    """A synchronous face over httpx's ASGI transport: requests go straight into the app."""

    def __init__(self, app: Any, token: str | None = None):
        self.app = app
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}

        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                return await client.request(method, url, headers=headers, **kwargs)

        return asyncio.run(go())

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)


def postgres_database() -> Iterator[str]:
    """A fresh database on the server of ESCALATOR_TEST_POSTGRES, dropped afterwards."""
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} is not set: no PostgreSQL server (.ci/run starts one when PostgreSQL is installed)")
    import psycopg

    name = "escalator_" + uuid.uuid4().hex[:12]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    base, _, _ = url.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgresql"])
def log_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A decision-log URL: an SQLite file, and a database on the test PostgreSQL server."""
    if request.param == "sqlite":
        yield str(tmp_path / "decisions.db")
    else:
        yield from postgres_database()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """`escalator serve` in its own process on a free 127.0.0.1 port; stopped on exit."""

    def __init__(self, tmp_path: Path, *args: str, env: dict[str, str] | None = None):
        import subprocess
        import sys

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.stderr = open(tmp_path / f"serve-{self.port}.err", "w+b")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "escalator", "serve", "--port", str(self.port), *args],
            stdout=subprocess.DEVNULL, stderr=self.stderr, cwd=tmp_path, env={**os.environ, **(env or {})})

    def wait(self, timeout: float = 30) -> "Server":
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"escalator serve exited: {self.errors()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"escalator serve did not answer within {timeout} s: {self.errors()}")

    def errors(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except Exception:
            self.process.kill()
            self.process.wait(timeout=10)
        self.stderr.close()

    def __enter__(self) -> "Server":
        return self.wait()

    def __exit__(self, *exc: object) -> None:
        self.stop()
