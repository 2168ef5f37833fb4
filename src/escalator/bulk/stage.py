"""Reading raw rows into the table of flattened cases, in DuckDB: typed columns plus `_ok`.

A row is `_ok` only when SQL can see that it is a valid case, read exactly as the
Python engine reads it, under a policy whose query is exact. Everything else
(a doubtful number, a key SQL does not know, operator attributes, a bad row) goes
to the Python engine, whose validation is the contract: it decides the row or
reports it. So the checks here may be stricter than the model, never looser.

Three raw forms: "json" (one JSON document per row, column `json`), "flat" (typed
columns named by dotted path, as Parquet holds them) and "text" (the same columns,
every cell text, as CSV holds them; lists are JSON arrays).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from decimal import Decimal

from sqlglot import exp

from escalator.bulk.schema import (
    BOOL, BY_PATH, COLUMNS, INSTANT, INT, MONEY, NUMBER, OBJECTS, SIGNED_MONEY, TEXT, TEXTS, Column, MONEY_SQL, scale_column,
)
from escalator.bulk.sql import cast, col, dtype, number, text
from escalator.language.ir import CompiledPolicy
from escalator.money import MAX_AMOUNT, MAX_NUMBER

JSON, FLAT, TEXT_CELLS = "json", "flat", "text"
# the SQL path decides at the run's instant from opened_at alone: a case that names its own instant
# or carries a status history (SLA clocks from history, spec section 8) goes to the Python engine
PYTHON_ONLY_KEYS = ("as_of", "history")
TOP_KEYS = ("case_id", "jurisdiction", "opened_at", "channel", "handled_by", "status", "on_duty", "player", "request",
            "attributes", *PYTHON_ONLY_KEYS)
OBJECT_KEYS = {
    "player": ("id", "vip_level", "account_age_days", "net_loss_30d", "rg_markers", "kyc", "self_excluded"),
    "request": ("kind", "amount", "asked_for", "withdrawal", "forfeiture"),
    "request.withdrawal": ("amount", "pending_hours"),
    "request.forfeiture": ("winnings", "breach", "deliberate"),
}
# a plain decimal without exponent, at most two decimals: what SQL and Python read the same way
DECIMAL_TEXT = r"-?[0-9]{1,13}(\.[0-9]{1,2})?"
INTEGER_TEXT = r"-?[0-9]{1,15}"
# UTC only: the engine picks the policy by the day in the instant's own offset, SQL by the UTC day;
# an instant written with another offset goes to the Python engine
INSTANT_TEXT = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](Z|[+-]00:00)"
# a JSON number SQL would read through a double: an exponent, or more than two decimals
DOUBTFUL_JSON_NUMBER = r"[:\[,]\s*-?[0-9]+(\.[0-9]*)?[eE]|[:\[,]\s*-?[0-9]+\.[0-9]{3,}"
INTEGER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "HUGEINT")


def fn(name: str, *args: exp.Expr) -> exp.Expr:
    """A DuckDB function call, written as named (this stage runs on DuckDB only)."""
    return exp.Anonymous(this=name, expressions=list(args))


def lit(value: str) -> exp.Literal:
    return text(value)


def _and(*items: exp.Expr) -> exp.Expr:
    return exp.and_(*(exp.paren(i, copy=False) for i in items), copy=False) if items else exp.true()


def _or(*items: exp.Expr) -> exp.Expr:
    return exp.or_(*(exp.paren(i, copy=False) for i in items), copy=False) if items else exp.false()


def _is_null(e: exp.Expr) -> exp.Expr:
    return exp.Is(this=e, expression=exp.Null())


def _not_null(e: exp.Expr) -> exp.Expr:
    return exp.not_(_is_null(e), copy=False)


def _case(cond: exp.Expr, then: exp.Expr, other: exp.Expr | None = None) -> exp.Expr:
    case = exp.case().when(cond, then, copy=False)
    return case.else_(other, copy=False) if other is not None else case


def _lambda(body: exp.Expr) -> exp.Lambda:
    return exp.Lambda(this=body, expressions=[exp.to_identifier("x")])


X = exp.column("x")


def _in(e: exp.Expr, values: tuple[str, ...]) -> exp.Expr:
    return exp.In(this=e, expressions=[lit(v) for v in values]) if values else exp.false()


def _between(e: exp.Expr, low: exp.Expr, high: exp.Expr) -> exp.Expr:
    return exp.Between(this=e, low=low, high=high)


def _dec(value: Decimal | int) -> exp.Expr:
    return cast(lit(str(value)), MONEY_SQL)


# fields whose text checks the policy checks imply: a row is SQL's only when its jurisdiction is one
# of a policy's and its tiers are the policy's tiers (`policy_choice`, `tiers_ok`), and only names
# that pass the column's own checks are offered there (`known`)
IMPLIED_BY_POLICY = ("jurisdiction", "handled_by", "on_duty")


def known(column: Column, names: tuple[str, ...]) -> tuple[str, ...]:
    """The names a value of `column` may take that pass its checks (what a policy offers SQL to match)."""
    import re

    return tuple(n for n in names if (column.pattern is None or re.fullmatch(column.pattern, n))
                 and (column.max_length is None or len(n) <= column.max_length)
                 and (column.values is None or n in column.values) and len(n) >= 1)


def _text_checks(column: Column, value: exp.Expr) -> exp.Expr:
    if column.path in IMPLIED_BY_POLICY:
        return exp.true()
    checks: list[exp.Expr] = []
    if column.values is not None:
        checks.append(_in(value, column.values))
    if column.pattern is not None:
        checks.append(fn("REGEXP_FULL_MATCH", value, lit(column.pattern)))
    if column.max_length is not None:
        checks.append(exp.LTE(this=fn("LENGTH", value), expression=number(column.max_length)))
    if column.kind == TEXT and column.values is None and column.pattern is None:
        checks.append(exp.GTE(this=fn("LENGTH", value), expression=number(1)))
    return _and(*checks)


def _bounded(pattern: str, max_length: int | None) -> str | None:
    """`[first][rest]*` with at most `max_length` characters, as one regular expression (None: another form)."""
    import re

    found = re.fullmatch(r"(\[[^\]]+\])(\[[^\]]+\])\*", pattern)
    if found is None:
        return None
    rest = "*" if max_length is None else f"{{0,{max_length - 1}}}"
    return f"{found.group(1)}{found.group(2)}{rest}"


def no_nulls(values: exp.Expr) -> exp.Expr:
    """No NULL element in the list (LIST_COUNT counts the others)."""
    return exp.EQ(this=fn("LIST_COUNT", values), expression=fn("LEN", values.copy()))


def _list_checks(column: Column, values: exp.Expr) -> exp.Expr:
    """Every element passes the column's text checks, without a lambda per row where a builtin says it."""
    if column.path in IMPLIED_BY_POLICY:
        return exp.true()
    if column.values is not None and column.pattern is None and column.max_length is None:
        return fn("LIST_HAS_ALL", exp.Array(expressions=[lit(v) for v in column.values]), values)
    bounded = _bounded(column.pattern, column.max_length) if column.pattern is not None and column.values is None else None
    if bounded is not None:  # elements never hold a space: joined by spaces they match "(e( e)*)?"
        return fn("REGEXP_FULL_MATCH", fn("ARRAY_TO_STRING", values, lit(" ")), lit(f"({bounded}( {bounded})*)?"))
    element = _text_checks(column, X)
    bad = fn("LIST_FILTER", values, _lambda(exp.not_(exp.paren(fn("COALESCE", exp.paren(element), exp.false()), copy=False), copy=False)))
    return exp.EQ(this=fn("LEN", bad), expression=number(0))


