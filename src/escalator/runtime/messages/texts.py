"""What one policy says in one locale: its rules' reasons, and the decision's
summary and agent note, composed from the final decision only.

Routing is said once, here: `summary` reads only the decision (its handler,
transfer, contact time, deadlines and lock), so it cannot name a tier that does
not handle the case, whichever rules fired. Reasons say what each rule found.
"""

from __future__ import annotations

from typing import Any

from escalator.language import fields as F
from escalator.language.ir import CompiledPolicy, Rule, TemplatePart
from escalator.language.models.decision import FAILED_FLAG, Deadlines, Decision, Reason
from escalator.runtime.messages.catalog import catalog
from escalator.runtime.messages.formatting import Formatter

# fields the time issue adds to the decision; read when this version of the model has them
_HAS_CONTACT_AT = "contact_at" in Decision.model_fields
_HAS_PAUSED = "paused" in Deadlines.model_fields

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
    def summary(self, decision: Decision) -> str:
        """One or two sentences an agent can read to the player, from the final decision only."""
        text = self.catalog.text
        handler = text("summary", "handler", name=sentence_name(self.names[decision.handler]))
        situation = "locked" if decision.locked else "escalate" if decision.escalate else "stay"
        first = text("summary", situation, handler=handler)
        contact_at = getattr(decision, "contact_at") if _HAS_CONTACT_AT else None
        if decision.transfer == "live":
            first += text("summary", "live")
        elif contact_at is not None:
            first += text("summary", f"{decision.transfer}_at", contact_at=self.format.datetime(contact_at))
        else:
            first += text("summary", decision.transfer)
        return f"{first} {self._deadlines(decision)}".rstrip()

    def _deadlines(self, decision: Decision) -> str:
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

    def agent_note(self, decision: Decision) -> str | None:
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

    def finish(self, decision: Decision) -> Decision:
        """The decision with its summary and agent note."""
        return decision.model_copy(update={"summary": self.summary(decision), "agent_note": self.agent_note(decision)})
