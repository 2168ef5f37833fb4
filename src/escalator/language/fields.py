"""The case fields rules may use, their kinds, and the flat view every backend reads.

The pydantic case model (`models/case.py`) is the one source of the case schema. This
module derives from it, once at import: the field table (`CASE_FIELDS`: dotted paths,
kinds, enumerated values, whether a case may leave a field out), `MONEY_FIELDS`, and the
flat view (`flat_view`), a function written from the table and compiled here, because it
runs on every evaluation. A new case field is added to the model only; `case_fields` and
`make_flat_view` take any model, so a test can derive from an extended one.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Callable, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from escalator.language.models.case import STATUSES, Case
from escalator.language.models.scalars import MONEY

NUMBER, STRING, BOOLEAN, DATETIME, STRINGS, OBJECT, ANY = (
    "number", "string", "boolean", "datetime", "strings", "object", "any",
)


@dataclass(frozen=True)
class FieldInfo:
    path: str
    kind: str
    values: tuple[str, ...] | None = None  # the allowed values of an enumerated field
    always_present: bool = True  # False: the case may leave it out (then comparisons are unknown)
    money: bool = False  # an amount of money (the model's Money / SignedMoney)
    integer: bool = False  # a whole number (the model says int)
    bounds: tuple[int | None, int | None] = (None, None)  # the model's ge / le, where it gives them


@dataclass(frozen=True)
class _Type:
    """A field's annotation with Annotated and Optional taken apart."""

    base: Any
    metadata: tuple[Any, ...]
    nullable: bool


def _unwrap(annotation: Any, metadata: tuple[Any, ...] = ()) -> _Type:
    nullable = False
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            args = get_args(annotation)
            annotation, metadata = args[0], metadata + tuple(args[1:])
        elif origin in (Union, types.UnionType):
            args = get_args(annotation)
            others = [a for a in args if a is not type(None)]
            if len(others) != 1:  # int | str: no one kind, so rules cannot name it (_kind says None)
                return _Type(annotation, metadata, len(others) < len(args))
            nullable, annotation = True, others[0]
        else:
            return _Type(annotation, metadata, nullable)


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _item_type(tp: Any) -> Any | None:
    """The item type of tuple[X, ...] / list[X]; None for anything else."""
    if get_origin(tp) in (tuple, list):
        args = [a for a in get_args(tp) if a is not Ellipsis]
        return args[0] if len(args) == 1 else None
    return None


def _literal_values(tp: Any) -> tuple[str, ...] | None:
    return tuple(str(v) for v in get_args(tp)) if get_origin(tp) is Literal else None


def _bounds(metadata: tuple[Any, ...]) -> tuple[int | None, int | None]:
    low = high = None
    for item in metadata:
        low = getattr(item, "ge", None) if getattr(item, "ge", None) is not None else low
        high = getattr(item, "le", None) if getattr(item, "le", None) is not None else high
        for nested in getattr(item, "metadata", ()):  # Field(ge=..., le=...) keeps them here
            low = getattr(nested, "ge", None) if getattr(nested, "ge", None) is not None else low
            high = getattr(nested, "le", None) if getattr(nested, "le", None) is not None else high
    return low, high


def _kind(tp: _Type) -> tuple[str, tuple[str, ...] | None] | None:
    """(kind, enumerated values) of a rule-visible field; None for one rules cannot name."""
    base = tp.base
    values = _literal_values(base)
    if values is not None:
        return STRING, values
    if _is_model(base):
        return OBJECT, None
    item = _item_type(base)
    if item is not None:
        item_tp = _unwrap(item)
        if item_tp.base is str or _literal_values(item_tp.base) is not None:
            return STRINGS, _literal_values(item_tp.base)
        return None  # a list of records (e.g. a history): read by dedicated code, not by dotted path
    if base is bool:
        return BOOLEAN, None
    if base in (int, Decimal):
        return NUMBER, None
    if base is str:
        return STRING, None
    if base is datetime:
        return DATETIME, None
    return None  # a free-form mapping (attributes: rules read attributes.*), a union, a date...


def case_fields(model: type[BaseModel] = Case) -> dict[str, FieldInfo]:
    """The field table of a case model, depth first in the model's field order."""
    table: dict[str, FieldInfo] = {}
    _walk(model, "", False, table)
    return table


def _walk(model: type[BaseModel], prefix: str, parent_optional: bool, table: dict[str, FieldInfo]) -> None:
    for name, info in model.model_fields.items():
        tp = _unwrap(info.annotation, tuple(info.metadata))
        kind = _kind(tp)
        if kind is None:
            continue
        path = prefix + name
        optional = parent_optional or tp.nullable
        table[path] = FieldInfo(path, kind[0], kind[1], not optional, money=MONEY in tp.metadata,
                                integer=tp.base is int, bounds=_bounds(tp.metadata))
        if kind[0] == OBJECT:
            _walk(tp.base, path + ".", optional, table)


CASE_FIELDS: dict[str, FieldInfo] = case_fields(Case)
MONEY_FIELDS = tuple(path for path, info in CASE_FIELDS.items() if info.money)
TOP_LEVEL_FIELDS = frozenset(Case.model_fields)  # attributes included: rules name attributes.X