def _number_checks(column: Column, value: exp.Expr) -> exp.Expr:
    if column.kind == MONEY:
        low, high = _dec(0), _dec(MAX_AMOUNT)
    elif column.kind == SIGNED_MONEY:
        low, high = _dec(-MAX_AMOUNT), _dec(MAX_AMOUNT)
    else:
        low = _dec(max(column.low if column.low is not None else -MAX_NUMBER, -MAX_NUMBER))
        high = _dec(min(column.high if column.high is not None else MAX_NUMBER, MAX_NUMBER))
    return _between(value, low, high)


def _decimal_text(column: Column, raw: exp.Expr) -> tuple[exp.Expr, exp.Expr]:
    """(value, ok) for a number written as text (a JSON number re-read by DuckDB, or a CSV cell)."""
    value = exp.TryCast(this=raw, to=dtype(MONEY_SQL))
    ok = _and(fn("REGEXP_FULL_MATCH", raw, lit(DECIMAL_TEXT)), _not_null(value),
              exp.not_(exp.paren(_and(exp.Like(this=raw, expression=lit("-%")), exp.EQ(this=value, expression=_dec(0))), copy=False), copy=False),
              _number_checks(column, value))
    return value, ok


def _decimals(raw: exp.Expr) -> exp.Expr:
    """How many decimals a decimal text has ("80" 0, "80.5" 1, "80.50" 2)."""
    dot = fn("STRPOS", raw, lit("."))
    return exp.case().when(exp.EQ(this=dot, expression=number(0)), number(0), copy=False).else_(
        exp.Sub(this=fn("LENGTH", raw.copy()), expression=dot.copy()), copy=False)


