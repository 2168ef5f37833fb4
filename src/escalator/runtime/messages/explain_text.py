"""An Explanation as text a person reads in a terminal or a pipe: the decision, the
tie-break between tiers of one level, and every rule's condition as a tree
(all / any / not with the value and truth of every leaf), with why each rule
that did not fire did not.

It only renders: the truth of each comparison comes from the Explanation (the
reference semantics recorded it, leaf by leaf, depth first); a group's truth is
the semantics' own Kleene `all_of` / `any_of` / `not_` over those leaves. Lines
are wrapped to `width` (never cut); `boxes=False` gives plain text without box
drawing, for pipes and files.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Any

from escalator.language.ir import AllOf, AnyOf, CompiledPolicy, Condition, Not
from escalator.runtime.explain import ComparisonTrace, Explanation, RuleTrace
from escalator.runtime.semantics import Truth, all_of, any_of, not_

TRUTH = {True: "true", False: "false", None: "unknown"}


@dataclass
class Node:
    """One node of a rule's condition with its truth for the case."""

    label: str  # "all", "any", "not", or the comparison
    truth: Truth
    leaf: ComparisonTrace | None = None
    children: list["Node"] = field(default_factory=list)


def condition_tree(condition: Condition, comparisons: list[ComparisonTrace]) -> Node:
    """The condition with the recorded comparisons as its leaves (the recorder saw them depth first)."""
    leaves = iter(comparisons)

    def build(node: Condition) -> Node:
        if isinstance(node, (AllOf, AnyOf)):
            children = [build(item) for item in node.items]
            combine = all_of if isinstance(node, AllOf) else any_of
            label = "all" if isinstance(node, AllOf) else "any"
            return Node(label, combine(c.truth for c in children), children=children)
        if isinstance(node, Not):
            child = build(node.item)
            return Node("not", not_(child.truth), children=[child])
        leaf = next(leaves)
        return Node(leaf.text, leaf.result, leaf=leaf)

    return build(condition)


def decisive(node: Node) -> list[Node]:
    """The leaves that give a node its truth: for a false `all`, its false items; for a false `any`, all of them."""
    if node.leaf is not None:
        return [node]
    if node.label == "not":
        return decisive(node.children[0])
    if node.label == "all":
        wanted = node.children if node.truth is True else [c for c in node.children if c.truth is node.truth]
    else:
        wanted = node.children if node.truth is False else [c for c in node.children if c.truth is node.truth]
    return [leaf for child in wanted for leaf in decisive(child)]


def shown(value: Any) -> str:
    """A value from the explanation's JSON form; an absent field says so."""
    if value is None:
        return "absent"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(shown(v) for v in value) + "]"
    return str(value)


def leaf_text(leaf: ComparisonTrace) -> str:
    """`request.amount > tiers.agent.goodwill_bonus: true (request.amount = 60.00, against 50.00)`."""
    data = leaf.to_dict()
    facts = f"{leaf.field} = {shown(data['value'])}"
    if leaf.op not in ("exists", "not exists") and leaf.against_source:
        facts += f"; {leaf.against_source} = {shown(data['against'])}"
    text = f"{leaf.text}: {TRUTH[leaf.result]} ({facts})"
    return f"{text}; {leaf.note}" if leaf.note else text


class Writer:
    """Wrapped lines, with tree guides (box drawing, or plain ASCII for pipes)."""

    def __init__(self, width: int, boxes: bool):
        self.width = max(width, 40)
        self.lines: list[str] = []
        self.tee, self.last, self.bar = ("├─ ", "└─ ", "│  ") if boxes else ("|- ", "`- ", "|  ")

    def add(self, text: str, first: str = "", rest: str | None = None) -> None:
        rest = first if rest is None else rest
        wrapped = textwrap.wrap(text, self.width, initial_indent=first, subsequent_indent=rest + "  ",
                                break_long_words=True, break_on_hyphens=False) or [first.rstrip()]
        self.lines.extend(line.rstrip() for line in wrapped)

    def tree(self, node: Node, prefix: str, child_prefix: str) -> None:
        text = leaf_text(node.leaf) if node.leaf is not None else f"{node.label}: {TRUTH[node.truth]}"
        self.add(text, prefix, child_prefix + (self.bar if node.children else "   "))
        for i, child in enumerate(node.children):
            last = i == len(node.children) - 1
            self.tree(child, child_prefix + (self.last if last else self.tee),
                      child_prefix + ("   " if last else self.bar))

    def blank(self) -> None:
        self.lines.append("")


