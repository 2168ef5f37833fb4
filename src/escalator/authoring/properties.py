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

Invariants are compiled with the policy (language.invariants), so `escalator validate`
reports a bad one. A counterexample is shrunk by hypothesis and written as a case file that
`escalator evaluate` runs as it is.
"""

from __future__ import annotations

import builtins
import random
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from escalator.errors import EscalatorError
from escalator.language.invariants import BUILTIN_PROPERTIES
from escalator.authoring.strategies import case_for, constants, get_path, set_path
from escalator.language.fields import MONEY_FIELDS
from escalator.language.yamlio import dump_yaml
from escalator.money import CENT
from escalator.language.sources import PolicySource

if TYPE_CHECKING:
    from escalator.language.ir import CompiledPolicy, Invariant
    from escalator.language.models.decision import Decision
    from escalator.language.models.case import Case
    from escalator.runtime.engine import Engine

E = TypeVar("E")  # what a search draws
P = TypeVar("P")  # what a failure carries
CaseData = dict[str, Any]  # a case as plain data (what hypothesis draws and what is written out)

BUILTIN = BUILTIN_PROPERTIES  # id -> what it claims
DEFAULT_EXAMPLES = 300
MAX_LADDER = 120  # amounts tried above the current one, per money field


@dataclass(frozen=True)
class Claim:
    """A compiled invariant with its `when` predicate built for the flat view (None: every case)."""

    invariant: Invariant
    holds: Callable[[dict[str, Any]], bool | None] | None

    @builtins.property
    def id(self) -> str:
        return self.invariant.id

    @builtins.property
    def description(self) -> str:
        return self.invariant.description


@dataclass
class PolicyProps:
    invariants: list[Claim] = field(default_factory=list)
    disabled: dict[str, set[str] | None] = field(default_factory=dict)  # property -> fields (None = all)


def policy_props(compiled: dict[str, CompiledPolicy]) -> dict[str, PolicyProps]:
    """Each policy's invariants (compiled with the policy) and opt-outs, ready to check."""
    from escalator.runtime.backends.compiled import build

    result = {}
    for policy_id, policy in compiled.items():
        props = PolicyProps()
        for inv in policy.invariants:
            props.invariants.append(Claim(inv, build(inv.condition) if inv.condition is not None else None))
        for opt_out in policy.opt_outs:
            props.disabled[opt_out.property] = set(opt_out.fields) if opt_out.fields else None
        result[policy_id] = props
    return result


@dataclass
class CheckResult:
    property: str
    description: str
    examples: int = 0
    message: str | None = None
    policy: str | None = None
    case: CaseData | None = None
    files: list[Path] = field(default_factory=list)
    skipped: str | None = None

    @builtins.property  # `property` is a field of this class
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


def invariant_violation(inv: Invariant, decision: Decision, policy: CompiledPolicy) -> str | None:
    """How the decision breaks the invariant's claim, or None when it keeps it."""
    e = inv.expect
    handler = decision.handler
    if e.handler is not None and handler != e.handler:
        return f"handler is {handler}, not {e.handler}"
    if e.handler_in is not None and handler not in e.handler_in:
        return f"handler {handler} is not one of {', '.join(e.handler_in)}"
    if handler in e.handler_not:
        return f"handler is {handler}"
    if e.min_level is not None and policy.tier(handler).level < e.min_level:
        return f"handler {handler} is below level {e.min_level}"
    if e.locked is not None and decision.locked != e.locked:
        return f"locked is {decision.locked}, not {e.locked}"
    if (e.procedure is not None or e.no_procedure) and decision.procedure != e.procedure:
        return f"procedure is {decision.procedure}, not {e.procedure}"
    for action, most in e.authority:
        if decision.authority.get(action, Decimal(0)) > most:
            return f"{action} authority is {decision.authority[action]}, more than {most}"
    for key, wanted in (("flags", e.flags), ("forward", e.forward)):
        missing = set(wanted) - set(getattr(decision, key))
        if missing:
            return f"{key} lacks {', '.join(sorted(missing))}"
    missing = set(e.reasons) - set(decision.fired)
    if missing:
        return f"rules did not fire: {', '.join(sorted(missing))}"
    unwanted = set(e.not_reasons) & set(decision.fired)
    if unwanted:
        return f"rules fired: {', '.join(sorted(unwanted))}"
    return None


