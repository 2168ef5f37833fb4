"""Run pydantic validation and turn its errors into located `Problem`s in plain words.

No pydantic wording and no Python type names reach the user: each error type is
said again as "expected X, found Y", with a hint for the usual slips (a decimal
comma, thousands separators, a number in quotes, a wrong-case or misspelt key).
"""

from __future__ import annotations

import types
from decimal import Decimal
from typing import Any, Mapping, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from escalator.errors import EscalatorError, Problem, describe, did_you_mean, dotted, suggest
from escalator.language.yamlio import Document, DocPath
from escalator.money import number_hint

M = TypeVar("M", bound=BaseModel)

# What each pydantic error type expected, in words (the value found is added after).
EXPECTED = {
    "string_type": "text", "int_type": "a whole number", "int_parsing": "a whole number",
    "int_from_float": "a whole number", "bool_type": "true or false", "bool_parsing": "true or false",
    "decimal_type": "a number", "decimal_parsing": "a number", "float_type": "a number",
    "float_parsing": "a number", "list_type": "a list", "tuple_type": "a list", "set_type": "a list",
    "frozen_set_type": "a list", "dict_type": "a mapping (key: value lines)",
    "model_type": "a mapping (key: value lines)", "model_attributes_type": "a mapping (key: value lines)",
    "date_type": "a date like 2026-01-31", "date_parsing": "a date like 2026-01-31",
    "date_from_datetime_parsing": "a date like 2026-01-31", "date_from_datetime_inexact": "a date like 2026-01-31",
    "datetime_type": "a date and time like 2026-11-20T09:15:00Z",
    "datetime_parsing": "a date and time like 2026-11-20T09:15:00Z",
    "datetime_from_date_parsing": "a date and time like 2026-11-20T09:15:00Z",
    "datetime_object_invalid": "a date and time like 2026-11-20T09:15:00Z",
    "timezone_aware": "a date and time with a time zone, e.g. 2026-11-20T09:15:00Z",
    "string_too_short": "text that is not empty", "none_required": "nothing",
}
NUMERIC = {"int_type", "int_parsing", "decimal_type", "decimal_parsing", "float_type", "float_parsing"}

# Identifier patterns of the models, in words.
PATTERNS = {
    r"^[a-z][a-z0-9_]*$": "a name of lowercase letters, digits and _, starting with a letter (e.g. goodwill_bonus)",
    r"^[a-z0-9][a-z0-9_-]*$": "an id of lowercase letters, digits, _ and - (e.g. my-uk)",
    r"^(escalator:)?[a-z0-9][a-z0-9_-]*$": "a policy id of lowercase letters, digits, _ and -, "
                                           "or escalator:ID for a bundled policy (e.g. escalator:uk)",
    r"^(escalator:)?[a-z][a-z0-9_]*$": "a pack name of lowercase letters, digits and _, "
                                       "or escalator:NAME for a bundled pack",
    r"^[a-z][a-z0-9_]*\.[a-z0-9][a-z0-9_-]*$": "a rule id written pack.rule (e.g. bonus.vip-goodwill)",
    r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$": "a jurisdiction code of two capital letters (e.g. NL, UK, US-NJ)",
    r"^[A-Za-z0-9][A-Za-z0-9_.-]*$": "a word of letters, digits, _, . and -",
}


def _clean_loc(loc: tuple[Any, ...], data: Any) -> DocPath:
    """Keep only the parts of a pydantic error location that index into the data."""
    path: list[str | int] = []
    current = data
    for part in loc:
        if isinstance(current, dict) and part in current:
            path.append(part)
            current = current[part]
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            path.append(part)
            current = current[part]
        elif isinstance(part, str) and part.startswith(("function-", "tagged-union", "union[", "[key]")):
            continue
        elif isinstance(current, dict) and isinstance(part, str):
            path.append(part)  # a missing or unknown key: name it, then stop
            break
        else:
            continue
    return tuple(path)


def _unwrap(annotation: Any) -> list[Any]:
    """The types an annotation may hold (Optional, unions and Annotated unwrapped)."""
    origin = get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        return [t for arg in get_args(annotation) for t in _unwrap(arg)]
    if origin is not None and getattr(origin, "__name__", "") == "Annotated":
        return _unwrap(get_args(annotation)[0])
    if hasattr(annotation, "__metadata__"):  # typing.Annotated
        return _unwrap(get_args(annotation)[0])
    return [annotation]


def _step(annotation: Any, part: str | int) -> Any:
    """The type one step below `annotation` along a data path (None if unknown)."""
    for kind in _unwrap(annotation):
        if isinstance(kind, type) and issubclass(kind, BaseModel) and isinstance(part, str):
            for name, info in kind.model_fields.items():
                if part in (name, info.alias):
                    return info.annotation
        origin = get_origin(kind)
        if origin in (list, tuple, set, frozenset) and isinstance(part, int):
            return get_args(kind)[0]
        if origin is dict and isinstance(part, str):
            return get_args(kind)[1]
    return None


