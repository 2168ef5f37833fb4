"""Differential testing: every way to decide must agree with the reference, byte for byte.

A *decider* is "a way to decide": given a generated policy set (`Generated`: its folders
and compiled policies), it returns a function from cases to decision JSON strings.
`engine_decider("durable")` is one; the bulk SQL path can plug in its own. `disagreements`
runs one generated policy and its cases through each decider and the reference
(`escalator.runtime.semantics` behind the usual decision combiner) and reports every case
whose decision JSON differs. The tests (tests/test_differential.py) drive it with
`escalator.authoring.policygen`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from escalator.authoring.policygen import PolicyFiles, to_yaml
from escalator.language.ir import CompiledPolicy
from escalator.language.policyset import compile_folders

AT = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)  # every decider decides at this one instant
Decide = Callable[[Sequence[dict[str, Any]]], list[str]]
Decider = Callable[["Generated"], Decide]


@dataclass(frozen=True)
class Generated:
    """A generated policy set, written out and compiled once."""

    files: PolicyFiles
    policies_dir: Path
    rules_dir: Path
    compiled: dict[str, CompiledPolicy]

    @classmethod
    def write(cls, files: PolicyFiles, folder: Path) -> "Generated":
        policies_dir, rules_dir = files.write(folder)
        return cls(files, policies_dir, rules_dir, compile_folders(policies_dir, rules_dir))


def engine_decider(backend: str) -> Decider:
    """A decider from an Engine backend name ("compiled", "durable", "reference")."""

    def make(generated: Generated) -> Decide:
        from escalator.runtime.engine import Engine

        engine = Engine(generated.compiled, backend)

        def decide(cases: Sequence[dict[str, Any]]) -> list[str]:
            try:
                return [_json(engine.evaluate(case, AT)) for case in cases]
            finally:
                engine.close()

        return decide

    return make


def _json(decision: Any) -> str:
    return str(decision.to_json())


REFERENCE = engine_decider("reference")


@dataclass(frozen=True)
class Disagreement:
    decider: str
    case: dict[str, Any]
    expected: str  # the reference's decision JSON
    actual: str

    def report(self, files: PolicyFiles) -> str:
        return (f"{self.decider} disagrees with the reference\n{files.yaml()}\n# --- case\n{to_yaml(self.case)}"
                f"# reference: {self.expected}\n# {self.decider}: {self.actual}")


def disagreements(generated: Generated, cases: Sequence[dict[str, Any]],
                  deciders: dict[str, Decider]) -> list[Disagreement]:
    """Every (decider, case) whose decision JSON differs from the reference's."""
    expected = REFERENCE(generated)(cases)
    found = []
    for name, decider in deciders.items():
        actual = decider(generated)(cases)
        found += [Disagreement(name, case, want, got)
                  for case, want, got in zip(cases, expected, actual) if want != got]
    return found


def save_counterexample(generated: Generated, cases: Sequence[dict[str, Any]], folder: Path) -> Path:
    """Write a (shrunk) counterexample as a regression fixture: its policy files and cases in YAML."""
    generated.files.write(folder)
    (folder / "cases.yaml").write_text(to_yaml(list(cases)), encoding="utf-8")
    return folder
