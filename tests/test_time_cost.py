"""benchmarks/time_cost.py measures what it says: `plain` is the bundled policies without any time
feature, `pretime` decides them as the engine did before time support, and the two agree."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import time_cost, workload  # noqa: E402
from escalator.language import fields as F  # noqa: E402
from escalator.language.ir import Compare, walk  # noqa: E402
from escalator.language.policyset import compile_folders  # noqa: E402


def test_strip_time_leaves_no_time_feature_and_keeps_every_other_rule() -> None:
    for policy in compile_folders(None).values():
        plain = time_cost.strip_time(policy)
        assert policy.calendars and not plain.calendars and plain.working_calendar is None
        assert all(tier.calendar is None for tier in plain.tiers)
        assert all(not sla.pause_in for _, sla in plain.sla)
        read = {node.left.path for rule in plain.rules for node in walk(rule.condition) if isinstance(node, Compare)}
        assert not read & set(F.TIME_FIELDS)
        dropped = {rule.id for rule in policy.rules} - {rule.id for rule in plain.rules}
        assert "sla.acknowledge-overdue" in dropped and len(plain.rules) == len(policy.rules) - len(dropped)
        assert [rule.index for rule in plain.rules] == list(range(len(plain.rules)))


def test_plain_and_pretime_agree_and_the_script_reports() -> None:
    engines = time_cost.engines()
    for case in workload.generate(60):
        bare = {key: value for key, value in case.items() if key != "on_duty"}
        for work in (case, bare):
            assert engines["plain"].evaluate(work) == engines["pretime"].evaluate(work)
    assert time_cost.main(["--cases", "100", "--rounds", "1"]) == 0
