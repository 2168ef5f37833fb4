"""The case fields rules may use, their kinds, and the flat view both backends read.

Rules name case fields by dotted path. This table is the single place that says
which paths exist and what kind of value each holds, so the compiler can type-check
conditions and both backends see exactly the same normalised values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from escalator.language.models.case import REQUEST_KINDS, STATUSES, Case

NUMBER, STRING, BOOLEAN, DATETIME, STRINGS, OBJECT, ANY = (
    "number", "string", "boolean", "datetime", "strings", "object", "any",
)


@dataclass(frozen=True)
class FieldInfo:
    path: str
    kind: str
    values: tuple[str, ...] | None = None  # the allowed values of an enumerated field
    always_present: bool = True  # False: the case may leave it out (then comparisons are unknown)


def _f(path: str, kind: str, values: tuple[str, ...] | None = None, optional: bool = False) -> FieldInfo:
    return FieldInfo(path, kind, values, not optional)


CASE_FIELDS: dict[str, FieldInfo] = {
    f.path: f
    for f in (
        _f("case_id", STRING),
        _f("jurisdiction", STRING),
        _f("opened_at", DATETIME),
        _f("channel", STRING, ("live_chat", "email", "phone")),
        _f("handled_by", STRING),
        _f("status", STRING, STATUSES),
        _f("on_duty", STRINGS, optional=True),
        _f("player", OBJECT),
        _f("player.id", STRING),
        _f("player.vip_level", NUMBER),
        _f("player.account_age_days", NUMBER),
        _f("player.net_loss_30d", NUMBER),
        _f("player.rg_markers", STRINGS),
        _f("player.kyc", STRING, ("verified", "pending", "failed", "none")),
        _f("player.self_excluded", BOOLEAN),
        _f("request", OBJECT),
        _f("request.kind", STRING, REQUEST_KINDS),
        _f("request.amount", NUMBER, optional=True),
        _f("request.asked_for", STRINGS, ("manager", "vip_manager", "supervisor", "finance", "director")),
        _f("request.withdrawal", OBJECT, optional=True),
        _f("request.withdrawal.amount", NUMBER, optional=True),
        _f("request.withdrawal.pending_hours", NUMBER, optional=True),
        _f("request.forfeiture", OBJECT, optional=True),
        _f("request.forfeiture.winnings", NUMBER, optional=True),
        _f("request.forfeiture.breach", STRING, optional=True),
        _f("request.forfeiture.deliberate", BOOLEAN, optional=True),
    )
}
MONEY_FIELDS = ("request.amount", "request.withdrawal.amount", "request.forfeiture.winnings", "player.net_loss_30d")

# -- derived fields: computed per evaluation from the case and the instant (spec section 8) -----
# Not in the case document: the engine adds them to the flat view, and only for policies whose
# rules read them (see escalator.runtime.clock). Ages are whole seconds; a duration literal in a
# condition (`time.case_age > 72h`) compiles to seconds, so backends see plain numbers.
TIME_FIELDS: dict[str, FieldInfo] = {
    f.path: f
    for f in (
        _f("time.case_age", NUMBER),                 # seconds since opened_at
        _f("time.status_age", NUMBER),               # seconds since the last history entry (else opened_at)
        _f("time.acknowledge_overdue", BOOLEAN),     # the case's current situation's deadlines, at the instant
        _f("time.resolve_overdue", BOOLEAN),
        _f("time.sla_used", NUMBER, optional=True),  # fraction of the resolve window used (absent: no window)
        _f("time.working", BOOLEAN, optional=True),  # the working calendar is open (absent: no working calendar)
        _f("history.statuses", STRINGS, STATUSES),   # every status the case has had, the current one included
    )
}
DURATION_FIELDS = frozenset({"time.case_age", "time.status_age"})
"""Fields compared with elapsed durations (30m, 72h, 3d, 8w)."""

TOP_LEVEL_FIELDS = frozenset(p for p in CASE_FIELDS if "." not in p) | {"attributes"}
ATTRIBUTES_PREFIX = "attributes."


class _Present:
    """Marks an object-valued field (player, request.withdrawal, a nested attribute) as present."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<present>"


PRESENT = _Present()


def field_info(path: str) -> FieldInfo | None:
    """The field at `path`, or None if no such case field exists."""
    if path.startswith(ATTRIBUTES_PREFIX) and len(path) > len(ATTRIBUTES_PREFIX):
        return FieldInfo(path, ANY, None, False)
    return CASE_FIELDS.get(path) or TIME_FIELDS.get(path)


def value_kind(value: Any) -> str | None:
    """The kind of a normalised value (see `flat_view`); None for null or an object."""
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, Decimal):
        return NUMBER
    if isinstance(value, str):
        return STRING
    if isinstance(value, tuple):
        return STRINGS
    return None


def epoch(value: datetime) -> Decimal:
    return Decimal(int(value.timestamp()))


def _normal(value: Any) -> Any:
    """One representation per kind: Decimal numbers, tuples for lists, epoch for datetimes."""
    if isinstance(value, bool) or isinstance(value, str) or value is None:
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, datetime):
        return epoch(value)
    if isinstance(value, (list, tuple)):
        return tuple(_normal(v) for v in value)
    return value


def flat_view(case: Case) -> dict[str, Any]:
    """Case -> {dotted path: normalised value}; absent and null values are left out.

    Empty lists are kept (a list field is never unknown); `exists` treats them as absent.
    Built as one literal (this runs on every evaluation); the order of keys is not part of the contract.
    """
    player = case.player
    request = case.request
    view: dict[str, Any] = {
        "case_id": case.case_id,
        "jurisdiction": case.jurisdiction,
        "opened_at": Decimal(int(case.opened_at.timestamp())),
        "channel": case.channel,
        "handled_by": case.handled_by,
        "status": case.status,
        "player": PRESENT,
        "request": PRESENT,
        "player.id": player.id,
        "player.vip_level": Decimal(player.vip_level),
        "player.account_age_days": Decimal(player.account_age_days),
        "player.net_loss_30d": player.net_loss_30d,
        "player.rg_markers": tuple(player.rg_markers),
        "player.kyc": player.kyc,
        "player.self_excluded": player.self_excluded,
        "request.kind": request.kind,
        "request.asked_for": tuple(request.asked_for),
    }
    if case.on_duty is not None:
        view["on_duty"] = tuple(case.on_duty)
    if request.amount is not None:
        view["request.amount"] = request.amount
    withdrawal = request.withdrawal
    if withdrawal is not None:
        view["request.withdrawal"] = PRESENT
        view["request.withdrawal.amount"] = withdrawal.amount
        view["request.withdrawal.pending_hours"] = withdrawal.pending_hours
    forfeiture = request.forfeiture
    if forfeiture is not None:
        view["request.forfeiture"] = PRESENT
        view["request.forfeiture.winnings"] = forfeiture.winnings
        if forfeiture.breach is not None:
            view["request.forfeiture.breach"] = forfeiture.breach
        if forfeiture.deliberate is not None:
            view["request.forfeiture.deliberate"] = forfeiture.deliberate
    if case.attributes:
        _flatten_attributes(case.attributes, "attributes", view)
    return view


def _flatten_attributes(data: dict[str, Any], prefix: str, view: dict[str, Any]) -> None:
    for key, value in data.items():
        path = f"{prefix}.{key}"
        if isinstance(value, dict):
            view[path] = PRESENT
            _flatten_attributes(value, path, view)
        elif value is not None:
            view[path] = _normal(value)
