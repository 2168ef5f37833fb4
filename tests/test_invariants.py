"""Invariants are compiled with the policy: `validate` reports a bad one like any other policy error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from escalator import Engine
from escalator.cli import app
from escalator.errors import PolicyError
from escalator.language.ir import Compare
from escalator.language.policyset import compile_folders

ROOT = Path(__file__).resolve().parent.parent
PLANTED = ROOT / "tests" / "fixtures" / "toolkit" / "planted"


def _policy_with(tmp_path: Path, invariants: str) -> tuple[Path, str]:
    folder = tmp_path / "policies"
    folder.mkdir(parents=True)
    text = (PLANTED / "policies" / "p.yaml").read_text()
    text = text[: text.index("invariants:")] + invariants
    (folder / "p.yaml").write_text(text)
    return folder, text


def test_validate_exits_2_naming_file_line_and_column_of_an_unknown_field(tmp_path):
    folder, text = _policy_with(tmp_path, "invariants:\n  - id: x\n    when: request.amont > 1\n"
                                          "    expect: {handler: agent}\n")
    line = text.splitlines().index("    when: request.amont > 1") + 1
    result = CliRunner().invoke(app, ["validate", "--policies", str(folder), "--rules", str(PLANTED / "rules")])
    assert result.exit_code == 2, result.output
    assert re.search(rf"p\.yaml:{line}:\d+: .*unknown case field 'request\.amont'", result.output), result.output


def test_validate_accepts_the_same_policy_with_a_good_invariant(tmp_path):
    folder, _ = _policy_with(tmp_path, "invariants:\n  - id: x\n    when: request.amount > 1\n"
                                       "    expect: {handler_not: [complaints]}\n")
    result = CliRunner().invoke(app, ["validate", "--policies", str(folder), "--rules", str(PLANTED / "rules")])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("expect, words", [
    ("{min_level: high}", "`min_level` is a whole number"),
    ("{authority: {goodwill_bonsu: \"0.00\"}}", "unknown action 'goodwill_bonsu'"),
    ("{locked: maybe}", "`locked` is true or false"),
    ("{flags: rg_review}", "`flags` is a list of names"),
])
def test_malformed_expectations_are_policy_errors(tmp_path, expect, words):
    folder, _ = _policy_with(tmp_path, f"invariants:\n  - id: x\n    expect: {expect}\n")
    with pytest.raises(PolicyError) as info:
        compile_folders(folder, PLANTED / "rules")
    [problem] = info.value.problems
    assert words in problem.message and problem.location is not None and problem.location.line


def test_the_compiled_policy_carries_its_invariants_and_they_leave_the_digest_alone(tmp_path):
    with Engine.default(backend="compiled") as engine:
        nl = engine.policies["nl"]
    [inv] = [i for i in nl.invariants if i.id == "no-goodwill-for-harm"]  # declared by the abstract base
    assert inv.expect.flags == ("rg_review",) and dict(inv.expect.authority) == {"goodwill_bonus": 0}
    assert inv.condition is not None and inv.location is not None and inv.location.line
    assert any(isinstance(node, Compare) for node in [inv.condition, *getattr(inv.condition, "items", ())])
    # a policy that differs only in its invariants decides alike, so its digest is the same
    base, _ = _policy_with(tmp_path / "a", "invariants: []\n")
    other, _ = _policy_with(tmp_path / "b", "invariants:\n  - id: x\n    disable: monotone-in-money\n")
    first, second = compile_folders(base, PLANTED / "rules")["p"], compile_folders(other, PLANTED / "rules")["p"]
    assert first.opt_outs == () and [o.property for o in second.opt_outs] == ["monotone-in-money"]
    assert first.digest == second.digest
