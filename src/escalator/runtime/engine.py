"""The public entry point: load policies once, then evaluate cases, from any thread.

    engine = Engine.default()                 # bundled policies and rule packs
    decision = engine.evaluate(case_dict)     # -> Decision
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from escalator.runtime.backends import Backend, make_backend
from escalator.language.cases import parse_case
from escalator.runtime.decide import FAILED_RULE, PolicyFacts, decide, failsafe_decision
from escalator.errors import CaseError, EscalatorError, NoPolicyError, Problem, did_you_mean, dotted
from escalator.language.yamlio import DocPath, Document
from escalator.runtime.explain import Explanation, trace_rules
from escalator.runtime.messages import check_locale
from escalator.language.fields import flat_view
from escalator.language.ir import CompiledPolicy
from escalator.language.models.case import Case
from escalator.language.models.decision import Decision
from escalator.language.policyset import compile_folders
from escalator.language.sources import PolicySource

log = logging.getLogger("escalator")


class Engine:
    """Compiled policies plus a backend. Immutable after loading; safe to share between threads."""

    def __init__(self, policies: dict[str, CompiledPolicy], backend: str = "auto"):
        self.policies: dict[str, CompiledPolicy] = dict(policies)
        self._backend: Backend = make_backend(backend, self.policies)
        self._closed = False
        self._facts = {policy_id: PolicyFacts(policy) for policy_id, policy in self.policies.items()}
        self.backend: str = self._backend.name
        # per-case lookups, computed once: jurisdiction -> its policies; policy -> {tier id: reachable}
        self._by_jurisdiction: dict[str, list[CompiledPolicy]] = {}
        for policy in self.policies.values():
            for jurisdiction in policy.jurisdictions:
                self._by_jurisdiction.setdefault(jurisdiction, []).append(policy)
        self._reachable = {p.id: {t.id: t.player_reachable for t in p.tiers} for p in self.policies.values()}

    # -- loading ------------------------------------------------------------
    @classmethod
    def load(cls, policies: str | Path | PolicySource | None = None, rules: str | Path | None = None,
             backend: str = "auto") -> "Engine":
        """Load a policy folder (over the bundled policies and packs; None: the bundled ones).

        Folders are resolved by `escalator.language.sources.locate`: a folder holding only
        `policy.yaml` (extending a bundled policy) is enough.
        """
        return cls(compile_folders(policies, rules), backend)

    @classmethod
    def default(cls, backend: str = "auto") -> "Engine":
        """The bundled NL, UK and MT policies."""
        return cls.load(backend=backend)

    def close(self) -> None:
        """Release backend resources (durable rulesets). Idempotent; evaluating afterwards is an error."""
        self._closed = True
        self._backend.close()

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- cases --------------------------------------------------------------
    def policy_for(self, case: Case) -> CompiledPolicy:
        """The policy in force for the case's jurisdiction on the day it was opened."""
        day = case.opened_at.date()
        candidates = self._by_jurisdiction.get(case.jurisdiction, ())
        for policy in candidates:
            if policy.applies_on(day):
                return policy
        known = sorted({j for p in self.policies.values() for j in p.jurisdictions})
        if candidates:
            message = f"no policy for jurisdiction {case.jurisdiction!r} is in force on {day.isoformat()}"
        else:
            message = f"no policy for jurisdiction {case.jurisdiction!r} (policies cover {', '.join(known)})"
        raise NoPolicyError(Problem(message, path="jurisdiction"))

    def prepare(self, case: Case | dict[str, Any] | Document) -> tuple[Case, CompiledPolicy]:
        """Validate a case and check it against its policy's tiers (a Document gives problems their lines)."""
        model = parse_case(case)
        policy = self.policy_for(model)
        problems = []
        reachable = self._reachable[policy.id]

        def problem(message: str, path: DocPath, hint: str | None = None) -> Problem:
            where = case.location(path) if isinstance(case, Document) else None
            return Problem(message, where, dotted(path), hint=hint)

        players = [tier for tier, yes in reachable.items() if yes]
        if model.handled_by not in reachable:
            problems.append(problem(f"unknown tier {model.handled_by!r} in policy {policy.id!r}", ("handled_by",),
                                    did_you_mean(model.handled_by, players, "its tiers")))
        elif not reachable[model.handled_by]:
            problems.append(problem(f"{model.handled_by!r} is an internal tier and handles no cases", ("handled_by",)))
        for i, tier in enumerate(model.on_duty or ()):
            if tier not in reachable:
                problems.append(problem(f"unknown tier {tier!r} in policy {policy.id!r}", ("on_duty", i),
                                        did_you_mean(tier, players, "its tiers")))
        if problems:
            raise CaseError(problems)
        return model, policy

    def evaluate(self, case: Case | dict[str, Any] | Document, *, locale: str | None = None) -> Decision:
        """Decide a case. Invalid input raises CaseError; a backend failure fails closed.

        Messages (reasons, summary, agent note) are in `locale`, else in the policy's own locale."""
        if locale is not None:
            check_locale(locale)
        model, policy = self.prepare(case)
        return self._decide(model, policy, locale)

    def _decide(self, model: Case, policy: CompiledPolicy, locale: str | None = None) -> Decision:
        if self._closed:
            raise EscalatorError("this Engine is closed")
        facts = self._facts[policy.id]
        try:
            view = flat_view(model)
            fired = self._backend.fired(policy, view)
            return decide(policy, model, [policy.rules[i] for i in fired], view, facts, locale)
        except Exception as error:  # fail closed: never partial authority
            return failsafe_decision(policy, model, error, texts=facts.texts.get(locale or policy.locale))

    def evaluate_many(self, cases: Iterable[Case | dict[str, Any]], *,
                      locale: str | None = None) -> list[Decision | EscalatorError]:
        """Evaluate a batch; a bad case yields its error in place and the others go on."""
        results: list[Decision | EscalatorError] = []
        for case in cases:
            try:
                results.append(self.evaluate(case, locale=locale))
            except EscalatorError as error:
                results.append(error)
        return results

    def explain(self, case: Case | dict[str, Any] | Document, *, locale: str | None = None) -> Explanation:
        """The decision plus, for every rule, whether it fired and each comparison's values."""
        if locale is not None:
            check_locale(locale)
        model, policy = self.prepare(case)
        view = flat_view(model)
        decision = self._decide(model, policy, locale)
        fired = {policy.rule(rule_id).index for rule_id in decision.fired if rule_id != FAILED_RULE}
        return Explanation(decision, trace_rules(policy, view, fired))
