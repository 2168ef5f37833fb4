"""A user's own policy folder over the bundled defaults: `extends: escalator:ID`, bundled
packs by name, local overrides with a warning, and one resolver for every entry point."""

from __future__ import annotations

import json
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from escalator import Engine, PolicyError
from escalator.authoring.checks import validate_folders
from escalator.cli import app
from escalator.language.sources import bundled_dir, default_source, locate

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent

POLICY = """\
policy: my-uk
version: "1"
extends: escalator:uk
jurisdictions: [UK]
effective: {from: 2026-01-01}
tiers:
  - id: vip_manager
    authority: {goodwill_bonus: 750.00}   # the bundled UK policy says 500.00
"""


@pytest.fixture
def only_policy(tmp_path: Path) -> Path:
    """A folder holding only policy.yaml, and one case beside it in cases/."""
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "policy.yaml").write_text(POLICY)
    (folder / "cases").mkdir()
    case = (ROOT / "examples" / "cases" / "uk-bonus-vip-goodwill.yaml").read_text()
    (folder / "cases" / "vip.yaml").write_text(case.replace("amount: 400.00", "amount: 700.00"))
    return folder


def test_engine_loads_a_folder_with_only_policy_yaml(only_policy: Path) -> None:
    with Engine.load(only_policy, backend="compiled") as engine:
        assert set(engine.policies) == {"my-uk"}  # the bundled ones are parents, not compiled on their own
        assert engine.policies["my-uk"].tier("vip_manager").limit("goodwill_bonus") == Decimal("750.00")
        assert engine.policies["my-uk"].tier("supervisor").limit("goodwill_bonus") == Decimal("250.00")  # inherited
        assert "bonus.vip-goodwill" in {r.id for r in engine.policies["my-uk"].rules}  # bundled packs by name


def test_validate_evaluate_test_and_matrix_on_that_folder(only_policy: Path) -> None:
    result = runner.invoke(app, ["validate", str(only_policy)])
    assert result.exit_code == 0, result.output
    assert "1 policies checked (my-uk)" in result.stdout

    result = runner.invoke(app, ["evaluate", str(only_policy / "cases" / "vip.yaml"), "--policies", str(only_policy),
                                 "-f", "json", "--backend", "compiled"])
    assert result.exit_code == 0, result.output
    decision = json.loads(result.stdout)
    assert decision["policy"]["id"] == "my-uk"
    assert decision["handler"] == "vip_manager" and decision["authority"]["goodwill_bonus"] == "750.00"

    result = runner.invoke(app, ["matrix", "--policies", str(only_policy), "-f", "json"])
    assert result.exit_code == 0, result.output
    [matrix] = json.loads(result.stdout)
    assert "750.00" in json.dumps(matrix)

    (only_policy / "tests").mkdir()
    (only_policy / "tests" / "test_mine.yaml").write_text(textwrap.dedent("""\
        tests:
          - name: the VIP manager grants up to our own limit
            case: ../cases/vip.yaml
            expect: {handler: vip_manager, authority: {goodwill_bonus: "750.00"}}
        """))
    result = runner.invoke(app, ["test", str(only_policy / "tests")])
    assert result.exit_code == 0, result.output
    assert "1 passed, 0 failed" in result.stdout


def test_local_pack_overrides_bundled_one_with_a_warning_naming_both(only_policy: Path) -> None:
    rules = only_policy / "rules"
    rules.mkdir()
    bundled = (bundled_dir("rules") / "executive.yaml").read_text()
    (rules / "executive.yaml").write_text(bundled.replace("description:", "description: (ours)", 1))
    report = validate_folders(only_policy)
    [warning] = [f for f in report.findings if f.code == "W-OVERRIDE"]
    assert warning.severity == "warning"
    assert str(rules / "executive.yaml") in str(warning) and str(bundled_dir("rules") / "executive.yaml") in str(warning)
    assert "escalator:executive" in (warning.hint or "")
    assert not report.failed() and report.failed(strict=True)


def test_unchanged_copy_and_explicit_extends_are_not_overrides(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "uk.yaml").write_text(POLICY.replace("my-uk", "uk"))  # extends escalator:uk itself
    report = validate_folders(tmp_path)
    assert "W-OVERRIDE" not in report.codes() and not report.errors, [str(f) for f in report.findings]


def test_escalator_prefix_names_the_bundled_pack(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(POLICY + "rules: {packs: [escalator:bonus, escalator:complaint]}\n")
    with Engine.load(tmp_path, backend="compiled") as engine:
        assert {r.id.split(".")[0] for r in engine.policies["my-uk"].rules} == {"bonus", "complaint"}


def test_unknown_bundled_parent_suggests_a_name(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(POLICY.replace("escalator:uk", "escalator:ukk"))
    with pytest.raises(PolicyError) as info:
        Engine.load(tmp_path)
    [problem] = info.value.problems
    assert "extends unknown policy 'escalator:ukk'" in problem.message and "did you mean 'escalator:uk'" in (problem.hint or "")
    assert problem.location is not None and problem.location.line == 3


def test_one_resolver_for_every_spelling(tmp_path: Path) -> None:
    assert locate().policies == bundled_dir("policies")
    assert locate(ROOT).policies == ROOT / "policies" and locate(ROOT).rules == ROOT / "rules"
    assert locate(ROOT / "policies").rules == ROOT / "rules"  # a rules/ folder beside it
    (tmp_path / "rules").mkdir()
    assert locate(tmp_path).rules == tmp_path / "rules"  # policy files with rules/ inside
    assert default_source(tmp_path).policies == bundled_dir("policies")