def _default(column: Column) -> exp.Expr:
    d = column.default
    if d is None:
        return cast(exp.Null(), column.sql_type)
    if column.kind == TEXTS:
        return cast(exp.Array(expressions=[]), "VARCHAR[]")
    if isinstance(d, bool):
        return exp.true() if d else exp.false()
    if isinstance(d, str):
        return lit(d)
    if column.kind == INT:
        return number(int(d))
    return _dec(d)


def _instant_text(raw: exp.Expr) -> tuple[exp.Expr, exp.Expr]:
    moment = exp.TryCast(this=raw, to=dtype("TIMESTAMPTZ"))
    year = exp.TryCast(this=fn("SUBSTR", raw, number(1), number(4)), to=dtype("INTEGER"))
    ok = _and(fn("REGEXP_FULL_MATCH", raw, lit(INSTANT_TEXT)), _not_null(moment),
              _between(year, number(1970), number(2999)))
    return cast(fn("EPOCH", moment), "BIGINT"), ok


# -- JSON documents ---------------------------------------------------------------------
def _jpath(path: str) -> exp.Literal:
    return lit("$." + path)


J = col("_j")


def _json_keys_ok(path: str | None, allowed: tuple[str, ...]) -> exp.Expr:
    keys = fn("JSON_KEYS", J, _jpath(path)) if path else fn("JSON_KEYS", J)
    unknown = fn("LIST_FILTER", keys, _lambda(exp.not_(exp.paren(_in(X, allowed), copy=False), copy=False)))
    return _and(exp.EQ(this=fn("LEN", unknown), expression=number(0)),
                exp.EQ(this=fn("LEN", keys), expression=fn("LEN", fn("LIST_DISTINCT", keys))))


def _json_column(column: Column) -> tuple[exp.Expr, exp.Expr, exp.Expr | None]:
    """(value, ok, integral) for one column read from the JSON document."""
    p = _jpath(column.path)
    kind_of = fn("JSON_TYPE", J, p)
    string = fn("JSON_EXTRACT_STRING", J, p)
    integral: exp.Expr | None = None
    if column.kind == TEXT:
        value, ok = string, _and(exp.EQ(this=kind_of, expression=lit("VARCHAR")), _text_checks(column, string))
    elif column.kind == INT:
        value = exp.TryCast(this=string, to=dtype("BIGINT"))
        ok = _and(_in(kind_of, ("BIGINT", "UBIGINT")), _not_null(value),
                  _between(value, number(column.low or 0), number(column.high or 10**9)))
    elif column.kind in (MONEY, SIGNED_MONEY, NUMBER):  # a JSON number, or decimal text (the model reads both)
        value, ok = _decimal_text(column, string)
        # a plain number (not money) keeps how it was written; JSON re-reads a double's digits, so
        # a NUMBER written with a fraction is only read from text (else the Python engine takes the row)
        kinds = ("BIGINT", "UBIGINT", "VARCHAR") if column.kind == NUMBER else ("BIGINT", "UBIGINT", "DOUBLE", "VARCHAR")
        ok = _and(_in(kind_of, kinds), ok)
        integral = exp.case().when(exp.EQ(this=kind_of, expression=lit("VARCHAR")), _decimals(string),
                                   copy=False).else_(number(0), copy=False)
    elif column.kind == BOOL:
        value = exp.EQ(this=string, expression=lit("true"))
        ok = exp.EQ(this=kind_of, expression=lit("BOOLEAN"))
    elif column.kind == TEXTS:
        items = fn("JSON_EXTRACT", J, lit(f"$.{column.path}[*]"))
        non_text = fn("LIST_FILTER", items, _lambda(exp.NEQ(this=fn("JSON_TYPE", X), expression=lit("VARCHAR"))))
        value = exp.TryCast(this=fn("JSON_EXTRACT", J, p), to=dtype("VARCHAR[]"))
        ok = _and(exp.EQ(this=kind_of, expression=lit("ARRAY")),
                  exp.EQ(this=fn("LEN", non_text), expression=number(0)), _not_null(value), _list_checks(column, value))
    else:  # INSTANT
        value, ok = _instant_text(string)
        ok = _and(exp.EQ(this=kind_of, expression=lit("VARCHAR")), ok)
    return _absent_or(column, kind_of, exp.EQ(this=kind_of, expression=lit("NULL")), value, ok, integral)


