"""Policies and rule packs as written in YAML (before `extends` is resolved).

These models only check shape and types. Cross-references (tiers named by rules,
parameters, packs, extends cycles) are checked when a policy is resolved and
compiled, where the whole picture is known.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, StrictBool, StrictInt, StrictStr, WithJsonSchema, model_validator

from escalator.money import to_money
from escalator.language.locales import CurrencyCode, LocaleName
from escalator.language.time import CalendarSpec, parse_calendar, parse_duration
from escalator.language.models.scalars import STRICT, Name

TierId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
ActionName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
PackName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
RuleLocalId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=80)]
RuleRef = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*\.[a-z0-9][a-z0-9_-]*$", max_length=150)]
PolicyId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
PolicyRef = Annotated[str, Field(pattern=r"^(escalator:)?[a-z0-9][a-z0-9_-]*$", max_length=74)]
"""A policy to extend: a local id, or `escalator:ID` for a bundled policy."""
PackRef = Annotated[str, Field(pattern=r"^(escalator:)?[a-z][a-z0-9_]*$", max_length=74)]
"""A rule pack to use: a local or bundled pack name, or `escalator:NAME` for the bundled one."""
FlagName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
Jurisdiction = Annotated[str, Field(pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")]
Duration = Annotated[str, BeforeValidator(lambda v: (parse_duration(v), v)[1])]
CalendarName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
CALENDAR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An IANA timezone, weekly opening hours (local, half-open) and holidays (local dates)",
    "properties": {
        "timezone": {"type": "string", "description": "IANA name, e.g. Europe/Amsterdam"},
        "hours": {"type": "object", "description": "weekday or range (mon-fri) -> \"09:00-17:30\" or a list of them",
                  "additionalProperties": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}},
        "holidays": {"type": "array", "items": {"type": "string", "format": "date"}},
        "public_holidays": {"type": "string", "description": "a country (-subdivision) code: NL, MT, GB-ENG"},
    },
    "required": ["timezone", "hours"],
    "additionalProperties": False,
}
Calendar = Annotated[CalendarSpec, BeforeValidator(lambda v: v if isinstance(v, CalendarSpec) else parse_calendar("", v)),
                     WithJsonSchema(CALENDAR_SCHEMA)]
CapMoney = Annotated[Decimal, BeforeValidator(to_money)]
ReasonText = Annotated[str, Field(max_length=2000)]


class TierSpec(BaseModel):
    """A support tier. In a child policy every field but `id` may be left out (inherited)."""

    model_config = STRICT

    id: TierId
    name: Name | None = None
    names: dict[LocaleName, Name] | None = None
    """The display name in other languages (`name` is the English one and the fallback)."""
    description: StrictStr | None = None
    level: Annotated[StrictInt, Field(ge=0, le=100)] | None = None
    authority: dict[ActionName, CapMoney] | None = None
    fallback: Literal["callback", "email"] | None = None
    player_reachable: StrictBool | None = None
    calendar: CalendarName | None = None
    """The policy calendar that says when this tier is on duty (absent: availability unknown)."""


class SlaWindow(BaseModel):
    model_config = STRICT

    acknowledge: Duration | None = None
    resolve: Duration | None = None
    pause_in: list[Literal["open", "escalated", "awaiting_player", "complaint", "closed"]] | None = None
    """Statuses during which this window's clock stops (e.g. awaiting_player)."""


class Effective(BaseModel):
    model_config = STRICT

    from_: date = Field(alias="from")
    until: date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> "Effective":
        # A period that ends before it starts would silently never apply.
        if self.until is not None and self.until < self.from_:
            raise ValueError(f"effective.until {self.until} is before effective.from {self.from_}")
        return self


class RuleSelection(BaseModel):
    model_config = STRICT

    packs: list[PackRef] | None = None
    disable: list[RuleRef] = []
    enable: list[RuleRef] = []


MaskPath = Annotated[str, Field(pattern=r"^[a-z_][a-zA-Z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$", max_length=200)]


class LogSpec(BaseModel):
    """What the decision log must not store in clear (spec section 10)."""

    model_config = STRICT

    mask: list[MaskPath] = []
    """Case fields replaced by a keyed hash before a decision is logged (e.g. player.id).
    A child policy adds to its parent's list; it can never unmask."""


class PolicyFile(BaseModel):
    """One file in `policies/`."""

    model_config = STRICT

    policy: PolicyId
    version: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    name: Name | None = None
    description: StrictStr | None = None
    extends: PolicyRef | None = None
    abstract: StrictBool = False
    jurisdictions: list[Jurisdiction] | None = None
    effective: Effective | None = None
    complaints_tier: TierId | None = None
    locale: LocaleName | None = None
    """The language of the decision's messages (default en; `evaluate(locale=)` overrides it)."""
    currency: CurrencyCode | None = None
    """ISO 4217 code of every amount in the policy and its cases (default EUR)."""
    failsafe_tier: TierId | None = None
    """Who reviews a case whose automatic evaluation failed (default: the most senior
    reachable tier below the complaints tier)."""
    tiers: list[TierSpec] = []
    params: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")], Any] = {}
    sla: dict[Literal["default", "escalated", "complaint"], SlaWindow] = {}
    calendars: dict[CalendarName, Calendar] = {}
    """Named calendars (time zone, weekly hours, holidays); a child's calendar replaces the parent's by name."""
    working_calendar: CalendarName | None = None
    """The calendar working-time durations (wh, wd) run on."""
    rules: RuleSelection | None = None
    invariants: list[dict[str, Any]] = []
    """Policy-specific property checks for `escalator check` (see the author toolkit)."""
    log: LogSpec | None = None


class ParamSpec(BaseModel):
    """A parameter a rule pack needs; the policy gives its value (or the default holds)."""

    model_config = STRICT

    type: Literal["money", "integer", "number", "string", "strings", "boolean", "duration"]
    description: StrictStr | None = None
    default: Any = None


class EffectsSpec(BaseModel):
    """What a rule does when it fires (spec section 5)."""

    model_config = STRICT

    require: TierId | None = None
    cap: dict[ActionName, Any] | None = None
    deny: list[ActionName] = []
    procedure: Literal["complaint"] | None = None
    forward: list[TierId] = []
    flag: list[FlagName] = []
    reason: ReasonText | dict[LocaleName, ReasonText] | None = None
    """A message for the agent; or one per locale (`{en: ..., nl: ...}`, `en` required: the fallback)."""


ConditionSpec = Any
"""A compact string or an all/any/not/comparison mapping; parsed by `escalator.language.conditions`."""


class RuleFile(BaseModel):
    model_config = STRICT

    id: RuleLocalId
    description: Name
    priority: Annotated[StrictInt, Field(ge=-1000, le=1000)] = 0
    when: ConditionSpec
    then: EffectsSpec


class RulePackFile(BaseModel):
    """One file in `rules/`."""

    model_config = STRICT

    pack: PackName
    version: StrictStr | None = None
    description: StrictStr | None = None
    params: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")], ParamSpec] = {}
    rules: Annotated[list[RuleFile], Field(min_length=1)]
