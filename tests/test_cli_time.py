"""The CLI's time faces: --at on evaluate, explain and test; `escalator timeline` on every bundled example."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from escalator.cli import app

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "cases"
runner = CliRunner()
STAMP = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"


def test_evaluate_every_example_at_christmas_eve_gives_the_three_instants():
    result = runner.invoke(app, ["evaluate", str(EXAMPLES), "--at", "2026-12-24T18:00:00Z", "--format", "json",
                                 "--backend", "compiled"])
    assert result.exit_code == 0, result.output
    decisions = json.loads(result.stdout)
    assert len(decisions) == len(list(EXAMPLES.iterdir()))
    import re

    for decision in decisions:
        assert decision["evaluated_at"] == "2026-12-24T18:00:00Z"  # --at overrides every as_of
        for key in ("contact_at", "next_review_at"):
            assert key in decision and (decision[key] is None or re.match(STAMP, decision[key]))
        assert isinstance(decision["deadlines"]["paused"], bool)
        # 24 Dec 19:00 CET is an office holiday in NL; a callback or email is handled after Christmas
        if decision["transfer"] != "live" and decision["policy"]["id"] == "nl" and decision["contact_at"]:
            assert decision["contact_at"] == "2026-12-28T08:00:00Z"


def test_a_bad_at_is_exit_2():
    result = runner.invoke(app, ["evaluate", str(EXAMPLES / "nl-complaint-locks.yaml"), "--at", "2026-12-24T18:00"])
    assert result.exit_code == 2 and "time zone" in result.output


@pytest.mark.parametrize("path", sorted(EXAMPLES.iterdir()), ids=lambda p: p.name)
def test_timeline_works_on_every_bundled_example(path: Path):
    result = runner.invoke(app, ["timeline", str(path), "--at", "2026-11-25T10:00:00Z", "--until", "2w",
                                 "--format", "json", "--backend", "compiled"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows[0]["at"] == "2026-11-25T10:00:00Z" and rows[0]["changes"] == ["first evaluation"]
    instants = [row["at"] for row in rows]
    assert instants == sorted(instants) and len(set(instants)) == len(instants)
    for previous, row in zip(rows, rows[1:]):
        assert previous["decision"]["next_review_at"] == row["at"]
        assert row["changes"], f"nothing changed at {row['at']}"  # a review is scheduled only for a change


def test_timeline_tells_the_story_of_a_uk_complaint():
    result = runner.invoke(app, ["timeline", str(EXAMPLES / "uk-complaint-adr-after-8-weeks.yaml"),
                                 "--at", "2026-10-26T18:00:00Z", "--until", "2d", "--backend", "compiled"])
    assert result.exit_code == 0, result.output
    # Monday evening: office closed, email; Tuesday 09:00 GMT opens (live); 10:30 the 8 weeks end: ADR
    assert "2026-10-27T09:00:00Z" in result.stdout and "2026-10-27T10:30:00Z" in result.stdout
    assert "+ complaint.adr-eligible" in result.stdout


def test_timeline_refuses_working_time_for_until():
    result = runner.invoke(app, ["timeline", str(EXAMPLES / "nl-complaint-locks.yaml"), "--until", "3wd"])
    assert result.exit_code == 2


def test_policy_tests_take_at_from_the_command_line(tmp_path: Path):
    test_file = tmp_path / "test_one.yaml"
    test_file.write_text(
        "tests:\n"
        "  - name: VIP manager request on a Friday evening\n"
        f"    case: {EXAMPLES / 'nl-manager-after-hours-callback.yaml'}\n"
        "    expect: {transfer: callback, contact_at: \"2026-11-30T08:00:00Z\"}\n")
    assert runner.invoke(app, ["test", str(test_file)]).exit_code == 0
    # on Monday at 10:00 CET the VIP manager is in: live, and the test fails
    moved = runner.invoke(app, ["test", str(test_file), "--at", "2026-11-30T09:00:00Z"])
    assert moved.exit_code == 1 and "contact_at" in moved.output
