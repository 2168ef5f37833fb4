"""Public hypothesis strategies for valid escalator cases.

For support-software teams testing their own integration:

    from hypothesis import given
    from escalator import Engine
    from escalator.authoring.strategies import cases

    engine = Engine.default()

    @given(cases(jurisdiction="NL", kind="bonus_request", engine=engine))
    def test_every_case_gets_a_decision(case):
        assert engine.evaluate(case).handler

Every drawn case is a plain dict that `Engine.evaluate` accepts. Money is drawn
at, one cent below and one cent above every threshold, cap and tier limit the
policy uses (where bugs live), and anywhere else too. `escalator check` uses
the same strategies.

The case schema comes from the case model, through the field table
(`language.fields.case_fields`): enumerated values are the model's, and a field
with no strategy of its own here (a new one) is drawn by its kind, so a field
added to the model shows up in the generated cases with no edit in this module.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Union

from pydantic import BaseModel

from hypothesis import strategies as st

from escalator.language import fields as F
from escalator.language.fields import MONEY_FIELDS, FieldInfo
from escalator.language.ir import CompiledPolicy, Compare, Const, walk
from escalator.language.models.case import Case
from escalator.money import CENT

if TYPE_CHECKING:
    from escalator.runtime.engine import Engine

Policies = Union["Engine", dict[str, CompiledPolicy], CompiledPolicy, None]  # where cases() finds its policies

def _values(path: str) -> tuple[str, ...]:
    return F.CASE_FIELDS[path].values or ()


REQUEST_KINDS = _values("request.kind")
ASKED_FOR = _values("request.asked_for")
RG_MARKERS = ("loss_chasing", "self_reported", "limit_changes", "night_play")


_CONSTANTS: dict[str, list[Decimal]] = {}


def constants(policy: CompiledPolicy) -> list[Decimal]:
    """Every number the policy uses: condition constants, caps, parameters and tier limits."""
    key = policy.digest or str(id(policy))
    if key not in _CONSTANTS:
        _CONSTANTS[key] = _constants(policy)
    return _CONSTANTS[key]


def _constants(policy: CompiledPolicy) -> list[Decimal]:
    found: set[Decimal] = {Decimal(0)}
    for tier in policy.tiers:
        found.update(amount for _, amount in tier.authority)
    for param in policy.params:
        if isinstance(param.value, Decimal):
            found.add(param.value)
    for rule in policy.rules:
        found.update(cap.amount for cap in rule.effects.caps)
        for node in walk(rule.condition):
            right = getattr(node, "right", None)
            if isinstance(right, Const):
                values = right.value if isinstance(right.value, tuple) else (right.value,)
                found.update(v for v in values if isinstance(v, Decimal) and not isinstance(v, bool))
    return sorted(found)


_MONEY: dict[tuple[str | None, bool], st.SearchStrategy[Decimal]] = {}


def money(policy: CompiledPolicy | None = None, signed: bool = False) -> st.SearchStrategy[Decimal]:
    """EUR amounts (two decimals), mostly at and around the policy's constants."""
    key = (policy.digest or str(id(policy)) if policy is not None else None, signed)
    if key not in _MONEY:
        _MONEY[key] = _money(policy, signed)
    return _MONEY[key]


def _money(policy: CompiledPolicy | None, signed: bool) -> st.SearchStrategy[Decimal]:
    anywhere = st.integers(-5_000_000 if signed else 0, 500_000_000).map(lambda cents: Decimal(cents) / 100)
    if policy is None:
        return anywhere.map(lambda a: a.quantize(CENT))
    points = sorted({p for c in constants(policy) for p in (c - CENT, c, c + CENT) if signed or p >= 0},
                    key=lambda p: (p != 0, p))  # 0 first: hypothesis shrinks towards it
    near = st.sampled_from(points)
    return st.one_of(near, near, near, anywhere).map(lambda a: a.quantize(CENT))


def _policies(engine: Policies, jurisdiction: str | None) -> list[CompiledPolicy]:
    if engine is None:
        engine = _default_engine()
    if isinstance(engine, CompiledPolicy):
        found = [engine]
    elif isinstance(engine, dict):
        found = list(engine.values())
    else:
        found = list(engine.policies.values())
    if jurisdiction is not None:
        found = [p for p in found if jurisdiction in p.jurisdictions]
        if not found:
            raise ValueError(f"no policy covers jurisdiction {jurisdiction!r}")
    return found


_DEFAULT: list[Engine] = []


