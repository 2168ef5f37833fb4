"""A compiled policy as ONE SQL query over the table of flattened cases.

    query = decision_query(policy, "duckdb")      # text, transpiled by sqlglot
    problems = unsupported(policy)                 # [] when the query decides like the engine

The query returns one row per case with every decision field (see `OUTPUT`); reason
texts are composed afterwards in Python from the fired rule ids (`escalator.bulk.compose`).
It is built as sqlglot expressions, never by pasting values into text, and follows
`escalator.runtime.decide` step by step. Conditions keep the engine's three-valued
logic: an absent field is NULL, SQL's AND / OR / NOT over NULL are exactly the
reference's, and a rule fires only when its condition IS TRUE. Money is DECIMAL(18,2).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal

from sqlglot import exp

from escalator.bulk.schema import BY_PATH, MONEY_SQL, OBJECT_PRESENCE, TEXTS, sql_path_kind
from escalator.language import fields as F
from escalator.language.time import Duration
from escalator.language.ir import AllOf, AnyOf, Compare, CompiledPolicy, Condition, Const, Field, Not, Rule, walk
from escalator.money import CENT

DIALECTS = ("duckdb", "postgres")  # only dialects the tests execute
ORDERED = ("<", "<=", ">", ">=")
SQL_OPS = {"==": exp.EQ, "!=": exp.NEQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}
MAX_DECIMAL = Decimal("1e15")
TABLE = "cases"


class Unsupported(Exception):
    """Something in a policy the SQL path cannot express; the bulk path then uses the Python engine."""


def unsupported(policy: CompiledPolicy) -> list[str]:
    """Why the SQL query would not decide like the engine ([] when it does)."""
    problems: list[str] = []
    for rule in policy.rules:
        try:
            condition(rule.condition, "duckdb")
            for cap in rule.effects.caps:
                money(cap.amount)
        except Unsupported as exc:
            problems.append(f"rule {rule.id}: {exc}")
    for tier in policy.tiers:
        for action, amount in tier.authority:
            try:
                money(amount)
            except Unsupported as exc:
                problems.append(f"tier {tier.id} {action}: {exc}")
    for situation, sla in policy.sla:
        for period in (sla.acknowledge, sla.resolve):
            if period is not None and period.working:
                problems.append(f"sla {situation}: a period in working time ({period})")
        if sla.pause_in:
            problems.append(f"sla {situation}: a clock that pauses")
    if policy.calendars or any(t.calendar for t in policy.tiers):
        problems.append("calendars (on-duty hours, working time)")
    return problems


# -- literals and columns ------------------------------------------------------------
_TYPES: dict[str, exp.DataType] = {}


def dtype(name: str) -> exp.DataType:
    """A SQL type (parsed once, copied per use: building the query stays fast)."""
    if name not in _TYPES:
        _TYPES[name] = exp.DataType.build(name)
    return _TYPES[name].copy()


def cast(value: exp.Expr, to: str) -> exp.Expr:
    return exp.Cast(this=value, to=dtype(to))
def col(path: str) -> exp.Column:
    return exp.column(path, quoted=True)


def money(value: Decimal) -> exp.Expr:
    if not isinstance(value, Decimal) or value != value.quantize(CENT) or abs(value) >= MAX_DECIMAL:
        raise Unsupported(f"the number {value} is not exact in {MONEY_SQL}")
    return cast(exp.Literal.string(str(value.quantize(CENT))), MONEY_SQL)


def text(value: str) -> exp.Literal:
    return exp.Literal.string(value)


def number(value: int) -> exp.Expr:
    return exp.Literal.number(value)


def joined(items: Sequence[exp.Expr]) -> exp.Expr:
    """The items that are not NULL, in order, joined by commas ('' for none): a list as cheap text.

    Ids, tier names and flags never hold a comma; `split` turns the text back into a list.
    """
    if not items:
        return text("")
    return exp.Anonymous(this="CONCAT_WS", expressions=[text(SEPARATOR), *items])  # NULLs are skipped


SEPARATOR = ","


def split(value: str | None) -> tuple[str, ...]:
    return tuple(value.split(SEPARATOR)) if value else ()


def contains(array: exp.Expr, item: exp.Expr) -> exp.Expr:
    """`item` is in the list; NULL (unknown) when the list is absent."""
    return exp.case().when(exp.Is(this=array.copy(), expression=exp.Null()), exp.Null(), copy=False).else_(
        exp.ArrayContains(this=array, expression=item), copy=False)


def is_true(condition: exp.Expr) -> exp.Expr:
    return exp.func("COALESCE", exp.paren(condition, copy=False), exp.false())


def switch(subject: exp.Expr, pairs: Iterable[tuple[exp.Expr, exp.Expr]],
           default: exp.Expr | None = None) -> exp.Expr:
    case = exp.case(subject)
    for when, then in pairs:
        case = case.when(when, then, copy=False)
    return case.else_(default, copy=False) if default is not None else case


# -- conditions ------------------------------------------------------------------------
def _field(field: Field) -> exp.Expr:
    kind = sql_path_kind(field.path)
    if kind is None or kind == F.ANY:
        raise Unsupported(f"the field {field.path} has no column in the bulk table")
    return col(field.path)


def _scalar(value: object, kind: str) -> exp.Expr:
    if isinstance(value, bool):
        if kind != F.BOOLEAN:
            raise Unsupported(f"a boolean compared with a {kind} field")
        return exp.true() if value else exp.false()
    if isinstance(value, Decimal):
        if kind == F.DATETIME:
            if value != value.to_integral_value():
                raise Unsupported("a date-time constant with fractions of a second")
            return number(int(value))
        if kind != F.NUMBER:
            raise Unsupported(f"a number compared with a {kind} field")
        return money(value)
    if isinstance(value, str) and kind == F.STRING:
        return text(value)
    raise Unsupported(f"the constant {value!r} for a {kind} field")


def _exists(field: Field) -> exp.Expr:
    if field.path in OBJECT_PRESENCE:
        member = OBJECT_PRESENCE[field.path]
        return exp.true() if member is None else exp.not_(exp.Is(this=col(member), expression=exp.Null()), copy=False)
    column = _field(field)
    if BY_PATH[field.path].kind == TEXTS:
        return exp.GT(this=exp.func("COALESCE", exp.ArraySize(this=column), number(0)), expression=number(0))
    return exp.not_(exp.Is(this=column, expression=exp.Null()), copy=False)


def _compare(node: Compare, dialect: str) -> exp.Expr:
    op, left = node.op, node.left
    if op == "exists":
        return _exists(left)
    if op == "not exists":
        return exp.not_(exp.paren(_exists(left), copy=False), copy=False)
    kind = left.kind
    column = _field(left)
    right = node.right
    if isinstance(right, Field):
        if op not in SQL_OPS or right.kind != kind or kind not in (F.NUMBER, F.DATETIME, F.STRING, F.BOOLEAN):
            raise Unsupported(f"{left.path} {op} {right.path}")
        if op in ORDERED and kind not in (F.NUMBER, F.DATETIME):
            raise Unsupported(f"ordering of {kind} fields ({left.path} {op} {right.path})")
        return SQL_OPS[op](this=column, expression=_field(right))
    if not isinstance(right, Const) or right.value is None:
        raise Unsupported(f"{left.path} {op} {right}")
    value = right.value
    if op in ("contains", "not contains"):
        if kind != F.STRINGS or not isinstance(value, str):
            raise Unsupported(f"{left.path} {op} {value!r}")
        found: exp.Expr = contains(column, text(value))
        return found if op == "contains" else exp.not_(exp.paren(found, copy=False), copy=False)
    if kind == F.STRINGS:
        raise Unsupported(f"{op} on the list field {left.path}")
    if op in ("in", "not in"):
        if not isinstance(value, tuple):
            raise Unsupported(f"{left.path} {op} {value!r}")
        items = [_scalar(v, kind) for v in value]
        if not items:  # in []: false for a known value, unknown for an absent one
            found = exp.case().when(exp.Is(this=column, expression=exp.Null()), exp.Null(), copy=False).else_(
                exp.false(), copy=False)
        else:
            found = exp.In(this=column, expressions=items)  # noqa
        return found if op == "in" else exp.not_(exp.paren(found, copy=False), copy=False)
    if op not in SQL_OPS or isinstance(value, tuple):
        raise Unsupported(f"{left.path} {op} {value!r}")
    if op in ORDERED and kind not in (F.NUMBER, F.DATETIME):
        raise Unsupported(f"ordering of a {kind} field ({left.path} {op})")
    return SQL_OPS[op](this=column, expression=_scalar(value, kind))


def condition(node: Condition, dialect: str) -> exp.Expr:
    """A condition as a SQL boolean that is NULL exactly where the reference says unknown."""
    if isinstance(node, AllOf):
        if not node.items:
            return exp.true()
        return exp.and_(*(exp.paren(condition(i, dialect), copy=False) for i in node.items), copy=False)
    if isinstance(node, AnyOf):
        if not node.items:
            return exp.false()
        return exp.or_(*(exp.paren(condition(i, dialect), copy=False) for i in node.items), copy=False)
    if isinstance(node, Not):
        return exp.not_(exp.paren(condition(node.item, dialect), copy=False), copy=False)
    return _compare(node, dialect)


# -- the decision ----------------------------------------------------------------------
POLICY_COLUMN = "_policy"  # the policy of each row, when one query decides for several policies


def fired_column(rule: Rule, prefix: str = "") -> str:
    return f"_r{prefix}{rule.index}"


def _any_fired(rules: Iterable[Rule], prefix: str = "") -> exp.Expr:
    names = [col(fired_column(r, prefix)) for r in rules]
    return exp.or_(*names, copy=False) if names else exp.false()


def _handler(policy: CompiledPolicy, prefix: str) -> exp.Expr:
    """choose_handler: the first fired rule in (level, priority, tier order) order names the handler."""
    tiers = {t.id: t for t in policy.tiers}
    requiring = [r for r in policy.rules if r.effects.require is not None]
    requiring.sort(key=lambda r: (tiers[r.effects.require].level, r.priority, -tiers[r.effects.require].order),  # type: ignore[index]
                   reverse=True)
    if not requiring:  # CASE needs a WHEN
        return text(policy.lowest_tier.id)
    case = exp.case()
    for rule in requiring:
        case = case.when(col(fired_column(rule, prefix)), text(rule.effects.require), copy=False)  # type: ignore[arg-type]
    return case.else_(text(policy.lowest_tier.id), copy=False)


def _seconds(period: Duration | None) -> exp.Expr:
    """An elapsed SLA period as whole seconds (working-time periods are refused by `unsupported`)."""
    return exp.Null() if period is None else number(period.seconds)


OUTPUT = ("case_id", "policy", "handler", "escalate", "transfer", "procedure", "locked", "authority.*",
          "forward", "flags", "deadlines.acknowledge_by", "deadlines.resolve_by", "rules")


POLICY_CODE = "_pk"  # the row's policy as its position in the list (integers compare faster than text)


class _Merge:
    """One expression per policy -> one expression: itself for one policy, else CASE on the row's policy."""

    def __init__(self, policies: Sequence[CompiledPolicy], selector: str = POLICY_COLUMN):
        self.ids = [p.id for p in policies]
        self.selector = selector

    def __call__(self, exprs: Sequence[exp.Expr], default: exp.Expr | None = None) -> exp.Expr:
        if len(exprs) == 1:
            return exprs[0]
        if all(e == exprs[0] for e in exprs[1:]):
            return exprs[0]
        case = exp.case(col(POLICY_CODE))
        for k, e in enumerate(exprs):
            case = case.when(number(k), e, copy=False)
        return case.else_(default, copy=False) if default is not None else case

    def code(self) -> exp.Expr:
        return switch(col(self.selector), ((text(pid), number(k)) for k, pid in enumerate(self.ids)))


