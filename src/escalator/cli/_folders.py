"""The policy and rule folders a command reads, and loading them (every error at once)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from escalator.language.ir import CompiledPolicy


def folders(policies: Path | None, rules: Path | None) -> tuple[Path, Path]:
    """The policy and rule folders to use (see `_options.POLICIES`); each must exist."""
    from escalator.operations.batch import InputError, default_folders
    from escalator.language.bundled import bundled_dir

    default_policies, default_rules = default_folders()
    chosen_policies = policies or default_policies or bundled_dir("policies")
    chosen_rules = rules or default_rules or bundled_dir("rules")
    for label, path in (("policies", chosen_policies), ("rules", chosen_rules)):
        if not Path(path).is_dir():
            raise InputError(f"{path}: {label} folder not found")
    return Path(chosen_policies), Path(chosen_rules)


def directory_folders(directory: Path | None, policies: Path | None, rules: Path | None) -> tuple[Path, Path]:
    """DIR's policies/ and rules/ (validate, check), else the folders every command uses (`folders`)."""
    if directory is None:
        return folders(policies, rules)
    policies = policies or (directory / "policies" if (directory / "policies").is_dir() else directory)
    rules = rules or (directory / "rules" if (directory / "rules").is_dir() else directory.parent / "rules")
    return policies, rules


def compiled_policies(policies: Path | None, rules: Path | None, only: str | None = None) -> dict[str, CompiledPolicy]:
    """Load and compile the policies (every error raised at once); `only` keeps one policy."""
    from escalator.language.policyset import compile_folders
    from escalator.errors import PolicyError

    compiled = compile_folders(*folders(policies, rules))
    if only is None:
        return compiled
    if only not in compiled:
        raise PolicyError(f"unknown policy {only!r} (known: {', '.join(sorted(compiled))})")
    return {only: compiled[only]}
