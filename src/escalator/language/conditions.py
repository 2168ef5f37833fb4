"""The condition language: compact strings and mappings -> IR conditions.

    request.kind == bonus_request and request.amount > tiers.agent.goodwill_bonus

is tokenised and parsed by a small recursive-descent parser (grammar in
docs/policy-authoring.md); the mapping form (`all`/`any`/`not`/`field`+`op`)
builds the same nodes. Operands are resolved through a `Scope` (case fields,
`params.*`, `tiers.*.*`) and every comparison is type-checked here, so a policy
that loads is a policy whose conditions make sense. No text is ever evaluated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Callable

from escalator.language import fields as F
from escalator.errors import Location, describe
from escalator.money import to_decimal
from escalator.language.time import parse_duration
from escalator.language.typecheck import ConditionError, check_types, suggest
from escalator.language.yamlio import DocPath
from escalator.language.ir import FLIPPED_OP, AllOf, AnyOf, Compare, Condition, Const, Field, Not, Param, Tier

MAPPING_OPS = {
    "==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">=",
    "in": "in", "not-in": "not in", "contains": "contains", "exists": "exists",
    "not-exists": "not exists", "not-contains": "not contains", "between": "between",
}


@dataclass(frozen=True)
class Scope:
    """What names a condition can use: the policy's parameters and tiers, and case fields."""

    params: dict[str, Param]
    tiers: dict[str, Tier]
    actions: tuple[str, ...]
    used_params: set[str]

    # -- operands -------------------------------------------------------------
    def reference(self, name: str) -> Field | Const:
        if name.startswith("params."):
            key = name[len("params."):]
            if key not in self.params:
                raise ConditionError(
                    f"unknown parameter {name!r}", suggest(key, self.params, "params."), "E-PARAM"
                )
            self.used_params.add(key)
            return Const(self.params[key].value, name)
        if name.startswith("tiers."):
            parts = name.split(".")
            if len(parts) != 3:
                raise ConditionError(f"{name!r}: a tier limit is written tiers.TIER.ACTION", code="E-TIER")
            _, tier_id, action = parts
            if tier_id not in self.tiers:
                raise ConditionError(f"unknown tier {tier_id!r} in {name!r}", suggest(tier_id, self.tiers), "E-TIER")
            if action not in self.actions:
                raise ConditionError(f"unknown action {action!r} in {name!r}", suggest(action, self.actions), "E-ACTION")
            return Const(self.tiers[tier_id].limit(action), name)
        info = F.field_info(name)
        if info is None:
            raise ConditionError(
                f"unknown case field {name!r}", suggest(name, F.CASE_FIELDS), "E-FIELD"
            )
        return Field(info.path, info.kind)

    # -- comparisons ----------------------------------------------------------
    def compare(self, op: str, left: Field | Const, right: Field | Const | None) -> Condition:
        if op == "between":
            low, high = right  # type: ignore[misc]
            return AllOf((self.compare(">=", left, low), self.compare("<=", left, high)))
        if isinstance(left, Const):
            if isinstance(right, Field) and op in FLIPPED_OP:
                left, right, op = right, left, FLIPPED_OP[op]
            else:
                raise ConditionError(f"the left side of {op!r} must be a case field, not the constant {left}")
        if right is None:
            if op not in ("exists", "not exists"):
                raise ConditionError(f"{op!r} needs a right-hand side")
            return Compare(op, left, None)
        if isinstance(right, Const) and right.value is None:
            if op == "==":
                return Compare("not exists", left, None)
            if op == "!=":
                return Compare("exists", left, None)
            raise ConditionError("null can only be compared with == or !=")
        if left.path in F.TIME_FIELDS and isinstance(right, Field):
            raise ConditionError(f"{left.path} is compared with constants only (a duration, a number or "
                                 "true/false), not with the field {right.path}", code="E-TYPE")
        if isinstance(right, Const) and is_duration(right) and left.path not in F.DURATION_FIELDS:
            raise ConditionError(f"a duration ({right.source}) compares with {' or '.join(sorted(F.DURATION_FIELDS))}, "
                                 f"not with {left.path}", code="E-TYPE")
        check_types(op, left, right)
        return Compare(op, left, right)


