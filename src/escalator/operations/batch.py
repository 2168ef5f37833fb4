"""Streaming evaluation of many cases: files, folders, JSON Lines (plain or gzip) and stdin.

    for outcome in evaluate_stream(iter_inputs(["cases/", "-"]), policies, workers=2):
        ...

Inputs are read lazily and evaluated in bounded chunks, so a million JSON lines
run in constant memory; with `workers > 1` the chunks go to a process pool and
come back in input order (at most a few chunks per worker are in flight: no
`Pool.imap`, which reads its whole input ahead). A bad case never stops the run:
it becomes an `Outcome` with error records (source, line, field path, message).
"""

from __future__ import annotations

import gzip
import json
import sys
import zlib
from functools import partial
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

from escalator.errors import EscalatorError, LoadError, Location, Problem
from escalator.language.cases import parse_case, place
from escalator.language.yamlio import Document, load_file, parse_json
from escalator.operations.pool import chunks, ordered_map

if TYPE_CHECKING:
    from escalator.language.ir import CompiledPolicy
    from escalator.runtime.engine import Engine

CASE_SUFFIXES = (".yaml", ".yml", ".json")
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson")
MAX_LINE_BYTES = 5 * 1024 * 1024
STDIN = "-"
RENDERS = (None, "json", "jsonl")


@dataclass(frozen=True)
class CaseInput:
    """One case to evaluate: a case file (`text` None) or one JSON line (`text` set)."""

    source: str
    line: int | None = None
    text: bytes | None = None
    error: str | None = None  # a problem found while reading (e.g. an over-long line)

    def read(self) -> Document:
        """The parsed document (LoadError for unreadable input), with positions for errors."""
        if self.error is not None:
            raise LoadError(Problem(self.error, Location(self.source, self.line)))
        return load_file(self.source) if self.text is None else parse_json(self.text, self.source, self.line)


@dataclass(frozen=True)
class Outcome:
    """The result for one input, in input order."""

    source: str
    line: int | None
    case_id: str | None = None
    decision: dict[str, Any] | None = None  # Decision.to_dict(), unless a render was asked for
    text: str | None = None  # the rendered decision ("json": indent=2, "jsonl": compact)
    problems: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    case: dict[str, Any] | None = None  # the validated case as JSON data, when asked for (the decision log)

    @property
    def ok(self) -> bool:
        return not self.problems

    def where(self) -> str:
        return self.source if self.line is None else f"{self.source}:{self.line}"

    def error_record(self) -> dict[str, Any]:
        """The machine-readable error record that stands in for a bad case's decision."""
        return {"error": {"source": self.source, "line": self.line, "case_id": self.case_id,
                          "problems": list(self.problems)}}

    def error_lines(self) -> list[str]:
        """One human line per problem: `file:line:col: field.path: message`."""
        lines = []
        for p in self.problems:
            where = p.get("file") or self.source
            row = p.get("line") or self.line
            if row is not None:
                where = f"{where}:{row}"
                if p.get("column") is not None:
                    where = f"{where}:{p['column']}"
            text = f"{where}: {p['path']}: {p['message']}" if p.get("path") else f"{where}: {p['message']}"
            lines.append(text)
        return lines


class InputError(Exception):
    """A path given on the command line cannot be read (missing, not a case file...)."""


