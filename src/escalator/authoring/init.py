"""`escalator init`: a small starter project that builds on a bundled policy.

The project is the layout every command finds by itself (run them in the folder):
`policies/` (one policy extending the bundled one, overrides commented out, and
`tests/`), `rules/` (one local rule pack with one rule), `cases/` (three cases),
`schemas/` (the JSON Schemas of `escalator schema`, named by the
`yaml-language-server` modeline at the top of each file) and a README.
The policy tests' expectations are what the starter policy decides, so
`escalator test` passes at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from escalator.errors import LoadError, Location, Problem, did_you_mean
from escalator.language.loading import load_layers, resolve
from escalator.language.sources import locate

SCHEMAS = {"policy": "policy.schema.json", "rules": "rule-pack.schema.json", "case": "case.schema.json"}
PACK = "local"
MODELINE = "# yaml-language-server: $schema={}\n"


@dataclass(frozen=True)
class Starter:
    """What `init` wrote: the folder and the files, relative to it."""

    folder: Path
    files: tuple[str, ...]


def bundled_policies() -> dict[str, str]:
    """The bundled policies one can start from (id -> name), abstract ones left out."""
    layers = load_layers(locate())
    return {pid: src.model.name or pid for pid, src in layers.policies.items()
            if ":" not in pid and not src.model.abstract}


def _policy_text(base: str) -> str:
    layers = load_layers(locate())
    resolved = resolve(base, layers.policies)
    tiers = resolved.tiers
    senior = max((t for t in tiers.values() if t.get("player_reachable")), key=lambda t: t.get("level", 0))
    some = next(iter(tiers.values()))
    action = next(iter(some.get("authority") or {"goodwill_bonus": 0}))
    packs = ", ".join(resolved.packs + [PACK])
    effective = resolved.effective.from_.isoformat() if resolved.effective is not None else "2026-01-01"
    param = next(iter(sorted(resolved.params)), None)
    param_line = (f"#   {param}: {resolved.params[param]}        # bundled value; uncomment to change it\n"
                  if param is not None else "#   name: value\n")
    return (
        MODELINE.format(f"../schemas/{SCHEMAS['policy']}")
        + f"# Our {base.upper()} policy: the bundled `{base}` policy with our own changes.\n"
        + "# Everything not written here is inherited (`escalator matrix` shows the result).\n"
        + f"policy: my-{base}\n"
        + 'version: "1"\n'
        + f"extends: escalator:{base}        # the bundled policy; `escalator --version` lists them\n"
        + f"jurisdictions: [{', '.join(resolved.jurisdictions)}]\n"
        + f"effective: {{from: {effective}}}\n"
        + "# Change a tier's authority limit (EUR, two decimals, a decimal point):\n"
        + "# tiers:\n"
        + f"#   - id: {some['id']}\n"
        + f"#     authority: {{{action}: {some['authority'][action]}}}\n"
        + "# Change a parameter the rule packs use:\n"
        + "# params:\n"
        + param_line
        + "# The bundled rule packs by name, and our own (rules/local.yaml):\n"
        + "rules:\n"
        + f"  packs: [{packs}]\n"
        + "#  disable: [bonus.vip-goodwill]    # switch a bundled rule off\n"
        + f"# The most senior tier players reach here is {senior['id']}.\n"
    )


PACK_TEXT = """\
# Our own rules. A rule fires when its condition holds; its effects then apply.
pack: local
version: "1"
description: Rules of our own, beside the bundled packs
rules:
  - id: long-pending-withdrawal
    description: A withdrawal pending for more than a week is flagged for a finance look
    when: request.kind == withdrawal_delay and request.withdrawal.pending_hours > 168
    then:
      flag: [long_pending]
      reason: "The withdrawal has been pending for {request.withdrawal.pending_hours} hours"
"""

CASES = {
    "small-bonus": ("A regular player asks for a small goodwill bonus", """\
request:
  kind: bonus_request
  amount: 20.00
"""),
    "large-bonus": ("A regular player asks for a large goodwill bonus", """\
request:
  kind: bonus_request
  amount: 400.00