def _absent_or(column: Column, missing_test: exp.Expr, null_test: exp.Expr | None, value: exp.Expr,
               ok: exp.Expr, integral: exp.Expr | None) -> tuple[exp.Expr, exp.Expr, exp.Expr | None]:
    """Apply absence: missing -> default / unknown (invalid if required); explicit null -> allowed if nullable."""
    absent = _is_null(missing_test)
    absent_ok = exp.false() if column.required else exp.true()
    present: exp.Expr = exp.not_(absent, copy=False)
    checks: exp.Expr
    if null_test is None:  # a flat row: absent is NULL, and a present value that does not read is not ok
        read = fn("COALESCE", exp.paren(ok, copy=False), exp.false())
        checks = (_and(exp.not_(absent.copy(), copy=False), read) if column.required else _or(absent.copy(), read))
        typed = cast(value, column.sql_type)
        if column.default is not None:
            typed = fn("COALESCE", typed, _default(column))
    else:
        case = exp.case().when(absent, absent_ok, copy=False)
        case = case.when(null_test, exp.true() if column.nullable else exp.false(), copy=False)
        present = _and(present, exp.not_(null_test, copy=False))
        checks = case.else_(fn("COALESCE", exp.paren(ok, copy=False), exp.false()), copy=False)
        typed = exp.case().when(present, cast(value, column.sql_type), copy=False).else_(_default(column), copy=False)
    flag = None
    if integral is not None:  # the scale as written; the default's own when absent
        default = column.default
        exponent = default.as_tuple().exponent if isinstance(default, Decimal) else None
        flag = exp.case().when(present, integral, copy=False).else_(
            number(max(0, -exponent)) if isinstance(exponent, int) else exp.Null(), copy=False)
    return typed, checks, flag


def _json_objects_ok() -> exp.Expr:
    top = _and(exp.EQ(this=fn("JSON_TYPE", J), expression=lit("OBJECT")), _json_keys_ok(None, TOP_KEYS))
    checks = [top]
    for key in PYTHON_ONLY_KEYS:  # absent, null, or (history) an empty list
        kind_of = fn("JSON_TYPE", J, _jpath(key))
        empty = _and(exp.EQ(this=kind_of, expression=lit("ARRAY")),
                     exp.EQ(this=fn("JSON_ARRAY_LENGTH", J, _jpath(key)), expression=number(0)))
        checks.append(_or(_is_null(kind_of), exp.EQ(this=kind_of, expression=lit("NULL")), empty))
    for path in ("player", "request"):
        checks.append(_and(exp.EQ(this=fn("JSON_TYPE", J, _jpath(path)), expression=lit("OBJECT")),
                           _json_keys_ok(path, OBJECT_KEYS[path])))
    for path, members in OBJECTS.items():
        kind_of = fn("JSON_TYPE", J, _jpath(path))
        checks.append(exp.case().when(_or(_is_null(kind_of), exp.EQ(this=kind_of, expression=lit("NULL"))), exp.true(), copy=False)
                      .when(exp.EQ(this=kind_of, expression=lit("OBJECT")),
                            _and(_json_keys_ok(path, OBJECT_KEYS[path]),
                                 _not_null(fn("JSON_TYPE", J, _jpath(members[0]))),
                                 exp.NEQ(this=fn("JSON_TYPE", J, _jpath(members[0])), expression=lit("NULL"))), copy=False)
                      .else_(exp.false(), copy=False))
    attributes = fn("JSON_TYPE", J, _jpath("attributes"))
    checks.append(_or(_is_null(attributes), exp.EQ(this=attributes, expression=lit("NULL")),
                      _and(exp.EQ(this=attributes, expression=lit("OBJECT")),
                           exp.EQ(this=fn("LEN", fn("JSON_KEYS", J, _jpath("attributes"))), expression=number(0)))))
    return _and(*checks)


