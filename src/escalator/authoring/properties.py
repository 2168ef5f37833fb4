"""Property checks over generated cases (`escalator check`).

Built-in properties, each with a stable id:

  decides                  every valid case gets a decision (no fail-safe fallback)
  locked-with-complaints   a locked case is handled by the complaints tier
  authority-within-limit   no authority exceeds the handler's own limit
  no-internal-handler      an internal tier never handles a case
  backends-agree           durable and compiled backends decide alike (where durable imports)
  monotone-in-money        raising one amount, all else equal, never lowers the handler's level

A policy may declare its own invariants, or opt out of a built-in one, in YAML
(`invariants:` in a policy file; inherited through `extends`):

    invariants:
      - id: no-bonus-for-harm
        description: Players with harm markers never get a goodwill bonus
        when: player.rg_markers exists               # the condition language
        expect:
          authority: {goodwill_bonus: "0.00"}        # at most this much
          handler_not: [agent]                       # also: handler, handler_in, min_level,
                                                     # locked, procedure, flags, forward,
                                                     # reasons, not_reasons
      - id: surcharge-ladder
        description: Why this policy is not monotone in money
        disable: monotone-in-money                   # opt out of a built-in property
        fields: [request.amount]                     # optional: only for these amounts

A counterexample is shrunk by hypothesis and written as a case file that
`escalator evaluate` runs as it is.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import yaml
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from escalator.errors import EscalatorError, PolicyError, Problem
from escalator.authoring.strategies import CENT, MONEY_FIELDS, case_for, constants, get_path, set_path

BUILTIN = {
    "decides": "every valid case gets a decision",
    "locked-with-complaints": "a locked case never leaves the complaints tier",
    "authority-within-limit": "authority never exceeds the handler's own limit",
    "no-internal-handler": "no internal tier is ever a handler",
    "backends-agree": "the durable and compiled backends decide alike",
    "monotone-in-money": "raising an amount never lowers the handler's seniority",
}
EXPECT_KEYS = ("handler", "handler_in", "handler_not", "min_level", "locked", "procedure", "authority",
               "flags", "forward", "reasons", "not_reasons")
DEFAULT_EXAMPLES = 300
MAX_LADDER = 120  # amounts tried above the current one, per money field


@dataclass
class Invariant:
    id: str
    description: str
    holds: Callable[[dict], bool | None] | None  # the `when` predicate over a flat view; None = always
    expect: dict[str, Any]


@dataclass
class PolicyProps:
    invariants: list[Invariant] = field(default_factory=list)
    disabled: dict[str, set[str] | None] = field(default_factory=dict)  # property -> fields (None = all)


@dataclass
class CheckResult:
    property: str
    description: str
    examples: int = 0
    message: str | None = None
    policy: str | None = None
    case: dict | None = None
    files: list[Path] = field(default_factory=list)
    skipped: str | None = None

    @property
    def failed(self) -> bool:
        return self.message is not None

    def report(self) -> str:
        if self.skipped:
            return f"SKIP {self.property}: {self.skipped}"
        if not self.failed:
            return f"ok   {self.property}: {self.description} ({self.examples} examples)"
        lines = [f"FAIL {self.property} (policy {self.policy}): {self.message}"]
        lines += [f"     counterexample: {f}" for f in self.files]
        return "\n".join(lines)


# -- declared invariants ------------------------------------------------------------------------


def load_invariants(policies_dir: Path, compiled: dict) -> dict[str, PolicyProps]:
    """Each compiled policy's declared invariants and opt-outs, compiled with its scope."""
    from escalator.runtime.backends.compiled import build
    from escalator.language.conditions import ConditionError, Scope, compile_condition
    from escalator.language.loading import load_policies

    files = load_policies(Path(policies_dir))
    result: dict[str, PolicyProps] = {}
    problems: list[Problem] = []
    for policy_id, policy in compiled.items():
        props = PolicyProps()
        chain, current = [], policy_id
        while current is not None and current in files and current not in chain:
            chain.append(current)
            current = files[current].model.extends
        scope = Scope({p.name: p for p in policy.params}, {t.id: t for t in policy.tiers}, policy.actions, set())
        for source_id in reversed(chain):
            doc = files[source_id].doc
            for i, spec in enumerate(files[source_id].model.invariants):
                at = lambda path, i=i, doc=doc: doc.location(("invariants", i) + tuple(path))
                try:
                    _parse_invariant(spec, scope, at, props, compile_condition, build)
                except ConditionError as exc:
                    problems.append(Problem(f"invariant: {exc}", getattr(exc, "location", at(())), code=exc.code,
                                            hint=exc.hint))
                except ValueError as exc:
                    problems.append(Problem(f"invariant: {exc}", at(()), code="E-INVARIANT"))
        result[policy_id] = props
    if problems:
        raise PolicyError(list(dict.fromkeys(problems)))
    return result


