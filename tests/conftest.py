"""Shared fixtures: engines on both backends and a case builder."""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

from escalator.runtime.backends import durable_available

os.environ.setdefault("ESCALATOR_CACHE_DIR", tempfile.mkdtemp(prefix="escalator-test-cache-"))
"""Tests (and the processes they start) keep escalator's cache out of the user's home."""

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEMANTICS = FIXTURES / "semantics"

BACKENDS = [
    "compiled",
    pytest.param("durable", marks=pytest.mark.skipif(not durable_available(), reason="durable_rules does not import")),
]

BASE_CASE: dict[str, Any] = {
    "case_id": "C-1",
    "jurisdiction": "XX",
    "opened_at": "2026-11-20T14:03:00Z",
    "channel": "live_chat",
    "handled_by": "agent",
    "status": "open",
    "player": {"id": "P-1", "vip_level": 0, "account_age_days": 100, "net_loss_30d": "0.00",
               "rg_markers": [], "kyc": "verified", "self_excluded": False},
    "request": {"kind": "other"},
}


def make_case(**changes: Any) -> dict[str, Any]:
    """BASE_CASE with dotted-path changes: make_case(**{"request.amount": "60.00"})."""
    case = copy.deepcopy(BASE_CASE)
    for dotted, value in changes.items():
        node = case
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        if value is None:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    return case


def replace_in(path: Path, old: str, new: str) -> None:
    """Edit a copied fixture file in place; the text to replace must be there."""
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


@pytest.fixture
def semantics_copy(tmp_path) -> Path:
    """A private copy of tests/fixtures/semantics that a test may edit."""
    shutil.copytree(SEMANTICS, tmp_path / "s")
    return tmp_path / "s"


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def semantic_engine(backend):
    from escalator import Engine

    engine = Engine.load(SEMANTICS / "policies", SEMANTICS / "rules", backend=backend)
    yield engine
    engine.close()


_bundled: dict[str, Any] = {}


def bundled_engine(backend: str):
    """One Engine per backend over the repository's policies, shared by the session."""
    from escalator import Engine

    if backend not in _bundled:
        _bundled[backend] = Engine.load(ROOT / "policies", ROOT / "rules", backend=backend)
    return _bundled[backend]