# -- flat rows (Parquet: typed; CSV: text) -------------------------------------------------
def _flat_column(column: Column, types: Mapping[str, str], all_text: bool) -> tuple[exp.Expr, exp.Expr, exp.Expr | None]:
    source_type = types.get(column.path)
    if source_type is None:
        absent: exp.Expr = exp.Null()
        return _absent_or(column, absent, None, exp.Null(), exp.false(), exp.Null() if column.kind == NUMBER else None)
    raw: exp.Expr = col(column.path)
    base = source_type.upper()
    integral: exp.Expr | None = None
    value: exp.Expr
    ok: exp.Expr
    is_text = all_text or base == "VARCHAR"
    if column.kind == TEXT:
        value, ok = raw, (_text_checks(column, raw) if is_text else exp.false())
    elif column.kind == INT:
        if is_text:
            value = exp.TryCast(this=raw, to=dtype("BIGINT"))
            ok = _and(fn("REGEXP_FULL_MATCH", raw, lit(INTEGER_TEXT)), _not_null(value)) if all_text else exp.false()
        else:
            value, ok = raw, exp.true() if base in INTEGER_TYPES else exp.false()
        ok = _and(ok, _between(value, number(column.low or 0), number(column.high or 10**9)))
    elif column.kind in (MONEY, SIGNED_MONEY, NUMBER):
        if is_text:
            value, ok = _decimal_text(column, raw)
            integral = _decimals(raw)
        elif base in INTEGER_TYPES or (base.startswith("DECIMAL") and _scale(base) <= 2):
            value = exp.TryCast(this=raw, to=dtype(MONEY_SQL))
            ok = _and(_not_null(value), _number_checks(column, value))
            integral = number(0 if base in INTEGER_TYPES else _scale(base))
        elif base in ("DOUBLE", "FLOAT"):
            value = exp.TryCast(this=raw, to=dtype(MONEY_SQL))
            same = exp.EQ(this=cast(value, "DOUBLE"), expression=cast(raw, "DOUBLE"))
            negative_zero = _and(exp.EQ(this=raw, expression=number(0)), fn("SIGNBIT", cast(raw, "DOUBLE")))
            ok = _and(_not_null(value), same, exp.not_(exp.paren(negative_zero, copy=False), copy=False), _number_checks(column, value))
            if column.kind == NUMBER:  # a double's written decimals are unknown here: the Python engine reads it
                ok = exp.false()
            integral = number(2)
        else:
            value, ok = exp.Null(), exp.false()
    elif column.kind == BOOL:
        if all_text:
            value, ok = exp.EQ(this=raw, expression=lit("true")), _in(raw, ("true", "false"))
        else:
            value, ok = raw, exp.true() if base == "BOOLEAN" else exp.false()
    elif column.kind == TEXTS:
        if all_text:
            value = exp.TryCast(this=exp.TryCast(this=raw, to=dtype("JSON")), to=dtype("VARCHAR[]"))
            items = fn("JSON_EXTRACT", exp.TryCast(this=raw, to=dtype("JSON")), lit("$[*]"))
            non_text = fn("LIST_FILTER", items, _lambda(exp.NEQ(this=fn("JSON_TYPE", X), expression=lit("VARCHAR"))))
            ok = _and(exp.EQ(this=fn("JSON_TYPE", exp.TryCast(this=raw, to=dtype("JSON"))), expression=lit("ARRAY")),
                      exp.EQ(this=fn("LEN", non_text), expression=number(0)), _not_null(value))
        else:
            value = raw
            ok = exp.true() if base == "VARCHAR[]" else exp.false()
        if ok != exp.false():
            ok = _and(ok, no_nulls(value.copy()), _list_checks(column, value.copy()))
    else:  # INSTANT
        if is_text:
            value, ok = _instant_text(raw)
        elif base == "TIMESTAMP WITH TIME ZONE":
            value = cast(fn("EPOCH", raw), "BIGINT")
            year = fn("YEAR", raw)
            ok = _and(_between(year, number(1970), number(2999)),
                      exp.EQ(this=fn("EPOCH_US", raw), expression=exp.Mul(this=exp.paren(value, copy=False), expression=number(10**6))))
        else:
            value, ok = exp.Null(), exp.false()
    return _absent_or(column, raw, None, value, ok, integral)


