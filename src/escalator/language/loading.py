"""Load policy and rule-pack folders, layer them over the bundled ones, and resolve `extends`.

Layering: the bundled policies and packs are always there beneath a user's
folders. A plain name (`extends: uk`, `packs: [bonus]`) means the user's own
file if there is one, else the bundled one; `escalator:NAME` always means the
bundled one. A user file that shadows a bundled one of the same name is
reported as a warning naming both files (not for a policy that explicitly
`extends: escalator:` its namesake, nor for an unchanged copy). Only the user's
own policies are compiled; the bundled ones are parents to extend.

A child policy overrides its parent field by field: tiers merge by id (and a
tier's authority by action), parameters and SLA windows by name; a child's
`rules.packs` replaces the parent's list, `disable` adds to it and `enable`
takes ids back out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from escalator.errors import EscalatorError, LoadError, Location, PolicyError, Problem, did_you_mean
from escalator.language.models.policy import PolicyFile, RulePackFile
from escalator.language.sources import BUNDLED_PREFIX, PolicySource, bundled_dir, is_bundled
from escalator.language.validation import validate
from escalator.language.yamlio import DocPath, Document, load_file


@dataclass
class Source:
    """A validated file together with its document (for error locations)."""

    model: Any
    doc: Document
    bundled: bool = False  # shipped with escalator (a parent to extend, not compiled on its own)


@dataclass(frozen=True)
class InvariantSource:
    """One entry of a policy file's `invariants:` (compiled by language.invariants)."""

    spec: dict[str, Any]
    at: Callable[[DocPath], Location]  # the location of a part of it, by its path inside the entry


@dataclass
class ResolvedPolicy:
    """A policy after `extends`: plain merged values, not yet compiled."""

    id: str
    file: Source
    chain: list[str]
    version: str | None = None
    name: str | None = None
    abstract: bool = False
    jurisdictions: list[str] = field(default_factory=list)
    effective: Any = None
    complaints_tier: str | None = None
    failsafe_tier: str | None = None
    locale: str | None = None
    currency: str | None = None
    tiers: dict[str, dict[str, Any]] = field(default_factory=dict)
    tier_sources: dict[str, Location] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    param_sources: dict[str, Location] = field(default_factory=dict)
    sla: dict[str, dict[str, Any]] = field(default_factory=dict)
    packs: list[str] = field(default_factory=list)
    disabled: dict[str, Location] = field(default_factory=dict)
    invariants: list[InvariantSource] = field(default_factory=list)  # the ancestors' first
    log_mask: dict[str, Location] = field(default_factory=dict)  # path -> where it was listed (inherited too)


def yaml_files(folder: Path) -> list[Path]:
    """The YAML/JSON files directly in a folder, sorted; test files are not policies."""
    if not folder.is_dir():
        raise LoadError(Problem(f"not a folder: {folder}", Location(str(folder))))
    return sorted(
        p for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in (".yaml", ".yml", ".json") and not p.name.startswith("test_")
    )


def _load_all(folder: Path, model: type[PolicyFile] | type[RulePackFile], key: str, kind: str) -> dict[str, Source]:
    found: dict[str, Source] = {}
    problems: list[Problem] = []
    for path in yaml_files(folder):
        try:
            doc = load_file(path)
            parsed: PolicyFile | RulePackFile = validate(model, doc, PolicyError)
        except EscalatorError as exc:
            problems.extend(exc.problems)
            continue
        name = getattr(parsed, key)
        if name in found:
            problems.append(Problem(
                f"{kind} {name!r} is defined twice (also in {found[name].doc.file})",
                doc.location((key,)), code="E-DUPLICATE",
            ))
            continue
        found[name] = Source(parsed, doc)
    if problems:
        raise PolicyError(problems)
    return found


def load_policies(folder: Path) -> dict[str, Source]:
    return _load_all(Path(folder), PolicyFile, "policy", "policy")


def load_packs(folder: Path) -> dict[str, Source]:
    return _load_all(Path(folder), RulePackFile, "pack", "rule pack")


@dataclass
class Layers:
    """Every policy and pack a source can name, and which policies are its own."""

    policies: dict[str, Source] = field(default_factory=dict)  # plain names and escalator:NAME
    packs: dict[str, Source] = field(default_factory=dict)
    own: list[str] = field(default_factory=list)  # the policy ids to compile, sorted
    warnings: list[Problem] = field(default_factory=list)


def _same_text(a: Source, b: Source) -> bool:
    try:
        return Path(a.doc.file or "").read_bytes() == Path(b.doc.file or "").read_bytes()
    except OSError:
        return False


