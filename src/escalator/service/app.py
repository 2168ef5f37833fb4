"""The HTTP face of the Engine: FastAPI routes over one live policy set and the decision log.

FastAPI (on Starlette, served by uvicorn) because the library's pydantic models become
the typed request/response models and the OpenAPI schema at no extra cost, and both
projects are widely used and maintained. Routes read the live set once per request;
evaluation and logging run in a worker thread so the event loop keeps accepting.
"""

from __future__ import annotations

import hmac
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import anyio
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic.json_schema import models_json_schema

from escalator import __version__
from escalator.errors import EscalatorError, LoadError, Problem
from escalator.language.cases import parse_case
from escalator.language.models.decision import Decision
from escalator.language.yamlio import parse_json
from escalator.log.masking import Masker
from escalator.log.record import LogRecord, engine_keywords, evaluate, make_record, new_request_id
from escalator.log.store import DecisionLog, LogWriteError
from escalator.service import errors
from escalator.service.errors import ApiError
from escalator.service.metrics import CONTENT_TYPE, Metrics
from escalator.service.schemas import (
    REQUEST_MODELS, BatchRequest, BatchResponse, DecideRequest, ErrorBody, Health, PoliciesResponse, ReloadResponse,
    request_body,
)
from escalator.service.state import FolderWatcher, LiveSet, PolicyHolder

LogMode = Literal["strict", "best-effort"]
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
LOCALE = re.compile(r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})?$")
ENDPOINTS = ("/v1/decide", "/v1/decide/batch", "/v1/explain", "/v1/policies", "/v1/reload", "/healthz", "/metrics")


@dataclass
class ServiceConfig:
    policies: Path
    rules: Path
    backend: str = "auto"
    token: str | None = None
    log: DecisionLog | None = None
    log_mode: LogMode = "strict"
    mask_key: bytes | None = None
    max_body_bytes: int = 1_048_576
    max_batch: int = 1000
    watch: float | None = None  # seconds between folder checks; None: reload only on request


class Service:
    """The state behind the routes: live policies, log, metrics."""

    def __init__(self, config: ServiceConfig):
        self.config = config
        self.metrics = Metrics()
        self.masker = Masker(config.mask_key)
        self.holder = PolicyHolder(config.policies, config.rules, config.backend, self._prepare)
        self.metrics.set_live(self.holder.live.digest)
        self.watcher = FolderWatcher(self.holder, config.watch, self.try_reload) if config.watch else None

    def _prepare(self, live: LiveSet) -> None:
        """Before a set goes live: masks need a key; its files go into the log for replay."""
        self.masker.check(m for p in live.engine.policies.values() for m in p.log_mask)
        if self.config.log is not None:
            try:
                self.config.log.store_policy_set(live.digest, live.files)
            except LogWriteError:
                if self.config.log_mode == "strict":
                    raise
                self.metrics.log_failures.inc()

    def reload(self) -> tuple[LiveSet, LiveSet]:
        try:
            old, new = self.holder.reload()
        except EscalatorError:
            self.metrics.reloads.labels("refused").inc()
            raise
        self.metrics.reloads.labels("ok").inc()
        self.metrics.set_live(new.digest)
        return old, new

    def try_reload(self) -> None:
        try:
            self.reload()
        except EscalatorError as exc:
            errors.log.warning("policy reload refused; the old set keeps serving: %s", exc)

    # -- deciding -----------------------------------------------------------------
    def decide(self, live: LiveSet, cases: list[Any], at: datetime | None, locale: str | None,
               request_id: str) -> tuple[list[str | EscalatorError], bool]:
        """Decide every case with `live` and log the decisions in one transaction.
        Returns each decision's JSON (or the case's error) and whether they were logged
        (False only in best-effort mode)."""
        engine = live.engine
        if at is None and "at" in engine_keywords(engine):
            at = datetime.now(timezone.utc).replace(microsecond=0)  # pinned, so replay uses the same instant
        results: list[str | EscalatorError] = []
        records: list[LogRecord] = []
        decided: list[Decision] = []
        for data in cases:
            try:
                model = parse_case(data)
                decision = evaluate(engine, model, at, locale)
            except EscalatorError as exc:
                results.append(exc)
                continue
            text = decision.to_json()
            results.append(text)
            decided.append(decision)
            if self.config.log is not None:
                policy = engine.policies[decision.policy.id]
                records.append(make_record(model, decision, policy, self.masker, live.digest, request_id, at,
                                           locale, text))
        logged = self._log(records)
        for decision in decided:
            self.metrics.decisions.labels(decision.policy.id, decision.handler).inc()
        for _ in range(len(results) - len(decided)):
            self.metrics.error("invalid_case")
        return results, logged

    def _log(self, records: list[LogRecord]) -> bool:
        if not records:
            return True
        assert self.config.log is not None
        try:
            self.config.log.append(records)
            return True
        except LogWriteError as exc:
            self.metrics.log_failures.inc(len(records))
            if self.config.log_mode == "strict":
                raise ApiError(503, "the decision log cannot be written, so no decision is given",
                               exc.problems) from None
            return False