# -- reading --------------------------------------------------------------------------
def is_jsonl(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith(JSONL_SUFFIXES)


def is_case_file(path: Path) -> bool:
    return path.suffix.lower() in CASE_SUFFIXES or is_jsonl(path)


def _folder_files(folder: Path) -> list[Path]:
    found = [p for p in folder.rglob("*") if p.is_file() and is_case_file(p) and not p.name.startswith(".")]
    return sorted(found, key=lambda p: p.relative_to(folder).parts)


def check_paths(paths: Iterable[str]) -> None:
    """Fail fast on a path that does not exist, before any case is evaluated."""
    for raw in paths:
        if raw == STDIN:
            continue
        path = Path(raw)
        if not path.exists():
            raise InputError(f"{raw}: no such file or folder")
        if path.is_dir():
            if not _folder_files(path):
                raise InputError(f"{raw}: no case files (*.yaml, *.yml, *.json, *.jsonl[.gz]) in this folder")
        elif not is_case_file(path):
            raise InputError(f"{raw}: not a case file (expected .yaml, .yml, .json, .jsonl or .jsonl.gz)")


def single_case(paths: list[str]) -> bool:
    """True when the arguments name exactly one case file (so JSON output is one object)."""
    if len(paths) != 1 or paths[0] == STDIN:
        return False
    path = Path(paths[0])
    return path.is_file() and not is_jsonl(path)


class LineReader(Protocol):
    """A binary stream read line by line (an open file, a GzipFile, stdin's buffer)."""

    def readline(self, size: int = -1, /) -> bytes: ...


def read_lines(stream: LineReader, source: str) -> Iterator[CaseInput]:
    """JSON Lines from a binary stream; blank lines are skipped but counted."""
    number = 0
    while True:
        raw = stream.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while True:  # skip the rest of the over-long line without holding it
                rest = stream.readline(MAX_LINE_BYTES)
                if not rest or rest.endswith(b"\n"):
                    break
            yield CaseInput(source, number, None, f"line longer than {MAX_LINE_BYTES // (1024 * 1024)} MB")
            continue
        if raw.strip():
            yield CaseInput(source, number, raw)


def iter_inputs(paths: Iterable[str], stdin: IO[bytes] | None = None) -> Iterator[CaseInput]:
    """Every case named by the paths, lazily, in order (folders sorted, recursively)."""
    for raw in paths:
        if raw == STDIN:
            yield from read_lines(stdin if stdin is not None else sys.stdin.buffer, "<stdin>")
            continue
        path = Path(raw)
        files = _folder_files(path) if path.is_dir() else [path]
        for file in files:
            if is_jsonl(file):
                opener = gzip.open if file.name.lower().endswith(".gz") else open
                try:
                    with opener(file, "rb") as stream:
                        yield from read_lines(stream, str(file))
                except (OSError, EOFError, zlib.error) as exc:  # corrupt gzip included
                    yield CaseInput(str(file), None, None, f"cannot read file: {exc}")
            else:
                yield CaseInput(str(file))


# -- evaluating -----------------------------------------------------------------------
@dataclass(frozen=True)
class Evaluator:
    """What a worker evaluates with: its engine and how to render outcomes."""

    engine: Engine
    render: str | None = None
    keep_case: bool = False
    locale: str | None = None  # the language of the messages (None: each policy's own)


def _evaluator(policies: dict[str, CompiledPolicy], backend: str, render: str | None, keep_case: bool,
               locale: str | None = None) -> Evaluator:
    from escalator.runtime.engine import Engine

    return Evaluator(Engine(policies, backend), render, keep_case, locale)


def problem_dicts(problems: Iterable[Problem]) -> tuple[dict[str, Any], ...]:
    return tuple(
        {k: v for k, v in p.to_dict().items() if k in ("file", "line", "column", "path", "message")}
        for p in problems
    )


def evaluate_one(item: CaseInput, engine: Engine, render: str | None, keep_case: bool = False,
                 locale: str | None = None) -> Outcome:
    """One input through the Python engine: its decision, or its problems (never raises)."""
    if item.error is not None:
        return Outcome(item.source, item.line, problems=({"path": None, "message": item.error},))
    case_id = None
    doc: Document | None = None
    try:
        doc = item.read()
        if isinstance(doc.data, dict) and isinstance(doc.data.get("case_id"), str):
            case_id = doc.data["case_id"]
        model = parse_case(doc)
        decision = engine.evaluate(model, locale=locale).to_dict()
    except EscalatorError as exc:
        return Outcome(item.source, item.line, case_id, problems=problem_dicts(place(exc.problems, doc) if doc else exc.problems))
    except Exception as exc:  # a bug must not stop a million-case run; report it in place
        message = f"internal error: {type(exc).__name__}: {exc}"
        return Outcome(item.source, item.line, case_id, problems=({"path": None, "message": message},))
    case = model.model_dump(mode="json") if keep_case else None
    return decided(item.source, item.line, case_id, decision, render, case)


def decided(source: str, line: int | None, case_id: str | None, decision: dict[str, Any], render: str | None,
            case: dict[str, Any] | None = None) -> Outcome:
    """The Outcome of a decision (`Decision.to_dict()`), rendered as asked: one place for the bytes."""
    if render is None:
        return Outcome(source, line, case_id, decision, case=case)
    indent = 2 if render == "json" else None
    separators = None if indent else (",", ":")
    text = json.dumps(decision, ensure_ascii=False, indent=indent, separators=separators)
    return Outcome(source, line, case_id, decision if case is not None else None, text, case=case)


def _chunk(evaluator: Evaluator, items: list[CaseInput]) -> list[Outcome]:
    return [evaluate_one(item, evaluator.engine, evaluator.render, evaluator.keep_case, evaluator.locale)
            for item in items]


def evaluate_stream(
    inputs: Iterable[CaseInput],
    policies: dict[str, CompiledPolicy],
    backend: str = "auto",
    workers: int = 1,
    render: str | None = None,
    chunksize: int = 1024,  # large enough that handing chunks to workers costs little (1.8x on 2 cores)
    keep_case: bool = False,
    locale: str | None = None,
) -> Iterator[Outcome]:
    """Evaluate inputs in order; `policies` is `compile_folders(...)` output (validated already).

    `render` "jsonl" / "json" makes each Outcome carry the decision as JSON text (built
    in the worker, so the parent only writes bytes); None keeps the decision dict.
    `keep_case` also keeps the validated case (JSON data) and the decision dict, for the log.
    `locale` is the language of the decisions' messages (default: each policy's own).
    """
    if render not in RENDERS:
        raise ValueError(f"render must be one of {RENDERS}")
    if workers <= 1:
        from escalator.runtime.engine import Engine

        engine = Engine(policies, backend)
        try:
            for item in inputs:
                yield evaluate_one(item, engine, render, keep_case, locale)
        finally:
            engine.close()
        return
    yield from _parallel(inputs, policies, backend, workers, render, chunksize, keep_case, locale)


def _parallel(inputs: Iterable[CaseInput], policies: dict[str, CompiledPolicy], backend: str, workers: int,
              render: str | None, chunksize: int, keep_case: bool = False,
              locale: str | None = None) -> Iterator[Outcome]:
    from escalator.runtime.backends import check_backend

    check_backend(backend)  # fail here, not once per worker
    setup = partial(_evaluator, policies, backend, render, keep_case, locale)
    for outcomes in ordered_map(_chunk, chunks(inputs, chunksize), setup=setup, workers=workers):
        yield from outcomes
