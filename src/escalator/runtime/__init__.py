"""The runtime: a compiled policy (IR) and a case -> a Decision, and its explanation.

engine (load once, evaluate many) -> backends (which rules fire) -> decide (spec
section 6: fired rules to a Decision) -> explain (per rule, per comparison).
"""
