"""The decision's JSON and the batch call: byte-stable, and the same as one call per case."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import bundled_engine, make_case
from escalator import EscalatorError
from escalator.authoring.strategies import cases

AT = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


def test_timestamps_are_what_strftime_writes():
    decision = bundled_engine("compiled").evaluate(make_case(jurisdiction="NL"), AT)

    def timestamp(moment):
        return decision.reviewed_at(moment).to_dict()["next_review_at"]

    rng = random.Random(20261202)
    zones = [None, timezone.utc, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-11))]
    for _ in range(20000):
        moment = datetime(rng.randint(1, 9999), rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23),
                          rng.randint(0, 59), rng.randint(0, 59), rng.choice([0, rng.randint(0, 999999)]),
                          tzinfo=rng.choice(zones))
        assert timestamp(moment) == moment.strftime("%Y-%m-%dT%H:%M:%SZ"), moment
    assert timestamp(None) is None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(batch=st.lists(cases(), min_size=1, max_size=8), pinned=st.booleans())
def test_evaluate_many_is_evaluate_case_by_case(batch, pinned):
    engine = bundled_engine("compiled")
    batch = batch + [{"case_id": "broken"}, make_case(jurisdiction="NL", handled_by="nobody")]
    at = AT if pinned else None
    many = engine.evaluate_many(batch, at)
    assert len(many) == len(batch)
    for case, result in zip(batch, many):
        try:
            expected = engine.evaluate(case, at if pinned else AT if "as_of" not in case else None).to_json()
        except EscalatorError as error:
            assert isinstance(result, EscalatorError) and str(result) == str(error)
        else:
            if not pinned and "as_of" not in case:
                continue  # decided at "now": not comparable byte for byte
            assert not isinstance(result, EscalatorError) and result.to_json() == expected
