"""The package layout is the architecture: these tests keep it honest.

1. No module imports a `_private` name of another escalator module (`from x import _y`,
   or `x._y` on an imported escalator module). If two modules need a helper, it is made
   public in the lower one.
2. The sub-packages are layered and the arrows point down only (docs/architecture.md):
   cli -> service -> operations, bulk, authoring, log -> runtime -> language -> errors, money.
"""

from __future__ import annotations

import ast
import pkgutil
from dataclasses import dataclass
from pathlib import Path

import escalator

SRC = Path(escalator.__file__).parent

# Lower rank = lower layer. A module may import from its own sub-package and from lower
# ranks; a new sub-package must be placed here (and in docs/architecture.md) first.
RANK = {
    "": 0,  # top-level modules: errors, money
    "language": 1,
    "runtime": 2,
    "operations": 3, "authoring": 3, "bulk": 3, "log": 3,
    "service": 4,  # the HTTP service
    "cli": 5,  # the command line starts everything, the service included
}
# Imports between sub-packages of the same rank that are part of the design.
PEERS = {
    ("authoring", "operations"),  # impact analysis runs on the one worker pool (operations.pool)
    ("bulk", "operations"),  # bulk evaluation too
    ("log", "authoring"),  # log.replay reports in impact analysis's format (authoring.impact.ImpactReport)
    ("bulk", "authoring"),  # bulk impact reports in impact analysis's format
    ("cli", "service"),  # `escalator serve` starts the service
}
FACADES = {"escalator", "escalator.__main__"}  # the public API re-exports; `python -m escalator`

# correctness helper removes these: (importing module, target.name) pairs allowed for now while
# runtime/semantics.py is written. Empty today: explain, properties and rete import only the
# public helpers of the compiled backend (compare_values, const_kind, has_value, kind_of, build).
KNOWN_PRIVATE: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class Use:
    module: str  # the importing module
    line: int
    target: str  # the module imported from
    name: str | None  # the name imported or used (None: the module itself)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, ast.Module]:
    return {module_name(p): ast.parse(p.read_text(encoding="utf-8"), str(p)) for p in sorted(SRC.rglob("*.py"))}


def _is_module(name: str) -> bool:
    return (SRC.parent / Path(*name.split("."))).with_suffix(".py").exists() or \
        (SRC.parent / Path(*name.split(".")) / "__init__.py").exists()


def uses(name: str, tree: ast.Module) -> list[Use]:
    """Every escalator module and name this module imports, and attributes used on imported modules."""
    package = name if (SRC.parent / Path(*name.split(".")) / "__init__.py").exists() else name.rpartition(".")[0]
    found: list[Use] = []
    aliases: dict[str, str] = {}  # local name -> escalator module it is bound to
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            target = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            if not target.startswith("escalator"):
                continue
            for alias in node.names:
                full = f"{target}.{alias.name}"
                if _is_module(full):
                    aliases[alias.asname or alias.name] = full
                    found.append(Use(name, node.lineno, full, None))
                else:
                    found.append(Use(name, node.lineno, target, alias.name))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("escalator"):
                    aliases[alias.asname or alias.name] = alias.name
                    found.append(Use(name, node.lineno, alias.name, None))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            found.append(Use(name, node.lineno, aliases[node.value.id], node.attr))
    return found


def _private(part: str) -> bool:
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and _is_package(module)) else ""


def _is_package(module: str) -> bool:
    return (SRC.parent / Path(*module.split(".")) / "__init__.py").exists()


def private_uses() -> list[str]:
    """`module:line imports target._name` for every private name used across modules."""
    out = []
    for name, tree in modules().items():
        for use in uses(name, tree):
            if use.target == name:
                continue
            if use.name is not None and _private(use.name):
                out.append(f"{name}:{use.line} uses {use.target}.{use.name}")
            # a private module (cli._console) is private to its own package
            private_parts = [p for p in use.target.split(".") if _private(p)]
            if private_parts:
                owner = use.target.split(".")
                owner = owner[: owner.index(private_parts[0])]
                if not (name + ".").startswith(".".join(owner) + "."):
                    out.append(f"{name}:{use.line} imports private module {use.target}")
    return list(dict.fromkeys(out))


def upward_imports() -> list[str]:
    out = []
    for name, tree in modules().items():
        if name in FACADES:
            continue
        mine = _layer(name)
        for use in uses(name, tree):
            theirs = _layer(use.target)
            if theirs == mine or RANK[theirs] < RANK[mine] or (mine, theirs) in PEERS:
                continue
            out.append(f"{name}:{use.line} ({mine or 'top level'}) imports {use.target} ({theirs or 'top level'})")
    return list(dict.fromkeys(out))


def test_the_sub_packages_show_the_architecture() -> None:
    found = {m.name for m in pkgutil.iter_modules(escalator.__path__) if m.ispkg}
    assert {"language", "runtime", "authoring", "operations", "cli"} <= found
    assert found <= set(RANK), f"place the new sub-package(s) {sorted(found - set(RANK))} in RANK (and in docs/architecture.md)"
    top = {m.name for m in pkgutil.iter_modules(escalator.__path__) if not m.ispkg}
    assert top <= {"errors", "money", "__main__"}, f"new top-level module(s) {sorted(top - {'errors', 'money', '__main__'})}: put them in a sub-package"


def test_no_module_uses_another_modules_private_names() -> None:
    found = private_uses()
    unexpected = [f for f in found if (f.split(":")[0], f.split(" ")[-1]) not in KNOWN_PRIVATE]
    assert unexpected == []
    stale = {k for k in KNOWN_PRIVATE if not any((f.split(":")[0], f.split(" ")[-1]) == k for f in found)}
    assert stale == set(), "these are fixed: remove them from KNOWN_PRIVATE"


def test_imports_point_down_only() -> None:
    assert upward_imports() == []


def test_the_checks_see_violations(tmp_path: Path) -> None:
    """The AST walk finds both forms of private use and an upward import (so the tests above can fail)."""
    tree = ast.parse(
        "from escalator.runtime.backends.compiled import _helper\n"
        "import escalator.language.fields as F\n"
        "x = F._hidden\n"
        "y = F.CASE_FIELDS\n"
        "from escalator.cli._console import console\n"
    )
    found = uses("escalator.language.example", tree)
    names = {(u.target, u.name) for u in found}
    assert ("escalator.runtime.backends.compiled", "_helper") in names
    assert ("escalator.language.fields", "_hidden") in names
    assert ("escalator.language.fields", "CASE_FIELDS") in names
    assert _layer("escalator.cli._console") == "cli" and RANK["cli"] > RANK["language"]
    assert _layer("escalator.errors") == "" and _layer("escalator.runtime") == "runtime"