# -- request reading ------------------------------------------------------------------
async def read_json(request: Request, limit: int) -> Any:
    """The body as JSON (exact decimals, duplicate keys refused), at most `limit` bytes."""
    length = request.headers.get("content-length")
    too_large = ApiError(413, f"request body larger than {limit} bytes")
    if length is not None and length.isdigit() and int(length) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    try:
        return parse_json(bytes(body), "request").data
    except LoadError as exc:
        raise ApiError(400, "the request body is not valid JSON", exc.problems) from None


def envelope(data: Any, key: str, extra: tuple[str, ...] = ("at", "locale")) -> tuple[Any, datetime | None, str | None]:
    """`data[key]` and the optional evaluation instant and locale, or a 422 naming every problem."""
    if not isinstance(data, dict):
        raise ApiError(422, "invalid request", [Problem(f"the body must be a JSON object with a {key!r} key")])
    problems = [Problem("unknown field", path=name, hint=f"allowed: {', '.join((key, *extra))}")
                for name in data if name not in (key, *extra)]
    if key not in data:
        problems.append(Problem("missing", path=key))
    at = _instant(data.get("at"), problems)
    locale = data.get("locale")
    if locale is not None and not (isinstance(locale, str) and LOCALE.match(locale)):
        problems.append(Problem("a locale is a language tag such as en or nl-NL", path="locale"))
        locale = None
    if problems:
        raise ApiError(422, "invalid request", problems)
    return data[key], at, locale


def _instant(value: Any, problems: list[Problem]) -> datetime | None:
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError
        return parsed.astimezone(timezone.utc)
    except ValueError:
        problems.append(Problem("an instant is ISO 8601 with a zone, e.g. 2026-11-20T14:03:00Z", path="at"))
        return None


def request_id(request: Request) -> str:
    given = request.headers.get("x-request-id")
    return given if given is not None and REQUEST_ID.match(given) else new_request_id()


def _headers(live: LiveSet, rid: str, logged: bool = True) -> dict[str, str]:
    headers = {"X-Policy-Set": live.digest, "X-Request-Id": rid}
    if not logged:
        headers["X-Decision-Log"] = "failed"
    return headers


# -- the application ------------------------------------------------------------------
class Timing:
    """Pure ASGI middleware: the latency histogram, by endpoint (unknown paths are 'other')."""

    def __init__(self, app: Callable[..., Awaitable[None]], metrics: Metrics):
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            path = scope.get("path", "")
            label = path if path in ENDPOINTS else "other"
            self.metrics.latency.labels(label).observe(time.perf_counter() - start)


