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
_NOT_YET = object()
_NOTES_KEPT = 4096

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
    """Prepared once per policy and locale (the Engine keeps them); threads may share it (its one
    cache, of agent notes, only ever gains entries that are the same whoever computes them)."""

    def __init__(self, policy: CompiledPolicy, locale: str):
        self.locale = locale
        self.catalog = catalog(locale)
        self.format = Formatter(self.catalog, policy.currency)
        self.names = {t.id: t.name_in(locale) for t in policy.tiers}
        # Everything of the summary and the agent note that does not depend on the case, said once:
        # who handles it in each situation, each transfer's ending (a contact time is the only value
        # filled in), the deadline sentences split at their placeholders.
        text, sentence = self.catalog.text, self.catalog.sentence
        self.opening = {
            (tier.id, situation): text("summary", situation, handler=text(
                "summary", "handler", name=sentence_name(self.names[tier.id])))
            for tier in policy.tiers for situation in ("locked", "escalate", "stay")
        }
        self.first = {
            (tier, situation, transfer): opening + text("summary", transfer)
            for (tier, situation), opening in self.opening.items() for transfer in ("live", "callback", "email")
        }
        self._contact = {transfer: sentence("summary", f"{transfer}_at") for transfer in ("callback", "email")}
        self._both, self._acknowledge, self._resolve = (
            sentence("summary", key) for key in ("both", "acknowledge", "resolve"))
        self._paused = text("summary", "paused")
        self._forward, self._flags = sentence("agent_note", "forward"), sentence("agent_note", "flags")
        self._notes: dict[tuple[bool, bool, tuple[str, ...], tuple[str, ...]], str | None] = {}
        self.constant: dict[int, Reason] = {}
        self.templates: dict[int, tuple[str, tuple[tuple[str, str], ...]]] = {}
        """A reason quoting case values: its text as a %-format (literal text and policy constants
        rendered) and the (path, kind) of each value, in order."""
        for rule in policy.rules:
            template = self._template(rule)
            if all(isinstance(part, str) for part in template):
                self.constant[rule.index] = Reason(rule=rule.id, message="".join(template))  # type: ignore[arg-type]
            else:
                self.templates[rule.index] = (
                    "".join(part.replace("%", "%%") if isinstance(part, str) else "%s" for part in template),
                    tuple(part for part in template if not isinstance(part, str)))

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
        text, fields = self.templates[rule.index]
        value = self.format.value
        if len(fields) == 1:  # most reasons quote one value (a loop, not a comprehension: no extra frame)
            path, kind = fields[0]
            return Reason(rule=rule.id, message=text % (value(view.get(path), kind),))
        values = []
        for path, kind in fields:
            values.append(value(view.get(path), kind))
        return Reason(rule=rule.id, message=text % tuple(values))

    def failed_reason(self, error: BaseException) -> str:
        return self.catalog.failed_reason.format(error=type(error).__name__)

    # -- summary and agent note ----------------------------------------------------
    def summary(self, decision: Routing) -> str:
        """One or two sentences an agent can read to the player, from the final decision only."""
        situation = "locked" if decision.locked else "escalate" if decision.escalate else "stay"
        contact_at = getattr(decision, "contact_at", None)  # set by the time issue's calendars
        first = self._first(decision.handler, situation, decision.transfer, contact_at)
        deadlines = self._deadlines(decision)
        return f"{first} {deadlines}" if deadlines else first

    def _first(self, handler: str, situation: str, transfer: str, contact_at: datetime | None) -> str:
        """Who handles the case, and how the player hears from them."""
        if transfer == "live" or contact_at is None:
            return self.first[(handler, situation, transfer)]
        return self.opening[(handler, situation)] + self._contact[transfer].fill(
            contact_at=self.format.datetime(contact_at))

    def _deadlines(self, decision: Routing) -> str:
        deadlines = decision.deadlines
        if _HAS_PAUSED and getattr(deadlines, "paused"):
            return self._paused
        ack, resolve = deadlines.acknowledge_by, deadlines.resolve_by
        fmt = self.format.datetime
        if ack is not None and resolve is not None:
            return self._both.fill(acknowledge_by=fmt(ack), resolve_by=fmt(resolve))
        if ack is not None:
            return self._acknowledge.fill(acknowledge_by=fmt(ack))
        if resolve is not None:
            return self._resolve.fill(resolve_by=fmt(resolve))
        return ""

    def agent_note(self, decision: Routing) -> str | None:
        """The internal part, never read to a player: failure, lock, forwards, flags (None when there is none)."""
        key = (FAILED_FLAG in decision.flags, decision.locked, tuple(decision.forward), tuple(decision.flags))
        note = self._notes.get(key, _NOT_YET)
        if note is _NOT_YET:
            note = self._agent_note(*key)
            if len(self._notes) < _NOTES_KEPT:  # a policy has few forward/flag combinations; bounded anyway
                self._notes[key] = note
        return note  # type: ignore[return-value]

    def _agent_note(self, failed: bool, locked: bool, forward: tuple[str, ...], flags: tuple[str, ...]) -> str | None:
        text = self.catalog.text
        parts = []
        if failed:
            parts.append(text("agent_note", "failed"))
        if locked:
            parts.append(text("agent_note", "locked"))
        separator = self.catalog.words["list_separator"]
        if forward:
            parts.append(self._forward.fill(tiers=separator.join(self.names[t] for t in forward)))
        if flags:
            parts.append(self._flags.fill(flags=separator.join(flags)))
        return " ".join(parts) or None

    def messages(self, decision: Routing) -> dict[str, str | None]:
        """`summary` and `agent_note`, for a Decision's constructor."""
        return {"summary": self.summary(decision), "agent_note": self.agent_note(decision)}

    def finish(self, decision: Decision) -> Decision:
        """The decision with its summary and agent note."""
        return decision.model_copy(update=self.messages(decision))
