"""`escalator compile`: the durable_rules ruleset JSON, rule names = rule ids."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from escalator.cli import app

pytest.importorskip("durable_rules_engine")

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def test_one_policy_ruleset_names_rules_by_id():
    result = runner.invoke(app, ["compile", "--policy", "nl"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == ["escalator:nl"]
    rules = data["escalator:nl"]
    assert "bonus.above-agent-cap" in rules and "responsible_gambling.harm-markers" in rules
    # money as integer cents: the NL agent goodwill cap of 25.00 is 2500
    assert '{"$gt": {"request.amount": 2500}}' in json.dumps(rules["bonus.above-agent-cap"])


def test_every_policy_and_unknown_policy():
    result = runner.invoke(app, ["compile"])
    assert result.exit_code == 0
    assert sorted(json.loads(result.stdout)) == ["escalator:mt", "escalator:nl", "escalator:uk"]
    result = runner.invoke(app, ["compile", "-p", "zz"])
    assert result.exit_code == 2 and "unknown policy 'zz'" in result.stderr


def test_real_process():
    done = subprocess.run([sys.executable, "-m", "escalator", "compile", "-p", "mt"], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert '"$gt": {\n' in done.stdout and "executive.director-demand" in json.loads(done.stdout)["escalator:mt"]


def test_help_has_an_example():
    result = runner.invoke(app, ["compile", "--help"])
    assert result.exit_code == 0 and "escalator compile --policy nl" in result.stdout
