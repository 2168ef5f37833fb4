"""A validator written from a pydantic model for the common shape of its input, compiled once.

pydantic validates a case in about 8 us, most of it calling our Python validators from
Rust. `make_fast_validator(Case)` writes one Python function per model that accepts only
what it can check exactly: a plain dict with known keys and values of exactly the types
`json.loads` gives (str, int, float, bool, None, list, dict), every constraint of the
model (lengths, patterns, literals, bounds) and the model's own validators (before,
after, field and model validators) called as pydantic calls them. It builds the model
instances directly. Anything else, valid or not, makes it answer None, and the caller
asks pydantic, so every error (and every unusual valid input) goes through pydantic
and reads as it always did. What the fast path accepts, pydantic accepts too, with an
equal result (tests/test_fastpath.py holds it to that).

The source is written here from the model's annotations, never from a case or a policy.
A model with something this module does not know (an alias, a wrap validator, a float
field...) gets no fast path (`Unsupported`): everything then goes to pydantic.
"""

from __future__ import annotations

import inspect
import re
import types
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Callable, Literal, TypeVar, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, BeforeValidator, PlainSerializer
from pydantic.fields import FieldInfo

M = TypeVar("M", bound=BaseModel)
FastValidator = Callable[[Any], Any]
"""data -> a validated model instance, or None: ask pydantic."""

CACHE_SIZE = 4096
"""Strings known to match a pattern, and parsed date-times, kept per field type (then cleared)."""

_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:Z|[+-][0-9]{2}:[0-9]{2})")
"""The date-time shape both pydantic and `datetime.fromisoformat` read the same way."""
_IMMUTABLE = (type(None), str, int, bool, Decimal, tuple, frozenset)


class Unsupported(Exception):
    """The model uses something the fast path does not know: validate it with pydantic only."""


class Fallback(Exception):
    """This input is not of the common shape: ask pydantic."""


def trusted(cls: type[M], values: dict[str, Any], fields_set: set[str]) -> M:
    """An instance as pydantic builds it, from values already valid (what `model_construct` does,
    without its per-field work): for models escalator builds from values it made itself."""
    instance = cls.__new__(cls)
    setattr_ = object.__setattr__
    setattr_(instance, "__dict__", values)
    setattr_(instance, "__pydantic_fields_set__", fields_set)
    setattr_(instance, "__pydantic_extra__", None)
    setattr_(instance, "__pydantic_private__", None)
    return instance


def _parse_datetime(text: str) -> datetime:
    if _ISO.fullmatch(text) is None:
        raise Fallback
    return datetime.fromisoformat(text)


class _Constraints:
    """The checks of one annotation level, collected from its metadata."""

    def __init__(self) -> None:
        self.min_length: int | None = None
        self.max_length: int | None = None
        self.pattern: str | None = None
        self.ge: Any = None
        self.le: Any = None
        self.before: Callable[[Any], Any] | None = None
        self.after: Callable[[Any], Any] | None = None

    def add(self, item: Any) -> None:
        if isinstance(item, FieldInfo):
            for nested in item.metadata:
                self.add(nested)
            return
        if isinstance(item, BeforeValidator) or isinstance(item, AfterValidator):
            slot = "before" if isinstance(item, BeforeValidator) else "after"
            if getattr(self, slot) is not None or len(inspect.signature(item.func).parameters) != 1:
                raise Unsupported(f"{type(item).__name__}: more than one, or one taking info")
            setattr(self, slot, item.func)
            return
        if isinstance(item, PlainSerializer):
            return  # serialisation only
        module = type(item).__module__ or ""
        name = type(item).__name__
        if name == "StringConstraints":
            if any(getattr(item, a) for a in ("strip_whitespace", "to_upper", "to_lower", "ascii_only")):
                raise Unsupported("string transformations")
            self._set(min_length=item.min_length, max_length=item.max_length, pattern=item.pattern)
        elif name in ("MaxLen", "MinLen"):
            self._set(**{"max_length" if name == "MaxLen" else "min_length": getattr(item, name[:3].lower() + "_length")})
        elif name in ("Ge", "Le"):
            self._set(**{name.lower(): getattr(item, name.lower())})
        elif name == "Strict" and item.strict:
            return  # the fast path only ever accepts the exact type
        elif name == "_PydanticGeneralMetadata":
            extra = set(vars(item)) - {"pattern"}
            if extra:
                raise Unsupported(f"constraints {sorted(extra)}")
            self._set(pattern=item.pattern)
        elif module.startswith(("pydantic", "annotated_types")) or hasattr(item, "__get_pydantic_core_schema__"):
            raise Unsupported(f"metadata {item!r}")
        # anything else is a plain marker (e.g. scalars.MONEY): pydantic ignores it too

    def empty(self) -> bool:
        return all(value is None for value in vars(self).values())

    def _set(self, **values: Any) -> None:
        for key, value in values.items():
            if value is not None:
                setattr(self, key, value)


