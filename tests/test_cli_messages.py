"""The CLI's messages: --locale, the policy's currency, explain as a tree at 80 columns,
tables that wrap instead of cutting, CSV, and the one-line run summary on stderr."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from escalator.cli import app
from conftest import replace_in

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "examples" / "cases"
NL_CASE = CASES / "nl-withdrawal-big-win-waiting.yaml"
UK_CASE = CASES / "uk-withdrawal-big-win-waiting.yaml"
SUMMARY_LINE = re.compile(r"^(\d+) cases?: (\d+) escalated, (\d+) locked, (\d+) errors? in \d+\.\d\d s$")


def run(*args: str, columns: int = 80):
    runner = CliRunner(mix_stderr=False) if "mix_stderr" in CliRunner.__init__.__code__.co_varnames else CliRunner()
    backend = ["--backend", "compiled"] if args[0] in ("evaluate", "explain") else []
    return runner.invoke(app, [*args, *backend], env={"COLUMNS": str(columns)})


def by_case(stdout: str) -> dict[str, dict]:
    return {d["case_id"]: d for d in json.loads(stdout)}


def test_evaluate_locale_nl_and_en_on_the_examples():
    dutch = run("evaluate", str(CASES), "--locale", "nl", "-f", "json")
    english = run("evaluate", str(CASES), "--locale", "en", "-f", "json")
    assert dutch.exit_code == english.exit_code == 0
    nl, en = by_case(dutch.stdout), by_case(english.stdout)
    assert len(json.loads(dutch.stdout)) == len(json.loads(english.stdout)) == len(list(CASES.iterdir()))
    assert nl["NL-1010"]["summary"].startswith("Uw zaak wordt overgedragen aan de teamleider klantenservice")
    assert en["NL-1010"]["summary"].startswith("Your case is being passed to the support supervisor")
    nl_reasons = " ".join(r["message"] for r in nl["NL-1010"]["reasons"])
    assert "€\u00a025.000,00" in nl_reasons and "23 november 2026 om 10:00" in nl["NL-1010"]["summary"]
    assert "€25,000.00" in " ".join(r["message"] for r in en["NL-1010"]["reasons"])
    # the UK policy's amounts are pounds, in either language
    uk = by_case(dutch.stdout)["UK-2010"], by_case(english.stdout)["UK-2010"]
    assert "£\u00a048.000,00" in " ".join(r["message"] for r in uk[0]["reasons"])
    assert "£48,000.00" in " ".join(r["message"] for r in uk[1]["reasons"])
    # machine fields are not localised
    assert nl["NL-1010"]["authority"] == en["NL-1010"]["authority"]
    assert nl["NL-1010"]["authority"]["withdrawal_expedite"] == "10000.00"


def test_unknown_locale_is_bad_input():
    result = run("evaluate", str(NL_CASE), "--locale", "fr")
    assert result.exit_code == 2
    assert "unknown locale 'fr' (known: en, nl)" in result.stderr


def test_evaluate_ends_with_a_one_line_summary_on_stderr(tmp_path):
    result = run("evaluate", str(CASES), "-f", "jsonl")
    last = result.stderr.strip().splitlines()[-1]
    match = SUMMARY_LINE.match(last)
    assert match, last
    decisions = [json.loads(line) for line in result.stdout.splitlines()]
    cases, escalated, locked, errors = map(int, match.groups())
    assert cases == len(decisions) and errors == 0
    assert escalated == sum(d["escalate"] for d in decisions) and locked == sum(d["locked"] for d in decisions)
    bad = tmp_path / "bad.yaml"
    bad.write_text("case_id: X\n")
    result = run("evaluate", str(NL_CASE), str(bad), "-f", "json")
    assert result.exit_code == 2
    assert SUMMARY_LINE.match(result.stderr.strip().splitlines()[-2]).groups() == ("2", "1", "0", "1")


def test_evaluate_csv_is_one_row_per_case(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("case_id: X\n")
    result = run("evaluate", str(CASES), str(bad), "-f", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == len(list(CASES.iterdir())) + 1
    uk = next(r for r in rows if r["case_id"] == "UK-2010")
    assert (uk["handler"], uk["currency"], uk["authority.withdrawal_expedite"]) == ("supervisor", "GBP", "10000.00")
    assert uk["flags"] == "large_win; payout_overdue" and uk["summary"].startswith("Your case")
    assert rows[-1]["error"] and not rows[-1]["handler"]


def test_decision_table_fits_80_columns_and_is_plain_in_a_pipe():
    result = run("evaluate", str(CASES))
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert not set("─━│┃┏┓└┘├┤") & set(result.stdout)
    assert "summary" in result.stdout and "GBP" in result.stdout


def test_matrix_fits_80_columns_and_names_the_currency():
    result = run("matrix", "--policy", "uk")
    assert result.exit_code == 0, result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    assert "caps in GBP" in result.stdout and "1,000,000.00" in result.stdout
    for header in ("goodwill", "withdrawal", "forfeiture", "expedite", "reversal"):
        assert header in result.stdout
    markdown = run("matrix", "--policy", "uk", "--format", "markdown")
    assert "(GBP)" in markdown.stdout


NESTED = """\
  - id: nested
    description: a nested condition with every kind of group
    when:
      all:
        - request.kind == bonus_request
        - any:
            - player.vip_level >= 3
            - not: {any: [player.kyc == verified, request.amount > 1000]}
        - not: player.self_excluded == true
    then: {flag: [nested]}
