"""The one safe YAML reader every policy, rule pack, test and case file goes through.

PyYAML's own loaders keep the last of two duplicate keys, expand aliases without
bound and turn `4200.00` into a float. This reader composes the node graph with
the safe loader and builds the Python values itself, so that:

- duplicate keys are an error (at every depth);
- only the standard YAML tags are accepted (no python/object or custom tags);
- alias use and nesting depth are bounded, so an alias bomb is refused at once;
- decimal numbers become `Decimal` from their source text (money stays exact);
- timestamps stay strings (pydantic parses them, with their time zone);
- every mapping and sequence remembers its line and column, so later
  validation errors can point at the right place.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from escalator.errors import LoadError, Location, Problem, dotted

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ALIASES = 100
MAX_NODES = 200_000
MAX_DEPTH = 64

_STD = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_STD}{t}" for t in ("str", "int", "float", "bool", "null", "timestamp")}
_constructor = yaml.constructor.SafeConstructor()


DocPath = tuple[str | int, ...]  # keys and list indexes from the document root to a value


@dataclass
class Document:
    """Parsed data plus the source position of every value, keyed by its path."""

    data: Any
    file: str | None
    positions: dict[DocPath, tuple[int, int]] = field(default_factory=dict)

    def location(self, path: DocPath | list[str | int] = ()) -> Location:
        """The position of the deepest known node on `path` (falls back to parents)."""
        path = tuple(path)
        wanted = dotted(path) or None
        while path and path not in self.positions:
            path = path[:-1]
        line, col = self.positions.get(path, (None, None))
        return Location(self.file, line, col, wanted)

    def locator(self, prefix: DocPath) -> Callable[[DocPath], Location]:
        """Locations of the values below `prefix`, by their path relative to it."""
        return lambda path: self.location(prefix + path)


def _mark(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Builder:
    def __init__(self, file: str | None):
        self.file = file
        self.positions: dict[DocPath, tuple[int, int]] = {}
        self.nodes = 0

    def fail(self, node: Node | None, message: str) -> LoadError:
        if node is None:
            return LoadError(Problem(message, Location(self.file)))
        line, col = _mark(node)
        return LoadError(Problem(message, Location(self.file, line, col)))

    def build(self, node: Node, path: DocPath, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.fail(node, f"document too large: more than {MAX_NODES} values (alias expansion?)")
        if depth > MAX_DEPTH:
            raise self.fail(node, f"nesting deeper than {MAX_DEPTH} levels")
        self.positions[path] = _mark(node)
        if isinstance(node, ScalarNode):
            return self.scalar(node)
        if isinstance(node, SequenceNode):
            if node.tag not in (f"{_STD}seq",):
                raise self.fail(node, f"unsupported tag {node.tag!r}: only plain YAML is allowed")
            return [self.build(child, path + (i,), depth + 1) for i, child in enumerate(node.value)]
        if isinstance(node, MappingNode):
            if node.tag not in (f"{_STD}map",):
                raise self.fail(node, f"unsupported tag {node.tag!r}: only plain YAML is allowed")
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == f"{_STD}merge":
                    raise self.fail(key_node, "merge keys (<<) are not supported; write the values out")
                if not isinstance(key_node, ScalarNode):
                    raise self.fail(key_node, "a mapping key must be a plain scalar")
                key = self.scalar(key_node)
                if not isinstance(key, (str, int, bool)) and key is not None:
                    key = str(key)
                key = str(key) if not isinstance(key, str) else key
                if key in result:
                    first = self.positions.get(path + (key,), ("?", "?"))
                    raise self.fail(
                        key_node,
                        f"duplicate key {key!r} (first defined at line {first[0]}, column {first[1]})",
                    )
                result[key] = self.build(value_node, path + (key,), depth + 1)
                self.positions[path + (key,)] = _mark(key_node)
            return result
        raise self.fail(node, "unsupported YAML node")

    def scalar(self, node: ScalarNode) -> Any:
        tag = node.tag
        if tag not in _SCALAR_TAGS:
            raise self.fail(node, f"unsupported tag {tag!r}: only plain YAML is allowed")
        if tag == f"{_STD}str" or tag == f"{_STD}timestamp":
            return node.value
        if tag == f"{_STD}float":
            text = node.value.replace("_", "")
            lowered = text.lower()
            if lowered in (".inf", "+.inf"):
                return Decimal("Infinity")
            if lowered == "-.inf":
                return Decimal("-Infinity")
            if lowered == ".nan":
                return Decimal("NaN")
            try:
                return Decimal(text)
            except InvalidOperation:
                raise self.fail(node, f"not a number: {node.value!r}") from None
        return _constructor.construct_object(node, deep=True)


class _CountingLoader(yaml.SafeLoader):
    """SafeLoader that refuses too many aliases while composing (before any expansion)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.alias_count = 0
        self.depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if self.check_event(yaml.events.AliasEvent):
            self.alias_count += 1
            if self.alias_count > MAX_ALIASES:
                event = self.peek_event()  # type: ignore[no-untyped-call]  # untyped in types-PyYAML
                raise yaml.MarkedYAMLError(
                    problem=f"more than {MAX_ALIASES} aliases (*name): refused as a possible alias bomb",
                    problem_mark=event.start_mark,
                )
        # The composer recurses once per level: refuse deep nesting here, with a
        # position, instead of running into RecursionError thousands of levels down.
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH + 1:
                raise yaml.MarkedYAMLError(
                    problem=f"nesting deeper than {MAX_DEPTH} levels", problem_mark=self.peek_event().start_mark,  # type: ignore[no-untyped-call]
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


_INDENT_HINT = ("keys of one mapping start in the same column, and list items ('- ') in the same column; "
                "indent with spaces only")
_YAML_WORDS: tuple[tuple[str, str, str | None], ...] = (
    # (a fragment of PyYAML's problem text, what it means, what to do)
    ("found character '\\t' that cannot start any token", "a tab character in the indentation",
     "YAML indents with spaces only: replace the tab with spaces"),
    ("mapping values are not allowed here", "a ':' here cannot start a new key",
     "if a value contains ': ' put it in quotes; otherwise this line is indented more than its key"),
    ("expected <block end>", "the indentation does not line up with the lines above", _INDENT_HINT),
    ("expected '<document start>'", "the indentation does not line up with the lines above", _INDENT_HINT),
    ("expected a single document", "a second document (a --- line): a file holds one document",
     "remove the --- line, or split the file"),
    ("could not find expected ':'", "a line without 'key: value' (the colon is missing)", None),
    ("found unexpected end of stream", "a quote or bracket is never closed", "close it on the same line"),
    ("expected ',' or ']'", "a [...] list is not closed, or its items lack a comma", "write [a, b, c]"),
    ("expected ',' or '}'", "a {...} mapping is not closed, or its entries lack a comma",
     "write {key: value, key: value}"),
    ("found undefined alias", "an *alias names an &anchor that is not defined", None),
    ("cannot start any token", "a value cannot start with this character", "put the value in quotes"),
    ("expected the node content", "a value is missing or malformed here", None),
)


_KEY = re.compile(r"^([^\s:#\-\[{'\"][^:#]*?)\s*:(\s|$)")


def guess_path(text: str, line: int) -> str | None:
    """The field a line of unparsable YAML belongs to, from indentation alone (best effort):
    a syntax error can still name `tiers[0].level`, not only a line."""
    stack: list[tuple[int, str | int]] = []
    items: dict[tuple[str | int, ...], int] = {}
    last = 0
    for raw in text.splitlines()[:line]:
        body = raw.lstrip(" \t")
        if not body or body.startswith("#"):
            continue
        # a tab in the indentation most often stands for a sibling of the line above
        indent = last if "\t" in raw[:len(raw) - len(body)] else len(raw) - len(body)
        while body.startswith("- ") or body == "-":
            while stack and stack[-1][0] >= indent:
                stack.pop()
            parent = tuple(part for _, part in stack)
            items[parent] = items.get(parent, -1) + 1
            for deeper in [k for k in items if len(k) > len(parent) and k[:len(parent)] == parent]:
                del items[deeper]
            stack.append((indent, items[parent]))
            body = body[2:].lstrip(" ")
            indent += 2
        match = _KEY.match(body)
        if match:
            while stack and stack[-1][0] >= indent:
                stack.pop()
            stack.append((indent, match.group(1)))
            last = indent
    return dotted(tuple(part for _, part in stack)) or None


def plain_yaml_error(problem: str, context: str | None = None) -> tuple[str, str | None]:
    """PyYAML's problem text said in plain words, with a hint (PyYAML's own wording never reaches users)."""
    if problem.startswith(("nesting deeper than", f"more than {MAX_ALIASES} aliases")):
        return problem, None  # escalator's own limits, already in plain words
    text = f"{context or ''} {problem}"
    for fragment, said, hint in _YAML_WORDS:
        if fragment in text:
            if fragment == "found undefined alias":
                name = problem.rsplit(" ", 1)[-1]
                said = f"*{name.strip(chr(39))} names an &anchor that is not defined"
            return said, hint
    return "the text cannot be read as YAML here", "check the quotes, colons and indentation of this line"


def _offset_location(text: str, offset: int, file: str | None) -> Location:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return Location(file, line, column)


_RUN_OF_OPENERS = re.compile(r"[\[{](?:[ \t\r\n]*[\[{]){%d}" % MAX_DEPTH)


def _check_flow_openers(text: str, file: str | None) -> None:
    """Refuse a run of more than MAX_DEPTH flow openers ([[[[...) before PyYAML sees it.

    PyYAML's scanner treats every open bracket as a possible simple key and
    rescans them all for each new token, so such a run costs quadratic time
    before the composer's depth check is reached.
    """
    match = _RUN_OF_OPENERS.search(text)
    if match is not None:
        raise LoadError(Problem(f"nesting deeper than {MAX_DEPTH} levels", _offset_location(text, match.end() - 1, file)))


def _check_expanded_size(root: Node, file: str | None) -> None:
    """Refuse a document whose aliases would expand past MAX_NODES values, before building it.

    An alias is the same node object reused, so the expanded size of each node is
    counted once (memoised by identity): linear in the composed document, however
    large the expansion would be.
    """
    sizes: dict[int, int] = {}

    def size(node: Node) -> int:
        known = sizes.get(id(node))
        if known is not None:
            return known
        total = 1
        if isinstance(node, SequenceNode):
            total += sum(size(child) for child in node.value)
        elif isinstance(node, MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        if total > MAX_NODES:
            line, col = _mark(node)
            raise LoadError(Problem(
                f"document too large: more than {MAX_NODES} values once aliases are expanded (alias bomb?)",
                Location(file, line, col),
            ))
        sizes[id(node)] = total
        return total

    size(root)


def _decode(raw: bytes, file: str | None) -> str:
    if raw.startswith(b"\xff\xfe") or raw.startswith(b"\xfe\xff"):
        raise LoadError(Problem("the file is UTF-16; save it as UTF-8", Location(file, 1, 1)))
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise LoadError(
            Problem(f"not UTF-8: byte 0x{raw[exc.start]:02x} cannot be decoded", Location(file, line, column))
        ) from None


_CLoader: type[Any] | None = getattr(yaml, "CSafeLoader", None)  # PyYAML built with libyaml


def _compose_fast(text: str) -> Node | None:
    """The node graph composed by libyaml (in C, about 8x faster than PyYAML's own parser), or
    None when the document needs the careful path: no libyaml, an error, an alias, nesting
    deeper than MAX_DEPTH. That path (`_CountingLoader`) then composes it again and gives the
    very same nodes, or the same error as always. On every YAML file of the repository
    the two give identical nodes (tags, values, line and column).
    """
    if _CLoader is None:
        return None
    try:
        loader = _CLoader(text)
        try:
            node: Node | None = loader.get_single_node()
        finally:
            loader.dispose()
    except (yaml.YAMLError, RecursionError, ValueError):
        return None
    if node is None:
        return None
    seen: set[int] = set()
    stack: list[tuple[Node, int]] = [(node, 1)]
    while stack:
        current, depth = stack.pop()
        if id(current) in seen or depth > MAX_DEPTH + 1:
            return None  # an alias (a node used twice), or nested too deep: the careful path says so
        seen.add(id(current))
        if isinstance(current, SequenceNode):
            stack.extend((child, depth + 1) for child in current.value)
        elif isinstance(current, MappingNode):
            for key, value in current.value:
                stack.append((key, depth + 1))
                stack.append((value, depth + 1))
    return node


def parse_yaml(text: str | bytes, file: str | None = None) -> Document:
    """Parse one YAML document safely; see the module docstring for the rules."""
    if isinstance(text, bytes):
        if len(text) > MAX_FILE_BYTES:
            raise LoadError(Problem(f"file larger than {MAX_FILE_BYTES // (1024 * 1024)} MB", Location(file)))
        text = _decode(text, file)
    elif len(text) > MAX_FILE_BYTES:
        raise LoadError(Problem(f"file larger than {MAX_FILE_BYTES // (1024 * 1024)} MB", Location(file)))
    if text.startswith("\ufeff"):
        text = text[1:]
    _check_flow_openers(text, file)
    try:
        loader = _CountingLoader(text)  # the reader checks for unprintable characters here
    except yaml.reader.ReaderError as exc:
        raise LoadError(Problem(
            f"invalid YAML: character {exc.character:#06x} is not allowed in YAML", _offset_location(text, exc.position, file),
        )) from None
    try:
        node = _compose_fast(text) or loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        said, hint = plain_yaml_error(exc.problem or str(exc), exc.context)
        message = f"invalid YAML: {said}"
        if mark is not None:
            where = Location(file, mark.line + 1, mark.column + 1, guess_path(text, mark.line + 1))
            raise LoadError(Problem(message, where, hint=hint)) from None
        raise LoadError(Problem(message, Location(file), hint=hint)) from None
    except yaml.YAMLError as exc:
        raise LoadError(Problem(f"invalid YAML: {exc}", Location(file))) from None
    except RecursionError:
        raise LoadError(Problem(f"nesting deeper than {MAX_DEPTH} levels", Location(file))) from None
    finally:
        loader.dispose()
    if node is None:
        raise LoadError(Problem("the file is empty", Location(file, 1, 1)))
    _check_expanded_size(node, file)
    builder = _Builder(file)
    data = builder.build(node, (), 0)
    return Document(data, file, builder.positions)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|-?Infinity|NaN')


def _json_offset(text: str) -> int | None:
    """Where a JSON text that json.loads refused for a duplicate key or a NaN goes wrong.

    json's hooks get no positions, so this (only run after a failure) walks the
    tokens again, tracking the keys of every open object.
    """
    stack: list[set[str] | None] = []  # a set of keys per open object, None per array
    previous: re.Match[str] | None = None
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token in ("NaN", "Infinity", "-Infinity"):
            return match.start()
        if token == "{":
            stack.append(set())
        elif token == "[":
            stack.append(None)
        elif token in "}]" and stack:
            stack.pop()
        elif token == ":" and previous is not None and previous.group().startswith('"') and stack and stack[-1] is not None:
            key = json.loads(previous.group())
            if key in stack[-1]:
                return previous.start()
            stack[-1].add(key)
        previous = match
    return None


def _json_location(text: str, file: str | None, line: int | None) -> Location:
    offset = _json_offset(text)
    if offset is None:
        return Location(file, line)
    row = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return Location(file, row if line is None else line + row - 1, column)


def _json_error(exc: json.JSONDecodeError) -> tuple[str, int, int]:
    """The decoder's message and position, with a trailing comma named the same on every Python.

    Python 3.13 says "Illegal trailing comma" at the comma; older versions complain about the
    next token. Both are reported as 3.13 does.
    """
    before = exc.doc[: exc.pos].rstrip()
    if exc.msg.startswith(("Expecting property name", "Expecting value")) and before.endswith(","):
        comma = len(before) - 1
        closing = exc.doc[exc.pos: exc.pos + 1]
        kind = "object" if closing == "}" else "array" if closing == "]" else None
        if kind is not None:
            lineno = exc.doc.count("\n", 0, comma) + 1
            colno = comma - (exc.doc.rfind("\n", 0, comma) + 1) + 1
            return f"Illegal trailing comma before end of {kind}", lineno, colno
    return exc.msg, exc.lineno, exc.colno


def parse_json(text: str | bytes, file: str | None = None, line: int | None = None) -> Document:
    """Parse JSON with the same guarantees (exact decimals, duplicate keys refused)."""
    if isinstance(text, bytes):
        if len(text) > MAX_FILE_BYTES:
            raise LoadError(Problem(f"file larger than {MAX_FILE_BYTES // (1024 * 1024)} MB", Location(file)))
        text = _decode(text, file)
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        data = json.loads(
            text, parse_float=Decimal, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant
        )
    except json.JSONDecodeError as exc:
        message, lineno, colno = _json_error(exc)
        row = lineno if line is None else line + lineno - 1
        raise LoadError(Problem(f"invalid JSON: {message}", Location(file, row, colno))) from None
    except ValueError as exc:
        raise LoadError(Problem(f"invalid JSON: {exc}", _json_location(text, file, line))) from None
    except RecursionError:
        raise LoadError(Problem("invalid JSON: nesting too deep", Location(file, line))) from None
    return Document(data, file, {(): (line or 1, 1)})


def load_file(path: str | Path) -> Document:
    """Read a YAML or JSON file (by extension) with the size limit applied before reading."""
    path = Path(path)
    name = str(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise LoadError(Problem(f"cannot read file: {exc.strerror}", Location(name))) from None
    if size > MAX_FILE_BYTES:
        raise LoadError(Problem(f"file larger than {MAX_FILE_BYTES // (1024 * 1024)} MB ({size} bytes)", Location(name)))
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LoadError(Problem(f"cannot read file: {exc.strerror}", Location(name))) from None
    if path.suffix.lower() == ".json":
        return parse_json(raw, name)
    return parse_yaml(raw, name)


class _Dumper(yaml.SafeDumper):
    """Writes Decimals as plain numbers (exact: their own text) and tuples as lists."""


_Dumper.add_representer(Decimal, lambda d, v: d.represent_scalar("tag:yaml.org,2002:float", str(v)))
_Dumper.add_representer(tuple, lambda d, v: d.represent_list(v))


def dump_yaml(data: object) -> str:
    """YAML text that `parse_yaml` reads back to the same values (keys in their order)."""
    text: str = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True)
    return text
