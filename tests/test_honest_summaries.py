"""Summaries that do not hide anything: a malformed policy test file is an error (exit 2),
not a skipped file; a property `escalator check` could not run is reported as skipped,
and fails the run with --strict."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from escalator.cli import app

pytest_plugins = ["pytester"]
runner = CliRunner()
GOOD = """tests:
  - name: a small bonus stays with the agent
    case:
      case_id: T-1
      jurisdiction: NL
      opened_at: 2026-11-20T14:03:00Z
      channel: live_chat
      handled_by: agent
      player: {id: P1}
      request: {kind: bonus_request, amount: 10.00}
    expect: {handler: agent}
"""


def test_test_file_with_an_unknown_key_is_an_error_and_the_others_still_run(tmp_path: Path) -> None:
    (tmp_path / "test_good.yaml").write_text(GOOD)
    (tmp_path / "test_bad.yaml").write_text(GOOD + "backends: compiled\n")
    result = runner.invoke(app, ["test", str(tmp_path), "--backend", "compiled"])
    assert result.exit_code == 2, result.output
    assert f"{tmp_path / 'test_bad.yaml'}:12:1: backends: unknown key 'backends'" in result.stderr
    assert "did you mean 'backend'?" in result.stderr
    assert "1 passed, 0 failed (1 tests); 1 test file could not be read" in result.stdout


def test_a_misspelt_tests_key_is_collected_by_pytest_and_reported(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", test_policy=GOOD.replace("tests:", "test:", 1))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*unknown key 'test'*"])


def test_check_reports_a_property_it_cannot_run_as_skipped(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import escalator.runtime.backends as backends

    monkeypatch.setattr(backends, "durable_available", lambda: False)  # as where durable_rules does not import
    args = ["check", "--property", "backends-agree", "--property", "decides", "--max-examples", "5", "--seed", "1",
            "--backend", "compiled", "--out", str(tmp_path)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "SKIP backends-agree" in result.stdout and "1 properties hold, 0 fail, 1 skipped" in result.stdout
    result = runner.invoke(app, [*args, "--strict"])
    assert result.exit_code == 1 and "skipped ones fail with --strict" in result.stdout
