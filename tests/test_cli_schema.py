"""`escalator schema`: JSON Schemas that accept the real files and the real decision JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from escalator.cli import app
from escalator.language.yamlio import load_file

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def _schema(kind: str) -> dict:
    result = runner.invoke(app, ["schema", kind])
    assert result.exit_code == 0, result.stderr
    schema = json.loads(result.stdout)
    assert schema["$schema"].endswith("2020-12/schema")
    return schema


def _plain(value):
    """YAML values as an editor's JSON view sees them (Decimal -> number)."""
    from decimal import Decimal

    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@pytest.mark.parametrize(("kind", "folder"), [("policy", "policies"), ("rules", "rules"), ("case", "examples/cases")])
def test_schemas_accept_every_bundled_file_and_refuse_unknown_fields(kind, folder):
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(_schema(kind))
    files = [p for p in sorted((ROOT / folder).glob("*")) if p.suffix in (".yaml", ".json")]
    assert files
    for path in files:
        data = _plain(load_file(path).data)
        errors = [e.message for e in validator.iter_errors(data)]
        assert not errors, f"{path.name}: {errors}"
        data["surprise"] = 1
        assert not validator.is_valid(data)


def test_decision_schema_matches_the_decision_json():
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(_schema("decision"))
    result = runner.invoke(app, ["evaluate", str(ROOT / "examples" / "cases"), "-f", "json", "--backend", "compiled"])
    decisions = json.loads(result.stdout)
    for decision in decisions:
        assert not [e.message for e in validator.iter_errors(decision)]
    wrong = dict(decisions[0], authority={"goodwill_bonus": 25.0})
    assert not validator.is_valid(wrong)  # money is a string with two decimals
    missing = {k: v for k, v in decisions[0].items() if k != "deadlines"}
    assert not validator.is_valid(missing)
    assert not validator.is_valid({k: v for k, v in decisions[0].items() if k != "summary"})
    assert not validator.is_valid(dict(decisions[0], summary=""))
    assert validator.is_valid(dict(decisions[0], agent_note=None))


def test_impact_schema_or_a_clear_message(monkeypatch):
    result = runner.invoke(app, ["schema", "impact"])
    if result.exit_code == 0:
        assert "properties" in json.loads(result.stdout)
    monkeypatch.setitem(sys.modules, "escalator.authoring.impact", None)  # as in a build without it
    result = runner.invoke(app, ["schema", "impact"])
    assert result.exit_code == 2 and "impact schema is not available" in result.stderr


def test_unknown_kind_and_real_process():
    result = runner.invoke(app, ["schema", "nonsense"])
    assert result.exit_code == 2
    done = subprocess.run([sys.executable, "-m", "escalator", "schema", "case"], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert done.returncode == 0
    schema = json.loads(done.stdout)
    assert schema["title"] == "escalator case" and "jurisdiction" in schema["required"]


def test_help_has_an_example():
    result = runner.invoke(app, ["schema", "--help"])
    assert result.exit_code == 0 and "escalator schema case" in result.stdout and "yaml.schemas" in result.stdout