def _parse_invariant(spec: dict, scope: Any, at: Callable, props: PolicyProps, compile_condition, build) -> None:
    allowed = {"id", "description", "when", "expect", "disable", "fields"}
    if not isinstance(spec.get("id"), str):
        raise ValueError("every invariant needs an `id`")
    if set(spec) - allowed:
        raise ValueError(f"unknown key(s) {sorted(set(spec) - allowed)} in invariant {spec['id']!r}")
    if "disable" in spec:
        if spec["disable"] not in BUILTIN:
            raise ValueError(f"{spec['disable']!r} is not a built-in property ({', '.join(BUILTIN)})")
        fields = spec.get("fields")
        if fields is not None and (not isinstance(fields, list) or set(fields) - set(MONEY_FIELDS)):
            raise ValueError(f"`fields` lists money fields: {', '.join(MONEY_FIELDS)}")
        props.disabled[spec["disable"]] = set(fields) if fields else None
        return
    expect = spec.get("expect")
    if not isinstance(expect, dict) or not expect or set(expect) - set(EXPECT_KEYS):
        raise ValueError(f"invariant {spec['id']!r} needs `expect` with keys from {', '.join(EXPECT_KEYS)}")
    for name in ("handler", "handler_in", "handler_not"):
        for tier in ([expect[name]] if name == "handler" else expect.get(name, [])) if name in expect else []:
            if tier not in scope.tiers:
                raise ValueError(f"invariant {spec['id']!r}: unknown tier {tier!r}")
    holds = None
    if "when" in spec:
        holds = build(compile_condition(spec["when"], scope, lambda p: at(("when",) + tuple(p))))
    props.invariants.append(Invariant(spec["id"], spec.get("description") or spec["id"], holds, expect))


def invariant_violation(inv: Invariant, decision: Any, policy: Any) -> str | None:
    e = inv.expect
    handler = decision.handler
    if "handler" in e and handler != e["handler"]:
        return f"handler is {handler}, not {e['handler']}"
    if "handler_in" in e and handler not in e["handler_in"]:
        return f"handler {handler} is not one of {', '.join(e['handler_in'])}"
    if handler in e.get("handler_not", ()):
        return f"handler is {handler}"
    if "min_level" in e and policy.tier(handler).level < int(e["min_level"]):
        return f"handler {handler} is below level {e['min_level']}"
    for key in ("locked", "procedure"):
        if key in e and getattr(decision, key) != e[key]:
            return f"{key} is {getattr(decision, key)}, not {e[key]}"
    for action, most in (e.get("authority") or {}).items():
        if decision.authority.get(action, Decimal(0)) > Decimal(str(most)):
            return f"{action} authority is {decision.authority[action]}, more than {most}"
    for key in ("flags", "forward"):
        missing = set(e.get(key, ())) - set(getattr(decision, key))
        if missing:
            return f"{key} lacks {', '.join(sorted(missing))}"
    missing = set(e.get("reasons", ())) - set(decision.fired)
    if missing:
        return f"rules did not fire: {', '.join(sorted(missing))}"
    unwanted = set(e.get("not_reasons", ())) & set(decision.fired)
    if unwanted:
        return f"rules fired: {', '.join(sorted(unwanted))}"
    return None


# -- the checks ---------------------------------------------------------------------------------


