"""Backends decide which rules fire; they never decide anything else.

Both read the same IR and the same flat view of a case and return the indices
of the rules whose condition is true. Turning fired rules into a decision is the
job of `escalator.runtime.decide`, shared by both, so they cannot drift apart there.
"""

from __future__ import annotations

from typing import Any, Protocol

from escalator.language.ir import CompiledPolicy

BACKENDS = ("durable", "compiled")


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
    if name not in BACKENDS:
        raise EscalatorError(f"unknown backend {name!r}: choose {', '.join(BACKENDS)} or auto")
    if name == "durable" and not durable_available():
        raise EscalatorError("the durable backend needs durable-rules, which does not import here")
    return name


def make_backend(name: str, policies: dict[str, CompiledPolicy]) -> Backend:
    if check_backend(name) == "compiled":
        from escalator.runtime.backends.compiled import CompiledBackend

        return CompiledBackend(policies)
    from escalator.runtime.backends.durable import DurableBackend

    return DurableBackend(policies)
