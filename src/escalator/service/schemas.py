"""Request and response models, for validation of the envelope and for the OpenAPI schema.

The case inside a request is parsed by the library (`escalator.language.cases`), not by
FastAPI, so a bad case gets the same field-path problems as on the command line and,
in a batch, only its own slot fails. The schema still shows the full `Case` model.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from escalator.language.models.case import Case
from escalator.language.models.decision import Decision

AT_HELP = "the evaluation instant (ISO 8601 with a zone); default: now, recorded in the log"
LOCALE_HELP = "the language of messages, e.g. en or nl (when this escalator supports locales)"


class DecideRequest(BaseModel):
    case: Case
    at: str | None = Field(None, description=AT_HELP)
    locale: str | None = Field(None, description=LOCALE_HELP)


class BatchRequest(BaseModel):
    cases: list[Case] = Field(description="each case is decided on its own; a bad one fails only its slot")
    at: str | None = Field(None, description=AT_HELP)
    locale: str | None = Field(None, description=LOCALE_HELP)


class ProblemRecord(BaseModel):
    message: str
    path: str | None = None
    file: str | None = None
    line: int | None = None
    column: int | None = None
    code: str | None = None
    hint: str | None = None


class ErrorDetail(BaseModel):
    status: int
    title: str
    problems: list[ProblemRecord]


class ErrorBody(BaseModel):
    error: ErrorDetail


class BatchResponse(BaseModel):
    policy_set: str = Field(description="digest of the policy set that decided every case of this batch")
    request_id: str
    results: list[Decision | ErrorBody] = Field(description="in input order: a decision, or the case's error")


class PolicyInfo(BaseModel):
    id: str
    version: str
    name: str
    digest: str
    jurisdictions: list[str]
    effective_from: str | None
    effective_until: str | None
    log_mask: list[str]


class PoliciesResponse(BaseModel):
    policy_set: str
    loaded_at: str
    policies: list[PolicyInfo]


class ReloadResponse(BaseModel):
    reloaded: bool
    policy_set: str = Field(description="the digest live now")
    previous: str


class Health(BaseModel):
    status: str
    policy_set: str


REQUEST_MODELS: tuple[type[BaseModel], ...] = (DecideRequest, BatchRequest)


def request_body(model: type[BaseModel]) -> dict[str, Any]:
    """An `openapi_extra` that documents a JSON body the route reads itself."""
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}}}