def known_keys(model: type[BaseModel], path: DocPath) -> list[str]:
    """The keys a mapping at `path` may have (the field names of the model there)."""
    annotation: Any = model
    for part in path:
        annotation = _step(annotation, part)
        if annotation is None:
            return []
    for kind in _unwrap(annotation):
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            return [info.alias or name for name, info in kind.model_fields.items()]
    return []


def _choices(expected: str) -> list[str]:
    return [part.strip(" '") for part in expected.replace(" or ", ", ").split(",") if part.strip(" '")]


def _plain(error: Mapping[str, Any], model: type[BaseModel], path: DocPath) -> tuple[str, str | None]:
    """(message, hint) for one pydantic error."""
    kind = str(error.get("type", ""))
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    value = error.get("input")
    name = path[-1] if path else ""
    if kind == "extra_forbidden":
        siblings = known_keys(model, path[:-1])
        close = suggest(str(name), siblings)
        if close is not None and close.lower() == str(name).lower():
            return f"unknown field {name!r}", f"keys are lowercase: write {close!r}"
        return f"unknown field {name!r}", (did_you_mean(str(name), siblings, "allowed fields") if siblings else None)
    if kind == "missing":
        return f"missing required field {name!r}", None
    found = describe(value)
    if kind in ("literal_error", "enum"):
        expected = str(ctx.get("expected", ""))
        close = suggest(str(value), _choices(expected)) if isinstance(value, str) else None
        return (f"expected one of {expected}, found {found}",
                f"did you mean {close!r}?" if close else None)
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        words = PATTERNS.get(pattern, "a plain name")
        hint = None
        if isinstance(value, str) and value.lower() != value and "a-z" in pattern and "A-Z" not in pattern:
            hint = f"use lowercase: {value.lower()!r}"
        elif isinstance(value, str) and value.upper() != value and pattern.startswith("^[A-Z]{2}"):
            hint = f"use capitals: {value.upper()!r}"
        return f"expected {words}, found {found}", hint
    if kind == "string_too_long":
        return f"text longer than {ctx.get('max_length')} characters", None
    if kind in ("too_short", "too_long"):
        what = "at least" if kind == "too_short" else "at most"
        count = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        return f"expected {what} {count} item{'s' if count != 1 else ''}, found {ctx.get('actual_length')}", None
    bounds = {"greater_than_equal": ("at least", "ge"), "less_than_equal": ("at most", "le"),
              "greater_than": ("more than", "gt"), "less_than": ("less than", "lt")}
    if kind in bounds:
        words, key = bounds[kind]
        return f"expected a number {words} {ctx.get(key)}, found {found}", None
    if kind in ("value_error", "assertion_error"):
        message = str(error.get("msg", "invalid value"))
        for prefix in ("Value error, ", "Assertion failed, "):
            if message.startswith(prefix):
                message = message[len(prefix):]
        hint = number_hint(value) if isinstance(value, str) and "number" in message else None
        return message, hint
    if kind in EXPECTED:
        hint = None
        if kind in NUMERIC and isinstance(value, str):
            hint = number_hint(value)
        elif kind in ("bool_type", "bool_parsing") and isinstance(value, str):
            hint = "write true or false without quotes" if value.lower() in ("true", "false") else \
                "write true or false (yes/no/on/off are not accepted)"
        elif kind == "string_type" and isinstance(value, (int, Decimal)):
            hint = f"put it in quotes: \"{value}\""
        detail = ctx.get("error")
        detail_text = f" ({detail})" if isinstance(detail, str) and kind.startswith(("date", "datetime")) else ""
        return f"expected {EXPECTED[kind]}, found {found}{detail_text}", hint
    return f"invalid value, found {found}", None


def _flow_comma(data: Any, path: DocPath) -> str | None:
    """`{goodwill_bonus: 20,00}` reads as two entries, 20 and '00': say so."""
    if path and isinstance(path[-1], str) and path[-1].isdigit():
        return (f"a comma inside {{...}} separates entries, so this reads as a key {path[-1]!r}; "
                "for a decimal comma write a point: 20.00")
    return None


def validate(model: type[M], doc: Document, error: type[EscalatorError], prefix: DocPath = ()) -> M:
    """Validate `doc.data` (or the part at `prefix`) as `model`; all problems in one error."""
    data = doc.data
    for part in prefix:
        data = data[part]
    if not isinstance(data, dict):
        raise error(Problem(f"expected a mapping (key: value lines), found {describe(data)}", doc.location(prefix),
                            dotted(prefix) or None))
    try:
        return model.model_validate(data)
    except (ArithmeticError, OverflowError):  # a validator's arithmetic on an absurd value
        raise error(Problem("a number too large to work with", doc.location(prefix), dotted(prefix) or None)) from None
    except ValidationError as exc:
        problems = []
        seen = set()
        for err in exc.errors():
            path = _clean_loc(tuple(err.get("loc", ())), data)
            message, hint = _plain(err, model, path)
            hint = _flow_comma(data, path) or hint
            key = (path, message)
            if key in seen:
                continue
            seen.add(key)
            problems.append(Problem(message, doc.location(prefix + path), dotted(prefix + path) or None, hint=hint))
        raise error(problems) from None
