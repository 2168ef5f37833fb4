"""`escalator init`: a starter project over a bundled policy whose tests and checks pass at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from escalator import Engine
from escalator.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("starter") / "my-policies"
    result = runner.invoke(app, ["init", str(folder), "--from", "uk"])
    assert result.exit_code == 0, result.output
    return folder


def test_layout_modelines_schemas_and_readme(project: Path) -> None:
    assert len((project / "README.md").read_text().splitlines()) == 5
    assert len(list((project / "cases").glob("*.yaml"))) == 3
    assert len(list((project / "rules").glob("*.yaml"))) == 1
    for name, schema in (("policies/policy.yaml", "policy"), ("rules/local.yaml", "rule-pack"),
                         ("cases/small-bonus.yaml", "case")):
        first = (project / name).read_text().splitlines()[0]
        assert first == f"# yaml-language-server: $schema=../schemas/{schema}.schema.json"
        assert json.loads((project / "schemas" / f"{schema}.schema.json").read_text())["$schema"].startswith("https://")
    policy = (project / "policies" / "policy.yaml").read_text()
    assert "extends: escalator:uk" in policy and "# tiers:" in policy  # overrides are there, commented out


def test_test_validate_and_check_pass(project: Path) -> None:
    result = runner.invoke(app, ["test", str(project / "policies" / "tests"), "--backend", "compiled"])
    assert result.exit_code == 0 and "3 passed, 0 failed" in result.stdout, result.output
    result = runner.invoke(app, ["validate", str(project), "--strict"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["check", str(project), "--max-examples", "25", "--seed", "1",
                                 "--out", str(project / "counterexamples")])
    assert result.exit_code == 0 and "0 fail" in result.stdout, result.output


def test_the_local_rule_is_in_force(project: Path) -> None:
    with Engine.load(project, backend="compiled") as engine:
        assert "local.long-pending-withdrawal" in {r.id for r in engine.policies["my-uk"].rules}


def test_refuses_to_overwrite_and_names_unknown_bases(project: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", str(project)])
    assert result.exit_code == 2 and "already exists" in result.stderr and "--force" in result.stderr
    result = runner.invoke(app, ["init", str(tmp_path / "x"), "--from", "ukk"])
    assert result.exit_code == 2 and "no bundled policy 'ukk'" in result.stderr and "did you mean 'uk'" in result.stderr
