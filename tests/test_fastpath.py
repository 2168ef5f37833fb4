"""The fast path of case validation (language/fastpath.py) against pydantic: every input it
accepts, pydantic accepts with an equal Case and flat view; everything else goes to pydantic."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from escalator.authoring.strategies import cases
from escalator.errors import CaseError
from escalator.language.cases import FAST_CASE, parse_case
from escalator.language.fastpath import make_fast_validator
from escalator.language.fields import flat_view
from escalator.language.models.case import Case

assert FAST_CASE is not None, "the case model has a fast path"

ODD_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-10**13, 10**13), st.integers(-3, 3),
    st.floats(allow_nan=True, allow_infinity=True), st.decimals(allow_nan=False, places=3, max_value=10**10, min_value=-10**10),
    st.text(max_size=5), st.sampled_from([
        "", " agent", "agent\n", "NL", "nl", "UK-ABCD", "complaint", "Complaint", "supervisor", "12.50", "1e3",
        "2026-11-20T09:15:00Z", "2026-11-20T09:15:00", "2026-11-20 09:15:00Z", "2026-11-20T09:15:00.5Z",
        "2026-11-20T09:15:00+24:00", "2026-11-20T09:15:00+05:30", "2026-11-20T09:15:00z", "1969-12-31T23:00:00Z",
        "2026-02-30T09:15:00Z", "2026-11-20T09:15:60Z", "0000-01-01T00:00:00Z", "3000-01-01T00:00:00Z",
        "２０２６-11-20T09:15:00Z", "2026-11-20T09:15:00-00:00", "x" * 201, "a" * 101,
    ]),
    st.lists(st.sampled_from(["manager", "finance", "loss_chasing", "bad value!", "", 3]), max_size=3),
    st.just({}), st.just({"unknown": 1}), st.just([]), st.just(()),
    st.just(datetime(2026, 11, 20, 9, 15, tzinfo=timezone.utc)), st.just(datetime(2026, 11, 20, 9, 15)),
)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            out += _paths(value, prefix + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            out += _paths(value, prefix + (index,))
    return out


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    """A valid case with a few values replaced, removed or added: valid or not, often near the edge."""
    case = copy.deepcopy(draw(cases()))
    for _ in range(draw(st.integers(0, 3))):
        paths = _paths(case)
        path = draw(st.sampled_from(paths))
        parent: Any = case
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        if action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "Status", "as_of", "history", "attributes", 1]))] = copy.deepcopy(draw(ODD_VALUES))
        else:
            parent[path[-1]] = copy.deepcopy(draw(ODD_VALUES))
    return case


def _same(data: dict[str, Any]) -> bool:
    """Check the contract on one input; True if the fast path took it."""
    fast = FAST_CASE(copy.deepcopy(data))
    if fast is None:
        return False
    model = Case.model_validate(data)  # must not raise: the fast path accepts only valid cases
    assert fast == model and repr(fast) == repr(model)
    assert fast.model_fields_set == model.model_fields_set
    assert flat_view(fast) == flat_view(model) and repr(flat_view(fast)) == repr(flat_view(model))
    assert fast.model_dump_json() == model.model_dump_json()
    return True


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(data=cases())
def test_valid_generated_cases_take_the_fast_path_with_the_same_result(data):
    assert _same(json.loads(json.dumps(data, default=str)))  # as a service receives it
    _same(data)  # with Decimals in it: taken or not, never different


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(data=mutated())
def test_whatever_the_fast_path_accepts_pydantic_accepts_the_same(data):
    _same(data)


def test_bad_cases_give_pydantic_s_errors(tmp_path):
    case = {"case_id": "C-1", "jurisdiction": "nl", "opened_at": "2026-11-20T09:15:00", "channel": "chat",
            "handled_by": "agent", "player": {"id": "P-1", "vip_level": 7}, "request": {"kind": "bonus_request",
                                                                                      "amount": "12,50"}}
    assert FAST_CASE(case) is None
    with pytest.raises(CaseError) as caught:
        parse_case(case)
    paths = sorted(p.path for p in caught.value.problems)
    assert paths == ["channel", "jurisdiction", "opened_at", "player.vip_level", "request.amount"]
    assert any("decimal comma" in (p.hint or "") for p in caught.value.problems)


def test_a_case_exactly_at_a_cap_stays_exact():
    case = {"case_id": "C-1", "jurisdiction": "NL", "opened_at": "2026-11-20T09:15:00+01:00", "channel": "email",
            "handled_by": "agent", "player": {"id": "P-1", "net_loss_30d": -700.1},
            "request": {"kind": "bonus_request", "amount": 25.0}}
    model = FAST_CASE(case)
    assert model is not None and model.request.amount == Decimal("25.00") and str(model.request.amount) == "25.00"
    assert model.player.net_loss_30d == Decimal("-700.10")
    assert model.opened_at == datetime(2026, 11, 20, 8, 15, tzinfo=timezone.utc)
    assert model == Case.model_validate(case)


def test_a_model_it_does_not_know_gets_no_fast_path():
    class Aliased(BaseModel):
        model_config = ConfigDict(extra="forbid")
        name: str = Field(alias="Name")

    class Floaty(BaseModel):
        model_config = ConfigDict(extra="forbid")
        x: float

    class Open(BaseModel):
        x: int

    assert make_fast_validator(Aliased) is None and make_fast_validator(Floaty) is None
    assert make_fast_validator(Open) is None  # extra fields allowed: not the case model's shape


def test_field_and_model_validators_run_on_the_fast_path():
    class Ordered(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)
        kind: Literal["a", "b"]
        items: tuple[int, ...] = ()

        @field_validator("items")
        @classmethod
        def _sorted(cls, items: tuple[int, ...]) -> tuple[int, ...]:
            if list(items) != sorted(items):
                raise ValueError("not sorted")
            return items

    fast = make_fast_validator(Ordered)
    assert fast is not None
    assert fast({"kind": "a", "items": [1, 2]}) == Ordered(kind="a", items=(1, 2))
    assert fast({"kind": "a", "items": [2, 1]}) is None
    with pytest.raises(ValidationError):
        Ordered.model_validate({"kind": "a", "items": [2, 1]})
    assert fast({"kind": "c"}) is None and fast({"kind": "a", "x": 1}) is None and fast([1]) is None


@pytest.mark.parametrize("history, status, accepted", [
    ([{"at": "2026-11-20T09:15:00Z", "status": "open"}, {"at": "2026-11-20T11:00:00+01:00", "status": "escalated"}],
     "escalated", True),
    ([{"at": "2026-11-20T11:00:00Z", "status": "open"}, {"at": "2026-11-20T10:00:00Z", "status": "escalated"}],
     "escalated", False),  # out of order: the field validator
    ([{"at": "2026-11-20T09:15:00Z", "status": "open"}], "escalated", False),  # last status differs: the model validator
    ([{"at": "2026-11-20T08:00:00Z", "status": "open"}], "open", False),  # before opened_at
])
def test_history_through_the_model_s_own_validators(history, status, accepted):
    case = {"case_id": "C-1", "jurisdiction": "NL", "opened_at": "2026-11-20T09:15:00Z", "channel": "email",
            "handled_by": "agent", "status": status, "history": history, "player": {"id": "P-1"},
            "request": {"kind": "other"}}
    assert (FAST_CASE(case) is not None) is accepted
    if accepted:
        assert _same(case)
    else:
        with pytest.raises(ValidationError):
            Case.model_validate(case)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(case=cases())
def test_a_decision_built_without_validation_equals_a_validated_one(case):
    from conftest import bundled_engine
    from escalator.language.models.decision import Decision

    decision = bundled_engine("compiled").evaluate(case, datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc))
    validated = Decision(**{name: getattr(decision, name) for name in Decision.model_fields})
    assert decision == validated and decision.to_json() == validated.to_json()
    assert decision.model_dump_json() == validated.model_dump_json()
    with pytest.raises(TypeError):
        Decision.trusted(case_id="x", handler_id="y")
