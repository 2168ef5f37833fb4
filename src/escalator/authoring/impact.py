"""Policy impact analysis: what a policy change does to real cases, before it ships.

    report = analyse("git:main", "./", iter_inputs(["cases.jsonl.gz"]), workers=2)
    report.fields["handler"], report.handler_transitions, report.rules_newly_firing

Every case is parsed once and decided under both policy sets. Only counters and
bounded lists (a sample of changed cases, the first bad cases) are kept, so a
million cases run in constant memory; with `workers > 1` chunks of cases go to
worker processes, each holding both engines, and come back in input order, so
the report does not depend on the number of workers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Union

from pydantic import BaseModel, Field

from escalator.operations.batch import CaseInput
from escalator.operations.pool import chunks, ordered_map

if TYPE_CHECKING:
    from escalator.language.ir import CompiledPolicy
    from escalator.language.models.case import Case
    from escalator.language.models.decision import Decision
    from escalator.language.sources import PolicySource
    from escalator.language.yamlio import Document
    from escalator.runtime.engine import Engine

CaseItem = Union[CaseInput, "Case", dict[str, Any]]  # what analyse() reads: a batch input, a Case or a dict
Side = Union["Engine", "PolicySource", str]  # one policy set: an Engine, a PolicySource or a source spec
EngineSpec = tuple[dict[str, "CompiledPolicy"], str]  # what a worker rebuilds an Engine from: policies, backend
Pair = tuple["Engine", "Engine", tuple[str, ...]]  # base, candidate, the authority actions of both

DECISION_FIELDS = ("handler", "escalate", "transfer", "locked", "procedure")
LIST_FIELDS = ("forward", "flags")
DEADLINE_FIELDS = ("deadlines.acknowledge_by", "deadlines.resolve_by")
GROUPS = ("authority", "deadlines")
EXTRA_FAIL_ON = ("rules", "any")  # fired-rule sets; any decision field


# -- the report ---------------------------------------------------------------------
class PolicySide(BaseModel):
    """One side of the comparison: where its policies came from and what they were."""

    source: str = Field(description="BASE or CANDIDATE as given (a folder, bundled, git:REV, or 'engine')")
    revision: str | None = Field(None, description="the commit a git: source resolved to")
    policies: list[dict[str, str]] = Field(description="id, version and digest of each policy")


class HandlerTransition(BaseModel):
    before: str
    after: str
    cases: int


class RuleChange(BaseModel):
    rule: str = Field(description="rule id (pack.rule)")
    policy: str = Field(description="the policy the case was decided under (candidate side)")
    cases: int


class ChangedCase(BaseModel):
    source: str = Field(description="file, or file:line for JSON Lines")
    case_id: str
    fields: list[str] = Field(description="decision fields that differ (empty: only the fired rules differ)")
    rules_added: list[str] = Field(description="rules that fire under the candidate only")
    rules_removed: list[str] = Field(description="rules that fire under the base only")
    base: dict[str, Any] = Field(description="the base decision (spec decision JSON)")
    candidate: dict[str, Any] = Field(description="the candidate decision (spec decision JSON)")

    def base_rules(self) -> list[str]:
        return [reason["rule"] for reason in self.base.get("reasons", ())]

    def candidate_rules(self) -> list[str]:
        return [reason["rule"] for reason in self.candidate.get("reasons", ())]


class BadCase(BaseModel):
    source: str
    case_id: str | None = None
    side: Literal["input", "base", "candidate", "both"] = Field(
        description="input: unreadable or invalid case; base/candidate/both: rejected by that policy set")
    problems: list[str]


class ImpactReport(BaseModel):
    """What changes between two policy sets, over a stream of cases."""

    base: PolicySide
    candidate: PolicySide
    cases: int = Field(description="cases read, bad ones included")
    evaluated: int = Field(description="cases decided under both policy sets")
    changed: int = Field(description="cases with at least one decision field changed")
    rules_changed: int = Field(description="cases whose set of fired rules changed")
    bad: int = Field(description="cases that could not be decided under one or both sides (never dropped)")
    bad_by_side: dict[str, int]
    fields: dict[str, int] = Field(description="per decision field, the number of cases where it changed")
    handler_transitions: list[HandlerTransition] = Field(description="handler before -> after, most cases first")
    rules_newly_firing: list[RuleChange]
    rules_no_longer_firing: list[RuleChange]
    sample: list[ChangedCase] = Field(description="the first changed cases in input order (bounded)")
    sample_limit: int
    bad_cases: list[BadCase] = Field(description="the first bad cases in input order (bounded)")
    bad_limit: int

    def changed_fields(self) -> list[str]:
        return [name for name, count in self.fields.items() if count]

    def fail_on_names(self) -> list[str]:
        """Every name `--fail-on` accepts for this report."""
        return list(self.fields) + list(GROUPS) + list(EXTRA_FAIL_ON)

    def failing(self, names: Iterable[str]) -> list[str]:
        """The named fields (or groups) that changed in at least one case; unknown names raise."""
        known = set(self.fail_on_names())
        hits = []
        for name in names:
            if name not in known:
                raise ValueError(f"unknown field {name!r}: choose from {', '.join(self.fail_on_names())}")
            if name == "any":
                count = self.changed
            elif name == "rules":
                count = self.rules_changed
            elif name in GROUPS:
                count = sum(c for f, c in self.fields.items() if f.startswith(name + "."))
            else:
                count = self.fields[name]
            if count:
                hits.append(name)
        return hits


# -- per-case comparison --------------------------------------------------------------
def _diff(base: Decision, cand: Decision, actions: tuple[str, ...]) -> list[str]:
    """The decision fields that differ between two Decisions, in report order."""
    changed = [name for name in DECISION_FIELDS if getattr(base, name) != getattr(cand, name)]
    for action in actions:
        if base.authority.get(action) != cand.authority.get(action):
            changed.append(f"authority.{action}")
    changed += [name for name in LIST_FIELDS if getattr(base, name) != getattr(cand, name)]
    if base.deadlines.acknowledge_by != cand.deadlines.acknowledge_by:
        changed.append(DEADLINE_FIELDS[0])
    if base.deadlines.resolve_by != cand.deadlines.resolve_by:
        changed.append(DEADLINE_FIELDS[1])
    return changed


def field_names(actions: Iterable[str]) -> list[str]:
    return [*DECISION_FIELDS, *(f"authority.{a}" for a in actions), *LIST_FIELDS, *DEADLINE_FIELDS]


class Tally:
    """Counters for a run of cases; tallies of consecutive chunks merge in order."""

    def __init__(self, sample_limit: int, bad_limit: int, record: bool = False):
        self.sample_limit, self.bad_limit = sample_limit, bad_limit
        self.changes: list[dict[str, Any]] | None = [] if record else None  # every differing case, this chunk
        self.cases = self.evaluated = self.changed = self.rules_changed = self.bad = 0
        self.bad_by_side: Counter[str] = Counter()
        self.fields: Counter[str] = Counter()
        self.transitions: Counter[tuple[str, str]] = Counter()
        self.added: Counter[tuple[str, str]] = Counter()
        self.removed: Counter[tuple[str, str]] = Counter()
        self.sample: list[ChangedCase] = []
        self.bad_cases: list[BadCase] = []

    def add_bad(self, bad: BadCase) -> None:
        self.bad += 1
        self.bad_by_side[bad.side] += 1
        if len(self.bad_cases) < self.bad_limit:
            self.bad_cases.append(bad)

    def add_pair(self, source: str, base: Decision, cand: Decision, actions: tuple[str, ...]) -> None:
        self.evaluated += 1
        changed = _diff(base, cand, actions)
        before, after = set(base.fired), set(cand.fired)
        if changed:
            self.changed += 1
            self.fields.update(changed)
            if base.handler != cand.handler:
                self.transitions[(base.handler, cand.handler)] += 1
        if before != after:
            self.rules_changed += 1
            policy = cand.policy.id
            self.added.update((policy, rule) for rule in after - before)
            self.removed.update((policy, rule) for rule in before - after)
        if self.changes is not None and (changed or before != after):
            self.changes.append({
                "source": source, "case_id": cand.case_id, "policy": cand.policy.id, "fields": changed,
                "handler": [base.handler, cand.handler],
                "rules_added": sorted(after - before), "rules_removed": sorted(before - after),
            })
        if (changed or before != after) and len(self.sample) < self.sample_limit:
            self.sample.append(ChangedCase(
                source=source, case_id=cand.case_id, fields=changed,
                rules_added=sorted(after - before), rules_removed=sorted(before - after),
                base=base.to_dict(), candidate=cand.to_dict(),
            ))

    def merge(self, other: "Tally") -> None:
        for name in ("cases", "evaluated", "changed", "rules_changed", "bad"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("bad_by_side", "fields", "transitions", "added", "removed"):
            getattr(self, name).update(getattr(other, name))
        self.sample.extend(other.sample[: max(0, self.sample_limit - len(self.sample))])
        self.bad_cases.extend(other.bad_cases[: max(0, self.bad_limit - len(self.bad_cases))])


# -- evaluating chunks (in this process or in a worker) -----------------------------
def _make_pair(base: EngineSpec, cand: EngineSpec) -> Pair:
    from escalator.runtime.engine import Engine

    b, c = Engine(*base), Engine(*cand)
    return b, c, actions_of(b, c)


def actions_of(*engines: Engine) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for engine in engines:
        for policy in engine.policies.values():
            seen.update(dict.fromkeys(policy.actions))
    return tuple(seen)


def _problems(exc: BaseException) -> list[str]:
    return [str(p) for p in getattr(exc, "problems", ())] or [f"{type(exc).__name__}: {exc}"]


def _label(item: CaseItem) -> str:
    """Where a case came from: file, file:line, or #case_id for in-memory cases."""
    if isinstance(item, dict):
        return f"#{item.get('case_id', '?')}"
    if not isinstance(item, CaseInput):
        return f"#{item.case_id}"  # a Case
    return item.source if item.line is None else f"{item.source}:{item.line}"