class _Writer:
    """Writes one function per model; names it binds (functions, constants) go to `names`."""

    def __init__(self) -> None:
        self.names: dict[str, Any] = {"Fallback": Fallback, "new": object.__new__, "put": object.__setattr__, "Decimal": Decimal,
                                      "datetime": datetime, "parse_datetime": _parse_datetime}
        self.functions: list[str] = []
        self.done: dict[type[BaseModel], str] = {}
        self._count = 0
        self._caches: dict[Any, str] = {}  # one cache per kind of check, shared by the fields that make it

    def cache(self, key: Any, empty: Any) -> str:
        if key not in self._caches:
            self._caches[key] = self.bind(empty, "CACHE")
        return self._caches[key]

    def bind(self, value: Any, prefix: str) -> str:
        self._count += 1
        name = f"{prefix}{self._count}"
        self.names[name] = value
        return name

    def local(self) -> str:
        self._count += 1
        return f"x{self._count}"

    # -- models -------------------------------------------------------------------------------
    def model(self, cls: type[BaseModel]) -> str:
        if cls in self.done:
            return self.done[cls]
        if cls.model_config.get("extra") != "forbid" or cls.__private_attributes__ or cls.__pydantic_root_model__:
            raise Unsupported(f"{cls.__name__}: extra fields, private attributes or a root model")
        if cls.__pydantic_post_init__:
            raise Unsupported(f"{cls.__name__}: model_post_init")
        decorators = cls.__pydantic_decorators__
        if decorators.validators or decorators.root_validators or decorators.field_serializers \
                or decorators.model_serializers or decorators.computed_fields:
            raise Unsupported(f"{cls.__name__}: decorators")
        name = self.done[cls] = f"model_{cls.__name__}_{len(self.done)}"
        lines = [f"def {name}(data):",
                 f"    if not {self.bind(frozenset(cls.model_fields), 'KEYS')} >= data.keys():",
                 "        raise Fallback"]
        values: list[str] = []
        for field_name, info in cls.model_fields.items():
            if info.alias is not None or info.validation_alias is not None:
                raise Unsupported(f"{cls.__name__}.{field_name}: an alias")
            target = self.local()
            raw = self.local()
            lines.append(f"    {raw} = data.get({field_name!r}, Fallback)")
            lines.append(f"    if {raw} is Fallback:")
            if info.is_required():
                lines.append("        raise Fallback")
            elif info.default_factory is not None:
                if getattr(info, "default_factory_takes_validated_data", True):
                    raise Unsupported(f"{cls.__name__}.{field_name}: a default factory taking data")
                lines.append(f"        {target} = {self.bind(info.default_factory, 'FACTORY')}()")
            else:
                if not isinstance(info.default, _IMMUTABLE):
                    raise Unsupported(f"{cls.__name__}.{field_name}: a mutable default")
                lines.append(f"        {target} = {self.bind(info.default, 'DEFAULT')}")
            lines.append("    else:")
            annotation = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
            lines += self.value(annotation, raw, target, "        ")
            for decorator in decorators.field_validators.values():
                if field_name in decorator.info.fields:
                    if decorator.info.mode != "after" or len(inspect.signature(decorator.func).parameters) != 1:
                        raise Unsupported(f"{cls.__name__}.{field_name}: a field validator that is not a plain after")
                    lines.append(f"        {target} = {self.bind(decorator.func, 'CHECK')}({target})")
            values.append(f"{field_name!r}: {target}")
        model = self.bind(cls, "MODEL")  # what `trusted` does, inline
        lines += [f"    instance = new({model})",
                  f"    put(instance, '__dict__', {{{', '.join(values)}}})",
                  "    put(instance, '__pydantic_fields_set__', set(data))",
                  "    put(instance, '__pydantic_extra__', None)",
                  "    put(instance, '__pydantic_private__', None)"]
        for model_decorator in decorators.model_validators.values():
            if model_decorator.info.mode != "after" or len(inspect.signature(model_decorator.func).parameters) != 1:
                raise Unsupported(f"{cls.__name__}: a model validator that is not a plain after")
            lines.append(f"    instance = {self.bind(model_decorator.func, 'CHECK')}(instance)")
        lines.append("    return instance")
        self.functions.append("\n".join(lines))
        return name

    # -- values ---------------------------------------------------------------------------------
    def value(self, annotation: Any, raw: str, target: str, indent: str) -> list[str]:
        """Lines that check `raw` against `annotation` and set `target` (or raise Fallback)."""
        checks = _Constraints()
        while get_origin(annotation) is Annotated:
            args = get_args(annotation)
            for item in args[1:]:
                checks.add(item)
            annotation = args[0]
        if get_origin(annotation) in (Union, types.UnionType):
            others = [a for a in get_args(annotation) if a is not type(None)]
            if len(others) != 1 or not checks.empty():
                raise Unsupported(f"union {annotation!r}, or constraints around an optional value")
            return [f"{indent}if {raw} is None:", f"{indent}    {target} = None", f"{indent}else:",
                    *self.value(others[0], raw, target, indent + "    ")]
        return self._base(annotation, checks, raw, target, indent)

    def _base(self, tp: Any, checks: _Constraints, raw: str, target: str, indent: str) -> list[str]:
        lines: list[str] = []
        source = raw
        if checks.before is not None:
            source = self.local()
            lines.append(f"{indent}{source} = {self.bind(checks.before, 'BEFORE')}({raw})")
        origin = get_origin(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if checks.before or checks.after or checks.pattern or checks.ge is not None:
                raise Unsupported(f"constraints on a model {tp.__name__}")
            lines += [f"{indent}if {source}.__class__ is not dict:", f"{indent}    raise Fallback",
                      f"{indent}{target} = {self.model(tp)}({source})"]
            return lines
        if origin is Literal:
            values = get_args(tp)
            if not all(type(v) is str for v in values):
                raise Unsupported(f"a literal of other than text {tp!r}")
            lines += [f"{indent}if {source}.__class__ is not str or {source} not in {self.bind(frozenset(values), 'ONE_OF')}:",
                      f"{indent}    raise Fallback", f"{indent}{target} = {source}"]
        elif tp is str:
            lines += self._string(checks, source, target, indent)
        elif tp is bool:
            lines += [f"{indent}if {source} is not True and {source} is not False:", f"{indent}    raise Fallback",
                      f"{indent}{target} = {source}"]
        elif tp is int or tp is Decimal:
            lines += [f"{indent}if {source}.__class__ is not {'int' if tp is int else 'Decimal'}:", f"{indent}    raise Fallback"]
            lines += self._bounds(checks, source, indent)
            lines.append(f"{indent}{target} = {source}")
        elif tp is datetime:
            cache = self.cache(("datetime", checks.after), {})
            after = self.bind(checks.after, "AFTER") if checks.after is not None else None
            checks.after = None
            parsed = self.local()
            lines += [f"{indent}if {source}.__class__ is str:",
                      f"{indent}    {target} = {cache}.get({source})",
                      f"{indent}    if {target} is None:",
                      f"{indent}        {parsed} = parse_datetime({source})",
                      f"{indent}        {target} = {after}({parsed})" if after else f"{indent}        {target} = {parsed}",
                      f"{indent}        if len({cache}) >= {CACHE_SIZE}:",
                      f"{indent}            {cache}.clear()",
                      f"{indent}        {cache}[{source}] = {target}",
                      f"{indent}elif {source}.__class__ is datetime:",
                      f"{indent}    {target} = {after}({source})" if after else f"{indent}    {target} = {source}",
                      f"{indent}else:", f"{indent}    raise Fallback"]
        elif origin is tuple and len(get_args(tp)) == 2 and get_args(tp)[1] is Ellipsis:
            if checks.pattern or checks.ge is not None or checks.min_length or checks.max_length or checks.after:
                raise Unsupported(f"constraints on a list {tp!r}")
            item, items = self.local(), self.local()
            lines += [f"{indent}if {source}.__class__ is not list and {source}.__class__ is not tuple:",
                      f"{indent}    raise Fallback",
                      f"{indent}{items} = []",
                      f"{indent}for {item} in {source}:"]
            lines += self.value(get_args(tp)[0], item, item, indent + "    ")
            lines += [f"{indent}    {items}.append({item})", f"{indent}{target} = tuple({items})"]
        elif origin is dict and get_args(tp)[0] is str and get_args(tp)[1] is Any:
            if checks.pattern or checks.ge is not None or checks.min_length or checks.max_length or checks.after:
                raise Unsupported(f"constraints on a mapping {tp!r}")
            key = self.local()
            lines += [f"{indent}if {source}.__class__ is not dict:", f"{indent}    raise Fallback",
                      f"{indent}for {key} in {source}:",
                      f"{indent}    if {key}.__class__ is not str:", f"{indent}        raise Fallback",
                      f"{indent}{target} = dict({source})"]
        else:
            raise Unsupported(f"type {tp!r}")
        if checks.after is not None:
            lines.append(f"{indent}{target} = {self.bind(checks.after, 'AFTER')}({target})")
        return lines

    def _string(self, checks: _Constraints, source: str, target: str, indent: str) -> list[str]:
        tests = []
        if checks.min_length is not None:
            tests.append(f"len({source}) < {int(checks.min_length)}")
        if checks.max_length is not None:
            tests.append(f"len({source}) > {int(checks.max_length)}")
        if checks.pattern is not None:
            tests.append(f"{self.bind(re.compile(checks.pattern).fullmatch, 'PATTERN')}({source}) is None")
        lines = [f"{indent}if {source}.__class__ is not str:", f"{indent}    raise Fallback"]
        if tests:
            if checks.pattern is not None:  # a regular expression is slow: remember the strings that passed
                known = self.cache(("text", checks.min_length, checks.max_length, checks.pattern), set())
                lines += [f"{indent}if {source} not in {known}:",
                          f"{indent}    if {' or '.join(tests)}:", f"{indent}        raise Fallback",
                          f"{indent}    if len({known}) >= {CACHE_SIZE}:", f"{indent}        {known}.clear()",
                          f"{indent}    {known}.add({source})"]
            else:
                lines += [f"{indent}if {' or '.join(tests)}:", f"{indent}    raise Fallback"]
        lines.append(f"{indent}{target} = {source}")
        return lines

    def _bounds(self, checks: _Constraints, source: str, indent: str) -> list[str]:
        tests = []
        if checks.ge is not None:
            tests.append(f"{source} < {self.bind(checks.ge, 'LOW')}")
        if checks.le is not None:
            tests.append(f"{source} > {self.bind(checks.le, 'HIGH')}")
        if checks.min_length or checks.max_length or checks.pattern:
            raise Unsupported("length or pattern on a number")
        return [f"{indent}if {' or '.join(tests)}:", f"{indent}    raise Fallback"] if tests else []


def make_fast_validator(model: type[BaseModel]) -> FastValidator | None:
    """The fast path for `model`, or None if the model uses something it does not know."""
    writer = _Writer()
    try:
        entry = writer.model(model)
    except Unsupported:
        return None
    source = "\n\n".join(writer.functions) + "\n"
    namespace = dict(writer.names)
    exec(compile(source, f"<fast validator of {model.__name__}>", "exec"), namespace)  # our own source, from the model
    function = namespace[entry]

    def validate(data: Any) -> Any:
        if data.__class__ is not dict:
            return None
        try:
            return function(data)
        except Exception:  # Fallback, or a validator's error: pydantic says what it is
            return None

    validate.__doc__ = source  # what was compiled, for a reader in a debugger
    return validate
