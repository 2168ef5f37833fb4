"""Spec section 8 on every backend: the instant, calendars, on duty, contact_at, clocks, pauses,
time fields in conditions and next_review_at. Every expected instant is computed by hand (comments).

The fixture policy (tests/fixtures/timed): office = Europe/Amsterdam, mon-fri 09:00-17:30,
sat 10:00-14:00, holidays 25/26 Dec and 1 Jan; escalated acknowledge 4wh; complaint
acknowledge 3wd, resolve 8w, paused in awaiting_player.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from escalator import Engine
from escalator.errors import CaseError, PolicyError
from tests.conftest import make_case, replace_in

TIMED = Path(__file__).resolve().parent / "fixtures" / "timed"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


@pytest.fixture
def engine(backend: str):
    engine = Engine.load(TIMED / "policies", TIMED / "rules", backend=backend)
    yield engine
    engine.close()


def timed_case(**changes: Any) -> dict[str, Any]:
    return make_case(**{"opened_at": "2026-11-20T14:03:00Z", **changes})


def stamp(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


# -- the instant -------------------------------------------------------------------------------

def test_the_instant_is_at_else_as_of_else_now(engine):
    case = timed_case(as_of="2026-11-23T10:00:00Z")
    assert stamp(engine.evaluate(case).evaluated_at) == "2026-11-23T10:00:00Z"
    assert stamp(engine.evaluate(case, at=utc("2026-11-24T10:00:00.900Z")).evaluated_at) == "2026-11-24T10:00:00Z"
    before = datetime.now(timezone.utc).replace(microsecond=0)
    now = engine.evaluate(timed_case()).evaluated_at
    assert now is not None and before <= now <= datetime.now(timezone.utc)


def test_same_case_and_instant_give_the_same_bytes(engine):
    case = timed_case(**{"request.kind": "manager_request"})
    at = utc("2026-11-21T15:00:00Z")
    assert engine.evaluate(case, at).to_json() == engine.evaluate(case, at).to_json()


def test_a_naive_instant_is_a_case_error(engine):
    with pytest.raises(CaseError, match="time zone"):
        engine.evaluate(timed_case(), at=datetime(2026, 11, 23, 10, 0))


# -- on duty and contact_at ------------------------------------------------------------------

def test_a_closed_calendar_means_callback_at_the_next_opening(engine):
    # Saturday 21 Nov, 16:00 CET: the office closed at 14:00; it opens Monday 09:00 CET = 08:00Z.
    decision = engine.evaluate(timed_case(**{"request.kind": "manager_request"}), utc("2026-11-21T15:00:00Z"))
    assert (decision.handler, decision.transfer) == ("supervisor", "callback")
    assert stamp(decision.contact_at) == "2026-11-23T08:00:00Z"
    # before the office opens, the status is 2 days old (opened 20 Nov 14:03Z): t.stale fires then
    assert stamp(decision.next_review_at) == "2026-11-22T14:03:00Z"
    sunday = engine.evaluate(timed_case(**{"request.kind": "manager_request"}), utc("2026-11-22T14:03:00Z"))
    assert sunday.flags == ("stale",) and stamp(sunday.next_review_at) == "2026-11-23T08:00:00Z"  # opens
    monday = engine.evaluate(timed_case(**{"request.kind": "manager_request"}), utc("2026-11-23T08:00:00Z"))
    assert (monday.transfer, monday.contact_at) == ("live", None)
    assert stamp(monday.next_review_at) == "2026-11-23T14:03:01Z"  # case_age > 72h, before the 16:30Z close
    later = engine.evaluate(timed_case(**{"request.kind": "manager_request"}), utc("2026-11-23T14:03:01Z"))
    assert stamp(later.next_review_at) == "2026-11-23T16:30:00Z"  # closes 17:30 CET


def test_the_roster_wins_over_the_calendar(engine):
    case = timed_case(**{"request.kind": "manager_request", "on_duty": ["agent", "supervisor"]})
    decision = engine.evaluate(case, utc("2026-11-21T15:00:00Z"))
    assert (decision.transfer, decision.contact_at) == ("live", None)
    off = engine.evaluate(timed_case(**{"request.kind": "manager_request", "on_duty": ["agent"]}),
                          utc("2026-11-23T10:00:00Z"))
    # on the roster's word the supervisor is away although the office is open: callback when it next opens
    assert off.transfer == "callback" and stamp(off.contact_at) == "2026-11-24T08:00:00Z"


def test_a_tier_without_calendar_has_unknown_availability(tmp_path, backend):
    import shutil

    shutil.copytree(TIMED, tmp_path / "t")
    replace_in(tmp_path / "t" / "rules" / "t.yaml", "then: {require: supervisor}\n", "then: {require: night}\n")
    with Engine.load(tmp_path / "t" / "policies", tmp_path / "t" / "rules", backend=backend) as engine:
        decision = engine.evaluate(timed_case(**{"request.kind": "manager_request"}), utc("2026-11-21T15:00:00Z"))
    assert (decision.handler, decision.transfer, decision.contact_at) == ("night", "live", None)


def test_calendars_are_inherited_and_overridden_through_extends(engine):
    # 16:10Z on Monday 23 Nov: Amsterdam (XX) is open until 16:30Z; London (YY, 08:00-16:00 GMT) closed.
    at = utc("2026-11-23T16:10:00Z")
    xx = engine.evaluate(timed_case(**{"request.kind": "manager_request"}), at)
    yy = engine.evaluate(timed_case(jurisdiction="YY", **{"request.kind": "manager_request"}), at)
    assert xx.transfer == "live"
    assert yy.transfer == "callback" and stamp(yy.contact_at) == "2026-11-24T08:00:00Z"


# -- clocks and deadlines ----------------------------------------------------------------------

def escalated_on_dst_weekend(**changes: Any) -> dict[str, Any]:
    return timed_case(opened_at="2026-03-28T10:00:00Z", status="escalated",
                      history=[{"at": "2026-03-28T10:00:00Z", "status": "open"},
                               {"at": "2026-03-28T12:00:00Z", "status": "escalated"}], **changes)


def test_working_hours_clock_across_the_clock_change(engine):
    # Escalated Saturday 28 March 13:00 CET: 1 working hour left (to 14:00 CET); Sunday 29 (clocks go
    # forward) closed; Monday 30 March 09:00 CEST = 07:00Z plus 3 hours: acknowledge by 10:00Z.
    decision = engine.evaluate(escalated_on_dst_weekend(), utc("2026-03-28T12:30:00Z"))
    assert stamp(decision.deadlines.acknowledge_by) == "2026-03-30T10:00:00Z"
    assert decision.handler == "agent" and "ack_overdue" not in decision.flags
    # the next instant time changes anything: the acknowledge deadline (the office calendar
    # does not matter: the agent's calendar never closes)
    assert stamp(decision.next_review_at) == "2026-03-30T10:00:00Z"
    just_before = engine.evaluate(escalated_on_dst_weekend(), utc("2026-03-30T09:59:59Z"))
    assert just_before.handler == "agent"
    overdue = engine.evaluate(escalated_on_dst_weekend(), utc("2026-03-30T10:00:00Z"))
    assert overdue.handler == "supervisor" and "ack_overdue" in overdue.flags  # overdue from its own instant on


def test_working_days_clock_across_christmas(engine):
    # A complaint opened Wednesday 23 Dec 2026 10:00Z. 3wd: Thu 24 (1), 25 and 26 holidays, Sun closed,
    # Mon 28 (2), Tue 29 (3), closing 17:30 CET = 16:30Z. Resolve 8w elapsed: 17 Feb 2027 10:00Z.
    case = timed_case(opened_at="2026-12-23T10:00:00Z", **{"request.kind": "complaint"})
    decision = engine.evaluate(case, utc("2026-12-24T18:00:00Z"))
    assert decision.locked and decision.handler == "complaints"
    assert stamp(decision.deadlines.acknowledge_by) == "2026-12-29T16:30:00Z"
    assert stamp(decision.deadlines.resolve_by) == "2027-02-17T10:00:00Z"
    # Thursday 24 Dec 19:00 CET: closed; the complaints manager is back Monday 28 Dec 09:00 CET.
    assert decision.transfer == "email" and stamp(decision.contact_at) == "2026-12-28T08:00:00Z"


def paused_complaint(last: str = "complaint", **changes: Any) -> dict[str, Any]:
    history = [{"at": "2026-11-02T09:00:00Z", "status": "complaint"},
               {"at": "2026-11-04T09:00:00Z", "status": "awaiting_player"},
               {"at": "2026-11-11T09:00:00Z", "status": "complaint"}]
    if last != "complaint":
        history.append({"at": "2026-11-20T09:00:00Z", "status": last})
    return timed_case(opened_at="2026-11-02T09:00:00Z", status=last, history=history, on_duty=["complaints"],
                      **changes)


def test_time_in_a_pausing_status_does_not_count(engine):
    decision = engine.evaluate(paused_complaint(), utc("2026-11-30T09:00:00Z"))
    # the complaint clock starts at the first complaint entry (2 Nov 09:00Z); 4-11 Nov is paused.
    # resolve: 8 weeks + 7 paused days = 4 Jan 2027 09:00Z. acknowledge 3wd: Tue 3 Nov (1); 4-10 Nov
    # are paused at their close (Sat 7 and Sun 8 too); Wed 11 (2), Thu 12 (3): 17:30 CET = 16:30Z.
    assert stamp(decision.deadlines.resolve_by) == "2027-01-04T09:00:00Z"
    assert stamp(decision.deadlines.acknowledge_by) == "2026-11-12T16:30:00Z"
    assert decision.deadlines.paused is False and decision.to_dict()["deadlines"]["paused"] is False
    # sla_used: 28 days elapsed - 7 paused = 21 of 56 days = 0.375 -> under half. It reaches 0.5 after
    # 28 counted days: 2 Nov + 28 days + 7 paused days = 7 Dec 09:00Z.
    assert "half_used" not in decision.flags
    assert stamp(decision.next_review_at) == "2026-12-07T09:00:00Z"
    assert "half_used" in engine.evaluate(paused_complaint(), utc("2026-12-07T09:00:00Z")).flags
    assert "half_used" not in engine.evaluate(paused_complaint(), utc("2026-12-07T08:59:59Z")).flags


def test_a_paused_clock_has_no_deadlines_and_the_case_stays_locked(engine):
    decision = engine.evaluate(paused_complaint("awaiting_player"), utc("2026-12-30T09:00:00Z"))
    assert decision.locked and decision.handler == "complaints"
    assert decision.to_dict()["deadlines"] == {"acknowledge_by": None, "resolve_by": None, "paused": True}
    assert "adr_eligible" not in decision.flags


def test_resolve_overdue_from_its_own_instant_on(engine):
    assert "adr_eligible" not in engine.evaluate(paused_complaint(), utc("2027-01-04T08:59:59Z")).flags
    assert "adr_eligible" in engine.evaluate(paused_complaint(), utc("2027-01-04T09:00:00Z")).flags


def test_a_situation_the_decision_enters_starts_at_the_last_known_change(engine):
    # No complaint in the history: the complaint clock starts at the last entry (21 Nov 10:00Z),
    # not at the instant of evaluation, so the deadline does not drift while the case waits.
    case = timed_case(**{"request.kind": "complaint"}, history=[
        {"at": "2026-11-20T14:03:00Z", "status": "open"}, {"at": "2026-11-21T10:00:00Z", "status": "open"}])
    for at in ("2026-11-22T10:00:00Z", "2026-11-25T10:00:00Z"):
        assert stamp(engine.evaluate(case, utc(at)).deadlines.resolve_by) == "2027-01-16T10:00:00Z"


# -- time fields in conditions -----------------------------------------------------------------

def test_case_age_and_status_age_compare_with_durations(engine):
    case = timed_case(history=[{"at": "2026-11-21T09:00:00Z", "status": "open"}])
    # opened 20 Nov 14:03Z: case_age > 72h from 23 Nov 14:03:01Z on; status_age >= 2d from 23 Nov 09:00Z
    assert engine.evaluate(case, utc("2026-11-23T08:59:59Z")).flags == ()
    assert engine.evaluate(case, utc("2026-11-23T09:00:00Z")).flags == ("stale",)
    assert engine.evaluate(case, utc("2026-11-23T14:03:00Z")).flags == ("stale",)
    assert engine.evaluate(case, utc("2026-11-23T14:03:01Z")).flags == ("old", "stale")
    first = engine.evaluate(case, utc("2026-11-22T12:00:00Z"))
    assert stamp(first.next_review_at) == "2026-11-23T09:00:00Z"


def test_time_working_reads_the_working_calendar(engine):
    case = timed_case(**{"request.kind": "technical"})
    assert engine.evaluate(case, utc("2026-11-23T10:00:00Z")).flags == ("stale",)
    night = engine.evaluate(case, utc("2026-11-23T20:00:00Z"))
    assert night.flags == ("after_hours", "old", "stale")
    assert stamp(night.next_review_at) == "2026-11-24T08:00:00Z"  # Tuesday 09:00 CET


def test_explain_shows_the_time_values(engine):
    explanation = engine.explain(timed_case(), utc("2026-11-23T14:03:01Z"))
    [old] = [r for r in explanation.rules if r.id == "t.old-case"]
    [comparison] = old.comparisons
    assert old.fired and str(comparison.value) == "259201"  # 72h and 1 s, in seconds


@pytest.mark.parametrize("when,message", [
    ("time.case_age > 3wd", "elapsed durations"),
    ("time.case_age > 3 fortnights", "unexpected"),
    ("time.case_age > player.vip_level", "constants only"),
    ("request.amount > 72h", "compares with time.case_age"),
    ("time.working == 3", "cannot compare"),
])
def test_bad_time_conditions_are_policy_errors(tmp_path, when, message):
    import shutil

    shutil.copytree(TIMED, tmp_path / "t")
    replace_in(tmp_path / "t" / "rules" / "t.yaml", "when: time.case_age > params.old", f"when: {when}")
    with pytest.raises(PolicyError, match=message) as info:
        Engine.load(tmp_path / "t" / "policies", tmp_path / "t" / "rules", backend="compiled")
    assert "t.yaml:" in str(info.value)


@pytest.mark.parametrize("old,new,message", [
    ("timezone: Europe/Amsterdam", "timezone: Europe/Amsterdan", "unknown timezone"),
    ('sat: "10:00-14:00"', 'fri: "17:00-18:00"', "overlapping hours on fri"),
    ("acknowledge: 4wh", "acknowledge: 4 fortnights", "not a duration"),
    ("fallback: callback, calendar: office", "fallback: callback, calendar: offices", "unknown calendar 'offices'"),
    ("working_calendar: office", "working_calendar: sometimes", "working_calendar names unknown"),
])
def test_bad_time_policies_are_located_policy_errors(tmp_path, old, new, message):
    import shutil

    shutil.copytree(TIMED, tmp_path / "t")
    replace_in(tmp_path / "t" / "policies" / "base.yaml", old, new)
    with pytest.raises(PolicyError, match=message) as info:
        Engine.load(tmp_path / "t" / "policies", tmp_path / "t" / "rules", backend="compiled")
    assert "base.yaml:" in str(info.value)


def test_working_time_without_a_working_calendar_is_an_error(tmp_path):
    import shutil

    shutil.copytree(TIMED, tmp_path / "t")
    replace_in(tmp_path / "t" / "policies" / "base.yaml", "working_calendar: office\n", "")
    with pytest.raises(PolicyError, match="names no working_calendar"):
        Engine.load(tmp_path / "t" / "policies", tmp_path / "t" / "rules", backend="compiled")


@pytest.mark.parametrize("changes,path,message", [
    ({"opened_at": "2026-11-20T14:03:00"}, "opened_at", "time zone"),
    ({"history": [{"at": "2026-11-21T10:00:00Z", "status": "escalated"},
                  {"at": "2026-11-21T09:00:00Z", "status": "open"}]}, "", "history[1]"),
    ({"history": [{"at": "2026-11-19T10:00:00Z", "status": "open"}]}, "", "before opened_at"),
    ({"history": [{"at": "2026-11-21T10:00:00Z", "status": "reopened"}]}, "history[0].status", "reopened"),
    ({"status": "escalated", "history": [{"at": "2026-11-21T10:00:00Z", "status": "open"}]}, "", "last history"),
    ({"as_of": "tomorrow"}, "as_of", ""),
])
def test_bad_case_history_is_a_case_error_with_its_path(engine, changes, path, message):
    with pytest.raises(CaseError) as info:
        engine.evaluate(timed_case(**changes))
    text = str(info.value)
    assert message in text and path in text