def _default_engine() -> Engine:
    if not _DEFAULT:
        from escalator.runtime.engine import Engine

        _DEFAULT.append(Engine.default(backend="compiled"))
    return _DEFAULT[0]


def _day(policy: CompiledPolicy) -> st.SearchStrategy[date]:
    start = policy.effective_from or date(2026, 1, 1)
    end = policy.effective_until or start + timedelta(days=3 * 365)
    return st.integers(0, (end - start).days).map(lambda n: start + timedelta(days=n))


def _kinds(policy: CompiledPolicy) -> list[str]:
    found: set[str] = set()
    for rule in policy.rules:
        for node in walk(rule.condition):
            if isinstance(node, Compare) and node.left.path == "request.kind" and isinstance(node.right, Const):
                value = node.right.value
                values = value if isinstance(value, tuple) else (value,)
                found.update(v for v in values if isinstance(v, str) and v in REQUEST_KINDS)
    return sorted(found)


def _hours(policy: CompiledPolicy) -> st.SearchStrategy[Decimal]:
    points = sorted({h for c in constants(policy) if c <= 1000 for h in (c - 1, c, c + 1) if h >= 0})
    return st.one_of(st.sampled_from(points), st.integers(0, 2000).map(Decimal))


_TINY = st.integers(0, 9)
_ASKED = st.lists(st.sampled_from(ASKED_FOR), max_size=3, unique=True)
_MARKERS: st.SearchStrategy[list[str]] = st.one_of(st.just([]), st.lists(st.sampled_from(RG_MARKERS), max_size=2, unique=True))
_BREACH = st.one_of(st.none(), st.sampled_from(["max_bet", "wagering", "multi_account"]))
_DELIBERATE = st.one_of(st.none(), st.booleans())
_CHANNEL = st.sampled_from(_values("channel"))
_STATUS = st.sampled_from(["open"] * 3 + [s for s in _values("status") if s != "open"])  # mostly open cases
_KYC = st.sampled_from(["verified", *_values("player.kyc")])  # verified twice as often
_ANY_KIND = st.sampled_from(REQUEST_KINDS)
_PARTS: dict[str, dict[str, st.SearchStrategy[Any]]] = {}


def _parts(policy: CompiledPolicy) -> dict[str, st.SearchStrategy[Any]]:
    """The per-policy strategies, built once (building strategies is what makes hypothesis slow)."""
    key = policy.digest or str(id(policy))
    if key not in _PARTS:
        used = _kinds(policy)
        _PARTS[key] = {
            "kind": st.one_of(st.sampled_from(used), _ANY_KIND) if used else _ANY_KIND,  # named kinds half the time
            "money": money(policy), "loss": money(policy, signed=True), "hours": _hours(policy),
            "day": _day(policy), "jurisdiction": st.sampled_from(policy.jurisdictions),
            "handled_by": st.sampled_from([t.id for t in policy.tiers if t.player_reachable]),
            "on_duty": st.one_of(st.none(), st.lists(st.sampled_from([t.id for t in policy.tiers]), max_size=4,
                                                     unique=True)),
        }
    return _PARTS[key]


@st.composite
def case_for(draw: st.DrawFn, policy: CompiledPolicy, jurisdiction: str | None = None, kind: str | None = None,
             model: type[BaseModel] = Case) -> dict[str, Any]:
    """One valid case decided by `policy` (a case of `model`, by default the case model)."""
    parts = _parts(policy)
    kind = kind or draw(parts["kind"])
    request: dict[str, Any] = {"kind": kind}
    if draw(_TINY) < (8 if kind == "bonus_request" else 3):
        request["amount"] = draw(parts["money"])
    request["asked_for"] = draw(_ASKED)
    if draw(_TINY) < (9 if kind == "withdrawal_delay" else 2):
        request["withdrawal"] = {"amount": draw(parts["money"]), "pending_hours": draw(parts["hours"])}
    if draw(_TINY) < (9 if kind == "forfeiture_dispute" else 2):
        forfeiture: dict[str, Any] = {"winnings": draw(parts["money"])}
        breach, deliberate = draw(_BREACH), draw(_DELIBERATE)
        if breach is not None:
            forfeiture["breach"] = breach
        if deliberate is not None:
            forfeiture["deliberate"] = deliberate
        request["forfeiture"] = forfeiture
    day = draw(parts["day"])
    case: dict[str, Any] = {
        "case_id": "GEN-1",
        "jurisdiction": jurisdiction or draw(parts["jurisdiction"]),
        "opened_at": f"{day.isoformat()}T{draw(_TINY) + 8:02d}:00:00Z",
        "channel": draw(_CHANNEL),
        "handled_by": draw(parts["handled_by"]),
        "status": draw(_STATUS),
        "player": {
            "id": "P-1",
            "vip_level": draw(st.integers(0, 5)),
            "account_age_days": draw(st.integers(0, 5000)),
            "net_loss_30d": draw(parts["loss"]),
            "rg_markers": draw(_MARKERS),
            "kyc": draw(_KYC),
            "self_excluded": draw(_TINY) == 9,
        },
        "request": request,
        "attributes": {},
    }
    on_duty = draw(parts["on_duty"])
    if on_duty is not None:
        case["on_duty"] = on_duty
    for info in _new_fields(model):  # fields this module has no strategy of its own for
        if _parent(info.path) == "" or get_path(case, _parent(info.path)) is not None:
            value = draw(_by_kind(info, model, parts))
            if value is not None:
                case = set_path(case, info.path, value)
    return case