def tie_break(explanation: Explanation, policy: CompiledPolicy) -> str | None:
    """When fired rules required two or more tiers of the handler's level: which won, and by what."""
    decision = explanation.decision
    if decision.locked:
        return None
    handler = policy.tier(decision.handler)
    best: dict[str, tuple[int, str]] = {}  # tier -> (highest priority of a rule requiring it, that rule)
    for rule_id in decision.fired:
        try:
            rule = policy.rule(rule_id)
        except KeyError:  # the failsafe's own reason
            continue
        tier_id = rule.effects.require
        if tier_id is None or policy.tier(tier_id).level != handler.level:
            continue
        if tier_id not in best or rule.priority > best[tier_id][0]:
            best[tier_id] = (rule.priority, rule.id)
    if len(best) < 2 or handler.id not in best:
        return None
    winner_priority, winner_rule = best[handler.id]
    lines = [f"{len(best)} tiers of level {handler.level} were required; {handler.id} handles the case:"]
    for tier_id, (priority, rule_id) in sorted(best.items(), key=lambda item: -item[1][0]):
        if tier_id == handler.id:
            continue
        if winner_priority > priority:
            why = (f"{winner_rule} (priority {winner_priority}) outranks {rule_id} (priority {priority}), "
                   f"which required {tier_id}")
        else:
            why = (f"{winner_rule} and {rule_id} (which required {tier_id}) have the same priority "
                   f"{priority}; {handler.id} is listed before {tier_id} in the policy's tiers")
        lines.append(why)
    return " ".join(lines[:1]) + " " + "; ".join(lines[1:]) + "."


def render(explanation: Explanation, policy: CompiledPolicy, width: int = 80, boxes: bool = False) -> str:
    """The whole explanation as text, every line at most `width` columns."""
    out = Writer(width, boxes)
    decision = explanation.decision
    data = decision.to_dict()
    out.add(f"Case {decision.case_id} · policy {policy.id} {policy.version} · amounts in {policy.currency}")
    out.add(decision.summary, "Summary: ", "   ")
    if decision.agent_note:
        out.add(decision.agent_note, "Agent note: ", "   ")
    out.add(f"handler {decision.handler} · escalate {_yes(decision.escalate)} · transfer {decision.transfer}"
            f" · locked {_yes(decision.locked)}" + (f" · procedure {decision.procedure}" if decision.procedure else ""))
    authority = ", ".join(f"{action} {amount}" for action, amount in data["authority"].items())
    out.add(f"authority ({policy.currency}): {authority}")
    if decision.forward:
        out.add("forward: " + ", ".join(decision.forward))
    if decision.flags:
        out.add("flags: " + ", ".join(decision.flags))
    deadlines = data["deadlines"]
    out.add(f"acknowledge by {deadlines['acknowledge_by'] or '-'} · resolve by {deadlines['resolve_by'] or '-'}")
    tie = tie_break(explanation, policy)
    if tie:
        out.blank()
        out.add(tie, "Tie-break: ", "   ")
    fired = [r for r in explanation.rules if r.fired]
    others = [r for r in explanation.rules if not r.fired]
    out.blank()
    out.add(f"Rules that fired ({len(fired)})" if fired else "No rule fired.")
    for trace in fired:
        _rule(out, trace, policy)
    if others:
        out.blank()
        out.add(f"Rules that did not fire ({len(others)})")
        for trace in others:
            _rule(out, trace, policy)
    return "\n".join(out.lines) + "\n"


def _rule(out: Writer, trace: RuleTrace, policy: CompiledPolicy) -> None:
    rule = policy.rule(trace.id)
    tree = condition_tree(rule.condition, trace.comparisons)
    out.blank()
    mark = "FIRED" if trace.fired else "not fired"
    out.add(f"{trace.id} [{mark}, condition {TRUTH[trace.result]}] {trace.description}", "", "  ")
    if not trace.fired:
        culprits = decisive(tree)
        why = "; ".join(_why(node) for node in culprits)
        out.add(why, "  why not: ", "    ")
    out.tree(tree, "  ", "  ")


def _why(node: Node) -> str:
    leaf = node.leaf
    assert leaf is not None
    if node.truth is None:
        absent = [name for name, value in ((leaf.field, leaf.value), (leaf.against_source, leaf.against))
                  if name and value is None]
        return f"{leaf.text} is unknown ({', '.join(absent) or leaf.field} absent)"
    return f"{leaf.text} is {TRUTH[node.truth]} ({leaf.field} = {shown(leaf.to_dict()['value'])})"


def _yes(value: bool) -> str:
    return "yes" if value else "no"