def _read(item: CaseItem) -> Case | Document | dict[str, Any]:
    """Case data (a dict, a Case or a parsed Document) from a batch.CaseInput, a Case or a dict."""
    return item.read() if isinstance(item, CaseInput) else item


def tally_case(tally: Tally, item: CaseItem, engines: tuple[Engine, Engine], actions: tuple[str, ...]) -> None:
    """Decide one case under both engines and count it (bad input and rejections included)."""
    from escalator.language.cases import parse_case

    tally.cases += 1
    source, case_id = _label(item), None
    try:
        data = _read(item)
        raw = getattr(data, "data", data)
        if isinstance(raw, dict) and isinstance(raw.get("case_id"), str):
            case_id = raw["case_id"]
        case = parse_case(data)
    except Exception as exc:  # EscalatorError, or a bug: reported in place, the run goes on
        tally.add_bad(BadCase(source=source, case_id=case_id, side="input", problems=_problems(exc)))
        return
    results: list[Decision | Exception] = []
    for engine in engines:
        try:
            results.append(engine.evaluate(case))
        except Exception as exc:  # CaseError (e.g. no policy for the jurisdiction) or a bug
            results.append(exc)
    failed = [isinstance(r, Exception) for r in results]
    if any(failed):
        side = "both" if all(failed) else "base" if failed[0] else "candidate"
        problems = [f"{name}: {p}" for name, r in zip(("base", "candidate"), results)
                    if isinstance(r, Exception) for p in _problems(r)]
        tally.add_bad(BadCase(source=source, case_id=case.case_id, side=side, problems=problems))
        return
    base, cand = results
    assert not isinstance(base, Exception) and not isinstance(cand, Exception)
    tally.add_pair(source, base, cand, actions)


