"""Where the bundled rule packs and policies are.

In an installed wheel they live in `escalator/_bundled/`; in a source checkout
(editable install, or tests run from the repository) they are the top-level
`rules/` and `policies/` folders.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent  # the escalator package


def bundled_dir(name: str) -> Path:
    """`rules` or `policies`, as shipped with this copy of escalator."""
    installed = _PACKAGE / "_bundled" / name
    if installed.is_dir():
        return installed
    checkout = _PACKAGE.parents[1] / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"the bundled {name}/ folder is missing from this installation")
