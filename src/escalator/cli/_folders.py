"""The policy source a command reads (THE resolver: language.sources), and compiling it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from escalator.language.ir import CompiledPolicy
    from escalator.language.sources import PolicySource


def folders(policies: Path | None, rules: Path | None, directory: Path | None = None) -> PolicySource:
    """The policy source a command uses: DIR or --policies/--rules, else ./policies, else bundled."""
    from escalator.language.sources import default_source, locate

    if directory is not None and policies is None:
        return locate(directory, rules)
    if policies is None and rules is None:
        return default_source()
    return locate(policies, rules)


def folder_pair(policies: Path | None, rules: Path | None) -> tuple[Path, Path]:
    """`folders` as two folders (no rules/ of its own: the bundled rules folder, which is the same packs)."""
    from escalator.language.sources import bundled_dir

    source = folders(policies, rules)
    return source.policies, source.rules or bundled_dir("rules")


def compiled_policies(policies: Path | None, rules: Path | None, only: str | None = None) -> dict[str, CompiledPolicy]:
    """Load and compile the policies (every error raised at once); `only` keeps one policy."""
    from escalator.errors import PolicyError, Problem, did_you_mean
    from escalator.language.policyset import compile_folders

    compiled = compile_folders(folders(policies, rules))
    if only is None:
        return compiled
    if only not in compiled:
        raise PolicyError(Problem(f"unknown policy {only!r}", path="--policy",
                                  hint=did_you_mean(only, compiled, "known policies")))
    return {only: compiled[only]}
