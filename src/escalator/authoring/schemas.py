"""JSON Schemas of the documents escalator reads and writes (`escalator schema`, `escalator init`).

Derived from the pydantic models, so a field added to a model is in its schema.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

DRAFT = "https://json-schema.org/draft/2020-12/schema"
MONEY_TEXT = r"^-?[0-9]+\.[0-9]{2}$"
TIMESTAMP_TEXT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"


def schema_for(kind: str, case_model: type[BaseModel] | None = None) -> dict[str, Any]:
    """The JSON Schema of one kind of document (also used by the tests and docs).

    `case_model`: the case model to export (default: escalator's own; a test passes an extended one).
    """
    if kind == "policy":
        from escalator.language.models.policy import PolicyFile

        return _finish(PolicyFile.model_json_schema(), "escalator policy", "A file in policies/ (see docs/policy-authoring.md).")
    if kind == "rules":
        from escalator.language.models.policy import RulePackFile

        return _finish(RulePackFile.model_json_schema(), "escalator rule pack", "A file in rules/ (see docs/policy-authoring.md).")
    if kind == "case":
        from escalator.language.models.case import Case

        model = case_model or Case
        return _finish(model.model_json_schema(), "escalator case", "A support case (spec section 4).")
    if kind == "decision":
        return _decision_schema()
    if kind == "impact":
        from escalator.authoring.impact import ImpactReport  # written separately; may be absent in a build

        return _finish(ImpactReport.model_json_schema(mode="serialization"), "escalator impact report",
                       "What a policy change does to a set of cases.")
    raise ValueError(kind)


def _finish(schema: dict[str, Any], title: str, description: str) -> dict[str, Any]:
    return {"$schema": DRAFT, "title": title, "description": description,
            **{k: v for k, v in schema.items() if k not in ("title", "description")}}


def _decision_schema() -> dict[str, Any]:
    """Decision.to_dict() output: every key always present, money and timestamps as strings."""
    from escalator.language.models.decision import Decision

    schema = Decision.model_json_schema(mode="serialization")
    defs = schema["$defs"]
    for name in ("Deadlines", "PolicyRef", "Reason", None):
        target = defs[name] if name else schema
        target["additionalProperties"] = False
        target["required"] = list(target["properties"])
    for key in ("acknowledge_by", "resolve_by"):
        defs["Deadlines"]["properties"][key] = {
            "anyOf": [{"type": "string", "format": "date-time", "pattern": TIMESTAMP_TEXT}, {"type": "null"}],
            "title": key.replace("_", " ").capitalize(),
        }
    defs["PolicyRef"]["properties"]["digest"]["pattern"] = r"^sha256:[0-9a-f]{64}$"
    props = schema["properties"]
    props["authority"]["additionalProperties"] = {"type": "string", "pattern": MONEY_TEXT}
    props["authority"]["description"] = ("Cap per action in the policy's currency, as a string with two decimals "
                                         "(machine format in every locale: only messages are localised).")
    props["summary"]["minLength"] = 1
    for key in ("forward", "flags"):
        props[key]["uniqueItems"] = True
    return _finish(schema, "escalator decision", "The decision JSON (spec section 6).")