def _run_chunk(pair: Pair, items: list[CaseItem], sample_limit: int, bad_limit: int, record: bool) -> Tally:
    """Decide a chunk under both engines (this process's, or a pool worker's own pair)."""
    base_engine, cand_engine, actions = pair
    tally = Tally(sample_limit, bad_limit, record)
    for item in items:
        tally_case(tally, item, (base_engine, cand_engine), actions)
    return tally


# -- the entry point ------------------------------------------------------------------
def engine_for(side: Side, repo: str | Path | None, backend: str) -> tuple[Engine, PolicySide]:
    from escalator.runtime.engine import Engine
    from escalator.language.sources import PolicySource, open_source

    if isinstance(side, Engine):
        return side, PolicySide(source="engine", policies=_refs(side))
    if isinstance(side, PolicySource):
        engine = Engine.load(side.policies, side.rules, backend)
        return engine, PolicySide(source=side.label, revision=side.revision, policies=_refs(engine))
    with open_source(side, repo) as source:
        engine = Engine.load(source.policies, source.rules, backend)
        return engine, PolicySide(source=source.label, revision=source.revision, policies=_refs(engine))


def _refs(engine: Engine) -> list[dict[str, str]]:
    return [{"id": p.id, "version": p.version, "digest": p.digest}
            for p in sorted(engine.policies.values(), key=lambda p: p.id)]


