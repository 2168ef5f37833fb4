"""Run pydantic validation and turn its errors into located `Problem`s."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from escalator.errors import EscalatorError, Problem
from escalator.language.yamlio import DocPath, Document

M = TypeVar("M", bound=BaseModel)


def _clean_loc(loc: tuple[str | int, ...], data: Any) -> DocPath:
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
        elif isinstance(part, str) and part.startswith(("function-", "tagged-union", "union[")):
            continue
        elif isinstance(current, dict) and isinstance(part, str):
            path.append(part)  # a missing or unknown key: name it, then stop
            break
        else:
            continue
    return tuple(path)


def _message(error: ErrorDetails) -> str:
    kind = error.get("type", "")
    loc = error.get("loc", ())
    name = loc[-1] if loc else ""
    if kind == "extra_forbidden":
        return f"unknown field {name!r}"
    if kind == "missing":
        return f"missing required field {name!r}"
    message = str(error.get("msg", "invalid value"))
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    value = error.get("input")
    if kind in ("literal_error", "enum") or (
        # name the offending value when it is short and plain, so the message stands alone
        # (our own value errors already quote it)
        kind != "value_error" and isinstance(value, (str, int, bool)) and len(repr(value)) <= 60
    ):
        return f"{message}, got {value!r}"
    return message


def dotted(path: DocPath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def validate(model: type[M], doc: Document, error: type[EscalatorError], prefix: DocPath = ()) -> M:
    """Validate `doc.data` (or the part at `prefix`) as `model`; all problems in one error."""
    data = doc.data
    for part in prefix:
        data = data[part]
    if not isinstance(data, dict):
        raise error(Problem(f"expected a mapping, got {type(data).__name__}", doc.location(prefix), dotted(prefix) or None))
    try:
        return model.model_validate(data)
    except (ArithmeticError, OverflowError) as exc:  # a validator's arithmetic on an absurd value
        raise error(Problem(f"invalid value: {type(exc).__name__}", doc.location(prefix), dotted(prefix) or None)) from None
    except ValidationError as exc:
        problems = []
        seen = set()
        for err in exc.errors():
            path = _clean_loc(tuple(err.get("loc", ())), data)
            message = _message(err)
            key = (path, message)
            if key in seen:
                continue
            seen.add(key)
            problems.append(Problem(message, doc.location(prefix + path), dotted(prefix + path) or None))
        raise error(problems) from None