def _layer(source: exp.Expr, name: str, columns: Iterable[tuple[str, exp.Expr]]) -> exp.Select:
    select = exp.select(exp.Star(), copy=False).from_(exp.alias_(exp.paren(source, copy=False), name, copy=False), copy=False)
    for column, e in columns:
        select = select.select(exp.alias_(e, column, quoted=True, copy=False), copy=False)
    return select


def decision_select(policy: CompiledPolicy, dialect: str, source: exp.Expr | None = None,
                    keep: tuple[str, ...] = ()) -> exp.Select:
    """The decision query of one policy as a sqlglot expression; `keep` columns of the source are passed through."""
    return decisions_select([policy], dialect, source, keep)


def decisions_select(policies: Sequence[CompiledPolicy], dialect: str, source: exp.Expr | None = None,
                     keep: tuple[str, ...] = (), selector: str = POLICY_COLUMN) -> exp.Select:
    """ONE query deciding rows of several policies: each row by the policy its `_policy` column names.

    Every expression that differs between policies is a CASE on `_policy` (its branches are only
    evaluated for their own rows), so the source is scanned once, whatever the number of policies.
    A row whose `_policy` is none of them gets NULL decision fields."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown SQL dialect {dialect!r}: choose {', '.join(DIALECTS)}")
    if not policies:
        raise ValueError("no policy to decide with")
    for policy in policies:
        problems = unsupported(policy)
        if problems:
            raise Unsupported(f"policy {policy.id}: " + "; ".join(problems) if len(policies) > 1 else "; ".join(problems))
    merge = _Merge(policies, selector)
    multi = len(policies) > 1
    prefixes = [f"{k}_" if multi else "" for k in range(len(policies))]
    source = source if source is not None else exp.to_table(TABLE)
    inner = source.this if isinstance(source, (exp.Paren, exp.Subquery)) and not source.alias else source
    if isinstance(inner, exp.Select):  # PostgreSQL wants every subquery in FROM named
        source = inner.subquery("_cases", copy=False)
    # step 1: every rule's condition, once (and only for the rows of its policy, unless another
    # policy has the same condition: then once for the rows of both)
    if multi:
        source = exp.alias_(exp.paren(exp.select(exp.Star(), exp.alias_(merge.code(), POLICY_CODE, quoted=True, copy=False),
                                                 copy=False).from_(source, copy=False), copy=False), "_coded", copy=False)
    fired = exp.select(exp.Star(), copy=False).from_(source, copy=False)
    conditions = [[is_true(condition(rule.condition, dialect)) for rule in policy.rules] for policy in policies]
    shared: dict[exp.Expr, str] = {}
    counts: dict[exp.Expr, int] = {}
    for per_policy in conditions:
        for holds in set(per_policy):
            counts[holds] = counts.get(holds, 0) + 1
    for k, (policy, prefix) in enumerate(zip(policies, prefixes)):
        for rule, holds in zip(policy.rules, conditions[k]):
            if multi and counts[holds] > 1:
                if holds not in shared:
                    shared[holds] = f"_c{len(shared)}"
                    fired = fired.select(exp.alias_(holds, shared[holds], quoted=True, copy=False), copy=False)
                holds = col(shared[holds])
            elif multi:
                holds = exp.case().when(exp.EQ(this=col(POLICY_CODE), expression=number(k)), holds,
                                        copy=False).else_(exp.false(), copy=False)
            fired = fired.select(exp.alias_(holds, fired_column(rule, prefix), quoted=True, copy=False), copy=False)
    # step 2: handler, procedure, locked (spec 6.2)
    locked = merge([exp.or_(exp.EQ(this=col("status"), expression=text("complaint")),
                            _any_fired((r for r in p.rules if r.effects.procedure), prefix), copy=False)
                    for p, prefix in zip(policies, prefixes)])
    staged = _layer(fired, "_fired", [("_locked", locked),
                                      ("_required", merge([_handler(p, prefix) for p, prefix in zip(policies, prefixes)]))])
    handler = exp.case().when(col("_locked"), merge([text(p.complaints_tier) for p in policies]), copy=False).else_(
        col("_required"), copy=False)
    staged2 = _layer(staged, "_staged", [("_handler", handler)])

    def level(policy: CompiledPolicy, subject: exp.Expr) -> exp.Expr:
        return switch(subject, ((text(t.id), number(t.level)) for t in policy.tiers))
    escalate = merge([exp.GT(this=level(p, col("_handler")), expression=level(p, col("handled_by"))) for p in policies])
    staged3 = _layer(staged2, "_handled", [("_escalate", escalate)])
    outputs: list[exp.Expr] = [*(col(k) for k in keep), col("case_id"),
                               exp.alias_(col(selector) if multi else text(policies[0].id), "policy", quoted=True,
                                          copy=False),
                               exp.alias_(col("_handler"), "handler", quoted=True, copy=False),
                               exp.alias_(col("_escalate"), "escalate", quoted=True, copy=False)]
    # step 4: transfer
    on_duty = col("on_duty")
    live = exp.or_(exp.Is(this=on_duty, expression=exp.Null()), exp.ArrayContains(this=on_duty.copy(), expression=col("_handler")), copy=False)
    fallback = merge([switch(col("_handler"), ((text(t.id), text(t.fallback)) for t in p.tiers)) for p in policies])
    outputs.append(exp.alias_(exp.case().when(live, text("live"), copy=False).else_(fallback, copy=False), "transfer", quoted=True))
    outputs.append(exp.alias_(exp.case().when(col("_locked"), text("complaint"), copy=False).else_(exp.Null(), copy=False), "procedure",
                              quoted=True))
    outputs.append(exp.alias_(col("_locked"), "locked", quoted=True, copy=False))
    # step 3: authority = min(handler's limit, caps); deny = 0 (an action a policy lacks: NULL for its rows)
    for action in dict.fromkeys(a for p in policies for a in p.actions):
        amounts = [_authority(p, prefix, action) if action in p.actions else cast(exp.Null(), MONEY_SQL)
                   for p, prefix in zip(policies, prefixes)]
        outputs.append(exp.alias_(cast(merge(amounts), MONEY_SQL), f"authority.{action}", quoted=True, copy=False))
    # forward (policy tier order), flags (sorted), deadlines, fired rule ids (sorted by id: the order of reasons)
    for name in ("forward", "flags", "deadlines.acknowledge_by", "deadlines.resolve_by", "rules"):
        outputs.append(exp.alias_(merge([_OUTPUTS[name](p, prefix) for p, prefix in zip(policies, prefixes)]), name,
                                  quoted=True, copy=False))
    return exp.select(*outputs, copy=False).from_(exp.alias_(exp.paren(staged3), "_decided", copy=False), copy=False)


def _authority(policy: CompiledPolicy, prefix: str, action: str) -> exp.Expr:
    limit = switch(col("_handler"), ((text(t.id), money(t.limit(action))) for t in policy.tiers))
    caps = [exp.case().when(col(fired_column(r, prefix)), money(c.amount), copy=False).else_(exp.Null(), copy=False)
            for r in policy.rules for c in r.effects.caps if c.action == action]
    capped = exp.func("LEAST", limit, *caps) if caps else limit
    deniers = [r for r in policy.rules if action in r.effects.deny]
    if deniers:
        capped = exp.case().when(_any_fired(deniers, prefix), money(Decimal("0.00")), copy=False).else_(capped, copy=False)
    return capped


def _forward(policy: CompiledPolicy, prefix: str) -> exp.Expr:
    rules = policy.rules
    return joined([exp.case().when(_any_fired((r for r in rules if t.id in r.effects.forward), prefix), text(t.id),
                                   copy=False).else_(exp.Null(), copy=False)
                   for t in policy.tiers if any(t.id in r.effects.forward for r in rules)])


def _flags(policy: CompiledPolicy, prefix: str) -> exp.Expr:
    names = sorted({f for r in policy.rules for f in r.effects.flags})
    return joined([exp.case().when(_any_fired((r for r in policy.rules if name in r.effects.flags), prefix), text(name),
                                   copy=False).else_(exp.Null(), copy=False) for name in names])


def _deadline(name: str) -> Callable[[CompiledPolicy, str], exp.Expr]:
    def due(policy: CompiledPolicy, prefix: str) -> exp.Expr:
        """Epoch seconds of opened_at + the SLA period of the situation (spec 8)."""
        sla = {s: policy.sla_for(s) for s in ("complaint", "escalated", "default")}
        period = (exp.case().when(col("_locked"), _seconds(getattr(sla["complaint"], name)), copy=False)
                  # the escalated clock: the decision escalates or the case is already escalated (spec 8)
                  .when(exp.or_(col("_escalate"), exp.EQ(this=col("status"), expression=text("escalated")), copy=False),
                        _seconds(getattr(sla["escalated"], name)), copy=False)
                  .else_(_seconds(getattr(sla["default"], name)), copy=False))
        return cast(exp.Add(this=col("opened_at"), expression=exp.paren(period, copy=False)), "BIGINT")
    return due


def _rules(policy: CompiledPolicy, prefix: str) -> exp.Expr:
    return joined([exp.case().when(col(fired_column(r, prefix)), text(r.id), copy=False).else_(exp.Null(), copy=False)
                   for r in sorted(policy.rules, key=lambda r: r.id)])


_OUTPUTS: dict[str, Callable[[CompiledPolicy, str], exp.Expr]] = {
    "forward": _forward, "flags": _flags, "deadlines.acknowledge_by": _deadline("acknowledge"),
    "deadlines.resolve_by": _deadline("resolve"), "rules": _rules,
}


def decision_query(policy: CompiledPolicy, dialect: str, source: exp.Expr | None = None,
                   keep: tuple[str, ...] = (), pretty: bool = False) -> str:
    """The decision query as SQL text in `dialect` (duckdb or postgres)."""
    return decision_select(policy, dialect, source, keep).sql(dialect=dialect, pretty=pretty)


def uses(policy: CompiledPolicy) -> set[str]:
    """The case fields the policy's conditions read."""
    return {node.left.path for rule in policy.rules for node in walk(rule.condition) if isinstance(node, Compare)}

