"""SLA clocks, on-duty hours and the `time.*` fields: a case in time (spec section 8).

`TimeFacts` is built once per policy (its calendars, SLA windows and which time fields its
rules read). Per evaluation, everything is a function of (case, instant): which clock applies
and where it started (from `history`), its pauses, its deadlines, whether a tier is on duty,
and the values of the time fields the rules compare. Policies whose rules read no time field
pay nothing for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from escalator.language import fields as F
from escalator.language.ir import CompiledPolicy, comparisons, Const, Sla, Tier
from escalator.language.models.case import Case
from escalator.language.calendars import Calendar, add_counted, add_working_days, counted_seconds
from escalator.language.time import Duration

Pauses = tuple[tuple[datetime, "datetime | None"], ...]
SITUATIONS = ("complaint", "escalated", "default")
CHANGING = frozenset(F.TIME_FIELDS) - {"history.statuses"}
"""The derived fields whose value moves with the instant."""
_HUNDREDTH = Decimal("0.01")


@dataclass(frozen=True)
class Clock:
    """One SLA clock of a case: where it started, the periods it stood still, and whether it stands now."""

    start: datetime
    pauses: Pauses
    paused: bool

    def paused_at(self, moment: datetime) -> bool:
        return any(begin <= moment and (end is None or moment < end) for begin, end in self.pauses)


@dataclass(frozen=True)
class Due:
    acknowledge_by: datetime | None
    resolve_by: datetime | None
    paused: bool


_NO_DUE = Due(None, None, False)
_PAUSED = Due(None, None, True)


def _fixed_periods(sla: Sla) -> tuple[timedelta | None, timedelta | None] | None:
    ack, resolve = sla.acknowledge, sla.resolve
    if (ack is not None and ack.working) or (resolve is not None and resolve.working):
        return None
    return (None if ack is None else timedelta(seconds=ack.seconds),
            None if resolve is None else timedelta(seconds=resolve.seconds))


class TimeFacts:
    """A policy's calendars and clocks, looked up once (policies are immutable)."""

    def __init__(self, policy: CompiledPolicy):
        self.calendars = {spec.name: Calendar(spec) for spec in policy.calendars}
        self.working = self.calendars.get(policy.working_calendar) if policy.working_calendar else None
        self.tier_calendar = {t.id: self.calendars[t.calendar] for t in policy.tiers if t.calendar}
        self.sla = {situation: policy.sla_for(situation) for situation in SITUATIONS}
        leaves = [leaf for rule in policy.rules for leaf in comparisons(rule.condition)]
        self.used = frozenset(leaf.left.path for leaf in leaves if leaf.left.path in F.TIME_FIELDS)
        thresholds: set[tuple[str, Decimal]] = set()
        for leaf in leaves:
            if leaf.left.path in ("time.case_age", "time.status_age", "time.sla_used") and isinstance(leaf.right, Const):
                values = leaf.right.value if isinstance(leaf.right.value, tuple) else (leaf.right.value,)
                thresholds.update((leaf.left.path, v) for v in values if isinstance(v, Decimal))
        self.thresholds = tuple(sorted(thresholds))
        from escalator.runtime.backends.compiled import build

        self.timed_rules = tuple((rule.index, build(rule.condition)) for rule in policy.rules
                                 if any(leaf.left.path in CHANGING for leaf in comparisons(rule.condition)))
        """The rules whose outcome time alone can change (compiled predicates): all next_review_at re-evaluates."""
        self._last_due: dict[str, tuple[Case, Due]] = {}
        self._fixed = {situation: _fixed_periods(sla) for situation, sla in self.sla.items()}
        """Per situation: its SLA periods as timedeltas when both are elapsed time (no calendar to walk)."""
        self._reads_deadlines = bool(self.used & {"time.acknowledge_overdue", "time.resolve_overdue", "time.sla_used"})
        self.timed = bool(self.used) or bool(self.tier_calendar)
        """False: no decision of this policy ever changes with time alone (next_review_at is null)."""

    # -- clocks -----------------------------------------------------------------------------------
    def start(self, case: Case, situation: str) -> datetime:
        """When the situation's clock started: when the case entered it (by history), else at its last change."""
        history = case.history
        if situation == "default" or not history:
            return case.opened_at
        entered = next((h.at for h in history if h.status == situation), None)
        return entered if entered is not None else history[-1].at

    def clock(self, case: Case, situation: str) -> Clock:
        """The situation's clock: its start, and the periods it stood still (by history)."""
        history = case.history
        start = self.start(case, situation)
        pause_in = self.sla[situation].pause_in
        if not pause_in:
            return Clock(start, (), False)
        pauses: list[tuple[datetime, datetime | None]] = []
        for i, entry in enumerate(history):
            if entry.status in pause_in:
                end = history[i + 1].at if i + 1 < len(history) else None
                if end is None or end > start:
                    pauses.append((max(entry.at, start), end))
        return Clock(start, tuple(pauses), case.status in pause_in)

    def deadline(self, duration: Duration, clock: Clock) -> datetime | None:
        if duration.unit == "wd":
            assert self.working is not None  # the compiler insists on a working calendar
            return add_working_days(clock.start, duration.amount, self.working,
                                    clock.paused_at if clock.pauses else None)
        if not clock.pauses and duration.unit != "wh":
            return clock.start + timedelta(seconds=duration.seconds)
        return add_counted(clock.start, duration.seconds, self.working if duration.unit == "wh" else None,
                           clock.pauses)

    def due(self, case: Case, situation: str) -> Due:
        last = self._last_due.get(situation)  # one evaluation asks up to three times for the same case
        if last is not None and last[0] is case:
            return last[1]
        due = self._due(case, situation)
        self._last_due[situation] = (case, due)
        return due

    def _due(self, case: Case, situation: str) -> Due:
        sla = self.sla[situation]
        if sla.acknowledge is None and sla.resolve is None:
            return _NO_DUE
        fixed = self._fixed[situation]
        if fixed is not None and (not sla.pause_in or not case.history):  # no pause to cut out
            if case.status in sla.pause_in:
                return _PAUSED
            start = self.start(case, situation)
            return Due(start + fixed[0] if fixed[0] is not None else None,
                       start + fixed[1] if fixed[1] is not None else None, False)
        clock = self.clock(case, situation)
        if clock.paused:
            return _PAUSED
        return Due(
            self.deadline(sla.acknowledge, clock) if sla.acknowledge is not None else None,
            self.deadline(sla.resolve, clock) if sla.resolve is not None else None,
            False,
        )

    def sla_used(self, case: Case, situation: str, at: datetime) -> Decimal | None:
        """Fraction of the resolve window used at `at` (counted time, pauses excluded), to the hundredth, down."""
        resolve = self.sla[situation].resolve
        if resolve is None:
            return None
        clock = self.clock(case, situation)
        calendar = self.working if resolve.working else None
        if resolve.unit == "wd":
            closed = tuple(p for p in clock.pauses if p[1] is not None)
            end = self.deadline(resolve, Clock(clock.start, closed, False))
            total = counted_seconds(clock.start, end, calendar, closed) if end is not None else 0
        else:
            total = resolve.seconds
        if total <= 0:
            return Decimal(1)
        used = counted_seconds(clock.start, at, calendar, clock.pauses)
        return (Decimal(used) / Decimal(total)).quantize(_HUNDREDTH, rounding=ROUND_FLOOR)

    # -- on duty --------------------------------------------------------------------------------
    def on_duty(self, case: Case, tier: Tier, at: datetime) -> bool | None:
        """The case's roster wins; else the tier's calendar at `at`; else unknown (None)."""
        if case.on_duty is not None:
            return tier.id in case.on_duty
        calendar = self.tier_calendar.get(tier.id)
        return None if calendar is None else calendar.is_open(at)

    def contact_at(self, tier: Tier, at: datetime) -> datetime | None:
        """When a callback or email to `tier` will be handled: the next opening of its calendar after `at`."""
        calendar = self.tier_calendar.get(tier.id)
        return None if calendar is None else calendar.next_opening(at)

    # -- time fields ----------------------------------------------------------------------------
    def history_view(self, case: Case) -> dict[str, Any]:
        """The derived fields that do not move with the instant (`history.statuses`), if the rules read them."""
        if "history.statuses" not in self.used:
            return {}
        if not case.history:
            return {"history.statuses": (case.status,)}
        return {"history.statuses": tuple(dict.fromkeys([h.status for h in case.history] + [case.status]))}

    def view(self, case: Case, at: datetime) -> dict[str, Any]:
        """The `time.*` values the policy's rules read, at `at` (see `history_view` for the rest)."""
        used = self.used
        out: dict[str, Any] = {}
        if "time.case_age" in used:
            out["time.case_age"] = Decimal(int((at - case.opened_at).total_seconds()))
        if "time.status_age" in used:
            last = case.history[-1].at if case.history else case.opened_at
            out["time.status_age"] = Decimal(int((at - last).total_seconds()))
        if "time.working" in used and self.working is not None:
            out["time.working"] = self.working.is_open(at)
        if self._reads_deadlines:
            situation = case_situation(case)
            due = self.due(case, situation)
            out["time.acknowledge_overdue"] = due.acknowledge_by is not None and at >= due.acknowledge_by
            out["time.resolve_overdue"] = due.resolve_by is not None and at >= due.resolve_by
            if "time.sla_used" in used:
                fraction = self.sla_used(case, situation, at)
                if fraction is not None:
                    out["time.sla_used"] = fraction
        return out

    def field_changes(self, case: Case, at: datetime, until: datetime) -> list[datetime]:
        """Instants in (at, until] at which some time field the rules read may change its comparison result."""
        found: set[datetime] = set()
        used = self.used
        last = case.history[-1].at if case.history else case.opened_at
        situation = case_situation(case)
        for path, threshold in self.thresholds:
            if path == "time.sla_used":
                found.update(self._sla_crossings(case, situation, at, until, threshold))
                continue
            base = case.opened_at if path == "time.case_age" else last
            # the value is whole seconds since `base`: `>= c` turns at base+c, `> c` a second later
            seconds = int(threshold.to_integral_value(rounding=ROUND_FLOOR))
            for moment in (base + timedelta(seconds=seconds), base + timedelta(seconds=seconds + 1)):
                if at < moment <= until:
                    found.add(moment)
        if used & {"time.acknowledge_overdue", "time.resolve_overdue"}:
            due = self.due(case, situation)
            found.update(d for d in (due.acknowledge_by, due.resolve_by) if d is not None and at < d <= until)
        if "time.working" in used and self.working is not None:
            change: datetime | None = at
            while change is not None and change <= until and len(found) <= 2000:
                change = self.working.next_change(change)
                if change is not None and change <= until:
                    found.add(change)
        return sorted(found)

    def _sla_crossings(self, case: Case, situation: str, at: datetime, until: datetime,
                       threshold: Decimal) -> list[datetime]:
        """First instants after `at` at which sla_used reaches and passes `threshold` (it never decreases)."""
        out = []
        for strict in (False, True):
            def reached(moment: datetime) -> bool:
                value = self.sla_used(case, situation, moment)
                return value is not None and (value > threshold if strict else value >= threshold)

            if reached(at) or not reached(until):
                continue
            low, high = at, until  # reached(low) is false, reached(high) true
            while (high - low).total_seconds() > 1:
                middle = low + timedelta(seconds=int((high - low).total_seconds()) // 2)
                if reached(middle):
                    high = middle
                else:
                    low = middle
            out.append(high)
        return out


def case_situation(case: Case) -> str:
    """The SLA situation a case is in before any rule fires: by its status and history."""
    if not case.history:
        status = case.status
        return status if status in ("complaint", "escalated") else "default"
    seen = {h.status for h in case.history}
    seen.add(case.status)
    if "complaint" in seen:
        return "complaint"
    if "escalated" in seen:
        return "escalated"
    return "default"
