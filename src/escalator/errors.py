"""Error types. Every failure escalator reports is one of these, never a bare traceback.

An error carries a list of `Problem`s so that one load or one case validation can
report everything wrong with it at once, each problem with where it is.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Location:
    """A place in a source file; line and column are 1-based."""

    file: str | None = None
    line: int | None = None
    column: int | None = None

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
    def is_error(self) -> bool:
        return self.severity == "error"

    def __str__(self) -> str:
        where = []
        if self.location is not None:
            where.append(str(self.location))
        if self.path:
            where.append(self.path)
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
            "path": self.path,
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "hint": self.hint,
            "rule": self.rule,
            "policies": list(self.policies),
        }


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
