"""The cost of time support (spec section 8, issue 14), measured in one process, rounds interleaved.

    PYTHONPATH=$PWD/src python benchmarks/time_cost.py [--cases 5000] [--rounds 3]

Decides the seeded NL workload (workload.py) with the compiled backend under three engines:

- `timed`: the bundled NL, UK and MT policies (office calendars, working calendar, the time
  rules of the sla/complaint/withdrawal packs, SLA pauses);
- `plain`: the same policies with every time feature stripped (`strip_time`: no calendars, no
  rule that reads a `time.*` or `history.*` field, no SLA pauses), decided by the same engine;
- `pretime`: the `plain` policies with the engine's time layer (`TimeFacts`) replaced by
  `PreTime`, which does what the engine did before time support: deadlines are `opened_at` plus
  the period, the transfer comes from the roster alone, no contact time, no time fields.

and prints the median microseconds per case and two ratios:

- (a) plain / pretime: what time support costs a policy that uses none of it (the target:
  nearly nothing). Both sides still carry the evaluation instant and the decision's
  `evaluated_at`/`contact_at`/`next_review_at` fields (the engine and the Decision model have
  them whatever the policy), so this is the cost of the clock work a plain policy goes through.
- (b) timed / plain: the bundled policies with calendars and time rules against themselves
  without (target <= 1.25). Measured with the workload's on-duty roster (the calendars then only
  give `contact_at`) and without it (the calendars decide the transfer and next_review_at).

Before timing, `plain` and `pretime` must give identical decisions on every case (else exit 1).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.workload import generate  # noqa: E402
from escalator import Engine  # noqa: E402
from escalator.language import fields as F  # noqa: E402
from escalator.language.ir import Compare, CompiledPolicy, Field, Tier, walk  # noqa: E402
from escalator.language.models.case import Case  # noqa: E402
from escalator.language.policyset import compile_folders  # noqa: E402
from escalator.runtime.clock import Due, TimeFacts  # noqa: E402

TIME_PATHS = frozenset(F.TIME_FIELDS)
CHUNK = 50
"""Cases timed per variant before the next variant's turn."""


def reads_time(condition: Any) -> bool:
    for node in walk(condition):
        if isinstance(node, Compare) and (node.left.path in TIME_PATHS or
                                          (isinstance(node.right, Field) and node.right.path in TIME_PATHS)):
            return True
    return False


def strip_time(policy: CompiledPolicy) -> CompiledPolicy:
    """The policy as it would be without time support: no calendars, no time rules, no SLA pauses."""
    kept = [rule for rule in policy.rules if not reads_time(rule.condition)]
    for _, sla in policy.sla:
        for period in (sla.acknowledge, sla.resolve):
            assert period is None or not period.working, "a working-time SLA has no plain equivalent"
    return replace(
        policy,
        calendars=(), working_calendar=None,
        tiers=tuple(replace(tier, calendar=None) for tier in policy.tiers),
        rules=tuple(replace(rule, index=i) for i, rule in enumerate(kept)),
        sla=tuple((name, replace(sla, pause_in=())) for name, sla in policy.sla),
    )


class PreTime(TimeFacts):
    """The engine's time layer as it was before time support (for a policy that has no time feature)."""

    def __init__(self, policy: CompiledPolicy):
        super().__init__(policy)
        assert not self.used and not self.timed and not self.timed_rules

    def due(self, case: Case, situation: str) -> Due:
        sla = self.sla[situation]
        return Due(
            case.opened_at + timedelta(seconds=sla.acknowledge.seconds) if sla.acknowledge is not None else None,
            case.opened_at + timedelta(seconds=sla.resolve.seconds) if sla.resolve is not None else None,
            False,
        )

    def on_duty(self, case: Case, tier: Tier, at: datetime) -> bool | None:
        return None if case.on_duty is None else tier.id in case.on_duty

    def contact_at(self, tier: Tier, at: datetime) -> datetime | None:
        return None


def engines() -> dict[str, Engine]:
    bundled = compile_folders(None)
    plain = {pid: strip_time(policy) for pid, policy in bundled.items()}
    pretime = Engine(plain, backend="compiled")
    for facts in pretime._facts.values():  # the benchmark's one reach inside: swap the time layer
        facts.time = PreTime(facts.policy)
    return {"pretime": pretime, "plain": Engine(plain, backend="compiled"),
            "timed": Engine(bundled, backend="compiled")}


def timings(engine: Engine, cases: list[dict[str, Any]]) -> list[int]:
    clock = time.perf_counter_ns
    evaluate = engine.evaluate
    out = []
    for case in cases:
        start = clock()
        evaluate(case)
        out.append(clock() - start)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    by_name = engines()
    cases = generate(args.cases)
    no_roster = [{k: v for k, v in case.items() if k != "on_duty"} for case in cases]
    for work in (cases, no_roster):
        for case in work:
            if by_name["plain"].evaluate(case) != by_name["pretime"].evaluate(case):
                print(f"plain and pretime disagree on case {case['case_id']}: refusing to time")
                return 1
    runs = [(f"{name}{suffix}", engine, work) for suffix, work in (("", cases), ("-noroster", no_roster))
            for name, engine in by_name.items()]
    for _, engine, work in runs:
        timings(engine, work[:500])
    samples: dict[str, list[int]] = {name: [] for name, _, _ in runs}
    for _ in range(args.rounds):
        gc.collect()
        for start in range(0, args.cases, CHUNK):  # interleaved finely: a burst of load hits every variant
            for name, engine, work in runs:
                samples[name].extend(timings(engine, work[start:start + CHUNK]))
    median = {name: statistics.median(values) / 1000 for name, values in samples.items()}
    print(f"{args.cases} NL cases x {args.rounds} rounds, compiled backend, median microseconds per case")
    for name, value in median.items():
        print(f"  {name:18s} {value:8.2f}")
    for suffix, label in (("", "with the roster"), ("-noroster", "without the roster")):
        print(f"(a) plain/pretime {label}: {median['plain' + suffix] / median['pretime' + suffix]:.3f}")
        print(f"(b) timed/plain   {label}: {median['timed' + suffix] / median['plain' + suffix]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
