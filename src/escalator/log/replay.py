"""Re-decide logged cases: with the logged policy set (does every answer reproduce, byte
for byte?) or with a candidate set (what would the new policy have said on real history?).

Both report like `escalator impact` (the logged decision is the base side), so the same
tables and JSON apply. The logged set is rebuilt from the files the log stored for its
digest (`escalator.log.record.snapshot`); a row whose set cannot be rebuilt, or whose
policy no longer has the logged digest, is counted as bad, never skipped silently.
Masked fields need no unmasking: no rule reads them (`escalator.language.masks`).
"""

from __future__ import annotations

import json
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from escalator.authoring.impact import BadCase, ImpactReport, PolicySide, Tally, build_report
from escalator.errors import EscalatorError
from escalator.language.cases import parse_case
from escalator.language.models.decision import Decision
from escalator.language.policyset import compile_folders
from escalator.log.record import LogRecord, evaluate
from escalator.log.store import DecisionLog
from escalator.runtime.engine import Engine


class Mismatch(BaseModel):
    row: int = Field(description="the log row id")
    case_id: str
    logged: str = Field(description="the decision JSON as answered")
    replayed: str = Field(description="the decision JSON now")


class ReplayReport(BaseModel):
    mode: Literal["logged", "candidate"]
    rows: int = Field(description="log rows read")
    reproduced: int = Field(description="rows whose decision JSON came out byte for byte the same")
    not_reproduced: int = Field(description="rows decided again but with different bytes")
    mismatches: list[Mismatch] = Field(description="the first rows that did not reproduce (bounded)")
    impact: ImpactReport = Field(description="the differences, field by field, as `escalator impact` reports them")


def rebuild(files: dict[str, str], backend: str = "auto") -> Engine:
    """An Engine from a stored snapshot ({"policies/x.yaml": text, "rules/y.yaml": text})."""
    with tempfile.TemporaryDirectory(prefix="escalator-replay-") as tmp:
        root = Path(tmp)
        (root / "policies").mkdir()
        (root / "rules").mkdir()
        for name, text in files.items():
            folder, _, filename = name.partition("/")
            if folder not in ("policies", "rules") or not filename or "/" in filename or filename.startswith("."):
                raise EscalatorError(f"the stored policy set holds an unexpected file name {name!r}")
            (root / folder / filename).write_text(text, encoding="utf-8")
        return Engine(compile_folders(root / "policies", root / "rules"), backend)


class _LoggedEngines:
    """The logged policy sets, rebuilt once per digest (or the reason they cannot be)."""

    def __init__(self, log: DecisionLog, backend: str):
        self.log, self.backend = log, backend
        self.engines: dict[str, Engine | str] = {}

    def get(self, digest: str) -> Engine | str:
        if digest not in self.engines:
            files = self.log.policy_set_files(digest)
            if files is None:
                self.engines[digest] = f"the log holds no files for policy set {digest}"
            else:
                try:
                    self.engines[digest] = rebuild(files, self.backend)
                except EscalatorError as exc:
                    self.engines[digest] = f"policy set {digest} no longer compiles: {exc}"
        return self.engines[digest]

    def close(self) -> None:
        for engine in self.engines.values():
            if isinstance(engine, Engine):
                engine.close()


def replay(log: DecisionLog, candidate: Engine | None = None, *, since: str | None = None,
           until: str | None = None, sample: int = 20, max_bad: int = 100, backend: str = "auto",
           candidate_label: str = "candidate") -> ReplayReport:
    """Re-decide every logged row (`since <= logged_at < until`) and compare with the log."""
    logged_sets = _LoggedEngines(log, backend)
    tally = Tally(sample, max_bad)
    seen: dict[str, dict[str, str]] = {}
    actions: dict[str, None] = {}
    reproduced = not_reproduced = 0
    mismatches: list[Mismatch] = []
    try:
        for row in log.records(since, until):
            tally.cases += 1
            base = Decision.model_validate(json.loads(row.decision_json))
            seen.setdefault(row.policy_digest, {"id": row.policy_id, "version": row.policy_version,
                                                "digest": row.policy_digest})
            engine = candidate if candidate is not None else logged_sets.get(row.policy_set)
            problem = _problem(row, engine, candidate is None)
            if problem is not None:
                tally.add_bad(BadCase(source=f"log#{row.id}", case_id=row.case_id, side="candidate", problems=[problem]))
                continue
            assert isinstance(engine, Engine)
            try:
                case = parse_case(json.loads(row.case_json))
                at = datetime.fromisoformat(row.at) if row.at else None
                now = evaluate(engine, case, at, row.locale)
            except EscalatorError as exc:
                tally.add_bad(BadCase(source=f"log#{row.id}", case_id=row.case_id, side="candidate",
                                      problems=[str(p) for p in exc.problems]))
                continue
            for policy in engine.policies.values():
                actions.update(dict.fromkeys(policy.actions))
            tally.add_pair(f"log#{row.id}", base, now, tuple(actions))
            if now.to_json() == row.decision_json:
                reproduced += 1
            else:
                not_reproduced += 1
                if len(mismatches) < sample:
                    mismatches.append(Mismatch(row=row.id or 0, case_id=row.case_id, logged=row.decision_json,
                                               replayed=now.to_json()))
    finally:
        logged_sets.close()
    base_side = PolicySide(source="log", policies=sorted(seen.values(), key=lambda p: (p["id"], p["digest"])))
    if candidate is None:
        cand_side = PolicySide(source="log (re-decided)", policies=base_side.policies)
    else:
        cand_side = PolicySide(source=candidate_label, policies=[
            {"id": p.id, "version": p.version, "digest": p.digest}
            for p in sorted(candidate.policies.values(), key=lambda p: p.id)])
    impact = build_report(tally, base_side, cand_side, tuple(actions))
    return ReplayReport(mode="logged" if candidate is None else "candidate", rows=tally.cases,
                        reproduced=reproduced, not_reproduced=not_reproduced, mismatches=mismatches, impact=impact)


def _problem(row: LogRecord, engine: Engine | str | None, logged: bool) -> str | None:
    """Why this row cannot be re-decided with `engine`, or None."""
    if isinstance(engine, str):
        return engine
    assert engine is not None
    if logged:
        policy = engine.policies.get(row.policy_id)
        if policy is None or policy.digest != row.policy_digest:
            found = "missing" if policy is None else policy.digest
            return f"policy {row.policy_id!r} rebuilt with digest {found}, logged {row.policy_digest}"
    return None
