"""`escalator explain`: the decision, every rule with its compared values, and threshold margins."""

from __future__ import annotations

import json
from datetime import datetime, timezone
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from escalator.language.cases import load_case
from escalator.cli import app
from escalator.runtime.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT / "examples" / "cases" / "nl-bonus-loss-chasing.yaml"
runner = CliRunner()


def test_text_shows_fired_rules_values_and_margin_notes():
    pinned = ["--at", "2026-11-23T10:00:00Z"]  # the two runs must decide at one instant
    result = runner.invoke(app, ["explain", str(CASE), "--backend", "compiled", *pinned])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "NL-1001" in out and "responsible_gambling" in out
    assert "bonus.above-agent-cap [FIRED, condition true]" in out
    assert "request.amount > tiers.agent.goodwill_bonus" in out and "250.00" in out
    assert "amount 250.00 is 225.00 above the agent goodwill bonus cap 25.00" in " ".join(out.split())
    # the old name of the format still works and gives the same text
    again = runner.invoke(app, ["explain", str(CASE), "--backend", "compiled", "--format", "table", *pinned])
    assert again.stdout == out


def test_json_is_the_library_explanation():
    result = runner.invoke(app, ["explain", str(CASE), "--format", "json", "--backend", "compiled",
                                 "--at", "2026-11-23T10:00:00Z"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    at = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
    with Engine.load(ROOT / "policies", ROOT / "rules", "compiled") as engine:
        assert data == json.loads(json.dumps(engine.explain(load_case(CASE), at).to_dict()))
    fired = {r["rule"] for r in data["rules"] if r["fired"]}
    assert fired == {r["rule"] for r in data["decision"]["reasons"]}
    assert len(data["rules"]) > len(fired)  # rules that did not fire are listed too


def test_case_from_stdin_and_bad_case_messages(tmp_path):
    result = runner.invoke(app, ["explain", "-", "-f", "json"], input=CASE.read_text())
    assert result.exit_code == 0 and json.loads(result.stdout)["decision"]["case_id"] == "NL-1001"
    bad = tmp_path / "bad.yaml"
    bad.write_text(CASE.read_text().replace("kyc: verified", "kyc: maybe"))
    result = runner.invoke(app, ["explain", str(bad)])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(f"{bad}:") and "player.kyc" in result.stderr and "'maybe'" in result.stderr
    result = runner.invoke(app, ["explain", str(tmp_path / "none.yaml")])
    assert result.exit_code == 2 and "no such case file" in result.stderr


def test_real_process():
    done = subprocess.run([sys.executable, "-m", "escalator", "explain", str(CASE), "-f", "json"],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    rules = {r["rule"]: r for r in json.loads(done.stdout)["rules"]}
    cap = rules["bonus.above-agent-cap"]
    assert cap["fired"] and any(c["note"] and "225.00 above" in c["note"] for c in cap["comparisons"])


def test_help_has_an_example():
    result = runner.invoke(app, ["explain", "--help"])
    assert result.exit_code == 0 and "escalator explain examples/cases/" in result.stdout
