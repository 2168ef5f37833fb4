"""escalator: who must handle a casino support case, with what authority, and why.

    from escalator import Engine
    engine = Engine.default()
    decision = engine.evaluate(case)

The public names are imported lazily, so `escalator --help` starts fast and
importing the package does not load the rule engine.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Engine": "escalator.runtime.engine",
    "Case": "escalator.language.models.case",
    "Decision": "escalator.language.models.decision",
    "Explanation": "escalator.runtime.explain",
    "EscalatorError": "escalator.errors",
    "LoadError": "escalator.errors",
    "PolicyError": "escalator.errors",
    "CaseError": "escalator.errors",
    "NoPolicyError": "escalator.errors",
    "Problem": "escalator.errors",
    "load_case": "escalator.language.cases",
    "parse_case": "escalator.language.cases",
    "ImpactReport": "escalator.authoring.impact",
}

__all__ = sorted(_EXPORTS) + ["__version__"]

if TYPE_CHECKING:  # pragma: no cover
    from escalator.language.cases import load_case, parse_case
    from escalator.runtime.engine import Engine
    from escalator.errors import CaseError, EscalatorError, LoadError, NoPolicyError, PolicyError, Problem
    from escalator.runtime.explain import Explanation
    from escalator.authoring.impact import ImpactReport
    from escalator.language.models.case import Case
    from escalator.language.models.decision import Decision


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'escalator' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