# -- derived fields: computed per evaluation from the case and the instant (spec section 8) -----
# Not in the case document: the engine adds them to the flat view, and only for policies whose
# rules read them (see escalator.runtime.clock). Ages are whole seconds; a duration literal in a
# condition (`time.case_age > 72h`) compiles to seconds, so backends see plain numbers.
TIME_FIELDS: dict[str, FieldInfo] = {
    f.path: f
    for f in (
        FieldInfo("time.case_age", NUMBER, integer=True),              # seconds since opened_at
        FieldInfo("time.status_age", NUMBER, integer=True),            # seconds since the last history entry
        FieldInfo("time.acknowledge_overdue", BOOLEAN),                # the case's current situation, at the instant
        FieldInfo("time.resolve_overdue", BOOLEAN),
        FieldInfo("time.sla_used", NUMBER, always_present=False),      # fraction of the resolve window used
        FieldInfo("time.working", BOOLEAN, always_present=False),      # the working calendar is open
        FieldInfo("history.statuses", STRINGS, STATUSES),              # every status the case has had, current included
    )
}
DURATION_FIELDS = frozenset({"time.case_age", "time.status_age"})
"""Fields compared with elapsed durations (30m, 72h, 3d, 8w)."""
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


FlatView = Callable[[BaseModel], dict[str, Any]]


def make_flat_view(model: type[BaseModel] = Case) -> FlatView:
    """Write and compile the flat view of a case model: case -> {dotted path: normalised value}.

    Absent and null values are left out; empty lists are kept (a list field is never
    unknown; `exists` treats them as absent). Numbers become Decimal, datetimes epoch
    seconds (Decimal), lists tuples, present objects PRESENT. Every field a case always
    has goes into one dict literal, the optional ones after it: this runs on every
    evaluation. The source is written here from the model, never from a policy or a case.
    """
    table = case_fields(model)
    literal: list[str] = []  # "path": expression, for the fields every case has
    setup: list[str] = []  # local names for nested objects, before the literal
    after: list[str] = []  # the optional fields
    names = iter(f"v{i}" for i in range(10_000))

    def value(info: FieldInfo, expr: str) -> str:
        if info.kind == DATETIME:
            return f"Decimal(int({expr}.timestamp()))"
        if info.kind == NUMBER and info.integer:
            return f"Decimal({expr})"
        if info.kind == STRINGS:
            return f"tuple({expr})"
        return expr

    def walk(model: type[BaseModel], prefix: str, owner: str, depth: int, out: list[str] | None) -> None:
        indent = "    " * depth
        for name in model.model_fields:
            info = table.get(prefix + name)
            if info is None:
                continue
            expr = f"{owner}.{name}"
            nullable = _unwrap(model.model_fields[name].annotation).nullable
            if info.kind == OBJECT:
                local = next(names)
                if out is None and not nullable:  # part of the literal
                    setup.append(f"    {local} = {expr}")
                    literal.append(f"        {info.path!r}: PRESENT,")
                    walk(info_model(model, name), info.path + ".", local, depth, None)
                else:
                    target = after if out is None else out
                    target.append(f"{indent}{local} = {expr}")
                    target.append(f"{indent}if {local} is not None:")
                    target.append(f"{indent}    view[{info.path!r}] = PRESENT")
                    walk(info_model(model, name), info.path + ".", local, depth + 1, target)
                continue
            if out is None and not nullable:
                literal.append(f"        {info.path!r}: {value(info, expr)},")
            else:
                target = after if out is None else out
                if nullable:
                    local = next(names)
                    target.append(f"{indent}{local} = {expr}")
                    target.append(f"{indent}if {local} is not None:")
                    target.append(f"{indent}    view[{info.path!r}] = {value(info, local)}")
                else:
                    target.append(f"{indent}view[{info.path!r}] = {value(info, expr)}")

    walk(model, "", "case", 1, None)
    source = "\n".join([
        "def flat_view(case):", *setup, "    view = {", *literal, "    }", *after,
        "    if case.attributes:" if "attributes" in model.model_fields else "",
        "        flatten_attributes(case.attributes, 'attributes', view)" if "attributes" in model.model_fields else "",
        "    return view",
    ])
    namespace: dict[str, Any] = {"Decimal": Decimal, "PRESENT": PRESENT, "flatten_attributes": _flatten_attributes}
    exec(compile(source, f"<flat view of {model.__name__}>", "exec"), namespace)  # our own code, from the model
    function: FlatView = namespace["flat_view"]
    function.__doc__ = source  # what was compiled, for a reader in a debugger
    return function


def info_model(model: type[BaseModel], name: str) -> type[BaseModel]:
    """The model class of an object-valued field."""
    base = _unwrap(model.model_fields[name].annotation).base
    assert _is_model(base)
    return base  # type: ignore[no-any-return]


def _flatten_attributes(data: dict[str, Any], prefix: str, view: dict[str, Any]) -> None:
    for key, value in data.items():
        path = f"{prefix}.{key}"
        if isinstance(value, dict):
            view[path] = PRESENT
            _flatten_attributes(value, path, view)
        elif value is not None:
            view[path] = _normal(value)


flat_view: FlatView = make_flat_view(Case)  # derived once, at import