# -- the checks ---------------------------------------------------------------------------------


class Checker:
    """Runs the properties over one engine's policies; writes counterexamples to `out`."""

    def __init__(self, engine: Engine, props: dict[str, PolicyProps], out: Path | None = None,
                 max_examples: int = DEFAULT_EXAMPLES, seed: int | None = None, other: Engine | None = None,
                 fast: Engine | None = None):
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
    def _cases(self) -> st.SearchStrategy[CaseData]:
        return st.sampled_from(self.policies).flatmap(lambda p: case_for(p))

    def _search(self, strategy: st.SearchStrategy[E],
                check: Callable[[E, str | None], tuple[str, str, P] | None]) -> tuple[tuple[str, str, P] | None, int]:
        """Run hypothesis; returns (the shrunk failure or None, examples generated before it was found)."""
        state: dict[str, Any] = {"n": 0, "found_at": None, "target": None, "failure": None}

        class Violation(Exception):
            pass

        @settings(max_examples=self.max_examples, database=None, deadline=None, verbosity=Verbosity.quiet,
                  suppress_health_check=list(HealthCheck), phases=[Phase.generate, Phase.shrink])
        @given(strategy)
        def search(example: E) -> None:
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
    def _per_case(self, case: CaseData, active: tuple[str, ...]) -> tuple[str, str, CaseData] | None:
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
            message = invariant_violation(inv.invariant, decision, policy)
            if message:
                return key, message, case
        return None

    def _disagree(self, model: Case, decision: Decision) -> str | None:
        if self.other is None:
            return None
        other = self.other.evaluate(model)
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

        def check(case: CaseData, target: str | None) -> tuple[str, str, tuple[CaseData, str, Decimal, Decimal]] | None:
            policy = self.fast.policy_for(parse_case(case))
            skip = self.props[policy.id].disabled.get("monotone-in-money") or set()
            ladder_points = [p for c in constants(policy) for p in (c - CENT, c, c + CENT)]
            for path in MONEY_FIELDS:
                current = get_path(case, path)
                if current is None or path in skip:
                    continue
                ladder = sorted({current} | {p for p in ladder_points if p > current})[:MAX_LADDER]
                top_value: Decimal = current
                top_level, top_handler = -1, None
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
    def _fail(self, result: CheckResult, message: str, case: CaseData, lower: CaseData | None = None) -> None:
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


def write_case(path: Path, case: CaseData, result: CheckResult, note: str | None) -> Path:
    """A ready-to-run case file with a comment saying what it shows."""
    header = [f"# escalator check: counterexample for {result.property} (policy {result.policy})",
              f"# {result.description}", f"# violated: {result.message}"]
    if note:
        header.append(f"# this file is {note}")
    header.append(f"# reproduce: escalator evaluate {path.name} (with the same --policies/--rules)")
    body = dump_yaml(case)
    path.write_text("\n".join(header) + "\n" + body, encoding="utf-8")
    return path


def check_folders(policies: Path | PolicySource | None, rules: Path | None = None, out: Path | None = None, max_examples: int = DEFAULT_EXAMPLES,
                  seed: int | None = None, backend: str = "auto", only: list[str] | None = None) -> tuple[list[CheckResult], int]:
    """Load the folders and run every property; returns the results and the seed used."""
    from escalator.runtime.backends import durable_available
    from escalator.language.policyset import compile_folders
    from escalator.runtime.engine import Engine

    from escalator.language.policyset import as_source

    compiled = compile_folders(as_source(policies, rules))
    props = policy_props(compiled)
    engine = Engine(compiled, backend)
    other = None
    if durable_available():
        # "auto" for the other side: durable where it can run the policy (see runtime.backends)
        other = Engine(compiled, "compiled" if engine.backend != "compiled" else "auto")
    fast = engine if engine.backend == "compiled" else (other if other and other.backend == "compiled" else None)
    fast = fast or Engine(compiled, "compiled")
    try:
        checker = Checker(engine, props, out, max_examples, seed, other, fast)
        return checker.run(only), checker.seed
    finally:
        for e in {id(x): x for x in (engine, other, fast) if x is not None}.values():
            e.close()
