"""What one policy says in one locale: its rules' reasons, and the decision's
summary and agent note, composed from the final decision only.

Routing is said once, here: `summary` reads only the decision (its handler,
transfer, contact time, deadlines and lock), so it cannot name a tier that does
not handle the case, whichever rules fired. Reasons say what each rule found.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from escalator.language import fields as F
from escalator.language.ir import CompiledPolicy, Rule, TemplatePart
from escalator.language.models.decision import FAILED_FLAG, Deadlines, Decision, Reason
from escalator.runtime.messages.catalog import catalog
from escalator.runtime.messages.formatting import Formatter

# `deadlines.paused` comes with the time issue; read only when this version of the model has it
# (a missing attribute on a pydantic model is a slow path). `contact_at` is read from the fields.
_HAS_PAUSED = "paused" in Deadlines.model_fields

class Routing(Protocol):
    """What the summary and the agent note read: the final decision's fields (a Decision, or
    the very fields a Decision is about to be built from)."""

    @property
    def handler(self) -> str: ...
    @property
    def escalate(self) -> bool: ...
    @property
    def locked(self) -> bool: ...
    @property
    def transfer(self) -> str: ...
    @property
    def deadlines(self) -> Deadlines: ...
    @property
    def forward(self) -> tuple[str, ...]: ...
    @property
    def flags(self) -> tuple[str, ...]: ...


Template = tuple["str | tuple[str, str]", ...]
"""A reason with its literal text and policy constants rendered: strings, and (path, kind) per case field."""


def sentence_name(name: str) -> str:
    """A display name inside a sentence: "Support supervisor" -> "support supervisor"; "VIP manager" stays."""
    if len(name) > 1 and name[0].isupper() and not name[1].isupper():
        return name[0].lower() + name[1:]
    return name


class PolicyTexts:
    """Prepared once per policy and locale (the Engine keeps them); immutable, so threads may share it."""

    def __init__(self, policy: CompiledPolicy, locale: str):
        self.locale = locale
        self.catalog = catalog(locale)
        self.format = Formatter(self.catalog, policy.currency)
        self.names = {t.id: t.name_in(locale) for t in policy.tiers}
        # the summary's first sentence for every handler, situation and transfer without a contact time
        self.first = {
            (tier.id, situation, transfer): self._first(tier.id, situation, transfer, None)
            for tier in policy.tiers for situation in ("locked", "escalate", "stay")
            for transfer in ("live", "callback", "email")
        }
        self.constant: dict[int, Reason] = {}
        self.templates: dict[int, Template] = {}
        for rule in policy.rules:
            template = self._template(rule)
            if all(isinstance(part, str) for part in template):
                self.constant[rule.index] = Reason(rule=rule.id, message="".join(template))  # type: ignore[arg-type]
            else:
                self.templates[rule.index] = template

    # -- reasons ----------------------------------------------------------------
    def _template(self, rule: Rule) -> Template:
        parts: list[str | tuple[str, str]] = []
        source: tuple[TemplatePart, ...] = rule.reason_for(self.locale)
        if not source:
            return (rule.description,)
        for part in source:
            if part.field is not None:
                parts.append((part.field.path, part.field.kind))
                continue
            text = part.text if part.const is None else self.format.value(part.const.value)
            if parts and isinstance(parts[-1], str):
                parts[-1] += text
            else:
                parts.append(text)
        return tuple(parts)

    def reason(self, rule: Rule, view: dict[str, Any]) -> Reason:
        """The rule's reason in this locale, the case's values filled in."""
        known = self.constant.get(rule.index)
        if known is not None:
            return known
        out = []
        for part in self.templates[rule.index]:
            if isinstance(part, str):
                out.append(part)
            else:
                path, kind = part
                out.append(self.format.value(view.get(path), kind))
        return Reason(rule=rule.id, message="".join(out))

    def failed_reason(self, error: BaseException) -> str:
        return self.catalog.failed_reason.format(error=type(error).__name__)

    # -- summary and agent note ----------------------------------------------------
    def summary(self, decision: Routing) -> str:
        """One or two sentences an agent can read to the player, from the final decision only."""
        situation = "locked" if decision.locked else "escalate" if decision.escalate else "stay"
        contact_at = getattr(decision, "contact_at", None)  # set by the time issue's calendars
        if contact_at is None or decision.transfer == "live":
            first = self.first[(decision.handler, situation, decision.transfer)]
        else:
            first = self._first(decision.handler, situation, decision.transfer, contact_at)
        deadlines = self._deadlines(decision)
        return f"{first} {deadlines}" if deadlines else first

    def _first(self, handler: str, situation: str, transfer: str, contact_at: datetime | None) -> str:
        """Who handles the case, and how the player hears from them."""
        text = self.catalog.text
        first = text("summary", situation, handler=text("summary", "handler", name=sentence_name(self.names[handler])))
        if transfer == "live":
            return first + text("summary", "live")
        if contact_at is not None:
            return first + text("summary", f"{transfer}_at", contact_at=self.format.datetime(contact_at))
        return first + text("summary", transfer)

    def _deadlines(self, decision: Routing) -> str:
        deadlines = decision.deadlines
        if _HAS_PAUSED and getattr(deadlines, "paused"):
            return self.catalog.text("summary", "paused")
        ack, resolve = deadlines.acknowledge_by, deadlines.resolve_by
        fmt = self.format.datetime
        if ack is not None and resolve is not None:
            return self.catalog.text("summary", "both", acknowledge_by=fmt(ack), resolve_by=fmt(resolve))
        if ack is not None:
            return self.catalog.text("summary", "acknowledge", acknowledge_by=fmt(ack))
        if resolve is not None:
            return self.catalog.text("summary", "resolve", resolve_by=fmt(resolve))
        return ""

    def agent_note(self, decision: Routing) -> str | None:
        """The internal part, never read to a player: failure, lock, forwards, flags (None when there is none)."""
        text = self.catalog.text
        parts = []
        if FAILED_FLAG in decision.flags:
            parts.append(text("agent_note", "failed"))
        if decision.locked:
            parts.append(text("agent_note", "locked"))
        separator = self.catalog.words["list_separator"]
        if decision.forward:
            parts.append(text("agent_note", "forward", tiers=separator.join(self.names[t] for t in decision.forward)))
        if decision.flags:
            parts.append(text("agent_note", "flags", flags=separator.join(decision.flags)))
        return " ".join(parts) or None

    def messages(self, decision: Routing) -> dict[str, str | None]:
        """`summary` and `agent_note`, for a Decision's constructor."""
        return {"summary": self.summary(decision), "agent_note": self.agent_note(decision)}

    def finish(self, decision: Decision) -> Decision:
        """The decision with its summary and agent note."""
        return decision.model_copy(update=self.messages(decision))
