"""The SQL path (escalator.bulk) decides exactly like the Python engine: same JSON bytes, same bad rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from bulk_helpers import AT, bulk_outcomes, python_outcomes, same, write_jsonl, TIMELESS, timeless_engine, timeless_examples
from escalator.authoring.strategies import cases
from escalator.bulk.sql import decision_query, unsupported
from escalator.cli import app
from escalator.language.cases import load_case
from escalator.runtime.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = timeless_examples()
ENGINE = timeless_engine()


def test_bundled_policies_with_time_fall_back_to_python_and_agree(tmp_path):
    """The bundled policies use calendars, SLA clocks from history and time rules (spec section 8),
    which the SQL path does not express: a bulk run says so and decides them with the Python engine."""
    engine = Engine.default(backend="compiled")
    for policy in engine.policies.values():
        assert unsupported(policy) != []
    cases_ = [load_case(p).model_dump(mode="json") for p in sorted((ROOT / "examples" / "cases").iterdir())]
    path = write_jsonl(tmp_path / "examples.jsonl", cases_, False)
    got, run = bulk_outcomes([str(path)], engine.policies)
    assert same(got, python_outcomes([str(path)], engine.policies)) == []
    assert run.summary.sql == 0 and run.summary.python == len(cases_)


def test_bundled_policies_compile_to_sql():
    for policy in ENGINE.policies.values():
        assert unsupported(policy) == []
        for dialect in ("duckdb", "postgres"):
            assert decision_query(policy, dialect).startswith("SELECT")


@pytest.mark.parametrize("numbers", [True, False], ids=["json-numbers", "decimal-text"])
def test_every_bundled_example_agrees(tmp_path, numbers):
    cases_ = [load_case(p).model_dump(mode="json") for p in EXAMPLES]
    path = write_jsonl(tmp_path / "examples.jsonl", cases_, numbers)
    got, run = bulk_outcomes([str(path)], ENGINE.policies)
    assert same(got, python_outcomes([str(path)], ENGINE.policies)) == []
    assert run.summary.sql == len(EXAMPLES)  # every example decided in SQL, none fell back
    assert run.summary.python == run.summary.bad == 0


@settings(max_examples=8, deadline=None, phases=[Phase.explicit, Phase.generate],  # no shrinking: one query per batch
          suppress_health_check=list(HealthCheck))
@given(st.lists(cases(engine=ENGINE), min_size=20, max_size=60), st.booleans())
def test_generated_cases_agree(tmp_path_factory, batch, numbers):
    path = write_jsonl(tmp_path_factory.mktemp("gen") / "cases.jsonl", batch, numbers)
    got, run = bulk_outcomes([str(path)], ENGINE.policies)
    assert same(got, python_outcomes([str(path)], ENGINE.policies)) == []
    assert run.summary.bad == 0 and run.summary.sql + run.summary.python == len(batch)
    # SQL hands back a pending_hours written as a JSON fraction (80.5), and a case that names its
    # own instant or carries a status history (SLA clocks from history: the Python engine's)
    handed_back = sum(1 for c in batch
                      if (numbers and "." in str(c["request"].get("withdrawal", {}).get("pending_hours", "")))
                      or c.get("history") or c.get("as_of") is not None or c.get("status") == "awaiting_player")
    assert run.summary.python == handed_back


BAD_LINES = [
    '{"case_id": "B-1"',  # not JSON
    None,  # a good case
    '{"case_id": "B-3", "jurisdiction": "NL"}',  # fields missing
    "VIP_FLOAT",  # vip_level 2.0: the model wants an integer
    "THREE_DECIMALS",  # 25.001 EUR
    "UNKNOWN_TIER",  # handled_by not a tier of the policy
    "NO_POLICY",  # jurisdiction without a policy
    "",  # a blank line: skipped, but counted
    None,
]


def test_bad_rows_are_reported_with_their_line_and_never_drop_the_good_ones(tmp_path):
    good = load_case(ROOT / "examples/cases/nl-bonus-loss-chasing.yaml").model_dump(mode="json")
    import json

    text = json.dumps(good)
    lines = []
    for item in BAD_LINES:
        if item is None:
            lines.append(text)
        elif item == "VIP_FLOAT":
            lines.append(text.replace('"vip_level": 3', '"vip_level": 3.0'))
        elif item == "THREE_DECIMALS":
            lines.append(text.replace('"amount": "250.00"', '"amount": 25.001'))
        elif item == "UNKNOWN_TIER":
            lines.append(text.replace('"handled_by": "agent"', '"handled_by": "nobody"'))
        elif item == "NO_POLICY":
            lines.append(text.replace('"jurisdiction": "NL"', '"jurisdiction": "ZZ"'))
        else:
            lines.append(item)
    assert len(set(lines)) == len(lines) - 1  # every replacement took effect (the good case is there twice)
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n")
    got, run = bulk_outcomes([str(path)], ENGINE.policies)
    want = python_outcomes([str(path)], ENGINE.policies)
    assert same(got, want) == []
    assert [o.line for o in got if not o.ok] == [1, 3, 4, 5, 6, 7]
    assert [o.line for o in got if o.ok] == [2, 9]
    assert run.summary.bad == 6 and run.summary.sql == 2


def test_compile_sql_for_each_offered_dialect():
    runner = CliRunner()
    for dialect in ("duckdb", "postgres"):
        result = runner.invoke(app, ["compile", "--policy", "nl", "--target", "sql", "--dialect", dialect,
                                     "--policies", str(TIMELESS / "policies"), "--rules", str(TIMELESS / "rules")])
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith(f"-- policy nl 2026.11 ({dialect})\nSELECT")
        assert '"bonus.above-agent-cap"' not in result.stdout and "'bonus.above-agent-cap'" in result.stdout
    assert "= ANY(" in result.stdout  # postgres spelling of "is on duty"
    result = runner.invoke(app, ["compile", "--target", "sql", "--dialect", "sqlite"])
    assert result.exit_code == 2


def test_decide_documents_hook_for_differential_harnesses():
    from escalator.bulk.run import decide_documents

    cases_ = [load_case(p).model_dump() for p in EXAMPLES]  # Decimals and datetimes, as a harness holds them
    outcomes, summary = decide_documents(ENGINE.policies, cases_, backend="compiled", at=AT)
    assert [o.text for o in outcomes] == [ENGINE.evaluate(c, AT).to_json() for c in cases_]
    assert summary.sql == len(cases_)