# The paths case_for draws with a strategy of its own (above); every other field of the
# model is drawn by its kind (below).
_DRAWN = frozenset({
    "case_id", "jurisdiction", "opened_at", "channel", "handled_by", "status", "on_duty", "player", "player.id",
    "player.vip_level", "player.account_age_days", "player.net_loss_30d", "player.rg_markers", "player.kyc",
    "player.self_excluded", "request", "request.kind", "request.amount", "request.asked_for", "request.withdrawal",
    "request.withdrawal.amount", "request.withdrawal.pending_hours", "request.forfeiture",
    "request.forfeiture.winnings", "request.forfeiture.breach", "request.forfeiture.deliberate",
})
_NEW: dict[type[BaseModel], list[FieldInfo]] = {}


def _parent(path: str) -> str:
    return path.rpartition(".")[0]


def _new_fields(model: type[BaseModel]) -> list[FieldInfo]:
    """The model's fields without a strategy here, outermost only (an object's fields come with it)."""
    if model not in _NEW:
        table = F.case_fields(model)
        new = [info for path, info in table.items() if path not in _DRAWN]
        _NEW[model] = [info for info in new if _parent(info.path) in _DRAWN or _parent(info.path) == ""]
    return _NEW[model]


def _by_kind(info: FieldInfo, model: type[BaseModel], parts: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """A value for a field from its kind in the field table (None: leave an optional field out)."""
    value: st.SearchStrategy[Any]
    if info.kind == F.OBJECT:
        children = [c for p, c in F.case_fields(model).items() if _parent(p) == info.path]
        value = st.fixed_dictionaries({c.path.rpartition(".")[2]: _by_kind(c, model, parts) for c in children}).map(
            lambda d: {k: v for k, v in d.items() if v is not None})
    elif info.kind == F.STRING:
        value = st.sampled_from(info.values or ("x1", "x2"))
    elif info.kind == F.STRINGS:
        value = st.lists(st.sampled_from(info.values or ("a1", "b2")), max_size=2, unique=True)
    elif info.kind == F.BOOLEAN:
        value = st.booleans()
    elif info.kind == F.DATETIME:
        value = parts["day"].map(lambda day: f"{day.isoformat()}T12:00:00Z")
    elif info.money:
        value = parts["money"]
    else:
        low, high = info.bounds
        numbers = st.integers(low if low is not None else 0, min(high if high is not None else 1000, 1000))
        value = numbers if info.integer else numbers.map(Decimal)
    return value if info.always_present else st.one_of(st.none(), value)


def cases(jurisdiction: str | None = None, kind: str | None = None,
          engine: Policies = None, model: type[BaseModel] = Case) -> st.SearchStrategy[dict[str, Any]]:
    """Valid case dicts, optionally for one jurisdiction and/or one request kind.

    `engine` is an Engine, a dict of compiled policies or one CompiledPolicy; by
    default the bundled policies. Cases fall inside each policy's effective period.
    """
    if kind is not None and kind not in REQUEST_KINDS:
        raise ValueError(f"unknown request kind {kind!r} (one of {', '.join(REQUEST_KINDS)})")
    policies = _policies(engine, jurisdiction)
    return st.sampled_from(policies).flatmap(lambda p: case_for(p, jurisdiction, kind, model))


def set_path(case: dict[str, Any], path: str, value: object) -> dict[str, Any]:
    """A copy of `case` with the dotted path set (parents are created)."""
    import copy

    result = copy.deepcopy(case)
    node = result
    *parents, leaf = path.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value
    return result


def get_path(case: dict[str, Any], path: str) -> Any:
    node: Any = case
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node
