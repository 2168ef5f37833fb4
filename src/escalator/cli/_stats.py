"""What a batch command says about a run as a whole: the one-line summary on stderr, and
decisions as CSV rows (imported only inside command bodies)."""

from __future__ import annotations

import csv
import time
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from escalator.language.ir import CompiledPolicy
    from escalator.operations.batch import Outcome


class RunStats:
    """Counts outcomes as they pass; `line()` is the run's summary, e.g.
    `46 cases: 30 escalated, 6 locked, 0 errors in 0.41 s`."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.cases = self.escalated = self.locked = self.errors = 0

    def add(self, outcome: Outcome) -> None:
        self.cases += 1
        if not outcome.ok:
            self.errors += 1
            return
        decision = outcome.decision
        if decision is None:  # rendered to JSON text in the worker: read the two booleans back
            import json

            assert outcome.text is not None
            decision = json.loads(outcome.text)
        self.escalated += bool(decision["escalate"])
        self.locked += bool(decision["locked"])

    def line(self) -> str:
        return run_line(self.cases, [f"{self.escalated} escalated", f"{self.locked} locked"], self.errors,
                        time.perf_counter() - self.started)


def run_line(cases: int, counts: list[str], errors: int, seconds: float) -> str:
    """`46 cases: 30 escalated, 6 locked, 0 errors in 0.41 s`: the last line of every batch command."""
    parts = ", ".join([*counts, f"{errors} error{'s' if errors != 1 else ''}"])
    return f"{cases} case{'s' if cases != 1 else ''}: {parts} in {seconds:.2f} s"


class DecisionCsv:
    """One row per case; the header is written with the first row (the actions of every policy)."""

    def __init__(self, out: IO[str], policies: dict[str, CompiledPolicy]):
        actions: dict[str, None] = {}
        for policy in policies.values():
            actions.update(dict.fromkeys(policy.actions))
        self.actions = list(actions)
        self.currencies = {policy_id: policy.currency for policy_id, policy in policies.items()}
        self.writer = csv.writer(out, lineterminator="\n")
        self.writer.writerow(
            ["source", "case_id", "policy", "handler", "escalate", "transfer", "procedure", "locked", "currency"]
            + [f"authority.{action}" for action in self.actions]
            + ["forward", "flags", "acknowledge_by", "resolve_by", "summary", "agent_note", "reasons", "error"])

    def write(self, outcome: Outcome) -> None:
        if not outcome.ok:
            problems = "; ".join(p["message"] if not p.get("path") else f"{p['path']}: {p['message']}"
                                 for p in outcome.problems)
            self.writer.writerow([outcome.where(), outcome.case_id or ""] + [""] * (len(self.actions) + 14)
                                 + [problems])
            return
        d: dict[str, Any] = outcome.decision if outcome.decision is not None else {}
        authority = d["authority"]
        self.writer.writerow(
            [outcome.where(), d["case_id"], d["policy"]["id"], d["handler"], _yes(d["escalate"]), d["transfer"],
             d["procedure"] or "", _yes(d["locked"]), self.currencies.get(d["policy"]["id"], "")]
            + [authority.get(action, "") for action in self.actions]
            + ["; ".join(d["forward"]), "; ".join(d["flags"]), d["deadlines"]["acknowledge_by"] or "",
               d["deadlines"]["resolve_by"] or "", d["summary"], d["agent_note"] or "",
               "; ".join(r["rule"] for r in d["reasons"]), ""])


def _yes(value: bool) -> str:
    return "yes" if value else "no"
