"""`escalator matrix`: tiers by actions per policy, as table, Markdown and JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from escalator.cli import app

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def test_json_has_every_policy_tier_and_cap():
    result = runner.invoke(app, ["matrix", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    data = {p["policy"]: p for p in json.loads(result.stdout)}
    assert set(data) == {"nl", "uk", "mt"}  # the abstract base is not a policy in force
    nl = {t["id"]: t for t in data["nl"]["tiers"]}
    assert nl["agent"]["authority"]["goodwill_bonus"] == "25.00"
    assert nl["agent"]["level"] == 1 and nl["agent"]["player_reachable"] is True
    assert nl["finance"]["player_reachable"] is False
    assert [t["level"] for t in data["nl"]["tiers"]] == sorted(t["level"] for t in data["nl"]["tiers"])
    assert data["uk"]["jurisdictions"] == ["UK", "GB"]


def test_markdown_is_a_pasteable_table_for_one_policy():
    result = runner.invoke(app, ["matrix", "--policy", "uk", "--format", "markdown"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("### ") and "uk 2026.11" in lines[0]
    assert lines[2].startswith("| Tier | Level | Player reachable | Fallback | Goodwill bonus (GBP)")  # UK: pounds
    assert lines[3].startswith("|---|---:|")
    assert "| Frontline agent (`agent`) | 1 | yes | email | 50.00 | 2,000.00 | 100.00 |" in lines
    assert "nl 2026.11" not in result.stdout


def test_table_and_unknown_policy():
    result = runner.invoke(app, ["matrix", "-p", "nl"])
    assert result.exit_code == 0
    assert "complaints_manager" in result.stdout and "1,000,000.00" in result.stdout
    result = runner.invoke(app, ["matrix", "-p", "xx"])
    assert result.exit_code == 2 and result.stderr == "--policy: unknown policy 'xx'\n    hint: known policies: mt, nl, uk\n"


def test_real_process():
    done = subprocess.run([sys.executable, "-m", "escalator", "matrix", "-p", "mt", "-f", "markdown"],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "(mt 2026.11; MT)" in done.stdout and "`director`" in done.stdout


def test_help_has_an_example():
    result = runner.invoke(app, ["matrix", "--help"])
    assert result.exit_code == 0 and "escalator matrix --policy nl --format markdown" in result.stdout
