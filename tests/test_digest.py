"""Audit: every decision names its policy's id, version and a digest of the compiled
policy; the digest is stable across processes (and hash seeds, folders and
machines) and changes when anything that decides changes.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from escalator import Engine
from escalator.language.sources import bundled_dir
from conftest import replace_in

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
PRINT_DIGEST = (
    "import sys; from escalator import Engine; "
    "e = Engine.load(sys.argv[1] if len(sys.argv) > 1 else None, sys.argv[2] if len(sys.argv) > 2 else None, "
    "backend='compiled'); print(e.policies['nl'].digest)"
)


def digest_in_fresh_process(*folders: Path, seed: str, cwd: Path) -> str:
    env = dict(os.environ, PYTHONHASHSEED=seed)
    proc = subprocess.run([sys.executable, "-c", PRINT_DIGEST, *map(str, folders)], capture_output=True,
                          text=True, timeout=60, env=env, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.fixture
def policy_copy(tmp_path) -> Path:
    """A copy of the bundled policies and rule packs, somewhere else on disk."""
    shutil.copytree(bundled_dir("policies"), tmp_path / "policies")
    shutil.copytree(bundled_dir("rules"), tmp_path / "rules")
    return tmp_path


def nl_digest(folder: Path) -> str:
    with Engine.load(folder / "policies", folder / "rules", backend="compiled") as engine:
        return engine.policies["nl"].digest


def test_bundled_nl_digest_equal_in_two_fresh_processes(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = digest_in_fresh_process(seed="1", cwd=tmp_path / "a")
    second = digest_in_fresh_process(seed="4242", cwd=tmp_path / "b")
    assert DIGEST.match(first), first
    assert first == second
    with Engine.default(backend="compiled") as engine:
        assert engine.policies["nl"].digest == first


def test_digest_ignores_where_the_files_are(policy_copy):
    """Same content in another folder (another machine's checkout): the same digest."""
    with Engine.default(backend="compiled") as engine:
        assert nl_digest(policy_copy) == engine.policies["nl"].digest


def test_digest_changes_when_one_threshold_changes(policy_copy):
    before = nl_digest(policy_copy)
    replace_in(policy_copy / "policies" / "nl.yaml", "  large_win: 10000.00", "  large_win: 10000.01")
    after = nl_digest(policy_copy)
    assert DIGEST.match(after) and after != before
    # and in a fresh process too
    assert digest_in_fresh_process(policy_copy / "policies", policy_copy / "rules", seed="7",
                                   cwd=policy_copy) == after


@pytest.mark.parametrize("old,new", [
    ("    authority: {goodwill_bonus: 25.00}", "    authority: {goodwill_bonus: 25.01}"),  # a tier cap
    ("  escalated: {acknowledge: 24h}", "  escalated: {acknowledge: 25h}"),                 # an SLA window
    ("  disable: [bonus.vip-goodwill]", "  disable: []"),                                   # rule selection
], ids=["tier-cap", "sla", "rule-selection"])
def test_digest_changes_with_anything_that_decides(policy_copy, old, new):
    before = nl_digest(policy_copy)
    replace_in(policy_copy / "policies" / "nl.yaml", old, new)
    assert nl_digest(policy_copy) != before


def test_digest_changes_when_a_rule_pack_changes(policy_copy):
    before = nl_digest(policy_copy)
    replace_in(policy_copy / "rules" / "bonus.yaml", "priority: 20", "priority: 21")
    assert nl_digest(policy_copy) != before


def test_digest_ignores_comments_and_layout(policy_copy):
    """Reformatting a policy (comments, blank lines) is not a change of policy."""
    before = nl_digest(policy_copy)
    path = policy_copy / "policies" / "nl.yaml"
    path.write_text("# a new comment at the top\n\n" + path.read_text().replace("\nparams:\n", "\n\n\nparams:\n", 1))
    assert nl_digest(policy_copy) == before


def test_every_decision_carries_policy_id_version_and_digest():
    with Engine.default(backend="compiled") as engine:
        for path in sorted((Path(__file__).resolve().parent.parent / "examples" / "cases").glob("*.yaml")):
            from escalator.language.cases import load_case

            decision = engine.evaluate(load_case(path))
            policy = engine.policies[decision.policy.id]
            assert decision.policy.version == policy.version and decision.policy.version
            assert decision.policy.digest == policy.digest
            assert DIGEST.match(decision.to_dict()["policy"]["digest"])
