"""Options several commands share, defined once (light: typer and the standard library only)."""

from __future__ import annotations

from enum import Enum

import typer


class BackendName(str, Enum):
    auto = "auto"
    durable = "durable"
    compiled = "compiled"


POLICIES = typer.Option(
    None, "--policies", help="Policy folder (default: ./policies if ./policies and ./rules exist, else bundled).")
RULES = typer.Option(
    None, "--rules", help="Rule-pack folder (default: ./rules if ./policies and ./rules exist, else bundled).")
POLICY_ID = typer.Option(None, "--policy", "-p", help="Only this policy id (default: every policy).")
LOCALE = typer.Option(
    None, "--locale", "-l", metavar="LOCALE",
    help="Language of the messages (reasons, summary, agent note): en or nl. Default: each policy's own locale.")
BACKEND = typer.Option(
    BackendName.auto, "--backend",
    help="Rule engine: durable (Rete), compiled (closures), auto = durable where it imports.")
