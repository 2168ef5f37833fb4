"""The case: the document support software sends for every case update.

Field names are part of the contract (spec section 4): rules refer to them by
dotted path. Unknown fields are errors, except under `attributes`, which holds
operator-specific data usable in rules.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, StrictBool, StrictInt, field_validator, model_validator

from escalator.errors import describe
from escalator.money import to_number
from escalator.language.models.scalars import STRICT, Identifier, Money, Name, NonNegativeInt, Number, SignedMoney

Channel = Literal["live_chat", "email", "phone"]
Status = Literal["open", "escalated", "awaiting_player", "complaint", "closed"]
STATUSES: tuple[str, ...] = Status.__args__  # type: ignore[attr-defined]
Kyc = Literal["verified", "pending", "failed", "none"]
RequestKind = Literal[
    "bonus_request", "withdrawal_delay", "forfeiture_dispute", "manager_request",
    "executive_request", "complaint", "technical", "other",
]
AskedFor = Literal["manager", "vip_manager", "supervisor", "finance", "director"]

REQUEST_KINDS: tuple[str, ...] = RequestKind.__args__  # type: ignore[attr-defined]

Token = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=64)]


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("needs a time zone, e.g. 2026-11-20T14:03:00Z or +01:00")
    if not 1970 <= value.year <= 2999:  # deadlines are added to it: keep far from datetime's limits
        raise ValueError(f"year {value.year} is outside 1970..2999")
    return value.astimezone(timezone.utc)


AwareDatetime = Annotated[datetime, AfterValidator(_utc)]


class Player(BaseModel):
    model_config = STRICT

    id: Name
    vip_level: Annotated[StrictInt, Field(ge=0, le=5)] = 0
    account_age_days: NonNegativeInt = 0
    net_loss_30d: SignedMoney = Decimal("0.00")
    rg_markers: tuple[Token, ...] = ()
    kyc: Kyc = "none"
    self_excluded: StrictBool = False


class Withdrawal(BaseModel):
    model_config = STRICT

    amount: Money
    pending_hours: Annotated[Number, Field(ge=0, le=100_000)] = Decimal(0)


class Forfeiture(BaseModel):
    model_config = STRICT

    winnings: Money
    breach: Token | None = None
    deliberate: StrictBool | None = None


class Request(BaseModel):
    model_config = STRICT

    kind: RequestKind
    amount: Money | None = None
    asked_for: tuple[AskedFor, ...] = ()
    withdrawal: Withdrawal | None = None
    forfeiture: Forfeiture | None = None


def _attribute_value(value: Any, where: str, depth: int) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        if abs(value) > 10**12:
            raise ValueError(f"{where}: {value} is implausibly large")
        return value
    if isinstance(value, (float, Decimal)):
        try:
            return to_number(value)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
    if isinstance(value, list):
        if depth > 0 and any(isinstance(v, (list, dict)) for v in value):
            raise ValueError(f"{where}: lists hold plain values only")
        return [_attribute_value(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]
    if isinstance(value, dict):
        if depth >= 4:
            raise ValueError(f"{where}: attributes nest at most 4 levels deep")
        return {_attribute_key(k, where): _attribute_value(v, f"{where}.{k}", depth + 1) for k, v in value.items()}
    raise ValueError(f"{where}: expected text, a number, true/false, a list or a mapping, found {describe(value)}")


_ATTRIBUTE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")


def _attribute_key(key: Any, where: str) -> str:
    if not isinstance(key, str) or not _ATTRIBUTE_KEY.match(key):
        raise ValueError(f"{where}: attribute name {key!r} must be a word (letters, digits, _ or -)")
    return key


def _check_attributes(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError("attributes must be a mapping")
    return {_attribute_key(k, "attributes"): _attribute_value(v, f"attributes.{k}", 1) for k, v in value.items()}


class HistoryEntry(BaseModel):
    """One status change: from `at` on, the case had `status` (spec section 8)."""

    model_config = STRICT

    at: AwareDatetime
    status: Status


class Case(BaseModel):
    model_config = STRICT

    case_id: Name
    jurisdiction: Annotated[str, Field(pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")]
    opened_at: AwareDatetime
    channel: Channel
    handled_by: Identifier
    status: Status = "open"
    history: tuple[HistoryEntry, ...] = ()
    """Status changes, oldest first; the SLA clocks and `time.status_age` read it."""
    as_of: AwareDatetime | None = None
    """The instant to decide at when the caller gives none (else: now)."""
    on_duty: tuple[Identifier, ...] | None = None
    player: Player
    request: Request
    attributes: Annotated[dict[str, Any], BeforeValidator(_check_attributes)] = Field(default_factory=dict)

    @field_validator("history")
    @classmethod
    def _history_in_order(cls, history: tuple[HistoryEntry, ...]) -> tuple[HistoryEntry, ...]:
        # A history that goes back in time would make every clock meaningless.
        for i in range(1, len(history)):
            if history[i].at < history[i - 1].at:
                raise ValueError(f"history[{i}] ({_stamp(history[i].at)}) is before history[{i - 1}] "
                                 f"({_stamp(history[i - 1].at)}): history lists status changes oldest first")
        return history

    @model_validator(mode="after")
    def _history_fits_the_case(self) -> "Case":
        if self.history and self.history[0].at < self.opened_at:
            raise ValueError(f"history[0] ({_stamp(self.history[0].at)}) is before opened_at "
                             f"({_stamp(self.opened_at)})")
        if self.history and self.history[-1].status != self.status:
            raise ValueError(f"the last history entry has status {self.history[-1].status!r} but the case's "
                             f"status is {self.status!r}")
        return self


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
