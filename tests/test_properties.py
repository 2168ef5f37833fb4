"""`escalator check`: a planted bug is found in the default budget and its counterexample reproduces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from typer.testing import CliRunner

from escalator import Engine
from escalator.language.cases import load_case
from escalator.cli import app
from escalator.errors import PolicyError
from escalator.authoring.properties import DEFAULT_EXAMPLES, check_folders
from escalator.authoring.strategies import cases, constants

ROOT = Path(__file__).resolve().parent.parent
PLANTED = ROOT / "tests" / "fixtures" / "toolkit" / "planted"


def planted(tmp_path, **kwargs):
    results, _ = check_folders(PLANTED / "policies", PLANTED / "rules", out=tmp_path, **kwargs)
    return {r.property: r for r in results}


def test_default_budget_is_300():
    assert DEFAULT_EXAMPLES == 300


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_planted_bug_found_in_default_budget_and_reproduces(tmp_path, seed):
    results = planted(tmp_path, seed=seed, only=["monotone-in-money", "invariants"])
    mono = results["monotone-in-money"]
    assert mono.failed and mono.examples <= DEFAULT_EXAMPLES
    assert "request.forfeiture.winnings" in mono.message and "down to agent" in mono.message
    inv = results["invariant:agent-never-reverses-above-cap"]
    assert inv.failed and inv.message == "handler is agent"
    # the written files are ready-to-run cases that show the bug
    engine = Engine.load(PLANTED / "policies", PLANTED / "rules", backend="compiled")
    higher, lower = (load_case(f) for f in mono.files)
    assert higher.request.forfeiture.winnings > lower.request.forfeiture.winnings
    levels = {t.id: t.level for t in engine.policies["p"].tiers}
    assert levels[engine.evaluate(higher).handler] < levels[engine.evaluate(lower).handler]
    [inv_file] = inv.files
    shown = engine.evaluate(load_case(inv_file))
    assert shown.handler == "agent" and load_case(inv_file).request.forfeiture.winnings > 100
    assert inv_file.read_text().startswith("# escalator check: counterexample for invariant:agent-never-reverses")


def test_counterexample_is_shrunk_to_the_threshold(tmp_path):
    mono = planted(tmp_path, seed=0, only=["monotone-in-money"])["monotone-in-money"]
    assert "from 100.01 to 500.01" in mono.message  # the edges of the buggy range


def test_cli_check_finds_the_bug_and_evaluate_reproduces_it(tmp_path):
    cli = CliRunner()
    out = tmp_path / "cx"
    result = cli.invoke(app, ["check", str(PLANTED), "--seed", "7", "--out", str(out),
                              "-p", "monotone-in-money", "-p", "invariants"])
    assert result.exit_code == 1, result.output
    assert "FAIL monotone-in-money" in result.output and "repeat with --seed 7" in result.output
    written = out / "p-invariant-agent-never-reverses-above-cap.yaml"
    assert written.exists()
    decided = cli.invoke(app, ["evaluate", str(written), "--policies", str(PLANTED / "policies"),
                               "--rules", str(PLANTED / "rules"), "--format", "json"])
    assert decided.exit_code == 0, decided.output
    assert json.loads(decided.output)["handler"] == "agent"


def test_bundled_policies_hold_every_property(tmp_path):
    results, seed = check_folders(ROOT / "policies", ROOT / "rules", out=tmp_path, max_examples=40, seed=11)
    assert [r.report() for r in results if r.failed] == [], seed
    assert {r.property for r in results} >= {"decides", "locked-with-complaints", "authority-within-limit",
                                              "no-internal-handler", "backends-agree", "monotone-in-money"}
    assert not list(tmp_path.iterdir())


def _policy_copy(tmp_path, invariants: str) -> Path:
    folder = tmp_path / "policies"
    folder.mkdir()
    text = (PLANTED / "policies" / "p.yaml").read_text()
    text = text[: text.index("invariants:")] + invariants
    (folder / "p.yaml").write_text(text)
    return folder


def test_policy_can_opt_out_of_monotonicity(tmp_path):
    folder = _policy_copy(tmp_path, "invariants:\n  - id: stepped\n    description: steps on purpose\n"
                                    "    disable: monotone-in-money\n")
    results, _ = check_folders(folder, PLANTED / "rules", max_examples=50, seed=0, only=["monotone-in-money"])
    assert results[0].skipped and not results[0].failed
    (tmp_path / "b").mkdir()
    folder2 = _policy_copy(tmp_path / "b", "invariants:\n  - id: stepped\n    disable: monotone-in-money\n"
                                           "    fields: [request.amount]\n")
    results, _ = check_folders(folder2, PLANTED / "rules", max_examples=300, seed=0, only=["monotone-in-money"])
    assert results[0].failed  # only request.amount is exempt; the winnings still must be monotone


@pytest.mark.parametrize("invariants, words", [
    ("invariants:\n  - id: x\n    when: request.amont > 1\n    expect: {handler: agent}\n", "unknown case field"),
    ("invariants:\n  - id: x\n    expect: {handler: boss}\n", "unknown tier 'boss'"),
    ("invariants:\n  - id: x\n    expect: {hander: agent}\n", "needs `expect`"),
    ("invariants:\n  - id: x\n    disable: everything\n", "not a built-in property"),
    ("invariants:\n  - description: no id\n    expect: {handler: agent}\n", "needs an `id`"),
])
def test_bad_invariants_are_policy_errors_with_positions(tmp_path, invariants, words):
    folder = _policy_copy(tmp_path, invariants)
    with pytest.raises(PolicyError) as info:
        check_folders(folder, PLANTED / "rules", max_examples=5, seed=0)
    problem = info.value.problems[0]
    assert words in problem.message and problem.location.line is not None and problem.location.line >= 22


def test_invariant_that_holds_passes(tmp_path):
    folder = _policy_copy(tmp_path, "invariants:\n  - id: low-stays\n"
                                    "    when: request.kind == forfeiture_dispute and request.forfeiture.winnings <= 100"
                                    " and status != complaint\n"
                                    "    expect: {authority: {forfeiture_reversal: \"100.00\"}, handler_in: [agent, complaints]}\n")
    results, _ = check_folders(folder, PLANTED / "rules", max_examples=100, seed=0, only=["invariants"])
    [inv] = results
    assert inv.property == "invariant:low-stays" and not inv.failed and inv.examples == 100


# -- escalator.authoring.strategies ------------------------------------------------------------------------------

ENGINE = Engine.default(backend="compiled")


@settings(max_examples=60, deadline=None, database=None)
@given(cases(jurisdiction="UK", kind="withdrawal_delay", engine=ENGINE))
def test_strategy_respects_jurisdiction_and_kind(case):
    assert case["jurisdiction"] == "UK" and case["request"]["kind"] == "withdrawal_delay"
    assert ENGINE.evaluate(case).policy.id == "uk"


@settings(max_examples=60, deadline=None, database=None)
@given(cases())
def test_default_strategy_yields_valid_cases_for_the_bundled_policies(case):
    assert ENGINE.evaluate(case).handler


def test_amounts_are_drawn_around_the_policy_constants():
    nl = ENGINE.policies["nl"]
    points = constants(nl)
    from decimal import Decimal

    assert points == sorted(points) and points[0] == 0
    assert Decimal("25.00") in points and Decimal("10000.00") in points  # agent goodwill cap, large_win
    with pytest.raises(ValueError):
        cases(kind="nonsense")
    with pytest.raises(ValueError):
        cases(jurisdiction="ZZ", engine=ENGINE)


def test_invariants_declared_in_an_abstract_parent_apply_to_its_children(tmp_path):
    import shutil

    folder = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", folder)
    with (folder / "base.yaml").open("a") as handle:
        # base.yaml already declares no-goodwill-for-harm as the last block of the file
        assert "  - id: no-goodwill-for-harm" in (folder / "base.yaml").read_text()
        handle.write("  - id: harm-never-with-agent\n    when: player.rg_markers exists\n"
                     "    expect: {handler_not: [agent, supervisor]}\n")
    results, _ = check_folders(folder, ROOT / "rules", max_examples=100, seed=3, only=["invariants"])
    assert {r.property: r.failed for r in results} == {
        "invariant:harm-never-with-agent": False, "invariant:no-goodwill-for-harm": False}
    # and a false claim about the bundled policies is refuted
    with (folder / "base.yaml").open("a") as handle:
        handle.write("  - id: wrong\n    when: request.kind == bonus_request\n    expect: {handler: agent}\n")
    results, _ = check_folders(folder, ROOT / "rules", max_examples=300, seed=3, only=["invariants"], out=tmp_path)
    wrong = next(r for r in results if r.property == "invariant:wrong")
    assert wrong.failed and wrong.policy in ("nl", "uk", "mt") and wrong.files
