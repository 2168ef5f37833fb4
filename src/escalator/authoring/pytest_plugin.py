"""pytest plugin: `test_*.yaml` files with a top-level `tests:` list become pytest items.

Registered through the `pytest11` entry point, so `pytest policies/` runs an
operator's policy tests. Importing this module is cheap (only pytest and the
standard library): pytest loads it in every session, escalator's or not.
"""

from __future__ import annotations

import re
from pathlib import Path
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from escalator.errors import suggest

if TYPE_CHECKING:
    from _pytest._code.code import TerminalRepr, TracebackStyle

    from escalator.authoring.policytest import PolicyTest, Runner

_TOP_KEY = re.compile(rb"^([A-Za-z_]+)\s*:", re.MULTILINE)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("escalator", "escalator policy tests")
    group.addoption("--policy-backend", default=None, help="backend for YAML policy tests: auto, compiled or durable")


def _looks_like_policy_tests(path: Path) -> bool:
    if not path.name.startswith("test_") or path.suffix not in (".yaml", ".yml"):
        return False
    try:
        with path.open("rb") as handle:
            head = handle.read(1 << 20)
    except OSError:
        return False
    # `tests:`, or a near miss (`test:`, `Tests:`): collected, so that loading reports it as an error
    return any(key == "tests" or suggest(key, ["tests"]) for key in
               (match.group(1).decode() for match in _TOP_KEY.finditer(head)))


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> PolicyTestFile | None:
    if _looks_like_policy_tests(file_path):
        return PolicyTestFile.from_parent(parent, path=file_path)
    return None


class PolicyTestFailure(Exception):
    """A policy test's decision differs from its expectation; the message is the diff."""


class PolicyTestFile(pytest.File):
    def collect(self) -> Iterator[PolicyTestItem]:
        from escalator.authoring import policytest

        backend = self.config.getoption("--policy-backend")
        for test in policytest.load_tests(self.path, backend=backend):
            yield PolicyTestItem.from_parent(self, name=test.name, test=test)


class PolicyTestItem(pytest.Item):
    def __init__(self, *, test: PolicyTest, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.test = test

    def _runner(self) -> Runner:
        runner: Runner | None = getattr(self.config, "_escalator_runner", None)
        if runner is None:
            from escalator.authoring.policytest import Runner

            runner = Runner()
            self.config._escalator_runner = runner  # type: ignore[attr-defined]
            self.config.add_cleanup(runner.close)
        return runner

    def runtest(self) -> None:
        result = self._runner().run(self.test)
        if not result.passed:
            raise PolicyTestFailure(result.diff())

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: TracebackStyle | None = None) -> str | TerminalRepr:
        if isinstance(excinfo.value, PolicyTestFailure):
            return f"policy test {self.test.name!r} ({self.test.location}) failed:\n{excinfo.value}"
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        line = self.test.location.line
        return self.path, (line - 1 if line else None), f"policy test: {self.name}"