def analyse(
    base: Side,
    candidate: Side,
    cases: Iterable[CaseItem],
    *,
    workers: int = 1,
    sample: int = 20,
    max_bad: int = 100,
    backend: str = "auto",
    repo: str | Path | None = None,
    chunksize: int = 1024,
    progress: Callable[[int], None] | None = None,
    on_change: Callable[[dict[str, Any]], None] | None = None,
) -> ImpactReport:
    """Decide every case under both policy sets and count what changed.

    `base`/`candidate`: an Engine, a `PolicySource`, or a source spec (folder, `POLICIES,RULES`,
    `bundled`, `git:REV` of `repo`). `cases`: dicts, Case models or `batch.CaseInput`s (from
    `batch.iter_inputs`). Invalid policies raise PolicyError/LoadError before any case is read.
    `on_change` is called, in input order, with a small record for every case whose decision
    or fired rules differ (source, case_id, policy, fields, handler [before, after], rules
    added/removed), so all of them can be listed without keeping them in memory.
    """
    if sample < 0 or max_bad < 0 or workers < 1:
        raise ValueError("sample and max_bad must be >= 0 and workers >= 1")
    from escalator.runtime.engine import Engine

    base_engine, base_side = engine_for(base, repo, backend)
    try:
        cand_engine, cand_side = engine_for(candidate, repo, backend)
    except BaseException:
        if not isinstance(base, Engine):
            base_engine.close()
        raise
    owned = [e for e, given in ((base_engine, base), (cand_engine, candidate)) if not isinstance(given, Engine)]
    try:
        return _analyse(base_engine, base_side, cand_engine, cand_side, cases, workers, sample, max_bad,
                        chunksize, progress, on_change)
    finally:
        for engine in owned:
            engine.close()


def _analyse(base_engine: Engine, base_side: PolicySide, cand_engine: Engine, cand_side: PolicySide,
             cases: Iterable[CaseItem], workers: int, sample: int, max_bad: int, chunksize: int,
             progress: Callable[[int], None] | None,
             on_change: Callable[[dict[str, Any]], None] | None) -> ImpactReport:
    actions = actions_of(base_engine, cand_engine)
    total = Tally(sample, max_bad)

    def chunk_done(tally: Tally) -> None:
        total.merge(tally)
        if on_change is not None:
            for change in tally.changes or ():
                on_change(change)
        if progress is not None:
            progress(tally.cases)

    def limits() -> tuple[int, int, bool]:
        # a chunk need not keep more samples than are still missing when it is handed out:
        # merging keeps the first ones in input order, so the report stays the same
        return sample - len(total.sample), max_bad - len(total.bad_cases), on_change is not None

    if workers == 1:  # the engines are passed along: concurrent analyses share no state
        pair = (base_engine, cand_engine, actions)
        for batch in chunks(cases, chunksize):
            chunk_done(_run_chunk(pair, batch, *limits()))
    else:
        _parallel(cases, (base_engine.policies, base_engine.backend),
                  (cand_engine.policies, cand_engine.backend), workers, chunksize, limits, chunk_done)
    return build_report(total, base_side, cand_side, actions)


def _parallel(cases: Iterable[CaseItem], base: EngineSpec, cand: EngineSpec, workers: int,
              chunksize: int, limits: Callable[[], tuple[int, int, bool]], done: Callable[[Tally], None]) -> None:
    """Chunks to worker processes (each rebuilds both engines once); tallies in input order."""
    setup = partial(_make_pair, base, cand)
    for tally in ordered_map(_run_chunk, chunks(cases, chunksize), setup=setup, workers=workers, args=limits):
        done(tally)


def build_report(t: Tally, base: PolicySide, cand: PolicySide, actions: tuple[str, ...]) -> ImpactReport:
    """The report from a finished tally (also used by `escalator.log.replay`)."""
    def rules(counter: Counter[tuple[str, str]]) -> list[RuleChange]:
        items = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0][1], kv[0][0]))
        return [RuleChange(rule=rule, policy=policy, cases=n) for (policy, rule), n in items]

    transitions = sorted(t.transitions.items(), key=lambda kv: (-kv[1], kv[0]))
    return ImpactReport(
        base=base, candidate=cand, cases=t.cases, evaluated=t.evaluated, changed=t.changed,
        rules_changed=t.rules_changed, bad=t.bad, bad_by_side=dict(sorted(t.bad_by_side.items())),
        fields={name: t.fields.get(name, 0) for name in field_names(actions)},
        handler_transitions=[HandlerTransition(before=b, after=a, cases=n) for (b, a), n in transitions],
        rules_newly_firing=rules(t.added), rules_no_longer_firing=rules(t.removed),
        sample=t.sample, sample_limit=t.sample_limit, bad_cases=t.bad_cases, bad_limit=t.bad_limit,
    )
