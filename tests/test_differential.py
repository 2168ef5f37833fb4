"""Every backend agrees with the reference semantics on GENERATED policies, byte for byte.

Policies nobody here wrote (escalator.authoring.policygen) and cases for each, through
every decider (escalator.authoring.differential) against the reference
(escalator.runtime.semantics). CI profile: 300 policies x 30 cases with a fixed seed.
Long profile: `ESCALATOR_DIFF_POLICIES=20000 pytest tests/test_differential.py` or
`pytest -m slow tests/test_differential.py` (20,000 policies, a fresh seed each run); `ESCALATOR_DIFF_LOG=FILE` writes a line per policy checked.

Counterexamples found on the way are regular tests below, their policies written out in
tests/fixtures/differential/*/ (policies/, rules/, cases.yaml).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from escalator.authoring.differential import Decider, Generated, disagreements, engine_decider
from escalator.authoring.policygen import PolicyFiles, cases_for, policy_files
from escalator.language.yamlio import load_file
from escalator.runtime.backends import durable_available

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "differential"
CASES = 30
PROGRESS = os.environ.get("ESCALATOR_DIFF_LOG")  # a file to count checked policies in (long runs)
DECIDERS: dict[str, Decider] = {"compiled": engine_decider("compiled")}
if durable_available():
    DECIDERS["durable"] = engine_decider("durable")
# the SQL path (DuckDB): how many cases it decided in SQL and how many it handed to the Python engine
SQL_COUNTS = {"sql": 0, "python": 0, "bad": 0}


def sql_decider(generated: Generated) -> Callable[[Sequence[dict[str, Any]]], list[str]]:
    """The bulk SQL path as a decider: one DuckDB query per policy set, at the reference's instant."""
    from escalator.authoring.differential import AT
    from escalator.bulk.run import decide_documents

    def decide(cases: Sequence[dict[str, Any]]) -> list[str]:
        outcomes, summary = decide_documents(generated.compiled, list(cases), backend="compiled", at=AT)
        SQL_COUNTS["sql"] += summary.sql
        SQL_COUNTS["python"] += summary.python
        SQL_COUNTS["bad"] += summary.bad
        return [o.text if o.ok and o.text is not None else f"error: {o.problems}" for o in outcomes]

    return decide



def _check(files: PolicyFiles, data: st.DataObject, deciders: dict[str, Decider] = DECIDERS,
           attributes: bool = True) -> None:
    with tempfile.TemporaryDirectory() as folder:
        generated = Generated.write(files, Path(folder))
        cases = data.draw(st.lists(cases_for(generated.compiled["leaf"], attributes), min_size=CASES, max_size=CASES))
        found = disagreements(generated, cases, deciders)
        if PROGRESS:  # long runs: one line per policy checked, so a run stopped early still counts
            with open(PROGRESS, "a", encoding="utf-8") as log:
                log.write(f"{len(generated.compiled['leaf'].rules)} rules, {len(cases)} cases, "
                          f"{len(found)} disagreements\n")
        assert not found, found[0].report(files)


def _profile(policies: int) -> settings:
    return settings(max_examples=policies, deadline=None, database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@seed(20261202)
@_profile(int(os.environ.get("ESCALATOR_DIFF_POLICIES", "300")))
@given(files=policy_files(), data=st.data())
def test_every_backend_agrees_with_the_reference_on_generated_policies(files, data):
    _check(files, data)


SQL_POLICIES = int(os.environ.get("ESCALATOR_DIFF_SQL_POLICIES", "100"))


def test_the_sql_path_agrees_with_the_reference_on_generated_policies():
    """The bulk SQL path (DuckDB, `escalator.bulk.run.decide_documents`) against the reference, on
    generated policies without operator attributes (the SQL path has no column for them: a policy
    that reads them is the Python engine's, which the test above covers). CI profile: 100 policies x
    30 cases, fixed seed; most cases must be decided in SQL, or the test would prove nothing."""
    before = dict(SQL_COUNTS)

    @seed(20261203)
    @_profile(SQL_POLICIES)
    @given(files=policy_files(attributes=False), data=st.data())
    def run(files: PolicyFiles, data: st.DataObject) -> None:
        _check(files, data, {"duckdb": sql_decider}, attributes=False)

    run()
    sql, python = SQL_COUNTS["sql"] - before["sql"], SQL_COUNTS["python"] - before["python"]
    assert sql + python >= SQL_POLICIES * CASES
    print(f"SQL path: {sql} cases decided in SQL, {python} by the Python engine")
    assert sql >= 0.6 * (sql + python), SQL_COUNTS  # the rest: cases in a pausing status (the Python engine's)


@pytest.mark.slow
def test_long_profile(request):
    """20,000 policies (a fresh seed each run): `pytest -m slow` or ESCALATOR_DIFF_LONG=1."""
    if "slow" not in (request.config.getoption("markexpr") or "") and not os.environ.get("ESCALATOR_DIFF_LONG"):
        pytest.skip("long profile: pytest -m slow tests/test_differential.py (or ESCALATOR_DIFF_LONG=1)")
    _profile(20000)(given(files=policy_files(), data=st.data())(_check))()


# -- counterexamples found while building this (shrunk by hypothesis, kept as fixtures) ------


def _fixtures() -> list[Path]:
    return sorted(p for p in FIXTURES.iterdir() if p.is_dir()) if FIXTURES.exists() else []


@pytest.mark.parametrize("folder", _fixtures(), ids=lambda p: p.name)
def test_counterexample_stays_fixed(folder):
    generated = Generated(PolicyFiles(()), folder / "policies", folder / "rules", _compile(folder))
    cases = load_file(folder / "cases.yaml").data
    assert isinstance(cases, list) and cases
    found = disagreements(generated, cases, DECIDERS)
    assert not found, f"{found[0].decider}: {found[0].case}\nreference: {found[0].expected}\nactual: {found[0].actual}"


def _compile(folder: Path):
    from escalator.language.policyset import compile_folders

    return compile_folders(folder / "policies", folder / "rules")