def _scale(sql_type: str) -> int:
    inside = sql_type[sql_type.find("(") + 1:sql_type.find(")")] if "(" in sql_type else "18,3"
    return int(inside.split(",")[1]) if "," in inside else 0


def _flat_objects_ok(types: Mapping[str, str]) -> exp.Expr:
    checks = []
    for members in OBJECTS.values():
        key, rest = members[0], members[1:]
        if key not in types:
            checks.append(_and(*(_is_null(col(m)) for m in rest if m in types)))
        else:
            checks.append(_or(_not_null(col(key)), *(_and(*(_is_null(col(m)) for m in rest if m in types)),)))
    known = {c.path for c in COLUMNS}
    for name in types:
        if name not in known and not name.startswith("_"):
            checks.append(_is_null(col(name)))  # an unknown column with a value: the Python engine reports it
    return _and(*checks)


# -- the stage query ---------------------------------------------------------------------
def policy_choice(policies: Mapping[str, CompiledPolicy]) -> exp.Expr:
    """Engine.policy_for in SQL: the first policy (engine order) for the jurisdiction in force that day."""
    from datetime import datetime, time, timedelta, timezone

    def midnight(day: Any) -> exp.Expr:  # epoch seconds of 00:00 UTC that day (opened_at is epoch seconds, UTC)
        return number(int(datetime.combine(day, time(0), timezone.utc).timestamp()))
    case = exp.case()
    for policy in policies.values():
        tests = [_in(col("jurisdiction"), known(BY_PATH["jurisdiction"], policy.jurisdictions))]
        if policy.effective_from is not None:
            tests.append(exp.GTE(this=col("opened_at"), expression=midnight(policy.effective_from)))
        if policy.effective_until is not None:
            tests.append(exp.LT(this=col("opened_at"), expression=midnight(policy.effective_until + timedelta(days=1))))
        case = case.when(_and(*tests), lit(policy.id), copy=False)
    return case


def tiers_ok(policies: Mapping[str, CompiledPolicy], sql_policies: set[str], selector: str = "_policy") -> exp.Expr:
    """Engine.prepare's tier checks, and only for policies the SQL path decides (`selector`: the policy column)."""
    if not sql_policies:
        return exp.false()
    checks: dict[exp.Expr, list[str]] = {}  # policies with the same tiers share one check
    for policy in policies.values():
        if policy.id not in sql_policies:
            continue
        reachable = known(BY_PATH["handled_by"], tuple(t.id for t in policy.tiers if t.player_reachable))
        tiers = known(BY_PATH["on_duty"], tuple(t.id for t in policy.tiers))
        roster = _or(_is_null(col("on_duty")), fn("LIST_HAS_ALL", exp.Array(expressions=[lit(t) for t in tiers]), col("on_duty")))
        checks.setdefault(_and(_in(col("handled_by"), reachable), roster), []).append(policy.id)
    if len(checks) == 1:
        (check, ids), = checks.items()
        return fn("COALESCE", exp.paren(_and(_in(col(selector), tuple(ids)), check), copy=False), exp.false())
    case = exp.case()
    for check, ids in checks.items():
        case = case.when(_in(col(selector), tuple(ids)), check, copy=False)
    return fn("COALESCE", exp.paren(case.else_(exp.false(), copy=False)), exp.false())


