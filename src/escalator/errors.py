"""Error types. Every failure escalator reports is one of these, never a bare traceback.

An error carries a list of `Problem`s so that one load or one case validation can
report everything wrong with it at once, each problem with where it is.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Iterable, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Location:
    """A place in a source file; line and column are 1-based."""

    file: str | None = None
    line: int | None = None
    column: int | None = None
    field: str | None = field(default=None, compare=False)  # the dotted field path there, if known

    def __str__(self) -> str:
        parts = [self.file or "<input>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or, with severity "warning", suspicious): a message, and where.

    Every error and warning escalator reports is a Problem, printed as
    `file:line:column: field.path: message [CODE]` (a warning says `warning:`
    before its message).
    """

    message: str
    location: Location | None = None
    path: str | None = None
    code: str | None = None
    hint: str | None = None
    severity: Severity = "error"
    rule: str | None = None  # the rule a static-check finding is about
    policies: tuple[str, ...] = ()  # the policies a finding was seen in (static checks)

    @property
    def field_path(self) -> str | None:
        """The dotted path of the field (given, or known from the location)."""
        return self.path or (self.location.field if self.location is not None else None)

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def __str__(self) -> str:
        where = []
        if self.location is not None:
            where.append(str(self.location))
        if self.field_path:
            where.append(self.field_path)
        message = self.message if self.severity == "error" else f"{self.severity}: {self.message}"
        text = f"{': '.join(where)}: {message}" if where else message
        if self.policies:
            text = f"{text} (policy {', '.join(self.policies)})"
        if self.code:
            text = f"{text} [{self.code}]"
        return text

    def with_hint(self) -> str:
        """The line, and the hint (if any) on an indented line below it."""
        return f"{self}\n    hint: {self.hint}" if self.hint else str(self)

    def to_dict(self) -> dict[str, str | int | list[str] | None]:
        loc = self.location or Location()
        return {
            "file": loc.file,
            "line": loc.line,
            "column": loc.column,
            "path": self.field_path,
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "hint": self.hint,
            "rule": self.rule,
            "policies": list(self.policies),
        }


def dotted(path: tuple[str | int, ...] | list[str | int]) -> str:
    """A document path as authors write it: tiers[0].authority.goodwill_bonus."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def describe(value: object) -> str:
    """A value as a policy author sees it (no Python type names): the text 'x', the number 5, a list..."""
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)) or type(value).__name__ == "Decimal":
        return f"the number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return f"the text {shown!r}" if value else "empty text"
    if isinstance(value, (list, tuple, set, frozenset)):
        return "a list"
    if isinstance(value, dict):
        return "a mapping (key: value lines)"
    return "a value of another kind"


def suggest(word: str, choices: Iterable[str]) -> str | None:
    """The closest known name to a misspelt one (edit distance), if any is close enough."""
    known = [c for c in choices if isinstance(c, str)]
    lowered = {c.lower(): c for c in known}
    if word.lower() in lowered and lowered[word.lower()] != word:
        return lowered[word.lower()]  # only the case differs
    found = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    return found[0] if found else None


def did_you_mean(word: str, choices: Iterable[str], label: str = "known") -> str:
    """A hint: `did you mean 'x'?`, else the list of known names (up to 12)."""
    known = sorted({c for c in choices if isinstance(c, str)})
    close = suggest(word, known)
    if close is not None:
        return f"did you mean {close!r}?"
    shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
    return f"{label}: {shown}" if known else f"no {label.split()[-1]} are defined"


class EscalatorError(Exception):
    """Base of every error escalator raises on purpose."""

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem(problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__(self._summary())

    def _summary(self) -> str:
        if len(self.problems) == 1:
            return str(self.problems[0])
        lines = [f"{len(self.problems)} problems:"]
        lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines)


class LoadError(EscalatorError):
    """A file could not be read or parsed (size, encoding, YAML syntax, duplicate keys...)."""


class PolicyError(EscalatorError):
    """Policies or rule packs are invalid (schema, references, types, extends cycles...)."""


class CaseError(EscalatorError):
    """A case is invalid; every problem names its field path."""


class NoPolicyError(CaseError):
    """No policy applies to the case's jurisdiction and date."""
