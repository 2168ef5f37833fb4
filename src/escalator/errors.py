"""Error types. Every failure escalator reports is one of these, never a bare traceback.

An error carries a list of `Problem`s so that one load or one case validation can
report everything wrong with it at once, each problem with where it is.
"""

from __future__ import annotations

from dataclasses import dataclass


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
    """One thing wrong: a message, and where (file position and/or field path)."""

    message: str
    location: Location | None = None
    path: str | None = None
    code: str | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = []
        if self.location is not None:
            where.append(str(self.location))
        if self.path:
            where.append(self.path)
        text = f"{': '.join(where)}: {self.message}" if where else self.message
        if self.code:
            text = f"{text} [{self.code}]"
        return text

    def to_dict(self) -> dict[str, str | int | None]:
        loc = self.location or Location()
        return {
            "file": loc.file,
            "line": loc.line,
            "column": loc.column,
            "path": self.path,
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
        }


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