def create_app(config: ServiceConfig) -> FastAPI:
    """The ASGI application. Loading the policies happens here: a bad set fails at start-up."""
    service = Service(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if service.watcher is not None:
            service.watcher.start()
        try:
            yield
        finally:
            if service.watcher is not None:
                service.watcher.stop()

    app = FastAPI(title="escalator", version=__version__, lifespan=lifespan,
                  description="Who must handle an online casino's support case, with what authority, and why.")
    app.state.service = service
    errors.install(app, service.metrics.error)
    app.add_middleware(Timing, metrics=service.metrics)

    bearer = HTTPBearer(auto_error=False)

    def authorised(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        if config.token is None:
            return
        given = credentials.credentials if credentials is not None else ""
        if not hmac.compare_digest(given.encode("utf-8"), config.token.encode("utf-8")):
            raise ApiError(401, "a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"})

    v1 = APIRouter(dependencies=[Depends(authorised)])
    errors_doc: dict[int | str, dict[str, Any]] = {
        code: {"model": ErrorBody} for code in (400, 401, 413, 422, 503)}

    @v1.post("/v1/decide", openapi_extra=request_body(DecideRequest),
             responses={200: {"model": Decision}, **errors_doc}, summary="Decide one case")
    async def decide(request: Request) -> Response:
        case, at, locale = envelope(await read_json(request, config.max_body_bytes), "case")
        live, rid = service.holder.live, request_id(request)
        results, logged = await anyio.to_thread.run_sync(service.decide, live, [case], at, locale, rid)
        result = results[0]
        if isinstance(result, EscalatorError):
            raise ApiError(422, "invalid case", result.problems)
        return Response(result, media_type="application/json", headers=_headers(live, rid, logged))

    @v1.post("/v1/decide/batch", openapi_extra=request_body(BatchRequest),
             responses={200: {"model": BatchResponse}, **errors_doc}, summary="Decide many cases")
    async def decide_batch(request: Request) -> Response:
        cases, at, locale = envelope(await read_json(request, config.max_body_bytes), "cases")
        if not isinstance(cases, list):
            raise ApiError(422, "invalid request", [Problem("a list of cases is expected", path="cases")])
        if len(cases) > config.max_batch:
            raise ApiError(413, f"a batch holds at most {config.max_batch} cases, this one {len(cases)}")
        live, rid = service.holder.live, request_id(request)
        results, logged = await anyio.to_thread.run_sync(service.decide, live, cases, at, locale, rid)
        import json

        parts = [r if isinstance(r, str)
                 else json.dumps(errors.slot_error(r), ensure_ascii=False, separators=(",", ":")) for r in results]
        head = json.dumps({"policy_set": live.digest, "request_id": rid}, separators=(",", ":"))[:-1]
        return Response(f'{head},"results":[{",".join(parts)}]}}', media_type="application/json",
                        headers=_headers(live, rid, logged))

    @v1.post("/v1/explain", openapi_extra=request_body(DecideRequest),
             responses={**errors_doc}, summary="Explain one case: every rule, fired or not, and why")
    async def explain(request: Request) -> Response:
        case, at, locale = envelope(await read_json(request, config.max_body_bytes), "case")
        live, rid = service.holder.live, request_id(request)
        try:
            explanation = await anyio.to_thread.run_sync(lambda: live.engine.explain(case, at, locale=locale))
        except EscalatorError as exc:
            raise ApiError(422, "invalid case", exc.problems) from None
        return JSONResponse(explanation.to_dict(), headers=_headers(live, rid))

    @v1.get("/v1/policies", response_model=PoliciesResponse, summary="The live policies")
    async def policies() -> dict[str, Any]:
        live = service.holder.live
        return {"policy_set": live.digest, "loaded_at": live.loaded_at, "policies": [
            {"id": p.id, "version": p.version, "name": p.name, "digest": p.digest,
             "jurisdictions": list(p.jurisdictions),
             "effective_from": p.effective_from.isoformat() if p.effective_from else None,
             "effective_until": p.effective_until.isoformat() if p.effective_until else None,
             "log_mask": list(p.log_mask)}
            for p in sorted(live.engine.policies.values(), key=lambda p: p.id)]}

    @v1.post("/v1/reload", response_model=ReloadResponse, responses={**errors_doc},
             summary="Load the policy folders again; a bad set is refused and the old one keeps serving")
    async def reload() -> dict[str, Any]:
        before = service.holder.live
        try:
            old, new = await anyio.to_thread.run_sync(service.reload)
        except LogWriteError as exc:
            raise ApiError(503, "the new policy set could not be stored in the decision log; "
                           "the old one keeps serving", exc.problems, headers={"X-Policy-Set": before.digest}) from None
        except EscalatorError as exc:
            raise ApiError(422, "the new policy set is invalid; the old one keeps serving", exc.problems,
                           headers={"X-Policy-Set": before.digest}, kind="reload_refused") from None
        return {"reloaded": old.digest != new.digest, "policy_set": new.digest, "previous": old.digest}

    @v1.get("/metrics", response_class=Response, summary="Prometheus metrics")
    async def metrics() -> Response:
        return Response(service.metrics.render(), media_type=CONTENT_TYPE)

    @app.get("/healthz", response_model=Health, summary="Liveness (no token needed)")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "policy_set": service.holder.live.digest}

    app.include_router(v1)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            _, defs = models_json_schema([(m, "validation") for m in REQUEST_MODELS],
                                         ref_template="#/components/schemas/{model}")
            schema.setdefault("components", {}).setdefault("schemas", {}).update(defs.get("$defs", {}))
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
