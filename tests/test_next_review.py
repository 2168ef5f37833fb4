"""next_review_at (spec section 8), as a property over generated cases and instants.

The decision is the same at every sampled instant of [at, next_review_at) (just after `at`,
somewhere inside, and one second before the end), and at next_review_at it differs (or
next_review_at is a calendar boundary). Bundled policies and the timed fixture policy; cases
get a generated history (in order, ending in the case's status) and a generated instant.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from escalator import Engine
from escalator.authoring.strategies import cases
from escalator.language.models.case import STATUSES
from escalator.runtime.clock import TimeFacts

TIMED = Path(__file__).resolve().parent / "fixtures" / "timed"
ENGINES = {
    "bundled": Engine.default(backend="compiled"),
    "timed": Engine.load(TIMED / "policies", TIMED / "rules", backend="compiled"),
}
EXAMPLES = int(os.environ.get("ESCALATOR_NEXT_REVIEW_EXAMPLES", "1000"))  # per engine: 2,000 cases in CI


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@st.composite
def timed_cases(draw: Any, engine: Engine) -> tuple[dict[str, Any], datetime]:
    case = draw(cases(engine=engine))
    opened = datetime.fromisoformat(case["opened_at"].replace("Z", "+00:00"))
    offsets = sorted(draw(st.lists(st.integers(0, 40 * 86400), max_size=4)))
    statuses = [draw(st.sampled_from(STATUSES)) for _ in offsets]
    if offsets:
        case["history"] = [{"at": iso(opened + timedelta(seconds=o)), "status": s} for o, s in zip(offsets, statuses)]
        case["status"] = statuses[-1]
    start = opened + timedelta(seconds=offsets[-1] if offsets else 0)
    at = start + timedelta(seconds=draw(st.integers(0, 70 * 86400)))
    return case, at


def same(decision: Any) -> dict[str, Any]:
    data = decision.to_dict()
    del data["evaluated_at"]
    return data


def boundary(engine: Engine, policy_id: str, moment: datetime) -> bool:
    """A calendar of the policy opens or closes at `moment`."""
    time = TimeFacts(engine.policies[policy_id])
    return any(c.is_open(moment) != c.is_open(moment - timedelta(seconds=1)) for c in time.calendars.values())


def check(engine: Engine, case: dict[str, Any], at: datetime, inside: float) -> None:
    first = engine.evaluate(case, at)
    review = first.next_review_at
    end = review if review is not None else at + timedelta(days=300)
    assert review is None or review > at
    span = int((end - at).total_seconds())
    for offset in sorted({1, int(span * inside), span - 1}):
        if 0 < offset < span:
            moment = at + timedelta(seconds=offset)
            assert same(engine.evaluate(case, moment)) == same(first), f"changed at {iso(moment)} (review {review})"
    if review is not None:
        changed = same(engine.evaluate(case, review)) != same(first)
        assert changed or boundary(engine, first.policy.id, review), f"nothing changes at {iso(review)}"


SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(drawn=timed_cases(ENGINES["bundled"]), inside=st.floats(0.0, 1.0))
def test_bundled_decisions_hold_until_next_review(drawn: tuple[dict[str, Any], datetime], inside: float) -> None:
    check(ENGINES["bundled"], *drawn, inside)


@SETTINGS
@given(drawn=timed_cases(ENGINES["timed"]), inside=st.floats(0.0, 1.0))
def test_timed_decisions_hold_until_next_review(drawn: tuple[dict[str, Any], datetime], inside: float) -> None:
    check(ENGINES["timed"], *drawn, inside)


def test_next_review_is_a_calendar_opening_for_a_callback(tmp_path: Path) -> None:
    """A hand-checked instance: Saturday 16:00 CET, supervisor callback; Monday 09:00 CET opens."""
    case = {"case_id": "C", "jurisdiction": "NL", "opened_at": "2026-11-21T15:00:00Z", "channel": "live_chat",
            "handled_by": "agent", "player": {"id": "P", "vip_level": 0}, "request": {"kind": "manager_request",
                                                                                         "asked_for": ["manager"]}}
    decision = ENGINES["bundled"].evaluate(case, datetime(2026, 11, 21, 15, 0, tzinfo=timezone.utc))
    assert (decision.handler, decision.transfer) == ("supervisor", "email")
    assert iso(decision.contact_at) == iso(decision.next_review_at) == "2026-11-23T08:00:00Z"