def stage_select(form: str, source: str, policies: Mapping[str, CompiledPolicy], sql_policies: set[str],
                 types: Mapping[str, str] | None = None, carry: tuple[str, ...] = ("_i",),
                 checked: bool = True) -> exp.Select:
    """The flat, typed table of `source` (a relation name) with the `carry` columns, `_ok` and `_policy`.

    `types` are the source's column types (forms "flat" and "text"). `checked=False` (flat forms
    only): the caller has already found every row that is not `_ok` with `ok_select` and leaves
    them out itself, so `_ok` only says that the row's policy is one SQL decides.
    """
    carried = [col(c) for c in carry]
    inner = exp.select(*carried, copy=False).from_(exp.to_table(source), copy=False)
    checks: list[exp.Expr] = []
    if form == JSON:
        guarded = exp.case().when(_and(fn("JSON_VALID", col("json")),
                                       exp.not_(exp.paren(fn("REGEXP_MATCHES", col("json"), lit(DOUBTFUL_JSON_NUMBER)), copy=False), copy=False)),
                                  cast(col("json"), "JSON")).else_(exp.Null(), copy=False)
        base = exp.select(*carried, exp.alias_(guarded, "_j", quoted=True, copy=False), copy=False).from_(exp.to_table(source), copy=False)
        inner = exp.select(*(c.copy() for c in carried), copy=False).from_(exp.alias_(exp.paren(base), "_raw", copy=False), copy=False)
        checks.append(_not_null(J))
        checks.append(fn("COALESCE", exp.paren(_json_objects_ok(), copy=False), exp.false()))
        read = _json_column
    else:
        assert types is not None
        checks.append(_flat_objects_ok(types))
        read = lambda c: _flat_column(c, types, form == TEXT_CELLS)  # type: ignore[assignment]  # noqa: E731
    keys: dict[str, exp.Expr] = {}
    owner = {m: members[0] for members in OBJECTS.values() for m in members[1:]}
    for column in COLUMNS:
        value, ok, integral = read(column)
        if any(column.path == members[0] for members in OBJECTS.values()):
            keys[column.path] = value
        elif column.path in owner:  # a member of an absent object stays absent (no default)
            present = _not_null(keys[owner[column.path]].copy())
            value = _case(present, value, cast(exp.Null(), column.sql_type))
            integral = _case(present.copy(), integral) if integral is not None else None
        inner = inner.select(exp.alias_(value, column.path, quoted=True, copy=False), copy=False)
        checks.append(ok)
        if column.kind == NUMBER:
            inner = inner.select(exp.alias_(cast(integral, "INTEGER") if integral is not None else exp.Null(),
                                            scale_column(column.path), quoted=True, copy=False), copy=False)
    if not checked:
        inner = inner.select(exp.alias_(exp.true(), "_valid", quoted=True, copy=False), copy=False)
    else:
        inner = inner.select(exp.alias_(_and(*checks), "_valid", quoted=True, copy=False), copy=False)
    chosen = exp.select(exp.Star(), exp.alias_(policy_choice(policies), "_policy", quoted=True, copy=False), copy=False).from_(
        exp.alias_(exp.paren(inner), "_typed", copy=False), copy=False)
    if checked:
        ok = _and(fn("COALESCE", col("_valid"), exp.false()), _not_null(col("_policy")), tiers_ok(policies, sql_policies))
    else:
        ok = fn("COALESCE", _in(col("_policy"), tuple(sql_policies)), exp.false())
    return exp.select(exp.Star(), exp.alias_(ok, "_ok", quoted=True, copy=False), copy=False).from_(exp.alias_(exp.paren(chosen), "_chosen", copy=False), copy=False)


def also_ok(policies: Mapping[str, CompiledPolicy], sql_policies: set[str], selector: str) -> tuple[exp.Expr, exp.Expr]:
    """Over `stage_select`'s rows: (the row's policy in a second policy set, named `selector`, and whether
    that set's SQL decides the row too, given `_ok`: the column checks are the same for both sets).
    One check query then serves two policy sets (impact)."""
    chosen = policy_choice(policies)
    ok = _and(_not_null(col(selector)), tiers_ok(policies, sql_policies, selector))
    return chosen, ok
