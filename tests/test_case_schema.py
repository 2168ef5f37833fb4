"""One case schema: the pydantic model is the source; the field table, the flat view, the
JSON Schema export and the generated cases are all derived from it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from escalator import Engine
from escalator.authoring.strategies import case_for, cases
from escalator.authoring.schemas import schema_for
from escalator.language import fields as F
from escalator.language.cases import parse_case
from escalator.language.models.case import Case, Request
from escalator.language.models.scalars import STRICT, Money

ENGINE = Engine.default(backend="compiled")
NL = ENGINE.policies["nl"]


class Loyalty(BaseModel):
    model_config = STRICT

    tier: Literal["bronze", "silver", "gold"]
    points: int = 0


class RequestWithFee(Request):
    fee: Money | None = None  # one new optional money field, nested


class ExtendedCase(Case):
    """The case model with fields added in one place (this class), the way a new field is added."""

    loyalty: Loyalty  # a new object, always present
    as_of: datetime | None = None  # a new optional datetime
    request: RequestWithFee


def test_the_field_table_is_the_models():
    assert list(F.CASE_FIELDS) == list(F.case_fields(Case))
    info = F.CASE_FIELDS["request.kind"]
    assert info.kind == F.STRING and info.values and "bonus_request" in info.values and info.always_present
    assert F.CASE_FIELDS["request.withdrawal.pending_hours"].always_present is False  # its parent is optional
    assert F.CASE_FIELDS["player.vip_level"].bounds == (0, 5) and F.CASE_FIELDS["player.vip_level"].integer
    assert set(F.MONEY_FIELDS) == {"request.amount", "request.withdrawal.amount", "request.forfeiture.winnings",
                                   "player.net_loss_30d"}
    assert "attributes" in F.TOP_LEVEL_FIELDS and "attributes" not in F.CASE_FIELDS


def test_a_field_added_to_the_model_reaches_table_schema_flat_view_and_generated_cases():
    table = F.case_fields(ExtendedCase)
    assert table["loyalty"].kind == F.OBJECT and table["loyalty.tier"].values == ("bronze", "silver", "gold")
    assert table["loyalty.points"].kind == F.NUMBER and table["loyalty.points"].integer
    assert table["as_of"].kind == F.DATETIME and not table["as_of"].always_present
    assert table["request.fee"].money and not table["request.fee"].always_present

    schema = schema_for("case", ExtendedCase)
    assert "loyalty" in schema["properties"] and "as_of" in schema["properties"]
    assert "fee" in schema["$defs"]["RequestWithFee"]["properties"]

    view_of = F.make_flat_view(ExtendedCase)
    data = _a_case() | {"loyalty": {"tier": "gold", "points": 7}, "as_of": "2026-11-20T15:00:00Z"}
    data["request"] = data["request"] | {"fee": "2.50"}
    view = view_of(ExtendedCase.model_validate(data))
    assert view["loyalty"] is F.PRESENT and view["loyalty.tier"] == "gold" and view["loyalty.points"] == Decimal(7)
    assert view["as_of"] == Decimal(int(datetime.fromisoformat("2026-11-20T15:00:00+00:00").timestamp()))
    assert view["request.fee"] == Decimal("2.50")
    # and the fields every case shares come out exactly as the hot-path view makes them
    plain = parse_case(_a_case())
    assert {k: v for k, v in view.items() if k in F.CASE_FIELDS} == F.flat_view(plain)


@settings(max_examples=40, deadline=None, database=None)
@given(st.data())
def test_generated_cases_of_an_extended_model_carry_the_new_fields(data):
    case = data.draw(case_for(NL, model=ExtendedCase))
    model = ExtendedCase.model_validate(case)  # valid against the extended model
    assert model.loyalty.tier in ("bronze", "silver", "gold")
    assert data.draw(cases(engine=ENGINE, model=ExtendedCase))["loyalty"]["tier"] in ("bronze", "silver", "gold")


@settings(max_examples=40, deadline=None, database=None)
@given(cases(engine=ENGINE))
def test_cases_of_the_plain_model_have_no_extra_fields(case):
    assert set(case) <= set(Case.model_fields)
    Case.model_validate(case)


def _a_case() -> dict[str, object]:
    return {
        "case_id": "C-1", "jurisdiction": "NL", "opened_at": "2026-11-20T14:03:00Z", "channel": "email",
        "handled_by": "agent", "player": {"id": "P-1", "vip_level": 2},
        "request": {"kind": "bonus_request", "amount": "30.00"},
    }
