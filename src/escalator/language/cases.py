"""Reading and validating cases: from a dict, a Case, a YAML/JSON file or a JSON line."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from escalator.errors import CaseError, Problem, describe
from escalator.language.fastpath import make_fast_validator
from escalator.language.models.case import Case
from escalator.language.validation import validate
from escalator.language.yamlio import Document, load_file, parse_json

FAST_CASE = make_fast_validator(Case)
"""A plain dict of the usual shape, validated in Python written from the model (else None: pydantic)."""


def parse_case(data: Any, source: str | None = None) -> Case:
    """Validate case data; every problem is listed with its field path (pydantic's errors, always:
    the fast path only takes input it can check exactly, and hands everything else to pydantic)."""
    if FAST_CASE is not None and (data.__class__ is dict or isinstance(data, Document)):
        fast: Case | None = FAST_CASE(data.data if isinstance(data, Document) else data)
        if fast is not None:
            return fast
    if isinstance(data, Case):
        return data
    if isinstance(data, Document):
        return validate(Case, data, CaseError)
    if not isinstance(data, dict):
        raise CaseError(Problem(f"expected a case (a mapping of fields), found {describe(data)}"))
    return validate(Case, Document(data, source), CaseError)


_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def place(problems: list[Problem], doc: Document) -> list[Problem]:
    """Give problems found after parsing (e.g. an unknown tier) their line in the case's document."""
    placed = []
    for problem in problems:
        if problem.location is None and problem.path:
            path = tuple(int(index) if index else name for name, index in _PART.findall(problem.path))
            problem = replace(problem, location=doc.location(path))
        placed.append(problem)
    return placed


def load_case(path: str | Path) -> Case:
    """A case file (YAML or JSON); errors name the file, line and column."""
    return parse_case(load_file(path))


def parse_case_line(line: str, source: str = "<stdin>", number: int = 1) -> Case:
    """One JSON Lines record."""
    return parse_case(parse_json(line, source, number))