# -- compact strings -------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<op>==|!=|<=|>=|<|>)
      | (?P<punct>[()\[\],])
      | (?P<string>'[^']*'|"[^"]*")
      | (?P<datetime>\d{4}-\d{2}-\d{2}T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?)
      | (?P<duration>\d+(?:wh|wd|m|h|d|w)(?![\w.]))
      | (?P<number>-?\d+(?:\.\d+)?(?![\w.]))
      | (?P<word>[A-Za-z_][A-Za-z0-9_.\-]*)
    )""",
    re.VERBOSE,
)
KEYWORDS = {"and", "or", "not", "in", "not-in", "contains", "exists", "between", "true", "false", "null"}


@dataclass
class _Token:
    kind: str
    text: str
    pos: int


def tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            hint = None
            if text[pos] == "," and pos and text[pos - 1].isdigit() and text[pos + 1:pos + 2].isdigit():
                hint = "a decimal comma or a thousands separator: write numbers like 10000.00"
            raise ConditionError(f"unexpected {text[pos:].strip()[:20]!r} at character {pos + 1}", hint)
        kind = match.lastgroup or ""
        token_text = match.group(kind)
        start = match.start(kind) + 1
        if kind == "word" and token_text in KEYWORDS:
            kind = "keyword"
        tokens.append(_Token(kind, token_text, start))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str, scope: Scope):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.scope = scope

    def peek(self, offset: int = 0) -> _Token | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def at(self, *texts: str) -> bool:
        token = self.peek()
        return token is not None and token.text in texts and token.kind in ("keyword", "punct", "op")

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise ConditionError(f"the condition ends too early: {self.text!r}")
        self.i += 1
        return token

    def expect(self, text: str) -> None:
        token = self.take()
        if token.text != text:
            raise ConditionError(f"expected {text!r} at character {token.pos}, found {token.text!r}")

    def parse(self) -> Condition:
        if not self.tokens:
            raise ConditionError("empty condition")
        node = self.parse_or()
        token = self.peek()
        if token is not None:
            hint = ("a comma outside a [a, b] list: a decimal comma or a thousands separator? "
                    "write numbers like 10000.00") if token.text == "," else None
            raise ConditionError(f"unexpected {token.text!r} at character {token.pos}", hint)
        return node

    def parse_or(self) -> Condition:
        items = [self.parse_and()]
        while self.at("or"):
            self.take()
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else AnyOf(tuple(items))

    def parse_and(self) -> Condition:
        items = [self.parse_not()]
        while self.at("and"):
            self.take()
            items.append(self.parse_not())
        return items[0] if len(items) == 1 else AllOf(tuple(items))

    def parse_not(self) -> Condition:
        if self.at("not"):
            self.take()
            return Not(self.parse_not())
        if self.at("("):
            self.take()
            node = self.parse_or()
            self.expect(")")
            return node
        return self.parse_comparison()

    def parse_comparison(self) -> Condition:
        left = self.operand()
        token = self.take()
        if token.kind == "op":
            return self.scope.compare(token.text, left, self.operand())
        word = token.text
        if word == "not":
            following = self.take().text
            if following not in ("in", "exists", "contains"):
                raise ConditionError(f"expected in, exists or contains after 'not' at character {token.pos}")
            word = f"not {following}"
        elif word == "not-in":
            word = "not in"
        if word in ("exists", "not exists"):
            return self.scope.compare(word, left, None)
        if word in ("in", "not in"):
            return self.scope.compare(word, left, self.list_operand())
        if word in ("contains", "not contains"):
            return self.scope.compare(word, left, self.operand())
        if word == "between":
            self.expect("[")
            low = self.operand()
            self.expect(",")
            high = self.operand()
            self.expect("]")
            return self.scope.compare("between", left, (low, high))  # type: ignore[arg-type]
        raise ConditionError(f"expected a comparison operator at character {token.pos}, found {token.text!r}")

    def list_operand(self) -> Const:
        if self.at("["):
            self.take()
            items: list[Any] = []
            while not self.at("]"):
                item = self.operand()
                if not isinstance(item, Const) or isinstance(item.value, tuple):
                    raise ConditionError("a list holds constants only")
                items.append(item.value)
                if not self.at("]"):
                    self.expect(",")
            self.take()
            return Const(tuple(items))
        operand = self.operand()
        if isinstance(operand, Const) and isinstance(operand.value, tuple):
            return operand
        raise ConditionError("`in` needs a list like [a, b] or a list parameter")

    def operand(self) -> Field | Const:
        token = self.take()
        if token.kind == "string":
            return Const(token.text[1:-1])
        if token.kind == "number":
            return Const(Decimal(token.text))
        if token.kind == "datetime":
            return Const(_datetime_literal(token.text), token.text)
        if token.kind == "duration":
            return duration_literal(token.text)
        if token.kind == "keyword" and token.text in ("true", "false"):
            return Const(token.text == "true")
        if token.kind == "keyword" and token.text == "null":
            return Const(None)  # type: ignore[arg-type]
        if token.kind == "word":
            return word_operand(token.text, self.scope)
        raise ConditionError(f"expected a value at character {token.pos}, found {token.text!r}")


def word_operand(word: str, scope: Scope) -> Field | Const:
    """A bare word: a reference if it names one, a field if it is a path, else text."""
    if "." in word or word in F.TOP_LEVEL_FIELDS or word in ("params", "tiers"):
        return scope.reference(word)
    return Const(word)


def duration_literal(text: str) -> Const:
    """`72h` -> its seconds, as a number constant that remembers how it was written."""
    try:
        duration = parse_duration(text)
    except ValueError as exc:
        raise ConditionError(str(exc), code="E-DURATION") from None
    if duration.working:
        raise ConditionError(f"{text!r}: ages are compared with elapsed durations (m, h, d, w); working time "
                             "(wh, wd) applies to SLA windows", code="E-DURATION")
    return Const(Decimal(duration.seconds), text)


def is_duration(const: Const) -> bool:
    return const.source is not None and _DURATION_TEXT.match(const.source) is not None


_DURATION_TEXT = re.compile(r"^\d+(?:wh|wd|m|h|d|w)$")


def _datetime_literal(text: str) -> Decimal:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConditionError(f"{text!r} is not a valid date-time") from None
    if moment.tzinfo is None:
        raise ConditionError(f"{text!r} needs a time zone (Z or +01:00)")
    return F.epoch(moment)


# -- mapping form -------------------------------------------------------------


def _literal(value: Any, left: Field | Const) -> Const:
    if isinstance(value, list):
        return Const(tuple(_literal(v, left).value for v in value))  # type: ignore[misc]
    if isinstance(value, bool) or value is None:
        return Const(value)  # type: ignore[arg-type]
    if isinstance(value, (int, float, Decimal)):
        try:
            return Const(to_decimal(value))
        except ValueError as exc:
            raise ConditionError(f"{value}: {exc}") from None
    if isinstance(value, str):
        if isinstance(left, Field) and left.kind == F.DATETIME:
            return Const(_datetime_literal(value), value)
        if isinstance(left, Field) and left.path in F.DURATION_FIELDS:
            return duration_literal(value)
        return Const(value)
    raise ConditionError(f"unsupported literal {value!r}")


At = Callable[[DocPath], Location]  # the source location of a sub-value, by its path


def compile_condition(spec: Any, scope: Scope, at: At, path: DocPath = ()) -> Condition:
    """Compile a `when` value (string, list or mapping) to an IR condition.

    `at(path)` gives the source location of a sub-value, for error messages.
    """
    try:
        if isinstance(spec, str):
            node = _Parser(spec, scope).parse()
            return _locate(node, at(path))
        if isinstance(spec, list):
            if not spec:
                raise ConditionError("an empty list of conditions")
            return AllOf(tuple(compile_condition(s, scope, at, path + (i,)) for i, s in enumerate(spec)))
        if isinstance(spec, dict):
            return _mapping(spec, scope, at, path)
        raise ConditionError(f"expected a condition (text, or a mapping with all/any/not), found {describe(spec)}")
    except ConditionError as exc:
        if exc.location is None:
            exc.location = at(path)
        raise


def _mapping(spec: dict[str, Any], scope: Scope, at: At, path: DocPath) -> Condition:
    keys = set(spec)
    if keys in ({"all"}, {"any"}):
        key = next(iter(keys))
        items = spec[key]
        if not isinstance(items, list) or not items:
            raise ConditionError(f"`{key}` takes a non-empty list of conditions")
        nodes = tuple(compile_condition(s, scope, at, path + (key, i)) for i, s in enumerate(items))
        return AllOf(nodes) if key == "all" else AnyOf(nodes)
    if keys == {"not"}:
        return Not(compile_condition(spec["not"], scope, at, path + ("not",)))
    if "field" in keys:
        allowed = {"field", "op", "value", "ref"}
        if keys - allowed:
            raise ConditionError(f"unknown key(s) {sorted(keys - allowed)} in a comparison (field, op, value|ref)")
        if not isinstance(spec["field"], str):
            raise ConditionError("`field` must be a case path")
        op = MAPPING_OPS.get(spec.get("op", ""))
        if op is None:
            raise ConditionError(
                f"unknown operator {spec.get('op')!r}", f"use one of {', '.join(MAPPING_OPS)}", "E-OP"
            )
        left = scope.reference(spec["field"])
        if "value" in spec and "ref" in spec:
            raise ConditionError("give either `value` or `ref`, not both")
        right: Any
        if op in ("exists", "not exists"):
            if "value" in spec or "ref" in spec:
                raise ConditionError(f"{op!r} takes no value")
            right = None
        elif "ref" in spec:
            if op == "between":
                raise ConditionError("`between` takes `value: [low, high]` (each bound may be params.X or tiers.T.A)")
            if not isinstance(spec["ref"], str):
                raise ConditionError("`ref` must be a path like params.large_win")
            right = scope.reference(spec["ref"])
        elif "value" in spec:
            if op == "between":
                value = spec["value"]
                if not isinstance(value, list) or len(value) != 2:
                    raise ConditionError("`between` takes a value of two bounds: [low, high]")
                right = tuple(
                    scope.reference(v) if isinstance(v, str) and v.startswith(("params.", "tiers.")) else _literal(v, left)
                    for v in value
                )
            else:
                right = _literal(spec["value"], left)
        else:
            raise ConditionError(f"{op!r} needs `value` or `ref`")
        return _locate(scope.compare(op, left, right), at(path))
    raise ConditionError(
        f"unknown condition keys {sorted(keys)}",
        "a condition mapping is {all: [...]}, {any: [...]}, {not: ...} or {field, op, value|ref}",
    )


def _locate(node: Condition, location: Location) -> Condition:
    """Attach the source location to comparisons that have none (for static checks)."""
    if isinstance(node, Compare):
        return node if node.location is not None else Compare(node.op, node.left, node.right, location)
    if isinstance(node, AllOf):
        return AllOf(tuple(_locate(i, location) for i in node.items))
    if isinstance(node, AnyOf):
        return AnyOf(tuple(_locate(i, location) for i in node.items))
    return Not(_locate(node.item, location))
