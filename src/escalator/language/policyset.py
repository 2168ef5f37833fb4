"""A policy source (see `escalator.language.sources`) -> compiled policies, with every problem collected.

Both the Engine (which refuses to start on any problem) and `escalator validate`
(which reports them all, then runs the static checks) load policies through here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from escalator.language.compiler import compile_policy
from escalator.errors import EscalatorError, Location, PolicyError, Problem
from escalator.language.ir import CompiledPolicy
from escalator.language.loading import ResolvedPolicy, Source, load_layers, resolve
from escalator.language.sources import PolicySource, locate


@dataclass
class PolicySet:
    load_problems: list[Problem] = field(default_factory=list)  # unreadable files: nothing compiled
    packs: dict[str, Source] = field(default_factory=dict)
    resolved: dict[str, ResolvedPolicy] = field(default_factory=dict)
    compiled: dict[str, CompiledPolicy] = field(default_factory=dict)
    problems: dict[str, list[Problem]] = field(default_factory=dict)  # per policy that failed to compile
    overlaps: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)  # e.g. a local pack overriding a bundled one

    def all_problems(self) -> list[Problem]:
        found = list(self.load_problems)
        for problems in self.problems.values():
            found.extend(problems)
        found.extend(self.overlaps)
        return list(dict.fromkeys(found))


def as_source(policies: str | Path | PolicySource | None, rules: str | Path | None = None) -> PolicySource:
    return policies if isinstance(policies, PolicySource) else locate(policies, rules)


def compile_all(policies: str | Path | PolicySource | None, rules: str | Path | None = None) -> PolicySet:
    """Load, layer, resolve and compile the source's own non-abstract policies; never raises for bad content."""
    result = PolicySet()
    try:
        layers = load_layers(as_source(policies, rules))
    except EscalatorError as exc:
        result.load_problems.extend(exc.problems)
        return result  # compiling against half-loaded files only adds noise
    result.packs, result.warnings = layers.packs, layers.warnings
    policy_files = layers.policies
    for policy_id in layers.own:
        try:
            resolved = resolve(policy_id, policy_files)
        except EscalatorError as exc:
            result.problems[policy_id] = exc.problems
            continue
        if resolved.abstract:
            continue
        result.resolved[policy_id] = resolved
        if not resolved.jurisdictions:
            result.problems[policy_id] = [Problem(
                f"policy {policy_id!r} applies to no jurisdiction", resolved.file.doc.location(()),
                code="E-POLICY", hint="add jurisdictions: [..] or abstract: true")]
            continue
        try:
            result.compiled[policy_id] = compile_policy(resolved, result.packs)
        except EscalatorError as exc:
            result.problems[policy_id] = exc.problems
    result.overlaps = _overlaps(result.compiled, result.resolved)
    return result


def compile_folders(policies: str | Path | PolicySource | None,
                    rules: str | Path | None = None) -> dict[str, CompiledPolicy]:
    """Every compiled policy, or one PolicyError listing every problem found."""
    source = as_source(policies, rules)
    result = compile_all(source)
    problems = result.all_problems()
    if problems:
        raise PolicyError(problems)
    if not result.compiled:
        raise PolicyError(Problem(f"no policy found in {source.policies}", Location(str(source.policies)),
                                  hint="a policy file starts with `policy: ID`; "
                                       "abstract policies are parents only"))
    return result.compiled


def _overlaps(policies: dict[str, CompiledPolicy], resolved: dict[str, ResolvedPolicy]) -> list[Problem]:
    """Two policies for one jurisdiction must not be in force on the same day."""
    problems = []
    items = list(policies.values())
    for i, a in enumerate(items):
        for b in items[i + 1:]:
            shared = set(a.jurisdictions) & set(b.jurisdictions)
            if not shared:
                continue
            disjoint = (
                a.effective_until is not None and b.effective_from is not None and a.effective_until < b.effective_from
            ) or (
                b.effective_until is not None and a.effective_from is not None and b.effective_until < a.effective_from
            )
            if not disjoint:
                where = resolved[b.id].file.doc.location(("jurisdictions",)) if b.id in resolved else None
                problems.append(Problem(
                    f"policies {a.id!r} and {b.id!r} both apply to {', '.join(sorted(shared))} on the same days",
                    where, code="E-OVERLAP", hint="give them effective periods that do not overlap",
                ))
    return problems
