"""One decision as the log stores it, and what a replay needs to decide it again.

A row holds the case (masked), the decision JSON exactly as it was answered, the
policy's id, version and digest, the digest of the whole policy set that was live,
the evaluation instant and locale given to the Engine, and the request id. The
policy set's files are stored once per set digest (`snapshot`), so `escalator
replay` can rebuild the very policies that decided, even after the folder changed.
"""

from __future__ import annotations

import hashlib
import inspect
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from escalator.errors import CaseError, Problem
from escalator.language.ir import CompiledPolicy
from escalator.language.loading import yaml_files
from escalator.language.models.case import Case
from escalator.language.models.decision import Decision
from escalator.log.masking import Masker
from escalator.runtime.engine import Engine


@dataclass(frozen=True)
class LogRecord:
    request_id: str
    logged_at: str  # ISO 8601 UTC, microseconds: when the decision was answered
    case_id: str
    policy_id: str
    policy_version: str
    policy_digest: str
    policy_set: str
    handler: str
    case_json: str  # the case as decided, masked fields replaced by keyed hashes
    decision_json: str  # Decision.to_json(): the answer, byte for byte
    masked: str  # JSON list of the paths that were masked in this row
    at: str | None = None  # the evaluation instant given to the Engine (None: the Engine takes none)
    locale: str | None = None
    id: int | None = None  # assigned by the store


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def instant_iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_request_id() -> str:
    return uuid.uuid4().hex


def policy_set_digest(policies: dict[str, CompiledPolicy]) -> str:
    """One digest for a set of policies: what `GET /v1/policies` and the log call 'live'."""
    text = "\n".join(f"{pid}={p.digest}" for pid, p in sorted(policies.items()))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def snapshot(policies: Path, rules: Path) -> dict[str, str]:
    """The files a policy set was loaded from, as {"policies/x.yaml": text, "rules/y.yaml": text}."""
    files: dict[str, str] = {}
    for folder, name in ((policies, "policies"), (rules, "rules")):
        for path in yaml_files(Path(folder)):
            files[f"{name}/{path.name}"] = path.read_text(encoding="utf-8")
    return files


_KEYWORDS: dict[type[Engine], frozenset[str]] = {}


def engine_keywords(engine: Engine) -> frozenset[str]:
    """Which of `at`, `locale` this Engine's evaluate accepts (both arrive in later releases)."""
    kind = type(engine)
    if kind not in _KEYWORDS:
        _KEYWORDS[kind] = frozenset(inspect.signature(kind.evaluate).parameters) & {"at", "locale"}
    return _KEYWORDS[kind]


def evaluate(engine: Engine, case: Case | dict[str, Any], at: datetime | None = None,
             locale: str | None = None) -> Decision:
    """`engine.evaluate` with the instant and locale, refusing the ones it cannot honour."""
    accepted = engine_keywords(engine)
    given: dict[str, Any] = {name: value for name, value in (("at", at), ("locale", locale)) if value is not None}
    refused = [Problem(f"this escalator cannot evaluate with {name!r} yet", path=name)
               for name in given if name not in accepted]
    if refused:
        raise CaseError(refused)
    return engine.evaluate(case, **given)


def make_record(case: Case, decision: Decision, policy: CompiledPolicy, masker: Masker, policy_set: str,
                request_id: str, at: datetime | None = None, locale: str | None = None,
                decision_json: str | None = None) -> LogRecord:
    """A row for a decision; `decision_json` saves a second `decision.to_json()` when the caller has it."""
    text = decision.to_json() if decision_json is None else decision_json
    return record_from(case.model_dump(mode="json"), text, decision.handler, policy, masker,
                       policy_set, request_id, at, locale)


def record_from(case: dict[str, Any], decision_json: str, handler: str, policy: CompiledPolicy, masker: Masker,
                policy_set: str, request_id: str, at: datetime | None = None,
                locale: str | None = None) -> LogRecord:
    """A row from the case as plain JSON data (`Case.model_dump(mode="json")`) and the decision JSON."""
    import json

    data, masked = masker.mask(case, policy.log_mask)
    return LogRecord(
        request_id=request_id, logged_at=now_iso(), case_id=str(case["case_id"]),
        policy_id=policy.id, policy_version=policy.version, policy_digest=policy.digest, policy_set=policy_set,
        handler=handler,
        case_json=json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True),
        decision_json=decision_json, masked=json.dumps(masked),
        at=None if at is None else instant_iso(at), locale=locale,
    )


class Recorder:
    """Logs the decisions of a CLI run: one policy set, one run id, rows written in batches."""

    def __init__(self, log: Any, policies: dict[str, CompiledPolicy], files: dict[str, str], masker: Masker,
                 locale: str | None = None):
        self.log, self.policies, self.masker = log, policies, masker
        self.locale = locale  # the run's --locale, so replay re-decides in the same language
        self.policy_set = policy_set_digest(policies)
        self.run_id = new_request_id()
        masker.check(m for p in policies.values() for m in p.log_mask)
        log.store_policy_set(self.policy_set, files)
        self.pending: list[LogRecord] = []

    def add(self, case: dict[str, Any], decision: dict[str, Any]) -> None:
        import json

        text = json.dumps(decision, ensure_ascii=False, separators=(",", ":"))  # == Decision.to_json()
        policy = self.policies[decision["policy"]["id"]]
        # a decision that names its evaluation instant is replayed at that instant
        instant = decision.get("evaluated_at")
        at = datetime.fromisoformat(instant) if isinstance(instant, str) else None
        self.pending.append(record_from(case, text, decision["handler"], policy, self.masker, self.policy_set,
                                        self.run_id, at, self.locale))

    def flush(self) -> None:
        """Write the pending rows (one transaction); raises LogWriteError, keeping nothing."""
        rows, self.pending = self.pending, []
        self.log.append(rows)


def instant_bound(text: str) -> str:
    """A --since/--until value (a date, or an ISO instant with a zone) as the log's
    sortable UTC text, so it compares with `logged_at` as a string."""
    from datetime import date

    try:
        if len(text) == 10:
            return date.fromisoformat(text).isoformat()
        value = datetime.fromisoformat(text)
    except ValueError:
        raise CaseError(Problem(f"{text!r} is not a date (2026-11-20) or an instant (2026-11-20T14:03:00Z)")) from None
    if value.tzinfo is None:
        raise CaseError(Problem(f"{text!r} needs a zone, e.g. 2026-11-20T14:03:00Z"))
    return instant_iso(value)