class Checker:
    """Runs the properties over one engine's policies; writes counterexamples to `out`."""

    def __init__(self, engine: Any, props: dict[str, PolicyProps], out: Path | None = None,
                 max_examples: int = DEFAULT_EXAMPLES, seed: int | None = None, other: Any = None,
                 fast: Any = None):
        self.engine, self.props, self.out = engine, props, out
        self.fast = fast or (engine if engine.backend == "compiled" else other) or engine  # for monotone ladders
        self.max_examples = max_examples
        self.seed = seed if seed is not None else random.randrange(2**32)
        self.other = other  # an engine on the other backend, for backends-agree
        self.policies = list(engine.policies.values())

    def run(self, only: list[str] | None = None) -> list[CheckResult]:
        wanted = [p for p in BUILTIN if only is None or p in only]
        results = {p: CheckResult(p, BUILTIN[p]) for p in wanted}
        if "backends-agree" in results and self.other is None:
            results["backends-agree"].skipped = "durable_rules does not import here (one backend only)"
        invariant_ids = sorted({i.id for pp in self.props.values() for i in pp.invariants})
        for inv_id in invariant_ids:
            if only is None or inv_id in only or "invariants" in only:
                desc = next(i.description for pp in self.props.values() for i in pp.invariants if i.id == inv_id)
                results[f"invariant:{inv_id}"] = CheckResult(f"invariant:{inv_id}", desc)
        per_case = [k for k, r in results.items() if k != "monotone-in-money" and not r.skipped]
        while per_case:
            active = tuple(per_case)
            failure, examples = self._search(
                self._cases(), lambda case, target: self._per_case(case, (target,) if target else active))
            for key in per_case:
                results[key].examples = examples
            if failure is None:
                break
            key, message, case = failure
            self._fail(results[key], message, case)
            per_case.remove(key)
        if "monotone-in-money" in results:
            self._monotone(results["monotone-in-money"])
        return list(results.values())

    # strategies ---------------------------------------------------------------------------------
    def _cases(self) -> st.SearchStrategy:
        return st.sampled_from(self.policies).flatmap(lambda p: case_for(p))

    def _search(self, strategy: st.SearchStrategy, check: Callable[[Any, str | None], Any]) -> tuple[Any, int]:
        """Run hypothesis; returns (the shrunk failure or None, examples generated before it was found)."""
        state: dict[str, Any] = {"n": 0, "found_at": None, "target": None, "failure": None}

        class Violation(Exception):
            pass

        @settings(max_examples=self.max_examples, database=None, deadline=None, verbosity=Verbosity.quiet,
                  suppress_health_check=list(HealthCheck), phases=[Phase.generate, Phase.shrink])
        @given(strategy)
        def search(example: Any) -> None:
            state["n"] += 1
            failure = check(example, state["target"])
            if failure is not None:
                if state["target"] is None:  # from now on (shrinking) only this property counts
                    state["target"], state["found_at"] = failure[0], state["n"]
                state["failure"] = failure
                raise Violation(failure[1])

        try:
            hypothesis_seed(self.seed)(search)()
        except Violation:
            return state["failure"], state["found_at"]
        return None, state["n"]

    # per-case properties ---------------------------------------------------------------------------
    def _per_case(self, case: dict, active: tuple[str, ...]) -> tuple[str, str, dict] | None:
        from escalator.language.cases import parse_case
        from escalator.runtime.decide import FAILED_RULE

        try:
            model = parse_case(case)
            policy = self.engine.policy_for(model)
            decision = self.engine.evaluate(model)
        except EscalatorError as exc:  # a generated case is valid by construction: this is a bug
            return ("decides", f"no decision: {exc}", case) if "decides" in active else None
        limits = policy.tier(decision.handler)
        checks: list[tuple[str, Callable[[], str | None]]] = [
            ("decides", lambda: "the evaluation failed and fell back to the fail-safe decision"
                if FAILED_RULE in decision.fired else None),
            ("locked-with-complaints", lambda: f"the case is locked but handled by {decision.handler}, not "
                f"{policy.complaints_tier}" if decision.locked and decision.handler != policy.complaints_tier else None),
            ("authority-within-limit", lambda: next((
                f"{a} authority {v} exceeds {decision.handler}'s own limit {limits.limit(a)}"
                for a, v in decision.authority.items() if v > limits.limit(a)), None)),
            ("no-internal-handler", lambda: f"internal tier {decision.handler} handles the case"
                if not limits.player_reachable else None),
            ("backends-agree", lambda: self._disagree(model, decision)),
        ]
        for key, test in checks:
            if key in active and key not in self.props[policy.id].disabled:
                message = test()
                if message:
                    return key, message, case
        view = None
        for inv in self.props[policy.id].invariants:
            key = f"invariant:{inv.id}"
            if key not in active:
                continue
            if inv.holds is not None:
                from escalator.language.fields import flat_view

                view = view or flat_view(model)
                if inv.holds(view) is not True:
                    continue
            message = invariant_violation(inv, decision, policy)
            if message:
                return key, message, case
        return None

    def _disagree(self, model: Any, decision: Any) -> str | None:
        other = self.other.evaluate(model, decision.evaluated_at)  # the same instant: only the backend differs
        if other.to_dict() != decision.to_dict():
            return (f"{self.engine.backend}: handler {decision.handler}, rules {list(decision.fired)}; "
                    f"{self.other.backend}: handler {other.handler}, rules {list(other.fired)}")
        return None

    # monotonicity ---------------------------------------------------------------------------------
    def _monotone(self, result: CheckResult) -> None:
        from escalator.language.cases import parse_case

        policies = [p for p in self.policies if self.props[p.id].disabled.get("monotone-in-money", set()) is not None]
        if not policies:
            result.skipped = "every policy opts out"
            return

        def check(case: dict, target: str | None) -> tuple[str, str, Any] | None:
            policy = self.fast.policy_for(parse_case(case))
            skip = self.props[policy.id].disabled.get("monotone-in-money") or set()
            ladder_points = [p for c in constants(policy) for p in (c - CENT, c, c + CENT)]
            for path in MONEY_FIELDS:
                current = get_path(case, path)
                if current is None or path in skip:
                    continue
                ladder = sorted({current} | {p for p in ladder_points if p > current})[:MAX_LADDER]
                top_value, top_level, top_handler = None, -1, None
                for value in ladder:  # every threshold above the current amount, in order
                    handler = self.fast.evaluate(set_path(case, path, value)).handler
                    level = policy.tier(handler).level
                    if level < top_level:
                        return ("monotone-in-money",
                                f"raising {path} from {top_value} to {value} moves the case from {top_handler} "
                                f"(level {top_level}) down to {handler} (level {level})", (case, path, top_value, value))
                    if level > top_level:
                        top_value, top_level, top_handler = value, level, handler
            return None

        policy_cases = st.sampled_from(policies).flatmap(lambda p: case_for(p))
        failure, n = self._search(policy_cases, check)
        result.examples = n
        if failure is not None:
            case, path, low, high = failure[2]
            self._fail(result, failure[1], set_path(case, path, high), lower=set_path(case, path, low))

    # counterexamples --------------------------------------------------------------------------------
    def _fail(self, result: CheckResult, message: str, case: dict, lower: dict | None = None) -> None:
        from escalator.language.cases import parse_case

        result.message, result.case = message, case
        result.policy = self.engine.policy_for(parse_case(case)).id
        if self.out is None:
            return
        self.out.mkdir(parents=True, exist_ok=True)
        stem = f"{result.policy}-{result.property.replace(':', '-')}"
        if lower is not None:
            result.files.append(write_case(self.out / f"{stem}-lower.yaml", lower, result, "the case before the raise"))
        result.files.insert(0, write_case(self.out / f"{stem}.yaml", case, result, None))


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(Decimal, lambda d, v: d.represent_scalar("tag:yaml.org,2002:float", str(v)))
_Dumper.add_representer(tuple, lambda d, v: d.represent_list(v))


