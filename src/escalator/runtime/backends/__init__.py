"""Backends decide which rules fire; they never decide anything else.

Both read the same IR and the same flat view of a case and return the indices
of the rules whose condition is true. Turning fired rules into a decision is the
job of `escalator.runtime.decide`, shared by both, so they cannot drift apart there.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from escalator.language.ir import CompiledPolicy

BACKENDS = ("durable", "compiled")
log = logging.getLogger("escalator")


class Backend(Protocol):
    name: str

    def fired(self, policy: CompiledPolicy, view: dict[str, Any]) -> list[int]:
        """Indices (policy order) of the rules whose condition holds for the case."""
        ...

    def close(self) -> None:
        """Free engine resources (rulesets); the backend is unusable afterwards."""
        ...


def durable_available() -> bool:
    """True where durable_rules imports (not on Python 3.13 with PyPI's 2.0.28)."""
    try:
        import durable_rules_engine  # noqa: F401
        from durable import engine  # noqa: F401
    except Exception:  # ImportError, or an undefined-symbol error from the C extension
        return False
    return True


def check_backend(name: str) -> str:
    """The backend `name` stands for ("auto" resolved), or EscalatorError if it cannot run here."""
    from escalator.errors import EscalatorError

    if name == "auto":
        return "durable" if durable_available() else "compiled"
    if name == "reference":  # runtime.semantics itself: slow, for differential tests and checks
        return name
    if name not in BACKENDS:
        raise EscalatorError(f"unknown backend {name!r}: choose {', '.join(BACKENDS)} or auto")
    if name == "durable" and not durable_available():
        raise EscalatorError("the durable backend needs durable-rules, which does not import here")
    return name


class Routed:
    """`auto` where durable_rules cannot run some policies: those go to the compiled backend."""

    name = "auto"

    def __init__(self, routes: dict[str, Backend], parts: list[Backend]):
        self._routes = routes
        self._parts = parts

    def fired(self, policy: CompiledPolicy, view: dict[str, Any]) -> list[int]:
        return self._routes[policy.id].fired(policy, view)

    def close(self) -> None:
        for part in self._parts:
            part.close()


def make_backend(name: str, policies: dict[str, CompiledPolicy]) -> Backend:
    """The backend `name` stands for. `auto` is durable where durable_rules imports, except
    for the policies it cannot run faithfully (refused at load, see `rete.layout`), which
    the compiled backend decides; asking for `durable` by name on such a policy is an error."""
    from escalator.runtime.backends.compiled import CompiledBackend

    if check_backend(name) == "reference":
        from escalator.runtime.semantics import ReferenceBackend

        return ReferenceBackend(policies)
    if check_backend(name) == "compiled":
        return CompiledBackend(policies)
    from escalator.runtime.backends.durable import DurableBackend, plan

    layouts, refused = plan(policies)
    if not refused or name != "auto":
        return DurableBackend(policies, layouts if not refused else None)
    for policy_id, reason in sorted(refused.items()):
        log.info("policy %r runs on the compiled backend: %s", policy_id, reason)
    if not layouts:
        return CompiledBackend(policies)
    durable = DurableBackend({p: policies[p] for p in layouts}, layouts)
    compiled = CompiledBackend({p: policies[p] for p in refused})
    routes: dict[str, Backend] = {p: (compiled if p in refused else durable) for p in policies}
    return Routed(routes, [durable, compiled])
