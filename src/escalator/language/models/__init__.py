"""Typed models (pydantic v2): what a case, a policy, a rule pack and a decision are."""

from escalator.language.models.case import Case, Forfeiture, Player, Request, Withdrawal
from escalator.language.models.decision import Decision, PolicyRef, Reason
from escalator.language.models.policy import (
    ConditionSpec,
    EffectsSpec,
    ParamSpec,
    PolicyFile,
    RuleFile,
    RulePackFile,
    RuleSelection,
    SlaWindow,
    TierSpec,
)

__all__ = [
    "Case", "Player", "Request", "Withdrawal", "Forfeiture",
    "Decision", "PolicyRef", "Reason",
    "PolicyFile", "RulePackFile", "RuleFile", "TierSpec", "ParamSpec", "EffectsSpec",
    "ConditionSpec", "RuleSelection", "SlaWindow",
]
