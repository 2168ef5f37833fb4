"""Hypothesis strategies for random valid policies and cases for them (differential testing).

    from escalator.authoring.policygen import policy_files, cases_for

`policy_files()` draws a set of policy and rule-pack documents: tiers with side branches
(same level), internal tiers and a complaints tier; packs whose rules nest all/any/not
over every comparison operator with literal, parameter, tier-limit and field-reference
right-hand sides, in compact strings and mapping forms; priorities with ties; an `extends`
chain that overrides parameters and tier limits and disables and re-enables rules. Written
as YAML files (`PolicyFiles.write`), they load through the normal loader. `cases_for(policy)`
draws cases for the compiled policy, with optional fields absent and every number at, a
cent (or a unit) below and above every threshold the policy uses.
`escalator.authoring.differential` holds every backend to the reference semantics with them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import yaml
from hypothesis import strategies as st

from escalator.language import fields as F
from escalator.language.compiler import REQUIRED_ACTIONS
from escalator.language.ir import CompiledPolicy, Const, walk

Draw = Callable[[st.SearchStrategy[Any]], Any]
JURISDICTION = "XX"
EPOCH = datetime(2026, 11, 20, 14, 0, tzinfo=timezone.utc)
MONEY = ("0.00", "0.01", "25.00", "50.00", "99.99", "100.00", "250.50", "1000.00", "2000.00")
SIGNED = ("-0.01", "-25.00", "999999999.99")  # net losses may be negative; the largest case amounts
TEXTS = ("alpha", "beta", "x", "casino-royal", "true", "5", "", "é", 'q"uote', "back\\slash")
FLAGS = ("kyc_check", "rg_review", "large_win", "vip")
ACTIONS = REQUIRED_ACTIONS + ("refund",)  # an action only some tiers name (absent: limit 0)
NUMBER_FIELDS = ("request.amount", "player.vip_level", "player.account_age_days", "player.net_loss_30d",
                 "request.withdrawal.amount", "request.withdrawal.pending_hours", "request.forfeiture.winnings")
TEXT_FIELDS = ("channel", "status", "player.kyc", "request.kind", "request.forfeiture.breach", "handled_by",
               "player.id")
BOOL_FIELDS = ("player.self_excluded", "request.forfeiture.deliberate")
LIST_FIELDS = ("player.rg_markers", "request.asked_for", "on_duty")
OBJECT_FIELDS = ("player", "request", "request.withdrawal", "request.forfeiture")
ATTRIBUTES = ("attributes.a", "attributes.b", "attributes.c.d", "attributes.c")
MARKERS = ("loss_chasing", "night_play", "x")
BREACHES = ("max_bet", "x", "alpha")
INSTANTS = (EPOCH - timedelta(days=1), EPOCH, EPOCH + timedelta(seconds=1))


class _Dumper(yaml.SafeDumper):
    """Decimals as plain YAML numbers (`25.00`), which the loader reads back exactly."""


_Dumper.add_representer(Decimal, lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:float", str(value)))


def to_yaml(document: Any) -> str:
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True)


@dataclass(frozen=True)
class PolicyFiles:
    """Policy and rule-pack documents by relative path (`policies/base.yaml`, `rules/p0.yaml`)."""

    files: tuple[tuple[str, dict[str, Any]], ...]

    def write(self, folder: Path) -> tuple[Path, Path]:
        """Write every file as YAML under `folder`; returns (policies dir, rules dir)."""
        for name, document in self.files:
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(to_yaml(document), encoding="utf-8")
        (folder / "rules").mkdir(parents=True, exist_ok=True)
        return folder / "policies", folder / "rules"

    def yaml(self) -> str:
        """All files in one text, for a failure message."""
        return "\n".join(f"# --- {name}\n" + to_yaml(doc) for name, doc in self.files)


# -- tiers ------------------------------------------------------------------------------------


@dataclass
class _Tiers:
    reachable: list[str]
    internal: list[str]
    specs: list[dict[str, Any]]


def _money(draw: Draw) -> str:
    return str(draw(st.sampled_from(MONEY)))


def _authority(draw: Draw, refund: bool = False) -> dict[str, Any]:
    """Limits for the required actions; `refund` only on some tiers (always on t0, so it is known)."""
    actions = list(REQUIRED_ACTIONS) + (["refund"] if refund or draw(st.booleans()) else [])
    return {action: Decimal(_money(draw)) for action in actions}


def _tiers(draw: Draw) -> _Tiers:
    count = draw(st.integers(2, 5))
    reachable = [f"t{i}" for i in range(count)]
    specs: list[dict[str, Any]] = []
    for tier_id in reachable:  # random levels: ties make side branches (same level, another tier)
        specs.append({"id": tier_id, "name": tier_id.upper(), "level": draw(st.integers(1, 4)),
                      "fallback": draw(st.sampled_from(["callback", "email"])),
                      "authority": _authority(draw, tier_id == "t0")})
    internal = [f"i{i}" for i in range(draw(st.integers(0, 2)))]
    for tier_id in internal:
        specs.append({"id": tier_id, "name": tier_id.upper(), "level": draw(st.integers(1, 6)),
                      "fallback": "email", "player_reachable": False, "authority": _authority(draw)})
    return _Tiers(reachable, internal, specs)


# -- conditions -------------------------------------------------------------------------------


class _Pack:
    """One rule pack being drawn: its parameters (name -> spec) and how to render values."""

    def __init__(self, name: str, tiers: _Tiers, attributes: bool = True):
        self.name = name
        self.tiers = tiers
        self.attributes = attributes  # False: no operator attributes (policies the bulk SQL path expresses)
        self.params: dict[str, dict[str, Any]] = {}
        self.choices: dict[str, Callable[[Draw], Any]] = {}  # how to draw another valid value

    def param(self, kind: str, value: Any, choose: Callable[[Draw], Any]) -> str:
        name = f"{self.name}_p{len(self.params)}"
        self.params[name] = {"type": kind, "default": value}
        self.choices[name] = choose
        return f"params.{name}"


def _enum_value(draw: Draw, path: str) -> str:
    info = F.field_info(path)
    if info is not None and info.values:
        return str(draw(st.sampled_from(info.values)))
    if path in ("handled_by", "on_duty"):
        return str(draw(st.sampled_from(["t0", "t1", "t9"])))
    if path == "request.forfeiture.breach":
        return str(draw(st.sampled_from(BREACHES)))
    if path in ("player.rg_markers",):
        return str(draw(st.sampled_from(MARKERS)))
    return str(draw(st.sampled_from(TEXTS[:4])))


def _number_literal(draw: Draw, path: str) -> Decimal:
    if path in ("player.vip_level", "player.account_age_days", "request.withdrawal.pending_hours"):
        return Decimal(draw(st.sampled_from([0, 1, 3, 5, 48, 100])))
    if draw(st.integers(0, 5)) == 0:
        return Decimal(draw(st.sampled_from(SIGNED)))
    return Decimal(_money(draw))


def _number_rhs(draw: Draw, pack: _Pack, path: str) -> Any:
    """A number right-hand side: literal, parameter, tier limit or (sometimes) a field."""
    how = draw(st.sampled_from(["literal", "literal", "param", "tier", "field"]))
    if how == "param":
        if path == "player.vip_level" and draw(st.booleans()):
            return pack.param("integer", int(_number_literal(draw, path)), lambda d: d(st.integers(0, 6)))
        return pack.param("money", _money(draw), _money)
    if how == "tier":
        return f"tiers.{draw(st.sampled_from(pack.tiers.reachable + pack.tiers.internal))}.{draw(st.sampled_from(ACTIONS))}"
    if how == "field":
        return ("field", draw(st.sampled_from([p for p in NUMBER_FIELDS if p != path] + _attr(pack, "attributes.a"))))
    return _number_literal(draw, path)


def _comparison(draw: Draw, pack: _Pack) -> dict[str, Any]:
    """One comparison as a mapping {field, op, value|ref} (rendered later)."""
    group = draw(st.sampled_from(["number", "number", "text", "bool", "list", "object", *_attr(pack, "attr", "attr"), "time"]))
    if group == "number":
        path = draw(st.sampled_from(NUMBER_FIELDS))
        op = draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "in", "not-in", "between", "exists",
                                   "not-exists"]))
        if op in ("exists", "not-exists"):
            return {"field": path, "op": op}
        if op in ("in", "not-in"):
            return {"field": path, "op": op, "value": [_number_literal(draw, path) for _ in range(draw(st.integers(0, 3)))]}
        if op == "between":
            # a bound may be another field: only the compact form can say that (see _leaf)
            return {"field": path, "op": op, "value": [_number_rhs(draw, pack, path) for _ in range(2)]}
        right = _number_rhs(draw, pack, path)
        if isinstance(right, tuple):
            return {"field": path, "op": op, "ref": right[1]}
        return {"field": path, "op": op, ("ref" if isinstance(right, str) else "value"): right}
    if group == "text":
        path = draw(st.sampled_from(TEXT_FIELDS))
        op = draw(st.sampled_from(["==", "!=", "in", "not-in", "exists", "not-exists", "null"]))
        if op in ("exists", "not-exists"):
            return {"field": path, "op": op}
        if op == "null":
            return {"field": path, "op": draw(st.sampled_from(["==", "!="])), "value": None}
        if op in ("in", "not-in"):
            values = sorted({_enum_value(draw, path) for _ in range(draw(st.integers(0, 3)))})
            if values and draw(st.integers(0, 3)) == 0:
                return {"field": path, "op": op, "ref": pack.param("strings", values, lambda d: [_enum_value(d, path)])}
            return {"field": path, "op": op, "value": values}
        how = draw(st.sampled_from(["literal", "literal", "param", "field"]))
        if how == "param":
            return {"field": path, "op": op, "ref": pack.param("string", _enum_value(draw, path),
                                                                lambda d: _enum_value(d, path))}
        if how == "field":
            other = draw(st.sampled_from(["handled_by", "player.id", "request.forfeiture.breach", *_attr(pack, "attributes.b")]))
            return {"field": path, "op": op, "ref": other}
        return {"field": path, "op": op, "value": _enum_value(draw, path)}
    if group == "bool":
        path = draw(st.sampled_from(BOOL_FIELDS))
        how = draw(st.sampled_from(["literal", "param", "field", "exists"]))
        op = draw(st.sampled_from(["==", "!="]))
        if how == "exists":
            return {"field": path, "op": draw(st.sampled_from(["exists", "not-exists"]))}
        if how == "param":
            return {"field": path, "op": op, "ref": pack.param("boolean", draw(st.booleans()), lambda d: d(st.booleans()))}
        if how == "field":
            return {"field": path, "op": op, "ref": draw(st.sampled_from([p for p in BOOL_FIELDS if p != path]
                                                                          + _attr(pack, "attributes.b")))}
        return {"field": path, "op": op, "value": draw(st.booleans())}
    if group == "list":
        path = draw(st.sampled_from(LIST_FIELDS))
        op = draw(st.sampled_from(["contains", "not-contains", "exists", "not-exists"]))
        if op in ("exists", "not-exists"):
            return {"field": path, "op": op}
        if draw(st.integers(0, 3)) == 0:
            return {"field": path, "op": op, "ref": pack.param("string", _enum_value(draw, path),
                                                                lambda d: _enum_value(d, path))}
        return {"field": path, "op": op, "value": _enum_value(draw, path)}
    if group == "object":
        return {"field": draw(st.sampled_from(OBJECT_FIELDS)), "op": draw(st.sampled_from(["exists", "not-exists"]))}
    if group == "time":
        instant = draw(st.sampled_from(INSTANTS)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {"field": "opened_at", "op": draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">="])),
                "value": instant}
    path = draw(st.sampled_from(ATTRIBUTES[:3]))
    op = draw(st.sampled_from(["==", "!=", "<", ">=", "in", "not-in", "contains", "not-contains", "exists",
                               "not-exists", "between", "field"]))
    if op in ("exists", "not-exists"):
        return {"field": path, "op": op}
    if op in ("<", ">="):
        return {"field": path, "op": op, "value": Decimal(_money(draw))}
    if op == "between":
        return {"field": path, "op": op, "value": sorted(Decimal(_money(draw)) for _ in range(2))}
    if op in ("contains", "not-contains"):
        return {"field": path, "op": op, "value": draw(st.sampled_from(TEXTS[:4]))}
    if op == "field":
        other = draw(st.sampled_from([p for p in ATTRIBUTES[:3] if p != path] + ["request.amount", "player.kyc",
                                                                                "player.self_excluded"]))
        ops = ["==", "!=", "<", ">="] if other.startswith(("attributes.", "request.amount")) else ["==", "!="]
        return {"field": path, "op": draw(st.sampled_from(ops)), "ref": other}
    scalar = st.one_of(st.sampled_from(TEXTS), st.booleans(), st.sampled_from(MONEY).map(Decimal))
    if op in ("in", "not-in"):
        return {"field": path, "op": op, "value": draw(st.lists(scalar, max_size=3))}
    return {"field": path, "op": op, "value": draw(scalar)}


def _condition(draw: Draw, pack: _Pack, depth: int = 0) -> Any:
    """A condition tree in mapping form; leaves may come out as compact strings."""
    kind = draw(st.sampled_from(["leaf", "leaf", "all", "any", "not"] if depth < 3 else ["leaf"]))
    if kind == "leaf":
        return _leaf(draw, _comparison(draw, pack))
    if kind == "not":
        return {"not": _condition(draw, pack, depth + 1)}
    items = [_condition(draw, pack, depth + 1) for _ in range(draw(st.integers(1, 3)))]
    return {kind: items}


def _leaf(draw: Draw, comparison: dict[str, Any]) -> Any:
    """The comparison as a mapping, or as a compact string where one can say it."""
    text = _compact(comparison)
    if comparison["op"] == "between" and any(isinstance(b, tuple) for b in comparison["value"]):
        return text
    if text is None or draw(st.booleans()):
        return comparison
    return text


def _word(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, str):
        return None if "'" in value else f"'{value}'"
    return None


def _compact(comparison: dict[str, Any]) -> str | None:
    field, op = comparison["field"], comparison["op"]
    op_text = {"not-in": "not in", "not-contains": "not contains", "not-exists": "not exists"}.get(op, op)
    if op in ("exists", "not-exists"):
        return f"{field} {op_text}"
    if "ref" in comparison:
        return f"{field} {op_text} {comparison['ref']}"
    value = comparison["value"]
    if value is None:
        return f"{field} {op_text} null"
    if op == "between":
        low, high = (v[1] if isinstance(v, tuple) else v if isinstance(v, str) else _word(v) for v in value)
        return None if low is None or high is None else f"{field} between [{low}, {high}]"
    if isinstance(value, list):
        words = [_word(v) for v in value]
        if not words or None in words:
            return None  # an empty list has no compact form
        return f"{field} {op_text} [{', '.join(w for w in words if w)}]"
    if field == "opened_at":
        return f"{field} {op_text} {value}"
    word = _word(value)
    return None if word is None else f"{field} {op_text} {word}"


# -- packs, policies --------------------------------------------------------------------------


def _effects(draw: Draw, pack: _Pack) -> dict[str, Any]:
    tiers = pack.tiers
    then: dict[str, Any] = {}
    if draw(st.integers(0, 3)):
        then["require"] = draw(st.sampled_from(tiers.reachable))
    if draw(st.integers(0, 3)) == 0:
        action = draw(st.sampled_from(ACTIONS))
        how = draw(st.sampled_from(["money", "param", "tier"]))
        if how == "param":
            amount: Any = pack.param("money", _money(draw), _money)
        elif how == "tier":
            amount = f"tiers.{draw(st.sampled_from(tiers.reachable))}.{draw(st.sampled_from(ACTIONS))}"
        else:
            amount = Decimal(_money(draw))
        then["cap"] = {action: amount}
    if draw(st.integers(0, 4)) == 0:
        then["deny"] = [draw(st.sampled_from(ACTIONS))]
    if draw(st.integers(0, 12)) == 0:
        then["procedure"] = "complaint"
    if tiers.internal and draw(st.integers(0, 3)) == 0:
        then["forward"] = [draw(st.sampled_from(tiers.internal))]
    if draw(st.integers(0, 2)) == 0:
        then["flag"] = [draw(st.sampled_from(FLAGS))]
    if draw(st.booleans()):
        then["reason"] = draw(st.sampled_from([
            "Amount {request.amount} against {tiers.t0.goodwill_bonus}.", "Handled by {handled_by}.",
            "Markers {player.rg_markers}, brand {attributes.a}." if pack.attributes else "Markers {player.rg_markers}.",
            "Opened {opened_at}."]))
    if not then:
        then["flag"] = ["vip"]
    return then


def _attr(pack: _Pack, *items: str) -> list[str]:
    """`items` when the pack may use operator attributes, else none."""
    return list(items) if pack.attributes else []


def _pack(draw: Draw, name: str, tiers: _Tiers, attributes: bool = True) -> tuple[_Pack, dict[str, Any]]:
    pack = _Pack(name, tiers, attributes)
    rules = []
    for number in range(draw(st.integers(1, 6))):
        rules.append({"id": f"r{number}", "description": f"rule {number} of {name}",
                      "priority": draw(st.sampled_from([0, 0, 5, 10])),
                      "when": _condition(draw, pack), "then": _effects(draw, pack)})
    document: dict[str, Any] = {"pack": name}
    if pack.params:
        document["params"] = pack.params
    document["rules"] = rules
    return pack, document


@st.composite
def policy_files(draw: Draw, attributes: bool = True) -> PolicyFiles:
    """A random valid set of policies (base <- [middle <-] leaf, jurisdiction XX) and rule packs.

    `attributes=False`: no rule reads or quotes operator attributes (what the bulk SQL path expresses)."""
    tiers = _tiers(draw)
    packs = [_pack(draw, f"p{i}", tiers, attributes) for i in range(draw(st.integers(1, 3)))]
    rule_ids = [f"{pack.name}.{rule['id']}" for pack, doc in packs for rule in doc["rules"]]
    complaints = draw(st.sampled_from(tiers.reachable))
    base: dict[str, Any] = {"policy": "base", "version": "1", "abstract": True, "complaints_tier": complaints,
                            "tiers": tiers.specs, "rules": {"packs": [pack.name for pack, _ in packs]}}
    if draw(st.booleans()):
        base["sla"] = {"escalated": {"acknowledge": "24h"}, "complaint": {"acknowledge": "48h", "resolve": "8w"}}
    chain = [base]
    if draw(st.booleans()):
        chain.append({"policy": "middle", "version": "2", "abstract": True, "extends": "base"})
    leaf = {"policy": "leaf", "version": "3", "extends": chain[-1]["policy"], "jurisdictions": [JURISDICTION]}
    chain.append(leaf)
    disabled: list[str] = []
    for child in chain[1:]:  # overrides: parameters, a tier's limits, rule selection
        params = {name: pack.choices[name](draw) for pack, _ in packs for name in pack.params if draw(st.booleans())}
        if params:
            child["params"] = params
        if draw(st.booleans()):
            tier = draw(st.sampled_from(tiers.reachable))
            child["tiers"] = [{"id": tier, "authority": _authority(draw, tier == "t0")}]
        selection: dict[str, Any] = {}
        if draw(st.integers(0, 2)) == 0:
            selection["disable"] = sorted({draw(st.sampled_from(rule_ids))})
            disabled.extend(selection["disable"])
        if disabled and draw(st.integers(0, 2)) == 0:
            selection["enable"] = [draw(st.sampled_from(disabled))]
        if selection:
            child["rules"] = selection
    files = [(f"policies/{doc['policy']}.yaml", doc) for doc in chain]
    files += [(f"rules/{pack.name}.yaml", doc) for pack, doc in packs]
    return PolicyFiles(tuple(files))


# -- cases ------------------------------------------------------------------------------------


def thresholds(policy: CompiledPolicy) -> list[Decimal]:
    """Every number the policy compares with: literals, parameters, tier limits."""
    found: set[Decimal] = set()
    for rule in policy.rules:
        for node in walk(rule.condition):
            right = getattr(node, "right", None)
            if isinstance(right, Const):
                values = right.value if isinstance(right.value, tuple) else (right.value,)
                found.update(v for v in values if isinstance(v, Decimal) and not isinstance(v, bool))
    for tier in policy.tiers:
        found.update(amount for _, amount in tier.authority)
    return sorted(found)


def _near(draw: Draw, points: list[Decimal], step: Decimal, low: Decimal, high: Decimal) -> Decimal:
    """A number at, just below or just above one of the points (or anywhere), within [low, high]."""
    if points and draw(st.integers(0, 4)):
        value = draw(st.sampled_from(points)) + draw(st.sampled_from([-step, Decimal(0), step]))
    else:
        value = Decimal(draw(st.integers(0, 3000))) * step
    return Decimal(min(max(value, low), high))


@st.composite
def cases_for(draw: Draw, policy: CompiledPolicy, attributes: bool = True) -> dict[str, Any]:
    """A valid case for `policy`: optional fields sometimes absent, numbers near its thresholds
    (`attributes=False`: without operator attributes)."""
    points = thresholds(policy)
    cent, unit, zero = Decimal("0.01"), Decimal(1), Decimal(0)
    reachable = [t.id for t in policy.tiers if t.player_reachable]

    def money() -> str:
        return str(_near(draw, points, cent, zero, Decimal("999999999.99")).quantize(cent))

    def count(high: int) -> int:
        return int(_near(draw, [p for p in points if p == p.to_integral_value()], unit, zero, Decimal(high)))

    request: dict[str, Any] = {"kind": _enum_value(draw, "request.kind")}
    if draw(st.booleans()):
        request["amount"] = money()
    request["asked_for"] = draw(st.lists(st.sampled_from(F.CASE_FIELDS["request.asked_for"].values or ()),
                                         max_size=2, unique=True))
    if draw(st.booleans()):
        request["withdrawal"] = {"amount": money(), "pending_hours": count(200)}
    if draw(st.booleans()):
        forfeiture: dict[str, Any] = {"winnings": money()}
        if draw(st.booleans()):
            forfeiture["breach"] = draw(st.sampled_from(BREACHES))
        if draw(st.booleans()):
            forfeiture["deliberate"] = draw(st.booleans())
        request["forfeiture"] = forfeiture
    case: dict[str, Any] = {
        "case_id": "C-1", "jurisdiction": JURISDICTION,
        "opened_at": draw(st.sampled_from(INSTANTS)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "channel": _enum_value(draw, "channel"), "handled_by": draw(st.sampled_from(reachable)),
        "status": _enum_value(draw, "status"),
        "player": {"id": draw(st.sampled_from(["P-1", "alpha", "t0", "é"])), "vip_level": count(5),
                   "account_age_days": count(10_000),
                   "net_loss_30d": str(_near(draw, points, cent, Decimal("-1000"), Decimal("1e9")).quantize(cent)),
                   "rg_markers": draw(st.lists(st.sampled_from(MARKERS), max_size=2, unique=True)),
                   "kyc": _enum_value(draw, "player.kyc"), "self_excluded": draw(st.booleans())},
        "request": request,
    }
    if draw(st.booleans()):
        case["on_duty"] = draw(st.lists(st.sampled_from(reachable), max_size=3, unique=True))
    drawn = _attributes(draw, points) if attributes else {}
    if drawn:
        case["attributes"] = drawn
    return case


def _attributes(draw: Draw, points: list[Decimal]) -> dict[str, Any]:
    def scalar() -> Any:
        kind = draw(st.sampled_from(["number", "text", "bool"]))
        if kind == "number":
            return str(_near(draw, points, Decimal("0.01"), Decimal(-100), Decimal("1e9")))
        return draw(st.sampled_from(TEXTS)) if kind == "text" else draw(st.booleans())

    def value() -> Any:
        kind = draw(st.sampled_from(["scalar", "scalar", "scalar", "list", "absent"]))
        if kind == "list":
            return [scalar() for _ in range(draw(st.integers(0, 3)))]
        return None if kind == "absent" else scalar()

    out: dict[str, Any] = {}
    for name in ("a", "b"):
        drawn = value()
        if drawn is not None:
            out[name] = Decimal(drawn) if isinstance(drawn, str) and _is_number(drawn) and draw(st.booleans()) \
                else drawn
    shape = draw(st.sampled_from(["absent", "object", "scalar", "empty"]))
    if shape == "object":
        inner = value()
        out["c"] = {} if inner is None else {"d": inner}
    elif shape == "scalar":
        out["c"] = scalar()
    elif shape == "empty":
        out["c"] = []
    return out


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


# -- large policies (tests/test_policy_scale.py, benchmarks/rule_scaling.py) ---------------------
# Rule i: `request.amount > A_i and player.vip_level >= M_i`, requiring one of four tiers: the
# shape that made durable_rules abort the process (200 rules) and hang (2,000 rules).

_BASE = """policy: base
version: "1"
abstract: true
complaints_tier: complaints
tiers:
  - {id: agent, name: Agent, level: 1, fallback: callback,
     authority: {goodwill_bonus: 50.00, withdrawal_expedite: 1000.00, forfeiture_reversal: 100.00}}
  - {id: vip, name: VIP manager, level: 2, fallback: email,
     authority: {goodwill_bonus: 200.00, withdrawal_expedite: 5000.00, forfeiture_reversal: 500.00}}
  - {id: rg, name: Responsible gambling, level: 2, fallback: callback,
     authority: {goodwill_bonus: 0.00, withdrawal_expedite: 5000.00, forfeiture_reversal: 500.00}}
  - {id: supervisor, name: Supervisor, level: 3, fallback: callback,
     authority: {goodwill_bonus: 500.00, withdrawal_expedite: 10000.00, forfeiture_reversal: 1000.00}}
  - {id: complaints, name: Complaints manager, level: 4, fallback: email,
     authority: {goodwill_bonus: 1000.00, withdrawal_expedite: 20000.00, forfeiture_reversal: 5000.00}}
