"""The policy language: text -> checked models -> resolved policy -> IR.

yamlio (safe YAML/JSON with positions) -> models (pydantic) -> sources/loading/policyset
(folders, bundled defaults, `extends`) -> conditions + typecheck -> compiler -> ir.
Nothing here evaluates a case; that is `escalator.runtime`.
"""