"""


@pytest.mark.parametrize("columns", [80, 60])
def test_explain_is_a_tree_within_the_width_with_every_leaf(semantics_copy, columns):
    rules = semantics_copy / "rules" / "t.yaml"
    rules.write_text(rules.read_text() + NESTED)
    case = semantics_copy / "case.yaml"
    case.write_text(
        "case_id: C-9\njurisdiction: XX\nopened_at: 2026-11-20T14:03:00Z\nchannel: live_chat\nhandled_by: agent\n"
        "status: open\nplayer: {id: P-1, vip_level: 1, account_age_days: 10, net_loss_30d: 0, rg_markers: [],\n"
        "  kyc: pending, self_excluded: false}\nrequest: {kind: bonus_request}\n")
    result = run("explain", str(case), "--policies", str(semantics_copy / "policies"),
                 "--rules", str(rules.parent), columns=columns)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= columns
    assert not set("─│├└") & set(result.stdout)  # plain text in a pipe
    text = " ".join(line.strip(" |`-") for line in lines)  # undo the wrapping to find each leaf whole
    block = text[text.index("t.nested"):]
    for leaf in ("request.kind == bonus_request: true", "player.vip_level >= 3: false",
                 "player.kyc == verified: false", "request.amount > 1000: unknown (request.amount = absent",
                 "player.self_excluded == true: false"):
        assert leaf in block, leaf
    for group in ("all: unknown", "any: unknown", "not: unknown", "not: true"):
        assert group in block, group
    assert "why not: request.amount > 1000 is unknown (request.amount absent)" in block


def test_explain_shows_the_tie_break_and_why_rules_did_not_fire():
    result = run("explain", str(UK_CASE))
    text = " ".join(result.stdout.split())
    assert ("Tie-break: 2 tiers of level 2 were required; supervisor handles the case: withdrawal.large-win "
            "(priority 10) outranks manager.vip-to-vip-manager (priority 5), which required vip_manager.") in text
    assert "bonus.above-agent-cap [not fired, condition false]" in text
    assert "why not: request.kind == bonus_request is false (request.kind = withdrawal_delay)" in text


def test_explain_json_keeps_its_shape_and_speaks_the_locale():
    result = run("explain", str(NL_CASE), "--format", "json", "--locale", "en")
    data = json.loads(result.stdout)
    assert set(data) == {"decision", "rules"}
    assert set(data["rules"][0]) == {"rule", "description", "fired", "result", "comparisons"}
    assert set(data["rules"][0]["comparisons"][0]) == {
        "comparison", "field", "value", "against", "against_source", "result", "note"}
    assert data["decision"]["summary"].startswith("Your case is being passed to")


def test_policy_test_report_wraps_at_80_columns():
    result = run("test", str(ROOT / "policies" / "tests"), "--coverage")
    assert result.exit_code == 0, result.stdout
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert any(line.startswith("    ") for line in lines)  # a long test name went on under its PASS line
    written = sum(len(yaml.safe_load(f.read_text())["tests"]) for f in (ROOT / "policies" / "tests").glob("test_*.yaml"))
    assert sum(line.startswith("PASS ") for line in lines) == written