def write_case(path: Path, case: dict, result: CheckResult, note: str | None) -> Path:
    """A ready-to-run case file with a comment saying what it shows."""
    header = [f"# escalator check: counterexample for {result.property} (policy {result.policy})",
              f"# {result.description}", f"# violated: {result.message}"]
    if note:
        header.append(f"# this file is {note}")
    header.append(f"# reproduce: escalator evaluate {path.name} (with the same --policies/--rules)")
    body = yaml.dump(case, Dumper=_Dumper, sort_keys=False, allow_unicode=True)
    path.write_text("\n".join(header) + "\n" + body, encoding="utf-8")
    return path


def check_folders(policies: Path, rules: Path, out: Path | None = None, max_examples: int = DEFAULT_EXAMPLES,
                  seed: int | None = None, backend: str = "auto", only: list[str] | None = None) -> tuple[list[CheckResult], int]:
    """Load the folders and run every property; returns the results and the seed used."""
    from escalator.runtime.backends import durable_available
    from escalator.runtime.engine import Engine, compile_folders

    compiled = compile_folders(policies, rules)
    props = load_invariants(policies, compiled)
    engine = Engine(compiled, backend)
    other = None
    if durable_available():
        other = Engine(compiled, "compiled" if engine.backend == "durable" else "durable")
    fast = engine if engine.backend == "compiled" else (other if other and other.backend == "compiled" else None)
    fast = fast or Engine(compiled, "compiled")
    try:
        checker = Checker(engine, props, out, max_examples, seed, other, fast)
        return checker.run(only), checker.seed
    finally:
        for e in {id(x): x for x in (engine, other, fast) if x is not None}.values():
            e.close()
