"""YAML policy tests: load, run, diff, coverage and JUnit XML.

A test file (`test_*.yaml`) holds a top-level `tests:` list; each test gives a
case (inline, or a path relative to the test file) and a partial expected
decision. Only the keys an author writes are checked, so a test states exactly
the facts it is about (format: docs/policy-authoring.md, "Policy tests").

Optional top-level keys: `policies:` / `rules:` (folders, relative to the test
file; by default the policy folder the test file sits in, else the bundled
one) and `backend:` (auto | compiled | durable). A test may also say
`policy: ID` (the policy that must decide the case) and `backend:`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from escalator.errors import EscalatorError, LoadError, Location, Problem, describe, did_you_mean, dotted, suggest
from escalator.money import format_money, number_hint, parse_duration, to_decimal
from escalator.language.yamlio import DocPath, Document, load_file

if TYPE_CHECKING:
    from escalator.language.ir import CompiledPolicy
    from escalator.language.models.case import Case
    from escalator.language.models.decision import Decision
    from escalator.runtime.engine import Engine
    from escalator.runtime.explain import Explanation

EXPECT_KEYS = (
    "handler", "escalate", "transfer", "locked", "procedure", "authority",
    "forward", "flags", "deadlines", "reasons", "not_reasons", "policy",
    "evaluated_at", "contact_at", "next_review_at",
)
INSTANT_KEYS = ("evaluated_at", "contact_at", "next_review_at")
TEST_KEYS = ("name", "case", "expect", "policy", "backend", "description", "at")
FILE_KEYS = ("tests", "policies", "rules", "backend", "description", "at")
DEADLINE_KEYS = ("acknowledge_by", "resolve_by", "acknowledge", "resolve", "paused")


@dataclass
class PolicyTest:
    name: str
    file: Path
    location: Location
    case: Document | LoadError  # the case (file or inline), or the error found while reading it
    expect: dict[str, Any]
    policy: str | None
    backend: str
    policies_dir: Path | None
    rules_dir: Path | None
    doc: Document | None = None  # the test file, to place problems found when the test runs
    at: DocPath = ()
    instant: datetime | None = None  # the instant to decide at (`at:` of the test or file, or --at)

    @property
    def id(self) -> str:
        return f"{self.file}::{self.name}"


@dataclass
class Mismatch:
    key: str
    expected: object
    actual: object
    note: str | None = None


@dataclass
class PolicyTestResult:
    test: PolicyTest
    mismatches: list[Mismatch] = field(default_factory=list)
    error: str | None = None
    error_problems: tuple[Problem, ...] = ()  # the problems behind `error`, with their places
    decision: Decision | None = None
    explanation: Explanation | None = None
    fired: tuple[str, ...] = ()
    backend: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and not self.mismatches

    @property
    def status(self) -> str:
        return "error" if self.error else ("pass" if not self.mismatches else "fail")

    def diff(self) -> str:
        """Expected vs actual for every mismatch, then the decisive rules."""
        if self.error_problems:
            return "\n".join("error: " + p.with_hint() for p in self.error_problems)
        if self.error:
            return f"error: {self.error}"
        lines = []
        width = max((len(m.key) for m in self.mismatches), default=0) + 1
        for m in self.mismatches:
            lines.append(f"{m.key + ':':<{width}} expected {show(m.expected)}")
            lines.append(f"{'':<{width}} actual   {show(m.actual)}" + (f"  ({m.note})" if m.note else ""))
        if self.explanation is not None:
            lines.append("decisive rules:")
            lines.extend("  " + line for line in decisive_rules(self.explanation, self.test.expect))
        return "\n".join(lines)

    def report(self) -> str:
        head = f"{self.status.upper()} {self.test.location}: {self.test.name}"
        return head if self.passed else f"{head}\n" + _indent(self.diff(), "    ")


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def show(value: object) -> str:
    if isinstance(value, Decimal):
        return format_money(value) or "null"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show(v)}" for k, v in value.items()) + "}"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def decisive_rules(explanation: Explanation, expect: dict[str, Any]) -> list[str]:
    """The fired rules and every rule a test names, each with its comparisons."""
    named = set(expect.get("reasons") or ()) | set(expect.get("not_reasons") or ())
    lines = []
    known = {rule.id for rule in explanation.rules}
    for rule_id in sorted(named - known):
        lines.append(f"{rule_id}: not a rule of policy {explanation.decision.policy.id} (disabled or unknown)")
    for rule in explanation.rules:
        if not rule.fired and rule.id not in named:
            continue
        lines.append(f"{rule.id} ({'fired' if rule.fired else 'did not fire'}): {rule.description}")
        for c in rule.comparisons:
            mark = {True: "true", False: "false", None: "unknown"}[c.result]
            value = "(absent)" if c.value is None else show(c.value)
            lines.append(f"    {c.text}  [{mark}; value {value}]" + (f"  {c.note}" if c.note else ""))
    return lines or ["(no rule fired: the lowest tier handles the case)"]


# -- loading ------------------------------------------------------------------------------------


def is_test_document(data: object) -> bool:
    return isinstance(data, dict) and isinstance(data.get("tests"), list)


def _fail(doc: Document, path: DocPath, message: str) -> LoadError:
    return LoadError(Problem(message, doc.location(path), code="E-TEST"))


def _sub_document(doc: Document, prefix: DocPath) -> Document:
    data = doc.data
    for part in prefix:
        data = data[part]
    n = len(prefix)
    positions = {p[n:]: v for p, v in doc.positions.items() if p[:n] == prefix}
    return Document(data, doc.file, positions)


def find_policy_folders(test_file: Path) -> tuple[Path | None, Path | None]:
    """The policy folder a test file belongs to: its own folder or the parent, if it holds policy files
    (resolved like any folder, see `escalator.language.sources.locate`); else (None, None): bundled."""
    from escalator.language.sources import holds_policies, locate

    for folder in (test_file.parent, test_file.parent.parent):
        if holds_policies(folder):
            source = locate(folder)
            return source.policies, source.rules
    return None, None


class _Problems(list[Problem]):
    """Every problem of one test file, so that one run reports them all."""

    def add(self, doc: Document, path: DocPath, message: str, hint: str | None = None) -> None:
        self.append(Problem(message, doc.location(path), code="E-TEST", hint=hint))

    def unknown(self, doc: Document, path: DocPath, key: str, allowed: Iterable[str], what: str) -> None:
        allowed = list(allowed)
        close = suggest(key, allowed)
        hint = (f"keys are lowercase: write {close!r}" if close and close.lower() == key.lower()
                else f"did you mean {close!r}?" if close else f"allowed: {', '.join(allowed)}")
        self.add(doc, path, f"unknown {what} {key!r}", hint)


def _instant(value: Any) -> datetime | None:
    """An `at:` value, or None when it is not an instant with a time zone (a problem is added)."""
    from escalator.language.time import parse_instant

    try:
        return parse_instant(value if isinstance(value, str) else "")
    except ValueError:
        return None


_AT_PROBLEM = "expected an instant with a time zone, e.g. 2026-11-23T10:00:00Z"


def load_tests(path: str | Path, policies: Path | None = None, rules: Path | None = None,
               backend: str | None = None, instant: datetime | None = None) -> list[PolicyTest]:
    """Read one test file; a malformed file raises one LoadError with every problem, each with
    file, line, column and field path. `instant` (the CLI's --at) overrides every `at:` in the file."""
    path = Path(path)
    doc = load_file(path)
    data = doc.data
    problems = _Problems()
    if not is_test_document(data):
        if isinstance(data, dict) and "tests" not in data:
            for key in data:
                if suggest(str(key), ["tests"]) is not None:
                    problems.unknown(doc, (key,), str(key), FILE_KEYS, "key")
        if not problems:
            problems.add(doc, ("tests",) if isinstance(data, dict) and "tests" in data else (),
                         f"a policy test file needs a top-level `tests:` list, found {describe(data.get('tests') if isinstance(data, dict) else data)}")
        raise LoadError(problems)
    for key in sorted(set(data) - set(FILE_KEYS)):
        problems.unknown(doc, (key,), key, FILE_KEYS, "key")
    base = path.parent
    for key in ("policies", "rules", "backend"):
        if key in data and not isinstance(data[key], str):
            problems.add(doc, (key,), f"expected a folder path relative to this file, found {describe(data[key])}"
                         if key != "backend" else f"expected auto, compiled or durable, found {describe(data[key])}")
    if problems:
        raise LoadError(problems)
    pol: Path | None
    rul: Path | None
    if "policies" in data or "rules" in data:
        from escalator.language.sources import locate

        source = locate(base / data["policies"] if "policies" in data else None,
                        base / data["rules"] if "rules" in data else None)
        pol, rul = source.policies, source.rules
    else:
        pol, rul = find_policy_folders(path)
    if policies is not None:
        pol = Path(policies)
    if rules is not None:
        rul = Path(rules)
    file_backend = data.get("backend", "auto")
    file_at = _instant(data["at"]) if "at" in data else None
    if "at" in data and file_at is None:
        problems.add(doc, ("at",), f"{_AT_PROBLEM}, found {describe(data['at'])}")
    forced = instant
    tests = []
    names: set[str] = set()
    for i, spec in enumerate(data["tests"]):
        at: DocPath = ("tests", i)
        if not isinstance(spec, dict):
            problems.add(doc, at, f"expected a test (a mapping with name, case and expect), found {describe(spec)}")
            continue
        for key in sorted(set(spec) - set(TEST_KEYS)):
            problems.unknown(doc, at + (key,), key, TEST_KEYS, "test key")
        name = spec.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.add(doc, at + ("name",), "every test needs a `name`")
            name = f"test {i + 1}"
        elif name in names:
            problems.add(doc, at + ("name",), f"two tests are named {name!r}")
        names.add(name)
        if "case" not in spec:
            problems.add(doc, at, f"test {name!r} has no `case` (a mapping, or a path relative to the test file)")
            continue
        expect = spec.get("expect") or {}
        if not isinstance(expect, dict):
            problems.add(doc, at + ("expect",), f"expected a mapping of expectations, found {describe(expect)}")
            continue
        _check_expect(doc, at + ("expect",), expect, problems)
        try:
            case = _case_source(doc, at + ("case",), base)
        except LoadError as exc:
            problems.extend(exc.problems)
            continue
        own_at = _instant(spec["at"]) if "at" in spec else None
        if "at" in spec and own_at is None:
            problems.add(doc, at + ("at",), f"{_AT_PROBLEM}, found {describe(spec['at'])}")
        tests.append(PolicyTest(
            name=name, file=path, location=doc.location(at), case=case,
            expect=expect, policy=spec.get("policy", expect.get("policy")),
            backend=backend or spec.get("backend") or file_backend, policies_dir=pol, rules_dir=rul,
            doc=doc, at=at, instant=forced or own_at or file_at,
        ))
    if problems:
        raise LoadError(problems)
    return tests


def _case_source(doc: Document, at: DocPath, base: Path) -> Document | LoadError:
    raw = _sub_document(doc, at)
    if isinstance(raw.data, dict):
        return raw
    if isinstance(raw.data, str):
        try:
            return load_file(base / raw.data)
        except LoadError as exc:
            return exc  # reported as this test's error, the other tests still run
    raise _fail(doc, at, f"expected a case (a mapping) or the path of a case file, found {describe(raw.data)}")


def _check_expect(doc: Document, at: DocPath, expect: dict[str, Any], problems: _Problems) -> None:
    for key, value in expect.items():
        where = at + (key,)
        if key not in EXPECT_KEYS:
            problems.unknown(doc, where, key, EXPECT_KEYS, "expectation")
        elif key in ("escalate", "locked") and not isinstance(value, bool):
            problems.add(doc, where, f"expected true or false, found {describe(value)}",
                         "write true or false without quotes" if isinstance(value, str) else None)
        elif key in ("forward", "flags", "reasons", "not_reasons"):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problems.add(doc, where, f"expected a list of names, found {describe(value)}",
                             f"write {key}: [a, b]")
        elif key == "authority":
            if not isinstance(value, dict):
                problems.add(doc, where, f"expected a mapping of actions to amounts, found {describe(value)}",
                             "write authority: {goodwill_bonus: \"50.00\"}")
                continue
            for action, amount in value.items():
                try:
                    to_decimal(amount)
                except ValueError as exc:
                    problems.add(doc, where + (action,), str(exc),
                                 number_hint(amount) if isinstance(amount, str) else None)
        elif key in INSTANT_KEYS:
            if value is not None and _instant(value) is None:
                problems.add(doc, where, f"{_AT_PROBLEM} (or null), found {describe(value)}")
        elif key == "deadlines":
            if not isinstance(value, dict):
                problems.add(doc, where, f"expected a mapping, found {describe(value)}",
                             f"`deadlines` takes {', '.join(DEADLINE_KEYS)}")
                continue
            for name in sorted(set(value) - set(DEADLINE_KEYS)):
                problems.unknown(doc, where + (name,), name, DEADLINE_KEYS, "deadline")
            if "paused" in value and not isinstance(value["paused"], bool):
                problems.add(doc, where + ("paused",), f"expected true or false, found {describe(value['paused'])}")
            for name in ("acknowledge", "resolve"):
                if value.get(name) is not None:
                    try:
                        parse_duration(value[name])
                    except ValueError as exc:
                        problems.add(doc, where + (name,), str(exc))


def _in_test_file(test: PolicyTest, problem: Problem) -> Problem:
    """A problem of an inline case, with its field path from the top of the test file."""
    if test.doc is None or not isinstance(test.case, Document) or test.case.file != str(test.file):
        return problem
    prefix = dotted(test.at + ("case",))
    inner = problem.field_path
    return replace(problem, path=f"{prefix}.{inner}" if inner else prefix)


def names_problems(test: PolicyTest, policy: CompiledPolicy) -> list[Problem]:
    """Names in a test's expectation that the deciding policy does not know (tiers, actions, rule ids)."""
    if test.doc is None:
        return []
    found = _Problems()
    at = test.at + ("expect",)
    tiers = [t.id for t in policy.tiers]
    rules = [r.id for r in policy.rules]
    # not_reasons may name a rule the policy disables: that it never fires is the point
    checks: list[tuple[str, list[str], str]] = [("handler", tiers, "tier"), ("forward", tiers, "tier"),
                                                ("reasons", rules, "rule")]
    for key, known, what in checks:
        value = test.expect.get(key)
        items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        for i, name in enumerate(items):
            # a rule id without a close match may be a rule the policy disables: a failure, not an error
            if isinstance(name, str) and name not in known and (what != "rule" or suggest(name, known)):
                where = at + (key,) if isinstance(value, str) else at + (key, i)
                found.add(test.doc, where, f"{name!r} is not a {what} of policy {policy.id}",
                          did_you_mean(name, known, f"its {what}s"))
    for action in (test.expect.get("authority") or {}):
        if action not in policy.actions:
            found.add(test.doc, at + ("authority", action), f"{action!r} is not an action of policy {policy.id}",
                      did_you_mean(str(action), policy.actions, "its actions"))
    return list(found)


def collect(paths: Iterable[str | Path]) -> list[Path]:
    """Test files under the given files and folders (recursively: test_*.yaml / .yml)."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("test_*.y*ml") if p.suffix in (".yaml", ".yml")))
        elif path.exists():
            found.append(path)
        else:
            raise LoadError(Problem(f"no such file or folder: {path}", Location(str(path))))
    return list(dict.fromkeys(found))


# -- running ------------------------------------------------------------------------------------


class Runner:
    """Runs tests, sharing one engine per (policies, rules, backend); records rule coverage."""

    def __init__(self) -> None:
        self._engines: dict[tuple[Path | None, Path | None, str], Engine] = {}
        self.coverage: dict[str, int] = {}
        self.results: list[PolicyTestResult] = []

    def engine(self, test: PolicyTest) -> Engine:
        from escalator.runtime.engine import Engine

        key = (test.policies_dir, test.rules_dir, test.backend)
        if key not in self._engines:
            engine = Engine.load(test.policies_dir, test.rules_dir, backend=test.backend)
            self._engines[key] = engine
            for policy in engine.policies.values():
                for rule in policy.rules:
                    self.coverage.setdefault(rule.id, 0)
        return self._engines[key]

    def close(self) -> None:
        for engine in self._engines.values():
            engine.close()
        self._engines.clear()

    def run(self, test: PolicyTest) -> PolicyTestResult:
        result = run_test(test, self.engine(test))
        for rule_id in result.fired:
            self.coverage[rule_id] = self.coverage.get(rule_id, 0) + 1
        self.results.append(result)
        return result

    def run_all(self, tests: Iterable[PolicyTest]) -> list[PolicyTestResult]:
        return [self.run(t) for t in tests]


def run_test(test: PolicyTest, engine: Engine) -> PolicyTestResult:
    from escalator.language.cases import parse_case

    result = PolicyTestResult(test, backend=engine.backend)
    if isinstance(test.case, EscalatorError):
        result.error, result.error_problems = str(test.case), tuple(test.case.problems)
        return result
    try:
        case = parse_case(test.case)
        explanation = engine.explain(test.case, test.instant)  # the document: problems get their lines
    except EscalatorError as exc:
        problems = tuple(_in_test_file(test, p) for p in exc.problems)
        result.error, result.error_problems = "\n".join(map(str, problems)), problems
        return result
    decision = explanation.decision
    unknown_names = names_problems(test, engine.policies[decision.policy.id])
    if unknown_names:
        result.error_problems = tuple(unknown_names)
        result.error = "\n".join(str(p) for p in unknown_names)
        return result
    result.decision, result.explanation, result.fired = decision, explanation, decision.fired
    result.mismatches = compare(test.expect, decision, case, test.policy)
    return result


def compare(expect: dict[str, Any], decision: Decision, case: Case, policy: str | None = None) -> list[Mismatch]:
    """Every way the decision differs from the partial expectation."""
    out: list[Mismatch] = []
    if policy is not None and decision.policy.id != policy:
        out.append(Mismatch("policy", policy, decision.policy.id))
    for key in ("handler", "escalate", "transfer", "locked", "procedure"):
        if key in expect and expect[key] != getattr(decision, key):
            out.append(Mismatch(key, expect[key], getattr(decision, key)))
    for action, amount in (expect.get("authority") or {}).items():
        actual = decision.authority.get(action)
        if actual is None or to_decimal(amount) != actual:
            out.append(Mismatch(f"authority.{action}", to_decimal(amount), actual,
                                None if actual is not None else "the policy has no such action"))
    for key in ("forward", "flags"):
        if key in expect and sorted(expect[key]) != sorted(getattr(decision, key)):
            out.append(Mismatch(key, list(expect[key]), list(getattr(decision, key))))
    fired = set(decision.fired)
    missing = [r for r in expect.get("reasons") or () if r not in fired]
    if missing:
        out.append(Mismatch("reasons", missing, sorted(fired), "these rules did not fire"))
    unwanted = [r for r in expect.get("not_reasons") or () if r in fired]
    if unwanted:
        out.append(Mismatch("not_reasons", [], unwanted, "these rules fired but must not"))
    for key in INSTANT_KEYS:
        if key in expect:
            actual_at = getattr(decision, key)
            shown_at = actual_at.strftime("%Y-%m-%dT%H:%M:%SZ") if actual_at else None
            wanted_at = _instant(expect[key]) if expect[key] is not None else None
            if (wanted_at.strftime("%Y-%m-%dT%H:%M:%SZ") if wanted_at else None) != shown_at:
                out.append(Mismatch(key, expect[key], shown_at))
    for key, value in (expect.get("deadlines") or {}).items():
        if key == "paused":
            if value != decision.deadlines.paused:
                out.append(Mismatch("deadlines.paused", value, decision.deadlines.paused))
            continue
        actual_dt = getattr(decision.deadlines, key if key.endswith("_by") else f"{key}_by")
        if key.endswith("_by"):
            actual = actual_dt.strftime("%Y-%m-%dT%H:%M:%SZ") if actual_dt else None
            wanted = value
        else:
            actual = actual_dt - case.opened_at if actual_dt else None
            wanted = parse_duration(value) if value is not None else None
        if wanted != actual:
            shown = _duration(actual) if isinstance(actual, timedelta) else actual
            out.append(Mismatch(f"deadlines.{key}", value, shown))
    return out


def _duration(delta: timedelta) -> str:
    from escalator.money import format_duration

    return format_duration(delta)


# -- coverage and JUnit -------------------------------------------------------------------------
