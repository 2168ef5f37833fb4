"""The public entry point: load policies once, then evaluate cases, from any thread.

    engine = Engine.default()                 # bundled policies and rule packs
    decision = engine.evaluate(case_dict)     # -> Decision
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from datetime import datetime, timedelta
from typing import Any

from escalator.runtime.backends import Backend, make_backend
from escalator.language.cases import parse_case
from escalator.runtime.decide import FAILED_RULE, PolicyFacts, decide, evaluation_instant, failsafe_decision
from escalator.errors import CaseError, EscalatorError, NoPolicyError, Problem, did_you_mean, dotted
from escalator.language.yamlio import DocPath, Document
from escalator.runtime.explain import Explanation, trace_rules
from escalator.runtime.messages import check_locale
from escalator.runtime.backends.compiled import Predicate
from escalator.language.fields import flat_view
from escalator.language.ir import CompiledPolicy
from escalator.language.models.case import Case
from escalator.language.models.decision import Decision
from escalator.language.policyset import compile_folders
from escalator.language.sources import PolicySource

log = logging.getLogger("escalator")

REVIEW_HORIZON = timedelta(days=366)
"""next_review_at looks this far ahead; a change further away is found by evaluating again later."""


def _instant(model: Case, at: datetime | None) -> datetime:
    try:
        return evaluation_instant(model, at)
    except ValueError as exc:
        raise CaseError(Problem(str(exc), path="at")) from None


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
        reachable = self._reachable[policy.id]
        if reachable.get(model.handled_by) is True and (
                model.on_duty is None or all(tier in reachable for tier in model.on_duty)):
            return model, policy  # the usual case: nothing to report
        problems = []

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

    def evaluate(self, case: Case | dict[str, Any] | Document, at: datetime | None = None, *,
                 locale: str | None = None) -> Decision:
        """Decide a case at instant `at` (else the case's `as_of`, else now).

        Invalid input raises CaseError; a backend failure fails closed. Messages (reasons,
        summary, agent note) are in `locale`, else in the policy's own locale."""
        if locale is not None:
            check_locale(locale)
        model, policy = self.prepare(case)
        return self._decide(model, policy, _instant(model, at), locale)

    def view(self, model: Case, policy: CompiledPolicy, at: datetime) -> dict[str, Any]:
        """The flat view the rules read at `at`: the case's fields plus the time fields its policy uses."""
        view = flat_view(model)
        time = self._facts[policy.id].time
        if time.used:
            view.update(time.history_view(model))
            view.update(time.view(model, at))
        return view

    def _decide(self, model: Case, policy: CompiledPolicy, at: datetime, locale: str | None = None) -> Decision:
        if self._closed:
            raise EscalatorError("this Engine is closed")
        facts = self._facts[policy.id]
        try:
            time = facts.time
            view = flat_view(model)
            if time.used:
                view.update(time.history_view(model))
            # rules time could still decide: their outcome is open with every time field unknown
            live = [(i, predicate) for i, predicate in time.timed_rules if predicate(view) is None] \
                if time.timed_rules else []
            if time.used:
                view.update(time.view(model, at))
            fired = self._backend.fired(policy, view)
            decision = decide(policy, model, [policy.rules[i] for i in fired], view, facts, locale, at)
            if time.timed:
                review = self._next_review(model, policy, view, fired, live, decision, at)
                if review is not None:
                    decision = decision.reviewed_at(review)
            return decision
        except Exception as error:  # fail closed: never partial authority
            return failsafe_decision(policy, model, error, texts=facts.texts.get(locale or policy.locale), at=at)

    def _next_review(self, model: Case, policy: CompiledPolicy, view: dict[str, Any], fired: list[int],
                     live: list[tuple[int, Predicate]], decision: Decision, at: datetime) -> datetime | None:
        """The first instant after `at` at which time alone changes the decision (spec section 8).

        Between the candidates (a time field's threshold, a deadline, a calendar change) nothing the
        decision depends on moves. The handler's calendar changing always changes the decision
        (transfer flips, or for a handler off the roster contact_at moves on at the next opening);
        at any earlier candidate the decision changes exactly when the set of fired rules does
        (reasons list every fired rule; no reason quotes a time field). `live` are the rules whose
        outcome the time fields can still decide (three-valued logic: a condition true or false
        with every time field unknown is so whatever their values).
        """
        time = self._facts[policy.id].time
        calendar = time.tier_calendar.get(decision.handler)
        change: datetime | None = None
        if calendar is not None and model.on_duty is None:
            change = calendar.next_change(at)  # on duty by the calendar: transfer flips when it opens or closes
        elif calendar is not None and decision.transfer != "live":
            change = decision.contact_at  # off the roster: contact_at moves on when the calendar opens
        limit = change if change is not None else at + REVIEW_HORIZON
        if live:
            fired_set = set(fired)
            before = {index for index, _ in live if index in fired_set}
            for moment in time.field_changes(model, at, limit):
                if moment == change:
                    break
                later = dict(view)
                later.update(time.view(model, moment))
                if {index for index, predicate in live if predicate(later) is True} != before:
                    return moment
        return change

    def timeline(self, case: Case | dict[str, Any], at: datetime | None = None,
                 until: timedelta = timedelta(weeks=12), limit: int = 1000, *,
                 locale: str | None = None) -> list[Decision]:
        """The decision at `at`, then at each next_review_at up to `at + until`: how time alone changes it."""
        if locale is not None:
            check_locale(locale)
        model, policy = self.prepare(case)
        moment = _instant(model, at)
        end = moment + until
        steps = [self._decide(model, policy, moment, locale)]
        while len(steps) < limit:
            review = steps[-1].next_review_at
            if review is None or review > end:
                break
            steps.append(self._decide(model, policy, review, locale))
        return steps

    def evaluate_many(self, cases: Iterable[Case | dict[str, Any] | Document], at: datetime | None = None, *,
                      locale: str | None = None) -> list[Decision | EscalatorError]:
        """Evaluate a batch at one instant `at` (else each case's own); a bad case yields its error
        in place and the others go on. The same decisions as `evaluate` case by case, with the
        per-call work (the locale check, the instant) done once."""
        if locale is not None:
            check_locale(locale)
        results: list[Decision | EscalatorError] = []
        append = results.append
        prepare, decide_ = self.prepare, self._decide
        moment: datetime | None = None  # `at` in UTC whole seconds, once it has been checked
        for case in cases:
            try:
                model, policy = prepare(case)
                if at is None:
                    instant = _instant(model, None)
                else:
                    if moment is None:
                        moment = _instant(model, at)
                    instant = moment
                append(decide_(model, policy, instant, locale))
            except EscalatorError as error:
                append(error)
        return results

    def explain(self, case: Case | dict[str, Any] | Document, at: datetime | None = None, *,
                locale: str | None = None) -> Explanation:
        """The decision plus, for every rule, whether it fired and each comparison's values (time fields too)."""
        if locale is not None:
            check_locale(locale)
        model, policy = self.prepare(case)
        instant = _instant(model, at)
        view = self.view(model, policy, instant)
        decision = self._decide(model, policy, instant, locale)
        fired = {policy.rule(rule_id).index for rule_id in decision.fired if rule_id != FAILED_RULE}
        return Explanation(decision, trace_rules(policy, view, fired))