"""),
    "long-pending-withdrawal": ("A withdrawal has been pending for ten days", """\
request:
  kind: withdrawal_delay
  amount: 1500.00
  withdrawal: {amount: 1500.00, pending_hours: 240}
"""),
}


def _case_text(number: int, name: str, jurisdiction: str) -> str:
    title, request = CASES[name]
    return (
        MODELINE.format(f"../schemas/{SCHEMAS['case']}")
        + f"# {title}\n"
        + f"case_id: CASE-{number}\n"
        + f"jurisdiction: {jurisdiction}\n"
        + "opened_at: 2026-11-20T10:00:00Z\n"
        + "channel: live_chat\n"
        + "handled_by: agent\n"
        + "player:\n"
        + f"  id: P-{number}\n"
        + "  vip_level: 1\n"
        + "  account_age_days: 400\n"
        + "  kyc: verified\n"
        + request
    )


README = """\
# Our escalation policy (on top of escalator's bundled `{base}` policy)

Edit `policies/policy.yaml` (overrides) and `rules/local.yaml` (our rules); cases are in `cases/`.
Run, in this folder: `escalator validate`, `escalator test`, `escalator check`, `escalator evaluate cases/`.
Editors validate as you type through the `yaml-language-server` line at the top of each file (schemas/).
"""


def _tests_text(folder: Path, jurisdiction_cases: list[str]) -> str:
    """One test per case, expecting what the starter policy decides today."""
    from escalator.language.cases import load_case
    from escalator.runtime.engine import Engine

    lines = ["# Policy tests: run `escalator test`. Each test names a case and the facts to expect.", "tests:"]
    with Engine.load(folder / "policies", folder / "rules", backend="compiled") as engine:
        for name in jurisdiction_cases:
            decision = engine.evaluate(load_case(folder / "cases" / f"{name}.yaml"))
            fired = ", ".join(decision.fired)
            lines += [
                f"  - name: {CASES[name][0].lower()}",
                f"    case: ../../cases/{name}.yaml",
                "    expect:",
                f"      handler: {decision.handler}",
                f"      escalate: {'true' if decision.escalate else 'false'}",
                f"      reasons: [{fired}]",
            ]
            if decision.flags:
                lines.append(f"      flags: [{', '.join(decision.flags)}]")
    return "\n".join(lines) + "\n"


def init_project(folder: str | Path, base: str = "uk", force: bool = False) -> Starter:
    """Write the starter project into `folder` (created if needed); refuses to overwrite files."""
    from escalator.authoring.schemas import schema_for

    folder = Path(folder)
    known = bundled_policies()
    if base not in known:
        raise LoadError(Problem(f"no bundled policy {base!r}", path="--from", hint=did_you_mean(base, known, "bundled")))
    layers = load_layers(locate())
    jurisdiction = (resolve(base, layers.policies).jurisdictions or ["UK"])[0]
    files: dict[str, str] = {
        "README.md": README.format(base=base),
        "policies/policy.yaml": _policy_text(base),
        "rules/local.yaml": MODELINE.format(f"../schemas/{SCHEMAS['rules']}") + PACK_TEXT,
    }
    for number, name in enumerate(CASES, start=1):
        files[f"cases/{name}.yaml"] = _case_text(number, name, jurisdiction)
    for kind, file_name in SCHEMAS.items():
        files[f"schemas/{file_name}"] = json.dumps(schema_for(kind), indent=2, ensure_ascii=False) + "\n"
    existing = [name for name in [*files, "policies/tests/test_policy.yaml"] if (folder / name).exists()]
    if existing and not force:
        raise LoadError(Problem(f"{folder / existing[0]} already exists", Location(str(folder / existing[0])),
                                hint="choose an empty folder, or pass --force to overwrite"))
    for name, text in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    tests = folder / "policies" / "tests" / "test_policy.yaml"
    tests.parent.mkdir(parents=True, exist_ok=True)
    tests.write_text(_tests_text(folder, list(CASES)), encoding="utf-8")
    return Starter(folder, tuple([*files, "policies/tests/test_policy.yaml"]))
