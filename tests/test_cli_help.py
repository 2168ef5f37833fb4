"""Every command's --help ends with two or three examples; --version names the bundled policies."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from escalator.cli import COMMANDS, app

runner = CliRunner()
REGISTERED = [info.name for info in app.registered_commands if info.name in COMMANDS]


def test_every_command_is_checked() -> None:
    assert len(REGISTERED) >= 12 and "init" in REGISTERED


@pytest.mark.parametrize("name", REGISTERED)
def test_help_ends_with_two_or_three_examples(name: str) -> None:
    result = runner.invoke(app, [name, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    lines = [line.strip() for line in result.output.splitlines() if line.strip()]
    tail = lines[lines.index("Examples:") + 1:]  # the last block of the help: nothing after it
    assert 2 <= len(tail) <= 3 and all(re.match(r"^(escalator |cd |curl )", line) for line in tail), tail
    assert any(line.startswith("escalator ") for line in tail)


def test_version_lists_bundled_policies_and_versions() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    first, second = result.output.splitlines()[:2]
    assert first.startswith("escalator ")
    for policy in ("nl 2026.11", "uk 2026.11", "mt 2026.11"):
        assert policy in second