def _layer(own: dict[str, Source], bundled: dict[str, Source], kind: str, into: dict[str, Source],
           warnings: list[Problem]) -> None:
    for name, src in bundled.items():
        src.bundled = True
        into[BUNDLED_PREFIX + name] = src
        into[name] = src
    for name, src in own.items():
        shadowed = bundled.get(name)
        explicit = kind == "policy" and getattr(src.model, "extends", None) == BUNDLED_PREFIX + name
        if shadowed is not None and not explicit and not _same_text(src, shadowed):
            warnings.append(Problem(
                f"{kind} {name!r} here overrides the bundled {kind} of the same name ({shadowed.doc.file})",
                src.doc.location((kind if kind == "policy" else "pack",)), code="W-OVERRIDE", severity="warning",
                hint=f"rename it, or write `{BUNDLED_PREFIX}{name}` where you mean the bundled one"
                if kind != "policy" else f"say `extends: {BUNDLED_PREFIX}{name}` to build on the bundled one"))
        into[name] = src


def load_layers(source: PolicySource) -> Layers:
    """The source's own files over the bundled ones; every unreadable file in one PolicyError."""
    problems: list[Problem] = []
    own_policies: dict[str, Source] = {}
    own_packs: dict[str, Source] = {}
    try:
        own_policies = load_policies(source.policies)
    except EscalatorError as exc:
        problems.extend(exc.problems)
    if source.rules is not None:
        try:
            own_packs = load_packs(source.rules)
        except EscalatorError as exc:
            problems.extend(exc.problems)
    if problems:
        raise PolicyError(problems)
    layers = Layers(own=sorted(own_policies))
    bundled_policies = {} if is_bundled(source.policies, "policies") else load_policies(bundled_dir("policies"))
    bundled_packs = {} if is_bundled(source.rules, "rules") else load_packs(bundled_dir("rules"))
    _layer(own_policies, bundled_policies, "policy", layers.policies, layers.warnings)
    _layer(own_packs, bundled_packs, "rule pack", layers.packs, layers.warnings)
    return layers


def resolve(policy_id: str, policies: dict[str, Source]) -> ResolvedPolicy:
    """Merge a policy with its ancestors (root first); cycles and unknown parents are errors."""
    chain: list[str] = []
    current: str | None = policy_id
    while current is not None:
        if current in chain:
            cycle = " -> ".join(chain + [current])
            src = policies[chain[-1]]
            raise PolicyError(Problem(f"extends cycle: {cycle}", src.doc.location(("extends",)), code="E-EXTENDS"))
        if current not in policies:
            src = policies[chain[-1]]
            raise PolicyError(Problem(
                f"extends unknown policy {current!r}", src.doc.location(("extends",)), code="E-EXTENDS",
                hint=did_you_mean(current, policies, "known policies"),
            ))
        chain.append(current)
        current = policies[current].model.extends
    own = policies[policy_id]
    resolved = ResolvedPolicy(id=policy_id, file=own, chain=chain)
    for ancestor in reversed(chain):
        _merge(resolved, policies[ancestor])
    me: PolicyFile = own.model
    resolved.abstract = me.abstract
    resolved.jurisdictions = list(me.jurisdictions or [])
    resolved.effective = me.effective
    resolved.version = me.version or resolved.version
    resolved.name = me.name or resolved.name
    return resolved


def _merge(target: ResolvedPolicy, source: Source) -> None:
    spec: PolicyFile = source.model
    doc = source.doc
    target.version = spec.version or target.version
    target.name = spec.name or target.name
    target.complaints_tier = spec.complaints_tier or target.complaints_tier
    target.failsafe_tier = spec.failsafe_tier or target.failsafe_tier
    target.locale = spec.locale or target.locale
    target.currency = spec.currency or target.currency
    for i, tier in enumerate(spec.tiers):
        merged = target.tiers.setdefault(tier.id, {"id": tier.id})
        for key, value in tier.model_dump(exclude_none=True).items():
            if key == "authority":
                merged.setdefault("authority", {}).update(value)
            else:
                merged[key] = value
        target.tier_sources[tier.id] = doc.location(("tiers", i))
    for name, value in spec.params.items():
        target.params[name] = value
        target.param_sources[name] = doc.location(("params", name))
    for name, window in spec.sla.items():
        target.sla.setdefault(name, {}).update(window.model_dump(exclude_none=True))
    if spec.rules is not None:
        if spec.rules.packs is not None:
            target.packs = list(spec.rules.packs)
        for i, rule_id in enumerate(spec.rules.disable):
            target.disabled[rule_id] = doc.location(("rules", "disable", i))
        for rule_id in spec.rules.enable:
            target.disabled.pop(rule_id, None)
    target.invariants.extend(InvariantSource(entry, doc.locator(("invariants", i)))
                             for i, entry in enumerate(spec.invariants))
    if spec.log is not None:  # masks accumulate down the extends chain: a child never unmasks
        for i, path in enumerate(spec.log.mask):
            target.log_mask.setdefault(path, doc.location(("log", "mask", i)))