rules:
  packs: [big]
"""
_POLICY = 'policy: xx\nversion: "1"\nextends: base\njurisdictions: [XX]\n'


def write_scaled_policy(folder: Path, rules: int, seed: int = 1) -> tuple[Path, Path]:
    """Write an N-rule policy under `folder`; returns (policies dir, rules dir)."""
    policies, packs = folder / "policies", folder / "rules"
    policies.mkdir(parents=True, exist_ok=True)
    packs.mkdir(parents=True, exist_ok=True)
    (policies / "base.yaml").write_text(_BASE)
    (policies / "xx.yaml").write_text(_POLICY)
    rng = random.Random(seed)
    lines = ["pack: big", "rules:"]
    for i in range(rules):
        amount, level = rng.randint(0, 1000), rng.randint(0, 5)
        tier = rng.choice(["agent", "vip", "rg", "supervisor"])
        lines.append(f"  - {{id: r{i}, description: rule {i}, priority: {rng.randint(0, 3)},"
                     f" when: request.amount > {amount} and player.vip_level >= {level}, then: {{require: {tier}}}}}")
    (packs / "big.yaml").write_text("\n".join(lines) + "\n")
    return policies, packs


def scale_cases() -> list[dict[str, Any]]:
    """Cases with few, many and most rules firing (and one with no amount: none fire)."""
    base: dict[str, Any] = {"case_id": "C-1", "jurisdiction": "XX", "opened_at": "2026-11-20T14:03:00Z", "channel": "live_chat",
            "handled_by": "agent", "status": "open",
            "player": {"id": "P-1", "vip_level": 0, "account_age_days": 100, "net_loss_30d": "0.00",
                       "rg_markers": [], "kyc": "verified", "self_excluded": False},
            "request": {"kind": "other"}}
    cases = []
    for number, (amount, level) in enumerate([(None, 5), ("10.00", 0), ("400.00", 3), ("999.99", 5), ("1000.00", 5)]):
        player = dict(base["player"])
        player["vip_level"] = level
        case = {**base, "case_id": f"C-{number}", "player": player,
                "request": {"kind": "other"} if amount is None else {"kind": "other", "amount": amount}}
        cases.append(case)
    return cases
